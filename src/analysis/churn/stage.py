"""The churn stage of a report run (:func:`run_churn`: cut-offs, features, models and baselines trained on
one cut-off and judged on a later one, the refit that scores every customer today, reasons, risk bands,
value at risk and the early-warning list) and its summary for managers.

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
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from analysis.churn import evaluate, reasons, warning
from analysis.churn.describe import choice_sentence
from analysis.churn.features import customer_attributes, cutoff_features, daily_purchases
from analysis.churn.labels import CutoffPlan, churn_labels, plan_cutoffs
from analysis.churn.models import (
    BASELINES,
    MODEL_LABELS,
    MODEL_LABELS_ZH,
    MODELS,
    churn_probability,
    fit_scorers,
    training_sample,
)
from analysis.errors import StageDeclined, UserError
from analysis.jsonable import jsonable

TRANSACTION_COLUMNS = ("customer_id", "order_id", "timestamp", "amount")  # what the stage reads of the purchases
OUTPUT_COLUMNS = ("churn_risk", "risk_band", "risk_band_zh", "churn_reasons", "churn_reasons_zh", "value_at_risk")
# each column's kind, for the empty columns of a declined stage
COLUMN_KINDS = {c: "number" if c in ("churn_risk", "value_at_risk") else "text" for c in OUTPUT_COLUMNS}
CHANCE = 0.5  # the ROC-AUC of guessing: a scorer counts only when its interval on the later cut-off lies above


class ChurnDeclined(StageDeclined):
    """The churn stage declined: ``reason`` says why ({en, zh}); ``report`` holds what was found on the way (the
    cut-offs and, when they were judged, every scorer's metrics on the later cut-off), JSON-able."""

    def __init__(self, reason: dict[str, str], report: dict[str, Any]):
        super().__init__("churn", reason, COLUMN_KINDS, jsonable({**report, "declined": dict(reason)}))


def churn_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The ``churn`` section of a merged config, checked."""
    cfg = dict(config.get("churn") or {})
    if not cfg:
        raise UserError("the config has no churn section (defaults/churn.yaml)")
    models = cfg.get("models") or []
    models = [models] if isinstance(models, str) else list(models)
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise UserError(f"unknown churn.models {unknown}: use {', '.join(MODELS)}")
    cfg["models"] = models
    if cfg.get("choose_by", "brier") not in ("roc_auc", "pr_auc", "brier", "log_loss"):
        raise UserError(f"unknown churn.choose_by {cfg['choose_by']!r}: use roc_auc, pr_auc, brier or log_loss")
    return cfg


def definition(horizon: int) -> dict[str, str]:
    """The churn definition in one sentence, English and Chinese."""
    return {
        "en": f"A customer counts as churned when they make no purchase in the {horizon} days after a date.",
        "zh": f"客户在某日期之后 {horizon} 天内没有任何购买，即视为流失。",
    }


@dataclass
class ChurnRun:
    """The stage's products: ``customers`` (``customer_id`` + :data:`OUTPUT_COLUMNS`, one row per customer
    of the customer table), ``report`` (what goes in ``churn.json``), ``tables`` for the page
    (metrics, reliability, gains, importance, bands, lifecycle, warning_list) and ``features`` (today's)."""

    customers: pd.DataFrame
    report: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    features: pd.DataFrame | None = None
    # names of categories in English and Chinese: risk bands by key, lifecycle stages by their English label
    labels: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)


def _warning(en: str, zh: str | None = None) -> dict[str, str]:
    """A warning for the page and ``churn.json`` in both languages (a machine-made message, such as a
    fit's error, stays in English in both)."""
    return {"en": en, "zh": zh or en}


def _labelled(daily, cutoff, plan: CutoffPlan, features) -> tuple[pd.DataFrame, pd.Series, list]:
    X, warns = features(cutoff)
    y = churn_labels(daily, cutoff, plan.horizon_days)  # the customers of X, in the same order (sorted by id)
    return X, y, [f"cut-off {pd.Timestamp(cutoff).date()}: {w}" for w in warns]


def _day(date) -> str:
    return str(pd.Timestamp(date).date())


def _check_classes(name: str, cutoff, y: pd.Series, need: int, report: dict) -> None:
    """Decline when the cut-off ``name`` (training or evaluation) has fewer than ``need`` churners or stayers."""
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


def _evaluate(daily, plan: CutoffPlan, features, cfg, report) -> dict[str, Any]:
    """Train on the first cut-off, judge on the second, refit the chosen scorer on the second; declines
    (:class:`ChurnDeclined`) when a cut-off has too few churners or stayers, nothing could be fitted or no scorer
    is better than chance. ``features(cutoff)``: the features and warnings at a cut-off."""
    seed = int(cfg.get("seed", 42))
    X_tr, y_tr, w1 = _labelled(daily, plan.train, plan, features)
    X_tr = X_tr.loc[:, X_tr.notna().any()]  # a feature empty at the training cut-off (e.g. P(alive)) is left out
    # the scorers are fitted on a sample of the training customers: only it is kept while the later cut-off's
    # features are computed (fit_scorers takes all of a sample that size, so it is fitted on the same rows)
    rows = training_sample(y_tr, int(cfg.get("max_train_customers", 50_000)), seed)
    X_fit, y_fit = X_tr.iloc[rows], y_tr.iloc[rows]
    del X_tr
    X_ev, y_ev, w2 = _labelled(daily, plan.evaluation, plan, features)
    report["warnings"] += [_warning(w) for w in w1 + w2]
    need = int(cfg["min_class_customers"])
    _check_classes("training", plan.train, y_tr, need, report)
    _check_classes("evaluation", plan.evaluation, y_ev, need, report)
    fitted, errors = fit_scorers(X_fit, y_fit, [*cfg["models"], *BASELINES], cfg, seed)
    report["warnings"] += [
        _warning(f"{MODEL_LABELS[n]} failed: {e}", f"{MODEL_LABELS_ZH[n]} 拟合失败：{e}") for n, e in errors.items()
    ]
    if not fitted:
        raise ChurnDeclined({
            "en": f"No churn score could be fitted on the purchases up to {_day(plan.train)}, "
                  "so no churn risk is given.",
            "zh": f"基于截至 {_day(plan.train)} 的购买记录无法拟合任何流失评分，因此不给出流失风险。",
        }, report)  # fmt: skip
    scores = {n: churn_probability(m, X_ev, X_fit.columns) for n, m in fitted.items()}
    ev = cfg.get("evaluation") or {}
    n_boot = int(ev.get("bootstrap", 200))
    bins = int(ev.get("reliability_bins", 10))
    table = _judge(y_ev, scores, errors, cfg, seed)
    _check_chance(table, plan, n_boot, float(ev.get("interval", 0.9)), _flat(scores, report), report)
    by = cfg.get("choose_by", "brier")
    chosen = evaluate.choose(table, by)
    models_fitted = [n for n in cfg["models"] if n in fitted]
    explainer = (
        chosen if chosen in MODELS else (evaluate.choose(table.loc[models_fitted], by) if models_fitted else chosen)
    )
    importance = reasons.importance_table(
        fitted[explainer],
        X_ev,
        y_ev,
        X_fit.columns,
        int(ev.get("importance_repeats", 2)),
        int(ev.get("importance_max_customers", 5_000)),
        seed,
    )
    X_last = X_ev.loc[:, X_ev.notna().any()]
    refit, refit_errors = fit_scorers(X_last, y_ev, [chosen], cfg, seed)
    final, columns = (refit[chosen], X_last.columns) if chosen in refit else (fitted[chosen], X_fit.columns)
    if chosen not in refit:
        report["warnings"].append(
            _warning(
                f"the refit on the later cut-off failed ({refit_errors.get(chosen)}): "
                "customers are scored by the model trained on the earlier cut-off",
                f"在较晚截止日上的重新拟合失败（{refit_errors.get(chosen)}）：客户由较早截止日训练的模型评分",
            )
        )
    return {
        "table": table,
        "chosen": chosen,
        "by": by,
        "n_boot": n_boot,
        "final": final,
        "columns": columns,
        "y_ev": y_ev,
        "p_ev": scores[chosen],
        "importance": importance,
        "explainer": explainer,
        "bins": bins,
        "train_rate": float(y_tr.mean()),
        "n_train": len(y_tr),
    }


def _judge(y_ev: pd.Series, scores: dict[str, np.ndarray], errors: dict[str, str], cfg: dict, seed: int):
    """Every scorer's metrics on the later cut-off (``scores``: each fitted scorer's probabilities for its
    customers ``y_ev``), one row per scorer in the configured order, models then baselines; a scorer that could
    not be fitted keeps its row with the reason (``errors``) in ``note``."""
    ev = cfg.get("evaluation") or {}
    n_boot, bins = int(ev.get("bootstrap", 200)), int(ev.get("reliability_bins", 10))
    table = evaluate.compare(y_ev.to_numpy(), scores, n_boot, float(ev.get("interval", 0.9)), seed, bins)
    table["note"] = ""
    for name, error in errors.items():
        table.loc[name, "note"] = error
    table = table.reindex([n for n in [*cfg["models"], *BASELINES] if n in table.index])
    table.insert(0, "kind", ["model" if n in MODELS else "baseline" for n in table.index])
    return table


def _flat(scores: dict[str, np.ndarray], report: dict) -> set[str]:
    """The scorers that gave every customer of the later cut-off the same score (such as 1 - P(alive) when the
    purchase model behind it finds nobody likely to have stopped): they rank nobody. Each is said in a warning."""
    flat = set()
    for name, p in scores.items():
        p = np.asarray(p, float)
        p = p[np.isfinite(p)]
        if len(p) and p.min() == p.max():
            flat.add(name)
            report["warnings"].append(_warning(
                f"{MODEL_LABELS[name]} gave every customer of the later cut-off the same score ({p[0]:.3f}): "
                "it ranks nobody, and its ROC-AUC of 0.5 is that of a coin",
                f"{MODEL_LABELS_ZH[name]}在较晚截止日上给每位客户的评分都相同（{p[0]:.3f}）：它无法区分任何客户，"
                "其 ROC-AUC 为 0.5，与抛硬币无异",
            ))  # fmt: skip
    return flat


def _scorer_report(table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Each scorer's metrics on the later cut-off, named in both languages (``churn.json``'s scorers)."""
    return {n: {"label": MODEL_LABELS[n], "label_zh": MODEL_LABELS_ZH[n], **row}
            for n, row in table.to_dict(orient="index").items()}  # fmt: skip


def _lower_bound(table: pd.DataFrame, n_boot: int) -> pd.Series:
    """What must lie above chance per scorer: the ROC-AUC interval's lower bound (the ROC-AUC itself when no
    bootstrap is run, ``evaluation.bootstrap: 0``); NaN for a scorer that was not fitted."""
    return table["roc_auc_low" if n_boot > 0 else "roc_auc"].astype(float)


def _check_chance(table: pd.DataFrame, plan: CutoffPlan, n_boot: int, interval: float, flat: set[str],
                  report: dict) -> None:  # fmt: skip
    """Decline unless some scorer (model or baseline) ranks leavers above stayers better than chance on the
    later cut-off: its ROC-AUC interval lies above :data:`CHANCE`. The reason names the best of them (the highest
    ROC-AUC among those that do not give everyone the same score, ``flat``) and its interval."""
    low = _lower_bound(table, n_boot)
    if (low > CHANCE).any():
        return
    report["scorers"] = _scorer_report(table)
    auc = table["roc_auc"].astype(float).drop(index=[n for n in flat if n in table.index])
    best = table.loc[auc.idxmax()] if auc.notna().any() else None
    when = _day(plan.evaluation)
    best_en = best_zh = ""
    if best is not None:
        judged = n_boot > 0 and pd.notna(best["roc_auc_low"]) and pd.notna(best["roc_auc_high"])
        ci = (f" ({interval:.0%} interval {best['roc_auc_low']:.0%} to {best['roc_auc_high']:.0%})"
              if judged else "")  # fmt: skip
        ci_zh = f"（{interval:.0%} 区间 {best['roc_auc_low']:.0%} 至 {best['roc_auc_high']:.0%}）" if judged else ""
        best_en = (f": the best of them ({MODEL_LABELS[best.name]}) put a customer who stopped above one who "
                   f"stayed {best['roc_auc']:.0%} of the time{ci}, where 50% is guessing")  # fmt: skip
        best_zh = (f"：其中最好的（{MODEL_LABELS_ZH[best.name]}）把停止购买的客户排在留存客户之前的把握为 "
                   f"{best['roc_auc']:.0%}{ci_zh}，而随机猜测为 50%")  # fmt: skip
    raise ChurnDeclined({
        "en": f"No churn score ranked the customers who stopped buying above those who stayed better than guessing "
              f"when checked on {when}{best_en}; so no churn risk or call list is given.",
        "zh": f"在 {when} 的检验中，没有任何流失评分能比随机猜测更好地把停止购买的客户排在留存客户之前{best_zh}；"
              "因此不给出流失风险和联系名单。",
    }, report)  # fmt: skip


def _lifecycle(customers: pd.DataFrame | None, feats: pd.DataFrame, config: dict) -> pd.Series:
    """Each customer's lifecycle stage (English label): the segments page's when it ran, else from ``feats``
    (today's features, one row per customer of the table)."""
    if customers is not None and "lifecycle_stage" in customers:
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


def run_churn(
    transactions: pd.DataFrame,
    customers: pd.DataFrame | None,
    as_of: Any,
    config: dict[str, Any],
    returns: pd.DataFrame | None = None,
) -> ChurnRun:
    """The churn stage (module docstring). ``transactions``: validated purchases; ``customers``: the customer
    table (its ids decide the rows; earlier stages' ``clv``, ``tier``, ``lifecycle_stage``, ... are used when
    present); ``returns``: optional returned lines (``customer_id``, ``timestamp``, ``amount``)."""
    threads = (config.get("churn") or {}).get("threads", 1)
    # BLAS on one thread: the linear models' matrices are small, so more threads only add overhead (and wait
    # for each other on a busy machine), and the numbers then do not depend on the machine's core count
    openmp = threadpool_limits(limits=threads, user_api="openmp") if threads else contextlib.nullcontext()
    with threadpool_limits(limits=1, user_api="blas"), openmp:
        return _run(transactions, customers, as_of, config, returns)


def _run(transactions, customers, as_of, config, returns) -> ChurnRun:
    cfg = churn_settings(config)
    as_of = pd.Timestamp(as_of).normalize()
    after = transactions["timestamp"] >= as_of + pd.Timedelta(days=1)
    tx = transactions[~after] if after.any() else transactions  # no copy when nothing is after the as-of date
    if len(tx) == 0:
        raise ChurnDeclined({"en": f"No purchase on or before {as_of.date()}, so there is no churn to model.",
                             "zh": f"{as_of.date()} 及之前没有任何购买，无从分析流失。"}, {"as_of": as_of})  # fmt: skip
    daily = daily_purchases(tx)
    plan = plan_cutoffs(tx["timestamp"].min(), as_of, config)
    del after, tx  # the purchase days hold what the stage needs of the purchases
    horizon = plan.horizon_days
    trend = int(cfg.get("trend_window_days") or horizon)
    report: dict[str, Any] = {
        "as_of": as_of,
        "horizon_days": horizon,
        "definition": definition(horizon),
        "trend_window_days": trend,
        "cutoffs": {"train": plan.train, "evaluation": plan.evaluation, "score": as_of},
        "warnings": [_warning(en, zh) for en, zh in plan.notes],
        "fallback": False,  # always: the stage declines instead of scoring by an unchecked rule (kept for readers)
        "seed": int(cfg.get("seed", 42)),
    }
    if not plan.ok:
        raise ChurnDeclined({"en": plan.reason, "zh": plan.reason_zh}, report)
    # the purchase-day customer (code into daily.ids) of each row of the customer table, -1 without purchase
    where = daily.ids.get_indexer(customers["customer_id"].astype(str)) if customers is not None else None
    features = partial(
        cutoff_features,
        daily,
        horizon_days=horizon,
        trend_days=trend,
        attributes=customer_attributes(customers, where, daily.n_customers),
        returns=returns,
        penalizer=cfg.get("penalizer", 0.0),
    )
    before_cutoffs = len(report["warnings"])
    result = _evaluate(daily, plan, features, cfg, report)
    # today's features once the cut-offs' are let go (one frame of every customer at a time); their warnings
    # come before the cut-offs' all the same
    X_now, warns = features(as_of)
    report["warnings"][before_cutoffs:before_cutoffs] = [_warning(f"as-of date: {w}", f"分析日期：{w}") for w in warns]
    spend = warning.yearly_spend(daily, as_of)
    del daily, features  # not needed for the reasons and texts of every customer
    tables = _judged(result, cfg, report)
    risk_now = churn_probability(result["final"], X_now, result["columns"])
    return _finish(X_now, risk_now, spend, result["importance"], customers, where, cfg, config, report, tables)


def _judged(result: dict[str, Any], cfg: dict, report: dict) -> dict[str, pd.DataFrame]:
    """The judgement on the later cut-off into ``report`` (the choice, every scorer, reliability, gains,
    importance, a calibration warning); returns the page's tables of it."""
    table, chosen = result["table"], result["chosen"]
    report["chosen_scorer"], report["choose_by"] = chosen, result["by"]
    report["choice"] = choice_sentence(table, chosen, result["by"])
    report["scorers"] = _scorer_report(table)
    report["customers_train"], report["customers_evaluation"] = result["n_train"], len(result["y_ev"])
    report["churn_rate_train"] = result["train_rate"]
    report["bootstrap_resamples"] = result["n_boot"]
    y_ev, p_ev = result["y_ev"].to_numpy(), result["p_ev"]
    tables = {"metrics": table}
    tables["reliability"] = evaluate.reliability_table(y_ev, p_ev, result["bins"])
    tables["gains"] = evaluate.gains_table(y_ev, p_ev)
    tables["importance"] = result["importance"]
    report["importance_model"] = result["explainer"]
    report["importance"] = result["importance"]["importance"].head(15).to_dict()
    report["reliability"] = tables["reliability"].to_dict(orient="records")
    report["gains"] = tables["gains"].to_dict(orient="records")
    ece = table.loc[chosen, "expected_calibration_error"]
    limit = float((cfg.get("evaluation") or {}).get("calibration_warning", 0.05))
    if ece > limit:
        report["warnings"].append(
            _warning(
                f"the chosen scorer's probabilities are off by {ece:.3f} on average on the "
                f"evaluation cut-off (expected calibration error above {limit})",
                f"所选评分的概率在检验日期上平均偏差 {ece:.3f}（期望校准误差高于 {limit}）",
            )
        )
    return tables


def _finish(X_now, risk_now, spend, importance, customers, where, cfg, config, report, tables):
    """Bands, reasons, value at risk, the warning list and the lifecycle cross-tab for every customer of the
    customer table (``where``: each one's row of ``X_now``, -1 without purchase; None: ``X_now``'s customers).
    Every customer who bought by the as-of date is a row of ``X_now``, in the order of the purchase days'
    ids, as is ``spend`` (their spend in the year up to the as-of date); the customer table's columns are used
    row by row, in its own order."""

    def per_customer(values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, float)
        return values if where is None else np.where(where >= 0, values[where], np.nan)

    ids = customers["customer_id"].astype(str).array if customers is not None else X_now.index.array
    risk = pd.Series(per_customer(risk_now))
    bands_cfg = cfg.get("bands") or {}
    code = warning.band_codes(risk.to_numpy(), bands_cfg)
    band_en, band_zh = warning.band_texts(code, bands_cfg)
    used = [c for c in (*reasons.FEATURES_USED, "orders", "tenure_days") if c in X_now]
    feats = pd.DataFrame({c: per_customer(X_now[c].to_numpy()) for c in used})  # not every column of 1M rows
    at_risk = code <= warning.BAND_ORDER.index("medium")
    horizon, trend = report["horizon_days"], report["trend_window_days"]
    why_en, why_zh = reasons.customer_reasons(feats, cfg.get("reasons") or {}, horizon, trend, importance, at_risk)
    stage = _lifecycle(customers, feats, config)
    del feats  # the customer features and the value basis (texts) let go before the lists and tables
    clv = pd.Series(customers["clv"].to_numpy(float)) if customers is not None and "clv" in customers else None
    var, source = warning.value_at_risk(risk, clv, pd.Series(per_customer(spend)))
    basis = source[risk.notna()].value_counts().to_dict()
    del source
    out = pd.DataFrame(
        {
            "customer_id": ids,
            "churn_risk": risk,
            "risk_band": band_en,
            "risk_band_zh": band_zh,
            "churn_reasons": why_en,
            "churn_reasons_zh": why_zh,
            "value_at_risk": var,
        }
    )
    key = pd.Series(warning.text_column(warning.BAND_ORDER, code))
    work = out.assign(risk_band_key=key)
    if customers is not None:
        extra = [c for c in ("customer_name", *warning.CONTEXT_COLUMNS) if c in customers]
        work = pd.concat([work, customers[extra].reset_index(drop=True)], axis=1)
    size = int((cfg.get("warning_list") or {}).get("size", 30))
    tables["warning_list"] = warning.warning_list(work, size)
    report["warning_list"] = warning.list_coverage(work, size)
    report["value_at_risk_basis"] = basis
    bands = work.groupby("risk_band_key").agg(
        customers=("churn_risk", "size"), mean_risk=("churn_risk", "mean"), value_at_risk=("value_at_risk", "sum")
    )
    bands = bands.reindex([b for b in warning.BAND_ORDER if b in bands.index])
    band_names = warning.band_labels(pd.Series(bands.index, index=bands.index), bands_cfg)
    bands.insert(0, "band_zh", band_names[1])
    bands.insert(0, "band", band_names[0])
    tables["bands"] = bands
    report["bands"] = {
        "method": bands_cfg.get("method"),
        "high": bands_cfg.get("high"),
        "medium": bands_cfg.get("medium"),
        "counts": bands.drop(columns=["band", "band_zh"]).to_dict(orient="index"),
    }
    keys = pd.Series(warning.BAND_ORDER, index=warning.BAND_ORDER)
    labels = {"bands": dict(zip(keys.index, zip(*warning.band_labels(keys, bands_cfg), strict=True), strict=True)),
              "lifecycle": {str(v[0]): (str(v[0]), str(v[1])) for v in config["lifecycle"]["labels"].values()}}
    tables["lifecycle"], found = warning.lifecycle_crosstab(stage, key, list(labels["lifecycle"]))
    for d in found:  # the two signals named in both languages
        d["lifecycle_stage_zh"] = labels["lifecycle"].get(d["lifecycle_stage"], (d["lifecycle_stage"],) * 2)[1]
        d["risk_band_label"], d["risk_band_zh"] = labels["bands"][d["risk_band"]]
    report["disagreements"] = found
    report["lifecycle_crosstab"] = tables["lifecycle"].to_dict(orient="index")
    report["customers_scored"] = int(risk.notna().sum())
    report["customers_without_purchase"] = int(risk.isna().sum())
    report["mean_risk"] = float(risk.mean()) if risk.notna().any() else math.nan
    report["features"] = list(X_now.columns)
    return ChurnRun(out, jsonable(report), tables, X_now, labels)
