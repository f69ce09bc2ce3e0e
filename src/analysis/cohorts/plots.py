"""Charts for the cohorts page, in English or Chinese. Each takes data from :mod:`analysis.cohorts` (the result's
tables), ``ax=None`` and ``lang`` (``en`` / ``zh``), draws one figure and returns the Axes. Titles say what the
chart means to a manager; all texts are in :data:`TEXTS`. A cell whose period was not over on the as-of date is
hatched (its numbers count only the days so far).

- :func:`plot_retention_heatmap`: the retention triangle, the percentage written in each cell;
- :func:`plot_cumulative_value`: cumulative revenue (or orders) per customer won, one line per cohort;
- :func:`plot_cohort_sizes`: each cohort's customers who bought, over calendar time (a "layer cake");
- :func:`plot_group_retention`: the retention of the largest groups of a customer attribute.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from analysis.cohorts.describe import cohort_label, period_words
from analysis.cohorts.matrix import PANDAS_PERIOD
from analysis.i18n import check_language
from analysis.plotting import new_axes, thousands
from analysis.stage import Text

TEXTS: dict[str, Text] = {
    "heatmap_title": {"en": "Share of each cohort's customers who bought again, {many} after they were won",
                      "zh": "各批客户获客后每{the}的再次购买比例"},
    "heatmap_x": {"en": "{many} since the {one} of the first purchase (column 0: customers won)",
                  "zh": "{since}（第 0 列：获得客户数）"},
    "cohort_axis": {"en": "cohort ({one} of the first purchase)", "zh": "客户批次（首次购买{the}）"},
    "incomplete": {"en": "hatched: {the} not over yet", "zh": "斜线：该{the}尚未结束"},
    "value_title": {"en": "Revenue per customer won, cumulative, by cohort", "zh": "各批客户每位客户的累计收入"},
    "orders_title": {"en": "Orders per customer won, cumulative, by cohort (the data has no amounts)",
                     "zh": "各批客户每位客户的累计订单数（数据没有金额）"},
    "value_y": {"en": "revenue per customer won, to date", "zh": "每位客户累计收入"},
    "orders_y": {"en": "orders per customer won, to date", "zh": "每位客户累计订单数"},
    "since_x": {"en": "{many} since the {one} of the first purchase", "zh": "{since}"},
    "open_point": {"en": "open point: {the} not over yet", "zh": "空心点：该{the}尚未结束"},
    "sizes_title": {"en": "Customers who bought each {one}, by the cohort they were won in",
                    "zh": "每{the}购买的客户数，按获客批次分层"},
    "sizes_y": {"en": "customers who bought", "zh": "购买客户数"},
    "older": {"en": "won before {first}", "zh": "{first}之前获得"},
    "group_title": {"en": "Share who bought again, {many} after they were won, by {attribute}",
                    "zh": "按{attribute}：获客后各{the}的再次购买比例"},
    "group_y": {"en": "share of customers won who bought", "zh": "再次购买的客户占比"},
    "group_label": {"en": "{group} ({n:,} customers)", "zh": "{group}（{n:,} 位）"},
}  # fmt: skip
# The attributes as people name them, each {en, zh}.
ATTRIBUTES: dict[str, Text] = {
    "country": {"en": "country", "zh": "国家"},
    "region": {"en": "region", "zh": "地区"},
    "city": {"en": "city", "zh": "城市"},
    "industry": {"en": "industry", "zh": "行业"},
    "customer_type": {"en": "customer type", "zh": "客户类型"},
    "size": {"en": "size", "zh": "规模"},
}
HATCH = "////"


# "periods since the first purchase" in Chinese, per period length (the English is made from the period's words).
SINCE: dict[str, Text] = {
    "month": {"en": "months since the first purchase", "zh": "距首次购买的月数"},
    "week": {"en": "weeks since the first purchase", "zh": "距首次购买的周数"},
    "quarter": {"en": "quarters since the first purchase", "zh": "距首次购买的季度数"},
}


def _words(period: str, lang: str) -> dict[str, str]:
    """The words the chart texts are made of, in ``lang``."""
    w = period_words(period, lang)
    return {"one": w["one"], "many": w["many"], "the": w["the"], "since": SINCE[period][lang]}


def shown_cells(matrix: pd.DataFrame, max_cohorts: int, max_periods: int) -> pd.DataFrame:
    """The cells a chart shows: the most recent ``max_cohorts`` cohorts, periods 0 to ``max_periods``."""
    cohorts = np.sort(matrix["cohort"].unique())[-max_cohorts:]
    return matrix[matrix["cohort"].isin(cohorts) & (matrix["period"] <= max_periods)]


def _font_size(width_in: float, height_in: float, chars: int) -> float:
    """A font size (points) at which ``chars`` characters fit a cell of the given size in inches."""
    return float(np.clip(min(width_in * 72 / (0.62 * chars + 0.6), height_in * 72 * 0.55), 5.0, 11.0))


def plot_retention_heatmap(
    matrix: pd.DataFrame, period: str = "month", max_cohorts: int = 18, max_periods: int = 18,
    ax: Axes | None = None, lang: str = "en",
) -> Axes:  # fmt: skip
    """The retention triangle of ``matrix`` (the stage's ``matrix`` table): one row per cohort (most recent
    ``max_cohorts``, oldest on top), one column per period since acquisition up to ``max_periods``; column 0 gives
    the customers won, the others the share of them who bought in that period, written in the cell. Colour runs
    over the shares of periods 1 and on (period 0 is 100 % by definition)."""
    check_language(lang)
    cells = shown_cells(matrix, max_cohorts, max_periods)
    cohorts = np.sort(cells["cohort"].unique())
    n_periods = int(cells["period"].max()) + 1 if len(cells) else 1
    width, height = min(13.0, 2.2 + 0.55 * n_periods), min(10.0, 1.6 + 0.36 * max(len(cohorts), 1))
    ax = new_axes(ax, (max(width, 6.0), max(height, 2.6)))
    grid = cells.pivot(index="cohort", columns="period", values="retention").reindex(cohorts)
    grid = grid.reindex(columns=range(n_periods))
    done = cells.pivot(index="cohort", columns="period", values="complete").reindex(cohorts)
    done = done.reindex(columns=range(n_periods))
    shares = grid.to_numpy(float).copy()
    shares[:, 0] = np.nan
    top = np.nanmax(shares) if np.isfinite(shares).any() else 1.0
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=max(top, 0.05), aspect="auto")
    sizes = cells[cells["period"] == 0].set_index("cohort")["customers"].reindex(cohorts)
    fig_w, fig_h = ax.figure.get_size_inches()
    size = _font_size(fig_w * 0.8 / n_periods, fig_h * 0.75 / max(len(cohorts), 1), max(4, len(f"{sizes.max():,}")))
    for i, cohort in enumerate(cohorts):
        ax.add_patch(Rectangle((-0.5, i - 0.5), 1, 1, facecolor="#eeeeee", edgecolor="white"))
        ax.text(0, i, f"{int(sizes.loc[cohort]):,}", ha="center", va="center", fontsize=size, color="#333333")
        for j in range(n_periods):
            value = grid.iat[i, j]
            if pd.isna(value):
                continue
            if j:
                dark = value > 0.6 * max(top, 0.05)
                ax.text(j, i, f"{value:.0%}", ha="center", va="center", fontsize=size,
                        color="white" if dark else "#222222")  # fmt: skip
            if not bool(done.iat[i, j]):
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch=HATCH, edgecolor="#888888",
                                       linewidth=0))  # fmt: skip
    w = _words(period, lang)
    ax.set_xticks(range(n_periods), [str(j) for j in range(n_periods)])
    ax.set_yticks(range(len(cohorts)), [cohort_label(c, period, lang) for c in cohorts])
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.xaxis.set_ticks_position("top")
    ax.xaxis.set_label_position("top")
    ax.set_xlabel(TEXTS["heatmap_x"][lang].format(**w))
    ax.set_ylabel(TEXTS["cohort_axis"][lang].format(**w))
    ax.set_title(TEXTS["heatmap_title"][lang].format(**w), pad=12)
    if not cells["complete"].all():
        ax.legend(handles=[Patch(facecolor="white", edgecolor="#888888", hatch=HATCH,
                                 label=TEXTS["incomplete"][lang].format(**w))],
                  loc="upper center", bbox_to_anchor=(0.5, -0.02), frameon=False, fontsize=9)  # fmt: skip
    bar = ax.figure.colorbar(image, ax=ax, fraction=0.03, pad=0.02)
    bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    return ax


def plot_cumulative_value(
    matrix: pd.DataFrame, period: str = "month", amounts: bool = True, max_cohorts: int = 18,
    max_periods: int = 18, ax: Axes | None = None, lang: str = "en",
) -> Axes:  # fmt: skip
    """Cumulative revenue per customer won (orders per customer won when the data has no ``amounts``) by period
    since acquisition, one line per cohort (the most recent ``max_cohorts``; older lighter); a point whose period
    is not over is drawn open."""
    check_language(lang)
    cells = shown_cells(matrix, max_cohorts, max_periods)
    column = "cumulative_revenue_per_customer" if amounts else "cumulative_orders_per_customer"
    ax = new_axes(ax, (10, 5.5))
    cohorts = np.sort(cells["cohort"].unique())
    colors = colormaps["viridis"](np.linspace(0.85, 0.05, max(len(cohorts), 1)))
    for color, cohort in zip(colors, cohorts, strict=False):
        line = cells[cells["cohort"] == cohort]
        ax.plot(line["period"], line[column], color=color, marker="o", markersize=3.5, linewidth=1.6,
                label=cohort_label(cohort, period, lang))  # fmt: skip
        open_points = line[~line["complete"]]
        ax.plot(open_points["period"], open_points[column], linestyle="none", marker="o", markersize=6,
                markerfacecolor="white", markeredgecolor=color)  # fmt: skip
    w = _words(period, lang)
    ax.set_xlabel(TEXTS["since_x"][lang].format(**w))
    ax.set_ylabel(TEXTS["value_y" if amounts else "orders_y"][lang])
    ax.set_title(TEXTS["value_title" if amounts else "orders_title"][lang])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", alpha=0.3)
    if amounts:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.2f}"))
    handles, labels = ax.get_legend_handles_labels()
    if not cells["complete"].all():
        handles.append(ax.plot([], [], linestyle="none", marker="o", markerfacecolor="white",
                               markeredgecolor="#555555")[0])  # fmt: skip
        labels.append(TEXTS["open_point"][lang].format(**w))
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8,
              ncol=1 if len(labels) <= 14 else 2)  # fmt: skip
    return ax


def calendar_periods(matrix: pd.DataFrame, period: str) -> pd.Series:
    """The first day of the calendar period of each cell of ``matrix`` (its cohort's plus its periods since)."""
    if period == "week":
        return matrix["cohort"] + pd.to_timedelta(7 * matrix["period"], unit="D")
    freq = PANDAS_PERIOD[period]
    return (matrix["cohort"].dt.to_period(freq) + matrix["period"].to_numpy()).dt.start_time


def plot_cohort_sizes(
    matrix: pd.DataFrame, period: str = "month", max_cohorts: int = 18, ax: Axes | None = None, lang: str = "en"
) -> Axes:
    """The customers who bought in each calendar period, stacked by the cohort they were won in (the most recent
    ``max_cohorts`` cohorts each in their colour, the older ones together): how each cohort's size shrinks over
    time and how much of each period's buyers are new. A period not over is hatched."""
    check_language(lang)
    ax = new_axes(ax, (10, 4.8))
    if matrix.empty:
        return ax
    cells = matrix.assign(when=calendar_periods(matrix, period))
    cohorts = np.sort(cells["cohort"].unique())
    recent = cohorts[-max_cohorts:]
    w = _words(period, lang)
    older = TEXTS["older"][lang].format(first=cohort_label(recent[0], period, lang))
    cells["layer"] = np.where(cells["cohort"].isin(recent), cells["cohort"].map(lambda c: cohort_label(c, period,
                              lang)), older)  # fmt: skip
    order = ([older] if len(cohorts) > len(recent) else []) + [cohort_label(c, period, lang) for c in recent]
    stack = cells.pivot_table(index="when", columns="layer", values="active_customers", aggfunc="sum",
                              fill_value=0).reindex(columns=order, fill_value=0)  # fmt: skip
    done = cells.groupby("when")["complete"].all().reindex(stack.index)
    x = np.arange(len(stack))
    colors = colormaps["viridis"](np.linspace(0.85, 0.05, len(recent)))
    colors = ([(0.75, 0.75, 0.75, 1.0)] if len(order) > len(recent) else []) + list(colors)
    bottom = np.zeros(len(stack))
    for name, color in zip(order, colors, strict=True):
        bars = ax.bar(x, stack[name].to_numpy(), bottom=bottom, color=color, width=0.85, label=name)
        for bar, over in zip(bars, done, strict=True):
            bar.set_hatch(None if over else HATCH)
        bottom = bottom + stack[name].to_numpy()
    step = max(1, int(np.ceil(len(stack) / 14)))
    ax.set_xticks(x[::step], [cohort_label(c, period, lang) for c in stack.index[::step]],
                  rotation=45 if len(stack) > 6 else 0, ha="right" if len(stack) > 6 else "center")  # fmt: skip
    ax.set_ylim(0, max(float(bottom.max()), 1.0) * 1.05)
    ax.set_ylabel(TEXTS["sizes_y"][lang])
    ax.set_title(TEXTS["sizes_title"][lang].format(**w))
    thousands(ax)
    ax.grid(axis="y", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if not done.all():
        handles.append(Patch(facecolor="white", edgecolor="#888888", hatch=HATCH))
        labels.append(TEXTS["incomplete"][lang].format(**w))
    ax.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8,
              title=TEXTS["cohort_axis"][lang].format(**w), title_fontsize=8,
              ncol=1 if len(labels) <= 14 else 2)  # fmt: skip
    return ax


def plot_group_retention(
    table: pd.DataFrame, attribute: str, period: str = "month", max_periods: int = 18, ax: Axes | None = None,
    lang: str = "en",
) -> Axes:  # fmt: skip
    """The pooled retention by period since acquisition (periods 1 to ``max_periods`` that are over) of each group
    of ``table`` (the stage's ``by_<attribute>`` table: groups with ``customers`` and ``curve``), one line each."""
    check_language(lang)
    ax = new_axes(ax, (10, 5))
    for group, row in table.iterrows():
        curve = pd.Series(row["curve"], dtype=float)
        curve = curve[(curve.index >= 1) & (curve.index <= max_periods)]
        label = TEXTS["group_label"][lang].format(group=str(group).replace("$", r"\$"), n=int(row["customers"]))
        ax.plot(curve.index, curve.to_numpy(), marker="o", markersize=3.5, linewidth=1.6, label=label)
    w = _words(period, lang)
    name = ATTRIBUTES.get(attribute, {"en": attribute, "zh": attribute})[lang]
    ax.set_title(TEXTS["group_title"][lang].format(attribute=name, **w))
    ax.set_xlabel(TEXTS["since_x"][lang].format(**w))
    ax.set_ylabel(TEXTS["group_y"][lang])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
    return ax
