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
    :func:`~analysis.clv.monthly.monthly_backtest` returns."""
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
    ax.legend()
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
        ax.errorbar(x, values, yerr=[values - low, high - values], fmt="none", ecolor="black", capsize=3,
                    label=t["range"])  # fmt: skip
    _month_ticks(ax, list(edges[f"label_{lang}"]), list(edges["partial"]), t)
    ax.set_ylabel(t[measure])
    ax.set_title(t["forecast_title"].format(measure=t[measure]))
    thousands(ax)
    ax.legend()
    return ax
