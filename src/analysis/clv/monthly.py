"""The CLV models month by month: calendar month windows after a date (:func:`month_edges`), the forecast of
today's customers' repeat purchases and revenue per calendar month, in total, per tier and per RFM segment, with
the bootstrap's range (:func:`monthly_forecast`, :func:`forecast_quarter`), and the same forecast made on the
backtest's calibration period against what the customers did in each month of the holdout
(:mod:`analysis.clv.backtest_months`). Its sentences, en/zh, are :data:`TEXTS`; its charts are in
:mod:`analysis.clv.monthly_plots`.

Time in a window: the purchase model's conditional expectation E[X(t)] of a customer's repeat purchases in
(T, T + t] gives the purchases of a window (t1, t2] as E[X(t2)] - E[X(t1)]. The forecast's calendar days are
counted in the CLV's months (a month = 4.345 weeks or 30 days, :data:`~analysis.clv.models.UNITS_PER_MONTH`):
the days from the as-of date are scaled so that the horizon's last day is exactly ``horizon_months`` model
months, and the horizon's windows add up to the page's per-customer totals (for weeks the scale differs from
calendar days by less than 0.01 %, for days by the 5 or 6 days a year has beyond 360). The backtest counts
calendar days as they are (days / 7 for weeks), as the backtest does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from analysis.clv.describe import fill
from analysis.clv.fitters import quiet_lifetimes
from analysis.clv.likelihoods import bg_denominator, bg_numerator, gamma_gamma_shrinkage
from analysis.clv.models import SUMMARY_COLUMNS, UNITS_PER_MONTH, PurchaseModel, check_columns, condense
from analysis.clv.nbd import NBD_MODEL
from analysis.errors import UserError
from analysis.stage import Text

FORECAST_COLUMNS = ("month", "group_by", "group", "expected_purchases", "expected_revenue", "expected_revenue_low",
                    "expected_revenue_high")  # fmt: skip
GROUPINGS = ("tier", "rfm_segment")  # the customer table's columns the forecast is split by, after "all"
QUARTER_MONTHS = 3
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Every sentence of the month-by-month forecast and backtest, by message id (str.format templates).
TEXTS = {
    "month": {"en": "{mon} {year}", "zh": "{year}年{month}月"},
    "rest_of": {"en": "{mon} {year} (from {day} {mon})", "zh": "{year}年{month}月（{day}日起）"},
    "until": {"en": "{mon} {year} (to {day} {mon})", "zh": "{year}年{month}月（至{day}日）"},
    "between": {"en": "{mon} {year} ({first} to {day} {mon})", "zh": "{year}年{month}月（{first}日至{day}日）"},
    "existing_only": {"en": "The forecast covers today's {customers:,} customers only, not customers still to "
                            "be won.",
                      "zh": "本预测只涵盖现有的 {customers:,} 位客户，不包括今后新获得的客户。"},
    "quarter": {"en": "Next three months ({start} to {end}): existing customers are expected to bring "
                      "{revenue:,.0f} in revenue (range {low:,.0f} to {high:,.0f}) from {purchases:,.0f} repeat "
                      "purchases.",
                "zh": "未来三个月（{start} 至 {end}）：现有客户预计带来收入 {revenue:,.0f}"
                      "（区间 {low:,.0f} 至 {high:,.0f}），重复购买 {purchases:,.0f} 次。"},
    "quarter_no_range": {"en": "Next three months ({start} to {end}): existing customers are expected to bring "
                               "{revenue:,.0f} in revenue from {purchases:,.0f} repeat purchases.",
                         "zh": "未来三个月（{start} 至 {end}）：现有客户预计带来收入 {revenue:,.0f}，"
                               "重复购买 {purchases:,.0f} 次。"},
    "quarter_purchases": {"en": "Next three months ({start} to {end}): existing customers are expected to make "
                                "{purchases:,.0f} repeat purchases (the data has no amounts: no revenue).",
                          "zh": "未来三个月（{start} 至 {end}）：现有客户预计重复购买 {purchases:,.0f} 次"
                                "（数据没有金额，无法预测收入）。"},
    "backtest": {"en": "Forecasting the {months} holdout months from {calibration_end} to {end}, the same method "
                       "missed monthly revenue by {mape_revenue:.0f}% on average and put the period's total "
                       "{total_revenue_words}; it missed monthly repeat purchases by {mape_purchases:.0f}% on "
                       "average, their total {total_purchases_words}.",
                 "zh": "以 {calibration_end} 为起点预测其后至 {end} 的 {months} 个验证月，同一方法对月收入的平均"
                       "误差为 {mape_revenue:.0f}%，整个期间的收入合计{total_revenue_words}；对月重复购买次数的平均"
                       "误差为 {mape_purchases:.0f}%，合计{total_purchases_words}。"},
    "backtest_purchases": {"en": "Forecasting the {months} holdout months from {calibration_end} to {end}, the same "
                                 "method missed monthly repeat purchases by {mape_purchases:.0f}% on average and put "
                                 "their total {total_purchases_words}; the data has no amounts, so revenue is not "
                                 "backtested.",
                           "zh": "以 {calibration_end} 为起点预测其后至 {end} 的 {months} 个验证月，同一方法对月重复"
                                 "购买次数的平均误差为 {mape_purchases:.0f}%，合计{total_purchases_words}；"
                                 "数据没有金额，未检验收入。"},
    "too_low": {"en": "{size:.1f}% too low", "zh": "低估 {size:.1f}%"},
    "too_high": {"en": "{size:.1f}% too high", "zh": "高估 {size:.1f}%"},
    "on_target": {"en": "on target", "zh": "与实际相符"},
    "no_total": {"en": "against none bought", "zh": "无从比较（没有实际购买）"},
    "short_holdout": {"en": "The holdout period ({start} to {end}) is shorter than two calendar months: there is "
                            "no month-by-month backtest.",
                      "zh": "验证期（{start} 至 {end}）不足两个自然月，无法逐月回测。"},
    "no_backtest": {"en": "No model could be backtested on this data: there is no month-by-month backtest.",
                    "zh": "本数据上没有可回测的模型，无法逐月回测。"},
    "no_model": {"en": "{label} was not backtested: there is no month-by-month backtest.",
                 "zh": "{label} 未经回测，无法逐月回测。"},
}  # fmt: skip


def texts(key: str, **values: Any) -> Text:
    """The :data:`TEXTS` sentence ``key`` filled with ``values``, ``{"en": ..., "zh": ...}``."""
    return fill(TEXTS, key, **values)


# calendar months ----------------------------------------------------------------------------------------------
def month_windows(start: Any, end: Any) -> pd.DataFrame:
    """The calendar months of the days after ``start`` up to ``end`` (both dates; ``start`` itself is the past):
    one row per month, in order, with ``month`` (its first day, ISO), ``first_day`` and ``last_day`` (the days of
    the month the window holds), ``days`` (their number), ``end_days`` (days from ``start`` to ``last_day``),
    ``partial`` (the window is not the whole month: the rest of the month after a mid-month ``start``, or the
    days up to a mid-month ``end``) and ``label_en``, ``label_zh`` (the month as people read it, a partial one
    saying which days)."""
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if not end > start:
        raise UserError(f"the month windows need an end after the start: got {start.date()} to {end.date()}")
    rows, first = [], start + pd.Timedelta(days=1)
    while first <= end:
        month = first.replace(day=1)
        month_end = month + pd.offsets.MonthEnd(0)
        last = min(month_end, end)
        label = _label(first, last, month_end)
        rows.append({"month": month.date().isoformat(), "first_day": first, "last_day": last,
                     "days": (last - first).days + 1, "end_days": (last - start).days,
                     "partial": first.day != 1 or last != month_end, "label_en": label["en"],
                     "label_zh": label["zh"]})  # fmt: skip
        first = last + pd.Timedelta(days=1)
    return pd.DataFrame(rows)


def _label(first: pd.Timestamp, last: pd.Timestamp, month_end: pd.Timestamp) -> Text:
    """A window's month as people read it: "Jun 1998", or which days of it when it is not the whole month."""
    names = {"mon": MONTHS_EN[first.month - 1], "year": first.year, "month": first.month, "day": last.day}
    if first.day != 1 and last != month_end:
        return texts("between", first=first.day, **names)
    if first.day != 1:
        return texts("rest_of", **{**names, "day": first.day})
    return texts("until", **names) if last != month_end else texts("month", **names)


def months_after(as_of: pd.Timestamp, months: int) -> pd.Timestamp:
    """The day ``months`` calendar months after ``as_of``: the same day of the month, or after a month-end as-of
    date the month's last day (30 April + 3 months is 31 July, not 30 July; 28 February 2023 + 12 is 29 February
    2024)."""
    if as_of.is_month_end:
        return as_of + pd.offsets.MonthEnd(months)
    return as_of + pd.DateOffset(months=months)


def month_edges(as_of: Any, horizon_months: int) -> pd.DataFrame:
    """The calendar month windows of the ``horizon_months`` months after ``as_of`` (:func:`month_windows` from
    ``as_of`` to :func:`months_after` it): after a mid-month as-of date the first window is the rest of that
    month and the last one the days of the final month up to the horizon, both labelled so; after a month-end
    one, whole months."""
    if int(horizon_months) < 1:
        raise UserError(f"the forecast needs a horizon of at least 1 month, got {horizon_months}")
    as_of = pd.Timestamp(as_of).normalize()
    return month_windows(as_of, months_after(as_of, int(horizon_months)))


def model_times(edges: pd.DataFrame, horizon_months: int, time_unit: str) -> np.ndarray:
    """The window ends of :func:`month_edges` in model time units, the horizon's last day exactly
    ``horizon_months`` model months (see the module's docstring)."""
    horizon = int(horizon_months) * UNITS_PER_MONTH[time_unit]
    days = edges["end_days"].to_numpy(float)
    times = days * (horizon / days[-1])
    times[-1] = horizon  # the same number the CLV's horizon is (no rounding of the scale)
    return times


# the forecast ------------------------------------------------------------------------------------------------
def _group_weights(customers: pd.DataFrame, groups: pd.DataFrame | None, inverse: np.ndarray, n_unique: int):
    """The groups the forecast adds customers up by (``all``, then each of :data:`GROUPINGS` in ``groups``) as
    (group_by, group) pairs, and per group and unique summary row the customers there (``N``, a sparse groups x
    rows matrix) and the sum of their mean spend (``M``, aligned with ``N.data``; repeat buyers only: the part
    of Gamma-Gamma's expectation the customer's own spend weighs)."""
    f = customers["frequency"].to_numpy(float)
    m = np.where(f > 0, np.nan_to_num(customers["monetary_value"].to_numpy(float)), 0.0)
    labels, parts = [("all", "all")], [_cells(inverse, m, n_unique)]
    for column in GROUPINGS if groups is not None else ():
        if column not in groups:
            continue
        code, names = pd.factorize(groups[column].reindex(customers.index), sort=True)
        keep = code >= 0  # a customer without a group of this kind is in "all" only
        cells, counts, spend = _cells(code[keep] * n_unique + inverse[keep], m[keep], len(names) * n_unique)
        parts.append((cells + len(labels) * n_unique, counts, spend))
        labels += [(column, str(name)) for name in names]
    cells, counts, M = (np.concatenate(v) for v in zip(*parts, strict=True))  # row-major, as CSR keeps them
    indptr = np.searchsorted(cells, np.arange(len(labels) + 1) * n_unique)
    N = sparse.csr_matrix((counts, cells % n_unique, indptr), (len(labels), n_unique))
    return labels, N, M


DENSE_CELLS = 1 << 23  # up to this many (group, row) cells the customers are counted into a dense array


def _cells(key: np.ndarray, m: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct values of ``key`` (in [0, ``size``), in order), how many times each occurs and the sum of
    ``m`` over them: counted into a dense array when ``size`` is at most :data:`DENSE_CELLS` (no sort of a
    million keys), else by sorting."""
    if size <= DENSE_CELLS:
        counts = np.bincount(key, minlength=size)
        cells = np.flatnonzero(counts)
        return cells, counts[cells].astype(float), np.bincount(key, weights=m, minlength=size)[cells]
    cells, cell = np.unique(key, return_inverse=True)
    return cells, np.bincount(cell).astype(float), np.bincount(cell, weights=m, minlength=len(cells))


def _spend_parts(method: str, params, mean: float, f: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Gamma-Gamma's expected spend per purchase of a customer as base + slope x their mean spend, per unique row
    (``f``: its frequency); None without amounts (``method`` "none")."""
    if method == "none":
        return None
    if method == "mean":
        return np.full(len(f), float(mean)), np.zeros(len(f))
    population, weight = gamma_gamma_shrinkage(np.asarray(params, float), f)
    return (1 - weight) * population, weight


def _pair_sums(N, pairs) -> tuple:
    """For BG/NBD and MBG/NBD without covariates, whose expectations are a numerator per distinct (frequency, T)
    over a denominator per row: the distinct pairs' frequency and T, each unique row's pair, and each nonzero of
    ``N``'s (group, pair) cell (the group sums are then taken per pair: the numerators are never spread over
    the rows)."""
    distinct, _, pair = pairs
    groups = np.repeat(np.arange(N.shape[0]), np.diff(N.indptr))
    cells, cell = np.unique(groups * len(distinct) + pair[N.indices], return_inverse=True)
    shape = (N.shape[0], len(distinct))
    structure = (cells % len(distinct), np.searchsorted(cells, np.arange(N.shape[0] + 1) * len(distinct)), shape)
    return distinct["frequency"].to_numpy(float), distinct["T"].to_numpy(float), cell, structure


def _group_sums(pm, unique: pd.DataFrame, times, data: np.ndarray, N, by_pair) -> np.ndarray:
    """Per group and time of ``times``: the sum over the unique rows of ``data`` (aligned with ``N``'s nonzeros:
    the row's weight in the group) x the row's conditional expectation E[X(t)] under ``pm``."""
    if by_pair is None:
        return sparse.csr_matrix((data, N.indices, N.indptr), N.shape) @ pm.conditional_matrix(unique, list(times))
    pf, pT, cell, (indices, indptr, shape) = by_pair
    p = pm.params_.to_numpy(float)
    f, r, T = (unique[c].to_numpy(float) for c in SUMMARY_COLUMNS)
    per_row = data / bg_denominator(pm.model, p, f, r, T)[N.indices]
    weights = sparse.csr_matrix((np.bincount(cell, weights=per_row), indices, indptr), shape)
    with quiet_lifetimes():
        num = np.column_stack([bg_numerator(pm.model, p, t, pf, pT) for t in times])
    return weights @ num


def _window_sums(pm, unique: pd.DataFrame, times, N, M, spend, by_pair=None, purchases: bool = True):
    """Expected repeat purchases (None unless ``purchases``) and revenue per group and window (groups x windows)
    for purchase model ``pm`` and spend parts ``spend`` (:func:`_spend_parts`; None: revenue NaN); ``N``, ``M``:
    :func:`_group_weights`, ``by_pair``: :func:`_pair_sums` or None. The group sums are taken on the cumulative
    expectations and differenced after."""
    count = np.diff(_group_sums(pm, unique, times, N.data, N, by_pair), axis=1, prepend=0.0) if purchases else None
    if spend is None:
        return count, np.full((N.shape[0], len(times)), np.nan)
    base, slope = spend
    data = N.data * base[N.indices] + M * slope[N.indices]
    return count, np.diff(_group_sums(pm, unique, times, data, N, by_pair), axis=1, prepend=0.0)


def draw_models(model, bootstrap: pd.DataFrame | None) -> list[tuple[Any, pd.Series]]:
    """(purchase model, the draw's row) of each bootstrap refit with finite purchase values, as
    :class:`~analysis.clv.value.CLVModel` takes them for its intervals (``CLVModel.bootstrap_params_``: a row per
    draw, the purchase model's parameters, and coefficients with covariates, by name, and the spend model's
    ``gg_*`` columns)."""
    if bootstrap is None or not len(bootstrap):
        return []
    covariates = hasattr(model, "with_values")  # a CovariatePurchaseModel: parameters and coefficients
    names = list(model.draw_index) if covariates else list(model.params_.index)
    name = getattr(model, "model", NBD_MODEL)  # an NBDModel has no model name
    out = []
    for _, row in bootstrap.iterrows():
        values = row[names].to_numpy(float)
        if np.all(np.isfinite(values)):
            out.append((model.with_values(values) if covariates else type(model).from_params(name, values), row))
    return out


def pattern_columns(model) -> list[str]:
    """The columns that tell customers apart in purchase model ``model``: frequency, recency, T (and the
    covariates of a model with covariates)."""
    return list(getattr(model, "pattern_columns", SUMMARY_COLUMNS))


def forecast_arrays(model, spend, customers, times, groups=None, bootstrap=None):
    """(group labels, purchases, revenue, revenue of each bootstrap draw): the expected repeat purchases and
    revenue of ``customers`` in the windows ending at ``times`` (model time units from the as-of date), per group
    (groups x windows; draws x groups x windows, empty without a bootstrap)."""
    columns = pattern_columns(model)
    check_columns(customers, (*columns, "monetary_value"))
    unique, _, inverse = condense(customers, columns)
    labels, N, M = _group_weights(customers, groups, inverse, len(unique))
    f = unique["frequency"].to_numpy(float)
    point = _spend_parts(spend.method_, spend.params_.to_numpy(float), spend.population_mean_, f)
    plain = type(model) is PurchaseModel and model.model != "pareto"  # BG/NBD, MBG/NBD without covariates
    pairs = _pair_sums(N, condense(unique, ["frequency", "T"])) if plain else None
    purchases, revenue = _window_sums(model, unique, times, N, M, point, pairs)
    draws = []
    for pm, row in draw_models(model, bootstrap) if point is not None else ():
        parts = _spend_parts(
            row["gg_method"], row[["gg_p", "gg_q", "gg_v"]].to_numpy(float), row["gg_population_mean"], f
        )
        draws.append(_window_sums(pm, unique, times, N, M, parts, pairs, purchases=False)[1])
    return labels, purchases, revenue, np.array(draws).reshape(len(draws), *revenue.shape)


def _range(draws: np.ndarray, interval: float) -> tuple[np.ndarray, np.ndarray]:
    """The ``interval`` range of the bootstrap's draws (first axis), NaN without draws."""
    if not len(draws):
        return np.full(draws.shape[1:], np.nan), np.full(draws.shape[1:], np.nan)
    tail = (1 - float(interval)) / 2
    low, high = np.quantile(draws, [tail, 1 - tail], axis=0)
    return low, high


def forecast_products(
    model,
    spend,
    customers: pd.DataFrame,
    as_of: Any,
    horizon_months: int,
    groups: pd.DataFrame | None = None,
    *,
    time_unit: str = "weeks",
    bootstrap: pd.DataFrame | None = None,
    interval: float = 0.9,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """(:func:`monthly_forecast`'s frame, :func:`forecast_quarter`'s entry), the models evaluated once for both
    (each bootstrap refit's expectations are the costly part)."""
    as_of = pd.Timestamp(as_of).normalize()
    edges = month_edges(as_of, horizon_months)
    times = model_times(edges, horizon_months, time_unit)
    end = months_after(as_of, QUARTER_MONTHS)
    quarter = (end - as_of).days * (
        int(horizon_months) * UNITS_PER_MONTH[time_unit] / float(edges["end_days"].iloc[-1])
    )
    ends = np.unique(np.r_[times, quarter])  # the months' ends and the quarter's, in order
    labels, purchases, revenue, draws = forecast_arrays(model, spend, customers, ends, groups, bootstrap)
    at, q = np.searchsorted(ends, times), int(np.searchsorted(ends, quarter))

    def months(values: np.ndarray) -> np.ndarray:  # the windows between the months' ends (last axis)
        cumulative = np.cumsum(values, axis=-1)[..., at]
        return np.diff(cumulative, axis=-1, prepend=0.0)

    low, high = _range(months(draws), interval)
    n_groups, n_months = len(labels), len(edges)
    frame = pd.DataFrame(
        {
            "month": np.tile(edges["month"].to_numpy(), n_groups),
            "group_by": np.repeat([g for g, _ in labels], n_months),
            "group": np.repeat([name for _, name in labels], n_months),
            "expected_purchases": months(purchases).ravel(),
            "expected_revenue": months(revenue).ravel(),
            "expected_revenue_low": low.ravel(),
            "expected_revenue_high": high.ravel(),
        },
        columns=list(FORECAST_COLUMNS),
    )
    totals = [np.cumsum(v, axis=-1)[..., 0, q] for v in (purchases, revenue, draws)]  # group "all"
    return frame, quarter_entry(as_of, end, len(customers), *totals, interval)


def quarter_entry(as_of: pd.Timestamp, end: pd.Timestamp, customers: int, purchases, revenue, draws, interval):
    """The ``forecast_quarter`` entry from its totals (``draws``: the bootstrap refits' revenue)."""
    low, high = _range(np.asarray(draws, float).reshape(-1), interval)
    entry = {"start": (as_of + pd.Timedelta(days=1)).date().isoformat(), "end": end.date().isoformat(),
             "months": QUARTER_MONTHS, "customers": int(customers), "expected_purchases": float(purchases),
             "expected_revenue": float(revenue), "expected_revenue_low": float(low),
             "expected_revenue_high": float(high)}  # fmt: skip
    values = {"start": entry["start"], "end": entry["end"], "purchases": entry["expected_purchases"],
              "revenue": entry["expected_revenue"], "low": entry["expected_revenue_low"],
              "high": entry["expected_revenue_high"]}  # fmt: skip
    key = "quarter" if math.isfinite(entry["expected_revenue_low"]) else "quarter_no_range"
    entry["text"] = texts(key if math.isfinite(entry["expected_revenue"]) else "quarter_purchases", **values)
    entry["scope"] = texts("existing_only", customers=entry["customers"])
    return entry


def monthly_forecast(
    model,
    spend,
    customers: pd.DataFrame,
    as_of: Any,
    horizon_months: int,
    groups: pd.DataFrame | None = None,
    *,
    time_unit: str = "weeks",
    bootstrap: pd.DataFrame | None = None,
    interval: float = 0.9,
) -> pd.DataFrame:
    """Today's customers' expected repeat purchases and revenue in each calendar month of the horizon
    (:func:`month_edges`), in total (``group_by`` "all"), per tier and per RFM segment: a frame with exactly
    :data:`FORECAST_COLUMNS` (``forecast.csv``), by group, then month.

    ``model``: the fitted purchase model (``CLVModel.purchase_model_``), ``spend``: the fitted spend model
    (``CLVModel.spend_model_``); ``customers``: the summary they were fitted on (``frequency``, ``recency``, ``T``,
    ``monetary_value`` as of ``as_of``, by customer id); ``groups``: the customer table's ``tier`` and
    ``rfm_segment`` by customer id (either may be missing; a customer without one is only in "all");
    ``bootstrap``: ``CLVModel.bootstrap_params_`` (the refits of the CLV's intervals; None: no range) and
    ``interval`` its coverage. Revenue is expected purchases x Gamma-Gamma's expected spend per purchase (the
    population mean for a customer without a repeat purchase), undiscounted and without margin; NaN without
    amounts. The range is the bootstrap's range of each group's month total (parameter uncertainty)."""
    options = {"time_unit": time_unit, "bootstrap": bootstrap, "interval": interval}
    return forecast_products(model, spend, customers, as_of, horizon_months, groups, **options)[0]


def forecast_quarter(
    model,
    spend,
    customers: pd.DataFrame,
    as_of: Any,
    horizon_months: int,
    *,
    time_unit: str = "weeks",
    bootstrap: pd.DataFrame | None = None,
    interval: float = 0.9,
) -> dict[str, Any]:
    """The record's ``forecast_quarter``: today's customers' expected repeat purchases and revenue over the
    three months after ``as_of`` (in :func:`monthly_forecast`'s time scale: after a month-end as-of date, the
    sum of its first three months), the bootstrap's range of that total (not the sum of the months' ranges), and
    the sentences (``text``; ``scope``: that it covers today's customers only). Arguments as
    :func:`monthly_forecast`."""
    options = {"time_unit": time_unit, "bootstrap": bootstrap, "interval": interval}
    return forecast_products(model, spend, customers, as_of, horizon_months, None, **options)[1]
