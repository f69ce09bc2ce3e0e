"""Loading: every supported format, encodings, role detection, and the real UCI extract end to end."""

import pandas as pd
import pytest

from analysis.config import load_config
from analysis.data.headers import find_roles
from analysis.data.load import read_customer_list, read_transactions
from analysis.data.pipeline import prepare
from analysis.errors import UserError
from tests.conftest import CDNOW_MASTER, UCI

ROWS = [["c1", "2024-01-05", "10.5"], ["c2", "2024-01-06", "20"]]


def write_csv(path, header, rows=ROWS, encoding="utf-8", sep=","):
    lines = [sep.join(header)] + [sep.join(r) for r in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return str(path)


@pytest.mark.parametrize(
    ("encoding", "reported"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("gbk", "gb18030"),
        ("gb18030", "gb18030"),
    ],
)
def test_encodings_are_detected(tmp_path, encoding, reported):
    rows = [["客户甲", "2024-01-05", "￥10.50"], ["客户乙", "2024-01-06", "￥20"]]
    path = write_csv(tmp_path / "sales.csv", ["客户编号", "下单时间", "实付金额"], rows, encoding=encoding)
    raw = read_transactions(path)
    assert raw.encoding == reported
    assert raw.mapping == {"customer_id": "客户编号", "timestamp": "下单时间", "amount": "实付金额"}
    assert raw.frame["客户编号"].tolist() == ["客户甲", "客户乙"]


def test_gbk_file_with_chinese_headers_runs_through_validation(tmp_path):
    rows = [
        ["会员01", "2024/01/05", "￥1200.00", "华东"],
        ["会员02", "2024/01/13", "88", "华南"],
        ["会员01", "2024/02/01", "300", "华东"],
    ]
    path = write_csv(tmp_path / "订单.csv", ["会员ID", "订单日期", "销售额", "地区"], rows, encoding="gbk")
    prepared = prepare(path, load_config(), "2024-02-29")
    assert prepared.quality["encoding"] == "gb18030" and prepared.quality["rows_kept"] == 3
    first = prepared.customers.set_index("customer_id").loc["会员01"]
    assert (first["orders"], first["total_spend"], first["region"]) == (2, 1500.0, "华东")


def test_forced_encoding_wins_and_a_wrong_one_is_a_clear_error(tmp_path):
    path = write_csv(tmp_path / "sales.csv", ["客户ID", "日期", "金额"], encoding="gbk")
    assert read_transactions(path, encoding="gbk").encoding == "gbk"
    with pytest.raises(UserError, match="is not valid utf-8"):
        read_transactions(path, encoding="utf-8")
    with pytest.raises(UserError, match="unknown encoding"):
        read_transactions(path, encoding="klingon")


def test_delimiters_are_sniffed(tmp_path):
    path = write_csv(tmp_path / "sales.csv", ["customer", "date", "amount"], sep=";")
    raw = read_transactions(path)
    assert raw.frame.shape == (2, 3) and raw.source_format == "csv (delimiter ';')"


def test_excel_sheets(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"notes": ["read me"]}).to_excel(writer, sheet_name="About", index=False)
        pd.DataFrame(ROWS, columns=["Customer ID", "Order Date", "Sales"]).to_excel(
            writer, sheet_name="Orders", index=False
        )
    raw = read_transactions(str(path), sheet="Orders")
    assert raw.mapping == {"customer_id": "Customer ID", "timestamp": "Order Date", "amount": "Sales"}
    assert read_transactions(str(path), sheet="1").frame.shape == (2, 3)  # a position given as text
    with pytest.raises(UserError, match="sheet 'Sales' is not in book.xlsx; its sheets are About, Orders"):
        read_transactions(str(path), sheet="Sales")
    with pytest.raises(UserError, match="no customer_id column"):
        read_transactions(str(path))  # the first sheet holds no transactions


def test_parquet_and_duckdb_tables(tmp_path):
    import duckdb

    frame = pd.DataFrame(ROWS, columns=["customer_id", "order_date", "amount"])
    frame.to_parquet(tmp_path / "sales.parquet")
    assert read_transactions(str(tmp_path / "sales.parquet")).frame.equals(frame)
    db = tmp_path / "shop.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table sales as select * from frame")
        con.execute("create table staff (name varchar)")
    raw = read_transactions(str(db), table="sales")
    assert raw.frame.to_dict("list") == frame.to_dict("list")
    assert raw.source_format == "duckdb table sales"
    with pytest.raises(UserError, match="name the table to read with --table; the database holds sales, staff"):
        read_transactions(str(db))
    with pytest.raises(UserError, match="table 'orders' not found"):
        read_transactions(str(db), table="orders")


def test_cdnow_master_and_sample_layouts(lifetimes_datasets):
    master = read_transactions(str(CDNOW_MASTER))
    assert master.source_format == "cdnow" and len(master.frame) == 69_659  # header line skipped
    assert master.mapping == {
        "order_id": "record",
        "customer_id": "customer_id",
        "timestamp": "date",
        "amount": "dollar_value",
        "quantity": "number_of_cds",
    }
    sample = read_transactions(str(lifetimes_datasets / "CDNOW_sample.txt"))
    assert len(sample.frame) == 6_919
    assert sample.frame.loc[0, ["customer_id", "sample_id", "date"]].tolist() == ["00004", "0001", "19970101"]


def test_cdnow_zero_dollar_records_are_kept_by_default_and_quarantined_on_request(config):
    records = pd.read_csv(CDNOW_MASTER, sep=r"\s+", skiprows=1, header=None)
    zero = int((records[3] == 0).sum())
    prepared = prepare(str(CDNOW_MASTER), config, "1998-06-30")
    q = prepared.quality
    assert q["quarantined"] == {} and q["zero_amount_kept"] == zero == 80
    assert q["customers"] == len(prepared.customers) == 23_570  # the published cohort size
    assert q["date_format"] == "%Y%m%d" and q["reconciled"] and q["has_amounts"]
    config["validation"]["zero_amount"] = "quarantine"
    quarantined = prepare(str(CDNOW_MASTER), config, "1998-06-30").quality
    assert quarantined["quarantined"] == {"zero_amount": zero} and quarantined["zero_amount_kept"] == 0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["CustomerID", "InvoiceNo", "InvoiceDate", "Quantity", "UnitPrice", "StockCode", "Description", "Country"],
            {
                "customer_id": "CustomerID",
                "order_id": "InvoiceNo",
                "timestamp": "InvoiceDate",
                "quantity": "Quantity",
                "unit_price": "UnitPrice",
                "product_id": "StockCode",
                "description": "Description",
                "country": "Country",
            },
        ),
        (
            ["客户ID", "订单号", "交易时间", "数量", "单价", "毛利", "客户名称", "行业", "客户类型", "规模", "城市"],
            {
                "customer_id": "客户ID",
                "order_id": "订单号",
                "timestamp": "交易时间",
                "quantity": "数量",
                "unit_price": "单价",
                "margin": "毛利",
                "customer_name": "客户名称",
                "industry": "行业",
                "customer_type": "客户类型",
                "size": "规模",
                "city": "城市",
            },
        ),
        (
            ["Customer_No", "Order Date", "Total Amount", "Status", "Region"],
            {
                "customer_id": "Customer_No",
                "timestamp": "Order Date",
                "amount": "Total Amount",
                "status": "Status",
                "region": "Region",
            },
        ),
    ],
)
def test_common_headers_are_recognised(headers, expected):
    assert find_roles(headers) == expected


def test_explicit_mapping_wins_and_is_checked():
    headers = ["buyer", "customer", "date", "amount"]
    assert find_roles(headers, {"customer_id": "buyer"})["customer_id"] == "buyer"
    with pytest.raises(
        UserError,
        match="column 'client' \\(given for customer_id\\) is not in the input; "
        "its headers are buyer, customer, date, amount",
    ):
        find_roles(headers, {"customer_id": "client"})


def test_a_missing_role_is_named_with_the_headers_seen(tmp_path):
    path = write_csv(tmp_path / "sales.csv", ["who", "date", "amount"])
    with pytest.raises(
        UserError,
        match="no customer_id column found among the headers who, date, amount: "
        "name it with --column customer_id=HEADER",
    ):
        read_transactions(path)
    path = write_csv(tmp_path / "sales2.csv", ["customer", "when", "amount"])
    with pytest.raises(UserError, match="no timestamp column found among the headers customer, when, amount"):
        read_transactions(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "input file not found"),
        ("empty.csv", b"", "is empty"),
        ("blank.csv", b"\n\n  \n", "is empty"),
        ("sales.json", b"{}", "unsupported input type .json"),
        ("old.xls", b"\xd0\xcf", "old .xls workbook"),
        ("broken.parquet", b"not parquet", "could not read"),
        ("broken.xlsx", b"not a zip", "could not open the workbook"),
    ],
)
def test_unusable_files_are_one_line_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UserError, match=message) as err:
        read_transactions(str(path))
    assert "\n" not in str(err.value)


def test_customer_list(tmp_path):
    path = write_csv(tmp_path / "crm.csv", ["客户编号", "客户名称", "行业"], [["c1", "甲公司", "制造"]])
    listed = read_customer_list(path)
    assert listed.mapping == {"customer_id": "客户编号", "customer_name": "客户名称", "industry": "行业"}
    with pytest.raises(UserError, match="no customer_id column found in the customer list"):
        read_customer_list(write_csv(tmp_path / "bad.csv", ["who"], [["x"]]))


def test_customer_list_ids_are_cleaned_like_transaction_ids(tmp_path, config):
    sales = write_csv(
        tmp_path / "sales.csv",
        ["CustomerID", "InvoiceDate", "Amount"],
        [["17850", "2011-01-05", "10"], ["13047", "2011-01-06", "20"]],
    )
    listed = tmp_path / "crm.parquet"  # ids stored as floats, as Parquet and Excel exports often do
    pd.DataFrame(
        {"CustomerID": [17850.0, 99999.0, None, 17850.0], "Country": [" United Kingdom ", "France", "Spain", "UK"]}
    ).to_parquet(listed)
    prepared = prepare(sales, config, "2011-01-31", customers_path=str(listed))
    table = prepared.customers.set_index("customer_id")
    assert list(table.index) == ["13047", "17850", "99999"]
    assert table.loc["17850", "orders"] == 1 and table.loc["17850", "country"] == "United Kingdom"
    assert table.loc["99999", "orders"] == 0
    cl = prepared.quality["customer_list"]
    assert (cl["customers_listed"], cl["never_bought"], cl["missing_customer_id"], cl["duplicate_customer_id"]) == (
        2,
        1,
        1,
        1,
    )


@pytest.mark.skipif(not UCI.exists(), reason="the shared UCI extract is not beside the project")
def test_uci_online_retail_counts_per_reason_and_reconciles(config):
    prepared = prepare(str(UCI), config)
    q = prepared.quality
    # the counts, derived here independently of the validation code
    raw = pd.read_parquet(UCI)
    amount = raw["Quantity"] * raw["UnitPrice"]
    no_customer = raw["CustomerID"].isna()
    copy = raw.duplicated() & ~no_customer
    left = ~no_customer & ~copy
    codes = {c.upper() for c in config["validation"]["non_product_codes"]}
    descriptions = {d.lower() for d in config["validation"]["non_product_descriptions"]}
    non_product = left & (
        raw["StockCode"].str.strip().str.upper().isin(codes)
        | raw["Description"].str.strip().str.lower().isin(descriptions)
    )
    zero = left & ~non_product & (amount == 0)  # free items: kept as purchase events
    returns = left & ~non_product & ((raw["Quantity"] < 0) | raw["InvoiceNo"].str.startswith("C"))
    got = q["quarantined"]
    assert q["rows_in"] == len(raw) == 240_007
    assert got["missing_customer_id"] == no_customer.sum() == 67_225
    assert got["duplicate_row"] == copy.sum()
    assert got["non_product"] == non_product.sum()
    consumed = prepared.quarantine.query("reason == 'refunded_purchase' and amount_parsed == 0")
    assert q["zero_amount_kept"] + len(consumed) == zero.sum() == 13  # kept unless a later return took them
    assert got["return_netted"] + got["unmatched_return"] == returns.sum()
    assert set(got) == {
        "missing_customer_id",
        "duplicate_row",
        "non_product",
        "return_netted",
        "unmatched_return",
        "refunded_purchase",
    }
    assert q["rows_kept"] + q["rows_quarantined"] == len(raw) and q["reconciled"]
    assert q["amount_in"] == pytest.approx(amount.sum(), abs=1e-6)
    kept_amount = q["amount_kept"] + sum(q["amount_quarantined"].values()) + q["amount_netted"]
    assert kept_amount == pytest.approx(q["amount_in"], abs=1e-6)
    assert q["date_format"] == "%m/%d/%y %H:%M"
    assert (q["date_min"][:10], q["date_max"][:10]) == ("2010-12-01", "2011-06-26")
    kept_ids = set(prepared.transactions["customer_id"])
    assert kept_ids <= set(raw["CustomerID"].dropna().astype(int).astype(str))  # ids read as 17850, not 17850.0
    assert q["customers"] == len(kept_ids) == len(prepared.customers)
    assert (prepared.transactions["amount"] >= 0).all() and q["has_amounts"]
