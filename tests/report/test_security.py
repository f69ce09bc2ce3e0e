"""Customer data never becomes code (issue 22): a hostile data set, whose names, ids, products, regions and file
name carry script tags, event handlers, links, quotes, ``&`` and formula starts, run end to end (once plain with
every CRM preset, once with ``mask_pii``, into one reports folder). Every page is opened in headless Chromium and
its DOM checked for what the data tried to inject; every CSV cell is checked for a formula start, every XLSX
sheet for a formula; masked ids cannot be undone by hashing the input's ids, and the mask key stays beside the
reports, readable by its owner only, and is reused."""

import csv
import hashlib
import io
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from analysis.privacy import KEY_FILE, SALT_VARIABLE, mask_id
from analysis.report.runner import run_report
from analysis.tables import FORMULA_STARTS
from tests.report.test_browser import CHROMIUM, DRIVER, browser  # noqa: F401 (the fixture)

PWN = "document.documentElement.setAttribute('data-pwned','{}')"
MARKUP = [
    f"<script>{PWN.format('script')}</script>",
    f'<img src=x onerror="{PWN.format("img")}">',
    f"<svg onload={PWN.format('svg')}>",
    f"[click](javascript:{PWN.format('link')})",
    "Tom & \"Jerry\" O'Neil | <b>bold</b>",
]
FORMULAS = ['=HYPERLINK("http://evil.example","click")', "=1+1", "+SUM(1,2)", "@cmd", "-2+3", "\tTab"]
NAMES = MARKUP + FORMULAS
HOSTILE_IDS = ["=00007", "-5", "+SUM(1,2)", "@cmd", f'<img src=x onerror="{PWN.format("id")}">']
REGIONS = [f"<svg onload={PWN.format('region')}>", "=cmd|' /C calc'!A0", "North & South"]
PRODUCTS = [f"<iframe src=javascript:{PWN.format('product')}>", "@SUM(1+1)*cmd", "Plain CD"]
FILE_NAME = "shop <b>&'x'.csv"  # a file name a page shows (the landing and the quality page)
CRM_SYSTEMS = ["zoho", "salesforce", "hubspot", "fxiaoke"]


def write_hostile_input(cdnow: Path, folder: Path) -> Path:
    """The CDNOW sample as a shop's CSV export with names, products and regions, hostile ones among them: some
    customers' ids replaced by hostile ids, and three rows with dates no one can read (quarantined as read)."""
    rows = pd.read_csv(cdnow, sep=r"\s+", header=None, names=["cid", "cid2", "date", "cds", "amount"], dtype=str)
    ids = rows["cid"].drop_duplicates().tolist()
    rename = dict(zip(ids[: len(HOSTILE_IDS)], HOSTILE_IDS, strict=True))
    number = {cid: i for i, cid in enumerate(ids)}
    n = rows["cid"].map(number)
    sales = pd.DataFrame({
        "Customer ID": rows["cid"].map(lambda c: rename.get(c, c)),
        "Order Date": pd.to_datetime(rows["date"], format="%Y%m%d").dt.strftime("%Y-%m-%d"),
        "Amount": rows["amount"],
        "SKU": [PRODUCTS[i % len(PRODUCTS)] for i in range(len(rows))],
        "Description": [PRODUCTS[(i + 1) % len(PRODUCTS)] for i in range(len(rows))],
        "Customer Name": [f"{NAMES[k % len(NAMES)]} {k}" for k in n],
        "Region": [REGIONS[k % len(REGIONS)] for k in n],
    })  # fmt: skip
    bad = sales.head(3).assign(**{"Order Date": ["=cmd|' /C calc'!A0", f"<script>{PWN.format('q')}</script>",
                                                 "@now"], "Amount": ["-5", "+7", "=2*3"]})  # fmt: skip
    path = folder / FILE_NAME
    pd.concat([sales, bad], ignore_index=True).to_csv(path, index=False, encoding="utf-8")
    return path


def hostile_config(folder: Path) -> Path:
    config = folder / "config.yaml"
    config.write_text(
        "clv:\n  bootstrap:\n    n: 5\n"
        "data:\n  columns:\n    customer_id: Customer ID\n    timestamp: Order Date\n    amount: Amount\n"
        "    product_id: SKU\n    description: Description\n    customer_name: Customer Name\n    region: Region\n",
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="module")
def hostile_runs(tmp_path_factory, lifetimes_datasets, page_kernel):
    """The hostile data set run masked, then plain with every CRM preset, into one reports folder, without
    ``ANALYSIS_MASK_SALT`` (the default: the key kept beside the reports), in the worker's shared kernel."""
    base = tmp_path_factory.mktemp("hostile")
    path = write_hostile_input(lifetimes_datasets / "CDNOW_sample.txt", base)
    config = hostile_config(base)
    with pytest.MonkeyPatch.context() as env:
        env.delenv(SALT_VARIABLE, raising=False)
        common = {"as_of": "1998-06-30", "config_path": str(config), "out_dir": base / "reports",
                  "log": lambda _: None, "kernel": page_kernel}  # fmt: skip
        masked = run_report(str(path), mask_pii=True, **common)
        plain = run_report(str(path), crm_systems=CRM_SYSTEMS, **common)
    return {"plain": plain, "masked": masked, "input": path}


def _pages(run_dir: Path) -> list[Path]:
    pages = sorted(run_dir.glob("*.html"))
    assert {"index.html", "00_summary.html", "00_summary_zh.html", "05_churn.html"} <= {p.name for p in pages}
    return pages


INJECTED = """
const found = [];
const root = document.documentElement;
if (root.hasAttribute('data-pwned')) found.push('data-pwned=' + root.getAttribute('data-pwned'));
for (const el of document.querySelectorAll('*')) {
  for (const attr of el.attributes) {
    if (/^on/i.test(attr.name)) found.push(el.tagName + ' ' + attr.name + '=' + attr.value);
  }
}
for (const el of document.querySelectorAll('img[src="x"], svg[onload], iframe, b, a[href^="javascript:"]')) {
  found.push(el.outerHTML.slice(0, 120));
}
for (const s of document.scripts) {
  if (/pwned/.test(s.textContent)) found.push('script: ' + s.textContent.slice(0, 120));
}
return found;
"""


@pytest.mark.slow
@pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Chromium and its driver: apt-get install chromium")
def test_no_page_runs_or_renders_markup_from_the_data(hostile_runs, browser):  # noqa: F811
    for kind in ("plain", "masked"):
        for page in _pages(hostile_runs[kind]):
            browser.get(page.as_uri())
            assert browser.execute_script(INJECTED) == [], (kind, page.name)
            errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
            assert not errors, (kind, page.name, errors)  # (an injected <img src=x> would fail to load)


@pytest.mark.slow
def test_the_data_reaches_the_pages_as_text(hostile_runs):
    """Not dropped either: the names, regions and the file name are on the pages, shown as written."""
    run_dir = hostile_runs["plain"]
    text = {p.name: BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser").get_text(" ") for p in _pages(run_dir)}
    assert FILE_NAME in text["index.html"] and FILE_NAME in text["01_data_quality.html"]
    summary = text["00_summary.html"] + text["05_churn.html"]
    assert any(name in summary for name in NAMES), "no hostile name among those to call first"
    assert any(region in text["02_segments.html"] for region in REGIONS)
    churn = (run_dir / "05_churn.html").read_text(encoding="utf-8")
    assert "<script>document" not in churn and "&lt;script&gt;document" in churn


def _cells(path: Path, encoding: str = "utf-8-sig") -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding=encoding), newline="")))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _formulas(rows: list[list[str]]) -> list[str]:
    return [c for row in rows for c in row if c.startswith(FORMULA_STARTS) and not _is_number(c)]


@pytest.mark.slow
def test_no_csv_cell_can_be_evaluated_as_a_formula(hostile_runs):
    run_dir = hostile_runs["plain"]
    files = [run_dir / "customers.csv", run_dir / "quarantine.csv", *sorted((run_dir / "crm").glob("*.csv"))]
    assert {"zoho_accounts.csv", "salesforce_accounts.csv"} <= {p.name for p in files}
    for path in files:
        rows = _cells(path, "utf-8-sig")
        assert len(rows) > 1, path.name
        assert not _formulas(rows), (path.name, _formulas(rows)[:5])
    customers = pd.read_csv(run_dir / "customers.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert {"'=00007", "'-5", "'+SUM(1,2)", "'@cmd"} <= set(customers["customer_id"])  # ids are text
    assert "'=1+1 " + customers["customer_name"].str.extract(r"^'=1\+1 (\d+)$")[0].dropna().iloc[0] in set(
        customers["customer_name"])  # fmt: skip
    quarantine = pd.read_csv(run_dir / "quarantine.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert len(quarantine) == 3 and "'=cmd|' /C calc'!A0" in set(quarantine["Order Date"])
    assert set(quarantine["Amount"]) == {"'-5", "'+7", "'=2*3"}  # the rows as read: text
    numbers = pd.read_csv(run_dir / "customers.csv", encoding="utf-8-sig")
    assert pd.api.types.is_float_dtype(numbers["monetary"]) and pd.api.types.is_integer_dtype(numbers["orders"])


@pytest.mark.slow
def test_no_workbook_holds_a_formula(hostile_runs):
    run_dir = hostile_runs["plain"]
    books = [run_dir / "customers.xlsx", *sorted((run_dir / "crm").glob("*.xlsx"))]
    assert len(books) == 2  # the tier table and fxiaoke's import file
    for book in books:
        with zipfile.ZipFile(book) as z:
            for name in z.namelist():
                if name.startswith("xl/worksheets/"):
                    assert not re.search(rb"<f[ >]", z.read(name)), (book.name, name)
            strings = z.read("xl/sharedStrings.xml").decode("utf-8")
        assert "=00007" in strings and "=1+1" in strings, book.name  # the texts themselves, as text cells


@pytest.mark.slow
def test_masked_ids_cannot_be_undone_without_the_key(hostile_runs):
    run_dir = hostile_runs["masked"]
    ids = pd.read_parquet(run_dir / "customers.parquet", columns=["customer_id"])["customer_id"].astype(str)
    unkeyed = {f"c-{hashlib.sha256(cid.encode()).hexdigest()[:8]}" for cid in ids}
    key = (run_dir.parent / KEY_FILE).read_text(encoding="ascii").strip()
    keyed = {mask_id(cid, key) for cid in ids}
    shown: set[str] = set()
    for page in _pages(run_dir):
        html = page.read_text(encoding="utf-8")
        found = set(re.findall(r"\bc-[0-9a-f]{8}\b", html))
        assert not found & unkeyed, (page.name, sorted(found & unkeyed)[:3])
        assert key not in html, page.name
        shown |= found
    assert shown, "no masked id on any page"
    summary = set(re.findall(r"\bc-[0-9a-f]{8}\b", (run_dir / "00_summary.html").read_text(encoding="utf-8")))
    assert summary and summary <= keyed  # the summary's ids are keyed by the key beside the reports
    for name in ("run.json", "settings.json"):
        assert key not in (run_dir / name).read_text(encoding="utf-8"), name


@pytest.mark.slow
def test_the_mask_key_is_private_and_reused(hostile_runs):
    out = hostile_runs["masked"].parent
    path = out / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = path.read_text(encoding="ascii").strip()
    assert len(key) == 64
    # a later run of the folder (here a new process, as a next month's run is) takes the same key
    code = f"from analysis.privacy import page_salt; print(page_salt({str(out / 'next-run')!r}))"
    env = {k: v for k, v in __import__("os").environ.items() if k != SALT_VARIABLE}
    later = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert later.stdout.strip() == key
    assert hostile_runs["plain"].parent == out and path.read_text(encoding="ascii").strip() == key
    assert not list(hostile_runs["plain"].glob(KEY_FILE)) and not list(hostile_runs["masked"].glob(KEY_FILE))


def test_hostile_input_is_what_the_tests_say(tmp_path, lifetimes_datasets):
    path = write_hostile_input(lifetimes_datasets / "CDNOW_sample.txt", tmp_path)
    frame = pd.read_csv(path, dtype=str)
    assert set(HOSTILE_IDS) <= set(frame["Customer ID"]) and frame["Customer Name"].str.startswith("=1+1").any()
    assert np.isin(REGIONS, frame["Region"]).all()
