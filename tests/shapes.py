"""Transactions of the shops real users bring, generated with a seeded generator: small, sparse, B2B and dense
(issue 24). Each function returns ``(transactions, as_of)``: a frame with ``customer_id``, ``order_id``,
``date`` (ISO text) and ``amount``, and the as-of date to run it with."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _frame(ids, days, start: str, rng: np.random.Generator, mean_amount: float = 60.0) -> pd.DataFrame:
    """Orders of customers ``ids`` on day offsets ``days`` after ``start``, with gamma-distributed amounts."""
    ids, days = np.asarray(ids), np.asarray(days, dtype=int)
    order = np.lexsort((days, ids))
    ids, days = ids[order], days[order]
    dates = pd.Timestamp(start) + pd.to_timedelta(days, unit="D")
    return pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in ids],
        "order_id": [f"O{k:06d}" for k in range(len(ids))],
        "date": dates.strftime("%Y-%m-%d"),
        "amount": np.round(rng.gamma(4.0, mean_amount / 4.0, len(ids)) + 1.0, 2),
    })


def tiny(seed: int = 1):
    """40 customers over three months, one to three orders each."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 4, 40)
    ids = np.repeat(np.arange(40), counts)
    return _frame(ids, rng.integers(0, 90, len(ids)), "2024-01-01", rng), "2024-03-31"


def nobody_twice(seed: int = 2):
    """500 customers with one order each over a year."""
    rng = np.random.default_rng(seed)
    return _frame(np.arange(500), rng.integers(0, 365, 500), "2024-01-01", rng), "2024-12-31"


def few_repeaters(seed: int = 3):
    """A two-year marketplace shop: 1,577 buyers, about 11 % of them buying twice or more."""
    rng = np.random.default_rng(seed)
    n = 1577
    first = rng.integers(0, 730, n)
    extra = np.where(rng.random(n) < 0.11, rng.integers(1, 6, n), 0)
    ids = np.concatenate([np.arange(n), np.repeat(np.arange(n), extra)])
    later = np.repeat(first, extra) + rng.integers(1, 200, extra.sum())
    days = np.minimum(np.concatenate([first, later]), 729)
    return _frame(ids, days, "2023-01-01", rng), "2024-12-31"


def b2b_accounts(seed: int = 4):
    """60 accounts ordering in about half of the months for three years; none has stopped."""
    rng = np.random.default_rng(seed)
    months = 36
    ordered = rng.random((60, months)) < 0.5
    ordered[:, 0] = True  # every account is known from the first month
    ids, month = np.nonzero(ordered)
    days = month * 30 + rng.integers(0, 28, len(ids))
    return _frame(ids, days, "2022-01-01", rng, mean_amount=4000.0), "2024-12-31"


def one_week(seed: int = 5):
    """300 customers over one week, a few of them twice."""
    rng = np.random.default_rng(seed)
    ids = np.concatenate([np.arange(300), rng.choice(300, 40, replace=False)])
    return _frame(ids, rng.integers(0, 7, len(ids)), "2024-06-01", rng), "2024-06-07"


def one_day(seed: int = 6):
    """200 customers, all on one day."""
    rng = np.random.default_rng(seed)
    return _frame(np.arange(200), np.zeros(200), "2024-06-01", rng), "2024-06-01"


def steady_buyers(seed: int = 7):
    """804 customers over four years who keep buying at one common rate (a purchase every 260 days on average,
    memoryless: about a quarter of them buy nothing in a given year): whether one buys in a given period is
    chance, so no churn model can rank leavers better than guessing."""
    rng = np.random.default_rng(seed)
    n, span = 804, 1461
    rate = np.full(n, 1 / 260.0)  # purchases a day
    start = rng.integers(0, 200, n)
    counts = rng.poisson(rate * (span - start)) + 1
    ids = np.repeat(np.arange(n), counts)
    days = np.repeat(start, counts) + (rng.random(counts.sum()) * np.repeat(span - start, counts)).astype(int)
    days[np.r_[0, np.cumsum(counts)[:-1]]] = start  # the first purchase on the first day
    return _frame(ids, days, "2021-01-01", rng), "2024-12-31"


def dense_panel(seed: int = 8, households: int = 2377):
    """A grocery panel: ``households`` buying about 20 baskets each in a year (a few up to about 150)."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(1.6, 20 / 1.6 / 365, households)
    counts = np.minimum(rng.poisson(rate * 365) + 1, 150)
    ids = np.repeat(np.arange(households), counts)
    return _frame(ids, rng.integers(0, 365, len(ids)), "2024-01-01", rng, mean_amount=35.0), "2024-12-31"


SHAPES = {f.__name__: f for f in (tiny, nobody_twice, few_repeaters, b2b_accounts, one_week, one_day,
                                  steady_buyers, dense_panel)}


def write_shape(name: str, folder) -> tuple:
    """The shape ``name`` written as ``<folder>/<name>.csv``: ``(path, as_of)``."""
    transactions, as_of = SHAPES[name]()
    path = folder / f"{name}.csv"
    transactions.to_csv(path, index=False)
    return path, as_of
