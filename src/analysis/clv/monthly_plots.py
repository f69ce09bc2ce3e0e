"""Charts of the month-by-month forecast and backtest (:mod:`analysis.clv.monthly`). Each takes its data and
``ax=None``, draws one figure and returns the Axes; texts in the page's language (``lang``: en or zh), in
:data:`TEXTS`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from analysis.clv.monthly import month_edges
from analysis.i18n import check_language
from analysis.plotting import new_axes, thousands

TEXTS = {
    "actual": {"en": "actual", "zh": "实际"},
    "forecast": {"en": "forecast", "zh": "预测"},
    "range": {"en": "range (bootstrap)", "zh": "区间（自助法）"},
    "purchases": {"en": "repeat purchases", "zh": "重复购买次数"},
    "revenue": {"en": "revenue", "zh": "收入"},
    "backtest_title": {"en": "Backtest: {measure} forecast against actual, month by month",
                       "zh": "回测：逐月{measure}预测与实际对比"},
    "forecast_title": {"en": "Existing customers: expected {measure} per month",
                       "zh": "现有客户：每月预期{measure}"},
    "partial": {"en": "* part of the month", "zh": "* 非整月"},
    "group_title": {"en": "Existing customers by {group}: expected {measure} per month",
                    "zh": "按{group}的现有客户：每月预期{measure}"},
    "tier": {"en": "tier", "zh": "客户等级"},
    "rfm_segment": {"en": "RFM segment", "zh": "RFM 细分"},
}  # fmt: skip


def _t(lang: str) -> dict[str, str]:
    check_language(lang)
    return {key: value[lang] for key, value in TEXTS.items()}


def _month_ticks(ax: Axes, labels: list[str], partial: list[bool], t: dict[str, str]) -> None:
    """Month labels under the bars (a partial month starred, with a note), slanted when there are many."""
    x = np.arange(len(labels))
    shown = [
        f"{label.split(' (')[0].split('（')[0]}{'*' if p else ''}" for label, p in zip(labels, partial, strict=True)
    ]
    ax.set_xticks(x, shown, rotation=45 if len(x) > 8 else 0, ha="right" if len(x) > 8 else "center")
    if any(partial):
        ax.annotate(t["partial"], (1.0, -0.22 if len(x) > 8 else -0.12), xycoords="axes fraction", ha="right",
                    fontsize=8, color="grey")  # fmt: skip


def plot_monthly_backtest(part: dict[str, Any], measure: str = "revenue", ax: Axes | None = None,
                          lang: str = "en") -> Axes:  # fmt: skip
    """Actual against forecast ``measure`` ("revenue" or "purchases") per holdout month, from the record part
    :func:`~analysis.clv.backtest_months.monthly_backtest` returns."""
    if measure not in ("revenue", "purchases"):
        raise ValueError(f"measure {measure!r}: use revenue or purchases")
    t = _t(lang)
    ax = new_axes(ax)
    rows = part["monthly_backtest"]
    x = np.arange(len(rows))
    for shift, kind, color in ((-0.2, "actual", "#4c72b0"), (0.2, "forecast", "#dd8452")):
        values = [np.nan if r[f"{kind}_{measure}"] is None else r[f"{kind}_{measure}"] for r in rows]  # JSON null
        ax.bar(x + shift, values, width=0.4, color=color, label=t[kind])
    _month_ticks(ax, [r["label"][lang] for r in rows], [r["partial"] for r in rows], t)
    ax.set_ylabel(t[measure])
    ax.set_title(t["backtest_title"].format(measure=t[measure]))
    thousands(ax)
    _legend_above_bars(ax)
    return ax


def plot_monthly_forecast(forecast: pd.DataFrame, as_of: Any, horizon_months: int, measure: str = "revenue",
                          ax: Axes | None = None, lang: str = "en") -> Axes:  # fmt: skip
    """Expected ``measure`` ("revenue", with the bootstrap's range when there is one, or "purchases") of today's
    customers per month of the horizon, the ``all`` rows of :func:`~analysis.clv.monthly.monthly_forecast`."""
    if measure not in ("revenue", "purchases"):
        raise ValueError(f"measure {measure!r}: use revenue or purchases")
    t = _t(lang)
    ax = new_axes(ax)
    rows = forecast[forecast["group_by"] == "all"]
    edges = month_edges(as_of, horizon_months)
    x = np.arange(len(rows))
    values = rows[f"expected_{measure}"].to_numpy(float)
    ax.bar(x, values, width=0.6, color="#55a868", label=t["forecast"])
    if measure == "revenue" and np.isfinite(rows["expected_revenue_low"].to_numpy(float)).all():
        low, high = rows["expected_revenue_low"].to_numpy(float), rows["expected_revenue_high"].to_numpy(float)
        # the range as a line from low to high (not an error bar around the forecast: with few resamples the
        # forecast itself may lie outside it)
        ax.vlines(x, low, high, colors="black", linewidth=1.2, label=t["range"])
        ax.scatter(np.r_[x, x], np.r_[low, high], marker="_", s=60, color="black", linewidths=1.2)
    _month_ticks(ax, list(edges[f"label_{lang}"]), list(edges["partial"]), t)
    ax.set_ylabel(t[measure])
    ax.set_title(t["forecast_title"].format(measure=t[measure]))
    thousands(ax)
    _legend_above_bars(ax)
    return ax


def _legend_above_bars(ax: Axes) -> None:
    """Room above the tallest bar for the legend, drawn there in one row."""
    ax.set_ylim(0, ax.get_ylim()[1] * 1.18)
    ax.legend(loc="upper center", ncol=2, fontsize=9, frameon=False)


def plot_monthly_by_group(forecast: pd.DataFrame, group_by: str, names: dict[str, str], as_of: Any,
                          horizon_months: int, measure: str = "revenue", ax: Axes | None = None,
                          lang: str = "en") -> Axes:  # fmt: skip
    """Expected ``measure`` ("revenue" or "purchases") per month of each group of ``group_by`` ("tier",
    "rfm_segment"), the rows of :func:`~analysis.clv.monthly.monthly_forecast`: a line per group, the largest
    first in the legend, with the bootstrap's range shaded when there is one; ``names``: each group's name in
    ``lang`` (a group without one is shown by its value)."""
    if measure not in ("revenue", "purchases"):
        raise ValueError(f"measure {measure!r}: use revenue or purchases")
    t = _t(lang)
    ax = new_axes(ax)
    rows = forecast[forecast["group_by"] == group_by]
    edges = month_edges(as_of, horizon_months)
    x = np.arange(len(edges))
    order = rows.groupby("group", sort=False)[f"expected_{measure}"].sum().sort_values(ascending=False).index
    for k, group in enumerate(order):
        part = rows[rows["group"] == group]
        values = part[f"expected_{measure}"].to_numpy(float)
        color = f"C{k % 10}"
        ax.plot(x, values, marker="o", markersize=3, color=color, label=names.get(group, group))
        low, high = (part[f"expected_revenue_{side}"].to_numpy(float) for side in ("low", "high"))
        if measure == "revenue" and np.isfinite(low).all() and np.isfinite(high).all():
            ax.fill_between(x, low, high, color=color, alpha=0.2, linewidth=0)
    _month_ticks(ax, list(edges[f"label_{lang}"]), list(edges["partial"]), t)
    ax.set_ylim(bottom=0)
    ax.set_ylabel(t[measure])
    ax.set_title(t["group_title"].format(group=t[group_by], measure=t[measure]))
    thousands(ax)
    ax.legend(fontsize=8, ncol=2 if len(order) > 5 else 1)
    return ax
