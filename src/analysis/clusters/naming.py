"""Readable, unique English and Chinese names for clusters, from their profiles.

A cluster's level on a feature is where its median sits among all clustered customers: ``low`` below the
``naming.low`` quantile, ``high`` above ``naming.high``, else ``mid`` (frequency ``one`` when the median is a single
order). The name is the recency, frequency and monetary words (``defaults/clusters.yaml``: ``naming``), e.g.
"recent frequent big spenders" / 近期高频高消费客户. A cluster far from everyone on another feature (tenure,
basket size, regularity, returns; ``naming.standout`` robust units) gets that word first ("high-return ..."). Two
clusters with the same name get the word of the other
feature (tenure, basket size, regularity, returns) on which they differ most; if that is not enough, a number in
order of value. The names depend only on the profiles, so they are as deterministic as the clusters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CORE = ("recency_days", "frequency", "monetary")
EXTRA = ("tenure_days", "avg_order_value", "regularity", "return_share")
LEVEL_RANK = {"low": 0, "mid": 1, "high": 2, "one": 0}


def typical_gap(population: pd.DataFrame) -> float | None:
    """The median, over customers with two or more purchase days, of their mean gap in days between purchase
    days ((tenure - recency) / (purchase days - 1)); ``None`` when nobody bought twice."""
    repeat = population[population["purchase_days"] >= 2]
    gaps = (repeat["tenure_days"] - repeat["recency_days"]) / (repeat["purchase_days"] - 1)
    gaps = gaps[gaps > 0]
    return float(gaps.median()) if len(gaps) else None


def levels(
    medians: pd.DataFrame,
    population: pd.DataFrame,
    low: float,
    high: float,
    recency_by_gap: list[float] | None = None,
) -> pd.DataFrame:
    """``low`` / ``mid`` / ``high`` per cluster (rows of ``medians``) and feature, by the mid-rank quantile of the
    cluster's median within ``population`` (the clustered customers' features). With ``recency_by_gap``
    ``[r, l]``, recency is instead low (recent) up to ``r`` times the typical gap between purchases
    (:func:`typical_gap`), high (lapsed) beyond ``l`` times, else mid: recency means something only against
    how often customers buy."""
    out = pd.DataFrame(index=medians.index)
    gap = typical_gap(population) if recency_by_gap and "purchase_days" in population else None
    for col in medians.columns:
        if col == "recency_days" and gap:
            m = medians[col].to_numpy(dtype=float)
            r, lapsed = (float(v) * gap for v in recency_by_gap)
            out[col] = np.where(m <= r, "low", np.where(m > lapsed, "high", "mid"))
            continue
        values = np.sort(population[col].dropna().to_numpy(dtype=float))
        if not len(values):
            out[col] = "mid"
            continue
        m = medians[col].to_numpy(dtype=float)
        q = (np.searchsorted(values, m, "left") + np.searchsorted(values, m, "right")) / (2 * len(values))
        out[col] = np.where(q < low, "low", np.where(q > high, "high", "mid"))
        if col == "frequency":
            out.loc[medians[col].to_numpy() <= 1, col] = "one"
    return out


def _join(words: list[str], lang: int) -> str:
    words = [w for w in words if w]
    return (" " if lang == 0 else "").join(words)


def _phrase(level_row: pd.Series, naming: dict, lang: int, extras: list[str]) -> str:
    words = [naming[e][level_row[e]][lang] for e in extras]
    # without amounts there is no M level: the noun is M's middle word ("buyers", 客户)
    core = level_row.reindex(list(CORE)).fillna("mid")
    words += [naming[col][core[col]][lang] for col in CORE]
    text = _join(words, lang)
    return text[:1].upper() + text[1:] if lang == 0 else text


def standouts(lv: pd.DataFrame, naming: dict, scaled: pd.DataFrame | None, threshold: float) -> dict:
    """Per cluster, the other feature (tenure, basket, regularity, returns) on which its median stands out most,
    if by at least ``threshold`` robust units and its level has a word ([] otherwise)."""
    out = {c: [] for c in lv.index}
    extras = [e for e in EXTRA if e in lv.columns and e in naming]
    if scaled is None or not extras:
        return out
    for c in lv.index:
        size = scaled.loc[c, extras].abs().sort_values(ascending=False, kind="stable")
        for feature, value in size.items():
            if value >= threshold and naming[feature][lv.loc[c, feature]][0]:
                out[c] = [feature]
                break
    return out


def cluster_names(
    lv: pd.DataFrame,
    naming: dict,
    value_order: list,
    scaled: pd.DataFrame | None = None,
    threshold: float = 1.5,
) -> tuple[dict, dict]:
    """English and Chinese names per cluster (index of ``lv``), unique within each language.

    A cluster that stands out on another feature (``scaled``: its medians in robust units, rows as ``lv``) gets
    that word first (:func:`standouts`). ``value_order`` lists the clusters from most to least valuable; it
    numbers names that stay equal."""
    extra = standouts(lv, naming, scaled, threshold)
    en = {c: _phrase(lv.loc[c], naming, 0, extra[c]) for c in lv.index}
    zh = {c: _phrase(lv.loc[c], naming, 1, extra[c]) for c in lv.index}
    extras = [e for e in EXTRA if e in lv.columns and e in naming]
    groups = pd.Series(en).groupby(pd.Series(en)).groups
    for members in groups.values():
        if len(members) < 2 or not extras:
            continue
        ranks = lv.loc[list(members), extras].apply(lambda s: s.map(LEVEL_RANK)).astype(float)
        spread = ranks.max() - ranks.min()
        if spread.max() == 0:
            continue
        feature = spread.idxmax()
        for c in members:
            words = [feature, *[e for e in extra[c] if e != feature]]
            en[c] = _phrase(lv.loc[c], naming, 0, words)
            zh[c] = _phrase(lv.loc[c], naming, 1, words)
    for names in (en, zh):
        counts = pd.Series(names).value_counts()
        for name in counts[counts > 1].index:
            same = [c for c in value_order if names[c] == name]
            for i, c in enumerate(same, start=1):
                names[c] = f"{name} ({i})"
    return en, zh
