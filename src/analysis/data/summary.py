"""lifetimes' ``summary_data_from_transaction_data`` with its arguments, in pandas: a transaction log made one row
per customer (frequency, recency, T, and the mean spend of the repeat purchases), for the lifetimes-style fitters
of :mod:`analysis.clv.lifetimes_api`. The data spine's own summary, computed in the SQL engine, is
:func:`analysis.data.features.lifetimes_summary`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import UserError


def summary_data_from_transaction_data(
    transactions: pd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None = None,
    datetime_format: str | None = None,
    observation_period_end=None,
    freq: str = "D",
    freq_multiplier: float = 1,
    include_first_transaction: bool = False,
) -> pd.DataFrame:
    """One row per customer, indexed by ``customer_id_col``, as lifetimes makes it: purchases are counted once per
    period of ``freq`` ("D": days, "h": hours, "W": weeks, ...); ``frequency`` is the number of periods with a
    purchase after the first (with ``include_first_transaction``, including it), ``recency`` the time from the
    first to the last such period and ``T`` from the first to ``observation_period_end`` (default: the last
    purchase), both in periods divided by ``freq_multiplier``; with ``monetary_value_col``, ``monetary_value`` is
    the mean of the per-period sums of the repeat periods (0 without one; all periods with
    ``include_first_transaction``). Purchases after ``observation_period_end`` are left out, as in lifetimes;
    a row without a customer id or a readable date is a one-line error instead of a row dropped unnoticed."""
    missing = [c for c in (customer_id_col, datetime_col, monetary_value_col) if c and c not in transactions]
    if missing:
        raise UserError(f"the transactions have no column {', '.join(map(repr, missing))}")
    columns = [customer_id_col, datetime_col] + ([monetary_value_col] if monetary_value_col else [])
    tx = transactions[columns].copy()
    when = pd.to_datetime(tx[datetime_col], format=datetime_format, errors="coerce")
    unread = int(when.isna().sum())
    if unread or tx[customer_id_col].isna().any():
        raise UserError(
            f"{unread:,} transactions have no readable {datetime_col!r} and "
            f"{int(tx[customer_id_col].isna().sum()):,} no {customer_id_col!r}: fix or drop them first"
        )
    try:
        unit = np.timedelta64(1, freq)
        tx[datetime_col] = when.dt.to_period(freq).dt.to_timestamp()
    except (TypeError, ValueError) as exc:
        raise UserError(f"freq={freq!r} is not a time unit pandas and numpy both know ('D', 'h', 'W'): {exc}") from exc
    end = tx[datetime_col].max() if observation_period_end is None else observation_period_end
    end = pd.to_datetime(end, format=datetime_format).to_period(freq).to_timestamp()
    tx = tx[tx[datetime_col] <= end]
    keys = [customer_id_col, datetime_col]
    periods = tx.groupby(keys, sort=True).sum() if monetary_value_col else tx.drop_duplicates(keys).set_index(keys)
    periods = periods.reset_index()
    first = periods.groupby(customer_id_col, sort=True)[datetime_col].transform("min") == periods[datetime_col]
    by_customer = periods.groupby(customer_id_col, sort=True)[datetime_col]
    out = pd.DataFrame({"frequency": by_customer.size() - (0 if include_first_transaction else 1)})
    out["recency"] = (by_customer.max() - by_customer.min()) / unit / freq_multiplier
    out["T"] = (end - by_customer.min()) / unit / freq_multiplier
    if monetary_value_col:
        counted = periods if include_first_transaction else periods[~first]
        mean = counted.groupby(customer_id_col, sort=True)[monetary_value_col].mean()
        out["monetary_value"] = mean.reindex(out.index).fillna(0.0)
    return out.astype(float)
