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
no_clear_sign             none of the above applies (the model's risk rests on the      1
                          history as a whole)
========================  ============================================================  ======================
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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

# Said of an at-risk customer for whom no other reason applies, so that no one on the list is without a reason.
NO_CLEAR_SIGN = "no_clear_sign"

# The features the reasons are computed and worded from (the rest of the feature frame is not needed).
FEATURES_USED = ("recency_days", "mean_gap_days", "purchase_days", "purchases_last", "purchases_prev", "spend_last",
                 "spend_prev", "p_alive", "return_share")  # fmt: skip


PERMUTED_ROWS = 100_000  # rows of permuted copies scored at once by the permutation importance


def importance_table(
    model: Any, X: pd.DataFrame, y, columns, repeats: int = 3, max_rows: int = 20_000, seed: int = 0
) -> pd.DataFrame:
    """Permutation importance (drop in ROC-AUC when a feature is shuffled) on a seeded sample of at most
    ``max_rows`` customers of the evaluation cut-off; sorted, largest first.

    The same shuffles and numbers as scikit-learn's ``permutation_importance(model, Xs, ys, scoring=ROC-AUC,
    n_repeats=repeats, random_state=seed)``, but the shuffled copies of the sample are stacked and scored
    together (about 100,000 rows at a time) rather than one model call per feature and shuffle: every scorer
    scores each customer on their own, so the probabilities are the same."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(X), size=min(len(X), max_rows), replace=False))
    Xs = X.iloc[rows].reindex(columns=list(columns), fill_value=0.0)
    ys = np.asarray(y)[rows]
    if len(np.unique(ys)) < 2:
        return pd.DataFrame(columns=["importance", "std"]).rename_axis("feature")
    base = Xs.to_numpy(float)
    n, k = base.shape
    baseline = roc_auc_score(ys, churn_probability(model, Xs, Xs.columns))
    seed_of_each = np.random.RandomState(int(seed)).randint(np.iinfo(np.int32).max + 1)

    def shuffled():  # (feature, permuted column) in scikit-learn's order: per feature its own generator
        for col in range(k):
            order, values = np.arange(n), base[:, col]
            generator = np.random.RandomState(seed_of_each)
            for _ in range(repeats):
                generator.shuffle(order)
                values = values[order]  # each shuffle permutes the column as the previous one left it
                yield col, values

    scores = []
    todo = list(shuffled())
    batch = min(len(todo), max(1, PERMUTED_ROWS // n))
    copies = np.empty((batch, n, k))  # reused: each round writes the sample, then its shuffled columns
    for start in range(0, len(todo), batch):
        part = todo[start : start + batch]
        copies[:] = base
        for i, (col, values) in enumerate(part):
            copies[i, :, col] = values
        stacked = pd.DataFrame(copies[: len(part)].reshape(-1, k), columns=Xs.columns, copy=False)
        p = churn_probability(model, stacked, Xs.columns).reshape(len(part), n)
        scores += [roc_auc_score(ys, p_i) for p_i in p]
    drops = baseline - np.array(scores).reshape(k, repeats)
    table = pd.DataFrame(
        {"importance": np.mean(drops, axis=1), "std": np.std(drops, axis=1)},
        index=pd.Index(Xs.columns, name="feature"),
    )
    return table.sort_values("importance", ascending=False)


def severities(f: pd.DataFrame, cfg: dict[str, Any], horizon: int) -> dict[str, np.ndarray]:
    """Each reason's severity per customer of ``f`` (their features) from ``churn.reasons`` (``cfg``): 0 where
    the reason does not apply (the module docstring's table)."""
    def col(name, default=np.nan):
        return f[name].to_numpy(float) if name in f else np.full(len(f), default)

    rec, gap, days = col("recency_days"), col("mean_gap_days"), col("purchase_days", 1)
    ratio = rec / gap
    limit = float(cfg["overdue_ratio"])
    overdue = (days >= 2) & (ratio > limit)
    drop = float(cfg["drop_share"])
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
    out["p_alive"] = np.where(p < float(cfg["p_alive_below"]), 1 - p, 0)
    r = col("return_share", 0)
    out["returns"] = np.where(r > float(cfg["return_share_above"]), r, 0)
    return {k: np.nan_to_num(v) for k, v in out.items()}


TEXT = pa.large_string()


def words(vocabulary, codes: np.ndarray) -> pa.Array:
    """Arrow text holding ``vocabulary[code]`` for each code: a million customers cost milliseconds, not a
    Python string each."""
    return pa.array([str(w) for w in vocabulary], TEXT).take(pa.array(np.asarray(codes, np.int64)))


def _whole(x: np.ndarray) -> pa.Array:
    """Whole numbers as text ("95"), "?" where missing."""
    x = np.asarray(x, float)
    ok = np.isfinite(x)
    text = pc.cast(pa.array(np.round(np.where(ok, x, 0)).astype(np.int64)), TEXT)
    return text if ok.all() else pc.if_else(pa.array(ok), text, pa.scalar("?", TEXT))


def reason_numbers(f: pd.DataFrame, window: int) -> dict[str, np.ndarray]:
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


def _fill(template: str, values: dict[str, pa.Array], n: int) -> pa.Array:
    """``template`` filled for ``n`` customers from ``values`` (each name's numbers as text)."""
    parts = []
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        parts.append(pa.scalar(literal, TEXT))
        if name:
            parts.append(values[name])
    if not any(isinstance(part, pa.Array) for part in parts):
        return pa.repeat(pa.scalar(template, TEXT), n)
    return pc.binary_join_element_wise(*parts, pa.scalar("", TEXT))


def _names(*templates: str) -> set[str]:
    return {name for t in templates for _literal, name, _spec, _conv in string.Formatter().parse(t) if name}


REASON_ROWS = 500_000  # customers whose reasons are put together at once


def customer_reasons(
    features: pd.DataFrame,
    cfg: dict[str, Any],
    horizon: int,
    window: int,
    importance: pd.DataFrame | None = None,
    who=None,
) -> tuple[pd.Series, pd.Series]:
    """The top ``cfg['count']`` reasons per customer in English and Chinese ("; " / "；" separated),
    for the customers where ``who`` (a boolean array; default all) is true, "" for the others.

    Customers are taken :data:`REASON_ROWS` at a time (each customer's reasons depend only on their own
    numbers and the importance weights), so the severities, rankings and partial texts of ten million
    customers are never held at once; the texts of the blocks become one column without being copied."""
    texts = cfg["texts"]
    keys = [k for k in (*FEATURE_OF, NO_CLEAR_SIGN) if k in texts]
    n = len(features)
    who = np.ones(n, bool) if who is None else np.asarray(who, bool)
    count = int(cfg["count"])
    if not who.any() or not keys or count < 1:
        empty = pd.Series("", index=features.index, dtype="str")
        return empty, empty.copy()
    weight = {k: 0.5 for k in keys}
    if importance is not None and len(importance):
        imp = importance["importance"].clip(lower=0)
        total = imp.sum()
        for k in keys:
            if total > 0 and k in FEATURE_OF and FEATURE_OF[k] in imp:
                weight[k] += float(imp[FEATURE_OF[k]] / total)
    blocks = [
        _block_reasons(features.iloc[start : start + REASON_ROWS], who[start : start + REASON_ROWS], keys, weight,
                       cfg, horizon, window, count)
        for start in range(0, n, REASON_ROWS)
    ]  # fmt: skip
    return tuple(
        pd.Series(pd.array(pa.chunked_array([b[lang] for b in blocks], TEXT), dtype="str"), index=features.index)
        for lang in (0, 1)
    )


def _block_reasons(features, who, keys, weight, cfg, horizon, window, count) -> tuple[pa.Array, pa.Array]:
    """:func:`customer_reasons` for one block of customers (``weight``: each reason's importance weight), as
    Arrow texts in English and Chinese.

    The texts are put together by Arrow: each reason's texts are filled once, for the customers it is among
    the top reasons of; then each customer's reasons are gathered rank by rank and joined, a separator before
    each reason that applies once some text is written."""
    texts = cfg["texts"]
    n = len(features)
    idx = np.flatnonzero(who)
    if not len(idx):
        nothing = pa.repeat(pa.scalar("", TEXT), n)
        return nothing, nothing
    sub = features.iloc[idx]
    sev = severities(sub, cfg, horizon)
    m = len(idx)
    scores = np.column_stack([sev[k] * weight[k] if k in sev else np.zeros(m) for k in keys])
    if NO_CLEAR_SIGN in keys:
        scores[:, keys.index(NO_CLEAR_SIGN)] = ~(scores > 0).any(axis=1)
    top = np.argsort(-scores, axis=1, kind="stable")[:, :count]
    applies = scores[np.arange(m)[:, None], top] > 0  # customers x ranks: the reason at that rank applies
    # the (customer, rank) pairs that get a text, grouped by reason (customers in order within a reason)
    row, rank = np.nonzero(applies)
    key = top[row, rank]
    order = np.argsort(key, kind="stable")
    row, rank, key = row[order], rank[order], key[order]
    bounds = np.searchsorted(key, np.arange(len(keys) + 1))
    numbers = reason_numbers(sub, window)
    filled: dict[int, list[pa.Array]] = {0: [], 1: []}  # English, Chinese: every text, in the order of `row`
    for pos, k in enumerate(keys):
        pick = row[bounds[pos] : bounds[pos + 1]]
        named = {"drop": "spend_drop"} if k == "spend_down" else {}
        values = {name: _whole(numbers[named.get(name, name)][pick]) for name in _names(*texts[k][:2])}
        for lang in filled:
            filled[lang].append(_fill(texts[k][lang], values, len(pick)))
    at = np.full((n, top.shape[1]), len(row), np.int64)  # customer x rank -> its text (len(row): "")
    at[idx[row], rank] = np.arange(len(row))
    out = []
    for lang, sep in ((0, "; "), (1, "；")):
        every = pa.concat_arrays([*filled[lang], pa.array([""], TEXT)])
        written = applies & np.array([bool(texts[k][lang]) for k in keys])[top]  # applies, and its text is not ""
        before = np.zeros(at.shape, bool)  # some text is written at an earlier rank
        before[idx] = np.cumsum(written, axis=1) - written > 0
        pieces = []
        for r in range(top.shape[1]):
            pieces.append(words(["", sep], before[:, r] & (at[:, r] < len(row))))
            pieces.append(every.take(pa.array(at[:, r])))
        out.append(pc.binary_join_element_wise(*pieces, pa.scalar("", TEXT)))
    return out[0], out[1]
