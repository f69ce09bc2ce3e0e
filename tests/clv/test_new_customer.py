"""What a newly won customer is worth (analysis.clv.new_customer): against the CLV of a customer with no history
yet (the conditional formulas at x = t_x = T = 0), a closed form, and Monte Carlo simulation of new customers."""

import numpy as np
import pandas as pd
import pytest

from analysis.clv.models import PurchaseModel
from analysis.clv.nbd import NBDModel
from analysis.clv.new_customer import new_customer_value
from analysis.clv.simulate import simulate_summary, simulate_transactions
from analysis.clv.spend import SpendModel
from analysis.clv.value import CLVModel, discount_weights
from analysis.data import features

PARAMS = {"bgnbd": (0.243, 4.414, 0.793, 2.426), "mbgnbd": (0.525, 6.183, 0.891, 1.614),
          "pareto": (0.553, 10.58, 0.606, 11.67)}  # fmt: skip


@pytest.fixture(scope="module")
def summary():
    as_of = pd.Timestamp("2023-06-30")
    tx = simulate_transactions(1500, start="2022-01-01", end="2023-12-31", seed=11)
    return features.lifetimes_summary(tx[tx["timestamp"] < as_of + pd.Timedelta(days=1)], as_of, "weeks")


@pytest.mark.parametrize("model", ["bgnbd", "pareto", "mbgnbd", "nbd"])
def test_a_new_customer_is_worth_the_clv_of_a_customer_without_history(summary, model):
    """Bought once, on the as-of date: the CLV's conditional expectations at x = t_x = T = 0 and its interval
    are the new customer's population expectations, by another formula."""
    clv = CLVModel(model, margin=0.3, n_bootstrap=6, random_state=3).fit(summary)
    entry = new_customer_value(clv.purchase_model_, clv.spend_model_, 12, 0.01, "weeks", 0.3, clv.bootstrap_params_)
    newcomer = clv.predict(pd.DataFrame({"frequency": [0.0], "recency": [0.0], "T": [0.0], "monetary_value": [0.0]}))
    assert entry["expected_purchases"] == pytest.approx(newcomer["expected_purchases"][0], rel=1e-9)
    assert entry["expected_value"] == pytest.approx(newcomer["clv"][0], rel=1e-9)
    assert entry["expected_value_low"] == pytest.approx(newcomer["clv_low"][0], rel=1e-9)
    assert entry["expected_value_high"] == pytest.approx(newcomer["clv_high"][0], rel=1e-9)
    assert entry["expected_spend_per_purchase"] == pytest.approx(clv.spend_model_.population_mean_spend_, rel=1e-12)


def test_a_constant_rate_in_closed_form(summary):
    spend = SpendModel().fit(summary)
    entry = new_customer_value(NBDModel.from_params("nbd", [0.05]), spend, 6, 0.02, "days")
    monthly = 0.05 * 30  # purchases a month at 0.05 a day
    assert entry["expected_purchases"] == pytest.approx(6 * monthly, rel=1e-12)
    value = monthly * discount_weights(6, 0.02).sum() * spend.population_mean_spend_
    assert entry["expected_value"] == pytest.approx(value, rel=1e-12)
    assert np.isnan(entry["expected_value_low"])  # no bootstrap, no range


@pytest.mark.parametrize("model", list(PARAMS))
def test_the_expected_purchases_of_new_customers_match_their_simulation(model):
    """200,000 customers simulated from their first purchase for 12 months (52.14 weeks): their mean repeat
    purchases are the expectation within four standard errors."""
    horizon = 12 * 4.345
    simulated = simulate_summary(model, PARAMS[model], np.full(200_000, horizon), np.random.default_rng(7))
    spend = SpendModel().fit(pd.DataFrame({"frequency": [1.0, 2.0, 3.0], "monetary_value": [10.0, 20.0, 15.0]}))
    entry = new_customer_value(PurchaseModel.from_params(model, PARAMS[model]), spend, 12, 0.0)
    counts = simulated["frequency"]
    assert abs(entry["expected_purchases"] - counts.mean()) < 4 * counts.std() / np.sqrt(len(counts))


def test_the_sentence_in_each_language_and_without_amounts(summary):
    clv = CLVModel("bgnbd", n_bootstrap=4, random_state=1).fit(summary)
    entry = new_customer_value(clv.purchase_model_, clv.spend_model_, 12, 0.01, bootstrap=clv.bootstrap_params_)
    value = f"{entry['expected_value']:,.2f}"
    assert entry["text"]["en"].startswith(f"A customer won today is expected to bring {value} over the next 12 months")
    assert value in entry["text"]["zh"] and "新获得" in entry["text"]["zh"] and "区间" in entry["text"]["zh"]
    bare = CLVModel("bgnbd").fit(summary.assign(monetary_value=np.nan))
    entry = new_customer_value(bare.purchase_model_, bare.spend_model_, 12, 0.01)
    assert entry["expected_purchases"] > 0 and np.isnan(entry["expected_value"])
    assert "no amounts" in entry["text"]["en"] and "没有金额" in entry["text"]["zh"]
