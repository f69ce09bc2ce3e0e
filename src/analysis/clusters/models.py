"""Clustering estimators, the search for k and the stability check.

- :func:`make_model`: k-means (``MiniBatchKMeans`` above ``minibatch_threshold`` customers) or a Gaussian
  mixture, seeded from the config's ``random_state``.
- :func:`k_table`: for each k of the range, the within-cluster spread (for the elbow), the silhouette (on a fixed
  sample), Calinski-Harabasz and Davies-Bouldin, all on the same rows.
- :func:`knee`: the elbow's knee by the Kneedle rule (k and spread scaled to 0..1; the knee is the k farthest
  below the straight line from the first to the last point).
- :func:`choose_k`: the choice and a sentence saying why.
- :func:`stability`: the adjusted Rand index between the reference fit and fits on bootstrap resamples, all
  compared on the same rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score, pairwise_distances
from sklearn.mixture import GaussianMixture

from analysis.errors import UserError
from analysis.stage import LANGUAGES, Text

CRITERIA = ("silhouette", "calinski_harabasz", "davies_bouldin", "elbow")
# Each criterion by its short name, as the reason lists them.
SHORT = {
    "silhouette": {"en": "silhouette", "zh": "轮廓系数"},
    "calinski_harabasz": {"en": "calinski-harabasz", "zh": "CH 指数"},
    "davies_bouldin": {"en": "davies-bouldin", "zh": "DB 指数"},
    "elbow": {"en": "elbow", "zh": "肘部法则"},
}
# Each criterion in words (for the reason k was chosen), by message id, in English and Chinese.
TEXTS = {
    "silhouette": {"en": "the silhouette (how well each customer sits in its own group) is highest",
                   "zh": "轮廓系数"},
    "calinski_harabasz": {"en": "the Calinski-Harabasz ratio (spread between groups / within groups) is highest",
                          "zh": "CH 指数"},
    "davies_bouldin": {"en": "the Davies-Bouldin index (overlap of neighbouring groups) is lowest", "zh": "DB 指数"},
    "elbow": {"en": "the elbow of the within-group spread (adding groups stops paying off)", "zh": "肘部法则"},
    "by_criterion": {"en": "k = {k} because {words} there (the setting clusters.criterion)",
                     "zh": "：{words}在 {k} 组时最优（设置 clusters.criterion）"},
    "by_votes": {"en": "k = {k}: {n} of 4 criteria point to it ({agree})",
                 "zh": "：4 项指标中有 {n} 项（{agree}）支持 {k} 组"},
    "separator": {"en": ", ", "zh": "、"},
    "tie": {"en": "; a tie, broken by the higher silhouette", "zh": "；票数相同，取轮廓系数较高者"},
    "others": {"en": "; the others prefer {others}", "zh": "；其余指标的选择：{others}"},
    "left_out": {"en": "; k = {ks} left out: a group smaller than {share:.0%} of the customers, too small to act on",
                 "zh": "；k = {ks} 不予考虑：有一组不足客户的 {share:.0%}，太小，无法据以行动"},
}  # fmt: skip


def make_model(k: int, n: int, cfg: dict, seed: int | np.random.Generator | None = None) -> Any:
    """An unfitted estimator with ``k`` clusters for ``n`` customers, as set in ``cfg`` (the ``clusters`` section)."""
    rs = int(cfg["random_state"]) if seed is None else seed
    if isinstance(rs, np.random.Generator):
        rs = int(rs.integers(2**31 - 1))
    algorithm = cfg["algorithm"]
    if algorithm == "gmm":
        return GaussianMixture(k, covariance_type=cfg["gmm_covariance"], n_init=1, random_state=rs)
    if algorithm != "kmeans":
        raise UserError(f"clusters.algorithm is {algorithm!r}: use kmeans or gmm")
    n_init = int(cfg["n_init"])
    if n > int(cfg["minibatch_threshold"]):
        return MiniBatchKMeans(k, n_init=n_init, random_state=rs, batch_size=4096, max_no_improvement=10)
    return KMeans(k, n_init=n_init, random_state=rs)


def fit_final(x: np.ndarray, rows: np.ndarray, k: int, cfg: dict, sample_fit: Any = None) -> Any:
    """The final model for all of ``x``, consistent with the k search and the stability check on ``x[rows]``:
    fitted on the sample, then (k-means) refined on everyone from the sample's centres, as ``MiniBatchKMeans``
    above ``minibatch_threshold`` customers. Started from the same centres, the big fit lands on the same
    grouping the search and the resamples judged; a Gaussian mixture keeps the sample fit (it assigns everyone
    by ``predict``). ``sample_fit``: the k search's model for ``k`` (the same fit on the same sample), when there
    is one."""
    model = sample_fit if sample_fit is not None else make_model(k, len(rows), cfg).fit(x[rows])
    if len(rows) == len(x) or cfg["algorithm"] != "kmeans":
        return model
    rs = int(cfg["random_state"])
    centres = model.cluster_centers_
    if len(x) > int(cfg["minibatch_threshold"]):
        # started at the sample's optimum the mini-batch updates only wobble: stop after 3 batches without gain
        return MiniBatchKMeans(k, init=centres, n_init=1, random_state=rs, batch_size=4096,
                               max_no_improvement=3).fit(x)  # fmt: skip
    return KMeans(k, init=centres, n_init=1, random_state=rs).fit(x)


def spread(x: np.ndarray, labels: np.ndarray) -> float:
    """Within-cluster sum of squared distances to the cluster means (the k-means 'inertia')."""
    _, codes = np.unique(labels, return_inverse=True)
    sizes = np.bincount(codes).astype(float)
    means = np.stack([np.bincount(codes, weights=x[:, j]) for j in range(x.shape[1])], axis=1) / sizes[:, None]
    return float(((x - means[codes]) ** 2).sum())


def sample_rows(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of a random sample of ``size`` of ``n`` rows (all rows when ``n <= size``)."""
    if n <= size:
        return np.arange(n)
    return np.sort(rng.choice(n, size=size, replace=False))


def silhouette(distances: np.ndarray, labels: np.ndarray) -> float:
    """The mean silhouette of points with pairwise ``distances`` and ``labels`` (as scikit-learn's
    ``silhouette_score``, 0 for a point alone in its cluster), by one matrix product: the distance matrix is
    computed once per sample and reused for every k."""
    _, codes = np.unique(labels, return_inverse=True)
    onehot = np.zeros((len(codes), codes.max() + 1), dtype=distances.dtype)
    onehot[np.arange(len(codes)), codes] = 1
    sums = distances @ onehot  # each point's summed distance to every cluster
    sizes = onehot.sum(axis=0)
    own = sizes[codes]
    a = sums[np.arange(len(codes)), codes] / np.maximum(own - 1, 1)
    other = sums / sizes
    other[np.arange(len(codes)), codes] = np.inf
    b = other.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(own > 1, (b - a) / np.maximum(a, b), 0.0)
    return float(np.nan_to_num(s).mean())


def k_table(
    x: np.ndarray, ks: list[int], cfg: dict, silhouette_rows: np.ndarray, models: dict[int, Any] | None = None
) -> pd.DataFrame:
    """One row per k: ``spread``, ``silhouette`` (on ``silhouette_rows``), ``calinski_harabasz``,
    ``davies_bouldin``, ``smallest_share`` (the smallest cluster's share of customers). ``models``, when given,
    receives each k's fitted model (the final model starts from the chosen k's)."""
    rows = []
    distances = pairwise_distances(x[silhouette_rows].astype(np.float32))
    for k in ks:
        model = make_model(k, len(x), cfg).fit(x)
        if models is not None:
            models[k] = model
        labels = model.predict(x)
        found = len(np.unique(labels))
        row = {"k": k, "clusters_found": found, "spread": spread(x, labels)}
        sil_labels = labels[silhouette_rows]
        if found >= 2 and len(np.unique(sil_labels)) >= 2:
            row["silhouette"] = silhouette(distances, sil_labels)
            row["calinski_harabasz"] = float(calinski_harabasz_score(x, labels))
            row["davies_bouldin"] = float(davies_bouldin_score(x, labels))
        else:
            row.update(silhouette=np.nan, calinski_harabasz=np.nan, davies_bouldin=np.nan)
        row["smallest_share"] = float(np.bincount(labels).min() / len(labels)) if found == k else 0.0
        rows.append(row)
    return pd.DataFrame(rows).set_index("k")


def knee(ks: np.ndarray, values: np.ndarray) -> int:
    """The knee of a decreasing curve (Kneedle): after scaling k and ``values`` to 0..1, the k whose point lies
    farthest below the chord from the first to the last point. The first k when the curve is flat."""
    ks = np.asarray(ks, dtype=float)
    v = np.asarray(values, dtype=float)
    if len(ks) < 3 or not np.isfinite(v).all() or v.max() == v.min():
        return int(ks[0])
    xs = (ks - ks[0]) / (ks[-1] - ks[0])
    ys = (v - v.min()) / (v.max() - v.min())
    chord = ys[0] + (ys[-1] - ys[0]) * xs
    return int(ks[int(np.argmax(chord - ys))])


def choose_k(table: pd.DataFrame, criterion: str = "votes", min_share: float = 0.0) -> tuple[int, Text, dict[str, int]]:
    """The chosen k, why (``{en, zh}``: in Chinese the clause that follows "k groups chosen"), and each criterion's
    preferred k.

    A k whose smallest group holds fewer than ``min_share`` of the customers is not eligible (unless no k is): a
    handful of extreme customers would otherwise win the silhouette as a "group" of their own."""
    ok = table.dropna(subset=["silhouette"])
    if ok.empty:
        raise ValueError("no k in the range gave two or more groups")
    big = ok[ok["smallest_share"] >= min_share] if "smallest_share" in ok else ok
    dropped = [int(k) for k in ok.index if k not in big.index]
    note = {"en": "", "zh": ""}
    if len(big) and dropped:
        ok = big
        note = _said("left_out", ks=", ".join(map(str, dropped)), share=min_share)
    picks = {
        "silhouette": int(ok["silhouette"].idxmax()),
        "calinski_harabasz": int(ok["calinski_harabasz"].idxmax()),
        "davies_bouldin": int(ok["davies_bouldin"].idxmin()),
        "elbow": knee(ok.index.to_numpy(), ok["spread"].to_numpy()),
    }
    if criterion in picks:
        k = picks[criterion]
        why = {lang: TEXTS["by_criterion"][lang].format(k=k, words=TEXTS[criterion][lang]) for lang in LANGUAGES}
        return k, _joined(why, note), picks
    if criterion != "votes":
        raise UserError(f"clusters.criterion is {criterion!r}: use votes or one of {', '.join(CRITERIA)}")
    votes = pd.Series(list(picks.values())).value_counts()
    best = votes[votes == votes.max()].index
    k = int(max(best, key=lambda b: ok.loc[b, "silhouette"]))
    agree = {name: v for name, v in picks.items() if v == k}
    why = {lang: TEXTS["by_votes"][lang].format(k=k, n=len(agree), agree=_listed(agree, lang)) for lang in LANGUAGES}
    if len(best) > 1:
        why = _joined(why, _said("tie"))
    others = {name: v for name, v in picks.items() if v != k}
    if others:
        listed = {lang: _listed(others, lang, with_k=True) for lang in LANGUAGES}
        why = _joined(why, {lang: TEXTS["others"][lang].format(others=listed[lang]) for lang in LANGUAGES})
    return k, _joined(why, note), picks


def _listed(criteria: dict[str, int], lang: str, with_k: bool = False) -> str:
    """Criteria by their short names in ``lang`` (``davies-bouldin``, DB 指数), each with its k if ``with_k``."""
    names = [SHORT[c][lang] + (f" {k}" if with_k else "") for c, k in criteria.items()]
    return TEXTS["separator"][lang].join(names)


def _said(key: str, **values) -> Text:
    """The message ``key`` of :data:`TEXTS` in both languages, with ``values`` filled in."""
    return {lang: TEXTS[key][lang].format(**values) for lang in LANGUAGES}


def _joined(first: Text, then: Text) -> Text:
    """Two texts one after the other, in each language."""
    return {lang: first[lang] + then[lang] for lang in LANGUAGES}


def stability(
    x: np.ndarray, k: int, cfg: dict, reference: np.ndarray, resamples: int, rng: np.random.Generator
) -> list[float]:
    """Adjusted Rand index between ``reference`` labels of ``x`` and the labels of ``x`` from fits (each with its
    own seed) on ``resamples`` bootstrap resamples of ``x``."""
    out = []
    for _ in range(resamples):
        rows = rng.integers(0, len(x), size=len(x))
        model = make_model(k, len(x), cfg, seed=rng).fit(x[rows])
        out.append(float(adjusted_rand_score(reference, model.predict(x))))
    return out
