"""One test per real export layout: a few rows with the real headers (Chinese exports as GBK bytes),
loaded without --column; the columns taken, the others seen, and the status semantics."""

import pandas as pd
import pytest

from analysis.config import load_config
from analysis.data.load import read_transactions
from analysis.data.pipeline import prepare
from analysis.data.quality import summary_lines
from analysis.errors import UserError


def write_export(path, header, rows, encoding="utf-8"):
    """A CSV export as the system writes it: quoted fields, ``encoding`` bytes (GBK for Chinese)."""
    pd.DataFrame(rows, columns=header).to_csv(path, index=False, encoding=encoding)
    return str(path)


def reasons(prepared) -> dict[int, str]:
    return dict(zip(prepared.quarantine["row"], prepared.quarantine["reason"], strict=True))


# fmt: off
TAOBAO = ["订单编号", "买家会员名", "买家支付宝账号", "买家应付货款", "买家应付邮费", "总金额", "买家实际支付金额",
          "订单状态", "买家留言", "收货人姓名", "收货地址", "联系手机", "订单创建时间", "订单付款时间", "宝贝标题",
          "宝贝总数量", "店铺Id", "店铺名称", "订单关闭原因", "退款金额"]
TAOBAO_ROWS = [
    ["1001", "tb_alice", "a***@163.com", "120.00", "0.00", "120.00", "110.00", "交易成功", "", "王丽",
     "浙江省 杭州市 西湖区", "138****0001", "2024-03-01 10:00:00", "2024-03-01 10:05:00", "连衣裙", "1", "1", "某店",
     "", "0.00"],
    ["1002", "tb_alice", "a***@163.com", "80.00", "0.00", "80.00", "80.00", "付款以后用户退款成功，交易自动关闭", "",
     "王丽", "浙江省 杭州市 西湖区", "138****0001", "2024-03-05 09:00:00", "2024-03-05 09:01:00", "围巾", "1", "1",
     "某店", "退款", "80.00"],
    ["1003", "tb_bob", "b***@qq.com", "60.00", "0.00", "60.00", "60.00", "等待买家付款", "", "张伟",
     "广东省 深圳市 南山区", "139****0002", "2024-03-06 12:00:00", "", "帽子", "1", "1", "某店", "", "0.00"],
    ["1004", "tb_bob", "b***@qq.com", "200.00", "10.00", "210.00", "200.00", "交易成功", "", "张伟",
     "广东省 深圳市 南山区", "139****0002", "2024-03-07 08:00:00", "2024-03-07 08:30:00", "外套", "2", "1", "某店",
     "", "50.00"],
    ["1005", "tb_carol", "c***@126.com", "90.00", "0.00", "90.00", "90.00", "交易成功", "", "李娜",
     "北京 北京市 朝阳区", "137****0003", "2024-03-08 20:00:00", "2024-03-08 20:01:00", "手套", "1", "1", "某店",
     "", "90.00"],
    ["1006", "tb_dan", "d***@163.com", "45.00", "0.00", "45.00", "45.00", "卖家已发货，等待买家确认", "", "赵强",
     "上海 上海市 浦东新区", "136****0004", "2024-03-09 11:00:00", "2024-03-09 11:02:00", "袜子", "3", "1", "某店",
     "", "0.00"],
]
# fmt: on


def test_taobao_tmall_seller_centre_export(tmp_path):
    path = write_export(tmp_path / "ExportOrderList.csv", TAOBAO, TAOBAO_ROWS, encoding="gbk")
    raw = read_transactions(path)
    assert raw.encoding == "gb18030"
    assert raw.mapping == {
        "customer_id": "买家会员名",
        "order_id": "订单编号",
        "timestamp": "订单付款时间",  # payment time over creation time
        "amount": "买家实际支付金额",  # the paid amount over the list total
        "refund": "退款金额",
        "quantity": "宝贝总数量",
        "description": "宝贝标题",
        "status": "订单状态",
        "customer_name": "收货人姓名",
    }
    assert raw.also_seen == {"timestamp": ["订单创建时间"], "amount": ["总金额"]}
    prepared = prepare(path, load_config(), "2024-03-31")
    # refunded order 1002 leaves on its own; the unpaid order (no payment time) is unpaid, not undated;
    # 1005 was refunded in full although its status says success
    assert reasons(prepared) == {2: "cancelled_order", 3: "unpaid_order", 5: "refunded_order"}
    tx = prepared.transactions
    assert tx[["order_id", "amount"]].values.tolist() == [["1001", 110.0], ["1004", 150.0], ["1006", 45.0]]
    assert set(prepared.customers["customer_id"]) == {"tb_alice", "tb_bob", "tb_dan"}
    q = prepared.quality
    assert q["amount_refunded"] == 50.0 and q["reconciled"]
    assert q["amount_quarantined"] == {"cancelled_order": 80.0, "unpaid_order": 60.0, "refunded_order": 90.0}
    lines = "\n".join(summary_lines(q))
    assert "timestamp: took '订单付款时间', also seen '订单创建时间'" in lines
    assert "amount: took '买家实际支付金额', also seen '总金额'" in lines


def test_explicit_mapping_wins_over_the_preference(tmp_path):
    path = write_export(tmp_path / "orders.csv", TAOBAO, TAOBAO_ROWS, encoding="gbk")
    raw = read_transactions(path, columns={"timestamp": "订单创建时间", "amount": "总金额"})
    assert (raw.mapping["timestamp"], raw.mapping["amount"]) == ("订单创建时间", "总金额")
    assert raw.also_seen == {"timestamp": ["订单付款时间"], "amount": ["买家实际支付金额"]}


def test_taobao_export_from_an_order_tool_with_short_headers(tmp_path):
    header = ["订单编号", "买家昵称", "付款日期", "付款时间", "实付金额", "购买数量", "订单状态", "省份", "城市"]
    rows = [
        ["T1", "小明", "2024-04-01", "2024-04-01 10:00", "99.5", "1", "交易成功", "江苏", "南京"],
        ["T2", "小红", "2024-04-02", "2024-04-02 11:00", "20", "2", "交易关闭", "四川", "成都"],
    ]
    raw = read_transactions(write_export(tmp_path / "orders.csv", header, rows, encoding="gbk"))
    assert raw.mapping == {
        "customer_id": "买家昵称",
        "order_id": "订单编号",
        "timestamp": "付款时间",
        "amount": "实付金额",
        "quantity": "购买数量",
        "status": "订单状态",
        "region": "省份",
        "city": "城市",
    }
    assert raw.also_seen == {"timestamp": ["付款日期"]}


def test_jd_order_export(tmp_path):
    # fmt: off
    header = ["订单号", "商品ID", "商品名称", "订购数量", "支付方式", "下单时间", "京东价", "订单金额", "结算金额",
              "应付金额", "订单状态", "订单类型", "下单帐号", "客户姓名", "客户地址", "客户手机号", "付款确认时间"]
    rows = [
        ["J1", "100012", "电饭煲", "1", "在线支付", "2024-05-01 09:00:00", "299.00", "299.00", "289.00", "279.00",
         "完成", "SOP", "jd_user1", "刘*", "北京市海淀区", "138****5678", "2024-05-01 09:01:00"],
        ["J2", "100013", "水壶", "1", "在线支付", "2024-05-02 09:00:00", "99.00", "99.00", "99.00", "99.00",
         "等待付款", "SOP", "jd_user2", "陈*", "天津市和平区", "139****1234", ""],
        ["J3", "100014", "台灯", "2", "在线支付", "2024-05-03 09:00:00", "50.00", "100.00", "100.00", "100.00",
         "(删除)已取消", "SOP", "jd_user1", "刘*", "北京市海淀区", "138****5678", "2024-05-03 09:05:00"],
    ]
    # fmt: on
    path = write_export(tmp_path / "jd.csv", header, rows, encoding="gbk")
    raw = read_transactions(path)
    assert {r: raw.mapping[r] for r in ("customer_id", "order_id", "timestamp", "amount", "quantity")} == {
        "customer_id": "下单帐号",
        "order_id": "订单号",
        "timestamp": "付款确认时间",
        "amount": "应付金额",
        "quantity": "订购数量",
    }
    assert raw.also_seen["timestamp"] == ["下单时间"] and raw.also_seen["amount"] == ["订单金额"]
    assert raw.also_seen["customer_id"] == ["客户手机号"]  # masked phone numbers: an id of last resort
    prepared = prepare(path, load_config(), "2024-05-31")
    assert reasons(prepared) == {2: "unpaid_order", 3: "cancelled_order"}
    assert prepared.transactions["amount"].tolist() == [279.0]


def test_youzan_order_export(tmp_path):
    # fmt: off
    header = ["订单号", "订单状态", "下单时间", "买家付款时间", "商品金额合计", "订单实付金额", "会员卡号",
              "客户手机号", "粉丝昵称", "收货人", "收货人省份", "收货人城市", "退款金额"]
    rows = [
        ["E1", "已完成", "2024-06-01 10:00", "2024-06-01 10:01", "128.00", "118.00", "VIP0001", "135****0001",
         "阿花", "王花", "湖北省", "武汉市", "0.00"],
        ["E2", "待付款", "2024-06-02 10:00", "", "66.00", "66.00", "VIP0002", "135****0002", "阿草", "李草",
         "湖南省", "长沙市", "0.00"],
        ["E3", "已关闭", "2024-06-03 10:00", "2024-06-03 10:02", "88.00", "88.00", "VIP0001", "135****0001",
         "阿花", "王花", "湖北省", "武汉市", "88.00"],
    ]
    # fmt: on
    path = write_export(tmp_path / "youzan.csv", header, rows, encoding="gbk")
    raw = read_transactions(path)
    assert {r: raw.mapping[r] for r in ("customer_id", "timestamp", "amount", "refund", "region", "city")} == {
        "customer_id": "会员卡号",
        "timestamp": "买家付款时间",
        "amount": "订单实付金额",
        "refund": "退款金额",
        "region": "收货人省份",
        "city": "收货人城市",
    }
    assert raw.also_seen == {
        "customer_id": ["客户手机号", "粉丝昵称"],
        "timestamp": ["下单时间"],
        "amount": ["商品金额合计"],
    }
    prepared = prepare(path, load_config(), "2024-06-30")
    assert reasons(prepared) == {2: "unpaid_order", 3: "cancelled_order"}
    assert prepared.customers["customer_id"].tolist() == ["VIP0001"]


def test_generic_chinese_erp_pos_export(tmp_path):
    header = ["小票号", "销售日期", "顾客编号", "商品编码", "商品名称", "销售数量", "单价", "销售金额", "门店"]
    rows = [
        ["P0001", "2024/07/01", "C001", "6901", "矿泉水", "2", "2.50", "5.00", "一店"],
        ["P0002", "2024/07/02", "C002", "6902", "面包", "1", "8.00", "8.00", "二店"],
        ["P0003", "2024/07/02", "C001", "6903", "赠品袋", "1", "0.00", "0.00", "一店"],
    ]
    path = write_export(tmp_path / "pos.csv", header, rows, encoding="gbk")
    assert read_transactions(path).mapping == {
        "customer_id": "顾客编号",
        "order_id": "小票号",
        "timestamp": "销售日期",
        "amount": "销售金额",
        "quantity": "销售数量",
        "unit_price": "单价",
        "product_id": "商品编码",
        "description": "商品名称",
    }
    prepared = prepare(path, load_config(), "2024-07-31")
    assert prepared.quality["zero_amount_kept"] == 1 and prepared.quarantine.empty  # the free bag is a purchase
    assert prepared.customers.set_index("customer_id")["orders"].to_dict() == {"C001": 2, "C002": 1}


def test_shopify_orders_export(tmp_path):
    # fmt: off
    header = ["Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at", "Currency",
              "Subtotal", "Shipping", "Taxes", "Total", "Discount Code", "Created at", "Lineitem quantity",
              "Lineitem name", "Lineitem price", "Lineitem sku", "Billing Name", "Billing City", "Billing Province",
              "Billing Country", "Cancelled at", "Refunded Amount", "Id", "Phone"]
    rows = [
        ["#1001", "ann@example.com", "paid", "2024-02-01 10:00:00 +0100", "fulfilled", "", "EUR", "40.00", "5.00",
         "0.00", "45.00", "", "2024-02-01 09:58:00 +0100", "1", "Mug", "40.00", "MUG-1", "Ann Lee", "Berlin", "BE",
         "DE", "", "0.00", "5001", ""],
        # a second line item of #1001: order-level fields stand on the first line only
        ["#1001", "ann@example.com", "", "", "", "", "", "", "", "", "", "", "", "2", "Spoon", "3.00", "SPN-1", "",
         "", "", "", "", "", "", ""],
        ["#1002", "ann@example.com", "partially_refunded", "2024-02-03 10:00:00 +0100", "fulfilled", "", "EUR",
         "60.00", "0.00", "0.00", "60.00", "", "2024-02-03 09:00:00 +0100", "2", "Cup", "30.00", "CUP-1", "Ann Lee",
         "Berlin", "BE", "DE", "", "30.00", "5002", ""],
        ["#1003", "bo@example.com", "refunded", "2024-02-04 10:00:00 +0100", "", "", "EUR", "25.00", "0.00",
         "0.00", "25.00", "", "2024-02-04 09:00:00 +0100", "1", "Tea", "25.00", "TEA-1", "Bo Chan", "Paris", "",
         "FR", "", "25.00", "5003", ""],
        ["#1004", "cy@example.com", "pending", "", "", "", "EUR", "15.00", "0.00", "0.00", "15.00", "",
         "2024-02-05 09:00:00 +0100", "1", "Tea", "15.00", "TEA-1", "Cy Diaz", "Madrid", "", "ES", "", "0.00",
         "5004", ""],
        ["#1005", "bo@example.com", "voided", "", "", "", "EUR", "10.00", "0.00", "0.00", "10.00", "",
         "2024-02-06 09:00:00 +0100", "1", "Tea", "10.00", "TEA-1", "Bo Chan", "Paris", "", "FR",
         "2024-02-06 10:00:00 +0100", "0.00", "5005", ""],
    ]
    # fmt: on
    path = write_export(tmp_path / "orders_export.csv", header, rows)
    raw = read_transactions(path)
    assert raw.mapping == {
        "customer_id": "Email",
        "order_id": "Name",  # the order number, as Shopify's export has a Financial Status
        "timestamp": "Paid at",
        "amount": "Total",
        "refund": "Refunded Amount",
        "quantity": "Lineitem quantity",
        "product_id": "Lineitem sku",
        "description": "Lineitem name",
        "status": "Financial Status",
        "customer_name": "Billing Name",
        "country": "Billing Country",
        "region": "Billing Province",
        "city": "Billing City",
    }
    assert raw.also_seen == {
        "customer_id": ["Id"],
        "timestamp": ["Created at"],
        "amount": ["Subtotal"],
    }
    prepared = prepare(path, load_config(), "2024-02-29")
    assert reasons(prepared) == {2: "order_line", 4: "cancelled_order", 5: "unpaid_order", 6: "cancelled_order"}
    assert prepared.transactions["amount"].tolist() == [45.0, 30.0]  # #1002 less its partial refund
    assert prepared.transactions["timestamp"].tolist() == [
        pd.Timestamp("2024-02-01 09:00"),
        pd.Timestamp("2024-02-03 09:00"),
    ]  # in UTC


def test_woocommerce_order_export(tmp_path):
    header = [
        "Order Number",
        "Order Status",
        "Order Date",
        "Paid Date",
        "Billing First Name",
        "Billing Last Name",
        "Billing Email Address",
        "Billing Country",
        "Order Subtotal Amount",
        "Order Total Amount",
        "Order Refund Amount",
    ]
    rows = [
        [
            "301",
            "Completed",
            "2024-08-01 10:00",
            "2024-08-01 10:02",
            "Ann",
            "Lee",
            "ann@example.com",
            "GB",
            "50",
            "55",
            "0",
        ],
        [
            "302",
            "Processing",
            "2024-08-02 10:00",
            "2024-08-02 10:01",
            "Bo",
            "Chan",
            "bo@example.com",
            "GB",
            "20",
            "20",
            "0",
        ],
        ["303", "Cancelled", "2024-08-03 10:00", "", "Ann", "Lee", "ann@example.com", "GB", "30", "30", "0"],
        ["304", "Pending payment", "2024-08-04 10:00", "", "Cy", "Diaz", "cy@example.com", "ES", "12", "12", "0"],
        [
            "305",
            "Refunded",
            "2024-08-05 10:00",
            "2024-08-05 10:01",
            "Bo",
            "Chan",
            "bo@example.com",
            "GB",
            "40",
            "40",
            "40",
        ],
        ["306", "Failed", "2024-08-06 10:00", "", "Di", "Ng", "di@example.com", "SG", "9", "9", "0"],
    ]
    path = write_export(tmp_path / "woo.csv", header, rows)
    raw = read_transactions(path)
    assert raw.mapping == {
        "customer_id": "Billing Email Address",
        "order_id": "Order Number",
        "timestamp": "Paid Date",
        "amount": "Order Total Amount",
        "refund": "Order Refund Amount",
        "status": "Order Status",
        "country": "Billing Country",
    }
    assert raw.also_seen == {"timestamp": ["Order Date"]}
    prepared = prepare(path, load_config(), "2024-08-31")
    assert reasons(prepared) == {3: "cancelled_order", 4: "unpaid_order", 5: "cancelled_order", 6: "unpaid_order"}
    assert prepared.transactions["order_id"].tolist() == ["301", "302"]


@pytest.mark.parametrize(
    ("header", "rows", "expected"),
    [
        (  # Salesforce opportunity report
            ["Opportunity Name", "Account Name", "Amount", "Close Date", "Stage", "Probability (%)", "Created Date"],
            [
                ["Renewal", "Acme Corp", "12000", "3/15/2024", "Closed Won", "100", "1/10/2024"],
                ["Upsell", "Acme Corp", "5000", "4/20/2024", "Negotiation/Review", "80", "2/01/2024"],
                ["New", "Globex", "8000", "4/25/2024", "Closed Lost", "0", "2/11/2024"],
            ],
            {"customer_id": "Account Name", "timestamp": "Close Date", "amount": "Amount", "deal_stage": "Stage"},
        ),
        (  # Zoho CRM deals
            ["Deal Name", "Account Name", "Amount", "Closing Date", "Stage", "Contact Name", "Deal Owner"],
            [
                ["Renewal", "Acme Corp", "12000", "2024-03-15", "Closed Won", "Wile E.", "Sam"],
                ["Upsell", "Acme Corp", "5000", "2024-04-20", "Proposal/Price Quote", "Wile E.", "Sam"],
                ["New", "Globex", "8000", "2024-04-25", "Closed Lost", "Hank S.", "Sam"],
            ],
            {
                "customer_id": "Account Name",
                "timestamp": "Closing Date",
                "amount": "Amount",
                "deal_stage": "Stage",
                "customer_name": "Contact Name",
            },
        ),
        (  # HubSpot deals
            ["Record ID", "Deal Name", "Deal Stage", "Close Date", "Amount", "Associated Company", "Create Date"],
            [
                ["9001", "Renewal", "Closed Won", "2024-03-15", "12000", "Acme Corp", "2024-01-10"],
                ["9002", "Upsell", "Contract Sent", "2024-04-20", "5000", "Acme Corp", "2024-02-01"],
                ["9003", "New", "Closed Lost", "2024-04-25", "8000", "Globex", "2024-02-11"],
            ],
            {
                "customer_id": "Associated Company",
                "order_id": "Record ID",
                "timestamp": "Close Date",
                "amount": "Amount",
                "deal_stage": "Deal Stage",
            },
        ),
    ],
    ids=["salesforce", "zoho", "hubspot"],
)
def test_crm_deal_exports(tmp_path, header, rows, expected):
    path = write_export(tmp_path / "deals.csv", header, rows)
    raw = read_transactions(path)
    assert raw.mapping == expected
    prepared = prepare(path, load_config(), "2024-06-30")
    assert reasons(prepared) == {2: "not_won", 3: "not_won"}
    assert prepared.transactions[["customer_id", "amount"]].values.tolist() == [["Acme Corp", 12000.0]]


def test_crm_deal_export_in_chinese(tmp_path):
    header = ["商机名称", "客户名称", "客户编号", "销售阶段", "金额", "结单日期", "创建时间"]
    rows = [
        ["续约", "甲公司", "K01", "赢单", "50000", "2024-03-01", "2024-01-01"],
        ["扩容", "甲公司", "K01", "方案报价", "20000", "2024-04-01", "2024-02-01"],
        ["新签", "乙公司", "K02", "输单", "30000", "2024-04-02", "2024-02-02"],
    ]
    path = write_export(tmp_path / "商机.csv", header, rows, encoding="gbk")
    raw = read_transactions(path)
    assert {r: raw.mapping[r] for r in ("customer_id", "timestamp", "deal_stage", "customer_name")} == {
        "customer_id": "客户编号",
        "timestamp": "结单日期",
        "deal_stage": "销售阶段",
        "customer_name": "客户名称",
    }
    assert raw.also_seen == {"timestamp": ["创建时间"]}
    assert reasons(prepare(path, load_config(), "2024-06-30")) == {2: "not_won", 3: "not_won"}


@pytest.mark.parametrize(
    ("header", "rows", "expected"),
    [
        (  # CLVTools' apparelTrans and cdnow data sets
            ["Id", "Date", "Price"],
            [["1", "2005-01-03", "26.95"], ["1", "2005-02-10", "12.00"], ["2", "2005-01-04", "9.99"]],
            {"customer_id": "Id", "timestamp": "Date", "amount": "Price"},
        ),
        (  # BTYD event logs (cdnowElog)
            ["cust", "date", "sales"],
            [["1", "19970101", "29.33"], ["1", "19970118", "29.73"], ["2", "19970102", "14.96"]],
            {"customer_id": "cust", "timestamp": "date", "amount": "sales"},
        ),
        (  # retail panel data (Dunnhumby The Complete Journey)
            [
                "household_id",
                "store_id",
                "basket_id",
                "product_id",
                "quantity",
                "sales_value",
                "retail_disc",
                "coupon_disc",
                "coupon_match_disc",
                "week",
                "transaction_timestamp",
            ],
            [
                ["900", "330", "31198570044", "1095275", "1", "0.5", "0", "0", "0", "1", "2017-01-01 11:53:26"],
                ["900", "330", "31198570047", "9878513", "1", "0.99", "0.1", "0", "0", "1", "2017-01-01 12:10:28"],
                ["1228", "406", "31198655051", "1041453", "1", "1.43", "0.15", "0", "0", "1", "2017-01-01 12:26:30"],
            ],
            {
                "customer_id": "household_id",
                "order_id": "basket_id",
                "timestamp": "transaction_timestamp",
                "amount": "sales_value",
                "quantity": "quantity",
                "product_id": "product_id",
            },
        ),
    ],
    ids=["clvtools", "btyd", "retail-panel"],
)
def test_research_layouts(tmp_path, header, rows, expected):
    path = write_export(tmp_path / "data.csv", header, rows)
    raw = read_transactions(path)
    assert raw.mapping == expected
    prepared = prepare(path, load_config())
    assert prepared.quality["rows_kept"] == 3 and prepared.quality["has_amounts"]
    assert prepared.transactions["amount"].sum() == pytest.approx(
        sum(float(r[header.index(expected["amount"])]) for r in rows)
    )


def test_headers_table_can_be_extended_in_the_config(tmp_path, config):
    path = write_export(
        tmp_path / "kunden.csv", ["Kundennummer", "Datum", "Umsatz", "Stage"], [["K1", "2024-01-02", "5", "x"]]
    )
    config["data"]["headers"]["customer_id"] = ["Kundennummer"]
    config["data"]["headers"]["amount"] = ["Umsatz"]
    config["data"]["headers"]["timestamp"] = ["Datum"]
    config["data"]["headers"]["deal_stage"] = []  # this Stage column is not a deal stage
    prepared = prepare(path, config)
    assert prepared.quality["mapping"] == {"customer_id": "Kundennummer", "timestamp": "Datum", "amount": "Umsatz"}
    assert prepared.quality["rows_kept"] == 1
    config["data"]["headers"]["deal_stage"] = ["Stage"]
    with pytest.raises(UserError, match="not_won 1.*set data.headers.deal_stage to"):
        prepare(path, config)


def test_a_header_tied_to_its_system_counts_only_beside_its_companions():
    from analysis.data.headers import find_roles

    elsewhere = find_roles(["Customer ID", "Name", "Date", "Amount"])
    assert elsewhere["customer_name"] == "Name" and "order_id" not in elsewhere
    assert find_roles(["Email", "Name", "Financial Status", "Paid at", "Total"])["order_id"] == "Name"
