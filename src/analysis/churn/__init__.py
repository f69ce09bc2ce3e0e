"""Churn modelling and early warning (流失预警): who is about to stop buying, how sure we are, why, and what
it is worth.

Modules, in the order of the computation: ``features`` (purchase days and leak-free features at a cut-off),
``labels`` (cut-offs, horizon, the churn label), ``models`` (logistic regression, gradient-boosted trees,
baselines as scorers), ``evaluate`` (metrics with bootstrap intervals, reliability, gains), ``reasons``
(permutation importance, reasons in words), ``warning`` (risk bands, value at risk, the early-warning
list, lifecycle cross-tab), ``plots``, ``show`` (the tables as the page shows them) and ``stage``
(:func:`run_churn`, the one call the notebook makes).
"""

from analysis.churn import plots
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
from analysis.churn.models import BASELINES, MODEL_LABELS, MODEL_LABELS_ZH, MODELS, BaselineScorer, make_model
from analysis.churn.reasons import customer_reasons, importance_table
from analysis.churn.show import HEADERS, details_markdown, manager_summary, page_table
from analysis.churn.stage import (
    OUTPUT_COLUMNS,
    TRANSACTION_COLUMNS,
    ChurnDeclined,
    ChurnRun,
    churn_settings,
    definition,
    run_churn,
)
from analysis.churn.warning import (
    disagreements_markdown,
    lifecycle_crosstab,
    list_markdown,
    risk_bands,
    value_at_risk,
)

__all__ = [
    "BASELINES",
    "TRANSACTION_COLUMNS",
    "BaselineScorer",
    "ChurnDeclined",
    "ChurnRun",
    "CutoffPlan",
    "DailyPurchases",
    "HEADERS",
    "MODELS",
    "MODEL_LABELS",
    "MODEL_LABELS_ZH",
    "OUTPUT_COLUMNS",
    "auc_interval",
    "base_features",
    "churn_labels",
    "churn_settings",
    "customer_attributes",
    "customer_reasons",
    "cutoff_features",
    "daily_purchases",
    "default_horizon",
    "definition",
    "details_markdown",
    "gains_table",
    "importance_table",
    "disagreements_markdown",
    "lifecycle_crosstab",
    "list_markdown",
    "lifetimes_frame",
    "make_model",
    "manager_summary",
    "metrics",
    "page_table",
    "plan_cutoffs",
    "plots",
    "reliability_table",
    "risk_bands",
    "run_churn",
    "value_at_risk",
]
