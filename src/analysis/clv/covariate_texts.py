"""The {en, zh} sentences of the static covariates (:mod:`analysis.clv.covariates`), by message id."""

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
}


def covariate_text(message_id: str, **values) -> Text:
    """The message ``message_id`` in both languages, with ``values`` filled in."""
    entry = TEXTS[message_id]
    return text(entry["en"].format(**values), entry["zh"].format(**values))
