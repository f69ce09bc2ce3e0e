"""Classic segmentation: RFM scores and named segments, ABC value classes, lifecycle stages,
management tiers and the playbook that says how to treat each of them.

Every rule table is data in ``defaults/segments.yaml`` (English and Chinese labels); this module
only applies it. The input is the customer table of :func:`analysis.features.customer_features`.

RFM scores (1..bins). A value's position runs from 0 (the lowest) to 1 (the highest) as
``(min rank - 1) / (n - 1)``, and its score is ``min(bins, 1 + floor(bins x position))``: about
equal-sized quantile bins for distinct values, the lowest value scores 1 and the highest scores
``bins`` however few customers there are, and tied values share one score (a value shared by
many customers scores by the customers below it, so the many one-time buyers get F = 1). A
population with one value (a single customer, or everyone spent the same) gets the middle
score, except that when everyone bought once F is 1. Recency is scored on the negated days, so
the most recent purchase scores highest. Customers without a purchase (from a customer list)
get no scores and the segment "No purchase yet".

English segments: an ordered rule table on the scores, first match wins, "Others" if none.
Chinese segments: R, F and M each high or low against the buyers' mean (or median); high R
means a recent purchase (recency below the threshold); a value equal to it counts as low.

ABC: buyers ranked by value (revenue, or margin), highest first, ties by customer id. A customer
is A while the value ranked before them is under the A cut (80 % by default), B under the B cut
(95 %), else C; so A holds the first 80 % of value. Customers with no value are C.

Lifecycle: potential (no purchase), new (first purchase within ``new_window_days``), then
active / dormant / churned by the days since the last purchase relative to the customer's own
typical gap between purchase days (customers with at least ``min_purchase_days``), or relative
to the population's typical gap for the others.

Tiers: ordered rules over ``abc_class``, ``lifecycle_stage`` and ``rfm_segment``, first match wins.
The recommended action is the tier's, unless a playbook situation (e.g. a dormant VIP) applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import UserError

ATTRIBUTES = ("country", "region", "city", "industry", "customer_type", "size")
PLAYBOOK_FIELDS = ("service_level", "contact_cadence", "channel", "offer", "owner")


@dataclass
class SegmentRun:
    """The stage's products: ``customers`` (``customer_id`` + the segment columns), ``report``
    (JSON-able: rules in words, counts and shares), and the tables the notebook shows."""

    customers: pd.DataFrame
    report: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# RFM


def score(values: pd.Series, bins: int) -> pd.Series:
    """Quantile scores 1..bins (see module docstring); NaN stays NaN; one distinct value: the middle."""
    valid = values.dropna()
    out = pd.Series(np.nan, index=values.index)
    if valid.empty:
        return out
    if valid.nunique() == 1:
        out[valid.index] = (bins + 1) // 2
        return out
    position = (valid.rank(method="min") - 1) / (len(valid) - 1)
    out[valid.index] = np.minimum(1 + np.floor(bins * position), bins)
    return out


def rfm_scores(customers: pd.DataFrame, bins: int = 5) -> pd.DataFrame:
    """``r_score``, ``f_score``, ``m_score`` (nullable ints) for buyers; missing for the others."""
    if bins < 2:
        raise UserError(f"rfm.bins is {bins}: use 2 or more")
    buyer = customers["frequency"] > 0
    scores = pd.DataFrame(index=customers.index)
    for name, values in (("r", -customers["recency_days"]), ("f", customers["frequency"]),
                         ("m", customers["monetary"])):
        scores[f"{name}_score"] = score(values.where(buyer), bins).astype("Int64")
    once = buyer & (customers["frequency"] == 1)
    if once.sum() == buyer.sum() > 0:  # everyone bought once: that is the lowest frequency there is
        scores.loc[once, "f_score"] = 1
    return scores


def _in_range(values: pd.Series, bounds) -> pd.Series:
    if bounds is None:
        return pd.Series(True, index=values.index)
    low, high = bounds
    return ((values >= low) & (values <= high)).fillna(False).astype(bool)


def english_segments(scores: pd.DataFrame, cfg: dict) -> tuple[pd.Series, pd.Series]:
    """(English, Chinese) name of the first rule each customer matches, "Others" when none."""
    en = pd.Series(pd.NA, index=scores.index, dtype="object")
    zh = en.copy()
    for rule in cfg["segments"]:
        hit = en.isna()
        for letter in "rfm":
            hit &= _in_range(scores[f"{letter}_score"], rule.get(letter))
        en[hit], zh[hit] = rule["name"]
    en[en.isna()], zh[zh.isna()] = cfg["others"]
    return en, zh


def chinese_segments(customers: pd.DataFrame, cfg: dict) -> tuple[pd.Series, pd.Series]:
    """(Chinese, English) name from R, F, M high/low against the buyers' mean or median."""
    how = cfg.get("threshold", "mean")
    if how not in ("mean", "median"):
        raise UserError(f"rfm.threshold is {how!r}: use mean or median")
    buyers = customers[customers["frequency"] > 0]
    level = {}
    for letter, col in (("r", "recency_days"), ("f", "frequency"), ("m", "monetary")):
        threshold = getattr(buyers[col], how)()
        high = customers[col] < threshold if letter == "r" else customers[col] > threshold
        level[letter] = np.where(high, "high", "low")
    zh = pd.Series(pd.NA, index=customers.index, dtype="object")
    en = zh.copy()
    for rule in cfg["segments_zh"]:
        hit = (level["r"] == rule["r"]) & (level["f"] == rule["f"]) & (level["m"] == rule["m"])
        en[hit], zh[hit] = rule["name"]
    return zh, en


# ---------------------------------------------------------------------------------------------
# ABC


def abc_classes(value: pd.Series, customer_id: pd.Series, cuts: dict) -> pd.DataFrame:
    """``abc_class`` and ``value_share_before`` (share of value ranked above the customer)."""
    a, b = float(cuts["A"]), float(cuts["B"])
    if not 0 < a <= b <= 1:
        raise UserError(f"abc.cuts must satisfy 0 < A <= B <= 1, got A={a}, B={b}")
    order = pd.DataFrame({"value": value.fillna(0).clip(lower=0), "id": customer_id})
    order = order.sort_values(["value", "id"], ascending=[False, True], kind="stable")
    total = order["value"].sum()
    before = (order["value"].cumsum() - order["value"]) / total if total > 0 else order["value"] * 0 + 1
    cls = np.where(before < a, "A", np.where(before < b, "B", "C"))
    cls = np.where(order["value"] > 0, cls, "C")
    out = pd.DataFrame({"abc_class": cls, "value_share_before": before.to_numpy()}, index=order.index)
    return out.loc[value.index]


def abc_value(customers: pd.DataFrame, cfg: dict) -> pd.Series:
    """The value ABC ranks by: revenue (``monetary``) or, when asked, ``margin_total``."""
    basis = cfg.get("value", "revenue")
    if basis == "revenue":
        return customers["monetary"]
    if basis == "margin":
        if "margin_total" not in customers:
            raise UserError("abc.value is margin but there is no margin column: map one with --column margin=HEADER")
        return customers["margin_total"]
    raise UserError(f"abc.value is {basis!r}: use revenue or margin")


def abc_summary(classes: pd.Series, value: pd.Series) -> pd.DataFrame:
    """Customers and value per class, with their shares."""
    frame = pd.DataFrame({"abc_class": classes, "value": value.fillna(0)})
    table = frame.groupby("abc_class").agg(customers=("value", "size"), value=("value", "sum"))
    table = table.reindex(["A", "B", "C"], fill_value=0)
    table["customer_share"] = table["customers"] / max(1, table["customers"].sum())
    table["value_share"] = table["value"] / table["value"].sum() if table["value"].sum() > 0 else 0.0
    return table


def pareto_curve(value: pd.Series) -> pd.DataFrame:
    """Cumulative share of customers (highest value first) against cumulative share of value."""
    v = np.sort(value.fillna(0).clip(lower=0).to_numpy())[::-1]
    total = v.sum() or 1.0
    n = len(v)
    return pd.DataFrame({
        "customer_share": np.concatenate([[0.0], np.arange(1, n + 1) / n]),
        "value_share": np.concatenate([[0.0], np.cumsum(v) / total]),
    })


# ---------------------------------------------------------------------------------------------
# lifecycle


def lifecycle(customers: pd.DataFrame, cfg: dict) -> tuple[pd.Series, float]:
    """(stage key per customer, the population gap in days used for customers without a cadence)."""
    has_cadence = customers["purchase_days"] >= int(cfg["min_purchase_days"])
    gap = customers["mean_gap_days"].where(has_cadence)
    population = cfg.get("population_gap_days")
    if population is None:
        population = float(gap.median()) if gap.notna().any() else 90.0
    gap = gap.fillna(population)
    ratio = customers["recency_days"] / gap
    stage = np.select(
        [customers["frequency"] <= 0, customers["tenure_days"] <= cfg["new_window_days"],
         ratio <= cfg["dormant_ratio"], ratio <= cfg["churn_ratio"]],
        ["potential", "new", "active", "dormant"], default="churned")
    return pd.Series(stage, index=customers.index), float(population)


def lifecycle_rule_text(cfg: dict, population_gap: float) -> dict[str, str]:
    """The lifecycle rule in words, English and Chinese."""
    n, k, d, c = cfg["new_window_days"], cfg["min_purchase_days"], cfg["dormant_ratio"], cfg["churn_ratio"]
    g = f"{population_gap:.0f}"
    return {
        "en": (f"Potential: known but no purchase yet. New: first purchase within the last {n} days. "
               f"Otherwise, compared with the customer's own typical gap between purchase days (customers "
               f"with at least {k} purchase days; for the others the population's typical gap, {g} days): "
               f"active if the days since the last purchase are at most {d:g} x the gap, dormant up to "
               f"{c:g} x, churned beyond."),
        "zh": (f"潜在：已知但尚未购买。新：首次购买在最近{n}天内。其余客户按其自身的平均购买间隔判断"
               f"（至少{k}个购买日的客户；其他客户使用整体典型间隔{g}天）：距上次购买的天数不超过间隔的"
               f"{d:g}倍为活跃，不超过{c:g}倍为沉睡，超过则为流失。"),
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------
# tiers and playbook


def first_match(frame: pd.DataFrame, rules: list[dict]) -> np.ndarray:
    """Index of the first rule whose ``when``/``unless`` conditions hold for each row (-1: none)."""
    out = np.full(len(frame), -1)
    for i, rule in enumerate(rules):
        hit = out == -1
        for col, allowed in (rule.get("when") or {}).items():
            hit &= frame[col].isin(allowed).to_numpy()
        for col, barred in (rule.get("unless") or {}).items():
            hit &= ~frame[col].isin(barred).to_numpy()
        out[hit] = i
    return out


def match_rules(frame: pd.DataFrame, rules: list[dict], key: str) -> pd.Series:
    """``rule[key]`` of the first matching rule for each row; missing where no rule matches."""
    values = np.empty(len(rules) + 1, dtype=object)
    values[:-1] = [rule[key] for rule in rules]
    values[-1] = None
    return pd.Series(values[first_match(frame, rules)], index=frame.index, dtype=object)


def _labels(keys, table: dict, lang: int) -> np.ndarray:
    """``table[key][lang]`` for each key (every key must be in ``table``)."""
    codes = pd.Categorical(np.asarray(keys, dtype=object), categories=list(table)).codes
    if (codes < 0).any():
        raise UserError(f"a label is missing for one of {sorted(set(np.asarray(keys, dtype=object)))}")
    return np.array([table[k][lang] for k in table], dtype=object)[codes]


def playbook_table(cfg: dict, lang: str = "en") -> pd.DataFrame:
    """The treatment of each tier: label, service level, cadence, channel, offer, owner, action."""
    i = 0 if lang == "en" else 1
    labels = cfg["tiers"]["labels"]
    rows = []
    for key, entry in cfg["playbook"]["tiers"].items():
        rows.append({"tier": labels[key][i], **{f: entry[f][i] for f in (*PLAYBOOK_FIELDS, "action")}})
    return pd.DataFrame(rows).set_index("tier")


def segment_playbook_table(cfg: dict, lang: str = "en") -> pd.DataFrame:
    """The treatment of each named RFM segment."""
    i = 0 if lang == "en" else 1
    names = {rule["name"][0]: rule["name"][i] for rule in cfg["rfm"]["segments"]}
    names[cfg["rfm"]["others"][0]] = cfg["rfm"]["others"][i]
    rows = [{"segment": names.get(seg, seg), **{f: v[i] for f, v in zip(PLAYBOOK_FIELDS, values, strict=True)}}
            for seg, values in cfg["playbook"]["segments"].items()]
    return pd.DataFrame(rows).set_index("segment")


# ---------------------------------------------------------------------------------------------
# the stage


def run_segments(customers: pd.DataFrame, config: dict) -> SegmentRun:
    """Score, name, classify and tier every customer of the customer table."""
    cfg = {k: config[k] for k in ("rfm", "abc", "lifecycle", "tiers", "playbook")}
    known = set(cfg["tiers"]["labels"])
    for rule in cfg["tiers"]["rules"]:
        if rule.get("tier") not in known or rule["tier"] not in cfg["playbook"]["tiers"]:
            raise UserError(f"tier rule {rule} names tier {rule.get('tier')!r}: use one of {', '.join(known)} "
                            "(each needs a label in tiers.labels and an entry in playbook.tiers)")
    c = customers.reset_index(drop=True)
    scores = rfm_scores(c, int(cfg["rfm"]["bins"]))
    out = pd.concat([c[["customer_id", "recency_days", "frequency", "monetary"]], scores], axis=1)
    # rfm_segment: the English 11-segment scheme; rfm_segment_zh: the Chinese 8-segment scheme;
    # each with its label in the other language
    out["rfm_segment"], out["rfm_segment_label_zh"] = english_segments(scores, cfg["rfm"])
    out["rfm_segment_zh"], out["rfm_segment_zh_label_en"] = chinese_segments(c, cfg["rfm"])
    never = c["frequency"] <= 0
    out.loc[never, ["rfm_segment", "rfm_segment_label_zh"]] = cfg["rfm"]["no_purchase"]
    out.loc[never, ["rfm_segment_zh", "rfm_segment_zh_label_en"]] = cfg["rfm"]["no_purchase"][::-1]

    value = abc_value(c, cfg["abc"])
    abc = abc_classes(value.where(~never), c["customer_id"], cfg["abc"]["cuts"])
    out["abc_class"] = abc["abc_class"].where(~never)
    stage, population_gap = lifecycle(c, cfg["lifecycle"])
    labels = cfg["lifecycle"]["labels"]
    out["lifecycle_stage"] = _labels(stage, labels, 0)
    out["lifecycle_stage_zh"] = _labels(stage, labels, 1)

    keyed = pd.DataFrame({"abc_class": out["abc_class"], "lifecycle_stage": stage, "rfm_segment": out["rfm_segment"]})
    keyed["tier"] = match_rules(keyed, cfg["tiers"]["rules"], "tier").fillna("ordinary")
    out["tier"] = _labels(keyed["tier"], cfg["tiers"]["labels"], 0)
    out["tier_zh"] = _labels(keyed["tier"], cfg["tiers"]["labels"], 1)
    # the action: the first matching situation's, else the tier's (situations are listed first)
    actions = [s["action"] for s in cfg["playbook"]["situations"]]
    by_tier = {t: len(actions) + i for i, t in enumerate(cfg["playbook"]["tiers"])}
    actions += [entry["action"] for entry in cfg["playbook"]["tiers"].values()]
    choice = first_match(keyed, cfg["playbook"]["situations"])
    choice = np.where(choice >= 0, choice, keyed["tier"].map(by_tier).to_numpy())
    out["recommended_action"] = np.array([a[0] for a in actions], dtype=object)[choice]
    out["recommended_action_zh"] = np.array([a[1] for a in actions], dtype=object)[choice]

    tables = summary_tables(c, out, value)
    report = {
        "rules": {"lifecycle": lifecycle_rule_text(cfg["lifecycle"], population_gap),
                  "rfm": {"bins": int(cfg["rfm"]["bins"]), "threshold_zh": cfg["rfm"].get("threshold", "mean")},
                  "abc": {"value": cfg["abc"].get("value", "revenue"), "cuts": cfg["abc"]["cuts"]}},
        "population_gap_days": population_gap,
        "customers": len(out),
        "counts": {col: {str(k): int(v) for k, v in out[col].value_counts().items()}
                   for col in ("rfm_segment", "rfm_segment_zh", "abc_class", "lifecycle_stage", "tier")},
        "abc": tables["abc"].reset_index().to_dict("records"),
    }  # fmt: skip
    return SegmentRun(out, report, tables)


def summary_tables(customers: pd.DataFrame, seg: pd.DataFrame, value: pd.Series) -> dict[str, pd.DataFrame]:
    """Sizes and value shares per segment scheme, tier and lifecycle; breakdowns by attribute."""
    frame = seg.assign(value=value.fillna(0).to_numpy(), recency_days=customers["recency_days"].to_numpy(),
                       frequency=customers["frequency"].to_numpy())
    total = frame["value"].sum() or 1.0
    tables = {}
    for name, col in (("segments", "rfm_segment"), ("segments_zh", "rfm_segment_zh"), ("tiers", "tier"),
                      ("lifecycle", "lifecycle_stage")):
        t = frame.groupby(col, sort=False).agg(customers=("customer_id", "size"), value=("value", "sum"),
                                               avg_recency_days=("recency_days", "mean"),
                                               avg_frequency=("frequency", "mean"))
        t["customer_share"] = t["customers"] / len(frame)
        t["value_share"] = t["value"] / total
        tables[name] = t.sort_values("value", ascending=False)
    tables["abc"] = abc_summary(seg["abc_class"].dropna(), frame["value"][seg["abc_class"].notna()])
    for attr in ATTRIBUTES:
        if attr in customers and customers[attr].notna().any():
            tables[f"by_{attr}"] = breakdown(customers[attr], frame)
            tables[f"segments_by_{attr}"] = breakdown(customers[attr], frame, mix="rfm_segment")
    return tables


def breakdown(attribute: pd.Series, frame: pd.DataFrame, top: int = 10, mix: str = "tier") -> pd.DataFrame:
    """Customers, value and the mix of ``mix`` (tier or segment) per attribute value (the ``top``
    largest by value, then Other)."""
    key = attribute.fillna("(unknown)").astype(str).to_numpy()
    by_value = pd.Series(frame["value"].to_numpy(), index=key).groupby(level=0).sum().sort_values(ascending=False)
    keep = set(by_value.index[:top])
    key = np.where(pd.Series(key).isin(keep), key, "Other")
    grouped = frame.assign(group=key).groupby("group")
    table = grouped.agg(customers=("customer_id", "size"), value=("value", "sum"))
    table["value_share"] = table["value"] / (table["value"].sum() or 1.0)
    shares = pd.crosstab(key, frame[mix].to_numpy(), normalize="index")
    table = table.join(shares.add_prefix("tier: " if mix == "tier" else "segment: "))
    return table.sort_values("value", ascending=False)


def manager_summary(run: SegmentRun, lang: str = "en") -> str:
    """A few plain sentences (Markdown) on value concentration, tiers and who is slipping away."""
    abc = run.tables["abc"]
    counts = run.report["counts"]
    life = counts["lifecycle_stage"]
    tiers = run.tables["tiers"]
    vip = tiers.loc["VIP"] if "VIP" in tiers.index else None
    a = abc.loc["A"]
    if lang == "zh":
        lines = [f"- **{a['customer_share']:.0%}** 的客户（A类）贡献了 **{a['value_share']:.0%}** 的价值。"]
        if vip is not None:
            lines.append(f"- VIP客户 {int(vip['customers']):,} 位，占价值的 **{vip['value_share']:.0%}**。")
        new = f"，新客户 {life['new']:,} 位" if life.get("new") else ""
        lines.append(f"- 沉睡客户 {life.get('dormant', 0):,} 位，流失客户 {life.get('churned', 0):,} 位{new}。")
        return "\n".join(lines)
    lines = [f"- **{a['customer_share']:.0%}** of customers (class A) bring **{a['value_share']:.0%}** of the value."]
    if vip is not None:
        lines.append(f"- {int(vip['customers']):,} VIP customers hold **{vip['value_share']:.0%}** of the value: "
                     "keep them close with a dedicated account manager.")
    new = f"; {life['new']:,} are new and need onboarding" if life.get("new") else ""
    lines.append(f"- {life.get('dormant', 0):,} customers are dormant and {life.get('churned', 0):,} churned{new}.")
    return "\n".join(lines)
