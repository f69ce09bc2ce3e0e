"""What a newly won customer is worth: the expected repeat purchases over the CLV horizon of a customer acquired
on the as-of date (the purchase model's population expectation E[X(t)] of a new customer: BG/NBD, Fader, Hardie &
Lee 2005, eq. 9; MBG/NBD; Pareto/NBD, note 009, eq. 27; NBD: the mean rate x t), times Gamma-Gamma's population
mean spend per purchase p v / (q - 1), discounted month by month as the CLV is (:mod:`analysis.clv.value`), with
the bootstrap's range (CLVTools' ``newcustomer()``). Its sentence is in :data:`TEXTS`, en/zh.

The purchases are repeat purchases, after the first one (as every purchase model here counts them): the value is
what the customer brings after the purchase that won them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.clv.describe import fill
from analysis.clv.models import UNITS_PER_MONTH
from analysis.clv.monthly import draw_models
from analysis.clv.value import discount_weights
from analysis.stage import Text

TEXTS = {
    "value": {"en": "A customer won today is expected to bring {value:,.2f} over the next {months} months beyond the "
                    "first purchase ({purchases:.2f} repeat purchases of {spend:,.2f} each, discounted at "
                    "{rate:.1%} a month{margin}).",
              "zh": "今天新获得的一位客户，预计在首次购买之后的未来 {months} 个月带来 {value:,.2f}（重复购买 "
                    "{purchases:.2f} 次，每次 {spend:,.2f}，按每月 {rate:.1%} 折现{margin}）。"},
    "range": {"en": " Range {low:,.2f} to {high:,.2f}.", "zh": "区间 {low:,.2f} 至 {high:,.2f}。"},
    "margin": {"en": ", at a {margin:.0%} margin", "zh": "，按 {margin:.0%} 毛利率"},
    "purchases": {"en": "A customer won today is expected to make {purchases:.2f} repeat purchases over the next "
                        "{months} months (the data has no amounts: no value in money).",
                  "zh": "今天新获得的一位客户，预计在未来 {months} 个月重复购买 {purchases:.2f} 次"
                        "（数据没有金额，无法估算金额价值）。"},
}  # fmt: skip


def _discounted(model, times: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """A new customer's expected repeat purchases up to the last of ``times`` and their discounted sum
    (month m's purchases E(m) - E(m - 1) x ``weights[m - 1]``)."""
    cumulative = np.asarray(model.population_expected_purchases(times), float)
    return float(cumulative[-1]), float(np.diff(cumulative) @ weights)


def _draws(model, bootstrap: pd.DataFrame | None, times, weights) -> list[float]:
    """The new customer's discounted value (before margin) per bootstrap refit: discounted purchases x the
    refit's population mean spend (``CLVModel.bootstrap_params_``; refits with a non-finite parameter are
    left out, as the CLV's intervals leave them)."""
    out = []
    for draw, row in draw_models(model, bootstrap):
        if row["gg_method"] == "none":
            continue
        if row["gg_method"] == "mean":
            mean = float(row["gg_population_mean"])
        else:
            p, q, v = row[["gg_p", "gg_q", "gg_v"]].to_numpy(float)
            mean = v * p / (q - 1)
        out.append(_discounted(draw, times, weights)[1] * mean)
    return out


def new_customer_value(
    model,
    spend,
    horizon_months: int,
    discount_rate: float,
    time_unit: str = "weeks",
    margin: float | None = None,
    bootstrap: pd.DataFrame | None = None,
    interval: float = 0.9,
) -> dict[str, Any]:
    """The record's ``new_customer``: ``expected_purchases`` (repeat purchases over the horizon, undiscounted),
    ``expected_spend_per_purchase`` (Gamma-Gamma's population mean; NaN without amounts), ``expected_value``
    (discounted purchases x that spend x ``margin``, the CLV of a customer acquired on the as-of date),
    ``expected_value_low`` and ``_high`` (the bootstrap's ``interval`` range; NaN without one), the settings, and
    ``text`` (the sentence, {en, zh}).

    ``model``, ``spend``: the fitted purchase and spend models (``CLVModel.purchase_model_``, ``spend_model_``);
    ``horizon_months``, ``discount_rate`` (monthly), ``time_unit``, ``margin``: the CLV's settings;
    ``bootstrap``: ``CLVModel.bootstrap_params_``."""
    h = int(horizon_months)
    times = np.arange(0, h + 1) * UNITS_PER_MONTH[time_unit]
    weights = discount_weights(h, float(discount_rate))
    purchases, discounted = _discounted(model, times, weights)
    mean = float(spend.population_mean_spend_) if spend.method_ != "none" else math.nan
    share = 1.0 if margin is None else float(margin)
    draws = np.array(_draws(model, bootstrap, times, weights)) * share if math.isfinite(mean) else np.array([])
    tail = (1 - float(interval)) / 2
    low, high = (float(x) for x in np.quantile(draws, [tail, 1 - tail])) if len(draws) else (math.nan, math.nan)
    entry = {
        "horizon_months": h,
        "discount_rate_monthly": float(discount_rate),
        "margin": margin,
        "expected_purchases": purchases,
        "expected_spend_per_purchase": mean,
        "expected_value": discounted * mean * share,
        "expected_value_low": low,
        "expected_value_high": high,
    }
    entry["text"] = new_customer_text(entry)  # fmt: skip
    return entry


def new_customer_text(entry: dict[str, Any]) -> Text:
    """The sentence of a ``new_customer`` entry, {en, zh}: its value and how it is made, or its purchases alone
    when the data has no amounts."""
    months, purchases = entry["horizon_months"], entry["expected_purchases"]
    if not math.isfinite(entry["expected_spend_per_purchase"]):
        return fill(TEXTS, "purchases", months=months, purchases=purchases)
    margin = fill(TEXTS, "margin", margin=entry["margin"]) if entry["margin"] else {"en": "", "zh": ""}
    out = fill(
        TEXTS,
        "value",
        value=entry["expected_value"],
        months=months,
        purchases=purchases,
        spend=entry["expected_spend_per_purchase"],
        rate=entry["discount_rate_monthly"],
        margin=margin,
    )
    if math.isfinite(entry["expected_value_low"]):
        extra = fill(TEXTS, "range", low=entry["expected_value_low"], high=entry["expected_value_high"])
        out = {lang: out[lang] + extra[lang] for lang in out}
    return out  # fmt: skip
