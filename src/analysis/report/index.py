"""The landing page of a run (``index.html``): the headline numbers a manager asks for first, each linking to
the page that explains it, then the pages in reading order, then the data files.

Every number comes from the run's own files (``quality.json``, ``customers.parquet`` and each stage's JSON), so
the page says exactly what the files say; a stage that did not run simply has no card. The page is rendered
from a Jinja2 template (``templates/index.html.j2``), readable on a laptop and a phone.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader

from analysis.report.declines import read_declines, stage_name
from analysis.report.numbers import headline, read_json

TEXTS = {
    "en": {
        "title": "Customer analytics report", "summary": "Summary for management", "as_of": "As of",
        "headline": "Headline numbers",
        "pages": "The pages, in reading order", "files": "Data files",
        "declined": "Not made for this data: the rest of the report stands without it",
        "masked": "Personal data is masked on the stakeholder pages (names, phones, e-mails, ids); the analyst "
                  "files (customer table, executed notebooks) keep the real values.",
        "customers": "Customers", "buyers": "{n} bought in the period", "revenue": "Revenue in the period",
        "revenue_detail": "{start} to {end}", "class_a": "Value from class A",
        "class_a_detail": "{share} of customers bring it", "tiers": "Customers by tier",
        "high_risk": "Customers at high churn risk", "high_risk_detail": "value at risk {value}",
        "clv": "Expected value, next {months} months", "clv_detail": "from {n} customers",
        "files_what": {"customers.csv": "the customer tier table (UTF-8 with BOM, opens in Excel)",
                       "customers.xlsx": "the customer tier table in Excel, with column notes and the playbook",
                       "summary.pptx": "the management deck", "summary_zh.pptx": "the management deck in Chinese",
                       "00_summary_zh.html": "the summary for management in Chinese",
                       "00_summary.html": "the summary for management in English",
                       "migration.json": "tier migration since the previous run",
                       "quarantine.csv": "rows set aside, with the reason",
                       "quality.json": "what came in, what was kept, reconciliation",
                       "run.json": "parameters, input fingerprint, versions, time per step",
                       "segments.json": "segment rules in words, counts and shares",
                       "clusters.json": "clustering: choice of k, stability, profiles, names, rules",
                       "clv.json": "CLV models: backtest, parameters, log-likelihoods, totals",
                       "churn.json": "churn models and baselines on a later cut-off, risk bands",
                       "declines.json": "the analyses this data could not support, and why",
                       "cohorts.csv": "retention and revenue by acquisition cohort and period since, long form",
                       "cohorts.json": "cohorts: settings, the numbers the page states, reconciliation",
                       "forecast.csv": "the CLV page's month-by-month forecast of today's customers, in total, per "
                                       "tier and per RFM segment, with its range",
                       "clv_models.json": "every fitted CLV model: parameters, coefficients, the monthly backtest, "
                                          "a new customer's value"},
        "cohorts": "Customers won who bought again {k} {periods} later",
        "cohorts_detail": "{customers} customers of {cohorts} cohorts",
        "periods": {"month": ["month", "months"], "week": ["week", "weeks"], "quarter": ["quarter", "quarters"]},
    },
    "zh": {
        "title": "客户分析报告", "summary": "管理层摘要", "as_of": "截止日期", "headline": "关键指标",
        "pages": "报告页面（按阅读顺序）", "declined": "本数据未能进行的分析（报告其余部分不受影响）",
        "files": "数据文件", "masked": "面向管理层的页面已隐去个人信息（姓名、电话、邮箱、编号）；分析用文件（客户表、"
                                       "已执行的笔记本）保留原值。",
        "customers": "客户数", "buyers": "其中 {n} 位在期内购买", "revenue": "期内收入",
        "revenue_detail": "{start} 至 {end}", "class_a": "A 类客户贡献的价值", "class_a_detail": "A 类占客户的 {share}",
        "tiers": "各等级客户数", "high_risk": "高流失风险客户", "high_risk_detail": "风险价值 {value}",
        "clv": "未来 {months} 个月预期价值", "clv_detail": "来自 {n} 位客户",
        "files_what": {"customers.csv": "客户分层管理表格（UTF-8 BOM，可用 Excel 打开）",
                       "customers.xlsx": "客户分层管理表格（Excel，含字段说明与服务策略）",
                       "summary.pptx": "管理层汇报幻灯片（英文）",
                       "summary_zh.pptx": "管理层汇报幻灯片（中文）", "00_summary_zh.html": "管理层摘要（中文）",
                       "00_summary.html": "管理层摘要（英文）",
                       "migration.json": "与上次运行相比的等级迁移",
                       "quarantine.csv": "被隔离的行及原因", "quality.json": "数据输入、保留与对账",
                       "run.json": "参数、输入指纹、版本、各步骤耗时", "segments.json": "分群规则、数量与占比",
                       "clusters.json": "聚类：k 的选择、稳定性、画像、名称与规则",
                       "clv.json": "CLV 模型：回测、参数、对数似然、合计",
                       "churn.json": "流失模型与基准（后一截止日评估）、风险等级",
                       "declines.json": "本数据未能进行的分析及原因",
                       "cohorts.csv": "按获客批次与获客后各期的留存与收入（长表）",
                       "cohorts.json": "客户批次分析：设置、页面中的数字与核对",
                       "forecast.csv": "CLV 页面对现有客户的逐月预测（合计、按客户等级和 RFM 细分，附区间）",
                       "clv_models.json": "所有已拟合的 CLV 模型：参数、系数、逐月回测、新客户价值"},
        "cohorts": "获客 {k} {periods}后仍再次购买的客户占比",
        "cohorts_detail": "{cohorts} 批共 {customers} 位客户",
        "periods": {"month": ["个月", "个月"], "week": ["周", "周"], "quarter": ["个季度", "个季度"]},
    },
}  # fmt: skip


def _page_for(pages: list[str], stem_suffix: str) -> str:
    """The page whose name ends with ``stem_suffix`` (e.g. ``_segments``), or the landing page itself."""
    return next((p for p in pages if Path(p).stem.endswith(stem_suffix)), "#")


def cards(
    run_dir: Path, pages: list[str], lang: str = "en", customers: pd.DataFrame | None = None
) -> list[dict[str, Any]]:
    """The headline cards, from :func:`analysis.report.numbers.headline`: ``key``, ``label``, ``value``
    (formatted), ``raw`` (the number), ``href`` and an optional ``detail`` line and ``rows`` (customers by tier).
    ``customers``: the run's customer table when the caller has read it."""
    t = TEXTS[lang]
    n = headline(run_dir, customers)
    quality = read_json(run_dir, "quality.json") or {}
    labels = read_json(run_dir, "settings.json")["config"]["tiers"]["labels"]
    quality_page, segments_page = _page_for(pages, "_data_quality"), _page_for(pages, "_segments")
    out = [{"key": "customers", "label": t["customers"], "raw": n["customers"], "value": f"{n['customers']:,}",
            "detail": t["buyers"].format(n=f"{n['buyers']:,}"), "href": quality_page}]
    if "revenue" in n:
        out.append({"key": "revenue", "label": t["revenue"], "raw": round(n["revenue"], 2),
                    "value": f"{n['revenue']:,.0f}", "href": quality_page,
                    "detail": t["revenue_detail"].format(start=quality.get("date_min"), end=n["as_of"])})
    if "class_a_share" in n:
        out.append({"key": "class_a", "label": t["class_a"], "raw": round(n["class_a_share"], 4),
                    "value": f"{n['class_a_share']:.0%}", "href": segments_page,
                    "detail": t["class_a_detail"].format(share=f"{n['class_a_customer_share']:.0%}")})
    if "tiers" in n:
        i = 1 if lang == "zh" else 0
        tiers = n["tiers"]
        rows = [(label[i], f"{tiers[key]:,}", tiers[key]) for key, label in labels.items() if key in tiers]
        out.append({"key": "tiers", "label": t["tiers"], "raw": sum(r[2] for r in rows), "value": "", "rows": rows,
                    "href": segments_page})
    if n.get("high_risk_customers"):
        out.append({"key": "high_risk", "label": t["high_risk"], "raw": n["high_risk_customers"],
                    "value": f"{n['high_risk_customers']:,}", "href": _page_for(pages, "_churn"),
                    "detail": t["high_risk_detail"].format(value=f"{n['high_value_at_risk']:,.0f}")})
    if "clv_12m" in n:
        out.append({"key": "clv", "label": t["clv"].format(months=n["clv_horizon_months"]),
                    "raw": round(n["clv_12m"], 2), "value": f"{n['clv_12m']:,.0f}", "href": _page_for(pages, "_clv"),
                    "detail": t["clv_detail"].format(n=f"{n['clv_customers']:,}")})
    out += cohort_cards(run_dir, pages, lang)
    return out  # fmt: skip


def cohort_cards(run_dir: Path, pages: list[str], lang: str = "en") -> list[dict[str, Any]]:
    """The cohorts page's card (from ``cohorts.json``): the share of customers won who bought again at the
    comparison period, over the cohorts observed that long; none without the page or before such a period."""
    c = (read_json(run_dir, "cohorts.json") or {}).get("summary") or {}
    if not c.get("k") or c.get("retention_k") is None or c.get("short_history"):
        return []
    t = TEXTS[lang]
    periods = t["periods"][c["period"]][1 if c["k"] > 1 else 0]
    detail = t["cohorts_detail"].format(customers=f"{c['customers_k']:,}", cohorts=c["cohorts_k"])
    return [{"key": "cohorts", "label": t["cohorts"].format(k=c["k"], periods=periods),
             "raw": round(c["retention_k"], 4), "value": f"{c['retention_k']:.0%}",
             "href": _page_for(pages, "_cohorts"), "detail": detail}]  # fmt: skip


def _title(run_dir: Path, page: str) -> str:
    """A page's first heading (from its executed notebook), else its file name."""
    notebook = run_dir / "notebooks" / page.replace(".html", ".ipynb")
    if page.startswith("00_summary"):
        return TEXTS["zh" if page.endswith("_zh.html") else "en"]["summary"]
    if notebook.is_file():
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            text = "".join(cell["source"]).strip()
            if cell["cell_type"] == "markdown" and text.startswith("# "):
                return text.splitlines()[0][2:].strip()
    return Path(page).stem


def write_index(
    run_dir: Path,
    pages: list[str],
    seconds: dict[str, float],
    lang: str = "en",
    masked: bool = False,
    customers: pd.DataFrame | None = None,
) -> Path:
    """Render ``index.html`` of ``run_dir`` from the run's own files; returns its path. ``customers``: the
    run's customer table when the caller has read it."""
    t = TEXTS[lang]
    quality = read_json(run_dir, "quality.json") or {}
    summaries = [name for name in ("00_summary.html", "00_summary_zh.html") if name not in pages]
    known = ["customers.csv", "customers.xlsx", "summary.pptx", "summary_zh.pptx", *summaries,
             "quarantine.csv", "quality.json", "cohorts.csv", "forecast.csv"]
    files = [name for name in known if (run_dir / name).is_file()]
    files += sorted(p.name for p in run_dir.glob("*.json") if p.name not in (*known, "run.json", "settings.json"))
    files += sorted(p.relative_to(run_dir).as_posix() for p in run_dir.glob("crm/*") if p.is_file())
    files += ["run.json"]
    env = Environment(loader=PackageLoader("analysis.report"), autoescape=True)
    html = env.get_template("index.html.j2").render(
        lang=lang,
        t=t,
        as_of=quality.get("as_of"),
        input_name=Path(str(quality.get("input", ""))).name,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        masked=masked,
        cards=cards(run_dir, pages, lang, customers),
        pages=[{"href": p, "title": _title(run_dir, p), "seconds": seconds.get(Path(p).stem)} for p in pages],
        declines=[{"href": _page_for(pages, f"_{d['stage']}"), "title": stage_name(d["stage"], lang),
                   "reason": d[lang]} for d in read_declines(run_dir)],
        files=[{"href": f, "what": t["files_what"].get(f, "")} for f in files],
    )
    path = run_dir / "index.html"
    path.write_text(html, encoding="utf-8")
    return path
