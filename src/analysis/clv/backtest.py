"""Calibration / holdout evaluation: the holdout period, each model fitted on the calibration period and
scored on the holdout, the error metrics, and the choice of model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.clv.diagnostics import conditional_expectation_data, tracking_data
from analysis.clv.fitters import ConvergenceError
from analysis.clv.likelihoods import MODEL_LABELS, MODELS, _check_model
from analysis.clv.models import SUMMARY_COLUMNS, PurchaseModel, _condense
from analysis.clv.optimize import DegenerateFit
from analysis.clv.spend import SpendModel
from analysis.errors import UserError


def holdout_period(
    first_purchase: Any, as_of: Any, fraction: float = 0.5, max_days: int = 365, calibration_end: Any = None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(calibration end, observation end) of the backtest. The holdout is ``fraction`` of the
    observation window (first purchase to as-of), at most ``max_days`` days; an explicit
    ``calibration_end`` wins."""
    first, end = pd.Timestamp(first_purchase).normalize(), pd.Timestamp(as_of).normalize()
    if calibration_end:
        cal = pd.Timestamp(calibration_end).normalize()
    else:
        if not 0 < fraction < 1:
            raise UserError(f"clv holdout fraction must be between 0 and 1, got {fraction}")
        days = min(int((end - first).days * fraction), int(max_days))
        cal = end - pd.Timedelta(days=days)
    if not first < cal < end:
        raise UserError(
            f"the calibration period must end after the first purchase ({first.date()}) and "
            f"before the as-of date ({end.date()}); got {cal.date()}: set clv.holdout"
        )
    return cal, end


def _cal_frame(cal_hold: pd.DataFrame) -> pd.DataFrame:
    return cal_hold.rename(
        columns={
            "frequency_cal": "frequency",
            "recency_cal": "recency",
            "T_cal": "T",
            "monetary_value_cal": "monetary_value",
        }
    )


def backtest_metrics(actual, predicted, rank: bool = True) -> dict[str, float]:
    """Per-customer MAE and RMSE, Spearman correlation (left out without ``rank``: it sorts
    every customer's values), and the error of the total."""
    a, p = np.asarray(actual, float), np.asarray(predicted, float)
    if not len(a) or np.isnan(p).all():
        names = ("mae", "rmse", "spearman", "total_actual", "total_predicted", "total_error_pct")
        return dict.fromkeys((n for n in names if rank or n != "spearman"), math.nan)
    err = p - a
    total_a, total_p = float(a.sum()), float(p.sum())
    out = {"mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err**2)))}
    if rank:
        rho = _spearman(a, p) if len(a) > 2 and np.ptp(a) > 0 and np.ptp(p) > 0 else math.nan
        out["spearman"] = float(rho)
    out.update(
        total_actual=total_a,
        total_predicted=total_p,
        total_error_pct=100.0 * (total_p - total_a) / total_a if total_a else math.nan,
    )
    return out


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties sharing their average rank (scipy's ``rankdata``), sorting only the
    distinct values: holdout purchases take a few dozen values and predictions one per
    (frequency, recency, T) pattern, so this is linear in the customers."""
    codes, distinct = pd.factorize(values, sort=True)
    counts = np.bincount(codes, minlength=len(distinct))
    return (np.cumsum(counts) - (counts - 1) / 2.0)[codes]


def _spearman(a: np.ndarray, p: np.ndarray) -> float:
    """Spearman's rank correlation (``scipy.stats.spearmanr``; NaN if either has a NaN)."""
    if np.isnan(a).any() or np.isnan(p).any():
        return math.nan
    return float(np.corrcoef(_average_ranks(a), _average_ranks(p))[0, 1])


@dataclass
class Backtest:
    """What a calibration / holdout comparison produced (see :func:`backtest`)."""

    calibration_end: pd.Timestamp
    observation_end: pd.Timestamp
    holdout_length: float  # in model time units
    metrics: pd.DataFrame  # one row per model: purchases, then spend (``spend_*``)
    predictions: pd.DataFrame  # per customer: calibration columns, actual, one column per model
    models: dict[str, PurchaseModel]
    errors: dict[str, str]
    tracking: pd.DataFrame
    conditional: pd.DataFrame
    spend_model: SpendModel | None = None  # Gamma-Gamma fitted on the calibration period
    left_out: dict[str, PurchaseModel] = field(default_factory=dict)  # degenerate fits


def backtest(
    tx: pd.DataFrame,
    calibration_end: Any,
    observation_end: Any,
    models=MODELS,
    time_unit: str = "weeks",
    penalizer: float = 0.0,
    fit_options: dict[str, Any] | None = None,
    spend_options: dict[str, Any] | None = None,
) -> Backtest:
    """Fit each purchase model on the calibration period and predict each customer's holdout
    purchases (repeat purchase days after ``calibration_end`` up to ``observation_end``); fit
    Gamma-Gamma on the calibration period too and predict each customer's holdout spend as
    expected spend per purchase x expected purchases (the ``spend_*`` metrics; NaN without
    amounts).

    Uses :func:`analysis.data.features.calibration_holdout`. A model whose fit fails is reported
    in ``errors`` and left out; a degenerate fit (see :mod:`analysis.clv.optimize`) also goes to
    ``left_out``, with its parameters, and is never scored or chosen. ``fit_options``:
    ``max_shape``, ``max_iterations`` of :class:`PurchaseModel`; ``spend_options``: keywords
    of :class:`SpendModel`."""
    from analysis.data import features

    cal_hold = features.calibration_holdout(tx, calibration_end, observation_end, time_unit)
    X = _cal_frame(cal_hold)
    length = float(cal_hold["duration_holdout"].iloc[0]) if len(cal_hold) else math.nan
    preds = X[["frequency", "recency", "T"]].copy()
    preds["actual"] = cal_hold["frequency_holdout"]
    preds["actual_spend"] = cal_hold["spend_holdout"]
    sm = SpendModel(**(spend_options or {})).fit(X) if len(X) else None
    spend = sm.predict(X) if sm is not None else pd.Series(math.nan, index=X.index)
    fitted, errors, left_out, rows = {}, {}, {}, []
    condensed = None  # the customers grouped into unique rows once, for every model
    for name in models:
        try:
            condensed = condensed or _condense(X, SUMMARY_COLUMNS)
            pm = PurchaseModel(_check_model(name), penalizer, **(fit_options or {})).fit(X, condensed=condensed)
        except DegenerateFit as exc:
            left_out[name] = exc.model
            errors[name] = f"{exc.reason}; {MODEL_LABELS[name]} left out of the choice"
            continue
        except (ConvergenceError, FloatingPointError, ValueError, np.linalg.LinAlgError) as exc:
            errors[name] = f"{type(exc).__name__}: {str(exc).strip()}"
            continue
        fitted[name] = pm
        preds[name] = pm.expected_purchases(X, length, condensed)
        preds[f"{name}_spend"] = preds[name] * spend
        spend_metrics = backtest_metrics(preds["actual_spend"], preds[f"{name}_spend"], rank=False)
        rows.append(
            {
                "model": name,
                **backtest_metrics(preds["actual"], preds[name]),
                **{f"spend_{k}": v for k, v in spend_metrics.items()},
            }
        )
    metrics = pd.DataFrame(rows).set_index("model") if rows else pd.DataFrame()
    tracking = tracking_data(tx, fitted, calibration_end, observation_end, time_unit)
    return Backtest(
        pd.Timestamp(calibration_end),
        pd.Timestamp(observation_end),
        length,
        metrics,
        preds,
        fitted,
        errors,
        tracking,
        conditional_expectation_data(preds),
        sm,
        left_out,
    )


def choose_model(metrics: pd.DataFrame, by: str = "rmse") -> tuple[str, str]:
    """The model with the best holdout ``by`` (``rmse``, ``mae``: lowest; ``spearman``: highest;
    ``total_error``: smallest absolute error of the total), and a sentence saying why."""
    if metrics.empty:
        raise UserError("no CLV model could be fitted on the calibration period")
    if by == "total_error":
        score = metrics["total_error_pct"].abs()
    elif by in ("rmse", "mae"):
        score = metrics[by]
    elif by == "spearman":
        score = -metrics["spearman"]
    else:
        raise UserError(f"unknown clv choose_by {by!r}: use rmse, mae, spearman or total_error")
    best = str(score.idxmin())
    what = {
        "rmse": "per-customer RMSE",
        "mae": "per-customer MAE",
        "spearman": "Spearman rank correlation",
        "total_error": "error of the total",
    }[by]
    others = ", ".join(f"{MODEL_LABELS[m]} {metrics.loc[m, _metric_col(by)]:.4g}" for m in metrics.index if m != best)
    reason = f"{MODEL_LABELS[best]} has the best holdout {what} ({metrics.loc[best, _metric_col(by)]:.4g}" + (
        f"; {others})" if others else ")"
    )
    return best, reason


def _metric_col(by: str) -> str:
    return "total_error_pct" if by == "total_error" else by
