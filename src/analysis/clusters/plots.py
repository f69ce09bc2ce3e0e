"""Charts for the clustering page. Each takes a table of :class:`~analysis.clusters.stage.ClusterRun` and
``ax=None``, draws one figure and returns the Axes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from analysis.clusters.features import UNITS
from analysis.plotting import new_axes

METRICS = {
    "silhouette": ("silhouette (higher is better)", False),
    "calinski_harabasz": ("Calinski-Harabasz (higher is better)", False),
    "davies_bouldin": ("Davies-Bouldin (lower is better: drawn inverted)", True),
    "spread": ("within-group spread (elbow: drawn inverted)", True),
}


def _label(feature: str) -> str:
    return UNITS.get(feature, (feature,))[0]


def plot_k_selection(table: pd.DataFrame, chosen: int, ax: Axes | None = None) -> Axes:
    """The four criteria for each k, each scaled to 0..1 with 1 = best for that criterion, and the chosen k."""
    ax = new_axes(ax, (8, 4.5))
    if table is None or not len(table):
        ax.text(0.5, 0.5, "k was fixed or the data could not be split: no search", ha="center", va="center")
        ax.set_axis_off()
        return ax
    for (col, (label, invert)), marker in zip(METRICS.items(), "osD^", strict=True):
        v = table[col].to_numpy(dtype=float)
        span = np.nanmax(v) - np.nanmin(v)
        scaled = (v - np.nanmin(v)) / span if span > 0 else np.ones_like(v)
        ax.plot(table.index, 1 - scaled if invert else scaled, marker=marker, label=label)
    ax.axvline(chosen, color="grey", linestyle="--", linewidth=1)
    ax.annotate(f"chosen k = {chosen}", (chosen, 1.02), xycoords=("data", "axes fraction"), ha="center")
    ax.set_xticks(list(table.index))
    ax.set_xlabel("number of groups k")
    ax.set_ylabel("score, scaled (1 = best k for that criterion)")
    ax.set_title("How many groups does the data show? Each criterion's view of k", pad=18)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, frameon=False)
    return ax


def plot_profile_heatmap(scaled_medians: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Each cluster's median on each feature in robust units (0 = the median customer, +-1 = one robust standard
    deviation away, after the log); red = above the typical customer, blue = below."""
    ax = new_axes(ax, (1.4 * scaled_medians.shape[1] + 3.5, 0.55 * len(scaled_medians) + 2))
    values = scaled_medians.to_numpy(dtype=float)
    lim = max(1.0, float(np.nanmax(np.abs(values))))
    image = ax.imshow(values, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    for (i, j), v in np.ndenumerate(values):
        dark = abs(v) > 0.6 * lim
        ax.text(j, i, f"{v:+.1f}", ha="center", va="center", fontsize=8, color="white" if dark else "black")
    ax.set_xticks(range(values.shape[1]), [_label(c).replace(" (", "\n(") for c in scaled_medians.columns],
                  rotation=30, ha="right", fontsize=8)  # fmt: skip
    ax.set_yticks(range(values.shape[0]), list(scaled_medians.index))
    ax.set_title("What sets each group apart: its typical customer against everyone's")
    ax.figure.colorbar(image, ax=ax, label="robust units from the median customer")
    return ax


def plot_snake(snake: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Snake plot: each cluster's mean scaled feature values as a line across the features."""
    ax = new_axes(ax, (9, 4.8))
    x = np.arange(snake.shape[1])
    for name, row in snake.iterrows():
        ax.plot(x, row.to_numpy(dtype=float), marker="o", label=str(name))
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xticks(x, [_label(c).replace(" (", "\n(") for c in snake.columns], rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("mean, robust units (0 = median customer)")
    ax.set_title("Snake plot: how the groups differ feature by feature")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
    return ax


def plot_projection(projection: pd.DataFrame, explained: list[float] | None = None, ax: Axes | None = None) -> Axes:
    """The customers (a sample) on the first two principal components of the scaled features, one colour per
    cluster: overlapping clouds mean groups that blend into each other."""
    ax = new_axes(ax, (8, 6))
    for cluster, part in projection.groupby("cluster", sort=True):
        ax.scatter(part["pc1"], part["pc2"], s=6, alpha=0.5, label=f"{cluster}: {part['name'].iloc[0]}")
    ev = explained or [np.nan, np.nan]
    ax.set_xlabel(f"first principal component ({ev[0]:.0%} of the variation)")
    ax.set_ylabel(f"second principal component ({ev[1]:.0%} of the variation)")
    ax.set_title(f"The groups in two dimensions ({len(projection):,} customers shown)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8, markerscale=3)
    return ax


def plot_overlap(table: pd.DataFrame, title: str, ax: Axes | None = None) -> Axes:
    """A cross-tab of clusters (rows) against another segmentation (columns): each row's shares, with counts."""
    ax = new_axes(ax, (1.0 * table.shape[1] + 4, 0.55 * len(table) + 2))
    shares = table.div(table.sum(axis=1).replace(0, 1), axis=0).to_numpy(dtype=float)
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for (i, j), n in np.ndenumerate(table.to_numpy()):
        if n:
            ax.text(j, i, f"{n:,}", ha="center", va="center", fontsize=7,
                    color="white" if shares[i, j] > 0.6 else "black")  # fmt: skip
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns], rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(table.shape[0]), [str(i) for i in table.index])
    ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, label="share of the group's customers")
    return ax
