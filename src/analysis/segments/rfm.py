"""RFM scores and the two named schemes, with the common variants as settings (``rfm`` in
``defaults/segments.yaml``).

What is measured: R is the days since the last purchase; F the number of orders, or of distinct
purchase days (``rfm.frequency``); M the total spend, or the spend per purchase day (``rfm.monetary``).
An input without amounts has no M: M scores are empty and both schemes fall back to R and F.

Scores (1..bins), by quantiles (``rfm.scoring: quantiles``, the default): a value's position runs from 0
(the lowest) to 1 (the highest) as ``(min rank - 1) / (n - 1)``, and its score is
``min(bins, 1 + floor(bins x position))``: about equal-sized quantile bins for distinct values, the lowest
value scores 1 and the highest scores ``bins`` however few customers there are, and tied values share one
score (a value shared by many customers scores by the customers below it, so the many one-time buyers get
F = 1). A population with one value gets the middle score, except that when everyone bought once F is 1.
Recency is scored on the negated days, so the most recent purchase scores highest. Or by fixed edges
(``rfm.scoring: edges``): ``bins - 1`` increasing edges per metric; F and M move one score up at each edge
they reach, R moves one score down at each edge the days exceed (edges [30, 60, 90, 120]: within 30 days
scores 5, more than 120 days scores 1). Customers without a purchase get no scores and the segment
"No purchase yet".

English segments: an ordered rule table on the scores, first match wins, "Others" if none.
Chinese segments: R, F and M each high or low against a threshold (``rfm.threshold``: the buyers' mean,
median, or a fixed value) on the values or on the scores (``rfm.threshold_on``). On values high R means a
recent purchase (days below the threshold); on scores high means a score above it. A value equal to the
threshold counts as low.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import UserError

METRICS = ("recency_days", "frequency", "monetary")


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


def edge_score(values: pd.Series, edges, bins: int, descending: bool = False) -> pd.Series:
    """Scores 1..bins by fixed ``edges`` (``bins - 1`` increasing values): one up at every edge a value
    reaches, or with ``descending`` (recency) one down at every edge it exceeds. NaN stays NaN."""
    e = np.asarray(edges, dtype=float)
    if len(e) != bins - 1 or np.any(np.diff(e) <= 0):
        raise UserError(f"rfm.edges needs {bins - 1} increasing values per metric for {bins} scores, got {list(edges)}")
    v = values.to_numpy(float)
    scores = bins - np.searchsorted(e, v, side="left") if descending else 1 + np.searchsorted(e, v, side="right")
    return pd.Series(np.where(np.isnan(v), np.nan, scores), index=values.index)


def rfm_metrics(customers: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """``recency_days``, ``frequency`` and ``monetary`` as the RFM scheme measures them: F as orders or
    purchase days (``rfm.frequency``), M as total spend or spend per purchase day (``rfm.monetary``)."""
    freq, money = cfg["frequency"], cfg["monetary"]
    days = customers["purchase_days"].where(customers["purchase_days"] > 0)
    return pd.DataFrame({
        "recency_days": customers["recency_days"],
        "frequency": customers["purchase_days"] if freq == "purchase_days" else customers["frequency"],
        "monetary": customers["monetary"] / days if money == "per_purchase_day" else customers["monetary"],
    }, index=customers.index)  # fmt: skip


def has_amounts(customers: pd.DataFrame) -> bool:
    """Whether the buyers have amounts (an event log of customer and date only has none)."""
    buyers = customers["frequency"] > 0
    return bool(customers.loc[buyers, "monetary"].notna().any()) or not buyers.any()


def rfm_scores(customers: pd.DataFrame, bins: int = 5, edges: dict | None = None) -> pd.DataFrame:
    """``r_score``, ``f_score``, ``m_score`` (nullable ints) for buyers; missing for the others (and M
    missing for everyone when there are no amounts). By quantiles, or by fixed ``edges`` per metric."""
    if bins < 2:
        raise UserError(f"rfm.bins is {bins}: use 2 or more")
    buyer = customers["frequency"] > 0
    scores = pd.DataFrame(index=customers.index)
    for name, column in zip("rfm", METRICS, strict=True):
        values = customers[column].where(buyer)
        if edges is not None:
            if column not in edges:
                raise UserError(f"rfm.scoring is edges but rfm.edges has no {column} edges")
            scores[f"{name}_score"] = edge_score(values, edges[column], bins, descending=name == "r").astype("Int64")
        else:
            scores[f"{name}_score"] = score(-values if name == "r" else values, bins).astype("Int64")
    once = buyer & (customers["frequency"] == 1)
    if edges is None and once.sum() == buyer.sum() > 0:  # everyone bought once: the lowest frequency there is
        scores.loc[once, "f_score"] = 1
    return scores


def english_segment_rules(scores: pd.DataFrame, cfg: dict) -> np.ndarray:
    """Index of the first rule of ``cfg["segments"]`` each customer matches; ``len(cfg["segments"])`` (Others)
    when none. Without M scores (no amounts) the rules' M conditions are left out: the scheme falls back to R
    and F. A missing score meets no condition."""
    letters = "rfm" if scores["m_score"].notna().any() else "rf"
    values = {x: scores[f"{x}_score"].to_numpy(float, na_value=np.nan) for x in letters}
    out = np.full(len(scores), len(cfg["segments"]))
    open_ = np.ones(len(scores), dtype=bool)
    for i, rule in enumerate(cfg["segments"]):
        hit = open_.copy()
        for letter in letters:
            if rule.get(letter) is not None:
                low, high = rule[letter]
                hit &= (values[letter] >= low) & (values[letter] <= high)
        out[hit] = i
        open_ &= ~hit
    return out


def english_segments(scores: pd.DataFrame, cfg: dict) -> tuple[pd.Series, pd.Series]:
    """(English, Chinese) name of the first rule each customer matches, "Others" when none (see
    :func:`english_segment_rules`)."""
    names = [rule["name"] for rule in cfg["segments"]] + [cfg["others"]]
    rule = english_segment_rules(scores, cfg)
    return tuple(  # type: ignore[return-value]
        pd.Series(np.array([name[i] for name in names], dtype=object)[rule], index=scores.index, dtype=object)
        for i in (0, 1)
    )


def _threshold_source(metrics: pd.DataFrame, scores: pd.DataFrame | None, on: str) -> pd.DataFrame:
    if on == "values":
        return metrics[list(METRICS)]
    if on != "scores":
        raise UserError(f"rfm.threshold_on is {on!r}: use values or scores")
    if scores is None:
        raise ValueError("rfm.threshold_on: scores needs the scores")
    return pd.DataFrame({c: scores[f"{x}_score"].astype(float) for x, c in zip("rfm", METRICS, strict=True)})


def chinese_thresholds(metrics: pd.DataFrame, cfg: dict, scores: pd.DataFrame | None = None) -> dict[str, float]:
    """The high/low lines of the Chinese scheme for ``recency_days``, ``frequency`` and ``monetary``: the
    buyers' mean or median, or the fixed values (``rfm.threshold``), of the values or of the scores
    (``rfm.threshold_on``); NaN when nobody bought (or no amounts, for M)."""
    how = cfg["threshold"]
    if how == "fixed":
        fixed = cfg["threshold_fixed"]
        missing = [c for c in METRICS if fixed.get(c) is None]
        if missing:
            raise UserError(f"rfm.threshold is fixed: set rfm.threshold_fixed for {', '.join(missing)}")
        return {c: float(fixed[c]) for c in METRICS}
    if how not in ("mean", "median"):
        raise UserError(f"rfm.threshold is {how!r}: use mean, median or fixed")
    source = _threshold_source(metrics, scores, cfg["threshold_on"])
    buyers = source[metrics["frequency"] > 0]
    return {col: float(getattr(buyers[col], how)()) for col in METRICS}


def finite_or_none(value: float) -> float | None:
    """``value``, or ``None`` for NaN (JSON has no NaN)."""
    return None if pd.isna(value) else float(value)


def chinese_segments(
    metrics: pd.DataFrame, cfg: dict, scores: pd.DataFrame | None = None
) -> tuple[pd.Series, pd.Series]:
    """(Chinese, English) name from R, F, M high/low against the thresholds of :func:`chinese_thresholds`;
    without amounts, from R and F alone by the ``segments_zh_rf`` table."""
    table = chinese_segment_table(metrics, cfg)
    rule = chinese_segment_rules(metrics, cfg, scores)
    zh, en = ([*(r["name"][i] for r in table), pd.NA] for i in (1, 0))
    return tuple(  # type: ignore[return-value]
        pd.Series(np.array(names, dtype=object)[rule], index=metrics.index, dtype=object) for names in (zh, en)
    )


def chinese_segment_table(metrics: pd.DataFrame, cfg: dict) -> list[dict]:
    """The rules of the Chinese scheme that apply: ``segments_zh`` (R, F, M), or ``segments_zh_rf`` (R and F)
    when the data has no amounts."""
    amounts = has_amounts(metrics.assign(frequency=metrics["frequency"].fillna(0)))
    return cfg["segments_zh"] if amounts else cfg["segments_zh_rf"]


def chinese_segment_rules(metrics: pd.DataFrame, cfg: dict, scores: pd.DataFrame | None = None) -> np.ndarray:
    """Index into :func:`chinese_segment_table` of the rule each customer's high/low R, F (and M) match (the
    last one listed, should two match); -1 when none does."""
    on = cfg["threshold_on"]
    thresholds = chinese_thresholds(metrics, cfg, scores)
    source = _threshold_source(metrics, scores, on)
    high = {}
    for letter, col in zip("rfm", METRICS, strict=True):
        threshold = thresholds[col]
        recent = letter == "r" and on == "values"  # fewer days is better; a higher R score is better
        values = source[col].to_numpy(float, na_value=np.nan)
        high[letter] = values < threshold if recent else values > threshold
    table = chinese_segment_table(metrics, cfg)
    letters = "rfm" if table is cfg["segments_zh"] else "rf"
    out = np.full(len(metrics), -1)
    for i, rule in enumerate(table):
        hit = np.ones(len(metrics), dtype=bool)
        for x in letters:
            hit &= high[x] if rule[x] == "high" else ~high[x] if rule[x] == "low" else False
        out[hit] = i
    return out
