"""The header below title rows (ERP/POS reports with '2023年销售明细表' in A1), found or named with --header-row."""

import json

import openpyxl
import pytest

from analysis.cli import main
from analysis.config import load_config
from analysis.data.headers import header_index
from analysis.data.load import HeaderRow, read_transactions
from analysis.data.pipeline import prepare
from analysis.data.quality import summary_lines
from analysis.errors import UserError

HEADER = ["客户编号", "销售日期", "销售金额"]
ROWS = [["C001", "2023-01-05", 120.0], ["C002", "2023-01-06", 80.5], ["C001", "2023-02-10", 30.0]]


def write_report(path, above=(("2023年销售明细表",),), rows=ROWS, footer=()):
    """A workbook as an ERP exports it: ``above`` (title, blank and note rows), the header, the rows, ``footer``."""
    book = openpyxl.Workbook()
    sheet = book.active
    for row in above:
        sheet.append(list(row))
    for row in [HEADER, *rows, *footer]:
        sheet.append(row)
    book.save(path)
    return str(path)


def write_csv(path, lines, encoding="utf-8"):
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return str(path)


CSV_BODY = ["客户编号,销售日期,销售金额", "C001,2023-01-05,120.00", "C002,2023-01-06,80.50"]


def test_a_title_row_above_the_excel_header_is_skipped_and_reported(tmp_path):
    raw = read_transactions(write_report(tmp_path / "销售明细.xlsx"))
    assert raw.mapping == {"customer_id": "客户编号", "timestamp": "销售日期", "amount": "销售金额"}
    assert raw.header == HeaderRow(2, ("2023年销售明细表",))
    assert raw.source_format == "excel, header on row 2 (1 row above it skipped: '2023年销售明细表')"
    assert raw.frame["客户编号"].tolist() == ["C001", "C002", "C001"]


def test_title_blank_and_note_rows_are_counted_as_the_sheet_numbers_them(tmp_path):
    above = [("2023年销售明细表",), (), ("制表人：张三", None, "2024-01-02")]
    raw = read_transactions(write_report(tmp_path / "r.xlsx", above=above))
    assert raw.header == HeaderRow(4, ("2023年销售明细表", "", "制表人：张三 2024-01-02"))
    assert raw.source_format == (
        "excel, header on row 4 (3 rows above it skipped: '2023年销售明细表', '制表人：张三 2024-01-02')"
    )


def test_the_summary_says_where_the_header_was_and_a_totals_row_is_quarantined(tmp_path):
    path = write_report(tmp_path / "r.xlsx", footer=[["合计", None, 230.5]])
    prepared = prepare(path, load_config(), "2023-03-31")
    quality = prepared.quality
    assert quality["source_format"] == "excel, header on row 2 (1 row above it skipped: '2023年销售明细表')"
    assert summary_lines(quality)[0].startswith(f"Input: {path} (excel, header on row 2 (1 row above it skipped")
    assert (quality["rows_in"], quality["rows_kept"]) == (4, 3)  # the title is not a row of data
    assert prepared.quarantine[["客户编号", "reason"]].values.tolist() == [["合计", "unparsable_date"]]
    assert quality["reconciled"]
    assert prepared.customers.set_index("customer_id")["total_spend"].to_dict() == {"C001": 150.0, "C002": 80.5}


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_a_csv_with_two_title_lines(tmp_path, sep):
    lines = ["2023年销售明细表", "门店：一店  制表日期：2024-01-02", *(line.replace(",", sep) for line in CSV_BODY)]
    raw = read_transactions(write_csv(tmp_path / "s.csv", lines, encoding="gbk"))
    assert raw.mapping == {"customer_id": "客户编号", "timestamp": "销售日期", "amount": "销售金额"}
    assert raw.header == HeaderRow(3, ("2023年销售明细表", "门店：一店  制表日期：2024-01-02"))
    assert raw.source_format.endswith(", header on row 3 (2 rows above it skipped: '2023年销售明细表', "
                                      "'门店：一店  制表日期：2024-01-02')")
    assert raw.frame.values.tolist() == [["C001", "2023-01-05", "120.00"], ["C002", "2023-01-06", "80.50"]]


def test_a_csv_title_padded_with_delimiters_and_a_blank_line(tmp_path):
    raw = read_transactions(write_csv(tmp_path / "s.csv", ["2023年销售明细表,,", "", *CSV_BODY]))
    assert raw.header == HeaderRow(3, ("2023年销售明细表", "")) and raw.source_format.startswith("csv, header on row 3")
    assert len(raw.frame) == 2


def test_an_explicit_column_is_looked_for_below_the_title(tmp_path):
    lines = ["会员消费明细", "会员,日期,金额", "m1,2023-01-05,10"]
    raw = read_transactions(write_csv(tmp_path / "s.csv", lines), columns={"customer_id": "会员"})
    assert raw.header.row == 2 and raw.mapping["customer_id"] == "会员"


def test_the_header_row_can_be_named(tmp_path):
    path = write_report(tmp_path / "r.xlsx", above=[("2023年销售明细表",), ("客户编号", "日期")])
    raw = read_transactions(path, header_row=3)
    assert raw.header == HeaderRow(3, ("2023年销售明细表", "客户编号 日期")) and len(raw.frame) == 3
    csv_path = write_csv(tmp_path / "s.csv", ["2023年销售明细表", "", *CSV_BODY])
    assert read_transactions(csv_path, header_row=3).header == HeaderRow(3, ("2023年销售明细表", ""))
    with pytest.raises(UserError, match=r"among the headers 2023年销售明细表, Unnamed: 1, Unnamed: 2 \(row 1\): .*"
                                        r"or give the row of the headers with --header-row N"):
        read_transactions(path, header_row=1)  # named: not looked for
    with pytest.raises(UserError, match=r"the header row 9 is past the end of r.xlsx \(6 rows\)"):
        read_transactions(path, header_row=9)
    with pytest.raises(UserError, match=r"the header row 30 is past the end of .*s.csv \(5 rows\)"):
        read_transactions(csv_path, header_row=30)


def test_no_header_among_the_first_rows_is_the_error_with_a_hint(tmp_path):
    path = write_csv(tmp_path / "s.csv", ["报表", "who,when,amount", "c1,2024-01-05,10"])
    with pytest.raises(UserError, match=r"no customer_id column found among the headers 报表: name it with "
                                        r"--column customer_id=HEADER .* \(use --header-row N if the header is not "
                                        r"on the first row\)$"):
        read_transactions(path)
    book = write_report(tmp_path / "r.xlsx", rows=[["C001", "2023-01-05", 1]])
    with pytest.raises(UserError, match="among the headers 2023年销售明细表, Unnamed: 1, Unnamed: 2: .*--header-row N"):
        read_transactions(book, headers={"customer_id": ["会员ID"], "timestamp": ["销售日期"]})


def test_the_first_row_stays_the_header_when_it_names_the_roles():
    # an event log without amounts: the first row is the header even though a row further down names more roles
    rows = [["customer", "date"], ["c1", "2024-01-05"], ["customer", "date", "amount"]]
    assert header_index(rows, {}) == 0
    # below a title, a row needs an amount or a price as well; the one naming the most roles wins, the first of equals
    title = [["report"], ["customer", "date"], ["customer", "date", "price"], ["customer", "date", "amount", "sku"]]
    assert header_index(title, {}) == 3
    assert header_index([["report"], ["customer", "date", "amount"], ["customer", "date", "amount"]], {}) == 1
    assert header_index([["report"], ["customer", "date"]], {}) is None


def test_files_whose_header_is_the_first_row_read_as_before(tmp_path):
    raw = read_transactions(write_csv(tmp_path / "s.csv", CSV_BODY))
    assert raw.header == HeaderRow() and raw.source_format == "csv"
    book = write_report(tmp_path / "r.xlsx", above=())
    raw = read_transactions(book)
    assert raw.header == HeaderRow() and raw.source_format == "excel" and len(raw.frame) == 3


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", ""])
def test_a_bad_header_row_option_is_one_line(tmp_path, capsys, value):
    path = write_csv(tmp_path / "s.csv", CSV_BODY)
    assert main(["check", "--input", path, "--header-row", value]) == 2
    err = capsys.readouterr().err
    assert err == f"error: --header-row takes a row number from 1 up (1 = the first row), got {value!r}\n"


def test_the_header_row_option_sets_the_setting():
    from analysis.cli import _overrides, build_parser

    args = build_parser().parse_args(["run", "--input", "x.xlsx", "--header-row", " 3 "])
    assert _overrides(args) == {"data": {"header_row": 3}}
    args = build_parser().parse_args(["check", "--input", "x.xlsx"])
    assert "header_row" not in _overrides(args).get("data", {})


@pytest.mark.parametrize("value", ["0", "-2", "two", "true", "2.0", "[2]"])
def test_a_bad_header_row_setting_is_one_line(tmp_path, value):
    path = tmp_path / "settings.yaml"
    path.write_text(f"data:\n  header_row: {value}\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"setting 'data.header_row' in .* must be a row number from 1 up") as err:
        load_config(path)
    assert "\n" not in str(err.value)


def test_the_header_row_setting(tmp_path):
    assert load_config()["data"]["header_row"] is None  # the default: find it
    path = tmp_path / "settings.yaml"
    path.write_text("data:\n  header_row: 3\n", encoding="utf-8")
    assert load_config(path)["data"]["header_row"] == 3


def test_check_with_a_named_header_row(tmp_path, capsys):
    # an event log without amounts below a title: its header is not looked for (no amount), it is named
    lines = ["2023年销售明细表", "客户编号,销售日期", "C001,2023-01-05", "C002,2023-01-06"]
    assert main(["check", "--input", write_csv(tmp_path / "s.csv", lines), "--json", "--header-row", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["source_format"] == "csv, header on row 2 (1 row above it skipped: '2023年销售明细表')"
    assert out["rows_in"] == 2
