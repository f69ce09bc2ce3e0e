"""Validation with quarantine: every input row is either kept or quarantined with a reason.

Rules are applied in a fixed order and a row leaves under the first rule it fails:

1. ``missing_customer_id``; ``order_line``: a further line of an order whose date and amount are
   blank because the order's date, total and status stand on another of its lines (Shopify's
   export: one row per line item, order-level fields on the first); its money is in that total
2. The order's own status (see :mod:`analysis.data.status`): ``cancelled_order`` (closed,
   cancelled or refunded: never netted against other purchases), ``unpaid_order``, and in CRM
   deal exports ``not_won`` (open and lost deals)
3. ``unparsable_date`` 4. ``missing_amount`` 5. ``unparsable_amount``
6. ``duplicate_row`` (an exact copy of an earlier row; the first copy is kept)
7. ``after_as_of`` 8. ``non_product``
9. ``refunded_order``: a refund-amount column (退款金额, Refunded Amount) refunds the whole paid
   amount; a partial refund stays, its amount reduced by the refund (``amount_refunded``)
10. ``zero_amount``, only with ``zero_amount: quarantine``; by default a zero-amount line is a
    purchase event with no spend (a free item or promotion, as in CDNOW), kept and counted
    (``zero_amount_kept``)
11. Returns and cancellations (negative quantity or amount, a cancellation order id such as UCI
   ``C536379``): each is netted against earlier purchases of the same customer and product (or
   the same order when there is no product column), most recent first, in units (quantity when
   there is one, else amount, else rows). A return that earlier purchases cover in full leaves as
   ``return_netted``; a purchase it consumes completely leaves as ``refunded_purchase``; a
   purchase it consumes in part stays, with its amount reduced in proportion. A return that
   earlier purchases cannot cover in full nets nothing and leaves as ``unmatched_return``.
12. ``outlier``: flagged (column ``outlier``) and kept unless ``drop_outliers`` is set.

An event log without any amount column (customer and date only) is valid input: every kept row
has ``amount`` NaN and ``quality["has_amounts"]`` is false; rules 4, 5, 9, 10 and 12 do not apply.

Reconciliation is exact: rows in = rows kept + rows quarantined, and amount in = amount kept +
amount quarantined + the amount by which returns reduced purchases that stayed (``amount_netted``)
+ the partial refunds of purchases that stayed (``amount_refunded``). Without amounts every
amount is 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.data.parsing import parse_amounts, parse_dates, parse_text
from analysis.data.status import status_reasons
from analysis.errors import UserError

REASONS: dict[str, tuple[str, str]] = {
    "missing_customer_id": ("No customer id: the purchase cannot be attributed to a customer.", "缺少客户ID"),
    "order_line": (
        "A further line of an order whose date, total and status are on its first line; its amount is in that total.",
        "同一订单的附加行: 日期、总额和状态在订单首行, 金额已含在总额中",
    ),
    "cancelled_order": (
        "The order's status says it was closed, cancelled or refunded; not a purchase.",
        "订单状态为关闭/取消/退款, 不计为购买",
    ),
    "unpaid_order": ("The order's status says it was never paid.", "订单未付款"),
    "not_won": (
        "A CRM deal that is open or lost; only won deals are purchases.",
        "未赢单的商机(进行中或已输单), 只有赢单计为购买",
    ),
    "unparsable_date": ("The date is missing or cannot be read in the detected format.", "日期缺失或无法解析"),
    "missing_amount": ("No amount (or no quantity / unit price to compute it).", "缺少金额"),
    "unparsable_amount": ("The amount (or quantity / unit price) is not a number.", "金额无法解析"),
    "duplicate_row": ("An exact copy of an earlier row; the first copy is kept.", "重复行"),
    "after_as_of": ("Dated after the as-of date of the analysis.", "晚于分析截止日"),
    "non_product": ("A non-product line (postage, fee or manual adjustment).", "非商品行(运费/手续费/调整)"),
    "refunded_order": ("An order refunded in full (the refund amount equals the paid amount).", "已全额退款的订单"),
    "zero_amount": ("The amount is zero.", "金额为零"),
    "return_netted": (
        "A return or cancellation, netted against the customer's earlier purchase.",
        "退货/取消, 已与原购买冲抵",
    ),
    "refunded_purchase": ("A purchase cancelled in full by a later return.", "已被全额退货的购买"),
    "unmatched_return": (
        "A return or cancellation with no earlier purchase that covers it.",
        "无法匹配原购买的退货/取消",
    ),
    "outlier": ("An extreme amount, dropped because drop_outliers is set.", "极端金额(已剔除)"),
}

ATTRIBUTE_ROLES = ("customer_name", "country", "region", "city", "industry", "customer_type", "size")
TEXT_ROLES = ("product_id", "description", *ATTRIBUTE_ROLES)


@dataclass
class Validated:
    """The kept transactions, the quarantined rows, and the reconciliation."""

    transactions: pd.DataFrame
    quarantine: pd.DataFrame
    quality: dict[str, Any] = field(default_factory=dict)


def _numbers(raw: pd.DataFrame, mapping: dict[str, str], role: str) -> tuple[pd.Series, pd.Series]:
    """(parsed numbers, raw-is-missing mask) for a role."""
    values = raw[mapping[role]]
    if pd.api.types.is_numeric_dtype(values):
        return parse_amounts(values), values.isna()
    missing = values.isna() | (values.astype("string").str.strip() == "")
    return parse_amounts(values), missing.fillna(True).astype(bool)


def _first_reason(reason: pd.Series, mask: pd.Series | np.ndarray, code: str) -> None:
    """Give ``code`` to the rows in ``mask`` that have no reason yet (in place)."""
    reason[np.asarray(mask, dtype=bool) & reason.isna().to_numpy()] = code


def _is_return(std: pd.DataFrame, cfg: dict) -> pd.Series:
    ret = std["amount"] < 0
    if "quantity" in std:
        ret |= std["quantity"] < 0
    if std["order_raw"].notna().any():
        pattern = cfg.get("cancellation_pattern")
        if pattern:
            ret |= std["order_raw"].str.match(pattern).fillna(False).astype(bool)
    return ret.fillna(False).astype(bool)


def _net_returns(std: pd.DataFrame, reason: pd.Series, is_return: pd.Series, cfg: dict) -> float:
    """Net returns against earlier purchases (see module docstring). Updates ``reason`` and
    ``std['amount']`` in place; returns the amount removed from purchases that stay."""
    open_rows = reason.isna().to_numpy()
    returns = std.index[open_rows & is_return.to_numpy()]
    if len(returns) == 0:
        return 0.0
    if "product_id" in std:
        key = std["customer_id"].fillna("") + "\x1f" + std["product_id"].fillna("")
    else:
        # a cancellation refers to its order by the same number without the letter prefix
        order = std["order_raw"].fillna("")
        cancel = order.str.match(cfg.get("cancellation_pattern") or r"(?!)").fillna(False)
        order = order.where(~cancel, order.str.replace(r"^[A-Za-z]+", "", regex=True))
        key = std["customer_id"].fillna("") + "\x1f" + order
    if "quantity" in std:
        units = std["quantity"].abs()
    elif std["amount"].notna().any():
        units = std["amount"].abs()
    else:  # an event log without amounts: each row is one unit
        units = pd.Series(1.0, index=std.index)
    return_keys = set(key[returns])
    purchases = std.index[open_rows & ~is_return.to_numpy() & key.isin(return_keys).to_numpy()]
    ts = std["timestamp"]
    by_key: dict[str, list[int]] = {}
    for i in purchases[np.argsort(ts[purchases].to_numpy(), kind="stable")]:
        by_key.setdefault(key[i], []).append(i)
    remaining = {i: float(units[i]) for i in purchases}
    original = dict(remaining)
    for r in returns[np.argsort(ts[returns].to_numpy(), kind="stable")]:
        need = float(units[r])
        candidates = [i for i in by_key.get(key[r], []) if ts[i] <= ts[r] and remaining[i] > 0]
        if need <= 0 or sum(remaining[i] for i in candidates) + 1e-9 < need:
            reason[r] = "unmatched_return"
            continue
        reason[r] = "return_netted"
        for i in reversed(candidates):  # most recent purchase first
            take = min(need, remaining[i])
            remaining[i] -= take
            need -= take
            if need <= 1e-9:
                break
    netted = 0.0
    for i, left in remaining.items():
        if left >= original[i] - 1e-12:
            continue
        if left <= 1e-9:
            reason[i] = "refunded_purchase"
        else:
            before = std.at[i, "amount"]
            std.at[i, "amount"] = before * left / original[i]
            if not np.isnan(before):
                netted += before - std.at[i, "amount"]
    return netted


def flag_outliers(amount: pd.Series, k: float) -> pd.Series:
    """True where log(amount) > median + k * 1.4826 * MAD of the log amounts (upper tail only).

    No line is flagged when fewer than 10 amounts are given or the MAD is zero.
    """
    flags = pd.Series(False, index=amount.index)
    positive = amount[amount > 0]
    if len(positive) < 10:
        return flags
    logs = np.log(positive.to_numpy())
    med = np.median(logs)
    mad = 1.4826 * np.median(np.abs(logs - med))
    if mad == 0:
        return flags
    flags[positive.index] = logs > med + k * mad
    return flags


def standardise(raw: pd.DataFrame, mapping: dict[str, str], data_cfg: dict) -> tuple[pd.DataFrame, str, dict]:
    """Typed canonical columns for each mapped role; also the date format used and missing masks."""
    std = pd.DataFrame(index=raw.index)
    std["customer_id"] = parse_text(raw[mapping["customer_id"]])
    std["order_raw"] = (
        parse_text(raw[mapping["order_id"]])
        if "order_id" in mapping
        else pd.Series(pd.NA, index=raw.index, dtype="string")
    )
    ts_raw = raw[mapping["timestamp"]]
    std["timestamp"], date_format = parse_dates(
        ts_raw, fmt=data_cfg.get("date_format"), timezone=data_cfg.get("timezone") or "UTC"
    )
    masks = {}
    for role in ("quantity", "unit_price", "margin"):
        if role in mapping:
            std[role], masks[f"{role}_missing"] = _numbers(raw, mapping, role)
    if "amount" in mapping:
        std["amount"], masks["amount_missing"] = _numbers(raw, mapping, "amount")
    elif {"quantity", "unit_price"} <= mapping.keys():
        std["amount"] = std["quantity"] * std["unit_price"]
        masks["amount_missing"] = masks["quantity_missing"] | masks["unit_price_missing"]
    else:  # an event log without amounts
        std["amount"] = np.nan
    if "refund" in mapping:
        std["refund"] = _numbers(raw, mapping, "refund")[0].abs().fillna(0.0)
    for role in (*TEXT_ROLES, "status", "deal_stage"):
        if role in mapping:
            std[role] = parse_text(raw[mapping[role]])
    return std, date_format, masks


def validate(
    raw: pd.DataFrame,
    mapping: dict[str, str],
    config: dict,
    as_of: Any = None,
) -> Validated:
    """Split raw rows into kept transactions and a quarantine, and reconcile the two.

    ``raw`` holds the rows as read; ``mapping`` maps roles to its headers. ``as_of`` (a date) is
    the end of the observation window; ``None`` means the last valid purchase date.
    """
    if len(raw) == 0:
        raise UserError("the input has no data rows: add transactions below the header")
    data_cfg = config.get("data", {})
    cfg = config.get("validation", {})
    raw = raw.reset_index(drop=True)
    std, date_format, masks = standardise(raw, mapping, data_cfg)
    has_amounts = "amount_missing" in masks
    reason = pd.Series(pd.NA, index=raw.index, dtype="object")

    _first_reason(reason, std["customer_id"].isna(), "missing_customer_id")
    if has_amounts:
        _first_reason(reason, _order_lines(std, masks["amount_missing"]), "order_line")
    by_status = status_reasons(std, cfg)
    for code in ("cancelled_order", "unpaid_order", "not_won"):
        _first_reason(reason, by_status == code, code)
    _first_reason(reason, std["timestamp"].isna(), "unparsable_date")
    if has_amounts:
        _first_reason(reason, masks["amount_missing"], "missing_amount")
        _first_reason(reason, std["amount"].isna(), "unparsable_amount")
    _first_reason(reason, raw.duplicated(keep="first"), "duplicate_row")

    if as_of is None:
        usable = std.loc[reason.isna(), "timestamp"]
        if usable.empty:
            raise UserError(_no_rows_message(reason))
        as_of_ts = usable.max().normalize()
    else:
        try:
            as_of_ts = pd.Timestamp(as_of).normalize()
        except (ValueError, TypeError):
            raise UserError(f"as-of date {as_of!r} is not a date: use YYYY-MM-DD") from None
    _first_reason(reason, std["timestamp"] >= as_of_ts + pd.Timedelta(days=1), "after_as_of")

    non_product = pd.Series(False, index=raw.index)
    if "product_id" in std:
        codes = {str(c).strip().upper() for c in cfg.get("non_product_codes") or []}
        non_product |= std["product_id"].str.upper().isin(codes).fillna(False).astype(bool)
    if "description" in std:
        descs = {str(c).strip().lower() for c in cfg.get("non_product_descriptions") or []}
        non_product |= std["description"].str.lower().isin(descs).fillna(False).astype(bool)
    _first_reason(reason, non_product, "non_product")

    amount_raw = std["amount"].copy()
    refund = _apply_refunds(std, reason)
    zero = cfg.get("zero_amount", "keep")
    if zero not in ("quarantine", "keep"):
        raise UserError(f"validation.zero_amount is {zero!r}: use keep or quarantine")
    if zero == "quarantine":
        _first_reason(reason, std["amount"] == 0, "zero_amount")

    is_return = _is_return(std, cfg)
    netted = _net_returns(std, reason, is_return, cfg)

    kept = reason.isna()
    outlier = flag_outliers(std["amount"].where(kept), float(cfg.get("outlier_mad_k", 5.0)))
    if cfg.get("drop_outliers"):
        _first_reason(reason, outlier, "outlier")
        kept = reason.isna()
    if not kept.any():
        raise UserError(_no_rows_message(reason))

    transactions = _transactions(std[kept], outlier[kept])
    quarantine = _quarantine(raw, reason, amount_raw)
    quality = _reconcile(raw, reason, amount_raw, transactions, netted, float(refund[kept].sum()))
    quality.update(
        has_amounts=has_amounts,
        outliers_flagged=int(outlier[kept].sum()),
        zero_amount_kept=int((transactions["amount"] == 0).sum()),
        as_of=str(as_of_ts.date()),
        date_format=date_format,
        mapping=dict(mapping),
    )
    return Validated(transactions, quarantine, quality)


def _order_lines(std: pd.DataFrame, amount_missing: pd.Series) -> pd.Series:
    """Rows without date and amount whose order id also stands on a row that has a date or an
    amount: the order's first line (see rule 1)."""
    order = std["order_raw"]
    blank = std["timestamp"].isna() & amount_missing & order.notna()
    if not blank.any():
        return blank
    first_lines = order[~blank & order.notna()]
    return blank & order.isin(first_lines.unique())


def _apply_refunds(std: pd.DataFrame, reason: pd.Series) -> pd.Series:
    """Subtract the refund column from the paid amount of rows still open: a row refunded in full
    (and paid something) leaves as ``refunded_order``; a partial refund reduces the amount in place.
    Returns the refund subtracted per row (0 where none)."""
    if "refund" not in std:
        return pd.Series(0.0, index=std.index)
    open_rows = reason.isna()
    paid = std["amount"]
    full = open_rows & (paid > 0) & (std["refund"] >= paid - 1e-9)
    _first_reason(reason, full, "refunded_order")
    partial = open_rows & ~full & (std["refund"] > 0) & (paid > 0)
    applied = std["refund"].where(partial, 0.0)
    std["amount"] = paid - applied
    return applied


def _no_rows_message(reason: pd.Series) -> str:
    counts = reason.value_counts()
    detail = ", ".join(f"{code} {n}" for code, n in counts.items())
    hints = {
        "after_as_of": "every purchase is after the as-of date: check --as-of",
        "unparsable_date": "check the date column and --date-format",
        "missing_customer_id": "check which column holds the customer id (--column customer_id=HEADER)",
        "not_won": "only won deals are purchases (validation.deal_won); if that column is not a deal stage, "
        "set data.headers.deal_stage to [] in your config",
        "cancelled_order": "every order's status says closed, cancelled or refunded (validation.order_status)",
    }
    top = str(counts.index[0]) if len(counts) else ""
    hint = hints.get(top, "check the column mapping and date format")
    return f"no valid rows left after validation ({detail}): {hint}"


def _transactions(std: pd.DataFrame, outlier: pd.Series) -> pd.DataFrame:
    order = std["order_raw"]
    if order.isna().any():  # no order id: an order is a customer's purchase at one moment
        derived = std["customer_id"] + "@" + std["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S")
        order = order.fillna(derived)
    tx = pd.DataFrame(
        {
            "customer_id": std["customer_id"].astype(str),
            "order_id": order.astype(str),
            "timestamp": std["timestamp"].astype("datetime64[ns]"),
            "amount": std["amount"].astype("float64"),
            "outlier": outlier.astype(bool),
        }
    )
    for col in ("quantity", "unit_price", "margin"):
        if col in std:
            tx[col] = std[col].astype("float64")
    for col in TEXT_ROLES:
        if col in std:
            tx[col] = std[col].astype(object).where(std[col].notna(), None)
    return tx.reset_index(drop=True)


def _quarantine(raw: pd.DataFrame, reason: pd.Series, amount: pd.Series) -> pd.DataFrame:
    out = raw[reason.notna()].copy()
    codes = reason[reason.notna()].astype(str)
    out.insert(0, "row", out.index + 1)
    out.insert(1, "reason", codes)
    out.insert(2, "explanation", codes.map(lambda c: REASONS[c][0]))
    out.insert(3, "amount_parsed", amount[reason.notna()])
    return out.reset_index(drop=True)


def _reconcile(raw, reason, amount_raw, transactions, netted, refunded) -> dict[str, Any]:
    amounts = amount_raw.fillna(0.0)
    q = reason.dropna().astype(str)
    quarantined = {c: int(n) for c, n in q.value_counts().sort_index().items()}
    amount_q = {c: float(amounts[q.index][q == c].sum()) for c in quarantined}
    amount_in = float(amounts.sum())
    amount_kept = float(transactions["amount"].sum())
    gap = amount_in - amount_kept - sum(amount_q.values()) - netted - refunded
    scale = max(1.0, float(amounts.abs().sum()))
    rows_kept = len(transactions)
    ts = transactions["timestamp"]
    return {
        "rows_in": len(raw),
        "rows_kept": rows_kept,
        "rows_quarantined": int(len(q)),
        "quarantined": quarantined,
        "amount_in": round(amount_in, 6),
        "amount_kept": round(amount_kept, 6),
        "amount_quarantined": {c: round(v, 6) for c, v in amount_q.items()},
        "amount_netted": round(netted, 6),
        "amount_refunded": round(refunded, 6),
        "reconciled": bool(rows_kept + len(q) == len(raw) and abs(gap) <= 1e-9 * scale),
        "customers": int(transactions["customer_id"].nunique()),
        "date_min": str(ts.min().date()),
        "date_max": str(ts.max().date()),
    }
