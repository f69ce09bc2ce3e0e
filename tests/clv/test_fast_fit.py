"""The fast paths of the CLV fits on many customers: the coarse start of BG/NBD and MBG/NBD, the
Gamma-Gamma likelihood per distinct total spend, and the bootstrap on pattern counts, each against
the plain computation it replaces."""

import numpy as np
import pandas as pd
import pytest

from analysis import clv
from analysis.clv import fitters, likelihoods, optimize

BGNBD = (0.243, 4.414, 0.793, 2.426)
GG = (6.25, 3.74, 15.44)
RTOL = 1e-6


@pytest.fixture(scope="module")
def many_patterns() -> pd.DataFrame:
    """6,000 customers with T in continuous time: (almost) every customer is its own pattern."""
    rng = np.random.default_rng(11)
    X = clv.simulate_summary("bgnbd", BGNBD, rng.uniform(20, 104, 6000), rng)
    X.index = pd.Index([f"c{i:05d}" for i in range(len(X))], name="customer_id")
    return X


@pytest.mark.parametrize("model", ["bgnbd", "mbgnbd"])
def test_the_coarse_start_ends_at_lifetimes_maximum(model, many_patterns, monkeypatch):
    slow = clv.PurchaseModel(model, engine="lifetimes").fit(many_patterns)
    plain = clv.PurchaseModel(model).fit(many_patterns)  # below the threshold: lifetimes' start
    monkeypatch.setattr(fitters.FastFit, "COARSE_PATTERNS", 1000)
    coarse = clv.PurchaseModel(model).fit(many_patterns)
    assert coarse.n_patterns_ > 1000
    assert coarse.n_iterations_ < plain.n_iterations_ / 2  # the full data sees a few steps only
    np.testing.assert_allclose(coarse.params_, slow.params_, rtol=RTOL)
    assert coarse.log_likelihood_ >= slow.log_likelihood_ - 1e-9
    np.testing.assert_allclose(coarse.fitter_.standard_errors_, slow.fitter_.standard_errors_, rtol=1e-4)


def test_the_coarse_copy_merges_rows_on_the_grid_and_keeps_the_weights(many_patterns):
    fitter = fitters._FastBetaGeoFitter()
    f, r, T = (many_patterns[c].to_numpy() for c in ("frequency", "recency", "T"))
    scale = 1 / T.max()
    w = np.arange(1.0, len(f) + 1)
    fitter.COARSE_PATTERNS = 1000
    x_c, t_c, T_c, w_c, pen = fitter._coarse_args((f, r * scale, T * scale, w, 0.1))
    assert len(x_c) < len(f) / 2 and pen == 0.1
    assert w_c.sum() == pytest.approx(w.sum(), rel=1e-12)
    assert np.all(t_c <= T_c) and np.all(np.isin(x_c, f))
    np.testing.assert_allclose(np.rint(t_c * fitter.COARSE_GRID), t_c * fitter.COARSE_GRID, atol=1e-9)
    fitter.COARSE_PATTERNS = len(f)
    assert fitter._coarse_args((f, r * scale, T * scale, w, 0.1)) is None  # too few rows to gain


def test_gamma_gamma_per_distinct_total_equals_the_per_customer_likelihood():
    from autograd import value_and_grad
    from lifetimes import GammaGammaFitter

    rng = np.random.default_rng(5)
    f = rng.integers(1, 6, 3000).astype(float)
    total = rng.integers(1, 40, 3000) * 2.5  # few distinct totals, as amounts in cents give
    m = total / f
    w = rng.integers(1, 4, 3000).astype(float)
    objective = likelihoods.GammaGammaObjective(f, m, w, 0.01)
    assert len(objective.xm) < 100
    y0 = np.log([5.0, 3.0, 12.0])
    value, grad = objective(y0)
    ref_value, ref_grad = value_and_grad(GammaGammaFitter._negative_log_likelihood)(y0, f, m, w, 0.01)
    assert value == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-9)


@pytest.mark.parametrize("model", ["bgnbd", "mbgnbd"])
def test_a_refit_warm_started_with_the_curvature_ends_where_a_cold_refit_does(model, many_patterns):
    point = clv.PurchaseModel(model).fit(many_patterns)
    curvature = point.warm_curvature()
    assert curvature is not None and np.all(np.linalg.eigvalsh(curvature) > 0)
    counts = np.bincount(np.random.default_rng(1).integers(0, len(many_patterns), len(many_patterns)), minlength=6000)
    start = point.params_.to_numpy()
    cold = clv.PurchaseModel(model, tol=1e-10).fit(many_patterns, sample_weight=counts, initial_params=start)
    warm = clv.PurchaseModel(model).fit(
        many_patterns, sample_weight=counts, initial_params=start, warm_curvature=curvature
    )
    assert warm.n_iterations_ < cold.n_iterations_
    np.testing.assert_allclose(warm.params_, cold.params_, rtol=1e-5)
    assert clv.PurchaseModel("pareto").warm_curvature() is None


def test_a_gamma_gamma_refit_warm_started_with_the_curvature_ends_where_a_cold_refit_does():
    rng = np.random.default_rng(2)
    f = rng.integers(0, 8, 5000).astype(float)
    X = pd.DataFrame({"frequency": f, "monetary_value": clv.simulate_spend(f, GG, rng)})
    point = clv.SpendModel().fit(X)
    curvature = point.warm_curvature(X)
    assert curvature.shape == (3, 3)
    counts = np.bincount(rng.integers(0, 5000, 5000), minlength=5000).astype(float)
    start = point.params_.to_numpy()
    cold = clv.SpendModel().fit(X, sample_weight=counts, initial_params=start)
    warm = clv.SpendModel().fit(X, sample_weight=counts, initial_params=start, warm_curvature=curvature)
    np.testing.assert_allclose(warm.params_, cold.params_, rtol=1e-5)
    assert clv.SpendModel().fit(X.assign(monetary_value=np.nan)).warm_curvature(X) is None


def _draws(inverse: np.ndarray, patterns: int, n_draws: int, seed: int) -> np.ndarray:
    """Bootstrap resamples of the customers as customers per pattern (patterns x draws)."""
    rng = np.random.default_rng(seed)
    n = len(inverse)
    return np.column_stack(
        [np.bincount(inverse, np.bincount(rng.integers(0, n, n), minlength=n), patterns) for _ in range(n_draws)]
    )


@pytest.mark.parametrize("model", ["bgnbd", "mbgnbd"])
def test_refits_of_the_draws_on_one_reweighted_objective_end_where_refits_one_by_one_do(model, many_patterns):
    point = clv.PurchaseModel(model).fit(many_patterns)
    unique, _, inverse = clv.models.condense(many_patterns, clv.models.SUMMARY_COLUMNS)
    weights = _draws(inverse, len(unique), 3, seed=9)
    curvature = point.warm_curvature()
    f, r, T = (unique[c].to_numpy() for c in ("frequency", "recency", "T"))
    together = point._fast_draws(f, r, T, weights, curvature)
    for params, w in zip(together, weights.T, strict=True):
        assert params is not None
        np.testing.assert_allclose(params, point.refit(unique, w, curvature), rtol=1e-9)


def test_a_gamma_gamma_refit_on_the_reweighted_objective_equals_the_full_fit(monkeypatch):
    rng = np.random.default_rng(5)
    f = rng.integers(0, 8, 5000).astype(float)
    X = pd.DataFrame({"frequency": f, "monetary_value": clv.simulate_spend(f, GG, rng)})
    point = clv.SpendModel().fit(X)
    objective = point.repeat_objective(X)
    curvature = point.warm_curvature(X, objective)
    counts = np.bincount(rng.integers(0, 5000, 5000), minlength=5000).astype(float)
    start = point.params_.to_numpy()
    full = clv.SpendModel().fit(X, sample_weight=counts, initial_params=start, warm_curvature=curvature)
    monkeypatch.setattr(clv.SpendModel, "fit", None)  # the refit must not fall back to a full fit
    params, method, mean = point.refit(X, counts, objective, curvature)
    np.testing.assert_allclose(params, full.params_, rtol=1e-9)
    assert method == full.method_ and mean == pytest.approx(full.population_mean_, rel=1e-12)


def test_the_bootstrap_is_reproducible_and_its_intervals_hold_the_estimate(many_patterns):
    X = many_patterns.assign(
        monetary_value=clv.simulate_spend(many_patterns["frequency"], GG, np.random.default_rng(3))
    )
    a = clv.CLVModel("bgnbd", n_bootstrap=8, random_state=4).fit(X)
    b = clv.CLVModel("bgnbd", n_bootstrap=8, random_state=4).fit(X)
    pd.testing.assert_frame_equal(a.bootstrap_params_, b.bootstrap_params_)
    assert a.bootstrap_params_[["r", "alpha", "a", "b", "gg_p", "gg_q", "gg_v"]].notna().all().all()
    params = a.parameter_intervals()
    assert (params["low"] < params["estimate"]).all() and (params["estimate"] < params["high"]).all()


def test_the_coarse_start_of_pareto_ends_at_the_plain_fits_maximum(many_patterns, monkeypatch):
    plain = clv.PurchaseModel("pareto").fit(many_patterns)
    monkeypatch.setattr(fitters.FastFit, "COARSE_PATTERNS", 1000)
    calls = []
    real = optimize._fit_pareto_from_coarse
    monkeypatch.setattr(optimize, "_fit_pareto_from_coarse", lambda *a: calls.append(real(*a)) or calls[-1])
    coarse = clv.PurchaseModel("pareto").fit(many_patterns)
    assert calls and calls[0] is not None  # the coarse path ran and was kept
    np.testing.assert_allclose(coarse.params_, plain.params_, rtol=1e-5)
    assert coarse.log_likelihood_ >= plain.log_likelihood_ - 1e-6


def test_the_spearman_correlation_of_the_backtest_equals_scipys():
    from scipy.stats import spearmanr

    from analysis.clv.backtest import _spearman, backtest_metrics

    rng = np.random.default_rng(6)
    actual = rng.poisson(1.0, 20_000).astype(float)  # many ties
    predicted = np.round(actual * 0.5 + rng.gamma(1.0, 1.0, 20_000), 2)
    assert _spearman(actual, predicted) == pytest.approx(spearmanr(actual, predicted)[0], rel=1e-12)
    assert backtest_metrics(actual, predicted)["spearman"] == pytest.approx(spearmanr(actual, predicted)[0], rel=1e-12)
    assert np.isnan(_spearman(actual, np.r_[predicted[:-1], np.nan]))


def test_pareto_refits_of_all_draws_at_once_end_where_refits_one_by_one_do(many_patterns):
    point = clv.PurchaseModel("pareto").fit(many_patterns)
    unique, _, inverse = clv.models.condense(many_patterns, clv.models.SUMMARY_COLUMNS)
    weights = _draws(inverse, len(unique), 3, seed=8)
    together = optimize.refit_pareto_draws(
        *(unique[c].to_numpy() for c in ("frequency", "recency", "T")), weights, 0.0, point.params_.to_numpy(), 1000.0
    )
    for params, w in zip(together, weights.T, strict=True):
        keep = w > 0
        alone = clv.PurchaseModel("pareto", tol=1e-15).fit(
            unique, condensed=(unique[keep].reset_index(drop=True), w[keep], None)
        )
        np.testing.assert_allclose(params, alone.params_, rtol=1e-5)


def test_quantiles_of_each_customers_draws_by_sorting_equal_numpys():
    from analysis.clv.value import _row_quantiles

    values = np.random.default_rng(7).normal(size=(500, 30))
    values[3, 4] = np.nan
    for q in ([0.05, 0.95], [0.25, 0.75], [0.0, 1.0]):
        np.testing.assert_allclose(_row_quantiles(values, q), np.quantile(values, q, axis=1), rtol=1e-14)


def test_the_draws_cubic_models_from_exact_gradients_recover_the_derivatives_of_a_cubic():
    rng = np.random.default_rng(10)
    g, H, third = rng.normal(size=(2, 4)), rng.normal(size=(2, 4, 4)), rng.normal(size=(2, 4, 4, 4))
    H = H + H.transpose(0, 2, 1)
    third = sum(third.transpose(0, *p) for p in __import__("itertools").permutations((1, 2, 3)))
    center = np.array([0.1, -0.2, 0.3, 0.0])

    class Cubic:  # two patterns, each a cubic in the log parameters around the center
        def pattern_log_likelihoods(self, P, gradient=False):
            d = np.log(P) - center
            values = [d @ g[k] + d @ H[k] @ d / 2 + np.einsum("ijk,i,j,k", third[k], d, d, d) / 6 for k in range(2)]
            slopes = [g[k] + H[k] @ d + np.einsum("ijk,j,k->i", third[k], d, d) / 2 for k in range(2)]
            return np.array(values), np.array(slopes)

    weights = np.array([[1.0, 2.0, 0.0], [3.0, 1.0, 1.0]])  # patterns x draws
    slopes, hessians, thirds = optimize._draw_models_from_gradients(Cubic(), center, weights)
    np.testing.assert_allclose(slopes, weights.T @ g, atol=1e-6)
    np.testing.assert_allclose(hessians, np.einsum("pd,pij->dij", weights, H), atol=1e-4)
    np.testing.assert_allclose(thirds, np.einsum("pd,pijk->dijk", weights, third), atol=1e-6)  # exact for a cubic
    step, curvature = optimize._cubic_minimum(slopes[0], np.eye(4) * 50 + hessians[0], thirds[0])
    model_slope = slopes[0] + (np.eye(4) * 50 + hessians[0]) @ step + (thirds[0] @ step) @ step / 2
    np.testing.assert_allclose(model_slope, 0.0, atol=1e-12)
    np.testing.assert_allclose(curvature, np.eye(4) * 50 + hessians[0] + thirds[0] @ step)
