"""Customer lifetime value: BG/NBD, Pareto/NBD and MBG/NBD purchase models, Gamma-Gamma spend, discounted
CLV with bootstrap intervals, and the backtest that chooses a model.

Modules, in the order of the computation: ``likelihoods`` (the models' mathematics in numpy), ``fitters``
(the one module that imports lifetimes), ``models`` (:class:`PurchaseModel`; :class:`NBDModel`, the purchase
process without dropout, the forecast where nobody has dropped out yet), ``spend`` (:class:`SpendModel`),
``optimize`` (bounded fits, starts, the degenerate-fit checks and retry), ``value``
(:class:`CLVModel`), ``simulate``, ``backtest``, ``diagnostics`` (the data behind the charts),
``plots``, ``stage`` (:func:`run`, the one call the notebook makes, and :class:`ClvResult`; its fallbacks: the
whole period by BIC, a small penalty, the NBD; its declines), ``record`` (``clv.json``'s entries and the warnings
about the fits, en/zh), ``describe`` (the page's words in English and Chinese: the managers' summary, the choice
of model) and ``show`` (the page's tables, en/zh: :func:`page_table`).
"""

from analysis.clv import describe, diagnostics, plots, show
from analysis.clv.backtest import (
    NO_DROPOUT_GAIN,
    Backtest,
    WholePeriodChoice,
    backtest,
    backtest_metrics,
    bic,
    choose_model,
    holdout_period,
    whole_period_choice,
)
from analysis.clv.diagnostics import (
    conditional_expectation_data,
    frequency_recency_matrix,
    histogram_data,
    matrix_data,
    repeat_purchase_histogram,
    tracking_data,
)
from analysis.clv.lifetimes_api import BaseFitter, BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter
from analysis.clv.likelihoods import MODEL_LABELS, MODELS, PARAM_NAMES, spend_gamma_gamma
from analysis.clv.pareto import pareto_expected_purchases, pareto_log_likelihood, pareto_p_alive
from analysis.clv.models import OUTPUT_COLUMNS, SUMMARY_COLUMNS, UNIT_DAYS, UNITS_PER_MONTH, PurchaseModel
from analysis.clv.nbd import NBD_MODEL, NBDModel, nbd_log_likelihood
from analysis.clv.optimize import DegenerateFit
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
    "CLVModel",
    "ClvResult",
    "DegenerateFit",
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
    "choose_model",
    "clv_settings",
    "conditional_expectation_data",
    "describe",
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
