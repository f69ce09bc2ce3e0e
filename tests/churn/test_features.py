"""Features and labels at a cut-off: exact tiny cases, equality with the data spine, and no leakage."""

import numpy as np
import pandas as pd
import pytest

from analysis import churn, clv
from analysis.data import lifetimes_summary


def _tx(rows):
    """rows: (customer, date, amount) -> validated-looking transactions."""
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], format="ISO8601")
    frame["order_id"] = [f"o{i}" for i in range(len(frame))]
    return frame


TINY = _tx(
    [
        ("a", "2024-01-01", 10.0),
        ("a", "2024-01-31", 20.0),
        ("a", "2024-03-01 15:00", 30.0),
        ("a", "2024-03-01 16:00", 5.0),  # same day, second order
        ("b", "2024-02-15", 50.0),
        ("c", "2024-04-01", 7.0),  # after the cut-off
    ]
)


def test_tiny_features_are_exact():
    daily = churn.daily_purchases(TINY)
    f = churn.base_features(daily, "2024-03-31", trend_days=30)
    assert list(f.index) == ["a", "b"]  # c bought after the cut-off
    a, b = f.loc["a"], f.loc["b"]
    assert a["purchase_days"] == 3 and a["orders"] == 4 and a["total_spend"] == 65.0
    assert a["recency_days"] == 30 and a["tenure_days"] == 90
    assert a["mean_gap_days"] == pytest.approx(30.0)  # gaps 30 and 30
    assert a["max_gap_days"] == 30 and a["last_gap_days"] == 30 and a["gap_std_days"] == pytest.approx(0.0)
    assert a["recency_gap_ratio"] == pytest.approx(1.0)
    # last window (Mar 1 .. Mar 31]: nothing (Mar 1 is 30 days before); previous (Jan 31 .. Mar 1]: Mar 1
    assert a["purchases_last"] == 0 and a["purchases_prev"] == 1 and a["spend_prev"] == 35.0
    assert a["purchases_trend"] == -1.0
    assert b["purchase_days"] == 1 and np.isnan(b["mean_gap_days"]) and b["recency_days"] == 45


def test_labels_are_exact():
    daily = churn.daily_purchases(TINY)
    y = churn.churn_labels(daily, "2024-03-01", horizon_days=31)
    assert y.to_dict() == {"a": 1, "b": 1}  # c (first purchase Apr 1) is not known at the cut-off
    y = churn.churn_labels(daily, "2024-02-14", horizon_days=15)  # up to Feb 29 (2024 is a leap year)
    assert y.to_dict() == {"a": 1}
    y = churn.churn_labels(daily, "2024-02-14", horizon_days=16)  # a buys again on Mar 1
    assert y.to_dict() == {"a": 0}


def test_lifetimes_frame_matches_the_data_spine():
    tx = clv.simulate_transactions(500, seed=3)
    daily = churn.daily_purchases(tx)
    mine = churn.lifetimes_frame(churn.base_features(daily, "2023-06-30", 90))
    theirs = lifetimes_summary(tx, "2023-06-30")[["frequency", "recency", "T"]]
    pd.testing.assert_frame_equal(mine.sort_index(), theirs, check_names=False)


@pytest.mark.parametrize("change", ["amounts", "shuffle", "add", "drop"])
def test_purchases_after_the_cutoff_do_not_change_its_features(change):
    tx = clv.simulate_transactions(800, seed=5)
    cutoff = pd.Timestamp("2023-03-31")
    later = tx["timestamp"] >= cutoff + pd.Timedelta(days=1)
    rng = np.random.default_rng(0)
    other = tx.copy()
    if change == "amounts":
        other.loc[later, "amount"] = rng.uniform(1, 1000, later.sum())
    elif change == "shuffle":
        other.loc[later, "customer_id"] = rng.permutation(other.loc[later, "customer_id"].to_numpy())
        other.loc[later, "timestamp"] = rng.permutation(other.loc[later, "timestamp"].to_numpy())
    elif change == "add":
        extra = other[later].copy()
        extra["order_id"] = extra["order_id"] + "x"
        other = pd.concat([other, extra], ignore_index=True)
    else:
        other = other[~later]
    one, _ = churn.cutoff_features(churn.daily_purchases(tx), cutoff, 120)
    two, _ = churn.cutoff_features(churn.daily_purchases(other), cutoff, 120)
    pd.testing.assert_frame_equal(one, two)


def test_horizon_is_shortened_to_fit_two_cutoffs_and_too_little_history_is_stated(config):
    plan = churn.plan_cutoffs("1997-01-01", "1998-06-30", config)
    assert plan.ok and plan.evaluation == pd.Timestamp("1998-06-30") - pd.Timedelta(days=plan.horizon_days)
    assert plan.train == plan.evaluation - pd.Timedelta(days=plan.horizon_days)
    assert (plan.train - pd.Timestamp("1997-01-01")).days >= config["churn"]["min_history_days"]
    short = churn.plan_cutoffs("2024-01-01", "2024-03-31", config)
    assert not short.ok and "too little history" in short.reason["en"] and "历史太短" in short.reason["zh"]


def test_orders_are_distinct_order_ids_per_purchase_day():
    tx = _tx([("a", "2024-01-01", 5.0), ("a", "2024-01-01", 6.0), ("a", "2024-01-01", 7.0), ("b", "2024-01-02", 1.0)])
    tx["order_id"] = ["o1", "o1", "o2", "o1"]  # two lines of one order, another order the same day; b reuses o1
    daily = churn.daily_purchases(tx)
    assert list(daily.orders) == [2, 1] and list(daily.spend) == [18.0, 1.0]
    assert list(daily.ids) == ["a", "b"] and daily.ids.name == "customer_id"


def test_attributes_come_from_each_customers_first_row_and_are_fixed_over_time():
    tx = _tx([("a", "2024-01-01", 1.0), ("b", "2024-01-05", 1.0), ("c", "2024-02-01", 1.0), ("b", "2024-02-03", 1.0)])
    customers = pd.DataFrame(
        {"customer_id": ["c", "b", "b", "a", "p"], "country": ["FR", "DE", "FR", None, "DE"]}
    )  # b twice (its first row counts), a without a country, p without purchases
    daily = churn.daily_purchases(tx)
    attributes = churn.customer_attributes(customers, daily.ids.get_indexer(customers["customer_id"]), 3)
    early, _ = churn.cutoff_features(daily, "2024-01-10", 30, attributes=attributes)
    late, _ = churn.cutoff_features(daily, "2024-02-10", 30, attributes=attributes)
    assert list(early.index) == ["a", "b"] and early["attr_country=DE"].tolist() == [0.0, 1.0]
    assert "attr_country=FR" not in early  # nobody known at the early cut-off is from France
    assert late["attr_country=DE"].tolist() == [0.0, 1.0, 0.0] and late["attr_country=FR"].tolist() == [0, 0, 1.0]
