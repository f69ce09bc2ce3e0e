"""The data spine on PySpark: the same Ibis expressions give the same kept rows, quarantine,
reconciliation, per-customer features and calibration/holdout split as on DuckDB.

Skipped, with the reason, where PySpark or a Java runtime is missing (PySpark is the optional
``spark`` extra: ``pip install -e '.[spark]'``).
"""

import pandas as pd
import pytest

from analysis.data import engine
from analysis.data.features import calibration_holdout, customer_features
from analysis.data.load import read_transactions
from analysis.data.validate import validate_raw

pytestmark = pytest.mark.spark

HEADER = ["cid", "order", "date", "amount", "sku", "desc", "status", "stage", "refund", "country"]
COLUMNS = {
    "customer_id": "cid",
    "order_id": "order",
    "timestamp": "date",
    "amount": "amount",
    "product_id": "sku",
    "description": "desc",
    "status": "status",
    "deal_stage": "stage",
    "refund": "refund",
    "country": "country",
}
AS_OF = "2024-01-31"


def export() -> pd.DataFrame:
    """A small export in which every quarantine reason occurs (the expected reason beside each row)."""
    ok = ("paid", "Closed Won", "")
    rows = [
        ["a", "O1", "2024-01-02 10:00", "50", "S1", "Mug", *ok, "UK"],  # kept, 20 netted by row 4
        ["a", "O2", "2024-01-05 09:30", "30", "S1", "Mug", *ok, "UK"],  # refunded_purchase (row 3)
        ["a", "C3", "2024-01-06 11:00", "-30", "S1", "Mug", *ok, "UK"],  # return_netted
        ["a", "C4", "2024-01-07 12:00", "-20", "S1", "Mug", *ok, ""],  # return_netted, partly
        ["a", "C5", "2024-01-08 12:00", "-500", "S2", "Cup", *ok, ""],  # unmatched_return
        ["", "O6", "2024-01-03 08:00", "12", "S1", "Mug", *ok, "FR"],  # missing_customer_id
        ["b", "O7", "", "", "S2", "Cup", "", "", "", "FR"],  # order_line (O7 stands on row 8)
        ["b", "O7", "2024-01-03 15:00", "40", "S1", "Mug", *ok, "FR"],  # kept
        ["b", "O9", "2024-01-04 10:00", "25", "S1", "Mug", "cancelled", "Closed Won", "", "FR"],  # cancelled_order
        ["b", "O10", "2024-01-04 11:00", "25", "S1", "Mug", "pending", "Closed Won", "", "FR"],  # unpaid_order
        ["c", "O11", "2024-01-05 10:00", "70", "S1", "Mug", "paid", "Closed Lost", "", "DE"],  # not_won
        ["c", "O12", "someday", "10", "S1", "Mug", *ok, "DE"],  # unparsable_date
        ["c", "O13", "2024-01-09 10:00", "", "S1", "Mug", *ok, "DE"],  # missing_amount
        ["c", "O14", "2024-01-09 10:00", "abc", "S1", "Mug", *ok, "DE"],  # unparsable_amount
        ["b", "O7", "2024-01-03 15:00", "40", "S1", "Mug", *ok, "FR"],  # duplicate_row (of row 8)
        ["c", "O16", "2024-03-01 10:00", "10", "S1", "Mug", *ok, "DE"],  # after_as_of
        ["c", "O17", "2024-01-10 10:00", "4.95", "POST", "Postage", *ok, "DE"],  # non_product
        ["d", "O18", "2024-01-10 10:00", "60", "S1", "Mug", "paid", "Closed Won", "60", "DE"],  # refunded_order
        ["d", "O19", "2024-01-11 10:00", "80", "S1", "Mug", "paid", "Closed Won", "30", "DE"],  # kept, 50 after refund
        ["d", "O20", "2024-01-12 10:00", "0", "S1", "Mug", *ok, "DE"],  # zero_amount (quarantined here)
        # kept: the outlier rule's sample
        *[
            [f"e{i}", f"O{21 + i}", f"2024-01-{10 + i:02d} 09:00", amount, "S1", "Mug", *ok, "NL"]
            for i, amount in enumerate(["20", "35", "50", "28", "60", "45", "30", "55", "40", "25", "70", "38"])
        ],
        ["z", "O33", "2024-01-20 10:00", "50000", "S1", "Mug", *ok, "NL"],  # outlier (dropped here)
        ["e1", "O34", "2024-01-25 09:00", "12", "S1", "Mug", *ok, "NL"],  # kept: a repeat purchase
    ]
    return pd.DataFrame(rows, columns=HEADER)


EXPECTED = {
    2: "refunded_purchase",
    3: "return_netted",
    4: "return_netted",
    5: "unmatched_return",
    6: "missing_customer_id",
    7: "order_line",
    9: "cancelled_order",
    10: "unpaid_order",
    11: "not_won",
    12: "unparsable_date",
    13: "missing_amount",
    14: "unparsable_amount",
    15: "duplicate_row",
    16: "after_as_of",
    17: "non_product",
    18: "refunded_order",
    20: "zero_amount",
    33: "outlier",
}


def _spine(con, path, config):
    """Load, validate, features and the calibration/holdout split of ``path`` on the engine ``con``."""
    checked = validate_raw(read_transactions(str(path), columns=COLUMNS), config, AS_OF, con)
    customers = customer_features(checked.kept, AS_OF, backend=con)
    split = calibration_holdout(checked.kept, "2024-01-15", AS_OF, backend=con)
    return checked, customers, split


def test_the_data_spine_on_spark_equals_duckdb(tmp_path, config, spark):
    path = tmp_path / "export.parquet"
    export().to_parquet(path, index=False)
    config["validation"].update(zero_amount="quarantine", drop_outliers=True)
    duck, duck_customers, duck_split = _spine(engine.connect(), path, config)
    assert dict(zip(duck.quarantine["row"], duck.quarantine["reason"], strict=True)) == EXPECTED
    assert duck.quality["reconciled"] and duck.quality["amount_netted"] == pytest.approx(20.0)

    import ibis

    spark_checked, spark_customers, spark_split = _spine(ibis.pyspark.connect(spark), path, config)
    pd.testing.assert_frame_equal(spark_checked.transactions, duck.transactions, check_dtype=False)
    pd.testing.assert_frame_equal(spark_checked.quarantine, duck.quarantine, check_dtype=False)
    assert spark_checked.quality == duck.quality
    pd.testing.assert_frame_equal(spark_customers, duck_customers, check_dtype=False)
    pd.testing.assert_frame_equal(spark_split, duck_split, check_dtype=False)
