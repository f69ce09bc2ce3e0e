"""The entries of the CLV stage's JSON record (``clv.json``): each purchase model's fit and backtest, the
spend model, and the value's settings and totals; and the warnings about the fits, each ``{en, zh}``, written
here where the stage receives the models' findings (:data:`WARNINGS`).

The mathematics (:mod:`analysis.clv.optimize`, :mod:`analysis.clv.spend`) says what it found in English strings
(a fit's ``problem_``, a spend model's ``warnings_``). The sentences here are made from what the fitted models
learned (their parameters, method, correlation, ...), in both languages, and checked against the model's own
English: where they do not say the same, the model's message is quoted as it is inside a Chinese sentence.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.clv.backtest import Backtest
from analysis.clv.describe import fill
from analysis.clv.likelihoods import MODEL_LABELS, PARAM_NAMES
from analysis.clv.optimize import MAX_SCALE, MIN_PARAM
from analysis.clv.value import CLVModel
from analysis.stage import Text, text

# The warnings and notes about the fits, by message id (str.format templates; a {en, zh} value is filled in its
# language).
WARNINGS = {
    "left_out": {"en": "{reason}; {label} left out of the choice", "zh": "{reason}；{label} 未参与选择"},
    "model": {"en": "{label}: {reason}", "zh": "{label}：{reason}"},
    "flat": {"en": "the data cannot tell apart {what}: the {label} fit runs to the edge of its parameter space "
                   "({name} grows without bound, as if all customers were alike in this)",
             "zh": "数据无法区分{what}：{label} 的拟合到达参数空间的边界（{name} 无限增大，"
                   "仿佛所有客户在这方面都一样）"},
    "edge": {"en": "the {label} fit runs to the edge of its parameter space ({name} = {value:.3g})",
             "zh": "{label} 的拟合到达参数空间的边界（{name} = {value:.3g}）"},
    "not_finite": {"en": "the {label} fit gave no finite parameters and log-likelihood",
                   "zh": "{label} 的拟合没有得到有限的参数和对数似然"},
    "quoted": {"en": "{message}", "zh": "程序信息（英文原文）：{message}"},
    "fit_failed": {"en": "{message}", "zh": "{label} 的拟合未能完成（程序信息：{message}）"},
    "not_refitted": {"en": "{label} could not be refitted on all data up to {as_of}: {reason}",
                     "zh": "{label} 无法在截至 {as_of} 的全部数据上重新拟合：{reason}"},
    "not_in_table": {"en": "{n} customers with purchases are not in the customer table",
                     "zh": "{n} 位有购买记录的客户不在客户表中"},
    "correlated": {"en": "frequency and spend per purchase are correlated (r = {r:.2f}); Gamma-Gamma assumes they are "
                         "independent, so spend forecasts may be biased",
                   "zh": "购买频次与每次消费金额相关（r = {r:.2f}）；Gamma-Gamma 假设二者独立，消费预测可能有偏差"},
    "few_buyers": {"en": "fewer than two repeat buyers: spend per purchase is the observed mean, not a Gamma-Gamma "
                         "model",
                   "zh": "重复购买客户少于两位：每次消费金额取观测平均值，而不是 Gamma-Gamma 模型"},
    "gg_penalized": {"en": "Gamma-Gamma did not converge; refitted with penalty {penalty}",
                     "zh": "Gamma-Gamma 未收敛；已用惩罚 {penalty} 重新拟合"},
    "gg_unfitted": {"en": "Gamma-Gamma could not be fitted (spend per purchase shows too little variation between "
                          "customers); every customer's expected spend per purchase is the population mean {mean:,.2f}",
                    "zh": "Gamma-Gamma 无法拟合（客户之间每次消费金额差异太小）；每位客户的预期每次消费都取总体平均值 "
                          "{mean:,.2f}"},
    "free": {"en": "{n:,} repeat buyers whose repeat purchases were all free (zero amounts) are left out of the spend "
                   "fit (Gamma-Gamma needs a positive mean spend); their expected spend per purchase still comes from "
                   "the fitted model",
             "zh": "{n:,} 位客户的重复购买全部免费（金额为零），未纳入消费模型拟合（Gamma-Gamma 需要正的平均消费）；"
                   "他们的预期每次消费仍由拟合的模型给出"},
    "spend_no_amounts": {"en": "the input has no amounts: spend per purchase and CLV in currency are not computed",
                         "zh": "输入数据没有金额：不计算每次消费金额和以货币计的 CLV"},
}  # fmt: skip

# What a shape parameter at its upper bound means, in the reader's words.
FLAT = {
    "r": text("customers' purchase rates", "客户的购买率"),
    "s": text("customers' dropout rates", "客户的流失倾向"),
    "a": text("customers' dropout probabilities", "客户的流失倾向"),
    "b": text("customers' dropout probabilities", "客户的流失倾向"),
}


def warning(key: str, **values: Any) -> Text:
    """The :data:`WARNINGS` message ``key`` filled with ``values`` in both languages."""
    return fill(WARNINGS, key, **values)


def said(message: str, candidate: Text | None, label: str | None = None) -> Text:
    """``candidate`` when its English says what the model said (``message``); else the model's message quoted in
    a Chinese sentence (a finding this module has no words for yet still reaches the reader): that the fit of
    ``label`` did not complete, when it is about a fit (an optimiser that stopped, a numerical error)."""
    if candidate is not None and candidate["en"] == message:
        return candidate
    return warning("quoted", message=message) if label is None else warning("fit_failed", label=label, message=message)


def judge_text(model: str, params, log_likelihood: float, scale: float, max_shape: float) -> Text | None:
    """Why a fit is degenerate in both languages, or None when it is sound: the judgement of
    :func:`analysis.clv.optimize.judge` (the same bounds; ``scale``: 1 / the largest T fitted)."""
    p = np.asarray(params, float)
    label = MODEL_LABELS[model]
    if not np.all(np.isfinite(p)) or not np.all(p > 0) or not np.isfinite(log_likelihood):
        return warning("not_finite", label=label)
    names = PARAM_NAMES[model]
    scaled = p * np.array([scale if n in ("alpha", "beta") else 1.0 for n in names])
    for name, value, natural in zip(names, scaled, p, strict=True):
        if name in FLAT and value >= max_shape * (1 - 1e-6):
            return warning("flat", what=FLAT[name], label=label, name=name)
        if value <= MIN_PARAM * (1 + 1e-6) or (name in ("alpha", "beta") and value >= MAX_SCALE * (1 - 1e-6)):
            return warning("edge", label=label, name=name, value=natural)
    return None


def fit_problem(pm, largest_T: float) -> Text:
    """Why the degenerate purchase model ``pm`` (its ``problem_``) was not used, in both languages;
    ``largest_T``: the longest observation of the customers it was fitted on."""
    found = judge_text(pm.model, pm.params_.to_numpy(), pm.log_likelihood_, 1.0 / largest_T, pm.max_shape)
    return said(pm.problem_, found, MODEL_LABELS[pm.model])


def left_out_reason(name: str, bt: Backtest) -> Text:
    """Why model ``name`` was left out of the backtest's choice (``bt.errors``), in both languages."""
    pm = bt.left_out.get(name)
    if pm is None:
        return said(bt.errors[name], None, MODEL_LABELS[name])
    reason = warning("left_out", reason=fit_problem(pm, float(bt.predictions["T"].max())), label=MODEL_LABELS[name])
    return said(bt.errors[name], reason)


def refit_failure(name: str, exc: Exception, as_of: str, largest_T: float) -> Text:
    """The warning that model ``name`` could not be refitted on all data up to ``as_of`` (``exc``: why)."""
    model = getattr(exc, "model", None)
    reason = fit_problem(model, largest_T) if model is not None else said(str(exc).strip(), None, MODEL_LABELS[name])
    return warning("not_refitted", label=MODEL_LABELS[name], as_of=as_of, reason=reason)


def whole_period_fit(fit: dict[str, Any], label: str, largest_T: float, max_shape: float) -> dict[str, Any]:
    """A whole-period fit's record (``backtest.whole_period_choice``) with its reason, if any, in both languages
    (``label``: the model's name)."""
    if "reason" not in fit:
        return dict(fit)
    found = None
    if fit["status"] == "degenerate":
        params = list(fit["params"].values())
        found = judge_text(fit["model"], params, fit["log_likelihood"], 1.0 / largest_T, max_shape)
    return {**fit, "reason": said(fit["reason"], found, label)}


def spend_warnings(sm) -> list[Text]:
    """The fitted spend model's warnings (``sm.warnings_``) in both languages, from what it learned."""
    out = []
    if sm.method_ == "none":
        return out
    if np.isfinite(sm.correlation_) and abs(sm.correlation_) > sm.correlation_warning:
        out.append(warning("correlated", r=sm.correlation_))
    if sm.method_ == "gamma-gamma (penalized)":
        out.append(warning("gg_penalized", penalty=sm.penalty_))
    elif sm.method_ == "mean":
        few = sm.n_repeat_buyers_ < 2
        out.append(warning("few_buyers") if few else warning("gg_unfitted", mean=sm.population_mean_))
    return _checked(out, sm.warnings_)


def spend_notes(sm) -> list[Text]:
    """The fitted spend model's notes (``sm.notes_``) in both languages, from what it learned."""
    if sm.method_ == "none":
        out = [warning("spend_no_amounts")]
    else:
        out = [warning("free", n=sm.n_free_repeat_buyers_)] if sm.n_free_repeat_buyers_ else []
    return _checked(out, sm.notes_)


def _checked(texts: list[Text], messages: list[str]) -> list[Text]:
    """``texts`` when they say what the model's ``messages`` say, one for one; else each message quoted."""
    if [t["en"] for t in texts] == list(messages):
        return texts
    return [warning("quoted", message=m) for m in messages]


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


def model_entry(name: str, bt: Backtest, reason: Text | None = None) -> dict[str, Any]:
    """One purchase model in ``clv.json``: its calibration fit and backtest metrics, or, when it was left out,
    why (``reason``, {en, zh}; with the degenerate fit's parameters when there are any)."""
    entry: dict[str, Any] = {"label": MODEL_LABELS[name]}
    if name in bt.models:
        entry["status"] = "fitted"
        entry["calibration"] = fit_entry(bt.models[name])
        entry["backtest"] = bt.metrics.loc[name].to_dict()
        return entry
    entry["status"] = "left out"
    entry["reason"] = reason
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
        "warnings": spend_warnings(sm),
        "notes": spend_notes(sm),
    }


def top_share(values: pd.Series, top: float) -> float:
    """The share of the total of ``values`` held by the ``top`` fraction of them (NaN when the total is not
    positive)."""
    v = np.sort(values.to_numpy(float))[::-1]
    total = v.sum()
    return float(v[: max(1, int(round(len(v) * top)))].sum() / total) if total > 0 else math.nan
