"""The CLV stage of a report run (:func:`run_clv`: backtest, choice, refit, CLV, report) and its summary for
managers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.clv.backtest import (
    Backtest,
    backtest,
    choose_model,
    exact_money,
    holdout_period,
    money_back,
)
from analysis.clv.diagnostics import frequency_recency_matrix, repeat_purchase_histogram
from analysis.clv.fitters import ConvergenceError
from analysis.clv.likelihoods import MODEL_LABELS, MODELS, _check_model
from analysis.clv.models import OUTPUT_COLUMNS, UNITS_PER_MONTH
from analysis.clv.value import CLVModel
from analysis.errors import UserError
from analysis.jsonable import jsonable

NO_AMOUNTS = (
    "the input has no amounts: purchases and P(alive) are forecast, but spend per "
    "purchase (Gamma-Gamma) and CLV in currency are not computed"
)


LOG_LIKELIHOOD_NOTE = (
    "log_likelihood: the sum over the customers a model was fitted on of the log-probability of "
    "their frequency, recency and T, time in {unit} (not lifetimes' mean per customer): "
    "comparable across models fitted on the same customers and with published values"
)


def clv_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The ``clv`` section of a merged config, checked (a :class:`UserError` says what to fix)."""
    cfg = dict(config.get("clv") or {})
    if not cfg:
        raise UserError("the config has no clv section (defaults/clv.yaml)")
    models = cfg.get("models") or []
    if isinstance(models, str):
        models = [models]
    for m in models:
        _check_model(m)
    if not models:
        raise UserError(f"clv.models is empty: list one or more of {', '.join(MODELS)}")
    cfg["models"] = list(models)
    return cfg


@dataclass
class ClvRun:
    """The CLV stage's products: ``customers`` (``customer_id`` + the CLV columns, one row per
    customer of the customer table), ``report`` (what goes in ``clv_models.json``), the backtest,
    the fitted :class:`CLVModel` and the summary it was fitted on (indexed by customer id)."""

    customers: pd.DataFrame
    report: dict[str, Any]
    backtest: Backtest | None
    model: CLVModel
    summary: pd.DataFrame

    @property
    def chosen_label(self) -> str:
        """The chosen purchase model's name, e.g. "Pareto/NBD"."""
        return MODEL_LABELS[self.model.model]

    @property
    def horizon_units(self) -> float:
        """The CLV horizon in model time units (e.g. 12 months = 52.14 weeks)."""
        return self.model.horizon_months * UNITS_PER_MONTH[self.model.time_unit]

    def matrix(self, what: str = "p_alive") -> pd.DataFrame:
        """``p_alive`` or ``expected_purchases`` (over the horizon) by frequency and recency,
        for a customer whose first purchase was at the start of the data."""
        T = float(self.summary["T"].max())
        max_f = int(min(30, max(5, self.summary["frequency"].quantile(0.99))))
        return frequency_recency_matrix(self.model.purchase_model_, T, self.horizon_units, what, max_frequency=max_f)

    def repeat_histogram(self) -> pd.DataFrame:
        """Customers by repeat purchases, actual and expected by the chosen model."""
        return repeat_purchase_histogram(self.model.purchase_model_, self.summary)

    def choice_markdown(self) -> str:
        """The chosen model and why, each model left out and why, and a missing-amounts note."""
        lines = [f"**Chosen:** {self.report['choice_reason']}."]
        for entry in self.report["models"].values():
            if entry.get("status") == "left out":
                lines.append(f"- **{entry['label']} left out:** {entry['reason']}.")
        if not self.report.get("amounts", True):
            lines.append(f"- {self.report['amounts_note']}.")
        return "\n".join(lines)

    def spend_markdown(self) -> str:
        """How spend per purchase was modelled (method, parameters, buyers, notes), as a list a person reads:
        numbers to 4 significant digits, lists as sentences, empty entries left out."""

        def words(value: Any) -> str:
            if isinstance(value, dict):
                return ", ".join(f"{k} {words(v)}" for k, v in value.items())
            if isinstance(value, list):
                return "; ".join(map(words, value))
            if isinstance(value, float):
                return f"{value:,.4g}"
            return f"{value:,}" if isinstance(value, int) else str(value)

        items = self.report["spend_model"].items()
        return "\n".join(f"- {k.replace('_', ' ')}: {words(v)}" for k, v in items if v not in (None, [], {}, ""))

    def top_customers(self, n: int = 20) -> pd.DataFrame:
        """The ``n`` customers with the highest CLV, with their forecasts and intervals; without
        amounts, those with the most expected purchases."""
        by = "clv" if self.report.get("amounts", True) else "expected_purchases"
        return self.customers.dropna(subset=[by]).nlargest(n, by).reset_index(drop=True)


def run_clv(tx: pd.DataFrame, customers: pd.DataFrame | None, as_of: Any, config: dict[str, Any]) -> ClvRun:
    """The CLV stage: backtest every configured model on a calibration / holdout split, choose
    the best by holdout performance, refit it on all purchases up to ``as_of``, and score CLV
    with bootstrap intervals.

    ``tx``: validated transactions; ``customers``: the customer table (its ``customer_id`` decide
    the rows of the result; customers without a purchase get NaN model outputs and CLV 0);
    ``config``: the merged config (``clv`` section)."""
    from analysis.data import features

    cfg = clv_settings(config)
    unit = cfg.get("time_unit", "weeks")
    tx = tx[["customer_id", "timestamp", "amount"]]  # all the models need (less to copy)
    as_of = pd.Timestamp(as_of)
    report: dict[str, Any] = {"as_of": as_of.date().isoformat(), "time_unit": unit, "warnings": []}
    hold = cfg.get("holdout") or {}
    gg = cfg.get("gamma_gamma") or {}
    fit_options = _fit_options(cfg)
    spend_options = {
        "penalizer": float(gg.get("penalizer", 0.0)),
        "retry_penalizer": float(gg.get("retry_penalizer", 0.01)),
        "correlation_warning": float(gg.get("correlation_warning", 0.3)),
    }
    amounts = not bool(tx["amount"].isna().all())
    report["amounts"] = amounts
    report["log_likelihood"] = LOG_LIKELIHOOD_NOTE.format(unit=unit)
    if not amounts:
        report["amounts_note"] = NO_AMOUNTS
    bt = None
    try:
        cal_end, obs_end = holdout_period(
            tx["timestamp"].min(),
            as_of,
            hold.get("fraction", 0.5),
            hold.get("max_days", 365),
            hold.get("calibration_end"),
        )
    except UserError as exc:
        if len(cfg["models"]) > 1:
            raise
        report["warnings"].append(f"no backtest: {exc}")
    else:
        bt = backtest(tx, cal_end, obs_end, cfg["models"], unit, cfg.get("penalizer", 0.0), fit_options, spend_options)
    models_report: dict[str, Any] = {}
    if bt is not None:
        chosen, reason = choose_model(bt.metrics, cfg.get("choose_by", "rmse"))
        report["backtest"] = {
            "calibration_end": bt.calibration_end.date().isoformat(),
            "observation_end": bt.observation_end.date().isoformat(),
            "holdout_length": bt.holdout_length,
            "customers": int(len(bt.predictions)),
            "choose_by": cfg.get("choose_by", "rmse"),
            "spend_model": _spend_report(bt.spend_model),
        }
        for name in cfg["models"]:
            models_report[name] = _model_entry(name, bt)
            if name not in bt.models:
                report["warnings"].append(f"{MODEL_LABELS[name]}: {bt.errors[name]}")
    else:
        chosen = cfg["models"][0]
        reason = f"{MODEL_LABELS[chosen]} is the only configured model (no backtest possible)"
        models_report[chosen] = {"label": MODEL_LABELS[chosen]}
    report["chosen_model"], report["choice_reason"] = chosen, reason

    summary = money_back(features.lifetimes_summary(exact_money(tx), as_of, unit), ["monetary_value"])
    boot = cfg.get("bootstrap") or {}
    ranked = [chosen] + [m for m in (bt.metrics.index if bt is not None else []) if m != chosen]
    for name in ranked:
        model = CLVModel(
            model=name,
            horizon_months=int(cfg.get("horizon_months", 12)),
            discount_rate=float(cfg.get("discount_rate", 0.01)),
            margin=cfg.get("margin"),
            time_unit=unit,
            penalizer=float(cfg.get("penalizer", 0.0)),
            gg_penalizer=spend_options["penalizer"],
            gg_retry_penalizer=spend_options["retry_penalizer"],
            correlation_warning=spend_options["correlation_warning"],
            n_bootstrap=int(boot.get("n", 0)),
            interval=float(boot.get("interval", 0.9)),
            random_state=boot.get("seed"),
            **fit_options,
        )
        try:
            model.fit(summary)
            break
        except ConvergenceError as exc:
            report["warnings"].append(
                f"{MODEL_LABELS[name]} could not be refitted on all data up to {as_of.date()}: {str(exc).strip()}"
            )
    else:
        raise UserError("no CLV model could be fitted on the data up to the as-of date: try clv.penalizer: 0.001")
    if model.model != chosen:
        chosen = model.model
        reason = f"{MODEL_LABELS[chosen]} is the best model that could be refitted on all data"
        report["chosen_model"], report["choice_reason"] = chosen, reason
        models_report.setdefault(chosen, {"label": MODEL_LABELS[chosen]})
    scores = model.predict(summary)
    pm, sm = model.purchase_model_, model.spend_model_
    models_report[chosen]["full"] = _fit_entry(pm)
    report["models"] = models_report
    report["spend_model"] = _spend_report(sm)
    report["warnings"] += sm.warnings_
    report["parameters"] = model.parameter_intervals().to_dict(orient="index")

    ids = customers["customer_id"].astype(str) if customers is not None else pd.Series(summary.index, dtype=str)
    out = scores.reindex(pd.Index(ids, name="customer_id"))
    if "clv_low" not in out:
        out["clv_low"] = out["clv_high"] = np.nan
    no_purchase = ~out.index.isin(summary.index)
    out.loc[no_purchase, ["clv", "clv_low", "clv_high"]] = 0.0 if amounts else np.nan
    out = out[list(OUTPUT_COLUMNS)].reset_index()
    report["clv"] = {
        "horizon_months": model.horizon_months,
        "discount_rate_monthly": model.discount_rate,
        "margin": model.margin,
        "value": "profit" if model.margin else "revenue",
        "bootstrap_resamples": model.n_bootstrap,
        "interval": model.interval,
        "seed": model.random_state,
        "customers_scored": int((~no_purchase).sum()),
        "customers_without_purchase": int(no_purchase.sum()),
        "total_clv": float(out["clv"].sum()) if amounts else math.nan,
        "mean_clv": float(scores["clv"].mean()),
        "median_clv": float(scores["clv"].median()),
        "total_expected_purchases": float(scores["expected_purchases"].sum()),
        "top_decile_share": _top_share(scores["clv"], 0.1),
    }
    missing = set(summary.index) - set(out["customer_id"])
    if missing:
        report["warnings"].append(f"{len(missing)} customers with purchases are not in the customer table")
    return ClvRun(out, jsonable(report), bt, model, summary)


def _fit_options(cfg: dict[str, Any]) -> dict[str, Any]:
    fit = cfg.get("fit") or {}
    return {"max_shape": float(fit.get("max_shape", 1000.0)), "max_iterations": int(fit.get("max_iterations", 500))}


def _fit_entry(pm) -> dict[str, Any]:
    """A purchase model's parameters, full-data log-likelihood and customers, for the report."""
    return {
        "params": pm.params_.to_dict(),
        "log_likelihood": pm.log_likelihood_,
        "customers": pm.n_customers_,
        "iterations": pm.n_iterations_,
    }


def _model_entry(name: str, bt: Backtest) -> dict[str, Any]:
    """One purchase model in ``clv_models.json``: its calibration fit and backtest metrics, or,
    when it was left out, why (with the degenerate fit's parameters when there are any)."""
    entry: dict[str, Any] = {"label": MODEL_LABELS[name]}
    if name in bt.models:
        entry["status"] = "fitted"
        entry["calibration"] = _fit_entry(bt.models[name])
        entry["backtest"] = bt.metrics.loc[name].to_dict()
        return entry
    entry["status"] = "left out"
    entry["reason"] = bt.errors[name]
    if name in bt.left_out and np.isfinite(bt.left_out[name].log_likelihood_):
        entry["calibration"] = _fit_entry(bt.left_out[name])
    return entry


def _spend_report(sm) -> dict[str, Any] | None:
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


def _top_share(values: pd.Series, top: float) -> float:
    v = np.sort(values.to_numpy(float))[::-1]
    total = v.sum()
    return float(v[: max(1, int(round(len(v) * top)))].sum() / total) if total > 0 else math.nan


def manager_summary(report: dict[str, Any]) -> str:
    """A few plain sentences (Markdown) for a manager, from a ``clv_models.json`` report."""
    c = report["clv"]
    chosen = MODEL_LABELS[report["chosen_model"]]
    value = "profit" if c.get("margin") else "revenue"
    if report.get("amounts", True):
        lines = [
            f"- Over the next **{c['horizon_months']} months**, the {c['customers_scored']:,} "
            f"customers who have bought are expected to make "
            f"**{c['total_expected_purchases']:,.0f} repeat purchases** worth "
            f"**{c['total_clv']:,.0f}** in discounted {value} "
            f"({c['discount_rate_monthly']:.1%} a month).",
            f"- Value is concentrated: the top 10% of customers hold "
            f"**{c['top_decile_share']:.0%}** of it (median customer {c['median_clv']:,.2f}).",
        ]
    else:
        lines = [
            f"- **The input has no amounts**, so this page forecasts purchases, not money: over "
            f"the next **{c['horizon_months']} months**, the {c['customers_scored']:,} customers "
            f"who have bought are expected to make **{c['total_expected_purchases']:,.0f} repeat "
            "purchases**. Spend per purchase and CLV in currency are not computed.",
        ]
    bt = report.get("backtest")
    if bt:
        m = report["models"][report["chosen_model"]]["backtest"]
        lines.append(
            f"- The forecast model ({chosen}) was checked on the past: fitted on purchases up to "
            f"{bt['calibration_end']}, it predicted {m['total_predicted']:,.0f} repeat purchases "
            f"up to {bt['observation_end']} against {m['total_actual']:,.0f} that happened "
            f"({m['total_error_pct']:+.1f}%). {report['choice_reason']}."
        )
        if m.get("spend_total_error_pct") is not None:
            lines.append(
                f"- Spend, checked the same way: {m['spend_total_predicted']:,.0f} forecast "
                f"against {m['spend_total_actual']:,.0f} spent in the holdout "
                f"({m['spend_total_error_pct']:+.1f}%)."
            )
    if c.get("bootstrap_resamples") and report.get("amounts", True):
        lines.append(
            f"- Ranges shown per customer are {c['interval']:.0%} intervals from "
            f"{c['bootstrap_resamples']} resamples of the customer base: they show how "
            "sure the model's estimates are, not each customer's chance variation."
        )
    if c.get("customers_without_purchase"):
        lines.append(
            f"- {c['customers_without_purchase']:,} listed customers have not bought yet "
            "and get no forecast" + (" (CLV 0)." if report.get("amounts", True) else ".")
        )
    lines += [f"- Caution: {w}" for w in report.get("warnings", [])]
    return "\n".join(lines)
