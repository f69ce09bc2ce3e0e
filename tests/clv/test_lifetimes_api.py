"""The lifetimes-style fitters of analysis.clv against lifetimes itself (where lifetimes is finite), the published
CDNOW estimates, and the heavy buyers where lifetimes returns NaN; the transaction summary against lifetimes' and a
tiny frame worked by hand. lifetimes' own estimation tests run in tests/clv/lifetimes_estimation/."""

import pickle

import numpy as np
import pandas as pd
import pytest

from analysis import clv
from analysis.data import summary_data_from_transaction_data
from analysis.errors import UserError

BGNBD = (0.243, 4.414, 0.793, 2.426)
PNBD = (0.553, 10.58, 0.606, 11.67)


@pytest.fixture(scope="module")
def lifetimes():
    import lifetimes  # analysis.clv (imported above) imported it, its side effects undone

    return lifetimes


@pytest.fixture(scope="module")
def cdnow(lifetimes_datasets) -> pd.DataFrame:
    """lifetimes' CDNOW summary: 2,357 customers, 39-week calibration, mean spend of the repeat purchases."""
    df = pd.read_csv(lifetimes_datasets / "cdnow_customers_summary_with_transactions.csv")
    df.columns = ["customer_id", "frequency", "recency", "T", "monetary_value"]
    return df.set_index("customer_id")


def with_params(cls, params, names):
    out = cls()
    out.params_ = pd.Series(params, index=list(names))
    return out


def test_bgnbd_reproduces_the_published_cdnow_estimates_and_log_likelihood(cdnow):
    bgf = clv.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    np.testing.assert_allclose(bgf.params_, BGNBD, atol=5e-4)
    summary = (cdnow[c] for c in ("frequency", "recency", "T"))
    ll = clv.lifetimes_api.customer_log_likelihood("bgnbd", bgf.params_, *summary)
    assert round(float(ll.sum()), 1) == -9582.4  # Fader, Hardie & Lee (2005)


def test_pareto_and_gamma_gamma_reproduce_the_published_cdnow_estimates(cdnow):
    ptf = clv.ParetoNBDFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    np.testing.assert_allclose(ptf.params_, PNBD, rtol=2e-3)
    repeat = cdnow[cdnow["frequency"] > 0]
    ggf = clv.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    np.testing.assert_allclose(ggf.params_, (6.25, 3.74, 15.44), atol=1e-2)  # v: 15.448


@pytest.mark.parametrize("name", ["BetaGeoFitter", "ModifiedBetaGeoFitter"])
@pytest.mark.parametrize("penalizer", [0.0, 0.1])
def test_fits_and_forecasts_equal_lifetimes(name, penalizer, cdnow, lifetimes):
    f, r, T = (cdnow[c] for c in ("frequency", "recency", "T"))
    ours = getattr(clv, name)(penalizer_coef=penalizer).fit(f, r, T)
    theirs = getattr(lifetimes, name)(penalizer_coef=penalizer).fit(f, r, T)
    np.testing.assert_allclose(ours.params_, theirs.params_, rtol=1e-5)
    np.testing.assert_allclose(ours.standard_errors_, theirs.standard_errors_, rtol=1e-3)
    ours.params_ = theirs.params_.copy()  # the same parameters: the same numbers
    np.testing.assert_allclose(ours.predict(10, f, r, T), theirs.predict(10, f, r, T), rtol=1e-10)
    np.testing.assert_allclose(
        ours.conditional_probability_alive(f, r, T), theirs.conditional_probability_alive(f, r, T), rtol=1e-12
    )
    t = np.array([0.5, 10.0, 78.0])
    np.testing.assert_allclose(
        ours.expected_number_of_purchases_up_to_time(t), theirs.expected_number_of_purchases_up_to_time(t), rtol=1e-12
    )
    for n in (0, 1, 7):
        assert ours.probability_of_n_purchases_up_to_time(20, n) == pytest.approx(
            theirs.probability_of_n_purchases_up_to_time(20, n), rel=1e-9
        )


def test_gamma_gamma_and_clv_equal_lifetimes_and_keep_the_customer_index(cdnow, lifetimes):
    repeat = cdnow[cdnow["frequency"] > 0]
    ours = clv.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    theirs = lifetimes.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    np.testing.assert_allclose(ours.params_, theirs.params_, rtol=1e-6)
    bgf = lifetimes.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    args = [cdnow[c] for c in ("frequency", "recency", "T", "monetary_value")]
    ours.params_ = theirs.params_.copy()
    for freq in ("D", "W"):
        mine = ours.customer_lifetime_value(bgf, *args, time=6, discount_rate=0.02, freq=freq)
        np.testing.assert_allclose(mine, theirs.customer_lifetime_value(bgf, *args, 6, 0.02, freq=freq), rtol=1e-9)
        assert mine.index.equals(cdnow.index) and mine.name == "clv"


def test_pareto_forecasts_equal_lifetimes_where_lifetimes_is_finite(lifetimes):
    ours = with_params(clv.ParetoNBDFitter, PNBD, ("r", "alpha", "s", "beta"))
    theirs = with_params(lifetimes.ParetoNBDFitter, PNBD, ("r", "alpha", "s", "beta"))
    for n, t, x, t_x, T in [(0, 5.0, 2, 10.0, 30.0), (2, 10.0, 5, 20.0, 39.0), (4, 30.0, 1, 3.0, 20.0)]:
        assert ours.conditional_probability_of_n_purchases_up_to_time(n, t, x, t_x, T) == pytest.approx(
            theirs.conditional_probability_of_n_purchases_up_to_time(n, t, x, t_x, T), rel=1e-6
        )
    assert ours.expected_number_of_purchases_up_to_time(52.0) == pytest.approx(
        theirs.expected_number_of_purchases_up_to_time(52.0), rel=1e-12
    )


def test_heavy_buyers_get_finite_answers_where_lifetimes_returns_nan(lifetimes):
    x, t_x, T = np.array([200.0, 500.0]), np.array([78.0, 70.0]), np.array([78.0, 78.0])
    theirs = with_params(lifetimes.ParetoNBDFitter, PNBD, ("r", "alpha", "s", "beta"))
    with np.errstate(all="ignore"):
        assert np.isnan(theirs.conditional_probability_alive(x, t_x, T)).any()
    ours = with_params(clv.ParetoNBDFitter, PNBD, ("r", "alpha", "s", "beta"))
    alive = ours.conditional_probability_alive(x, t_x, T)
    assert alive[0] == 1.0 and 0.0 <= alive[1] < 1e-6  # bought at T: alive; 500 purchases, then 8 weeks silent
    assert np.all(np.isfinite(ours.conditional_expected_number_of_purchases_up_to_time(52.0, x, t_x, T)))
    probs = ours.conditional_probability_of_n_purchases_up_to_time(np.arange(400), 10.0, 200.0, 78.0, 78.0)
    assert probs.sum() == pytest.approx(1.0, abs=1e-9)
    bgf = with_params(clv.BetaGeoFitter, BGNBD, ("r", "alpha", "a", "b"))
    assert np.isfinite(bgf.probability_of_n_purchases_up_to_time(30.0, 400))  # lifetimes: gamma(400) is inf
    assert np.all(np.isfinite(bgf.predict(52.0, x, t_x, T)))


def test_results_keep_the_customers_index():
    X = pd.DataFrame({"frequency": [0.0, 2.0, 5.0], "recency": [0.0, 10.0, 30.0], "T": [20.0, 30.0, 39.0]},
                     index=pd.Index(["c9", "c1", "c5"], name="customer_id"))  # fmt: skip
    bgf = with_params(clv.BetaGeoFitter, BGNBD, ("r", "alpha", "a", "b"))
    alive = bgf.conditional_probability_alive(X["frequency"], X["recency"], X["T"])
    assert alive.index.equals(X.index) and alive["c9"] == 1.0
    assert bgf.predict(10, 2, 10.0, 30.0) == pytest.approx(bgf.predict(10, X["frequency"], X["recency"], X["T"])["c1"])


def test_a_saved_model_loads_with_the_same_forecasts(tmp_path, cdnow):
    bgf = clv.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    bgf.save_model(tmp_path / "bgf.pkl", save_data=False)
    loaded = clv.BetaGeoFitter()
    loaded.load_model(tmp_path / "bgf.pkl")
    assert loaded.data is None and loaded.params_.equals(bgf.params_)
    assert loaded.predict(4, 2, 10.0, 30.0) == bgf.predict(4, 2, 10.0, 30.0)
    copy = pickle.loads(pickle.dumps(bgf))
    assert copy.predict.__self__ is copy and len(copy.generate_new_data(random_state=1)) == len(cdnow)


def test_unusable_summaries_are_one_line_errors():
    with pytest.raises(UserError, match="larger than T"):
        clv.BetaGeoFitter().fit([1, 2], [5.0, 9.0], [4.0, 10.0])
    with pytest.raises(ValueError, match="missing values"):  # lifetimes would fit on NaN and return NaN
        clv.ParetoNBDFitter().fit([1, np.nan], [5.0, 9.0], [6.0, 10.0])
    with pytest.raises(UserError, match="frequency > 0"):
        clv.GammaGammaFitter().fit([0, 2], [10.0, 9.0])


TINY = pd.DataFrame(
    {
        "id": ["b", "a", "a", "a", "b", "c"],
        "when": ["2024-01-03", "2024-01-01", "2024-01-01", "2024-01-08", "2024-01-10", "2024-01-15"],
        "amount": [5.0, 10.0, 2.0, 6.0, 7.0, 99.0],
    }
)


def test_transaction_summary_on_a_tiny_log_worked_by_hand():
    out = summary_data_from_transaction_data(TINY, "id", "when", "amount", observation_period_end="2024-01-11")
    expected = pd.DataFrame(
        {
            "frequency": [1.0, 1.0],  # a: two days (two orders on the 1st count once); b: two days
            "recency": [7.0, 7.0],
            "T": [10.0, 8.0],
            "monetary_value": [6.0, 7.0],  # the repeat day's spend; c bought after the end: left out
        },
        index=pd.Index(["a", "b"], name="id"),
    )
    pd.testing.assert_frame_equal(out, expected)
    first = summary_data_from_transaction_data(TINY, "id", "when", "amount", include_first_transaction=True)
    assert first.loc["a", "monetary_value"] == 9.0 and first.loc["c", "frequency"] == 1.0  # (12 + 6) / 2


def test_transaction_summary_equals_lifetimes(lifetimes, lifetimes_datasets):
    tx = pd.read_csv(lifetimes_datasets / "example_transactions.csv", parse_dates=["date"])
    for kwargs in ({}, {"freq": "h", "observation_period_end": "2014-12-31"}, {"freq": "W", "freq_multiplier": 2}):
        ours = summary_data_from_transaction_data(tx, "id", "date", **kwargs)
        theirs = lifetimes.utils.summary_data_from_transaction_data(tx, "id", "date", **kwargs)
        pd.testing.assert_frame_equal(ours, theirs, check_names=False)


def test_transactions_without_a_customer_or_a_date_are_a_user_error():
    broken = TINY.assign(when=TINY["when"].where(TINY.index != 2, "not a date"))
    with pytest.raises(UserError, match="1 transactions have no readable 'when'"):
        summary_data_from_transaction_data(broken, "id", "when")
    with pytest.raises(UserError, match="no column 'amount_eur'"):
        summary_data_from_transaction_data(TINY, "id", "when", "amount_eur")


@pytest.mark.parametrize("name", ["BetaGeoFitter", "ModifiedBetaGeoFitter"])
@pytest.mark.parametrize("params", [BGNBD, (0.5, 2.0, 1.5, 0.5)])  # the second: c - a - b whole: hyp2f1 fails
def test_bg_forecasts_of_heavy_buyers_equal_the_high_precision_truth(name, params, lifetimes):
    import mpmath as mp

    mp.mp.dps = 30
    r, alpha, a, b = (mp.mpf(v) for v in params)
    k = 1 if name == "ModifiedBetaGeoFitter" else 0
    x, t_x = np.array([5.0, 300.0, 1000.0, 5000.0]), np.array([3.0, 0.5, 0.9, 90.0])
    T, t = np.array([10.0, 1.0, 1.0, 100.0]), 52.0
    ours = with_params(getattr(clv, name), params, ("r", "alpha", "a", "b"))
    expected = ours.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T)
    for i in range(len(x)):
        xi, Ti = mp.mpf(x[i]), mp.mpf(T[i])
        c = a + b + xi - 1 + k
        kept = mp.hyp2f1(r + xi, b + xi + k, c, t / (alpha + Ti + t)) * ((alpha + Ti) / (alpha + t + Ti)) ** (r + xi)
        numerator = c / (a - 1) * (1 - kept)
        odds = (a / (b + xi - 1 + k)) * ((alpha + Ti) / (alpha + mp.mpf(t_x[i]))) ** (r + xi)
        assert expected[i] == pytest.approx(float(numerator / (1 + odds)), rel=1e-9, abs=1e-300)
    theirs = with_params(getattr(lifetimes, name), params, ("r", "alpha", "a", "b"))
    with np.errstate(all="ignore"):
        finite = np.isfinite(theirs.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T)).all()
    assert finite == (params == BGNBD and not k)  # lifetimes' MBG/NBD has no fallback; neither has SciPy


@pytest.mark.parametrize(("name", "model", "params"), [
    ("BetaGeoFitter", "bgnbd", BGNBD), ("ModifiedBetaGeoFitter", "mbgnbd", (0.525, 6.183, 0.891, 1.614)),
    ("ParetoNBDFitter", "pareto", PNBD)])  # fmt: skip
def test_parameters_are_recovered_within_their_standard_errors(name, model, params):
    rng = np.random.default_rng(23)
    X = clv.simulate_summary(model, params, rng.uniform(26, 78, 20_000), rng)
    fitted = getattr(clv, name)().fit(X["frequency"], X["recency"], X["T"])
    z = (fitted.params_ - np.array(params)) / fitted.summary["se(coef)"]
    assert np.all(np.abs(z) < 4), z


def test_the_package_lists_the_lifetimes_style_fitters_and_every_name_it_exports():
    fitters = ("BaseFitter", "BetaGeoFitter", "ModifiedBetaGeoFitter", "ParetoNBDFitter", "GammaGammaFitter",
               "customer_lifetime_value")  # fmt: skip
    assert all(name in clv.__all__ and f"{name}`" in clv.__doc__ for name in fitters)
    assert all(hasattr(clv, name) for name in clv.__all__) and len(set(clv.__all__)) == len(clv.__all__)
    assert clv.BetaGeoFitter.__module__ == "analysis.clv.lifetimes_api"
