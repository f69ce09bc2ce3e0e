"""Churn modelling and early warning (流失预警): who is about to stop buying, how sure we are, why, and what
it is worth.

Modules, in the order of the computation: ``features`` (purchase days and leak-free features at a cut-off),
``labels`` (cut-offs, horizon, the churn label), ``models`` (logistic regression, gradient-boosted trees,
baselines as scorers), ``evaluate`` (metrics with bootstrap intervals, reliability, gains), ``reasons``
(permutation importance, reasons in words), ``warning`` (risk bands, value at risk, the early-warning
list, lifecycle cross-tab), ``stage`` (:func:`run`, the one call the notebook makes, and :class:`ChurnResult`),
then the page: ``describe`` (every sentence, en/zh), ``show`` (the tables as the page shows them) and ``plots``.

    result = churn.run(st, st.config)
    display(Markdown(result.summary(lang)))
    display(churn.show.page_table(result, "metrics", lang))
"""

from analysis.churn import describe, plots, show
from analysis.churn.evaluate import auc_interval, gains_table, metrics, reliability_table
from analysis.churn.features import (
    DailyPurchases,
    base_features,
    customer_attributes,
    cutoff_features,
    daily_purchases,
    lifetimes_frame,
)
from analysis.churn.labels import CutoffPlan, churn_labels, default_horizon, plan_cutoffs
from analysis.churn.models import BASELINES, MODEL_NAMES, MODELS, BaselineScorer, make_model
from analysis.churn.reasons import customer_reasons, importance_table
from analysis.churn.stage import (
    COLUMN_KINDS,
    OUTPUT_COLUMNS,
    TRANSACTION_COLUMNS,
    ChurnDeclined,
    ChurnResult,
    churn_settings,
    run,
)
from analysis.churn.warning import lifecycle_crosstab, risk_bands, value_at_risk

__all__ = [
    "BASELINES",
    "COLUMN_KINDS",
    "MODELS",
    "MODEL_NAMES",
    "OUTPUT_COLUMNS",
    "TRANSACTION_COLUMNS",
    "BaselineScorer",
    "ChurnDeclined",
    "ChurnResult",
    "CutoffPlan",
    "DailyPurchases",
    "auc_interval",
    "base_features",
    "churn_labels",
    "churn_settings",
    "customer_attributes",
    "customer_reasons",
    "cutoff_features",
    "daily_purchases",
    "default_horizon",
    "describe",
    "gains_table",
    "importance_table",
    "lifecycle_crosstab",
    "lifetimes_frame",
    "make_model",
    "metrics",
    "plan_cutoffs",
    "plots",
    "reliability_table",
    "risk_bands",
    "run",
    "show",
    "value_at_risk",
]
