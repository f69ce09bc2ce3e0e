"""Per-customer features for an explicit as-of date, written as Ibis expressions.

The same expressions run on the embedded default engine (DuckDB, no server) and unchanged on any
other Ibis backend, such as Spark for data that outgrows one machine: pass ``backend=`` (an Ibis
connection) and a table that lives there.

Input: validated transactions with columns ``customer_id``, ``order_id``, ``timestamp``, ``amount``
(see ARCHITECTURE.md); optional ``margin`` and customer attribute columns.

Definitions (purchases are merged per calendar day, as in the BG/NBD and Pareto/NBD papers):

- ``recency_days``: days from the last purchase date to the as-of date (RFM recency).
- ``tenure_days``: days from the first purchase date to the as-of date.
- ``frequency`` / ``orders``: distinct orders; ``monetary`` / ``total_spend``: total spend.
- ``lt_frequency``: repeat purchase days (purchase days - 1); ``lt_recency``: first to last purchase
  day; ``lt_T``: first purchase day to the as-of date; ``lt_monetary_value``: mean spend of the
  repeat purchase days (0 without one). Times in the chosen unit, weeks = days / 7.

An event log without amounts (``amount`` all NaN, read as NULL by the engine) gives NaN
``total_spend``, ``monetary``, ``avg_order_value``, ``lt_monetary_value`` (and holdout spend of
customers who bought in the holdout), while the counts and times are computed as usual.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pandas as pd
from ibis import _

from analysis.data.engine import ROW
from analysis.errors import UserError

TIME_UNITS = {"days": 1.0, "D": 1.0, "weeks": 7.0, "W": 7.0}
ATTRIBUTES = ("customer_name", "country", "region", "city", "industry", "customer_type", "size")


def time_unit_days(unit: str) -> float:
    """Days in one unit of model time: ``"weeks"``/``"W"`` (7) or ``"days"``/``"D"`` (1)."""
    try:
        return TIME_UNITS[unit]
    except KeyError:
        raise UserError(f"unknown time unit {unit!r}: use 'weeks' or 'days'") from None


def _as_date(value: Any) -> dt.date:
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError):
        raise UserError(f"not a date: {value!r} (use YYYY-MM-DD)") from None


def _table(tx: pd.DataFrame | ibis.Table) -> ibis.Table:
    """An Ibis table of the transactions; a frame's rows numbered in their order (:data:`ROW`)."""
    if isinstance(tx, pd.DataFrame):
        return ibis.memtable(tx.assign(**{ROW: range(1, len(tx) + 1)}))
    return tx


# Money is summed as exact decimals (6 places), then read back as float: a parallel floating-point sum
# depends on the order the threads add in, so reruns differed in the last digits.
MONEY = "decimal(38, 6)"


def money_sum(column: ibis.Value) -> ibis.Value:
    """The exact sum of a money column (NULL when every value is NULL), as float64."""
    return column.cast(MONEY).sum().cast("float64")


def _execute(expr: ibis.Expr, backend: Any = None) -> pd.DataFrame:
    return (backend if backend is not None else ibis.duckdb.connect()).execute(expr)


def _execute_by_customer(expr: ibis.Table, backend: Any = None) -> pd.DataFrame:
    """``expr`` (numeric columns besides ``customer_id``) run and indexed by ``customer_id`` as text,
    sorted: the engine sorts in parallel, in the same code-point order as pandas (0.02 s for a
    million ids where pandas' sort took 0.18 s), and the result is read through Arrow (Ibis's
    generic conversion to pandas took 0.04 s more)."""
    expr = expr.mutate(customer_id=_.customer_id.cast("string")).order_by("customer_id")
    con = backend if backend is not None else ibis.duckdb.connect()
    return con.to_pyarrow(expr).to_pandas().set_index("customer_id")


def purchase_days(tx: ibis.Table) -> ibis.Table:
    """One row per customer and purchase day: ``customer_id``, ``day``, ``spend`` (the day's total)."""
    daily = tx.mutate(day=_.timestamp.date())
    return daily.group_by(["customer_id", "day"]).aggregate(spend=money_sum(_.amount))


def repeat_purchase_summary(tx: ibis.Table, as_of: dt.date, unit_days: float) -> ibis.Table:
    """lifetimes-style ``frequency``, ``recency``, ``T``, ``monetary_value`` per customer (an expression).

    Only purchases on or before ``as_of`` count. Also carries ``first_day``, ``last_day`` and
    ``n_days`` (distinct purchase days) for other features to reuse.
    """
    end = ibis.date(as_of)
    days = purchase_days(tx.filter(_.timestamp.date() <= end))
    # Repeat spend is all spend less the first day's (days are distinct per customer), one aggregate
    # instead of a window marking each customer's first day: the same exact decimals, a third less time.
    per = days.group_by("customer_id").aggregate(
        first_day=_.day.min(),
        last_day=_.day.max(),
        n_days=_.day.count(),
        spend_days=_.spend.count(),  # days with a known spend: 0 in an event log without amounts
        repeat_spend=(_.spend.cast(MONEY).sum() - _.spend.argmin(_.day).cast(MONEY).coalesce(0)).cast("float64"),
    )
    return per.mutate(
        frequency=(per.n_days - 1).cast("float64"),
        recency=per.last_day.delta(per.first_day, unit="day").cast("float64") / unit_days,
        T=end.delta(per.first_day, unit="day").cast("float64") / unit_days,
        monetary_value=ibis.cases(
            (_.spend_days == 0, ibis.null("float64")),
            (_.n_days > 1, _.repeat_spend / (_.n_days - 1)),
            else_=0.0,
        ),
    )


def customer_features_expr(tx: ibis.Table, as_of: dt.date, unit_days: float = 7.0) -> ibis.Table:
    """The customer table as an Ibis expression: one row per customer who bought by ``as_of``."""
    end = ibis.date(as_of)
    tx = tx.filter(_.timestamp.date() <= end)
    lt = repeat_purchase_summary(tx, as_of, unit_days)
    aggs = {
        "first_purchase": _.timestamp.min(),
        "last_purchase": _.timestamp.max(),
        "orders": _.order_id.nunique(),
        "total_spend": money_sum(_.amount),
    }
    columns = tx.schema().names
    if "margin" in columns:
        aggs["margin_total"] = money_sum(_.margin)
    # each attribute: the value on the customer's latest row that has one; of rows at the same moment the
    # first in input order (ROW), so reruns agree. One aggregate in the same grouping (the latest by a key
    # of the moment and the row number negated), not a ranking window per attribute and a join.
    latest = ibis.struct({"t": tx.timestamp, "r": -tx[ROW]}) if ROW in columns else tx.timestamp
    attributes = [c for c in ATTRIBUTES if c in columns]
    for col in attributes:
        aggs[col] = tx[col].argmax(latest, where=tx[col].notnull())
    base = tx.group_by("customer_id").aggregate(**aggs)
    j = base.join(lt, "customer_id")
    out = j.mutate(
        purchase_days=j.n_days,
        avg_order_value=j.total_spend / j.orders,
        tenure_days=end.delta(j.first_day, unit="day"),
        recency_days=end.delta(j.last_day, unit="day"),
        mean_gap_days=ibis.ifelse(
            j.n_days > 1,
            j.last_day.delta(j.first_day, unit="day").cast("float64") / (j.n_days - 1),
            ibis.null("float64"),
        ),
        frequency=_.orders,
        monetary=_.total_spend,
        lt_frequency=_.frequency,
        lt_recency=_.recency,
        lt_T=_.T,
        lt_monetary_value=_.monetary_value,
    )
    order = [
        "customer_id",
        "first_purchase",
        "last_purchase",
        "orders",
        "purchase_days",
        "total_spend",
        "avg_order_value",
        "tenure_days",
        "recency_days",
        "mean_gap_days",
        "frequency",
        "monetary",
        "lt_frequency",
        "lt_recency",
        "lt_T",
        "lt_monetary_value",
    ]
    extra = [c for c in aggs if c not in order]
    return out.select(*order, *extra).order_by("customer_id")


def customer_features(
    tx: pd.DataFrame | ibis.Table,
    as_of: Any,
    time_unit: str = "weeks",
    backend: Any = None,
) -> pd.DataFrame:
    """One row per customer who bought on or before ``as_of``, columns as in ARCHITECTURE.md.

    ``tx`` is a pandas frame (run on an embedded DuckDB) or an Ibis table on ``backend``.
    """
    expr = customer_features_expr(_table(tx), _as_date(as_of), time_unit_days(time_unit))
    out = _execute(expr, backend)
    out["customer_id"] = out["customer_id"].astype(str)
    for col in ("first_purchase", "last_purchase"):
        out[col] = pd.to_datetime(out[col]).astype("datetime64[ns]")
    for col in ("orders", "purchase_days", "tenure_days", "recency_days", "frequency"):
        out[col] = out[col].astype("int64")
    return out.reset_index(drop=True)


def lifetimes_summary(
    tx: pd.DataFrame | ibis.Table, as_of: Any, time_unit: str = "weeks", backend: Any = None
) -> pd.DataFrame:
    """``frequency``, ``recency``, ``T``, ``monetary_value`` indexed by ``customer_id``.

    Equal to lifetimes' ``summary_data_from_transaction_data`` with ``freq="D"`` and
    ``freq_multiplier=7`` (weeks) or 1 (days), computed in the data engine.
    """
    expr = repeat_purchase_summary(_table(tx), _as_date(as_of), time_unit_days(time_unit))
    return _execute_by_customer(expr.select("customer_id", "frequency", "recency", "T", "monetary_value"), backend)


def calibration_holdout(
    tx: pd.DataFrame | ibis.Table,
    calibration_end: Any,
    observation_end: Any,
    time_unit: str = "weeks",
    backend: Any = None,
) -> pd.DataFrame:
    """Calibration features plus each customer's holdout purchases, indexed by ``customer_id``.

    Calibration columns (``frequency_cal``, ``recency_cal``, ``T_cal``, ``monetary_value_cal``) use
    only purchases on or before ``calibration_end``; the holdout columns count purchase days
    (``frequency_holdout``), their mean spend (``monetary_value_holdout``) and total spend
    (``spend_holdout``) after ``calibration_end`` up to ``observation_end``; ``duration_holdout`` is
    the holdout length. Customers whose first purchase is after ``calibration_end`` are left out.
    """
    cal_end, obs_end = _as_date(calibration_end), _as_date(observation_end)
    if not cal_end < obs_end:
        raise UserError(f"calibration end {cal_end} must be before the observation end {obs_end}")
    unit = time_unit_days(time_unit)
    table = _table(tx)
    cal = repeat_purchase_summary(table, cal_end, unit).select(
        "customer_id",
        frequency_cal="frequency",
        recency_cal="recency",
        T_cal="T",
        monetary_value_cal="monetary_value",
    )
    days = purchase_days(table)
    hold = days.filter((_.day > ibis.date(cal_end)) & (_.day <= ibis.date(obs_end)))
    hold = hold.group_by("customer_id").aggregate(
        frequency_holdout=_.day.count().cast("float64"),
        spend_holdout=money_sum(_.spend),
    )
    bought = hold.frequency_holdout.notnull()
    joined = cal.left_join(hold, "customer_id").select(
        cal,
        frequency_holdout=hold.frequency_holdout.fill_null(0.0),
        spend_holdout=ibis.ifelse(bought, hold.spend_holdout, 0.0),  # NULL: bought, amount unknown
    )
    out = _execute_by_customer(joined, backend)
    bought = out["frequency_holdout"] > 0
    holdout_days = out["frequency_holdout"].where(bought)
    out["monetary_value_holdout"] = (out["spend_holdout"] / holdout_days).where(bought, 0.0)
    out["duration_holdout"] = (obs_end - cal_end).days / unit
    return out
