"""Simulated customer tables with planted groups, and a small, fast clustering config."""

import numpy as np
import pandas as pd
import pytest

# Three planted groups, each a different kind of customer (medians; spread is log-normal around them):
# loyal (recent, frequent, big baskets, long-standing), lapsed one-time buyers (bought once, long ago, small),
# new (first and last purchase lately, one or two orders, mid-size baskets).
PLANTED = {
    "loyal": {"share": 0.25, "recency": 10, "orders": 12, "aov": 90.0, "extra_tenure": 500},
    "lapsed": {"share": 0.50, "recency": 400, "orders": 1, "aov": 20.0, "extra_tenure": 0},
    "new": {"share": 0.25, "recency": 15, "orders": 2, "aov": 45.0, "extra_tenure": 20},
}


def planted_customers(n: int = 3000, seed: int = 0, sigma: float = 0.2) -> tuple[pd.DataFrame, np.ndarray]:
    """A customer table (the columns of ``analysis.data.customer_features`` the clustering uses) with the
    groups of :data:`PLANTED`, and the true group of each customer (0, 1, 2 in the order of ``PLANTED``)."""
    rng = np.random.default_rng(seed)
    shares = np.array([g["share"] for g in PLANTED.values()])
    truth = np.sort(rng.choice(len(PLANTED), size=n, p=shares / shares.sum()))
    groups = list(PLANTED.values())

    def draw(key: str) -> np.ndarray:
        centre = np.array([groups[t][key] for t in truth], dtype=float)
        return centre * rng.lognormal(0.0, sigma, size=n)

    recency = np.maximum(np.round(draw("recency")), 0)
    orders = np.where(truth == 1, 1, np.maximum(np.round(draw("orders")), 1))
    aov = np.round(draw("aov"), 2)
    tenure = recency + np.round(draw("extra_tenure")) * (orders > 1)
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i:05d}" for i in range(n)],
            "orders": orders.astype(int),
            "purchase_days": orders.astype(int),
            "total_spend": orders * aov,
            "avg_order_value": aov,
            "tenure_days": tenure,
            "recency_days": recency,
        }
    )
    frame["frequency"], frame["monetary"] = frame["orders"], frame["total_spend"]
    return frame, truth


@pytest.fixture
def fast(config):
    """The default config with a small k range and few resamples, so a test runs in a second or two."""
    cfg = config["clusters"]
    cfg["k_range"] = [2, 6]
    cfg["stability"]["resamples"] = 3
    cfg["silhouette_sample"] = 2000
    return config
