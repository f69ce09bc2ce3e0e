"""The cohorts stage's tables as the page shows them, in English or Chinese (:func:`page_table`): cohorts named in
the page's language (``2011-03`` / ``2011年3月``), headers from :mod:`analysis.i18n` (with this stage's own in
:data:`HEADERS`), shares in percent and money to the cent. The tables themselves (``CohortsResult.tables``) keep
their column names; only what is shown changes with ``lang``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from analysis.cohorts.describe import cohort_label, period_words
from analysis.i18n import check_language, localize
from analysis.stage import Text
from analysis.tables import escaped, left_aligned

if TYPE_CHECKING:
    from analysis.cohorts.stage import CohortsResult

# This stage's headers (column -> {en, zh}); the shared ones are in analysis.i18n.HEADERS. "{k}" and "{periods}"
# are the comparison period and its unit.
HEADERS: dict[str, Text] = {
    "cohort": {"en": "Cohort (first purchase)", "zh": "客户批次（首次购买）"},
    "customers": {"en": "Customers won", "zh": "获得客户数"},
    "retention_1": {"en": "Bought again 1 {one} later", "zh": "1 {one}后再次购买"},
    "retention_k": {"en": "Bought again {k} {periods} later", "zh": "{k} {periods}后再次购买"},
    "value_k": {"en": "Revenue per customer won, {k} {periods} in", "zh": "每位客户累计收入（{k} {periods}内）"},
    "orders_k": {"en": "Orders per customer won, {k} {periods} in", "zh": "每位客户累计订单（{k} {periods}内）"},
    "value_to_date": {"en": "Revenue per customer won, to date", "zh": "每位客户累计收入（至今）"},
    "periods": {"en": "{Periods} observed", "zh": "已观察{periods}数"},
    "group": {"en": "Group", "zh": "分组"},
    "check": {"en": "Check", "zh": "核对项"},
    "matrix": {"en": "Cohort matrix", "zh": "客户批次矩阵"},
    "compared_with": {"en": "Compared with", "zh": "对比对象"},
    "agrees": {"en": "Agrees", "zh": "一致"},
    "country": {"en": "Country", "zh": "国家"},
    "region": {"en": "Region", "zh": "地区"},
    "city": {"en": "City", "zh": "城市"},
    "industry": {"en": "Industry", "zh": "行业"},
    "customer_type": {"en": "Customer type", "zh": "客户类型"},
    "size": {"en": "Size", "zh": "规模"},
}
# The reconciliation's rows and answers.
CHECKS: dict[str, Text] = {
    "customers": {"en": "Customers won (period 0, all cohorts) = buyers in the customer table",
                  "zh": "获得客户数（第 0 期，全部批次）= 客户表中的已购买客户"},
    "revenue": {"en": "Revenue over the whole matrix = revenue kept by the data-quality check",
                "zh": "矩阵总收入 = 数据质量检查保留的收入"},
    "yes": {"en": "yes", "zh": "是"},
    "no": {"en": "NO", "zh": "否"},
}  # fmt: skip
FORMATS = {"customers": "{:,.0f}", "retention_1": "{:.1%}", "retention_k": "{:.1%}", "value_k": "{:,.2f}",
           "orders_k": "{:,.2f}", "value_to_date": "{:,.2f}", "periods": "{:,.0f}"}  # fmt: skip
PAGE_TABLES = ("cohorts", "reconciliation")  # and by_<attribute>


def table_k(result: CohortsResult) -> int:
    """The comparison period the result's tables have columns for (``retention_<k>``, ``value_<k>``)."""
    return int(result.settings["compare_period"][result.settings["period"]])


def headers(result: CohortsResult, lang: str) -> dict[str, Text]:
    """:data:`HEADERS` with the comparison period and its unit written in, in ``lang`` (the key ``_k`` columns of
    the result's tables renamed ``retention_<k>``, ...)."""
    k = table_k(result)
    out = {}
    for name, t in HEADERS.items():
        words = {kind: {lg: period_words(result.facts["period"], lg)[kind] for lg in ("en", "zh")}
                 for kind in ("one", "many")}  # fmt: skip
        made = {lg: t[lg].format(k=k, one=words["one"][lg], periods=words["many"][lg] if k > 1 else words["one"][lg],
                                 Periods=words["many"][lg].capitalize()) for lg in ("en", "zh")}  # fmt: skip
        out[name.replace("_k", f"_{k}") if name.endswith("_k") else name] = made
    return out


def _cohort_rows(result: CohortsResult, lang: str) -> pd.DataFrame:
    """The per-cohort table, cohorts named in ``lang``; revenue columns only when the data has amounts."""
    table = result.tables["cohorts"]
    if not result.facts["has_amounts"]:
        table = table.drop(columns=[c for c in table if c.startswith("value_")])
    names = [cohort_label(c, result.facts["period"], lang) for c in table.index]
    return table.set_axis(pd.Index(names, name="cohort"))


def _group_rows(result: CohortsResult, name: str) -> pd.DataFrame:
    """A by-attribute table without its curve, revenue or orders per customer as the data has."""
    table = result.tables[name].drop(columns="curve")
    drop = "orders_" if result.facts["has_amounts"] else "value_"
    return table.drop(columns=[c for c in table if c.startswith(drop)]).rename_axis(name[3:])


def reconciliation_table(result: CohortsResult, lang: str) -> pd.DataFrame:
    """The two reconciliations as rows: what is checked, the matrix's number, the number compared with, whether
    they agree."""
    r = result.record["reconciliation"]
    rows = [(CHECKS["customers"][lang], r["customers_acquired"], r["buyers_in_table"], r["customers_match"])]
    if r["revenue"] is not None:
        rows.append((CHECKS["revenue"][lang], r["revenue"], r["revenue_kept"], r["revenue_match"]))
    frame = pd.DataFrame(rows, columns=["check", "matrix", "compared_with", "agrees"]).set_index("check")
    for column in ("matrix", "compared_with"):  # customers, then money
        frame[column] = [f"{int(v):,}" if i == 0 else f"{v:,.2f}" for i, v in enumerate(frame[column])]
    frame["agrees"] = [CHECKS["yes" if ok else "no"][lang] for ok in frame["agrees"]]
    return frame


def page_table(result: CohortsResult, name: str, lang: str = "en"):
    """A table of the page as people read it, in ``lang`` (a pandas ``Styler``; ``None`` when the result has no
    such table): ``cohorts`` (one row per cohort), ``by_<attribute>`` (its largest groups) or ``reconciliation``
    (the two checks)."""
    check_language(lang)
    if name == "reconciliation":
        table = reconciliation_table(result, lang)
        shown = localize(table, lang, headers(result, lang))
        style = escaped(shown.style.format(escape="html")).set_properties(subset=list(shown.columns[:2]),
                                                                          **{"text-align": "right"})  # fmt: skip
        return left_aligned(style, [shown.columns[2]])
    if name not in result.tables or (name not in PAGE_TABLES and not name.startswith("by_")):
        return None
    table = _cohort_rows(result, lang) if name == "cohorts" else _group_rows(result, name)
    shown = localize(table, lang, headers(result, lang))
    k = str(table_k(result))
    formats = {shown.columns[j]: FORMATS.get(c.replace(f"_{k}", "_k") if c.endswith(f"_{k}") else c, "{:,}")
               for j, c in enumerate(table.columns)}  # fmt: skip
    return escaped(shown.style.format(formats, na_rep="-", escape="html"))


def attribute_tables(result: CohortsResult) -> list[str]:
    """The names of the result's by-attribute tables (``by_region``, ...), in the settings' order."""
    return [f"by_{a}" for a in result.facts["attributes"] if f"by_{a}" in result.tables]
