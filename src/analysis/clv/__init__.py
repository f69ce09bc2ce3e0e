"""Customer lifetime value: BG/NBD, Pareto/NBD and MBG/NBD purchase models, Gamma-Gamma spend, discounted
CLV with bootstrap intervals, and the backtest that chooses a model.

What a notebook calls: the stage, :func:`run` (``clv.run(st, st.config)``, a :class:`ClvResult`), its page's
words (``clv.describe``), tables (:func:`page_table`) and charts (``clv.plots``, on the data of
``clv.diagnostics``); the estimators (:class:`PurchaseModel`, :class:`NBDModel`, :class:`SpendModel`,
:class:`CLVModel`) and the backtest (:func:`backtest`, :func:`choose_model`, :func:`whole_period_choice`); and
lifetimes' fitters on the project's mathematics, for a notebook written for lifetimes (change one import):
:class:`BetaGeoFitter`, :class:`ModifiedBetaGeoFitter`, :class:`ParetoNBDFitter`, :class:`GammaGammaFitter` (their
base :class:`BaseFitter`) and :func:`customer_lifetime_value`.

Modules, in the order of the computation: ``likelihoods`` (the BG/NBD, MBG/NBD and Gamma-Gamma mathematics in
numpy), ``pareto`` (the Pareto/NBD mathematics in log space), ``fitters`` (the one module that imports lifetimes),
``models`` (:class:`PurchaseModel`), ``nbd`` (:class:`NBDModel`, the purchase process without dropout, the forecast
where nobody has dropped out yet), ``spend`` (:class:`SpendModel`), ``optimize`` (bounded fits, starts, the
degenerate-fit checks and retry), ``value`` (:class:`CLVModel`), ``simulate``, ``backtest``, ``diagnostics`` (the
data behind the charts), ``plots``, ``lifetimes_api`` (the lifetimes-style fitters), ``stage`` (:func:`run` and
:class:`ClvResult`; its fallbacks: the whole period by BIC, a small penalty, the NBD; its declines),
``covariate_design``, ``covariates``, ``covariate_run``, ``effects``, ``covariate_texts`` (static covariates: the
design matrix and its checks, :class:`CovariatePurchaseModel`, the stage's covariates and ``clv_models.json``, the
effects in words), ``monthly``, ``new_customer``, ``monthly_run``, ``monthly_plots`` (the time axis: the forecast
of today's customers by calendar month, tier and RFM segment, its monthly backtest, a newly won customer's value,
the stage's ``forecast.csv`` and its charts), ``record`` (``clv.json``'s entries and the stage's warnings about
the fits, en/zh), ``describe`` (the page's words in English and Chinese: the managers' summary, the choice of
model) and ``show`` (the page's tables, en/zh: :func:`page_table`). What a model finds (a degenerate fit, an
optimiser that stopped, a spend warning) it says in both languages where it finds it.
"""

from analysis.clv import describe, diagnostics, effects, monthly, monthly_plots, monthly_run, plots, show
from analysis.clv.backtest import (
    NO_DROPOUT_GAIN,
    Backtest,
    WholePeriodChoice,
    backtest,
    backtest_metrics,
    bic,
    calibration_summary,
    choose_model,
    holdout_period,
    whole_period_choice,
)
from analysis.clv.covariate_design import Design, design_matrix, lr_test, ratios
from analysis.clv.covariate_run import models_record
from analysis.clv.covariates import CovariatePurchaseModel
from analysis.clv.diagnostics import (
    conditional_expectation_data,
    frequency_recency_matrix,
    histogram_data,
    matrix_data,
    repeat_purchase_histogram,
    tracking_data,
)
from analysis.clv.fitters import FitFailed
from analysis.clv.lifetimes_api import (
    BaseFitter,
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
    customer_lifetime_value,
)
from analysis.clv.likelihoods import MODEL_LABELS, MODELS, PARAM_NAMES, spend_gamma_gamma
from analysis.clv.models import OUTPUT_COLUMNS, SUMMARY_COLUMNS, UNIT_DAYS, UNITS_PER_MONTH, PurchaseModel
from analysis.clv.nbd import NBD_MODEL, NBDModel, nbd_log_likelihood
from analysis.clv.optimize import DegenerateFit
from analysis.clv.pareto import pareto_expected_purchases, pareto_log_likelihood, pareto_p_alive
from analysis.clv.show import page_table
from analysis.clv.simulate import (
    simulate_spend,
    simulate_summary,
    simulate_transactions,
)
from analysis.clv.spend import PENALIZED_MEAN_TOLERANCE, SpendModel
from analysis.clv.stage import (
    TRANSACTION_COLUMNS,
    ClvResult,
    clv_settings,
    run,
)
from analysis.clv.value import (
    CLVModel,
    discount_weights,
)

__all__ = [
    "Backtest",
    "BaseFitter",
    "BetaGeoFitter",
    "CLVModel",
    "CovariatePurchaseModel",
    "Design",
    "ClvResult",
    "DegenerateFit",
    "FitFailed",
    "GammaGammaFitter",
    "ModifiedBetaGeoFitter",
    "ParetoNBDFitter",
    "MODELS",
    "NBDModel",
    "NBD_MODEL",
    "NO_DROPOUT_GAIN",
    "MODEL_LABELS",
    "OUTPUT_COLUMNS",
    "PARAM_NAMES",
    "PENALIZED_MEAN_TOLERANCE",
    "PurchaseModel",
    "SUMMARY_COLUMNS",
    "SpendModel",
    "TRANSACTION_COLUMNS",
    "UNITS_PER_MONTH",
    "UNIT_DAYS",
    "WholePeriodChoice",
    "backtest",
    "backtest_metrics",
    "bic",
    "calibration_summary",
    "choose_model",
    "clv_settings",
    "conditional_expectation_data",
    "customer_lifetime_value",
    "describe",
    "design_matrix",
    "effects",
    "lr_test",
    "models_record",
    "monthly",
    "monthly_plots",
    "monthly_run",
    "ratios",
    "diagnostics",
    "discount_weights",
    "frequency_recency_matrix",
    "histogram_data",
    "holdout_period",
    "matrix_data",
    "nbd_log_likelihood",
    "pareto_expected_purchases",
    "pareto_log_likelihood",
    "page_table",
    "pareto_p_alive",
    "plots",
    "repeat_purchase_histogram",
    "run",
    "show",
    "simulate_spend",
    "simulate_summary",
    "simulate_transactions",
    "spend_gamma_gamma",
    "tracking_data",
    "whole_period_choice",
]
