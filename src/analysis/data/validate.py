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

The rules are Ibis expressions (:mod:`analysis.data.rules`) over the canonical columns
(:mod:`analysis.data.standardise`), run by the SQL engine (:mod:`analysis.data.engine`): DuckDB
streams a Parquet file through them without reading its rows into pandas, and the same expressions
run on Spark. Only netting (rule 11, :mod:`analysis.data.returns`) runs in Python, on the returns and
the purchases that share a key with one.

Reconciliation is exact: rows in = rows kept + rows quarantined, and amount in = amount kept +
amount quarantined + the amount by which returns reduced purchases that stayed (``amount_netted``)
+ the partial refunds of purchases that stayed (``amount_refunded``). Without amounts every
amount is 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from analysis.data import engine, rules
from analysis.data.engine import ROW
from analysis.data.returns import candidates, net_returns
from analysis.data.standardise import NUMBER_ROLES, frame_table, standardise
from analysis.data.status import status_reasons
from analysis.errors import UserError
from analysis.stage import Text, text
from analysis.tables import formula_guarded_frame, formula_guarded_value

REASONS: dict[str, Text] = {
    "missing_customer_id": text(
        "No customer id: the purchase cannot be attributed to a customer.",
        "缺少客户ID",
    ),
    "order_line": text(
        "A further line of an order whose date, total and status are on its first line; its amount is in that total.",
        "同一订单的附加行：日期、总额和状态在订单首行，金额已含在总额中",
    ),
    "cancelled_order": text(
        "The order's status says it was closed, cancelled or refunded; not a purchase.",
        "订单状态为关闭、取消或退款，不计为购买",
    ),
    "unpaid_order": {"en": "The order's status says it was never paid.", "zh": "订单未付款"},
    "not_won": text(
        "A CRM deal that is open or lost; only won deals are purchases.",
        "未赢单的商机（进行中或已输单），只有赢单计为购买",
    ),
    "unparsable_date": text(
        "The date is missing or cannot be read in the detected format.",
        "日期缺失或无法解析",
    ),
    "missing_amount": {"en": "No amount (or no quantity / unit price to compute it).", "zh": "缺少金额"},
    "unparsable_amount": {"en": "The amount (or quantity / unit price) is not a number.", "zh": "金额无法解析"},
    "duplicate_row": {"en": "An exact copy of an earlier row; the first copy is kept.", "zh": "重复行"},
    "after_as_of": {"en": "Dated after the as-of date of the analysis.", "zh": "晚于分析截止日"},
    "non_product": text(
        "A non-product line (postage, fee or manual adjustment).",
        "非商品行（运费、手续费或调整）",
    ),
    "refunded_order": text(
        "An order refunded in full (the refund amount equals the paid amount).",
        "已全额退款的订单",
    ),
    "zero_amount": {"en": "The amount is zero.", "zh": "金额为零"},
    "return_netted": text(
        "A return or cancellation, netted against the customer's earlier purchase.",
        "退货或取消，已与原购买冲抵",
    ),
    "refunded_purchase": {"en": "A purchase cancelled in full by a later return.", "zh": "已被全额退货的购买"},
    "unmatched_return": text(
        "A return or cancellation with no earlier purchase that covers it.",
        "无法匹配原购买的退货或取消",
    ),
    "outlier": {"en": "An extreme amount, dropped because drop_outliers is set.", "zh": "极端金额（已剔除）"},
}

ATTRIBUTE_ROLES = ("customer_name", "country", "region", "city", "industry", "customer_type", "size")
TEXT_ROLES = ("product_id", "description", *ATTRIBUTE_ROLES)

# Amounts are reconciled as exact decimals (a parallel float sum depends on the order the threads add
# in); absurdly large values, which the decimal cannot hold, are added as floats.
NO_ROWS = "the input has no data rows: add transactions below the header"
_EXACT = "decimal(38, 10)"
_EXACT_LIMIT = 1e27


@dataclass
class Validated:
    """The reconciliation (``quality``) and, in the engine ``con``, the kept purchases with their input row
    numbers (``kept``, for the per-customer features) and the quarantined rows as read (``quarantined``).

    The rows stay in the engine (28M kept purchases at 10M customers): :attr:`transactions` and
    :attr:`quarantine` read them into pandas when first asked for, :meth:`write_transactions` streams the kept
    purchases into a file without that."""

    quality: dict[str, Any]
    kept: ibis.Table
    quarantined: ibis.Table
    con: Any
    as_read: Callable[[pd.DataFrame], pd.DataFrame] = field(default=lambda frame: frame, repr=False)
    formula_guard: bool = True  # export.csv_formula_guard: quarantine.csv's text cells guarded against formulas

    @cached_property
    def transactions(self) -> pd.DataFrame:
        """The kept purchases in input order, columns as in ARCHITECTURE.md."""
        return _transactions(self.con, self.kept)

    @cached_property
    def quarantine(self) -> pd.DataFrame:
        """The quarantined rows as read, in input order, with their row number, reason, its explanation and
        the amount as parsed."""
        return self.as_read(_quarantine(self.con, self.quarantined))

    def write_transactions(self, path: Path) -> None:
        """The kept purchases, in input order, into the Parquet file ``path`` (read back: :attr:`transactions`)."""
        engine.write_parquet(self.con, self.kept.order_by(ROW).drop(ROW), path)

    def write_quarantine(self, path: Path) -> None:
        """The quarantine as CSV (UTF-8 with BOM, for Excel); with :attr:`formula_guard`, a text cell that begins
        with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` (the rows as read are
        someone else's text: in a spreadsheet it must not run as a formula)."""
        frame = self.__dict__.get("quarantine")
        frame = self.as_read(_quarantine(self.con, self.quarantined)) if frame is None else frame
        if self.formula_guard:
            frame = formula_guarded_frame(frame)
            frame = frame.set_axis([formula_guarded_value(str(c)) for c in frame.columns], axis=1)
        frame.to_csv(path, index=False, encoding="utf-8-sig")


def validate(raw: pd.DataFrame, mapping: dict[str, str], config: dict, as_of: Any = None) -> Validated:
    """Split raw rows into kept transactions and a quarantine, and reconcile the two.

    ``raw`` holds the rows as read; ``mapping`` maps roles to its headers. ``as_of`` (a date) is
    the end of the observation window; ``None`` means the last valid purchase date.
    """
    if len(raw) == 0:
        raise UserError(NO_ROWS)
    table, date_format = frame_table(raw, mapping, config["data"])
    return validate_table(engine.connect(), table, mapping, config, as_of, date_format)


def validate_raw(raw: Any, config: dict, as_of: Any = None, con: Any = None) -> Validated:
    """:func:`validate_table` for what :func:`analysis.data.load.read_transactions` read: a Parquet
    file is scanned by the engine, other inputs arrive as the frame read."""
    con = con if con is not None else engine.connect()
    if isinstance(raw.source, pd.DataFrame):
        table, date_format = frame_table(raw.source, raw.mapping, config["data"])
    else:
        table, date_format = raw.table(con), None
    checked = validate_table(con, table, raw.mapping, config, as_of, date_format)
    checked.as_read = raw.as_read
    return checked


def validate_table(
    con: Any,
    raw: ibis.Table,
    mapping: dict[str, str],
    config: dict,
    as_of: Any = None,
    date_format: str | None = None,
) -> Validated:
    """:func:`validate` for raw rows already in the engine ``con``: an Ibis table with the input's
    columns and its row numbers (:data:`analysis.data.engine.ROW`), and possibly values already read
    in Python (:func:`analysis.data.standardise.frame_table`, which gives ``date_format``)."""
    data_cfg = config["data"]
    cfg = config["validation"]
    zero = cfg["zero_amount"]
    if zero not in ("quarantine", "keep"):
        raise UserError(f"validation.zero_amount is {zero!r}: use keep or quarantine")
    if engine.is_duckdb(con):
        con.raw_sql(f"SET TimeZone = '{str(data_cfg['timezone']).replace(chr(39), '')}'")
    elif getattr(con, "name", "") == "postgres":  # the input's own server: its stored zones read in this one too
        con.raw_sql(f"SET TIME ZONE '{str(data_cfg['timezone']).replace(chr(39), '')}'").close()
    std, date_format, has_amounts = standardise(con, raw, mapping, data_cfg, date_format)
    std = status_reasons(con, std, cfg)
    std = std.mutate(reason=rules.row_rules(std, has_amounts), amount_raw=std.amount)
    first = engine.materialise(con, std.drop("duplicate_row", "status_reason", "amount_missing"))
    as_of_ts = _as_of(con, first, as_of)

    t = first.mutate(
        reason=rules.first_reason(
            first.reason,
            [("after_as_of", rules.after_as_of(first, ibis.literal(as_of_ts.date()))),
             ("non_product", rules.non_product(first, cfg))],
        )
    )
    full, applied = rules.refunds(t)
    t = t.mutate(reason=rules.first_reason(t.reason, [("refunded_order", full)]), refund_applied=applied)
    t = t.mutate(amount=t.amount - t.refund_applied)
    if zero == "quarantine":
        t = t.mutate(reason=rules.first_reason(t.reason, [("zero_amount", t.amount == 0)]))
    t = t.mutate(is_return=rules.is_return(t, cfg), net_key=rules.return_key(t, cfg),
                 units=rules.return_units(t, has_amounts))
    netting = net_returns(engine.execute(con, candidates(t)))
    t = _apply_netting(t, netting.as_frame())
    settled = engine.materialise(con, t.drop("is_return", "net_key", "units"))
    engine.release(con, first)  # every later step reads the settled rows

    threshold = outlier_threshold(con, settled, float(cfg["outlier_mad_k"]))
    final = settled.mutate(outlier=rules.outliers(settled, threshold))
    if cfg["drop_outliers"]:
        final = final.mutate(reason=rules.first_reason(final.reason, [("outlier", final.outlier)]))
    summary = _summary(con, final)
    if summary.empty:
        raise UserError(NO_ROWS)
    if summary["reason"].notna().all():
        raise UserError(_no_rows_message(summary))

    kept = _kept(final, mapping)
    quality, counts = _reconcile(summary, netting.netted)
    quality.update(
        has_amounts=has_amounts,
        **counts,
        as_of=str(as_of_ts.date()),
        date_format=date_format,
        mapping=dict(mapping),
        monthly=_monthly(con, kept, has_amounts),
    )
    guard = bool(config["export"]["csv_formula_guard"])
    return Validated(quality, kept, _quarantined(raw, final), con, formula_guard=guard)


def _as_of(con: Any, t: ibis.Table, as_of: Any) -> pd.Timestamp:
    """The as-of day: given, or the day of the last purchase no rule has quarantined so far."""
    if as_of is not None:
        try:
            return pd.Timestamp(as_of).normalize()
        except (ValueError, TypeError):
            raise UserError(f"as-of date {as_of!r} is not a date: use YYYY-MM-DD") from None
    last = engine.execute(con, t.filter(t.reason.isnull()).timestamp.max())
    if last is None or pd.isna(last):
        counts = engine.execute(con, t.group_by("reason").aggregate(rows=ibis._.count(), first_row=ibis._[ROW].min()))
        raise UserError(_no_rows_message(counts) if len(counts) else NO_ROWS)
    return pd.Timestamp(last).normalize()


def _apply_netting(t: ibis.Table, changes: pd.DataFrame) -> ibis.Table:
    """``t`` with the reasons and reduced amounts netting gave (see :mod:`analysis.data.returns`)."""
    if changes.empty:
        return t
    net = ibis.memtable(changes, schema={ROW: "int64", "net_reason": "string", "net_amount": "float64"})
    joined = t.left_join(net, t[ROW] == net[ROW])
    return joined.select(
        *[c for c in t.columns if c not in ("reason", "amount")],
        reason=ibis.coalesce(t.reason, net.net_reason),
        amount=ibis.coalesce(net.net_amount, t.amount),
    )


def outlier_threshold(con: Any, t: ibis.Table, k: float) -> float | None:
    """The log amount above which a kept purchase is an outlier: median + k * 1.4826 * MAD of the
    log amounts (upper tail only); None when fewer than 10 amounts are positive or the MAD is zero."""
    logs = rules.log_amounts(t)
    stats = engine.execute(con, logs.aggregate(n=logs.count(), median=logs.log_amount.median()))
    if int(stats["n"].iloc[0]) < 10:
        return None
    med = float(stats["median"].iloc[0])
    spread = engine.execute(con, (logs.log_amount - med).abs().median())
    mad = 1.4826 * float(spread)
    if mad == 0:
        return None
    return med + k * mad


def flag_outliers(amount: pd.Series, k: float) -> pd.Series:
    """True where log(amount) > median + k * 1.4826 * MAD of the log amounts (upper tail only).

    No line is flagged when fewer than 10 amounts are given or the MAD is zero.
    """
    con = engine.connect()
    frame = pd.DataFrame({ROW: range(len(amount)), "amount": amount.to_numpy(dtype="float64")})
    t = ibis.memtable(frame).mutate(reason=ibis.null("string"))
    flags = t.select(ROW, flag=rules.outliers(t, outlier_threshold(con, t, k))).order_by(ROW)
    return pd.Series(engine.execute(con, flags)["flag"].to_numpy(dtype=bool), index=amount.index)


def _exact_sum(value: ibis.NumericValue) -> ibis.Value:
    small = value.abs() < _EXACT_LIMIT
    return ibis.ifelse(small, value, 0.0).cast(_EXACT).sum(), ibis.ifelse(small, 0.0, value).sum()


def _summary(con: Any, t: ibis.Table) -> pd.DataFrame:
    """One row per reason (NULL: kept): rows, first row, exact sums of the parsed amount, its
    absolute value, the kept amount and the refunds taken off, outliers, zero amounts, dates."""
    aggs: dict[str, ibis.Value] = {"rows": t.count(), "first_row": t[ROW].min()}
    for name, value in (("amount_raw", t.amount_raw), ("abs_raw", t.amount_raw.abs()), ("amount", t.amount),
                        ("refund", t.refund_applied)):
        aggs[name], aggs[f"{name}_big"] = _exact_sum(value.fill_null(0.0))
    aggs.update(
        outliers=ibis.ifelse(t.outlier, 1, 0).sum(),
        zeros=ibis.ifelse((t.amount == 0).fill_null(False), 1, 0).sum(),
        date_min=t.timestamp.min(),
        date_max=t.timestamp.max(),
        customers=t.customer_id.nunique(),
    )
    out = engine.execute(con, t.group_by("reason").aggregate(**aggs))
    for name in ("amount_raw", "abs_raw", "amount", "refund"):
        pairs = zip(out[name], out[f"{name}_big"], strict=True)
        out[name] = [Decimal(a or 0) + Decimal(float(b or 0)) for a, b in pairs]
    out["reason"] = out["reason"].astype(object).where(out["reason"].notna(), None)
    return out.sort_values(["rows", "first_row"], ascending=[False, True], kind="stable").reset_index(drop=True)


def _no_rows_message(summary: pd.DataFrame) -> str:
    counts = summary[summary["reason"].notna()].sort_values(["rows", "first_row"], ascending=[False, True])
    detail = ", ".join(f"{code} {int(n)}" for code, n in zip(counts["reason"], counts["rows"], strict=True))
    hints = {
        "after_as_of": "every purchase is after the as-of date: check --as-of",
        "unparsable_date": "check the date column and --date-format",
        "missing_customer_id": "check which column holds the customer id (--column customer_id=HEADER)",
        "not_won": "only won deals are purchases (validation.deal_won); if that column is not a deal stage, "
        "set data.headers.deal_stage to [] in your config",
        "cancelled_order": "every order's status says closed, cancelled or refunded (validation.order_status)",
    }
    top = str(counts["reason"].iloc[0]) if len(counts) else ""
    hint = hints.get(top, "check the column mapping and date format")
    return f"no valid rows left after validation ({detail}): {hint}"


def _kept(t: ibis.Table, mapping: dict[str, str]) -> ibis.Table:
    """The kept purchases in the columns of the validated transactions (see ARCHITECTURE.md); without
    an order id an order is a customer's purchase at one moment."""
    kept = t.filter(t.reason.isnull())
    derived = kept.customer_id + "@" + kept.timestamp.strftime("%Y-%m-%d") + "T" + kept.timestamp.strftime("%H:%M:%S")
    columns = {
        ROW: kept[ROW],
        "customer_id": kept.customer_id,
        "order_id": ibis.coalesce(kept.order_raw, derived),
        "timestamp": kept.timestamp,
        "amount": kept.amount,
        "outlier": kept.outlier,
    }
    columns.update({c: kept[c] for c in (*NUMBER_ROLES, *TEXT_ROLES) if c in kept.columns})
    return kept.select(**columns)


def _transactions(con: Any, kept: ibis.Table) -> pd.DataFrame:
    """The kept purchases as a pandas frame, in input order."""
    tx = engine.execute(con, kept.order_by(ROW)).drop(columns=ROW)
    tx["customer_id"] = tx["customer_id"].astype(str)
    tx["order_id"] = tx["order_id"].astype(str)
    tx["timestamp"] = pd.to_datetime(tx["timestamp"]).astype("datetime64[ns]")
    for col in ("amount", *NUMBER_ROLES):
        if col in tx:
            tx[col] = tx[col].astype("float64")
    tx["outlier"] = tx["outlier"].astype(bool)
    for col in TEXT_ROLES:
        if col in tx:
            tx[col] = tx[col].astype(object).where(tx[col].notna(), None)
    return tx.reset_index(drop=True)


def _monthly(con: Any, kept: ibis.Table, has_amounts: bool) -> list[dict[str, Any]]:
    """Per calendar month with kept purchases (``YYYY-MM``): the revenue (an exact sum, as ``amount_kept``; None
    without amounts) and the customers buying, for the quality page's chart."""
    month = kept.timestamp.truncate("M")
    revenue, big = _exact_sum(kept.amount.fill_null(0.0))
    by_month = kept.group_by(month=month).aggregate(revenue=revenue, big=big, customers=kept.customer_id.nunique())
    out = engine.execute(con, by_month.order_by("month"))
    return [
        {
            "month": pd.Timestamp(m).strftime("%Y-%m"),
            "revenue": round(float(Decimal(r or 0) + Decimal(float(b or 0))), 6) if has_amounts else None,
            "customers": int(n),
        }
        for m, r, b, n in zip(out["month"], out["revenue"], out["big"], out["customers"], strict=True)
    ]


def _quarantined(raw: ibis.Table, t: ibis.Table) -> ibis.Table:
    """The quarantined rows as read (an engine table), with their row number, reason and the amount as parsed."""
    q = t.filter(t.reason.notnull()).select(ROW, "reason", amount_parsed="amount_raw")
    return raw.join(q, raw[ROW] == q[ROW]).select(row=raw[ROW], reason=q.reason, amount_parsed=q.amount_parsed,
                                                  **{c: raw[c] for c in engine.raw_columns(raw)})


def _quarantine(con: Any, quarantined: ibis.Table) -> pd.DataFrame:
    """The quarantined rows as a pandas frame, in input order, with the explanation of each reason."""
    out = engine.execute(con, quarantined.order_by("row"))
    out.insert(2, "explanation", out["reason"].map(lambda c: REASONS[c]["en"]))
    out["row"] = out["row"].astype("int64")
    out["amount_parsed"] = out["amount_parsed"].astype("float64")
    return out.reset_index(drop=True)


def _reconcile(summary: pd.DataFrame, netted: float) -> tuple[dict, dict]:
    """(the reconciliation of rows and amounts, the counts of kept outliers and zero amounts)."""
    kept_row = summary[summary["reason"].isna()].iloc[0]
    quarantined_rows = summary[summary["reason"].notna()].sort_values("reason")
    quarantined = {str(c): int(n) for c, n in zip(quarantined_rows["reason"], quarantined_rows["rows"], strict=True)}
    amount_q = {str(c): float(a) for c, a in zip(quarantined_rows["reason"], quarantined_rows["amount_raw"],
                                                 strict=True)}
    amount_in = float(sum(summary["amount_raw"], Decimal(0)))
    amount_kept = float(kept_row["amount"])
    refunded = float(kept_row["refund"])
    gap = amount_in - amount_kept - sum(amount_q.values()) - netted - refunded
    scale = max(1.0, float(sum(summary["abs_raw"], Decimal(0))))
    rows_in = int(summary["rows"].sum())
    rows_kept = int(kept_row["rows"])
    rows_quarantined = sum(quarantined.values())
    return {
        "rows_in": rows_in,
        "rows_kept": rows_kept,
        "rows_quarantined": rows_quarantined,
        "quarantined": quarantined,
        "amount_in": round(amount_in, 6),
        "amount_kept": round(amount_kept, 6),
        "amount_quarantined": {c: round(v, 6) for c, v in amount_q.items()},
        "amount_netted": round(netted, 6),
        "amount_refunded": round(refunded, 6),
        "reconciled": bool(rows_kept + rows_quarantined == rows_in and abs(gap) <= 1e-9 * scale),
        "customers": int(kept_row["customers"]),
        "date_min": str(pd.Timestamp(kept_row["date_min"]).date()),
        "date_max": str(pd.Timestamp(kept_row["date_max"]).date()),
    }, {"outliers_flagged": int(kept_row["outliers"]), "zero_amount_kept": int(kept_row["zeros"])}
