"""The clustering page's words: the managers' summary, how k was chosen, the stability, a reading of each cluster,
the rules and the technical details with the warnings, in English or Chinese (Markdown), all from a
:class:`~analysis.clusters.stage.ClustersResult`. Every sentence is in :data:`TEXTS`, by message id, in both
languages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from analysis.clusters.rules import rule_text
from analysis.i18n import check_language
from analysis.tables import markdown_text

if TYPE_CHECKING:
    from analysis.clusters.stage import ClustersResult

TEXTS = {
    # the managers' summary
    "k": {"en": "- The data splits the {clustered:,} buyers into **{k} groups**.",
          "zh": "- 数据将 {clustered:,} 位购买客户分为 **{k} 组**。"},
    "stable": {"en": "- The groups come back when the customers are drawn again at random: they are a real pattern "
                     "in the data, not chance.",
               "zh": "- 随机重新抽取客户后，分组依然成立：这是数据中真实存在的规律，而非偶然。"},
    "unstable": {"en": "- **The groups are not firm**: drawn again at random, the customers fall into groups that "
                       "differ, so read the groups and their names as a rough sketch, not as settled segments.",
                 "zh": "- **分组不够稳固**：随机重新抽取客户后，客户会落入不同的组，"
                       "因此分组及其名称仅供参考，不宜作为定论。"},
    "top": {"en": "- The most valuable group is **{name}**: {customers:.0%} of customers, **{value:.0%}** of the "
                  "value.",
            "zh": "- 价值最高的是 **{name}**：占客户 {customers:.0%}，占价值 **{value:.0%}**。"},
    "big": {"en": "- The largest group is **{name}**: {customers:.0%} of customers, {value:.0%} of the value.",
            "zh": "- 人数最多的是 **{name}**：占客户 {customers:.0%}，占价值 {value:.0%}。"},
    "left": {"en": "- {n:,} customers are not clustered (no purchase yet, or one-time buyers kept apart by the "
                   "settings).",
             "zh": "- {n:,} 位客户未参与聚类（尚未购买或单独成组）。"},
    "extremes": {"en": "- {n:,} customers ({share:.1%}) stand far apart from everyone else on some measure "
                       "(wholesalers buying far more, for example): they are counted in the group nearest to them "
                       "rather than given one of their own.",
                 "zh": "- {n:,} 位客户（{share:.1%}）在某项指标上与其他客户相差极远（如采购量大得多的批发客户）："
                       "他们归入最接近的组，不单独成组。"},
    "notes": {"en": "- {n:,} technical notes on the grouping are listed under Details at the end of the page.",
              "zh": "- 关于分组的 {n:,} 条技术说明见本页末尾的“技术细节”。"},
    # how k was chosen, the stability
    "chosen": {"en": "**Chosen:** {reason}.", "zh": "**选定：{k} 组**{reason}。"},
    "stability": {"en": "Mean adjusted Rand index **{mean:.2f}** over {resamples} resamples (lowest {low:.2f}; the "
                        "page warns below {threshold:.2f}).",
                  "zh": "{resamples} 次重抽样的平均调整兰德指数为 **{mean:.2f}**（最低 {low:.2f}；"
                        "低于 {threshold:.2f} 时本页发出警告）。"},
    # the details
    "settings": {"en": "- Settings: {algorithm}, k searched from {lo} to {hi} and chosen by {criterion} (clusters.k: "
                       "{fixed}); k search on {search:,} customers, silhouettes on {silhouette:,}; seed {seed}.",
                 "zh": "- 设置：{algorithm}，k 在 {lo} 到 {hi} 之间搜索、按 {criterion} 选择（clusters.k：{fixed}）；"
                       "k 的搜索用 {search:,} 位客户，轮廓系数用 {silhouette:,} 位；随机种子 {seed}。"},
    "details_k": {"en": "- Chosen: {reason}.", "zh": "- 选定 {k} 组{reason}。"},
    "details_stable": {"en": "stable", "zh": "稳定"},
    "details_unstable": {"en": "**not stable**: read the names as a rough sketch", "zh": "**不稳定**，名称仅供参考"},
    "details_stability": {"en": "- Stability: refitted on {resamples} resamples of the customers, the groups agree "
                                "with these {mean:.2f} on the adjusted Rand index (1 = identical, 0 = chance): "
                                "{verdict}.",
                          "zh": "- 稳定性：{resamples} 次重抽样重新拟合，与原分组的平均一致度（调整兰德指数）"
                                "{mean:.2f}：{verdict}。"},
    "details_extremes": {"en": "- {n:,} customers had a scaled feature beyond the cap (clusters.features.clip): "
                               "capped, they join the nearest group instead of forming one by accident.",
                         "zh": "- {n:,} 位客户有标准化特征超出上限（clusters.features.clip）：封顶后归入最接近的组，"
                               "以免偶然单独成组。"},
    "no_warnings": {"en": "- _No warnings: the grouping is stable and every cluster has a rule._",
                    "zh": "- _无警告。_"},
    "warning": {"en": "- ⚠️ {warning}", "zh": "- ⚠️ {warning}"},
    # each cluster in plain words
    "reading": {"en": "**Cluster {i} · {name}**: {customers:,} customers ({customer_share:.1%}), "
                      "{value_share:.1%} of the value; {typical}.",
                "zh": "**第 {i} 组 · {name}**：{customers:,} 位客户（{customer_share:.1%}），"
                      "价值占比 {value_share:.1%}。{typical}。"},
    "main_rule": {"en": " Main rule: {rule}.", "zh": " 主要规则：{rule}。"},
    "typical": {"en": "the typical customer last bought {days:,.0f} days ago, placed {orders}{spent} and first "
                      "bought {tenure:,.0f} days ago",
                "zh": "典型客户 {days:,.0f} 天前最后一次购买，共 {orders}，{spent}首次购买在 {tenure:,.0f} 天前"},
    "one_order": {"en": "1 order", "zh": "1 笔订单"},
    "orders": {"en": "{orders:,.0f} orders", "zh": "{orders:,.0f} 笔订单"},
    "spent": {"en": ", spent {spend:,.2f} in total ({aov:,.2f} per order)",
              "zh": "累计消费 {spend:,.2f}，平均每单 {aov:,.2f}，"},
    # the rules
    "no_rules": {"en": "_No rules (fewer than two clusters)._", "zh": "_无规则（少于两组）。_"},
    "rules_head": {"en": "| Group | Rule | Precision | Coverage of the group | Customers matched |",
                   "zh": "| 组号 | 规则 | 准确率 | 覆盖本组比例 | 匹配客户数 |"},
}  # fmt: skip


def summary(result: ClustersResult, lang: str = "en") -> str:
    """A few plain sentences (Markdown) for a manager: how many groups, whether they are firm, the biggest and the
    most valuable; how k was chosen, the stability's numbers and the technical warnings are in
    :func:`details_markdown` (the warnings are only counted here)."""
    check_language(lang)
    r, prof = result.record, result.tables["profiles"]
    lines = [TEXTS["k"][lang].format(clustered=r["clustered"], k=r["k"])]
    if r["stability"]:
        lines.append(TEXTS["stable" if r["stability"]["stable"] else "unstable"][lang])
    name = "name" if lang == "en" else "name_zh"
    for key, by in (("top", "value_share"), ("big", "customers")):
        row = prof.sort_values(by, ascending=False).iloc[0]
        lines.append(TEXTS[key][lang].format(name=row[name], customers=row["customer_share"],
                                             value=row["value_share"]))  # fmt: skip
    if r["customers"] > r["clustered"]:
        lines.append(TEXTS["left"][lang].format(n=r["customers"] - r["clustered"]))
    if r["extremes"]:
        lines.append(TEXTS["extremes"][lang].format(n=r["extremes"], share=r["extremes"] / max(r["clustered"], 1)))
    if r["warnings"]:
        lines.append(TEXTS["notes"][lang].format(n=len(r["warnings"])))
    return "\n".join(lines)


def k_markdown(result: ClustersResult, lang: str = "en") -> str:
    """The number of groups chosen and why, in one bold-led sentence."""
    check_language(lang)
    r = result.record
    return TEXTS["chosen"][lang].format(k=r["k"], reason=r["k_reason"][lang])


def stability_markdown(result: ClustersResult, lang: str = "en") -> str:
    """How well the groups come back on resampled customers (when checked); the other warnings are in
    :func:`details_markdown`."""
    check_language(lang)
    s = result.record["stability"]
    if not s:
        return ""
    return TEXTS["stability"][lang].format(mean=s["mean_ari"], resamples=s["resamples"], low=s["min_ari"],
                                           threshold=s["threshold"])  # fmt: skip


def warnings_markdown(result: ClustersResult, lang: str = "en") -> str:
    """The record's warnings as a bullet list (a reassuring item when there are none), for the details."""
    check_language(lang)
    items = result.record["warnings"]
    if not items:
        return TEXTS["no_warnings"][lang]
    return "\n".join(TEXTS["warning"][lang].format(warning=markdown_text(w[lang])) for w in items)


def details_markdown(result: ClustersResult, lang: str = "en") -> str:
    """The page's technical details (Markdown): the settings behind the grouping, how k was chosen, the stability
    in numbers, the capped customers, then every warning (a capped search, an unstable grouping, small groups,
    groups without a rule) in ``lang``."""
    check_language(lang)
    r = result.record
    s, samples, lines = r["settings"], r["samples"], []
    lines.append(TEXTS["settings"][lang].format(
        algorithm=s["algorithm"], lo=s["k_range"][0], hi=s["k_range"][1], criterion=s["criterion"],
        fixed=s["k"] if s["k"] is not None else "null", search=samples["search"],
        silhouette=samples["silhouette"], seed=s["random_state"]))  # fmt: skip
    lines.append(TEXTS["details_k"][lang].format(k=r["k"], reason=r["k_reason"][lang]))
    if r["stability"]:
        st = r["stability"]
        verdict = TEXTS["details_stable" if st["stable"] else "details_unstable"][lang]
        lines.append(TEXTS["details_stability"][lang].format(resamples=st["resamples"], mean=st["mean_ari"],
                                                             verdict=verdict))  # fmt: skip
    if r["extremes"]:
        lines.append(TEXTS["details_extremes"][lang].format(n=r["extremes"]))
    return "\n".join([*lines, warnings_markdown(result, lang)])


def _typical(row: pd.Series, lang: str) -> str:
    """The typical (median) customer of a cluster's profile row in words."""
    orders = row["median_frequency"]
    counted = TEXTS["one_order"][lang] if round(orders) == 1 else TEXTS["orders"][lang].format(orders=orders)
    spend = row.get("median_monetary")  # absent without amounts
    spent = ""
    if spend is not None and pd.notna(spend):
        spent = TEXTS["spent"][lang].format(spend=spend, aov=row["median_avg_order_value"])
    return TEXTS["typical"][lang].format(days=row["median_recency_days"], orders=counted, spent=spent,
                                         tenure=row["median_tenure_days"])  # fmt: skip


def cluster_readings(result: ClustersResult, lang: str = "en") -> str:
    """One paragraph per cluster: size and value, the typical customer, and the main rule."""
    check_language(lang)
    names = result.record["names"]
    first = {}
    for rule in result.record["rules"]:
        first.setdefault(rule["cluster"], rule)
    out = []
    for i, row in result.tables["profiles"].iterrows():
        name = names[int(i)][lang]
        said = TEXTS["reading"][lang].format(i=i, name=markdown_text(name), customers=int(row["customers"]),
                                             customer_share=row["customer_share"], value_share=row["value_share"],
                                             typical=_typical(row, lang))  # fmt: skip
        if i in first:
            rule = rule_text(first[i]["conditions"], name, first[i]["precision"], lang)
            said += TEXTS["main_rule"][lang].format(rule=markdown_text(rule))
        out.append(said)
    return "\n\n".join(out)


def rules_markdown(result: ClustersResult, lang: str = "en") -> str:
    """The rules as a Markdown table (cluster, rule, precision, coverage, customers matched)."""
    check_language(lang)
    rules, names = result.record["rules"], result.record["names"]
    if not rules:
        return TEXTS["no_rules"][lang]
    lines = [TEXTS["rules_head"][lang], "|---|---|---:|---:|---:|"]
    for r in rules:
        rule = markdown_text(rule_text(r["conditions"], names[r["cluster"]][lang], r["precision"], lang))
        lines.append(f"| {r['cluster']} | {rule} | {r['precision']:.1%} | {r['coverage']:.1%} | {r['customers']:,} |")
    return "\n".join(lines)
