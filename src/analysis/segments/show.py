"""The stage's tables as a page shows them, in English or Chinese: one entry, :func:`page_table` (a result of
:func:`analysis.segments.run` and the table's name); groups named in the page's language, headers from
:mod:`analysis.i18n` (with this stage's own in :data:`HEADERS`), numbers rounded for people.

The tables themselves (:func:`analysis.segments.stage.summary_tables`, the playbooks) keep their column names and
both languages' labels; only what is shown changes with ``lang``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd
from pandas.io.formats.style import Styler

from analysis.i18n import check_language, header, localize
from analysis.privacy import for_pages
from analysis.segments import describe
from analysis.segments.stage import ATTRIBUTES, SegmentsResult
from analysis.segments.tiers import playbook_table, segment_playbook_table
from analysis.stage import Text, text
from analysis.tables import escaped, left_aligned

# This stage's headers (column -> {en, zh}); the shared ones are in analysis.i18n.HEADERS.
HEADERS: dict[str, Text] = {
    "label_en": text("English name", "英文名称"),
    "label_zh": text("Chinese name", "中文名称"),
    "segment": text("RFM segment", "RFM 细分"),
    "service_level": text("Service level", "服务级别"),
    "contact_cadence": text("Contact cadence", "联系频率"),
    "channel": text("Channel", "渠道"),
    "offer": text("Offer", "优惠"),
    "owner": text("Owner", "负责人"),
    "action": text("Action", "行动"),
    "country": text("Country", "国家"),
    "region": text("Region", "地区"),
    "city": text("City", "城市"),
    "industry": text("Industry", "行业"),
    "customer_type": text("Customer type", "客户类型"),
    "size": text("Size", "规模"),
}

# The breakdowns' headings and column names, by message id; "Other" and "(unknown)" are the groups the stage
# makes of an attribute's small and missing values.
TEXTS = {
    "mix_tier": {"en": "{attribute}: value and tier mix", "zh": "{attribute}：价值与客户等级构成"},
    "mix_rfm_segment": {"en": "{attribute}: segment mix", "zh": "{attribute}：RFM 细分构成"},
    "share_of_tier": {"en": "{what}: {name}", "zh": "{what}：{name}"},  # a segment's share is headed by its name
    "Other": {"en": "Other", "zh": "其他"},
    "(unknown)": {"en": "(unknown)", "zh": "（未知）"},
}  # fmt: skip

SUMMARY_TABLES = ("segments", "segments_zh", "abc", "lifecycle", "tiers")  # the stage's tables by group

# How the page shows each kind of column (shares in percent, money and averages rounded for people).
FORMATS = {
    "customers": "{:,.0f}",
    "customer_share": "{:.1%}",
    "value": "{:,.0f}",
    "value_share": "{:.1%}",
    "avg_recency_days": "{:,.0f}",
    "avg_frequency": "{:.1f}",
    "recency_days": "{:,.0f}",
    "frequency": "{:,.0f}",
    "monetary": "{:,.2f}",
    "r_score": "{:.0f}",
    "f_score": "{:.0f}",
    "m_score": "{:.0f}",
}
# The order a summary table's columns are shown in (others follow).
ORDER = ("customers", "customer_share", "value", "value_share", "avg_recency_days", "avg_frequency")


def _style(frame: pd.DataFrame, lang: str, formats: dict[str, str]) -> Styler:
    """``frame`` with headers in ``lang`` and the given formats (by column name before renaming)."""
    shown = {header(c, lang, HEADERS): f for c, f in formats.items() if c in frame.columns}
    text = [header(c, lang, HEADERS) for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    frame = frame.rename_axis([None if n is None else header(str(n), lang, HEADERS) for n in frame.index.names])
    styler = escaped(localize(frame, lang, HEADERS).style.format(shown, na_rep="-", escape="html"))
    styler = styler.set_table_styles([{"selector": "th.row_heading", "props": "text-align: left"}], overwrite=False)
    return left_aligned(styler, text)


def summary_table(table: pd.DataFrame, lang: str = "en") -> Styler:
    """A table of the stage (a summary table of :func:`~analysis.segments.stage.summary_tables`, the ABC table, a
    playbook) as the page shows it in ``lang``: groups named in ``lang`` (a summary table's ``label_zh`` becomes
    the index in Chinese; in English ``label_zh`` is left out and the Chinese scheme keeps its ``label_en``),
    headers in ``lang``, shares in percent."""
    check_language(lang)
    frame = table.copy()
    if lang == "zh" and "label_zh" in frame:
        frame.index = pd.Index(frame["label_zh"].astype(str), name=frame.index.name)
    frame = frame.drop(columns=["label_zh"] + (["label_en"] if lang == "zh" else []), errors="ignore")
    first = [c for c in ("label_en", *ORDER) if c in frame]
    frame = frame[first + [c for c in frame.columns if c not in first]]
    return _style(frame, lang, FORMATS)


@dataclass
class Sections:
    """Tables under their own headings, one after another; a notebook shows it as HTML."""

    parts: list[tuple[str, Styler]] = field(default_factory=list)
    empty: str = ""

    def _repr_html_(self) -> str:
        if not self.parts:
            return f"<p><em>{html.escape(self.empty)}</em></p>"
        return "\n".join(f"<h3>{html.escape(heading)}</h3>\n{table.to_html()}" for heading, table in self.parts)


def breakdowns(run: SegmentsResult, lang: str = "en") -> Sections:
    """Value and tier mix, and segment mix, per customer attribute (country, region, ...; the ten largest
    groups by value, then Other), in ``lang``; a sentence instead when the data has no attributes
    (:func:`analysis.segments.describe.no_attributes`)."""
    check_language(lang)
    t = {key: words[lang] for key, words in TEXTS.items()}
    # each tier's and segment's Chinese name, from the summary tables (one row per tier or segment)
    names = {
        "tier": run.tables["tiers"]["label_zh"].to_dict(),
        "rfm_segment": run.tables["segments"]["label_zh"].to_dict(),
    }
    prefixes = {"tier": "tier: ", "rfm_segment": "segment: "}
    groups = {"Other": t["Other"], "(unknown)": t["(unknown)"]}
    # mix columns in the order of the page's tables: tiers as configured, segments by value
    order = {"tier": {k: i for i, k in enumerate(run.tables["tiers"].index)},
             "rfm_segment": {k: i for i, k in enumerate(run.tables["segments"].index)}}  # fmt: skip
    parts = []
    for attribute in ATTRIBUTES:
        for mix, name in (("tier", f"by_{attribute}"), ("rfm_segment", f"segments_by_{attribute}")):
            if name not in run.tables:
                continue
            table = run.tables[name]
            columns, formats = {}, {"customers": "{:,.0f}", "value": "{:,.0f}", "value_share": "{:.1%}"}
            for column in table.columns:
                if column.startswith(prefixes[mix]):
                    key = column.removeprefix(prefixes[mix])
                    label = names[mix].get(key, key) if lang == "zh" else key
                    tier_share = t["share_of_tier"].format(what=header(mix, lang), name=label)
                    columns[column] = tier_share if mix == "tier" else label
                    formats[columns[column]] = "{:.1%}"
            shares = sorted(columns, key=lambda c: order[mix].get(c.removeprefix(prefixes[mix]), len(order[mix])))
            table = table[[c for c in table.columns if c not in columns] + shares]
            frame = table.rename(columns=columns, index=groups).rename_axis(attribute)
            heading = t[f"mix_{mix}"].format(attribute=header(attribute, lang, HEADERS))
            parts.append((heading, _style(frame, lang, formats)))
    return Sections(parts, describe.no_attributes(lang))


def action_counts(run: SegmentsResult, lang: str = "en") -> Styler:
    """How many customers each recommended action applies to, per tier (tiers in their configured order)."""
    check_language(lang)
    suffix = "_zh" if lang == "zh" else ""
    frame = pd.DataFrame(
        {"tier": run.columns[f"tier{suffix}"], "recommended_action": run.columns[f"recommended_action{suffix}"]}
    )
    counts = frame.groupby(["tier", "recommended_action"], sort=False).size().rename("customers").reset_index()
    order = {name: i for i, name in enumerate(_tier_order(run, lang))}
    counts = counts.sort_values(["tier", "customers"], key=lambda s: s.map(order) if s.name == "tier" else -s,
                                kind="stable")  # fmt: skip
    return _style(counts.set_index(["tier", "recommended_action"]), lang, {"customers": "{:,.0f}"})


def _tier_order(run: SegmentsResult, lang: str) -> list[str]:
    """The tiers in their configured order, named in ``lang``."""
    tiers = run.tables["tiers"]
    return list(tiers["label_zh"] if lang == "zh" else tiers.index)


def customer_preview(run: SegmentsResult, lang: str = "en", rows: int = 10, mask: bool = False) -> Styler:
    """The first ``rows`` customers' scores, segments, class, stage, tier and action in ``lang`` (ids masked
    with ``mask``): what the tier table in ``customers.csv`` holds."""
    check_language(lang)
    c = for_pages(run.columns.head(rows), mask)
    zh = lang == "zh"
    frame = pd.DataFrame({
        "customer_id": c["customer_id"],
        **{col: c[col] for col in ("recency_days", "frequency", "monetary", "r_score", "f_score", "m_score")},
        "rfm_segment": c["rfm_segment_label_zh" if zh else "rfm_segment"],
        "rfm_segment_zh": c["rfm_segment_zh"],
        "abc_class": c["abc_class"],
        "lifecycle_stage": c["lifecycle_stage_zh" if zh else "lifecycle_stage"],
        "tier": c["tier_zh" if zh else "tier"],
        "recommended_action": c["recommended_action_zh" if zh else "recommended_action"],
    })  # fmt: skip
    return _style(frame, lang, FORMATS).hide(axis="index")


def page_table(result: SegmentsResult, name: str, lang: str = "en", rows: int = 10, mask: bool = False):
    """A table of the page as people read it, in ``lang``: a summary table by group (``segments``,
    ``segments_zh``, ``abc``, ``lifecycle``, ``tiers``), the playbook per tier (``playbook``) or per named segment
    (``segment_playbook``) from the settings the run applied, the customers per recommended action (``actions``),
    the breakdowns by customer attribute (``breakdowns``, headed tables) or the first ``rows`` customers
    (``preview``, ids masked with ``mask``)."""
    check_language(lang)
    if name in SUMMARY_TABLES:
        return summary_table(result.tables[name], lang)
    if name == "playbook":
        return summary_table(playbook_table(result.settings, lang), lang)
    if name == "segment_playbook":
        return summary_table(segment_playbook_table(result.settings, lang), lang)
    if name == "actions":
        return action_counts(result, lang)
    if name == "breakdowns":
        return breakdowns(result, lang)
    if name == "preview":
        return customer_preview(result, lang, rows=rows, mask=mask)
    names = (*SUMMARY_TABLES, "playbook", "segment_playbook", "actions", "breakdowns", "preview")
    raise ValueError(f"the segments page has no table {name!r}: use one of {', '.join(names)}")
