"""The clusters against the segments page's classifications: cross-tabs of customers per cluster and RFM segment,
ABC class, tier and lifecycle stage, in English and Chinese, the columns in their configured order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.i18n import check_language
from analysis.stage import LANGUAGES, Text

OVERLAP = ("rfm_segment", "rfm_segment_zh", "abc_class", "tier", "lifecycle_stage")
# The customer table's columns that name an overlap column's values in English and in Chinese.
OVERLAP_LABELS = {
    "rfm_segment": ("rfm_segment", "rfm_segment_label_zh"),
    "rfm_segment_zh": ("rfm_segment_zh_label_en", "rfm_segment_zh"),
    "abc_class": ("abc_class", "abc_class"),
    "tier": ("tier", "tier_zh"),
    "lifecycle_stage": ("lifecycle_stage", "lifecycle_stage_zh"),
}


def category_order(column: str, config: dict, lang: str) -> list[str]:
    """The configured order of a segmentation's values in ``lang``: RFM segments as their rule table (then the
    others and the customers without a purchase), tiers and lifecycle stages as their labels (``tiers.labels``,
    ``lifecycle.labels``: VIP, Important, Ordinary, Potential); empty for ABC classes (alphabetical)."""
    i = check_language(lang)
    rfm = config["rfm"]
    if column == "rfm_segment":
        pairs = [s["name"] for s in rfm["segments"]] + [rfm["others"], rfm["no_purchase"]]
    elif column == "rfm_segment_zh":
        pairs = [s["name"] for s in [*rfm["segments_zh"], *rfm["segments_zh_rf"]]] + [rfm["no_purchase"]]
    elif column in ("tier", "lifecycle_stage"):
        pairs = list(config["tiers" if column == "tier" else "lifecycle"]["labels"].values())
    else:
        pairs = []
    return [str(p[i]) for p in pairs if p]


def overlaps(cust: pd.DataFrame, labels: np.ndarray, names: dict[int, Text], config: dict) -> dict[str, dict]:
    """Cross-tabs of the clusters (rows, most valuable first, named in each language by ``names``) against the
    segments page's columns of ``cust`` (one row per clustered customer, ``labels`` their clusters), by language:
    ``{"en": {column: table}, "zh": {column: table}}``, the columns in their configured order
    (:func:`category_order`: tiers and lifecycle stages as configured, not alphabetically), values not configured
    next in alphabetical order, a customer without a value as ``-``, last."""
    out: dict[str, dict] = {lang: {} for lang in LANGUAGES}
    ids = sorted(int(i) for i in names)
    labels = np.asarray(labels, dtype=np.int64)
    for col in OVERLAP:
        if col not in cust or not cust[col].notna().any():
            continue
        for lang in LANGUAGES:
            source = OVERLAP_LABELS[col][check_language(lang)]
            named = {i: names[i][lang] for i in ids}
            t = crosstab(labels, named, *values_or_dash(cust[source if source in cust else col], cust[col].isna()))
            order = [v for v in dict.fromkeys(category_order(col, config, lang)) if v in t.columns]
            rest = sorted(v for v in t.columns if v not in order and v != "-")
            columns = order + rest + (["-"] if "-" in t.columns else [])
            out[lang][col] = t.reindex(index=[named[i] for i in ids], columns=columns).fillna(0).astype(int)
    return out


def overlap_record(tables: dict[str, dict]) -> dict[str, dict]:
    """The cross-tabs for ``clusters.json`` (``overlap``): customers by cluster name and value, each in its scheme's
    own language (the Chinese RFM classes in Chinese, the others in English)."""
    record = {}
    for col, table in tables["en"].items():
        t = tables["zh"][col] if col.endswith("_zh") else table
        record[col] = {str(r): {str(kk): int(v) for kk, v in t.loc[r].items()} for r in t.index}
    return record


def values_or_dash(values: pd.Series, missing: pd.Series) -> tuple[np.ndarray, list]:
    """Integer codes of ``values`` with ``-`` where ``missing`` (or the value is), and the distinct values in order
    of first appearance; text is encoded by Arrow, without a Python string per customer."""
    if not isinstance(values.dtype, pd.StringDtype):
        return pd.factorize(values.where(~missing).fillna("-"))
    text = pa.array(values.array, from_pandas=True)
    if missing.any():
        text = pc.if_else(pa.array(~missing.to_numpy(bool)), text, pa.scalar(None, text.type))
    encoded = pc.dictionary_encode(pc.fill_null(text, "-"))
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    return encoded.indices.to_numpy(zero_copy_only=False), encoded.dictionary.to_pylist()


def crosstab(labels: np.ndarray, names: dict[int, str], codes: np.ndarray, uniques) -> pd.DataFrame:
    """Customers per cluster name (rows) and value (columns; ``codes`` into ``uniques``), as ``pd.crosstab``
    counts them, on integer codes: only the clusters and values that occur."""
    present = np.bincount(labels) > 0  # (labels are small whole numbers: no sort of a million of them)
    found = np.flatnonzero(present)
    row = (np.cumsum(present) - 1)[labels]
    counts = np.bincount(row * len(uniques) + codes, minlength=len(found) * len(uniques))
    t = pd.DataFrame(counts.reshape(len(found), len(uniques)), columns=pd.Index(list(uniques), name="col_0"),
                     index=pd.Index([names[int(i)] for i in found], name="cluster"))  # fmt: skip
    return t.groupby(level=0, sort=False).sum() if t.index.has_duplicates else t
