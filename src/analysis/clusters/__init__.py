"""Clustering-based segmentation: which groups the data itself shows.

Features and their scaling (``features``), k-means / Gaussian mixture, the choice of k and the stability check
(``models``), names from the profiles (``naming``), if-then rules a CRM can apply (``rules``), charts (``plots``),
the tables as the page shows them (``show``) and the stage (``stage``: :func:`run_clusters`, the one call the
notebook makes, and the managers' texts).
Settings in ``defaults/clusters.yaml``.
"""

from analysis.clusters import plots
from analysis.clusters.describe import (
    cluster_readings,
    details_markdown,
    k_markdown,
    manager_summary,
    rules_markdown,
    stability_markdown,
    warnings_markdown,
)
from analysis.clusters.features import FEATURES, feature_frame, regularity, return_share, scaling_pipeline
from analysis.clusters.models import choose_k, k_table, knee, make_model, stability
from analysis.clusters.naming import cluster_names, levels
from analysis.clusters.rules import assign_by_rules, cluster_rules, matches, rule_text
from analysis.clusters.show import HEADERS, page_table
from analysis.clusters.stage import COLUMN_KINDS, TRANSACTION_COLUMNS, ClusterRun, fewest_buyers, run_clusters

__all__ = [
    "COLUMN_KINDS",
    "TRANSACTION_COLUMNS",
    "FEATURES",
    "HEADERS",
    "ClusterRun",
    "assign_by_rules",
    "choose_k",
    "cluster_names",
    "cluster_readings",
    "cluster_rules",
    "details_markdown",
    "feature_frame",
    "fewest_buyers",
    "k_table",
    "k_markdown",
    "knee",
    "levels",
    "make_model",
    "manager_summary",
    "matches",
    "page_table",
    "plots",
    "regularity",
    "return_share",
    "rule_text",
    "rules_markdown",
    "run_clusters",
    "scaling_pipeline",
    "stability",
    "stability_markdown",
    "warnings_markdown",
]
