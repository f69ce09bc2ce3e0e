"""The Pareto/NBD likelihood, P(alive) and the exact gradient of the fit's objective against truth
computed with mpmath at 40 digits (its own hypergeometric function, in Fader & Hardie's form of the
likelihood, note 009 eq. 18-20), never with the code under test: frequencies up to 500, recency from
just after the first purchase to T, T up to 300 weeks, at the CDNOW estimates and at parameters of
dense and of near-degenerate data.

Tolerances: the log-likelihood to a relative 1e-12, or an absolute 1e-12 where it is near 0 (the
likelihood itself to a relative 1e-12), P(alive) to a relative 1e-10 where it is above
1e-300 (a difference of two logs of size ~1000 leaves ~1e-13), the gradient to a relative 1e-8 of
its size (mpmath's numerical derivative of the truth)."""

import numpy as np
import pytest

from analysis import clv
from analysis.clv import pareto

mp = pytest.importorskip("mpmath")

PARAMS = {
    "cdnow": (0.553, 10.58, 0.606, 11.67),  # Fader, Hardie & Lee's CDNOW estimates (weeks)
    "dense": (1.96, 5.02, 1.2e-4, 97166.0),  # a grocery panel with almost no dropout (beta >> alpha)
    "alpha above beta": (5.0, 40.0, 3.0, 0.02),
    "alpha a little above beta": (2.0, 12.0, 0.7, 6.0),
    "small r": (0.05, 0.3, 0.8, 2.4),
}


def _grid() -> np.ndarray:
    """(x, t_x, T) rows: x up to 500, t_x from just after the first purchase to T, T up to 300."""
    rows = []
    for x in (0, 1, 2, 5, 20, 100, 150, 300, 500):
        for T in (0.5, 39.0, 78.0, 300.0):
            for share in (0.0,) if x == 0 else (1e-4, 0.3, 0.9, 1 - 1e-7, 1.0):
                rows.append((x, share * T, T))
    return np.array(rows)


def _truth(params, x, t_x, T):
    """log-likelihood and P(alive) at 40 digits (or more, inside mpmath's derivative): Fader &
    Hardie's closed form with mpmath's 2F1."""
    with mp.workdps(max(40, mp.mp.dps)):
        r, alpha, s, beta = (mp.mpf(v) for v in params)
        x, t_x, T = mp.mpf(x), mp.mpf(t_x), mp.mpf(T)
        rsx = r + s + x
        if alpha >= beta:
            top, second = alpha, s + 1
        else:
            top, second = beta, r + x
        diff = abs(alpha - beta)

        def term(y):  # A_0 before the difference: 2F1(r + s + x, ., r + s + x + 1; z) / (max + y)^(r + s + x)
            return mp.hyp2f1(rsx, second, rsx + 1, diff / (top + y)) / (top + y) ** rsx

        died = s / rsx * (term(t_x) - term(T))
        alive = 1 / ((alpha + T) ** (r + x) * (beta + T) ** s)
        head = mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(alpha) + s * mp.log(beta)
        return head + mp.log(alive + died), alive / (alive + died)


@pytest.mark.parametrize("name", list(PARAMS))
def test_log_likelihood_and_p_alive_equal_mpmath_up_to_x_500(name):
    params = PARAMS[name]
    grid = _grid()
    truth = [_truth(params, *row) for row in grid]
    ll = np.array([float(v) for v, _ in truth])
    alive = np.array([float(p) for _, p in truth])
    np.testing.assert_allclose(clv.pareto_log_likelihood(params, *grid.T), ll, rtol=1e-12, atol=1e-12)
    shown = alive > 1e-300
    got = clv.pareto_p_alive(params, *grid.T)
    np.testing.assert_allclose(got[shown], alive[shown], rtol=1e-10)
    assert np.all(got[~shown] < 1e-290)
    assert np.all(got[grid[:, 1] == grid[:, 2]] == 1.0)  # bought at T: alive for sure


def test_the_likelihood_stays_finite_at_the_edges_the_optimiser_visits():
    grid = _grid() / np.array([1.0, 300.0, 300.0])  # the optimiser's time scale: max T = 1
    edges = [(1e-6, 1e-6, 1e-6, 1e6), (1000.0, 1e6, 1000.0, 1e-6), (1e-6, 1e6, 1000.0, 1e6), (3.0, 2.0, 1.0, 2.0)]
    for params in edges:
        ll = clv.pareto_log_likelihood(params, *grid.T)
        assert np.all(np.isfinite(ll)), params
        assert np.all(np.isfinite(clv.pareto_p_alive(params, *grid.T)))


@pytest.mark.parametrize("name", ["cdnow", "dense", "alpha a little above beta", "small r"])
def test_the_exact_gradient_equals_a_high_precision_derivative_of_the_truth(name):
    rng = np.random.default_rng(3)
    grid = _grid()[::3]  # 55 of the rows, every frequency (mpmath's derivative is slow)
    weights = rng.integers(1, 5, len(grid)).astype(float)
    scale = 1.0 / 300.0  # the fit's units: time scaled to max T = 1
    f, t_x, T = grid[:, 0], grid[:, 1] * scale, grid[:, 2] * scale
    params = np.array(PARAMS[name]) * np.array([1.0, scale, 1.0, scale])
    objective = pareto.ParetoObjective(f, t_x, T, weights, penalizer_coef=0.0)
    _, grad = objective(np.log(params))

    def mean_ll(i, log_value):  # the truth's mean log-likelihood, parameter i at exp(log_value)
        p = [mp.mpf(v) for v in params]
        p[i] = mp.exp(log_value)
        return sum(w * _truth(p, *row)[0] for w, row in zip(weights, zip(f, t_x, T, strict=True), strict=True))

    with mp.workdps(40):
        truth = [-mp.diff(lambda v, i=i: mean_ll(i, v), mp.log(params[i])) / weights.sum() for i in range(4)]
    truth = np.array([float(v) for v in truth])
    np.testing.assert_allclose(grad, truth, rtol=1e-8, atol=1e-8 * np.max(np.abs(truth)))
