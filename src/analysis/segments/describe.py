"""Every sentence of the segments page, in English and Chinese: each rule stated in words from the same settings
that were applied (:func:`rule_texts`, kept in ``segments.json``; the page shows those of its language with
:func:`rules_markdown`) and the managers' summary (:func:`summary`). The functions of the page take the stage's
result (:class:`analysis.segments.stage.SegmentsResult`).

The words are in catalogues keyed by message id, each ``{"en": ..., "zh": ...}``; the labels of segments, stages,
tiers and actions are the settings' own (``defaults/segments.yaml``, written ``[English, 中文]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analysis.i18n import check_language
from analysis.segments.lifecycle import lifecycle_rule_text
from analysis.stage import LANGUAGES, Text, text
from analysis.tables import markdown_text

if TYPE_CHECKING:
    from analysis.segments.stage import SegmentsResult

# The managers' summary (:func:`summary`), one Markdown list item per sentence.
SUMMARY = {
    "abc": {"en": "**{a_customers:.0%}** of customers (class A) bring **{a_value:.0%}** of the {what}.",
            "zh": "**{a_customers:.0%}** 的客户（A类）贡献了 **{a_value:.0%}** 的{what}。"},
    "no_amounts": {"en": "The data has no amounts: there is no M score or spend; ABC ranks customers by orders and "
                         "the segments use R and F only.",
                   "zh": "数据没有金额：M 得分、消费金额不可用，ABC 按订单数划分，分群只看 R 和 F。"},
    "vip": {"en": "{vip:,} VIP customers hold **{vip_value:.0%}** of the {what}: keep them close with a dedicated "
                  "account manager.",
            "zh": "VIP客户 {vip:,} 位，占{what}的 **{vip_value:.0%}**：由专属客户经理重点维护。"},
    "new": {"en": "; {new:,} are new and need onboarding", "zh": "，新客户 {new:,} 位，需要新客引导"},
    "dormant": {"en": "{dormant:,} customers are dormant and {churned:,} churned{new}.",
                "zh": "沉睡客户 {dormant:,} 位，流失客户 {churned:,} 位{new}。"},
    "slipping": {"en": "**{slipping:,}** valuable customers (VIP and Important tiers) are dormant or churned: win them "
                       "back in person, with an account manager's call.",
                 "zh": "**{slipping:,}** 位高价值客户（VIP与重要客户）已沉睡或流失：由客户经理专人致电挽回。"},
    "potential": {"en": "{potential:,} customers on the customer list have not bought yet: give them a first-purchase "
                        "incentive.",
                  "zh": "客户名单中 {potential:,} 位潜在客户尚未购买：安排首单激励。"},
}  # fmt: skip

# The breakdowns section without a customer attribute to break down by.
NO_ATTRIBUTES = text("The data has no customer attributes (country, region, city, industry, customer type, size).",
                     "数据中没有客户属性（国家、地区、城市、行业、客户类型、规模）。")

# What ABC ranks by, in the managers' summary ("of the value") and in the rules ("ranked by revenue").
VALUE_WORDS = {"revenue": text("value", "价值"), "margin": text("margin", "毛利"), "orders": text("orders", "订单")}
BASIS_WORDS = {"revenue": text("revenue", "收入"), "margin": text("margin", "毛利"), "orders": text("orders", "订单数")}

# The columns a tier rule or a playbook situation names, and the words that join its conditions.
COLUMN_WORDS = {
    "abc_class": text("ABC class", "ABC分类"),
    "lifecycle_stage": text("lifecycle stage", "生命周期"),
    "rfm_segment": text("RFM segment", "RFM分群"),
    "tier": text("tier", "客户等级"),
}
CONDITIONS = {
    "is": {"en": " is ", "zh": "为"},
    "is_not": {"en": " is not ", "zh": "不是"},
    "or": {"en": " or ", "zh": "或"},
    "and": {"en": " and ", "zh": "，且"},
    "everyone": {"en": "everyone else", "zh": "其余所有客户"},
    "any_scores": {"en": "any scores", "zh": "任意得分"},
    "colon": {"en": ": ", "zh": "："},
}

# How R, F and M are measured and scored.
MEASURES = {
    "orders": text("number of orders", "订单数"),
    "purchase_days": text("distinct purchase days", "购买天数"),
    "total_spend": text("total spend", "消费总额"),
    "per_purchase_day": text("spend per purchase day", "每个购买日的消费额"),
}
SCORING = {
    "edges": {"en": "R, F and M scores run from 1 to {bins}, by fixed edges: R (days since the last purchase) is "
                    "{bins} within {first_recency} days and one lower past each of {recency} days; F ({f}) and M ({m}) "
                    "are 1 below the first edge and one higher at each of {frequency} and {monetary}. Customers who "
                    "never bought have no scores.",
              "zh": "R、F、M 得分为1到{bins}，按固定分界：距上次购买{first_recency}天内R为{bins}，每超过{recency}中的"
                    "一个天数减1；F（{f}）与M（{m}）低于第一个分界为1，每达到{frequency}与{monetary}中的一个分界加1。"
                    "尚未购买的客户没有得分。"},
    "quantiles": {"en": "R, F and M scores run from 1 to {bins}. Customers who bought are ranked by days since their "
                        "last purchase (fewest days = highest R), {f} (F) and {m} (M) and cut into {bins} equal-sized "
                        "groups by rank; equal values share a score, set by the share of customers below them. With "
                        "no spread at all everyone gets the middle score ({middle}), except that when everyone "
                        "bought once F is 1. Customers who never bought have no scores.",
                  "zh": "R、F、M 得分为1到{bins}。按距上次购买的天数（天数越少R越高）、{f}（F）和{m}（M）对已购买客户"
                        "排序，按排名等分为{bins}组；数值相同的客户得分相同，由低于该数值的客户占比决定。若所有客户"
                        "数值相同，则均为中间分（{middle}），但所有客户都只购买一次时F为1。尚未购买的客户没有得分。"},
    "no_m": {"en": " The data has no amounts, so there is no M score.", "zh": "数据没有金额，因此没有M得分。"},
}  # fmt: skip

# The Chinese scheme's high/low lines.
THRESHOLDS = {
    "mean": text("buyers' mean", "已购买客户的均值"),
    "median": text("buyers' median", "已购买客户的中位数"),
    "fixed": text("fixed value", "固定值"),
}
HIGH = {
    "values": {"en": "R is high when the days since the last purchase are below the {how} ({r:,.1f} days: a recent "
                     "purchase), F high above the {how} ({f:,.2f})",
               "zh": "距上次购买天数低于{how}（{r:,.1f}天）为R高（最近购买过），F高于{how}（{f:,.2f}）为F高"},
    "values_m": {"en": ", M high above the {how} ({m:,.2f})", "zh": "，M高于{how}（{m:,.2f}）为M高"},
    "scores": {"en": "R, F and M are high when their score is above the {how} ({r:,.2f}, {f:,.2f}, {m:,.2f})",
               "zh": "R、F、M 得分高于{how}（{r:,.2f}、{f:,.2f}、{m:,.2f}）为高"},
    "scores_rf": {"en": "R and F are high when their score is above the {how} ({r:,.2f}, {f:,.2f})",
                  "zh": "R、F 得分高于{how}（{r:,.2f}、{f:,.2f}）为高"},
    "equal_is_low": {"en": "; a value equal to it counts as low", "zh": "；等于该值算作低"},
    "high": {"en": "high", "zh": "高"},
    "low": {"en": "low", "zh": "低"},
}  # fmt: skip

# The rules of the two schemes, ABC, tiers and actions.
RULES = {
    "segments": {"en": "English named segments: the first matching rule wins. {rules}; otherwise {others}.",
                 "zh": "RFM 命名细分（十一类）：按顺序匹配，第一条满足的规则生效。{rules}；都不满足则为{others}。"},
    "scheme": text("Chinese 8-segment scheme", "八类客户"),
    "scheme_rf": text("Chinese scheme on R and F (no amounts)", "四类客户（仅R、F，数据没有金额）"),
    "segments_zh": {"en": "{scheme}: {lines}. {rules}.", "zh": "{scheme}：{lines}。{rules}。"},
    "abc": {"en": "ABC classes: customers who bought are ranked by {basis}, highest first (ties by customer id). A "
                  "customer is A while the {basis} ranked before them is under {a:.0%} of the total (so A holds the "
                  "first {a:.0%}), B while under {b:.0%}, else C; customers with no {basis} are C. Customers who "
                  "never bought have no class.",
            "zh": "ABC分类：按{basis}从高到低对已购买客户排序（相同时按客户编号）。排在其前面的累计价值低于"
                  "总额的{a:.0%}时为A类（A类占前{a:.0%}的价值），低于{b:.0%}为B类，其余为C类；没有价值的客户为"
                  "C类。尚未购买的客户不分类。"},
    "tiers": {"en": "Tiers: the first matching rule wins. {rules}.",
              "zh": "客户分级：按顺序匹配，第一条满足的规则生效。{rules}。"},
    "actions": {"en": "Recommended action: the first matching situation's ({rules}), else the tier's action from the "
                      "playbook.",
                "zh": "建议行动：按顺序匹配以下情形（{rules}），都不满足则采用所属等级的策略。"},
    "rule_join": {"en": "; ", "zh": "；"},
}  # fmt: skip


def _value_words(cfg: dict, column: str, value: str, lang: str) -> str:
    """A rule value in ``lang``: stage, segment and tier keys get their configured labels; any other value (a
    class, a name the settings do not list) is shown as written."""
    i = LANGUAGES.index(lang)
    if column == "lifecycle_stage":
        return cfg["lifecycle"]["labels"].get(value, [value, value])[i]
    if column == "tier":
        return cfg["tiers"]["labels"].get(value, [value, value])[i]
    if column == "rfm_segment":
        names = {r["name"][0]: r["name"][i] for r in cfg["rfm"]["segments"]}
        return names.get(value, value)
    return str(value)


def _condition_words(cfg: dict, rule: dict, lang: str) -> str:
    """``when``/``unless`` of a tier or playbook rule in words, in ``lang``."""
    parts = []
    for key, verb in (("when", "is"), ("unless", "is_not")):
        for col, values in (rule.get(key) or {}).items():
            words = CONDITIONS["or"][lang].join(_value_words(cfg, col, v, lang) for v in values)
            name = COLUMN_WORDS[col][lang] if col in COLUMN_WORDS else col
            parts.append(f"{name}{CONDITIONS[verb][lang]}{words}")
    return CONDITIONS["and"][lang].join(parts) or CONDITIONS["everyone"][lang]


def _ranges(rule: dict, lang: str) -> str:
    """The score ranges of an English segment rule (``R 4-5, F 4-5``), in ``lang``."""
    parts = [
        f"{letter.upper()} {lo}-{hi}" if lo != hi else f"{letter.upper()} {lo}"
        for letter in "rfm"
        if rule.get(letter)
        for lo, hi in [rule[letter]]
    ]
    return ", ".join(parts) if parts else CONDITIONS["any_scores"][lang]


def _scoring_words(rfm: dict, amounts: bool) -> Text:
    """How the R, F and M scores were computed, in words."""
    bins, how = int(rfm["bins"]), rfm["scoring"]
    edges = rfm["edges"]
    fields = {"bins": bins, "middle": (bins + 1) // 2, "first_recency": edges["recency_days"][0],
              "recency": edges["recency_days"], "frequency": edges["frequency"],
              "monetary": edges["monetary"]}  # fmt: skip
    template = SCORING["edges" if how == "edges" else "quantiles"]
    return {
        lang: template[lang].format(**fields, f=MEASURES[rfm["frequency"]][lang], m=MEASURES[rfm["monetary"]][lang])
        + ("" if amounts else SCORING["no_m"][lang])
        for lang in LANGUAGES
    }


def _threshold_words(rfm: dict, thresholds: dict[str, float], amounts: bool) -> Text:
    """The Chinese scheme's high/low lines in words (M left out when the data has no amounts)."""
    r, f, m = (thresholds[c] for c in ("recency_days", "frequency", "monetary"))
    on_scores = rfm["threshold_on"] == "scores"
    template = ("scores" if amounts else "scores_rf") if on_scores else "values"
    out = {}
    for lang in LANGUAGES:
        how = THRESHOLDS[rfm["threshold"]][lang]
        line = HIGH[template][lang].format(how=how, r=r, f=f, m=m)
        if amounts and not on_scores:
            line += HIGH["values_m"][lang].format(how=how, m=m)
        out[lang] = line + HIGH["equal_is_low"][lang]
    return out


def _segment_words(rfm: dict) -> Text:
    """The English named segments' rules, in order."""
    return {
        lang: RULES["segments"][lang].format(
            rules=RULES["rule_join"][lang].join(
                f"{row['name'][i]}{CONDITIONS['colon'][lang]}{_ranges(row, lang)}" for row in rfm["segments"]
            ),
            others=rfm["others"][i],
        )
        for i, lang in enumerate(LANGUAGES)
    }


def _scheme_words(rfm: dict, thresholds: dict[str, float], amounts: bool) -> Text:
    """The Chinese scheme (8 classes on R, F and M; 4 on R and F without amounts): its lines and its classes."""
    letters = "rfm" if amounts else "rf"
    lines = _threshold_words(rfm, thresholds, amounts)
    scheme = RULES["scheme" if amounts else "scheme_rf"]
    rows = rfm["segments_zh" if amounts else "segments_zh_rf"]
    levels = {
        "en": [", ".join(f"{x.upper()} {HIGH[row[x]]['en']}" for x in letters) for row in rows],
        "zh": ["，".join(f"{x.upper()}{HIGH[row[x]]['zh']}" for x in letters) for row in rows],
    }
    classes = {
        "en": "; ".join(f"{row['name'][1]} ({row['name'][0]}): {words}" for row, words in zip(rows, levels["en"],
                                                                                             strict=True)),
        "zh": "；".join(f"{row['name'][1]}：{words}" for row, words in zip(rows, levels["zh"], strict=True)),
    }  # fmt: skip
    return {lang: RULES["segments_zh"][lang].format(scheme=scheme[lang], lines=lines[lang], rules=classes[lang])
            for lang in LANGUAGES}  # fmt: skip


def _abc_words(abc: dict, basis: str) -> Text:
    """The ABC classes' rule, ranked by ``basis`` (revenue, margin or orders)."""
    a, b = (float(abc["cuts"][k]) for k in ("A", "B"))
    return {lang: RULES["abc"][lang].format(basis=BASIS_WORDS[basis][lang], a=a, b=b) for lang in LANGUAGES}


def _tier_words(cfg: dict) -> Text:
    """The tier rules in order (English: tier, then its conditions; Chinese: conditions, then the tier)."""
    tiers = cfg["tiers"]["labels"]
    rules = {
        "en": [f"{tiers[t['tier']][0]}: {_condition_words(cfg, t, 'en')}" for t in cfg["tiers"]["rules"]],
        "zh": [f"{_condition_words(cfg, t, 'zh')}：{tiers[t['tier']][1]}" for t in cfg["tiers"]["rules"]],
    }
    return {lang: RULES["tiers"][lang].format(rules=RULES["rule_join"][lang].join(rules[lang])) for lang in LANGUAGES}


def _action_words(cfg: dict) -> Text:
    """The playbook's situations in order, each with its action, then the tier's action."""
    situations = cfg["playbook"]["situations"]
    return {
        lang: RULES["actions"][lang].format(rules=RULES["rule_join"][lang].join(
            f"{_condition_words(cfg, s, lang)}{CONDITIONS['colon'][lang]}{s['action'][i]}" for s in situations))
        for i, lang in enumerate(LANGUAGES)
    }  # fmt: skip


def rule_texts(
    cfg: dict, thresholds: dict[str, float], population_gap: float, amounts: bool = True, abc_basis: str | None = None
) -> dict[str, Text]:
    """Every rule the stage applied, in words: ``{rule: {"en": ..., "zh": ...}}`` for the RFM scores,
    both segment schemes (with the thresholds actually used), ABC, lifecycle, tiers and actions. Without
    amounts (``amounts=False``) the texts say M is left out; ABC ranks by ``abc_basis`` (default: the setting)."""
    rfm = cfg["rfm"]
    return {
        "rfm_scores": _scoring_words(rfm, amounts),
        "rfm_segments": _segment_words(rfm),
        "rfm_segments_zh": _scheme_words(rfm, thresholds, amounts),
        "abc": _abc_words(cfg["abc"], abc_basis or cfg["abc"]["value"]),
        "lifecycle": lifecycle_rule_text(cfg["lifecycle"], population_gap),
        "tiers": _tier_words(cfg),
        "actions": _action_words(cfg),
    }


def result_rules(result: SegmentsResult) -> dict[str, Text]:
    """The rules a run applied, in words (:func:`rule_texts` on the run's settings, thresholds and data)."""
    record = result.record
    return rule_texts(result.settings, result.thresholds, result.population_gap, amounts=record["has_amounts"],
                      abc_basis=record["settings"]["abc_value"])  # fmt: skip


def rules_markdown(result: SegmentsResult, *names: str, lang: str = "en") -> str:
    """The named rules of a run (``rfm_scores``, ``rfm_segments``, ``rfm_segments_zh``, ``abc``, ``lifecycle``,
    ``tiers``, ``actions``) as Markdown paragraphs in ``lang``. The rules are plain text holding the settings'
    names, labels and actions: escaped (:func:`analysis.tables.markdown_text`), they show as written."""
    check_language(lang)
    rules = result_rules(result)
    return "\n\n".join(markdown_text(rules[n][lang]) for n in names)


def summary(result: SegmentsResult, lang: str = "en") -> str:
    """A few plain sentences (Markdown, in ``lang``) on value concentration, tiers and who is slipping away.
    Stages and tiers are looked up by their key, so renaming a label in the config changes no number."""
    check_language(lang)
    t = {key: words[lang] for key, words in SUMMARY.items()}
    record = result.record
    a = result.tables["abc"].loc["A"]
    life, vip = record["lifecycle_by_key"], record["tiers_by_key"]["vip"]
    what = VALUE_WORDS[record["settings"]["abc_value"]][lang]
    lines = [t["abc"].format(a_customers=a["customer_share"], a_value=a["value_share"], what=what)]
    if not record["has_amounts"]:
        lines.append(t["no_amounts"])
    if vip["customers"]:
        lines.append(t["vip"].format(vip=vip["customers"], vip_value=vip["value_share"], what=what))
    new = t["new"].format(new=life["new"]) if life["new"] else ""
    lines.append(t["dormant"].format(dormant=life["dormant"], churned=life["churned"], new=new))
    if record["valuable_slipping"]:
        lines.append(t["slipping"].format(slipping=record["valuable_slipping"]))
    if life["potential"]:
        lines.append(t["potential"].format(potential=life["potential"]))
    return "\n".join(f"- {line}" for line in lines)


def no_attributes(lang: str = "en") -> str:
    """The breakdowns section's sentence when the data has no customer attribute (country, region, ...)."""
    check_language(lang)
    return NO_ATTRIBUTES[lang]
