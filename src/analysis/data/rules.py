"""The validation rules as Ibis expressions over the canonical table (:mod:`analysis.data.standardise`).

Each rule is a condition named by its quarantine reason; a row leaves under the first rule it fails
(:func:`first_reason`), so the kept rows are those whose ``reason`` is NULL. The order of the rules,
and what each means, is in :mod:`analysis.data.validate`. Every function here builds an expression;
nothing is computed until the engine runs it, on DuckDB or any other Ibis backend.
"""

from __future__ import annotations

import ibis

# the refund and netting tolerance: a refund within this of the paid amount refunds it in full
EPS = 1e-9


def first_reason(reason: ibis.Value, rules: list[tuple[str, ibis.Value]]) -> ibis.StringValue:
    """``reason`` where a row has one already, else the code of the first rule whose condition holds
    (a NULL condition does not hold), else NULL."""
    if not rules:
        return reason
    return ibis.coalesce(reason, ibis.cases(*[(cond.fill_null(False), code) for code, cond in rules]))


def order_lines(t: ibis.Table) -> ibis.BooleanValue:
    """Rows without date and amount whose order id also stands on a row that has a date or an
    amount: a further line of that order (Shopify's one row per line item)."""
    blank = t.timestamp.isnull() & t.amount_missing & t.order_raw.notnull()
    has_first_line = ibis.ifelse(blank, 0, 1).max().over(group_by=t.order_raw)
    return blank & (has_first_line == 1)


def row_rules(t: ibis.Table, has_amounts: bool) -> ibis.StringValue:
    """Rules 1–6, which need nothing but the row itself (and its copies and order lines):
    missing customer, order line, the order's status, unreadable date, missing or unreadable
    amount, duplicate row."""
    rules = [("missing_customer_id", t.customer_id.isnull())]
    if has_amounts:
        rules.append(("order_line", order_lines(t)))
    rules += [(code, t.status_reason == code) for code in ("cancelled_order", "unpaid_order", "not_won")]
    rules.append(("unparsable_date", t.timestamp.isnull()))
    if has_amounts:
        rules += [("missing_amount", t.amount_missing), ("unparsable_amount", t.amount.isnull())]
    rules.append(("duplicate_row", t.duplicate_row))
    return first_reason(ibis.null("string"), rules)


def after_as_of(t: ibis.Table, as_of: ibis.Value) -> ibis.BooleanValue:
    """Dated after the as-of day (a purchase late on the as-of day counts)."""
    return t.timestamp >= as_of.cast("timestamp") + ibis.interval(days=1)


def non_product(t: ibis.Table, cfg: dict) -> ibis.BooleanValue:
    """Postage, fees, manual adjustments: by product code (any case) or by description."""
    hit = ibis.literal(False)
    codes = sorted({str(c).strip().upper() for c in cfg["non_product_codes"] or ()})  # (null: none)
    if "product_id" in t.columns and codes:
        hit |= t.product_id.upper().isin(codes).fill_null(False)
    descriptions = sorted({str(c).strip().lower() for c in cfg["non_product_descriptions"] or ()})
    if "description" in t.columns and descriptions:
        hit |= t.description.lower().isin(descriptions).fill_null(False)
    return hit


def refunds(t: ibis.Table) -> tuple[ibis.BooleanValue, ibis.FloatingValue]:
    """(refunded in full, the refund taken off the paid amount) for rows still open: a row whose
    refund covers what was paid leaves as ``refunded_order``; a partial refund reduces the amount."""
    if "refund" not in t.columns:
        return ibis.literal(False), ibis.literal(0.0)
    open_row = t.reason.isnull()
    paid = t.amount
    full = (open_row & (paid > 0) & (t.refund >= paid - EPS)).fill_null(False)
    partial = (open_row & ~full & (t.refund > 0) & (paid > 0)).fill_null(False)
    return full, ibis.ifelse(partial, t.refund, 0.0)


def is_return(t: ibis.Table, cfg: dict) -> ibis.BooleanValue:
    """A return or cancellation: a negative quantity or amount, or a cancellation order id."""
    ret = (t.amount < 0).fill_null(False)
    if "quantity" in t.columns:
        ret |= (t.quantity < 0).fill_null(False)
    pattern = cfg["cancellation_pattern"]
    if pattern:
        ret |= _cancellation(t.order_raw, pattern)
    return ret


def _cancellation(order: ibis.StringValue, pattern: str) -> ibis.BooleanValue:
    """The order id starts with a match of ``pattern`` (Python's ``re.match``)."""
    return order.re_search(f"^(?:{pattern})").fill_null(False)


def return_key(t: ibis.Table, cfg: dict) -> ibis.StringValue:
    """What a return is netted against: the same customer and product, or without a product
    column the same order (a cancellation ``C536379`` refers to order ``536379``)."""
    customer = t.customer_id.fill_null("")
    if "product_id" in t.columns:
        return customer + "\x1f" + t.product_id.fill_null("")
    order = t.order_raw.fill_null("")
    pattern = cfg["cancellation_pattern"]
    if pattern:
        order = ibis.ifelse(_cancellation(t.order_raw, pattern), order.re_replace("^[A-Za-z]+", ""), order)
    return customer + "\x1f" + order


def return_units(t: ibis.Table, has_amounts: bool) -> ibis.FloatingValue:
    """The units a return and its purchases are netted in: quantity, else amount, else rows."""
    if "quantity" in t.columns:
        return t.quantity.abs()
    if has_amounts:
        return t.amount.abs()
    return ibis.literal(1.0)


def outliers(t: ibis.Table, threshold: float | None) -> ibis.BooleanValue:
    """Kept rows whose log amount is above ``threshold`` (:func:`outlier_threshold`); none without one."""
    if threshold is None:
        return ibis.literal(False)
    return (t.reason.isnull() & (t.amount > 0) & (t.amount.ln() > threshold)).fill_null(False)


def log_amounts(t: ibis.Table) -> ibis.Table:
    """The log amounts of the kept purchases with a positive amount (the outlier rule's sample)."""
    kept = t.filter(t.reason.isnull() & (t.amount > 0))
    return kept.select(log_amount=kept.amount.ln())
