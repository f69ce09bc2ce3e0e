"""The language of a page: table headers people read, in English or Chinese (``--lang en|zh``).

Every stage shows tables whose columns share a vocabulary (customers, share of value, the customer table's own
columns); :data:`HEADERS` holds those once, and a stage passes its own extra headers to :func:`localize`. Texts
of charts and sentences live beside the code that draws or writes them (a ``TEXTS`` dict per module, keyed
``en`` / ``zh``), as in :mod:`analysis.report.summary`.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

LANGUAGES = ("en", "zh")

# Column name -> (English header, Chinese header), for the columns several pages show.
HEADERS: dict[str, tuple[str, str]] = {
    "customer_id": ("Customer", "客户编号"),
    "customer_name": ("Name", "客户名称"),
    "customers": ("Customers", "客户数"),
    "customer_share": ("Share of customers", "客户占比"),
    "value": ("Value", "价值"),
    "value_share": ("Share of value", "价值占比"),
    "avg_recency_days": ("Avg. days since last purchase", "平均距上次购买天数"),
    "avg_frequency": ("Avg. purchases", "平均购买次数"),
    "recency_days": ("Days since last purchase", "距上次购买天数"),
    "frequency": ("Purchases", "购买次数"),
    "monetary": ("Spend", "消费金额"),
    "orders": ("Orders", "订单数"),
    "total_spend": ("Total spend", "累计消费"),
    "r_score": ("R score", "R 评分"),
    "f_score": ("F score", "F 评分"),
    "m_score": ("M score", "M 评分"),
    "rfm_segment": ("RFM segment", "RFM 细分"),
    "rfm_segment_zh": ("8-class RFM segment", "八类客户"),
    "abc_class": ("ABC class", "ABC 分类"),
    "lifecycle_stage": ("Lifecycle stage", "生命周期阶段"),
    "tier": ("Tier", "等级"),
    "recommended_action": ("Recommended action", "建议行动"),
    "cluster": ("Cluster", "聚类"),
    "cluster_name": ("Cluster", "客户群"),
    "expected_purchases": ("Expected purchases", "预期购买次数"),
    "p_alive": ("P(active)", "仍活跃概率"),
    "expected_spend": ("Expected spend per purchase", "预期每次消费"),
    "clv": ("CLV", "客户终身价值"),
    "clv_low": ("CLV low", "CLV 下限"),
    "clv_high": ("CLV high", "CLV 上限"),
    "churn_risk": ("Churn risk", "流失风险"),
    "risk_band": ("Risk band", "风险等级"),
    "value_at_risk": ("Value at risk", "风险价值"),
}


def check_language(lang: str) -> int:
    """The index of ``lang`` in a ``(English, Chinese)`` pair; a ``ValueError`` for any other language."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: use {' or '.join(LANGUAGES)}")
    return LANGUAGES.index(lang)


def header(column: str, lang: str, extra: Mapping[str, tuple[str, str]] | None = None) -> str:
    """The header of ``column`` in ``lang``: from ``extra`` first, then :data:`HEADERS`; else the name itself."""
    i = check_language(lang)
    pair = (extra or {}).get(column) or HEADERS.get(column)
    if isinstance(pair, Mapping):  # a {en, zh} text
        return pair[lang]
    return pair[i] if pair else column


def localize(frame: pd.DataFrame, lang: str, extra: Mapping[str, tuple[str, str]] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with its column headers and index name in ``lang`` (values unchanged)."""
    out = frame.rename(columns=lambda c: header(str(c), lang, extra))
    if out.index.name is not None:
        out.index = out.index.rename(header(str(out.index.name), lang, extra))
    return out
