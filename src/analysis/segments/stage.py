"""The segmentation stage (:func:`run_segments`, the one call the notebook makes), its tables and the
managers' summary.

Every rule table is data in ``defaults/segments.yaml`` (English and Chinese labels); this module
only applies it. The input is the customer table of :func:`analysis.data.features.customer_features`.

Customers known only from a customer list (no purchase yet): no R/F/M scores and no ABC class
(empty in ``customers.csv``), segment "No purchase yet" / 尚未购买 in both schemes, lifecycle
potential, tier Potential (by the default rules), and the tier's onboarding action. They count
in the segment, lifecycle and tier tables but not in the ABC table, which ranks buyers only.

Every rule is also stated in words, English and Chinese, in ``report["rules"]`` (see
:func:`rule_texts`), from the same settings that were applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import UserError
from analysis.i18n import check_language
from analysis.segments.abc import CLASSES, abc_codes, abc_summary, abc_value, pareto_curve
from analysis.segments.describe import rule_texts
from analysis.segments.lifecycle import STAGES, lifecycle_codes
from analysis.segments.rfm import (
    finite_or_none,
    chinese_segment_rules,
    chinese_segment_table,
    chinese_thresholds,
    english_segment_rules,
    has_amounts,
    rfm_metrics,
    rfm_scores,
)
from analysis.segments.tiers import categorical, labelled, first_match
from analysis.tables import text_column

ATTRIBUTES = ("country", "region", "city", "industry", "customer_type", "size")

# The managers' summary (:func:`manager_summary`), one Markdown list item per sentence.
TEXTS = {
    "en": {
        "what": {"revenue": "value", "margin": "margin", "orders": "orders"},
        "abc": "**{a_customers:.0%}** of customers (class A) bring **{a_value:.0%}** of the {what}.",
        "no_amounts": "The data has no amounts: there is no M score or spend; ABC ranks customers by orders and "
                      "the segments use R and F only.",
        "vip": "{vip:,} VIP customers hold **{vip_value:.0%}** of the {what}: keep them close with a dedicated "
               "account manager.",
        "new": "; {new:,} are new and need onboarding",
        "dormant": "{dormant:,} customers are dormant and {churned:,} churned{new}.",
        "slipping": "**{slipping:,}** valuable customers (VIP and Important tiers) are dormant or churned: win them "
                    "back in person, with an account manager's call.",
        "potential": "{potential:,} customers on the customer list have not bought yet: give them a first-purchase "
                     "incentive.",
    },
    "zh": {
        "what": {"revenue": "价值", "margin": "毛利", "orders": "订单"},
        "abc": "**{a_customers:.0%}** 的客户（A类）贡献了 **{a_value:.0%}** 的{what}。",
        "no_amounts": "数据没有金额：M 得分、消费金额不可用，ABC 按订单数划分，分群只看 R 和 F。",
        "vip": "VIP客户 {vip:,} 位，占{what}的 **{vip_value:.0%}**：由专属客户经理重点维护。",
        "new": "，新客户 {new:,} 位，需要新客引导",
        "dormant": "沉睡客户 {dormant:,} 位，流失客户 {churned:,} 位{new}。",
        "slipping": "**{slipping:,}** 位高价值客户（VIP与重要客户）已沉睡或流失：由客户经理专人致电挽回。",
        "potential": "客户名单中 {potential:,} 位潜在客户尚未购买：安排首单激励。",
    },
}  # fmt: skip


@dataclass
class SegmentRun:
    """The stage's products: ``customers`` (``customer_id`` + the segment columns), ``report``
    (JSON-able: rules in words, counts and shares), and the tables the notebook shows."""

    customers: pd.DataFrame
    report: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def run_segments(customers: pd.DataFrame, config: dict) -> SegmentRun:
    """Score, name, classify and tier every customer of the customer table."""
    cfg = {k: config[k] for k in ("rfm", "abc", "lifecycle", "tiers", "playbook")}
    known = set(cfg["tiers"]["labels"])
    for rule in cfg["tiers"]["rules"]:
        if rule.get("tier") not in known or rule["tier"] not in cfg["playbook"]["tiers"]:
            raise UserError(
                f"tier rule {rule} names tier {rule.get('tier')!r}: use one of {', '.join(known)} "
                "(each needs a label in tiers.labels and an entry in playbook.tiers)"
            )
    c = customers.reset_index(drop=True)
    metrics = rfm_metrics(c, cfg["rfm"])
    edges = cfg["rfm"]["edges"] if cfg["rfm"].get("scoring", "quantiles") == "edges" else None
    scores = rfm_scores(metrics, int(cfg["rfm"]["bins"]), edges)
    out = pd.concat([c[["customer_id", "recency_days", "frequency", "monetary"]], scores], axis=1)
    never = c["frequency"] <= 0
    lost = never.to_numpy(bool)
    # Every label column is decided on integer codes, as a Categorical (the groups of the tables), and written
    # out as text once. rfm_segment: the English 11-segment scheme; rfm_segment_zh: the Chinese 8-segment
    # scheme; each with its label in the other language; customers without a purchase: "No purchase yet".
    groups = {}
    english = [rule["name"] for rule in cfg["rfm"]["segments"]] + [cfg["rfm"]["others"], cfg["rfm"]["no_purchase"]]
    segment = np.where(lost, len(english) - 1, english_segment_rules(scores, cfg["rfm"]))
    chinese = [rule["name"] for rule in chinese_segment_table(metrics, cfg["rfm"])] + [cfg["rfm"]["no_purchase"]]
    segment_zh = np.where(lost, len(chinese) - 1, chinese_segment_rules(metrics, cfg["rfm"], scores))
    for column, codes, names in (("rfm_segment", segment, [n[0] for n in english]),
                                 ("rfm_segment_label_zh", segment, [n[1] for n in english]),
                                 ("rfm_segment_zh", segment_zh, [n[1] for n in chinese]),
                                 ("rfm_segment_zh_label_en", segment_zh, [n[0] for n in chinese])):  # fmt: skip
        groups[column] = categorical(codes, names)
        out[column] = pd.Series(np.array([*names, pd.NA], dtype=object)[codes], dtype=object)

    value = abc_value(c, cfg["abc"])
    abc, _ = abc_codes(value.where(~never), c["customer_id"], cfg["abc"]["cuts"])
    groups["abc_class"] = categorical(np.where(lost, -1, abc), list(CLASSES))
    out["abc_class"] = _as_text(groups["abc_class"])
    stage_codes, population_gap = lifecycle_codes(c, cfg["lifecycle"])
    stage = categorical(stage_codes, list(STAGES))
    labels = cfg["lifecycle"]["labels"]
    groups["lifecycle_stage"], groups["lifecycle_stage_zh"] = (labelled(stage, labels, i) for i in (0, 1))

    keyed = pd.DataFrame({"abc_class": groups["abc_class"], "lifecycle_stage": stage,
                          "rfm_segment": groups["rfm_segment"]})  # fmt: skip
    rules = cfg["tiers"]["rules"]
    matched = first_match(keyed, rules)
    keyed["tier"] = categorical(np.where(matched < 0, len(rules), matched),  # no rule matches: ordinary
                                 [rule["tier"] for rule in rules] + ["ordinary"])
    groups["tier"], groups["tier_zh"] = (labelled(keyed["tier"].array, cfg["tiers"]["labels"], i) for i in (0, 1))
    # the action: the first matching situation's, else the tier's (situations are listed first)
    actions = [s["action"] for s in cfg["playbook"]["situations"]]
    by_tier = {t: len(actions) + i for i, t in enumerate(cfg["playbook"]["tiers"])}
    actions += [entry["action"] for entry in cfg["playbook"]["tiers"].values()]
    choice = first_match(keyed, cfg["playbook"]["situations"])
    tier_action = np.array([by_tier[t] for t in keyed["tier"].cat.categories])[keyed["tier"].cat.codes]
    choice = np.where(choice >= 0, choice, tier_action)
    groups["recommended_action"], groups["recommended_action_zh"] = (
        categorical(choice, [a[i] for a in actions]) for i in (0, 1)
    )
    for column in ("lifecycle_stage", "lifecycle_stage_zh", "tier", "tier_zh", "recommended_action",
                   "recommended_action_zh"):  # fmt: skip
        out[column] = _as_text(groups[column])

    keys = ("rfm_segment", "rfm_segment_zh", "lifecycle_stage", "tier")  # the tables' groups, as Categoricals
    tables = summary_tables(c, out.assign(**{k: groups[k] for k in keys}), value, cfg)
    tables["pareto"] = pareto_curve(value[~never])
    thresholds = chinese_thresholds(metrics, cfg["rfm"], scores)
    amounts = has_amounts(c)
    slipping = keyed["tier"].isin(["vip", "important"]) & keyed["lifecycle_stage"].isin(["dormant", "churned"])
    report = {
        "rules": rule_texts(cfg, thresholds, population_gap, amounts=amounts, abc_basis=str(value.name)),
        "has_amounts": amounts,
        "settings": {"bins": int(cfg["rfm"]["bins"]),
                     **{k: cfg["rfm"].get(k) for k in ("scoring", "frequency", "monetary", "threshold",
                                                         "threshold_on")},
                     "abc_value": str(value.name), "abc_cuts": cfg["abc"]["cuts"],
                     "lifecycle": {k: v for k, v in cfg["lifecycle"].items() if k != "labels"}},
        "thresholds_zh": {k: finite_or_none(v) for k, v in thresholds.items()},
        "population_gap_days": population_gap,
        "customers": len(out),
        "buyers": int((~never).sum()),
        "valuable_slipping": int(slipping.sum()),
        "counts": {col: {str(k): int(v) for k, v in _value_counts(groups[col]).items()}
                   for col in ("rfm_segment", "rfm_segment_zh", "abc_class", "lifecycle_stage", "tier",
                               "recommended_action")},
        # by key (potential, new, ...; vip, important, ...), whatever the configured labels say
        "lifecycle_by_key": {k: int((keyed["lifecycle_stage"] == k).sum()) for k in cfg["lifecycle"]["labels"]},
        "tiers_by_key": {k: _tier_numbers(keyed["tier"] == k, value, never) for k in cfg["tiers"]["labels"]},
        **{name: _records(tables[name]) for name in ("abc", "segments", "segments_zh", "lifecycle", "tiers")},
    }  # fmt: skip
    return SegmentRun(out, report, tables)


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


def manager_summary(run: SegmentRun, lang: str = "en") -> str:
    """A few plain sentences (Markdown, in ``lang``) on value concentration, tiers and who is slipping away.
    Stages and tiers are looked up by their key, so renaming a label in the config changes no number."""
    check_language(lang)
    t = TEXTS[lang]
    a = run.tables["abc"].loc["A"]
    life = run.report["lifecycle_by_key"]
    vip = run.report["tiers_by_key"].get("vip")
    basis = run.report["settings"]["abc_value"]
    what = t["what"].get(basis, basis)
    lines = [t["abc"].format(a_customers=a["customer_share"], a_value=a["value_share"], what=what)]
    if not run.report["has_amounts"]:
        lines.append(t["no_amounts"])
    if vip and vip["customers"]:
        lines.append(t["vip"].format(vip=vip["customers"], vip_value=vip["value_share"], what=what))
    new = t["new"].format(new=life["new"]) if life.get("new") else ""
    lines.append(t["dormant"].format(dormant=life.get("dormant", 0), churned=life.get("churned", 0), new=new))
    if run.report.get("valuable_slipping"):
        lines.append(t["slipping"].format(slipping=run.report["valuable_slipping"]))
    if life.get("potential"):
        lines.append(t["potential"].format(potential=life["potential"]))
    return "\n".join(f"- {line}" for line in lines)
