"""The data-quality summary: what came in, what was kept, what was quarantined and why."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

from analysis.data.validate import REASONS
from analysis.plotting import thousands


def reason_table(quality: dict[str, Any]) -> pd.DataFrame:
    """One row per quarantine reason: code, meaning (English, Chinese), rows, share of rows, amount."""
    rows = []
    for code, n in sorted(quality["quarantined"].items(), key=lambda kv: -kv[1]):
        en, zh = REASONS.get(code, (code, code))
        rows.append(
            {
                "reason": code,
                "meaning": en,
                "说明": zh,
                "rows": n,
                "share_of_rows": n / quality["rows_in"],
                "amount": quality["amount_quarantined"].get(code, 0.0),
            }
        )
    return pd.DataFrame(rows, columns=["reason", "meaning", "说明", "rows", "share_of_rows", "amount"])


def summary_lines(quality: dict[str, Any]) -> list[str]:
    """The data-quality summary in plain sentences (used by ``check`` and the first report page)."""
    q = quality
    kept_share = q["rows_kept"] / q["rows_in"]
    lines = [
        f"Input: {q.get('input', '?')} ({q.get('source_format', '?')}, encoding {q.get('encoding') or 'n/a'})",
        f"Rows in: {q['rows_in']:,}; kept: {q['rows_kept']:,} ({kept_share:.1%}); "
        f"quarantined: {q['rows_quarantined']:,}",
        _amount_line(q),
    ]
    for code, n in sorted(q["quarantined"].items(), key=lambda kv: -kv[1]):
        amount = q["amount_quarantined"].get(code, 0.0)
        lines.append(f"  {code}: {n:,} rows, amount {amount:,.2f} - {REASONS.get(code, (code,))[0]}")
    lines += [
        "Reconciliation: " + ("exact (rows and amounts add up)" if q["reconciled"] else "FAILED"),
        f"Customers: {q['customers']:,}; purchases from {q['date_min']} to {q['date_max']}; as of {q['as_of']}",
        f"Outliers flagged (kept): {q.get('outliers_flagged', 0):,}; "
        f"zero-amount purchases kept: {q.get('zero_amount_kept', 0):,}",
        f"Date format: {q['date_format']}",
        "Column mapping: " + ", ".join(f"{role} <- {header}" for role, header in q["mapping"].items()),
    ]
    for role, others in (q.get("columns_also_seen") or {}).items():
        lines.append(
            f"  {role}: took {q['mapping'][role]!r}, also seen {', '.join(map(repr, others))} "
            f"(the header nearest a completed purchase is preferred; choose with --column {role}=HEADER)"
        )
    if "customer_list" in q:
        cl = q["customer_list"]
        lines.append(
            f"Customer list: {cl['customers_listed']:,} customers, {cl['never_bought']:,} never bought; "
            f"skipped {cl['missing_customer_id']:,} rows without id and "
            f"{cl['duplicate_customer_id']:,} repeated ids"
        )
    return lines


def _amount_line(q: dict[str, Any]) -> str:
    if not q.get("has_amounts", True):
        return (
            "Amounts: none (an event log without an amount column): counts and dates are analysed, "
            "spend is unknown; if there is an amount column, name it with --column amount=HEADER"
        )
    line = (
        f"Amount in: {q['amount_in']:,.2f}; kept: {q['amount_kept']:,.2f}; "
        f"netted against kept purchases: {q.get('amount_netted', 0.0):,.2f}"
    )
    if q.get("amount_refunded"):
        line += f"; partial refunds taken off kept purchases: {q['amount_refunded']:,.2f}"
    return line


def plot_quarantine(quality: dict[str, Any], ax: Axes | None = None) -> Axes:
    """Horizontal bars: rows quarantined per reason (a plain sentence instead when nothing was set aside)."""
    table = reason_table(quality).sort_values("rows")
    ax = ax or plt.subplots(figsize=(7, 0.4 * max(len(table), 2) + 1))[1]
    if table.empty:
        ax.text(0.5, 0.5, "No row was set aside: every input row is a kept purchase.", ha="center", va="center",
                fontsize=11, transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    ax.barh(table["reason"], table["rows"], color="#c44e52")
    for y, (n, share) in enumerate(zip(table["rows"], table["share_of_rows"], strict=True)):
        ax.annotate(f" {n:,} ({share:.1%})", (n, y), va="center", fontsize=9)
    ax.set_xlabel("rows set aside")
    ax.set_title("Why rows were set aside (quarantined)")
    ax.margins(x=0.25)
    return ax


def plot_monthly_revenue(transactions: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Kept revenue and active customers per month."""
    by_month = transactions.set_index("timestamp").resample("MS")
    # min_count=1: a month of an event log without amounts has no revenue (NaN), not a revenue of 0
    monthly = pd.DataFrame(
        {"amount": by_month["amount"].sum(min_count=1), "customer_id": by_month["customer_id"].nunique()}
    )
    ax = ax or plt.subplots(figsize=(8, 3.5))[1]
    ax.bar(monthly.index, monthly["amount"], width=20, color="#4c72b0", label="revenue")
    ax.set_ylabel("revenue (kept purchases)")
    ax.set_title("Revenue per month, kept purchases")
    twin = ax.twinx()
    twin.plot(monthly.index, monthly["customer_id"], color="#dd8452", marker="o", label="customers")
    twin.set_ylabel("customers buying that month")
    thousands(ax)
    thousands(twin)
    return ax


def headline(quality: dict[str, Any]) -> str:
    """A Markdown paragraph for stakeholders: how much of the data could be used, and why not all."""
    q = quality
    top = sorted(q["quarantined"].items(), key=lambda kv: -kv[1])[:3]
    why = "; ".join(f"{REASONS.get(c, (c,))[0].rstrip('.').lower()} ({n:,} rows)" for c, n in top)
    text = (
        f"**{q['rows_kept'] / q['rows_in']:.1%} of the {q['rows_in']:,} input rows were usable**: "
        f"{q['rows_kept']:,} purchases by {q['customers']:,} customers between {q['date_min']} and "
        f"{q['date_max']}, analysed as of **{q['as_of']}**. "
    )
    if q["rows_quarantined"]:
        text += f"{q['rows_quarantined']:,} rows were set aside with a reason; the main ones: {why}. "
    text += (
        "Every row and every unit of amount is accounted for."
        if q["reconciled"]
        else "**The reconciliation does not add up: please report this.**"
    )
    return text
