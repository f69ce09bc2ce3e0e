"""The churn page's words on the choice of scorer: which one scores customers and how it compares with the best
baseline on the later cut-off, in English and Chinese."""

from __future__ import annotations

import pandas as pd

from analysis.churn import evaluate
from analysis.churn.models import MODEL_LABELS, MODEL_LABELS_ZH

METRIC_NAMES = {"roc_auc": "ROC-AUC", "pr_auc": "PR-AUC", "brier": "Brier score", "log_loss": "log loss"}
METRIC_NAMES_ZH = {"roc_auc": "ROC-AUC", "pr_auc": "PR-AUC", "brier": "Brier 分数", "log_loss": "对数损失"}
BETTER = {
    "roc_auc": ("higher is better", "越高越好"),
    "pr_auc": ("higher is better", "越高越好"),
    "brier": ("lower is better", "越低越好"),
    "log_loss": ("lower is better", "越低越好"),
}


def choice_sentence(table: pd.DataFrame, chosen: str, by: str) -> dict[str, str]:
    """Which scorer is used and how it compares with the best baseline, in words (EN, ZH)."""
    scored = table[table[by].notna()]
    base, models = scored[scored["kind"] == "baseline"], scored[scored["kind"] == "model"]
    if base.empty or models.empty:
        return {"en": f"{MODEL_LABELS[chosen]} scores customers.", "zh": f"由{MODEL_LABELS_ZH[chosen]}为客户评分。"}
    best_base, best_model = evaluate.choose(base, by), evaluate.choose(models, by)
    name, name_zh, (better, better_zh) = METRIC_NAMES[by], METRIC_NAMES_ZH[by], BETTER[by]
    m, b = models.loc[best_model], base.loc[best_base]
    auc = f"ROC-AUC {m['roc_auc']:.3f} against {b['roc_auc']:.3f}"
    auc_zh = f"ROC-AUC {m['roc_auc']:.3f} 对 {b['roc_auc']:.3f}"
    if table.loc[chosen, "kind"] == "model":
        en = (
            f"{MODEL_LABELS[best_model]} beat the best baseline ({MODEL_LABELS[best_base].lower()}) on the later "
            f"cut-off: {name} {m[by]:.3f} against {b[by]:.3f} ({better}; the choice is made on it), {auc}. "
            "It scores customers."
        )
        zh = (
            f"{MODEL_LABELS_ZH[best_model]}在较晚的检验日期上优于最好的基准（{MODEL_LABELS_ZH[best_base]}）："
            f"{name_zh} {m[by]:.3f} 对 {b[by]:.3f}（{better_zh}，据此选择），{auc_zh}。由它为客户评分。"
        )
    else:
        en = (
            f"No model beat the best baseline ({MODEL_LABELS[best_base].lower()}) on the later cut-off: {name} "
            f"{b[by]:.3f} against {m[by]:.3f} for the best model ({better}); ROC-AUC {b['roc_auc']:.3f} against "
            f"{m['roc_auc']:.3f}. "
            "The baseline scores customers."
        )
        zh = (
            f"没有模型优于最好的基准（{MODEL_LABELS_ZH[best_base]}）：{name_zh} 基准 {b[by]:.3f}，"
            f"最好的模型 {m[by]:.3f}（{better_zh}）。由该基准为客户评分。"
        )
    return {"en": en, "zh": zh}
