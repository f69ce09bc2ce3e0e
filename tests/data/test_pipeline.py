"""What ``prepare`` hands on: the files it streams from the engine read back as the frames it gives."""

import pandas as pd

from analysis.data.features import customer_features
from analysis.data.pipeline import prepare
from analysis.tables import formula_guarded_frame
from tests.data.test_spark import AS_OF, COLUMNS, export


def _read_back(frame: pd.DataFrame, path) -> pd.DataFrame:
    """``frame`` as pandas writes it to Parquet and reads it back (text columns become ``str``)."""
    frame.to_parquet(path, index=False)
    return pd.read_parquet(path)


def test_the_written_files_read_back_as_the_prepared_frames(tmp_path, config):
    path = tmp_path / "export.parquet"
    export().to_parquet(path, index=False)
    config["data"]["columns"] = COLUMNS
    prepared = prepare(str(path), config, AS_OF)
    prepared.write(tmp_path)
    tx = pd.read_parquet(tmp_path / "transactions.parquet")
    pd.testing.assert_frame_equal(tx, _read_back(prepared.transactions, tmp_path / "tx.parquet"))
    assert str(tx["timestamp"].dtype) == "datetime64[ns]" and tx["outlier"].dtype == bool
    customers = pd.read_parquet(tmp_path / "customers.parquet")
    pd.testing.assert_frame_equal(customers, prepared.customers)
    expected = customer_features(prepared.transactions, AS_OF)
    pd.testing.assert_frame_equal(customers, _read_back(expected, tmp_path / "features.parquet"))
    assert prepared.quality["customers_total"] == len(customers) == 16
    written = (tmp_path / "quarantine.csv").read_bytes()
    guarded = formula_guarded_frame(prepared.quarantine)  # a text beginning with - gets a ' (export.csv_formula_guard)
    assert written == guarded.to_csv(index=False, encoding="utf-8-sig").encode("utf-8-sig")
    assert guarded is not prepared.quarantine  # this export has such texts: the guard is tested here too
    assert len(prepared.quarantine) == prepared.quality["rows_quarantined"] > 10


def test_the_engine_hands_over_rows_in_their_order_and_keeps_the_connection_setting():
    import ibis
    import numpy as np

    from analysis.data import engine

    con = engine.connect()  # rows need not stay in order inside the engine (less memory)
    ids = [f"c{i:07d}" for i in np.random.default_rng(0).permutation(300_000)]  # several threads' worth
    table = engine.materialise(con, ibis.memtable(pd.DataFrame({"customer_id": ids})).order_by("customer_id"))
    assert engine.to_pandas(con, table)["customer_id"].tolist() == sorted(ids)
    assert con.raw_sql("SELECT current_setting('preserve_insertion_order')").fetchone() == (False,)
