"""How well churn scores work on the evaluation cut-off: ROC-AUC with a bootstrap interval, PR-AUC, Brier
score, log loss, calibration (reliability curve, expected calibration error), lift and cumulative gains by
decile.

The ROC-AUC bootstrap resamples customers with Poisson(1) weights (the usual large-sample stand-in for
drawing with replacement). The AUC depends only on the churners and stayers per distinct score, so a
resample draws those counts (beyond 5,000 distinct scores, per group of customers of neighbouring rank): a
million customers and 200 resamples take about a second.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

EPS = 1e-6
SCORE_DECIMALS = 10  # see compare()
BOOTSTRAP_GROUPS = 5_000


def group_counts(
    y: np.ndarray, p: np.ndarray, max_groups: int | None = None, ties: tuple | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Positives and negatives per distinct score, in increasing score order. With ``max_groups``, scores
    with more distinct values are cut into at most that many groups of about equal size by rank, equal
    scores staying together (the AUC then differs from the exact one by about 1 / max_groups / 2).
    ``ties``: ``np.unique(p, return_inverse=True, return_counts=True)`` when already at hand."""
    values, group, counts = ties if ties is not None else np.unique(p, return_inverse=True, return_counts=True)
    if max_groups is not None and len(values) > max_groups:  # equal scores stay in one group
        below = np.cumsum(counts) - counts
        group = (below * max_groups // len(p))[group]
    pos = np.bincount(group, weights=(y == 1).astype(float))
    neg = np.bincount(group, weights=(y != 1).astype(float))
    return pos, neg


def weighted_auc(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """AUC from positive and negative counts per tied score group, in increasing score order (last axis;
    leading axes: resamples); ties count one half."""
    below = np.cumsum(neg, axis=-1) - neg
    num = (pos * (below + 0.5 * neg)).sum(axis=-1)
    den = pos.sum(axis=-1) * neg.sum(axis=-1)
    return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def auc_interval(y, p, n_boot: int = 200, interval: float = 0.9, seed: int = 0) -> tuple[float, float]:
    """Bootstrap interval of the ROC-AUC: customers resampled with Poisson(1) weights (seeded). The AUC only
    depends on how many churners and stayers share each score, so each resample draws those counts per
    distinct score (a sum of Poisson(1) weights is Poisson(count)); beyond 5,000 distinct scores, customers
    are grouped by rank into 5,000 equal groups."""
    y, p = np.asarray(y, int), np.asarray(p, float)
    return _interval(y, p, n_boot, interval, seed, len(np.unique(y)) == 2)


def _interval(y, p, n_boot, interval, seed, both: bool, ties: tuple | None = None) -> tuple[float, float]:
    """:func:`auc_interval` given whether ``y`` has both classes and, optionally, ``p``'s ties."""
    if n_boot <= 0 or not both:
        return math.nan, math.nan
    pos, neg = group_counts(y, p, BOOTSTRAP_GROUPS, ties)
    rng = np.random.default_rng(seed)
    aucs = weighted_auc(rng.poisson(pos, size=(n_boot, len(pos))), rng.poisson(neg, size=(n_boot, len(neg))))
    tail = (1 - interval) / 2
    return float(np.nanquantile(aucs, tail)), float(np.nanquantile(aucs, 1 - tail))


def expected_calibration_error(y, p, bins: int = 10) -> float:
    """Mean |observed churn rate - mean prediction| over equal-width probability bins, weighted by size."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    which = np.clip(np.digitize(p, np.linspace(0, 1, bins + 1)[1:-1]), 0, bins - 1)
    n = np.bincount(which, minlength=bins)
    gap = np.abs(np.bincount(which, weights=y - p, minlength=bins))  # n x |observed - predicted| per bin
    return float(gap.sum() / n.sum()) if n.sum() else math.nan


def average_precision(pos: np.ndarray, neg: np.ndarray) -> float:
    """PR-AUC as scikit-learn's average precision, from churners and stayers per distinct score (increasing):
    thresholds from the highest score down, sum of (recall step) x precision."""
    tp, fp = np.cumsum(pos[::-1]), np.cumsum(neg[::-1])
    if tp[-1] == 0:
        return math.nan
    precision = tp / np.maximum(tp + fp, 1)
    recall_step = pos[::-1] / tp[-1]
    return float(np.sum(recall_step * precision))


def metrics(y, p, n_boot: int = 200, interval: float = 0.9, seed: int = 0, bins: int = 10) -> dict[str, float]:
    """ROC-AUC (with interval), PR-AUC, Brier, log loss, calibration and rates of probabilities ``p``.
    AUCs are computed from the churners and stayers per distinct score (exact, ties count one half)."""
    y, p = np.asarray(y, int), np.asarray(p, float)
    clipped = np.clip(p, EPS, 1 - EPS)  # for the log loss only: clipping would tie the ranking
    both = len(np.unique(y)) == 2
    ties = np.unique(p, return_inverse=True, return_counts=True)  # once for the AUCs and their interval
    pos, neg = group_counts(y, p, ties=ties)
    low, high = _interval(y, p, n_boot, interval, seed, both, ties)
    return {
        "roc_auc": float(weighted_auc(pos, neg)) if both else math.nan,
        "roc_auc_low": low,
        "roc_auc_high": high,
        "pr_auc": average_precision(pos, neg) if both else math.nan,
        "brier": float(np.mean((p - y) ** 2)),
        "log_loss": float(-np.mean(y * np.log(clipped) + (1 - y) * np.log1p(-clipped))),
        "expected_calibration_error": expected_calibration_error(y, p, bins),
        "churn_rate": float(y.mean()),
        "mean_predicted": float(p.mean()),
        "customers": int(len(y)),
    }


def reliability_table(y, p, bins: int = 10) -> pd.DataFrame:
    """Customers, mean prediction and observed churn rate per equal-width bin of predicted probability."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    frame = pd.DataFrame({"bin": which, "y": y, "p": p})
    table = frame.groupby("bin").agg(customers=("y", "size"), predicted=("p", "mean"), observed=("y", "mean"))
    table["bin_low"], table["bin_high"] = edges[table.index], edges[table.index + 1]
    return table.reset_index(drop=True)[["bin_low", "bin_high", "customers", "predicted", "observed"]]


def gains_table(y, p, groups: int = 10) -> pd.DataFrame:
    """Customers ranked by score, highest first, cut into ``groups`` (deciles): churners, churn rate,
    lift (rate / overall rate) and cumulative share of all churners caught."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    order = np.argsort(-p, kind="stable")
    decile = np.minimum((np.arange(len(y)) * groups) // max(len(y), 1), groups - 1) + 1
    frame = pd.DataFrame({"decile": decile, "y": y[order], "p": p[order]})
    table = frame.groupby("decile").agg(customers=("y", "size"), churners=("y", "sum"), mean_score=("p", "mean"))
    total, rate = table["churners"].sum(), y.mean() if len(y) else math.nan
    table["churn_rate"] = table["churners"] / table["customers"]
    table["lift"] = table["churn_rate"] / rate if rate else math.nan
    table["cumulative_customers"] = table["customers"].cumsum() / table["customers"].sum()
    table["cumulative_gain"] = table["churners"].cumsum() / total if total else math.nan
    return table.reset_index()


def compare(y, scores: dict[str, np.ndarray], n_boot: int, interval: float, seed: int, bins: int) -> pd.DataFrame:
    """One row of :func:`metrics` per scorer, same bootstrap seed for all (paired resamples). Scores are
    rounded to 10 decimals first: model fits differ between runs in the last digits (threaded sums), and
    those would otherwise split or join tied scores and move the bootstrap interval."""
    rows = {
        name: metrics(y, np.round(np.asarray(p, float), SCORE_DECIMALS), n_boot, interval, seed, bins)
        for name, p in scores.items()
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("scorer")


def choose(table: pd.DataFrame, by: str = "roc_auc") -> str:
    """The scorer with the best ``by`` (roc_auc, pr_auc: highest; brier, log_loss: lowest)."""
    if by in ("roc_auc", "pr_auc"):
        return str(table[by].astype(float).idxmax())
    if by in ("brier", "log_loss"):
        return str(table[by].astype(float).idxmin())
    from analysis.errors import UserError

    raise UserError(f"unknown churn.choose_by {by!r}: use roc_auc, pr_auc, brier or log_loss")
