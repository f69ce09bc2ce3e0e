"""The segmentation stage: :func:`run` (the one call the notebook makes) and its result,
:class:`SegmentsResult`, with the tables the page shows.

Every rule table is data in ``defaults/segments.yaml`` (English and Chinese labels); this module only applies it
(the rules themselves are in ``rfm``, ``abc``, ``lifecycle`` and ``tiers``). The input is the customer table of
:func:`analysis.data.features.customer_features` (``prepared.customers``).

Customers known only from a customer list (no purchase yet): no R/F/M scores and no ABC class
(empty in ``customers.csv``), segment "No purchase yet" / 尚未购买 in both schemes, lifecycle
potential, tier Potential (by the default rules), and the tier's onboarding action. They count
in the segment, lifecycle and tier tables but not in the ABC table, which ranks buyers only.

Every rule is also stated in words, English and Chinese, in ``segments.json``'s ``rules`` (see
:func:`analysis.segments.describe.rule_texts`), from the same settings that were applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from analysis.segments import describe
from analysis.segments.abc import CLASSES, abc_codes, abc_summary, abc_value, pareto_curve
from analysis.segments.lifecycle import STAGES, lifecycle_codes
from analysis.segments.rfm import (
    chinese_segment_rules,
    chinese_segment_table,
    chinese_thresholds,
    english_segment_rules,
    finite_or_none,
    has_amounts,
    rfm_metrics,
    rfm_scores,
)
from analysis.segments.tiers import categorical, check_tier_rules, labelled, recommended_actions, tier_keys
from analysis.stage import Inputs, StageResult
from analysis.tables import text_column

ATTRIBUTES = ("country", "region", "city", "industry", "customer_type", "size")
SECTIONS = ("rfm", "abc", "lifecycle", "tiers", "playbook")  # the settings the stage applies

# The customer table's columns the stage writes, in order (recency_days, frequency and monetary are the
# features' own, written again in their place after the features).
SEGMENT_COLUMNS = ("rfm_segment", "rfm_segment_label_zh", "rfm_segment_zh", "rfm_segment_zh_label_en")
LABEL_COLUMNS = ("abc_class", "lifecycle_stage", "lifecycle_stage_zh", "tier", "tier_zh", "recommended_action",
                 "recommended_action_zh")  # fmt: skip


@dataclass(kw_only=True)
class SegmentsResult(StageResult):
    """The stage's products: ``columns`` (``customer_id``, the RFM metrics, scores and every label column, one row
    per customer of the table, in its order), ``record`` (JSON-able, ``segments.json``: rules in words, counts and
    shares), ``tables`` (the summary tables, ABC, the Pareto curve, the breakdowns by attribute); and what the
    page's words are made from: ``settings`` (the rule sections applied), ``thresholds`` (the Chinese scheme's
    high/low lines) and ``population_gap`` (the lifecycle's gap in days for customers without a cadence)."""

    stage: ClassVar[str] = "segments"

    settings: dict[str, Any]
    thresholds: dict[str, float]
    population_gap: float

    def summary(self, lang: str = "en") -> str:
        """The managers' bullets in ``lang`` (:func:`analysis.segments.describe.summary`)."""
        return describe.summary(self, lang)


def run(prepared: Inputs, config: dict) -> SegmentsResult:
    """Score, name, classify and tier every customer of the customer table (``prepared.customers``) by the rules
    of ``config`` (the validated settings: ``rfm``, ``abc``, ``lifecycle``, ``tiers``, ``playbook``)."""
    cfg = {k: config[k] for k in SECTIONS}
    check_tier_rules(cfg["tiers"], cfg["playbook"])
    c = prepared.customers.reset_index(drop=True)
    metrics = rfm_metrics(c, cfg["rfm"])
    edges = cfg["rfm"]["edges"] if cfg["rfm"]["scoring"] == "edges" else None
    scores = rfm_scores(metrics, int(cfg["rfm"]["bins"]), edges)
    never = c["frequency"] <= 0
    groups = segment_groups(metrics, scores, never.to_numpy(bool), cfg["rfm"])
    value = abc_value(c, cfg["abc"])
    abc, _ = abc_codes(value.where(~never), c["customer_id"], cfg["abc"]["cuts"])
    groups["abc_class"] = categorical(np.where(never, -1, abc), list(CLASSES))
    stage_codes, population_gap = lifecycle_codes(c, cfg["lifecycle"])
    keyed = pd.DataFrame({"abc_class": groups["abc_class"], "lifecycle_stage": categorical(stage_codes, list(STAGES)),
                          "rfm_segment": groups["rfm_segment"]})  # fmt: skip
    keyed["tier"] = tier_keys(keyed, cfg["tiers"]["rules"])
    groups.update(label_groups(keyed, cfg))
    columns = customer_columns(c, scores, groups)
    keys = ("rfm_segment", "rfm_segment_zh", "lifecycle_stage", "tier")  # the tables' groups, as Categoricals
    tables = summary_tables(c, columns.assign(**{k: groups[k] for k in keys}), value, cfg)
    tables["pareto"] = pareto_curve(value[~never])
    thresholds = chinese_thresholds(metrics, cfg["rfm"], scores)
    record = segments_record(cfg, groups, keyed, tables, value, never, thresholds=thresholds,
                             population_gap=population_gap, amounts=has_amounts(c))  # fmt: skip
    return SegmentsResult(columns=columns, record=record, tables=tables, settings=cfg, thresholds=thresholds,
                          population_gap=population_gap)  # fmt: skip


def segment_groups(metrics: pd.DataFrame, scores: pd.DataFrame, never: np.ndarray, rfm: dict) -> dict:
    """The four segment columns as Categoricals: ``rfm_segment`` (the English 11-segment scheme) and
    ``rfm_segment_zh`` (the Chinese 8-segment scheme), each with its label in the other language; customers
    without a purchase (``never``): "No purchase yet" in both."""
    english = [rule["name"] for rule in rfm["segments"]] + [rfm["others"], rfm["no_purchase"]]
    segment = np.where(never, len(english) - 1, english_segment_rules(scores, rfm))
    chinese = [rule["name"] for rule in chinese_segment_table(metrics, rfm)] + [rfm["no_purchase"]]
    segment_zh = np.where(never, len(chinese) - 1, chinese_segment_rules(metrics, rfm, scores))
    codes = {"rfm_segment": (segment, english, 0), "rfm_segment_label_zh": (segment, english, 1),
             "rfm_segment_zh": (segment_zh, chinese, 1),
             "rfm_segment_zh_label_en": (segment_zh, chinese, 0)}  # fmt: skip
    return {column: categorical(c, [n[i] for n in names]) for column, (c, names, i) in codes.items()}


def label_groups(keyed: pd.DataFrame, cfg: dict) -> dict[str, pd.Categorical]:
    """Lifecycle stage, tier and recommended action of each customer in English and Chinese (``..._zh``), as
    Categoricals of the configured labels; ``keyed`` holds the keys (``lifecycle_stage``, ``tier``, ...)."""
    stage, tier = keyed["lifecycle_stage"].array, keyed["tier"].array
    choice, actions = recommended_actions(keyed, cfg["playbook"])
    return {
        "lifecycle_stage": labelled(stage, cfg["lifecycle"]["labels"], 0),
        "lifecycle_stage_zh": labelled(stage, cfg["lifecycle"]["labels"], 1),
        "tier": labelled(tier, cfg["tiers"]["labels"], 0),
        "tier_zh": labelled(tier, cfg["tiers"]["labels"], 1),
        "recommended_action": categorical(choice, [a[0] for a in actions]),
        "recommended_action_zh": categorical(choice, [a[1] for a in actions]),
    }


def customer_columns(customers: pd.DataFrame, scores: pd.DataFrame, groups: dict) -> pd.DataFrame:
    """``customer_id``, the RFM metrics and scores, and every label column as text, one row per customer. The
    segment columns are objects (missing: ``pd.NA``), the others ``str`` columns (as ``customers.csv`` has
    always had them)."""
    out = pd.concat([customers[["customer_id", "recency_days", "frequency", "monetary"]], scores], axis=1)
    for column in SEGMENT_COLUMNS:
        values = groups[column]
        names = np.array([*values.categories, pd.NA], dtype=object)
        out[column] = pd.Series(names[values.codes], dtype=object)
    for column in LABEL_COLUMNS:
        out[column] = _as_text(groups[column])
    return out


def segments_record(
    cfg: dict, groups: dict, keyed: pd.DataFrame, tables: dict, value: pd.Series, never: pd.Series, *,
    thresholds: dict, population_gap: float, amounts: bool,
) -> dict[str, Any]:  # fmt: skip
    """``segments.json``: the rules in words, the settings applied, the Chinese scheme's thresholds, counts per
    group (and per stage and tier key, whatever the labels say), the summary tables as rows, and the warnings
    (none: everything this stage finds is said in the summary). ``never``: the customers without a purchase."""
    slipping = keyed["tier"].isin(["vip", "important"]) & keyed["lifecycle_stage"].isin(["dormant", "churned"])
    rfm = cfg["rfm"]
    return {
        "rules": describe.rule_texts(cfg, thresholds, population_gap, amounts=amounts, abc_basis=str(value.name)),
        "has_amounts": amounts,
        "settings": {"bins": int(rfm["bins"]),
                     **{k: rfm[k] for k in ("scoring", "frequency", "monetary", "threshold", "threshold_on")},
                     "abc_value": str(value.name), "abc_cuts": cfg["abc"]["cuts"],
                     "lifecycle": {k: v for k, v in cfg["lifecycle"].items() if k != "labels"}},
        "thresholds_zh": {k: finite_or_none(v) for k, v in thresholds.items()},
        "population_gap_days": population_gap,
        "customers": len(keyed),
        "buyers": int((~never).sum()),
        "valuable_slipping": int(slipping.sum()),
        "counts": {col: {str(k): int(v) for k, v in _value_counts(groups[col]).items()}
                   for col in ("rfm_segment", "rfm_segment_zh", "abc_class", "lifecycle_stage", "tier",
                               "recommended_action")},
        "lifecycle_by_key": {k: int((keyed["lifecycle_stage"] == k).sum()) for k in cfg["lifecycle"]["labels"]},
        "tiers_by_key": {k: _tier_numbers(keyed["tier"] == k, value, never) for k in cfg["tiers"]["labels"]},
        **{name: _records(tables[name]) for name in ("abc", "segments", "segments_zh", "lifecycle", "tiers")},
        "warnings": [],
    }  # fmt: skip


def _as_text(values: pd.Categorical) -> pd.api.extensions.ExtensionArray:
    """A Categorical as a column of text (``str``; missing stays missing)."""
    return text_column(values.categories, values.codes)


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes of a column's values (-1: missing) and the distinct values (an Index of the column's kind),
    in order of first appearance, as pandas groups them with ``sort=False``. A Categorical costs no hashing of
    text."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = pd.factorize(values)
        return codes, pd.Index(uniques)
    raw = values.cat.codes.to_numpy()
    codes, seen = pd.factorize(np.where(raw < 0, np.nan, raw))
    return codes, values.cat.categories[seen.astype(np.int64)]


def _value_counts(values: pd.Categorical) -> pd.Series:
    """Customers per value, most first, as ``Series.value_counts`` orders them (ties in order of first
    appearance)."""
    codes, names = _codes(pd.Series(values))
    return pd.Series(np.bincount(codes[codes >= 0], minlength=len(names)), index=names).sort_values(ascending=False)


def _tier_numbers(member: pd.Series, value: pd.Series, never: pd.Series) -> dict[str, float]:
    """Customers and share of value of one tier (value of buyers only)."""
    v = value.where(~never).fillna(0)
    total = float(v.sum()) or 1.0
    return {"customers": int(member.sum()), "value_share": float(v[member.to_numpy()].sum()) / total}


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """A summary table as JSON-able rows (missing averages become null)."""
    frame = table.reset_index().astype(object)
    return frame.where(frame.notna(), None).to_dict("records")


def summary_tables(
    customers: pd.DataFrame, seg: pd.DataFrame, value: pd.Series, cfg: dict | None = None
) -> dict[str, pd.DataFrame]:
    """Sizes and value shares per segment scheme (largest value first), lifecycle stage and tier (in
    their configured order), with each group's label in the other language; ABC classes; breakdowns
    by customer attribute."""
    frame = seg.assign(
        value=value.fillna(0).to_numpy(),
        recency_days=customers["recency_days"].to_numpy(),
        frequency=customers["frequency"].to_numpy(),
    )
    total = frame["value"].sum() or 1.0
    order = {}
    if cfg is not None:
        order = {
            "lifecycle": [v[0] for v in cfg["lifecycle"]["labels"].values()],
            "tiers": [v[0] for v in cfg["tiers"]["labels"].values()],
        }
    tables = {}
    for name, col, label, label_name in (
        ("segments", "rfm_segment", "rfm_segment_label_zh", "label_zh"),
        ("segments_zh", "rfm_segment_zh", "rfm_segment_zh_label_en", "label_en"),
        ("lifecycle", "lifecycle_stage", "lifecycle_stage_zh", "label_zh"),
        ("tiers", "tier", "tier_zh", "label_zh"),
    ):
        codes, groups = _codes(frame[col])
        member = codes >= 0
        per_group = frame.loc[member, ["value", "recency_days", "frequency"]].groupby(_by(codes[member], len(groups)))
        firsts = np.flatnonzero(member)[np.unique(codes[member], return_index=True)[1]]
        t = pd.DataFrame(
            {label_name: np.asarray(frame[label].iloc[firsts], dtype=object),
             "customers": np.bincount(codes[member], minlength=len(groups)),
             "value": per_group["value"].sum().to_numpy(),
             "avg_recency_days": per_group["recency_days"].mean().to_numpy(),
             "avg_frequency": per_group["frequency"].mean().to_numpy()},
            index=groups.rename(col),
        )  # fmt: skip
        t[label_name] = t[label_name].astype(frame[label].dtype)
        t["customer_share"] = t["customers"] / len(frame)
        t["value_share"] = t["value"] / total
        t = t.sort_values("value", ascending=False, kind="stable")
        if name in order:
            t = t.reindex([k for k in order[name] if k in t.index] + [k for k in t.index if k not in order[name]])
        tables[name] = t
    tables["abc"] = abc_summary(seg["abc_class"].dropna(), frame["value"][seg["abc_class"].notna()])
    mixes = {mix: _codes(frame[mix]) for mix in ("tier", "rfm_segment")}
    for attr in ATTRIBUTES:
        if attr in customers and customers[attr].notna().any():
            base, group = _attribute_groups(*_attribute_codes(customers[attr]), frame["value"], top=10)
            tables[f"by_{attr}"] = _with_mix(base, group, *mixes["tier"], mix="tier")
            tables[f"segments_by_{attr}"] = _with_mix(base, group, *mixes["rfm_segment"], mix="rfm_segment")
    return tables


def _by(codes: np.ndarray, count: int) -> pd.Categorical:
    """Integer codes 0..``count`` - 1 as a key to group by (a Categorical is grouped without hashing)."""
    return pd.Categorical.from_codes(codes, categories=range(count))


def _attribute_codes(attribute: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of an attribute's values as text (missing: "(unknown)") and the distinct texts."""
    text = attribute.fillna("(unknown)")
    if not isinstance(text.dtype, pd.StringDtype):
        text = text.astype(str)
    codes, uniques = pd.factorize(text)
    return codes, np.asarray(uniques, dtype=object)


def _attribute_groups(
    codes: np.ndarray, uniques: np.ndarray, value: pd.Series, top: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """Customers, value and value share per attribute group (the ``top`` values by value, then Other), and each
    customer's group: on integer codes of the attribute's values (a million customers' text is grouped once, for
    both of an attribute's tables)."""
    value = value.to_numpy(dtype=float)
    by_value = pd.Series(value).groupby(_by(codes, len(uniques))).sum()  # (pandas' compensated sums, as before)
    by_value = pd.Series(by_value.to_numpy(), index=uniques).sort_index()
    by_value = by_value.sort_values(ascending=False)
    keep = set(by_value.index[:top])
    names = np.array([u if u in keep else "Other" for u in uniques], dtype=object)
    labels, group = np.unique(names, return_inverse=True)  # the groups in the order groupby sorts them
    group = group[codes]
    table = pd.DataFrame(
        {"customers": np.bincount(group, minlength=len(labels)),
         "value": pd.Series(value).groupby(_by(group, len(labels))).sum().to_numpy()},
        index=pd.Index(labels, name="group"),
    )  # fmt: skip
    table["value_share"] = table["value"] / (table["value"].sum() or 1.0)
    return table, group


def _with_mix(
    table: pd.DataFrame, group: np.ndarray, mix_codes: np.ndarray, mix_values: pd.Index, mix: str
) -> pd.DataFrame:
    """``table`` (of :func:`_attribute_groups`) with each group's shares of the values of ``mix`` (tier or
    segment; its codes and distinct values), largest value first."""
    # the mix's values sorted, as pandas sorts them
    order = np.argsort(np.asarray(mix_values, dtype=object), kind="stable")
    mix_sorted = np.asarray(mix_values, dtype=object)[order]
    mix_codes = np.argsort(order)[mix_codes]  # each value's place in the sorted order
    counts = np.bincount(group * len(mix_sorted) + mix_codes, minlength=len(table) * len(mix_sorted))
    counts = counts.reshape(len(table), len(mix_sorted)).astype(float)
    shares = pd.DataFrame(counts / counts.sum(axis=1, keepdims=True), index=table.index, columns=list(mix_sorted))
    table = table.join(shares.add_prefix("tier: " if mix == "tier" else "segment: "))
    return table.sort_values("value", ascending=False)
