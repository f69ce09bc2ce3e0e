"""The churn stage's tables as the page shows them, in English or Chinese: scorers, risk bands and lifecycle
stages named in the page's language, headers from :mod:`analysis.i18n` (with this stage's own in
:data:`HEADERS`), numbers rounded for people. The tables themselves (``ChurnRun.tables``) keep their column
names; only what is shown changes with ``lang``. And the page's words around them: the managers' summary
(:func:`manager_summary`) and the technical details at the end of the page (:func:`details_markdown`)."""

from __future__ import annotations

import pandas as pd

from analysis.churn.models import MODEL_LABELS, MODEL_LABELS_ZH
from analysis.churn.stage import ChurnRun
from analysis.i18n import check_language, localize
from analysis.tables import escaped, left_aligned

# This stage's headers (column -> (English, Chinese)); the shared ones are in analysis.i18n.HEADERS.
HEADERS: dict[str, tuple[str, str]] = {
    "scorer": ("Scorer", "评分方法"),
    "kind": ("Kind", "类型"),
    "roc_auc": ("ROC-AUC", "ROC-AUC"),
    "roc_auc_low": ("ROC-AUC, low end", "ROC-AUC 区间下限"),
    "roc_auc_high": ("ROC-AUC, high end", "ROC-AUC 区间上限"),
    "pr_auc": ("PR-AUC", "PR-AUC"),
    "brier": ("Brier score", "Brier 分数"),
    "log_loss": ("Log loss", "对数损失"),
    "expected_calibration_error": ("Calibration error", "校准误差"),
    "churn_rate": ("Churn rate", "流失率"),
    "mean_predicted": ("Mean predicted risk", "平均预测风险"),
    "note": ("Note", "备注"),
    "decile": ("Risk tenth (1 = riskiest)", "风险十分位（1 = 最高）"),
    "churners": ("Churners", "流失客户数"),
    "mean_score": ("Mean risk", "平均风险"),
    "lift": ("Lift", "提升度"),
    "cumulative_customers": ("Customers contacted, cumulative", "累计联系客户占比"),
    "cumulative_gain": ("Churners reached, cumulative", "累计覆盖流失客户比例"),
    "risk_band_key": ("Risk band", "风险等级"),
    "mean_risk": ("Mean churn risk", "平均流失风险"),
    "churn_reasons": ("Why", "流失原因"),
    "rank": ("Rank", "排名"),
}
KINDS = {"model": ("model", "模型"), "baseline": ("baseline", "基准")}
FORMATS = {"churn_risk": "{:.1%}", "mean_risk": "{:.1%}", "churn_rate": "{:.1%}", "mean_predicted": "{:.1%}",
           "value_at_risk": "{:,.2f}", "customers": "{:,}", "churners": "{:,.0f}", "lift": "{:.2f}",
           "cumulative_customers": "{:.1%}", "cumulative_gain": "{:.1%}"}  # fmt: skip
# Columns shown in one language: the English column, its Chinese twin.
TWINS = ("churn_reasons", "tier", "lifecycle_stage", "recommended_action")
SHORT = ("tier", "lifecycle_stage")  # kept on one line


def page_table(run: ChurnRun, name: str, lang: str = "en"):
    """A table of the page as people read it, in ``lang`` (a pandas ``Styler``; ``None`` when the run has no such
    table): ``metrics`` (scorers named, rounded to 3 decimals), ``gains`` (by tenth of risk), ``bands``,
    ``warning_list`` (reasons, tier, stage and action in ``lang``) or ``lifecycle`` (stages x bands, both
    named). Headers from :data:`HEADERS` and :data:`analysis.i18n.HEADERS`."""
    i = check_language(lang)
    table = run.tables.get(name)
    if table is None:
        return None
    bands = {k: v[i] for k, v in run.labels.get("bands", {}).items()}
    if name == "metrics":
        names = MODEL_LABELS_ZH if i else MODEL_LABELS
        table = table.assign(kind=table["kind"].map(lambda k: KINDS.get(k, (k, k))[i])).rename(index=names)
        table = table.drop(columns=[] if table["note"].astype(bool).any() else ["note"])
    elif name == "gains":
        table = table.set_index("decile")
    elif name == "bands":
        table = table.drop(columns=["band", "band_zh"]).rename(index=bands)
    elif name == "warning_list":
        drop = [f"{c}_zh" if not i else c for c in TWINS if c in table and f"{c}_zh" in table]
        table = table.drop(columns=drop).rename(columns={f"{c}_zh": c for c in TWINS})
        table = table.set_axis(pd.RangeIndex(1, len(table) + 1, name="rank"))
    elif name == "lifecycle":
        stages = {k: v[i] for k, v in run.labels.get("lifecycle", {}).items()}
        table = table.rename(index=stages, columns=bands)
        table.columns.name = HEADERS["risk_band_key"][i]
    shown = localize(table, lang, HEADERS)
    formats = {shown.columns[j]: FORMATS.get(c, "{:.3f}" if pd.api.types.is_float_dtype(table[c]) else "{:,}")
               for j, c in enumerate(table.columns) if pd.api.types.is_numeric_dtype(table[c])}  # fmt: skip
    text = [shown.columns[j] for j, c in enumerate(table.columns) if c in TWINS]
    short = [shown.columns[j] for j, c in enumerate(table.columns) if c in SHORT]
    style = left_aligned(escaped(shown.style.format(formats, na_rep="-", escape="html")), text)
    return style.set_properties(subset=short, **{"white-space": "nowrap"})


SUMMARY = {
    "en": {
        "quality": "- The scores come from {label}. Checked on {when}, they put a customer who stopped buying above "
                   "one who stayed **{auc:.0%}** of the time (50 % would be guessing).",
        "high": "- **{high:,}** customers are at high risk, with **{value:,.0f}** of value at risk; the {size} to call "
                "first hold {listed:,.0f} of it.",
        "prospects": "- {n:,} listed customers have not bought yet and get no churn risk.",
        "details": "- {n:,} technical notes on the models are listed under Details at the end of the page.",
    },
    "zh": {
        "quality": "- 评分来自{label}。在 {when} 的检验中，它有 **{auc:.0%}** 的把握把停止购买的客户排在留存客户之前"
                   "（随机猜测为 50%）。",
        "high": "- 高风险客户 **{high:,}** 位，风险价值合计 **{value:,.0f}**；"
                "优先联系的 {size} 位客户覆盖其中 {listed:,.0f}。",
        "prospects": "- {n:,} 位客户尚未购买，不评估流失风险。",
        "details": "- 关于模型的 {n:,} 条技术说明见本页末尾的“技术细节”。",
    },
}


def manager_summary(run: ChurnRun, lang: str = "en") -> str:
    """A few plain sentences (Markdown) for a manager: the definition, how good the scores are, how many
    customers are at high risk, the value at stake and which list to call first; technical cautions are only
    counted here (:func:`details_markdown` lists them)."""
    r, t = run.report, SUMMARY[lang]
    w, s = r["warning_list"], r["scorers"][r["chosen_scorer"]]
    high = int((r["bands"]["counts"].get("high") or {}).get("customers", 0))
    label = s["label_zh"] if lang == "zh" else s["label"].lower()
    lines = [
        f"- {r['definition'][lang]}",
        t["quality"].format(label=label, when=r["cutoffs"]["evaluation"], auc=s["roc_auc"]),
        t["high"].format(high=high, value=w["high_value_at_risk"], size=w["list_size"], listed=w["list_value_at_risk"]),
    ]
    if r.get("customers_without_purchase"):
        lines.append(t["prospects"].format(n=r["customers_without_purchase"]))
    if r.get("warnings"):
        lines.append(t["details"].format(n=len(r["warnings"])))
    return "\n".join(lines)


DETAILS = {
    "en": {
        "cutoffs": "- Trained on the purchases up to {train}, checked on the {horizon} days after {evaluation}, then "
                   "refitted on {evaluation} to score every customer on {score}; {n_boot} bootstrap resamples for "
                   "the intervals; seed {seed}.",
        "none": "- No technical cautions.",
    },
    "zh": {
        "cutoffs": "- 基于截至 {train} 的购买训练，在 {evaluation} 之后 {horizon} 天上检验，"
                   "再在 {evaluation} 上重新拟合，为 {score} 的每位客户评分；"
                   "区间用 {n_boot} 次自助重抽样；随机种子 {seed}。",
        "none": "- 无技术警示。",
    },
}


def details_markdown(run: ChurnRun, lang: str = "en") -> str:
    """The page's technical details (Markdown): the cut-offs and resamples, how the scorer was chosen (with its
    metrics) and every technical caution (degenerate fits, parameter values, calibration), in ``lang``."""
    r, t = run.report, DETAILS[lang]
    c = r["cutoffs"]
    lines = [t["cutoffs"].format(train=c["train"], evaluation=c["evaluation"], score=c["score"], seed=r["seed"],
                                 horizon=r["horizon_days"], n_boot=r["bootstrap_resamples"]),
             f"- {r['choice'][lang]}"]  # fmt: skip
    lines += [f"- {w[lang]}" for w in r["warnings"]] or [t["none"]]
    return "\n".join(lines)
