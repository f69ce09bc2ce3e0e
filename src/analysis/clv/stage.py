"""The CLV stage of a report run: :func:`run` (backtest, choice, refit, CLV, record) and its result,
:class:`ClvResult`. Its words for people are in :mod:`analysis.clv.describe`, its tables as the page shows them
in :mod:`analysis.clv.show`, the record's entries and the warnings about the fits in :mod:`analysis.clv.record`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from analysis.clv import describe
from analysis.clv.backtest import (
    NO_DROPOUT_GAIN,
    Backtest,
    backtest,
    choose_model,
    covariate_options,
    holdout_period,
    variants,
    whole_period_choice,
)
from analysis.clv.covariate_design import Design
from analysis.clv.covariate_run import covariates_entry, effects_table, stage_design
from analysis.clv.describe import MODEL_NAMES, UNIT_ZH, texts
from analysis.clv.fitters import ConvergenceError
from analysis.clv.likelihoods import COVARIATE_SUFFIX, MODEL_LABELS, MODELS, base_model, check_model
from analysis.clv.models import OUTPUT_COLUMNS, UNITS_PER_MONTH
from analysis.clv.monthly_run import time_axis
from analysis.clv.nbd import NBD_MODEL
from analysis.clv.record import clv_entry, fit_entry, model_entry, refit_failure, spend_entry, warning
from analysis.clv.show import TOP_CUSTOMERS, top_customers
from analysis.clv.value import CLVModel
from analysis.errors import StageDeclined, UserError
from analysis.jsonable import jsonable
from analysis.stage import Inputs, StageResult, Text

TRANSACTION_COLUMNS = ("customer_id", "timestamp", "amount")  # what the stage reads of the purchases
SELECTION_COLUMNS = ["label", "penalizer", "log_likelihood", "n_params", "customers", "bic", "status"]


def clv_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The ``clv`` section of a merged config, checked (a :class:`UserError` says what to fix)."""
    if not config.get("clv"):
        raise UserError("the config has no clv section (defaults/clv.yaml)")
    cfg = dict(config["clv"])
    models = cfg["models"]
    models = [models] if isinstance(models, str) else [] if models is None else list(models)
    for m in models:
        check_model(m)
    if not models:
        raise UserError(f"clv.models is empty: list one or more of {', '.join(MODELS)}")
    cfg["models"] = list(models)
    return cfg


@dataclass(kw_only=True)
class ClvResult(StageResult):
    """The CLV stage's products: ``columns`` (``customer_id`` + :data:`OUTPUT_COLUMNS`, one row per customer of the
    customer table), ``record`` (``clv.json``), ``tables`` (``backtest``, ``parameters``, ``selection``,
    ``top_customers``, ``effects``: raw numbers, :func:`analysis.clv.show.page_table` labels them; ``forecast``:
    the month-by-month forecast, ``forecast.csv``); and the backtest (None when there was none), the fitted
    :class:`CLVModel` and the customer summary it was fitted on (``fit_summary``: ``frequency``, ``recency``,
    ``T``, ``monetary_value`` by customer id)."""

    stage: ClassVar[str] = "clv"

    backtest: Backtest | None
    model: CLVModel
    fit_summary: pd.DataFrame

    @property
    def chosen_label(self) -> Text:
        """The chosen purchase model's name for people, e.g. ``{"en": "Pareto/NBD", "zh": "帕累托/NBD 模型"}``."""
        return self.record["chosen_label"]

    @property
    def horizon_units(self) -> float:
        """The CLV horizon in model time units (e.g. 12 months = 52.14 weeks)."""
        return self.model.horizon_months * UNITS_PER_MONTH[self.model.time_unit]

    @property
    def dropout(self) -> bool:
        """Whether the chosen model has customers leaving (False for the NBD: P(alive) = 1 for everyone)."""
        return self.model.model != NBD_MODEL

    def summary(self, lang: str = "en") -> str:
        """The managers' bullets in ``lang`` (:func:`analysis.clv.describe.summary`)."""
        return describe.summary(self, lang)


@dataclass
class Forecast:
    """The model the stage forecasts with and how it came to be chosen: the fitted model and its scores, each
    model's entry of the record, why it was chosen, the warnings on the way, the backtest's entry and, without
    a backtest, the whole-period selection."""

    model: CLVModel
    scores: pd.DataFrame
    models: dict[str, Any]
    reason: Text
    warnings: list[Text]
    backtest: dict[str, Any] | None = None
    metrics: pd.DataFrame | None = None  # the backtest's metrics, one row per model backtested
    selection: dict[str, Any] | None = None


def run(prepared: Inputs, config: dict[str, Any]) -> ClvResult:
    """The CLV stage: backtest every configured model on a calibration / holdout split, choose the best by holdout
    performance, refit it on all purchases up to the as-of date, and score CLV with bootstrap intervals. When no
    model can be fitted on the calibration period (or refitted), the models are fitted on the whole period and
    chosen by BIC (:func:`~analysis.clv.backtest.whole_period_choice`: with a small penalty when nothing fits
    without, or the purchase process alone, NBD, when nobody has dropped out), and the record says so.

    ``prepared``: the run's inputs (:data:`TRANSACTION_COLUMNS` of the purchases are all it reads; the customer
    table decides the rows of the result: customers without a purchase get NaN forecasts and CLV 0; its
    lifetimes-style columns, when they are as of the as-of date in the model's time unit, are the summary the
    model is fitted on, see :func:`customer_summary`; its ``tier`` and ``rfm_segment`` split the month-by-month
    forecast); ``config``: the validated settings (``clv`` section). The same model then forecasts today's
    customers month by month, is backtested month by month and values a newly won customer
    (:func:`~analysis.clv.monthly_run.time_axis`: the record's ``forecast_quarter``, ``monthly_forecast``,
    ``monthly_backtest`` and ``new_customer``; ``tables["forecast"]``, written as ``forecast.csv``).
    Raises :class:`~analysis.errors.StageDeclined` when the data cannot support a forecast (one day of purchases,
    too short a history, nobody bought twice)."""
    cfg = clv_settings(config)
    as_of = pd.Timestamp(prepared.as_of)
    tx = prepared.read_transactions(TRANSACTION_COLUMNS).reindex(columns=list(TRANSACTION_COLUMNS))
    customers = prepared.customers
    summary, rows = fitting_summary(tx, customers, as_of, cfg["time_unit"])
    design = stage_design(customers, summary.index, cfg)  # the covariates' one-line errors before any fit
    decline_unless_forecastable(tx, summary, as_of, cfg)
    bt, why = try_backtest(tx, as_of, cfg, design)
    frame = summary if design is None else summary.join(design.frame)
    fc = forecast(bt, why, frame, cfg, as_of, design)
    amounts = not bool(tx["amount"].isna().all())
    columns, matched = place_scores(fc.scores, summary, customers, rows, amounts)
    record = make_record(fc, cfg, as_of, amounts, late_as_of(tx, as_of))
    if design is not None:
        record["covariates"] = covariates_entry(design, record["chosen_model"], fc.model.purchase_model_,
                                                bt.models if bt is not None else {})  # fmt: skip
    record["clv"] = clv_entry(fc.model, columns, fc.scores, matched, amounts)
    months, entries = time_axis(fc.model, frame, customers, rows, tx, bt, record["chosen_model"], cfg, as_of, design)
    record.update(entries)
    missing = len(summary.index) - int(matched.sum())  # customer ids are unique in both
    if missing:
        record["warnings"].append(warning("not_in_table", n=missing))
    tables = page_tables(fc, columns, amounts)
    tables["effects"] = effects_table(record)
    tables["forecast"] = months
    return ClvResult(
        columns=columns,
        record=jsonable(record),
        tables=tables,
        backtest=bt if bt is not None and bt.models else None,
        model=fc.model,
        fit_summary=summary,
    )


def make_record(fc: Forecast, cfg: dict[str, Any], as_of: pd.Timestamp, amounts: bool, notices) -> dict[str, Any]:
    """``clv.json`` but for its ``clv`` totals: the settings, the backtest, the choice and its reason, each model's
    entry, the spend model, the parameters, the warnings and notices (each ``{en, zh}``)."""
    unit = cfg["time_unit"]
    record: dict[str, Any] = {"as_of": as_of.date().isoformat(), "time_unit": unit, "warnings": list(fc.warnings)}
    record["amounts"] = amounts
    record["log_likelihood"] = texts("log_likelihood", unit=unit, unit_zh=UNIT_ZH[unit])
    if not amounts:
        record["amounts_note"] = texts("no_amounts")
    if fc.backtest is not None:
        record["backtest"] = fc.backtest
    key = model_key(fc.model)
    record["chosen_model"], record["choice_reason"] = key, fc.reason
    if fc.selection is not None:
        record["selection"] = fc.selection
    record["chosen_label"] = MODEL_NAMES[key]
    pm, sm = fc.model.purchase_model_, fc.model.spend_model_
    record["models"] = {**fc.models, key: {**fc.models[key], "full": fit_entry(pm)}}
    record["spend_model"] = spend_entry(sm)
    record["warnings"] += sm.warnings_
    record["parameters"] = fc.model.parameter_intervals().to_dict(orient="index")
    record["notices"] = notices
    return record


def page_tables(fc: Forecast, columns: pd.DataFrame, amounts: bool) -> dict[str, pd.DataFrame]:
    """The page's tables, raw: the backtest's metrics (empty without one), the parameters with their intervals,
    the whole-period fits of a choice by BIC (empty after a backtest), the most valuable customers."""
    metrics = pd.DataFrame() if fc.metrics is None else fc.metrics
    fits = fc.selection["fits"] if fc.selection else {}
    selection = pd.DataFrame([{c: fit.get(c) for c in SELECTION_COLUMNS} for fit in fits.values()],
                             columns=SELECTION_COLUMNS)  # fmt: skip
    selection["bic"] = selection["bic"].astype(float)
    return {
        "backtest": metrics,
        "parameters": fc.model.parameter_intervals(),
        "selection": selection,
        "top_customers": top_customers(columns, amounts, TOP_CUSTOMERS),
    }


def forecast(bt: Backtest | None, why: Text | None, summary: pd.DataFrame, cfg, as_of: pd.Timestamp,
             design: Design | None = None) -> Forecast:  # fmt: skip
    """The forecast model: the backtest's choice refitted on all data (or the next best that can be), else the
    model chosen on the whole period (``why``: why there was no backtest to choose by, if known), which is chosen
    among the models without covariates. ``summary``: with the covariates' columns when ``design`` is given."""
    models, warnings, entry = backtest_entries(bt, cfg)
    model = scores = None
    if entry is not None:
        chosen, _ = choose_model(bt.metrics, cfg["choose_by"])
        model, scores, failures = refit_ranked(chosen, bt, summary, cfg, as_of, design)
        warnings += failures
    if model is not None:
        key = model_key(model)
        models.setdefault(key, {"label": MODEL_LABELS[key]})
        reason = describe.best_model_reason({"chosen_model": key, "backtest": entry, "models": models})
        return Forecast(model, scores, models, reason, warnings, entry, bt.metrics)
    why = why or texts("not_refitted", date=as_of.date().isoformat())
    model, scores, selection = whole_period_model(summary, cfg, why, as_of)
    models.setdefault(model.model, {"label": MODEL_NAMES[model.model]["en"]})
    return Forecast(model, scores, models, selection["choice"], warnings, selection=selection)


def backtest_entries(bt: Backtest | None, cfg) -> tuple[dict[str, Any], list[Text], dict[str, Any] | None]:
    """Each configured model's entry of the record (its backtest, or why it was left out), the warnings of the
    models left out, and the record's ``backtest`` entry (None when no model could be backtested)."""
    models: dict[str, Any] = {}
    warnings: list[Text] = []
    if bt is None:
        return models, warnings, None
    for name in variants(cfg["models"], bt.covariates):
        models[name] = model_entry(name, bt)
        if name not in bt.models:
            warnings.append(warning("model", label=MODEL_LABELS[name], reason=bt.errors[name]))
    if not bt.models:
        return models, warnings, None
    entry = {
        "calibration_end": bt.calibration_end.date().isoformat(),
        "observation_end": bt.observation_end.date().isoformat(),
        "holdout_length": bt.holdout_length,
        "customers": int(len(bt.predictions)),
        "choose_by": cfg["choose_by"],
        "spend_model": spend_entry(bt.spend_model),
    }
    return models, warnings, entry


def fitting_summary(tx: pd.DataFrame, customers: pd.DataFrame, as_of: pd.Timestamp, unit: str):
    """The customer summary the models are fitted on, and the rows of ``customers`` it holds (None: the summary
    was computed from ``tx``, its rows are matched by id)."""
    from analysis.data import features

    summary = customer_summary(customers, as_of, unit)
    if summary is None:
        return features.lifetimes_summary(tx, as_of, unit), None
    # the summary's customers are these rows of the table, in its order
    return summary, np.flatnonzero(customers["lt_frequency"].notna().to_numpy())


def decline_unless_forecastable(tx: pd.DataFrame, summary: pd.DataFrame, as_of: pd.Timestamp, cfg) -> None:
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


def late_as_of(tx: pd.DataFrame, as_of: pd.Timestamp) -> list[Text]:
    """A notice when ``as_of`` is more than a year after the last purchase (naming it), else none."""
    last = pd.Timestamp(tx["timestamp"].max()).normalize()
    days = (as_of.normalize() - last).days
    if days <= 365:
        return []
    return [texts("late_as_of", as_of=as_of.date().isoformat(), years=days / 365.25, last=last.date().isoformat())]


def try_backtest(tx: pd.DataFrame, as_of: pd.Timestamp, cfg, design: Design | None = None):
    """The backtest, and, when there is too little history before the calibration end for it (the holdout rule
    leaves no calibration period, or no model fits on it), None or the backtest and the "not backtested" label.
    A calibration end the user set that is out of range stays a :class:`UserError`. With ``design`` each model
    is backtested with the covariates too (:func:`~analysis.clv.backtest.backtest`)."""
    hold = cfg["holdout"]
    try:
        cal_end, obs_end = holdout_period(
            tx["timestamp"].min(), as_of, hold["fraction"], hold["max_days"], hold["calibration_end"]
        )
    except UserError:
        if hold["calibration_end"] or not 0 < hold["fraction"] < 1:
            raise
        return None, texts("not_backtested", date=as_of.date().isoformat())
    unit, penalizer = cfg["time_unit"], cfg["penalizer"]
    options = fit_options(cfg), spend_options(cfg)
    bt = backtest(tx, cal_end, obs_end, cfg["models"], unit, penalizer, *options, covariates=design)
    return bt, None if bt.models else texts("not_backtested", date=cal_end.date().isoformat())


def clv_model(name: str, cfg: dict[str, Any], penalizer: float, design: Design | None = None) -> CLVModel:
    """The CLV model of the settings ``cfg`` with purchase model ``name`` (a key ``<model>_cov``: with the
    covariates of ``design``) fitted with ``penalizer``."""
    boot, spend = cfg["bootstrap"], spend_options(cfg)
    covariates = covariate_options(name, design) or None
    return CLVModel(
        model=base_model(name),
        covariates=covariates,
        horizon_months=int(cfg["horizon_months"]),
        discount_rate=float(cfg["discount_rate"]),
        margin=cfg["margin"],
        time_unit=cfg["time_unit"],
        penalizer=float(penalizer),
        gg_penalizer=spend["penalizer"],
        gg_retry_penalizer=spend["retry_penalizer"],
        correlation_warning=spend["correlation_warning"],
        n_bootstrap=int(boot["n"]),
        interval=float(boot["interval"]),
        random_state=boot["seed"],
        **fit_options(cfg),
    )


def refit_ranked(chosen: str, bt: Backtest, summary: pd.DataFrame, cfg, as_of: pd.Timestamp, design=None):
    """(the CLV model, its scores, the warnings) of the first of the backtest's models, the chosen one first, that
    can be refitted on all data up to the as-of date; the model and scores are None when none can (each failure
    is a warning)."""
    failures: list[Text] = []
    for name in [chosen] + [m for m in bt.metrics.index if m != chosen]:
        model = clv_model(name, cfg, float(cfg["penalizer"]), design)
        try:
            return model, model.fit_predict(summary), failures  # the customers grouped once for both
        except ConvergenceError as exc:
            failures.append(refit_failure(name, exc, as_of.date().isoformat()))
    return None, None, failures


def whole_period_model(summary: pd.DataFrame, cfg, why: Text, as_of: pd.Timestamp):
    """(the CLV model, its scores, the record's ``selection``) of the model chosen on the whole period
    (:func:`whole_period_choice`); ``why`` says why there was no backtest to choose by. Declines when even that
    model cannot be fitted."""
    retry = float(cfg["fit"]["retry_penalizer"])
    choice = whole_period_choice(summary, cfg["models"], float(cfg["penalizer"]), retry, fit_options(cfg))
    model = clv_model(choice.model, cfg, choice.penalizer)
    try:
        scores = model.fit_predict(summary)
    except ConvergenceError:
        raise StageDeclined("clv", texts("decline_unfitted"), dict.fromkeys(OUTPUT_COLUMNS, "number")) from None
    notes, details = selection_notes(choice, model, cfg["time_unit"])
    choice_texts = [why, *notes]
    if choice.kind in ("bic", "penalized"):
        choice_texts.append(bic_text(choice, as_of))
    fits = {key: {"label": MODEL_NAMES[fit["model"]]["en"], **fit} for key, fit in choice.fits.items()}
    selection = {
        "by": "bic",
        "kind": choice.kind,
        "not_backtested": why,
        "penalizer": choice.penalizer,
        "notes": notes,
        "details": details,
        "dropout_gain": choice.dropout_gain,
        "fits": fits,
        "choice": {"en": "; ".join(t["en"] for t in choice_texts), "zh": "；".join(t["zh"] for t in choice_texts)},
    }
    return model, scores, selection


def selection_notes(choice, model: CLVModel, unit: str) -> tuple[list[Text], list[Text]]:
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


def bic_text(choice, as_of: pd.Timestamp) -> Text:
    """The BIC sentence of a whole-period choice: the chosen model's BIC and the other sound fits'."""
    fits = {k: f for k, f in choice.fits.items() if f["status"] == "fitted" and f["penalizer"] == choice.penalizer}
    best = next(f for f in fits.values() if f["model"] == choice.model)
    label = MODEL_NAMES[choice.model]["en"]
    names = MODEL_NAMES
    others = describe.listed([f"{names[f['model']]['en']} {f['bic']:,.6g}" for f in fits.values() if f is not best])
    return texts("bic", label=label, as_of=as_of.date().isoformat(), value=best["bic"], others=others)


def model_key(model: CLVModel) -> str:
    """The key of a CLV model's purchase model in the record: its name, ``<model>_cov`` with covariates."""
    return f"{model.model}{COVARIATE_SUFFIX}" if model.covariates else model.model


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


def place_scores(scores: pd.DataFrame, summary: pd.DataFrame, customers: pd.DataFrame, rows, amounts: bool):
    """The stage's columns for every customer of the table: the scores where the customer has purchases, NaN
    elsewhere (CLV 0 with amounts); and which rows have purchases. ``rows``: the table's rows the summary holds,
    in its order (None: match them by id)."""
    ids = customers["customer_id"].astype(str)
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


def spend_options(cfg: dict[str, Any]) -> dict[str, Any]:
    """The spend model's settings (``clv.gamma_gamma``) as :class:`~analysis.clv.spend.SpendModel` keywords."""
    gg = cfg["gamma_gamma"]
    return {
        "penalizer": float(gg["penalizer"]),
        "retry_penalizer": float(gg["retry_penalizer"]),
        "correlation_warning": float(gg["correlation_warning"]),
    }


def fit_options(cfg: dict[str, Any]) -> dict[str, Any]:
    """How every purchase-model fit is run (``clv.fit``) as :class:`~analysis.clv.models.PurchaseModel` keywords."""
    fit = cfg["fit"]
    return {"max_shape": float(fit["max_shape"]), "max_iterations": int(fit["max_iterations"])}
