"""The clustering stage's tables as the page shows them, in English or Chinese: groups named in the page's
language, headers from :mod:`analysis.i18n` (with this stage's own in :data:`HEADERS`), numbers rounded for
people. The tables themselves (``ClusterRun.tables``) keep their column names; only what is shown changes with
``lang``."""

from __future__ import annotations

import pandas as pd

from analysis.clusters.stage import ClusterRun
from analysis.i18n import check_language, localize
from analysis.tables import escaped, left_aligned

# This stage's headers (column -> (English, Chinese)); the shared ones are in analysis.i18n.HEADERS.
HEADERS: dict[str, tuple[str, str]] = {
    "k": ("Groups (k)", "分组数 k"),
    "clusters_found": ("Groups found", "实际分组数"),
    "spread": ("Within-group spread", "组内离散度"),
    "silhouette": ("Silhouette", "轮廓系数"),
    "calinski_harabasz": ("Calinski-Harabasz", "CH 指数"),
    "davies_bouldin": ("Davies-Bouldin", "DB 指数"),
    "smallest_share": ("Smallest group's share", "最小组占比"),
    "cluster": ("Group", "组号"),
    "name": ("Group name", "客户群"),
    "median_recency_days": ("Median days since last purchase", "距上次购买天数（中位数）"),
    "median_frequency": ("Median orders", "订单数（中位数）"),
    "median_monetary": ("Median total spend", "累计消费（中位数）"),
    "median_tenure_days": ("Median days since first purchase", "距首次购买天数（中位数）"),
    "median_avg_order_value": ("Median order value", "平均订单金额（中位数）"),
    "median_regularity": ("Median irregularity of gaps", "购买间隔不规律度（中位数）"),
    "median_return_share": ("Median share returned", "退货金额占比（中位数）"),
    "median_purchase_days": ("Median purchase days", "购买天数（中位数）"),
    "extreme_share": ("Share of extreme customers", "极端客户占比"),
}
FORMATS = {"customers": "{:,}", "median_recency_days": "{:,.0f}", "median_tenure_days": "{:,.0f}",
           "median_frequency": "{:,.4g}", "median_purchase_days": "{:,.4g}", "median_regularity": "{:.2f}",
           "median_return_share": "{:.1%}", "customer_share": "{:.1%}", "value": "{:,.0f}", "value_share": "{:.1%}",
           "extreme_share": "{:.1%}", "spread": "{:,.0f}", "silhouette": "{:.3f}", "calinski_harabasz": "{:,.0f}",
           "davies_bouldin": "{:.3f}", "smallest_share": "{:.1%}"}  # fmt: skip


def page_table(run: ClusterRun, name: str, lang: str = "en"):
    """A table of the page as people read it, in ``lang``: ``k_table`` (the criteria for each k), ``profiles``
    (each group's size, value and typical customer) or ``customers`` (the group of each customer, first rows);
    headers from :data:`HEADERS` and :data:`analysis.i18n.HEADERS`, numbers rounded for people. A pandas
    ``Styler`` (``customers``: a DataFrame); ``None`` when the run has no such table."""
    i = check_language(lang)
    if name == "customers":
        frame = run.customers.drop(columns=["cluster_name", "cluster_name_zh"][1 - i])
        return localize(frame.rename(columns={"cluster_name_zh": "cluster_name"}).head(10), lang, HEADERS)
    table = run.tables.get(name)
    if table is None or not len(table):
        return None
    if name == "profiles":
        table = table.drop(columns=["name", "name_zh"][1 - i]).rename(columns={"name_zh": "name"})
    shown = localize(table, lang, HEADERS)
    formats = {shown.columns[j]: FORMATS.get(c, "{:,.2f}") for j, c in enumerate(table.columns)
               if pd.api.types.is_float_dtype(table[c]) or c in FORMATS}  # fmt: skip
    names = [shown.columns[j] for j, c in enumerate(table.columns) if c == "name"]  # a name on one line
    style = escaped(shown.style.format(formats, na_rep="-", escape="html"))
    return left_aligned(style, names, white_space="nowrap")

