"""Rule-based segmentation: RFM scores and the English 11-segment and Chinese 8-segment schemes (``rfm``),
ABC value classes (``abc``), lifecycle stages (``lifecycle``), management tiers and the playbook (``tiers``),
the stage (``stage``: :func:`run`, the one call the notebook makes, and :class:`SegmentsResult`), every sentence
of the page in English and Chinese (``describe``: the rules in words, the managers' summary), its tables as the
page shows them (``show.page_table``) and its charts (``plots``). Every rule table is data in
``defaults/segments.yaml``.

    result = segments.run(st, st.config)        # or segments.run(Frames(customers_table=df), load_config())
    st.add(result)
    result.summary("zh"); segments.show.page_table(result, "tiers", "zh"); segments.plots.plot_shares(...)
"""

from analysis.segments import describe, plots, show
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
from analysis.segments.stage import (
    ATTRIBUTES,
    SegmentsResult,
    run,
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
    "SegmentsResult",
    "abc_classes",
    "abc_summary",
    "abc_value",
    "chinese_segments",
    "chinese_thresholds",
    "describe",
    "english_segments",
    "first_match",
    "lifecycle",
    "lifecycle_rule_text",
    "match_rules",
    "pareto_curve",
    "playbook_table",
    "plots",
    "rfm_scores",
    "rule_texts",
    "rules_markdown",
    "run",
    "score",
    "segment_playbook_table",
    "show",
    "summary_tables",
]
