"""Per-customer features: an exact tiny case, lifetimes equality on CDNOW, the calibration split,
and the same Ibis expressions on PySpark."""

import numpy as np
import pandas as pd
import pytest

from analysis.data.engine import ROW
from analysis.data.features import calibration_holdout, customer_features, lifetimes_summary
from analysis.errors import UserError


def tiny_tx() -> pd.DataFrame:
    rows = [
        # customer, order, timestamp, amount
        ("a", "1", "2024-01-01 09:00", 10.0),
        ("a", "1", "2024-01-01 09:00", 5.0),  # second line of order 1
        ("a", "2", "2024-01-01 18:00", 20.0),  # same day, another order
        ("a", "3", "2024-01-08 12:00", 30.0),
        ("a", "4", "2024-01-15 12:00", 40.0),
        ("b", "5", "2024-01-10 08:00", 7.0),
        ("b", "6", "2024-02-01 08:00", 99.0),  # after the as-of date: ignored
    ]
    tx = pd.DataFrame(rows, columns=["customer_id", "order_id", "timestamp", "amount"])
    tx["timestamp"] = pd.to_datetime(tx["timestamp"])
    tx["country"] = ["UK", "UK", None, "FR", None, "DE", "DE"]
    return tx


def test_exact_features_on_a_tiny_case():
    f = customer_features(tiny_tx(), "2024-01-29", time_unit="weeks").set_index("customer_id")
    a, b = f.loc["a"], f.loc["b"]
    assert (a["orders"], a["purchase_days"], a["frequency"]) == (4, 3, 4)
    assert a["total_spend"] == a["monetary"] == 105.0
    assert a["avg_order_value"] == pytest.approx(105.0 / 4)
    assert (a["tenure_days"], a["recency_days"]) == (28, 14)
    assert a["mean_gap_days"] == pytest.approx(7.0)
    assert a["first_purchase"] == pd.Timestamp("2024-01-01 09:00")
    assert a["last_purchase"] == pd.Timestamp("2024-01-15 12:00")
    # lifetimes-style: 3 purchase days -> 2 repeats; recency 14 days, T 28 days, in weeks
    assert (a["lt_frequency"], a["lt_recency"], a["lt_T"]) == (2.0, 2.0, 4.0)
    assert a["lt_monetary_value"] == pytest.approx((30 + 40) / 2)
    assert a["country"] == "FR"  # the most recent non-null value
    assert (b["orders"], b["lt_frequency"], b["lt_monetary_value"], b["recency_days"]) == (1, 0, 0, 19)
    assert np.isnan(b["mean_gap_days"])
    assert b["country"] == "DE"
    assert list(f.index) == ["a", "b"]


def tied_tx() -> pd.DataFrame:
    """Attributes changing at the same moment, with gaps: the rows' order is the input order."""
    rows = [
        # customer, order, timestamp, country, size
        ("a", "1", "2024-01-02 10:00", "UK", None),
        ("a", "2", "2024-01-05 10:00", None, "S"),
        ("a", "3", "2024-01-05 10:00", "FR", "M"),  # tied with order 2 and 4: the first known value wins
        ("a", "4", "2024-01-05 10:00", "DE", "L"),
        ("a", "5", "2024-01-03 10:00", "NL", None),  # earlier, though later in the input
        ("b", "6", "2024-01-04 10:00", "ES", None),
        ("b", "7", "2024-01-04 10:00", "PT", None),  # tied: the first in input order wins
        ("c", "8", "2024-01-04 10:00", None, None),  # no known value: missing
    ]
    tx = pd.DataFrame(rows, columns=["customer_id", "order_id", "timestamp", "country", "size"])
    tx["timestamp"] = pd.to_datetime(tx["timestamp"])
    return tx.assign(amount=10.0)


def test_attributes_are_the_latest_known_value_and_ties_go_to_the_first_row():
    f = customer_features(tied_tx(), "2024-01-31").set_index("customer_id")
    assert f.loc["a", "country"] == "FR" and f.loc["a", "size"] == "S"
    assert f.loc["b", "country"] == "ES" and pd.isna(f.loc["b", "size"])
    assert pd.isna(f.loc["c", "country"]) and pd.isna(f.loc["c", "size"])
    # the same rows in reverse: the other tied rows come first
    f = customer_features(tied_tx().iloc[::-1], "2024-01-31").set_index("customer_id")
    assert (f.loc["a", "country"], f.loc["a", "size"], f.loc["b", "country"]) == ("DE", "L", "PT")


def test_days_as_time_unit():
    s = lifetimes_summary(tiny_tx(), "2024-01-29", time_unit="days")
    assert s.loc["a"].tolist() == [2.0, 14.0, 28.0, 35.0]


def test_summaries_are_indexed_by_id_text_in_sorted_order_for_numeric_ids_too():
    tx = tiny_tx()
    tx["customer_id"] = tx["customer_id"].map({"a": 10, "b": 9})  # as numbers 9 < 10, as text "10" < "9"
    s = lifetimes_summary(tx, "2024-01-29")
    assert s.index.tolist() == ["10", "9"] and s.index.name == "customer_id"
    assert s.loc["10", "frequency"] == 2 and s.loc["9", "frequency"] == 0
    cal = calibration_holdout(tx, "2024-01-09", "2024-01-29")
    assert cal.index.tolist() == ["10"] and cal.loc["10", "frequency_holdout"] == 1


def test_unknown_time_unit_and_bad_dates_are_clear_errors():
    with pytest.raises(UserError, match="unknown time unit"):
        lifetimes_summary(tiny_tx(), "2024-01-29", time_unit="fortnights")
    with pytest.raises(UserError, match="must be before"):
        calibration_holdout(tiny_tx(), "2024-02-01", "2024-01-01")


def test_calibration_holdout_does_not_leak():
    ch = calibration_holdout(tiny_tx(), "2024-01-08", "2024-01-29", time_unit="days")
    a = ch.loc["a"]
    assert (a["frequency_cal"], a["recency_cal"], a["T_cal"]) == (1.0, 7.0, 7.0)
    assert a["monetary_value_cal"] == 30.0  # holdout purchases do not enter calibration
    assert (a["frequency_holdout"], a["spend_holdout"], a["monetary_value_holdout"]) == (1.0, 40.0, 40.0)
    assert a["duration_holdout"] == 21.0
    assert list(ch.index) == ["a"]  # b's first purchase is after the calibration end


def read_cdnow_sample(folder) -> pd.DataFrame:
    from analysis.config import load_config
    from analysis.data.pipeline import prepare

    config = load_config()  # zero-dollar records are kept: the published analyses count free CDs
    return prepare(str(folder / "CDNOW_sample.txt"), config, "1998-06-30").transactions


def test_cdnow_master_equals_lifetimes_summary(config):
    from lifetimes.utils import summary_data_from_transaction_data

    from analysis.data.pipeline import prepare
    from tests.conftest import CDNOW_MASTER

    prepared = prepare(str(CDNOW_MASTER), config, "1998-06-30")  # default settings
    tx = prepared.transactions
    assert prepared.quality["rows_in"] == 69_659 and prepared.quality["customers"] == 23_570
    ours = lifetimes_summary(tx, "1998-06-30")
    ref = summary_data_from_transaction_data(
        tx,
        "customer_id",
        "timestamp",
        monetary_value_col="amount",
        observation_period_end="1998-06-30",
        freq="D",
        freq_multiplier=7,
    )
    ref.index = ref.index.astype(str)
    ref = ref.loc[ours.index]
    for col in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(ours[col], ref[col], rtol=1e-9, atol=1e-9, err_msg=col)
    table = prepared.customers.set_index("customer_id")
    np.testing.assert_allclose(table.loc[ours.index, "lt_T"], ours["T"])


def test_cdnow_sample_calibration_equals_published_summary(lifetimes_datasets):
    tx = read_cdnow_sample(lifetimes_datasets)
    published = pd.read_csv(lifetimes_datasets / "cdnow_customers_summary.csv")
    raw = pd.read_csv(lifetimes_datasets / "CDNOW_sample.txt", sep=r"\s+", header=None, dtype=str)
    ids = raw.drop_duplicates(0).set_index(0)[1].astype(int)  # master id -> sample id
    ch = calibration_holdout(tx, "1997-09-30", "1998-06-30")
    ch = ch.set_index(ids.loc[ch.index].to_numpy()).sort_index()
    published = published.set_index("ID").sort_index()
    assert len(ch) == len(published) == 2357
    assert (ch.index == published.index).all()
    np.testing.assert_array_equal(ch["frequency_cal"], published["frequency"])
    # the published file rounds to two decimals
    np.testing.assert_allclose(ch["recency_cal"], published["recency"], atol=0.005)
    np.testing.assert_allclose(ch["T_cal"], published["T"], atol=0.005)


def test_an_event_log_without_amounts_gives_the_same_counts_and_no_money(lifetimes_datasets, tmp_path):
    from analysis.config import load_config
    from analysis.data.pipeline import prepare

    tx = read_cdnow_sample(lifetimes_datasets)
    with_amounts = customer_features(tx, "1998-06-30").set_index("customer_id")
    log = tmp_path / "events.csv"  # the BTYD event-log layout without its sales column
    tx.assign(cust=tx["customer_id"], date=tx["timestamp"].dt.strftime("%Y-%m-%d"))[["cust", "date"]].to_csv(
        log, index=False
    )
    prepared = prepare(str(log), load_config(), "1998-06-30")
    assert prepared.quality["has_amounts"] is False and prepared.quality["reconciled"]
    assert prepared.transactions["amount"].isna().all()
    table = prepared.customers.set_index("customer_id")
    assert table.index.equals(with_amounts.index) and len(table) == 2357
    for col in ("purchase_days", "recency_days", "tenure_days", "lt_frequency", "lt_recency", "lt_T"):
        np.testing.assert_array_equal(table[col], with_amounts[col], err_msg=col)
    # orders: same-day purchases merge into one derived order when there is no order id
    assert (table["orders"] == table["purchase_days"]).all()
    for col in ("total_spend", "monetary", "avg_order_value", "lt_monetary_value"):
        assert table[col].isna().all(), col
    ch = calibration_holdout(prepared.transactions, "1997-09-30", "1998-06-30")
    bought = ch["frequency_holdout"] > 0
    assert ch.loc[bought, ["spend_holdout", "monetary_value_holdout", "monetary_value_cal"]].isna().all().all()
    assert (ch.loc[~bought, "spend_holdout"] == 0).all()


@pytest.mark.spark
def test_same_expressions_on_pyspark_equal_duckdb(spark):
    import ibis

    con = ibis.pyspark.connect(spark)
    tx = tiny_tx()
    # hand Spark real nulls (pandas' NaN in a str column would arrive as the text "NaN")
    frame = tx.copy()
    frame["country"] = tx["country"].astype(object).where(tx["country"].notna(), None)
    spark.createDataFrame(frame).createOrReplaceTempView("tx")
    table = con.table("tx")
    on_spark = customer_features(table, "2024-01-29", backend=con)
    on_duckdb = customer_features(tx, "2024-01-29")
    pd.testing.assert_frame_equal(on_spark, on_duckdb, check_dtype=False)
    tied = customer_features(tied_tx(), "2024-01-31")  # numbered rows (ROW), the frame's order
    numbered = tied_tx().assign(**{ROW: range(1, 9)}).astype({"country": object, "size": object})
    spark.createDataFrame(numbered.where(numbered.notna(), None)).createOrReplaceTempView("tied")
    pd.testing.assert_frame_equal(customer_features(con.table("tied"), "2024-01-31", backend=con), tied,
                                  check_dtype=False)  # fmt: skip
    hold_spark = calibration_holdout(table, "2024-01-08", "2024-01-29", backend=con)
    pd.testing.assert_frame_equal(hold_spark, calibration_holdout(tx, "2024-01-08", "2024-01-29"), check_dtype=False)
