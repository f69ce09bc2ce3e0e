"""Lifecycle: potential (no purchase), new (first purchase within ``new_window_days``), then
active / dormant / churned by the days since the last purchase relative to the customer's own
typical gap between purchase days (customers with at least ``min_purchase_days``), or relative
to the population's typical gap for the others.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STAGES = ("potential", "new", "active", "dormant", "churned")  # the stage keys, in the order they are decided


def lifecycle_codes(customers: pd.DataFrame, cfg: dict) -> tuple[np.ndarray, float]:
    """(each customer's stage as its position in ``STAGES``, the population gap in days used for customers
    without a cadence)."""
    has_cadence = customers["purchase_days"] >= int(cfg["min_purchase_days"])
    gap = customers["mean_gap_days"].where(has_cadence)
    population = cfg.get("population_gap_days")
    if population is None:
        population = float(gap.median()) if gap.notna().any() else 90.0
    gap = gap.fillna(population)
    ratio = (customers["recency_days"] / gap).to_numpy(float, na_value=np.nan)
    stage = np.select(
        [
            (customers["frequency"] <= 0).to_numpy(bool, na_value=False),
            (customers["tenure_days"] <= cfg["new_window_days"]).to_numpy(bool, na_value=False),
            ratio <= cfg["dormant_ratio"],
            ratio <= cfg["churn_ratio"],
        ],
        range(4),
        default=4,
    )
    return stage.astype(np.int8), float(population)


def lifecycle(customers: pd.DataFrame, cfg: dict) -> tuple[pd.Series, float]:
    """(stage key per customer, the population gap in days used for customers without a cadence)."""
    codes, population = lifecycle_codes(customers, cfg)
    return pd.Series(np.array(STAGES)[codes], index=customers.index), population


def lifecycle_rule_text(cfg: dict, population_gap: float) -> dict[str, str]:
    """The lifecycle rule in words, English and Chinese."""
    n, k, d, c = cfg["new_window_days"], cfg["min_purchase_days"], cfg["dormant_ratio"], cfg["churn_ratio"]
    g = f"{population_gap:.0f}"
    return {
        "en": (f"Potential: known but no purchase yet. New: first purchase within the last {n} days. "
               f"Otherwise, compared with the customer's own typical gap between purchase days (customers "
               f"with at least {k} purchase days; for the others the population's typical gap, {g} days): "
               f"active if the days since the last purchase are at most {d:g} x the gap, dormant up to "
               f"{c:g} x, churned beyond."),
        "zh": (f"潜在：已知但尚未购买。新：首次购买在最近{n}天内。其余客户按其自身的平均购买间隔判断"
               f"（至少{k}个购买日的客户；其他客户使用整体典型间隔{g}天）：距上次购买的天数不超过间隔的"
               f"{d:g}倍为活跃，不超过{c:g}倍为沉睡，超过则为流失。"),
    }  # fmt: skip
