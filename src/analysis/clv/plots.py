"""Charts for the CLV report. Each takes data from :mod:`analysis.clv` and ``ax=None``, draws one
figure and returns the Axes. Titles and labels say what the chart means to a business reader."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from analysis.plotting import new_axes as _axes
from analysis.plotting import thousands as _thousands

MODEL_LABELS = {"bgnbd": "BG/NBD", "pareto": "Pareto/NBD", "mbgnbd": "MBG/NBD"}
MODEL_STYLES = {"bgnbd": "--", "pareto": "-.", "mbgnbd": ":"}


def plot_repeat_histogram(hist: pd.DataFrame, model_label: str = "model", ax: Axes | None = None) -> Axes:
    """Customers by number of repeat purchases, actual vs the model
    (:func:`analysis.clv.repeat_purchase_histogram`)."""
    ax = _axes(ax)
    x = np.arange(len(hist))
    ax.bar(x - 0.2, hist["actual"], width=0.4, label="actual", color="#4c72b0")
    ax.bar(x + 0.2, hist["model"], width=0.4, label=model_label, color="#dd8452")
    ax.set_xticks(x, hist.index)
    ax.set_xlabel("repeat purchases in the observation period")
    ax.set_ylabel("customers")
    ax.set_title("Does the model reproduce how often customers come back?")
    _thousands(ax)
    ax.legend()
    return ax


def plot_matrix(
    matrix: pd.DataFrame, title: str, colorbar_label: str, ax: Axes | None = None, percent: bool = False
) -> Axes:
    """A frequency x recency heat map (:func:`analysis.clv.frequency_recency_matrix`)."""
    ax = _axes(ax, (7, 5.5))
    image = ax.imshow(
        matrix.to_numpy(), aspect="auto", cmap="viridis", origin="upper", vmin=0, vmax=1 if percent else None
    )
    cols, rows = matrix.columns.to_numpy(), matrix.index.to_numpy()
    xt = np.linspace(0, len(cols) - 1, min(len(cols), 7)).round().astype(int)
    yt = np.linspace(0, len(rows) - 1, min(len(rows), 6)).round().astype(int)
    ax.set_xticks(xt, [f"{cols[i]:g}" for i in xt])
    ax.set_yticks(yt, [f"{rows[i]:.0f}" for i in yt])
    ax.set_xlabel("repeat purchases (frequency)")
    ax.set_ylabel("time of last purchase since the first (recency)")
    ax.set_title(title)
    bar = ax.figure.colorbar(image, ax=ax)
    bar.set_label(colorbar_label)
    if percent:
        bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    return ax


def plot_tracking(tracking: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Cumulative repeat purchases week by week: actual vs each model, with the end of the
    calibration period marked (:func:`analysis.clv.tracking_data`)."""
    ax = _axes(ax)
    ax.plot(tracking["week_end"], tracking["actual"], color="black", lw=2, label="actual")
    for name in MODEL_LABELS:
        if name in tracking:
            ax.plot(tracking["week_end"], tracking[name], MODEL_STYLES[name], label=MODEL_LABELS[name])
    cal = tracking.loc[tracking["calibration"], "week_end"]
    if len(cal):
        ax.axvline(cal.max(), color="grey", lw=1)
        ax.annotate(" holdout: forecast vs actual", (cal.max(), ax.get_ylim()[1] * 0.05), color="grey")
    ax.set_ylabel("repeat purchases (cumulative)")
    ax.set_title("Tracking: forecast against what customers actually did")
    _thousands(ax)
    ax.legend(loc="upper left")
    return ax


def plot_conditional_expectation(conditional: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Average holdout purchases by calibration frequency, actual vs each model
    (:func:`analysis.clv.conditional_expectation_data`)."""
    ax = _axes(ax)
    x = np.arange(len(conditional))
    ax.plot(x, conditional["actual"], "o-", color="black", lw=2, label="actual")
    for name in MODEL_LABELS:
        if name in conditional:
            ax.plot(x, conditional[name], MODEL_STYLES[name], marker=".", label=MODEL_LABELS[name])
    ax.set_xticks(x, conditional.index)
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel("average purchases in the holdout period")
    ax.set_title("Are frequent buyers forecast correctly?")
    ax.legend(loc="upper left")
    return ax


def _no_amounts(ax: Axes) -> None:
    ax.text(0.5, 0.5, "No CLV in currency: the input has no amounts", ha="center", va="center", transform=ax.transAxes)


def plot_clv_distribution(clv: pd.Series, ax: Axes | None = None, bins: int = 50) -> Axes:
    """How customer lifetime value is spread across customers (log scale: most customers are
    worth little, a few a lot)."""
    ax = _axes(ax)
    values = clv.dropna()
    values = values[values > 0]
    if len(values):
        edges = np.logspace(np.log10(values.min()), np.log10(values.max()), bins)
        ax.hist(values, bins=edges, color="#4c72b0")
        ax.set_xscale("log")
        median = values.median()
        ax.axvline(median, color="black", lw=1)
        ax.annotate(f" median {median:,.2f}", (median, ax.get_ylim()[1] * 0.9))
    elif clv.isna().all():
        _no_amounts(ax)
    ax.set_xlabel("customer lifetime value (log scale)")
    ax.set_ylabel("customers")
    ax.set_title("Most customers are worth little; a few are worth a lot")
    _thousands(ax)
    return ax


def plot_top_customers(customers: pd.DataFrame, n: int = 20, ax: Axes | None = None) -> Axes:
    """The ``n`` customers with the highest CLV and their intervals (``customer_id``, ``clv``,
    ``clv_low``, ``clv_high``)."""
    top = customers.dropna(subset=["clv"]).nlargest(n, "clv").iloc[::-1]
    ax = _axes(ax, (8, max(3.0, 0.3 * len(top) + 1)))
    if top.empty:
        _no_amounts(ax)
        return ax
    y = np.arange(len(top))
    ax.barh(y, top["clv"], color="#4c72b0", label="CLV")
    if top[["clv_low", "clv_high"]].notna().all().all():
        err = np.vstack([(top["clv"] - top["clv_low"]).clip(lower=0), (top["clv_high"] - top["clv"]).clip(lower=0)])
        ax.errorbar(top["clv"], y, xerr=err, fmt="none", ecolor="black", capsize=3, label="interval")
    ax.set_yticks(y, top["customer_id"].astype(str))
    ax.set_xlabel("customer lifetime value")
    ax.set_title(f"The {len(top)} most valuable customers")
    _thousands(ax, "x")
    ax.legend(loc="lower right")
    return ax
