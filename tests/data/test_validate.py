"""Validation with quarantine: exact tiny cases for each reason, netting and reconciliation."""

import numpy as np
import pandas as pd
import pytest

from analysis.data.validate import flag_outliers, validate
from analysis.errors import UserError

MAP = {"customer_id": "cid", "timestamp": "date", "amount": "amount"}
MAP_LINES = {
    "customer_id": "cid",
    "order_id": "invoice",
    "timestamp": "date",
    "quantity": "qty",
    "unit_price": "price",
    "product_id": "sku",
}


def raw(rows, columns=("cid", "date", "amount")):
    return pd.DataFrame(rows, columns=list(columns), dtype=object)


def reasons(result) -> dict[int, str]:
    return dict(zip(result.quarantine["row"], result.quarantine["reason"], strict=True))


def test_each_simple_reason_and_the_kept_row(config):
    frame = raw(
        [
            ["a", "2024-01-05", "10.00"],  # 1 kept
            ["", "2024-01-05", "10.00"],  # 2 no customer
            ["b", "not a date", "10.00"],  # 3 bad date
            ["b", "2024-01-06", ""],  # 4 no amount
            ["b", "2024-01-06", "ten"],  # 5 bad amount
            ["a", "2024-01-05", "10.00"],  # 6 copy of row 1
            ["b", "2024-03-01", "5.00"],  # 7 after as-of
            ["b", "2024-01-07", "0"],  # 8 zero: kept, a purchase event without spend
        ]
    )
    result = validate(frame, MAP, config, as_of="2024-01-31")
    assert reasons(result) == {
        2: "missing_customer_id",
        3: "unparsable_date",
        4: "missing_amount",
        5: "unparsable_amount",
        6: "duplicate_row",
        7: "after_as_of",
    }
    tx = result.transactions
    assert tx[["customer_id", "amount"]].to_dict("records") == [
        {"customer_id": "a", "amount": 10.0},
        {"customer_id": "b", "amount": 0.0},
    ]
    assert tx["timestamp"].iloc[0] == pd.Timestamp("2024-01-05")
    assert tx["order_id"].iloc[0] == "a@2024-01-05T00:00:00"  # derived from customer + timestamp
    q = result.quality
    assert (q["rows_in"], q["rows_kept"], q["rows_quarantined"]) == (8, 2, 6)
    assert (q["zero_amount_kept"], q["has_amounts"]) == (1, True)
    assert q["amount_in"] == pytest.approx(45.0)
    assert q["amount_quarantined"]["after_as_of"] == pytest.approx(5.0)
    assert q["reconciled"] is True
    assert q["as_of"] == "2024-01-31"


def test_the_first_failing_rule_wins(config):
    frame = raw([["", "garbage", "x"], ["a", "2024-01-01", "1"]])
    assert reasons(validate(frame, MAP, config)) == {1: "missing_customer_id"}


def test_as_of_defaults_to_the_last_valid_purchase_day(config):
    frame = raw([["a", "2024-01-05 10:00", "1"], ["a", "2024-02-07 23:59", "2"]])
    result = validate(frame, MAP, config)
    assert result.quality["as_of"] == "2024-02-07"
    assert result.quality["rows_kept"] == 2  # a purchase late on the as-of day counts


def test_non_product_lines_by_code_and_description(config):
    frame = raw(
        [
            ["a", "2024-01-05", "3", "POST", "Postage"],
            ["a", "2024-01-05", "3", "X1", "Manual"],
            ["a", "2024-01-05", "3", "X2", "Red mug"],
        ],
        columns=("cid", "date", "amount", "sku", "desc"),
    )
    mapping = {**MAP, "product_id": "sku", "description": "desc"}
    result = validate(frame, mapping, config)
    assert reasons(result) == {1: "non_product", 2: "non_product"}
    assert result.transactions["product_id"].tolist() == ["X2"]


LINES = ("cid", "invoice", "date", "qty", "price", "sku")


def test_partial_return_reduces_the_latest_earlier_purchase(config):
    frame = raw(
        [
            ["a", "100", "2024-01-01", "3", "2.0", "S1"],  # 1 purchase 3 x 2 = 6
            ["a", "101", "2024-01-03", "2", "2.0", "S1"],  # 2 purchase 2 x 2 = 4 (most recent)
            ["a", "C102", "2024-01-04", "-1", "2.0", "S1"],  # 3 return 1 unit
        ],
        columns=LINES,
    )
    result = validate(frame, MAP_LINES, config)
    assert reasons(result) == {3: "return_netted"}
    assert result.transactions["amount"].tolist() == [6.0, 2.0]
    q = result.quality
    assert q["amount_netted"] == pytest.approx(2.0)
    assert q["amount_in"] == pytest.approx(
        q["amount_kept"] + sum(q["amount_quarantined"].values()) + q["amount_netted"]
    )
    assert q["reconciled"]


def test_full_refund_removes_the_purchase_and_the_customer(config):
    frame = raw(
        [
            ["a", "100", "2024-01-01", "2", "5.0", "S1"],
            ["a", "C101", "2024-01-02", "-2", "5.0", "S1"],
            ["b", "102", "2024-01-02", "1", "7.0", "S1"],
        ],
        columns=LINES,
    )
    result = validate(frame, MAP_LINES, config)
    assert reasons(result) == {1: "refunded_purchase", 2: "return_netted"}
    assert result.transactions["customer_id"].tolist() == ["b"]
    assert result.quality["customers"] == 1
    assert result.quality["amount_quarantined"] == {"refunded_purchase": 10.0, "return_netted": -10.0}


def test_return_spanning_two_purchases(config):
    frame = raw(
        [
            ["a", "1", "2024-01-01", "2", "1.0", "S1"],
            ["a", "2", "2024-01-02", "1", "1.0", "S1"],
            ["a", "C3", "2024-01-03", "-2", "1.0", "S1"],
        ],
        columns=LINES,
    )
    result = validate(frame, MAP_LINES, config)
    assert reasons(result) == {2: "refunded_purchase", 3: "return_netted"}
    assert result.transactions["amount"].tolist() == [1.0]


def test_unmatched_returns(config):
    frame = raw(
        [
            ["a", "C1", "2024-01-01", "-1", "3.0", "S1"],  # before any purchase
            ["a", "2", "2024-01-02", "1", "3.0", "S1"],
            ["a", "C3", "2024-01-03", "-5", "3.0", "S1"],  # more than was bought: nets nothing
            ["a", "C4", "2024-01-03", "-1", "3.0", "S9"],  # another product
        ],
        columns=LINES,
    )
    result = validate(frame, MAP_LINES, config)
    assert reasons(result) == {1: "unmatched_return", 3: "unmatched_return", 4: "unmatched_return"}
    assert result.transactions["amount"].tolist() == [3.0]


def test_returns_by_amount_and_order_without_product(config):
    frame = raw(
        [
            ["a", "O1", "2024-01-01", "50"],
            ["a", "O1", "2024-01-02", "-20"],
            ["b", "O2", "2024-01-03", "30"],
            [
                "b",
                "O2",
                "2024-01-04",
                "40",
            ],
        ],
        columns=("cid", "order", "date", "amount"),
    )
    frame.loc[3, "amount"] = "-30"
    mapping = {**MAP, "order_id": "order"}
    result = validate(frame, mapping, config)
    assert reasons(result) == {2: "return_netted", 3: "refunded_purchase", 4: "return_netted"}
    assert result.transactions["amount"].tolist() == [30.0]


STATUS_MAP = {**MAP, "order_id": "order", "status": "status"}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("交易成功", None),
        ("买家已付款，等待卖家发货", None),
        ("卖家已发货,等待买家确认", None),  # a half-width comma reads the same
        ("paid", None),
        ("Processing", None),
        ("partially_refunded", None),  # not "refunded": the refund column takes the refunded part off
        ("交易关闭", "cancelled_order"),
        ("付款以后用户退款成功，交易自动关闭", "cancelled_order"),
        ("已取消", "cancelled_order"),
        ("Refunded", "cancelled_order"),
        ("VOIDED", "cancelled_order"),
        ("cancelled", "cancelled_order"),
        ("等待买家付款", "unpaid_order"),
        ("unpaid", "unpaid_order"),  # not "paid": the longest phrase wins
        ("Pending", "unpaid_order"),
    ],
)
def test_order_status_vocabulary(config, status, expected):
    frame = raw(
        [["a", "O1", "2024-01-01", "50", "交易成功"], ["a", "O2", "2024-01-02", "30", status]],
        columns=("cid", "order", "date", "amount", "status"),
    )
    result = validate(frame, STATUS_MAP, config)
    assert reasons(result) == ({2: expected} if expected else {})
    if expected:
        assert result.quality["amount_quarantined"] == {expected: 30.0}
        assert result.transactions["amount"].tolist() == [50.0]  # never netted against order O1


def test_cancelled_and_unpaid_orders_are_not_netted_and_precede_date_checks(config):
    frame = raw(
        [
            ["a", "O1", "2024-01-01", "50", "交易成功"],
            ["a", "O1", "2024-01-03", "-50", "退款成功"],  # a refund row of the same order: cancelled, not netted
            ["b", "O3", "", "20", "等待买家付款"],  # never paid, so no payment time
            ["b", "C4", "2024-01-04", "20", "交易关闭"],  # a cancellation-style id with a closed status
            ["c", "O5", "2024-01-02", "-5", "交易成功"],  # a negative amount is still netted: nothing to net
        ],
        columns=("cid", "order", "date", "amount", "status"),
    )
    result = validate(frame, STATUS_MAP, config)
    assert reasons(result) == {2: "cancelled_order", 3: "unpaid_order", 4: "cancelled_order", 5: "unmatched_return"}
    assert result.transactions["customer_id"].tolist() == ["a"]
    assert result.quality["amount_quarantined"]["cancelled_order"] == pytest.approx(-30.0)
    assert result.quality["reconciled"]


def test_only_won_deals_are_purchases(config):
    frame = raw(
        [
            ["Acme", "2024-01-05", "1000", "Closed Won"],
            ["Acme", "2024-02-05", "500", "Closed Lost"],
            ["Beta", "2024-01-20", "800", "Qualification"],
            ["Gamma", "2024-01-21", "300", "closedwon"],  # HubSpot's internal stage name
            ["甲公司", "2024-01-22", "900", "赢单"],
            ["乙公司", "2024-01-23", "700", "输单"],
            ["Delta", "2024-01-24", "100", ""],
        ],
        columns=("cid", "date", "amount", "stage"),
    )
    result = validate(frame, {**MAP, "deal_stage": "stage"}, config)
    assert reasons(result) == {2: "not_won", 3: "not_won", 6: "not_won", 7: "not_won"}
    assert result.transactions["customer_id"].tolist() == ["Acme", "Gamma", "甲公司"]
    assert result.quality["amount_quarantined"] == {"not_won": 2100.0}


def test_refunded_orders_in_a_marketplace_export_make_no_customer_vanish(config):
    rng = np.random.default_rng(8)
    buyers = [f"buyer{i:02d}" for i in range(40)]
    rows = []
    for n, buyer in enumerate(rng.choice(buyers, 200)):
        status = rng.choice(["交易成功", "交易成功", "交易成功", "付款以后用户退款成功，交易自动关闭", "等待买家付款"])
        day = f"2024-{1 + n % 6:02d}-{1 + n % 27:02d}"
        rows.append([buyer, f"T{n:04d}", day, f"{rng.integers(10, 500)}.00", status])
    frame = raw(rows, columns=("cid", "order", "date", "amount", "status"))
    result = validate(frame, STATUS_MAP, config)
    bought = {r[0] for r in rows if r[4] == "交易成功"}
    assert set(result.transactions["customer_id"]) == bought
    refunded = sum(r[4].endswith("交易自动关闭") for r in rows)
    assert result.quality["quarantined"] == {
        "cancelled_order": refunded,
        "unpaid_order": sum(r[4] == "等待买家付款" for r in rows),
    }
    paid = sum(float(r[3]) for r in rows if r[4] == "交易成功")
    assert result.quality["amount_kept"] == pytest.approx(paid) and result.quality["reconciled"]


def test_refund_column_reduces_the_paid_amount_and_a_full_refund_leaves(config):
    frame = raw(
        [
            ["a", "2024-01-01", "100", "0"],
            ["a", "2024-01-02", "80", "30"],
            ["b", "2024-01-03", "60", "60"],
            ["b", "2024-01-04", "40", ""],
        ],
        columns=("cid", "date", "amount", "refund"),
    )
    result = validate(frame, {**MAP, "refund": "refund"}, config)
    assert reasons(result) == {3: "refunded_order"}
    assert result.transactions["amount"].tolist() == [100.0, 50.0, 40.0]
    q = result.quality
    assert (q["amount_in"], q["amount_refunded"], q["amount_quarantined"]) == (280.0, 30.0, {"refunded_order": 60.0})
    assert q["reconciled"]


def test_an_event_log_without_amounts(config):
    frame = raw(
        [["a", "2024-01-01"], ["a", "2024-01-09"], ["b", "2024-01-03"], ["", "2024-01-04"]], columns=("cid", "date")
    )
    result = validate(frame, {"customer_id": "cid", "timestamp": "date"}, config, as_of="2024-01-31")
    assert reasons(result) == {4: "missing_customer_id"}
    tx, q = result.transactions, result.quality
    assert tx["customer_id"].tolist() == ["a", "a", "b"] and tx["amount"].isna().all()
    assert (q["has_amounts"], q["amount_in"], q["amount_kept"], q["reconciled"]) == (False, 0.0, 0.0, True)
    assert q["outliers_flagged"] == q["zero_amount_kept"] == 0


def test_cancellation_ids_net_by_rows_without_amounts(config):
    frame = raw(
        [["a", "536379", "2024-01-01"], ["a", "C536379", "2024-01-02"], ["b", "1", "2024-01-02"]],
        columns=("cid", "invoice", "date"),
    )
    result = validate(frame, {"customer_id": "cid", "order_id": "invoice", "timestamp": "date"}, config)
    assert reasons(result) == {1: "refunded_purchase", 2: "return_netted"}
    assert result.quality["reconciled"] and result.quality["amount_netted"] == 0.0


def test_outliers_are_flagged_and_kept_unless_asked(config):
    rows = [[f"c{i}", "2024-01-01", str(10 + i % 3)] for i in range(30)] + [["z", "2024-01-01", "50000"]]
    result = validate(raw(rows), MAP, config)
    tx = result.transactions
    assert tx.loc[tx["outlier"], "customer_id"].tolist() == ["z"]
    assert result.quality["outliers_flagged"] == 1
    config["validation"]["drop_outliers"] = True
    dropped = validate(raw(rows), MAP, config)
    assert reasons(dropped) == {31: "outlier"}
    assert dropped.quality["reconciled"]


def test_flag_outliers_needs_spread_and_enough_lines():
    assert not flag_outliers(pd.Series([5.0] * 20 + [500.0]), 5.0).any()  # MAD zero
    assert not flag_outliers(pd.Series([1.0, 2.0, 1e6]), 5.0).any()  # too few lines


def test_amount_from_quantity_and_unit_price(config):
    frame = raw([["a", "1", "2024-01-01", "3", "£1.50", "S1"]], columns=LINES)
    result = validate(frame, MAP_LINES, config)
    assert result.transactions["amount"].tolist() == [4.5]
    assert result.transactions["quantity"].tolist() == [3.0]


@pytest.mark.parametrize(
    "frame, message",
    [
        (raw([]), "no data rows"),
        (raw([["", "2024-01-01", "1"], ["a", "bad", "1"]]), "no valid rows left"),
    ],
)
def test_unusable_input(config, frame, message):
    with pytest.raises(UserError, match=message):
        validate(frame, MAP, config)


def test_bad_as_of_is_a_clear_error(config):
    with pytest.raises(UserError, match="not a date"):
        validate(raw([["a", "2024-01-01", "1"]]), MAP, config, as_of="yesterday")


def test_no_row_is_lost_on_random_input(config):
    rng = np.random.default_rng(7)
    n = 400
    frame = raw(
        {
            "cid": rng.choice([*(f"c{i}" for i in range(60)), ""], n),
            "date": rng.choice(["2024-01-01", "2024-01-02", "2024-02-01", "junk"], n),
            "amount": rng.choice(["5", "-5", "0", "", "x", "12.5", "-12.5"], n),
        }
    )
    result = validate(frame, MAP, config, as_of="2024-01-15")
    q = result.quality
    assert q["rows_kept"] + sum(q["quarantined"].values()) == n
    assert len(result.quarantine) == q["rows_quarantined"]
    assert sorted(result.quarantine["row"]) == sorted(set(result.quarantine["row"]))
    assert q["reconciled"]


def test_zero_amount_is_kept_by_default_and_can_be_quarantined(config):
    frame = raw([["a", "2024-01-05", "10"], ["a", "2024-01-06", "0"]])
    result = validate(frame, MAP, config)
    assert result.quarantine.empty and result.quality["zero_amount_kept"] == 1
    assert result.transactions["amount"].tolist() == [10.0, 0.0]
    config["validation"]["zero_amount"] = "quarantine"
    assert reasons(validate(frame, MAP, config)) == {2: "zero_amount"}
    config["validation"]["zero_amount"] = "drop"
    with pytest.raises(UserError, match="use keep or quarantine"):
        validate(frame, MAP, config)


def test_ids_lose_every_white_space_python_strips_and_keep_the_inner_one(config):
    spaces = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
    ids = [f"{spaces}a{spaces}", "\u3000b\xa0", "\tc d ", spaces, "é", "e\u2003"]
    frame = raw([[cid, "2024-01-05", "10"] for cid in ids])
    result = validate(frame, MAP, config, as_of="2024-01-31")
    assert reasons(result) == {4: "missing_customer_id"}
    assert result.transactions["customer_id"].tolist() == ["a", "b", "c d", "é", "e"]


def test_only_exact_copies_are_duplicates_with_missing_values_equal(config):
    plain, gift = ["a", "2024-01-05", "10", None], ["a", "2024-01-05", "10", "gift"]
    rows = [plain, plain, gift, gift, plain, ["b", "2024-01-05", "10", None]]
    result = validate(raw(rows, columns=("cid", "date", "amount", "note")), MAP, config, as_of="2024-01-31")
    assert reasons(result) == {2: "duplicate_row", 4: "duplicate_row", 5: "duplicate_row"}


def test_monthly_revenue_and_customers_are_the_kept_purchases_per_month(config):
    frame = raw([["a", "2024-01-05", "10.10"], ["b", "2024-01-31 23:00", "5"], ["a", "2024-03-02", "7"],
                 ["a", "2024-03-09", "1"], ["c", "2024-03-09", "-1"], ["", "2024-02-01", "100"]])  # fmt: skip
    q = validate(frame, MAP, config, as_of="2024-03-31").quality
    assert q["monthly"] == [{"month": "2024-01", "revenue": 15.1, "customers": 2},
                            {"month": "2024-03", "revenue": 8.0, "customers": 1}]  # fmt: skip
    assert sum(m["revenue"] for m in q["monthly"]) == q["amount_kept"]
    log = raw([["a", "2024-01-01"], ["b", "2024-01-03"], ["a", "2024-02-09"]], columns=("cid", "date"))
    q = validate(log, {"customer_id": "cid", "timestamp": "date"}, config).quality
    assert q["monthly"] == [{"month": "2024-01", "revenue": None, "customers": 2},
                            {"month": "2024-02", "revenue": None, "customers": 1}]  # fmt: skip
