"""The pages as a stakeholder opens them: the landing page and every page of a run in headless Chromium
(Debian's chromium and chromium-driver, through Selenium). Skipped, with the reason, where they are missing;
`.ci/run` installs them so that CI always runs it."""

import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
DRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM and DRIVER), reason="needs Chromium and its driver: apt-get install chromium chromium-driver"
    ),
]


@pytest.fixture
def browser(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--allow-file-access-from-files",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=DRIVER))
    yield driver
    driver.quit()


def test_every_page_loads_cleanly_with_its_images_and_links(sample_runs, browser):
    run_dir = sample_runs[-1]
    pages = ["index.html", *sorted(p.name for p in run_dir.glob("*.html") if p.name != "index.html")]
    assert len(pages) >= 4
    for page in pages:
        browser.get((run_dir / page).as_uri())
        errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, (page, errors)
        widths = browser.execute_script("return Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)")
        assert all(w > 0 for w in widths), (page, widths)
        if page != "index.html":
            assert widths, f"{page} has no chart"
        for href in browser.execute_script("return Array.from(document.links).map(a => a.href)"):
            url = urlparse(href)
            if url.scheme == "file":
                assert Path(unquote(url.path)).exists(), (page, href)
