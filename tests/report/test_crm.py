"""CRM import presets: each system's required headers, picklist values, value formats, encodings and file
limits, and the one-line warning when the data lacks a required field."""

import copy
import zipfile

import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis.errors import UserError
from analysis.report import crm
from analysis.report.crm import write_crm_files
from analysis.report.export import tier_table
from tests.report.test_export import AS_OF, cdnow_customers

SYSTEMS = ["zoho", "salesforce", "hubspot", "fxiaoke"]
BOM = b"\xef\xbb\xbf"


@pytest.fixture(scope="module")
def table(lifetimes_datasets):
    return tier_table(cdnow_customers(lifetimes_datasets), AS_OF)


def read(path) -> pd.DataFrame:
    """A CRM file as text, the way an import tool sees it."""
    if path.suffix == ".xlsx":
        rows = list(load_workbook(path).active.iter_rows(values_only=True))
        return pd.DataFrame(rows[1:], columns=rows[0]).fillna("")
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def named(n: int, **extra) -> pd.DataFrame:
    """A tier table of ``n`` named customers."""
    frame = pd.DataFrame({"customer_id": [f"{i:05d}" for i in range(n)],
                          "customer_name": [f"Firm {i}" for i in range(n)],
                          "tier": (["VIP", "Important", "Ordinary", "Potential"] * n)[:n], **extra})  # fmt: skip
    frame["tier_zh"] = frame["tier"].map({"VIP": "VIP客户", "Important": "重要客户", "Ordinary": "普通客户",
                                          "Potential": "潜在客户"})  # fmt: skip
    return tier_table(frame, AS_OF)


def test_every_preset_has_its_required_name_and_the_cdnow_ids_in_it_with_one_warning_each(table, tmp_path, config):
    files, warnings = write_crm_files(tmp_path, table, config, SYSTEMS)
    assert list(files) == SYSTEMS
    names = {"zoho": "Account Name", "salesforce": "Account Name", "hubspot": "Company name", "fxiaoke": "客户名称"}
    for system, header in names.items():
        frame = pd.concat([read(p) for p in files[system]], ignore_index=True)
        assert frame.columns[0] == header
        assert frame[header].tolist() == table["customer_id"].tolist()  # no names in CDNOW: the id, flagged
        no_name = [w for w in warnings if w.startswith(f"{system}: ") and "customer names" in w]
        assert no_name == [f"{system}: the data has no customer names, so {header!r} (required) holds the customer id"]
    assert all("\n" not in w for w in warnings)


def test_values_are_written_as_the_import_tools_read_them(table, tmp_path, config):
    files, _ = write_crm_files(tmp_path, table, config, ["zoho", "salesforce", "fxiaoke"])
    zoho = pd.concat([read(p) for p in files["zoho"]], ignore_index=True)
    first = table.iloc[1]
    assert zoho["Account Number"].iloc[1] == first["customer_id"]
    assert zoho["CLV"].iloc[1] == f"{first['clv']:.2f}"
    assert zoho["Total Spend"].iloc[1] == f"{first['monetary']:.2f}"
    assert float(zoho["Churn Risk"].iloc[1]) == pytest.approx(first["churn_risk"] * 100, abs=1e-4)  # percent
    assert zoho["Assessed On"].iloc[1] == "06/30/1998"  # Zoho reads MM/dd/yyyy
    assert zoho["CLV"].iloc[0] == ""  # missing stays empty
    assert set(zoho["Customer Tier"]) <= {"VIP", "Important", "Ordinary", "Potential"}
    assert (zoho["Customer Tier"] == table["tier"]).all()
    salesforce = read(files["salesforce"][0])
    assert salesforce["Assessed On"].iloc[0] == "1998-06-30"
    fxiaoke = pd.concat([read(p) for p in files["fxiaoke"]], ignore_index=True)
    assert (fxiaoke["客户级别"] == table["tier_zh"]).all()
    assert fxiaoke["建议动作"].iloc[1] == first["recommended_action_zh"]
    assert fxiaoke["客户编号"].iloc[1] == first["customer_id"]  # text: leading zeros kept


def test_encodings_utf8_with_bom_for_zoho_and_hubspot_without_for_salesforce_and_xlsx_for_fxiaoke(tmp_path, config):
    files, _ = write_crm_files(tmp_path, named(3, city=["杭州", "上海", "北京"]), config, SYSTEMS)
    assert files["zoho"][0].read_bytes().startswith(BOM + b"Account Name,")
    assert files["hubspot"][0].read_bytes().startswith(BOM + b"Company name,")
    raw = files["salesforce"][0].read_bytes()
    assert raw.startswith(b"Account Name,") and "杭州".encode() in raw
    assert files["fxiaoke"][0].suffix == ".xlsx"
    assert read(files["fxiaoke"][0])["城市"].tolist() == ["杭州", "上海", "北京"]


def test_tier_picklists_take_the_preset_values(tmp_path, config):
    config = copy.deepcopy(config)
    config["crm"]["systems"]["fxiaoke"]["tier_values"] = [["vip", "重要客户"], ["important", "重要客户"],
                                                          ["ordinary", "普通客户"]]  # fmt: skip
    files, _ = write_crm_files(tmp_path, named(4), config, ["fxiaoke"])
    # potential has no entry: it keeps its label
    assert read(files["fxiaoke"][0])["客户级别"].tolist() == ["重要客户", "重要客户", "普通客户", "潜在客户"]


def test_salesforce_splits_at_50000_records_per_file(tmp_path, config):
    files, warnings = write_crm_files(tmp_path, named(55_000), config, ["salesforce"])
    assert [p.name for p in files["salesforce"]] == ["salesforce_accounts_001.csv", "salesforce_accounts_002.csv"]
    parts = [read(p) for p in files["salesforce"]]
    assert [len(p) for p in parts] == [50_000, 5_000]
    assert pd.concat(parts)["Account Number"].tolist() == [f"{i:05d}" for i in range(55_000)]
    assert warnings == ["salesforce: 55,000 customers split into 2 files of at most 50,000 (the import tool's "
                        "limit per file)"]  # fmt: skip


def test_every_preset_respects_its_row_limit(tmp_path, config):
    config = copy.deepcopy(config)
    for preset in config["crm"]["systems"].values():
        preset["max_rows"] = 3
    files, _ = write_crm_files(tmp_path, named(7), config, SYSTEMS)
    for system in SYSTEMS:
        assert [len(read(p)) for p in files[system]] == [3, 3, 1], system
    files, _ = write_crm_files(tmp_path, named(2), config, SYSTEMS)  # a rerun leaves no stale parts behind
    assert all(len(paths) == 1 for paths in files.values())
    assert sorted(p.name for p in (tmp_path / "crm").iterdir()) == sorted(p.name for v in files.values() for p in v)


def test_hubspot_is_keyed_by_the_domain_when_there_is_one_and_says_so_when_not(tmp_path, config):
    files, warnings = write_crm_files(tmp_path, named(2, domain=["a.com", "b.cn"]), config, ["hubspot"])
    frame = read(files["hubspot"][0])
    assert frame.columns[:2].tolist() == ["Company name", "Company Domain Name"]
    assert frame["Company Domain Name"].tolist() == ["a.com", "b.cn"] and warnings == []
    files, warnings = write_crm_files(tmp_path, named(2), config, ["hubspot"])
    assert "Company Domain Name" not in read(files["hubspot"][0]).columns
    assert warnings == ["hubspot: the data has no domain or website column, so 'Company Domain Name' is left out "
                        "and each import creates new records instead of updating them"]  # fmt: skip


def test_some_names_missing_are_counted_and_skip_leaves_the_preset_out(tmp_path, config):
    table = named(3)
    table.loc[1, "customer_name"] = None
    files, warnings = write_crm_files(tmp_path, table, config, ["zoho"])
    assert read(files["zoho"][0])["Account Name"].tolist() == ["Firm 0", "00001", "Firm 2"]
    assert warnings == ["zoho: 1 customers have no name, so 'Account Name' (required) holds the customer id"]
    config = copy.deepcopy(config)
    config["crm"]["missing_name"] = "skip"
    files, warnings = write_crm_files(tmp_path / "b", table.drop(columns="customer_name"), config, ["zoho", "hubspot"])
    assert files == {"zoho": [], "hubspot": []}
    assert warnings[:2] == [
        "zoho: skipped: the data has no customer names for 'Account Name' (required)",
        "hubspot: skipped: the data has no customer names for 'Company name' (required)",
    ]
    assert not (tmp_path / "b" / "crm").exists()


def test_an_unknown_crm_or_policy_is_a_one_line_error(tmp_path, config):
    with pytest.raises(UserError, match="unknown CRM 'pipedrive': use one of zoho, salesforce, hubspot, fxiaoke"):
        write_crm_files(tmp_path, named(1), config, ["zoho", "pipedrive"])
    config = copy.deepcopy(config)
    config["crm"]["missing_name"] = "invent"
    with pytest.raises(UserError, match="crm.missing_name"):
        write_crm_files(tmp_path, named(1).drop(columns="customer_name"), config, ["zoho"])


def test_a_customer_without_a_purchase_date_gets_an_empty_field():
    dates = pd.Series(pd.to_datetime(["2020-01-31", None, "2020-01-31"]))
    assert crm._text(dates, "last_purchase", {"date_format": "%d/%m/%Y"}).tolist() == ["31/01/2020", "", "31/01/2020"]


HOSTILE = ["=1+1", "+SUM(1,2)", "-2+3", "@cmd", "\tTab", "Plain, Ltd"]


def test_csv_presets_guard_formula_starts_in_texts_and_leave_numbers_alone(tmp_path, config):
    frame = named(6, city=HOSTILE)
    frame["customer_name"] = HOSTILE
    frame["customer_id"] = ["=00007", "-5", "00003", "00004", "00005", "00006"]
    frame["monetary"] = [-12.5, 3.0, 0.0, 1.0, 2.0, 4.0]  # a negative amount is a number, not text
    files, _ = write_crm_files(tmp_path, frame, config, SYSTEMS)
    guarded = ["'=1+1", "'+SUM(1,2)", "'-2+3", "'@cmd", "'\tTab", "Plain, Ltd"]
    zoho = read(files["zoho"][0])
    assert zoho["Account Name"].tolist() == guarded and zoho["Billing City"].tolist() == guarded
    assert zoho["Account Number"].tolist()[:3] == ["'=00007", "'-5", "00003"]
    assert zoho["Total Spend"].tolist()[:2] == ["-12.50", "3.00"]
    assert read(files["salesforce"][0])["Account Name"].tolist() == guarded
    # the xlsx preset writes text cells, which are never formulas: the texts as they are
    assert read(files["fxiaoke"][0])["客户名称"].tolist() == HOSTILE
    with zipfile.ZipFile(files["fxiaoke"][0]) as book:
        assert not any(b"<f>" in book.read(n) for n in book.namelist() if n.startswith("xl/worksheets/"))


def test_the_formula_guard_can_be_turned_off(tmp_path, config):
    config = copy.deepcopy(config)
    config["export"]["csv_formula_guard"] = False
    frame = named(6, city=HOSTILE)
    frame["customer_name"] = HOSTILE
    files, _ = write_crm_files(tmp_path, frame, config, ["zoho"])
    assert read(files["zoho"][0])["Account Name"].tolist() == HOSTILE


def test_every_preset_keeps_the_day_the_tiers_were_assessed(tmp_path, config):
    files, _ = write_crm_files(tmp_path, named(2), config, SYSTEMS)
    expected = {"zoho": ("Assessed On", "06/30/1998"), "salesforce": ("Assessed On", "1998-06-30"),
                "hubspot": ("Assessed On", "1998-06-30"), "fxiaoke": ("评估日期", "1998-06-30")}  # fmt: skip
    for system, (header, day) in expected.items():
        assert read(files[system][0])[header].tolist() == [day, day], system


def test_a_csv_preset_without_an_encoding_stops_with_one_line(tmp_path, config):
    config = copy.deepcopy(config)
    config["crm"]["systems"]["zoho"]["encoding"] = None
    with pytest.raises(UserError, match=r"^setting 'crm.systems.zoho.encoding' is empty: a CSV preset takes utf-8-sig"):
        write_crm_files(tmp_path, named(2), config, ["zoho"])
