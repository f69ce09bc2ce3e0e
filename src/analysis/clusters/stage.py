"""The clustering stage: :func:`run_clusters`, the one call the notebook makes.

Buyers are clustered on their scaled features (:mod:`analysis.clusters.features`); k is chosen over a range
(:mod:`analysis.clusters.models`) unless ``clusters.k`` fixes it; the stability is measured at the chosen k; the
clusters are numbered 1..k from the most to the least valuable (total spend), named (:mod:`.naming`) and given
rules a CRM can apply (:mod:`.rules`). Customers without a purchase get no cluster number and the label
``labels.no_purchase``; with ``features.single_purchase: separate`` one-time buyers get ``labels.one_time``.

Sampling for large populations: the k search and the stability check use at most ``search_sample`` buyers; the
final model starts from the sample's fit and is refined on every buyer (``models.fit_final``), so all three judge
the same grouping; silhouettes ``silhouette_sample`` of those, rule
trees ``rule_sample`` buyers (rules are scored on all), the 2-D picture ``projection_sample``.

Data that cannot support clusters makes the stage decline (:class:`~analysis.errors.StageDeclined`, its reason in
English and Chinese): no buyer to cluster, fewer buyers than the smallest split needs (:func:`fewest_buyers`: the
k search's lowest k, or a fixed k, times ``min_group_customers``, more when the stability check resamples),
fewer buyers with more than one purchase day than a group holds (bought once, customers differ only in when and how
much, which the segments page shows: nobody twice, one day of data), or buyers who all look the same on every
feature. Otherwise the k search stops at the groups the buyers allow, and
``report["warnings"]`` says so.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits

from analysis.clusters import features as F
from analysis.clusters.describe import manager_summary
from analysis.clusters.models import choose_k, fit_final, k_table, sample_rows, stability
from analysis.clusters.naming import cluster_names, levels, typical_gap
from analysis.clusters.overlaps import OVERLAP, OVERLAP_LABELS, overlaps
from analysis.clusters.rules import cluster_rules, rule_text
from analysis.errors import StageDeclined, UserError
from analysis.i18n import check_language
from analysis.tables import text_column

__all__ = ["COLUMN_KINDS", "ClusterRun", "fewest_buyers", "manager_summary", "run_clusters"]

TRANSACTION_COLUMNS = ("customer_id", "timestamp")  # what the stage reads of the purchases (regularity)
# the columns the stage adds to the customer table and their kinds (a declined stage leaves them empty)
COLUMN_KINDS = {"cluster": "number", "cluster_name": "text", "cluster_name_zh": "text"}
# the share of distinct customers in a bootstrap resample (1 - 1/e): a group of m customers holds about this
# share of m distinct ones in each of the stability check's resamples
RESAMPLE_SHARE = 1 - np.exp(-1.0)


@dataclass
class ClusterRun:
    """The stage's products: ``customers`` (``customer_id``, ``cluster``, ``cluster_name``, ``cluster_name_zh``),
    ``report`` (JSON-able) and the tables the notebook shows (``k_table``, ``profiles``, ``scaled_medians``,
    ``snake``, ``projection``, ``rules``, ``overlap_<column>``)."""

    customers: pd.DataFrame
    report: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    tables_zh: dict[str, pd.DataFrame] = field(default_factory=dict)  # overlaps with Chinese categories

    def names(self, lang: str = "en") -> dict[int, str]:
        """The cluster names in ``lang``, by cluster number."""
        key = ("en", "zh")[check_language(lang)]
        return {int(i): n[key] for i, n in self.report.get("names", {}).items()}

    def table(self, name: str, lang: str = "en") -> pd.DataFrame:
        """The table ``name`` with its groups and categories named in ``lang`` (for the charts): the cluster
        names of ``scaled_medians``, ``snake``, ``projection`` and ``shares`` (``profiles``' shares by name), the
        segments, tiers and stages of the ``overlap_<column>`` cross-tabs."""
        check_language(lang)
        if name.startswith("overlap_"):
            return self.tables_zh[name] if lang == "zh" else self.tables[name]
        by_name = dict(zip(self.names("en").values(), self.names(lang).values(), strict=True))
        if name == "shares":
            prof = self.tables["profiles"]
            return prof.set_index("name" if lang == "en" else "name_zh")[["customer_share", "value_share"]]
        table = self.tables[name]
        if name == "projection":
            return table.assign(name=table["name"].map(by_name))
        return table.rename(index=by_name)


def _settings(config: dict) -> dict:
    if "clusters" not in config:
        raise UserError("the config has no 'clusters' section: load it with analysis.config.load_config")
    cfg = config["clusters"]
    lo, hi = (int(v) for v in cfg.get("k_range", [2, 10]))
    if lo < 2 or hi < lo:
        raise UserError(f"clusters.k_range is {cfg.get('k_range')}: give [low, high] with 2 <= low <= high")
    if cfg.get("k") is not None and int(cfg["k"]) < 1:
        raise UserError(f"clusters.k is {cfg['k']}: give a whole number of clusters (2 or more), or null")
    return cfg


def _value(frame: pd.DataFrame) -> pd.Series:
    """What a group is worth: its spend, or its orders when the input has no amounts."""
    return frame["monetary"] if "monetary" in frame else frame["frequency"]


def _warn(report: dict, en: str, zh: str) -> None:
    report["warnings"].append({"en": en, "zh": zh})


def _decline(en: str, zh: str) -> None:
    raise StageDeclined("clusters", {"en": en, "zh": zh}, COLUMN_KINDS)


def _groups_allowed(n: int, cfg: dict) -> int:
    """The most groups ``n`` buyers allow: each holds at least ``min_group_customers`` of them, in every one of the
    stability check's resamples too (about :data:`RESAMPLE_SHARE` of them distinct) when it runs."""
    share = RESAMPLE_SHARE if int(cfg["stability"]["resamples"]) > 0 else 1.0
    return int(n * share // int(cfg["min_group_customers"]))


def fewest_buyers(cfg: dict) -> int:
    """The fewest buyers the stage clusters (the ``clusters`` settings): the smallest split it would make (a fixed
    ``k``, else ``k_range``'s low end) with ``min_group_customers`` in each group, in the resamples too."""
    k = int(cfg["k"]) if cfg.get("k") is not None else int(cfg["k_range"][0])
    share = RESAMPLE_SHARE if int(cfg["stability"]["resamples"]) > 0 else 1.0
    return int(np.ceil(max(k, 2) * int(cfg["min_group_customers"]) / share))


def _check_buyers(n: int, cfg: dict, separate: bool) -> None:
    """Decline when there are no buyers to cluster, or fewer than :func:`fewest_buyers`."""
    if n == 0 and separate:
        _decline("Every customer bought only once and one-time buyers are kept apart "
                 "(clusters.features.single_purchase: separate), so nobody is left to group.",
                 "所有客户都只购买过一次，且一次性购买客户单独成组（clusters.features.single_purchase: separate），"
                 "没有客户可分组。")  # fmt: skip
    if n == 0:
        _decline("No customer has bought yet, so there is nothing to group.", "尚无客户有购买记录，无从分组。")
    need, m = fewest_buyers(cfg), int(cfg["min_group_customers"])
    if n < need:
        _decline(f"Only {n:,} customers have bought: splitting them into groups of at least {m} customers each that "
                 f"come back when the customers are resampled takes at least {need:,}.",
                 f"只有 {n:,} 位客户有购买记录：分成每组至少 {m} 位、且重抽样后依然成立的客户群，"
                 f"至少需要 {need:,} 位。")  # fmt: skip


def _check_repeaters(purchase_days: np.ndarray, cfg: dict) -> None:
    """Decline when fewer of the buyers to cluster (their ``purchase_days``) bought on more than one day than a
    group holds (``min_group_customers``): bought once, the others differ only in when they bought and how much
    they spent, which the segments page's RFM scores and value classes already show; no feature of repeat
    behaviour (orders, tenure, regularity) varies enough to tell a group apart."""
    repeaters, n, m = int((purchase_days > 1).sum()), len(purchase_days), int(cfg["min_group_customers"])
    if repeaters >= m:
        return
    same = (
        "they differ only in when they bought and how much they spent, which the segments page's RFM scores "
        "and value classes already show; no groups are formed."
    )
    same_zh = "他们只在购买时间和消费金额上不同，这已由客户细分页面的 RFM 评分和价值分类呈现，因此不做分群。"
    if repeaters == 0:
        _decline(f"None of the {n:,} customers bought on more than one day: with one purchase each, {same}",
                 f"{n:,} 位客户中没有人在一天以上购买过：每人只有一次购买，{same_zh}")  # fmt: skip
    _decline(f"Only {repeaters:,} of the {n:,} customers bought on more than one day, fewer than the {m} a group "
             f"holds (clusters.min_group_customers): the rest bought once, and {same}",
             f"{n:,} 位客户中只有 {repeaters:,} 位在一天以上购买过，少于每组所需的 {m} 位"
             f"（clusters.min_group_customers）：其余客户只购买过一次，{same_zh}")  # fmt: skip


def run_clusters(
    customers: pd.DataFrame,
    config: dict,
    transactions: pd.DataFrame | None = None,
    quarantine: pd.DataFrame | None = None,
    as_of: Any = None,
    quarantine_id: str = "customer_id",
) -> ClusterRun:
    """Cluster the buyers of the customer table. ``transactions`` (purchases up to ``as_of``) give the regularity
    feature, ``quarantine`` (the data spine's; its customer id column is the input's, ``quarantine_id``: in a run
    ``st.quality["mapping"]["customer_id"]``) the return share; without them those features are left out."""
    cfg = _settings(config)
    labels_cfg = cfg["labels"]
    seed = int(cfg.get("random_state", 0))
    rng = np.random.default_rng(seed)
    c = customers.reset_index(drop=True)
    frame = F.feature_frame(c, transactions, quarantine, as_of, quarantine_id)
    clustered = F.buyers(c)
    separate = cfg["features"].get("single_purchase", "together") == "separate"
    if separate:
        clustered &= frame["purchase_days"].to_numpy() > 1
    settings = {k: cfg[k] for k in ("algorithm", "k", "k_range", "criterion", "random_state")}
    report: dict[str, Any] = {"customers": len(c), "clustered": int(clustered.sum()), "warnings": [],
                              "settings": settings, "features": [f for f in F.FEATURES if f in frame]}  # fmt: skip
    sub = frame[clustered].reset_index(drop=True)
    _check_buyers(len(sub), cfg, separate)
    _check_repeaters(sub["purchase_days"].to_numpy(), cfg)
    x_frame, fill = F.model_matrix(sub)
    report["single_purchase"] = {
        "treatment": "separate" if separate else "together",
        "without_cadence": int((~sub["cadence"]).sum()),
        "regularity_given": fill,
    }
    if "monetary" not in frame:
        _warn(
            report,
            "The data has no amounts: the groups are formed on recency, orders, tenure and regularity, "
            "and their value is their share of orders.",
            "数据没有金额：按最近购买、订单数、客户年限和购买规律分组，价值按订单数占比计算。",
        )
    threads = cfg.get("threads")
    with threadpool_limits(int(threads) if threads else None):
        labels, k, tables, x, capped = _cluster(x_frame, sub, cfg, rng, report)
    tables_zh: dict[str, pd.DataFrame] = {}
    if k >= 1:
        scaled = pd.DataFrame(x, columns=list(x_frame.columns)) if x is not None else None
        _describe(sub, scaled, capped, labels, k, cfg, seed, report, tables)
        labelled = [name for pair in OVERLAP_LABELS.values() for name in pair]
        wanted = [col for col in dict.fromkeys([*OVERLAP, *labelled]) if col in c]  # not the whole table
        overlaps(c.loc[clustered, wanted].reset_index(drop=True), labels, report, tables, tables_zh, config)
    out = _label_customers(c, frame, clustered, separate, labels, labels_cfg, report.get("names", {}))
    report["counts"] = {str(k_): int(v) for k_, v in out["cluster_name"].value_counts().items()}
    return ClusterRun(out, report, tables, tables_zh)


def _label_customers(c, frame, clustered, separate, labels, labels_cfg, names) -> pd.DataFrame:
    """``customer_id``, ``cluster`` (1..k, empty when not clustered) and the names in both languages (each
    name's text written once per distinct name, with Arrow)."""
    cluster = pd.array(np.zeros(len(c), dtype="int64"), dtype="Int64")
    cluster[~clustered] = pd.NA
    cluster[clustered] = labels
    # name codes: 0 no purchase, 1 one-time buyer, 1 + i cluster i
    top = max(names) if names and len(labels) else 0
    code = np.zeros(len(c), dtype=np.int64)
    if separate:
        code[F.buyers(c) & (frame["purchase_days"].to_numpy() <= 1)] = 1
    if top:
        code[clustered] = 1 + np.asarray(labels)
    out = {"customer_id": c["customer_id"].astype(str), "cluster": cluster}
    for column, lang in (("cluster_name", 0), ("cluster_name_zh", 1)):
        words = [labels_cfg["no_purchase"][lang], labels_cfg["one_time"][lang]]
        words += [names.get(i, {}).get(("en", "zh")[lang]) for i in range(1, top + 1)]
        out[column] = text_column(words, code)
    return pd.DataFrame(out)


def _cluster(x_frame, sub, cfg, rng, report) -> tuple[np.ndarray, int, dict, np.ndarray | None, np.ndarray]:
    """Scale, choose k, fit on everyone, renumber by value; fills the k part of ``report``. Returns the labels
    (1..k), k, tables, the scaled matrix and the mask of capped (extreme) customers."""
    n = len(sub)
    tables: dict[str, pd.DataFrame] = {}
    report.update(k=0, k_reason="", k_table=[], stability=None, extremes=0)
    clip = cfg["features"].get("clip")
    pipe = F.scaling_pipeline(cfg["features"].get("transform", "log"), clip)
    x = pipe.fit_transform(x_frame)
    capped = F.extremes(pipe, x_frame, clip)
    report["extremes"] = int(capped.sum())
    distinct = _distinct(x, int(cfg["k_range"][1]) + 1)
    lo, hi = (int(v) for v in cfg["k_range"])
    fixed = cfg.get("k")
    top = min(distinct, n - 1) if fixed is None else min(distinct, n)
    if distinct < 2:
        _decline(f"All {n:,} customers who bought look the same on every feature (recency, orders, spend, tenure, "
                 "basket size), so the data shows no groups.",
                 f"全部 {n:,} 位购买客户在每项特征（最近购买、订单数、消费、客户年限、客单价）上都相同，"
                 "数据中没有可区分的群体。")  # fmt: skip
    allowed = _groups_allowed(n, cfg)
    by_size = allowed < min(top, hi if fixed is None else int(fixed))  # fewer groups than the buyers allow
    if by_size:
        top = allowed
        _warn(report, f"{n:,} buyers allow groups of at least {int(cfg['min_group_customers'])} customers for k up to "
              f"{allowed} (clusters.min_group_customers).",
              f"{n:,} 位购买客户在每组至少 {int(cfg['min_group_customers'])} 位时最多可分 {allowed} 组"
              "（clusters.min_group_customers）。")  # fmt: skip
    rows = sample_rows(n, int(cfg.get("search_sample", 100_000)), rng)
    xs = x[rows]
    sil = sample_rows(len(xs), int(cfg.get("silhouette_sample", 10_000)), rng)
    report["samples"] = {"search": int(len(rows)), "silhouette": int(len(sil))}
    if fixed is not None:
        k = min(int(fixed), top)
        ks = [k] if k >= 2 else []
        reason = f"k = {k} is fixed by the setting clusters.k"
        if k < int(fixed) and not by_size:
            reason += f" (lowered from {int(fixed)}: only {distinct:,} different customer profiles)"
            _warn(report, reason + ".", f"聚类数由设置的 {int(fixed)} 降为 {k}：不同的客户特征只有 {distinct:,} 种。")
    else:
        ks = list(range(lo, min(hi, top) + 1))
        if min(hi, top) < hi and not by_size:
            _warn(report, f"Only {distinct:,} different customer profiles: k is searched up to {min(hi, top)}.",
                  f"不同的客户特征只有 {distinct:,} 种：聚类数最多搜索到 {min(hi, top)}。")  # fmt: skip
    searched: dict[int, Any] = {}
    table = k_table(xs, ks, cfg, sil, searched) if ks else pd.DataFrame()
    if fixed is None:
        k, reason, picks = choose_k(table, cfg.get("criterion", "votes"), float(cfg.get("min_cluster_share", 0.0)))
        report["k_votes"] = picks
    tables["k_table"] = table
    report["k_table"] = table.reset_index().replace({np.nan: None}).to_dict("records") if len(table) else []
    model = fit_final(x, rows, k, cfg, searched.get(k))
    raw = model.predict(x)
    # number the clusters 1..k from the most to the least valuable (total spend), ties by size
    value = pd.DataFrame({"raw": raw, "m": _value(sub).to_numpy()}).groupby("raw")["m"].agg(["sum", "size"])
    order = value.sort_values(["sum", "size"], ascending=False, kind="stable").index
    lookup = np.zeros(int(raw.max()) + 1, dtype=int)
    lookup[order.to_numpy()] = np.arange(1, len(order) + 1)
    labels = lookup[raw]
    found = len(order)
    if found < k:
        _warn(report, f"The algorithm found only {found} non-empty groups for k = {k}.",
              f"在 k = {k} 时算法只找到 {found} 个非空组。")  # fmt: skip
    report.update(k=int(found), k_reason=reason, model=type(model).__name__)
    resamples = int(cfg["stability"].get("resamples", 10))
    if found >= 2 and resamples > 0:
        ari = stability(xs, k, cfg, labels[rows], resamples, rng)
        mean = float(np.mean(ari))
        report["stability"] = {"mean_ari": mean, "min_ari": float(np.min(ari)), "resamples": resamples,
                               "threshold": float(cfg["stability"]["threshold"]), "ari": ari,
                               "stable": bool(mean >= float(cfg["stability"]["threshold"]))}  # fmt: skip
        if mean < float(cfg["stability"]["threshold"]):
            _warn(report,
                  f"The grouping is not stable: refitted on resampled customers it agrees with itself only "
                  f"{mean:.0%} of the way (adjusted Rand index; threshold {cfg['stability']['threshold']:.0%}). "
                  "Treat the groups and their names as a rough sketch, not as settled segments.",
                  f"分组不稳定：在重抽样客户上重新拟合，与原分组的一致度仅 {mean:.0%}（调整兰德指数，阈值 "
                  f"{cfg['stability']['threshold']:.0%}）。分组及其名称仅供参考。")  # fmt: skip
    return labels, found, tables, x, capped


def _distinct(x: np.ndarray, enough: int) -> int:
    """The number of distinct rows of ``x``, or any number >= ``enough`` when a sample already has that many
    (counting all distinct rows of a million customers costs seconds)."""
    head = np.unique(np.round(x[:20_000], 9), axis=0).shape[0]
    if head >= enough or len(x) <= 20_000:
        return head
    return np.unique(np.round(x, 9), axis=0).shape[0]


def _describe(sub, scaled, capped, labels, k, cfg, seed, report, tables) -> None:
    """Profiles, names, rules and the 2-D projection of the clustered customers (``scaled``: their
    scaled features; ``capped``: who had an extreme value)."""
    n = len(sub)
    ids = np.arange(1, k + 1)
    group = pd.Series(labels, name="cluster")
    members = _members(labels, ids)
    med = _medians(sub[[f for f in F.FEATURES if f in sub] + ["purchase_days"]], members, ids)
    size = group.value_counts().reindex(ids, fill_value=0)
    value = _value(sub).groupby(group).sum().reindex(ids, fill_value=0.0)
    naming = cfg["naming"]
    lv = levels(med[[f for f in F.FEATURES if f in med]], sub, float(naming["low"]), float(naming["high"]),
                naming.get("recency_by_gap"))  # fmt: skip
    report["typical_gap_days"] = typical_gap(sub)
    smed = _medians(scaled, members, ids) if scaled is not None else None
    en, zh = cluster_names(lv, naming, list(ids), smed, float(naming.get("standout", 1.5)))
    if k == 1:  # the data could not be split: one plainly named group
        en, zh = {1: cfg["labels"]["single"][0]}, {1: cfg["labels"]["single"][1]}
    report["names"] = {int(i): {"en": en[i], "zh": zh[i]} for i in ids}
    prof = pd.DataFrame({"name": pd.Series(en), "name_zh": pd.Series(zh), "customers": size,
                         "customer_share": size / max(n, 1), "value": value,
                         "value_share": value / (value.sum() or 1.0)}).rename_axis("cluster")  # fmt: skip
    prof = prof.join(med.add_prefix("median_"))
    if scaled is not None:
        by = scaled.groupby(group)
        tables["scaled_medians"] = smed.set_axis([en[i] for i in ids])
        tables["snake"] = by.mean().reindex(ids).set_axis([en[i] for i in ids])
        prof["extreme_share"] = pd.Series(capped).groupby(group).mean().reindex(ids).to_numpy()
        rows = sample_rows(n, int(cfg.get("projection_sample", 5000)), np.random.default_rng(seed + 1))
        x = scaled.to_numpy()[rows]
        if x.shape[1] >= 2 and len(rows) >= 2 and np.ptp(x, axis=0).max() > 0:
            pca = PCA(2, random_state=seed).fit(x)
            xy = pca.transform(x)
            tables["projection"] = pd.DataFrame({"pc1": xy[:, 0], "pc2": xy[:, 1], "cluster": labels[rows],
                                                 "name": [en[i] for i in labels[rows]]})  # fmt: skip
            report["projection_explained"] = [float(v) for v in pca.explained_variance_ratio_]
    tables["profiles"] = prof
    report["profiles"] = [
        {k_: (None if isinstance(v, float) and not np.isfinite(v) else v) for k_, v in row.items()}
        for row in prof.reset_index().astype(object).to_dict("records")
    ]
    _small_clusters(prof, cfg, report)
    rule_rows = sample_rows(n, int(cfg.get("rule_sample", 50_000)), np.random.default_rng(seed + 2))
    found = cluster_rules(sub, labels, cfg["rules"], rule_rows, seed) if k >= 2 else {1: []}
    rules = []
    for i in ids:
        for r in found.get(int(i), []):
            rules.append({"cluster": int(i), "name": en[i], "name_zh": zh[i], **r,
                          "text": rule_text(r["conditions"], en[i], r["precision"]),
                          "text_zh": rule_text(r["conditions"], zh[i], r["precision"], "zh")})  # fmt: skip
        if k >= 2 and not found.get(int(i)):
            _warn(report, f"No simple rule describes cluster {i} ({en[i]}) with precision "
                  f"{cfg['rules']['min_precision']:.0%} or better: assign it with the model.",
                  f"第 {i} 组（{zh[i]}）没有准确率达到 {cfg['rules']['min_precision']:.0%} 的简单规则："
                  "请用模型分配。")  # fmt: skip
    report["rules"] = rules
    tables["rules"] = pd.DataFrame(rules, columns=["cluster", "name", "text", "precision", "coverage", "customers"])


def _members(labels: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The customers of each cluster of ``ids``: the rows sorted by cluster, and where each cluster starts and
    ends among them."""
    order = np.argsort(labels, kind="stable")
    ranked = np.asarray(labels)[order]
    return order, np.searchsorted(ranked, ids, "left"), np.searchsorted(ranked, ids, "right")


def _medians(frame: pd.DataFrame, members: tuple, ids: np.ndarray) -> pd.DataFrame:
    """Each column's median per cluster (rows ``ids``; missing values left out, NaN for a cluster without
    values), as ``groupby(...).median()`` gives it: one sort of the cluster numbers, then each cluster's slice."""
    order, starts, ends = members
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (a cluster with no value: NaN)
        for column in frame.columns:
            values = frame[column].to_numpy(float, na_value=np.nan)[order]
            out[column] = [np.nanmedian(values[a:b]) if b > a else np.nan for a, b in zip(starts, ends, strict=True)]
    return pd.DataFrame(out, index=pd.Index(ids, name="cluster"))


def _small_clusters(prof: pd.DataFrame, cfg: dict, report: dict) -> None:
    """Warn about clusters under ``min_cluster_share``, and say when one is mostly extreme customers."""
    floor = float(cfg.get("min_cluster_share", 0.01))
    for i, row in prof.iterrows():
        if row["customer_share"] >= floor:
            continue
        extreme = row.get("extreme_share", 0.0) or 0.0
        if extreme >= 0.5:
            en = (
                f"Cluster {i} ({row['name']}) is a small group of extreme customers ({int(row['customers']):,}, "
                f"{row['customer_share']:.1%}; {extreme:.0%} far outside everyone else even after capping): "
                "the data really has such a group, such as wholesalers. Look at them one by one."
            )
            zh = (
                f"第 {i} 组（{row['name_zh']}）是一小群极端客户（{int(row['customers']):,} 位，"
                f"{row['customer_share']:.1%}）：数据中确有这样的群体（如批发客户），请逐一查看。"
            )
        else:
            size, share = int(row["customers"]), row["customer_share"]
            en = f"Cluster {i} ({row['name']}) is small: {size:,} customers ({share:.1%})."
            zh = f"第 {i} 组（{row['name_zh']}）规模很小：{size:,} 位客户（{share:.1%}）。"
        _warn(report, en, zh)
