"""The executive page (``00_summary.html``) a manager reads first: a handful of sentences from the run's own
files, what to do this month per tier, and three charts: value by tier, the tier migration since the previous
run (when there is one), and the early-warning list's top customers (when the churn stage ran).

Rendered from a Jinja2 template (``templates/summary.html.j2``) with the charts embedded as PNG, in English
or Chinese, with names and ids masked when asked.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from jinja2 import Environment, PackageLoader  # noqa: E402

from analysis import privacy  # noqa: E402
from analysis.plotting import new_axes, use_cjk_font  # noqa: E402
from analysis.report.declines import read_declines, stage_name  # noqa: E402
from analysis.report.numbers import customer_label, read_customers, read_json, top_at_risk  # noqa: E402
from analysis.report.plots import plot_transition_matrix, plot_value_by_tier, value_by_tier  # noqa: E402

TEXTS = {
    "en": {"title": "Summary for management", "as_of": "As of", "back": "all pages and files",
           "masked": "Names and ids are masked on this page.", "todo": "What to do this month, per tier",
           "tier": "Tier", "customers": "Customers", "action": "Action", "cadence": "Contact",
           "warning": "Call first: customers at high churn risk, by value at risk", "reasons": "Why",
           "warning_header": ["Customer", "Tier", "Churn risk", "Value at risk"],
           "chart_value": "Share of customers and of value by tier",
           "chart_migration": "Tier migration since the previous review",
           "chart_warning": "Top customers at high churn risk: value at risk",
           "p_base": "{customers:,} customers, {revenue} in revenue from {start} to {as_of}.",
           "p_base_orders": "{customers:,} customers and {orders:,} orders from {start} to {as_of} (no amounts).",
           "p_abc": "{a_customers:.0%} of the customers (class A) bring {a_value:.0%} of the {what}.",
           "p_vip": "{vip:,} VIP customers hold {vip_value:.0%} of the {what}; {slipping:,} valuable customers are "
                    "dormant or churned and need a personal call.",
           "p_clv": "Expected value of the next {months} months: {total} ({model}); the top 10% of customers "
                    "hold {top:.0%} of it.",
           "p_churn": "{high:,} customers are at high risk of stopping buying, with {var} of value at risk; the "
                      "first {n} on the list below cover {list_share:.0%} of all value at risk.",
           "p_clusters": "The data shows {k} customer groups: {names}.",
           "p_migration": "Since the previous review ({previous}): {up:,} customers moved up a tier, {down:,} moved "
                          "down, {new:,} are new and {lost:,} are gone.",
           "p_declined": "Not made for this data: {stage}. {reason}",
           "what": {"revenue": "value", "margin": "margin", "orders": "orders"}},
    "zh": {"title": "管理层摘要", "as_of": "截止日期", "back": "全部页面与文件", "masked": "本页已隐去客户姓名与编号。",
           "todo": "本月各等级客户的行动", "tier": "等级", "customers": "客户数", "action": "行动",
           "cadence": "联系频率",
           "warning": "优先联系：高流失风险客户（按风险价值排序）", "reasons": "原因",
           "warning_header": ["客户", "等级", "流失风险", "风险价值"],
           "chart_value": "各等级客户占比与价值占比", "chart_migration": "自上次评估以来的等级迁移",
           "chart_warning": "高流失风险客户：风险价值最高者",
           "p_base": "共 {customers:,} 位客户，{start} 至 {as_of} 收入 {revenue}。",
           "p_base_orders": "共 {customers:,} 位客户、{orders:,} 笔订单（{start} 至 {as_of}，数据没有金额）。",
           "p_abc": "{a_customers:.0%} 的客户（A类）贡献了 {a_value:.0%} 的{what}。",
           "p_vip": "VIP客户 {vip:,} 位，占{what}的 {vip_value:.0%}；"
                    "{slipping:,} 位高价值客户已沉睡或流失，需专人联系。",
           "p_clv": "未来 {months} 个月预期价值 {total}（{model}）；前 10% 的客户占其中 {top:.0%}。",
           "p_churn": "{high:,} 位客户流失风险高，风险价值 {var}；"
                      "下表前 {n} 位覆盖全部风险价值的 {list_share:.0%}。",
           "p_clusters": "数据显示 {k} 个客户群：{names}。",
           "p_migration": "自上次评估（{previous}）以来：{up:,} 位客户升级，{down:,} 位降级，"
                          "新增 {new:,} 位，流失 {lost:,} 位。",
           "p_declined": "本数据未能进行{stage}分析：{reason}",
           "what": {"revenue": "价值", "margin": "毛利", "orders": "订单"}},
}  # fmt: skip


def _png(ax) -> str:
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(ax.figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def sentences(
    run_dir: Path, config: dict, lang: str = "en", migration=None, customers: pd.DataFrame | None = None
) -> list[str]:
    """Five to eight plain sentences from the run's files (stages that did not run say nothing); ``customers``
    is the run's customer table when the caller has read it."""
    t = TEXTS[lang]
    quality = read_json(run_dir, "quality.json") or {}
    if customers is None:
        customers = read_customers(run_dir, ["monetary", "orders", "value_at_risk"])
    base = {"customers": len(customers), "start": quality.get("date_min"), "as_of": quality.get("as_of")}
    revenue = customers["monetary"].sum(min_count=1)
    points = [
        t["p_base"].format(**base, revenue=f"{revenue:,.0f}")
        if pd.notna(revenue)
        else t["p_base_orders"].format(**base, orders=int(customers["orders"].sum()))
    ]
    seg = read_json(run_dir, "segments.json")
    if seg:
        a = next(r for r in seg["abc"] if r["abc_class"] == "A")
        what = t["what"].get(seg["settings"]["abc_value"], seg["settings"]["abc_value"])
        points.append(t["p_abc"].format(a_customers=a["customer_share"], a_value=a["value_share"], what=what))
        vip = seg["tiers_by_key"].get("vip")
        if vip and vip["customers"]:
            points.append(
                t["p_vip"].format(
                    vip=vip["customers"],
                    vip_value=vip["value_share"],
                    what=what,
                    slipping=seg.get("valuable_slipping", 0),
                )
            )
    clusters = read_json(run_dir, "clusters.json")
    if clusters and clusters.get("names") and clusters.get("k", 0) > 1:
        names = [v["zh" if lang == "zh" else "en"] for v in clusters["names"].values()]
        points.append(t["p_clusters"].format(k=clusters["k"], names="; ".join(names)))
    clv = read_json(run_dir, "clv.json")
    if clv and clv.get("clv", {}).get("total_clv") is not None:
        c = clv["clv"]
        points.append(
            t["p_clv"].format(
                months=c["horizon_months"],
                total=f"{c['total_clv']:,.0f}",
                model=model_name(clv, lang),
                top=c.get("top_decile_share", 0),
            )
        )
    points += forecast_points(clv or {}, lang)
    points += cohort_points(read_json(run_dir, "cohorts.json") or {}, lang)
    churn = read_json(run_dir, "churn.json")
    if churn and churn.get("warning_list"):
        w = churn["warning_list"]
        points.append(
            t["p_churn"].format(
                high=w["high_risk_customers"],
                var=f"{w['high_value_at_risk']:,.0f}",
                n=min(10, w["list_size"]),
                list_share=_top_share(customers, 10),
            )
        )
    for d in read_declines(run_dir):
        points.append(t["p_declined"].format(stage=stage_name(d["stage"], lang), reason=d[lang]))
    if migration is not None:
        r = migration.report
        points.append(
            t["p_migration"].format(
                previous=r.get("previous_as_of"),
                up=r.get("upgraded", 0),
                down=r.get("downgraded", 0),
                new=r.get("new", 0),
                lost=r.get("lost", 0),
            )
        )
    return points


def forecast_points(clv: dict, lang: str) -> list[str]:
    """What the CLV record says of time ahead, in ``lang`` (nothing from a record without it, e.g. an older run's):
    one line with the next three months' revenue from existing customers, its range, that it covers them only, and
    how well the same method forecast the holdout months (``forecast_quarter``, ``monthly_backtest_text``); one
    with what a customer won today is worth (``new_customer``)."""
    line = []
    if clv.get("forecast_quarter"):
        line += [clv["forecast_quarter"]["text"][lang], clv["forecast_quarter"]["scope"][lang]]
    if clv.get("monthly_backtest_text"):
        line.append(clv["monthly_backtest_text"][lang])
    points = [(" " if lang == "en" else "").join(line)] if line else []
    if clv.get("new_customer"):
        points.append(clv["new_customer"]["text"][lang])
    return points


def cohort_points(cohorts: dict, lang: str) -> list[str]:
    """What the cohorts record says first, in ``lang`` (its headline sentence, without the page's bold marks):
    whether recent cohorts keep buying as earlier ones did, or why the comparison is thin or the history short;
    nothing from a run without the cohorts page."""
    if not cohorts.get("sentences"):
        return []
    return [cohorts["sentences"][0][lang].replace("**", "")]


def model_name(clv: dict, lang: str) -> str:
    """The purchase model clv.json's record chose, as people name it in ``lang`` ("Pareto/NBD", "帕累托/NBD 模型"):
    the record's ``chosen_label`` (a ``{en, zh}`` text); in a record without one, the model's label by its
    settings key (``analysis.clv.MODEL_LABELS``), never the key itself."""
    label = clv.get("chosen_label")
    if isinstance(label, dict):
        return label[lang]
    if isinstance(label, str) and label:
        return label
    from analysis.clv import MODEL_LABELS, NBD_MODEL  # (only for a record written before it named the model)
    from analysis.clv.nbd import NBD_LABELS

    key = clv["chosen_model"]
    return {**MODEL_LABELS, NBD_MODEL: NBD_LABELS[lang]}.get(key, key)


def _top_share(customers: pd.DataFrame, n: int) -> float:
    """Share of all value at risk held by the ``n`` customers with the most of it."""
    if "value_at_risk" not in customers:
        return 0.0
    v = customers["value_at_risk"].fillna(0)
    total = v.sum()
    if not total > 0:
        return 0.0
    values = v.to_numpy(float)
    top = np.sort(np.partition(values, len(values) - n)[len(values) - n :] if len(values) > n else values)[::-1]
    return float(top.sum() / total)


def warning_rows(customers: pd.DataFrame, config: dict, lang: str, mask: bool, salt: str, n: int = 10) -> list[dict]:
    """The first ``n`` customers at high churn risk, by value at risk, as table rows for the page."""
    tier = "tier_zh" if lang == "zh" and "tier_zh" in customers else "tier"
    reasons = "churn_reasons_zh" if lang == "zh" else "churn_reasons"
    return [
        {
            "who": customer_label(row, mask, salt),
            "tier": row.get(tier, ""),
            "risk": f"{row['churn_risk']:.0%}",
            "value": f"{row['value_at_risk']:,.2f}",
            "reasons": privacy.mask_text(str(row.get(reasons) or "")) if mask else row.get(reasons) or "",
        }
        for _, row in top_at_risk(customers, config, n).iterrows()
    ]


def _warning_chart(rows: list[dict], title: str) -> str:
    ax = new_axes(size=(8, 0.35 * len(rows) + 1.2))
    labels = [r["who"] for r in rows][::-1]
    values = [float(r["value"].replace(",", "")) for r in rows][::-1]
    ax.barh(labels, values, color="#d64545")
    ax.set_title(title)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    return _png(ax)


def write_summary(
    run_dir: Path,
    config: dict,
    lang: str = "en",
    masked: bool = False,
    salt: str = "",
    migration=None,
    name: str = "00_summary.html",
    customers: pd.DataFrame | None = None,
) -> Path:
    """Render the summary page ``name`` of ``run_dir``; returns its path. ``customers``: the run's customer
    table when the caller has read it (the pack reads it once for all its parts)."""
    use_cjk_font()
    t = TEXTS[lang]
    if customers is None:
        customers = read_customers(run_dir)
    quality = read_json(run_dir, "quality.json") or {}
    i = 1 if lang == "zh" else 0
    charts, todo = [], []
    if "tier" in customers:
        table = value_by_tier(customers, config)
        labels, playbook = config["tiers"]["labels"], config["playbook"]["tiers"]
        todo = [
            {
                "tier": labels[key][i],
                "customers": f"{int(table.loc[key, 'customers']):,}",
                "action": playbook[key]["action"][i],
                "cadence": playbook[key]["contact_cadence"][i],
            }
            for key in labels
            if key in table.index and key in playbook
        ]
        charts.append({"png": _png(plot_value_by_tier(customers, lang=lang, config=config)), "alt": t["chart_value"]})
    if migration is not None:
        ax = plot_transition_matrix(migration, lang=lang, config=config)
        charts.append({"png": _png(ax), "alt": t["chart_migration"]})
    rows = warning_rows(customers, config, lang, masked, salt)
    if rows:
        charts.append({"png": _warning_chart(rows, t["chart_warning"]), "alt": t["chart_warning"]})
    env = Environment(loader=PackageLoader("analysis.report"), autoescape=True)
    html = env.get_template("summary.html.j2").render(
        lang=lang,
        t=t,
        as_of=quality.get("as_of"),
        masked=masked,
        points=sentences(run_dir, config, lang, migration, customers),
        todo=todo,
        charts=charts,
        warning_rows=rows,
        warning_header=t["warning_header"],
    )
    path = run_dir / name
    path.write_text(html, encoding="utf-8")
    return path
