"""Classic segmentation: RFM scores and named segments, ABC value classes, lifecycle stages,
management tiers and the playbook that says how to treat each of them.

Every rule table is data in ``defaults/segments.yaml`` (English and Chinese labels); this module
only applies it. The input is the customer table of :func:`analysis.data.features.customer_features`.

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
    for name, values in (
        ("r", -customers["recency_days"]),
        ("f", customers["frequency"]),
        ("m", customers["monetary"]),
    ):
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


def chinese_thresholds(customers: pd.DataFrame, cfg: dict) -> dict[str, float]:
    """The buyers' mean (or median, ``rfm.threshold``) of ``recency_days``, ``frequency`` and
    ``monetary``: the high/low lines of the Chinese scheme (NaN when nobody bought)."""
    how = cfg.get("threshold", "mean")
    if how not in ("mean", "median"):
        raise UserError(f"rfm.threshold is {how!r}: use mean or median")
    buyers = customers[customers["frequency"] > 0]
    return {col: float(getattr(buyers[col], how)()) for col in ("recency_days", "frequency", "monetary")}


def _finite(value: float) -> float | None:
    """``value``, or ``None`` for NaN (JSON has no NaN)."""
    return None if pd.isna(value) else float(value)


def chinese_segments(customers: pd.DataFrame, cfg: dict) -> tuple[pd.Series, pd.Series]:
    """(Chinese, English) name from R, F, M high/low against the buyers' mean or median."""
    thresholds = chinese_thresholds(customers, cfg)
    level = {}
    for letter, col in (("r", "recency_days"), ("f", "frequency"), ("m", "monetary")):
        threshold = thresholds[col]
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
    return pd.DataFrame(
        {
            "customer_share": np.concatenate([[0.0], np.arange(1, n + 1) / n]),
            "value_share": np.concatenate([[0.0], np.cumsum(v) / total]),
        }
    )


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
        [
            customers["frequency"] <= 0,
            customers["tenure_days"] <= cfg["new_window_days"],
            ratio <= cfg["dormant_ratio"],
            ratio <= cfg["churn_ratio"],
        ],
        ["potential", "new", "active", "dormant"],
        default="churned",
    )
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
    rows = [
        {"segment": names.get(seg, seg), **{f: v[i] for f, v in zip(PLAYBOOK_FIELDS, values, strict=True)}}
        for seg, values in cfg["playbook"]["segments"].items()
    ]
    return pd.DataFrame(rows).set_index("segment")


# ---------------------------------------------------------------------------------------------
# the rules in words

_COLUMN_WORDS = {
    "abc_class": ("ABC class", "ABC分类"),
    "lifecycle_stage": ("lifecycle stage", "生命周期"),
    "rfm_segment": ("RFM segment", "RFM分群"),
    "tier": ("tier", "客户等级"),
}


def _value_words(cfg: dict, column: str, value: str, i: int) -> str:
    """A rule value in language ``i`` (0 English, 1 Chinese): stage, segment and tier keys get their labels."""
    if column == "lifecycle_stage":
        return cfg["lifecycle"]["labels"].get(value, [value, value])[i]
    if column == "tier":
        return cfg["tiers"]["labels"].get(value, [value, value])[i]
    if column == "rfm_segment":
        names = {r["name"][0]: r["name"][i] for r in cfg["rfm"]["segments"]}
        return names.get(value, value)
    return str(value)


def _condition_words(cfg: dict, rule: dict, i: int) -> str:
    """``when``/``unless`` of a tier or playbook rule in words (``i``: 0 English, 1 Chinese)."""
    verbs = {False: (" is ", "为"), True: (" is not ", "不是")}
    parts = []
    for key, negate in (("when", False), ("unless", True)):
        for col, values in (rule.get(key) or {}).items():
            words = (" or ", "或")[i].join(_value_words(cfg, col, v, i) for v in values)
            parts.append(f"{_COLUMN_WORDS.get(col, (col, col))[i]}{verbs[negate][i]}{words}")
    return (" and ", "，且")[i].join(parts) or ("everyone else", "其余所有客户")[i]


def _ranges(rule: dict, i: int) -> str:
    parts = [
        f"{letter.upper()} {lo}-{hi}" if lo != hi else f"{letter.upper()} {lo}"
        for letter in "rfm"
        if rule.get(letter)
        for lo, hi in [rule[letter]]
    ]
    return ", ".join(parts) if parts else ("any scores" if i == 0 else "任意得分")


def rule_texts(cfg: dict, thresholds: dict[str, float], population_gap: float) -> dict[str, dict[str, str]]:
    """Every rule the stage applied, in words: ``{rule: {"en": ..., "zh": ...}}`` for the RFM scores,
    both segment schemes (with the thresholds actually used), ABC, lifecycle, tiers and actions."""
    rfm, abc = cfg["rfm"], cfg["abc"]
    bins = int(rfm["bins"])
    how = rfm.get("threshold", "mean")
    how_zh = {"mean": "均值", "median": "中位数"}.get(how, how)
    r, f, m = (thresholds[c] for c in ("recency_days", "frequency", "monetary"))
    basis = abc.get("value", "revenue")
    basis_zh = {"revenue": "收入", "margin": "毛利"}.get(basis, basis)
    a, b = (float(abc["cuts"][k]) for k in ("A", "B"))
    level = {"high": ("high", "高"), "low": ("low", "低")}
    zh_rows = [
        (
            row["name"],
            "，".join(f"{x.upper()}{level[row[x]][1]}" for x in "rfm"),
            ", ".join(f"{x.upper()} {level[row[x]][0]}" for x in "rfm"),
        )
        for row in rfm["segments_zh"]
    ]
    tiers = cfg["tiers"]["labels"]
    tier_rules = cfg["tiers"]["rules"]
    situations = cfg["playbook"]["situations"]
    return {
        "rfm_scores": {
            "en": (f"R, F and M scores run from 1 to {bins}. Customers who bought are ranked by days since their last "
                   f"purchase (fewest days = highest R), number of orders (F) and total spend (M) and cut into {bins} "
                   "equal-sized groups by rank; equal values share a score, set by the share of customers below "
                   f"them. With no spread at all everyone gets the middle score ({(bins + 1) // 2}), except that "
                   "when everyone bought once F is 1. Customers who never bought have no scores."),
            "zh": (f"R、F、M 得分为1到{bins}。按距上次购买的天数（天数越少R越高）、订单数（F）和消费总额（M）对已购买"
                   f"客户排序，按排名等分为{bins}组；数值相同的客户得分相同，由低于该数值的客户占比决定。若所有客户数值"
                   f"相同，则均为中间分（{(bins + 1) // 2}），但所有客户都只购买一次时F为1。尚未购买的客户没有得分。"),
        },
        "rfm_segments": {
            "en": ("English named segments: the first matching rule wins. "
                   + "; ".join(f"{row['name'][0]}: {_ranges(row, 0)}" for row in rfm["segments"])
                   + f"; otherwise {rfm['others'][0]}."),
            "zh": ("英文命名分群：按顺序匹配，第一条满足的规则生效。"
                   + "；".join(f"{row['name'][1]}：{_ranges(row, 1)}" for row in rfm["segments"])
                   + f"；都不满足则为{rfm['others'][1]}。"),
        },
        "rfm_segments_zh": {
            "en": (f"Chinese 8-segment scheme: R is high when the days since the last purchase are below the buyers' "
                   f"{how} ({r:,.1f} days: a recent purchase), F high above the {how} ({f:,.2f} orders), M high "
                   f"above the {how} ({m:,.2f}); a value equal to the {how} counts as low. "
                   + "; ".join(f"{name[1]} ({name[0]}): {words}" for name, _, words in zh_rows) + "."),
            "zh": (f"中国八类客户：距上次购买天数低于已购买客户的{how_zh}（{r:,.1f}天）为R高（最近购买过），"
                   f"订单数高于{how_zh}（{f:,.2f}）为F高，消费总额高于{how_zh}（{m:,.2f}）为M高；等于该值算作低。"
                   + "；".join(f"{name[1]}：{words}" for name, words, _ in zh_rows) + "。"),
        },
        "abc": {
            "en": (f"ABC classes: customers who bought are ranked by {basis}, highest first (ties by customer id). "
                   f"A customer is A while the {basis} ranked before them is under {a:.0%} of the total (so A holds "
                   f"the first {a:.0%}), B while under {b:.0%}, else C; customers with no {basis} are C. Customers "
                   "who never bought have no class."),
            "zh": (f"ABC分类：按{basis_zh}从高到低对已购买客户排序（相同时按客户编号）。"
                   f"排在其前面的累计价值低于总额的{a:.0%}时为A类（A类占前{a:.0%}的价值），低于{b:.0%}为B类，"
                   "其余为C类；没有价值的客户为C类。尚未购买的客户不分类。"),
        },
        "lifecycle": lifecycle_rule_text(cfg["lifecycle"], population_gap),
        "tiers": {
            "en": ("Tiers: the first matching rule wins. "
                   + "; ".join(f"{tiers[t['tier']][0]}: {_condition_words(cfg, t, 0)}" for t in tier_rules)
                   + "."),
            "zh": ("客户分级：按顺序匹配，第一条满足的规则生效。"
                   + "；".join(f"{_condition_words(cfg, t, 1)}：{tiers[t['tier']][1]}" for t in tier_rules) + "。"),
        },
        "actions": {
            "en": ("Recommended action: the first matching situation's ("
                   + "; ".join(f"{_condition_words(cfg, s, 0)}: {s['action'][0]}" for s in situations)
                   + "), else the tier's action from the playbook."),
            "zh": ("建议行动：按顺序匹配以下情形（"
                   + "；".join(f"{_condition_words(cfg, s, 1)}：{s['action'][1]}" for s in situations)
                   + "），都不满足则采用所属等级的策略。"),
        },
    }  # fmt: skip


def rules_markdown(report: dict, *names: str) -> str:
    """The named rules of a run's report as Markdown paragraphs, English then Chinese."""
    rules = report["rules"]
    return "\n\n".join([*(rules[n]["en"] for n in names), *(rules[n]["zh"] for n in names)])


# ---------------------------------------------------------------------------------------------
# the stage


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

    tables = summary_tables(c, out, value, cfg)
    tables["pareto"] = pareto_curve(value[~never])
    thresholds = chinese_thresholds(c, cfg["rfm"])
    slipping = keyed["tier"].isin(["vip", "important"]) & pd.Series(stage).isin(["dormant", "churned"])
    report = {
        "rules": rule_texts(cfg, thresholds, population_gap),
        "settings": {"bins": int(cfg["rfm"]["bins"]), "threshold_zh": cfg["rfm"].get("threshold", "mean"),
                     "abc_value": cfg["abc"].get("value", "revenue"), "abc_cuts": cfg["abc"]["cuts"],
                     "lifecycle": {k: v for k, v in cfg["lifecycle"].items() if k != "labels"}},
        "thresholds_zh": {k: _finite(v) for k, v in thresholds.items()},
        "population_gap_days": population_gap,
        "customers": len(out),
        "buyers": int((~never).sum()),
        "valuable_slipping": int(slipping.sum()),
        "counts": {col: {str(k): int(v) for k, v in out[col].value_counts().items()}
                   for col in ("rfm_segment", "rfm_segment_zh", "abc_class", "lifecycle_stage", "tier",
                               "recommended_action")},
        **{name: _records(tables[name]) for name in ("abc", "segments", "segments_zh", "lifecycle", "tiers")},
    }  # fmt: skip
    return SegmentRun(out, report, tables)


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
        t = frame.groupby(col, sort=False).agg(
            **{label_name: (label, "first")},
            customers=("customer_id", "size"),
            value=("value", "sum"),
            avg_recency_days=("recency_days", "mean"),
            avg_frequency=("frequency", "mean"),
        )
        t["customer_share"] = t["customers"] / len(frame)
        t["value_share"] = t["value"] / total
        t = t.sort_values("value", ascending=False, kind="stable")
        if name in order:
            t = t.reindex([k for k in order[name] if k in t.index] + [k for k in t.index if k not in order[name]])
        tables[name] = t
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
        if run.report.get("valuable_slipping"):
            lines.append(
                f"- **{run.report['valuable_slipping']:,}** 位高价值客户（VIP与重要客户）已沉睡或流失："
                "由客户经理专人挽回。"
            )
        if life.get("potential"):
            lines.append(f"- 客户名单中 {life['potential']:,} 位潜在客户尚未购买：安排首单激励。")
        return "\n".join(lines)
    lines = [f"- **{a['customer_share']:.0%}** of customers (class A) bring **{a['value_share']:.0%}** of the value."]
    if vip is not None:
        lines.append(
            f"- {int(vip['customers']):,} VIP customers hold **{vip['value_share']:.0%}** of the value: "
            "keep them close with a dedicated account manager."
        )
    new = f"; {life['new']:,} are new and need onboarding" if life.get("new") else ""
    lines.append(f"- {life.get('dormant', 0):,} customers are dormant and {life.get('churned', 0):,} churned{new}.")
    if run.report.get("valuable_slipping"):
        lines.append(
            f"- **{run.report['valuable_slipping']:,}** valuable customers (VIP and Important tiers) are dormant or "
            "churned: win them back in person, with an account manager's call."
        )
    if life.get("potential"):
        lines.append(
            f"- {life['potential']:,} customers on the customer list have not bought yet: "
            "give them a first-purchase incentive."
        )
    return "\n".join(lines)
