"""Charts for the churn page, in English or Chinese. Each takes data from :mod:`analysis.churn`, ``ax=None`` and
``lang`` (``en`` / ``zh``), draws one figure and returns the Axes. Titles say what the chart means to a manager;
all texts are in :data:`TEXTS`, the features' names in :data:`FEATURES`."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from analysis.churn.models import MODEL_NAMES
from analysis.i18n import check_language
from analysis.plotting import new_axes as _axes
from analysis.plotting import thousands as _thousands
from analysis.stage import Text

# The leak-free features (analysis.churn.features) as people say them, each {en, zh}.
FEATURES: dict[str, Text] = {
    "recency_days": {"en": "days since the last purchase", "zh": "距上次购买天数"},
    "tenure_days": {"en": "days since the first purchase", "zh": "距首次购买天数"},
    "purchase_days": {"en": "purchase days", "zh": "购买天数"},
    "orders": {"en": "orders", "zh": "订单数"},
    "total_spend": {"en": "total spend", "zh": "累计消费"},
    "avg_order_value": {"en": "average order value", "zh": "平均订单金额"},
    "avg_day_spend": {"en": "average spend per purchase day", "zh": "每个购买日平均消费"},
    "mean_gap_days": {"en": "average gap between purchases (days)", "zh": "平均购买间隔（天）"},
    "gap_std_days": {"en": "variation of the gaps between purchases", "zh": "购买间隔的波动"},
    "max_gap_days": {"en": "longest gap between purchases (days)", "zh": "最长购买间隔（天）"},
    "last_gap_days": {"en": "last gap between purchases (days)", "zh": "最近一次购买间隔（天）"},
    "recency_gap_ratio": {"en": "days since last purchase / own average gap", "zh": "距上次购买天数 / 平均间隔"},
    "recency_max_gap_ratio": {"en": "days since last purchase / own longest gap", "zh": "距上次购买天数 / 最长间隔"},
    "purchases_last": {"en": "purchase days, last window", "zh": "最近一段时间的购买天数"},
    "purchases_prev": {"en": "purchase days, window before", "zh": "前一段时间的购买天数"},
    "spend_last": {"en": "spend, last window", "zh": "最近一段时间的消费"},
    "spend_prev": {"en": "spend, window before", "zh": "前一段时间的消费"},
    "purchases_trend": {"en": "trend of purchase days", "zh": "购买天数趋势"},
    "spend_trend": {"en": "trend of spend", "zh": "消费趋势"},
    "p_alive": {"en": "P(active), purchase model", "zh": "仍活跃概率（购买模型）"},
    "expected_purchases": {"en": "expected purchases, purchase model", "zh": "预期购买次数（购买模型）"},
    "return_share": {"en": "share of value returned", "zh": "退货金额占比"},
}
# The customer attributes behind the indicator features (attr_<column>=<value>), each {en, zh}.
ATTRIBUTES: dict[str, Text] = {
    "country": {"en": "country", "zh": "国家"},
    "region": {"en": "region", "zh": "地区"},
    "industry": {"en": "industry", "zh": "行业"},
    "customer_type": {"en": "customer type", "zh": "客户类型"},
    "size": {"en": "size", "zh": "规模"},
}

# Every text of the charts, by id, each {en, zh}.
TEXTS: dict[str, Text] = {
    "auc_x": {
        "en": "ROC-AUC on the later cut-off (0.5 = guessing, 1 = perfect); blue = model, grey = baseline",
        "zh": "较晚检验日期上的 ROC-AUC（0.5 = 随机猜测，1 = 完美）；蓝色 = 模型，灰色 = 基准",
    },
    "auc_title": {"en": "How well each scorer ranks who will stop buying", "zh": "各评分方法区分流失客户的能力"},
    "calibrated": {"en": "perfectly calibrated", "zh": "完全校准"},
    "bin_size": {"en": "customers in bin (size)", "zh": "该区间客户数（点的大小）"},
    "predicted": {"en": "predicted churn probability", "zh": "预测流失概率"},
    "observed": {"en": "share that actually churned", "zh": "实际流失比例"},
    "reliability_title": {"en": "Can the probabilities be taken at face value?", "zh": "预测概率是否可信？"},
    "by_risk": {"en": "by churn risk", "zh": "按流失风险排序"},
    "random": {"en": "random order", "zh": "随机顺序"},
    "lift": {"en": "lift {lift:.1f}x", "zh": "提升 {lift:.1f} 倍"},
    "gains_x": {"en": "customers contacted, riskiest first", "zh": "已联系客户占比（风险最高者优先）"},
    "gains_y": {"en": "share of all churners reached", "zh": "覆盖全部流失客户的比例"},
    "gains_title": {
        "en": "Calling the riskiest customers first reaches most leavers early",
        "zh": "优先联系高风险客户，能尽早覆盖大部分流失客户",
    },
    "importance_x": {"en": "drop in ROC-AUC when the feature is shuffled", "zh": "打乱该特征后 ROC-AUC 的下降"},
    "importance_title": {"en": "What the churn model relies on", "zh": "流失模型主要依据哪些因素"},
    "band_customers": {"en": "{n:,} customers", "zh": "{n:,} 位客户"},
    "value_at_risk": {"en": "value at risk", "zh": "风险价值"},
    "bands_title": {"en": "Where the value at risk sits, by risk band", "zh": "风险价值在各风险等级中的分布"},
}  # fmt: skip


def feature_label(feature: str, lang: str = "en") -> str:
    """A churn feature's name for people in ``lang``; an attribute indicator ``attr_country=DE`` reads
    ``country = DE`` (国家 = DE)."""
    check_language(lang)
    if feature in FEATURES:
        return FEATURES[feature][lang]
    if feature.startswith("attr_") and "=" in feature:
        column, value = feature[5:].split("=", 1)
        name = ATTRIBUTES[column][lang] if column in ATTRIBUTES else column.replace("_", " ")
        return f"{name} = {value}"
    return feature


def plot_auc_comparison(metrics: pd.DataFrame, ax: Axes | None = None, lang: str = "en") -> Axes:
    """ROC-AUC of every model and baseline on the evaluation cut-off, with bootstrap intervals."""
    check_language(lang)
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
    ax.set_yticks(y, [MODEL_NAMES[n][lang] for n in table.index])
    low = np.nanmin(np.fmin(auc, table["roc_auc_low"].to_numpy(float))) if len(auc) else 0.5
    ax.set_xlim(min(0.5, np.floor(low * 10) / 10), 1.0)  # a scorer worse than guessing stays in view
    ax.set_xlabel(TEXTS["auc_x"][lang])
    ax.set_title(TEXTS["auc_title"][lang])
    return ax


def plot_reliability(table: pd.DataFrame, ax: Axes | None = None, lang: str = "en") -> Axes:
    """Predicted churn probability against the churn rate that happened, by probability bin."""
    check_language(lang)
    ax = _axes(ax, (6, 5))
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", label=TEXTS["calibrated"][lang])
    size = 30 + 300 * table["customers"] / max(table["customers"].max(), 1)
    ax.scatter(table["predicted"], table["observed"], s=size, color="#4c72b0", label=TEXTS["bin_size"][lang])
    ax.plot(table["predicted"], table["observed"], color="#4c72b0")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(TEXTS["predicted"][lang])
    ax.set_ylabel(TEXTS["observed"][lang])
    ax.set_title(TEXTS["reliability_title"][lang])
    ax.legend(loc="upper left")
    return ax


def plot_gains(table: pd.DataFrame, ax: Axes | None = None, lang: str = "en") -> Axes:
    """Cumulative share of churners caught when calling customers in order of risk."""
    check_language(lang)
    ax = _axes(ax, (7, 4.5))
    x = np.concatenate([[0], table["cumulative_customers"].to_numpy(float)])
    g = np.concatenate([[0], table["cumulative_gain"].to_numpy(float)])
    ax.plot(x, g, marker="o", color="#4c72b0", label=TEXTS["by_risk"][lang])
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", label=TEXTS["random"][lang])
    for xi, gi, lift in zip(x[1:4], g[1:4], table["lift"].head(3), strict=False):
        ax.annotate(TEXTS["lift"][lang].format(lift=lift), (xi, gi), textcoords="offset points", xytext=(8, -12))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(TEXTS["gains_x"][lang])
    ax.set_ylabel(TEXTS["gains_y"][lang])
    ax.set_title(TEXTS["gains_title"][lang])
    ax.legend(loc="lower right")
    return ax


def plot_importance(table: pd.DataFrame, n: int = 12, ax: Axes | None = None, lang: str = "en") -> Axes:
    """The features the model relies on most: loss of ROC-AUC when each is shuffled."""
    check_language(lang)
    top = table.head(n).iloc[::-1]
    ax = _axes(ax, (8, 0.4 * len(top) + 1.5))
    ax.barh(np.arange(len(top)), top["importance"], xerr=top["std"], color="#4c72b0", capsize=2)
    ax.set_yticks(np.arange(len(top)), [feature_label(f, lang) for f in top.index])
    ax.set_xlabel(TEXTS["importance_x"][lang])
    ax.set_title(TEXTS["importance_title"][lang])
    return ax


def plot_bands(bands: pd.DataFrame, ax: Axes | None = None, lang: str = "en") -> Axes:
    """Customers and value at risk per risk band (the ``bands`` table: ``band`` and ``band_zh`` name them)."""
    check_language(lang)
    ax = _axes(ax, (8, 4.5))
    names = [str(v) for v in bands["band_zh" if lang == "zh" else "band"]]
    x = np.arange(len(bands))
    ax.bar(x, bands["value_at_risk"], color=["#c44e52", "#dd8452", "#55a868", "#999999"][: len(bands)])
    for xi, (n, v) in enumerate(zip(bands["customers"], bands["value_at_risk"], strict=True)):
        label = TEXTS["band_customers"][lang].format(n=n)
        ax.annotate(label, (xi, v), ha="center", textcoords="offset points", xytext=(0, 4))
    ax.set_xticks(x, names)
    ax.set_ylabel(TEXTS["value_at_risk"][lang])
    _thousands(ax)
    ax.set_ylim(0, max(float(bands["value_at_risk"].max()), 1) * 1.15)
    ax.set_title(TEXTS["bands_title"][lang])
    return ax
