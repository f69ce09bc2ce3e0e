"""A ``--lang zh`` run (the first of ``sample_runs``): every page, the landing page and the executed notebooks in
Chinese."""

import json

import pytest
from bs4 import BeautifulSoup

from analysis.report.runner import notebooks_in
from tests.conftest import ROOT
from tests.language import CJK, SNAKE_CASE  # SNAKE_CASE: a raw column name such as value_share, not a header


@pytest.fixture(scope="module")
def zh_run(sample_runs):
    """The first of the sample runs: pages in Chinese."""
    return sample_runs[0]


def _page(path):
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


@pytest.mark.slow
def test_every_page_of_a_zh_run_has_chinese_headings_and_table_headers(zh_run):
    pages = json.loads((zh_run / "run.json").read_text(encoding="utf-8"))["pages"]
    assert pages == [f"{p.stem}.html" for p in notebooks_in(ROOT / "notebooks")]  # every page, cohorts' too
    for page in pages:
        soup = _page(zh_run / page)
        headings = [h.get_text(" ", strip=True).rstrip("¶") for h in soup.find_all(["h1", "h2", "h3"])]
        assert headings, page
        english = [h for h in headings if not CJK.search(h)]
        assert not english, f"{page}: headings without Chinese: {english}"
        raw = sorted({th.get_text(strip=True) for th in soup.find_all("th")
                      if SNAKE_CASE.match(th.get_text(strip=True))})
        assert not raw, f"{page}: raw column names as table headers: {raw}"


@pytest.mark.slow
def test_the_executed_notebooks_keep_only_the_chinese_narrative(zh_run):
    for notebook in sorted((zh_run / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        tags = [tag for cell in cells for tag in cell.get("metadata", {}).get("tags", [])]
        assert "lang:en" not in tags and "lang:zh" in tags, notebook.name
        parameters = next(c for c in cells if "injected-parameters" in c["metadata"].get("tags", []))
        assert 'lang = "zh"' in "".join(parameters["source"])


@pytest.mark.slow
def test_the_landing_page_of_a_zh_run_is_chinese_and_leads_to_the_chinese_summary(zh_run):
    soup = _page(zh_run / "index.html")
    assert soup.html["lang"].startswith("zh")
    assert CJK.search(soup.title.get_text())
    links = [a["href"] for a in soup.find_all("a", href=True)]
    pages = json.loads((zh_run / "run.json").read_text(encoding="utf-8"))["pages"]
    reading = links[links.index("00_summary_zh.html"):]  # the pages in reading order, the summary first
    assert reading[1 : 1 + len(pages)] == pages
    assert "00_summary.html" in links  # the English edition is still there, among the files
