"""Charts for the segmentation report, in English or Chinese. Each takes data from :mod:`analysis.segments`,
``ax=None`` and ``lang`` (``en`` / ``zh``), draws one figure and returns the Axes. Their texts are in
:data:`TEXTS` (by message id, each ``{"en": ..., "zh": ...}``); a chart's title is a key of :data:`TITLES`.

Groups are named in the chart's language: a summary table of :func:`analysis.segments.summary_tables` carries
each group's name in the other language (``label_zh`` or ``label_en``), which a chart in that language shows
instead of the index.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from analysis.i18n import check_language
from analysis.plotting import new_axes, thousands

# A chart's title, by key (the keys a caller names, e.g. plot_shares(table, "tiers")).
TITLES = {
    "segments": {"en": "RFM segments: share of customers and of value", "zh": "RFM 细分：客户占比与价值占比"},
    "segments_zh": {"en": "The 8 RFM classes: share of customers and of value", "zh": "八类客户：客户占比与价值占比"},
    "tiers": {"en": "Management tiers: share of customers and of value", "zh": "客户等级：客户占比与价值占比"},
    "clusters": {"en": "Customer groups: share of customers and of value", "zh": "客户群：客户占比与价值占比"},
    "lifecycle": {"en": "Customers by lifecycle stage", "zh": "各生命周期阶段的客户数"},
    "rf_heatmap": {"en": "Customers by recency and frequency, coloured by average spend",
                   "zh": "按最近购买与购买频率划分的客户数（颜色为平均消费）"},
    "pareto": {"en": "How concentrated is customer value? (ABC classes)", "zh": "客户价值有多集中？（ABC 分类）"},
}  # fmt: skip

# The charts' axis labels, legends and notes, by message id.
TEXTS = {
    "share_of_customers": {"en": "share of customers", "zh": "客户占比"},
    "share_of_value": {"en": "share of value", "zh": "价值占比"},
    "customers": {"en": "customers", "zh": "客户数"},
    "recency_score": {"en": "recency score ({top} = bought most recently)", "zh": "R 评分（{top} = 最近购买）"},
    "frequency_score": {"en": "frequency score ({top} = buys most often)", "zh": "F 评分（{top} = 购买最频繁）"},
    "average_spend": {"en": "average spend per customer", "zh": "每位客户的平均消费"},
    "pareto_curve": {"en": "customers, highest value first", "zh": "客户（按价值从高到低）"},
    "equal_value": {"en": "equal value", "zh": "价值平均分布"},
    "cut_off": {"en": "{cls}: {x:.0%} of customers\n{y:.0%} of value",
                "zh": "{cls}类：{x:.0%} 的客户\n贡献 {y:.0%} 的价值"},
}  # fmt: skip


def _words(lang: str) -> dict[str, str]:
    """The charts' texts (:data:`TEXTS`) in ``lang``."""
    check_language(lang)
    return {key: words[lang] for key, words in TEXTS.items()}


def _title(title: str, lang: str) -> str:
    """A title key of :data:`TITLES` in ``lang``; any other text is taken as the title itself."""
    return TITLES[title][lang] if title in TITLES else title


def group_names(table: pd.DataFrame, lang: str = "en") -> list[str]:
    """The names of a summary table's groups in ``lang``: its ``label_zh`` (Chinese) or ``label_en`` (English)
    column when it has one, else its index."""
    other = {"en": "label_en", "zh": "label_zh"}[lang]
    names = table[other] if other in table else table.index.to_series()
    return [str(name) for name in names]


def plot_shares(table: pd.DataFrame, title: str = "segments", ax: Axes | None = None, lang: str = "en") -> Axes:
    """Share of customers and share of value per group (a table of :func:`summary_tables`), groups named in
    ``lang``; ``title`` is a key of :data:`TITLES` (segments, segments_zh, tiers, clusters)."""
    t = _words(lang)
    ax = new_axes(ax, (8, 0.45 * len(table) + 2))
    y = np.arange(len(table))
    ax.barh(y + 0.2, table["customer_share"], height=0.4, label=t["share_of_customers"], color="#4c72b0")
    ax.barh(y - 0.2, table["value_share"], height=0.4, label=t["share_of_value"], color="#dd8452")
    ax.set_yticks(y, group_names(table, lang))
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_title(_title(title, lang))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0), ncol=2, frameon=False, borderaxespad=2)  # below the axis
    return ax


def plot_rf_heatmap(seg: pd.DataFrame, bins: int = 5, ax: Axes | None = None, lang: str = "en") -> Axes:
    """Recency score x frequency score (every score 1..``bins``, empty cells blank): colour = average
    spend (``monetary``), number = customers."""
    t = _words(lang)
    ax = new_axes(ax, (7, 5.5))
    r, f, m = (seg[c].to_numpy(float, na_value=np.nan) for c in ("r_score", "f_score", "monetary"))
    known = ~(np.isnan(r) | np.isnan(f) | np.isnan(m))
    r, f, m = r[known].astype(np.int64), f[known].astype(np.int64), m[known]
    top = max(bins, int(max(r.max(), f.max())) if len(r) else bins)
    levels = range(1, top + 1)
    # each (F, R) cell as one integer, its customers counted and its spend averaged (pandas' compensated mean)
    cell = (top - f) * top + (r - 1)  # rows: F from the top score down; columns: R upwards
    mean = pd.Series(m).groupby(cell).mean().reindex(range(top * top))
    count = pd.Series(np.bincount(cell, minlength=top * top).astype(float)).where(lambda n: n > 0)
    mean = pd.DataFrame(mean.to_numpy().reshape(top, top), index=levels[::-1], columns=levels)
    count = pd.DataFrame(count.to_numpy().reshape(top, top), index=levels[::-1], columns=levels)
    image = ax.imshow(mean.to_numpy(dtype=float), cmap="YlOrRd", aspect="auto")
    dark = image.norm(mean.to_numpy(dtype=float)) > 0.6  # white numbers on the darkest cells
    for (i, j), n in np.ndenumerate(count.to_numpy(dtype=float)):
        if not np.isnan(n):
            ax.text(j, i, f"{n:,.0f}", ha="center", va="center", fontsize=8, color="white" if dark[i, j] else "black")
    ax.set_xticks(range(mean.shape[1]), [str(int(c)) for c in mean.columns])
    ax.set_yticks(range(mean.shape[0]), [str(int(i)) for i in mean.index])
    ax.set_xlabel(t["recency_score"].format(top=levels[-1]))
    ax.set_ylabel(t["frequency_score"].format(top=levels[-1]))
    ax.set_title(TITLES["rf_heatmap"][lang])
    colorbar = ax.figure.colorbar(image, ax=ax, label=t["average_spend"])
    thousands(colorbar.ax)
    return ax


def plot_pareto(curve: pd.DataFrame, abc: pd.DataFrame, ax: Axes | None = None, lang: str = "en") -> Axes:
    """The Pareto (Lorenz) curve of customer value with the A/B/C cut-offs."""
    t = _words(lang)
    ax = new_axes(ax, (7, 5))
    ax.plot(curve["customer_share"], curve["value_share"], color="#4c72b0", label=t["pareto_curve"])
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label=t["equal_value"])
    cumulative_customers = abc["customer_share"].cumsum()
    cumulative_value = abc["value_share"].cumsum()
    for cls in ("A", "B"):
        x, y = cumulative_customers[cls], cumulative_value[cls]
        ax.axvline(x, color="#dd8452", linestyle="--", linewidth=1)
        ax.plot([x], [y], "o", color="#dd8452")
        right = x < 0.75
        ax.annotate(
            t["cut_off"].format(cls=cls, x=x, y=y),
            (x, y),
            xytext=(6 if right else -6, -8),
            textcoords="offset points",
            ha="left" if right else "right",
            va="top",
            fontsize=9,
        )
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(t["share_of_customers"])
    ax.set_ylabel(t["share_of_value"])
    ax.set_title(TITLES["pareto"][lang])
    ax.legend(loc="lower right")
    return ax


def plot_counts(
    table: pd.DataFrame,
    title: str = "lifecycle",
    order: list[str] | None = None,
    ax: Axes | None = None,
    lang: str = "en",
) -> Axes:
    """Customers per group as bars, in ``order`` (of the table's index) when given, groups named in ``lang``;
    ``title`` is a key of :data:`TITLES` (lifecycle)."""
    t = _words(lang)
    ax = new_axes(ax, (7, 4))
    if order:
        table = table.reindex([o for o in order if o in table.index])
    counts = table["customers"]
    bars = ax.bar(group_names(table, lang), counts.to_numpy(), color="#4c72b0")
    ax.bar_label(bars, labels=[f"{v:,.0f}" for v in counts.to_numpy()])
    ax.set_ylabel(t["customers"])
    ax.set_title(_title(title, lang))
    thousands(ax)
    return ax
