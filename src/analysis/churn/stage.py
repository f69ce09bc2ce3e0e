"""The churn stage of a report run (:func:`run_churn`: cut-offs, features, models and baselines trained on
one cut-off and judged on a later one, the refit that scores every customer today, reasons, risk bands,
value at risk and the early-warning list) and its summary for managers.

Too little history for two cut-offs (or too few churners / stayers on one): no model is trained; the
documented fallback scores customers by 1 - P(alive) of a BG/NBD model fitted on all purchases up to the
as-of date, and the report says so.
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
from analysis.errors import UserError
from analysis.jsonable import jsonable

TRANSACTION_COLUMNS = ("customer_id", "order_id", "timestamp", "amount")  # what the stage reads of the purchases
OUTPUT_COLUMNS = ("churn_risk", "risk_band", "risk_band_zh", "churn_reasons", "churn_reasons_zh", "value_at_risk")


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
    of the customer table), ``report`` (what goes in ``churn_metrics.json``), ``tables`` for the page
    (metrics, reliability, gains, importance, bands, lifecycle, warning_list) and ``features`` (today's)."""

    customers: pd.DataFrame
    report: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    features: pd.DataFrame | None = None
    # names of categories in English and Chinese: risk bands by key, lifecycle stages by their English label
    labels: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)


def _warning(en: str, zh: str | None = None) -> dict[str, str]:
    """A warning for the page and ``churn_metrics.json`` in both languages (a machine-made message, such as a
    fit's error, stays in English in both)."""
    return {"en": en, "zh": zh or en}


def _labelled(daily, cutoff, plan: CutoffPlan, features) -> tuple[pd.DataFrame, pd.Series, list]:
    X, warns = features(cutoff)
    y = churn_labels(daily, cutoff, plan.horizon_days)  # the customers of X, in the same order (sorted by id)
    return X, y, [f"cut-off {pd.Timestamp(cutoff).date()}: {w}" for w in warns]


def _evaluate(daily, plan: CutoffPlan, features, cfg, report) -> dict[str, Any] | None:
    """Train on the first cut-off, judge on the second, refit the chosen scorer on the second; None when a
    cut-off has too few churners or stayers. ``features(cutoff)``: the features and warnings at a cut-off."""
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
    need = int(cfg.get("min_class_customers", 20))
    for name, y in (("training", y_tr), ("evaluation", y_ev)):
        churners, stayers = int(y.sum()), int(len(y) - y.sum())
        if min(churners, stayers) < need:
            report["fallback_reason"] = (
                f"the {name} cut-off has {churners:,} churners and {stayers:,} stayers; "
                f"each needs at least {need} (churn.min_class_customers)"
            )
            report["fallback_reason_zh"] = (
                f"{'训练' if name == 'training' else '检验'}截止日上有 {churners:,} 位流失客户和 "
                f"{stayers:,} 位留存客户；两者都至少需要 {need} 位（churn.min_class_customers）"
            )
            return None
    fitted, errors = fit_scorers(X_fit, y_fit, [*cfg["models"], *BASELINES], cfg, seed)
    report["warnings"] += [
        _warning(f"{MODEL_LABELS[n]} failed: {e}", f"{MODEL_LABELS_ZH[n]} 拟合失败：{e}") for n, e in errors.items()
    ]
    if not fitted:
        report["fallback_reason"] = "no scorer could be fitted on the training cut-off"
        report["fallback_reason_zh"] = "在训练截止日上没有任何评分方法能拟合"
        return None
    scores = {n: churn_probability(m, X_ev, X_fit.columns) for n, m in fitted.items()}
    ev = cfg.get("evaluation") or {}
    n_boot = int(ev.get("bootstrap", 200))
    bins = int(ev.get("reliability_bins", 10))
    table = evaluate.compare(y_ev.to_numpy(), scores, n_boot, float(ev.get("interval", 0.9)), seed, bins)
    table["note"] = ""
    for name, error in errors.items():  # a scorer that could not be fitted keeps its row, with the reason
        table.loc[name, "note"] = error
    table = table.reindex([n for n in [*cfg["models"], *BASELINES] if n in table.index])
    table.insert(0, "kind", ["model" if n in MODELS else "baseline" for n in table.index])
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


METRIC_NAMES = {"roc_auc": "ROC-AUC", "pr_auc": "PR-AUC", "brier": "Brier score", "log_loss": "log loss"}
METRIC_NAMES_ZH = {"roc_auc": "ROC-AUC", "pr_auc": "PR-AUC", "brier": "Brier 分数", "log_loss": "对数损失"}
BETTER = {
    "roc_auc": ("higher is better", "越高越好"),
    "pr_auc": ("higher is better", "越高越好"),
    "brier": ("lower is better", "越低越好"),
    "log_loss": ("lower is better", "越低越好"),
}


def _choice_sentence(table: pd.DataFrame, chosen: str, by: str) -> dict[str, str]:
    """Which scorer is used and how it compares with the best baseline, in words (EN, ZH)."""
    scored = table[table[by].notna()]
    base, models = scored[scored["kind"] == "baseline"], scored[scored["kind"] == "model"]
    if base.empty or models.empty:
        return {"en": f"{MODEL_LABELS[chosen]} scores customers.", "zh": f"由{MODEL_LABELS_ZH[chosen]}为客户评分。"}
    best_base, best_model = evaluate.choose(base, by), evaluate.choose(models, by)
    name, name_zh, (better, better_zh) = METRIC_NAMES[by], METRIC_NAMES_ZH[by], BETTER[by]
    m, b = models.loc[best_model], base.loc[best_base]
    auc = f"ROC-AUC {m['roc_auc']:.3f} against {b['roc_auc']:.3f}"
    auc_zh = f"ROC-AUC {m['roc_auc']:.3f} 对 {b['roc_auc']:.3f}"
    if table.loc[chosen, "kind"] == "model":
        en = (
            f"{MODEL_LABELS[best_model]} beat the best baseline ({MODEL_LABELS[best_base].lower()}) on the later "
            f"cut-off: {name} {m[by]:.3f} against {b[by]:.3f} ({better}; the choice is made on it), {auc}. "
            "It scores customers."
        )
        zh = (
            f"{MODEL_LABELS_ZH[best_model]}在较晚的检验日期上优于最好的基准（{MODEL_LABELS_ZH[best_base]}）："
            f"{name_zh} {m[by]:.3f} 对 {b[by]:.3f}（{better_zh}，据此选择），{auc_zh}。由它为客户评分。"
        )
    else:
        en = (
            f"No model beat the best baseline ({MODEL_LABELS[best_base].lower()}) on the later cut-off: {name} "
            f"{b[by]:.3f} against {m[by]:.3f} for the best model ({better}); ROC-AUC {b['roc_auc']:.3f} against "
            f"{m['roc_auc']:.3f}. "
            "The baseline scores customers."
        )
        zh = (
            f"没有模型优于最好的基准（{MODEL_LABELS_ZH[best_base]}）：{name_zh} 基准 {b[by]:.3f}，"
            f"最好的模型 {m[by]:.3f}（{better_zh}）。由该基准为客户评分。"
        )
    return {"en": en, "zh": zh}


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
        raise UserError(f"no purchases on or before {as_of.date()}: nothing to model churn on")
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
        "fallback": False,
        "seed": int(cfg.get("seed", 42)),
    }
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
    result = _evaluate(daily, plan, features, cfg, report) if plan.ok else None
    # today's features once the cut-offs' are let go (one frame of every customer at a time); their warnings
    # come before the cut-offs' all the same
    X_now, warns = features(as_of)
    report["warnings"][before_cutoffs:before_cutoffs] = [_warning(f"as-of date: {w}", f"分析日期：{w}") for w in warns]
    spend = warning.yearly_spend(daily, as_of)
    del daily, features  # not needed for the reasons and texts of every customer
    if not plan.ok:
        report["fallback_reason"], report["fallback_reason_zh"] = plan.reason, plan.reason_zh
    tables: dict[str, pd.DataFrame] = {}
    if result is None:
        report["fallback"] = True
        report["chosen_scorer"] = "p_alive"
        report["choice"] = {
            "en": f"No model was trained: {report['fallback_reason']}. Customers are scored by 1 - P(alive) of a "
            "BG/NBD purchase model fitted on all purchases up to the as-of date (not checked on a later date).",
            "zh": f"未训练模型：{report.get('fallback_reason_zh') or report['fallback_reason']}。"
            "客户按购买模型（BG/NBD，基于截至分析日期的全部购买）估计的 1 - 仍活跃概率评分（未在较晚日期上检验）。",
        }
        risk_now = 1.0 - X_now["p_alive"].to_numpy()
        if np.isnan(risk_now).all():
            risk_now = X_now["recency_days"].rank(pct=True).to_numpy()
            report["warnings"].append(
                _warning(
                    "P(alive) unavailable: risk is the percentile of days since the last purchase",
                    "无法得到仍活跃概率：风险按距上次购买天数的百分位计算",
                )
            )
        importance = None
    else:
        table, chosen = result["table"], result["chosen"]
        report["chosen_scorer"], report["choose_by"] = chosen, result["by"]
        report["choice"] = _choice_sentence(table, chosen, result["by"])
        report["scorers"] = {
            n: {"label": MODEL_LABELS[n], "label_zh": MODEL_LABELS_ZH[n], **row}
            for n, row in table.to_dict(orient="index").items()
        }
        report["customers_train"], report["customers_evaluation"] = result["n_train"], len(result["y_ev"])
        report["churn_rate_train"] = result["train_rate"]
        report["bootstrap_resamples"] = result["n_boot"]
        y_ev, p_ev = result["y_ev"].to_numpy(), result["p_ev"]
        tables["metrics"] = table
        tables["reliability"] = evaluate.reliability_table(y_ev, p_ev, result["bins"])
        tables["gains"] = evaluate.gains_table(y_ev, p_ev)
        importance = result["importance"]
        tables["importance"] = importance
        report["importance_model"] = result["explainer"]
        report["importance"] = importance["importance"].head(15).to_dict()
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
        risk_now = churn_probability(result["final"], X_now, result["columns"])
    return _finish(X_now, risk_now, spend, importance, customers, where, cfg, config, report, tables)


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


def manager_summary(run: ChurnRun, lang: str = "en") -> str:
    """A few plain sentences (Markdown) for a manager: the definition, how good the scores are, how many
    customers are at high risk, the value at stake and which list to call first."""
    r = run.report
    w = r["warning_list"]
    counts = r["bands"]["counts"]
    high = int((counts.get("high") or {}).get("customers", 0))
    zh = lang == "zh"
    lines = [f"- {r['definition']['zh' if zh else 'en']}", f"- {r['choice']['zh' if zh else 'en']}"]
    if not r["fallback"]:
        s = r["scorers"][r["chosen_scorer"]]
        lo, hi = s.get("roc_auc_low"), s.get("roc_auc_high")
        ci = f" ({lo:.3f}–{hi:.3f})" if lo is not None and hi is not None else ""
        lines.append(
            f"- 在 {r['cutoffs']['evaluation']} 的检验中，ROC-AUC 为 **{s['roc_auc']:.3f}**{ci}。"
            if zh
            else f"- Checked on {r['cutoffs']['evaluation']}: ROC-AUC **{s['roc_auc']:.3f}**{ci} "
            "(0.5 = guessing, 1 = perfect ranking)."
        )
    if zh:
        lines.append(
            f"- 高风险客户 **{high:,}** 位，风险价值合计 **{w['high_value_at_risk']:,.0f}**；"
            f"优先联系的 {w['list_size']} 位客户覆盖其中 {w['list_value_at_risk']:,.0f}。"
        )
    else:
        lines.append(
            f"- **{high:,}** customers are at high risk, with **{w['high_value_at_risk']:,.0f}** of value "
            f"at risk; the {w['list_size']} to call first hold {w['list_value_at_risk']:,.0f} of it."
        )
    if r.get("customers_without_purchase"):
        n = r["customers_without_purchase"]
        lines.append(
            f"- {n:,} 位客户尚未购买，不评估流失风险。"
            if zh
            else f"- {n:,} listed customers have not bought yet and get no churn risk."
        )
    lines += [f"- 注意：{x['zh']}" if zh else f"- Caution: {x['en']}" for x in r.get("warnings", [])]
    return "\n".join(lines)
