"""What the CLV page says in words, in English or Chinese: the managers' summary, why a model was chosen, how
spend was modelled, the Details, the charts' captions, and the sentences the stage makes when it falls back or
declines. Every sentence is written once in each language in :data:`TEXTS` (by message id); the functions take
the stage's result (:class:`analysis.clv.stage.ClvResult`). The warnings about the fits are written where the
stage receives them (:mod:`analysis.clv.record`) and arrive here as ``{en, zh}`` texts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from analysis.clv.effects import summary_line
from analysis.clv.likelihoods import MODEL_LABELS
from analysis.clv.nbd import NBD_LABELS, NBD_MODEL
from analysis.i18n import check_language
from analysis.stage import Text, text

if TYPE_CHECKING:
    from analysis.clv.stage import ClvResult

# The purchase models' names for people, in both languages (the record's ``chosen_label``, which the pack's
# pages print). This page, whose tables and charts name the models as the literature does, keeps those names in
# its sentences too (:func:`page_model_name`).
MODEL_NAMES: dict[str, Text] = {
    "bgnbd": text("BG/NBD", "BG/NBD 模型"),
    "pareto": text("Pareto/NBD", "帕累托/NBD 模型"),
    "mbgnbd": text("MBG/NBD", "MBG/NBD 模型"),
    NBD_MODEL: text(NBD_LABELS["en"], NBD_LABELS["zh"]),
    "bgnbd_cov": text("BG/NBD with covariates", "含协变量的 BG/NBD 模型"),
    "pareto_cov": text("Pareto/NBD with covariates", "含协变量的帕累托/NBD 模型"),
    "mbgnbd_cov": text("MBG/NBD with covariates", "含协变量的 MBG/NBD 模型"),
}

# Every sentence of the page and of the stage's fallbacks and declines, by message id: str.format templates in
# each language (a nested dict: a small vocabulary in each language).
TEXTS: dict[str, Any] = {
    "money": {"en": "- Over the next **{months} months**, the {scored:,} customers who have bought are expected to "
                    "make **{purchases:,.0f} repeat purchases** worth **{total:,.0f}** in discounted {value} "
                    "({rate:.1%} a month).",
              "zh": "- 未来 **{months} 个月**内，已购买过的 {scored:,} 位客户预计将重复购买 **{purchases:,.0f} 次**，"
                    "折现后的{value}合计 **{total:,.0f}**（每月折现率 {rate:.1%}）。"},
    "value": {"en": {"profit": "profit", "revenue": "revenue"}, "zh": {"profit": "利润", "revenue": "收入"}},
    "concentrated": {"en": "- Value is concentrated: the top 10% of customers hold **{top:.0%}** of it "
                           "(median customer {median:,.2f}).",
                     "zh": "- 价值高度集中：前 10% 的客户占其中 **{top:.0%}**（客户价值中位数 {median:,.2f}）。"},
    "no_money": {"en": "- **The input has no amounts**, so this page forecasts purchases, not money: over the next "
                       "**{months} months**, the {scored:,} customers who have bought are expected to make "
                       "**{purchases:,.0f} repeat purchases**. Spend per purchase and CLV in currency are not "
                       "computed.",
                 "zh": "- **输入数据没有金额**，因此本页只预测购买次数，不预测金额：未来 **{months} 个月**内，"
                       "已购买过的 {scored:,} 位客户预计将重复购买 **{purchases:,.0f} 次**。"
                       "不计算每次消费金额和以货币计的 CLV。"},
    "checked": {"en": "- The forecast model ({chosen}) was checked on the past: fitted on purchases up to {cal_end}, "
                      "it predicted {predicted:,.0f} repeat purchases up to {obs_end} against {actual:,.0f} that "
                      "happened ({error:+.1f}%). {reason}.",
                "zh": "- 预测模型（{chosen}）已用历史数据检验：用截至 {cal_end} 的购买拟合后，它预测到 {obs_end} "
                      "为止有 {predicted:,.0f} 次重复购买，实际发生 {actual:,.0f} 次"
                      "（误差 {error:+.1f}%）。{reason}。"},
    "checked_none": {"en": "- The forecast model ({chosen}) was checked on the past: fitted on purchases up to "
                           "{cal_end}, it predicted {predicted:,.2f} repeat purchases up to {obs_end}, and none "
                           "happened. {reason}.",
                     "zh": "- 预测模型（{chosen}）已用历史数据检验：用截至 {cal_end} 的购买拟合后，它预测到 {obs_end} "
                           "为止有 {predicted:,.2f} 次重复购买，实际一次也没有发生。{reason}。"},
    "not_checked_bic": {"en": "- **{why}** The forecast model, {chosen}, was chosen by how well it describes all "
                              "purchases up to {as_of} (BIC).",
                        "zh": "- **{why}** 预测模型 {chosen} 是按对截至 {as_of} 的全部购买的描述程度（BIC）选出的。"},
    "not_checked": {"en": "- **{why}** The forecast model, {chosen}, was fitted on all purchases up to {as_of}.",
                    "zh": "- **{why}** 预测模型 {chosen} 用截至 {as_of} 的全部购买拟合。"},
    "spend_checked": {"en": "- Spend, checked the same way: {predicted:,.0f} forecast against {actual:,.0f} spent in "
                            "the holdout ({error:+.1f}%).",
                      "zh": "- 消费金额也同样检验：验证期预测 {predicted:,.0f}，实际消费 {actual:,.0f}"
                            "（误差 {error:+.1f}%）。"},
    "intervals": {"en": "- Ranges shown per customer are {interval:.0%} intervals from {n} resamples of the customer "
                        "base: they show how sure the model's estimates are, not each customer's chance variation.",
                  "zh": "- 每位客户的范围是对客户群 {n} 次重抽样得到的 {interval:.0%} 区间：它说明模型估计有多可靠，"
                        "而不是单个客户购买的偶然波动。"},
    "not_bought": {"en": "- {n:,} listed customers have not bought yet and get no forecast",
                   "zh": "- 名单中有 {n:,} 位客户尚未购买，没有预测"},
    "clv_zero": {"en": " (CLV 0).", "zh": "（CLV 为 0）。"},
    "stop": {"en": ".", "zh": "。"},
    "item": {"en": "- {w}", "zh": "- {w}"},
    "no_details": {"en": "No technical notes on this run's fits.", "zh": "本次拟合没有技术说明。"},
    "whole_period": {"en": "{label} on all purchases: ", "zh": "{label}（全部购买）："},
    "whole_period_penalized": {"en": "{label} on all purchases, with penalty {pen:g}: ",
                               "zh": "{label}（全部购买，惩罚 {pen:g}）："},
    "status": {"en": {"fitted": "fitted", "degenerate": "degenerate", "failed": "failed"},
               "zh": {"fitted": "已拟合", "degenerate": "退化", "failed": "失败"}},
    "chosen": {"en": "**Chosen:** {reason}.", "zh": "**选定模型**：{reason}。"},
    "left_out": {"en": "- **{label} left out:** {reason}.", "zh": "- **{label} 未参与选择**：{reason}。"},
    "note": {"en": "- {note}.", "zh": "- {note}。"},
    "spend": {"en": {"method": "method", "params": "params", "population_mean_spend": "population mean spend",
                     "frequency_spend_correlation": "frequency spend correlation", "repeat_buyers": "repeat buyers",
                     "free_repeat_buyers": "free repeat buyers", "warnings": "warnings", "notes": "notes"},
              "zh": {"method": "方法", "params": "参数", "population_mean_spend": "总体平均每次消费",
                     "frequency_spend_correlation": "购买频次与每次消费的相关系数", "repeat_buyers": "重复购买客户数",
                     "free_repeat_buyers": "重复购买全部免费的客户数", "warnings": "警告", "notes": "说明"}},
    "methods": {"en": {"gamma-gamma": "gamma-gamma", "gamma-gamma (penalized)": "gamma-gamma (penalized)",
                       "mean": "mean", "none": "none"},
                "zh": {"gamma-gamma": "Gamma-Gamma", "gamma-gamma (penalized)": "Gamma-Gamma（带惩罚）",
                       "mean": "观测平均值", "none": "无"}},
    "list": {"en": "; ", "zh": "；"},
    "colon": {"en": ": ", "zh": "："},
    "others": {"en": ", ", "zh": "、"},
    "others_lead": {"en": "; ", "zh": "；"},
    "only": {"en": "{label} is the only configured model (no backtest)", "zh": "{label} 是唯一配置的模型（无法回测）"},
    "refit": {"en": "{label} is the best model that could be refitted on all data",
              "zh": "{label} 是能在全部数据上重新拟合的最佳模型"},
    "best": {"en": "{label} has the best holdout {what} ({value:.4g}{others})",
             "zh": "按验证期的{what}，{label} 最好（{value:.4g}{others}）"},
    "what": {"en": {"rmse": "per-customer RMSE", "mae": "per-customer MAE", "spearman": "Spearman rank correlation",
                    "total_error": "error of the total"},
             "zh": {"rmse": "每位客户 RMSE", "mae": "每位客户 MAE", "spearman": "Spearman 秩相关",
                    "total_error": "总数误差"}},
    "log_likelihood": {"en": "log_likelihood: the sum over the customers a model was fitted on of the log-probability "
                             "of their frequency, recency and T, time in {unit} (not lifetimes' mean per customer): "
                             "comparable across models fitted on the same customers and with published values",
                       "zh": "log_likelihood（对数似然）：模型所拟合的全部客户的频次、最近度和 T 的对数概率之和，"
                             "时间单位为{unit_zh}（不是 lifetimes 的每位客户平均值）："
                             "可在同一批客户上拟合的模型之间比较，也可与已发表的数值比较"},
    "no_amounts": {"en": "the input has no amounts: purchases and P(alive) are forecast, but spend per purchase "
                         "(Gamma-Gamma) and CLV in currency are not computed",
                   "zh": "输入数据没有金额：只预测购买次数和仍活跃概率，不计算每次消费金额和以货币计的 CLV"},
    "not_backtested": {"en": "not backtested: too little history before {date}", "zh": "未回测：{date} 之前的历史太短"},
    "not_refitted": {"en": "the backtested models could not be refitted on all purchases up to {date}",
                     "zh": "回测过的模型无法在截至 {date} 的全部购买上重新拟合"},
    "bic": {"en": "{label} has the lowest BIC on all purchases up to {as_of} ({value:,.6g}{others})",
            "zh": "在截至 {as_of} 的全部购买上，{label} 的 BIC 最低（{value:,.6g}{others}）"},
    "bic_other": {"en": "{label} {value:,.6g}", "zh": "{label} {value:,.6g}"},
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
                             "购买率 = 每{unit_zh} {rate:.6g} 次重复购买"},
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
    # the captions of the backtest's charts, shown only where there was a backtest to draw
    "tracking": {"en": "**Tracking.** Cumulative repeat purchases week by week. Left of the grey line the models saw "
                       "the data; right of it they forecast. A good model follows the black line in the holdout.",
                 "zh": "**跟踪。** 逐周累计的重复购买次数。灰线左侧是模型拟合时看到的数据，右侧是它们的预测。"
                       "好的模型在验证期紧跟黑线。"},
    "conditional": {"en": "**Conditional expectation.** Customers grouped by how often they bought in the calibration "
                          "period: what they bought in the holdout period, on average, against the forecast.",
                    "zh": "**条件期望。** 按校准期购买次数把客户分组：每组在验证期的平均购买次数，对比模型的预测。"},
}  # fmt: skip

UNIT_ZH = {"weeks": "周", "W": "周", "days": "天", "D": "天"}
CAPTIONS = ("tracking", "conditional")


def page_model_name(result: ClvResult, lang: str = "en") -> str:
    """The chosen model as this page names it in ``lang``: as its tables and charts do (BG/NBD, Pareto/NBD,
    MBG/NBD), the NBD with its "no dropout" in ``lang``."""
    check_language(lang)
    model = result.record["chosen_model"]
    return NBD_LABELS[lang] if model == NBD_MODEL else MODEL_LABELS[model]


def fill(catalogue: dict[str, Any], key: str, **values: Any) -> Text:
    """The message ``key`` of ``catalogue`` (by message id, then language) filled with ``values`` in both
    languages; a value that is itself a ``{en, zh}`` text is filled in each language with its own."""

    def pick(value: Any, lang: str) -> Any:
        return value[lang] if isinstance(value, dict) and set(value) == {"en", "zh"} else value

    return {lang: catalogue[key][lang].format(**{k: pick(v, lang) for k, v in values.items()}) for lang in ("en", "zh")}


def texts(key: str, **values: Any) -> Text:
    """The :data:`TEXTS` sentence ``key`` filled with ``values``, ``{"en": ..., "zh": ...}``."""
    return fill(TEXTS, key, **values)


def say(key: str, lang: str, **values: Any) -> str:
    """The :data:`TEXTS` sentence ``key`` in ``lang``, filled with ``values``."""
    check_language(lang)
    return TEXTS[key][lang].format(**values)


def caption(result: ClvResult, name: str, lang: str = "en") -> str:
    """The Markdown caption of the backtest chart ``name`` (tracking, conditional) in ``lang``; empty when the run
    was not backtested (there is no chart to caption)."""
    if name not in CAPTIONS:
        raise ValueError(f"no caption {name!r}: use {' or '.join(CAPTIONS)}")
    return say(name, lang) if result.backtest is not None else ""


def no_dropout_markdown(result: ClvResult, lang: str = "en") -> str:
    """The sentence shown instead of the P(alive) chart when the model has no dropout, in ``lang``; empty when it
    has."""
    return "" if result.dropout else say("item", lang, w=TEXTS["no_dropout_chart"][lang])


def listed(items: list[str]) -> Text:
    """``items`` as the tail of a parenthesis after its first number, in each language ("; a 1, b 2" / "；a 1、b 2");
    empty when there are none."""
    if not items:
        return {"en": "", "zh": ""}
    return {lang: TEXTS["others_lead"][lang] + TEXTS["others"][lang].join(items) for lang in ("en", "zh")}


def best_model_reason(record: dict[str, Any]) -> Text:
    """Why the record's model was chosen, from the backtest's metrics, in both languages: the best holdout score
    of the configured metric, the best that could be refitted on all data, or the only configured model."""
    chosen = record["chosen_model"]
    label = MODEL_LABELS[chosen]
    if not record.get("backtest"):
        return texts("only", label=label)
    by = record["backtest"]["choose_by"]
    column = "total_error_pct" if by == "total_error" else by
    sign = {"spearman": -1.0}.get(by, 1.0)
    scores = {m: e["backtest"][column] for m, e in record["models"].items() if e.get("backtest")}
    best = min(scores, key=lambda m: abs(scores[m]) if by == "total_error" else sign * scores[m])
    if best != chosen:
        return texts("refit", label=label)
    others = listed([f"{MODEL_LABELS[m]} {v:.4g}" for m, v in scores.items() if m != best])
    what = {lang: TEXTS["what"][lang][by] for lang in ("en", "zh")}
    return texts("best", label=label, what=what, value=scores[best], others=others)


def choice_reason(result: ClvResult, lang: str = "en") -> str:
    """Why the run's model was chosen, in ``lang`` (the record's ``choice_reason``, made where it was chosen)."""
    check_language(lang)
    return result.record["choice_reason"][lang]


def choice_markdown(result: ClvResult, lang: str = "en") -> str:
    """The chosen model and why, each model left out and why, and a missing-amounts note, in ``lang``."""
    record = result.record
    lines = [say("chosen", lang, reason=choice_reason(result, lang))]
    for entry in record["models"].values():
        if entry.get("status") == "left out":
            lines.append(say("left_out", lang, label=entry["label"], reason=entry["reason"][lang]))
    if not record["amounts"]:
        lines.append(say("note", lang, note=record["amounts_note"][lang]))
    return "\n".join(lines)


def spend_markdown(result: ClvResult, lang: str = "en") -> str:
    """How spend per purchase was modelled (method, parameters, buyers, notes), as a list a person reads in
    ``lang``: numbers to 4 significant digits, lists as sentences, empty entries left out."""
    check_language(lang)

    def words(value: Any) -> str:
        if isinstance(value, dict):
            if set(value) == {"en", "zh"}:
                return value[lang]
            return ", ".join(f"{k} {words(v)}" for k, v in value.items())
        if isinstance(value, list):
            return TEXTS["list"][lang].join(map(words, value))
        if isinstance(value, float):
            return f"{value:,.4g}"
        return f"{value:,}" if isinstance(value, int) else str(value)

    methods, names = TEXTS["methods"][lang], TEXTS["spend"][lang]
    items = [(k, methods[v] if k == "method" else v) for k, v in result.record["spend_model"].items()]
    shown = [(names[k], v) for k, v in items if v not in (None, [], {}, "")]
    return "\n".join(f"- {k}{TEXTS['colon'][lang]}{words(v)}" for k, v in shown)


def summary(result: ClvResult, lang: str = "en") -> str:
    """A few plain sentences (Markdown) for a manager, in ``lang``: the value (or purchases) forecast, how it was
    checked, the intervals, the customers without a purchase, the notices; the cautions are in the Details."""
    check_language(lang)
    record = result.record
    c = record["clv"]
    size = {"months": c["horizon_months"], "scored": c["customers_scored"], "purchases": c["total_expected_purchases"]}
    if record["amounts"]:
        value = TEXTS["value"][lang]["profit" if c["margin"] else "revenue"]
        lines = [
            say("money", lang, **size, total=c["total_clv"], value=value, rate=c["discount_rate_monthly"]),
            say("concentrated", lang, top=c["top_decile_share"], median=c["median_clv"]),
        ]
    else:
        lines = [say("no_money", lang, **size)]
    lines += checked_lines(result, lang)
    covariates = summary_line(record, lang)
    if covariates:
        lines.append(covariates)
    lines += [say("item", lang, w=w) for w in time_lines(record, lang)]
    if c["bootstrap_resamples"] and record["amounts"]:
        lines.append(say("intervals", lang, interval=c["interval"], n=c["bootstrap_resamples"]))
    if c["customers_without_purchase"]:
        end = TEXTS["clv_zero" if record["amounts"] else "stop"][lang]
        lines.append(say("not_bought", lang, n=c["customers_without_purchase"]) + end)
    lines += [say("item", lang, w=n[lang]) for n in record["notices"]]
    if technical_notes(result, lang):
        lines.append(say("item", lang, w=TEXTS["see_details"][lang]))
    return "\n".join(lines)


def time_lines(record: dict[str, Any], lang: str) -> list[str]:
    """The time axis in the managers' summary (:mod:`analysis.clv.monthly_run`): the next three months from
    today's customers and that it covers them only; what a customer won today is worth. None in a record
    without them."""
    out = []
    quarter = record.get("forecast_quarter")
    if quarter:
        out.append((" " if lang == "en" else "").join([quarter["text"][lang], quarter["scope"][lang]]))
    if record.get("new_customer"):
        out.append(record["new_customer"]["text"][lang])
    return out


def sentence(words: str, lang: str) -> str:
    """``words`` as a sentence of its own: a capital first letter and a full stop."""
    return words[:1].upper() + words[1:] + "." if lang == "en" else words + "。"


def checked_lines(result: ClvResult, lang: str) -> list[str]:
    """How the forecast model was checked: against the backtest's holdout, or, without a backtest, why not and
    what the whole-period choice says (a penalty, no dropout seen, one common rate)."""
    record = result.record
    label = page_model_name(result, lang)
    selection = record.get("selection")
    if selection:
        why = selection["not_backtested"][lang]
        key = "not_checked_bic" if selection["kind"] in ("bic", "penalized") else "not_checked"
        lines = [say(key, lang, chosen=label, why=sentence(why, lang), as_of=record["as_of"])]
        return lines + [say("item", lang, w=sentence(n[lang], lang)) for n in selection["notes"]]
    bt, m = record.get("backtest"), record["models"].get(record["chosen_model"], {}).get("backtest")
    if not bt or not m:
        return []
    values = {"chosen": label, "cal_end": bt["calibration_end"], "obs_end": bt["observation_end"],
              "predicted": m["total_predicted"], "actual": m["total_actual"], "error": m["total_error_pct"],
              "reason": choice_reason(result, lang)}  # fmt: skip
    lines = [say("checked" if m.get("total_error_pct") is not None else "checked_none", lang, **values)]
    if m.get("spend_total_error_pct") is not None:
        spend = {"predicted": m["spend_total_predicted"], "actual": m["spend_total_actual"]}
        lines.append(say("spend_checked", lang, **spend, error=m["spend_total_error_pct"]))
    return lines


def technical_notes(result: ClvResult, lang: str = "en") -> list[str]:
    """The technical cautions of a run in ``lang``: degenerate fits, parameter values, spend-model notes (the
    record's warnings), and the details of a whole-period choice."""
    record = result.record
    notes = [w[lang] for w in record["warnings"]]
    selection = record.get("selection")
    if not selection:
        return notes
    notes += [d[lang] for d in selection["details"]]
    for fit in selection["fits"].values():
        if "reason" in fit:
            key = "whole_period_penalized" if fit["penalizer"] else "whole_period"
            notes.append(say(key, lang, label=fit["label"], pen=fit["penalizer"]) + fit["reason"][lang])
    return notes


def details_markdown(result: ClvResult, lang: str = "en") -> str:
    """The technical cautions (:func:`technical_notes`) as a Markdown list for the page's Details section."""
    check_language(lang)
    notes = technical_notes(result, lang)
    return "\n".join(say("item", lang, w=n) for n in notes) if notes else TEXTS["no_details"][lang]
