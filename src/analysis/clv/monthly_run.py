"""The time axis in the CLV stage's run (issue 19): from the stage's fitted model, the month-by-month forecast of
today's customers in total, per tier and per RFM segment with the bootstrap's range (``forecast.csv``), the next
three months, the same method backtested month by month on the holdout, and what a customer won today is worth
(per level of each categorical covariate when the forecast model has covariates: issue 20). :func:`time_axis`
makes them, :func:`write_forecast` writes ``forecast.csv``, :func:`models_entries` is their part of
``clv_models.json``, and the ``*_markdown`` functions are the page's sentences, en/zh (:data:`TEXTS`).

The mathematics are in :mod:`analysis.clv.monthly` and :mod:`analysis.clv.new_customer`, the charts in
:mod:`analysis.clv.monthly_plots`.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from analysis.clv import backtest_months, monthly
from analysis.clv.covariate_design import Design
from analysis.clv.covariates import CovariatePurchaseModel
from analysis.clv.describe import fill
from analysis.clv.new_customer import new_customer_value
from analysis.clv.value import CLVModel
from analysis.i18n import check_language
from analysis.stage import Text
from analysis.tables import markdown_text

if TYPE_CHECKING:
    from analysis.clv.stage import ClvResult

FORECAST_FILE = "forecast.csv"
# The customer table's columns the forecast is split by, and the column holding each one's Chinese name (the
# segments stage's: tier_zh, rfm_segment_label_zh).
GROUP_NAMES_ZH = {"tier": "tier_zh", "rfm_segment": "rfm_segment_label_zh"}
# The record's keys clv_models.json repeats (issue 19: the monthly backtest and the new customer's value).
MODELS_KEYS = ("monthly_backtest", "mape_purchases", "mape_revenue", "total_error_purchases_pct",
               "total_error_revenue_pct", "monthly_backtest_model", "monthly_backtest_text",
               "new_customer")  # fmt: skip

SEPARATOR = {"en": "; ", "zh": "；"}  # between the parts of a list in a sentence
TEXTS = {
    "by_level": {"en": "By {covariate}, a customer won today is expected to bring {values}.",
                 "zh": "按{covariate}区分，今天新获得的一位客户预计带来：{values}。"},
    "by_level_purchases": {"en": "By {covariate}, a customer won today is expected to make {values} repeat "
                                 "purchases.",
                           "zh": "按{covariate}区分，今天新获得的一位客户预计重复购买：{values} 次。"},
    "level_value": {"en": "{value:,.2f} if {level}", "zh": "{level} {value:,.2f}"},
    "level_purchases": {"en": "{purchases:.2f} if {level}", "zh": "{level} {purchases:.2f}"},
    "level_range": {"en": "range {low:,.2f} to {high:,.2f}", "zh": "区间 {low:,.2f} 至 {high:,.2f}"},
    "reference": {"en": "the reference", "zh": "参照水平"},
    "detail": {"en": " ({details})", "zh": "（{details}）"},
    "same_spend": {"en": "The levels differ in how often their customers buy and how long they stay; spend per "
                         "purchase is the population's for all (the spend model has no covariates).",
                   "zh": "各水平的差别在于客户购买的频率和保持活跃的时间；每次消费金额对所有水平都取总体均值"
                         "（消费模型不含协变量）。"},
    "no_levels": {"en": "The forecast model has no covariates (the model without them forecast the holdout "
                        "better), so a customer won today is worth the same whatever their {covariates}.",
                  "zh": "预测所用的模型不含协变量（不含协变量的模型对验证期预测得更好），因此无论{covariates}"
                        "如何，今天新获得的客户价值相同。"},
    "by_group": {"en": "By {group}: expected {measure} per month, with the bootstrap's range.",
                 "zh": "按{group}：每月预期{measure}及自助法区间。"},
    "group_tier": {"en": "tier", "zh": "客户等级"},
    "group_rfm_segment": {"en": "RFM segment", "zh": "RFM 细分"},
    "measure_revenue": {"en": "revenue", "zh": "收入"},
    "measure_purchases": {"en": "repeat purchases", "zh": "重复购买次数"},
    "no_revenue": {"en": "The data has no amounts: the forecast is of repeat purchases only, and revenue is absent.",
                   "zh": "数据没有金额：只预测重复购买次数，没有收入。"},
    "first_month": {"en": "The as-of date {as_of} is not a month end: the first month is the rest of {month}, "
                          "the last one the days of {last} up to the horizon.",
                    "zh": "分析日期 {as_of} 不是月末：第一个月只含{month}剩余的日子，最后一个月只含{last}"
                          "到预测期末的日子。"},
    "range_note": {"en": "The range is the uncertainty of the model's estimates (the bootstrap), not of the months "
                         "themselves: how far the same method missed each holdout month (below) is the better guide "
                         "to a month's error.",
                   "zh": "区间表示模型估计的不确定性（自助法），而不是各月本身的波动：同一方法在验证期各月的误差"
                         "（见下文）更能说明某个月可能偏离多少。"},
    "file": {"en": "Month by month, in total, per tier and per RFM segment: `forecast.csv` in the run directory.",
             "zh": "逐月、合计、按客户等级和 RFM 细分的预测：运行目录中的 `forecast.csv`。"},
}  # fmt: skip


def texts(key: str, **values: Any) -> Text:
    """The :data:`TEXTS` sentence ``key`` filled with ``values``, ``{"en": ..., "zh": ...}``."""
    return fill(TEXTS, key, **values)


# the stage's products -------------------------------------------------------------------------------------------
def stage_groups(customers: pd.DataFrame, ids: pd.Index, rows) -> pd.DataFrame | None:
    """The customer table's ``tier`` and ``rfm_segment`` (those it has: the segments page runs before the CLV
    page) of the summary's customers ``ids``, indexed by them; None when it has neither. ``rows``: the table's
    rows the summary holds, in its order (None: matched by id)."""
    columns = [c for c in GROUP_NAMES_ZH if c in customers.columns]
    if not columns:
        return None
    if rows is not None:
        return customers[columns].iloc[rows].set_axis(ids)
    table = customers[columns].set_axis(pd.Index(customers["customer_id"].astype(str), name="customer_id"))
    return table.reindex(pd.Index(ids.astype(str), name="customer_id"))


def group_names(customers: pd.DataFrame) -> dict[str, dict[str, Text]]:
    """Each group's name for people, {en, zh}, by grouping: the table's value in English, its Chinese column's in
    Chinese (the value itself where the table has no Chinese name)."""
    out: dict[str, dict[str, Text]] = {}
    for column, zh in GROUP_NAMES_ZH.items():
        if column not in customers.columns:
            continue
        pairs = customers[[column, zh] if zh in customers.columns else [column]].dropna(subset=[column])
        pairs = pairs.drop_duplicates(column)
        names = pairs[zh].where(pairs[zh].notna(), pairs[column]) if zh in pairs else pairs[column]
        out[column] = {str(v): {"en": str(v), "zh": str(n)} for v, n in zip(pairs[column], names, strict=True)}
    return out


def time_axis(model: CLVModel, frame: pd.DataFrame, customers: pd.DataFrame, rows, tx: pd.DataFrame, bt,
              key: str, cfg: dict[str, Any], as_of: pd.Timestamp, design: Design | None = None):  # fmt: skip
    """(``forecast.csv``'s frame, the record's entries) from the stage's fitted ``model`` (purchase model key
    ``key``), the summary it was fitted on (``frame``, with the covariates' columns), the customer table
    (``customers``: the tier and RFM segment of each, ``rows``: :func:`stage_groups`'), the purchases ``tx`` and
    the backtest ``bt`` (None without one). Entries: ``forecast_quarter``, ``monthly_forecast`` (its months with
    their labels, partial ones marked, the groupings and their names, the file, the customers), the monthly
    backtest's keys (:func:`~analysis.clv.backtest_months.monthly_backtest`) and ``new_customer`` (with
    ``by_covariate`` when covariates are named)."""
    pm, sm = model.purchase_model_, model.spend_model_
    groups = stage_groups(customers, frame.index, rows)
    options = {"time_unit": model.time_unit, "bootstrap": model.bootstrap_params_, "interval": model.interval}
    months, quarter = monthly.forecast_products(pm, sm, frame, as_of, model.horizon_months, groups, **options)
    entries: dict[str, Any] = {"forecast_quarter": quarter}
    entries["monthly_forecast"] = {
        "file": FORECAST_FILE,
        "customers": int(len(frame)),
        "group_by": ["all", *([] if groups is None else [c for c in monthly.GROUPINGS if c in groups])],
        "names": group_names(customers),
        "months": month_entries(monthly.month_edges(as_of, model.horizon_months)),
    }
    fit = cfg["fit"]
    fit_options = {"max_shape": float(fit["max_shape"]), "max_iterations": int(fit["max_iterations"])}
    entries.update(backtest_months.monthly_backtest(tx, bt, key, model.time_unit, fit_options))
    entries["new_customer"] = new_customer(model, design)
    return months, entries


def month_entries(edges: pd.DataFrame) -> list[dict[str, Any]]:
    """The forecast's months as the record lists them (:func:`~analysis.clv.monthly.month_edges`' rows): the
    month, the days it holds, whether it is part of the month, its label {en, zh}."""
    return [{"month": e.month, "first_day": e.first_day.date().isoformat(), "last_day": e.last_day.date().isoformat(),
             "partial": bool(e.partial), "label": {"en": e.label_en, "zh": e.label_zh}}
            for e in edges.itertuples()]  # fmt: skip


def new_customer(model: CLVModel, design: Design | None = None) -> dict[str, Any]:
    """The record's ``new_customer`` (:func:`~analysis.clv.new_customer.new_customer_value` of the fitted
    ``model``) and, with covariates named (``design``), ``by_covariate``: the value of a customer won today in each
    level of each categorical covariate (its customers' mix of the other covariates; empty when the forecast
    model has none), with ``by_covariate_text`` (a sentence per covariate, {en, zh})."""
    settings = model.horizon_months, model.discount_rate, model.time_unit, model.margin
    boot = {"bootstrap": model.bootstrap_params_, "interval": model.interval}
    entry = new_customer_value(model.purchase_model_, model.spend_model_, *settings, **boot)
    if design is None or not design.references:
        return entry
    pm = model.purchase_model_
    if not isinstance(pm, CovariatePurchaseModel):
        entry["by_covariate"] = []
        entry["by_covariate_text"] = [texts("no_levels", covariates=", ".join(map(markdown_text, design.references)))]
        return entry
    rows = []
    for column, level, reference, share in covariate_levels(pm, design):
        part = copy.copy(pm)
        part.patterns_ = pm.patterns_[share]  # the new customer: a customer of this level, their mix of the rest
        value = new_customer_value(part, model.spend_model_, *settings, **boot)
        rows.append({"covariate": column, "level": level, "reference": reference,
                     "customers": float(pm.patterns_["weight"][share].sum()),
                     **{k: value[k] for k in ("expected_purchases", "expected_spend_per_purchase", "expected_value",
                                              "expected_value_low", "expected_value_high")}})  # fmt: skip
    entry["by_covariate"] = rows
    entry["by_covariate_text"] = [*level_texts(rows)]
    if math.isfinite(entry["expected_spend_per_purchase"]):
        entry["by_covariate_text"].append(texts("same_spend"))
    return entry


def covariate_levels(pm: CovariatePurchaseModel, design: Design):
    """(column, level, whether it is the reference, which of ``pm.patterns_`` are of it) for each level of each
    categorical covariate of ``design``, the reference first."""
    patterns = pm.patterns_
    for column, reference in design.references.items():
        indicators = [c for c in patterns.columns if c.startswith(f"{column}=")]
        values = patterns[indicators].to_numpy(float)
        yield column, str(reference), True, ~(values != 0).any(axis=1)
        for i, name in enumerate(indicators):
            yield column, name.split("=", 1)[1], False, values[:, i] != 0


def level_texts(rows: list[dict[str, Any]]) -> list[Text]:
    """A sentence per covariate of ``by_covariate`` rows: each level's value (which is the reference, its range),
    or its purchases without amounts. The covariate's name and levels come from the data: escaped for the page's
    Markdown."""
    out = []
    for column in dict.fromkeys(r["covariate"] for r in rows):
        parts: dict[str, list[str]] = {"en": [], "zh": []}
        money = True
        for r in (r for r in rows if r["covariate"] == column):
            money = math.isfinite(r["expected_value"])
            level = markdown_text(r["level"])
            part = (texts("level_value", value=r["expected_value"], level=level) if money
                    else texts("level_purchases", purchases=r["expected_purchases"], level=level))  # fmt: skip
            details = [texts("reference")] if r["reference"] else []
            if money and math.isfinite(r["expected_value_low"]):
                details.append(texts("level_range", low=r["expected_value_low"], high=r["expected_value_high"]))
            for lang, sep in SEPARATOR.items():
                extra = TEXTS["detail"][lang].format(details=sep.join(d[lang] for d in details)) if details else ""
                parts[lang].append(part[lang] + extra)
        values = {lang: sep.join(parts[lang]) for lang, sep in SEPARATOR.items()}
        out.append(texts("by_level" if money else "by_level_purchases", covariate=markdown_text(column),
                         values=values))
    return out


# the run directory ----------------------------------------------------------------------------------------------
def forecast_csv(months: pd.DataFrame) -> pd.DataFrame:
    """``forecast.csv`` as people read it: exactly :data:`~analysis.clv.monthly.FORECAST_COLUMNS`, revenue to the
    cent, purchases to 4 decimals (full precision stays in the stage's ``tables["forecast"]``)."""
    out = months[list(monthly.FORECAST_COLUMNS)].copy()
    out["expected_purchases"] = out["expected_purchases"].round(4)
    for column in ("expected_revenue", "expected_revenue_low", "expected_revenue_high"):
        out[column] = out[column].round(2)
    return out


def write_forecast(result: ClvResult, run_dir: Path | str, config: dict[str, Any]) -> Path:
    """``forecast.csv`` in ``run_dir`` (:func:`forecast_csv` of ``result.tables["forecast"]``), UTF-8 with BOM
    as the run's other CSV files, formula starts guarded by the run's ``export.csv_formula_guard``; its path."""
    from analysis.report.rundir import csv_formula_guard
    from analysis.report.rundir import write_csv as write_people_csv

    path = Path(run_dir) / FORECAST_FILE
    write_people_csv(forecast_csv(result.tables["forecast"]), path, guard=csv_formula_guard(config))
    return path


def models_entries(record: dict[str, Any]) -> dict[str, Any]:
    """The record's monthly backtest and new customer (:data:`MODELS_KEYS`), as ``clv_models.json`` adds them."""
    return {k: record[k] for k in MODELS_KEYS if k in record}


# the page's words -----------------------------------------------------------------------------------------------
def forecast_markdown(result: ClvResult, lang: str = "en") -> str:
    """The forward forecast's sentences in ``lang``: the next three months with their range, that it covers
    today's customers only, a mid-month first month, no amounts, and where the file is."""
    check_language(lang)
    record = result.record
    quarter = record["forecast_quarter"]
    lines = [f"{quarter['text'][lang]} **{quarter['scope'][lang]}**"]
    months = record["monthly_forecast"]["months"]
    if months[0]["partial"]:
        first, last = (month_name(m["label"][lang]) for m in (months[0], months[-1]))
        lines.append(texts("first_month", as_of=record["as_of"], month=first, last=last)[lang])
    if not record["amounts"]:
        lines.append(TEXTS["no_revenue"][lang])
    elif math.isfinite(quarter["expected_revenue_low"]):
        lines.append(TEXTS["range_note"][lang])
    lines.append(TEXTS["file"][lang])
    return "\n\n".join(lines)


def month_name(label: str) -> str:
    """A month's label without the days it holds: "Jun 1998 (from 16 Jun)" -> "Jun 1998"."""
    return label.split(" (")[0].split("（")[0]


def group_caption(group_by: str, measure: str, lang: str = "en") -> str:
    """The caption of the chart by ``group_by`` (tier, rfm_segment) of ``measure`` (revenue, purchases)."""
    check_language(lang)
    return texts("by_group", group=TEXTS[f"group_{group_by}"], measure=TEXTS[f"measure_{measure}"])[lang]


def backtest_markdown(result: ClvResult, lang: str = "en") -> str:
    """The monthly backtest's sentence in ``lang`` (or why there is none)."""
    check_language(lang)
    return result.record["monthly_backtest_text"][lang]


def new_customer_markdown(result: ClvResult, lang: str = "en") -> str:
    """What a customer won today is worth, in ``lang``, and by covariate level when the model has covariates."""
    check_language(lang)
    entry = result.record["new_customer"]
    return "\n\n".join([entry["text"][lang], *(t[lang] for t in entry.get("by_covariate_text", []))])


def group_labels(result: ClvResult, group_by: str, lang: str = "en") -> dict[str, str]:
    """The names in ``lang`` of the groups of ``group_by`` (the forecast's ``group`` values as keys)."""
    check_language(lang)
    names = result.record["monthly_forecast"].get("names", {}).get(group_by, {})
    return {group: name[lang] for group, name in names.items()}


def has_groups(result: ClvResult, group_by: str) -> bool:
    """Whether the forecast is split by ``group_by`` (tier, rfm_segment): the customer table had the column."""
    return group_by in result.record["monthly_forecast"]["group_by"]
