"""Validation with quarantine: exact tiny cases for each reason, netting and reconciliation."""

import numpy as np
import pandas as pd
import pytest

from analysis.data.validate import flag_outliers, validate
from analysis.errors import UserError

MAP = {"customer_id": "cid", "timestamp": "date", "amount": "amount"}
MAP_LINES = {"customer_id": "cid", "order_id": "invoice", "timestamp": "date", "quantity": "qty",
             "unit_price": "price", "product_id": "sku"}


def raw(rows, columns=("cid", "date", "amount")):
    return pd.DataFrame(rows, columns=list(columns), dtype=object)


def reasons(result) -> dict[int, str]:
    return dict(zip(result.quarantine["row"], result.quarantine["reason"], strict=True))


def test_each_simple_reason_and_the_kept_row(config):
    frame = raw([
        ["a", "2024-01-05", "10.00"],   # 1 kept
        ["", "2024-01-05", "10.00"],    # 2 no customer
        ["b", "not a date", "10.00"],   # 3 bad date
        ["b", "2024-01-06", ""],        # 4 no amount
        ["b", "2024-01-06", "ten"],     # 5 bad amount
        ["a", "2024-01-05", "10.00"],   # 6 copy of row 1
        ["b", "2024-03-01", "5.00"],    # 7 after as-of
        ["b", "2024-01-07", "0"],       # 8 zero
    ])
    result = validate(frame, MAP, config, as_of="2024-01-31")
    assert reasons(result) == {2: "missing_customer_id", 3: "unparsable_date", 4: "missing_amount",
                               5: "unparsable_amount", 6: "duplicate_row", 7: "after_as_of",
                               8: "zero_amount"}
    tx = result.transactions
    assert tx[["customer_id", "amount"]].to_dict("records") == [{"customer_id": "a", "amount": 10.0}]
    assert tx["timestamp"].iloc[0] == pd.Timestamp("2024-01-05")
    assert tx["order_id"].iloc[0] == "a@2024-01-05T00:00:00"  # derived from customer + timestamp
    q = result.quality
    assert (q["rows_in"], q["rows_kept"], q["rows_quarantined"]) == (8, 1, 7)
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
    frame = raw([["a", "2024-01-05", "3", "POST", "Postage"],
                 ["a", "2024-01-05", "3", "X1", "Manual"],
                 ["a", "2024-01-05", "3", "X2", "Red mug"]],
                columns=("cid", "date", "amount", "sku", "desc"))
    mapping = {**MAP, "product_id": "sku", "description": "desc"}
    result = validate(frame, mapping, config)
    assert reasons(result) == {1: "non_product", 2: "non_product"}
    assert result.transactions["product_id"].tolist() == ["X2"]


LINES = ("cid", "invoice", "date", "qty", "price", "sku")


def test_partial_return_reduces_the_latest_earlier_purchase(config):
    frame = raw([
        ["a", "100", "2024-01-01", "3", "2.0", "S1"],   # 1 purchase 3 x 2 = 6
        ["a", "101", "2024-01-03", "2", "2.0", "S1"],   # 2 purchase 2 x 2 = 4 (most recent)
        ["a", "C102", "2024-01-04", "-1", "2.0", "S1"],  # 3 return 1 unit
    ], columns=LINES)
    result = validate(frame, MAP_LINES, config)
    assert reasons(result) == {3: "return_netted"}
    assert result.transactions["amount"].tolist() == [6.0, 2.0]
    q = result.quality
    assert q["amount_netted"] == pytest.approx(2.0)
    assert q["amount_in"] == pytest.approx(q["amount_kept"] + sum(q["amount_quarantined"].values())
                                           + q["amount_netted"])
    assert q["reconciled"]


def test_full_refund_removes_the_purchase_and_the_customer(config):
    frame = raw([
        ["a", "100", "2024-01-01", "2", "5.0", "S1"],
        ["a", "C101", "2024-01-02", "-2", "5.0", "S1"],
        ["b", "102", "2024-01-02", "1", "7.0", "S1"],
    ], columns=LINES)
    result = validate(frame, MAP_LINES, config)
    assert reasons(result) == {1: "refunded_purchase", 2: "return_netted"}
    assert result.transactions["customer_id"].tolist() == ["b"]
    assert result.quality["customers"] == 1
    assert result.quality["amount_quarantined"] == {"refunded_purchase": 10.0, "return_netted": -10.0}


def test_return_spanning_two_purchases(config):
    frame = raw([
        ["a", "1", "2024-01-01", "2", "1.0", "S1"],
        ["a", "2", "2024-01-02", "1", "1.0", "S1"],
        ["a", "C3", "2024-01-03", "-2", "1.0", "S1"],
    ], columns=LINES)
    result = validate(frame, MAP_LINES, config)
    assert reasons(result) == {2: "refunded_purchase", 3: "return_netted"}
    assert result.transactions["amount"].tolist() == [1.0]


def test_unmatched_returns(config):
    frame = raw([
        ["a", "C1", "2024-01-01", "-1", "3.0", "S1"],  # before any purchase
        ["a", "2", "2024-01-02", "1", "3.0", "S1"],
        ["a", "C3", "2024-01-03", "-5", "3.0", "S1"],  # more than was bought: nets nothing
        ["a", "C4", "2024-01-03", "-1", "3.0", "S9"],  # another product
    ], columns=LINES)
    result = validate(frame, MAP_LINES, config)
    assert reasons(result) == {1: "unmatched_return", 3: "unmatched_return", 4: "unmatched_return"}
    assert result.transactions["amount"].tolist() == [3.0]


def test_returns_by_amount_and_order_without_product(config):
    frame = raw([["a", "O1", "2024-01-01", "50"], ["a", "O1", "2024-01-02", "-20"],
                 ["b", "O2", "2024-01-03", "30"], ["b", "O2", "2024-01-04", "40", ]],
                columns=("cid", "order", "date", "amount"))
    frame.loc[3, "amount"] = "-30"
    mapping = {**MAP, "order_id": "order"}
    result = validate(frame, mapping, config)
    assert reasons(result) == {2: "return_netted", 3: "refunded_purchase", 4: "return_netted"}
    assert result.transactions["amount"].tolist() == [30.0]


def test_status_column_marks_refunds(config):
    frame = raw([["a", "2024-01-01", "50", "已完成"], ["a", "2024-01-02", "50", "退款"],
                 ["b", "2024-01-02", "20", "已完成"]], columns=("cid", "date", "amount", "status"))
    result = validate(frame, {**MAP, "status": "status"}, config)
    # a refund row with a positive amount still nets (units are absolute amounts)
    assert reasons(result) == {1: "refunded_purchase", 2: "return_netted"}
    with pytest.raises(UserError, match="no valid rows left"):
        validate(frame.iloc[[1]], {**MAP, "status": "status"}, config)


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


@pytest.mark.parametrize("frame, message", [
    (raw([]), "no data rows"),
    (raw([["", "2024-01-01", "1"], ["a", "bad", "1"]]), "no valid rows left"),
])
def test_unusable_input(config, frame, message):
    with pytest.raises(UserError, match=message):
        validate(frame, MAP, config)


def test_bad_as_of_is_a_clear_error(config):
    with pytest.raises(UserError, match="not a date"):
        validate(raw([["a", "2024-01-01", "1"]]), MAP, config, as_of="yesterday")


def test_no_row_is_lost_on_random_input(config):
    rng = np.random.default_rng(7)
    n = 400
    frame = raw({
        "cid": rng.choice([*(f"c{i}" for i in range(60)), ""], n),
        "date": rng.choice(["2024-01-01", "2024-01-02", "2024-02-01", "junk"], n),
        "amount": rng.choice(["5", "-5", "0", "", "x", "12.5", "-12.5"], n),
    })
    result = validate(frame, MAP, config, as_of="2024-01-15")
    q = result.quality
    assert q["rows_kept"] + sum(q["quarantined"].values()) == n
    assert len(result.quarantine) == q["rows_quarantined"]
    assert sorted(result.quarantine["row"]) == sorted(set(result.quarantine["row"]))
    assert q["reconciled"]


def test_zero_amount_can_be_kept_as_a_purchase_event(config):
    frame = raw([["a", "2024-01-05", "10"], ["a", "2024-01-06", "0"]])
    config["validation"]["zero_amount"] = "keep"
    result = validate(frame, MAP, config)
    assert result.quarantine.empty
    assert result.transactions["amount"].tolist() == [10.0, 0.0]
    config["validation"]["zero_amount"] = "drop"
    with pytest.raises(UserError, match="use quarantine or keep"):
        validate(frame, MAP, config)

