"""ABC: buyers ranked by value (revenue, margin, or orders when the data has no amounts), highest
first, ties by customer id. A customer is A while the value ranked before them is under the A cut
(80 % by default), B under the B cut (95 %), else C; so A holds the first 80 % of value. Customers
with no value are C.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.errors import UserError

CLASSES = ("A", "B", "C")


def abc_codes(value: pd.Series, customer_id: pd.Series, cuts: dict) -> tuple[np.ndarray, np.ndarray]:
    """(each customer's class as its position in ``CLASSES``, the share of value ranked above the customer),
    in the order of ``value``. Ranked by Arrow's sort (value descending, customer id ascending)."""
    a, b = float(cuts["A"]), float(cuts["B"])
    if not 0 < a <= b <= 1:
        raise UserError(f"abc.cuts must satisfy 0 < A <= B <= 1, got A={a}, B={b}")
    values = value.fillna(0).clip(lower=0).to_numpy(float)
    ids = pa.array(customer_id.array, from_pandas=True)
    ranked = pa.table({"value": values, "id": ids})
    order = pc.sort_indices(ranked, sort_keys=[("value", "descending"), ("id", "ascending")]).to_numpy()
    ordered = values[order]
    total = ordered.sum()
    before = (np.cumsum(ordered) - ordered) / total if total > 0 else ordered * 0 + 1
    cls = np.where(before < a, 0, np.where(before < b, 1, 2))
    cls = np.where(ordered > 0, cls, 2).astype(np.int8)
    codes, share_before = np.empty_like(cls), np.empty_like(before)
    codes[order], share_before[order] = cls, before
    return codes, share_before


def abc_classes(value: pd.Series, customer_id: pd.Series, cuts: dict) -> pd.DataFrame:
    """``abc_class`` and ``value_share_before`` (share of value ranked above the customer)."""
    codes, before = abc_codes(value, customer_id, cuts)
    return pd.DataFrame({"abc_class": np.array(CLASSES)[codes], "value_share_before": before}, index=value.index)


def abc_value(customers: pd.DataFrame, cfg: dict) -> pd.Series:
    """The value ABC ranks by: revenue (``monetary``), ``margin_total``, or the number of orders. Data without
    amounts ranks by orders (the series' ``name`` says which: ``revenue``, ``margin`` or ``orders``)."""
    basis = cfg["value"]
    if basis == "revenue" and not customers.loc[customers["frequency"] > 0, "monetary"].notna().any():
        basis = "orders"
    if basis == "revenue":
        return customers["monetary"].rename("revenue")
    if basis == "orders":
        return customers["frequency"].astype(float).rename("orders")
    if basis == "margin":
        if "margin_total" not in customers:
            raise UserError("abc.value is margin but there is no margin column: map one with --column margin=HEADER")
        return customers["margin_total"].rename("margin")
    raise UserError(f"abc.value is {basis!r}: use revenue, margin or orders")


def abc_summary(classes: pd.Series, value: pd.Series) -> pd.DataFrame:
    """Customers and value per class, with their shares."""
    frame = pd.DataFrame({"abc_class": classes, "value": value.fillna(0)})
    table = frame.groupby("abc_class").agg(customers=("value", "size"), value=("value", "sum"))
    table = table.reindex(["A", "B", "C"], fill_value=0)
    table["customer_share"] = table["customers"] / max(1, table["customers"].sum())
    table["value_share"] = table["value"] / table["value"].sum() if table["value"].sum() > 0 else 0.0
    return table


def pareto_curve(value: pd.Series) -> pd.DataFrame:
    """Cumulative share of customers (highest value first) against cumulative share of value."""
    v = np.sort(value.fillna(0).clip(lower=0).to_numpy())[::-1]
    total = v.sum() or 1.0
    n = len(v)
    return pd.DataFrame(
        {
            "customer_share": np.concatenate([[0.0], np.arange(1, n + 1) / n]),
            "value_share": np.concatenate([[0.0], np.cumsum(v) / total]),
        }
    )
