"""The entries of the CLV stage's JSON record (``clv.json``): each purchase model's fit and backtest, the
spend model, and the value's settings and totals."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.clv.backtest import Backtest
from analysis.clv.likelihoods import MODEL_LABELS
from analysis.clv.value import CLVModel


def clv_entry(model: CLVModel, out: pd.DataFrame, scores: pd.DataFrame, matched, amounts: bool) -> dict:
    """The ``clv`` entry of the report: the settings of the value and its totals."""
    return {
        "horizon_months": model.horizon_months,
        "discount_rate_monthly": model.discount_rate,
        "margin": model.margin,
        "value": "profit" if model.margin else "revenue",
        "bootstrap_resamples": model.n_bootstrap,
        "interval": model.interval,
        "seed": model.random_state,
        "customers_scored": int(matched.sum()),
        "customers_without_purchase": int((~matched).sum()),
        "total_clv": float(out["clv"].sum()) if amounts else math.nan,
        "mean_clv": float(scores["clv"].mean()),
        "median_clv": float(scores["clv"].median()),
        "total_expected_purchases": float(scores["expected_purchases"].sum()),
        "top_decile_share": top_share(scores["clv"], 0.1),
    }


def fit_entry(pm) -> dict[str, Any]:
    """A purchase model's parameters, full-data log-likelihood and customers, for the report."""
    return {
        "params": pm.params_.to_dict(),
        "log_likelihood": pm.log_likelihood_,
        "customers": pm.n_customers_,
        "iterations": pm.n_iterations_,
    }


def model_entry(name: str, bt: Backtest) -> dict[str, Any]:
    """One purchase model in ``clv.json``: its calibration fit and backtest metrics, or,
    when it was left out, why (with the degenerate fit's parameters when there are any)."""
    entry: dict[str, Any] = {"label": MODEL_LABELS[name]}
    if name in bt.models:
        entry["status"] = "fitted"
        entry["calibration"] = fit_entry(bt.models[name])
        entry["backtest"] = bt.metrics.loc[name].to_dict()
        return entry
    entry["status"] = "left out"
    entry["reason"] = bt.errors[name]
    if name in bt.left_out and np.isfinite(bt.left_out[name].log_likelihood_):
        entry["calibration"] = fit_entry(bt.left_out[name])
    return entry


def spend_entry(sm) -> dict[str, Any] | None:
    if sm is None:
        return None
    return {
        "method": sm.method_,
        "params": sm.params_.to_dict(),
        "population_mean_spend": sm.population_mean_spend_,
        "frequency_spend_correlation": sm.correlation_,
        "repeat_buyers": sm.n_repeat_buyers_,
        "free_repeat_buyers": sm.n_free_repeat_buyers_,
        "warnings": list(sm.warnings_),
        "notes": list(sm.notes_),
    }


def top_share(values: pd.Series, top: float) -> float:
    v = np.sort(values.to_numpy(float))[::-1]
    total = v.sum()
    return float(v[: max(1, int(round(len(v) * top)))].sum() / total) if total > 0 else math.nan
