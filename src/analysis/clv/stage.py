"""The CLV stage of a report run (:func:`run_clv`: backtest, choice, refit, CLV, report); its words for people
are in :mod:`analysis.clv.describe`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.clv.backtest import (
    NO_DROPOUT_GAIN,
    Backtest,
    backtest,
    choose_model,
    holdout_period,
    whole_period_choice,
)
from analysis.clv.describe import (
    HEADERS,
    LOG_LIKELIHOOD_NOTE,
    NO_AMOUNTS,
    TEXTS,
    UNIT_ZH,
    choice_reason,
    details_markdown,
    localize_message,
    texts,
)
from analysis.clv.diagnostics import frequency_recency_matrix, repeat_purchase_histogram
from analysis.clv.fitters import ConvergenceError
from analysis.clv.likelihoods import MODEL_LABELS, MODELS, check_model
from analysis.clv.models import OUTPUT_COLUMNS, UNITS_PER_MONTH
from analysis.clv.nbd import NBD_LABELS, NBD_MODEL
from analysis.clv.record import clv_entry, fit_entry, model_entry, spend_entry
from analysis.clv.value import CLVModel
from analysis.errors import StageDeclined, UserError
from analysis.i18n import localize
from analysis.jsonable import jsonable

TRANSACTION_COLUMNS = ("customer_id", "timestamp", "amount")  # what the stage reads of the purchases

# The purchase models' names for people, in English and in Chinese (the pack names the chosen one).
LABELS = {**MODEL_LABELS, NBD_MODEL: NBD_LABELS["en"]}
LABELS_ZH = {**MODEL_LABELS, NBD_MODEL: NBD_LABELS["zh"]}


def clv_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The ``clv`` section of a merged config, checked (a :class:`UserError` says what to fix)."""
    cfg = dict(config.get("clv") or {})
    if not cfg:
        raise UserError("the config has no clv section (defaults/clv.yaml)")
    models = cfg.get("models") or []
    if isinstance(models, str):
        models = [models]
    for m in models:
        check_model(m)
    if not models:
        raise UserError(f"clv.models is empty: list one or more of {', '.join(MODELS)}")
    cfg["models"] = list(models)
    return cfg


@dataclass
class ClvRun:
    """The CLV stage's products: ``customers`` (``customer_id`` + the CLV columns, one row per
    customer of the customer table), ``report`` (what goes in ``clv.json``), the backtest,
    the fitted :class:`CLVModel` and the summary it was fitted on (indexed by customer id)."""

    customers: pd.DataFrame
    report: dict[str, Any]
    backtest: Backtest | None
    model: CLVModel
    summary: pd.DataFrame

    @property
    def chosen_label(self) -> str:
        """The chosen purchase model's name, e.g. "Pareto/NBD"."""
        return LABELS[self.model.model]

    @property
    def horizon_units(self) -> float:
        """The CLV horizon in model time units (e.g. 12 months = 52.14 weeks)."""
        return self.model.horizon_months * UNITS_PER_MONTH[self.model.time_unit]

    @property
    def dropout(self) -> bool:
        """Whether the chosen model has customers leaving (False for the NBD: P(alive) = 1 for everyone)."""
        return self.model.model != NBD_MODEL

    def no_dropout_markdown(self, lang: str = "en") -> str:
        """The sentence shown instead of the P(alive) chart when the model has no dropout, in ``lang``."""
        return TEXTS[lang]["item"].format(w=texts("no_dropout_chart")[lang])

    def details_markdown(self, lang: str = "en") -> str:
        """The technical cautions of the fits (degenerate fits, parameter values, spend-model notes) in
        ``lang``, for the page's Details section (not the managers' summary)."""
        return details_markdown(self.report, lang)

    def selection_table(self, lang: str = "en") -> pd.DataFrame:
        """The whole-period fits a model was chosen from by BIC when there was no backtest (model, penalty,
        log-likelihood, parameters, customers, BIC, status), headed in ``lang``; empty after a backtest."""
        fits = (self.report.get("selection") or {}).get("fits") or {}
        columns = ["label", "penalizer", "log_likelihood", "n_params", "customers", "bic", "status"]
        table = pd.DataFrame([{c: fit.get(c) for c in columns} for fit in fits.values()], columns=columns)
        table["bic"] = table["bic"].astype(float)
        table["status"] = table["status"].map(TEXTS[lang]["status"])
        table = table.rename(columns={"label": "model"}).set_index("model").round(3)
        return localize(table, lang, HEADERS)

    def matrix(self, what: str = "p_alive") -> pd.DataFrame:
        """``p_alive`` or ``expected_purchases`` (over the horizon) by frequency and recency,
        for a customer whose first purchase was at the start of the data."""
        T = float(self.summary["T"].max())
        max_f = int(min(30, max(5, self.summary["frequency"].quantile(0.99))))
        return frequency_recency_matrix(self.model.purchase_model_, T, self.horizon_units, what, max_frequency=max_f)

    def repeat_histogram(self) -> pd.DataFrame:
        """Customers by repeat purchases, actual and expected by the chosen model."""
        return repeat_purchase_histogram(self.model.purchase_model_, self.summary)

    def choice_markdown(self, lang: str = "en") -> str:
        """The chosen model and why, each model left out and why, and a missing-amounts note, in ``lang``."""
        t = TEXTS[lang]
        lines = [t["chosen"].format(reason=choice_reason(self.report, lang))]
        for entry in self.report["models"].values():
            if entry.get("status") == "left out":
                lines.append(t["left_out"].format(label=entry["label"], reason=localize_message(entry["reason"], lang)))
        if not self.report.get("amounts", True):
            lines.append(t["note"].format(note=localize_message(self.report["amounts_note"], lang)))
        return "\n".join(lines)

    def spend_markdown(self, lang: str = "en") -> str:
        """How spend per purchase was modelled (method, parameters, buyers, notes), as a list a person reads in
        ``lang``: numbers to 4 significant digits, lists as sentences, empty entries left out."""
        t = TEXTS[lang]

        def words(value: Any) -> str:
            if isinstance(value, dict):
                return ", ".join(f"{k} {words(v)}" for k, v in value.items())
            if isinstance(value, list):
                return t["list"].join(map(words, value))
            if isinstance(value, float):
                return f"{value:,.4g}"
            return f"{value:,}" if isinstance(value, int) else localize_message(str(value), lang)

        items = [(k, t["methods"].get(v, v) if k == "method" else v) for k, v in self.report["spend_model"].items()]
        shown = [(t["spend"].get(k, k.replace("_", " ")), v) for k, v in items if v not in (None, [], {}, "")]
        return "\n".join(f"- {k}{t['colon']}{words(v)}" for k, v in shown)

    def backtest_table(self, lang: str = "en") -> pd.DataFrame:
        """The backtest's metrics, one row per model (rounded to 3 decimals, money to cents), headed in
        ``lang``; empty when there was no backtest."""
        if self.backtest is None:
            return pd.DataFrame()
        table = self.backtest.metrics.rename(index=MODEL_LABELS).rename_axis("model").round(3)
        money = [c for c in table if c.startswith("spend_")]
        table[money] = table[money].round(2)
        return localize(table, lang, HEADERS)

    def parameter_table(self, lang: str = "en") -> pd.DataFrame:
        """The fitted parameters with their bootstrap intervals (rounded to 4 decimals), headed in ``lang``; the
        spend model's ``gg_p`` reads ``Gamma-Gamma p``."""
        table = self.model.parameter_intervals().rename_axis("parameter").round(4)
        table = table.rename(index=lambda name: f"Gamma-Gamma {name[3:]}" if name.startswith("gg_") else name)
        return localize(table, lang, HEADERS)

    def top_customers(self, n: int = 20) -> pd.DataFrame:
        """The ``n`` customers with the highest CLV, with their forecasts and intervals; without
        amounts, those with the most expected purchases."""
        by = "clv" if self.report.get("amounts", True) else "expected_purchases"
        return self.customers.dropna(subset=[by]).nlargest(n, by).reset_index(drop=True)

    def top_customers_table(self, n: int = 20, lang: str = "en") -> pd.DataFrame:
        """:meth:`top_customers` for the page, ranked from 1: rounded to cents (P(active) to 4 decimals), headed in
        ``lang``."""
        top = self.top_customers(n)
        top = top.round(2).assign(p_alive=top["p_alive"].round(4))
        return localize(top.set_axis(pd.RangeIndex(1, len(top) + 1, name="rank")), lang, HEADERS)


def run_clv(tx: pd.DataFrame, customers: pd.DataFrame | None, as_of: Any, config: dict[str, Any]) -> ClvRun:
    """The CLV stage: backtest every configured model on a calibration / holdout split, choose
    the best by holdout performance, refit it on all purchases up to ``as_of``, and score CLV
    with bootstrap intervals. When no model can be fitted on the calibration period (or refitted), the models
    are fitted on the whole period and chosen by BIC (:func:`~analysis.clv.backtest.whole_period_choice`: with
    a small penalty when nothing fits without, or the purchase process alone, NBD, when nobody has dropped out),
    and the report says so.

    ``tx``: validated transactions (:data:`TRANSACTION_COLUMNS` are all it reads); ``customers``:
    the customer table (its ``customer_id`` decide the rows of the result; customers without a
    purchase get NaN model outputs and CLV 0; its lifetimes-style columns, when they are as of
    ``as_of`` in the model's time unit, are the summary the model is fitted on, see
    :func:`customer_summary`); ``config``: the merged config (``clv`` section). Raises
    :class:`~analysis.errors.StageDeclined` when the data cannot support a forecast (one day of purchases, too
    short a history, nobody bought twice)."""
    cfg = clv_settings(config)
    unit = cfg["time_unit"]
    tx = tx[list(TRANSACTION_COLUMNS)]  # all the models need (less to copy)
    as_of = pd.Timestamp(as_of)
    report: dict[str, Any] = {"as_of": as_of.date().isoformat(), "time_unit": unit, "warnings": []}
    amounts = not bool(tx["amount"].isna().all())
    report["amounts"] = amounts
    report["log_likelihood"] = LOG_LIKELIHOOD_NOTE.format(unit=unit)
    if not amounts:
        report["amounts_note"] = NO_AMOUNTS
    summary, rows = _fitting_summary(tx, customers, as_of, unit)
    _decline_unless_forecastable(tx, summary, as_of, cfg)
    notices = _late_as_of(tx, as_of)
    bt, why = _try_backtest(tx, as_of, cfg)
    chosen, reason, models_report = _backtest_choice(bt, cfg, report)
    model, scores = (None, None) if chosen is None else _refit_ranked(chosen, bt, summary, cfg, report)
    reason_zh = None
    if model is not None and model.model != chosen:
        chosen = model.model
        reason = f"{MODEL_LABELS[chosen]} is the best model that could be refitted on all data"
        models_report.setdefault(chosen, {"label": MODEL_LABELS[chosen]})
    if model is None:
        why = why or texts("not_refitted", date=as_of.date().isoformat())
        model, scores, selection = _whole_period_model(summary, cfg, why, as_of)
        chosen, (reason, reason_zh) = model.model, (selection["choice"]["en"], selection["choice"]["zh"])
        models_report.setdefault(chosen, {"label": LABELS[chosen]})
    report["chosen_model"], report["choice_reason"] = chosen, reason
    if reason_zh is not None:
        report["choice_reason_zh"] = reason_zh
        report["selection"] = selection
    report["chosen_label"], report["chosen_label_zh"] = LABELS[chosen], LABELS_ZH[chosen]
    pm, sm = model.purchase_model_, model.spend_model_
    models_report[chosen]["full"] = fit_entry(pm)
    report["models"] = models_report
    report["spend_model"] = spend_entry(sm)
    report["warnings"] += sm.warnings_
    report["parameters"] = model.parameter_intervals().to_dict(orient="index")
    out, matched = _place_scores(scores, summary, customers, rows, amounts)
    report["clv"] = clv_entry(model, out, scores, matched, amounts)
    missing = len(summary.index) - int(matched.sum())  # customer ids are unique in both
    if missing:
        report["warnings"].append(f"{missing} customers with purchases are not in the customer table")
    if notices:
        report["notices"] = notices
    return ClvRun(out, jsonable(report), bt if bt is not None and bt.models else None, model, summary)


def _fitting_summary(tx: pd.DataFrame, customers: pd.DataFrame | None, as_of: pd.Timestamp, unit: str):
    """The customer summary the models are fitted on, and the rows of ``customers`` it holds (None: the summary
    was computed from ``tx``, its rows are matched by id)."""
    from analysis.data import features

    summary = customer_summary(customers, as_of, unit)
    if summary is None:
        return features.lifetimes_summary(tx, as_of, unit), None
    # the summary's customers are these rows of the table, in its order
    return summary, np.flatnonzero(customers["lt_frequency"].notna().to_numpy())


def _decline_unless_forecastable(tx: pd.DataFrame, summary: pd.DataFrame, as_of: pd.Timestamp, cfg) -> None:
    """Raise :class:`StageDeclined` when the data cannot support a forecast: no purchase, all purchases on one
    day, fewer than ``clv.min_history_days`` days from the first purchase to ``as_of`` (both counted), or no
    customer with a repeat purchase."""
    day = as_of.date().isoformat()
    if not len(summary):
        reason = texts("decline_no_purchases", as_of=day)
    else:
        first = pd.Timestamp(tx["timestamp"].min()).normalize()
        days = (as_of.normalize() - first).days + 1
        if float(summary["T"].max()) <= 0:
            reason = texts("decline_one_day", day=first.date().isoformat())
        elif days < int(cfg["min_history_days"]):
            reason = texts(
                "decline_short", days=days, first=first.date().isoformat(), as_of=day, min_days=cfg["min_history_days"]
            )
        elif not (summary["frequency"].to_numpy(float) > 0).any():
            reason = texts("decline_nobody_twice", n=len(summary))
        else:
            return
    raise StageDeclined("clv", reason, columns=dict.fromkeys(OUTPUT_COLUMNS, "number"))


def _late_as_of(tx: pd.DataFrame, as_of: pd.Timestamp) -> list[dict[str, str]]:
    """A notice when ``as_of`` is more than a year after the last purchase (naming it), else none."""
    last = pd.Timestamp(tx["timestamp"].max()).normalize()
    days = (as_of.normalize() - last).days
    if days <= 365:
        return []
    return [texts("late_as_of", as_of=as_of.date().isoformat(), years=days / 365.25, last=last.date().isoformat())]


def _try_backtest(tx: pd.DataFrame, as_of: pd.Timestamp, cfg) -> tuple[Backtest | None, dict[str, str] | None]:
    """The backtest, and, when there is too little history before the calibration end for it (the holdout rule
    leaves no calibration period, or no model fits on it), None or the backtest and the "not backtested" label.
    A calibration end the user set that is out of range stays a :class:`UserError`."""
    hold = cfg.get("holdout") or {}
    try:
        cal_end, obs_end = holdout_period(
            tx["timestamp"].min(),
            as_of,
            hold.get("fraction", 0.5),
            hold.get("max_days", 365),
            hold.get("calibration_end"),
        )
    except UserError:
        if hold.get("calibration_end") or not 0 < hold.get("fraction", 0.5) < 1:
            raise
        return None, texts("not_backtested", date=as_of.date().isoformat())
    unit, penalizer = cfg["time_unit"], cfg.get("penalizer", 0.0)
    bt = backtest(tx, cal_end, obs_end, cfg["models"], unit, penalizer, _fit_options(cfg), _spend_options(cfg))
    return bt, None if bt.models else texts("not_backtested", date=cal_end.date().isoformat())


def _backtest_choice(bt: Backtest | None, cfg, report: dict[str, Any]) -> tuple[str | None, str, dict[str, Any]]:
    """(the model the backtest chose or None, why, each model's entry of the report); the backtest's facts
    go in ``report`` (``backtest``, warnings of the models left out)."""
    models_report: dict[str, Any] = {}
    if bt is None:
        return None, "", models_report
    for name in cfg["models"]:
        models_report[name] = model_entry(name, bt)
        if name not in bt.models:
            report["warnings"].append(f"{MODEL_LABELS[name]}: {bt.errors[name]}")
    if not bt.models:
        return None, "", models_report
    chosen, reason = choose_model(bt.metrics, cfg.get("choose_by", "rmse"))
    report["backtest"] = {
        "calibration_end": bt.calibration_end.date().isoformat(),
        "observation_end": bt.observation_end.date().isoformat(),
        "holdout_length": bt.holdout_length,
        "customers": int(len(bt.predictions)),
        "choose_by": cfg.get("choose_by", "rmse"),
        "spend_model": spend_entry(bt.spend_model),
    }
    return chosen, reason, dict(models_report)


def _clv_model(name: str, cfg: dict[str, Any], penalizer: float) -> CLVModel:
    """The CLV model of the settings ``cfg`` with purchase model ``name`` fitted with ``penalizer``."""
    boot, spend = cfg.get("bootstrap") or {}, _spend_options(cfg)
    return CLVModel(
        model=name,
        horizon_months=int(cfg.get("horizon_months", 12)),
        discount_rate=float(cfg.get("discount_rate", 0.01)),
        margin=cfg.get("margin"),
        time_unit=cfg["time_unit"],
        penalizer=float(penalizer),
        gg_penalizer=spend["penalizer"],
        gg_retry_penalizer=spend["retry_penalizer"],
        correlation_warning=spend["correlation_warning"],
        n_bootstrap=int(boot.get("n", 0)),
        interval=float(boot.get("interval", 0.9)),
        random_state=boot.get("seed"),
        **_fit_options(cfg),
    )


def _refit_ranked(chosen: str, bt: Backtest, summary: pd.DataFrame, cfg, report: dict[str, Any]):
    """(the CLV model, its scores) of the first of the backtest's models, the chosen one first, that can be
    refitted on all data up to the as-of date; (None, None) when none can (each failure is a warning)."""
    for name in [chosen] + [m for m in bt.metrics.index if m != chosen]:
        model = _clv_model(name, cfg, float(cfg.get("penalizer", 0.0)))
        try:
            return model, model.fit_predict(summary)  # the customers grouped once for both
        except ConvergenceError as exc:
            report["warnings"].append(
                f"{MODEL_LABELS[name]} could not be refitted on all data up to {report['as_of']}: {str(exc).strip()}"
            )
    return None, None


def _whole_period_model(summary: pd.DataFrame, cfg, why: dict[str, str], as_of: pd.Timestamp):
    """(the CLV model, its scores, the report's ``selection``) of the model chosen on the whole period
    (:func:`whole_period_choice`); ``why`` says why there was no backtest to choose by. Declines when even that
    model cannot be fitted."""
    retry = float(cfg["fit"]["retry_penalizer"])
    choice = whole_period_choice(summary, cfg["models"], float(cfg.get("penalizer", 0.0)), retry, _fit_options(cfg))
    model = _clv_model(choice.model, cfg, choice.penalizer)
    try:
        scores = model.fit_predict(summary)
    except ConvergenceError:
        raise StageDeclined("clv", texts("decline_unfitted"), dict.fromkeys(OUTPUT_COLUMNS, "number")) from None
    notes, details = _selection_notes(choice, model, cfg["time_unit"])
    choice_texts = [why, *notes]
    if choice.kind in ("bic", "penalized"):
        choice_texts.append(_bic_text(choice, as_of))
    return (
        model,
        scores,
        {
            "by": "bic",
            "kind": choice.kind,
            "not_backtested": why,
            "penalizer": choice.penalizer,
            "notes": notes,
            "details": details,
            "dropout_gain": choice.dropout_gain,
            "fits": {key: {"label": LABELS[fit["model"]], **fit} for key, fit in choice.fits.items()},
            "choice": {"en": "; ".join(t["en"] for t in choice_texts), "zh": "；".join(t["zh"] for t in choice_texts)},
        },
    )


def _selection_notes(choice, model: CLVModel, unit: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """What a manager reads of a whole-period choice (a penalty, no dropout seen, one common rate), and the
    technical details (the NBD's parameters), each ``{en, zh}``."""
    notes, details = [], []
    if choice.kind == "penalized":
        notes.append(texts("penalized", penalizer=choice.penalizer))
    if choice.model != NBD_MODEL:
        return notes, details
    notes.append(texts("no_dropout" if choice.kind == "no_dropout" else "no_dropout_unfitted"))
    pm = model.purchase_model_
    zh_unit = UNIT_ZH[unit]
    if pm.poisson_:
        rate = float(pm.params_["rate"])
        notes.append(texts("one_rate", per_year=rate * UNITS_PER_MONTH[unit] * 12))
        details.append(texts("poisson_detail", rate=rate, unit=unit.rstrip("s"), unit_zh=zh_unit))
    else:
        p = pm.params_
        details.append(
            texts("nbd_detail", r=p["r"], alpha=p["alpha"], unit=unit, unit_zh=zh_unit, gain=choice.dropout_gain,
                  limit=NO_DROPOUT_GAIN)
        )  # fmt: skip
    return notes, details


def _bic_text(choice, as_of: pd.Timestamp) -> dict[str, str]:
    """The BIC sentence of a whole-period choice: the chosen model's BIC and the other sound fits'."""
    fits = {k: f for k, f in choice.fits.items() if f["status"] == "fitted" and f["penalizer"] == choice.penalizer}
    best = next(f for f in fits.values() if f["model"] == choice.model)
    others = ", ".join(f"{LABELS[f['model']]} {f['bic']:,.6g}" for f in fits.values() if f is not best)
    others = f"; {others}" if others else ""
    return texts("bic", label=LABELS[choice.model], as_of=as_of.date().isoformat(), value=best["bic"], others=others)


def customer_summary(customers: pd.DataFrame | None, as_of: Any, time_unit: str) -> pd.DataFrame | None:
    """``frequency``, ``recency``, ``T``, ``monetary_value`` of the customers with a purchase, indexed
    by ``customer_id`` in its order, from the customer table's ``lt_frequency``, ``lt_recency``,
    ``lt_T``, ``lt_monetary_value``: the same expression as
    :func:`analysis.data.features.lifetimes_summary` on the same purchases computed them when the
    data were prepared. None (compute it from the transactions) when the table lacks them or they
    are not as of ``as_of`` in ``time_unit`` (checked on its first customer with a purchase:
    first purchase + tenure = as-of, tenure = T in days)."""
    from analysis.data import features

    columns = ["lt_frequency", "lt_recency", "lt_T", "lt_monetary_value"]
    needed = ["customer_id", "first_purchase", "tenure_days", *columns]
    if customers is None or not set(needed) <= set(customers.columns):
        return None
    bought = customers["lt_frequency"].notna().to_numpy()
    if not bought.any():
        return None
    first = int(np.argmax(bought))
    row = customers.iloc[first]
    end = pd.Timestamp(row["first_purchase"]).normalize() + pd.Timedelta(days=int(row["tenure_days"]))
    if end != pd.Timestamp(as_of).normalize() or not math.isclose(
        float(row["lt_T"]) * features.time_unit_days(time_unit), float(row["tenure_days"]), rel_tol=1e-9, abs_tol=1e-9
    ):
        return None
    table = customers.loc[bought, ["customer_id", *columns]]
    table.columns = ["customer_id", "frequency", "recency", "T", "monetary_value"]
    return table.set_index("customer_id")


def _place_scores(scores: pd.DataFrame, summary: pd.DataFrame, customers, rows, amounts: bool):
    """The stage's columns for every customer of the table (or of the summary without one): the scores where
    the customer has purchases, NaN elsewhere (CLV 0 with amounts); and which rows have purchases."""
    ids = customers["customer_id"].astype(str) if customers is not None else pd.Series(summary.index, dtype=str)
    if rows is None:
        out = scores.reindex(pd.Index(ids, name="customer_id"))
        matched = summary.index.get_indexer(out.index) >= 0  # a tenth of the time of Index.isin on 1M string ids
    else:  # placed by position: no hashing of a million ids
        values = np.full((len(ids), scores.shape[1]), np.nan)
        values[rows] = scores.to_numpy(float)
        out = pd.DataFrame(values, index=pd.Index(ids, name="customer_id"), columns=scores.columns)
        matched = np.zeros(len(ids), bool)
        matched[rows] = True
    if "clv_low" not in out:
        out["clv_low"] = out["clv_high"] = np.nan
    out.loc[~matched, ["clv", "clv_low", "clv_high"]] = 0.0 if amounts else np.nan
    return out[list(OUTPUT_COLUMNS)].reset_index(), matched


def _spend_options(cfg: dict[str, Any]) -> dict[str, Any]:
    gg = cfg.get("gamma_gamma") or {}
    return {
        "penalizer": float(gg.get("penalizer", 0.0)),
        "retry_penalizer": float(gg.get("retry_penalizer", 0.01)),
        "correlation_warning": float(gg.get("correlation_warning", 0.3)),
    }


def _fit_options(cfg: dict[str, Any]) -> dict[str, Any]:
    fit = cfg.get("fit") or {}
    return {"max_shape": float(fit.get("max_shape", 1000.0)), "max_iterations": int(fit.get("max_iterations", 500))}
