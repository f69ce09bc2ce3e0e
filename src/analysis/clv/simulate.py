"""Simulation from the purchase and spend models: customer summaries and raw transactions with known
parameters, for parameter-recovery tests and benchmarks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.clv.likelihoods import check_model


def simulate_summary(model: str, params, T, rng: np.random.Generator) -> pd.DataFrame:
    """``frequency``, ``recency``, ``T`` of customers observed for ``T`` time units after their
    first purchase, drawn from a purchase model with ``params`` (natural units)."""
    times = _simulate_times(model, params, np.asarray(T, float), rng)
    n = len(T)
    counts = np.bincount(times[0], minlength=n) if len(times[0]) else np.zeros(n, int)
    recency = np.zeros(n)
    if len(times[0]):
        np.maximum.at(recency, times[0], times[1])
    return pd.DataFrame({"frequency": counts.astype(float), "recency": recency, "T": np.asarray(T, float)})


def _simulate_times(model: str, params, T: np.ndarray, rng: np.random.Generator):
    """Repeat purchase times (customer number, time since first purchase) up to each T."""
    check_model(model)
    n = len(T)
    if model == "pareto":
        r, alpha, s, beta = params
        lam = rng.gamma(r, 1.0 / alpha, n)
        mu = rng.gamma(s, 1.0 / beta, n)
        life = np.minimum(rng.exponential(1.0, n) / mu, T)
        counts = rng.poisson(lam * life)
        who = np.repeat(np.arange(n), counts)
        return who, rng.uniform(0.0, 1.0, len(who)) * life[who]
    r, alpha, a, b = params
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    t = np.zeros(n)
    active = np.arange(n)
    if model == "mbgnbd":  # MBG/NBD: a customer may also drop out right after the first purchase
        active = active[rng.uniform(size=n) >= p]
    who, when = [], []
    while len(active):
        t[active] += rng.exponential(1.0, len(active)) / lam[active]
        active = active[t[active] <= T[active]]
        who.append(active)
        when.append(t[active].copy())
        active = active[rng.uniform(size=len(active)) >= p[active]]
    return np.concatenate(who), np.concatenate(when)


def simulate_spend(frequency, params, rng: np.random.Generator) -> np.ndarray:
    """Mean spend of ``frequency`` repeat purchases per customer from Gamma-Gamma (p, q, v):
    each customer's mean ``p / nu`` with ``nu ~ Gamma(q, rate v)``; 0 without a repeat purchase."""
    p, q, v = params
    f = np.asarray(frequency, int)
    nu = rng.gamma(q, 1.0 / v, len(f))
    # the sum of x Gamma(p, rate nu) spends is Gamma(p x, rate nu)
    total = rng.gamma(np.maximum(p * f, 1e-12), 1.0 / nu)
    return np.where(f > 0, total / np.maximum(f, 1), 0.0)


def simulate_transactions(
    n_customers: int,
    params=(0.243, 4.414, 0.793, 2.426),
    spend_params=(6.25, 3.74, 15.44),
    start: str = "2022-01-01",
    end: str = "2023-12-31",
    acquisition_days: int = 90,
    model: str = "bgnbd",
    seed: int = 0,
) -> pd.DataFrame:
    """A transactions frame (``customer_id``, ``order_id``, ``timestamp``, ``amount``) from a
    purchase model (time in weeks) and Gamma-Gamma spend: customers make their first purchase
    in the first ``acquisition_days`` days, then buy until ``end``."""
    rng = np.random.default_rng(seed)
    start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
    birth = rng.integers(0, acquisition_days, n_customers)
    T = ((end_ts - start_ts).days - birth) / 7.0
    who, when = _simulate_times(model, params, T, rng)
    cust = np.concatenate([np.arange(n_customers), who])
    day = np.concatenate([birth, birth[who] + np.floor(when * 7.0).astype(int)])
    day = np.minimum(day, (end_ts - start_ts).days)
    p, q, v = spend_params
    nu = rng.gamma(q, 1.0 / v, n_customers)
    amount = np.round(rng.gamma(p, 1.0 / nu[cust]) + 0.01, 2)
    order = np.lexsort((day, cust))
    seconds = rng.integers(8 * 3600, 22 * 3600, len(cust))
    ts = np.datetime64(start_ts.date(), "s") + day.astype("timedelta64[D]") + seconds.astype("timedelta64[s]")
    return pd.DataFrame(
        {
            "customer_id": pd.Series(cust[order] + 1_000_000).astype(str),
            "order_id": np.arange(len(cust)).astype(str),
            "timestamp": ts[order].astype("datetime64[ns]"),
            "amount": amount[order],
        }
    )
