"""The entries of the CLV stage's JSON record (``clv.json``): each purchase model's fit and backtest, the
spend model, and the value's settings and totals; and the stage's warnings about the fits, each ``{en, zh}``
(:data:`WARNINGS`).

The models say what they found in both languages where they find it: a fit's ``problem_`` and why a backtest
left a model out (:mod:`analysis.clv.optimize`, :mod:`analysis.clv.fitters`, :mod:`analysis.clv.backtest`), a
spend model's ``warnings_`` and ``notes_`` (:mod:`analysis.clv.spend`). This module passes those texts on; only a
library's own message (SciPy's, lifetimes') is quoted, inside a Chinese sentence.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.clv.backtest import Backtest
from analysis.clv.covariate_run import fit_coefficients
from analysis.clv.describe import fill
from analysis.clv.fitters import fit_failure
from analysis.clv.likelihoods import MODEL_LABELS
from analysis.clv.value import CLVModel
from analysis.stage import Text

# The stage's own sentences about the fits, by message id (str.format templates; a {en, zh} value is filled in its
# language). What a model found (a degenerate fit, an optimiser that stopped, the spend model's warnings) it says
# itself, in both languages; these sentences place it.
WARNINGS = {
    "model": {"en": "{label}: {reason}", "zh": "{label}：{reason}"},
    "not_refitted": {"en": "{label} could not be refitted on all data up to {as_of}: {reason}",
                     "zh": "{label} 无法在截至 {as_of} 的全部数据上重新拟合：{reason}"},
    "not_in_table": {"en": "{n} customers with purchases are not in the customer table",
                     "zh": "{n} 位有购买记录的客户不在客户表中"},
}  # fmt: skip


def warning(key: str, **values: Any) -> Text:
    """The :data:`WARNINGS` message ``key`` filled with ``values`` in both languages."""
    return fill(WARNINGS, key, **values)


def refit_failure(name: str, exc: Exception, as_of: str) -> Text:
    """The warning that model ``name`` could not be refitted on all data up to ``as_of`` (``exc``: why; its own
    words in both languages, or the library's message quoted)."""
    label = MODEL_LABELS[name]
    return warning("not_refitted", label=label, as_of=as_of, reason=fit_failure(exc, label))


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
        **fit_coefficients(pm),
    }


def model_entry(name: str, bt: Backtest) -> dict[str, Any]:
    """One purchase model in ``clv.json``: its calibration fit and backtest metrics, or, when it was left out,
    why (the backtest's ``errors``, {en, zh}; with the degenerate fit's parameters when there are any)."""
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
    """How spend per purchase was modelled (method, parameters, buyers, warnings and notes in both languages)."""
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
    """The share of the total of ``values`` held by the ``top`` fraction of them (NaN when the total is not
    positive)."""
    v = np.sort(values.to_numpy(float))[::-1]
    total = v.sum()
    return float(v[: max(1, int(round(len(v) * top)))].sum() / total) if total > 0 else math.nan
