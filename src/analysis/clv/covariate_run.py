"""Static covariates in the CLV stage's run (issue 20): the customers' design matrix from the customer table's
attributes (:func:`stage_design`), the record's ``covariates`` entry (the effects as ratios of the fit with
covariates, its likelihood-ratio test; :func:`covariates_entry`) and ``clv_models.json``, every fitted model's
parameters, coefficients, standard errors, log-likelihood and test (:func:`models_record`).

With no covariate named nothing here runs: the stage's products are those of the models without covariates,
byte for byte.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.clv.covariate_design import Design, design_matrix, ratios
from analysis.clv.covariates import CovariatePurchaseModel
from analysis.clv.likelihoods import COVARIATE_SUFFIX, MODEL_LABELS, base_model, has_covariates
from analysis.clv.monthly_run import models_entries

# The customer table's attributes a covariate may name (analysis.data.validate.ATTRIBUTE_ROLES but the name).
ATTRIBUTES = ("country", "region", "city", "industry", "customer_type", "size")


def named(cfg: dict[str, Any]) -> bool:
    """Whether the settings (``clv`` section) name any covariate."""
    cov = cfg["covariates"]
    return bool(cov["trans"] or cov["life"] or cov["constrain"])


def stage_design(customers: pd.DataFrame, ids: pd.Index, cfg: dict[str, Any]) -> Design | None:
    """The covariates of the customers ``ids`` (the summary's, with a purchase) from the customer table's
    attributes (:data:`ATTRIBUTES`: from ``--customers`` or the transactions), indexed by customer id; None when
    the settings name none. A name that is no attribute, a constant, missing values, too many levels: one
    ``error:`` line (:func:`~analysis.clv.covariate_design.design_matrix`)."""
    if not named(cfg):
        return None
    columns = [c for c in ATTRIBUTES if c in customers.columns]
    table = customers[["customer_id", *columns]].copy()
    table.index = pd.Index(table.pop("customer_id").astype(str), name="customer_id")
    attributes = table.reindex(pd.Index(ids.astype(str), name="customer_id"))
    return design_matrix(attributes, cfg["covariates"])


def fit_coefficients(pm) -> dict[str, Any]:
    """What ``clv.json`` adds to a fit with covariates (none for one without): the coefficients, their standard
    errors and the parameters', the likelihood-ratio test against the same model without (when it was run)."""
    if not isinstance(pm, CovariatePurchaseModel):
        return {}
    test = getattr(pm, "lr_test_", None)
    return {
        "coefficients": pm.coefficients_.to_dict(),
        "std_errors": pm.std_errors_.to_dict(),
        "lr_test": test if pm.baseline_ is not None else None,
    }


def effects_fit(chosen_key: str, full_model, backtest_models: dict[str, Any]) -> tuple[Any, str]:
    """The fit whose effects the page tells, and which it is: the chosen model's full-data fit when it has
    covariates (``"full"``), else its variant with covariates as fitted on the calibration period
    (``"calibration"``), else none (``""``)."""
    if has_covariates(chosen_key):
        return full_model, "full"
    key = f"{base_model(chosen_key)}{COVARIATE_SUFFIX}"
    if key in backtest_models:
        return backtest_models[key], "calibration"
    return None, ""


def covariates_entry(design: Design, chosen_key: str, full_model, backtest_models: dict[str, Any]) -> dict:
    """The record's ``covariates``: the settings as the models read them (indicator columns, reference levels),
    the fit the effects come from (:func:`effects_fit`), its effects as ratios with 95 % ranges
    (:func:`~analysis.clv.covariate_design.ratios`) and its likelihood-ratio test."""
    pm, which = effects_fit(chosen_key, full_model, backtest_models)
    entry: dict[str, Any] = {
        "trans": list(design.trans),
        "life": list(design.life),
        "constrain": list(design.constrain),
        "penalty": design.penalty,
        "references": dict(design.references),
        "chosen_has_covariates": has_covariates(chosen_key),
        "effects_from": which,
    }
    if pm is None:
        return entry
    entry["model"] = pm.model
    entry["label"] = MODEL_LABELS[f"{pm.model}{COVARIATE_SUFFIX}"]
    effects = ratios(pm.coefficients_, pm.std_errors_, pm.model)
    entry["effects"] = effects.reset_index().to_dict(orient="records")
    entry["lr_test"] = pm.lr_test_ if pm.baseline_ is not None else None
    return entry


def effects_table(record: dict[str, Any]) -> pd.DataFrame:
    """The record's effects as a table (one row per coefficient: process, column, ratio, low, high, p-value);
    empty without covariates."""
    effects = (record.get("covariates") or {}).get("effects")
    columns = ["process", "column", "ratio", "low", "high", "p_value"]
    if not effects:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(effects).set_index("key")[columns]


def models_record(record: dict[str, Any]) -> dict[str, Any]:
    """``clv_models.json``: for each fitted model (the backtest's calibration fits and the full-data refit), its
    ``params``, ``coefficients`` (``trans.<column>``, ``life.<column>``; none without covariates),
    ``std_errors`` (the same keys), ``log_likelihood``, ``customers`` and ``lr_test`` (``statistic``, ``df``,
    ``p_value``; null without covariates), from the stage's record; then the monthly backtest
    (``monthly_backtest``, ``mape_purchases``, ``mape_revenue``, ...) and ``new_customer``
    (:func:`analysis.clv.monthly_run.models_entries`)."""
    out: dict[str, Any] = {}
    for key, entry in record["models"].items():
        fits = {}
        for period in ("calibration", "full"):
            fit = entry.get(period)
            if fit is None:
                continue
            fits[period] = {
                "params": fit["params"],
                "coefficients": fit.get("coefficients", {}),
                "std_errors": fit.get("std_errors", {}),
                "log_likelihood": fit["log_likelihood"],
                "customers": fit["customers"],
                "lr_test": fit.get("lr_test"),
            }
        out[key] = {"label": entry["label"], "status": entry.get("status", "fitted"), **fits}
    extra = models_entries(record)  # the month-by-month backtest and the new customer's value (issue 19)
    return {"as_of": record["as_of"], "chosen_model": record["chosen_model"], "models": out, **extra}


def finite_or_nan(value: Any) -> float:
    """A number from the record, NaN for a missing one."""
    return float(value) if value is not None and np.isfinite(float(value)) else math.nan
