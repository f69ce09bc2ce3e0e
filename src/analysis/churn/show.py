"""The churn stage's tables as the page shows them, in English or Chinese (:func:`page_table`): scorers, risk
bands and lifecycle stages named in the page's language, headers from :mod:`analysis.i18n` (with this stage's own
in :data:`HEADERS`), numbers rounded for people. The tables themselves (``ChurnResult.tables``) keep their column
names; only what is shown changes with ``lang``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from analysis.churn.models import MODEL_NAMES
from analysis.i18n import check_language, localize
from analysis.stage import Text
from analysis.tables import escaped, left_aligned

if TYPE_CHECKING:
    from analysis.churn.stage import ChurnResult

# This stage's headers (column -> {en, zh}); the shared ones are in analysis.i18n.HEADERS.
HEADERS: dict[str, Text] = {
    "scorer": {"en": "Scorer", "zh": "评分方法"},
    "kind": {"en": "Kind", "zh": "类型"},
    "roc_auc": {"en": "ROC-AUC", "zh": "ROC-AUC"},
    "roc_auc_low": {"en": "ROC-AUC, low end", "zh": "ROC-AUC 区间下限"},
    "roc_auc_high": {"en": "ROC-AUC, high end", "zh": "ROC-AUC 区间上限"},
    "pr_auc": {"en": "PR-AUC", "zh": "PR-AUC"},
    "brier": {"en": "Brier score", "zh": "Brier 分数"},
    "log_loss": {"en": "Log loss", "zh": "对数损失"},
    "expected_calibration_error": {"en": "Calibration error", "zh": "校准误差"},
    "churn_rate": {"en": "Churn rate", "zh": "流失率"},
    "mean_predicted": {"en": "Mean predicted risk", "zh": "平均预测风险"},
    "note": {"en": "Note", "zh": "备注"},
    "decile": {"en": "Risk tenth (1 = riskiest)", "zh": "风险十分位（1 = 最高）"},
    "churners": {"en": "Churners", "zh": "流失客户数"},
    "mean_score": {"en": "Mean risk", "zh": "平均风险"},
    "lift": {"en": "Lift", "zh": "提升度"},
    "cumulative_customers": {"en": "Customers contacted, cumulative", "zh": "累计联系客户占比"},
    "cumulative_gain": {"en": "Churners reached, cumulative", "zh": "累计覆盖流失客户比例"},
    "risk_band_key": {"en": "Risk band", "zh": "风险等级"},
    "mean_risk": {"en": "Mean churn risk", "zh": "平均流失风险"},
    "churn_reasons": {"en": "Why", "zh": "流失原因"},
    "rank": {"en": "Rank", "zh": "排名"},
}
KINDS: dict[str, Text] = {"model": {"en": "model", "zh": "模型"}, "baseline": {"en": "baseline", "zh": "基准"}}
FORMATS = {"churn_risk": "{:.1%}", "mean_risk": "{:.1%}", "churn_rate": "{:.1%}", "mean_predicted": "{:.1%}",
           "value_at_risk": "{:,.2f}", "customers": "{:,}", "churners": "{:,.0f}", "lift": "{:.2f}",
           "cumulative_customers": "{:.1%}", "cumulative_gain": "{:.1%}"}  # fmt: skip
# Columns shown in one language: the English column, its Chinese twin.
TWINS = ("churn_reasons", "tier", "lifecycle_stage", "recommended_action")
SHORT = ("tier", "lifecycle_stage")  # kept on one line


def _shown(result: ChurnResult, name: str, table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The table ``name`` with its rows and categories named in ``lang`` and only that language's texts."""
    bands = {k: v[lang] for k, v in result.labels["bands"].items()}
    if name == "metrics":
        note = "note_zh" if lang == "zh" else "note"
        names = {n: MODEL_NAMES[n][lang] for n in table.index}
        table = table.assign(kind=table["kind"].map(lambda k: KINDS[k][lang]), note=table[note]).rename(index=names)
        return table.drop(columns=["note_zh"] if table["note"].astype(bool).any() else ["note", "note_zh"])
    if name == "gains":
        return table.set_index("decile")
    if name == "bands":
        return table.drop(columns=["band", "band_zh"]).rename(index=bands)
    if name == "warning_list":
        drop = [f"{c}_zh" if lang == "en" else c for c in TWINS if c in table and f"{c}_zh" in table]
        table = table.drop(columns=drop).rename(columns={f"{c}_zh": c for c in TWINS})
        return table.set_axis(pd.RangeIndex(1, len(table) + 1, name="rank"))
    if name == "lifecycle":
        stages = {k: v[lang] for k, v in result.labels["lifecycle"].items()}
        table = table.rename(index=stages, columns=bands)
        table.columns.name = HEADERS["risk_band_key"][lang]
    return table


def page_table(result: ChurnResult, name: str, lang: str = "en"):
    """A table of the page as people read it, in ``lang`` (a pandas ``Styler``; ``None`` when the result has no
    such table): ``metrics`` (scorers named, rounded to 3 decimals), ``gains`` (by tenth of risk), ``bands``,
    ``warning_list`` (reasons, tier, stage and action in ``lang``) or ``lifecycle`` (stages x bands, both
    named). Headers from :data:`HEADERS` and :data:`analysis.i18n.HEADERS`."""
    check_language(lang)
    if name not in result.tables:
        return None
    table = _shown(result, name, result.tables[name], lang)
    shown = localize(table, lang, HEADERS)
    formats = {shown.columns[j]: FORMATS.get(c, "{:.3f}" if pd.api.types.is_float_dtype(table[c]) else "{:,}")
               for j, c in enumerate(table.columns) if pd.api.types.is_numeric_dtype(table[c])}  # fmt: skip
    text = [shown.columns[j] for j, c in enumerate(table.columns) if c in TWINS]
    short = [shown.columns[j] for j, c in enumerate(table.columns) if c in SHORT]
    style = left_aligned(escaped(shown.style.format(formats, na_rep="-", escape="html")), text)
    return style.set_properties(subset=short, **{"white-space": "nowrap"})
