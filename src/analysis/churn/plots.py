"""Charts for the churn page, in English or Chinese. Each takes data from :mod:`analysis.churn`, ``ax=None`` and
``lang`` (``en`` / ``zh``), draws one figure and returns the Axes. Titles say what the chart means to a manager;
all texts are in :data:`TEXTS`, the features' names in :data:`FEATURES`."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from analysis.churn.models import MODEL_LABELS, MODEL_LABELS_ZH
from analysis.i18n import check_language
from analysis.plotting import new_axes as _axes
from analysis.plotting import thousands as _thousands

# The leak-free features (analysis.churn.features) as people say them: (English, Chinese).
FEATURES: dict[str, tuple[str, str]] = {
    "recency_days": ("days since the last purchase", "距上次购买天数"),
    "tenure_days": ("days since the first purchase", "距首次购买天数"),
    "purchase_days": ("purchase days", "购买天数"),
    "orders": ("orders", "订单数"),
    "total_spend": ("total spend", "累计消费"),
    "avg_order_value": ("average order value", "平均订单金额"),
    "avg_day_spend": ("average spend per purchase day", "每个购买日平均消费"),
    "mean_gap_days": ("average gap between purchases (days)", "平均购买间隔（天）"),
    "gap_std_days": ("variation of the gaps between purchases", "购买间隔的波动"),
    "max_gap_days": ("longest gap between purchases (days)", "最长购买间隔（天）"),
    "last_gap_days": ("last gap between purchases (days)", "最近一次购买间隔（天）"),
    "recency_gap_ratio": ("days since last purchase / own average gap", "距上次购买天数 / 平均间隔"),
    "recency_max_gap_ratio": ("days since last purchase / own longest gap", "距上次购买天数 / 最长间隔"),
    "purchases_last": ("purchase days, last window", "最近一段时间的购买天数"),
    "purchases_prev": ("purchase days, window before", "前一段时间的购买天数"),
    "spend_last": ("spend, last window", "最近一段时间的消费"),
    "spend_prev": ("spend, window before", "前一段时间的消费"),
    "purchases_trend": ("trend of purchase days", "购买天数趋势"),
    "spend_trend": ("trend of spend", "消费趋势"),
    "p_alive": ("P(active), purchase model", "仍活跃概率（购买模型）"),
    "expected_purchases": ("expected purchases, purchase model", "预期购买次数（购买模型）"),
    "return_share": ("share of value returned", "退货金额占比"),
}
ATTRIBUTES = {"country": "国家", "region": "地区", "industry": "行业", "customer_type": "客户类型", "size": "规模"}

TEXTS = {
    "en": {
        "auc_x": "ROC-AUC on the later cut-off (0.5 = guessing, 1 = perfect); blue = model, grey = baseline",
        "auc_title": "How well each scorer ranks who will stop buying",
        "calibrated": "perfectly calibrated",
        "bin_size": "customers in bin (size)",
        "predicted": "predicted churn probability",
        "observed": "share that actually churned",
        "reliability_title": "Can the probabilities be taken at face value?",
        "by_risk": "by churn risk",
        "random": "random order",
        "lift": "lift {lift:.1f}x",
        "gains_x": "customers contacted, riskiest first",
        "gains_y": "share of all churners reached",
        "gains_title": "Calling the riskiest customers first reaches most leavers early",
        "importance_x": "drop in ROC-AUC when the feature is shuffled",
        "importance_title": "What the churn model relies on",
        "band_customers": "{n:,} customers",
        "value_at_risk": "value at risk",
        "bands_title": "Where the value at risk sits, by risk band",
    },
    "zh": {
        "auc_x": "较晚检验日期上的 ROC-AUC（0.5 = 随机猜测，1 = 完美）；蓝色 = 模型，灰色 = 基准",
        "auc_title": "各评分方法区分流失客户的能力",
        "calibrated": "完全校准",
        "bin_size": "该区间客户数（点的大小）",
        "predicted": "预测流失概率",
        "observed": "实际流失比例",
        "reliability_title": "预测概率是否可信？",
        "by_risk": "按流失风险排序",
        "random": "随机顺序",
        "lift": "提升 {lift:.1f} 倍",
        "gains_x": "已联系客户占比（风险最高者优先）",
        "gains_y": "覆盖全部流失客户的比例",
        "gains_title": "优先联系高风险客户，能尽早覆盖大部分流失客户",
        "importance_x": "打乱该特征后 ROC-AUC 的下降",
        "importance_title": "流失模型主要依据哪些因素",
        "band_customers": "{n:,} 位客户",
        "value_at_risk": "风险价值",
        "bands_title": "风险价值在各风险等级中的分布",
    },
}  # fmt: skip


def feature_label(feature: str, lang: str = "en") -> str:
    """A churn feature's name for people in ``lang``; an attribute indicator ``attr_country=DE`` reads
    ``country = DE`` (国家 = DE)."""
    i = check_language(lang)
    if feature in FEATURES:
        return FEATURES[feature][i]
    if feature.startswith("attr_") and "=" in feature:
        column, value = feature[5:].split("=", 1)
        name = ATTRIBUTES.get(column, column) if i else column.replace("_", " ")
        return f"{name} = {value}"
    return feature


def plot_auc_comparison(metrics: pd.DataFrame, ax: Axes | None = None, lang: str = "en") -> Axes:
    """ROC-AUC of every model and baseline on the evaluation cut-off, with bootstrap intervals."""
    t, names = TEXTS[lang], (MODEL_LABELS, MODEL_LABELS_ZH)[check_language(lang)]
    ax = _axes(ax, (8, 0.6 * len(metrics) + 1.5))
    table = metrics[metrics["roc_auc"].notna()].sort_values("roc_auc")  # scorers that could not be fitted: none
    y = np.arange(len(table))
    auc = table["roc_auc"].to_numpy(float)
    err = np.vstack([auc - table["roc_auc_low"].to_numpy(float), table["roc_auc_high"].to_numpy(float) - auc])
    colors = ["#4c72b0" if k == "model" else "#999999" for k in table["kind"]]
    ax.barh(y, auc, color=colors, xerr=None if np.isnan(err).all() else np.nan_to_num(err), capsize=3)
    right = np.fmax(auc, table["roc_auc_high"].to_numpy(float))
    for i, (v, r) in enumerate(zip(auc, right, strict=True)):
        ax.text(r + 0.008, i, f"{v:.3f}", va="center")
    ax.set_yticks(y, [names.get(n, n) for n in table.index])
    low = np.nanmin(np.fmin(auc, table["roc_auc_low"].to_numpy(float))) if len(auc) else 0.5
    ax.set_xlim(min(0.5, np.floor(low * 10) / 10), 1.0)  # a scorer worse than guessing stays in view
    ax.set_xlabel(t["auc_x"])
    ax.set_title(t["auc_title"])
    return ax


def plot_reliability(table: pd.DataFrame, ax: Axes | None = None, lang: str = "en") -> Axes:
    """Predicted churn probability against the churn rate that happened, by probability bin."""
    check_language(lang)
    t = TEXTS[lang]
    ax = _axes(ax, (6, 5))
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", label=t["calibrated"])
    size = 30 + 300 * table["customers"] / max(table["customers"].max(), 1)
    ax.scatter(table["predicted"], table["observed"], s=size, color="#4c72b0", label=t["bin_size"])
    ax.plot(table["predicted"], table["observed"], color="#4c72b0")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(t["predicted"])
    ax.set_ylabel(t["observed"])
    ax.set_title(t["reliability_title"])
    ax.legend(loc="upper left")
    return ax


def plot_gains(table: pd.DataFrame, ax: Axes | None = None, lang: str = "en") -> Axes:
    """Cumulative share of churners caught when calling customers in order of risk."""
    check_language(lang)
    t = TEXTS[lang]
    ax = _axes(ax, (7, 4.5))
    x = np.concatenate([[0], table["cumulative_customers"].to_numpy(float)])
    g = np.concatenate([[0], table["cumulative_gain"].to_numpy(float)])
    ax.plot(x, g, marker="o", color="#4c72b0", label=t["by_risk"])
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", label=t["random"])
    for xi, gi, lift in zip(x[1:4], g[1:4], table["lift"].head(3), strict=False):
        ax.annotate(t["lift"].format(lift=lift), (xi, gi), textcoords="offset points", xytext=(8, -12))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(t["gains_x"])
    ax.set_ylabel(t["gains_y"])
    ax.set_title(t["gains_title"])
    ax.legend(loc="lower right")
    return ax


def plot_importance(table: pd.DataFrame, n: int = 12, ax: Axes | None = None, lang: str = "en") -> Axes:
    """The features the model relies on most: loss of ROC-AUC when each is shuffled."""
    check_language(lang)
    t = TEXTS[lang]
    top = table.head(n).iloc[::-1]
    ax = _axes(ax, (8, 0.4 * len(top) + 1.5))
    ax.barh(np.arange(len(top)), top["importance"], xerr=top["std"], color="#4c72b0", capsize=2)
    ax.set_yticks(np.arange(len(top)), [feature_label(f, lang) for f in top.index])
    ax.set_xlabel(t["importance_x"])
    ax.set_title(t["importance_title"])
    return ax


def plot_bands(bands: pd.DataFrame, ax: Axes | None = None, lang: str = "en") -> Axes:
    """Customers and value at risk per risk band (the ``bands`` table: ``band`` and ``band_zh`` name them)."""
    i = check_language(lang)
    t = TEXTS[lang]
    ax = _axes(ax, (8, 4.5))
    column = ("band", "band_zh")[i]
    names = [str(v) for v in bands.get(column, bands.index)]
    x = np.arange(len(bands))
    ax.bar(x, bands["value_at_risk"], color=["#c44e52", "#dd8452", "#55a868", "#999999"][: len(bands)])
    for xi, (n, v) in enumerate(zip(bands["customers"], bands["value_at_risk"], strict=True)):
        ax.annotate(t["band_customers"].format(n=n), (xi, v), ha="center", textcoords="offset points", xytext=(0, 4))
    ax.set_xticks(x, names)
    ax.set_ylabel(t["value_at_risk"])
    _thousands(ax)
    ax.set_ylim(0, max(float(bands["value_at_risk"].max()), 1) * 1.15)
    ax.set_title(t["bands_title"])
    return ax
