"""Cut-off dates, the horizon and the churn label.

A customer counts as churned at a cut-off when they make no purchase within ``horizon`` days after it
(purchases are non-contractual: nobody cancels, they stop buying). Only customers whose first purchase is
on or before the cut-off are labelled. Days are whole calendar days: the cut-off day belongs to the past.

Two cut-offs are used: the evaluation cut-off ``as_of - horizon`` (its horizon ends at the as-of date) and
the training cut-off ``evaluation - horizon`` (its horizon ends at the evaluation cut-off, so nothing the
model learns from comes from the period it is judged on).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.churn.features import DailyPurchases, customer_index, known_customers, to_day
from analysis.errors import UserError
from analysis.stage import Text


@dataclass(frozen=True)
class CutoffPlan:
    """The training and evaluation cut-offs and the horizon (days); ``None`` cut-offs mean too little
    history (``reason`` says why, ``{en, zh}``). ``notes``: what the reader should know (``{en, zh}`` each)."""

    horizon_days: int
    train: pd.Timestamp | None
    evaluation: pd.Timestamp | None
    as_of: pd.Timestamp
    reason: Text | None = None
    notes: tuple[Text, ...] = ()

    @property
    def ok(self) -> bool:
        return self.train is not None


def default_horizon(first_purchase: Any, as_of: Any, config: dict[str, Any]) -> tuple[int, str]:
    """The horizon in days: ``churn.horizon_days`` or, when null, the CLV holdout length
    (:func:`analysis.clv.holdout_period` on ``clv.holdout``); and where it came from."""
    cfg = config["churn"]
    if cfg["horizon_days"]:
        days = int(cfg["horizon_days"])
        if days < 1:
            raise UserError(f"churn.horizon_days must be a positive number of days, got {days}")
        return days, "churn.horizon_days"
    from analysis.clv import holdout_period

    hold = config["clv"]["holdout"]
    try:
        cal, end = holdout_period(first_purchase, as_of, hold["fraction"], hold["max_days"], hold["calibration_end"])
    except UserError:
        return 0, "the CLV holdout (none possible on this history)"
    return int((end - cal).days), "the CLV holdout length"


def plan_cutoffs(first_purchase: Any, as_of: Any, config: dict[str, Any]) -> CutoffPlan:
    """Training and evaluation cut-offs for the configured horizon, shortened when the history is too short
    for two cut-offs with ``min_history_days`` of purchases before the first one."""
    cfg = config["churn"]
    first, end = pd.Timestamp(first_purchase).normalize(), pd.Timestamp(as_of).normalize()
    horizon, source = default_horizon(first, end, config)
    min_history, min_horizon = int(cfg["min_history_days"]), int(cfg["min_horizon_days"])
    span = int((end - first).days)
    fits = (span - min_history) // 2
    notes: list[Text] = []
    if horizon > fits and not cfg["horizon_days"] and fits >= min_horizon:
        notes.append({
            "en": f"the horizon was shortened from {horizon} days ({source}) to {fits} days so that two "
                  f"cut-offs fit in {span} days of history with {min_history} days before the first",
            "zh": f"观察期从 {horizon} 天缩短为 {fits} 天，使两个截止日能放进 {span} 天的历史（第一个截止日之前保留 "
                  f"{min_history} 天）",
        })  # fmt: skip
        horizon = fits
    if horizon > fits or horizon < min_horizon:
        # the shortest history that works: the configured horizon, else the shortest horizon allowed
        need = min_history + 2 * (horizon if cfg["horizon_days"] else min_horizon)
        reason = short_history(span, need, min_history, config)
        return CutoffPlan(max(horizon, 1), None, None, end, reason, tuple(notes))
    evaluation = end - pd.Timedelta(days=horizon)
    train = evaluation - pd.Timedelta(days=horizon)
    return CutoffPlan(horizon, train, evaluation, end, None, tuple(notes))


def short_history(span: int, need: int, min_history: int, config: dict[str, Any]) -> Text:
    """Why a history of ``span`` days is too short (``need`` days would do), in English and Chinese; the segments
    page's lifecycle stages (their configured labels) are named as the rule of thumb meanwhile."""
    labels = config["lifecycle"]["labels"]
    stages = [labels[k] for k in ("active", "dormant", "churned") if k in labels]
    en = f" ({', '.join(str(v[0]) for v in stages)})" if stages else ""
    zh = f"（{'、'.join(str(v[1]) for v in stages)}）" if stages else ""
    return {
        "en": f"There is too little history to check a churn score on a later period: {span:,} days of purchases, "
        f"where learning on one date and checking on a later one takes at least {need:,} days ({min_history} days "
        "of history and two periods in which customers buy again or not), so no churn risk is given; until "
        f"then the lifecycle stages of the segments page{en} are the rule of thumb.",
        "zh": f"历史太短，无法在较晚的时期上检验流失评分：只有 {span:,} 天的购买记录，"
        f"而在一个日期上学习、在较晚日期上检验至少需要 {need:,} 天"
        f"（{min_history} 天历史加两个观察客户是否再次购买的时期），因此不给出流失风险；"
        f"在此之前，客户细分页面的生命周期阶段{zh}可作为经验判断。",
    }  # fmt: skip


def churn_labels(daily: DailyPurchases, cutoff: Any, horizon_days: int) -> pd.Series:
    """1 = churned (no purchase day in ``(cutoff, cutoff + horizon]``), 0 = bought again; indexed by
    ``customer_id`` for the customers whose first purchase is on or before ``cutoff`` (sorted by id, as the
    features at that cut-off)."""
    c = to_day(cutoff)
    later = (daily.day > c) & (daily.day <= c + int(horizon_days))
    bought = np.zeros(daily.n_customers, bool)
    bought[daily.customer[later]] = True
    idx = known_customers(daily, cutoff)
    return pd.Series((~bought[idx]).astype(np.int8), index=customer_index(daily, idx), name="churned")
