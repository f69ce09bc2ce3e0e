"""The data-quality page's charts, in English or Chinese. Each takes the data-quality summary (``quality.json``,
as :func:`analysis.data.pipeline.prepare` makes it), ``ax=None`` and ``lang``, draws one figure and returns the
Axes; the numbers come from :mod:`analysis.data.quality`. Their texts are in :data:`TEXTS`, keyed by message id.
"""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.dates import DateFormatter

from analysis.data.quality import monthly_revenue, reason_label, reason_table
from analysis.i18n import check_language
from analysis.plotting import new_axes, thousands

TEXTS = {
    "nothing_set_aside": {"en": "No row was set aside: every input row is a kept purchase.",
                          "zh": "没有被隔离的行：每一行输入都是保留的购买记录。"},
    "rows_set_aside": {"en": "rows set aside", "zh": "被隔离的行数"},
    "quarantine_title": {"en": "Why rows were set aside (quarantined)", "zh": "被隔离（未纳入分析）的行及原因"},
    "revenue": {"en": "revenue", "zh": "收入"},
    "customers": {"en": "customers buying that month", "zh": "当月购买客户数"},
    "revenue_axis": {"en": "revenue (kept purchases)", "zh": "收入（保留的购买）"},
    "revenue_title": {"en": "Revenue and customers per month, kept purchases",
                      "zh": "每月收入与购买客户数（保留的购买）"},
    "customers_title": {"en": "Customers buying each month (the data has no amounts, so no revenue)",
                        "zh": "每月购买客户数（数据没有金额，因此没有收入）"},
}  # fmt: skip


def plot_quarantine(quality: dict[str, Any], ax: Axes | None = None, lang: str = "en") -> Axes:
    """Horizontal bars: rows quarantined per reason, each with its count and share of the input rows (a plain
    sentence instead when nothing was set aside)."""
    check_language(lang)
    table = reason_table(quality, lang).sort_values("rows")
    ax = new_axes(ax, (7, 0.4 * max(len(table), 2) + 1))
    if table.empty:
        ax.text(0.5, 0.5, TEXTS["nothing_set_aside"][lang], ha="center", va="center", fontsize=11,
                transform=ax.transAxes)  # fmt: skip
        ax.set_axis_off()
        return ax
    ax.barh([reason_label(code, lang) for code in table["reason"]], table["rows"], color="#c44e52")
    for y, (n, share) in enumerate(zip(table["rows"], table["share_of_rows"], strict=True)):
        ax.annotate(f" {n:,} ({share:.1%})", (n, y), va="center", fontsize=9)
    ax.set_xlabel(TEXTS["rows_set_aside"][lang])
    ax.set_title(TEXTS["quarantine_title"][lang])
    ax.margins(x=0.25)
    thousands(ax, "x")
    return ax


def plot_monthly_revenue(quality: dict[str, Any], ax: Axes | None = None, lang: str = "en") -> Axes:
    """Kept revenue (bars, left axis) and customers buying (line, right axis) per month
    (:func:`analysis.data.quality.monthly_revenue`); for data without amounts (an event log) the customers alone,
    and the title says there is no revenue."""
    check_language(lang)
    t = {key: words[lang] for key, words in TEXTS.items()}
    monthly = monthly_revenue(quality)
    ax = new_axes(ax, (8, 3.5))
    ax.xaxis.set_major_formatter(DateFormatter("%Y-%m"))  # numbers, never month names, in either language
    if not monthly["revenue"].notna().any():
        ax.plot(monthly.index, monthly["customers"], color="#dd8452", marker="o")
        ax.set_ylabel(t["customers"])
        ax.set_title(t["customers_title"])
        ax.set_ylim(bottom=0)
        thousands(ax)
        return ax
    bars = ax.bar(monthly.index, monthly["revenue"], width=20, color="#4c72b0")
    ax.set_ylabel(t["revenue_axis"])
    ax.set_title(t["revenue_title"])
    twin = ax.twinx()
    (line,) = twin.plot(monthly.index, monthly["customers"], color="#dd8452", marker="o")
    twin.set_ylabel(t["customers"])
    twin.set_ylim(bottom=0)
    ax.legend([bars, line], [t["revenue"], t["customers"]], loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2,
              frameon=False)  # fmt: skip
    thousands(ax)
    thousands(twin)
    return ax
