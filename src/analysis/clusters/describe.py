"""The clustering page's words: the managers' summary, a reading of each cluster, the rules and the warnings, in
English or Chinese (Markdown), all from a :class:`~analysis.clusters.stage.ClusterRun`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from analysis.tables import markdown_text

if TYPE_CHECKING:
    from analysis.clusters.stage import ClusterRun


def warnings_markdown(run: ClusterRun, lang: str = "en") -> str:
    """The report's warnings as a bullet list (a reassuring item when there are none), for the details."""
    items = run.report["warnings"]
    if not items:
        none = {"en": "- _No warnings: the grouping is stable and every cluster has a rule._", "zh": "- _无警告。_"}
        return none[lang]
    sign = "⚠️ "
    return "\n".join(f"- {sign}{markdown_text(w[lang])}" for w in items)


def k_markdown(run: ClusterRun, lang: str = "en") -> str:
    """The number of groups chosen and why, in one bold-led sentence."""
    r = run.report
    if lang == "zh":
        return f"**选定：{r['k']} 组**{_reason_zh(r)}。"
    return f"**Chosen:** {r['k_reason']}." if r["k_reason"] else f"**Chosen:** k = {r['k']}."


def stability_markdown(run: ClusterRun, lang: str = "en") -> str:
    """How well the groups come back on resampled customers (when checked); the other warnings are in
    :func:`details_markdown`."""
    s = run.report.get("stability")
    line = ""
    if s and lang == "zh":
        line = (f"{s['resamples']} 次重抽样的平均调整兰德指数为 **{s['mean_ari']:.2f}**（最低 {s['min_ari']:.2f}；"
                f"低于 {s['threshold']:.2f} 时本页发出警告）。")  # fmt: skip
    elif s:
        line = (f"Mean adjusted Rand index **{s['mean_ari']:.2f}** over {s['resamples']} resamples "
                f"(lowest {s['min_ari']:.2f}; the page warns below {s['threshold']:.2f}).")  # fmt: skip
    return line


def _stability_line(report: dict, lang: str) -> str:
    """The stability check in numbers (the adjusted Rand index over the resamples), for the details."""
    s = report.get("stability")
    if not s:
        return ""
    if lang == "zh":
        verdict = "稳定" if s["stable"] else "**不稳定**，名称仅供参考"
        return (f"- 稳定性：{s['resamples']} 次重抽样重新拟合，与原分组的平均一致度（调整兰德指数）"
                f"{s['mean_ari']:.2f}：{verdict}。")  # fmt: skip
    verdict = "stable" if s["stable"] else "**not stable**: read the names as a rough sketch"
    return (f"- Stability: refitted on {s['resamples']} resamples of the customers, the groups agree with these "
            f"{s['mean_ari']:.2f} on the adjusted Rand index (1 = identical, 0 = chance): {verdict}.")  # fmt: skip


ZH_CRITERIA = {
    "silhouette": "轮廓系数",
    "calinski_harabasz": "CH 指数",
    "davies_bouldin": "DB 指数",
    "elbow": "肘部法则",
}


def _reason_zh(report: dict) -> str:
    """Why k, in Chinese: which of the four criteria point to it (or that the setting fixed it)."""
    votes = report.get("k_votes")
    if not votes:
        return "（由设置 clusters.k 指定）" if report["settings"].get("k") else ""
    agree = [ZH_CRITERIA[name] for name, k in votes.items() if k == report["k"]]
    if not agree:
        return ""
    return f"：4 项指标中有 {len(agree)} 项（{'、'.join(agree)}）支持 {report['k']} 组"


SUMMARY = {
    "en": {
        "k": "- The data splits the {clustered:,} buyers into **{k} groups**.",
        "stable": "- The groups come back when the customers are drawn again at random: they are a real pattern in "
        "the data, not chance.",
        "unstable": "- **The groups are not firm**: drawn again at random, the customers fall into groups that "
        "differ, so read the groups and their names as a rough sketch, not as settled segments.",
        "top": "- The most valuable group is **{name}**: {customers:.0%} of customers, **{value:.0%}** of the value.",
        "big": "- The largest group is **{name}**: {customers:.0%} of customers, {value:.0%} of the value.",
        "left": "- {n:,} customers are not clustered (no purchase yet, or one-time buyers kept apart by the settings).",
        "extremes": "- {n:,} customers ({share:.1%}) stand far apart from everyone else on some measure (wholesalers "
        "buying far more, for example): they are counted in the group nearest to them rather than given "
        "one of their own.",
        "details": "- {n:,} technical notes on the grouping are listed under Details at the end of the page.",
    },
    "zh": {
        "k": "- 数据将 {clustered:,} 位购买客户分为 **{k} 组**。",
        "stable": "- 随机重新抽取客户后，分组依然成立：这是数据中真实存在的规律，而非偶然。",
        "unstable": "- **分组不够稳固**：随机重新抽取客户后，客户会落入不同的组，"
        "因此分组及其名称仅供参考，不宜作为定论。",
        "top": "- 价值最高的是 **{name}**：占客户 {customers:.0%}，占价值 **{value:.0%}**。",
        "big": "- 人数最多的是 **{name}**：占客户 {customers:.0%}，占价值 {value:.0%}。",
        "left": "- {n:,} 位客户未参与聚类（尚未购买或单独成组）。",
        "extremes": "- {n:,} 位客户（{share:.1%}）在某项指标上与其他客户相差极远（如采购量大得多的批发客户）："
        "他们归入最接近的组，不单独成组。",
        "details": "- 关于分组的 {n:,} 条技术说明见本页末尾的“技术细节”。",
    },
}


def manager_summary(run: ClusterRun, lang: str = "en") -> str:
    """A few plain sentences (Markdown) for a manager: how many groups, whether they are firm, the biggest and the
    most valuable; how k was chosen, the stability's numbers and the technical warnings are in
    :func:`details_markdown` (the warnings are only counted here)."""
    r = run.report
    prof = run.tables.get("profiles")
    t = SUMMARY[lang]
    if prof is None or not len(prof):
        return t["details"].format(n=len(r["warnings"])) if r["warnings"] else ""
    name = "name" if lang == "en" else "name_zh"
    lines = [t["k"].format(clustered=r["clustered"], k=r["k"])]
    if r.get("stability"):
        lines.append(t["stable" if r["stability"]["stable"] else "unstable"])
    for key, by in (("top", "value_share"), ("big", "customers")):
        row = prof.sort_values(by, ascending=False).iloc[0]
        lines.append(t[key].format(name=row[name], customers=row["customer_share"], value=row["value_share"]))
    if r["customers"] > r["clustered"]:
        lines.append(t["left"].format(n=r["customers"] - r["clustered"]))
    if r.get("extremes"):
        lines.append(t["extremes"].format(n=r["extremes"], share=r["extremes"] / max(r["clustered"], 1)))
    if r["warnings"]:
        lines.append(t["details"].format(n=len(r["warnings"])))
    return "\n".join(lines)


DETAILS = {
    "en": {
        "settings": "- Settings: {algorithm}, k searched from {lo} to {hi} and chosen by {criterion} (clusters.k: "
        "{fixed}); k search on {search:,} customers, silhouettes on {silhouette:,}; seed {seed}.",
        "k": "- Chosen: {reason}.",
        "extremes": "- {n:,} customers had a scaled feature beyond the cap (clusters.features.clip): capped, they join "
        "the nearest group instead of forming one by accident.",
    },
    "zh": {
        "settings": "- 设置：{algorithm}，k 在 {lo} 到 {hi} 之间搜索、按 {criterion} 选择（clusters.k：{fixed}）；"
        "k 的搜索用 {search:,} 位客户，轮廓系数用 {silhouette:,} 位；随机种子 {seed}。",
        "k": "- 选定 {k} 组{reason}。",
        "extremes": "- {n:,} 位客户有标准化特征超出上限（clusters.features.clip）：封顶后归入最接近的组，"
        "以免偶然单独成组。",
    },
}


def details_markdown(run: ClusterRun, lang: str = "en") -> str:
    """The page's technical details (Markdown): the settings behind the grouping, how k was chosen, the stability
    in numbers, the capped customers, then every warning (a capped search, an unstable grouping, small groups,
    groups without a rule) in ``lang``."""
    r, t = run.report, DETAILS[lang]
    s, samples = r["settings"], r.get("samples")
    lines = []
    if samples:
        lines.append(t["settings"].format(
            algorithm=s["algorithm"], lo=s["k_range"][0], hi=s["k_range"][1], criterion=s["criterion"],
            fixed=s["k"] if s["k"] is not None else "null", search=samples["search"],
            silhouette=samples["silhouette"], seed=s["random_state"]))  # fmt: skip
    reason = (r["k_reason"] or f"k = {r['k']}") if lang == "en" else _reason_zh(r)
    lines.append(t["k"].format(k=r["k"], reason=reason))
    lines.append(_stability_line(r, lang))
    if r.get("extremes"):
        lines.append(t["extremes"].format(n=r["extremes"]))
    return "\n".join([*(line for line in lines if line), warnings_markdown(run, lang)])


def _typical(row, lang: str) -> str:
    days, orders, tenure = row["median_recency_days"], row["median_frequency"], row["median_tenure_days"]
    spend, aov = row.get("median_monetary"), row.get("median_avg_order_value")  # absent without amounts
    orders_text = "1 order" if round(orders) == 1 else f"{orders:,.0f} orders"
    money = spend is not None and pd.notna(spend)
    if lang == "zh":
        spent = f"累计消费 {spend:,.2f}，平均每单 {aov:,.2f}，" if money else ""
        return f"典型客户 {days:,.0f} 天前最后一次购买，共 {orders:,.0f} 笔订单，{spent}首次购买在 {tenure:,.0f} 天前"
    spent = f", spent {spend:,.2f} in total ({aov:,.2f} per order)" if money else ""
    return (
        f"the typical customer last bought {days:,.0f} days ago, placed {orders_text}{spent} and first bought "
        f"{tenure:,.0f} days ago"
    )


def cluster_readings(run: ClusterRun, lang: str = "en") -> str:
    """One paragraph per cluster: size and value, the typical customer, and the main rule."""
    prof = run.tables.get("profiles")
    if prof is None:
        return ""
    rules = {}
    for rule in run.report["rules"]:
        rules.setdefault(rule["cluster"], rule)
    out = []
    for i, row in prof.iterrows():
        rule = rules.get(i)
        if lang == "zh":
            text = (f"**第 {i} 组 · {markdown_text(row['name_zh'])}**：{int(row['customers']):,} 位客户"
                    f"（{row['customer_share']:.1%}），价值占比 {row['value_share']:.1%}。"
                    f"{_typical(row, 'zh')}。")  # fmt: skip
            text += f" 主要规则：{markdown_text(rule['text_zh'])}。" if rule else ""
        else:
            text = (
                f"**Cluster {i} · {markdown_text(row['name'])}**: {int(row['customers']):,} customers "
                f"({row['customer_share']:.1%}), {row['value_share']:.1%} of the value; {_typical(row, 'en')}."
            )
            text += f" Main rule: {markdown_text(rule['text'])}." if rule else ""
        out.append(text)
    return "\n\n".join(out)


def rules_markdown(run: ClusterRun, lang: str = "en") -> str:
    """The rules as a Markdown table (cluster, rule, precision, coverage, customers matched)."""
    rules = run.report["rules"]
    if not rules:
        return "_No rules (fewer than two clusters)._" if lang == "en" else "_无规则（少于两组）。_"
    key = "text" if lang == "en" else "text_zh"
    head = ("| Group | Rule | Precision | Coverage of the group | Customers matched |" if lang == "en"
            else "| 组号 | 规则 | 准确率 | 覆盖本组比例 | 匹配客户数 |")  # fmt: skip
    lines = [head, "|---|---|---:|---:|---:|"]
    for r in rules:
        rule = markdown_text(r[key])  # also escapes a | in a setting's text
        lines.append(f"| {r['cluster']} | {rule} | {r['precision']:.1%} | {r['coverage']:.1%} | {r['customers']:,} |")
    return "\n".join(lines)
