"""The clustering stage: :func:`run`, the one call the notebook makes, and its result, :class:`ClustersResult`.

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
feature. Otherwise the k search stops at the groups the buyers allow, and the record's ``warnings`` say so.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits

from analysis.clusters import describe
from analysis.clusters import features as F
from analysis.clusters.models import choose_k, fit_final, k_table, sample_rows, stability
from analysis.clusters.naming import cluster_names, levels, typical_gap
from analysis.clusters.overlaps import OVERLAP, OVERLAP_LABELS, overlap_record, overlaps
from analysis.clusters.rules import cluster_rules, rule_text
from analysis.errors import StageDeclined, UserError
from analysis.i18n import check_language
from analysis.stage import LANGUAGES, Frames, Inputs, StageResult, Text, text
from analysis.tables import text_column

__all__ = ["COLUMN_KINDS", "TEXTS", "TRANSACTION_COLUMNS", "ClustersResult", "fewest_buyers", "run", "said"]

TRANSACTION_COLUMNS = ("customer_id", "timestamp")  # what the stage reads of the purchases (regularity)
# the columns the stage adds to the customer table and their kinds (a declined stage leaves them empty)
COLUMN_KINDS = {"cluster": "number", "cluster_name": "text", "cluster_name_zh": "text"}
# the share of distinct customers in a bootstrap resample (1 - 1/e): a group of m customers holds about this
# share of m distinct ones in each of the stability check's resamples
RESAMPLE_SHARE = 1 - np.exp(-1.0)

# The stage's sentences (declines and warnings), by message id, in English and Chinese; a value given as a
# {en, zh} text (a cluster's name) is filled in in each language.
TEXTS = {
    "declined_separate": {
        "en": "Every customer bought only once and one-time buyers are kept apart "
              "(clusters.features.single_purchase: separate), so nobody is left to group.",
        "zh": "所有客户都只购买过一次，且一次性购买客户单独成组（clusters.features.single_purchase: separate），"
              "没有客户可分组。"},
    "declined_nobody": {"en": "No customer has bought yet, so there is nothing to group.",
                        "zh": "尚无客户有购买记录，无从分组。"},
    "declined_few": {
        "en": "Only {n:,} customers have bought: splitting them into groups of at least {m} customers each that "
              "come back when the customers are resampled takes at least {need:,}.",
        "zh": "只有 {n:,} 位客户有购买记录：分成每组至少 {m} 位、且重抽样后依然成立的客户群，至少需要 {need:,} 位。"},
    "declined_once": {
        "en": "None of the {n:,} customers bought on more than one day: with one purchase each, they differ only "
              "in when they bought and how much they spent, which the segments page's RFM scores and value classes "
              "already show; no groups are formed.",
        "zh": "{n:,} 位客户中没有人在一天以上购买过：每人只有一次购买，他们只在购买时间和消费金额上不同，"
              "这已由客户细分页面的 RFM 评分和价值分类呈现，因此不做分群。"},
    "declined_few_repeaters": {
        "en": "Only {repeaters:,} of the {n:,} customers bought on more than one day, fewer than the {m} a group "
              "holds (clusters.min_group_customers): the rest bought once, and they differ only in when they bought "
              "and how much they spent, which the segments page's RFM scores and value classes already show; no "
              "groups are formed.",
        "zh": "{n:,} 位客户中只有 {repeaters:,} 位在一天以上购买过，少于每组所需的 {m} 位"
              "（clusters.min_group_customers）：其余客户只购买过一次，他们只在购买时间和消费金额上不同，"
              "这已由客户细分页面的 RFM 评分和价值分类呈现，因此不做分群。"},
    "declined_alike": {
        "en": "All {n:,} customers who bought look the same on every feature (recency, orders, spend, tenure, "
              "basket size), so the data shows no groups.",
        "zh": "全部 {n:,} 位购买客户在每项特征（最近购买、订单数、消费、客户年限、客单价）上都相同，"
              "数据中没有可区分的群体。"},
    "no_amounts": {
        "en": "The data has no amounts: the groups are formed on recency, orders, tenure and regularity, "
              "and their value is their share of orders.",
        "zh": "数据没有金额：按最近购买、订单数、客户年限和购买规律分组，价值按订单数占比计算。"},
    "groups_allowed": {
        "en": "{n:,} buyers allow groups of at least {m} customers for k up to {allowed} "
              "(clusters.min_group_customers).",
        "zh": "{n:,} 位购买客户在每组至少 {m} 位时最多可分 {allowed} 组（clusters.min_group_customers）。"},
    "fixed": {"en": "k = {k} is fixed by the setting clusters.k", "zh": "（由设置 clusters.k 指定）"},
    "fixed_lowered": {
        "en": "k = {k} is fixed by the setting clusters.k (lowered from {fixed}: only {distinct:,} different "
              "customer profiles)",
        "zh": "（由设置 clusters.k 指定；不同的客户特征只有 {distinct:,} 种，由 {fixed} 降为 {k}）"},
    "lowered": {
        "en": "k = {k} is fixed by the setting clusters.k (lowered from {fixed}: only {distinct:,} different "
              "customer profiles).",
        "zh": "聚类数由设置的 {fixed} 降为 {k}：不同的客户特征只有 {distinct:,} 种。"},
    "profiles_cap": {"en": "Only {distinct:,} different customer profiles: k is searched up to {top}.",
                     "zh": "不同的客户特征只有 {distinct:,} 种：聚类数最多搜索到 {top}。"},
    "found_fewer": {"en": "The algorithm found only {found} non-empty groups for k = {k}.",
                    "zh": "在 k = {k} 时算法只找到 {found} 个非空组。"},
    "unstable": {
        "en": "The grouping is not stable: refitted on resampled customers it agrees with itself only {mean:.0%} of "
              "the way (adjusted Rand index; threshold {threshold:.0%}). Treat the groups and their names as a rough "
              "sketch, not as settled segments.",
        "zh": "分组不稳定：在重抽样客户上重新拟合，与原分组的一致度仅 {mean:.0%}（调整兰德指数，阈值 "
              "{threshold:.0%}）。分组及其名称仅供参考。"},
    "extreme_group": {
        "en": "Cluster {i} ({name}) is a small group of extreme customers ({size:,}, {share:.1%}; {extreme:.0%} far "
              "outside everyone else even after capping): the data really has such a group, such as wholesalers. "
              "Look at them one by one.",
        "zh": "第 {i} 组（{name}）是一小群极端客户（{size:,} 位，{share:.1%}）：数据中确有这样的群体（如批发客户），"
              "请逐一查看。"},
    "small_group": {"en": "Cluster {i} ({name}) is small: {size:,} customers ({share:.1%}).",
                    "zh": "第 {i} 组（{name}）规模很小：{size:,} 位客户（{share:.1%}）。"},
    "no_rule": {
        "en": "No simple rule describes cluster {i} ({name}) with precision {precision:.0%} or better: assign it "
              "with the model.",
        "zh": "第 {i} 组（{name}）没有准确率达到 {precision:.0%} 的简单规则：请用模型分配。"},
}  # fmt: skip


def said(key: str, **values: Any) -> Text:
    """The message ``key`` of :data:`TEXTS` in both languages, ``values`` filled in (a ``{en, zh}`` value in its
    language)."""
    return text(*(TEXTS[key][lang].format(**{k: v[lang] if isinstance(v, dict) else v for k, v in values.items()})
                  for lang in LANGUAGES))  # fmt: skip


@dataclass(kw_only=True)
class ClustersResult(StageResult):
    """The stage's products (:class:`~analysis.stage.StageResult`): ``columns`` (``customer_id``, ``cluster``,
    ``cluster_name``, ``cluster_name_zh``), ``record`` (``clusters.json``) and the tables the page shows
    (``k_table``, ``profiles``, ``scaled_medians``, ``snake``, ``projection``, ``rules``, ``overlap_<column>``: the
    cross-tabs with the segments page's classes named in English); ``overlaps_zh``: the same cross-tabs with the
    classes named in Chinese. :mod:`analysis.clusters.show` labels them in a language."""

    stage: ClassVar[str] = "clusters"

    overlaps_zh: dict[str, pd.DataFrame] = field(default_factory=dict)

    def summary(self, lang: str = "en") -> str:
        """The managers' bullets in ``lang`` (:func:`analysis.clusters.describe.summary`)."""
        return describe.summary(self, lang)


def _settings(config: dict) -> dict:
    """The ``clusters`` settings, their k range and k checked."""
    if "clusters" not in config:
        raise UserError("the config has no 'clusters' section: load it with analysis.config.load_config")
    cfg = config["clusters"]
    lo, hi = (int(v) for v in cfg["k_range"])
    if lo < 2 or hi < lo:
        raise UserError(f"clusters.k_range is {cfg['k_range']}: give [low, high] with 2 <= low <= high")
    if cfg["k"] is not None and int(cfg["k"]) < 1:
        raise UserError(f"clusters.k is {cfg['k']}: give a whole number of clusters (2 or more), or null")
    return cfg


def _value(frame: pd.DataFrame) -> pd.Series:
    """What a group is worth: its spend, or its orders when the input has no amounts."""
    return frame["monetary"] if "monetary" in frame else frame["frequency"]


def _decline(key: str, **values: Any) -> None:
    raise StageDeclined("clusters", said(key, **values), COLUMN_KINDS)


def _groups_allowed(n: int, cfg: dict) -> int:
    """The most groups ``n`` buyers allow: each holds at least ``min_group_customers`` of them, in every one of the
    stability check's resamples too (about :data:`RESAMPLE_SHARE` of them distinct) when it runs."""
    share = RESAMPLE_SHARE if int(cfg["stability"]["resamples"]) > 0 else 1.0
    return int(n * share // int(cfg["min_group_customers"]))


def fewest_buyers(cfg: dict) -> int:
    """The fewest buyers the stage clusters (the ``clusters`` settings): the smallest split it would make (a fixed
    ``k``, else ``k_range``'s low end) with ``min_group_customers`` in each group, in the resamples too."""
    k = int(cfg["k"]) if cfg["k"] is not None else int(cfg["k_range"][0])
    share = RESAMPLE_SHARE if int(cfg["stability"]["resamples"]) > 0 else 1.0
    return int(np.ceil(max(k, 2) * int(cfg["min_group_customers"]) / share))


def _check_buyers(n: int, cfg: dict, separate: bool) -> None:
    """Decline when there are no buyers to cluster, or fewer than :func:`fewest_buyers`."""
    if n == 0:
        _decline("declined_separate" if separate else "declined_nobody")
    need = fewest_buyers(cfg)
    if n < need:
        _decline("declined_few", n=n, m=int(cfg["min_group_customers"]), need=need)


def _check_repeaters(purchase_days: np.ndarray, cfg: dict) -> None:
    """Decline when fewer of the buyers to cluster (their ``purchase_days``) bought on more than one day than a
    group holds (``min_group_customers``): bought once, the others differ only in when they bought and how much
    they spent, which the segments page's RFM scores and value classes already show; no feature of repeat
    behaviour (orders, tenure, regularity) varies enough to tell a group apart."""
    repeaters, n, m = int((purchase_days > 1).sum()), len(purchase_days), int(cfg["min_group_customers"])
    if repeaters >= m:
        return
    if repeaters == 0:
        _decline("declined_once", n=n)
    _decline("declined_few_repeaters", repeaters=repeaters, n=n, m=m)


def _purchases(prepared: Inputs, customers: pd.DataFrame) -> pd.DataFrame | None:
    """The purchases the regularity is measured on (``customer_id``, ``timestamp``); none when the customer table
    already has a ``regularity`` column, or when an analyst's :class:`~analysis.stage.Frames` holds a customer
    table alone (then the feature is left out)."""
    if "regularity" in customers or (isinstance(prepared, Frames) and prepared.transactions is None):
        return None
    return prepared.read_transactions(TRANSACTION_COLUMNS)


def _merged(record: dict, part: dict) -> dict:
    """``record`` with ``part``'s entries, its warnings after the record's."""
    warned = record["warnings"] + part["warnings"]
    return {**record, **part, "warnings": warned}


def run(prepared: Inputs, config: dict) -> ClustersResult:
    """Cluster the buyers of ``prepared``'s customer table (:class:`~analysis.stage.Inputs`; ``config``: the
    validated settings). The purchases up to its as-of date give the regularity feature, its returned lines
    (``prepared.returns``) the return share; without them those features are left out. Declines
    (:class:`~analysis.errors.StageDeclined`) when the buyers cannot support groups."""
    cfg = _settings(config)
    seed = int(cfg["random_state"])
    rng = np.random.default_rng(seed)
    c = prepared.customers.reset_index(drop=True)
    frame = F.feature_frame(c, _purchases(prepared, c), prepared.returns, prepared.as_of)
    separate = cfg["features"]["single_purchase"] == "separate"
    clustered = F.buyers(c)
    if separate:
        clustered &= frame["purchase_days"].to_numpy() > 1
    settings = {k: cfg[k] for k in ("algorithm", "k", "k_range", "criterion", "random_state")}
    record: dict[str, Any] = {"customers": len(c), "clustered": int(clustered.sum()), "warnings": [],
                              "settings": settings, "features": [f for f in F.FEATURES if f in frame]}  # fmt: skip
    sub = frame[clustered].reset_index(drop=True)
    _check_buyers(len(sub), cfg, separate)
    _check_repeaters(sub["purchase_days"].to_numpy(), cfg)
    x_frame, fill = F.model_matrix(sub)
    record["single_purchase"] = {"treatment": "separate" if separate else "together",
                                 "without_cadence": int((~sub["cadence"]).sum()), "regularity_given": fill}  # fmt: skip
    if "monetary" not in frame:
        record["warnings"].append(said("no_amounts"))
    with threadpool_limits(int(cfg["threads"]) if cfg["threads"] else None):
        labels, x, capped, part, tables = _cluster(x_frame, sub, cfg, rng)
    record = _merged(record, part)
    part, described = _describe(sub, pd.DataFrame(x, columns=list(x_frame.columns)), capped, labels, cfg)
    record = _merged(record, part)
    labelled = [name for pair in OVERLAP_LABELS.values() for name in pair]
    wanted = [col for col in dict.fromkeys([*OVERLAP, *labelled]) if col in c]  # not the whole table
    crossed = overlaps(c.loc[clustered, wanted].reset_index(drop=True), labels, record["names"], config)
    record["overlap"] = overlap_record(crossed)
    columns = _label_customers(c, frame, clustered, separate, labels, cfg["labels"], record["names"])
    record["counts"] = {str(k_): int(v) for k_, v in columns["cluster_name"].value_counts().items()}
    tables = {**tables, **described, **{f"overlap_{col}": t for col, t in crossed["en"].items()}}
    zh = {f"overlap_{col}": t for col, t in crossed["zh"].items()}
    return ClustersResult(columns=columns, record=record, tables=tables, overlaps_zh=zh)


def _label_customers(c, frame, clustered, separate, labels, labels_cfg, names) -> pd.DataFrame:
    """``customer_id``, ``cluster`` (1..k, empty when not clustered) and the names in both languages (each
    name's text written once per distinct name, with Arrow)."""
    cluster = pd.array(np.zeros(len(c), dtype="int64"), dtype="Int64")
    cluster[~clustered] = pd.NA
    cluster[clustered] = labels
    # name codes: 0 no purchase, 1 one-time buyer, 1 + i cluster i
    top = max(names)
    code = np.zeros(len(c), dtype=np.int64)
    if separate:
        code[F.buyers(c) & (frame["purchase_days"].to_numpy() <= 1)] = 1
    code[clustered] = 1 + np.asarray(labels)
    out = {"customer_id": c["customer_id"].astype(str), "cluster": cluster}
    for column, lang in (("cluster_name", "en"), ("cluster_name_zh", "zh")):
        i = check_language(lang)
        words = [labels_cfg["no_purchase"][i], labels_cfg["one_time"][i], *(names[j][lang] for j in range(1, top + 1))]
        out[column] = text_column(words, code)
    return pd.DataFrame(out)


def _cluster(x_frame, sub, cfg, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict, dict]:
    """Scale, choose k, fit on everyone, renumber by value. Returns the labels (1..k), the scaled matrix, the mask
    of capped (extreme) customers, the record's part on k (``k``, ``k_reason``, ``k_table``, ``stability``,
    ``extremes``, ``samples``, ``k_votes``, ``model``, ``warnings``) and the ``k_table``."""
    clip = cfg["features"]["clip"]
    pipe = F.scaling_pipeline(cfg["features"]["transform"], clip)
    x = pipe.fit_transform(x_frame)
    capped = F.extremes(pipe, x_frame, clip)
    k, reason, rows, searched, table, search = _search(x, cfg, rng)
    labels, final = _final(x, _value(sub).to_numpy(), rows, k, cfg, searched.get(k), rng)
    records = table.reset_index().replace({np.nan: None}).to_dict("records") if len(table) else []
    part = {"k": final["k"], "k_reason": reason, "k_table": records, "stability": final.get("stability"),
            "extremes": int(capped.sum()), **search, "model": final["model"],
            "warnings": search["warnings"] + final["warnings"]}  # fmt: skip
    return labels, x, capped, part, {"k_table": table}


def _search(x: np.ndarray, cfg: dict, rng: np.random.Generator) -> tuple:
    """The k search on ``x`` (the scaled buyers): the ks the buyers allow (distinct profiles, groups of
    ``min_group_customers``), the criteria for each on one sample, the chosen k and why. Returns k, the reason
    (``{en, zh}``), the sample's rows, each k's model on the sample, the k table and the record's part
    (``samples``, ``k_votes``, ``warnings``)."""
    n, (lo, hi), fixed = len(x), (int(v) for v in cfg["k_range"]), cfg["k"]
    distinct = _distinct(x, hi + 1)
    top = min(distinct, n - 1) if fixed is None else min(distinct, n)
    if distinct < 2:
        _decline("declined_alike", n=n)
    allowed, warnings = _groups_allowed(n, cfg), []
    by_size = allowed < min(top, hi if fixed is None else int(fixed))  # fewer groups than the buyers allow
    if by_size:
        top = allowed
        warnings.append(said("groups_allowed", n=n, m=int(cfg["min_group_customers"]), allowed=allowed))
    rows = sample_rows(n, int(cfg["search_sample"]), rng)
    sil = sample_rows(len(rows), int(cfg["silhouette_sample"]), rng)
    part: dict[str, Any] = {"samples": {"search": int(len(rows)), "silhouette": int(len(sil))}}
    if fixed is not None:
        k = min(int(fixed), top)
        ks = [k] if k >= 2 else []
        reason = said("fixed", k=k)
        if k < int(fixed) and not by_size:
            reason = said("fixed_lowered", k=k, fixed=int(fixed), distinct=distinct)
            warnings.append(said("lowered", k=k, fixed=int(fixed), distinct=distinct))
    else:
        ks = list(range(lo, min(hi, top) + 1))
        if min(hi, top) < hi and not by_size:
            warnings.append(said("profiles_cap", distinct=distinct, top=min(hi, top)))
    searched: dict[int, Any] = {}
    table = k_table(x[rows], ks, cfg, sil, searched) if ks else pd.DataFrame()
    if fixed is None:
        k, reason, part["k_votes"] = choose_k(table, cfg["criterion"], float(cfg["min_cluster_share"]))
    return k, reason, rows, searched, table, {**part, "warnings": warnings}


def _final(x, value, rows, k, cfg, sample_fit, rng) -> tuple[np.ndarray, dict]:
    """The final model on every buyer (started from the sample's fit), its groups numbered 1..k from the most to
    the least valuable (``value``: total spend; ties by size), and the stability at k on the search's sample
    ``rows``. Returns the labels and the record's part (``k`` found, ``model``, ``stability``, ``warnings``)."""
    model = fit_final(x, rows, k, cfg, sample_fit)
    raw = model.predict(x)
    groups = pd.DataFrame({"raw": raw, "m": value}).groupby("raw")["m"].agg(["sum", "size"])
    order = groups.sort_values(["sum", "size"], ascending=False, kind="stable").index
    lookup = np.zeros(int(raw.max()) + 1, dtype=int)
    lookup[order.to_numpy()] = np.arange(1, len(order) + 1)
    labels, found = lookup[raw], len(order)
    part: dict[str, Any] = {"k": int(found), "model": type(model).__name__, "warnings": []}
    if found < k:
        part["warnings"].append(said("found_fewer", found=found, k=k))
    resamples, threshold = int(cfg["stability"]["resamples"]), float(cfg["stability"]["threshold"])
    if found >= 2 and resamples > 0:
        ari = stability(x[rows], k, cfg, labels[rows], resamples, rng)
        mean = float(np.mean(ari))
        part["stability"] = {"mean_ari": mean, "min_ari": float(np.min(ari)), "resamples": resamples,
                             "threshold": threshold, "ari": ari, "stable": bool(mean >= threshold)}  # fmt: skip
        if mean < threshold:
            part["warnings"].append(said("unstable", mean=mean, threshold=threshold))
    return labels, part


def _distinct(x: np.ndarray, enough: int) -> int:
    """The number of distinct rows of ``x``, or any number >= ``enough`` when a sample already has that many
    (counting all distinct rows of a million customers costs seconds)."""
    head = np.unique(np.round(x[:20_000], 9), axis=0).shape[0]
    if head >= enough or len(x) <= 20_000:
        return head
    return np.unique(np.round(x, 9), axis=0).shape[0]


def _describe(sub, scaled, capped, labels, cfg) -> tuple[dict, dict]:
    """Names, profiles, rules and the pictures of the clustered customers (``scaled``: their scaled features;
    ``capped``: who had an extreme value). Returns the record's part (``typical_gap_days``, ``names``,
    ``projection_explained``, ``profiles``, ``rules``, ``warnings``) and the tables (``profiles``,
    ``scaled_medians``, ``snake``, ``projection``, ``rules``)."""
    ids = np.arange(1, int(labels.max()) + 1)
    members = _members(labels, ids)
    med = _medians(sub[[f for f in F.FEATURES if f in sub] + ["purchase_days"]], members, ids)
    smed = _medians(scaled, members, ids)
    names = _names(sub, med, smed, cfg)
    prof = _profiles(sub, labels, med, names)
    tables, part = _pictures(scaled, smed, labels, names, cfg), {"typical_gap_days": typical_gap(sub), "names": names}
    prof["extreme_share"] = pd.Series(capped).groupby(pd.Series(labels)).mean().reindex(ids).to_numpy()
    if "projection" in tables:
        part["projection_explained"] = tables.pop("explained")
    part["profiles"] = [
        {k_: (None if isinstance(v, float) and not np.isfinite(v) else v) for k_, v in row.items()}
        for row in prof.reset_index().astype(object).to_dict("records")
    ]
    rules, unruled = _rules(sub, labels, ids, names, cfg)
    part.update(rules=rules, warnings=_small_clusters(prof, names, cfg) + unruled)
    tables["profiles"] = prof
    tables["rules"] = pd.DataFrame(rules, columns=["cluster", "name", "text", "precision", "coverage", "customers"])
    return part, tables


def _names(sub, med, smed, cfg) -> dict[int, Text]:
    """Each cluster's name in both languages, from its medians ``med`` and, in robust units, ``smed``
    (:mod:`analysis.clusters.naming`); one plainly named group (``labels.single``) when the data could not be
    split."""
    ids = list(med.index)
    if len(ids) == 1:
        return {1: text(*cfg["labels"]["single"])}
    naming = cfg["naming"]
    lv = levels(med[[f for f in F.FEATURES if f in med]], sub, float(naming["low"]), float(naming["high"]),
                naming["recency_by_gap"])  # fmt: skip
    en, zh = cluster_names(lv, naming, ids, smed, float(naming["standout"]))
    return {int(i): text(en[i], zh[i]) for i in ids}


def _profiles(sub, labels, med, names) -> pd.DataFrame:
    """One row per cluster (``cluster`` 1..k): its names, customers and value (counts and shares) and the median
    of each feature (``med``, as ``median_<feature>``)."""
    ids = med.index.to_numpy()
    group = pd.Series(labels, name="cluster")
    size = group.value_counts().reindex(ids, fill_value=0)
    value = _value(sub).groupby(group).sum().reindex(ids, fill_value=0.0)
    en, zh = ({int(i): names[int(i)][lang] for i in ids} for lang in LANGUAGES)
    prof = pd.DataFrame({"name": pd.Series(en), "name_zh": pd.Series(zh), "customers": size,
                         "customer_share": size / max(len(sub), 1), "value": value,
                         "value_share": value / (value.sum() or 1.0)}).rename_axis("cluster")  # fmt: skip
    return prof.join(med.add_prefix("median_"))


def _pictures(scaled, smed, labels, names, cfg) -> dict:
    """The tables behind the charts, clusters named in English: ``scaled_medians`` (heatmap), ``snake`` (means)
    and, when the features spread in two directions, ``projection`` (a sample on the first two principal
    components) with ``explained`` (their shares of the variance)."""
    ids, seed = list(smed.index), int(cfg["random_state"])
    en = [names[int(i)]["en"] for i in ids]
    tables = {"scaled_medians": smed.set_axis(en), "snake": scaled.groupby(pd.Series(labels)).mean().reindex(ids)}
    tables["snake"] = tables["snake"].set_axis(en)
    rows = sample_rows(len(scaled), int(cfg["projection_sample"]), np.random.default_rng(seed + 1))
    x = scaled.to_numpy()[rows]
    if x.shape[1] >= 2 and len(rows) >= 2 and np.ptp(x, axis=0).max() > 0:
        pca = PCA(2, random_state=seed).fit(x)
        xy = pca.transform(x)
        tables["projection"] = pd.DataFrame({"pc1": xy[:, 0], "pc2": xy[:, 1], "cluster": labels[rows],
                                             "name": [names[int(i)]["en"] for i in labels[rows]]})  # fmt: skip
        tables["explained"] = [float(v) for v in pca.explained_variance_ratio_]
    return tables


def _rules(sub, labels, ids, names, cfg) -> tuple[list[dict], list[Text]]:
    """The if-then rules of each cluster (:func:`analysis.clusters.rules.cluster_rules`, on a sample of
    ``rule_sample`` customers, scored on all) with their texts, and a warning for each cluster without one."""
    seed, k = int(cfg["random_state"]), len(ids)
    rule_rows = sample_rows(len(sub), int(cfg["rule_sample"]), np.random.default_rng(seed + 2))
    found = cluster_rules(sub, labels, cfg["rules"], rule_rows, seed) if k >= 2 else {1: []}
    rules, warnings = [], []
    for i in (int(i) for i in ids):
        name = names[i]
        for r in found[i]:
            rules.append({"cluster": i, "name": name["en"], "name_zh": name["zh"], **r,
                          "text": rule_text(r["conditions"], name["en"], r["precision"]),
                          "text_zh": rule_text(r["conditions"], name["zh"], r["precision"], "zh")})  # fmt: skip
        if k >= 2 and not found[i]:
            warnings.append(said("no_rule", i=i, name=name, precision=cfg["rules"]["min_precision"]))
    return rules, warnings


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


def _small_clusters(prof: pd.DataFrame, names: dict[int, Text], cfg: dict) -> list[Text]:
    """A warning for each cluster under ``min_cluster_share``, saying when one is mostly extreme customers."""
    out = []
    for i, row in prof[prof["customer_share"] < float(cfg["min_cluster_share"])].iterrows():
        size, share, extreme = int(row["customers"]), row["customer_share"], row["extreme_share"]
        if extreme >= 0.5:
            out.append(said("extreme_group", i=i, name=names[int(i)], size=size, share=share, extreme=extreme))
        else:
            out.append(said("small_group", i=i, name=names[int(i)], size=size, share=share))
    return out
