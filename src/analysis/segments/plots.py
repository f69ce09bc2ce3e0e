"""Charts for the segmentation report. Each takes data from :mod:`analysis.segments` and ``ax=None``,
draws one figure and returns the Axes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from analysis.plotting import new_axes, thousands


def plot_shares(table: pd.DataFrame, title: str, ax: Axes | None = None) -> Axes:
    """Share of customers and share of value per group (a table of :func:`summary_tables`)."""
    ax = new_axes(ax, (8, 0.45 * len(table) + 2))
    y = np.arange(len(table))
    ax.barh(y + 0.2, table["customer_share"], height=0.4, label="share of customers", color="#4c72b0")
    ax.barh(y - 0.2, table["value_share"], height=0.4, label="share of value", color="#dd8452")
    ax.set_yticks(y, [str(i) for i in table.index])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0), ncol=2, frameon=False, borderaxespad=2)  # below the axis
    return ax


def plot_rf_heatmap(seg: pd.DataFrame, bins: int = 5, ax: Axes | None = None) -> Axes:
    """Recency score x frequency score (every score 1..``bins``, empty cells blank): colour = average
    spend (``monetary``), number = customers."""
    ax = new_axes(ax, (7, 5.5))
    frame = pd.DataFrame({"r": seg["r_score"], "f": seg["f_score"], "m": seg["monetary"]}).dropna()
    levels = range(1, max(bins, int(frame[["r", "f"]].max().max()) if len(frame) else bins) + 1)
    mean = frame.pivot_table(index="f", columns="r", values="m", aggfunc="mean")
    mean = mean.reindex(index=levels[::-1], columns=levels)
    count = frame.pivot_table(index="f", columns="r", values="m", aggfunc="size").reindex_like(mean)
    image = ax.imshow(mean.to_numpy(dtype=float), cmap="YlOrRd", aspect="auto")
    for (i, j), n in np.ndenumerate(count.to_numpy(dtype=float)):
        if not np.isnan(n):
            ax.text(j, i, f"{n:,.0f}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(mean.shape[1]), [str(int(c)) for c in mean.columns])
    ax.set_yticks(range(mean.shape[0]), [str(int(i)) for i in mean.index])
    ax.set_xlabel(f"recency score ({levels[-1]} = bought most recently)")
    ax.set_ylabel(f"frequency score ({levels[-1]} = buys most often)")
    ax.set_title("Customers by recency and frequency, coloured by average spend")
    ax.figure.colorbar(image, ax=ax, label="average spend per customer")
    return ax


def plot_pareto(curve: pd.DataFrame, abc: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """The Pareto (Lorenz) curve of customer value with the A/B/C cut-offs."""
    ax = new_axes(ax, (7, 5))
    ax.plot(curve["customer_share"], curve["value_share"], color="#4c72b0", label="customers, highest value first")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="equal value")
    cumulative_customers = abc["customer_share"].cumsum()
    cumulative_value = abc["value_share"].cumsum()
    for cls in ("A", "B"):
        x, y = cumulative_customers[cls], cumulative_value[cls]
        ax.axvline(x, color="#dd8452", linestyle="--", linewidth=1)
        ax.plot([x], [y], "o", color="#dd8452")
        right = x < 0.75
        ax.annotate(
            f"{cls}: {x:.0%} of customers\n{y:.0%} of value",
            (x, y),
            xytext=(6 if right else -6, -8),
            textcoords="offset points",
            ha="left" if right else "right",
            va="top",
            fontsize=9,
        )
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of customers")
    ax.set_ylabel("share of value")
    ax.set_title("How concentrated is customer value? (ABC classes)")
    ax.legend(loc="lower right")
    return ax


def plot_counts(table: pd.DataFrame, title: str, order: list[str] | None = None, ax: Axes | None = None) -> Axes:
    """Customers per group as bars, in ``order`` when given."""
    ax = new_axes(ax, (7, 4))
    counts = table["customers"]
    if order:
        counts = counts.reindex([o for o in order if o in counts.index])
    bars = ax.bar([str(i) for i in counts.index], counts.to_numpy(), color="#4c72b0")
    ax.bar_label(bars, labels=[f"{v:,.0f}" for v in counts.to_numpy()])
    ax.set_ylabel("customers")
    ax.set_title(title)
    thousands(ax)
    return ax
