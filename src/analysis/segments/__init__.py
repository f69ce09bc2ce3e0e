"""Rule-based segmentation: RFM scores and the English 11-segment and Chinese 8-segment schemes (``rfm``),
ABC value classes (``abc``), lifecycle stages (``lifecycle``), management tiers and the playbook (``tiers``),
every rule in words (``describe``), charts (``plots``), the stage (``stage``: :func:`run_segments`, the one
call the notebook makes, and the managers' summary) and its tables as the page shows them in English or Chinese
(``show``). Every rule table is data in ``defaults/segments.yaml``.
"""

from analysis.segments import plots
from analysis.segments.abc import (
    abc_classes,
    abc_summary,
    abc_value,
    pareto_curve,
)
from analysis.segments.describe import (
    rule_texts,
    rules_markdown,
)
from analysis.segments.lifecycle import (
    lifecycle,
    lifecycle_rule_text,
)
from analysis.segments.rfm import (
    METRICS,
    chinese_segments,
    chinese_thresholds,
    edge_score,
    english_segments,
    has_amounts,
    rfm_metrics,
    rfm_scores,
    score,
)
from analysis.segments.show import (
    action_counts,
    breakdowns,
    customer_preview,
    show,
)
from analysis.segments.stage import (
    ATTRIBUTES,
    SegmentRun,
    manager_summary,
    run_segments,
    summary_tables,
)
from analysis.segments.tiers import (
    PLAYBOOK_FIELDS,
    first_match,
    match_rules,
    playbook_table,
    segment_playbook_table,
)

__all__ = [
    "METRICS",
    "edge_score",
    "has_amounts",
    "rfm_metrics",
    "ATTRIBUTES",
    "PLAYBOOK_FIELDS",
    "SegmentRun",
    "abc_classes",
    "action_counts",
    "abc_summary",
    "abc_value",
    "breakdowns",
    "chinese_segments",
    "chinese_thresholds",
    "customer_preview",
    "english_segments",
    "first_match",
    "lifecycle",
    "lifecycle_rule_text",
    "manager_summary",
    "match_rules",
    "pareto_curve",
    "playbook_table",
    "plots",
    "rfm_scores",
    "rule_texts",
    "rules_markdown",
    "run_segments",
    "score",
    "segment_playbook_table",
    "show",
    "summary_tables",
]
