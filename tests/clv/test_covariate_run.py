"""Static covariates through the CLV stage and the lifetimes-style API (issue 20): a run on two simulated groups
of known, different purchase rates finds the difference, records it (clv.json, clv_models.json) and tells it in
both languages; without covariates nothing changes; perfect separation is a degenerate fit left out of the
choice; a text column with hundreds of levels is refused; the fitters with covariates are the estimator's fit."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis import clv
from analysis.clv.backtest import backtest
from analysis.clv.covariate_design import design_matrix
from analysis.clv.covariates import CovariatePurchaseModel
from analysis.clv.effects import effects_markdown
from analysis.clv.optimize import DegenerateFit
from analysis.config import load_config
from analysis.errors import UserError
from analysis.stage import Frames

# Two groups of BG/NBD customers; the second's purchase-rate scale alpha is half the first's: it buys twice as often
# (CLVTools' alpha_i = alpha exp(-gamma x_i): gamma = log 2, a ratio of 2).
PARAMS = (0.243, 4.414, 0.793, 2.426)
FAST = (0.243, 4.414 / 2, 0.793, 2.426)


def two_groups(n: int = 2500, seed: int = 4, second=FAST) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Transactions of two simulated groups and their customer table (``customer_id``, ``region``)."""
    a = clv.simulate_transactions(n, PARAMS, seed=seed, start="2023-01-01", end="2024-06-30")
    b = clv.simulate_transactions(n, second, seed=seed + 1, start="2023-01-01", end="2024-06-30")
    b = b.assign(customer_id="b" + b["customer_id"], order_id="b" + b["order_id"])
    tx = pd.concat([a, b], ignore_index=True).sort_values(["customer_id", "timestamp"], ignore_index=True)
    ids = tx["customer_id"].unique()
    customers = pd.DataFrame(
        {"customer_id": ids, "region": np.where(pd.Series(ids).str.startswith("b"), "south", "north")}
    )
    return tx, customers


def settings(**covariates):
    return load_config(overrides={"clv": {"models": ["bgnbd"], "bootstrap": {"n": 3, "seed": 1},
                                          "covariates": covariates}})  # fmt: skip


@pytest.fixture(scope="module")
def groups():
    return two_groups()


@pytest.fixture(scope="module")
def run_with(groups):
    tx, customers = groups
    return clv.run(
        Frames(tx, as_of="2024-06-30", customers_table=customers), settings(trans=["region"], life=["region"])
    )


def test_a_run_with_covariates_finds_the_known_difference_and_records_it(run_with):
    record = json.loads(json.dumps(run_with.record, allow_nan=False))
    entry = record["covariates"]
    assert entry["references"] == {"region": "north"} and entry["trans"] == ["region=south"]
    effects = {e["key"]: e for e in entry["effects"]}
    buy = effects["trans.region=south"]
    assert buy["low"] < 2.0 < buy["high"]  # the true ratio within the 95 % range
    assert buy["low"] > 1.3  # and told apart from no difference
    assert entry["lr_test"]["df"] == 2 and entry["lr_test"]["p_value"] < 1e-6
    # both variants were backtested, and the choice could pick either
    assert {"bgnbd", "bgnbd_cov"} <= set(record["models"]) and record["chosen_model"] in ("bgnbd", "bgnbd_cov")
    fit = record["models"]["bgnbd_cov"]["calibration"]
    assert set(fit["coefficients"]) == {"trans.region=south", "life.region=south"}
    assert set(fit["std_errors"]) >= set(fit["coefficients"]) and fit["lr_test"]["df"] == 2
    models = clv.models_record(record)["models"]
    assert models["bgnbd"]["calibration"]["coefficients"] == {} and models["bgnbd"]["calibration"]["lr_test"] is None
    assert models["bgnbd_cov"]["calibration"]["coefficients"] == fit["coefficients"]
    bt = run_with.backtest  # the fit with covariates started from, and tested against, the backtest's own null
    assert bt.models["bgnbd_cov"].baseline_ is bt.models["bgnbd"]
    out = run_with.columns.set_index("customer_id")
    assert out[["expected_purchases", "p_alive", "clv"]].notna().all().all()


def test_the_effects_are_told_in_both_languages(run_with):
    en, zh = effects_markdown(run_with, "en"), effects_markdown(run_with, "zh")
    assert "customers with region south (against north) buy **" in en and "likelihood-ratio test" in en
    assert "region为 south 的客户" in zh and "似然比检验" in zh
    assert "- Customer attributes: customers with region south" in run_with.summary("en")
    assert "- 客户属性：" in run_with.summary("zh")
    table = clv.page_table(run_with, "effects", "zh")
    assert list(table.columns) == ["影响", "倍数", "下限（95%）", "上限（95%）", "p 值"] and len(table) == 2


def test_a_new_customer_s_value_per_region_through_the_stage(run_with):
    """The record's new customer per level of the region (issue 20 with issue 19's new_customer): the south buys
    twice as often, the model with the region forecast the holdout better, and a customer won in the south is
    worth more."""
    new = json.loads(json.dumps(run_with.record["new_customer"], allow_nan=False))
    assert run_with.record["chosen_model"] == "bgnbd_cov"
    rows = {r["level"]: r for r in new["by_covariate"]}
    assert rows["north"]["reference"] and rows["south"]["expected_value"] > 1.2 * rows["north"]["expected_value"]
    assert "By region, a customer won today is expected to bring" in new["by_covariate_text"][0]["en"]
    models = clv.models_record(run_with.record)
    assert models["new_customer"]["by_covariate"] == new["by_covariate"]


def test_without_covariates_the_record_has_none(groups):
    tx, customers = groups
    record = clv.run(Frames(tx, as_of="2024-06-30", customers_table=customers), settings()).record
    assert "covariates" not in record and set(record["models"]) == {"bgnbd"}
    assert "by_covariate" not in record["new_customer"]
    assert "coefficients" not in record["models"]["bgnbd"]["calibration"]


def test_perfect_separation_is_degenerate_and_left_out_of_the_choice():
    tx, customers = two_groups(1500, seed=9)
    first = tx.groupby("customer_id")["timestamp"].transform("min")
    tx = tx[~tx["customer_id"].str.startswith("b") | (tx["timestamp"] == first)]  # the south never comes back
    design = design_matrix(customers.set_index("customer_id"), settings(trans=["region"])["clv"]["covariates"])
    bt = backtest(tx, "2023-12-31", "2024-06-30", ["bgnbd"], covariates=design)
    assert "bgnbd" in bt.metrics.index and "bgnbd_cov" not in bt.metrics.index
    assert "perfect separation" in bt.errors["bgnbd_cov"]["en"] and "完全分离" in bt.errors["bgnbd_cov"]["zh"]
    assert "BG/NBD+cov left out of the choice" in bt.errors["bgnbd_cov"]["en"]


def test_a_text_column_with_hundreds_of_levels_is_refused_with_how_to_group_it():
    limit = load_config()["clv"]["covariates"]["max_levels"]
    attributes = pd.DataFrame({"city": [f"city {i % 300}" for i in range(3000)]})
    with pytest.raises(UserError, match=rf"'city' .* has 300 levels, more than clv.covariates.max_levels \({limit}\): "
                                        r"group the rare levels"):  # fmt: skip
        design_matrix(attributes, {**load_config()["clv"]["covariates"], "trans": ["city"]})


def test_an_unknown_covariate_stops_the_stage_in_one_line(groups):
    tx, customers = groups
    with pytest.raises(UserError, match=r"covariate 'Gender' .* not a column of the customer attributes: they have "
                                        r"region"):  # fmt: skip
        clv.run(Frames(tx, as_of="2024-06-30", customers_table=customers), settings(trans=["Gender"]))


@pytest.mark.parametrize("fitter", [clv.ParetoNBDFitter, clv.BetaGeoFitter, clv.ModifiedBetaGeoFitter])
def test_the_fitters_with_covariates_are_the_estimator_and_predict_with_each_customers(fitter):
    rng = np.random.default_rng(3)
    model = fitter().model
    summary = clv.simulate_summary(
        model, (0.5, 8.0, 0.7, 6.0) if model == "pareto" else PARAMS, rng.uniform(20, 60, 3000), rng
    )
    channel = pd.Series(np.where(rng.random(3000) < 0.4, "web", "shop"), name="channel")
    f, r, T = summary["frequency"], summary["recency"], summary["T"]
    api = fitter().fit(f, r, T, covariates_trans=channel, covariates_life=channel)
    X = summary.assign(**{"channel=web": (channel == "web").astype(float)})
    direct = CovariatePurchaseModel(model, ["channel=web"], ["channel=web"]).fit(X)
    np.testing.assert_allclose(api.params_.to_numpy(), direct.params_.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(api.coefficients_.to_numpy(), direct.coefficients_.to_numpy(), rtol=1e-12)
    assert api.references_ == {"channel": "shop"} and api.lr_test_ == direct.lr_test_
    got = api.conditional_expected_number_of_purchases_up_to_time(10, f, r, T, covariates_trans=channel,
                                                                  covariates_life=channel)  # fmt: skip
    np.testing.assert_allclose(got, direct.expected_purchases(X, 10.0), rtol=1e-12)
    alive = api.conditional_probability_alive(f, r, T, covariates_trans=channel, covariates_life=channel)
    np.testing.assert_allclose(alive, direct.p_alive(X), rtol=1e-12)
    with pytest.raises(ValueError, match="pass covariates_trans"):
        api.conditional_probability_alive(f, r, T)
    plain = fitter().fit(f, r, T)  # and without covariates the fitter is as before
    assert plain.covariate_model_ is None and list(plain.params_.index) == list(api.params_.index)


def test_a_degenerate_covariate_fit_raises_with_its_reason():
    X = pd.DataFrame({"frequency": [0.0] * 50 + [2.0, 3.0, 1.0] * 50, "recency": [0.0] * 50 + [20.0, 30.0, 5.0] * 50,
                      "T": 40.0, "g": [1.0] * 50 + [0.0] * 150})  # fmt: skip
    with pytest.raises(DegenerateFit) as caught:
        CovariatePurchaseModel("bgnbd", ["g"], []).fit(X)
    assert caught.value.reason["en"] and caught.value.reason["zh"]


def test_covariate_names_and_levels_from_the_data_reach_the_page_as_text():
    """A level such as <img onerror=...> is written into the page's Markdown escaped, never as markup."""
    from analysis.clv.effects import who
    from analysis.clv.monthly_run import level_texts

    hostile = '<img src=x onerror="alert(1)">'
    person, vs = who(f"region={hostile}", {"region": "*north*"}, "en")
    assert "<img" not in person and "&lt;img" in person and vs == " (against \\*north\\*)"
    row = {"covariate": "region<b>", "level": hostile, "reference": False, "expected_value": 3.0,
           "expected_value_low": 2.0, "expected_value_high": 4.0, "expected_purchases": 1.0}  # fmt: skip
    said = level_texts([row])[0]
    assert all("<img" not in said[lang] and "<b>" not in said[lang] and "&lt;img" in said[lang] for lang in said)
