"""The cohort matrix, computed in the SQL engine (DuckDB through Ibis, :func:`analysis.data.engine.connect`):
customers grouped by the period of their first purchase (the *cohort*: a calendar month, an ISO week starting on
Monday, or a calendar quarter), and for each cohort and each period since acquisition (0 = the acquisition
period) the customers active, their orders and revenue.

The kept transactions up to the as-of date are grouped twice in the engine, never pivoted row by row in pandas:
first one row per customer and period (distinct orders, exact revenue), each with the customer's first period (a
window minimum), then one row per cohort and period. Only that small table (cohorts x periods) reaches pandas,
where the cells without a purchase are filled in up to the as-of date's period and the shares and cumulative sums
are taken (:func:`complete`).

Money is summed as exact decimals (:data:`analysis.data.features.MONEY`), so the matrix's revenue adds up to the
revenue the data-quality stage kept, to the cent, on every rerun.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import numpy as np
import pandas as pd
from ibis import _

from analysis.data import engine
from analysis.data.features import MONEY

PERIODS = ("month", "week", "quarter")
TRUNCATE = {"month": "M", "week": "W", "quarter": "Q"}  # the engine's truncation (a week starts on Monday)
PANDAS_PERIOD = {"month": "M", "week": "W-SUN", "quarter": "Q"}  # the same periods in pandas
PER_YEAR = {"month": 12, "week": 52, "quarter": 4}  # a cohort "a year earlier" is this many periods before
# The columns of cohorts.csv, in order (the long form: one row per cohort and period since acquisition).
COLUMNS = ("cohort", "period", "customers", "active_customers", "retention", "orders", "revenue",
           "revenue_per_customer", "cumulative_revenue_per_customer")  # fmt: skip
TRANSACTION_COLUMNS = ("customer_id", "order_id", "timestamp", "amount")


def period_start(ts: Any, period: str) -> Any:
    """The first day of the ``period`` (month, week from Monday, quarter) holding ``ts`` (a timestamp, or each of
    a Series of them)."""
    if isinstance(ts, pd.Series):
        return ts.dt.to_period(PANDAS_PERIOD[period]).dt.start_time
    return pd.Timestamp(ts).to_period(PANDAS_PERIOD[period]).start_time


def periods_between(start: Any, end: Any, period: str) -> Any:
    """Whole periods from ``start`` to ``end`` (both first days of a period; timestamps or Series)."""
    if period == "week":
        return (end - start) // pd.Timedelta(days=7)
    months = (_part(end, "year") - _part(start, "year")) * 12 + (_part(end, "month") - _part(start, "month"))
    return months // (3 if period == "quarter" else 1)


def _part(x: Any, name: str) -> Any:
    """The year or month of a timestamp, or of each in a Series."""
    return getattr(x.dt, name) if isinstance(x, pd.Series) else getattr(x, name)


def customer_periods(tx: ibis.Table, as_of: dt.date, period: str, groups: ibis.Table | None = None) -> ibis.Table:
    """One row per customer and period with a purchase on or before ``as_of``: ``customer_id``, ``p`` (the
    period's first day), ``orders`` (distinct orders), ``revenue`` (exact decimal; NULL without amounts),
    ``cohort`` (the customer's first period) and the columns of ``groups`` (one row per customer; NULL for a
    customer it does not list). Orders are grouped first and counted after, and the first period is joined from a
    grouping, the groups with it (a third less CPU at 1M customers than a distinct count, a window and a join
    per attribute)."""
    kept = tx.filter(_.timestamp.date() <= ibis.date(as_of))
    dated = kept.mutate(p=kept.timestamp.truncate(TRUNCATE[period]).date())
    orders = dated.group_by(["customer_id", "p", "order_id"]).aggregate(revenue=_.amount.cast(MONEY).sum())
    per = orders.group_by(["customer_id", "p"]).aggregate(orders=_.count(), revenue=_.revenue.sum())
    first = per.group_by("customer_id").aggregate(cohort=_.p.min())
    if groups is not None:
        first = first.left_join(groups, "customer_id").drop("customer_id_right")
    return per.join(first, "customer_id")


def cells(per: ibis.Table, by: str | None = None) -> ibis.Table:
    """Per cohort (and group ``by``, a column of ``per``) and period: active customers, orders, revenue (the
    exact sum, then as float)."""
    keys = ["cohort", "p"] if by is None else [by, "cohort", "p"]
    return per.group_by(keys).aggregate(active_customers=_.customer_id.count(), orders=_.orders.sum(),
                                        revenue=_.revenue.sum().cast("float64"))  # fmt: skip


def engine_cells(
    transactions: pd.DataFrame, as_of: pd.Timestamp, period: str, groups: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The matrix's non-empty cells from ``transactions`` (``customer_id``, ``order_id``, ``timestamp``,
    ``amount``) up to ``as_of`` and, for each attribute of ``groups`` (a frame of ``customer_id`` and one column
    per attribute: the customer's group, missing when not in a group shown), the same per group: computed in the
    engine (the groups joined once), returned as small frames (``cohort``, ``p``, counts, revenue; ``group`` too
    in the groups' frames, keyed by attribute)."""
    con = engine.connect()
    try:
        frame = transactions[list(TRANSACTION_COLUMNS)]
        tx = ibis.memtable(frame.assign(amount=frame["amount"].astype("float64")))
        names = [] if groups is None else [c for c in groups.columns if c != "customer_id"]
        keyed = ibis.memtable(groups) if names else None
        per = con.create_table("cohort_customer_periods", customer_periods(tx, pd.Timestamp(as_of).date(), period,
                                                                           keyed), temp=True)  # fmt: skip
        main = con.to_pyarrow(cells(per)).to_pandas()
        by_group = {}
        for name in names:
            found = cells(per.filter(per[name].notnull()).rename(group=name), by="group")
            by_group[name] = con.to_pyarrow(found).to_pandas()
    finally:
        con.disconnect()
    return main, by_group


def empty_matrix() -> pd.DataFrame:
    """The matrix of no purchase: :data:`COLUMNS`, no row."""
    types = {"cohort": "datetime64[ns]", "period": "int64", "customers": "int64", "active_customers": "int64",
             "orders": "int64"}  # fmt: skip
    return pd.DataFrame({c: pd.Series(dtype=types.get(c, "float64")) for c in COLUMNS})


def complete(found: pd.DataFrame, as_of: pd.Timestamp, period: str, amounts: bool) -> pd.DataFrame:
    """The long-form matrix (:data:`COLUMNS`) from the engine's cells (``found``): every cohort with every period
    from its acquisition to the as-of date's (cells without a purchase: no active customer, no order, no
    revenue), the cohort sizes, retention, revenue per acquired customer and its cumulative sum. ``amounts``:
    whether the data has amounts (without, the revenue columns are NaN throughout)."""
    if found.empty:
        return empty_matrix()
    found = found.assign(cohort=pd.to_datetime(found["cohort"]).astype("datetime64[ns]"),
                         p=pd.to_datetime(found["p"]).astype("datetime64[ns]"))  # fmt: skip
    found["period"] = periods_between(found["cohort"], found["p"], period).astype("int64")
    last = period_start(pd.Timestamp(as_of), period)
    cohorts = np.sort(found["cohort"].unique())
    spans = periods_between(pd.Series(cohorts), last, period).to_numpy().astype(np.int64) + 1
    grid = pd.DataFrame({"cohort": np.repeat(cohorts, spans),
                         "period": np.concatenate([np.arange(n) for n in spans])})  # fmt: skip
    out = grid.merge(found.drop(columns="p"), on=["cohort", "period"], how="left", validate="one_to_one")
    out["active_customers"] = out["active_customers"].fillna(0).astype("int64")
    out["orders"] = out["orders"].fillna(0).astype("int64")
    out["revenue"] = out["revenue"].astype("float64").fillna(0.0) if amounts else np.nan
    # every customer buys in their cohort's own period: period 0's active customers are the cohort
    size = out["active_customers"].where(out["period"] == 0).groupby(out["cohort"]).transform("max")
    out["customers"] = size.astype("int64")
    out["retention"] = out["active_customers"] / out["customers"]
    out["revenue_per_customer"] = out["revenue"] / out["customers"]
    out["cumulative_revenue_per_customer"] = out.groupby("cohort")["revenue_per_customer"].cumsum()
    if not amounts:
        out["cumulative_revenue_per_customer"] = np.nan
    return out[list(COLUMNS)].sort_values(["cohort", "period"], ignore_index=True)


def cohort_matrix(transactions: pd.DataFrame, as_of: pd.Timestamp, period: str = "month") -> pd.DataFrame:
    """The long-form cohort matrix (:data:`COLUMNS`) of ``transactions`` as of ``as_of`` (:func:`engine_cells`,
    :func:`complete`); revenue is NaN when no transaction has an amount."""
    found, _ = engine_cells(transactions, as_of, period)
    return complete(found, as_of, period, bool(transactions["amount"].notna().any()))
