"""The clustering stage's tables as the page shows them, in English or Chinese: groups named in the page's
language, headers from :mod:`analysis.i18n` (with this stage's own in :data:`HEADERS`), numbers rounded for
people. The tables themselves (``ClustersResult.tables``) keep their column names; only what is shown changes with
``lang``."""

from __future__ import annotations

import pandas as pd

from analysis.clusters.stage import ClustersResult
from analysis.i18n import check_language, localize
from analysis.stage import Text
from analysis.tables import escaped, left_aligned

# This stage's headers (column -> {en, zh}); the shared ones are in analysis.i18n.HEADERS.
HEADERS: dict[str, Text] = {
    "k": {"en": "Groups (k)", "zh": "分组数 k"},
    "clusters_found": {"en": "Groups found", "zh": "实际分组数"},
    "spread": {"en": "Within-group spread", "zh": "组内离散度"},
    "silhouette": {"en": "Silhouette", "zh": "轮廓系数"},
    "calinski_harabasz": {"en": "Calinski-Harabasz", "zh": "CH 指数"},
    "davies_bouldin": {"en": "Davies-Bouldin", "zh": "DB 指数"},
    "smallest_share": {"en": "Smallest group's share", "zh": "最小组占比"},
    "cluster": {"en": "Group", "zh": "组号"},
    "name": {"en": "Group name", "zh": "客户群"},
    "median_recency_days": {"en": "Median days since last purchase", "zh": "距上次购买天数（中位数）"},
    "median_frequency": {"en": "Median orders", "zh": "订单数（中位数）"},
    "median_monetary": {"en": "Median total spend", "zh": "累计消费（中位数）"},
    "median_tenure_days": {"en": "Median days since first purchase", "zh": "距首次购买天数（中位数）"},
    "median_avg_order_value": {"en": "Median order value", "zh": "平均订单金额（中位数）"},
    "median_regularity": {"en": "Median irregularity of gaps", "zh": "购买间隔不规律度（中位数）"},
    "median_return_share": {"en": "Median share returned", "zh": "退货金额占比（中位数）"},
    "median_purchase_days": {"en": "Median purchase days", "zh": "购买天数（中位数）"},
    "extreme_share": {"en": "Share of extreme customers", "zh": "极端客户占比"},
}
FORMATS = {"customers": "{:,}", "median_recency_days": "{:,.0f}", "median_tenure_days": "{:,.0f}",
           "median_frequency": "{:,.4g}", "median_purchase_days": "{:,.4g}", "median_regularity": "{:.2f}",
           "median_return_share": "{:.1%}", "customer_share": "{:.1%}", "value": "{:,.0f}", "value_share": "{:.1%}",
           "extreme_share": "{:.1%}", "spread": "{:,.0f}", "silhouette": "{:.3f}", "calinski_harabasz": "{:,.0f}",
           "davies_bouldin": "{:.3f}", "smallest_share": "{:.1%}"}  # fmt: skip


def names(result: ClustersResult, lang: str = "en") -> dict[int, str]:
    """The cluster names in ``lang``, by cluster number."""
    check_language(lang)
    return {int(i): n[lang] for i, n in result.record["names"].items()}


def page_table(result: ClustersResult, name: str, lang: str = "en"):
    """A table of the page as people read it, in ``lang``; ``None`` when the run has no such table.

    - ``k_table`` (the criteria for each k), ``profiles`` (each group's size, value and typical customer): a pandas
      ``Styler``, headers from :data:`HEADERS` and :data:`analysis.i18n.HEADERS`, numbers rounded for people;
    - ``customers``: the group of each customer, first rows (a DataFrame);
    - the charts' data, groups and classes named in ``lang`` (DataFrames): ``shares`` (each group's share of
      customers and of value), ``scaled_medians``, ``snake``, ``projection`` and the ``overlap_<column>``
      cross-tabs (:func:`overlaps` gives them all)."""
    i = check_language(lang)
    if name == "customers":
        frame = result.columns.drop(columns=["cluster_name", "cluster_name_zh"][1 - i])
        return localize(frame.rename(columns={"cluster_name_zh": "cluster_name"}).head(10), lang, HEADERS)
    if name.startswith("overlap_"):
        return (result.overlaps_zh if lang == "zh" else result.tables).get(name)
    if name in ("shares", "scaled_medians", "snake", "projection"):
        return _named(result, name, lang)
    table = result.tables.get(name)
    if table is None or not len(table):
        return None
    if name == "profiles":
        table = table.drop(columns=["name", "name_zh"][1 - i]).rename(columns={"name_zh": "name"})
    shown = localize(table, lang, HEADERS)
    wanted = {c: "{:,.2f}" for c in table.columns if pd.api.types.is_float_dtype(table[c])}  # any other number
    wanted |= {c: f for c, f in FORMATS.items() if c in table.columns}
    formats = {shown.columns[j]: wanted[c] for j, c in enumerate(table.columns) if c in wanted}
    named = [shown.columns[j] for j, c in enumerate(table.columns) if c == "name"]  # a name on one line
    style = escaped(shown.style.format(formats, na_rep="-", escape="html"))
    return left_aligned(style, named, white_space="nowrap")


def _named(result: ClustersResult, name: str, lang: str) -> pd.DataFrame | None:
    """A chart's table with its groups named in ``lang``: the rows of ``scaled_medians`` and ``snake``, the
    ``name`` column of ``projection``; ``shares``: ``profiles``' shares by name."""
    source = "profiles" if name == "shares" else name
    if source not in result.tables:
        return None
    table = result.tables[source]
    if name == "shares":
        return table.set_index("name" if lang == "en" else "name_zh")[["customer_share", "value_share"]]
    by_name = dict(zip(names(result, "en").values(), names(result, lang).values(), strict=True))
    if name == "projection":
        return table.assign(name=table["name"].map(by_name))
    return table.rename(index=by_name)


def overlaps(result: ClustersResult, lang: str = "en") -> dict[str, pd.DataFrame]:
    """The cross-tabs with the segments page's classes, by the customer table's column (``tier``, ...), clusters
    and classes named in ``lang``, columns in their configured order; empty when the segments did not run."""
    check_language(lang)
    prefix = "overlap_"
    return {n.removeprefix(prefix): page_table(result, n, lang) for n in result.tables if n.startswith(prefix)}
