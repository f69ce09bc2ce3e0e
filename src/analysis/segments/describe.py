"""Every segmentation rule stated in words, English and Chinese, from the same settings that were applied
(both kept in ``segments.json``; the page shows those of its language).
"""

from __future__ import annotations

from analysis.i18n import check_language
from analysis.segments.lifecycle import lifecycle_rule_text
from analysis.tables import markdown_text

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


def _scoring_words(rfm: dict, amounts: bool) -> dict[str, str]:
    """How the R, F and M scores were computed, in words (``en``, ``zh``)."""
    bins = int(rfm["bins"])
    f_en, f_zh = (
        ("distinct purchase days", "购买天数")
        if rfm.get("frequency") == "purchase_days"
        else ("number of orders", "订单数")
    )
    m_en, m_zh = (
        ("spend per purchase day", "每个购买日的消费额")
        if rfm.get("monetary") == "per_purchase_day"
        else ("total spend", "消费总额")
    )
    no_m = (
        "" if amounts else " The data has no amounts, so there is no M score.",
        "" if amounts else "数据没有金额，因此没有M得分。",
    )
    if rfm.get("scoring") == "edges":
        e = rfm["edges"]
        return {
            "en": (
                f"R, F and M scores run from 1 to {bins}, by fixed edges: R (days since the last purchase) "
                f"is {bins} within {e['recency_days'][0]} days and one lower past each of {e['recency_days']} "
                f"days; F ({f_en}) and M ({m_en}) are 1 below the first edge and one higher at each of "
                f"{e['frequency']} and {e['monetary']}. Customers who never bought have no scores." + no_m[0]
            ),
            "zh": (
                f"R、F、M 得分为1到{bins}，按固定分界：距上次购买{e['recency_days'][0]}天内R为{bins}，每超过"
                f"{e['recency_days']}中的一个天数减1；F（{f_zh}）与M（{m_zh}）低于第一个分界为1，每达到"
                f"{e['frequency']}与{e['monetary']}中的一个分界加1。尚未购买的客户没有得分。" + no_m[1]
            ),
        }
    return {
        "en": (f"R, F and M scores run from 1 to {bins}. Customers who bought are ranked by days since their last "
               f"purchase (fewest days = highest R), {f_en} (F) and {m_en} (M) and cut into {bins} "
               "equal-sized groups by rank; equal values share a score, set by the share of customers below "
               f"them. With no spread at all everyone gets the middle score ({(bins + 1) // 2}), except that "
               "when everyone bought once F is 1. Customers who never bought have no scores." + no_m[0]),
        "zh": (f"R、F、M 得分为1到{bins}。按距上次购买的天数（天数越少R越高）、{f_zh}（F）和{m_zh}（M）对已购买"
               f"客户排序，按排名等分为{bins}组；数值相同的客户得分相同，由低于该数值的客户占比决定。若所有客户数值"
               f"相同，则均为中间分（{(bins + 1) // 2}），但所有客户都只购买一次时F为1。尚未购买的客户没有得分。"
               + no_m[1]),
    }  # fmt: skip


def _threshold_words(rfm: dict, thresholds: dict[str, float], amounts: bool) -> dict[str, str]:
    """The Chinese scheme's high/low lines in words (``en``, ``zh``)."""
    how = rfm.get("threshold", "mean")
    how_en = {"fixed": "fixed value"}.get(how, f"buyers' {how}")
    how_zh = {"mean": "已购买客户的均值", "median": "已购买客户的中位数", "fixed": "固定值"}.get(how, how)
    r, f, m = (thresholds[c] for c in ("recency_days", "frequency", "monetary"))
    if rfm.get("threshold_on") == "scores":
        en = f"R, F and M are high when their score is above the {how_en} ({r:,.2f}, {f:,.2f}, {m:,.2f})"
        zh = f"R、F、M 得分高于{how_zh}（{r:,.2f}、{f:,.2f}、{m:,.2f}）为高"
    else:
        en = (
            f"R is high when the days since the last purchase are below the {how_en} ({r:,.1f} days: a recent "
            f"purchase), F high above the {how_en} ({f:,.2f}), M high above the {how_en} ({m:,.2f})"
        )
        zh = (
            f"距上次购买天数低于{how_zh}（{r:,.1f}天）为R高（最近购买过），F高于{how_zh}（{f:,.2f}）为F高，"
            f"M高于{how_zh}（{m:,.2f}）为M高"
        )
    if not amounts:
        en, zh = en.split(", M high")[0], zh.split("，M高")[0]
    return {"en": en + "; a value equal to it counts as low", "zh": zh + "；等于该值算作低"}


def rule_texts(
    cfg: dict, thresholds: dict[str, float], population_gap: float, amounts: bool = True, abc_basis: str | None = None
) -> dict[str, dict[str, str]]:
    """Every rule the stage applied, in words: ``{rule: {"en": ..., "zh": ...}}`` for the RFM scores,
    both segment schemes (with the thresholds actually used), ABC, lifecycle, tiers and actions. Without
    amounts (``amounts=False``) the texts say M is left out; ABC ranks by ``abc_basis`` (default: the setting)."""
    rfm, abc = cfg["rfm"], cfg["abc"]
    basis = abc_basis or abc.get("value", "revenue")
    basis_zh = {"revenue": "收入", "margin": "毛利", "orders": "订单数"}.get(basis, basis)
    a, b = (float(abc["cuts"][k]) for k in ("A", "B"))
    level = {"high": ("high", "高"), "low": ("low", "低")}
    letters = "rfm" if amounts else "rf"
    zh_rows = [
        (
            row["name"],
            "，".join(f"{x.upper()}{level[row[x]][1]}" for x in letters),
            ", ".join(f"{x.upper()} {level[row[x]][0]}" for x in letters),
        )
        for row in rfm["segments_zh" if amounts else "segments_zh_rf"]
    ]
    lines = _threshold_words(rfm, thresholds, amounts)
    scheme = (
        ("Chinese 8-segment scheme", "八类客户")
        if amounts
        else ("Chinese scheme on R and F (no amounts)", "四类客户（仅R、F，数据没有金额）")
    )
    tiers = cfg["tiers"]["labels"]
    tier_rules = cfg["tiers"]["rules"]
    situations = cfg["playbook"]["situations"]
    return {
        "rfm_scores": _scoring_words(rfm, amounts),
        "rfm_segments": {
            "en": ("English named segments: the first matching rule wins. "
                   + "; ".join(f"{row['name'][0]}: {_ranges(row, 0)}" for row in rfm["segments"])
                   + f"; otherwise {rfm['others'][0]}."),
            "zh": ("RFM 命名细分（十一类）：按顺序匹配，第一条满足的规则生效。"
                   + "；".join(f"{row['name'][1]}：{_ranges(row, 1)}" for row in rfm["segments"])
                   + f"；都不满足则为{rfm['others'][1]}。"),
        },
        "rfm_segments_zh": {
            "en": (f"{scheme[0]}: {lines['en']}. "
                   + "; ".join(f"{name[1]} ({name[0]}): {words}" for name, _, words in zh_rows) + "."),
            "zh": (f"{scheme[1]}：{lines['zh']}。" + "；".join(f"{name[1]}：{words}" for name, words, _ in zh_rows)
                   + "。"),
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


def rules_markdown(report: dict, *names: str, lang: str = "en") -> str:
    """The named rules of a run's report as Markdown paragraphs in ``lang`` (``en`` or ``zh``). The rules are
    plain text holding the settings' names, labels and actions: escaped (:func:`analysis.tables.markdown_text`),
    they show as written."""
    check_language(lang)
    return "\n\n".join(markdown_text(report["rules"][n][lang]) for n in names)
