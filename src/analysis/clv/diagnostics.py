"""The data behind the CLV charts: tracking of cumulative repeat purchases, conditional expectations,
the repeat-purchase histogram and the frequency x recency matrices of a fitted model.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.clv.covariates import CovariatePurchaseModel
from analysis.clv.likelihoods import MODEL_LABELS
from analysis.clv.models import UNIT_DAYS, PurchaseModel

if TYPE_CHECKING:
    from analysis.clv.stage import ClvResult


def tracking_data(
    tx: pd.DataFrame,
    models: dict[str, PurchaseModel],
    calibration_end: Any,
    observation_end: Any,
    time_unit: str = "weeks",
) -> pd.DataFrame:
    """Cumulative repeat purchases week by week, actual and expected by each model, for the
    customers whose first purchase is on or before ``calibration_end``.

    A model's curve adds, over customers, the expected repeat purchases of a new customer
    from the first purchase to the end of each week (lifetimes' expected_cumulative_transactions).
    Columns: ``week_end``, ``actual``, one per model."""
    cal_end = pd.Timestamp(calibration_end).normalize()
    obs_end = pd.Timestamp(observation_end).normalize()
    # purchase days as day numbers, customers as integer codes: distinct (customer, day) pairs
    # sorted by customer, then day, so each customer's first pair is the first purchase day
    day = pd.to_datetime(tx["timestamp"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    kept = day <= obs_end.to_datetime64().astype("datetime64[D]").astype(np.int64)
    code = pd.factorize(tx["customer_id"].to_numpy()[kept] if not kept.all() else tx["customer_id"])[0]
    day = day[kept]
    low = int(day.min()) if len(day) else 0
    span = int(day.max()) - low + 1 if len(day) else 1
    pairs = np.sort(code.astype(np.int64) * span + (day - low))
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]]  # a sort: numpy's hashing unique is slower
    owner, day = pairs // span, pairs % span + low
    first_row = np.r_[True, owner[1:] != owner[:-1]]
    first = np.maximum.accumulate(np.where(first_row, np.arange(len(pairs)), 0))
    birth = day[first]  # each pair's customer's first purchase day
    cal_day = cal_end.to_datetime64().astype("datetime64[D]").astype(np.int64)
    cohort = birth <= cal_day
    births = day[first_row & cohort]
    start = pd.Timestamp(np.datetime64(int(births.min()), "D")).as_unit("ns") if len(births) else cal_end
    n_weeks = max(1, int(math.ceil(((obs_end - start).days + 1) / 7)))
    ends = (start + pd.to_timedelta(7 * np.arange(1, n_weeks + 1) - 1, unit="D")).to_numpy()
    week_end = pd.DatetimeIndex(np.minimum(ends, obs_end.to_datetime64()))
    repeat_days = day[cohort & ~first_row].astype("datetime64[D]").astype(week_end.dtype)
    idx = np.searchsorted(week_end.to_numpy(), repeat_days)
    actual = np.cumsum(np.bincount(idx, minlength=n_weeks)[:n_weeks])
    out = pd.DataFrame({"week_end": week_end, "actual": actual.astype(float)})
    birth_days, birth_counts = np.unique(births, return_counts=True)
    birth_dates = birth_days.astype("datetime64[D]").astype(week_end.dtype)
    unit = UNIT_DAYS[time_unit]
    for name, pm in models.items():
        age = ((week_end.to_numpy()[None, :] - birth_dates[:, None]) / np.timedelta64(1, "D")) / unit
        expected = pm.population_expected_purchases(np.maximum(age, 0.0).ravel())
        out[name] = birth_counts @ expected.reshape(age.shape)
    out["calibration"] = out["week_end"] <= cal_end
    return out


def conditional_expectation_data(predictions: pd.DataFrame, max_frequency: int = 7) -> pd.DataFrame:
    """Mean holdout purchases by calibration frequency (0, 1, ..., ``max_frequency``+): actual
    and predicted by each model, with the number of customers."""
    models = [c for c in predictions.columns if c in MODEL_LABELS]
    group = np.minimum(predictions["frequency"].to_numpy(), max_frequency).astype(int)
    out = predictions[["actual", *models]].groupby(group).mean()
    out.insert(0, "customers", predictions.groupby(group).size())
    out.index = [f"{i}+" if i == max_frequency else str(i) for i in out.index]
    out.index.name = "calibration_frequency"
    return out


def repeat_purchase_histogram(
    model: PurchaseModel,
    X: pd.DataFrame,
    max_count: int = 7,
    n_sim: int = 10,
    random_state=0,
    draws: int = 2_000_000,
) -> pd.DataFrame:
    """Customers by number of repeat purchases (0, 1, ..., ``max_count``+): actual, and expected
    by the model (mean of simulations of the same customers' observation times: ``n_sim`` of them, or as many
    as make about ``draws`` simulated customers when there are more than ``draws / n_sim`` customers; at a
    million customers two simulations leave a Monte Carlo error under a thousandth of each bar)."""
    n_sim = int(np.clip(np.ceil(draws / max(len(X), 1)), 1, n_sim))
    rng = np.random.default_rng(random_state)
    bins = np.arange(max_count + 1)

    def hist(freq) -> np.ndarray:
        return np.bincount(np.minimum(np.asarray(freq, int), max_count), minlength=max_count + 1)

    T = X["T"].to_numpy(float)
    sims = [hist(model.simulate(T, rng)["frequency"]) for _ in range(n_sim)]
    labels = [f"{b}+" if b == max_count else str(b) for b in bins]
    return pd.DataFrame(
        {"actual": hist(X["frequency"]), "model": np.mean(sims, axis=0)},
        index=pd.Index(labels, name="repeat_purchases"),
    )


def frequency_recency_matrix(
    model: PurchaseModel, T: float, t: float, what: str = "p_alive", max_frequency: int = 30, n_recency: int = 30
) -> pd.DataFrame:
    """``p_alive`` or ``expected_purchases`` (next ``t`` units) of a customer observed for ``T``
    units, by frequency (columns) and recency (rows, most recent first); a model with covariates: for a customer
    at every covariate's reference (the most frequent level, a number 0)."""
    freq = np.arange(max_frequency + 1, dtype=float)
    rec = np.linspace(T, 0.0, n_recency)
    f, r = np.meshgrid(freq, rec)
    grid = pd.DataFrame({"frequency": f.ravel(), "recency": np.where(f.ravel() > 0, r.ravel(), 0), "T": float(T)})
    if isinstance(model, CovariatePurchaseModel):
        grid = grid.assign(**dict.fromkeys(model.pattern_columns[3:], 0.0))
    if what == "p_alive":
        values = model.p_alive(grid)
    elif what == "expected_purchases":
        values = model.expected_purchases(grid, t)
    else:
        raise ValueError("what must be 'p_alive' or 'expected_purchases'")
    return pd.DataFrame(
        values.to_numpy().reshape(f.shape),
        index=pd.Index(rec, name="recency"),
        columns=pd.Index(freq.astype(int), name="frequency"),
    )


def matrix_data(result: ClvResult, what: str = "p_alive") -> pd.DataFrame:
    """``p_alive`` or ``expected_purchases`` (over the CLV horizon) of the run's chosen model by frequency and
    recency, for a customer whose first purchase was at the start of the data (the longest T fitted); frequency
    up to the 99th percentile of the customers' (at least 5, at most 30)."""
    fitted = result.fit_summary
    T = float(fitted["T"].max())
    max_f = int(min(30, max(5, fitted["frequency"].quantile(0.99))))
    return frequency_recency_matrix(result.model.purchase_model_, T, result.horizon_units, what, max_frequency=max_f)


def histogram_data(result: ClvResult) -> pd.DataFrame:
    """The run's customers by repeat purchases, actual and expected by the chosen model
    (:func:`repeat_purchase_histogram`)."""
    return repeat_purchase_histogram(result.model.purchase_model_, result.fit_summary)
