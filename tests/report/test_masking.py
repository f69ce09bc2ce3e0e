"""Masking of the rendered pages (``--mask-pii``): tables by their headers, a safety net over all text, and a whole
run whose pages and decks show no raw name, phone or e-mail while the analyst outputs keep them."""

import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from analysis.privacy import KnownValues, mask_id, mask_phone, page_salt
from analysis.report.masking import PageMasker, header_kind, mask_cell, mask_html
from analysis.report.runner import notebooks_in, run_report
from tests.conftest import ROOT, write_notebook

PEOPLE = pd.DataFrame(
    {
        "customer_id": ["7", "8", "9"],
        "customer_name": ["张三", "Alice Smith", "欧阳娜娜"],
        "phone": ["13812341234", "5551234", "020 7946 0958"],
        "email": ["zhang.san@qq.com", "alice@example.com", "nana@example.cn"],
        "orders": [8, 7, 1],  # 7 and 8 are also customer ids: counts stay as they are
    }
)


def _page(*fragments: str) -> str:
    return f"<!DOCTYPE html><html><head><title>Page</title></head><body>{''.join(fragments)}</body></html>"


def _cells(page: str) -> list[list[str]]:
    """The text of every row of the first table."""
    table = BeautifulSoup(page, "html.parser").find("table")
    return [[cell.get_text().strip() for cell in row.find_all(["th", "td"])] for row in table.find_all("tr")]


MASKED_ROWS = [
    [mask_id("7"), "张*", "138****1234", "z***@qq.com", "8"],
    [mask_id("8"), "A**** S****", "***1234", "a***@example.com", "7"],
    [mask_id("9"), "欧***", "020****0958", "n***@example.cn", "1"],
]


def test_to_html_table_indexed_by_customer_id():
    page = mask_html(_page(PEOPLE.set_index("customer_id").to_html()), salt="")
    rows = _cells(page)
    assert rows[:2] == [["", "customer_name", "phone", "email", "orders"], ["customer_id", "", "", "", ""]]
    assert rows[2:] == MASKED_ROWS


def test_styler_table_with_a_salt_and_headers_in_chinese():
    chinese = {"customer_id": "客户编号", "customer_name": "客户名称", "phone": "电话", "email": "邮箱"}
    frame = PEOPLE.rename(columns=chinese)
    page = mask_html(_page(frame.style.hide(axis="index").to_html()), salt="s")
    expected = [[mask_id(cid, "s"), *row[1:]] for row, cid in zip(MASKED_ROWS, ["7", "8", "9"], strict=True)]
    assert _cells(page)[1:] == expected
    assert mask_id("7", "s") != mask_id("7")


def test_multiindex_columns_and_the_english_page_headers():
    frame = PEOPLE.set_index("customer_id")[["customer_name", "phone", "orders"]]
    frame.columns = pd.MultiIndex.from_tuples([("who", "Name"), ("contact", "phone"), ("sales", "orders")])
    frame.index.name = "Customer"
    rows = _cells(mask_html(_page(frame.to_html())))
    assert [row for row in rows if row and row[0] == mask_id("8")] == [[mask_id("8"), "A**** S****", "***1234", "7"]]


def test_cells_already_masked_or_empty_are_kept_and_labels_are_masked_as_name_and_id():
    assert mask_cell("c-0123abcd", "id") == "c-0123abcd"
    assert mask_cell("138****1234", "phone") == "138****1234"
    assert mask_cell("NaN", "name") == "NaN" and mask_cell("", "id") == ""
    assert mask_cell("张三 (7)", "id") == f"张* ({mask_id('7')})"
    assert mask_cell("张* (c-0123abcd)", "id") == "张* (c-0123abcd)"
    assert header_kind("Customer") == "id" and header_kind("客户名称") == "name" and header_kind("orders") is None


def test_safety_net_masks_known_values_and_patterns_in_all_text():
    known = KnownValues.from_frame(PEOPLE)
    page = mask_html(
        _page(
            "<p>Call Alice Smith and 张三 first; 欧阳娜娜 has 7 orders.</p>",
            '<div class="jp-RenderedText"><pre>write to zhang.san@qq.com or bob@corp.com, tel 5551234, '
            "mobile 13912345678 (as of 1998-06-30)</pre></div>",
            '<img alt="Orders of Alice Smith" title="张三" src="data:image/png;base64,iVBORw0KGgo=">',
            "<style>.x { color: red }</style>",
        ),
        known=known,
    )
    soup = BeautifulSoup(page, "html.parser")
    assert soup.p.get_text() == "Call A**** S**** and 张* first; 欧*** has 7 orders."
    assert soup.pre.get_text() == ("write to z***@qq.com or b***@corp.com, tel ***1234, mobile 139****5678 "
                                   "(as of 1998-06-30)")  # fmt: skip
    assert soup.img["alt"] == "Orders of A**** S****" and soup.img["title"] == "张*"
    assert soup.img["src"] == "data:image/png;base64,iVBORw0KGgo="
    assert soup.title.get_text() == "Page" and ".x { color: red }" in page


def test_numbers_that_are_not_personal_stay():
    table = pd.DataFrame({"customer_id": ["7", "8"], "orders": [8, 7], "count": [7, 7]}).to_html(index=False)
    rows = _cells(mask_html(_page(table, "<p>7 customers bought 8 times; 2357 in all.</p>"),
                            known=KnownValues.from_frame(PEOPLE)))  # fmt: skip
    assert rows == [["customer_id", "orders", "count"], [mask_id("7"), "8", "7"], [mask_id("8"), "7", "7"]]


def test_page_masker_reads_the_known_values_again_when_a_stage_adds_a_personal_column(tmp_path):
    PEOPLE[["customer_id", "customer_name"]].to_parquet(tmp_path / "customers.parquet")
    masker = PageMasker(tmp_path)
    assert masker("<p>Alice Smith, tel 5551234</p>") == "<p>A**** S****, tel 5551234</p>"
    first = masker.known()
    assert masker.known() is first  # read once while the table's personal columns stay the same
    PEOPLE.to_parquet(tmp_path / "customers.parquet")
    assert masker("<p>Alice Smith, tel 5551234</p>") == "<p>A**** S****, tel ***1234</p>"
    assert PageMasker(tmp_path / "nowhere")("<p>Alice Smith</p>") == "<p>Alice Smith</p>"


# A page beside the report pages that shows the customers' contacts, as a page joined to a CRM would: its table
# (pandas and Styler), a sentence naming a customer and a printed line.
CONTACTS_PAGE = """
import pandas as pd
from IPython.display import Markdown, display
from analysis.report import open_stage

st = open_stage(run_dir=run_dir)
contacts = pd.read_csv({path!r}, dtype=str)[["customer_id", "phone", "email"]]
table = st.add_columns(contacts)
first = table.dropna(subset=["customer_name"]).sort_values("customer_id").head(5)
display(first[["customer_id", "customer_name", "phone", "email", "orders"]].set_index("customer_id"))
display(first[["customer_id", "customer_name", "phone", "email"]].style.hide(axis="index"))
display(Markdown(f"Call **{{first['customer_name'].iloc[0]}}** first, on {{first['phone'].iloc[0]}}."))
print(f"write to {{first['email'].iloc[1]}} or {{first['customer_name'].iloc[1]}}")
"""

SURNAMES, GIVEN = ["张", "李", "王", "欧阳", "陈"], ["三", "小明", "娜娜", "伟", "芳芳"]
FIRST, LAST = ["Alice", "Bob", "Carol", "David", "Eve"], ["Smith", "Stone", "Brown", "Lee", "Young"]


def _people(ids: list[str]) -> pd.DataFrame:
    names = [f"{s}{g}" for s in SURNAMES for g in GIVEN] + [f"{f} {la}" for f in FIRST for la in LAST]
    return pd.DataFrame({
        "customer_id": ids,
        "customer_name": [names[i % len(names)] for i in range(len(ids))],
        "phone": [f"139{i:08d}" for i in range(len(ids))],
        "email": [f"user{i}.{names[i % len(names)][:1].lower()}@example.com" for i in range(len(ids))],
    })  # fmt: skip


def _leaks(text: str, people: pd.DataFrame) -> list[str]:
    """Every name, phone and e-mail of ``people`` found anywhere in ``text`` (also inside longer runs of digits
    or characters). Phones and e-mails are looked up where their shape occurs rather than each searched for
    (thousands of searches of every page took 12 s)."""
    names = [name for name in people["customer_name"].unique() if name in text]
    phones, emails = set(people["phone"]), set(people["email"])
    longest = max(map(len, emails))
    found = {run[i : i + 11] for run in re.findall(r"\d{11,}", text) for i in range(len(run) - 10)} & phones
    for at in (m.start() for m in re.finditer("@", text)):
        found |= {text[start:end] for start in range(max(0, at - longest), at)
                  for end in range(at + 1, min(len(text), start + longest) + 1)} & emails  # fmt: skip
    return names + sorted(found)


def _deck_text(path: Path) -> str:
    with zipfile.ZipFile(path) as deck:
        return " ".join(deck.read(n).decode("utf-8") for n in deck.namelist() if n.endswith(".xml"))


@pytest.fixture(scope="module")
def masked_run(tmp_path_factory, lifetimes_datasets, page_kernel):
    """A whole run of the CDNOW sample with a customer list of names, phones and e-mails, masked."""
    from analysis.config import load_config
    from analysis.data.pipeline import prepare

    base = tmp_path_factory.mktemp("masked_run")
    sample = str(lifetimes_datasets / "CDNOW_sample.txt")
    ids = prepare(sample, load_config(), "1998-06-30").customers["customer_id"].tolist()
    people = _people(ids)
    people.to_csv(base / "people.csv", index=False, encoding="utf-8")
    notebooks = base / "notebooks"
    notebooks.mkdir()
    for notebook in notebooks_in(ROOT / "notebooks"):
        (notebooks / notebook.name).symlink_to(notebook)
    write_notebook(notebooks / "01a_contacts.ipynb", CONTACTS_PAGE.format(path=str(base / "people.csv")))
    config = base / "config.yaml"
    config.write_text("clv:\n  bootstrap:\n    n: 5\n", encoding="utf-8")
    run_dir = run_report(sample, as_of="1998-06-30", config_path=str(config), customers_path=str(base / "people.csv"),
                         out_dir=base / "reports", notebooks_dir=notebooks, mask_pii=True,
                         log=lambda _: None, kernel=page_kernel)  # fmt: skip
    return run_dir, people


@pytest.mark.slow
def test_mask_pii_leaves_no_raw_name_phone_or_email_in_any_page_or_deck(masked_run):
    run_dir, people = masked_run
    pages = sorted(run_dir.glob("*.html"))
    decks = sorted(run_dir.glob("*.pptx"))
    assert {"index.html", "01a_contacts.html", "02_segments.html"} <= {p.name for p in pages} and decks
    for path in pages:
        leaks = _leaks(path.read_text(encoding="utf-8"), people)
        assert not leaks, f"{path.name} shows {leaks[:5]}"
    for path in decks:
        leaks = _leaks(_deck_text(path), people)
        assert not leaks, f"{path.name} shows {leaks[:5]}"
    assert _leaks(f"call {people['phone'].iloc[3]}0 or {people['email'].iloc[5]}", people)  # the check can fail
    contacts = (run_dir / "01a_contacts.html").read_text(encoding="utf-8")
    first = people.sort_values("customer_id").iloc[0]
    shown_id = mask_id(first["customer_id"], page_salt(run_dir))  # keyed by the run's mask key
    assert shown_id in contacts and mask_phone(first["phone"]) in contacts  # the check can fail
    # the analyst outputs keep the real values
    table = pd.read_csv(run_dir / "customers.csv", dtype=str, encoding="utf-8-sig")
    assert set(people["customer_name"]) <= set(table["customer_name"]) and set(people["email"]) <= set(table["email"])
    executed = "".join(p.read_text(encoding="utf-8") for p in (run_dir / "notebooks").glob("*.ipynb"))
    assert first["customer_name"] in executed and first["email"] in executed and first["phone"] in executed
    assert "masked" in (run_dir / "index.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_mask_pii_hides_ids_in_every_table(masked_run):
    run_dir, people = masked_run
    ids = set(people["customer_id"])
    for path in sorted(run_dir.glob("*.html")):
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for table in soup.find_all("table"):
            headers = [th.get_text(" ", strip=True) for th in table.select("thead th")]
            if any(header_kind(h) == "id" for h in headers):
                cells = {cell.get_text(strip=True) for cell in table.select("tbody th, tbody td")}
                assert not cells & ids, f"{path.name} shows ids {sorted(cells & ids)[:5]}"
