"""The report's stages run on a shape's transactions as the pages run them, without a run directory: prepare,
segments, clusters (empty columns when it declines, as the page leaves them), then churn."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import churn, clusters, segments
from analysis.data.pipeline import prepare
from analysis.errors import StageDeclined
from analysis.report.declines import empty_columns
from analysis.stage import Frames


def added(table: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """``table`` with ``frame``'s columns merged in by ``customer_id`` (replacing those of the same name), as
    ``Stage.add_columns`` does."""
    kept = table.drop(columns=[c for c in frame.columns if c != "customer_id" and c in table])
    return kept.merge(frame, on="customer_id", how="left")


def inputs(spine, customers: pd.DataFrame, as_of: str) -> Frames:
    """The spine's purchases, returns and quarantine with the customer table as the earlier stages left it."""
    return Frames(transactions=spine.transactions, as_of=as_of, customers_table=customers, returns=spine.returns,
                  quarantine=spine.quarantine, mapping=spine.mapping)  # fmt: skip


def prepared(frame: pd.DataFrame, as_of: str, folder: Path, config: dict):
    """The data spine on ``frame`` (written as CSV into ``folder``) and the customer table with the segments."""
    path = folder / "transactions.csv"
    frame.to_csv(path, index=False)
    spine = prepare(str(path), config, as_of)
    return spine, added(spine.customers, segments.run(spine, config).columns)


def run_clusters(spine, customers: pd.DataFrame, as_of: str, config: dict):
    """The clusters stage as the page calls it: its result, or the decline; and the customer table after it."""
    try:
        result = clusters.run(inputs(spine, customers, as_of), config)
    except StageDeclined as exc:
        return exc, added(customers, empty_columns(customers["customer_id"], exc.columns))
    return result, added(customers, result.columns)


def run_churn(spine, customers: pd.DataFrame, as_of: str, config: dict):
    """The churn stage as the page calls it: its result, or the decline (the exception)."""
    try:
        return churn.run(inputs(spine, customers, as_of), config)
    except StageDeclined as exc:
        return exc
