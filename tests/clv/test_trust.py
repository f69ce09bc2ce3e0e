"""CLV on real data: every fit sound or flagged (the CDNOW sample window), published fits readable
from the report, the Pareto/NBD penalty, the spend check of the backtest, zero and missing amounts,
and byte-identical reruns."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from analysis import clv
from analysis.clv import optimize
from analysis.clv.backtest import calibration_summary
from analysis.config import load_config
from analysis.data import features
from analysis.data.pipeline import prepare
from analysis.stage import Frames

PNBD = (0.553, 10.58, 0.606, 11.67)


def _matches_published(value: float, published: float, decimals: int) -> bool:
    return abs(value - published) <= 0.5 * 10**-decimals + 1e-12


def _cdnow(lifetimes_datasets, as_of: str):
    config = load_config()
    config["validation"]["zero_amount"] = "keep"  # free CDs are purchases, as in the papers
    return prepare(str(lifetimes_datasets / "CDNOW_sample.txt"), config, as_of)


def _run_config(**clv_settings):
    return load_config(overrides={"clv": {"bootstrap": {"n": 0}, **clv_settings}})


# --------------------------------------------------------------------------------------------
# the CDNOW sample as of 1997-09-30: the backtest calibrates on 19 weeks, where Pareto/NBD's
# dropout heterogeneity is not identified


def test_sample_window_fits_are_finite_or_flagged_and_a_flagged_model_is_never_chosen(lifetimes_datasets):
    run = clv.run(_cdnow(lifetimes_datasets, "1997-09-30"), _run_config())
    report = json.loads(json.dumps(run.record, allow_nan=False))  # no NaN anywhere
    assert report["backtest"]["calibration_end"] == "1997-05-17"
    for name, entry in report["models"].items():
        if entry["status"] == "fitted":
            assert math.isfinite(entry["calibration"]["log_likelihood"])
        else:
            assert entry["status"] == "left out" and name != report["chosen_model"]
            assert entry["reason"]["en"].endswith(f"{clv.MODEL_LABELS[name]} left out of the choice")
            assert entry["reason"]["zh"].endswith(f"{clv.MODEL_LABELS[name]} 未参与选择")
            assert name not in run.backtest.metrics.index
            reason = entry["reason"]
            assert any(reason["en"] in w["en"] and reason["zh"] in w["zh"] for w in report["warnings"])
            for lang in ("en", "zh"):  # a technical caution, not for managers
                assert entry["reason"][lang] in clv.describe.details_markdown(run, lang)
            if "calibration" in entry:
                assert entry["calibration"]["log_likelihood"] is not None
    assert math.isfinite(report["models"][report["chosen_model"]]["full"]["log_likelihood"])


def test_pareto_on_the_sample_window_is_finite_or_says_what_the_data_cannot_tell(lifetimes_datasets):
    tx = _cdnow(lifetimes_datasets, "1997-09-30").transactions
    X = calibration_summary(features.calibration_holdout(tx, "1997-05-17", "1997-09-30"))
    try:
        pm = clv.PurchaseModel("pareto").fit(X)
    except clv.DegenerateFit as exc:
        assert "the data cannot tell apart customers' dropout rates" in exc.reason["en"]
        assert np.isfinite(exc.model.log_likelihood_)
    else:
        assert np.isfinite(pm.log_likelihood_) and np.isfinite(pm.params_).all()


def test_degenerate_fits_are_described_in_words():
    # s at its bound (time scaled to max T = 1): the dropout rates cannot be told apart
    reason = optimize.judge("pareto", [0.49, 7.78, 1000.0, 16716.5], -4937.0, 1 / 19.43, 1000.0)
    assert reason["en"].startswith("the data cannot tell apart customers' dropout rates")
    assert optimize.judge("pareto", PNBD, -9595.0, 1 / 39.0, 1000.0) is None
    assert "no finite" in optimize.judge("bgnbd", [0.243, 4.414, 0.793, 2.426], np.nan, 1 / 39, 1000.0)["en"]
    purchase = optimize.judge("bgnbd", [2000.0, 4.4, 0.8, 2.4], -1.0, 1 / 39, 1000.0)
    assert purchase["en"].startswith("the data cannot tell apart customers' purchase rates")
    # a scale parameter pushed to its lower bound is named with its value
    assert "(alpha = " in optimize.judge("bgnbd", [0.2, 1e-9, 0.8, 2.4], -1.0, 1 / 39, 1000.0)["en"]


# --------------------------------------------------------------------------------------------
# the published CDNOW fits, read from the report (Fader, Hardie & Lee 2005; notes 004, 009, 025)


def test_the_published_cdnow_fits_can_be_checked_from_the_report(lifetimes_datasets):
    config = _run_config(holdout={"calibration_end": "1997-09-30"})
    report = json.loads(json.dumps(clv.run(_cdnow(lifetimes_datasets, "1998-06-30"), config).record))
    published = {
        "bgnbd": ({"r": (0.243, 3), "alpha": (4.414, 3), "a": (0.793, 3), "b": (2.426, 3)}, -9582.4),
        "pareto": ({"r": (0.553, 3), "alpha": (10.58, 2), "s": (0.606, 3), "beta": (11.67, 2)}, -9595.0),
    }
    for name, (params, ll) in published.items():
        fit = report["models"][name]["calibration"]
        assert fit["customers"] == 2357
        for p, (value, decimals) in params.items():
            assert _matches_published(fit["params"][p], value, decimals), (name, p, fit)
        assert _matches_published(fit["log_likelihood"], ll, 1), (name, fit["log_likelihood"])
    spend = report["backtest"]["spend_model"]
    assert spend["repeat_buyers"] == 946
    for p, value in {"p": 6.25, "q": 3.74, "v": 15.44}.items():
        assert _matches_published(spend["params"][p], value, 2), (p, spend)
    assert "not lifetimes' mean per customer" in report["log_likelihood"]["en"]
    assert "lifetimes 的每位客户平均值" in report["log_likelihood"]["zh"]


# --------------------------------------------------------------------------------------------
# the Pareto/NBD penalty


@pytest.fixture(scope="module")
def cdnow_calibration(lifetimes_datasets) -> pd.DataFrame:
    tx = _cdnow(lifetimes_datasets, "1998-06-30").transactions
    return calibration_summary(features.calibration_holdout(tx, "1997-09-30", "1998-06-30"))


def test_the_pareto_penalty_is_the_same_on_condensed_patterns_and_on_customers(cdnow_calibration):
    X = cdnow_calibration
    n = len(X)
    one_row_each = (X[list(clv.SUMMARY_COLUMNS)].reset_index(drop=True), np.ones(n), np.arange(n))
    condensed = clv.PurchaseModel("pareto", penalizer=0.01).fit(X)
    by_customer = clv.PurchaseModel("pareto", penalizer=0.01).fit(X, condensed=one_row_each)
    assert condensed.n_patterns_ < n / 2 and by_customer.n_patterns_ == n
    np.testing.assert_allclose(condensed.params_, by_customer.params_, rtol=1e-4)
    plain = clv.PurchaseModel("pareto").fit(X)  # the penalty does move the estimates
    assert np.max(np.abs(condensed.params_ / plain.params_ - 1)) > 1e-2


# --------------------------------------------------------------------------------------------
# the spend check of the backtest


def test_the_backtest_checks_holdout_spend_against_expected_spend_times_purchases():
    tx = clv.simulate_transactions(2000, seed=21, start="2023-01-01", end="2024-06-30")
    bt = clv.backtest(tx, "2023-10-01", "2024-06-30", ["bgnbd"])
    day = tx["timestamp"].dt.normalize()
    holdout = tx[(day > "2023-10-01") & (day <= "2024-06-30")]
    by_hand = holdout.groupby("customer_id")["amount"].sum()
    by_hand = by_hand.reindex(bt.predictions.index, fill_value=0.0)
    np.testing.assert_allclose(bt.predictions["actual_spend"], by_hand, rtol=1e-12)
    calibration = calibration_summary(features.calibration_holdout(tx, "2023-10-01", "2024-06-30"))
    X = bt.predictions[list(clv.SUMMARY_COLUMNS)].assign(monetary_value=calibration["monetary_value"])
    predicted = bt.predictions["bgnbd"] * bt.spend_model.predict(X)
    m = bt.metrics.loc["bgnbd"]
    assert m["spend_total_actual"] == pytest.approx(by_hand.sum(), rel=1e-12)
    assert m["spend_total_predicted"] == pytest.approx(predicted.sum(), rel=1e-9)
    assert m["spend_mae"] == pytest.approx(np.mean(np.abs(predicted - by_hand)), rel=1e-9)
    # simulated from the models themselves: the total is forecast within 15 %
    assert abs(m["spend_total_error_pct"]) < 15


# --------------------------------------------------------------------------------------------
# zero and missing amounts


def test_repeat_buyers_with_only_free_purchases_are_left_out_of_the_spend_fit(cdnow_calibration):
    X = cdnow_calibration.copy()
    paying = X.index[(X["frequency"] > 0) & (X["monetary_value"] > 0)]
    free = paying[:25]
    X.loc[free, "monetary_value"] = 0.0
    sm = clv.SpendModel().fit(X)
    reference = clv.SpendModel().fit(X.drop(index=free))
    assert sm.n_free_repeat_buyers_ == 25 + int(
        ((cdnow_calibration["frequency"] > 0) & (cdnow_calibration["monetary_value"] <= 0)).sum()
    )
    assert sm.n_repeat_buyers_ == len(paying) - 25
    pd.testing.assert_series_equal(sm.params_, reference.params_)
    assert any("were all free (zero amounts)" in note["en"] for note in sm.notes_)
    assert np.isfinite(clv.CLVModel().fit(X).predict(X).loc[free, "clv"]).all()


def test_an_event_log_without_amounts_gets_purchase_forecasts_and_says_there_is_no_money():
    tx = clv.simulate_transactions(1500, seed=9, start="2023-01-01", end="2024-06-30")
    customers = pd.DataFrame({"customer_id": [*tx["customer_id"].unique(), "prospect"]})
    config = load_config(overrides={"clv": {"bootstrap": {"n": 2, "seed": 0}}})
    log = clv.run(Frames(tx.assign(amount=np.nan), as_of="2024-06-30", customers_table=customers), config)
    out = log.columns.set_index("customer_id")
    bought = out.drop(index="prospect")
    assert bought[["expected_purchases", "p_alive"]].notna().all().all()
    assert out[["expected_spend", "clv", "clv_low", "clv_high"]].isna().all().all()
    report = json.loads(json.dumps(log.record, allow_nan=False))
    assert report["amounts"] is False and "the input has no amounts" in report["amounts_note"]["en"]
    assert report["spend_model"]["method"] == "none"
    assert "The input has no amounts" in log.summary()
    for text in (clv.describe.choice_markdown(log, "zh"), clv.describe.spend_markdown(log, "zh")):
        assert "输入数据没有金额" in text and "the input" not in text
    top = clv.page_table(log, "top_customers", n=5)
    assert top["Expected purchases"].tolist() == sorted(bought["expected_purchases"].round(2), reverse=True)[:5]
    # the purchase forecasts are those of the same log with its amounts
    with_amounts = clv.run(Frames(tx, as_of="2024-06-30", customers_table=customers), config).columns
    for column in ("expected_purchases", "p_alive"):
        np.testing.assert_array_equal(log.columns[column], with_amounts[column])


# --------------------------------------------------------------------------------------------
# determinism


def test_the_stage_twice_gives_the_same_record_bytes_and_values():
    tx = clv.simulate_transactions(3000, seed=8, start="2023-01-01", end="2024-06-30")
    config = load_config(overrides={"clv": {"bootstrap": {"n": 4, "seed": 1}}})
    runs = [clv.run(Frames(tx, as_of="2024-06-30"), config) for _ in range(3)]
    first = json.dumps(runs[0].record, sort_keys=True)
    for run in runs[1:]:
        assert json.dumps(run.record, sort_keys=True) == first
        pd.testing.assert_frame_equal(run.columns, runs[0].columns, check_exact=True)
