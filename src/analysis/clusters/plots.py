"""Charts for the clustering page, in English or Chinese. Each takes a table of
:class:`~analysis.clusters.stage.ClustersResult` (in the page's language: ``show.page_table(result, name, lang)``),
``ax=None`` and ``lang`` (``en`` / ``zh``), draws one figure and returns the Axes. Their texts are in
:data:`TEXTS`, by message id; features are named by :data:`analysis.clusters.features.UNITS`."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from analysis.clusters.features import UNITS
from analysis.i18n import check_language
from analysis.plotting import new_axes

# Criterion -> drawn inverted (lower is better, or the elbow of the spread)
METRICS = {"silhouette": False, "calinski_harabasz": False, "davies_bouldin": True, "spread": True}

# The charts' texts, by message id, in English and Chinese.
TEXTS = {
    "metric_silhouette": {"en": "silhouette (higher is better)", "zh": "轮廓系数（越高越好）"},
    "metric_calinski_harabasz": {"en": "Calinski-Harabasz (higher is better)", "zh": "CH 指数（越高越好）"},
    "metric_davies_bouldin": {"en": "Davies-Bouldin (lower is better: drawn inverted)",
                              "zh": "DB 指数（越低越好，已倒置）"},
    "metric_spread": {"en": "within-group spread (elbow: drawn inverted)", "zh": "组内离散度（肘部法则，已倒置）"},
    "no_search": {"en": "k was fixed or the data could not be split: no search",
                  "zh": "聚类数由设置指定或数据无法细分：未搜索"},
    "chosen": {"en": "chosen k = {k}", "zh": "选定 k = {k}"},
    "k_x": {"en": "number of groups k", "zh": "分组数 k"},
    "k_y": {"en": "score, scaled (1 = best k for that criterion)", "zh": "得分（缩放后，1 = 该指标下最好的 k）"},
    "k_title": {"en": "How many groups does the data show? Each criterion's view of k",
                "zh": "数据显示几个客户群？各项指标对分组数的评价"},
    "heat_title": {"en": "What sets each group apart: its typical customer against everyone's",
                   "zh": "各组的特点：典型客户与全体客户的差异"},
    "heat_bar": {"en": "robust units from the median customer", "zh": "与中位客户的差距（稳健单位）"},
    "snake_y": {"en": "mean, robust units (0 = median customer)", "zh": "平均值（稳健单位，0 = 中位客户）"},
    "snake_title": {"en": "Snake plot: how the groups differ feature by feature",
                    "zh": "蛇形图：各组在每项特征上的差异"},
    "pc1": {"en": "first principal component ({share:.0%} of the variation)",
            "zh": "第一主成分（解释 {share:.0%} 的差异）"},
    "pc2": {"en": "second principal component ({share:.0%} of the variation)",
            "zh": "第二主成分（解释 {share:.0%} 的差异）"},
    "projection_title": {"en": "The groups in two dimensions ({n:,} customers shown)",
                         "zh": "客户群的二维投影（显示 {n:,} 位客户）"},
    "overlap_bar": {"en": "share of the group's customers", "zh": "占本组客户的比例"},
    "overlap_rfm_segment": {"en": "Groups by RFM segment", "zh": "各客户群的 RFM 细分分布"},
    "overlap_rfm_segment_zh": {"en": "Groups by the 8 RFM classes", "zh": "各客户群的八类客户分布"},
    "overlap_abc_class": {"en": "Groups by value class (ABC)", "zh": "各客户群的价值分类（ABC）分布"},
    "overlap_tier": {"en": "Groups by management tier", "zh": "各客户群的客户等级分布"},
    "overlap_lifecycle_stage": {"en": "Groups by lifecycle stage", "zh": "各客户群的生命周期阶段分布"},
    "no_overlap": {"en": "No rule-based segments in the customer table: run the segments page first",
                   "zh": "客户表中没有规则分类：请先运行客户细分页面"},
}  # fmt: skip


def feature_label(feature: str, lang: str = "en", wrap: bool = False) -> str:
    """A feature's name for people in ``lang`` (:data:`UNITS`); with ``wrap`` its unit note on a second line."""
    check_language(lang)
    text = UNITS[feature][lang]
    return text.replace(" (", "\n(").replace("（", "\n（") if wrap else text


def plot_k_selection(table: pd.DataFrame, chosen: int, ax: Axes | None = None, lang: str = "en") -> Axes:
    """The four criteria for each k, each scaled to 0..1 with 1 = best for that criterion, and the chosen k."""
    check_language(lang)
    ax = new_axes(ax, (8, 4.5))
    if table is None or not len(table):
        ax.text(0.5, 0.5, TEXTS["no_search"][lang], ha="center", va="center")
        ax.set_axis_off()
        return ax
    for (col, invert), marker in zip(METRICS.items(), "osD^", strict=True):
        v = table[col].to_numpy(dtype=float)
        span = np.nanmax(v) - np.nanmin(v)
        scaled = (v - np.nanmin(v)) / span if span > 0 else np.ones_like(v)
        ax.plot(table.index, 1 - scaled if invert else scaled, marker=marker, label=TEXTS[f"metric_{col}"][lang])
    ax.axvline(chosen, color="grey", linestyle="--", linewidth=1)
    ax.annotate(TEXTS["chosen"][lang].format(k=chosen), (chosen, 1.02), xycoords=("data", "axes fraction"), ha="center")
    ax.set_xticks(list(table.index))
    ax.set_xlabel(TEXTS["k_x"][lang])
    ax.set_ylabel(TEXTS["k_y"][lang])
    ax.set_title(TEXTS["k_title"][lang], pad=18)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, frameon=False)
    return ax


def plot_profile_heatmap(scaled_medians: pd.DataFrame, ax: Axes | None = None, lang: str = "en") -> Axes:
    """Each cluster's median on each feature in robust units (0 = the median customer, +-1 = one robust standard
    deviation away, after the log); red = above the typical customer, blue = below."""
    check_language(lang)
    ax = new_axes(ax, (1.4 * scaled_medians.shape[1] + 3.5, 0.55 * len(scaled_medians) + 2))
    values = scaled_medians.to_numpy(dtype=float)
    lim = max(1.0, float(np.nanmax(np.abs(values))))
    image = ax.imshow(values, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    for (i, j), v in np.ndenumerate(values):
        dark = abs(v) > 0.6 * lim
        ax.text(j, i, f"{v:+.1f}", ha="center", va="center", fontsize=8, color="white" if dark else "black")
    ax.set_xticks(range(values.shape[1]), [feature_label(c, lang, wrap=True) for c in scaled_medians.columns],
                  rotation=30, ha="right", fontsize=8)  # fmt: skip
    ax.set_yticks(range(values.shape[0]), [str(i) for i in scaled_medians.index])
    ax.set_title(TEXTS["heat_title"][lang])
    ax.figure.colorbar(image, ax=ax, label=TEXTS["heat_bar"][lang])
    return ax


def plot_snake(snake: pd.DataFrame, ax: Axes | None = None, lang: str = "en") -> Axes:
    """Snake plot: each cluster's mean scaled feature values as a line across the features."""
    check_language(lang)
    ax = new_axes(ax, (9, 4.8))
    x = np.arange(snake.shape[1])
    for name, row in snake.iterrows():
        ax.plot(x, row.to_numpy(dtype=float), marker="o", label=str(name))
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xticks(x, [feature_label(c, lang, wrap=True) for c in snake.columns], rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(TEXTS["snake_y"][lang])
    ax.set_title(TEXTS["snake_title"][lang])
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
    return ax


def plot_projection(
    projection: pd.DataFrame, explained: list[float] | None = None, ax: Axes | None = None, lang: str = "en"
) -> Axes:
    """The customers (a sample) on the first two principal components of the scaled features, one colour per
    cluster: overlapping clouds mean groups that blend into each other."""
    check_language(lang)
    ax = new_axes(ax, (8, 6))
    for cluster, part in projection.groupby("cluster", sort=True):
        ax.scatter(part["pc1"], part["pc2"], s=6, alpha=0.5, label=f"{cluster}: {part['name'].iloc[0]}")
    ev = explained or [np.nan, np.nan]
    ax.set_xlabel(TEXTS["pc1"][lang].format(share=ev[0]))
    ax.set_ylabel(TEXTS["pc2"][lang].format(share=ev[1]))
    ax.set_title(TEXTS["projection_title"][lang].format(n=len(projection)))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8, markerscale=3)
    return ax


def plot_overlap(table: pd.DataFrame, column: str, ax: Axes | None = None, lang: str = "en") -> Axes:
    """A cross-tab of clusters (rows) against another segmentation (columns; ``column``, the customer table's
    column it comes from, names the chart): each row's shares, with counts."""
    check_language(lang)
    ax = new_axes(ax, (1.0 * table.shape[1] + 4, 0.55 * len(table) + 2))
    shares = table.div(table.sum(axis=1).replace(0, 1), axis=0).to_numpy(dtype=float)
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for (i, j), n in np.ndenumerate(table.to_numpy()):
        if n:
            ax.text(j, i, f"{n:,}", ha="center", va="center", fontsize=7,
                    color="white" if shares[i, j] > 0.6 else "black")  # fmt: skip
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns], rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(table.shape[0]), [str(i) for i in table.index])
    ax.set_title(TEXTS[f"overlap_{column}"][lang])
    ax.figure.colorbar(image, ax=ax, label=TEXTS["overlap_bar"][lang])
    return ax


def plot_overlaps(tables: dict[str, pd.DataFrame], lang: str = "en") -> list[Axes]:
    """Every cross-tab of ``tables`` (by the customer table's column, classes named in ``lang``:
    ``show.overlaps(result, lang)``) as :func:`plot_overlap`, one figure each; without rule-based segments one
    figure that says so."""
    check_language(lang)
    if not tables:
        ax = new_axes(None, (8, 1))
        ax.text(0.5, 0.5, TEXTS["no_overlap"][lang], ha="center", va="center")
        ax.set_axis_off()
        return [ax]
    return [plot_overlap(table, column, lang=lang) for column, table in tables.items()]
