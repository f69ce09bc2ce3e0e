"""Clustering-based segmentation: which groups the data itself shows.

Features and their scaling (``features``), k-means / Gaussian mixture, the choice of k and the stability check
(``models``), names from the profiles (``naming``), if-then rules a CRM can apply (``rules``), the cross-tabs with
the segments page's classes (``overlaps``), the page's words (``describe``), its tables in a language (``show``),
charts (``plots``) and the stage (``stage``: :func:`run`, the one call the notebook makes, and its result
:class:`ClustersResult`). Settings in ``defaults/clusters.yaml``.
"""

from analysis.clusters import describe, plots, show
from analysis.clusters.features import FEATURES, feature_frame, regularity, return_share, scaling_pipeline
from analysis.clusters.models import choose_k, k_table, knee, make_model, stability
from analysis.clusters.naming import cluster_names, levels
from analysis.clusters.rules import assign_by_rules, cluster_rules, matches, rule_text
from analysis.clusters.stage import COLUMN_KINDS, TRANSACTION_COLUMNS, ClustersResult, fewest_buyers, run

__all__ = [
    "COLUMN_KINDS",
    "TRANSACTION_COLUMNS",
    "FEATURES",
    "ClustersResult",
    "assign_by_rules",
    "choose_k",
    "cluster_names",
    "cluster_rules",
    "describe",
    "feature_frame",
    "fewest_buyers",
    "k_table",
    "knee",
    "levels",
    "make_model",
    "matches",
    "plots",
    "regularity",
    "return_share",
    "rule_text",
    "run",
    "scaling_pipeline",
    "show",
    "stability",
]
