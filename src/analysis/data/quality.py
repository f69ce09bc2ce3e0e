"""The data-quality summary: what came in, what was kept, what was quarantined and why, in English or Chinese:
the numbers (the reason table, the monthly totals) and the sentences. The charts are in :mod:`analysis.data.plots`.

The page's sentences live in :data:`TEXTS`, keyed by message id (each ``{"en": ..., "zh": ...}``), its table
headers in :data:`HEADERS`; the meaning of each quarantine reason comes from :data:`analysis.data.validate.REASONS`.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from analysis.data.validate import REASONS
from analysis.errors import UserError
from analysis.i18n import check_language, localize
from analysis.tables import escaped, left_aligned, markdown_text

TEXTS = {
    "headline": {"en": "**{kept_share:.1%} of the {rows_in:,} input rows were usable**: {rows_kept:,} purchases by "
                       "{customers:,} customers between {date_min} and {date_max}, analysed as of **{as_of}**. ",
                 "zh": "**输入的 {rows_in:,} 行中 {kept_share:.1%} 可用**：{customers:,} 位客户在 {date_min} 至 "
                       "{date_max} 间的 {rows_kept:,} 笔购买，分析截止日为 **{as_of}**。"},
    "headline_set_aside": {"en": "{rows_quarantined:,} rows were set aside with a reason; the main ones: {why}. ",
                           "zh": "{rows_quarantined:,} 行因故被隔离，主要原因：{why}。"},
    "why": {"en": "{meaning} ({n:,} rows)", "zh": "{meaning}（{n:,} 行）"},
    "why_join": {"en": "; ", "zh": "；"},
    "reconciled": {"en": "Every row and every unit of amount is accounted for.",
                   "zh": "每一行、每一笔金额都有着落，对账完全一致。"},
    "not_reconciled": {"en": "**The reconciliation does not add up: please report this.**",
                       "zh": "**对账不一致：请报告此问题。**"},
    "input": {"en": "Input: {input} ({source_format}, encoding {encoding})",
              "zh": "输入：{input}（{source_format}，编码 {encoding}）"},
    "rows": {"en": "Rows in: {rows_in:,}; kept: {rows_kept:,} ({kept_share:.1%}); quarantined: {rows_quarantined:,}",
             "zh": "输入 {rows_in:,} 行；保留 {rows_kept:,} 行（{kept_share:.1%}）；隔离 {rows_quarantined:,} 行"},
    "reason": {"en": "  {code}: {n:,} rows, amount {amount:,.2f} - {meaning}",
               "zh": "  {meaning}（{code}）：{n:,} 行，金额 {amount:,.2f}"},
    "reconciliation": {"en": "Reconciliation: {state}", "zh": "对账：{state}"},
    "reconciliation_ok": {"en": "exact (rows and amounts add up)", "zh": "完全一致（行数与金额均可对上）"},
    "reconciliation_failed": {"en": "FAILED", "zh": "不一致"},
    "customers_line": {"en": "Customers: {customers:,}; purchases from {date_min} to {date_max}; as of {as_of}",
                       "zh": "客户 {customers:,} 位；购买日期 {date_min} 至 {date_max}；分析截止日 {as_of}"},
    "outliers": {"en": "Outliers flagged (kept): {outliers:,}; zero-amount purchases kept: {zero:,}",
                 "zh": "标记为极端值（仍保留）的购买：{outliers:,} 笔；保留的零金额购买：{zero:,} 笔"},
    "date_format": {"en": "Date format: {date_format}", "zh": "日期格式：{date_format}"},
    "mapping": {"en": "Column mapping: {pairs}", "zh": "列的识别：{pairs}"},
    "mapping_pair": {"en": "{role} <- {header}", "zh": "{name}（{role}）← {header}"},
    "list_join": {"en": ", ", "zh": "；"},
    "also_seen": {"en": "  {role}: took {took!r}, also seen {others} (the header nearest a completed purchase is "
                        "preferred; choose with --column {role}=HEADER)",
                  "zh": "  {role}：采用 {took!r}，另见 {others}（优先采用最接近已完成购买的列名；可用 "
                        "--column {role}=列名 指定）"},
    "customer_list": {"en": "Customer list: {listed:,} customers, {never:,} never bought; skipped {no_id:,} rows "
                            "without id and {repeated:,} repeated ids",
                      "zh": "客户名单：{listed:,} 位客户，其中 {never:,} 位从未购买；跳过 {no_id:,} 行无编号的记录和 "
                            "{repeated:,} 个重复编号"},
    "no_amounts": {"en": "Amounts: none (an event log without an amount column): counts and dates are analysed, "
                         "spend is unknown; if there is an amount column, name it with --column amount=HEADER",
                   "zh": "金额：无（没有金额列的事件记录）：只分析次数与日期，消费金额未知；如有金额列，请用 "
                         "--column amount=列名 指定"},
    "amounts": {"en": "Amount in: {amount_in:,.2f}; kept: {amount_kept:,.2f}; netted against kept purchases: "
                      "{netted:,.2f}",
                "zh": "输入金额 {amount_in:,.2f}；保留 {amount_kept:,.2f}；与保留的购买冲抵 {netted:,.2f}"},
    "refunded": {"en": "; partial refunds taken off kept purchases: {refunded:,.2f}",
                 "zh": "；从保留的购买中扣除的部分退款 {refunded:,.2f}"},
    "no_encoding": {"en": "n/a", "zh": "无"},
    "as_of_late": {"en": "Warning: the as-of date {as_of} is {days:,} days after the last purchase ({date_max}); "
                         "if you meant a recent date, run again with --as-of {date_max}.",
                   "zh": "注意：分析截止日 {as_of} 比最后一笔购买（{date_max}）晚 {days:,} 天；如本意是近期日期，"
                         "请用 --as-of {date_max} 重新运行。"},
}  # fmt: skip

# The Chinese page names each column role in Chinese beside its key (the English page shows the key alone).
ROLES = {
    "customer_id": "客户编号", "order_id": "订单号", "timestamp": "日期", "amount": "金额", "quantity": "数量",
    "unit_price": "单价", "product_id": "商品编号", "description": "商品描述", "margin": "毛利", "status": "订单状态",
    "customer_name": "客户名称", "country": "国家", "region": "地区", "city": "城市", "industry": "行业",
    "customer_type": "客户类型", "size": "规模",
}  # fmt: skip

# The reason table's own headers (column -> (English, Chinese)); shared headers come from analysis.i18n.
HEADERS: dict[str, dict[str, str]] = {
    "reason": {"en": "Reason (code in quarantine.csv)", "zh": "原因代码（quarantine.csv）"},
    "meaning": {"en": "Meaning", "zh": "说明"},
    "rows": {"en": "Rows", "zh": "行数"},
    "share_of_rows": {"en": "Share of rows", "zh": "行数占比"},
    "amount": {"en": "Amount", "zh": "金额"},
}


def words(lang: str) -> dict[str, str]:
    """The page's sentences (:data:`TEXTS`) in ``lang``, by message id."""
    check_language(lang)
    return {key: text[lang] for key, text in TEXTS.items()}


def reason_meaning(code: str, lang: str = "en") -> str:
    """What a quarantine reason code means, in ``lang`` (the code itself when it is unknown)."""
    check_language(lang)
    return REASONS[code][lang] if code in REASONS else code


def reason_label(code: str, lang: str = "en") -> str:
    """A short name of a quarantine reason for a chart: the code in English (as in ``quarantine.csv``), the
    meaning without its explanation in Chinese (``order_line`` -> 同一订单的附加行)."""
    if lang == "en":
        return code
    return re.split(r"[:：(（]", reason_meaning(code, lang), maxsplit=1)[0].strip()


def reason_table(quality: dict[str, Any], lang: str = "en") -> pd.DataFrame:
    """One row per quarantine reason, most rows first: code, meaning (in ``lang``), rows, share of rows, amount."""
    rows = [
        {
            "reason": code,
            "meaning": reason_meaning(code, lang),
            "rows": n,
            "share_of_rows": n / quality["rows_in"],
            "amount": quality["amount_quarantined"].get(code, 0.0),
        }
        for code, n in sorted(quality["quarantined"].items(), key=lambda kv: -kv[1])
    ]
    return pd.DataFrame(rows, columns=["reason", "meaning", "rows", "share_of_rows", "amount"])


def show_reasons(quality: dict[str, Any], lang: str = "en"):
    """The reason table as the page shows it: headers in ``lang``, shares in percent, amounts to cents."""
    check_language(lang)
    formats = {HEADERS[c][lang]: f for c, f in (("rows", "{:,}"), ("share_of_rows", "{:.1%}"), ("amount", "{:,.2f}"))}
    text = [HEADERS[c][lang] for c in ("reason", "meaning")]
    table = localize(reason_table(quality, lang), lang, HEADERS)
    return left_aligned(escaped(table.style.format(formats, escape="html")).hide(axis="index"), text)


def summary_lines(quality: dict[str, Any], lang: str = "en") -> list[str]:
    """The data-quality summary in plain sentences, in ``lang`` (used by ``check`` and the first report page)."""
    q, t = quality, words(lang)
    lines = [
        t["input"].format(
            input=q["input"],
            source_format=q["source_format"],
            encoding=q["encoding"] or t["no_encoding"],
        ),
        t["rows"].format(
            rows_in=q["rows_in"],
            rows_kept=q["rows_kept"],
            kept_share=q["rows_kept"] / q["rows_in"],
            rows_quarantined=q["rows_quarantined"],
        ),
        _amount_line(q, lang),
    ]
    for code, n in sorted(q["quarantined"].items(), key=lambda kv: -kv[1]):
        lines.append(
            t["reason"].format(
                code=code, n=n, amount=q["amount_quarantined"].get(code, 0.0), meaning=reason_meaning(code, lang)
            )
        )
    state = t["reconciliation_ok"] if q["reconciled"] else t["reconciliation_failed"]
    pairs = t["list_join"].join(
        t["mapping_pair"].format(role=role, header=header, name=ROLES.get(role, role))
        for role, header in q["mapping"].items()
    )
    lines += [
        t["reconciliation"].format(state=state),
        t["customers_line"].format(
            customers=q["customers"], date_min=q["date_min"], date_max=q["date_max"], as_of=q["as_of"]
        ),
        t["outliers"].format(outliers=q.get("outliers_flagged", 0), zero=q.get("zero_amount_kept", 0)),
        t["date_format"].format(date_format=q["date_format"]),
        t["mapping"].format(pairs=pairs),
    ]
    for role, others in (q.get("columns_also_seen") or {}).items():
        lines.append(t["also_seen"].format(role=role, took=q["mapping"][role], others=", ".join(map(repr, others))))
    if "customer_list" in q:
        cl = q["customer_list"]
        lines.append(
            t["customer_list"].format(
                listed=cl["customers_listed"],
                never=cl["never_bought"],
                no_id=cl["missing_customer_id"],
                repeated=cl["duplicate_customer_id"],
            )
        )
    late = as_of_warning(q, lang)
    return [late, *lines] if late else lines


# An as-of date further than this after the last purchase is likely a typo (2030 for 2023): the run warns.
LATE_AS_OF_DAYS = 365


def as_of_warning(quality: dict[str, Any], lang: str = "en") -> str | None:
    """A warning in ``lang`` when the as-of date is more than a year after the last purchase, naming that
    purchase's date; None otherwise."""
    if not quality.get("date_max"):
        return None
    days = (pd.Timestamp(quality["as_of"]) - pd.Timestamp(quality["date_max"])).days
    if days <= LATE_AS_OF_DAYS:
        return None
    return words(lang)["as_of_late"].format(as_of=quality["as_of"], date_max=quality["date_max"], days=days)


def _amount_line(q: dict[str, Any], lang: str) -> str:
    """The amounts in, kept and netted (or a sentence that the data has none), in ``lang``."""
    t = words(lang)
    if not q.get("has_amounts", True):
        return t["no_amounts"]
    line = t["amounts"].format(
        amount_in=q["amount_in"], amount_kept=q["amount_kept"], netted=q.get("amount_netted", 0.0)
    )
    if q.get("amount_refunded"):
        line += t["refunded"].format(refunded=q["amount_refunded"])
    return line


def summary_markdown(quality: dict[str, Any], lang: str = "en") -> str:
    """:func:`summary_lines` as a Markdown list, for the page; each line escaped (:func:`analysis.tables.markdown_text`:
    it quotes the input's name, headers and values, which must show as written, never as markup)."""
    return "\n".join(
        f"- {markdown_text(line.strip())}" if not line.startswith("  ") else f"    - {markdown_text(line.strip())}"
        for line in summary_lines(quality, lang)
    )


def monthly_revenue(quality: dict[str, Any]) -> pd.DataFrame:
    """Kept ``revenue`` (NaN without amounts) and ``customers`` buying per month (the index: its first day), every
    month from the first to the last purchase (a month without purchases: no revenue, no customers), from the
    per-month totals the engine computed during validation (``quality["monthly"]``)."""
    if "monthly" not in quality:
        raise UserError("this run directory was prepared by an older version (no monthly totals in quality.json): "
                        "run the report again")
    rows = pd.DataFrame(quality["monthly"], columns=["month", "revenue", "customers"])
    months = pd.DatetimeIndex(pd.to_datetime(rows["month"], format="%Y-%m"))
    monthly = pd.DataFrame(
        {"revenue": rows["revenue"].astype("float64").to_numpy(), "customers": rows["customers"].to_numpy()},
        index=months,
    )
    monthly = monthly.reindex(pd.date_range(months.min(), months.max(), freq="MS"))
    monthly["customers"] = monthly["customers"].fillna(0).astype("int64")
    return monthly


def headline(quality: dict[str, Any], lang: str = "en") -> str:
    """A Markdown paragraph for stakeholders, in ``lang``: how much of the data could be used, and why not all."""
    q, t = quality, words(lang)
    top = sorted(q["quarantined"].items(), key=lambda kv: -kv[1])[:3]
    why = t["why_join"].join(t["why"].format(meaning=_clause(reason_meaning(c, lang), lang), n=n) for c, n in top)
    text = t["headline"].format(
        kept_share=q["rows_kept"] / q["rows_in"],
        rows_in=q["rows_in"],
        rows_kept=q["rows_kept"],
        customers=q["customers"],
        date_min=q["date_min"],
        date_max=q["date_max"],
        as_of=q["as_of"],
    )
    if q["rows_quarantined"]:
        text += t["headline_set_aside"].format(rows_quarantined=q["rows_quarantined"], why=why)
    text += t["reconciled"] if q["reconciled"] else t["not_reconciled"]
    late = as_of_warning(q, lang)
    return f"{text}\n\n**{late}**" if late else text


def _clause(meaning: str, lang: str) -> str:
    """A reason's meaning inside a sentence: lower case without the full stop (English), as it is (Chinese)."""
    return meaning.rstrip(".").lower() if lang == "en" else meaning
