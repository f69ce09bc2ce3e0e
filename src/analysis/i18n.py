"""The language of a page: table headers people read, in English or Chinese (``--lang en|zh``).

Every stage shows tables whose columns share a vocabulary (customers, share of value, the customer table's own
columns); :data:`HEADERS` holds those once, and a stage passes its own extra headers to :func:`localize`. Every
text is one shape, ``{"en": ..., "zh": ...}`` (:func:`analysis.stage.text`); the texts of charts and sentences live
beside the code that draws or writes them, in a catalogue keyed by message id (``TEXTS = {id: {en, zh}}``).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

LANGUAGES = ("en", "zh")

# Column name -> its header {en, zh}, for the columns several pages show.
HEADERS: dict[str, dict[str, str]] = {
    "customer_id": {"en": "Customer", "zh": "客户编号"},
    "customer_name": {"en": "Name", "zh": "客户名称"},
    "customers": {"en": "Customers", "zh": "客户数"},
    "customer_share": {"en": "Share of customers", "zh": "客户占比"},
    "value": {"en": "Value", "zh": "价值"},
    "value_share": {"en": "Share of value", "zh": "价值占比"},
    "avg_recency_days": {"en": "Avg. days since last purchase", "zh": "平均距上次购买天数"},
    "avg_frequency": {"en": "Avg. purchases", "zh": "平均购买次数"},
    "recency_days": {"en": "Days since last purchase", "zh": "距上次购买天数"},
    "frequency": {"en": "Purchases", "zh": "购买次数"},
    "monetary": {"en": "Spend", "zh": "消费金额"},
    "orders": {"en": "Orders", "zh": "订单数"},
    "total_spend": {"en": "Total spend", "zh": "累计消费"},
    "r_score": {"en": "R score", "zh": "R 评分"},
    "f_score": {"en": "F score", "zh": "F 评分"},
    "m_score": {"en": "M score", "zh": "M 评分"},
    "rfm_segment": {"en": "RFM segment", "zh": "RFM 细分"},
    "rfm_segment_zh": {"en": "8-class RFM segment", "zh": "八类客户"},
    "abc_class": {"en": "ABC class", "zh": "ABC 分类"},
    "lifecycle_stage": {"en": "Lifecycle stage", "zh": "生命周期阶段"},
    "tier": {"en": "Tier", "zh": "等级"},
    "recommended_action": {"en": "Recommended action", "zh": "建议行动"},
    "cluster": {"en": "Cluster", "zh": "聚类"},
    "cluster_name": {"en": "Cluster", "zh": "客户群"},
    "expected_purchases": {"en": "Expected purchases", "zh": "预期购买次数"},
    "p_alive": {"en": "P(active)", "zh": "仍活跃概率"},
    "expected_spend": {"en": "Expected spend per purchase", "zh": "预期每次消费"},
    "clv": {"en": "CLV", "zh": "客户终身价值"},
    "clv_low": {"en": "CLV low", "zh": "CLV 下限"},
    "clv_high": {"en": "CLV high", "zh": "CLV 上限"},
    "churn_risk": {"en": "Churn risk", "zh": "流失风险"},
    "risk_band": {"en": "Risk band", "zh": "风险等级"},
    "value_at_risk": {"en": "Value at risk", "zh": "风险价值"},
}


def check_language(lang: str) -> int:
    """The index of ``lang`` in a ``(English, Chinese)`` pair; a ``ValueError`` for any other language."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: use {' or '.join(LANGUAGES)}")
    return LANGUAGES.index(lang)


def header(column: str, lang: str, extra: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """The header of ``column`` in ``lang``: from ``extra`` first, then :data:`HEADERS`; else the name itself."""
    check_language(lang)
    found = (extra or {}).get(column) or HEADERS.get(column)
    return found[lang] if found else column


def localize(frame: pd.DataFrame, lang: str, extra: Mapping[str, Mapping[str, str]] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with its column headers and index name in ``lang`` (values unchanged)."""
    out = frame.rename(columns=lambda c: header(str(c), lang, extra))
    if out.index.name is not None:
        out.index = out.index.rename(header(str(out.index.name), lang, extra))
    return out
