"""The churn stage of a report run (:func:`run`: cut-offs, features, models and baselines trained on one cut-off
and judged on a later one, the refit that scores every customer today, reasons, risk bands, value at risk and the
early-warning list) and its result (:class:`ChurnResult`).

The stage declines (:class:`ChurnDeclined`, a :class:`~analysis.errors.StageDeclined`) when its scores could
not be checked or were no better than chance: too little history for two cut-offs, too few churners or stayers
on one, no scorer fitted, or no scorer (models and baselines alike) whose ROC-AUC interval on the later cut-off
lies above 0.5. No unchecked rule of thumb stands in: the segments page's lifecycle stages (active, dormant,
churned) are that rule of thumb, and they are labelled as such there.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from analysis.churn import evaluate, reasons, warning
from analysis.churn.features import DailyPurchases, customer_attributes, cutoff_features, daily_purchases
from analysis.churn.labels import CutoffPlan, churn_labels, plan_cutoffs
from analysis.churn.models import BASELINES, MODEL_NAMES, MODELS, churn_probability, fit_scorers, training_sample
from analysis.errors import StageDeclined, UserError
from analysis.jsonable import jsonable
from analysis.stage import Inputs, StageResult, Text

TRANSACTION_COLUMNS = ("customer_id", "order_id", "timestamp", "amount")  # what the stage reads of the purchases
OUTPUT_COLUMNS = ("churn_risk", "risk_band", "risk_band_zh", "churn_reasons", "churn_reasons_zh", "value_at_risk")
# each column's kind, for the empty columns of a declined stage
COLUMN_KINDS = {c: "number" if c in ("churn_risk", "value_at_risk") else "text" for c in OUTPUT_COLUMNS}
CHANCE = 0.5  # the ROC-AUC of guessing: a scorer counts only when its interval on the later cut-off lies above
CHOOSE_BY = ("roc_auc", "pr_auc", "brier", "log_loss")


class ChurnDeclined(StageDeclined):
    """The churn stage declined: ``reason`` says why ({en, zh}); ``report`` holds what was found on the way (the
    cut-offs and, when they were judged, every scorer's metrics on the later cut-off), JSON-able."""

    def __init__(self, reason: Text, report: dict[str, Any]):
        super().__init__("churn", reason, COLUMN_KINDS, jsonable({**report, "declined": dict(reason)}))


@dataclass(kw_only=True)
class ChurnResult(StageResult):
    """The churn stage's products: ``columns`` (``customer_id`` + :data:`OUTPUT_COLUMNS`, one row per customer
    of the customer table), ``record`` (``churn.json``), ``tables`` for the page (metrics, reliability, gains,
    importance, bands, lifecycle, warning_list), ``features`` (today's) and ``labels``: the names of categories
    in both languages (``bands`` by key, ``lifecycle`` stages by their English label), each ``{en, zh}``."""

    stage: ClassVar[str] = "churn"

    features: pd.DataFrame | None = None
    labels: dict[str, dict[str, Text]] = field(default_factory=dict)

    def summary(self, lang: str = "en") -> str:
        """The managers' bullets in ``lang`` (:func:`analysis.churn.describe.summary`)."""
        from analysis.churn import describe

        return describe.summary(self, lang)


@dataclass
class Judgement:
    """The scorers judged on the later cut-off: the metrics ``table`` (a row per scorer), the ``chosen`` scorer
    (by ``by``), the ``final`` model scoring customers today (fitted on ``columns``), the later cut-off's labels
    ``y_ev`` and the chosen scorer's probabilities ``p_ev``, the permutation ``importance`` of the ``explainer``
    model, the training cut-off's churn rate and customers, and the warnings found on the way."""

    table: pd.DataFrame
    chosen: str
    by: str
    final: Any
    columns: pd.Index
    y_ev: pd.Series
    p_ev: np.ndarray
    importance: pd.DataFrame
    explainer: str
    train_rate: float
    n_train: int
    warnings: list[Text]


def churn_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The ``churn`` section of the validated settings, its scorers and the metric that picks one checked."""
    cfg = dict(config["churn"])
    models = cfg["models"] or []
    models = [models] if isinstance(models, str) else list(models)
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise UserError(f"unknown churn.models {unknown}: use {', '.join(MODELS)}")
    cfg["models"] = models
    if cfg["choose_by"] not in CHOOSE_BY:
        raise UserError(f"unknown churn.choose_by {cfg['choose_by']!r}: use roc_auc, pr_auc, brier or log_loss")
    return cfg


def run(prepared: Inputs, config: dict[str, Any]) -> ChurnResult:
    """The churn stage (module docstring) on the prepared run: its purchases (:data:`TRANSACTION_COLUMNS`), the
    customer table (its ids decide the rows; earlier stages' ``clv``, ``tier``, ``lifecycle_stage``, ... are used
    when present), the returned lines (the return share feature) and the as-of date; ``config``: the validated
    settings (``churn``, ``clv.holdout``, ``lifecycle``)."""
    cfg = churn_settings(config)
    threads = cfg["threads"]
    # BLAS on one thread: the linear models' matrices are small, so more threads only add overhead (and wait
    # for each other on a busy machine), and the numbers then do not depend on the machine's core count
    openmp = threadpool_limits(limits=threads, user_api="openmp") if threads else contextlib.nullcontext()
    with threadpool_limits(limits=1, user_api="blas"), openmp:
        tx = prepared.read_transactions(TRANSACTION_COLUMNS)
        return _run(tx, prepared.customers, prepared.as_of, prepared.returns, config, cfg)


def _day(date) -> str:
    return str(pd.Timestamp(date).date())


def _purchase_days(transactions: pd.DataFrame, as_of: pd.Timestamp) -> tuple[DailyPurchases, pd.Timestamp]:
    """The purchase days up to the as-of date and the first purchase; declines without a purchase by then."""
    after = transactions["timestamp"] >= as_of + pd.Timedelta(days=1)
    tx = transactions[~after] if after.any() else transactions  # no copy when nothing is after the as-of date
    if len(tx) == 0:
        raise ChurnDeclined({"en": f"No purchase on or before {as_of.date()}, so there is no churn to model.",
                             "zh": f"{as_of.date()} 及之前没有任何购买，无从分析流失。"}, {"as_of": as_of})  # fmt: skip
    return daily_purchases(tx), tx["timestamp"].min()


def _opening(plan: CutoffPlan, cfg: dict[str, Any], as_of: pd.Timestamp) -> dict[str, Any]:
    """The record's first entries: the horizon, the trend window, the cut-offs, the plan's notes, the seed."""
    return {
        "as_of": as_of,
        "horizon_days": plan.horizon_days,
        "trend_window_days": int(cfg["trend_window_days"] or plan.horizon_days),
        "cutoffs": {"train": plan.train, "evaluation": plan.evaluation, "score": as_of},
        "warnings": list(plan.notes),
        "fallback": False,  # always: the stage declines instead of scoring by an unchecked rule (kept for readers)
        "seed": int(cfg["seed"]),
    }


def _run(transactions, customers, as_of, returns, config, cfg) -> ChurnResult:
    """:func:`run` on the frames it read, inside the thread limits."""
    as_of = pd.Timestamp(as_of).normalize()
    daily, first = _purchase_days(transactions, as_of)
    del transactions  # the purchase days hold what the stage needs of the purchases
    plan = plan_cutoffs(first, as_of, config)
    record = _opening(plan, cfg, as_of)
    if not plan.ok:
        raise ChurnDeclined(plan.reason, record)
    # the purchase-day customer (code into daily.ids) of each row of the customer table, -1 without purchase
    where = daily.ids.get_indexer(customers["customer_id"].astype(str))
    features = partial(
        cutoff_features,
        daily,
        horizon_days=plan.horizon_days,
        trend_days=record["trend_window_days"],
        attributes=customer_attributes(customers, where, daily.n_customers),
        returns=returns,
        penalizer=cfg["penalizer"],
    )
    judged = _evaluate(daily, plan, features, cfg, record)
    # today's features once the cut-offs' are let go (one frame of every customer at a time); their warnings
    # come before the cut-offs' all the same
    X_now, warns = features(as_of)
    now = [{"en": f"as-of date: {w['en']}", "zh": f"分析日期：{w['zh']}"} for w in warns]
    record["warnings"] += now + judged.warnings
    spend = warning.yearly_spend(daily, as_of)
    del daily, features  # not needed for the reasons and texts of every customer
    judgement, tables = _judged(judged, cfg)
    risk_now = churn_probability(judged.final, X_now, judged.columns)
    scored = Scored(X_now, risk_now, spend, where)
    return _finish(scored, judged.importance, customers, cfg, config, {**record, **judgement}, tables)


def _labelled(daily, cutoff, plan: CutoffPlan, features) -> tuple[pd.DataFrame, pd.Series, list[Text]]:
    """The features, the churn label and the warnings (named by the cut-off) at ``cutoff``."""
    X, warns = features(cutoff)
    y = churn_labels(daily, cutoff, plan.horizon_days)  # the customers of X, in the same order (sorted by id)
    when = _day(cutoff)
    return X, y, [{"en": f"cut-off {when}: {w['en']}", "zh": f"截止日 {when}：{w['zh']}"} for w in warns]


def _check_classes(cutoff, y: pd.Series, need: int, report: dict) -> None:
    """Decline when the cut-off has fewer than ``need`` churners or stayers."""
    churners, stayers = int(y.sum()), int(len(y) - y.sum())
    if min(churners, stayers) >= need:
        return
    when, horizon = _day(cutoff), report["horizon_days"]
    raise ChurnDeclined({
        "en": f"Of the customers known on {when}, {churners:,} stopped buying in the {horizon} days after it and "
              f"{stayers:,} bought again; learning and checking a churn score needs at least {need:,} of each "
              "(churn.min_class_customers), so no churn risk is given.",
        "zh": f"在 {when} 已有的客户中，之后 {horizon} 天内 {churners:,} 位停止购买、{stayers:,} 位再次购买；"
              f"训练和检验流失评分两者都至少需要 {need:,} 位（churn.min_class_customers），因此不给出流失风险。",
    }, report)  # fmt: skip


def _failed(errors: dict[str, Text]) -> list[Text]:
    """A warning per scorer that could not be fitted, its reason quoted."""
    return [{"en": f"{MODEL_NAMES[n]['en']} failed: {e['en']}", "zh": f"{MODEL_NAMES[n]['zh']}：{e['zh']}"}
            for n, e in errors.items()]  # fmt: skip


def _evaluate(daily, plan: CutoffPlan, features, cfg, record) -> Judgement:
    """Train on the first cut-off, judge on the second, refit the chosen scorer on the second; declines
    (:class:`ChurnDeclined`, with ``record`` and the warnings so far) when a cut-off has too few churners or
    stayers, nothing could be fitted or no scorer is better than chance. ``features(cutoff)``: the features and
    warnings at a cut-off."""
    seed = int(cfg["seed"])
    X_tr, y_tr, warns = _labelled(daily, plan.train, plan, features)
    X_tr = X_tr.loc[:, X_tr.notna().any()]  # a feature empty at the training cut-off (e.g. P(alive)) is left out
    # the scorers are fitted on a sample of the training customers: only it is kept while the later cut-off's
    # features are computed (fit_scorers takes all of a sample that size, so it is fitted on the same rows)
    rows = training_sample(y_tr, int(cfg["max_train_customers"]), seed)
    X_fit, y_fit = X_tr.iloc[rows], y_tr.iloc[rows]
    del X_tr
    X_ev, y_ev, later = _labelled(daily, plan.evaluation, plan, features)
    warns += later
    so_far = {**record, "warnings": [*record["warnings"], *warns]}  # a decline's record (it keeps growing)
    need = int(cfg["min_class_customers"])
    _check_classes(plan.train, y_tr, need, so_far)
    _check_classes(plan.evaluation, y_ev, need, so_far)
    fitted, errors = fit_scorers(X_fit, y_fit, [*cfg["models"], *BASELINES], cfg, seed)
    so_far["warnings"] += _failed(errors)
    if not fitted:
        raise ChurnDeclined({
            "en": f"No churn score could be fitted on the purchases up to {_day(plan.train)}, "
                  "so no churn risk is given.",
            "zh": f"基于截至 {_day(plan.train)} 的购买记录无法拟合任何流失评分，因此不给出流失风险。",
        }, so_far)  # fmt: skip
    scores = {n: churn_probability(m, X_ev, X_fit.columns) for n, m in fitted.items()}
    table = _judge(y_ev, scores, errors, cfg, seed)
    flat, said = _flat(scores)
    so_far["warnings"] += said
    _check_chance(table, plan, cfg["evaluation"], flat, so_far)
    chosen, explainer = _choose(table, cfg, fitted)
    ev = cfg["evaluation"]
    importance = reasons.importance_table(fitted[explainer], X_ev, y_ev, X_fit.columns, int(ev["importance_repeats"]),
                                          int(ev["importance_max_customers"]), seed)  # fmt: skip
    final, columns, refit = _refit(X_ev, y_ev, chosen, fitted[chosen], X_fit.columns, cfg, seed)
    return Judgement(table, chosen, cfg["choose_by"], final, columns, y_ev, scores[chosen], importance, explainer,
                     float(y_tr.mean()), len(y_tr), so_far["warnings"][len(record["warnings"]):] + refit)  # fmt: skip


def _choose(table: pd.DataFrame, cfg: dict[str, Any], fitted: dict[str, Any]) -> tuple[str, str]:
    """The scorer that scores customers (the best by ``choose_by``) and the model whose permutation importance
    explains them (the chosen one when it is a model, else the best fitted model, else the chosen baseline)."""
    by = cfg["choose_by"]
    chosen = evaluate.choose(table, by)
    models_fitted = [n for n in cfg["models"] if n in fitted]
    if chosen in MODELS or not models_fitted:
        return chosen, chosen
    return chosen, evaluate.choose(table.loc[models_fitted], by)


def _refit(X_ev, y_ev, chosen: str, trained, trained_columns, cfg, seed) -> tuple[Any, pd.Index, list[Text]]:
    """The chosen scorer refitted on the later cut-off, the columns it was fitted on and, when the refit fails,
    the model trained on the earlier cut-off with a warning."""
    X_last = X_ev.loc[:, X_ev.notna().any()]
    refit, errors = fit_scorers(X_last, y_ev, [chosen], cfg, seed)
    if chosen in refit:
        return refit[chosen], X_last.columns, []
    said = errors[chosen]
    return trained, trained_columns, [{
        "en": f"the refit on the later cut-off failed ({said['en']}): customers are scored by the model trained on "
              "the earlier cut-off",
        "zh": f"在较晚截止日上的重新拟合失败（{said['zh']}）：客户由较早截止日训练的模型评分",
    }]  # fmt: skip


def _judge(y_ev: pd.Series, scores: dict[str, np.ndarray], errors: dict[str, Text], cfg: dict, seed: int):
    """Every scorer's metrics on the later cut-off (``scores``: each fitted scorer's probabilities for its
    customers ``y_ev``), one row per scorer in the configured order, models then baselines; a scorer that could
    not be fitted keeps its row with the reason (``errors``) in ``note`` (English) and ``note_zh``."""
    ev = cfg["evaluation"]
    n_boot, bins = int(ev["bootstrap"]), int(ev["reliability_bins"])
    table = evaluate.compare(y_ev.to_numpy(), scores, n_boot, float(ev["interval"]), seed, bins)
    table["note"] = table["note_zh"] = ""
    for name, error in errors.items():
        table.loc[name, ["note", "note_zh"]] = [error["en"], error["zh"]]
    table = table.reindex([n for n in [*cfg["models"], *BASELINES] if n in table.index])
    table.insert(0, "kind", ["model" if n in MODELS else "baseline" for n in table.index])
    return table


def _flat(scores: dict[str, np.ndarray]) -> tuple[set[str], list[Text]]:
    """The scorers that gave every customer of the later cut-off the same score (such as 1 - P(alive) when the
    purchase model behind it finds nobody likely to have stopped): they rank nobody; and a warning for each."""
    flat, said = set(), []
    for name, p in scores.items():
        p = np.asarray(p, float)
        p = p[np.isfinite(p)]
        if len(p) and p.min() == p.max():
            flat.add(name)
            said.append({
                "en": f"{MODEL_NAMES[name]['en']} gave every customer of the later cut-off the same score "
                      f"({p[0]:.3f}): it ranks nobody, and its ROC-AUC of 0.5 is that of a coin",
                "zh": f"{MODEL_NAMES[name]['zh']}在较晚截止日上给每位客户的评分都相同（{p[0]:.3f}）："
                      "它无法区分任何客户，其 ROC-AUC 为 0.5，与抛硬币无异",
            })  # fmt: skip
    return flat, said


def scorer_report(table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Each scorer's metrics on the later cut-off, named in both languages (``churn.json``'s scorers)."""
    return {n: {"label": MODEL_NAMES[n]["en"], "label_zh": MODEL_NAMES[n]["zh"], **row}
            for n, row in table.to_dict(orient="index").items()}  # fmt: skip


def _check_chance(table: pd.DataFrame, plan: CutoffPlan, ev: dict[str, Any], flat: set[str], report: dict) -> None:
    """Decline unless some scorer (model or baseline) ranks leavers above stayers better than chance on the
    later cut-off: its ROC-AUC interval lies above :data:`CHANCE` (the ROC-AUC itself without a bootstrap,
    ``evaluation.bootstrap: 0``). The reason names the best of them (the highest ROC-AUC among those that do not
    give everyone the same score, ``flat``) and its interval."""
    judged = int(ev["bootstrap"]) > 0
    if (table["roc_auc_low" if judged else "roc_auc"].astype(float) > CHANCE).any():
        return
    auc = table["roc_auc"].astype(float).drop(index=[n for n in flat if n in table.index])
    best_en = best_zh = ""
    if auc.notna().any():
        best = table.loc[auc.idxmax()]
        name = MODEL_NAMES[best.name]
        ci = ci_zh = ""
        if judged and pd.notna(best["roc_auc_low"]) and pd.notna(best["roc_auc_high"]):
            low, high, interval = best["roc_auc_low"], best["roc_auc_high"], float(ev["interval"])
            ci = f" ({interval:.0%} interval {low:.0%} to {high:.0%})"
            ci_zh = f"（{interval:.0%} 区间 {low:.0%} 至 {high:.0%}）"
        best_en = (f": the best of them ({name['en']}) put a customer who stopped above one who "
                   f"stayed {best['roc_auc']:.0%} of the time{ci}, where 50% is guessing")  # fmt: skip
        best_zh = (f"：其中最好的（{name['zh']}）把停止购买的客户排在留存客户之前的把握为 "
                   f"{best['roc_auc']:.0%}{ci_zh}，而随机猜测为 50%")  # fmt: skip
    when = _day(plan.evaluation)
    raise ChurnDeclined({
        "en": f"No churn score ranked the customers who stopped buying above those who stayed better than guessing "
              f"when checked on {when}{best_en}; so no churn risk or call list is given.",
        "zh": f"在 {when} 的检验中，没有任何流失评分能比随机猜测更好地把停止购买的客户排在留存客户之前{best_zh}；"
              "因此不给出流失风险和联系名单。",
    }, {**report, "scorers": scorer_report(table)})  # fmt: skip


def _judged(judged: Judgement, cfg: dict) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """The record's entries on the judgement on the later cut-off (the choice, every scorer, reliability, gains,
    importance, a calibration warning) and the page's tables of it."""
    table, chosen = judged.table, judged.chosen
    ev = cfg["evaluation"]
    y_ev, p_ev = judged.y_ev.to_numpy(), judged.p_ev
    tables = {
        "metrics": table,
        "reliability": evaluate.reliability_table(y_ev, p_ev, int(ev["reliability_bins"])),
        "gains": evaluate.gains_table(y_ev, p_ev),
        "importance": judged.importance,
    }
    ece, limit = table.loc[chosen, "expected_calibration_error"], float(ev["calibration_warning"])
    calibration = [{
        "en": f"the chosen scorer's probabilities are off by {ece:.3f} on average on the evaluation cut-off "
              f"(expected calibration error above {limit})",
        "zh": f"所选评分的概率在检验日期上平均偏差 {ece:.3f}（期望校准误差高于 {limit}）",
    }] if ece > limit else []  # fmt: skip
    return {
        "chosen_scorer": chosen,
        "choose_by": judged.by,
        "scorers": scorer_report(table),
        "customers_train": judged.n_train,
        "customers_evaluation": len(y_ev),
        "churn_rate_train": judged.train_rate,
        "bootstrap_resamples": int(ev["bootstrap"]),
        "importance_model": judged.explainer,
        "importance": judged.importance["importance"].head(15).to_dict(),
        "reliability": tables["reliability"].to_dict(orient="records"),
        "gains": tables["gains"].to_dict(orient="records"),
        "calibration_warnings": calibration,
    }, tables


@dataclass
class Scored:
    """Today's scores: ``features`` and ``risk`` of every customer who bought by the as-of date (in the order of
    the purchase days' ids), as is ``spend`` (their spend in the year up to the as-of date); ``where``: each
    customer of the customer table's row of them, -1 without purchase."""

    features: pd.DataFrame
    risk: np.ndarray
    spend: np.ndarray
    where: np.ndarray

    def per_customer(self, values) -> np.ndarray:
        """``values`` (one per scored customer) for each customer of the customer table, NaN without purchase."""
        values = np.asarray(values, float)
        return np.where(self.where >= 0, values[self.where], np.nan)


def _lifecycle(customers: pd.DataFrame, feats: pd.DataFrame, config: dict) -> pd.Series:
    """Each customer's lifecycle stage (English label): the segments page's when it ran, else from ``feats``
    (today's features, one row per customer of the table)."""
    if "lifecycle_stage" in customers:
        return customers["lifecycle_stage"].reset_index(drop=True)
    from analysis.segments.lifecycle import lifecycle

    frame = pd.DataFrame(
        {
            "purchase_days": feats["purchase_days"].fillna(0),
            "mean_gap_days": feats["mean_gap_days"],
            "recency_days": feats["recency_days"],
            "frequency": feats["orders"].fillna(0),
            "tenure_days": feats["tenure_days"],
        }
    )
    labels = {k: v[0] for k, v in config["lifecycle"]["labels"].items()}
    return lifecycle(frame, config["lifecycle"])[0].map(labels)


def _customer_columns(scored: Scored, importance, customers, cfg, record) -> tuple[pd.DataFrame, np.ndarray, Any]:
    """The stage's columns for every customer of the customer table (``customer_id`` + :data:`OUTPUT_COLUMNS`),
    their band codes (:data:`analysis.churn.warning.BAND_ORDER`) and the features the reasons used (for the
    lifecycle stages when the segments page did not run)."""
    risk = pd.Series(scored.per_customer(scored.risk))
    code = warning.band_codes(risk.to_numpy(), cfg["bands"])
    band_en, band_zh = warning.band_texts(code, cfg["bands"])
    X_now = scored.features
    used = [c for c in (*reasons.FEATURES_USED, "orders", "tenure_days") if c in X_now]
    feats = pd.DataFrame({c: scored.per_customer(X_now[c].to_numpy()) for c in used})  # not every column of 1M rows
    at_risk = code <= warning.BAND_ORDER.index("medium")
    horizon, trend = record["horizon_days"], record["trend_window_days"]
    why_en, why_zh = reasons.customer_reasons(feats, cfg["reasons"], horizon, trend, importance, at_risk)
    clv = pd.Series(customers["clv"].to_numpy(float)) if "clv" in customers else None
    var, source = warning.value_at_risk(risk, clv, pd.Series(scored.per_customer(scored.spend)))
    out = pd.DataFrame({
        "customer_id": customers["customer_id"].astype(str).array, "churn_risk": risk, "risk_band": band_en,
        "risk_band_zh": band_zh, "churn_reasons": why_en, "churn_reasons_zh": why_zh, "value_at_risk": var,
    })  # fmt: skip
    return out, code, (feats, source[risk.notna()].value_counts().to_dict())


def _bands(work: pd.DataFrame, labels: dict[str, Text], bands_cfg: dict) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Customers, mean risk and value at risk per risk band (named in both languages), and its record entry."""
    bands = work.groupby("risk_band_key").agg(
        customers=("churn_risk", "size"), mean_risk=("churn_risk", "mean"), value_at_risk=("value_at_risk", "sum")
    )
    bands = bands.reindex([b for b in warning.BAND_ORDER if b in bands.index])
    bands.insert(0, "band_zh", [labels[b]["zh"] for b in bands.index])
    bands.insert(0, "band", [labels[b]["en"] for b in bands.index])
    entry = {"method": bands_cfg["method"], "high": bands_cfg["high"], "medium": bands_cfg["medium"],
             "counts": bands.drop(columns=["band", "band_zh"]).to_dict(orient="index")}  # fmt: skip
    return bands, entry


def category_labels(cfg: dict[str, Any], config: dict[str, Any]) -> dict[str, dict[str, Text]]:
    """The names of the risk bands (by key, ``churn.bands.labels``) and of the lifecycle stages (by their English
    label, ``lifecycle.labels``), each ``{en, zh}``."""
    bands = dict(zip(warning.BAND_ORDER, warning.band_names(cfg["bands"]), strict=True))
    stages = {str(v[0]): {"en": str(v[0]), "zh": str(v[1])} for v in config["lifecycle"]["labels"].values()}
    return {"bands": bands, "lifecycle": stages}


def _finish(scored: Scored, importance, customers, cfg, config, record, tables) -> ChurnResult:
    """Bands, reasons, value at risk, the warning list and the lifecycle cross-tab for every customer of the
    customer table (``scored``: today's scores); the customer table's columns are used row by row, in its own
    order. ``record`` and ``tables``: the judgement's, completed here into the result."""
    out, code, (feats, basis) = _customer_columns(scored, importance, customers, cfg, record)
    stage = _lifecycle(customers, feats, config)
    del feats  # the customer features let go before the lists and tables
    key = pd.Series(warning.text_column(warning.BAND_ORDER, code))
    work = out.assign(risk_band_key=key)
    extra = [c for c in ("customer_name", *warning.CONTEXT_COLUMNS) if c in customers]
    work = pd.concat([work, customers[extra].reset_index(drop=True)], axis=1)
    size = int(cfg["warning_list"]["size"])
    labels = category_labels(cfg, config)
    bands, bands_entry = _bands(work, labels["bands"], cfg["bands"])
    lifecycle, found = warning.lifecycle_crosstab(stage, key, list(labels["lifecycle"]))
    tables = {**tables, "bands": bands, "lifecycle": lifecycle, "warning_list": warning.warning_list(work, size)}
    risk = out["churn_risk"]
    calibration = record.pop("calibration_warnings")  # the last warnings; "warnings" keeps its place in the record
    record = {
        **record, "warnings": [*record["warnings"], *calibration], "warning_list": warning.list_coverage(work, size),
        "value_at_risk_basis": basis, "bands": bands_entry, "disagreements": found,
        "lifecycle_crosstab": lifecycle.to_dict(orient="index"), "customers_scored": int(risk.notna().sum()),
        "customers_without_purchase": int(risk.isna().sum()),
        "mean_risk": float(risk.mean()) if risk.notna().any() else math.nan, "features": list(scored.features.columns),
    }  # fmt: skip
    return ChurnResult(columns=out, record=jsonable(record), tables=tables, features=scored.features, labels=labels)
