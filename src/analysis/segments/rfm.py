"""RFM scores (1..bins). A value's position runs from 0 (the lowest) to 1 (the highest) as
``(min rank - 1) / (n - 1)``, and its score is ``min(bins, 1 + floor(bins x position))``: about
equal-sized quantile bins for distinct values, the lowest value scores 1 and the highest scores
``bins`` however few customers there are, and tied values share one score (a value shared by
many customers scores by the customers below it, so the many one-time buyers get F = 1). A
population with one value (a single customer, or everyone spent the same) gets the middle
score, except that when everyone bought once F is 1. Recency is scored on the negated days, so
the most recent purchase scores highest. Customers without a purchase (from a customer list)
get no scores and the segment "No purchase yet".

English segments: an ordered rule table on the scores, first match wins, "Others" if none.
Chinese segments: R, F and M each high or low against the buyers' mean (or median); high R
means a recent purchase (recency below the threshold); a value equal to it counts as low.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import UserError


def score(values: pd.Series, bins: int) -> pd.Series:
    """Quantile scores 1..bins (see module docstring); NaN stays NaN; one distinct value: the middle."""
    valid = values.dropna()
    out = pd.Series(np.nan, index=values.index)
    if valid.empty:
        return out
    if valid.nunique() == 1:
        out[valid.index] = (bins + 1) // 2
        return out
    position = (valid.rank(method="min") - 1) / (len(valid) - 1)
    out[valid.index] = np.minimum(1 + np.floor(bins * position), bins)
    return out


def rfm_scores(customers: pd.DataFrame, bins: int = 5) -> pd.DataFrame:
    """``r_score``, ``f_score``, ``m_score`` (nullable ints) for buyers; missing for the others."""
    if bins < 2:
        raise UserError(f"rfm.bins is {bins}: use 2 or more")
    buyer = customers["frequency"] > 0
    scores = pd.DataFrame(index=customers.index)
    for name, values in (
        ("r", -customers["recency_days"]),
        ("f", customers["frequency"]),
        ("m", customers["monetary"]),
    ):
        scores[f"{name}_score"] = score(values.where(buyer), bins).astype("Int64")
    once = buyer & (customers["frequency"] == 1)
    if once.sum() == buyer.sum() > 0:  # everyone bought once: that is the lowest frequency there is
        scores.loc[once, "f_score"] = 1
    return scores


def _in_range(values: pd.Series, bounds) -> pd.Series:
    if bounds is None:
        return pd.Series(True, index=values.index)
    low, high = bounds
    return ((values >= low) & (values <= high)).fillna(False).astype(bool)


def english_segments(scores: pd.DataFrame, cfg: dict) -> tuple[pd.Series, pd.Series]:
    """(English, Chinese) name of the first rule each customer matches, "Others" when none."""
    en = pd.Series(pd.NA, index=scores.index, dtype="object")
    zh = en.copy()
    for rule in cfg["segments"]:
        hit = en.isna()
        for letter in "rfm":
            hit &= _in_range(scores[f"{letter}_score"], rule.get(letter))
        en[hit], zh[hit] = rule["name"]
    en[en.isna()], zh[zh.isna()] = cfg["others"]
    return en, zh


def chinese_thresholds(customers: pd.DataFrame, cfg: dict) -> dict[str, float]:
    """The buyers' mean (or median, ``rfm.threshold``) of ``recency_days``, ``frequency`` and
    ``monetary``: the high/low lines of the Chinese scheme (NaN when nobody bought)."""
    how = cfg.get("threshold", "mean")
    if how not in ("mean", "median"):
        raise UserError(f"rfm.threshold is {how!r}: use mean or median")
    buyers = customers[customers["frequency"] > 0]
    return {col: float(getattr(buyers[col], how)()) for col in ("recency_days", "frequency", "monetary")}


def _finite(value: float) -> float | None:
    """``value``, or ``None`` for NaN (JSON has no NaN)."""
    return None if pd.isna(value) else float(value)


def chinese_segments(customers: pd.DataFrame, cfg: dict) -> tuple[pd.Series, pd.Series]:
    """(Chinese, English) name from R, F, M high/low against the buyers' mean or median."""
    thresholds = chinese_thresholds(customers, cfg)
    level = {}
    for letter, col in (("r", "recency_days"), ("f", "frequency"), ("m", "monetary")):
        threshold = thresholds[col]
        high = customers[col] < threshold if letter == "r" else customers[col] > threshold
        level[letter] = np.where(high, "high", "low")
    zh = pd.Series(pd.NA, index=customers.index, dtype="object")
    en = zh.copy()
    for rule in cfg["segments_zh"]:
        hit = (level["r"] == rule["r"]) & (level["f"] == rule["f"]) & (level["m"] == rule["m"])
        en[hit], zh[hit] = rule["name"]
    return zh, en
