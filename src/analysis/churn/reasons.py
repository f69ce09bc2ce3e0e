"""Why a customer is at risk: global permutation importance on the evaluation cut-off, and per customer the
top reasons in plain English and Chinese, filled from the customer's own numbers.

Each reason (``churn.reasons.texts`` in the config) has a severity per customer from their own features,
0 when it does not apply; reasons are ranked by severity x (0.5 + the importance share of the feature behind
it), so what the model relies on comes first among reasons of similar strength.

========================  ============================================================  ======================
reason                    applies when                                                  severity
========================  ============================================================  ======================
overdue                   >= 2 purchase days and recency > overdue_ratio x mean gap      ratio / (2 x overdue_ratio)
one_purchase              a single purchase day                                         recency / 365
silent                    >= 2 purchase days, not overdue, recency > horizon            recency / 365
purchases_down            purchase days in the last window <= (1 - drop_share) x before  drop share
spend_down                as above for spend, when purchase days did not drop           drop share
p_alive                   P(alive) < p_alive_below                                      1 - P(alive)
returns                   return share > return_share_above                             return share
========================  ============================================================  ======================
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance

from analysis.churn.models import churn_probability

FEATURE_OF = {
    "overdue": "recency_gap_ratio",
    "one_purchase": "purchase_days",
    "silent": "recency_days",
    "purchases_down": "purchases_trend",
    "spend_down": "spend_trend",
    "p_alive": "p_alive",
    "returns": "return_share",
}

# The features the reasons are computed and worded from (the rest of the feature frame is not needed).
FEATURES_USED = ("recency_days", "mean_gap_days", "purchase_days", "purchases_last", "purchases_prev", "spend_last",
                 "spend_prev", "p_alive", "return_share")  # fmt: skip


def importance_table(
    model: Any, X: pd.DataFrame, y, columns, repeats: int = 3, max_rows: int = 20_000, seed: int = 0
) -> pd.DataFrame:
    """Permutation importance (drop in ROC-AUC when a feature is shuffled) on a seeded sample of at most
    ``max_rows`` customers of the evaluation cut-off; sorted, largest first."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(X), size=min(len(X), max_rows), replace=False))
    Xs = X.iloc[rows].reindex(columns=list(columns), fill_value=0.0)
    ys = np.asarray(y)[rows]
    if len(np.unique(ys)) < 2:
        return pd.DataFrame(columns=["importance", "std"]).rename_axis("feature")

    class _Aligned:  # the scorer sees the training columns in the training order
        def __init__(self, m):
            self.m = m

        def fit(self, *a, **k):
            return self

        def predict_proba(self, Z):
            p = churn_probability(self.m, Z, columns)  # once: the same numbers, half the model calls
            return np.column_stack([1 - p, p])

    def auc(est, Z, t):
        from sklearn.metrics import roc_auc_score

        return roc_auc_score(t, est.predict_proba(Z)[:, 1])

    result = permutation_importance(
        _Aligned(model), Xs, ys, scoring=auc, n_repeats=repeats, random_state=int(seed), n_jobs=1
    )
    table = pd.DataFrame(
        {"importance": result.importances_mean, "std": result.importances_std},
        index=pd.Index(Xs.columns, name="feature"),
    )
    return table.sort_values("importance", ascending=False)


def _severities(f: pd.DataFrame, cfg: dict[str, Any], horizon: int) -> dict[str, np.ndarray]:
    def col(name, default=np.nan):
        return f[name].to_numpy(float) if name in f else np.full(len(f), default)

    rec, gap, days = col("recency_days"), col("mean_gap_days"), col("purchase_days", 1)
    ratio = rec / gap
    limit = float(cfg.get("overdue_ratio", 1.5))
    overdue = (days >= 2) & (ratio > limit)
    drop = float(cfg.get("drop_share", 0.3))
    out = {
        "overdue": np.where(overdue, np.minimum(ratio / (2 * limit), 1), 0),
        "one_purchase": np.where(days == 1, np.minimum(rec / 365, 1), 0),
        "silent": np.where((days >= 2) & ~overdue & (rec > horizon), np.minimum(rec / 365, 1), 0),
    }
    for key, last, prev in (
        ("purchases_down", "purchases_last", "purchases_prev"),
        ("spend_down", "spend_last", "spend_prev"),
    ):
        a, b = col(last, 0), col(prev, 0)
        share = np.divide(b - a, b, out=np.zeros(len(f)), where=b > 0)
        out[key] = np.where(share >= drop, share, 0)
    out["spend_down"] = np.where(out["purchases_down"] > 0, 0, out["spend_down"])  # one "down" reason is enough
    p = col("p_alive")
    out["p_alive"] = np.where(p < float(cfg.get("p_alive_below", 0.5)), 1 - p, 0)
    r = col("return_share", 0)
    out["returns"] = np.where(r > float(cfg.get("return_share_above", 0.2)), r, 0)
    return {k: np.nan_to_num(v) for k, v in out.items()}


def _whole(x: np.ndarray) -> np.ndarray:
    """Whole numbers as text ("95"), "?" where missing."""
    x = np.asarray(x, float)
    out = np.full(len(x), "?", dtype=object)
    ok = np.isfinite(x)
    out[ok] = np.round(x[ok]).astype(np.int64).astype(str)
    return out


def _numbers(f: pd.DataFrame, window: int) -> dict[str, np.ndarray]:
    """The numbers the templates can name, one entry per customer."""

    def col(name, default=np.nan):
        return f[name].to_numpy(float) if name in f else np.full(len(f), default)

    last, prev = col("purchases_last", 0), col("purchases_prev", 0)
    s_last, s_prev = col("spend_last", 0), col("spend_prev", 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "recency": col("recency_days"),
            "gap": col("mean_gap_days"),
            "window": np.full(len(f), float(window)),
            "last": last,
            "prev": prev,
            "drop": np.where(prev > 0, 100 * (prev - last) / np.where(prev > 0, prev, 1), 0),
            "spend_drop": np.where(s_prev > 0, 100 * (s_prev - s_last) / np.where(s_prev > 0, s_prev, 1), 0),
            "p": 100 * col("p_alive"),
            "share": 100 * col("return_share", 0),
        }


def _fill(template: str, numbers: dict[str, np.ndarray], rows: np.ndarray, spend: bool) -> np.ndarray:
    """``template`` filled from ``numbers`` for the customers at positions ``rows`` (vectorised)."""
    out = np.full(len(rows), "", dtype=object)
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        out = out + literal
        if name:
            out = out + _whole(numbers["spend_drop" if spend and name == "drop" else name][rows])
    return out


def customer_reasons(
    features: pd.DataFrame,
    cfg: dict[str, Any],
    horizon: int,
    window: int,
    importance: pd.DataFrame | None = None,
    who=None,
) -> tuple[pd.Series, pd.Series]:
    """The top ``cfg['count']`` reasons per customer in English and Chinese ("; " / "；" separated),
    for the customers where ``who`` (a boolean array; default all) is true, "" for the others."""
    texts = cfg.get("texts") or {}
    keys = [k for k in FEATURE_OF if k in texts]
    n = len(features)
    who = np.ones(n, bool) if who is None else np.asarray(who, bool)
    en, zh = np.full(n, "", dtype=object), np.full(n, "", dtype=object)
    idx = np.flatnonzero(who)
    if not len(idx) or not keys:
        return pd.Series(en, index=features.index), pd.Series(zh, index=features.index)
    sub = features.iloc[idx]
    sev = _severities(sub, cfg, horizon)
    weight = {k: 0.5 for k in keys}
    if importance is not None and len(importance):
        imp = importance["importance"].clip(lower=0)
        total = imp.sum()
        for k in keys:
            if total > 0 and FEATURE_OF[k] in imp:
                weight[k] += float(imp[FEATURE_OF[k]] / total)
    scores = np.column_stack([sev[k] * weight[k] for k in keys])
    top = np.argsort(-scores, axis=1, kind="stable")[:, : int(cfg.get("count", 3))]
    numbers = _numbers(sub, window)
    m = len(idx)
    rows = np.arange(m)
    parts_en, parts_zh = np.full(m, "", dtype=object), np.full(m, "", dtype=object)
    for rank in range(top.shape[1]):
        j = top[:, rank]
        applies = scores[rows, j] > 0
        text_en, text_zh = np.full(m, "", dtype=object), np.full(m, "", dtype=object)
        for pos, k in enumerate(keys):
            pick = np.flatnonzero(applies & (j == pos))
            if len(pick):
                text_en[pick] = _fill(texts[k][0], numbers, pick, k == "spend_down")
                text_zh[pick] = _fill(texts[k][1], numbers, pick, k == "spend_down")
        sep_en = np.where((parts_en != "") & applies, "; ", "").astype(object)
        sep_zh = np.where((parts_zh != "") & applies, "；", "").astype(object)
        parts_en = parts_en + sep_en + text_en
        parts_zh = parts_zh + sep_zh + text_zh
    en[idx], zh[idx] = parts_en, parts_zh
    return pd.Series(en, index=features.index), pd.Series(zh, index=features.index)
