"""The month-by-month forecast and backtest (analysis.clv.monthly): calendar windows, the sum of the months against
the CLV's per-customer totals, exact tiny cases, simulated customers with known parameters, the backtest's
reconciliation with the holdout, and the edge cases (mid-month as-of date, short holdout, no amounts)."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis.clv import backtest_months, monthly
from analysis.clv.backtest import backtest
from analysis.clv.models import PurchaseModel
from analysis.clv.nbd import NBDModel
from analysis.clv.simulate import simulate_transactions
from analysis.clv.spend import SpendModel
from analysis.clv.value import CLVModel
from analysis.data import features
from analysis.errors import UserError

AS_OF = pd.Timestamp("2023-06-30")


@pytest.fixture(scope="module")
def sim():
    """Simulated purchases (BG/NBD, Gamma-Gamma with known parameters) to the end of 2023, and the customer
    summary as of the end of June 2023."""
    tx = simulate_transactions(2000, start="2022-01-01", end="2023-12-31", seed=3)
    past = tx[tx["timestamp"] < AS_OF + pd.Timedelta(days=1)]
    return tx, features.lifetimes_summary(past, AS_OF, "weeks")


def test_month_windows_after_a_month_end_are_the_whole_months():
    w = monthly.month_edges("1998-06-30", 12)
    assert list(w["month"]) == [
        f"{y}-{m:02d}-01" for y, m in [(1998, m) for m in range(7, 13)] + [(1999, m) for m in range(1, 7)]
    ]
    assert not w["partial"].any() and w["days"].sum() == 365 and w["end_days"].iloc[-1] == 365
    assert list(w["days"][:3]) == [31, 31, 30] and w["label_en"][0] == "Jul 1998" and w["label_zh"][0] == "1998年7月"


def test_a_mid_month_as_of_date_starts_with_the_rest_of_that_month_labelled_so():
    w = monthly.month_edges("1998-06-15", 12)
    assert len(w) == 13 and w["days"].sum() == 365
    first, last = w.iloc[0], w.iloc[-1]
    assert first["month"] == "1998-06-01" and first["days"] == 15 and first["partial"]
    assert first["label_en"] == "Jun 1998 (from 16 Jun)" and first["label_zh"] == "1998年6月（16日起）"
    assert last["month"] == "1999-06-01" and last["days"] == 15 and last["label_en"] == "Jun 1999 (to 15 Jun)"
    assert not w["partial"][1:-1].any()
    on_the_first = monthly.month_edges("1998-06-01", 1)  # the 1st is observed: June from the 2nd, July to the 1st
    assert list(on_the_first["days"]) == [29, 1] and on_the_first["label_en"][0] == "Jun 1998 (from 2 Jun)"


def test_a_horizon_under_a_month_or_an_end_before_the_start_is_refused():
    with pytest.raises(UserError, match="at least 1 month"):
        monthly.month_edges("1998-06-30", 0)
    with pytest.raises(UserError, match="end after the start"):
        monthly.month_windows("1998-06-30", "1998-06-30")


def test_a_constant_rate_buys_in_proportion_to_each_month_s_days():
    """Poisson purchases at 0.1 a week: each window's purchases are 0.1 x its days in weeks, the days counted in
    the CLV's months (12 x 4.345 weeks for the 365 days of the horizon)."""
    customers = pd.DataFrame({"frequency": [0.0, 3.0], "recency": [0.0, 5.0], "T": [10.0, 20.0],
                              "monetary_value": [0.0, 20.0]}, index=["a", "b"])  # fmt: skip
    spend = SpendModel().fit(customers.assign(frequency=[2.0, 3.0], monetary_value=[10.0, 20.0]))
    out = monthly.monthly_forecast(NBDModel.from_params("nbd", [0.1]), spend, customers, "1998-06-15", 12)
    days = monthly.month_edges("1998-06-15", 12)["days"].to_numpy()
    np.testing.assert_allclose(out["expected_purchases"], 2 * 0.1 * days * (12 * 4.345 / 365), rtol=1e-12)
    assert list(out.columns) == list(monthly.FORECAST_COLUMNS) and set(out["group_by"]) == {"all"}


@pytest.mark.parametrize("model", ["bgnbd", "pareto", "mbgnbd", "nbd"])
def test_the_months_of_all_sum_to_the_clv_s_per_customer_totals(sim, model):
    _, X = sim
    clv = CLVModel(model, n_bootstrap=8, random_state=1)
    scores = clv.fit_predict(X)
    rng = np.random.default_rng(0)
    groups = pd.DataFrame({"tier": rng.choice(["vip", "core", "rest"], len(X)),
                           "rfm_segment": rng.choice(["Champions", "Lost", None], len(X))}, index=X.index)  # fmt: skip
    out = monthly.monthly_forecast(clv.purchase_model_, clv.spend_model_, X, AS_OF, 12, groups,
                                   bootstrap=clv.bootstrap_params_)  # fmt: skip
    every = out[out["group_by"] == "all"]
    assert len(every) == 12
    assert every["expected_purchases"].sum() == pytest.approx(scores["expected_purchases"].sum(), rel=1e-9)
    revenue = (scores["expected_purchases"] * scores["expected_spend"]).sum()
    assert every["expected_revenue"].sum() == pytest.approx(revenue, rel=1e-9)
    by_tier = out[out["group_by"] == "tier"].groupby("month")[["expected_purchases", "expected_revenue"]].sum()
    np.testing.assert_allclose(by_tier.to_numpy(), every[["expected_purchases", "expected_revenue"]], rtol=1e-9)
    vip = groups.index[groups["tier"] == "vip"]
    vip_revenue = (scores.loc[vip, "expected_purchases"] * scores.loc[vip, "expected_spend"]).sum()
    assert out.loc[out["group"] == "vip", "expected_revenue"].sum() == pytest.approx(vip_revenue, rel=1e-9)
    segments = out[out["group_by"] == "rfm_segment"]  # customers without a segment are in "all" only
    assert set(segments["group"]) == {"Champions", "Lost"}
    assert segments["expected_purchases"].sum() < every["expected_purchases"].sum()
    assert (out["expected_revenue_low"] <= out["expected_revenue_high"]).all()


def test_the_next_three_months_are_the_first_three_months_and_their_range_is_of_the_total(sim):
    _, X = sim
    clv = CLVModel("bgnbd", n_bootstrap=10, random_state=2).fit(X)
    frame, quarter = monthly.forecast_products(clv.purchase_model_, clv.spend_model_, X, AS_OF, 12,
                                               bootstrap=clv.bootstrap_params_)  # fmt: skip
    first = frame.iloc[:3]
    assert quarter["expected_revenue"] == pytest.approx(first["expected_revenue"].sum(), rel=1e-12)
    assert quarter["expected_purchases"] == pytest.approx(first["expected_purchases"].sum(), rel=1e-12)
    assert quarter["expected_revenue_low"] < quarter["expected_revenue"] < quarter["expected_revenue_high"]
    assert (
        quarter["expected_revenue_high"] - quarter["expected_revenue_low"]
        < (first["expected_revenue_high"] - first["expected_revenue_low"]).sum()
    )  # the months' errors partly cancel
    assert (quarter["start"], quarter["end"]) == ("2023-07-01", "2023-09-30")
    assert "not customers still to be won" in quarter["scope"]["en"] and "新获得的客户" in quarter["scope"]["zh"]
    assert f"{quarter['expected_revenue']:,.0f}" in quarter["text"]["en"]
    assert f"{quarter['expected_revenue']:,.0f}" in quarter["text"]["zh"]


def test_the_forecast_matches_what_simulated_customers_did_month_by_month():
    """Twelve data sets from BG/NBD and Gamma-Gamma with known parameters, each fitted up to the end of March and
    forecast nine months ahead. The fit recovers the forecast of the true parameters month by month (within 2%,
    the estimation error of 2,000 customers); the true forecast, in purchase days as the data counts them (the
    simulator's purchases on one day count once: its days per purchase in the holdout), matches what the customers
    did each month, and so does the fitted forecast's revenue over the nine months: the mean difference over the
    twelve data sets within Student's t bound of its standard error at a 1% chance of a false alarm over the
    ten tests (data sets differ a lot: the customers' rates are drawn anew in each)."""
    from scipy.stats import t as student

    as_of, true = pd.Timestamp("2023-03-31"), PurchaseModel.from_params("bgnbd", (0.243, 4.414, 0.793, 2.426))
    fitted, expected, truth, days, revenue = [], [], [], [], []
    for seed in range(12):
        tx = simulate_transactions(2000, start="2022-01-01", end="2023-12-31", seed=100 + seed)
        X = features.lifetimes_summary(tx[tx["timestamp"] < as_of + pd.Timedelta(days=1)], as_of, "weeks")
        clv = CLVModel("bgnbd", horizon_months=9).fit(X)
        out = monthly.monthly_forecast(clv.purchase_model_, clv.spend_model_, X, as_of, 9)
        # X's customers: bought by as_of
        done = backtest_months.holdout_actuals(tx, monthly.month_edges(as_of, 9), as_of)
        later = tx[(tx["timestamp"] >= as_of + pd.Timedelta(days=1)) & tx["customer_id"].isin(X.index)]
        per_purchase = done["actual_purchases"].sum() / len(later)  # purchase days per purchase
        fitted.append(out["expected_purchases"].to_numpy())
        expected.append(monthly.monthly_forecast(true, clv.spend_model_, X, as_of, 9)["expected_purchases"])
        truth.append(expected[-1] * per_purchase)
        days.append(done["actual_purchases"].to_numpy())
        revenue.append([done["actual_revenue"].sum(), out["expected_revenue"].sum()])
    fitted, expected, truth, days, revenue = (np.array(v, float) for v in (fitted, expected, truth, days, revenue))
    assert np.all(np.abs(fitted.mean(axis=0) / expected.mean(axis=0) - 1) < 0.02)

    def z(differences):
        return differences.mean(axis=0) / (differences.std(axis=0, ddof=1) / np.sqrt(len(differences)))

    bound = student.ppf(1 - 0.01 / (2 * 10), len(days) - 1)
    assert np.all(np.abs(z(days - truth)) < bound), z(days - truth)
    assert abs(z(revenue[:, 0] - revenue[:, 1])) < bound
    assert truth.mean(axis=0)[0] > 1.1 * truth.mean(axis=0)[-1]  # fewer customers alive, fewer purchases


def test_without_amounts_the_forecast_has_purchases_only(sim):
    _, X = sim
    clv = CLVModel("bgnbd", n_bootstrap=4, random_state=1).fit(X.assign(monetary_value=np.nan))
    assert clv.spend_model_.method_ == "none"
    frame, quarter = monthly.forecast_products(clv.purchase_model_, clv.spend_model_, X, AS_OF, 12,
                                               bootstrap=clv.bootstrap_params_)  # fmt: skip
    assert frame["expected_purchases"].gt(0).all()
    assert frame[["expected_revenue", "expected_revenue_low", "expected_revenue_high"]].isna().all().all()
    assert "no amounts" in quarter["text"]["en"] and "没有金额" in quarter["text"]["zh"]


@pytest.fixture(scope="module")
def holdout():
    tx = simulate_transactions(2000, start="2022-01-01", end="2023-12-31", seed=5)
    return tx, backtest(tx, "2023-03-15", "2023-12-31", models=["bgnbd"])


def test_the_monthly_backtest_adds_up_to_the_backtest_s_holdout(holdout):
    tx, bt = holdout
    part = backtest_months.monthly_backtest(tx, bt, "bgnbd")
    rows = pd.DataFrame(part["monthly_backtest"])
    assert len(rows) == 10 and rows["partial"].tolist() == [True] + [False] * 9
    assert rows["label"][0] == {"en": "Mar 2023 (from 16 Mar)", "zh": "2023年3月（16日起）"}
    p = bt.predictions
    assert rows["actual_purchases"].sum() == p["actual"].sum()
    assert rows["actual_revenue"].sum() == pytest.approx(p["actual_spend"].sum(), rel=1e-9)
    assert rows["forecast_purchases"].sum() == pytest.approx(p["bgnbd"].sum(), rel=1e-9)
    assert rows["forecast_revenue"].sum() == pytest.approx(p["bgnbd_spend"].sum(), rel=1e-9)
    errors = 100 * (rows["forecast_revenue"] - rows["actual_revenue"]) / rows["actual_revenue"]
    np.testing.assert_allclose(rows["error_revenue_pct"], errors, rtol=1e-12)
    assert part["mape_revenue"] == pytest.approx(errors.abs().mean(), rel=1e-12)
    total = 100 * (p["bgnbd"].sum() - p["actual"].sum()) / p["actual"].sum()
    assert part["total_error_purchases_pct"] == pytest.approx(total, rel=1e-9)
    assert part["mape_purchases"] < 15  # the model is the simulation's: monthly noise only
    assert f"{part['mape_revenue']:.0f}%" in part["monthly_backtest_text"]["en"]
    assert "验证月" in part["monthly_backtest_text"]["zh"]


def test_a_holdout_under_two_calendar_months_or_a_model_not_backtested_says_so(holdout):
    tx, bt = holdout
    short = SimpleNamespace(calibration_end=pd.Timestamp("2023-11-01"), observation_end=pd.Timestamp("2023-12-31"))
    part = backtest_months.monthly_backtest(tx, short, "bgnbd")
    assert part["monthly_backtest"] == [] and np.isnan(part["mape_purchases"])
    assert "shorter than two calendar months" in part["monthly_backtest_text"]["en"]
    assert "不足两个自然月" in part["monthly_backtest_text"]["zh"]
    part = backtest_months.monthly_backtest(tx, bt, "pareto")
    assert part["monthly_backtest"] == [] and "Pareto/NBD was not backtested" in part["monthly_backtest_text"]["en"]


def test_without_amounts_the_monthly_backtest_has_purchases_only(holdout):
    tx, _ = holdout
    tx = tx.assign(amount=np.nan)
    part = backtest_months.monthly_backtest(tx, backtest(tx, "2023-03-15", "2023-12-31", models=["bgnbd"]), "bgnbd")
    rows = pd.DataFrame(part["monthly_backtest"])
    assert rows["actual_purchases"].gt(0).all() and rows[["actual_revenue", "forecast_revenue"]].isna().all().all()
    assert np.isfinite(part["mape_purchases"]) and np.isnan(part["mape_revenue"])
    assert "revenue is not backtested" in part["monthly_backtest_text"]["en"]


def test_percentage_errors_on_a_tiny_case():
    error, mape, total = backtest_months.percentage_errors([100, 50, 0], [110, 40, 5])
    np.testing.assert_allclose(error[:2], [10.0, -20.0])
    assert np.isnan(error[2]) and mape == pytest.approx(15.0) and total == pytest.approx(100 * 5 / 150)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_charts_draw_a_bar_per_month(holdout, sim, lang):
    import matplotlib.pyplot as plt

    from analysis.clv import monthly_plots

    tx, bt = holdout
    part = backtest_months.monthly_backtest(tx, bt, "bgnbd")
    ax = monthly_plots.plot_monthly_backtest(part, "revenue", lang=lang)
    assert len(ax.patches) == 2 * len(part["monthly_backtest"])
    assert ("收入" if lang == "zh" else "revenue") in ax.get_title()
    plt.close(ax.figure)
    _, X = sim
    clv = CLVModel("bgnbd", n_bootstrap=4, random_state=1).fit(X)
    out = monthly.monthly_forecast(clv.purchase_model_, clv.spend_model_, X, "2023-06-15", 12,
                                   bootstrap=clv.bootstrap_params_)  # fmt: skip
    ax = monthly_plots.plot_monthly_forecast(out, "2023-06-15", 12, lang=lang)
    assert len(ax.patches) == 13
    assert ax.get_xticklabels()[0].get_text().endswith("*")  # the rest of June, starred
    plt.close(ax.figure)


def test_with_covariates_each_customer_s_own_parameters_are_summed(sim):
    """A model with a covariate (issue 20): the customers are told apart by it too, and the months still add up
    to the CLV's totals."""
    _, X = sim
    X = X.assign(channel=np.random.default_rng(0).integers(0, 2, len(X)).astype(float))
    covariates = {"trans": ["channel"], "life": ["channel"], "constrain": [], "penalty": 0.0}
    clv = CLVModel("bgnbd", n_bootstrap=4, random_state=1, covariates=covariates)
    scores = clv.fit_predict(X)
    out = monthly.monthly_forecast(clv.purchase_model_, clv.spend_model_, X, AS_OF, 12,
                                   bootstrap=clv.bootstrap_params_)  # fmt: skip
    assert out["expected_purchases"].sum() == pytest.approx(scores["expected_purchases"].sum(), rel=1e-9)
    revenue = (scores["expected_purchases"] * scores["expected_spend"]).sum()
    assert out["expected_revenue"].sum() == pytest.approx(revenue, rel=1e-9)
    assert out["expected_revenue_low"].notna().all()


def test_the_no_dropout_fallback_is_backtested_on_the_calibration_period_and_no_backtest_is_said(holdout):
    """When the stage forecasts with the NBD (every dropout model degenerate), the same method is fitted on the
    calibration period here: its months add up to its holdout expectation. Without a backtest, a sentence says so."""
    from analysis.clv.backtest import calibration_summary

    tx, bt = holdout
    part = backtest_months.monthly_backtest(tx, bt, "nbd", fit_options={"max_shape": 1000.0, "max_iterations": 500})
    X = calibration_summary(features.calibration_holdout(tx, bt.calibration_end, bt.observation_end, "weeks"))
    expected = NBDModel().fit(X).expected_purchases(X, bt.holdout_length).sum()
    forecast = sum(row["forecast_purchases"] for row in part["monthly_backtest"])
    assert forecast == pytest.approx(expected, rel=1e-9) and part["monthly_backtest_model"] == "nbd"
    part = backtest_months.monthly_backtest(tx, None, "nbd")
    assert part["monthly_backtest"] == [] and "No model could be backtested" in part["monthly_backtest_text"]["en"]


@pytest.mark.parametrize("seed", [200, 201, 202])
def test_the_true_forecast_lies_within_the_range_month_by_month(seed):
    """Simulated BG/NBD and Gamma-Gamma customers (the benchmark generator's draws): each month's revenue under the
    true parameters (BG/NBD r, alpha, a, b = 0.243, 4.414, 0.793, 2.426; Gamma-Gamma p, q, v = 6.25, 3.74, 15.44)
    lies within the fitted forecast's 90 % bootstrap range, for the same customers. Over twelve such data sets
    every month was inside; a range too narrow or a biased forecast fails here."""
    import copy

    as_of = pd.Timestamp("2023-03-31")
    tx = simulate_transactions(3000, start="2022-01-01", end="2023-12-31", seed=seed)
    X = features.lifetimes_summary(tx[tx["timestamp"] < as_of + pd.Timedelta(days=1)], as_of, "weeks")
    clv = CLVModel("bgnbd", horizon_months=9, n_bootstrap=30, random_state=seed).fit(X)
    out = monthly.monthly_forecast(clv.purchase_model_, clv.spend_model_, X, as_of, 9,
                                   bootstrap=clv.bootstrap_params_)  # fmt: skip
    spend = copy.copy(clv.spend_model_)
    assert spend.method_ == "gamma-gamma"
    spend.params_ = pd.Series([6.25, 3.74, 15.44], index=spend.params_.index)
    true = PurchaseModel.from_params("bgnbd", (0.243, 4.414, 0.793, 2.426))
    truth = monthly.monthly_forecast(true, spend, X, as_of, 9)["expected_revenue"]
    assert (out["expected_revenue_low"] <= truth).all() and (truth <= out["expected_revenue_high"]).all()
    assert (out["expected_revenue_high"] < 1.2 * out["expected_revenue"]).all()  # and the range is a range


MONTH_ENDS = [("2023-04-30", 3, "2023-07-31"), ("2023-02-28", 12, "2024-02-29"), ("2023-01-31", 1, "2023-02-28"),
              ("2023-04-15", 3, "2023-07-15")]  # fmt: skip


@pytest.mark.parametrize(("as_of", "months", "last"), MONTH_ENDS)
def test_after_a_month_end_as_of_date_the_windows_are_whole_months(as_of, months, last):
    """30 April + 3 months is all of July (it lost 31 July, labelled 'to 30 Jul'); mid-month keeps its day."""
    edges = monthly.month_edges(as_of, months)
    assert (pd.Timestamp(as_of) + pd.Timedelta(days=int(edges["end_days"].iloc[-1]))) == pd.Timestamp(last)
    if pd.Timestamp(as_of).is_month_end:
        assert len(edges) == months and not any("to " in label for label in edges["label_en"])
