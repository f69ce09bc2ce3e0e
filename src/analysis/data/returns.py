"""Netting returns against earlier purchases: the one validation rule that is sequential.

A return (negative quantity or amount, or a cancellation order id) is netted against earlier
purchases of the same key (customer and product, or customer and order), most recent first, in
units (quantity, else amount, else rows). A return that the earlier purchases cover in full leaves
as ``return_netted``; a purchase it consumes completely leaves as ``refunded_purchase``; a purchase
it consumes in part stays, its amount reduced in proportion. A return the earlier purchases cannot
cover in full nets nothing and leaves as ``unmatched_return``.

Each return takes from what the returns before it left, so the rule runs in Python, but only on
the rows it concerns: the open returns and the open purchases that share a key with one
(:func:`candidates`, an engine query; a few percent of the rows of a retail export, none in most).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd

from analysis.data.engine import ROW
from analysis.data.rules import EPS


@dataclass
class Netting:
    """What netting changed: row → reason, row → reduced amount, and the amount by which returns
    reduced purchases that stay."""

    reasons: dict[int, str] = field(default_factory=dict)
    amounts: dict[int, float] = field(default_factory=dict)
    netted: float = 0.0

    def as_frame(self) -> pd.DataFrame:
        rows = sorted(self.reasons.keys() | self.amounts.keys())
        return pd.DataFrame({
            ROW: np.array(rows, dtype="int64"),
            "net_reason": pd.Series([self.reasons.get(r) for r in rows], dtype=object),
            "net_amount": pd.Series([self.amounts.get(r, np.nan) for r in rows], dtype="float64"),
        })


def candidates(t: ibis.Table) -> ibis.Table:
    """The open rows a return can touch: open returns and open purchases sharing a key with one.
    ``t`` has ``reason``, ``is_return``, ``net_key``, ``units``, ``timestamp``, ``amount``."""
    open_rows = t.filter(t.reason.isnull())
    keys = open_rows.filter(open_rows.is_return).select("net_key").distinct()
    rows = open_rows.filter(open_rows.net_key.isin(keys.net_key))
    return rows.select(ROW, "net_key", "timestamp", "units", "amount", "is_return").order_by(ROW)


def net_returns(rows: pd.DataFrame) -> Netting:
    """Net the returns in ``rows`` (from :func:`candidates`, in input order) against their purchases."""
    out = Netting()
    if rows.empty:
        return out
    rows = rows.set_index(ROW)
    key, ts, units = rows["net_key"], rows["timestamp"], rows["units"]
    is_ret = rows["is_return"].to_numpy(dtype=bool)
    returns, purchases = rows.index[is_ret], rows.index[~is_ret]
    by_key: dict[str, list[int]] = {}
    for i in purchases[np.argsort(ts[purchases].to_numpy(), kind="stable")]:
        by_key.setdefault(key[i], []).append(i)
    remaining = {i: float(units[i]) for i in purchases}
    original = dict(remaining)
    for r in returns[np.argsort(ts[returns].to_numpy(), kind="stable")]:
        need = float(units[r])
        usable = [i for i in by_key.get(key[r], []) if ts[i] <= ts[r] and remaining[i] > 0]
        if need <= 0 or sum(remaining[i] for i in usable) + EPS < need:
            out.reasons[int(r)] = "unmatched_return"
            continue
        out.reasons[int(r)] = "return_netted"
        for i in reversed(usable):  # most recent purchase first
            take = min(need, remaining[i])
            remaining[i] -= take
            need -= take
            if need <= EPS:
                break
    for i, left in remaining.items():
        if left >= original[i] - 1e-12:
            continue
        if left <= EPS:
            out.reasons[int(i)] = "refunded_purchase"
        else:
            before = rows.at[i, "amount"]
            if not np.isnan(before):  # without amounts there is no amount to reduce
                after = before * left / original[i]
                out.amounts[int(i)] = after
                out.netted += before - after
    return out


def returned_lines(quarantine: pd.DataFrame, mapping: dict[str, str], data_cfg: dict) -> pd.DataFrame:
    """The returns netting took off earlier purchases (quarantine reason ``return_netted``) as the stages read
    them: ``customer_id`` (text, as the validated transactions have it), ``timestamp`` and ``amount`` (> 0, the
    value returned). The quarantine keeps the input's headers and text; ``mapping`` (role -> header) finds them."""
    from analysis.data.parsing import parse_dates, parse_text
    from analysis.stage import no_returns

    rows = quarantine[quarantine["reason"] == "return_netted"] if "reason" in quarantine else quarantine.iloc[:0]
    if rows.empty or "customer_id" not in mapping or "timestamp" not in mapping:
        return no_returns()
    when, _ = parse_dates(rows[mapping["timestamp"]], fmt=data_cfg["date_format"], timezone=data_cfg["timezone"])
    return pd.DataFrame({
        # the quarantine's text of a number column reads 17850.0 where the validated id is 17850
        "customer_id": parse_text(rows[mapping["customer_id"]]).str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
        .astype(str).to_numpy(),
        "timestamp": when.to_numpy(),
        "amount": pd.to_numeric(rows["amount_parsed"], errors="coerce").abs().to_numpy(),
    })  # fmt: skip
