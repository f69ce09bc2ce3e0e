"""What the CLV page says in words, in English or Chinese: the managers' summary, why a model was chosen,
the page's extra table headers, and the Chinese of the core's English messages (degenerate fits, spend notes).
"""

from __future__ import annotations

import re
from typing import Any

from analysis.clv.likelihoods import MODEL_LABELS
from analysis.i18n import check_language

NO_AMOUNTS = (
    "the input has no amounts: purchases and P(alive) are forecast, but spend per "
    "purchase (Gamma-Gamma) and CLV in currency are not computed"
)


LOG_LIKELIHOOD_NOTE = (
    "log_likelihood: the sum over the customers a model was fitted on of the log-probability of "
    "their frequency, recency and T, time in {unit} (not lifetimes' mean per customer): "
    "comparable across models fitted on the same customers and with published values"
)


# What the page says, per language: sentences (str.format templates), list labels and table headers.
TEXTS = {
    "en": {
        "money": "- Over the next **{months} months**, the {scored:,} customers who have bought are expected to make "
                 "**{purchases:,.0f} repeat purchases** worth **{total:,.0f}** in discounted {value} "
                 "({rate:.1%} a month).",
        "value": {"profit": "profit", "revenue": "revenue"},
        "concentrated": "- Value is concentrated: the top 10% of customers hold **{top:.0%}** of it "
                        "(median customer {median:,.2f}).",
        "no_money": "- **The input has no amounts**, so this page forecasts purchases, not money: over the next "
                    "**{months} months**, the {scored:,} customers who have bought are expected to make "
                    "**{purchases:,.0f} repeat purchases**. Spend per purchase and CLV in currency are not computed.",
        "checked": "- The forecast model ({chosen}) was checked on the past: fitted on purchases up to {cal_end}, "
                   "it predicted {predicted:,.0f} repeat purchases up to {obs_end} against {actual:,.0f} that "
                   "happened ({error:+.1f}%). {reason}.",
        "checked_none": "- The forecast model ({chosen}) was checked on the past: fitted on purchases up to {cal_end}, "
                        "it predicted {predicted:,.2f} repeat purchases up to {obs_end}, and none happened. {reason}.",
        "not_checked_bic": "- **{why}** The forecast model, {chosen}, was chosen by how well it describes all "
                           "purchases up to {as_of} (BIC).",
        "not_checked": "- **{why}** The forecast model, {chosen}, was fitted on all purchases up to {as_of}.",
        "spend_checked": "- Spend, checked the same way: {predicted:,.0f} forecast against {actual:,.0f} spent in "
                         "the holdout ({error:+.1f}%).",
        "intervals": "- Ranges shown per customer are {interval:.0%} intervals from {n} resamples of the customer "
                     "base: they show how sure the model's estimates are, not each customer's chance variation.",
        "not_bought": "- {n:,} listed customers have not bought yet and get no forecast",
        "clv_zero": " (CLV 0).", "stop": ".", "caution": "- Caution: {w}", "item": "- {w}",
        "no_details": "No technical notes on this run's fits.",
        "whole_period": ("{label} on all purchases: ", "{label} on all purchases, with penalty {pen:g}: "),
        "status": {"fitted": "fitted", "degenerate": "degenerate", "failed": "failed"},
        "chosen": "**Chosen:** {reason}.", "left_out": "- **{label} left out:** {reason}.", "note": "- {note}.",
        "spend": {"method": "method", "params": "params", "population_mean_spend": "population mean spend",
                  "frequency_spend_correlation": "frequency spend correlation", "repeat_buyers": "repeat buyers",
                  "free_repeat_buyers": "free repeat buyers", "warnings": "warnings", "notes": "notes"},
        "methods": {}, "list": "; ", "colon": ": ",
    },
    "zh": {
        "money": "- 未来 **{months} 个月**内，已购买过的 {scored:,} 位客户预计将重复购买 **{purchases:,.0f} 次**，"
                 "折现后的{value}合计 **{total:,.0f}**（每月折现率 {rate:.1%}）。",
        "value": {"profit": "利润", "revenue": "收入"},
        "concentrated": "- 价值高度集中：前 10% 的客户占其中 **{top:.0%}**（客户价值中位数 {median:,.2f}）。",
        "no_money": "- **输入数据没有金额**，因此本页只预测购买次数，不预测金额：未来 **{months} 个月**内，已购买过的 "
                    "{scored:,} 位客户预计将重复购买 **{purchases:,.0f} 次**。不计算每次消费金额和以货币计的 CLV。",
        "checked": "- 预测模型（{chosen}）已用历史数据检验：用截至 {cal_end} 的购买拟合后，它预测到 {obs_end} 为止有 "
                   "{predicted:,.0f} 次重复购买，实际发生 {actual:,.0f} 次（误差 {error:+.1f}%）。{reason}。",
        "checked_none": "- 预测模型（{chosen}）已用历史数据检验：用截至 {cal_end} 的购买拟合后，"
                        "它预测到 {obs_end} 为止有 "
                        "{predicted:,.2f} 次重复购买，实际一次也没有发生。{reason}。",
        "not_checked_bic": "- **{why}** 预测模型 {chosen} 是按对截至 {as_of} 的全部购买的描述程度（BIC）选出的。",
        "not_checked": "- **{why}** 预测模型 {chosen} 用截至 {as_of} 的全部购买拟合。",
        "spend_checked": "- 消费金额也同样检验：验证期预测 {predicted:,.0f}，实际消费 {actual:,.0f}"
                         "（误差 {error:+.1f}%）。",
        "intervals": "- 每位客户的范围是对客户群 {n} 次重抽样得到的 {interval:.0%} 区间：它说明模型估计有多可靠，"
                     "而不是单个客户购买的偶然波动。",
        "not_bought": "- 名单中有 {n:,} 位客户尚未购买，没有预测",
        "clv_zero": "（CLV 为 0）。", "stop": "。", "caution": "- 注意：{w}", "item": "- {w}",
        "no_details": "本次拟合没有技术说明。",
        "whole_period": ("{label}（全部购买）：", "{label}（全部购买，惩罚 {pen:g}）："),
        "status": {"fitted": "已拟合", "degenerate": "退化", "failed": "失败"},
        "chosen": "**选定模型**：{reason}。", "left_out": "- **{label} 未参与选择**：{reason}。", "note": "- {note}。",
        "spend": {"method": "方法", "params": "参数", "population_mean_spend": "总体平均每次消费",
                  "frequency_spend_correlation": "购买频次与每次消费的相关系数", "repeat_buyers": "重复购买客户数",
                  "free_repeat_buyers": "重复购买全部免费的客户数", "warnings": "警告", "notes": "说明"},
        "methods": {"gamma-gamma": "Gamma-Gamma", "gamma-gamma (penalized)": "Gamma-Gamma（带惩罚）",
                    "mean": "观测平均值", "none": "无"},
        "list": "；", "colon": "：",
        "only": "{label} 是唯一配置的模型（无法回测）",
        "refit": "{label} 是能在全部数据上重新拟合的最佳模型",
        "best": "按验证期的{what}，{label} 最好（{value:.4g}{others}）",
        "what": {"rmse": "每位客户 RMSE", "mae": "每位客户 MAE", "spearman": "Spearman 秩相关",
                 "total_error": "总数误差"},
    },
}  # fmt: skip

# Sentences the stage makes when it falls back or declines, each written once per language (str.format
# templates): :func:`texts` fills both.
NOTICES = {
    "not_backtested": {"en": "not backtested: too little history before {date}",
                       "zh": "未回测：{date} 之前的历史太短"},
    "not_refitted": {"en": "the backtested models could not be refitted on all purchases up to {date}",
                     "zh": "回测过的模型无法在截至 {date} 的全部购买上重新拟合"},
    "bic": {"en": "{label} has the lowest BIC on all purchases up to {as_of} ({value:,.6g}{others})",
            "zh": "在截至 {as_of} 的全部购买上，{label} 的 BIC 最低（{value:,.6g}{others}）"},
    "penalized": {"en": "no purchase model could be fitted on these data without help, so all were refitted with a "
                        "small penalty ({penalizer:g}) that keeps their parameters finite",
                  "zh": "没有任何购买模型能在这些数据上直接拟合，因此都用一个小惩罚（{penalizer:g}）重新拟合，"
                        "使参数保持有限"},
    "no_dropout": {"en": "no dropout seen yet: no customer has visibly stopped buying, so NBD (no dropout) "
                         "forecasts from each customer's purchase rate alone, and everyone counts as still active",
                   "zh": "尚未看到流失：没有客户明显停止购买，因此用 NBD（无流失）只按每位客户的购买频率预测，"
                         "所有客户都视为仍活跃"},
    "no_dropout_unfitted": {"en": "no model of customers leaving could be fitted on these data, even with a small "
                                  "penalty, so NBD (no dropout) forecasts from each customer's purchase rate alone and "
                                  "everyone counts as still active: purchases of customers who have left are "
                                  "overstated",
                            "zh": "即使加上小惩罚，也无法在这些数据上拟合任何客户流失模型，因此用 NBD（无流失）只按"
                                  "每位客户的购买频率预测，所有客户都视为仍活跃：已流失客户的购买会被高估"},
    "one_rate": {"en": "as far as the data can tell, all customers buy at one common rate: about {per_year:,.3g} "
                       "purchases a year each (all repeat purchases divided by all the time observed)",
                 "zh": "就数据所见，所有客户的购买频率相同：每人每年约 {per_year:,.3g} 次"
                       "（全部重复购买次数除以全部观察时间）"},
    "poisson_detail": {"en": "NBD fit at its Poisson limit (the gamma shape r grows without bound: customers' purchase "
                             "rates cannot be told apart): rate = {rate:.6g} repeat purchases per {unit}",
                       "zh": "NBD 拟合取泊松极限（伽马形状参数 r 无限增大：无法区分客户的购买率）："
                             "购买率 = 每{unit_zh} "
                             "{rate:.6g} 次重复购买"},
    "nbd_detail": {"en": "NBD fit: r = {r:.6g}, alpha = {alpha:.6g} ({unit}); the best dropout model's "
                         "log-likelihood is {gain:+.3g} above it (at most {limit:g} counts as no dropout)",
                   "zh": "NBD 拟合：r = {r:.6g}，alpha = {alpha:.6g}（{unit_zh}）；最好的流失模型的对数似然比它高 "
                         "{gain:+.3g}（不超过 {limit:g} 即视为无流失）"},
    "late_as_of": {"en": "The as-of date {as_of} is {years:.1f} years after the last purchase in the data ({last}): "
                         "check that it is the date you meant; the forecast counts the time in between as time "
                         "without purchases.",
                   "zh": "分析日期 {as_of} 比数据中最后一次购买（{last}）晚 {years:.1f} 年：请确认这是您想要的日期；"
                         "预测把中间这段时间都视为没有购买。"},
    "no_dropout_chart": {"en": "Every customer counts as still active (P(active) = 1): nobody has been seen to drop "
                               "out, so the forecast model has no dropout.",
                         "zh": "所有客户都视为仍活跃（仍活跃概率 = 1）：尚未看到任何客户流失，因此预测模型不含流失。"},
    "see_details": {"en": "Technical notes on the model fits are in Details at the end of this page.",
                    "zh": "模型拟合的技术说明见本页末尾的“技术细节”。"},
    "decline_no_purchases": {"en": "No customer has a purchase up to the as-of date {as_of}, so there is nothing to "
                                   "forecast lifetime value from.",
                             "zh": "截至分析日期 {as_of} 没有任何客户购买，因此无从预测客户终身价值。"},
    "decline_one_day": {"en": "All purchases fall on one day ({day}): repeat buying cannot be seen yet, so customer "
                              "lifetime value cannot be forecast.",
                        "zh": "所有购买都发生在同一天（{day}）：还看不到重复购买，因此无法预测客户终身价值。"},
    "decline_short": {"en": "The data cover only {days} days ({first} to {as_of}): too short a history to forecast "
                            "repeat buying; a lifetime value forecast needs at least {min_days} days.",
                      "zh": "数据只覆盖 {days} 天（{first} 至 {as_of}）：历史太短，无法预测重复购买；"
                            "客户终身价值预测至少需要 {min_days} 天。"},
    "decline_nobody_twice": {"en": "None of the {n:,} customers has bought on a second day yet, so there is no repeat "
                                   "buying to forecast lifetime value from.",
                             "zh": "{n:,} 位客户中还没有人在第二天再次购买，因此没有可用来预测终身价值的重复购买。"},
    "decline_unfitted": {"en": "No purchase model could be fitted on these data, not even the purchase process "
                               "alone, so customer lifetime value cannot be forecast.",
                         "zh": "在这些数据上无法拟合任何购买模型，连单纯的购买过程模型也不行，"
                               "因此无法预测客户终身价值。"},
}  # fmt: skip

UNIT_ZH = {"weeks": "周", "W": "周", "days": "天", "D": "天"}

# The captions of the backtest's charts, shown only where there was a backtest to draw.
CAPTIONS = {
    "tracking": {"en": "**Tracking.** Cumulative repeat purchases week by week. Left of the grey line the models saw "
                       "the data; right of it they forecast. A good model follows the black line in the holdout.",
                 "zh": "**跟踪。** 逐周累计的重复购买次数。灰线左侧是模型拟合时看到的数据，右侧是它们的预测。"
                       "好的模型在验证期紧跟黑线。"},
    "conditional": {"en": "**Conditional expectation.** Customers grouped by how often they bought in the calibration "
                          "period: what they bought in the holdout period, on average, against the forecast.",
                    "zh": "**条件期望。** 按校准期购买次数把客户分组：每组在验证期的平均购买次数，对比模型的预测。"},
}  # fmt: skip


def caption(name: str, lang: str = "en") -> str:
    """The Markdown caption of the backtest chart ``name`` (tracking, conditional) in ``lang``."""
    return CAPTIONS[name][lang]


def texts(key: str, **values: Any) -> dict[str, str]:
    """The :data:`NOTICES` sentence ``key`` filled with ``values``, ``{"en": ..., "zh": ...}``."""
    return {lang: template.format(**values) for lang, template in NOTICES[key].items()}


# Headers of the tables this page shows, beside the shared ones of analysis.i18n.HEADERS.
HEADERS = {
    "model": ("Model", "模型"), "parameter": ("Parameter", "参数"),
    "mae": ("MAE", "MAE"), "rmse": ("RMSE", "RMSE"), "spearman": ("Spearman", "Spearman 秩相关"),
    "total_actual": ("Actual purchases", "实际购买次数"), "total_predicted": ("Forecast purchases", "预测购买次数"),
    "total_error_pct": ("Error of the total %", "总数误差 %"),
    "spend_mae": ("Spend MAE", "消费 MAE"), "spend_rmse": ("Spend RMSE", "消费 RMSE"),
    "spend_total_actual": ("Actual spend", "实际消费"), "spend_total_predicted": ("Forecast spend", "预测消费"),
    "spend_total_error_pct": ("Spend error of the total %", "消费总额误差 %"),
    "penalizer": ("Penalty", "惩罚"), "log_likelihood": ("Log-likelihood", "对数似然"),
    "n_params": ("Parameters", "参数个数"), "bic": ("BIC", "BIC"),
    "status": ("Fit", "拟合"),
    "rank": ("Rank", "排名"), "estimate": ("Estimate", "估计值"), "low": ("Low", "下限"), "high": ("High", "上限"),
}  # fmt: skip

# The package's machine-made English messages (fit problems, spend-model notes) in Chinese: a pattern and its
# template; each matched part is translated in turn. A message no pattern knows is shown as it is.
MESSAGES_ZH = [
    (r"(.+); (.+) left out of the choice", "{0}；{1} 未参与选择"),
    (r"the data cannot tell apart (.+): the (.+) fit runs to the edge of its parameter space \((\w+) grows "
     r"without bound, as if all customers were alike in this\)",
     "数据无法区分{0}：{1} 的拟合到达参数空间的边界（{2} 无限增大，仿佛所有客户在这方面都一样）"),
    (r"the (.+) fit runs to the edge of its parameter space \((.+)\)", "{0} 的拟合到达参数空间的边界（{1}）"),
    (r"the (.+) fit gave no finite parameters and log-likelihood", "{0} 的拟合没有得到有限的参数和对数似然"),
    (r"the optimiser stopped after (\d+) steps: (.+)", "优化器在 {0} 步后停止：{1}"),
    (r"frequency and spend per purchase are correlated \(r = (.+)\); Gamma-Gamma assumes they are "
     r"independent, so spend forecasts may be biased",
     "购买频次与每次消费金额相关（r = {0}）；Gamma-Gamma 假设二者独立，消费预测可能有偏差"),
    (r"fewer than two repeat buyers: .*", "重复购买客户少于两位：每次消费金额取观测平均值，而不是 Gamma-Gamma 模型"),
    (r"Gamma-Gamma did not converge; refitted with penalty (.+)", "Gamma-Gamma 未收敛；已用惩罚 {0} 重新拟合"),
    (r"Gamma-Gamma could not be fitted .*population mean (.+)",
     "Gamma-Gamma 无法拟合（客户之间每次消费金额差异太小）；每位客户的预期每次消费都取总体平均值 {0}"),
    (r"(.+) repeat buyers whose repeat purchases were all free .*",
     "{0} 位客户的重复购买全部免费（金额为零），未纳入消费模型拟合（Gamma-Gamma 需要正的平均消费）；"
     "他们的预期每次消费仍由拟合的模型给出"),
    (r"the input has no amounts: .*",
     "输入数据没有金额：只预测购买次数和仍活跃概率，不计算每次消费金额和以货币计的 CLV"),
    (r"(.+) could not be refitted on all data up to (\S+): (.+)", "{0} 无法在截至 {1} 的全部数据上重新拟合：{2}"),
    (r"(\d+) customers with purchases are not in the customer table", "{0} 位有购买记录的客户不在客户表中"),
    (r"no backtest: (.+)", "无法回测：{0}"),
    (r"(BG/NBD|Pareto/NBD|MBG/NBD): (.+)", "{0}：{1}"),
    (r"customers' purchase rates", "客户的购买率"),
    (r"customers' dropout (?:rates|probabilities)", "客户的流失倾向"),
]  # fmt: skip


def localize_message(message: str, lang: str) -> str:
    """A message of the stage (a warning, a note, why a model was left out) in ``lang``."""
    if check_language(lang) == 0:
        return message
    for pattern, template in MESSAGES_ZH:
        found = re.fullmatch(pattern, message.strip())
        if found:
            return template.format(*(localize_message(g, lang) for g in found.groups()))
    return message


def choice_reason(report: dict[str, Any], lang: str = "en") -> str:
    """Why the report's model was chosen, in ``lang`` (the report keeps the English sentence)."""
    if check_language(lang) == 0:
        return report["choice_reason"]
    if report.get("choice_reason_zh"):  # a choice without a backtest: said in both languages where it is made
        return report["choice_reason_zh"]
    t = TEXTS[lang]
    chosen = report["chosen_model"]
    label = MODEL_LABELS[chosen]
    if not report.get("backtest"):
        return t["only"].format(label=label)
    by = report["backtest"].get("choose_by", "rmse")
    column = "total_error_pct" if by == "total_error" else by
    sign = {"spearman": -1.0}.get(by, 1.0)
    scores = {m: e["backtest"][column] for m, e in report["models"].items() if e.get("backtest")}
    best = min(scores, key=lambda m: abs(scores[m]) if by == "total_error" else sign * scores[m])
    if best != chosen:
        return t["refit"].format(label=label)
    others = "、".join(f"{MODEL_LABELS[m]} {v:.4g}" for m, v in scores.items() if m != best)
    return t["best"].format(label=label, what=t["what"][by], value=scores[best], others=f"；{others}" if others else "")


def manager_summary(report: dict[str, Any], lang: str = "en") -> str:
    """A few plain sentences (Markdown) for a manager, in ``lang``, from a ``clv.json`` report."""
    check_language(lang)
    t = TEXTS[lang]
    c = report["clv"]
    amounts = report.get("amounts", True)
    size = {"months": c["horizon_months"], "scored": c["customers_scored"], "purchases": c["total_expected_purchases"]}
    if amounts:
        value = t["value"]["profit" if c.get("margin") else "revenue"]
        lines = [
            t["money"].format(**size, total=c["total_clv"], value=value, rate=c["discount_rate_monthly"]),
            t["concentrated"].format(top=c["top_decile_share"], median=c["median_clv"]),
        ]
    else:
        lines = [t["no_money"].format(**size)]
    lines += _checked_lines(report, lang)
    if c.get("bootstrap_resamples") and amounts:
        lines.append(t["intervals"].format(interval=c["interval"], n=c["bootstrap_resamples"]))
    if c.get("customers_without_purchase"):
        end = t["clv_zero"] if amounts else t["stop"]
        lines.append(t["not_bought"].format(n=c["customers_without_purchase"]) + end)
    lines += [t["item"].format(w=n[lang]) for n in report.get("notices", [])]
    if technical_notes(report, lang):
        lines.append(t["item"].format(w=NOTICES["see_details"][lang]))
    return "\n".join(lines)


def _sentence(text: str, lang: str) -> str:
    """``text`` as a sentence of its own: a capital first letter and a full stop."""
    return text[:1].upper() + text[1:] + "." if lang == "en" else text + "。"


def _checked_lines(report: dict[str, Any], lang: str) -> list[str]:
    """How the forecast model was checked: against the backtest's holdout, or, without a backtest, why not and
    what the whole-period choice says (a penalty, no dropout seen, one common rate)."""
    t = TEXTS[lang]
    chosen = report["chosen_model"]
    label = report.get("chosen_label_zh" if lang == "zh" else "chosen_label") or MODEL_LABELS.get(chosen, chosen)
    selection = report.get("selection")
    if selection:
        why = selection["not_backtested"][lang]
        key = "not_checked_bic" if selection["kind"] in ("bic", "penalized") else "not_checked"
        lines = [t[key].format(chosen=label, why=_sentence(why, lang), as_of=report["as_of"])]
        return lines + [t["item"].format(w=_sentence(n[lang], lang)) for n in selection.get("notes", [])]
    bt, m = report.get("backtest"), report["models"].get(chosen, {}).get("backtest")
    if not bt or not m:
        return []
    values = {"chosen": label, "cal_end": bt["calibration_end"], "obs_end": bt["observation_end"],
              "predicted": m["total_predicted"], "actual": m["total_actual"], "error": m["total_error_pct"],
              "reason": choice_reason(report, lang)}  # fmt: skip
    lines = [t["checked" if m.get("total_error_pct") is not None else "checked_none"].format(**values)]
    if m.get("spend_total_error_pct") is not None:
        lines.append(
            t["spend_checked"].format(
                predicted=m["spend_total_predicted"], actual=m["spend_total_actual"], error=m["spend_total_error_pct"]
            )
        )
    return lines


def technical_notes(report: dict[str, Any], lang: str = "en") -> list[str]:
    """The technical cautions of a ``clv.json`` report in ``lang``: degenerate fits, parameter values,
    spend-model notes (the report's warnings), and the details of a whole-period choice."""
    notes = [localize_message(w, lang) for w in report.get("warnings", [])]
    selection = report.get("selection") or {}
    notes += [d[lang] for d in selection.get("details", [])]
    for fit in (selection.get("fits") or {}).values():
        if fit.get("reason"):
            where = TEXTS[lang]["whole_period"][bool(fit["penalizer"])].format(label=fit["label"], pen=fit["penalizer"])
            notes.append(f"{where}{localize_message(fit['reason'], lang)}")
    return notes


def details_markdown(report: dict[str, Any], lang: str = "en") -> str:
    """The technical cautions (:func:`technical_notes`) as a Markdown list for the page's Details section."""
    check_language(lang)
    t, notes = TEXTS[lang], technical_notes(report, lang)
    return "\n".join(t["item"].format(w=n) for n in notes) if notes else t["no_details"]
