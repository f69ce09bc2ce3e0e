"""Calibration / holdout evaluation: the holdout period, each model fitted on the calibration period and
scored on the holdout, the error metrics, and the choice of model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.clv.covariate_design import Design
from analysis.clv.covariates import CovariatePurchaseModel
from analysis.clv.diagnostics import conditional_expectation_data, tracking_data
from analysis.clv.fitters import ConvergenceError, fit_failure
from analysis.clv.likelihoods import COVARIATE_SUFFIX, MODEL_LABELS, MODELS, base_model, check_model, has_covariates
from analysis.clv.models import SUMMARY_COLUMNS, PurchaseModel, condense
from analysis.clv.nbd import NBD_MODEL, NBDModel
from analysis.clv.optimize import DegenerateFit
from analysis.clv.spend import SpendModel
from analysis.errors import UserError
from analysis.stage import Text, text


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


def calibration_summary(cal_hold: pd.DataFrame) -> pd.DataFrame:
    """The calibration period's customer summary (``frequency``, ``recency``, ``T``, ``monetary_value``, by
    customer) from :func:`analysis.data.features.calibration_holdout`'s ``*_cal`` columns, the frame a purchase
    model is fitted on; the holdout columns are kept as they are."""
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
    errors: dict[str, Text]  # why each model was left out, in both languages
    tracking: pd.DataFrame
    conditional: pd.DataFrame
    spend_model: SpendModel | None = None  # Gamma-Gamma fitted on the calibration period
    left_out: dict[str, PurchaseModel] = field(default_factory=dict)  # degenerate fits
    covariates: Design | None = None  # the customers' covariates, when the models were backtested with them too
    calibration: pd.DataFrame | None = None  # the calibration period's customer summary the models were fitted on


def backtest(
    tx: pd.DataFrame,
    calibration_end: Any,
    observation_end: Any,
    models=MODELS,
    time_unit: str = "weeks",
    penalizer: float = 0.0,
    fit_options: dict[str, Any] | None = None,
    spend_options: dict[str, Any] | None = None,
    covariates: Design | None = None,
) -> Backtest:
    """Fit each purchase model on the calibration period and predict each customer's holdout
    purchases (repeat purchase days after ``calibration_end`` up to ``observation_end``); fit
    Gamma-Gamma on the calibration period too and predict each customer's holdout spend as
    expected spend per purchase x expected purchases (the ``spend_*`` metrics; NaN without
    amounts).

    Uses :func:`analysis.data.features.calibration_holdout`. A model whose fit fails is reported
    in ``errors`` (why, ``{en, zh}``) and left out; a degenerate fit (see :mod:`analysis.clv.optimize`) also goes to
    ``left_out``, with its parameters, and is never scored or chosen. ``fit_options``:
    ``max_shape``, ``max_iterations`` of :class:`PurchaseModel`; ``spend_options``: keywords
    of :class:`SpendModel`; ``covariates``: the customers' covariates (a :class:`Design` indexed by customer id),
    with which each model is also fitted and scored, keyed ``<model>_cov`` (:func:`covariate_options`)."""
    from analysis.data import features

    cal_hold = features.calibration_holdout(tx, calibration_end, observation_end, time_unit)
    X = calibration_summary(cal_hold)
    length = float(cal_hold["duration_holdout"].iloc[0]) if len(cal_hold) else math.nan
    preds = X[["frequency", "recency", "T"]].copy()
    preds["actual"] = cal_hold["frequency_holdout"]
    preds["actual_spend"] = cal_hold["spend_holdout"]
    sm = SpendModel(**(spend_options or {})).fit(X) if len(X) else None
    spend = sm.predict(X) if sm is not None else pd.Series(math.nan, index=X.index)
    fitted, errors, left_out, rows = {}, {}, {}, []
    condensed = unique_rows(X)
    Xc = None if covariates is None else X.join(covariates.frame)
    for key in variants(models, covariates):
        data, rows_of = (X, condensed) if not has_covariates(key) else (Xc, None)
        options = {**(fit_options or {}), **covariate_options(key, covariates)}
        pm, error, degenerate = calibration_fit(key, data, rows_of, penalizer, options, null_fit(key, fitted, left_out))
        if pm is None:
            errors[key] = error
            left_out.update({} if degenerate is None else {key: degenerate})
            continue
        fitted[key] = pm
        rows.append(holdout_scores(key, pm.expected_purchases(data, length, rows_of), spend, preds))
    metrics = pd.DataFrame(rows).set_index("model") if rows else pd.DataFrame()
    tracking = tracking_data(tx, fitted, calibration_end, observation_end, time_unit)
    return Backtest(pd.Timestamp(calibration_end), pd.Timestamp(observation_end), length, metrics, preds, fitted,
                    errors, tracking, conditional_expectation_data(preds), sm, left_out, covariates, X)  # fmt: skip


def variants(models, covariates: Design | None) -> list[str]:
    """The keys of the fits to backtest: each model, and with covariates each model with them too."""
    if covariates is None:
        return list(models)
    return [k for m in models for k in (m, f"{m}{COVARIATE_SUFFIX}")]


def covariate_options(key: str, covariates: Design | None) -> dict[str, Any]:
    """The covariate keywords of :class:`~analysis.clv.covariates.CovariatePurchaseModel` for the fit ``key``
    (none for a model without covariates)."""
    if not has_covariates(key) or covariates is None:
        return {}
    c = covariates
    return {"trans": list(c.trans), "life": list(c.life), "constrain": list(c.constrain), "penalty": c.penalty}


def unique_rows(X: pd.DataFrame):
    """``condense(X, SUMMARY_COLUMNS)``, once for every model; None when ``X`` has missing values (each model's
    fit then meets them and says so)."""
    try:
        return condense(X, SUMMARY_COLUMNS)
    except ValueError:
        return None


def holdout_scores(name: str, predicted: pd.Series, spend: pd.Series, preds: pd.DataFrame) -> dict[str, Any]:
    """A model's row of the backtest metrics: its predicted holdout purchases (added to ``preds`` as ``name``)
    against the actual ones, and the holdout spend they imply with ``spend`` per purchase (``name_spend``)."""
    preds[name] = predicted
    preds[f"{name}_spend"] = predicted * spend
    spend_metrics = backtest_metrics(preds["actual_spend"], preds[f"{name}_spend"], rank=False)
    return {
        "model": name,
        **backtest_metrics(preds["actual"], preds[name]),
        **{f"spend_{k}": v for k, v in spend_metrics.items()},
    }


def null_fit(key: str, fitted: dict, left_out: dict) -> PurchaseModel | None:
    """For a fit with covariates, the same model without them already fitted on the same customers (fitted or
    left out as degenerate): its start and the likelihood-ratio test's null, not fitted again; else None."""
    if not has_covariates(key):
        return None
    base = base_model(key)
    return fitted[base] if base in fitted else left_out.get(base)


def calibration_fit(
    name: str, X: pd.DataFrame, condensed, penalizer: float, fit_options: dict[str, Any] | None, baseline=None
):
    """(the fitted :class:`PurchaseModel`, None, None) on the calibration summary ``X`` (``condensed``: its
    unique rows; ``baseline``: for a fit with covariates, :func:`null_fit`), or (None, why it failed in both
    languages, the degenerate fit or None): a degenerate fit is left out of the choice with its parameters, a
    failed one only said."""
    check_model(base_model(name))
    label = MODEL_LABELS[name]
    try:
        options = fit_options or {}
        if has_covariates(name):
            pm = CovariatePurchaseModel(base_model(name), penalizer=penalizer, **options)
            return pm.fit(X, condensed=condensed, baseline=baseline), None, None
        return PurchaseModel(name, penalizer, **options).fit(X, condensed=condensed), None, None
    except DegenerateFit as exc:
        why = text(f"{exc.reason['en']}; {label} left out of the choice", f"{exc.reason['zh']}；{label} 未参与选择")
        return None, why, exc.model
    except (ConvergenceError, FloatingPointError, ValueError, np.linalg.LinAlgError) as exc:
        return None, fit_failure(exc, label, named=True), None


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


# A dropout model's log-likelihood this little above the NBD's (no dropout) means the data show no dropout: half
# the 95% point of a chi-square with two degrees of freedom (the dropout model's two extra parameters), 5.99 / 2.
NO_DROPOUT_GAIN = 3.0


def bic(log_likelihood: float, n_params: int, n_customers: int) -> float:
    """The Bayesian information criterion, k log n - 2 log L: lower is better."""
    return n_params * math.log(n_customers) - 2.0 * log_likelihood


@dataclass
class WholePeriodChoice:
    """A model chosen without a backtest (see :func:`whole_period_choice`): ``model`` (a configured model or
    ``"nbd"``), the ``penalizer`` it is fitted with, ``kind`` (``"bic"``: the lowest BIC of the sound fits;
    ``"penalized"``: the same after a retry with a small penalty; ``"no_dropout"``: the dropout fits are
    degenerate and no better than the NBD's; ``"no_dropout_unfitted"``: no dropout model could be fitted at all,
    the NBD is what is left), ``fits``: per model and penalty tried, what ``clv.json`` says of the fit,
    ``nbd``: the NBD fit when one was made, and ``dropout_gain``: the best dropout fit's log-likelihood above it."""

    model: str
    penalizer: float
    kind: str
    fits: dict[str, dict[str, Any]]
    nbd: NBDModel | None = None
    dropout_gain: float = math.nan


def _whole_period_fits(X: pd.DataFrame, condensed, models, penalizer: float, fit_options) -> dict[str, Any]:
    """Each model fitted on ``X`` with ``penalizer``: the sound fits as :class:`PurchaseModel`, the others as
    the reason, ``{en, zh}`` (with the degenerate model when there is one): ``{name: (model or None, reason or
    None)}``."""
    out: dict[str, Any] = {}
    for name in models:
        try:
            out[name] = (PurchaseModel(name, penalizer, **fit_options).fit(X, condensed=condensed), None)
        except DegenerateFit as exc:
            out[name] = (exc.model, exc.reason)
        except (ConvergenceError, FloatingPointError, ValueError, np.linalg.LinAlgError) as exc:
            out[name] = (None, fit_failure(exc, MODEL_LABELS[name], named=True))
    return out


def _fit_record(name: str, pm, reason: Text | None, penalizer: float, n: int) -> dict[str, Any]:
    """What the report says of one whole-period fit: status, penalty, log-likelihood, parameters, BIC, reason
    (``{en, zh}``)."""
    ll = float(getattr(pm, "log_likelihood_", math.nan)) if pm is not None else math.nan
    k = len(pm.params_) if pm is not None else 0
    status = "fitted" if reason is None else "degenerate" if pm is not None else "failed"
    record: dict[str, Any] = {"model": name, "status": status}
    record.update(penalizer=penalizer, log_likelihood=ll, n_params=k, customers=n)
    record["bic"] = bic(ll, k, n) if reason is None else math.nan
    if pm is not None:
        record["params"] = pm.params_.to_dict()
    if reason is not None:
        record["reason"] = reason
    return record


def whole_period_choice(
    X: pd.DataFrame, models, penalizer: float, retry_penalizer: float, fit_options: dict[str, Any]
) -> WholePeriodChoice:
    """Choose a purchase model on the whole period ``X`` (a customer summary) when no backtest could: the lowest
    BIC among the configured ``models`` fitted with ``penalizer``; if none fits soundly and the degenerate fits
    are no better than the purchase process alone (by :data:`NO_DROPOUT_GAIN`), the NBD (nobody has dropped
    out); else the lowest BIC among the models refitted with ``retry_penalizer``; else the NBD."""
    condensed, n = condense(X, SUMMARY_COLUMNS), len(X)
    fits: dict[str, dict[str, Any]] = {}
    for pen in (penalizer, retry_penalizer) if retry_penalizer > penalizer else (penalizer,):
        tried = _whole_period_fits(X, condensed, models, pen, fit_options)
        key = "" if pen == penalizer else f"@{pen:g}"
        fits.update({name + key: _fit_record(name, pm, why, pen, n) for name, (pm, why) in tried.items()})
        sound = {name: pm for name, (pm, why) in tried.items() if why is None}
        if sound:
            best = min(sound, key=lambda m: bic(sound[m].log_likelihood_, len(sound[m].params_), n))
            return WholePeriodChoice(best, pen, "bic" if pen == penalizer else "penalized", fits)
        if pen == penalizer:
            nbd = NBDModel(fit_options["max_shape"], fit_options["max_iterations"]).fit(X, condensed=condensed)
            lls = [pm.log_likelihood_ for pm, _ in tried.values() if pm is not None]
            gain = max((ll for ll in lls if np.isfinite(ll)), default=math.nan) - nbd.log_likelihood_
            if gain <= NO_DROPOUT_GAIN:
                return WholePeriodChoice(NBD_MODEL, 0.0, "no_dropout", fits, nbd, float(gain))
    return WholePeriodChoice(NBD_MODEL, 0.0, "no_dropout_unfitted", fits, nbd, float(gain))
