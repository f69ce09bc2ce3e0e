"""Leak-free churn features at a cut-off date, from the purchases on or before it and nothing later.

The transactions are condensed once into purchase days (:class:`DailyPurchases`: one row per customer and
calendar day, with the day's spend and orders); the features at any cut-off are computed from the rows up
to that day with numpy, so a million customers take seconds. Definitions (days are calendar days; the
cut-off day belongs to the past):

- ``recency_days``, ``tenure_days``: days from the last / first purchase day to the cut-off.
- ``purchase_days``, ``orders``, ``total_spend``, ``avg_order_value``, ``avg_day_spend``.
- Gaps between consecutive purchase days: ``mean_gap_days`` (= (last - first) / (purchase days - 1), as in
  the customer table), ``gap_std_days``, ``max_gap_days``, ``last_gap_days``; NaN with one purchase day.
- ``recency_gap_ratio``: days since the last purchase / own mean gap; ``recency_max_gap_ratio``: / own
  longest gap (above 1: a silence longer than any before).
- Trend over a window of ``trend_days``: purchase days and spend in ``(c - w, c]`` (``*_last``) and
  ``(c - 2w, c - w]`` (``*_prev``); ``purchases_trend`` and ``spend_trend`` = (last - prev) / (last + prev),
  from -1 (stopped) to +1 (started), 0 when both are 0.
- ``p_alive`` and ``expected_purchases`` (over the horizon) from a BG/NBD :class:`analysis.clv.PurchaseModel`
  fitted on the lifetimes summary at the cut-off (the same numbers as
  ``analysis.data.lifetimes_summary(tx up to c, c)``, computed here from the purchase days).
- ``return_share``: returned / (kept + returned) spend up to the cut-off, when returns are given.
- Customer attributes (country, region, industry, customer_type, size) as indicator columns
  ``attr_<column>=<value>`` for the most frequent values (attributes are treated as fixed over time), 0 or 1
  in one byte each (the models read them as the same numbers; fifty of them for a million customers take
  50 MB, not 400).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.stage import Text

ATTRIBUTES = ("country", "region", "industry", "customer_type", "size")
TOP_VALUES = 10
NS_PER_DAY = 86_400_000_000_000
RETRY_PENALIZER = 0.01  # L2 penalty of the BG/NBD retry when the plain fit does not converge


@dataclass
class DailyPurchases:
    """Purchase days sorted by customer then day: ``customer`` (code into ``ids``), ``day`` (days since
    1970-01-01), ``spend`` and ``orders`` of that day. ``ids``: customer ids (a str ``Index`` named
    ``customer_id``), sorted; every frame of features or labels takes its index from it, so the customer ids
    (a million strings) are turned into an index once."""

    customer: np.ndarray
    day: np.ndarray
    spend: np.ndarray
    orders: np.ndarray
    ids: pd.Index

    @property
    def n_customers(self) -> int:
        return len(self.ids)

    @property
    def first_day(self) -> int:
        return int(self.day.min())


def to_day(value: Any) -> int:
    """Days since 1970-01-01 of a date (time of day dropped)."""
    return int(pd.Timestamp(value).normalize().value // NS_PER_DAY)


def daily_purchases(tx: pd.DataFrame) -> DailyPurchases:
    """Condense validated transactions (``customer_id``, ``order_id``, ``timestamp``, ``amount``) into
    purchase days."""
    cust, ids = pd.factorize(tx["customer_id"].astype(str), sort=True)
    ids = pd.Index(ids, name="customer_id")
    day = tx["timestamp"].to_numpy("datetime64[ns]").astype("datetime64[D]").astype(np.int64)
    amount = tx["amount"].to_numpy(float)
    if len(day) == 0:
        empty = np.zeros(0, np.int64)
        return DailyPurchases(empty, empty, np.zeros(0), empty, ids)
    first_day = int(day.min())
    key = cust.astype(np.int64) * (int(day.max()) - first_day + 1) + (day - first_day)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.concatenate([[0], np.flatnonzero(np.diff(sorted_key)) + 1])
    group = np.empty(len(key), np.int64)
    group[order] = np.cumsum(np.r_[True, np.diff(sorted_key) != 0]) - 1
    n = len(starts)
    spend = np.bincount(group, weights=amount, minlength=n)
    first = order[starts]
    return DailyPurchases(cust[first].astype(np.int64), day[first], spend, _orders(tx, group, n), ids)


def _orders(tx: pd.DataFrame, group: np.ndarray, n: int) -> np.ndarray:
    """Distinct orders per purchase day (``group``: the purchase day of each transaction row). Only the rows
    of days with more than one row need their order ids compared; a day with one row has one order."""
    orders = np.ones(n, np.int64)
    if "order_id" not in tx:
        return orders
    shared = np.bincount(group, minlength=n)[group] > 1
    if shared.any():
        group = group[shared]
        codes, uniques = pd.factorize(tx["order_id"][shared].astype(str))
        pairs = np.sort(group * np.int64(len(uniques) + 1) + codes)  # (day, order) pairs; count distinct ones
        distinct = pairs[np.r_[True, np.diff(pairs) != 0]]
        days, counts = np.unique(distinct // (len(uniques) + 1), return_counts=True)
        orders[days] = counts
    return orders


def known_customers(daily: DailyPurchases, cutoff: Any) -> np.ndarray:
    """Codes (into ``daily.ids``, increasing) of the customers with a purchase day on or before ``cutoff``."""
    known = np.zeros(daily.n_customers, bool)
    known[daily.customer[daily.day <= to_day(cutoff)]] = True
    return np.flatnonzero(known)


def customer_index(daily: DailyPurchases, codes: np.ndarray) -> pd.Index:
    """The customer ids of ``codes`` (increasing) as an index; ``daily.ids`` itself when they are all."""
    return daily.ids if len(codes) == daily.n_customers else daily.ids.take(codes)


def _segments(customer: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers present in a sorted code array, the start of their rows and their row counts."""
    if len(customer) == 0:
        return customer, np.zeros(0, np.int64), np.zeros(0, np.int64)
    change = np.flatnonzero(np.diff(customer)) + 1
    starts = np.concatenate([[0], change])
    counts = np.diff(np.concatenate([starts, [len(customer)]]))
    return customer[starts], starts, counts


def _window_sums(values, mask, starts) -> np.ndarray:
    return np.add.reduceat(np.where(mask, values, 0), starts) if len(starts) else np.zeros(0)


def _trend(last: np.ndarray, prev: np.ndarray) -> np.ndarray:
    total = last + prev
    return np.divide(last - prev, total, out=np.zeros(len(total)), where=total > 0)


BASE_FEATURES = ("recency_days", "tenure_days", "purchase_days", "orders", "total_spend", "avg_order_value",
                 "avg_day_spend", "mean_gap_days", "gap_std_days", "max_gap_days", "last_gap_days",
                 "recency_gap_ratio", "recency_max_gap_ratio", "purchases_last", "purchases_prev", "spend_last",
                 "spend_prev", "purchases_trend", "spend_trend")  # fmt: skip


def base_features(daily: DailyPurchases, cutoff: Any, trend_days: int) -> pd.DataFrame:
    """Every purchase-history feature at ``cutoff`` except the model ones (see the module docstring),
    indexed by ``customer_id`` for customers with a purchase on or before it. Each feature is written into
    its row of one block as it is computed, which becomes the frame as it is (ten million customers' features
    are not held twice)."""
    c = to_day(cutoff)
    keep = daily.day <= c
    day = daily.day[keep]
    who, starts, counts = _segments(daily.customer[keep])
    ends = starts + counts - 1
    block = np.empty((len(BASE_FEATURES), len(who)))
    f = dict(zip(BASE_FEATURES, block, strict=True))  # each feature's row of the block
    first, last = day[starts], day[ends]
    n_days, recency, mean_gap = f["purchase_days"], f["recency_days"], f["mean_gap_days"]
    n_days[:] = counts
    recency[:] = c - last
    f["tenure_days"][:] = c - first
    gap = np.empty(len(day))
    if len(day):
        gap[1:] = np.diff(day)
        gap[starts] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_gap[:] = np.where(counts > 1, (last - first) / np.maximum(n_days - 1, 1), np.nan)
        sq = np.add.reduceat(np.nan_to_num(gap) ** 2, starts) if len(starts) else np.zeros(0)
        var = sq / np.maximum(n_days - 1, 1) - mean_gap**2
        f["gap_std_days"][:] = np.where(
            counts > 2, np.sqrt(np.maximum(var, 0) * (n_days - 1) / np.maximum(n_days - 2, 1)), np.nan
        )
        f["max_gap_days"][:] = np.fmax.reduceat(gap, starts) if len(starts) else np.zeros(0)
        f["last_gap_days"][:] = gap[ends] if len(ends) else np.zeros(0)
        del gap, sq, var
        spend = daily.spend[keep]
        total_spend, n_orders = f["total_spend"], f["orders"]
        total_spend[:] = np.add.reduceat(spend, starts) if len(starts) else np.zeros(0)
        n_orders[:] = np.add.reduceat(daily.orders[keep], starts) if len(starts) else np.zeros(0)
        f["avg_order_value"][:] = total_spend / np.maximum(n_orders, 1)
        f["avg_day_spend"][:] = total_spend / n_days
        f["recency_gap_ratio"][:] = recency / mean_gap
        f["recency_max_gap_ratio"][:] = recency / f["max_gap_days"]
        w = int(trend_days)
        in_last, in_prev = day > c - w, (day > c - 2 * w) & (day <= c - w)
        f["purchases_last"][:] = _window_sums(np.ones(len(day)), in_last, starts)
        f["purchases_prev"][:] = _window_sums(np.ones(len(day)), in_prev, starts)
        f["spend_last"][:] = _window_sums(spend, in_last, starts)
        f["spend_prev"][:] = _window_sums(spend, in_prev, starts)
    f["purchases_trend"][:] = _trend(f["purchases_last"], f["purchases_prev"])
    f["spend_trend"][:] = _trend(f["spend_last"], f["spend_prev"])
    return pd.DataFrame(block.T, index=customer_index(daily, who), columns=list(BASE_FEATURES), copy=False)


def lifetimes_frame(base: pd.DataFrame) -> pd.DataFrame:
    """The lifetimes summary in weeks (``frequency``, ``recency``, ``T``) from :func:`base_features`:
    repeat purchase days, first to last purchase day, first purchase day to the cut-off."""
    return pd.DataFrame(
        {
            "frequency": base["purchase_days"] - 1.0,
            "recency": (base["tenure_days"] - base["recency_days"]) / 7.0,
            "T": base["tenure_days"] / 7.0,
        },
        index=base.index,
    )


def _patterns(base: pd.DataFrame, summary: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Each customer's purchase pattern (purchase days, days since the first and the last purchase: whole
    numbers) as a code, and one summary row per pattern: the purchase model scores each pattern once, and
    customers who share one share its numbers."""
    days = [base[c].to_numpy(np.int64) for c in ("purchase_days", "tenure_days", "recency_days")]
    span = int(max(d.max() for d in days)) + 1
    pattern, patterns = pd.factorize((days[0] * span + days[1]) * span + days[2])
    row = np.empty(len(patterns), np.int64)
    row[pattern] = np.arange(len(pattern))  # any of the pattern's customers: they have the same summary
    return pattern, summary.iloc[row].reset_index(drop=True)


FLAT_P_ALIVE = {
    "en": "P(alive) is the same for nearly every customer (the BG/NBD fit sees no drop-out in this history), so it "
          "cannot rank customers here",
    "zh": "几乎每位客户的仍活跃概率都相同（BG/NBD 拟合在这段历史中看不到流失），因此它在这里无法区分客户",
}  # fmt: skip


def model_features(base: pd.DataFrame, horizon_days: int, penalizer: float = 0.0) -> tuple[pd.DataFrame, list[Text]]:
    """``p_alive`` and ``expected_purchases`` over the horizon from a BG/NBD model fitted on the customers
    at the cut-off, and what to know about the fit (``{en, zh}`` each); NaN and a warning when it cannot be
    fitted."""
    from analysis.clv import PurchaseModel

    summary = lifetimes_frame(base)
    pattern, unique = _patterns(base, summary)
    out = pd.DataFrame(index=base.index)
    errors = []
    for pen in dict.fromkeys([penalizer, max(penalizer, RETRY_PENALIZER)]):  # a plain fit, then a penalised retry
        try:
            model = PurchaseModel("bgnbd", penalizer=pen).fit(summary)
            out["p_alive"] = model.p_alive_unique(unique)[pattern]
            out["expected_purchases"] = model.conditional_matrix(unique, [horizon_days / 7.0])[pattern, 0]
        except Exception as exc:  # noqa: BLE001 - a failed fit leaves the features empty, stated in the report
            errors.append(f"{type(exc).__name__}: {exc}".strip())
            continue
        notes = [{"en": f"the BG/NBD model needed penalizer {pen} to converge",
                  "zh": f"BG/NBD 模型需要惩罚项 {pen} 才能收敛"}] if errors else []  # fmt: skip
        if out["p_alive"].std() < 1e-3:
            notes.append(dict(FLAT_P_ALIVE))
        return out, notes
    out["p_alive"] = out["expected_purchases"] = np.nan
    said = "; ".join(errors)
    return out, [{"en": f"the BG/NBD model could not be fitted ({said}); P(alive) left empty",
                  "zh": f"BG/NBD 模型无法拟合（“{said}”）；仍活跃概率留空"}]  # fmt: skip


def customer_attributes(
    customers: pd.DataFrame | None, where: np.ndarray | None, n_customers: int
) -> dict[str, tuple[np.ndarray, pd.Index]]:
    """Each attribute's value code per customer of the purchase days (-1 where unknown) and its values, from
    the customer table's first row of each customer; ``where``: the purchase days' customer (code into
    ``DailyPurchases.ids``) of each row of the table, -1 for one without purchases. Attributes are fixed over
    time, so this is done once for every cut-off."""
    present = [col for col in ATTRIBUTES if customers is not None and col in customers]
    if not present:
        return {}
    known = np.flatnonzero(where >= 0)
    codes, first = np.unique(where[known], return_index=True)
    row = np.full(n_customers, -1, np.int64)
    row[codes] = known[first]
    out = {}
    for col in present:
        values, uniques = pd.factorize(customers[col])
        out[col] = (np.where(row >= 0, values[row], -1), uniques)
    return out


def attribute_indicators(attributes: dict[str, tuple[np.ndarray, pd.Index]], who: np.ndarray, index: pd.Index):
    """Indicator columns ``attr_<column>=<value>`` for the most frequent values of each attribute among the
    customers ``who`` (codes into the purchase days' customers, ``index`` their ids)."""
    names = []
    block = np.empty((len(attributes) * TOP_VALUES, len(who)), np.uint8)  # a row per indicator, filled in place
    for col, (all_codes, uniques) in attributes.items():
        # renumbered in order of first appearance among these customers, as value_counts meets them
        codes, seen = pd.factorize(all_codes[who])
        values = uniques[seen]
        counts = pd.Series(np.bincount(codes, minlength=len(seen)))[seen >= 0]
        for code in counts.sort_values(ascending=False).index[:TOP_VALUES]:
            np.equal(codes, code, out=block[len(names)])
            names.append(f"attr_{col}={values[code]}")
    return pd.DataFrame(block[: len(names)].T, index=index, columns=names, copy=False)


def return_shares(returns: pd.DataFrame | None, base: pd.DataFrame, cutoff: Any) -> pd.Series | None:
    """Returned / (kept + returned) spend up to ``cutoff`` per customer, or None without returns."""
    if returns is None or len(returns) == 0:
        return None
    r = returns[returns["timestamp"] <= pd.Timestamp(cutoff).normalize() + pd.Timedelta(days=1, microseconds=-1)]
    returned = r.groupby(r["customer_id"].astype(str))["amount"].sum().abs().reindex(base.index).fillna(0.0)
    total = base["total_spend"] + returned
    return (returned / total.where(total > 0)).fillna(0.0)


def cutoff_features(
    daily: DailyPurchases,
    cutoff: Any,
    horizon_days: int,
    trend_days: int | None = None,
    attributes: dict[str, tuple[np.ndarray, pd.Index]] | None = None,
    returns: pd.DataFrame | None = None,
    penalizer: float = 0.0,
) -> tuple[pd.DataFrame, list[Text]]:
    """All features at ``cutoff`` (module docstring), indexed by ``customer_id``, and any warnings (``{en, zh}``
    each); ``attributes`` from :func:`customer_attributes`."""
    base = base_features(daily, cutoff, int(trend_days or horizon_days))
    if len(base) == 0:
        return base, [{"en": "no customer has a purchase on or before the cut-off",
                       "zh": "截止日及之前没有任何客户有购买记录"}]  # fmt: skip
    model, warnings = model_features(base, horizon_days, penalizer)
    parts = [base, model]
    share = return_shares(returns, base, cutoff)
    if share is not None:
        parts.append(share.rename("return_share").to_frame())
    if attributes:
        parts.append(attribute_indicators(attributes, known_customers(daily, cutoff), base.index))
    return pd.concat(parts, axis=1), warnings
