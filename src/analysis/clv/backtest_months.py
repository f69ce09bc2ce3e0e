"""The CLV models' month-by-month backtest: the purchase model fitted on the backtest's calibration period and
its forecast (:func:`analysis.clv.monthly.forecast_arrays`) for each calendar month of the holdout
(:func:`analysis.clv.monthly.month_windows`), against what the calibration period's customers did in it, with
the errors per month, their mean absolute percentage and the total's, in words (:func:`error_words`). The
sentences are in :data:`analysis.clv.monthly.TEXTS`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.clv.describe import MODEL_NAMES
from analysis.clv.models import UNIT_DAYS
from analysis.clv.monthly import forecast_arrays, month_windows, texts
from analysis.clv.nbd import NBD_MODEL, NBDModel
from analysis.stage import Text


def holdout_actuals(tx: pd.DataFrame, windows: pd.DataFrame, start: Any) -> pd.DataFrame:
    """What the customers who had bought by ``start`` (the calibration period's: first purchase on or before it)
    did in each window (:func:`month_windows` after ``start``): ``actual_purchases`` (their purchase days, as the
    models count them) and ``actual_revenue`` (the amounts of those days; NaN without amounts). The customers are
    told apart by codes of their ids (no look-up of millions of ids in an index)."""
    code, _ = pd.factorize(tx["customer_id"])
    ns_per_day = 86_400_000_000_000
    day = pd.to_datetime(tx["timestamp"]).to_numpy("datetime64[ns]").view(np.int64) // ns_per_day
    offset = day - pd.Timestamp(start).normalize().value // ns_per_day  # days after start (0: the start itself)
    first = np.full(int(code.max(initial=-1)) + 2, np.iinfo(np.int64).max)  # the last: no id (code -1), never in
    np.minimum.at(first, code, np.where(code >= 0, offset, np.iinfo(np.int64).max))
    keep = (first[code] <= 0) & (offset > 0) & (offset <= int(windows["end_days"].iloc[-1]))
    offset, code = offset[keep], code[keep].astype(np.int64)
    amount = tx["amount"].to_numpy(float)[keep]
    _, once = np.unique(code * (int(offset.max(initial=0)) + 1) + offset, return_index=True)  # a day counts once
    ends = windows["end_days"].to_numpy()
    n = len(windows)
    purchases = np.bincount(np.searchsorted(ends, offset[once]), minlength=n).astype(float)
    amounts = ~np.isnan(amount)
    revenue = np.bincount(np.searchsorted(ends, offset[amounts]), weights=amount[amounts], minlength=n)
    if not amounts.any():
        revenue = np.full(n, np.nan)
    return pd.DataFrame({"actual_purchases": purchases, "actual_revenue": revenue})


def percentage_errors(actual: np.ndarray, forecast: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Per-month error of the forecast in % of the actual (NaN where the actual is 0), their mean absolute value
    (MAPE, over the months with an actual), and the error of the total in %."""
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        error = np.where(actual != 0, 100.0 * (forecast - actual) / actual, np.nan)
    finite = np.isfinite(error)
    mape = float(np.mean(np.abs(error[finite]))) if finite.any() else math.nan
    total = float(actual.sum())
    return error, mape, 100.0 * (float(forecast.sum()) - total) / total if total else math.nan


def monthly_backtest(
    tx: pd.DataFrame, bt, model_name: str, time_unit: str = "weeks", fit_options: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The record's month-by-month backtest: the purchase model ``model_name`` as fitted on the calibration period
    of ``bt`` (:class:`~analysis.clv.backtest.Backtest`; the NBD, the no-dropout fallback, is fitted on it here,
    with ``fit_options``: ``max_shape``, ``max_iterations``) and its Gamma-Gamma forecast each calendar month of
    the holdout (:func:`month_windows` after the calibration end) on the backtest's calibration summary, against
    what the calibration period's customers did in it (``tx``: the stage's purchases). Keys:
    ``monthly_backtest`` (a list, per month: ``month``, ``label`` {en, zh}, ``partial``, ``actual_purchases``,
    ``forecast_purchases``, ``actual_revenue``, ``forecast_revenue`` and their errors in %), ``mape_purchases``,
    ``mape_revenue``, ``total_error_purchases_pct``, ``total_error_revenue_pct``, ``monthly_backtest_model`` and
    ``monthly_backtest_text`` (the sentence, or why there is no monthly backtest: no backtest at all (``bt``
    None), a holdout shorter than two calendar months, a model not backtested)."""
    out: dict[str, Any] = {"monthly_backtest": [], "mape_purchases": math.nan, "mape_revenue": math.nan,
                           "total_error_purchases_pct": math.nan, "total_error_revenue_pct": math.nan,
                           "monthly_backtest_model": model_name}  # fmt: skip
    if bt is None:
        return {**out, "monthly_backtest_text": texts("no_backtest")}
    cal, obs = pd.Timestamp(bt.calibration_end).normalize(), pd.Timestamp(bt.observation_end).normalize()
    if obs < cal + pd.DateOffset(months=2):
        return {**out, "monthly_backtest_text": texts("short_holdout", start=cal.date().isoformat(),
                                                      end=obs.date().isoformat())}  # fmt: skip
    if model_name not in bt.models and model_name != NBD_MODEL:
        return {**out, "monthly_backtest_text": texts("no_model", label=MODEL_NAMES.get(model_name, model_name))}
    windows = month_windows(cal, obs)
    X = bt.calibration if bt.covariates is None else bt.calibration.join(bt.covariates.frame)
    pm = bt.models[model_name] if model_name in bt.models else NBDModel(**(fit_options or {})).fit(X)
    times = windows["end_days"].to_numpy(float) / UNIT_DAYS[time_unit]
    _, purchases, revenue, _ = forecast_arrays(pm, bt.spend_model, X, times)
    table = holdout_actuals(tx, windows, cal)
    table["forecast_purchases"], table["forecast_revenue"] = purchases[0], revenue[0]
    return {**out, **backtest_errors(table, windows, cal, obs)}


def backtest_errors(table: pd.DataFrame, windows: pd.DataFrame, cal: pd.Timestamp, obs: pd.Timestamp) -> dict:
    """The monthly backtest's list, errors and sentence from its per-month ``table`` (actual and forecast
    purchases and revenue, one row per window of ``windows``)."""
    e_p, mape_p, total_p = percentage_errors(table["actual_purchases"], table["forecast_purchases"])
    e_r, mape_r, total_r = percentage_errors(table["actual_revenue"], table["forecast_revenue"])
    rows = [{"month": w.month, "label": {"en": w.label_en, "zh": w.label_zh}, "partial": bool(w.partial),
             "actual_purchases": float(a.actual_purchases), "forecast_purchases": float(a.forecast_purchases),
             "actual_revenue": float(a.actual_revenue), "forecast_revenue": float(a.forecast_revenue),
             "error_purchases_pct": float(ep), "error_revenue_pct": float(er)}
            for w, a, ep, er in zip(windows.itertuples(), table.itertuples(), e_p, e_r, strict=True)]  # fmt: skip
    values = {
        "calibration_end": cal.date().isoformat(),
        "end": obs.date().isoformat(),
        "months": len(rows),
        "mape_purchases": mape_p,
        "total_purchases": total_p,
        "mape_revenue": mape_r,
        "total_revenue": total_r,
    }
    values["total_revenue_words"], values["total_purchases_words"] = error_words(total_r), error_words(total_p)
    amounts = math.isfinite(mape_r)
    return {
        "monthly_backtest": rows,
        "mape_purchases": mape_p,
        "mape_revenue": mape_r,
        "total_error_purchases_pct": total_p,
        "total_error_revenue_pct": total_r,
        "monthly_backtest_text": texts("backtest" if amounts else "backtest_purchases", **values),
    }


def error_words(error_pct: float) -> Text:
    """The error of a total in words, {en, zh}: "15.7% too low", "3.0% too high", on target (within 0.05 %), or
    none to compare with (NaN: nothing was bought)."""
    if not math.isfinite(error_pct):
        return texts("no_total")
    if abs(error_pct) < 0.05:
        return texts("on_target")
    return texts("too_low" if error_pct < 0 else "too_high", size=abs(error_pct))
