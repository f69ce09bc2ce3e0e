"""Charts for the churn page. Each takes data from :mod:`analysis.churn` and ``ax=None``, draws one figure and
returns the Axes. Titles say what the chart means to a manager."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from analysis.churn.models import MODEL_LABELS
from analysis.plotting import new_axes as _axes
from analysis.plotting import thousands as _thousands


def plot_auc_comparison(metrics: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """ROC-AUC of every model and baseline on the evaluation cut-off, with bootstrap intervals."""
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
    ax.set_yticks(y, [MODEL_LABELS.get(n, n) for n in table.index])
    ax.set_xlim(0.5, 1.0)
    ax.set_xlabel("ROC-AUC on the later cut-off (0.5 = guessing, 1 = perfect); blue = model, grey = baseline")
    ax.set_title("How well each scorer ranks who will stop buying")
    return ax


def plot_reliability(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Predicted churn probability against the churn rate that happened, by probability bin."""
    ax = _axes(ax, (6, 5))
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", label="perfectly calibrated")
    size = 30 + 300 * table["customers"] / max(table["customers"].max(), 1)
    ax.scatter(table["predicted"], table["observed"], s=size, color="#4c72b0", label="customers in bin (size)")
    ax.plot(table["predicted"], table["observed"], color="#4c72b0")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("predicted churn probability")
    ax.set_ylabel("share that actually churned")
    ax.set_title("Can the probabilities be taken at face value?")
    ax.legend(loc="upper left")
    return ax


def plot_gains(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Cumulative share of churners caught when calling customers in order of risk."""
    ax = _axes(ax, (7, 4.5))
    x = np.concatenate([[0], table["cumulative_customers"].to_numpy(float)])
    g = np.concatenate([[0], table["cumulative_gain"].to_numpy(float)])
    ax.plot(x, g, marker="o", color="#4c72b0", label="by churn risk")
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", label="random order")
    for xi, gi, lift in zip(x[1:4], g[1:4], table["lift"].head(3), strict=False):
        ax.annotate(f"lift {lift:.1f}x", (xi, gi), textcoords="offset points", xytext=(8, -12))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("customers contacted, riskiest first")
    ax.set_ylabel("share of all churners reached")
    ax.set_title("Calling the riskiest customers first reaches most leavers early")
    ax.legend(loc="lower right")
    return ax


def plot_importance(table: pd.DataFrame, n: int = 12, ax: Axes | None = None) -> Axes:
    """The features the model relies on most: loss of ROC-AUC when each is shuffled."""
    top = table.head(n).iloc[::-1]
    ax = _axes(ax, (8, 0.4 * len(top) + 1.5))
    ax.barh(np.arange(len(top)), top["importance"], xerr=top["std"], color="#4c72b0", capsize=2)
    ax.set_yticks(np.arange(len(top)), top.index)
    ax.set_xlabel("drop in ROC-AUC when the feature is shuffled")
    ax.set_title("What the churn model relies on")
    return ax


def plot_bands(bands: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Customers and value at risk per risk band."""
    ax = _axes(ax, (8, 4.5))
    names = [f"{k} / {zh}" for k, zh in zip(bands.index, bands["band_zh"], strict=True)]
    x = np.arange(len(bands))
    ax.bar(x, bands["value_at_risk"], color=["#c44e52", "#dd8452", "#55a868", "#999999"][: len(bands)])
    for xi, (n, v) in enumerate(zip(bands["customers"], bands["value_at_risk"], strict=True)):
        ax.annotate(f"{n:,} customers", (xi, v), ha="center", textcoords="offset points", xytext=(0, 4))
    ax.set_xticks(x, names)
    ax.set_ylabel("value at risk")
    _thousands(ax)
    ax.set_ylim(0, max(float(bands["value_at_risk"].max()), 1) * 1.15)
    ax.set_title("Where the value at risk sits, by risk band / 各风险等级的风险价值")
    return ax
