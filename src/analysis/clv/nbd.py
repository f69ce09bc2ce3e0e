"""The purchase process alone, without dropout: the NBD (gamma-Poisson) model, the CLV stage's forecast where
nobody has dropped out yet (the dropout models' fits then run to the edge of their parameter space)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import digamma, gammaln
from sklearn.base import BaseEstimator

from analysis.clv.models import SUMMARY_COLUMNS, check_columns, condense, weighted_patterns

NBD_MODEL = "nbd"  # the purchase process alone: no dropout (a fallback, not a configured model)
NBD_LABELS = {"en": "NBD (no dropout)", "zh": "NBD（无流失）"}

# The NBD's log-likelihood this little above its Poisson limit's means the data cannot tell customers' purchase
# rates apart: half the 95% point of a chi-square with one degree of freedom (the gamma's shape r), 3.84 / 2.
POISSON_GAIN = 1.92


class NBDModel(BaseEstimator):
    """The purchase process alone, without dropout: each customer buys as a Poisson process at a rate that is
    gamma distributed across customers (the NBD, Ehrenberg's model; r, alpha), and nobody leaves: P(alive) = 1.

    The forecast where nobody has dropped out yet, so the dropout models' fits are degenerate. Its
    log-likelihood is the density of each customer's repeat purchase times in (0, T] (recency plays no part),
    the BG/NBD's likelihood without dropout, so it is comparable with the other models'. When the data cannot
    tell customers' rates apart (r at ``max_shape``, the likelihood's maximum at infinity), the fit is its
    Poisson limit: every customer at one rate, ``rate`` = total repeat purchases / total T (``poisson_``); so also
    when the NBD's log-likelihood is at most :data:`POISSON_GAIN` above the Poisson's (a likelihood-ratio test).
    ``fit(X)`` learns ``params_`` (``r``, ``alpha`` or ``rate``), ``log_likelihood_``, ``n_customers_``,
    ``n_patterns_``, ``n_iterations_``, ``poisson_`` and ``problem_`` (always None)."""

    model = NBD_MODEL

    def __init__(self, max_shape: float = 1000.0, max_iterations: int = 500):
        self.max_shape = max_shape
        self.max_iterations = max_iterations

    def fit(self, X: pd.DataFrame, y=None, sample_weight=None, condensed=None):
        """Fit on ``X`` (``frequency``, ``T``; ``recency`` is not used), as :meth:`PurchaseModel.fit`."""
        unique, counts, _ = weighted_patterns(X, sample_weight, condensed)
        x, T = unique["frequency"].to_numpy(float), unique["T"].to_numpy(float)
        params, self.n_iterations_ = self._fit_weighted(x, T, counts, None)
        self.poisson_ = len(params) == 1
        self.params_ = pd.Series(params, index=["rate"] if self.poisson_ else ["r", "alpha"], dtype=float)
        self.log_likelihood_ = float(np.sum(counts * nbd_log_likelihood(params, x, T)))
        self.n_customers_, self.n_patterns_, self.problem_ = int(round(counts.sum())), int((counts > 0).sum()), None
        return self

    def _fit_weighted(self, x, T, w, poisson: bool | None) -> tuple[np.ndarray, int]:
        """(params, iterations) by maximum likelihood on rows ``x``, ``T`` weighted ``w``: (r, alpha), or (rate,)
        for the Poisson limit (when ``poisson``, or when None and r runs to ``max_shape``)."""
        rate = float(np.sum(w * x) / np.sum(w * T)) if np.sum(w * T) > 0 else 0.0
        if poisson or rate == 0.0:
            return np.array([rate]), 0
        scale = 1.0 / float(np.max(T[w > 0]))
        xs, Ts = x, T * scale
        start = np.log([1.0, 1.0 / max(rate / scale, 1e-12)])

        def objective(z):
            r, alpha = np.exp(z)
            ll = gammaln(r + xs) - gammaln(r) + r * np.log(alpha) - (r + xs) * np.log(alpha + Ts)
            d_r = digamma(r + xs) - digamma(r) + np.log(alpha) - np.log(alpha + Ts)
            d_alpha = r / alpha - (r + xs) / (alpha + Ts)
            n = np.sum(w)
            return -np.sum(w * ll) / n, -np.array([np.sum(w * d_r) * r, np.sum(w * d_alpha) * alpha]) / n

        bounds = [(np.log(1e-6), np.log(self.max_shape)), (np.log(1e-6), np.log(1e12))]
        with np.errstate(all="ignore"):
            res = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds,
                           options={"maxiter": int(self.max_iterations)})  # fmt: skip
        params = np.exp(res.x) / [1.0, scale]
        if not np.isfinite(params).all():
            return np.array([rate]), int(res.nit)
        if poisson is None:  # one rate for all unless the spread of rates fits clearly better
            gain = np.sum(w * (nbd_log_likelihood(params, x, T) - nbd_log_likelihood([rate], x, T)))
            if params[0] >= self.max_shape * (1 - 1e-6) or gain <= POISSON_GAIN:
                return np.array([rate]), int(res.nit)
        return params, int(res.nit)

    def refit_draws(self, unique: pd.DataFrame, weights: np.ndarray, curvature=None) -> list[np.ndarray]:
        """The parameters refitted for each column of ``weights`` (customers per row of ``unique``, e.g.
        bootstrap resamples), in the form of this fit (NBD or its Poisson limit)."""
        x, T = unique["frequency"].to_numpy(float), unique["T"].to_numpy(float)
        return [self._fit_weighted(x, T, w, self.poisson_)[0] for w in np.asarray(weights, float).T]

    def warm_curvature(self, X: pd.DataFrame | None = None, condensed=None) -> None:
        """None: the NBD's refits need no warm start."""
        return None

    @classmethod
    def from_params(cls, model: str, params) -> NBDModel:
        """A fitted model with the given parameters (``(r, alpha)`` or ``(rate,)``), e.g. a bootstrap draw."""
        out = cls()
        p = np.asarray(params, float)
        out.poisson_ = len(p) == 1
        out.params_ = pd.Series(p, index=["rate"] if out.poisson_ else ["r", "alpha"])
        return out

    def _rates(self, unique: pd.DataFrame) -> np.ndarray:
        """Each row's expected purchase rate given its history: (r + x) / (alpha + T), or the common rate."""
        if not hasattr(self, "params_"):
            raise ValueError("this NBDModel is not fitted yet: call fit first")
        p = self.params_.to_numpy(float)
        if len(p) == 1:
            return np.full(len(unique), p[0])
        return (p[0] + unique["frequency"].to_numpy(float)) / (p[1] + unique["T"].to_numpy(float))

    def _unique(self, X: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        check_columns(X, SUMMARY_COLUMNS)
        return condense(X, SUMMARY_COLUMNS)

    def conditional_matrix(self, unique: pd.DataFrame, times) -> np.ndarray:
        """E[purchases in (T, T + t]] = rate x t for each row of ``unique`` and each t of ``times``."""
        return self._rates(unique)[:, None] * np.asarray(times, float)[None, :]

    def discounted_purchases(self, unique: pd.DataFrame, times, weights, pairs=None) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`PurchaseModel.discounted_purchases`: purchases up to the last of ``times`` and their
        discounted sum (a constant rate: each period's purchases are rate x its length)."""
        times = np.asarray(times, float)
        rate = self._rates(unique)
        return rate * times[-1], rate * float(np.diff(times) @ np.asarray(weights, float))

    def p_alive_unique(self, unique: pd.DataFrame) -> np.ndarray:
        """1 for every row: without dropout everyone is still a customer."""
        return np.ones(len(unique))

    def expected_purchases(self, X: pd.DataFrame, t: float, condensed=None) -> pd.Series:
        """Each customer's expected purchases in the next ``t`` time units."""
        unique, _, inverse = condensed or self._unique(X)
        return pd.Series(self.conditional_matrix(unique, [t])[inverse, 0], index=X.index)

    def p_alive(self, X: pd.DataFrame) -> pd.Series:
        """1 for every customer."""
        return pd.Series(1.0, index=X.index)

    def predict(self, X: pd.DataFrame, t: float = 52.0) -> pd.Series:
        """Alias of :meth:`expected_purchases`."""
        return self.expected_purchases(X, t)

    def log_likelihood(self, frequency, recency, T) -> np.ndarray:
        """Each customer's log-likelihood (the density of the repeat purchase times), in the data's time unit."""
        return nbd_log_likelihood(self.params_.to_numpy(float), np.asarray(frequency, float), np.asarray(T, float))

    def population_expected_purchases(self, t) -> np.ndarray:
        """E[repeat purchases in (0, t]] for a new customer: the mean rate x t."""
        p = self.params_.to_numpy(float)
        mean_rate = p[0] if len(p) == 1 else p[0] / p[1]
        return mean_rate * np.maximum(np.asarray(t, float), 0.0)

    def simulate(self, T, rng: np.random.Generator) -> pd.DataFrame:
        """Simulated ``frequency``, ``recency`` of customers observed for ``T`` units."""
        T = np.asarray(T, float)
        p = self.params_.to_numpy(float)
        rate = np.full(len(T), p[0]) if len(p) == 1 else rng.gamma(p[0], 1.0 / p[1], len(T))
        counts = rng.poisson(rate * T)
        # the last of n uniform times on (0, T) is T x U^(1/n)
        recency = np.where(counts > 0, T * rng.random(len(T)) ** (1.0 / np.maximum(counts, 1)), 0.0)
        return pd.DataFrame({"frequency": counts.astype(float), "recency": recency, "T": T})


def nbd_log_likelihood(params, x, T) -> np.ndarray:
    """Each customer's NBD log-likelihood of ``x`` repeat purchases at their times in (0, ``T``]: with
    ``params`` (r, alpha), log Γ(r + x) - log Γ(r) + r log alpha - (r + x) log(alpha + T); with (rate,), the
    Poisson limit x log rate - rate x T (0 log 0 = 0)."""
    p = np.asarray(params, float)
    x, T = np.asarray(x, float), np.asarray(T, float)
    if len(p) == 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(x > 0, x * np.log(p[0]), 0.0) - p[0] * T
    r, alpha = p
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * np.log(alpha + T)
