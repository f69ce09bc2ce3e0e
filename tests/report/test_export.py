"""The customer tier table and customers.xlsx: column order, the three sheets, header frozen, filters on, number
formats, the values themselves, and the row limit."""

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis.config import load_config
from analysis.data.pipeline import prepare
from analysis.report import export
from analysis.report.export import tier_table, write_tier_workbook
from analysis.segments import run
from analysis.stage import Frames

AS_OF = "1998-06-30"


def cdnow_customers(folder) -> pd.DataFrame:
    """The customer table of the lifetimes CDNOW sample (2,357 customers) with the segment columns, and CLV,
    cluster and churn columns made up from a seeded generator (those stages are not what is tested here)."""
    config = load_config()
    customers = prepare(str(folder / "CDNOW_sample.txt"), config, AS_OF).customers
    segments = run(Frames(customers_table=customers), config).columns
    table = customers.merge(segments.drop(columns=["recency_days", "frequency", "monetary"]), on="customer_id")
    rng = np.random.default_rng(7)
    n = len(table)
    table["cluster_name"] = rng.choice(["Recent big spenders", "Lapsed one-time buyers"], n)
    table["cluster_name_zh"] = table["cluster_name"].map(
        {"Recent big spenders": "近期高消费客户", "Lapsed one-time buyers": "流失一次性购买客户"}
    )
    table["clv"] = rng.gamma(2.0, 40.0, n)
    table["clv_low"], table["clv_high"] = table["clv"] * 0.8, table["clv"] * 1.3
    table["p_alive"] = rng.random(n)
    table["churn_risk"] = rng.random(n)
    table["risk_band"] = np.where(table["churn_risk"] >= 0.7, "high", "low")
    table["risk_band_zh"] = np.where(table["churn_risk"] >= 0.7, "高风险", "低风险")
    table["value_at_risk"] = table["churn_risk"] * table["clv"]
    table.loc[0, ["clv", "clv_low", "clv_high", "p_alive"]] = np.nan  # a customer the CLV stage left out
    return table


@pytest.fixture(scope="module")
def table(lifetimes_datasets):
    return tier_table(cdnow_customers(lifetimes_datasets), AS_OF)


def test_tier_table_keeps_the_documented_order_and_adds_the_as_of_date():
    customers = pd.DataFrame({
        "tier_zh": ["VIP客户"], "value_at_risk": [1.5], "orders": [3], "tier": ["VIP"], "customer_id": ["007"],
        "city": ["Hangzhou"], "website": ["a.cn"], "customer_name": ["张三"], "rfm_segment_label_zh": ["冠军客户"],
        "r_score": [5],
        "risk_band": ["low"], "risk_band_zh": ["低风险"], "lifecycle_stage_zh": ["活跃"], "recommended_action": ["x"],
    })  # fmt: skip
    table = tier_table(customers, "1998-06-30")
    assert table.columns.tolist() == ["customer_id", "customer_name", "city", "website", "r_score", "tier", "tier_zh",
                                      "risk_band", "risk_band_zh", "value_at_risk", "recommended_action",
                                      "as_of"]  # fmt: skip
    assert table["as_of"].iloc[0] == pd.Timestamp("1998-06-30")
    assert table["customer_id"].iloc[0] == "007"  # lifecycle_stage_zh without lifecycle_stage is left out


def test_tier_table_of_a_real_run_has_every_stage_column(table):
    assert table.columns.tolist() == [
        "customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_segment",
        "rfm_segment_zh", "abc_class", "lifecycle_stage", "lifecycle_stage_zh", "tier", "tier_zh", "cluster_name",
        "cluster_name_zh", "clv", "clv_low", "clv_high", "p_alive", "churn_risk", "risk_band", "risk_band_zh",
        "value_at_risk", "recommended_action", "recommended_action_zh", "as_of"]  # fmt: skip
    assert len(table) == 2357 and table["customer_id"].is_unique


def test_workbook_has_the_table_frozen_and_filtered_with_number_formats(table, tmp_path, config):
    path = tmp_path / "customers.xlsx"
    assert write_tier_workbook(path, table, config) == []
    wb = load_workbook(path)
    assert wb.sheetnames == ["Customers", "Columns", "Playbook"]
    ws = wb["Customers"]
    assert ws.freeze_panes == "A2"
    last = ws.cell(row=1, column=len(table.columns)).column_letter
    assert ws.auto_filter.ref == f"A1:{last}{len(table) + 1}"
    assert ws.max_row == len(table) + 1
    header = [c.value for c in ws[1]]
    assert header == table.columns.tolist()
    col = {name: i + 1 for i, name in enumerate(header)}
    row = 3  # the second customer: every column filled
    expected = table.iloc[row - 2]
    assert ws.cell(row, col["customer_id"]).value == expected["customer_id"]
    assert expected["customer_id"].startswith("0")  # written as text: leading zeros kept
    assert ws.cell(row, col["clv"]).value == round(expected["clv"], 2)
    assert ws.cell(row, col["clv"]).number_format == "#,##0.00"
    assert ws.cell(row, col["monetary"]).number_format == "#,##0.00"
    assert ws.cell(row, col["p_alive"]).value == round(expected["p_alive"], 4)
    assert ws.cell(row, col["p_alive"]).number_format == "0.0%"
    assert ws.cell(row, col["churn_risk"]).number_format == "0.0%"
    assert ws.cell(row, col["as_of"]).value == pd.Timestamp(AS_OF).to_pydatetime()
    assert ws.cell(row, col["as_of"]).number_format == "yyyy-mm-dd"
    assert ws.cell(row, col["tier_zh"]).value == expected["tier_zh"]
    assert ws.cell(2, col["clv"]).value is None  # missing stays empty, never "nan"
    assert ws.cell(2, col["frequency"]).value == table["frequency"].iloc[0]
    for letter in ("A", last):
        assert export.MIN_WIDTH <= ws.column_dimensions[letter].width <= export.MAX_WIDTH
    assert ws.column_dimensions[ws.cell(1, col["recommended_action_zh"]).column_letter].width > 20


def test_second_sheet_explains_every_column_in_english_and_chinese(table, tmp_path, config):
    path = tmp_path / "customers.xlsx"
    write_tier_workbook(path, table, config)
    rows = list(load_workbook(path)["Columns"].iter_rows(values_only=True))
    assert rows[0] == ("Column", "English", "Chinese")
    assert [r[0] for r in rows[1:]] == table.columns.tolist()
    for name, en, zh in rows[1:]:
        assert [en, zh] == config["columns"][name], name


def test_third_sheet_is_the_playbook_per_tier_with_its_customers(table, tmp_path, config):
    path = tmp_path / "customers.xlsx"
    write_tier_workbook(path, table, config, lang="zh")
    wb = load_workbook(path)
    assert wb.sheetnames == ["客户分层", "字段说明", "分层策略"]
    rows = list(wb["分层策略"].iter_rows(values_only=True))
    assert rows[0][:3] == ("分层（英文）", "分层（中文）", "客户数")
    labels = config["tiers"]["labels"]
    assert [r[:2] for r in rows[1:]] == [tuple(v) for v in labels.values()]
    assert sum(r[2] for r in rows[1:]) == len(table)
    counts = table["tier"].value_counts()
    assert {r[0]: r[2] for r in rows[1:]} == {en: int(counts.get(en, 0)) for en, _ in labels.values()}
    vip = rows[1]
    playbook = config["playbook"]["tiers"]["vip"]
    assert vip[3:5] == tuple(playbook["service_level"])
    assert vip[-2:] == tuple(playbook["action"])


def test_text_is_written_as_text_even_when_it_looks_like_a_formula_or_holds_control_characters(tmp_path, config):
    customers = pd.DataFrame({"customer_id": ["1", "2"], "customer_name": ["=HYPERLINK(\"x\")", "Li\x07 Lei"],
                              "tier": ["VIP", "Ordinary"]})  # fmt: skip
    path = tmp_path / "customers.xlsx"
    write_tier_workbook(path, tier_table(customers, AS_OF), config)
    ws = load_workbook(path)["Customers"]
    assert ws["B2"].value == '=HYPERLINK("x")' and ws["B2"].data_type == "s"
    assert ws["B3"].value == "Li Lei"


def test_above_the_row_limit_the_workbook_points_to_the_csv_and_parquet(monkeypatch, tmp_path, config):
    customers = pd.DataFrame({"customer_id": [f"{i:03d}" for i in range(5)], "tier": ["VIP"] * 5})
    monkeypatch.setattr(export, "EXCEL_MAX_ROWS", 6)  # 5 customers + the header fit exactly
    path = tmp_path / "customers.xlsx"
    assert write_tier_workbook(path, tier_table(customers, AS_OF), config) == []
    assert load_workbook(path)["Customers"].max_row == 6

    monkeypatch.setattr(export, "EXCEL_MAX_ROWS", 5)  # one row too many
    warnings = write_tier_workbook(path, tier_table(customers, AS_OF), config)
    assert warnings == ["customers.xlsx: 5 customers exceed Excel's 5 rows per sheet; sheet 1 points to "
                        "customers.csv and customers.parquet instead"]  # fmt: skip
    wb = load_workbook(path)
    assert wb.sheetnames == ["Customers", "Columns", "Playbook"]
    text = wb["Customers"]["A1"].value
    assert "customers.csv" in text and "customers.parquet" in text and "5 customers" in text
    assert wb["Customers"].max_row == 2  # the message in both languages, no partial table
    assert "客户" in wb["Customers"]["A2"].value
    assert wb["Playbook"].max_row == 1 + len(config["tiers"]["labels"])


def test_a_wrong_language_is_refused(tmp_path, config):
    with pytest.raises(ValueError, match="lang must be"):
        write_tier_workbook(tmp_path / "x.xlsx", pd.DataFrame({"customer_id": ["1"]}), config, lang="fr")


FORMULA_TEXTS = ["=1+1", "+SUM(1,2)", "-2+3", "@cmd", "\tTab", "plain", "a=b", None]


@pytest.mark.parametrize("chunk", [200_000, 3])
def test_customers_csv_guards_formula_starts_in_text_and_leaves_numbers(tmp_path, chunk):
    from analysis.report.rundir import write_csv

    frame = pd.DataFrame({
        "customer_id": pd.array(["=00007", "-5", "3", "4", "5", "6", "7", "8"], dtype="str"),
        "customer_name": pd.array(FORMULA_TEXTS, dtype="str"),
        "monetary": [-12.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, np.nan],
        "orders": [-1, 1, 2, 3, 4, 5, 6, 7],
    })  # fmt: skip
    write_csv(frame, tmp_path / "guarded.csv", chunk=chunk)
    back = pd.read_csv(tmp_path / "guarded.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert back["customer_id"].tolist()[:3] == ["'=00007", "'-5", "3"]
    assert back["customer_name"].tolist() == ["'=1+1", "'+SUM(1,2)", "'-2+3", "'@cmd", "'\tTab", "plain", "a=b", ""]
    assert back["monetary"].tolist()[0] == "-12.5" and back["orders"].tolist()[0] == "-1"
    # the slow path (a column the fast one does not know: a category) guards the same cells and its categories
    write_csv(frame.assign(extra=pd.Categorical(["-a", "b"] * 4)), tmp_path / "slow.csv", chunk=chunk)
    slow = pd.read_csv(tmp_path / "slow.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert slow.drop(columns="extra").equals(back) and slow["extra"].tolist()[:2] == ["'-a", "b"]
    write_csv(frame, tmp_path / "plain.csv", chunk=chunk, guard=False)  # off: the data as it is, as pandas writes it
    expected = frame.to_csv(index=False, float_format="%.15g", lineterminator="\n").encode("utf-8-sig")
    assert (tmp_path / "plain.csv").read_bytes() == expected


def test_formula_guard_on_every_formula_start():
    import pyarrow as pa

    from analysis.tables import formula_guarded

    texts = ["=a", "+a", "-a", "@a", "\ta", "\ra", "a", "", " =a", None]
    assert formula_guarded(pa.array(texts)).to_pylist() == ["'=a", "'+a", "'-a", "'@a", "'\ta", "'\ra", "a", "",
                                                             " =a", None]  # fmt: skip


def test_quarantine_csv_guards_the_rows_as_read(tmp_path, config):
    import copy

    path = tmp_path / "sales.csv"
    path.write_text("customer_id,date,amount\n=00007,2024-01-05,10\n@x,=cmd|' /C calc'!A0,-5\n", encoding="utf-8")
    prepared = prepare(str(path), config, "2024-01-31")
    prepared.checked.write_quarantine(tmp_path / "quarantine.csv")
    rows = pd.read_csv(tmp_path / "quarantine.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert rows[["customer_id", "date", "amount"]].values.tolist() == [["'@x", "'=cmd|' /C calc'!A0", "'-5"]]
    off = copy.deepcopy(config)
    off["export"]["csv_formula_guard"] = False
    prepare(str(path), off, "2024-01-31").checked.write_quarantine(tmp_path / "raw.csv")
    raw = pd.read_csv(tmp_path / "raw.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert raw[["customer_id", "date", "amount"]].values.tolist() == [["@x", "=cmd|' /C calc'!A0", "-5"]]


def test_workbooks_hold_no_formula_even_for_texts_that_look_like_one(tmp_path, config):
    import copy
    import zipfile

    config = copy.deepcopy(config)
    config["columns"]["customer_name"] = ["=HYPERLINK(\"http://evil.example\",\"click\")", "=1+1"]
    table = pd.DataFrame({"customer_id": ["=00007", "2"], "customer_name": ["=1+1", "@cmd"], "orders": [1, 2]})
    write_tier_workbook(tmp_path / "customers.xlsx", table, config)
    export.write_plain_xlsx(tmp_path / "plain.xlsx", table.rename(columns={"orders": "=orders"}))
    for book in ("customers.xlsx", "plain.xlsx"):
        with zipfile.ZipFile(tmp_path / book) as z:
            sheets = [z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and not any(b"<f>" in sheet or b"<f " in sheet for sheet in sheets), book
    rows = list(load_workbook(tmp_path / "customers.xlsx").worksheets[0].iter_rows(values_only=True))
    assert rows[1][:2] == ("=00007", "=1+1")  # shown as written: text cells


def test_customers_csv_ends_each_row_with_the_as_of_date_and_keeps_every_other_byte(tmp_path):
    from analysis.report.rundir import rounded_for_people, write_csv, write_customers, write_customers_csv

    (tmp_path / "settings.json").write_text('{"config": {"export": {"csv_formula_guard": true}}}', encoding="utf-8")
    (tmp_path / "quality.json").write_text('{"as_of": "1998-06-30"}', encoding="utf-8")
    frame = pd.DataFrame({"customer_id": ["007", "b"], "clv": [12.3456, np.nan], "tier": ["VIP", "=x"],
                          "last_purchase": pd.to_datetime(["1998-06-01", "1997-01-02"])})  # fmt: skip
    write_customers(tmp_path, frame)
    text = (tmp_path / "customers.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines() == ["customer_id,clv,tier,last_purchase,as_of", "007,12.35,VIP,1998-06-01,1998-06-30",
                                 "b,,'=x,1997-01-02,1998-06-30"]  # fmt: skip
    write_csv(rounded_for_people(frame), tmp_path / "without.csv")  # the file as it was before the column
    lines = (tmp_path / "customers.csv").read_bytes().splitlines()
    assert [line.rsplit(b",", 1)[0] for line in lines] == (tmp_path / "without.csv").read_bytes().splitlines()
    before = (tmp_path / "customers.csv").read_bytes()
    write_customers_csv(tmp_path)  # the runner's writer, after the last page: the same bytes
    assert (tmp_path / "customers.csv").read_bytes() == before
    assert pd.read_parquet(tmp_path / "customers.parquet").columns.tolist() == frame.columns.tolist()
