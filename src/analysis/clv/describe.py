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
        "spend_checked": "- Spend, checked the same way: {predicted:,.0f} forecast against {actual:,.0f} spent in "
                         "the holdout ({error:+.1f}%).",
        "intervals": "- Ranges shown per customer are {interval:.0%} intervals from {n} resamples of the customer "
                     "base: they show how sure the model's estimates are, not each customer's chance variation.",
        "not_bought": "- {n:,} listed customers have not bought yet and get no forecast",
        "clv_zero": " (CLV 0).", "stop": ".", "caution": "- Caution: {w}",
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
        "spend_checked": "- 消费金额也同样检验：验证期预测 {predicted:,.0f}，实际消费 {actual:,.0f}"
                         "（误差 {error:+.1f}%）。",
        "intervals": "- 每位客户的范围是对客户群 {n} 次重抽样得到的 {interval:.0%} 区间：它说明模型估计有多可靠，"
                     "而不是单个客户购买的偶然波动。",
        "not_bought": "- 名单中有 {n:,} 位客户尚未购买，没有预测",
        "clv_zero": "（CLV 为 0）。", "stop": "。", "caution": "- 注意：{w}",
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

# Headers of the tables this page shows, beside the shared ones of analysis.i18n.HEADERS.
HEADERS = {
    "model": ("Model", "模型"), "parameter": ("Parameter", "参数"),
    "mae": ("MAE", "MAE"), "rmse": ("RMSE", "RMSE"), "spearman": ("Spearman", "Spearman 秩相关"),
    "total_actual": ("Actual purchases", "实际购买次数"), "total_predicted": ("Forecast purchases", "预测购买次数"),
    "total_error_pct": ("Error of the total %", "总数误差 %"),
    "spend_mae": ("Spend MAE", "消费 MAE"), "spend_rmse": ("Spend RMSE", "消费 RMSE"),
    "spend_total_actual": ("Actual spend", "实际消费"), "spend_total_predicted": ("Forecast spend", "预测消费"),
    "spend_total_error_pct": ("Spend error of the total %", "消费总额误差 %"),
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
    """A few plain sentences (Markdown) for a manager, in ``lang``, from a ``clv_models.json`` report."""
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
    bt = report.get("backtest")
    if bt:
        m = report["models"][report["chosen_model"]]["backtest"]
        lines.append(
            t["checked"].format(
                chosen=MODEL_LABELS[report["chosen_model"]], cal_end=bt["calibration_end"],
                obs_end=bt["observation_end"], predicted=m["total_predicted"], actual=m["total_actual"],
                error=m["total_error_pct"], reason=choice_reason(report, lang),
            )
        )  # fmt: skip
        if m.get("spend_total_error_pct") is not None:
            lines.append(
                t["spend_checked"].format(
                    predicted=m["spend_total_predicted"], actual=m["spend_total_actual"],
                    error=m["spend_total_error_pct"],
                )
            )  # fmt: skip
    if c.get("bootstrap_resamples") and amounts:
        lines.append(t["intervals"].format(interval=c["interval"], n=c["bootstrap_resamples"]))
    if c.get("customers_without_purchase"):
        end = t["clv_zero"] if amounts else t["stop"]
        lines.append(t["not_bought"].format(n=c["customers_without_purchase"]) + end)
    lines += [t["caution"].format(w=localize_message(w, lang)) for w in report.get("warnings", [])]
    return "\n".join(lines)
