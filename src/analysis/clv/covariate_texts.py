"""The {en, zh} sentences of the static covariates (:mod:`analysis.clv.covariates`, the CLV page's effects), by
message id."""

from __future__ import annotations

from analysis.stage import Text, text

TEXTS = {
    "separation": {
        "en": "perfect separation: the coefficient {key} runs to the edge ({value:.3g}), as if its customers never "
        "(or always) bought again; group its levels or leave the covariate out",
        "zh": "完全分离：系数 {key} 趋于边界（{value:.3g}），仿佛这些客户从不（或总是）再次购买；"
        "请合并其水平或去掉该协变量",
    },
    "not_identified": {
        "en": "the covariates' effects cannot be told apart (the Hessian at the optimum is not positive definite)",
        "zh": "无法区分各协变量的作用（最优点的 Hessian 矩阵不是正定的）",
    },
    "base_not_identified": {
        "en": "the model's own parameters ({names}) cannot be identified on these data (the Hessian at the "
        "optimum is not positive definite: e.g. no dropout seen yet), so neither can the covariates' ranges",
        "zh": "这些数据无法确定模型本身的参数（{names}）（最优点的 Hessian 矩阵不是正定的，例如尚未看到流失），"
        "因此也无法给出协变量作用的区间",
    },
    # who the customers of a coefficient are: a level against the reference, or one unit more of a number
    "who_level": {"en": "customers with {column} {level}", "zh": "{column}为 {level} 的客户"},
    "who_number": {"en": "each unit more of {column}", "zh": "{column}每多 1 个单位"},
    "vs": {"en": " (against {reference})", "zh": "（相对于 {reference}）"},
    "buy": {
        "en": "{who}{vs} buy **{ratio:.2f}×** as often ({low:.2f}–{high:.2f})",
        "zh": "{who}{vs}购买频率是 **{ratio:.2f} 倍**（{low:.2f}–{high:.2f}）",
    },
    "stay": {
        "en": "stay active **{ratio:.2f}×** as long ({low:.2f}–{high:.2f})",
        "zh": "保持活跃的时间是 **{ratio:.2f} 倍**（{low:.2f}–{high:.2f}）",
    },
    "stay_bg": {
        "en": "their dropout shapes a and b are **{ratio:.2f}×** ({low:.2f}–{high:.2f}; the average chance of "
        "leaving after a purchase is the same, its spread between customers changes)",
        "zh": "流失形状参数 a、b 是 **{ratio:.2f} 倍**（{low:.2f}–{high:.2f}；每次购买后流失的平均概率不变，"
        "客户之间的差异改变）",
    },
    "and": {"en": " and ", "zh": "，"},
    "effect": {"en": "- {words}.", "zh": "- {words}。"},
    "lr_yes": {
        "en": "Together the covariates describe the customers' buying significantly better than the same model "
        "without them (likelihood-ratio test: {statistic:,.1f} on {df} degrees of freedom, p = {p:.2g}).",
        "zh": "总体而言，加入协变量后对客户购买行为的描述明显优于不含协变量的同一模型"
        "（似然比检验：统计量 {statistic:,.1f}，自由度 {df}，p = {p:.2g}）。",
    },
    "lr_no": {
        "en": "Together the covariates do not describe the customers' buying significantly better than the same "
        "model without them (likelihood-ratio test: {statistic:,.1f} on {df} degrees of freedom, p = {p:.2g}).",
        "zh": "总体而言，加入协变量后对客户购买行为的描述并不明显优于不含协变量的同一模型"
        "（似然比检验：统计量 {statistic:,.1f}，自由度 {df}，p = {p:.2g}）。",
    },
    "penalised": {
        "en": " With a penalty on the coefficients ({penalty:g}) the p-value is only approximate.",
        "zh": " 系数带有惩罚（{penalty:g}），p 值只是近似值。",
    },
    "from_full": {
        "en": "The forecast uses the covariates ({label}, the best on the backtest); the effects below are of its "
        "fit on all purchases, with 95% ranges.",
        "zh": "预测使用了协变量（{label}，回测中最好）；下面的作用来自它在全部购买上的拟合，附 95% 区间。",
    },
    "from_calibration": {
        "en": "The forecast does not use the covariates: the same model without them forecast the backtest's "
        "holdout as well or better. The effects below are of {label} as fitted on the calibration period, with "
        "95% ranges.",
        "zh": "预测没有使用协变量：不含协变量的同一模型在回测验证期的预测同样好或更好。"
        "下面的作用来自 {label} 在校准期的拟合，附 95% 区间。",
    },
    "none_named": {
        "en": "No covariate is named: the models treat every customer as drawn from one population. Name customer "
        "attributes in the settings (`clv.covariates.trans`, `clv.covariates.life`, e.g. `[country]`) to see "
        "whether they change how often customers buy and how long they stay.",
        "zh": "未指定协变量：模型把所有客户视为来自同一总体。在设置中指定客户属性（`clv.covariates.trans`、"
        "`clv.covariates.life`，例如 `[country]`），即可查看它们是否改变客户的购买频率和活跃时长。",
    },
    "no_effects": {
        "en": "The model with covariates could not be fitted, so no effects are told (see the models left out above).",
        "zh": "含协变量的模型无法拟合，因此没有可报告的作用（见上面未参与选择的模型）。",
    },
    "summary": {
        "en": "- Customer attributes: {effect}. {lr}",
        "zh": "- 客户属性：{effect}。{lr}",
    },
    "process": {"en": {"trans": "how often", "life": "how long"}, "zh": {"trans": "购买频率", "life": "活跃时长"}},
    # the effects chart
    "chart_title": {
        "en": "What changes how often customers buy and how long they stay\n(× against the reference level, 95% range)",
        "zh": "哪些属性改变客户的购买频率和活跃时长\n（相对于参照水平的倍数，95% 区间）",
    },
    "chart_x": {"en": "× as much as the reference (1 = no difference)", "zh": "相对于参照水平的倍数（1 = 无差异）"},
    "chart_trans": {"en": "how often they buy", "zh": "购买频率"},
    "chart_life": {"en": "how long they stay", "zh": "活跃时长"},
    "chart_life_bg": {"en": "dropout shapes a, b", "zh": "流失形状参数 a、b"},
}


def covariate_text(message_id: str, **values) -> Text:
    """The message ``message_id`` in both languages, with ``values`` filled in."""
    entry = TEXTS[message_id]
    return text(entry["en"].format(**values), entry["zh"].format(**values))


def say(message_id: str, lang: str, **values) -> str:
    """The message ``message_id`` in ``lang``, with ``values`` filled in."""
    return TEXTS[message_id][lang].format(**values)
