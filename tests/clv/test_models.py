"""CLV models: published CDNOW values, parameter recovery, the fast path against plain lifetimes,
numerical safety of Pareto/NBD, the Gamma-Gamma failure path, backtest and the stage."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from analysis import clv
from analysis.clv import likelihoods, models
from analysis.clv.backtest import calibration_summary
from analysis.config import load_config
from analysis.data import features
from analysis.data.pipeline import prepare
from analysis.errors import UserError
from analysis.stage import Frames

BGNBD = (0.243, 4.414, 0.793, 2.426)
GG = (6.25, 3.74, 15.44)
RTOL = 1e-6


def _matches_published(value: float, published: float, decimals: int) -> bool:
    """``value`` rounds to the published figure (printed with ``decimals`` decimals)."""
    return abs(value - published) <= 0.5 * 10**-decimals + 1e-12


@pytest.fixture(scope="module")
def cdnow_calibration(lifetimes_datasets) -> pd.DataFrame:
    """The 2,357-customer CDNOW sample through our own loader and feature code: 39-week calibration."""
    config = load_config()
    config["validation"]["zero_amount"] = "keep"  # the published analyses count free CDs as purchases
    tx = prepare(str(lifetimes_datasets / "CDNOW_sample.txt"), config, "1998-06-30").transactions
    cal = features.calibration_holdout(tx, "1997-09-30", "1998-06-30", time_unit="weeks")
    return calibration_summary(cal)


@pytest.fixture(scope="module")
def lifetimes():
    import lifetimes

    return lifetimes


def _shuffled_with_ids(X: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """``X`` in a random order, indexed by string customer ids that do not sort like positions."""
    rng = np.random.default_rng(seed)
    out = X.reset_index(drop=True).iloc[rng.permutation(len(X))]
    out.index = pd.Index([f"c{i * 7919 % 100003:06d}" for i in range(len(out))], name="customer_id")
    return out


# --------------------------------------------------------------------------------------------
# import hygiene


def test_importing_clv_leaves_pandas_options_and_warning_filters_unchanged():
    # fitters.pandas_options cannot be imported before the snapshot (importing fitters imports
    # lifetimes): the same walk through pd.options, written out here
    code = (
        "import warnings, pandas as pd\n"
        "import scipy.special, scipy.stats, sklearn.base  # clv's other imports add filters too\n"
        "def options(node=pd.options, prefix=''):\n"
        "    out = {}\n"
        "    for name in dir(node):\n"
        "        with warnings.catch_warnings():\n"
        "            warnings.simplefilter('ignore')\n"
        "            value = getattr(node, name)\n"
        "        if isinstance(value, type(pd.options)): out.update(options(value, prefix + name + '.'))\n"
        "        else: out[prefix + name] = value\n"
        "    return out\n"
        "before, filters = options(), list(warnings.filters)\n"
        "assert 'mode.chained_assignment' in before and 'display.max_rows' in before\n"
        "import sys; assert 'lifetimes' not in sys.modules\n"
        "import analysis.clv\n"
        "assert 'lifetimes' in sys.modules\n"
        "from analysis.clv.fitters import pandas_options\n"
        "assert pandas_options().keys() == before.keys()\n"
        "after = options()\n"
        "changed = {k: (before[k], after.get(k)) for k in before if before[k] != after.get(k)}\n"
        "assert not changed, changed\n"
        "assert list(warnings.filters) == filters, 'warnings filters changed'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_lifetimes_really_sets_the_option_we_contain():
    code = (
        "import warnings; warnings.simplefilter('ignore')\nimport pandas as pd\n"
        "before = pd.get_option('mode.chained_assignment')\n"
        "import lifetimes\nprint(before, pd.get_option('mode.chained_assignment'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = out.stdout.split()
    assert before != after  # if lifetimes stops doing this, the containment can go


# --------------------------------------------------------------------------------------------
# published CDNOW values (Fader, Hardie & Lee 2005; Fader & Hardie notes 004, 009, 025)


def test_bgnbd_reproduces_the_published_cdnow_estimates(cdnow_calibration):
    assert len(cdnow_calibration) == 2357
    pm = clv.PurchaseModel("bgnbd").fit(cdnow_calibration)
    for name, published in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert _matches_published(pm.params_[name], published, 3), (name, pm.params_[name])
    assert _matches_published(pm.log_likelihood_, -9582.4, 1)


def test_pareto_nbd_reproduces_the_published_cdnow_estimates(cdnow_calibration):
    pm = clv.PurchaseModel("pareto").fit(cdnow_calibration)
    published = {"r": (0.553, 3), "alpha": (10.58, 2), "s": (0.606, 3), "beta": (11.67, 2)}
    for name, (value, decimals) in published.items():
        assert _matches_published(pm.params_[name], value, decimals), (name, pm.params_[name])
    assert _matches_published(pm.log_likelihood_, -9595.0, 1)


def test_gamma_gamma_reproduces_the_published_cdnow_estimates(cdnow_calibration):
    sm = clv.SpendModel().fit(cdnow_calibration)
    assert sm.n_repeat_buyers_ == 946
    assert sm.method_ == "gamma-gamma"
    for name, published in {"p": 6.25, "q": 3.74, "v": 15.44}.items():
        assert _matches_published(sm.params_[name], published, 2), (name, sm.params_[name])
    assert abs(sm.correlation_) < sm.correlation_warning and not sm.warnings_


# --------------------------------------------------------------------------------------------
# parameter recovery


def test_bgnbd_parameters_are_recovered_from_simulated_customers():
    rng = np.random.default_rng(11)
    T = rng.uniform(26.0, 78.0, 40_000)
    X = clv.simulate_summary("bgnbd", BGNBD, T, rng)
    pm = clv.PurchaseModel("bgnbd").fit(X)
    rel = np.abs(pm.params_.to_numpy() / np.array(BGNBD) - 1)
    assert rel[:2].max() < 0.05, pm.params_  # r, alpha: well identified
    assert rel[2:].max() < 0.15, pm.params_  # a, b: the dropout process, less so


def test_gamma_gamma_parameters_are_recovered_from_simulated_spend():
    rng = np.random.default_rng(12)
    frequency = rng.integers(1, 8, 20_000)
    X = pd.DataFrame({"frequency": frequency.astype(float), "monetary_value": clv.simulate_spend(frequency, GG, rng)})
    sm = clv.SpendModel().fit(X)
    rel = np.abs(sm.params_.to_numpy() / np.array(GG) - 1)
    assert sm.method_ == "gamma-gamma" and rel.max() < 0.1, sm.params_
    # population mean spend v p / (q - 1)
    assert abs(sm.population_mean_spend_ / (GG[2] * GG[0] / (GG[1] - 1)) - 1) < 0.05


@pytest.mark.parametrize(
    "model, params", [("pareto", (0.553, 10.58, 0.606, 11.67)), ("mbgnbd", (0.525, 6.18, 0.891, 1.614))]
)
def test_other_purchase_models_recover_their_parameters(model, params):
    rng = np.random.default_rng(13)
    X = clv.simulate_summary(model, params, rng.uniform(26.0, 78.0, 30_000), rng)
    pm = clv.PurchaseModel(model).fit(X)
    rel = np.abs(pm.params_.to_numpy() / np.array(params) - 1)
    assert rel.max() < 0.2, pm.params_


# --------------------------------------------------------------------------------------------
# fast path equals plain lifetimes


@pytest.fixture(scope="module")
def simulated_customers() -> pd.DataFrame:
    """Customers with many duplicate (frequency, recency, T) rows, like real weekly data."""
    tx = clv.simulate_transactions(4000, seed=3, start="2023-01-01", end="2024-06-30")
    summary = features.lifetimes_summary(tx, "2024-06-30")
    return _shuffled_with_ids(summary, seed=4)


@pytest.mark.parametrize(
    "model, fitter", [("bgnbd", "BetaGeoFitter"), ("mbgnbd", "ModifiedBetaGeoFitter"), ("pareto", "ParetoNBDFitter")]
)
def test_fast_path_equals_plain_lifetimes(model, fitter, simulated_customers, lifetimes):
    X = simulated_customers
    pm = clv.PurchaseModel(model).fit(X)
    assert pm.n_patterns_ < 0.6 * len(X)  # the condensed fit really is smaller
    kwargs = {"initial_params": np.ones(4)} if model == "pareto" else {}
    plain = getattr(lifetimes, fitter)().fit(X["frequency"], X["recency"], X["T"], **kwargs)
    f, r, T = (X[c].to_numpy() for c in ("frequency", "recency", "T"))
    if model == "pareto":
        # lifetimes' Nelder-Mead stops at tol 1e-4; ours runs L-BFGS-B to the maximum: at least
        # as likely, the same estimates to 1e-4, and the same scores at the same parameters
        theirs = clv.PurchaseModel.from_params("pareto", plain.params_.to_numpy())
        assert pm.log_likelihood_ >= theirs.log_likelihood(f, r, T).sum() - 1e-9
        np.testing.assert_allclose(pm.params_.to_numpy(), plain.params_.to_numpy(), rtol=1e-4)
        plain.params_ = pm.params_.copy()
    else:
        np.testing.assert_allclose(pm.params_.to_numpy(), plain.params_.to_numpy(), rtol=RTOL)
    ours = pm.expected_purchases(X, 26.0)
    assert ours.index.equals(X.index)
    np.testing.assert_allclose(ours.to_numpy(), plain.predict(26.0, f, r, T), rtol=RTOL)
    np.testing.assert_allclose(pm.p_alive(X).to_numpy(), plain.conditional_probability_alive(f, r, T), rtol=RTOL)


def test_clv_equals_lifetimes_customer_lifetime_value_by_customer(simulated_customers, lifetimes):
    X = simulated_customers
    model = clv.CLVModel("bgnbd", horizon_months=12, discount_rate=0.01).fit(X)
    ours = model.predict(X)
    assert ours.index.equals(X.index)
    bg = lifetimes.BetaGeoFitter().fit(X["frequency"], X["recency"], X["T"])
    rep = X[X["frequency"] > 0]
    gg = lifetimes.GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    np.testing.assert_allclose(model.spend_model_.params_.to_numpy(), gg.params_.to_numpy(), rtol=RTOL)
    plain = gg.customer_lifetime_value(
        bg, X["frequency"], X["recency"], X["T"], X["monetary_value"], time=12, discount_rate=0.01, freq="W"
    )
    # compared by position: lifetimes' values follow the input order, ours carry the ids
    np.testing.assert_allclose(ours["clv"].to_numpy(), plain.to_numpy(), rtol=RTOL)
    spend = gg.conditional_expected_average_profit(X["frequency"], X["monetary_value"])
    np.testing.assert_allclose(ours["expected_spend"].to_numpy(), np.asarray(spend), rtol=RTOL)


def test_results_follow_customer_ids_not_positions(simulated_customers):
    X = simulated_customers
    model = clv.CLVModel("bgnbd").fit(X)
    reordered = X.iloc[::-1]
    a, b = model.predict(X), model.predict(reordered)
    assert b.index.equals(reordered.index)
    pd.testing.assert_frame_equal(a, b.loc[a.index])


def test_margin_and_discount_enter_as_documented(cdnow_calibration):
    X = cdnow_calibration
    one = clv.CLVModel("bgnbd", horizon_months=1, discount_rate=0.0).fit(X).predict(X)
    pm = clv.PurchaseModel("bgnbd").fit(X)
    expected = pm.expected_purchases(X, 4.345) * one["expected_spend"]
    np.testing.assert_allclose(one["clv"], expected, rtol=1e-9)
    disc = clv.CLVModel("bgnbd", horizon_months=1, discount_rate=0.02, margin=0.3).fit(X)
    np.testing.assert_allclose(disc.predict(X)["clv"], expected * 0.3 / 1.02, rtol=1e-9)


# --------------------------------------------------------------------------------------------
# Pareto/NBD numerical safety

PNBD = (0.553, 10.58, 0.606, 11.67)


@pytest.mark.parametrize("frequency", [150.0, 200.0, 500.0, 2000.0])
def test_pareto_is_finite_and_exact_for_heavy_buyers_at_the_end_of_the_window(frequency):
    pm = clv.PurchaseModel.from_params("pareto", PNBD)
    X = pd.DataFrame({"frequency": [frequency], "recency": [78.0], "T": [78.0]}, index=["heavy"])
    r, alpha, s, beta = PNBD
    # a purchase at T means alive at T: P(alive) = 1 and E = E[lambda | x, T] E[purchases | alive]
    assert pm.p_alive(X)["heavy"] == 1.0
    t = 52.0
    closed = (r + frequency) / (alpha + 78) * (beta + 78) / (s - 1) * (1 - ((beta + 78) / (beta + 78 + t)) ** (s - 1))
    np.testing.assert_allclose(pm.expected_purchases(X, t)["heavy"], closed, rtol=1e-12)
    assert np.isfinite(clv.pareto_log_likelihood(PNBD, frequency, 78.0, 78.0))


def test_lifetimes_pareto_is_nan_where_ours_is_finite(lifetimes):
    # the defect we work around (SciPy >= 1.16); if lifetimes is fixed this test says so
    plain = lifetimes.ParetoNBDFitter()
    plain.params_ = pd.Series(PNBD, index=["r", "alpha", "s", "beta"])
    x, tx, T = np.array([200.0]), np.array([78.0]), np.array([78.0])
    with np.errstate(all="ignore"):
        assert np.isnan(plain.conditional_probability_alive(x, tx, T)).all()
    assert np.isfinite(clv.pareto_p_alive(PNBD, x, tx, T)).all()


def test_pareto_equals_lifetimes_wherever_lifetimes_is_finite(lifetimes):
    plain = lifetimes.ParetoNBDFitter()
    plain.params_ = pd.Series(PNBD, index=["r", "alpha", "s", "beta"])
    grid = np.array(
        [
            (x, tx, T)
            for x in (0, 1, 3, 10, 50, 100, 200, 500)
            for T in (5.0, 39.0, 78.0)
            for tx in (0.0, 0.3 * T, T - 0.1, T)
            if x > 0 or tx == 0.0
        ]
    )
    x, tx, T = grid.T
    with np.errstate(all="ignore"):
        lt_alive = plain.conditional_probability_alive(x, tx, T)
        lt_pred = plain.conditional_expected_number_of_purchases_up_to_time(39.0, x, tx, T)
        lt_ll = lifetimes.ParetoNBDFitter._conditional_log_likelihood(PNBD, x, tx, T)
    ok = np.isfinite(lt_alive) & np.isfinite(lt_pred) & np.isfinite(lt_ll)
    assert ok.sum() > 0.8 * len(ok)
    np.testing.assert_allclose(clv.pareto_p_alive(PNBD, x, tx, T)[ok], lt_alive[ok], rtol=RTOL)
    np.testing.assert_allclose(
        clv.pareto_expected_purchases(PNBD, 39.0, x, tx, T)[ok], lt_pred[ok], rtol=RTOL, atol=1e-300
    )
    np.testing.assert_allclose(clv.pareto_log_likelihood(PNBD, x, tx, T)[ok], lt_ll[ok], rtol=RTOL)


def test_pareto_alpha_below_beta_branch_matches_lifetimes(lifetimes):
    params = (0.8, 3.0, 1.2, 20.0)  # alpha < beta takes the other hypergeometric form
    plain = lifetimes.ParetoNBDFitter()
    plain.params_ = pd.Series(params, index=["r", "alpha", "s", "beta"])
    x, tx, T = np.array([1.0, 4.0, 20.0]), np.array([5.0, 30.0, 70.0]), np.array([78.0] * 3)
    np.testing.assert_allclose(
        clv.pareto_p_alive(params, x, tx, T), plain.conditional_probability_alive(x, tx, T), rtol=RTOL
    )
    np.testing.assert_allclose(
        clv.pareto_expected_purchases(params, 10.0, x, tx, T),
        plain.conditional_expected_number_of_purchases_up_to_time(10.0, x, tx, T),
        rtol=RTOL,
    )


def test_pareto_fits_data_with_heavy_buyers_at_the_end_of_the_window():
    rng = np.random.default_rng(5)
    X = clv.simulate_summary("pareto", PNBD, rng.uniform(26, 78, 3000), rng)
    heavy = pd.DataFrame({"frequency": [200.0, 350.0], "recency": [78.0, 78.0], "T": [78.0, 78.0]})
    X = pd.concat([X, heavy], ignore_index=True)
    pm = clv.PurchaseModel("pareto").fit(X)
    assert np.isfinite(pm.params_).all() and np.isfinite(pm.log_likelihood_)
    assert np.isfinite(pm.expected_purchases(X, 52.0)).all()


# --------------------------------------------------------------------------------------------
# Gamma-Gamma: correlation, non-repeat buyers, failure path


def test_spend_without_heterogeneity_falls_back_to_the_population_mean():
    X = pd.DataFrame({"frequency": [0.0, 1, 2, 3, 4, 5] * 20, "monetary_value": [0.0, 20, 20, 20, 20, 20] * 20})
    sm = clv.SpendModel().fit(X)
    assert sm.method_ == "mean"
    assert any("population mean" in w["en"] for w in sm.warnings_)
    np.testing.assert_allclose(sm.predict(X), 20.0)
    # and the whole CLV fit runs on it
    rng = np.random.default_rng(7)
    X = clv.simulate_summary("bgnbd", BGNBD, rng.uniform(26, 78, 2000), rng)
    X["monetary_value"] = np.where(X["frequency"] > 0, 20.0, 0.0)
    model = clv.CLVModel("bgnbd").fit(X)
    assert model.spend_model_.method_ == "mean"
    out = model.predict(X)
    assert np.isfinite(out["clv"]).all() and (out["expected_spend"] == 20.0).all()


def test_a_failed_first_gamma_gamma_fit_is_retried_with_the_penalty(monkeypatch, cdnow_calibration):
    real = clv.SpendModel._try_fit

    def first_fails(f, m, w, penalizer, initial_params, engine="fast"):
        return None if penalizer == 0.0 else real(f, m, w, penalizer, initial_params, engine)

    monkeypatch.setattr(clv.SpendModel, "_try_fit", staticmethod(first_fails))
    sm = clv.SpendModel(retry_penalizer=0.001).fit(cdnow_calibration)
    assert sm.method_ == "gamma-gamma (penalized)" and sm.penalty_ == 0.001
    assert any("did not converge" in w["en"] for w in sm.warnings_)


def test_strong_frequency_spend_correlation_is_reported():
    rng = np.random.default_rng(6)
    f = rng.integers(1, 10, 2000).astype(float)
    X = pd.DataFrame({"frequency": f, "monetary_value": 10 * f + rng.gamma(2.0, 2.0, 2000)})
    sm = clv.SpendModel(correlation_warning=0.3).fit(X)
    assert sm.correlation_ > 0.9
    assert any("correlated" in w["en"] for w in sm.warnings_)


def test_customers_without_repeat_purchase_get_the_population_mean_spend(cdnow_calibration):
    sm = clv.SpendModel().fit(cdnow_calibration)
    p, q, v = sm.params_
    new = pd.DataFrame({"frequency": [0.0, 0.0], "monetary_value": [0.0, 999.0]})
    np.testing.assert_allclose(sm.predict(new), v * p / (q - 1))


# --------------------------------------------------------------------------------------------
# bootstrap, estimator contract, errors


def test_bootstrap_intervals_are_reproducible_and_bracket_the_range(cdnow_calibration):
    X = cdnow_calibration
    a = clv.CLVModel("bgnbd", n_bootstrap=8, random_state=3).fit(X)
    b = clv.CLVModel("bgnbd", n_bootstrap=8, random_state=3).fit(X)
    pd.testing.assert_frame_equal(a.bootstrap_params_, b.bootstrap_params_)
    out = a.predict(X)
    assert (out["clv_low"] <= out["clv_high"]).all()
    assert (out["clv_high"] - out["clv_low"]).max() > 0
    params = a.parameter_intervals()
    assert list(params.columns) == ["estimate", "low", "high"]
    assert (params["low"] <= params["high"]).all()


def test_estimators_follow_the_sklearn_contract(cdnow_calibration):
    model = clv.CLVModel("pareto", horizon_months=6, margin=0.2)
    assert clone(model).get_params() == model.get_params()
    assert model.fit(cdnow_calibration) is model
    fitter = model.purchase_model_.fitter_
    assert not hasattr(fitter, "data")  # no copy of the training data is kept
    with pytest.raises(ValueError, match="not fitted yet"):
        clv.CLVModel().predict(cdnow_calibration)


def test_clear_errors_for_bad_settings(cdnow_calibration):
    with pytest.raises(UserError, match="unknown CLV model 'bgnb'"):
        clv.CLVModel("bgnb").fit(cdnow_calibration)
    with pytest.raises(UserError, match="margin must be in"):
        clv.CLVModel(margin=1.5).fit(cdnow_calibration)
    with pytest.raises(ValueError, match="lacks monetary_value"):
        clv.CLVModel().fit(cdnow_calibration.drop(columns="monetary_value"))
    with pytest.raises(UserError, match="unknown clv choose_by"):
        clv.choose_model(pd.DataFrame({"rmse": [1.0]}, index=["bgnbd"]), "r2")


# --------------------------------------------------------------------------------------------
# backtest pieces on tiny exact inputs


def test_holdout_is_half_the_window_at_most_a_year():
    cal, end = clv.holdout_period("1997-01-01", "1998-06-30")
    assert (end - cal).days == 545 // 2
    cal, end = clv.holdout_period("2015-01-01", "2024-12-31")
    assert (end - cal).days == 365
    cal, _ = clv.holdout_period("2015-01-01", "2024-12-31", calibration_end="2024-01-31")
    assert cal == pd.Timestamp("2024-01-31")
    with pytest.raises(UserError, match="calibration period must end"):
        clv.holdout_period("2024-01-01", "2024-06-30", calibration_end="2024-08-01")


def test_backtest_metrics_on_a_tiny_example():
    m = clv.backtest_metrics([0, 1, 2, 5], [1, 1, 1, 4])
    assert m["mae"] == pytest.approx(0.75)
    assert m["rmse"] == pytest.approx(np.sqrt(3 / 4))
    assert m["total_error_pct"] == pytest.approx(-1 / 8 * 100)
    assert m["spearman"] == pytest.approx(0.7745966692)


def test_choose_model_picks_the_lowest_error_and_says_why():
    metrics = pd.DataFrame(
        {"rmse": [1.2, 1.1], "mae": [0.5, 0.6], "spearman": [0.4, 0.5], "total_error_pct": [-3.0, 8.0]},
        index=["bgnbd", "pareto"],
    )
    assert clv.choose_model(metrics, "rmse")[0] == "pareto"
    best, reason = clv.choose_model(metrics, "total_error")
    assert best == "bgnbd" and "error of the total" in reason and "Pareto/NBD" in reason


def test_tracking_counts_repeat_purchase_days_week_by_week():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "b", "c"],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 18:00",
                    "2024-01-03 10:00",
                    "2024-01-10 10:00",
                    "2024-01-02 10:00",
                    "2024-01-16 10:00",
                    "2024-01-20 10:00",
                ]
            ),
        }
    )
    pm = clv.PurchaseModel.from_params("bgnbd", BGNBD)
    out = clv.tracking_data(tx, {"bgnbd": pm}, "2024-01-09", "2024-01-21")
    # c is first seen after the calibration end: left out; a's two purchases on day 1 are one
    assert out["week_end"].dt.strftime("%m-%d").tolist() == ["01-07", "01-14", "01-21"]
    assert out["actual"].tolist() == [1.0, 2.0, 3.0]
    assert out["calibration"].tolist() == [True, False, False]
    assert out["bgnbd"].is_monotonic_increasing and out["bgnbd"].iloc[0] > 0


def test_conditional_expectation_groups_by_calibration_frequency():
    preds = pd.DataFrame({"frequency": [0, 0, 1, 9, 12], "actual": [0, 1, 2, 5, 7], "bgnbd": [0.1, 0.1, 1.0, 4.0, 6.0]})
    out = clv.conditional_expectation_data(preds, max_frequency=7)
    assert out.index.tolist() == ["0", "1", "7+"]
    assert out["customers"].tolist() == [2, 1, 2]
    assert out["actual"].tolist() == [0.5, 2.0, 6.0]
    assert out["bgnbd"].tolist() == pytest.approx([0.1, 1.0, 5.0])


# --------------------------------------------------------------------------------------------
# the stage


def test_run_clv_writes_every_column_and_a_json_report():
    tx = clv.simulate_transactions(3000, seed=8, start="2023-01-01", end="2024-06-30")
    customers = pd.DataFrame({"customer_id": [*tx["customer_id"].unique(), "prospect"]})
    config = load_config(overrides={"clv": {"bootstrap": {"n": 4, "seed": 1}}})
    run = clv.run(Frames(tx, as_of="2024-06-30", customers_table=customers), config)
    out = run.columns.set_index("customer_id")
    assert list(out.columns) == list(clv.OUTPUT_COLUMNS)
    assert out.index.equals(pd.Index(customers["customer_id"], name="customer_id"))
    assert out.loc["prospect", "clv"] == 0 and np.isnan(out.loc["prospect", "p_alive"])
    bought = out.drop(index="prospect")
    assert bought.notna().all().all() and (bought["clv_low"] <= bought["clv_high"]).all()
    report = json.loads(json.dumps(run.record, allow_nan=False))
    assert report["chosen_model"] in report["models"]
    for name in clv.MODELS:
        entry = report["models"][name]
        assert {"params", "log_likelihood"} <= set(entry["calibration"])
        assert {"mae", "rmse", "spearman", "total_error_pct"} <= set(entry["backtest"])
    assert "full" in report["models"][report["chosen_model"]]
    assert report["clv"]["customers_without_purchase"] == 1
    assert report["choice_reason"]["en"].startswith(clv.MODEL_LABELS[report["chosen_model"]])
    assert "repeat purchases" in run.summary()


def test_unknown_model_in_the_config_is_a_user_error():
    config = load_config(overrides={"clv": {"models": ["bgnbd", "paretonbd"]}})
    with pytest.raises(UserError, match="unknown CLV model 'paretonbd'"):
        clv.clv_settings(config)


# --------------------------------------------------------------------------------------------
# the fast engine, condensing, fit_predict


def test_condense_gives_unique_rows_counts_and_each_customers_row():
    X = pd.DataFrame(
        {"frequency": [1.0, 0, 1, 2, 0, 1], "recency": [3.0, 0, 3, 5, 0, 2], "T": [10.0, 10, 10, 10, 8, 10]},
        index=list("abcdef"),
    )
    unique, counts, inverse = models.condense(X, clv.SUMMARY_COLUMNS)
    expected = pd.DataFrame({"frequency": [1.0, 0, 2, 0, 1], "recency": [3.0, 0, 5, 0, 2], "T": [10.0, 10, 10, 8, 10]})
    pd.testing.assert_frame_equal(unique, expected)
    assert counts.tolist() == [2, 1, 1, 1, 1]
    assert inverse.tolist() == [0, 1, 0, 2, 3, 4]
    with pytest.raises(ValueError, match="missing values"):
        models.condense(X.assign(T=[np.nan, 1, 1, 1, 1, 1]), clv.SUMMARY_COLUMNS)


@pytest.mark.parametrize("model", ["bgnbd", "mbgnbd"])
@pytest.mark.parametrize("penalizer", [0.0, 0.05])
def test_fast_engine_equals_the_lifetimes_engine(model, penalizer, cdnow_calibration):
    fast = clv.PurchaseModel(model, penalizer=penalizer).fit(cdnow_calibration)
    slow = clv.PurchaseModel(model, penalizer=penalizer, engine="lifetimes").fit(cdnow_calibration)
    np.testing.assert_allclose(fast.params_, slow.params_, rtol=RTOL)
    np.testing.assert_allclose(fast.log_likelihood_, slow.log_likelihood_, rtol=1e-9)
    # standard errors come from a finite-difference Hessian instead of autograd's
    np.testing.assert_allclose(fast.fitter_.standard_errors_, slow.fitter_.standard_errors_, rtol=1e-4)


@pytest.mark.parametrize("penalizer", [0.0, 0.05])
def test_fast_gamma_gamma_equals_the_lifetimes_engine(penalizer, cdnow_calibration):
    fast = clv.SpendModel(penalizer=penalizer).fit(cdnow_calibration)
    slow = clv.SpendModel(penalizer=penalizer, engine="lifetimes").fit(cdnow_calibration)
    np.testing.assert_allclose(fast.params_, slow.params_, rtol=RTOL)


def test_fast_objectives_have_the_gradient_of_lifetimes_likelihood(lifetimes):
    from autograd import value_and_grad

    rng = np.random.default_rng(9)
    X = clv.simulate_summary("bgnbd", BGNBD, rng.uniform(10, 78, 500), rng)
    # lifetimes fits on time scaled to max T = 1, with integer frequencies and weights
    args = (
        X["frequency"].to_numpy().astype(int),
        X["recency"].to_numpy() / 78,
        X["T"].to_numpy() / 78,
        rng.integers(1, 4, 500).astype(float),
        0.01,
    )
    x0 = np.log([0.3, 0.05, 0.8, 2.0])
    for objective, fitter in [
        (likelihoods.BGNBDObjective, lifetimes.BetaGeoFitter),
        (likelihoods.MBGNBDObjective, lifetimes.ModifiedBetaGeoFitter),
    ]:
        value, grad = objective(*args)(x0)
        ref_value, ref_grad = value_and_grad(fitter._negative_log_likelihood)(x0, *args)
        assert value == pytest.approx(ref_value, rel=1e-12)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-9)
    f = rng.integers(1, 9, 300).astype(float)
    m = clv.simulate_spend(f, GG, rng)
    y0 = np.log([5.0, 3.0, 12.0])
    value, grad = likelihoods.GammaGammaObjective(f, m, np.ones(300), 0.01)(y0)
    ref_value, ref_grad = value_and_grad(lifetimes.GammaGammaFitter._negative_log_likelihood)(
        y0, f, m, np.ones(300), 0.01
    )
    assert value == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-9)


def test_fit_predict_equals_fit_then_predict(cdnow_calibration):
    X = _shuffled_with_ids(cdnow_calibration)
    a = clv.CLVModel("pareto", n_bootstrap=3, random_state=0).fit_predict(X)
    b = clv.CLVModel("pareto", n_bootstrap=3, random_state=0).fit(X).predict(X)
    pd.testing.assert_frame_equal(a, b)


def test_population_curve_is_finite_at_s_equal_one():
    # Pareto/NBD's E[X(t)] = r beta / (alpha (s - 1)) (1 - (beta / (beta + t))^(s - 1)) is 0 / 0 at s = 1 (lifetimes:
    # NaN); its limit is r beta / alpha log(1 + t / beta)
    t = np.array([0.0, 1.0, 52.0])
    curve = clv.PurchaseModel.from_params("pareto", (0.5, 10.0, 1.0, 12.0)).population_expected_purchases(t)
    np.testing.assert_allclose(curve, 0.5 * 12.0 / 10.0 * np.log1p(t / 12.0), rtol=1e-12)
