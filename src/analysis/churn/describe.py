"""Every sentence of the churn page, in English and Chinese, made from the stage's result
(:class:`~analysis.churn.stage.ChurnResult`): the managers' summary, the choice of scorer and how it compares
with the best baseline, how much value the early-warning list covers and whom to call first, what the lifecycle
stages and the risk bands disagree on, and the technical details at the end of the page.

The templates are in catalogues keyed by message id (``TEXTS``, ``MEANINGS``), each ``{"en": ..., "zh": ...}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis import privacy
from analysis.churn import evaluate
from analysis.churn.models import MODEL_NAMES
from analysis.i18n import check_language
from analysis.stage import Text
from analysis.tables import markdown_text

if TYPE_CHECKING:
    from analysis.churn.stage import ChurnResult

METRIC_NAMES: dict[str, Text] = {
    "roc_auc": {"en": "ROC-AUC", "zh": "ROC-AUC"},
    "pr_auc": {"en": "PR-AUC", "zh": "PR-AUC"},
    "brier": {"en": "Brier score", "zh": "Brier 分数"},
    "log_loss": {"en": "log loss", "zh": "对数损失"},
}
BETTER: dict[str, Text] = {
    "higher": {"en": "higher is better", "zh": "越高越好"},
    "lower": {"en": "lower is better", "zh": "越低越好"},
}

TEXTS: dict[str, Text] = {
    "definition": {
        "en": "A customer counts as churned when they make no purchase in the {horizon} days after a date.",
        "zh": "客户在某日期之后 {horizon} 天内没有任何购买，即视为流失。",
    },
    "quality": {
        "en": "- The scores come from {label}. Checked on {when}, they put a customer who stopped buying above one "
              "who stayed **{auc:.0%}** of the time (50 % would be guessing).",
        "zh": "- 评分来自{label}。在 {when} 的检验中，它有 **{auc:.0%}** 的把握把停止购买的客户排在留存客户之前"
              "（随机猜测为 50%）。",
    },
    "high": {
        "en": "- **{high:,}** customers are at high risk, with **{value:,.0f}** of value at risk; the {size} to call "
              "first hold {listed:,.0f} of it.",
        "zh": "- 高风险客户 **{high:,}** 位，风险价值合计 **{value:,.0f}**；"
              "优先联系的 {size} 位客户覆盖其中 {listed:,.0f}。",
    },
    "prospects": {
        "en": "- {n:,} listed customers have not bought yet and get no churn risk.",
        "zh": "- {n:,} 位客户尚未购买，不评估流失风险。",
    },
    "details": {
        "en": "- {n:,} technical notes on the models are listed under Details at the end of the page.",
        "zh": "- 关于模型的 {n:,} 条技术说明见本页末尾的“技术细节”。",
    },
    "cutoffs": {
        "en": "- Trained on the purchases up to {train}, checked on the {horizon} days after {evaluation}, then "
              "refitted on {evaluation} to score every customer on {score}; {n_boot} bootstrap resamples for the "
              "intervals; seed {seed}.",
        "zh": "- 基于截至 {train} 的购买训练，在 {evaluation} 之后 {horizon} 天上检验，再在 {evaluation} 上重新拟合，"
              "为 {score} 的每位客户评分；区间用 {n_boot} 次自助重抽样；随机种子 {seed}。",
    },
    "no_cautions": {"en": "- No technical cautions.", "zh": "- 无技术警示。"},
    "one_kind": {"en": "{label} scores customers.", "zh": "由{label}为客户评分。"},
    "model_won": {
        "en": "{model} beat the best baseline ({baseline}) on the later cut-off: {metric} {m:.3f} against {b:.3f} "
              "({better}; the choice is made on it), ROC-AUC {m_auc:.3f} against {b_auc:.3f}. It scores customers.",
        "zh": "{model}在较晚的检验日期上优于最好的基准（{baseline}）："
              "{metric} {m:.3f} 对 {b:.3f}（{better}，据此选择），ROC-AUC {m_auc:.3f} 对 {b_auc:.3f}。由它为客户评分。",
    },
    "baseline_won": {
        "en": "No model beat the best baseline ({baseline}) on the later cut-off: {metric} {b:.3f} against {m:.3f} "
              "for the best model ({better}); ROC-AUC {b_auc:.3f} against {m_auc:.3f}. The baseline scores customers.",
        "zh": "在较晚的检验日期上没有模型优于最好的基准（{baseline}）：{metric} 基准 {b:.3f}，最好的模型 {m:.3f}"
              "（{better}）；ROC-AUC 基准 {b_auc:.3f}，最好的模型 {m_auc:.3f}。由该基准为客户评分。",
    },
    "agree": {"en": "_Lifecycle stages and risk bands agree._", "zh": "_生命周期阶段与风险等级一致。_"},
    "disagreement": {
        "en": "- **{stage} x {band}** ({n:,}): {meaning}",
        "zh": "- **{stage} × {band}**（{n:,} 位）：{meaning}",
    },
    "no_amounts": {
        "en": "The input has no amounts, so there is no value at risk: the {list_size} customers below are the "
              "{high_risk_customers:,} high-risk customers' riskiest, ranked by churn risk.",
        "zh": "数据没有金额，因此没有风险价值：下表 {list_size} 位客户是 {high_risk_customers:,} "
              "位高风险客户中风险最高者，按流失风险排序。",
    },
    "coverage": {
        "en": "The {list_size} customers below hold {list_value_at_risk:,.0f} of value at risk, "
              "{list_share_of_total:.1%} of the total; all {high_risk_customers:,} high-risk customers hold "
              "{high_share_of_total:.1%}.",
        "zh": "下表 {list_size} 位客户的风险价值合计 {list_value_at_risk:,.0f}，占全部风险价值的 "
              "{list_share_of_total:.1%}；全部 {high_risk_customers:,} 位高风险客户占 {high_share_of_total:.1%}。",
    },
    "first": {"en": "Call first: {names}.", "zh": "优先联系：{names}。"},
    "who": {"en": "**{who}** ({value})", "zh": "**{who}**（{value}）"},
    "value": {"en": "{v:,.0f} at risk", "zh": "风险价值 {v:,.0f}"},
    "risk": {"en": "risk {v:.0%}", "zh": "风险 {v:.0%}"},
    "sep": {"en": ", ", "zh": "、"},
    "nobody_high": {"en": "No customer is at high risk today.", "zh": "目前没有高风险客户。"},
}  # fmt: skip

# What a disagreement of the lifecycle stage and the risk band means (analysis.churn.warning.DISAGREEMENTS).
MEANINGS: dict[tuple[str, str], Text] = {
    ("churned", "low"): {
        "en": "lifecycle says churned but the model sees low risk: they bought rarely before and may still be on "
              "their usual rhythm; believe the model, check before writing them off",
        "zh": "按生命周期已流失，但模型认为风险低：他们以前就很少购买，可能仍在自己的节奏上；以模型为准，"
              "放弃之前先核实",
    },
    ("dormant", "low"): {
        "en": "lifecycle says dormant but risk is low: a pause the model considers normal for them",
        "zh": "按生命周期已沉睡，但风险低：模型认为这样的停顿对他们来说是正常的",
    },
    ("active", "high"): {
        "en": "lifecycle says active but the model sees high risk: recent buyers whose history (one purchase, "
              "falling spend) says they rarely come back; act now",
        "zh": "按生命周期仍活跃，但模型认为风险高：最近买过，但其历史（只买过一次、消费下降）显示很少回头；请立即行动",
    },
    ("new", "high"): {
        "en": "new customers at high risk: most first-time buyers never return; onboard them now",
        "zh": "高风险的新客户：多数首次购买的客户不会再来；请立即做新客引导",
    },
}  # fmt: skip


def say(key: str, lang: str, **values) -> str:
    """The template ``key`` of :data:`TEXTS` in ``lang``, filled with ``values``."""
    check_language(lang)
    return TEXTS[key][lang].format(**values)


def definition(horizon: int, lang: str = "en") -> str:
    """The churn definition in one sentence."""
    return say("definition", lang, horizon=horizon)


def summary(result: ChurnResult, lang: str = "en") -> str:
    """A few plain sentences (Markdown) for a manager: the definition, how good the scores are, how many
    customers are at high risk, the value at stake and which list to call first; technical cautions are only
    counted here (:func:`details_markdown` lists them)."""
    r = result.record
    w, chosen = r["warning_list"], r["chosen_scorer"]
    high = result.tables["bands"]["customers"]
    name = MODEL_NAMES[chosen][lang]
    lines = [
        f"- {definition(r['horizon_days'], lang)}",
        say("quality", lang, label=name if lang == "zh" else name.lower(), when=r["cutoffs"]["evaluation"],
            auc=r["scorers"][chosen]["roc_auc"]),
        say("high", lang, high=int(high["high"]) if "high" in high else 0, value=w["high_value_at_risk"],
            size=w["list_size"], listed=w["list_value_at_risk"]),
    ]  # fmt: skip
    if r["customers_without_purchase"]:
        lines.append(say("prospects", lang, n=r["customers_without_purchase"]))
    if r["warnings"]:
        lines.append(say("details", lang, n=len(r["warnings"])))
    return "\n".join(lines)


def choice_markdown(result: ChurnResult, lang: str = "en") -> str:
    """Which scorer is used and how it compares with the best baseline on the later cut-off, in words."""
    r = result.record
    table, chosen, by = result.tables["metrics"], r["chosen_scorer"], r["choose_by"]
    scored = table[table[by].notna()]
    base, models = scored[scored["kind"] == "baseline"], scored[scored["kind"] == "model"]
    if base.empty or models.empty:
        return say("one_kind", lang, label=MODEL_NAMES[chosen][lang])
    best_base, best_model = evaluate.choose(base, by), evaluate.choose(models, by)
    m, b = models.loc[best_model], base.loc[best_base]
    baseline = MODEL_NAMES[best_base][lang]
    better = BETTER["higher" if by in ("roc_auc", "pr_auc") else "lower"][lang]
    return say("model_won" if table.loc[chosen, "kind"] == "model" else "baseline_won", lang,
               model=MODEL_NAMES[best_model][lang], baseline=baseline.lower() if lang == "en" else baseline,
               metric=METRIC_NAMES[by][lang], m=m[by], b=b[by], better=better, m_auc=m["roc_auc"],
               b_auc=b["roc_auc"])  # fmt: skip


def details_markdown(result: ChurnResult, lang: str = "en") -> str:
    """The page's technical details (Markdown): the cut-offs and resamples, how the scorer was chosen (with its
    metrics) and every technical caution (degenerate fits, parameter values, calibration), in ``lang``."""
    r = result.record
    c = r["cutoffs"]
    lines = [say("cutoffs", lang, train=c["train"], evaluation=c["evaluation"], score=c["score"], seed=r["seed"],
                 horizon=r["horizon_days"], n_boot=r["bootstrap_resamples"]),
             f"- {choice_markdown(result, lang)}"]  # fmt: skip
    lines += [f"- {w[lang]}" for w in r["warnings"]] or [say("no_cautions", lang)]
    return "\n".join(lines)


def disagreements_markdown(result: ChurnResult, lang: str = "en") -> str:
    """The lifecycle stage x risk band combinations where the two signals disagree, one line each with what it
    means (or a sentence saying they agree), in ``lang``."""
    labels = result.labels
    lines = []
    for d in result.record["disagreements"]:
        stage, band = d["lifecycle_stage"], d["risk_band"]
        lines.append(say("disagreement", lang, stage=markdown_text(labels["lifecycle"][stage][lang]),
                         band=markdown_text(labels["bands"][band][lang]), n=d["customers"],
                         meaning=MEANINGS[stage, band][lang]))  # fmt: skip
    return "\n".join(lines) or say("agree", lang)


def list_markdown(result: ChurnResult, lang: str = "en", mask: bool = False, first: int = 5) -> str:
    """How much value at risk the early-warning list covers (or, without amounts, that the list is ranked by
    churn risk alone), then the ``first`` customers to call by name (their id when the input has no names),
    masked when ``mask`` (:func:`analysis.privacy.for_pages`). Names and ids are the data's: escaped, they show
    as written (:func:`analysis.tables.markdown_text`), never as markup."""
    w, table = result.record["warning_list"], result.tables["warning_list"]
    money = bool(w["total_value_at_risk"])
    text = say("coverage" if money else "no_amounts", lang, **w)
    if not len(table):
        return f"{text}\n\n{say('nobody_high', lang)}"
    shown = privacy.for_pages(table.head(first), mask)
    names = shown["customer_name"] if "customer_name" in shown else pd.Series(np.nan, index=shown.index)
    who = names.where(names.notna() & (names.astype(str).str.strip() != ""), shown["customer_id"])
    values = [say("value", lang, v=v) if money else say("risk", lang, v=r)
              for v, r in zip(shown["value_at_risk"], shown["churn_risk"], strict=True)]  # fmt: skip
    people = TEXTS["sep"][lang].join(say("who", lang, who=markdown_text(n), value=v)
                                     for n, v in zip(who, values, strict=True))  # fmt: skip
    return f"{text}\n\n{say('first', lang, names=people)}"
