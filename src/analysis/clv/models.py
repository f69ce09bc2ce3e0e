"""Customer lifetime value with lifetimes: BG/NBD, Pareto/NBD, MBG/NBD and Gamma-Gamma.

This is the only module of the package that imports ``lifetimes``. Its import-time side effects
(a global pandas option and a global warnings filter) are undone right after the import.

Inputs are lifetimes-style customer summaries indexed by ``customer_id`` (see
:func:`analysis.data.features.lifetimes_summary`): ``frequency`` (repeat purchase days), ``recency``
(first to last purchase), ``T`` (first purchase to the as-of date), in the model time unit
(weeks = days / 7 by default), and ``monetary_value`` (mean spend of the repeat purchase days).

The fast path: models are fitted on the unique ``(frequency, recency, T)`` rows with their counts
as weights, and scored on unique rows that are then mapped back to customers. This gives the
same numbers as fitting and scoring customer by customer, because the log-likelihood is a sum
over customers. Every result is indexed by customer id, never by position. With the default
``engine="fast"``, BG/NBD, MBG/NBD and Gamma-Gamma are fitted by lifetimes' own fitters and
optimiser (same BFGS call, tolerance, start and parameterisation) on their own likelihood
computed in numpy with its exact gradient, the special functions once per distinct value,
instead of by autograd; CLV sums the discounted months in one pass over unique rows, with the
hypergeometric part once per distinct (frequency, T). Tests and ``benchmarks/bench_clv.py``
check parameters and predictions against plain lifetimes (relative difference <= 1e-6);
``engine="lifetimes"`` runs lifetimes' autograd likelihood instead.

Pareto/NBD is evaluated in log space here (the hypergeometric terms through Euler's
transformation, ``2F1(1, b; c; z)``, which never overflows), because lifetimes' own formulas
return NaN on SciPy >= 1.16 for heavy buyers whose last purchase is at the end of the window.

Public pieces:

- :class:`PurchaseModel`: one purchase model (``"bgnbd"``, ``"pareto"``, ``"mbgnbd"``).
- :class:`SpendModel`: Gamma-Gamma spend per purchase with a penalised retry and a documented
  fallback (the population mean spend per purchase) when it cannot be fitted.
- :class:`CLVModel`: both, plus discounted CLV over a horizon and bootstrap intervals.
- :func:`backtest`, :func:`choose_model`, :func:`tracking_data`,
  :func:`conditional_expectation_data`: calibration / holdout evaluation.
- :func:`run_clv`: the whole stage for a run (backtest, choice, refit, CLV, report).
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import digamma, expit, gammaln, hyp2f1
from scipy.stats import pearsonr, spearmanr
from sklearn.base import BaseEstimator

from analysis.errors import UserError


def _pandas_options() -> dict[str, Any]:
    """Every registered pandas option and its current value (deprecated ones included, quietly)."""
    from pandas._config import config as _pd_config

    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key in _pd_config._registered_options:
            with contextlib.suppress(Exception):
                out[key] = pd.get_option(key)
    return out


def _restore_pandas_options(saved: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, value in saved.items():
            with contextlib.suppress(Exception):
                if pd.get_option(key) != value:
                    pd.set_option(key, value)


_saved_options = _pandas_options()
with warnings.catch_warnings():  # lifetimes adds a global "ignore FutureWarning" filter at import
    warnings.simplefilter("ignore")  # and pandas 3 warns that the option it sets is deprecated
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter
    from lifetimes.utils import ConvergenceError
_restore_pandas_options(_saved_options)  # lifetimes sets pd.options.mode.chained_assignment
del _saved_options

MODELS = ("bgnbd", "pareto", "mbgnbd")
MODEL_LABELS = {"bgnbd": "BG/NBD", "pareto": "Pareto/NBD", "mbgnbd": "MBG/NBD"}
PARAM_NAMES = {
    "bgnbd": ("r", "alpha", "a", "b"),
    "pareto": ("r", "alpha", "s", "beta"),
    "mbgnbd": ("r", "alpha", "a", "b"),
}
# Time units in one month, as lifetimes' customer_lifetime_value counts them.
UNITS_PER_MONTH = {"weeks": 4.345, "W": 4.345, "days": 30.0, "D": 30.0}
UNIT_DAYS = {"weeks": 7.0, "W": 7.0, "days": 1.0, "D": 1.0}
OUTPUT_COLUMNS = ("expected_purchases", "p_alive", "expected_spend", "clv", "clv_low", "clv_high")
SUMMARY_COLUMNS = ("frequency", "recency", "T")
_LN2 = math.log(2.0)
PENALIZED_MEAN_TOLERANCE = 0.2  # see SpendModel._try_fit


# ---------------------------------------------------------------------------------------------
# Pareto/NBD in log space


def _log1mexp(d: np.ndarray) -> np.ndarray:
    """log(1 - exp(d)) for d <= 0, accurate near 0 and for very negative d; -inf at d = 0."""
    d = np.minimum(d, 0.0)
    with np.errstate(divide="ignore"):
        return np.where(d > -_LN2, np.log(-np.expm1(d)), np.log1p(-np.exp(d)))


def _pareto_log_term(params, x, y):
    """log of the hypergeometric term of A_0 at time y (Fader & Hardie note 009, eq. 19-20),
    rewritten with Euler's transformation so the 2F1 factor is 2F1(1, b; c; z), between 1 and
    1 / (1 - z): no overflow at any frequency."""
    r, alpha, s, beta = params
    rx, rsx = r + x, r + s + x
    if alpha >= beta:
        z = (alpha - beta) / (alpha + y)
        return (
            -s * np.log(beta + y) - rx * np.log(alpha + y) + np.log(hyp2f1(1.0, rx, rsx + 1.0, z))
        )
    z = (beta - alpha) / (beta + y)
    return (
        (1.0 - rx) * np.log(alpha + y)
        - (s + 1.0) * np.log(beta + y)
        + np.log(hyp2f1(1.0, s + 1.0, rsx + 1.0, z))
    )


def _pareto_log_parts(params, x, t_x, T):
    """The two log terms of the Pareto/NBD likelihood (without the common factor A_1): alive
    through T, and died between the last purchase and T."""
    r, alpha, s, beta = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    log_a0 = _pareto_log_term(params, x, t_x)
    log_a0 = log_a0 + _log1mexp(_pareto_log_term(params, x, T) - log_a0)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    died = np.log(s) + log_a0 - np.log(r + s + x)
    return alive, died


def pareto_log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Per-customer Pareto/NBD log-likelihood (Fader & Hardie note 009, eq. 18), in log space."""
    r, alpha, s, beta = params
    x = np.asarray(x, dtype=float)
    alive, died = _pareto_log_parts(params, x, t_x, T)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    return a1 + np.logaddexp(alive, died)


def pareto_p_alive(params, x, t_x, T) -> np.ndarray:
    """P(alive at T | x, t_x, T) under Pareto/NBD; exactly 1 when t_x == T."""
    alive, died = _pareto_log_parts(params, x, t_x, T)
    return expit(alive - died)


def pareto_expected_purchases(params, t, x, t_x, T) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T] under Pareto/NBD (note 009, eq. 41), in log space."""
    r, alpha, s, beta = params
    x, T, t = (np.asarray(v, dtype=float) for v in (x, T, t))
    ratio = np.log(beta + T) - np.log(beta + T + t)  # log((beta+T)/(beta+T+t)) <= 0
    horizon = -ratio if abs(s - 1.0) < 1e-12 else -np.expm1((s - 1.0) * ratio) / (s - 1.0)
    rate = (r + x) * (beta + T) / (alpha + T)
    return pareto_p_alive(params, x, t_x, T) * rate * horizon


class _ParetoNBDFitter(ParetoNBDFitter):
    """lifetimes' Pareto/NBD fitter with the likelihood, P(alive) and conditional expectation
    evaluated in log space (finite for any frequency; equal to lifetimes wherever it is finite)."""

    @staticmethod
    def _conditional_log_likelihood(params, freq, rec, T):
        return pareto_log_likelihood(params, freq, rec, T)

    @staticmethod
    def _negative_log_likelihood(params, freq, rec, T, weights, penalizer_coef):
        if np.any(np.asarray(params) <= 0.0):
            return np.inf
        ll = pareto_log_likelihood(params, freq, rec, T)
        penalty = penalizer_coef * np.sum(np.asarray(params) ** 2)
        return -(weights * ll).sum() / weights.mean() + penalty

    def conditional_probability_alive(self, frequency, recency, T):
        return pareto_p_alive(self._unload_params("r", "alpha", "s", "beta"), frequency, recency, T)

    def conditional_expected_number_of_purchases_up_to_time(self, t, frequency, recency, T):
        params = self._unload_params("r", "alpha", "s", "beta")
        return pareto_expected_purchases(params, t, frequency, recency, T)

    def expected_number_of_purchases_up_to_time(self, t):
        r, alpha, s, beta = self._unload_params("r", "alpha", "s", "beta")
        return r * beta / alpha / (s - 1) * (1 - (beta / (beta + np.asarray(t, float))) ** (s - 1))


# ---------------------------------------------------------------------------------------------
# fast likelihoods for lifetimes' gradient-based fitters
#
# lifetimes fits BG/NBD, MBG/NBD and Gamma-Gamma by BFGS on its own negative log-likelihood
# (differentiated by autograd), then takes an autograd Hessian for standard errors. The classes
# below compute the same function and its exact gradient with numpy, evaluating the special
# functions once per distinct frequency, recency and T instead of once per row (the gamma terms
# depend on the frequency only), and the Hessian by central differences of the gradient. The
# optimiser, its settings, the starting values, the parameterisation and every prediction stay
# lifetimes'. Tests check parameters against plain lifetimes (relative difference <= 1e-6).


def _hessian_from_gradient(objective, x: np.ndarray, grad: np.ndarray | None = None,
                           step: float = 1e-6) -> np.ndarray:
    """Hessian of ``objective`` (returning value, gradient) at ``x`` by forward differences of
    the exact gradient (only lifetimes' standard errors use it)."""
    n = len(x)
    g0 = objective(x)[1] if grad is None else grad
    h = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = step
        h[i] = (objective(x + e)[1] - g0) / step
    return (h + h.T) / 2


class _BGNBDObjective:
    """lifetimes' ``BetaGeoFitter._negative_log_likelihood`` (BG/NBD, Fader, Hardie & Lee 2005,
    section 7) and its gradient in the log parameters (r, alpha, a, b).

    Per customer, ll = A1 + A2 + log(exp(A3) + [x > 0] exp(A4)), with A1 and A2 functions of
    the frequency only. Customers with a repeat purchase contribute -(r + x) log(alpha + T) +
    softplus(A4 - A3); the others -r log(alpha + T), summed per distinct T."""

    modified = False

    def __init__(self, freq, rec, T, weights, penalizer_coef):
        x = np.asarray(freq, float)
        w = np.asarray(weights, float)
        self.xu, ix = np.unique(x, return_inverse=True)
        self.tu, it = np.unique(np.asarray(rec, float), return_inverse=True)
        self.Tu, iT = np.unique(np.asarray(T, float), return_inverse=True)
        self.W = w.sum()
        self.Wx = np.bincount(ix, weights=w, minlength=len(self.xu))
        # MBG/NBD has the softplus term for every customer, BG/NBD only after a repeat purchase
        active = np.ones(len(x), bool) if self.modified else x > 0
        self.W0 = np.bincount(iT[~active], weights=w[~active], minlength=len(self.Tu))
        self.xa, self.wa = x[active], w[active]
        self.ixa, self.ita, self.iTa = ix[active], it[active], iT[active]
        # A4 = log a - log(b + offset(x)) - (r + x) log(alpha + recency)
        self.offset = self.xu if self.modified else np.maximum(self.xu, 1) - 1
        self.penalizer = penalizer_coef

    def __call__(self, log_params):
        params = np.exp(np.asarray(log_params, float))
        r, alpha, a, b = params
        xu, wa = self.xu, self.wa
        log_aT_u, inv_aT_u = np.log(alpha + self.Tu), 1.0 / (alpha + self.Tu)
        log_at_u, inv_at_u = np.log(alpha + self.tu), 1.0 / (alpha + self.tu)
        log_aT, log_at = log_aT_u[self.iTa], log_at_u[self.ita]
        rx = r + self.xa
        gap = log_aT - log_at
        d = (np.log(a) - np.log(b + self.offset))[self.ixa] + rx * gap
        soft = np.maximum(d, 0.0) + np.log1p(np.exp(-np.abs(d)))  # log(1 + e^d), faster than
        wpi = wa * np.exp(d - soft)  # np.logaddexp; wpi = weight x P(the A4 branch)
        ab = a + b
        bx, abx = (b + xu + 1, ab + xu + 1) if self.modified else (b + xu, ab + xu)
        per_x = (gammaln(r + xu) - gammaln(r) + r * np.log(alpha)
                 + gammaln(ab) + gammaln(bx) - gammaln(b) - gammaln(abx))
        ll = (self.Wx @ per_x + wa @ (soft - rx * log_aT) - r * (self.W0 @ log_aT_u))
        inv_aT = inv_aT_u[self.iTa]
        grad = np.array([
            self.Wx @ (digamma(r + xu) - digamma(r) + np.log(alpha)) - wa @ log_aT
            + wpi @ gap - self.W0 @ log_aT_u,
            self.W * r / alpha - (wa * rx) @ inv_aT + (wpi * rx) @ (inv_aT - inv_at_u[self.ita])
            - r * (self.W0 @ inv_aT_u),
            self.Wx @ (digamma(ab) - digamma(abx)) + wpi.sum() / a,
            self.Wx @ (digamma(ab) + digamma(bx) - digamma(b) - digamma(abx))
            - wpi @ (1.0 / (b + self.offset))[self.ixa],
        ])
        value = -ll / self.W + self.penalizer * np.sum(params ** 2)
        return value, -params * grad / self.W + 2 * self.penalizer * params ** 2

    def hessian(self, log_params, grad=None):
        return _hessian_from_gradient(self, np.asarray(log_params, float), grad)


class _MBGNBDObjective(_BGNBDObjective):
    """lifetimes' ``ModifiedBetaGeoFitter._negative_log_likelihood`` and its gradient: every
    customer has the softplus term, with A4 = log a - log(b + x) + (r + x) log((alpha + T) /
    (alpha + recency))."""

    modified = True


class _GammaGammaObjective:
    """lifetimes' ``GammaGammaFitter._negative_log_likelihood`` (Fader & Hardie note 025) and
    its gradient in the log parameters (p, q, v).

    Per customer, q log v + (px - 1) log m + px log x - (px + q) log(xm + v) is rewritten as
    -px log1p(v / xm) - q log1p(xm / v) - log m, which avoids cancelling large sums."""

    def __init__(self, frequency, monetary_value, weights, penalizer_coef):
        x = np.asarray(frequency, float)
        m = np.asarray(monetary_value, float)
        self.w = np.asarray(weights, float)
        self.W = self.w.sum()
        self.xu, self.ix = np.unique(x, return_inverse=True)
        self.Wx = np.bincount(self.ix, weights=self.w, minlength=len(self.xu))
        self.xm = x * m
        self.log_xm = np.log(self.xm)
        self.wx = self.w * x
        self.s_log_m = self.w @ np.log(m)
        self.penalizer = penalizer_coef

    def __call__(self, log_params):
        params = np.exp(np.asarray(log_params, float))
        p, q, v = params
        xu = self.xu
        l_v = np.log1p(v / self.xm)  # log((xm + v) / xm)
        l_m = l_v + (self.log_xm - np.log(v))  # log((xm + v) / v)
        pxq = p * xu + q
        ll = (self.Wx @ (gammaln(pxq) - gammaln(p * xu)) - self.W * gammaln(q)
              - p * (self.wx @ l_v) - q * (self.w @ l_m) - self.s_log_m)
        z = self.xm + v
        grad = np.array([
            self.Wx @ (xu * (digamma(pxq) - digamma(p * xu))) - self.wx @ l_v,
            self.Wx @ digamma(pxq) - self.W * digamma(q) - self.w @ l_m,
            self.W * q / v - (p * self.wx + q * self.w) @ (1.0 / z),
        ])
        value = -ll / self.W + self.penalizer * np.sum(params ** 2)
        return value, -params * grad / self.W + 2 * self.penalizer * params ** 2

    def hessian(self, log_params, grad=None):
        return _hessian_from_gradient(self, np.asarray(log_params, float), grad)


class _FastFit:
    """Mixin: lifetimes' ``BaseFitter._fit`` (same BFGS call, tolerance and start) with the
    objective of ``_objective`` instead of autograd."""

    _objective: type

    def _fit(self, minimizing_function_args, initial_params, params_size, disp, tol=1e-7,
             bounds=None, **kwargs):
        objective = self._objective(*minimizing_function_args)
        x0 = 0.1 * np.ones(params_size) if initial_params is None else initial_params
        output = minimize(objective, jac=True, method=None, tol=tol, x0=x0,
                          options={"disp": disp, **kwargs}, bounds=bounds)
        if output.success:
            return output.x, output.fun, objective.hessian(output.x, output.jac)
        raise ConvergenceError(
            "The model did not converge. Try adding a larger penalizer to see if that helps "
            "convergence.")


class _FastBetaGeoFitter(_FastFit, BetaGeoFitter):
    _objective = _BGNBDObjective


class _FastModifiedBetaGeoFitter(_FastFit, ModifiedBetaGeoFitter):
    _objective = _MBGNBDObjective


class _FastGammaGammaFitter(_FastFit, GammaGammaFitter):
    _objective = _GammaGammaObjective


_FITTERS = {"bgnbd": BetaGeoFitter, "pareto": _ParetoNBDFitter, "mbgnbd": ModifiedBetaGeoFitter}
_FAST_FITTERS = {"bgnbd": _FastBetaGeoFitter, "mbgnbd": _FastModifiedBetaGeoFitter}


# ---------------------------------------------------------------------------------------------
# helpers


def _check_model(model: str) -> str:
    if model not in _FITTERS:
        raise UserError(f"unknown CLV model {model!r}: use one of {', '.join(MODELS)}")
    return model


def _check_columns(X: pd.DataFrame, columns) -> None:
    if not isinstance(X, pd.DataFrame):
        raise TypeError("expected a DataFrame indexed by customer_id")
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise ValueError(
            f"the customer summary lacks {', '.join(missing)}: pass a frame from "
            "analysis.data.features.lifetimes_summary (frequency, recency, T, monetary_value)"
        )


def _condense(X: pd.DataFrame, columns) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Unique rows of ``X[columns]`` (in order of first appearance), how many customers each
    has, and each customer's row number in the unique rows."""
    columns = list(columns)
    values = [X[c].to_numpy(float) for c in columns]
    if any(np.isnan(v).any() for v in values):
        raise ValueError(f"the customer summary has missing values in {', '.join(columns)}: "
                         "score customers with purchases only")
    key = np.zeros(len(X), np.int64)
    span = 1
    for v in values:
        code, uniques = pd.factorize(v)
        span *= max(len(uniques), 1)
        if span >= 2**62:  # too many combinations for one integer key: let pandas group
            frame = pd.DataFrame(dict(zip(columns, values, strict=True)))
            inverse = frame.groupby(columns, sort=False).ngroup().to_numpy()
            break
        key = key * len(uniques) + code
    else:
        inverse = pd.factorize(key)[0]
    counts = np.bincount(inverse)
    first = np.empty(len(counts), np.int64)
    first[inverse[::-1]] = np.arange(len(inverse) - 1, -1, -1)
    unique = pd.DataFrame({c: v[first] for c, v in zip(columns, values, strict=True)})
    return unique, counts, inverse


@contextlib.contextmanager
def _quiet():
    """Silence lifetimes while it runs: its warnings filters and its print() on failure."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def _scaled_init(model: str, params: np.ndarray, scale: float) -> np.ndarray:
    """Starting values in the space lifetimes' optimiser works in (time scaled to max T = 1;
    BG/NBD and MBG/NBD on log parameters, Pareto/NBD on the parameters)."""
    p = np.array(params, dtype=float)
    p[1] *= scale
    if model == "pareto":
        p[3] *= scale
        return p
    return np.log(p)


def _finite_params(params) -> bool:
    p = np.asarray(params, dtype=float)
    return bool(np.all(np.isfinite(p)) and np.all(p > 0))


# ---------------------------------------------------------------------------------------------
# purchase model


def _fitter_class(model: str, engine: str = "fast") -> type:
    if engine not in ("fast", "lifetimes"):
        raise UserError(f"unknown CLV engine {engine!r}: use 'fast' or 'lifetimes'")
    if engine == "fast":
        return _FAST_FITTERS.get(model, _FITTERS[model])
    return _FITTERS[model]


def _bg_numerator(model: str, params, t, x, T) -> np.ndarray:
    """Numerator of lifetimes' conditional expectation (BG/NBD: Fader, Hardie & Lee 2005, eq. 10;
    MBG/NBD: Batislam et al. 2007), which depends on frequency and T only; 0 at t = 0."""
    r, alpha, a, b = params
    if t == 0:
        return np.zeros(len(x))
    z = t / (alpha + T + t)
    if model == "mbgnbd":
        hyp = hyp2f1(r + x, b + x + 1, a + b + x, z)
        return (a + b + x) / (a - 1) * (1 - hyp * ((alpha + T) / (alpha + t + T)) ** (r + x))
    _a, _b, _c = r + x, b + x, a + b + x - 1
    ln_hyp = np.log(hyp2f1(_a, _b, _c, z))
    bad = np.isinf(ln_hyp)
    if bad.any():  # lifetimes' equivalent form where the first overflows
        ln_hyp[bad] = (np.log(hyp2f1(_c[bad] - _a[bad], _c[bad] - _b[bad], _c[bad], z[bad]))
                       + (_c[bad] - _a[bad] - _b[bad]) * np.log(1 - z[bad]))
    return _c / (a - 1) * (1 - np.exp(ln_hyp + (r + x) * np.log((alpha + T) / (alpha + t + T))))


def _bg_denominator(model: str, params, x, t_x, T) -> np.ndarray:
    r, alpha, a, b = params
    ratio = ((alpha + T) / (alpha + t_x)) ** (r + x)
    if model == "mbgnbd":
        return 1 + (a / (b + x)) * ratio
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1 + np.where(x > 0, (a / (b + x - 1)) * ratio, 0.0)


class PurchaseModel(BaseEstimator):
    """A purchase-count model (BG/NBD, Pareto/NBD or MBG/NBD) fitted through lifetimes.

    Parameters
    ----------
    model : "bgnbd", "pareto" or "mbgnbd".
    penalizer : L2 penalty on the parameters (lifetimes' ``penalizer_coef``); 0 = plain MLE.
    tol : optimiser tolerance; ``None`` = lifetimes' default for the model.
    engine : ``"fast"`` (default) fits BG/NBD and MBG/NBD with lifetimes' optimiser on the same
        likelihood computed in numpy with its exact gradient (see ``_BGNBDObjective``);
        ``"lifetimes"`` uses lifetimes' autograd likelihood. Both give the same parameters
        (tested to 1e-6); Pareto/NBD always uses the log-space likelihood of this module.

    ``fit(X)`` takes a customer summary with ``frequency``, ``recency``, ``T`` (any index) and
    learns ``params_`` (a Series), ``log_likelihood_`` (in the data's time unit, comparable with
    the literature), ``n_customers_`` and ``n_patterns_`` (unique rows fitted). The fit runs on
    unique rows with counts as weights; no copy of the data is kept.
    """

    def __init__(self, model: str = "bgnbd", penalizer: float = 0.0, tol: float | None = None,
                 engine: str = "fast"):
        self.model = model
        self.penalizer = penalizer
        self.tol = tol
        self.engine = engine

    # fitting -------------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y=None, sample_weight=None, initial_params=None,
            condensed=None):
        """Fit on ``X`` (``frequency``, ``recency``, ``T``). ``sample_weight``: customers per row
        (used by the bootstrap); ``initial_params``: a warm start in natural units;
        ``condensed``: ``_condense(X, SUMMARY_COLUMNS)`` when the caller already has it."""
        _check_model(self.model)
        _check_columns(X, SUMMARY_COLUMNS)
        if len(X) == 0:
            raise UserError("no customers with purchases to fit a CLV model on")
        unique, counts, inverse = condensed or _condense(X, SUMMARY_COLUMNS)
        if sample_weight is not None:
            counts = np.bincount(inverse, weights=np.asarray(sample_weight, float),
                                 minlength=len(unique))
            keep = counts > 0
            unique, counts = unique[keep].reset_index(drop=True), counts[keep]
        self._fit_patterns(unique["frequency"].to_numpy(), unique["recency"].to_numpy(),
                           unique["T"].to_numpy(), counts, initial_params)
        self.n_customers_ = int(round(counts.sum()))
        self.n_patterns_ = len(unique)
        return self

    def _fit_patterns(self, f, r, T, w, initial_params=None) -> None:
        model = self.model
        fitter = _fitter_class(model, self.engine)(penalizer_coef=self.penalizer)
        kwargs: dict[str, Any] = {}
        if self.tol is not None:
            kwargs["tol"] = self.tol
        scale = 1.0 / float(np.max(T))
        if initial_params is not None:
            kwargs["initial_params"] = _scaled_init(model, initial_params, scale)
        elif model == "pareto":  # lifetimes would draw a start from numpy's global generator
            kwargs["initial_params"] = np.ones(4)
        with _quiet():
            fitter.fit(f, r, T, weights=w, **kwargs)
        params = fitter.params_.reindex(list(PARAM_NAMES[model])).astype(float)
        if not _finite_params(params):
            raise ConvergenceError(f"{MODEL_LABELS[model]} gave invalid parameters {dict(params)}")
        # the fitter keeps the data it saw; drop it (the estimator keeps no copy of the data)
        for attr in ("data", "generate_new_data"):
            fitter.__dict__.pop(attr, None)
        self.fitter_ = fitter
        self.params_ = params
        self.log_likelihood_ = float(np.sum(w * self.log_likelihood(f, r, T)))

    @classmethod
    def from_params(cls, model: str, params) -> PurchaseModel:
        """A fitted model with the given parameters (natural units), e.g. a bootstrap draw."""
        out = cls(_check_model(model))
        out.params_ = pd.Series(np.asarray(params, float), index=list(PARAM_NAMES[model]))
        out.fitter_ = _FITTERS[model]()
        out.fitter_.params_ = out.params_.copy()
        return out

    # scoring --------------------------------------------------------------------------------
    def _params(self) -> np.ndarray:
        if not hasattr(self, "params_"):
            raise ValueError("this PurchaseModel is not fitted yet: call fit first")
        return self.params_.to_numpy()

    def log_likelihood(self, frequency, recency, T) -> np.ndarray:
        """Each customer's log-likelihood in the data's time unit (not lifetimes' scaled one)."""
        p = self._params()
        x, t_x, T = (np.asarray(v, float) for v in (frequency, recency, T))
        if self.model == "pareto":
            return pareto_log_likelihood(p, x, t_x, T)
        return self._ll_vector(p, x, t_x, T)

    def _ll_vector(self, p, x, t_x, T) -> np.ndarray:
        """BG/NBD and MBG/NBD log-likelihood, the formulas of lifetimes' fitters."""
        r, alpha, a, b = p
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
        a3 = -(r + x) * np.log(alpha + T)
        if self.model == "bgnbd":
            a4 = np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(t_x + alpha)
            a4 = np.where(x > 0, a4, -np.inf)
            return a1 + a2 + np.logaddexp(a3, a4)
        # MBG/NBD (Batislam, Denizel & Filiztekin 2007), as in lifetimes
        a2 = gammaln(a + b) + gammaln(b + x + 1) - gammaln(b) - gammaln(a + b + x + 1)
        a4 = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return a1 + a2 + a3 + np.logaddexp(a4, 0.0)

    def _unique(self, X: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        self._params()
        _check_columns(X, SUMMARY_COLUMNS)
        return _condense(X, SUMMARY_COLUMNS)

    def conditional_matrix(self, unique: pd.DataFrame, times) -> np.ndarray:
        """E[repeat purchases in (T, T + t]] for each row of ``unique`` (``frequency``,
        ``recency``, ``T``) and each t of ``times``: a rows x times matrix.

        BG/NBD and MBG/NBD: lifetimes' formulas (numerator / denominator), with the
        hypergeometric numerator, which does not depend on recency, evaluated once per distinct
        (frequency, T). Pareto/NBD: the log-space formula of this module."""
        p = self._params()
        f, r, T = (unique[c].to_numpy(float) for c in SUMMARY_COLUMNS)
        if self.model == "pareto":
            return np.column_stack([pareto_expected_purchases(p, t, f, r, T) for t in times])
        pairs, _, pair = _condense(unique, ["frequency", "T"])
        pf, pT = pairs["frequency"].to_numpy(), pairs["T"].to_numpy()
        with _quiet():
            num = np.column_stack([_bg_numerator(self.model, p, t, pf, pT) for t in times])
        return num[pair] / _bg_denominator(self.model, p, f, r, T)[:, None]

    def discounted_purchases(self, unique: pd.DataFrame, times, weights
                             ) -> tuple[np.ndarray, np.ndarray]:
        """For each row of ``unique``: E[purchases up to the last of ``times``] and the sum over
        periods of (E[up to times[k]] - E[up to times[k - 1]]) x ``weights[k - 1]`` (the
        discounted purchases). ``times`` starts at 0.

        For BG/NBD and MBG/NBD the denominator does not depend on time, so the sums are taken on
        the numerators per distinct (frequency, T) and divided once per row."""
        p = self._params()
        weights = np.asarray(weights, float)
        if self.model == "pareto":
            grid = self.conditional_matrix(unique, times)
            return grid[:, -1], np.diff(grid, axis=1) @ weights
        f, r, T = (unique[c].to_numpy(float) for c in SUMMARY_COLUMNS)
        pairs, _, pair = _condense(unique, ["frequency", "T"])
        pf, pT = pairs["frequency"].to_numpy(), pairs["T"].to_numpy()
        with _quiet():
            num = np.column_stack([_bg_numerator(self.model, p, t, pf, pT) for t in times])
        den = _bg_denominator(self.model, p, f, r, T)
        return num[pair, -1] / den, (np.diff(num, axis=1) @ weights)[pair] / den

    def p_alive_unique(self, unique: pd.DataFrame) -> np.ndarray:
        """P(alive at T) for each row of ``unique``."""
        p = self._params()
        f, r, T = (unique[c].to_numpy(float) for c in SUMMARY_COLUMNS)
        if self.model == "pareto":
            return pareto_p_alive(p, f, r, T)
        with _quiet():
            return np.asarray(self.fitter_.conditional_probability_alive(f, r, T), float)

    def expected_purchases(self, X: pd.DataFrame, t: float) -> pd.Series:
        """Each customer's expected repeat purchases in the next ``t`` time units."""
        unique, _, inverse = self._unique(X)
        return pd.Series(self.conditional_matrix(unique, [t])[inverse, 0], index=X.index)

    def p_alive(self, X: pd.DataFrame) -> pd.Series:
        """Each customer's probability of still being a customer at T (the as-of date)."""
        unique, _, inverse = self._unique(X)
        return pd.Series(self.p_alive_unique(unique)[inverse], index=X.index)

    def predict(self, X: pd.DataFrame, t: float = 52.0) -> pd.Series:
        """Alias of :meth:`expected_purchases` (sklearn style); ``t`` in model time units."""
        return self.expected_purchases(X, t)

    def population_expected_purchases(self, t) -> np.ndarray:
        """E[repeat purchases in (0, t]] for a new customer (the tracking-plot curve)."""
        self._params()
        t = np.asarray(t, float)
        with _quiet():
            out = np.asarray(self.fitter_.expected_number_of_purchases_up_to_time(t), float)
        return np.where(t > 0, out, 0.0)

    def simulate(self, T, rng: np.random.Generator) -> pd.DataFrame:
        """Simulated ``frequency``, ``recency`` for customers observed for ``T`` units, from the
        fitted parameters (for the repeat-purchase histogram)."""
        return simulate_summary(self.model, self.params_.to_numpy(), np.asarray(T, float), rng)


# ---------------------------------------------------------------------------------------------
# spend model


class SpendModel(BaseEstimator):
    """Gamma-Gamma expected spend per purchase, with a penalised retry and a fallback.

    Parameters
    ----------
    penalizer : L2 penalty of the first attempt (0 = plain MLE).
    retry_penalizer : penalty of the second attempt when the first does not converge.
    correlation_warning : warn when |Pearson correlation| between frequency and spend among
        repeat buyers exceeds this (Gamma-Gamma assumes they are independent).
    engine : ``"fast"`` (numpy likelihood with exact gradient, lifetimes' optimiser) or
        ``"lifetimes"`` (lifetimes' autograd likelihood); same parameters.

    ``fit(X)`` uses the repeat buyers of ``X`` (``frequency`` > 0, ``monetary_value`` > 0) and
    learns ``method_`` (``"gamma-gamma"``, ``"gamma-gamma (penalized)"`` or ``"mean"``),
    ``params_`` (p, q, v; NaN for the fallback), ``population_mean_``, ``correlation_``,
    ``n_repeat_buyers_`` and ``warnings_`` (plain-language strings for the report).

    A penalised fit is kept only when its implied population mean spend is within 20 % of the
    observed mean of the repeat buyers' mean spend (a penalty can pull the estimates far off).
    The fallback ``"mean"`` model: every customer's expected spend per purchase is the mean
    spend per repeat purchase day over all repeat buyers (the limit of Gamma-Gamma when spend
    shows no heterogeneity, which is the usual cause of non-convergence).
    """

    def __init__(self, penalizer: float = 0.0, retry_penalizer: float = 0.01,
                 correlation_warning: float = 0.3, engine: str = "fast"):
        self.penalizer = penalizer
        self.retry_penalizer = retry_penalizer
        self.correlation_warning = correlation_warning
        self.engine = engine

    def fit(self, X: pd.DataFrame, y=None, sample_weight=None, initial_params=None):
        _check_columns(X, ("frequency", "monetary_value"))
        rep = (X["frequency"].to_numpy() > 0) & (X["monetary_value"].to_numpy() > 0)
        f = X["frequency"].to_numpy(float)[rep]
        m = X["monetary_value"].to_numpy(float)[rep]
        w = np.ones(len(f)) if sample_weight is None else np.asarray(sample_weight, float)[rep]
        keep = w > 0
        f, m, w = f[keep], m[keep], w[keep]
        self.n_repeat_buyers_ = int(round(w.sum()))
        self.warnings_: list[str] = []
        self.population_mean_ = float(np.sum(w * f * m) / np.sum(w * f)) if len(f) else math.nan
        self.correlation_ = self._correlation(f, m, w)
        if np.isfinite(self.correlation_) and abs(self.correlation_) > self.correlation_warning:
            self.warnings_.append(
                f"frequency and spend per purchase are correlated (r = {self.correlation_:.2f}); "
                "Gamma-Gamma assumes they are independent, so spend forecasts may be biased")
        self.params_ = pd.Series(np.nan, index=["p", "q", "v"])
        self.method_ = "mean"
        if len(f) < 2:
            self.warnings_.append("fewer than two repeat buyers: spend per purchase is the "
                                  "observed mean, not a Gamma-Gamma model")
            if not len(f):
                self.population_mean_ = math.nan
            return self
        attempts = [("gamma-gamma", self.penalizer),
                    ("gamma-gamma (penalized)", self.retry_penalizer)]
        for method, pen in attempts:
            params = self._try_fit(f, m, w, pen, initial_params, self.engine)
            if params is not None:
                self.params_, self.method_, self.penalty_ = params, method, pen
                if method != "gamma-gamma":
                    self.warnings_.append(
                        f"Gamma-Gamma did not converge; refitted with penalty {pen}")
                return self
        self.warnings_.append(
            "Gamma-Gamma could not be fitted (spend per purchase shows too little variation "
            "between customers); every customer's expected spend per purchase is the population "
            f"mean {self.population_mean_:,.2f}")
        return self

    @staticmethod
    def _correlation(f, m, w) -> float:
        if len(f) < 3 or np.all(f == f[0]) or np.all(m == m[0]):
            return math.nan
        if np.all(w == 1):
            return float(pearsonr(f, m)[0])
        fm, mm = np.average(f, weights=w), np.average(m, weights=w)
        cov = np.average((f - fm) * (m - mm), weights=w)
        return float(cov / math.sqrt(np.average((f - fm) ** 2, weights=w)
                                     * np.average((m - mm) ** 2, weights=w)))

    @staticmethod
    def _try_fit(f, m, w, penalizer, initial_params, engine="fast") -> pd.Series | None:
        if engine not in ("fast", "lifetimes"):
            raise UserError(f"unknown CLV engine {engine!r}: use 'fast' or 'lifetimes'")
        fitter_class = _FastGammaGammaFitter if engine == "fast" else GammaGammaFitter
        fitter = fitter_class(penalizer_coef=penalizer)
        kwargs = {} if initial_params is None else {"initial_params": np.log(initial_params)}
        try:
            with _quiet():
                fitter.fit(f, m, weights=w, **kwargs)
        except (ConvergenceError, np.linalg.LinAlgError, ValueError, FloatingPointError):
            return None
        params = fitter.params_.astype(float)
        # q <= 1 makes the population mean v p / (q - 1) undefined: treat it as a failure
        if not _finite_params(params) or params["q"] <= 1.0:
            return None
        if penalizer > 0:
            # a penalty can "converge" on a biased answer (it pulls q and v towards 0): accept
            # it only if its population mean v p / (q - 1), which estimates the mean of the
            # customers' mean spend, is within PENALIZED_MEAN_TOLERANCE of the observed one
            observed = np.average(m, weights=w)
            implied = params["v"] * params["p"] / (params["q"] - 1)
            if abs(implied / observed - 1) > PENALIZED_MEAN_TOLERANCE:
                return None
        return params

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Expected spend per purchase for each customer (population mean without a repeat
        purchase), indexed like ``X``."""
        if not hasattr(self, "method_"):
            raise ValueError("this SpendModel is not fitted yet: call fit first")
        _check_columns(X, ("frequency", "monetary_value"))
        return pd.Series(self._spend(X["frequency"].to_numpy(float),
                                     X["monetary_value"].to_numpy(float)), index=X.index)

    def _spend(self, f, m) -> np.ndarray:
        if self.method_ == "mean":
            return np.full(len(f), self.population_mean_)
        return spend_gamma_gamma(self.params_.to_numpy(), f, m)

    @property
    def population_mean_spend_(self) -> float:
        """Expected spend per purchase of a customer without a repeat purchase."""
        if self.method_ == "mean":
            return self.population_mean_
        p, q, v = self.params_.to_numpy()
        return float(v * p / (q - 1))


def spend_gamma_gamma(params, f, m) -> np.ndarray:
    """Gamma-Gamma E[spend per purchase | x, m] (Fader & Hardie note 025, eq. 5), elementwise;
    customers with x = 0 get the population mean."""
    p, q, v = params
    f = np.asarray(f, float)
    m = np.where(f > 0, np.asarray(m, float), 0.0)
    weight = p * f / (p * f + q - 1)
    return (1 - weight) * (v * p / (q - 1)) + weight * m


# ---------------------------------------------------------------------------------------------
# CLV


def discount_weights(horizon_months: int, discount_rate: float) -> np.ndarray:
    """1 / (1 + d)^m for months m = 1..H (the cash flows of month m are discounted m months)."""
    return 1.0 / (1.0 + discount_rate) ** np.arange(1, horizon_months + 1)


class CLVModel(BaseEstimator):
    """Purchase model + spend model + discounted CLV, with bootstrap intervals.

    Parameters
    ----------
    model : purchase model, "bgnbd", "pareto" or "mbgnbd".
    horizon_months : CLV horizon in months.
    discount_rate : monthly discount rate (0.01 = 1 % a month).
    margin : profit margin applied to spend (e.g. 0.3); ``None`` = revenue CLV.
    time_unit : "weeks" or "days", the unit of the summary (a month = 4.345 weeks or 30 days,
        as in lifetimes).
    penalizer, tol, engine : passed to :class:`PurchaseModel` (engine also to SpendModel).
    gg_penalizer, gg_retry_penalizer, correlation_warning : passed to :class:`SpendModel`.
    n_bootstrap : customer-resampling refits for intervals (0 = none). More resamples: raise it
        (e.g. ``clv.bootstrap.n: 500`` in the config); time grows linearly. The intervals
        express estimation (parameter) uncertainty, not the randomness of a customer's future
        purchases around their expectation.
    interval : coverage of the intervals (0.9 = 5th to 95th percentile).
    random_state : seed or ``numpy.random.Generator`` for the bootstrap.

    ``fit(X)`` needs ``frequency``, ``recency``, ``T``, ``monetary_value`` (customers with at
    least one purchase). ``predict(X)`` returns a frame indexed like ``X`` with
    ``expected_purchases`` (over the horizon), ``p_alive``, ``expected_spend`` (per purchase),
    ``clv``, and with a bootstrap ``clv_low``, ``clv_high``.
    """

    def __init__(self, model: str = "bgnbd", horizon_months: int = 12,
                 discount_rate: float = 0.01, margin: float | None = None,
                 time_unit: str = "weeks", penalizer: float = 0.0, tol: float | None = None,
                 gg_penalizer: float = 0.0, gg_retry_penalizer: float = 0.01,
                 correlation_warning: float = 0.3, n_bootstrap: int = 0, interval: float = 0.9,
                 random_state=None, engine: str = "fast"):
        self.model = model
        self.horizon_months = horizon_months
        self.discount_rate = discount_rate
        self.margin = margin
        self.time_unit = time_unit
        self.penalizer = penalizer
        self.tol = tol
        self.gg_penalizer = gg_penalizer
        self.gg_retry_penalizer = gg_retry_penalizer
        self.correlation_warning = correlation_warning
        self.n_bootstrap = n_bootstrap
        self.interval = interval
        self.random_state = random_state
        self.engine = engine

    def _purchase(self) -> PurchaseModel:
        return PurchaseModel(self.model, self.penalizer, self.tol, self.engine)

    def _spend(self) -> SpendModel:
        return SpendModel(self.gg_penalizer, self.gg_retry_penalizer, self.correlation_warning,
                          self.engine)

    def _check(self) -> None:
        _check_model(self.model)
        if self.time_unit not in UNITS_PER_MONTH:
            raise UserError(f"unknown time unit {self.time_unit!r}: use 'weeks' or 'days'")
        if int(self.horizon_months) < 1:
            raise UserError(f"clv horizon_months must be at least 1, got {self.horizon_months}")
        if not self.discount_rate > -1:
            raise UserError(f"clv discount_rate must be above -1, got {self.discount_rate}")
        if self.margin is not None and not 0 < self.margin <= 1:
            raise UserError(f"clv margin must be in (0, 1] or null, got {self.margin}")
        if int(self.n_bootstrap) < 0:
            raise UserError(f"clv bootstrap n must be 0 or more, got {self.n_bootstrap}")

    def fit(self, X: pd.DataFrame, y=None):
        self._fit(X)
        return self

    def fit_predict(self, X: pd.DataFrame, y=None) -> pd.DataFrame:
        """``fit(X).predict(X)``, grouping the customers into unique rows once."""
        condensed = self._fit(X)
        return self._predict(X, condensed[0], condensed[2])

    def _fit(self, X: pd.DataFrame):
        self._check()
        _check_columns(X, (*SUMMARY_COLUMNS, "monetary_value"))
        if len(X) == 0:
            raise UserError("no customers with purchases to fit a CLV model on")
        condensed = _condense(X, SUMMARY_COLUMNS)
        self.purchase_model_ = self._purchase().fit(X, condensed=condensed)
        self.spend_model_ = self._spend().fit(X)
        self.bootstrap_params_ = self._bootstrap(X, condensed) if self.n_bootstrap else None
        return condensed

    def _bootstrap(self, X: pd.DataFrame, condensed) -> pd.DataFrame:
        """Refit both models on ``n_bootstrap`` resamples of customers (with replacement).

        A resample is drawn as multinomial counts per customer, so each refit runs on the unique
        rows with those counts as weights (equal to refitting on the resampled customers), warm
        started from the point estimates."""
        rng = np.random.default_rng(self.random_state)
        n = len(X)
        rows = []
        base_p = self.purchase_model_.params_.to_numpy()
        base_s = self.spend_model_.params_.to_numpy()
        for b in range(int(self.n_bootstrap)):
            counts = rng.multinomial(n, np.full(n, 1.0 / n)).astype(float)
            row: dict[str, Any] = {"draw": b}
            try:
                pm = self._purchase().fit(X, sample_weight=counts, initial_params=base_p,
                                          condensed=condensed)
                row.update(pm.params_.to_dict())
            except ConvergenceError:
                row.update(dict.fromkeys(PARAM_NAMES[self.model], np.nan))
            warm = base_s if np.all(np.isfinite(base_s)) else None
            sm = self._spend().fit(X, sample_weight=counts, initial_params=warm)
            row.update(sm.params_.add_prefix("gg_").to_dict())
            row["gg_method"] = sm.method_
            row["gg_population_mean"] = sm.population_mean_
            rows.append(row)
        return pd.DataFrame(rows).set_index("draw")

    # prediction -----------------------------------------------------------------------------
    def _discounted_purchases(self, pm: PurchaseModel, unique: pd.DataFrame):
        """Per unique row: expected purchases over the horizon and their discounted sum.

        The month-m purchases are E(m months) - E(m - 1 months), discounted by (1 + d)^m, as
        in lifetimes' customer_lifetime_value; here all months at once on unique rows."""
        per_month = UNITS_PER_MONTH[self.time_unit]
        h = int(self.horizon_months)
        return pm.discounted_purchases(unique, np.arange(0, h + 1) * per_month,
                                       discount_weights(h, self.discount_rate))

    def predict(self, X: pd.DataFrame) -> pd.DataFrame:
        """``expected_purchases``, ``p_alive``, ``expected_spend``, ``clv`` (+ ``clv_low``,
        ``clv_high`` with a bootstrap), indexed like ``X``."""
        if not hasattr(self, "purchase_model_"):
            raise ValueError("this CLVModel is not fitted yet: call fit first")
        _check_columns(X, (*SUMMARY_COLUMNS, "monetary_value"))
        unique, _, inverse = self.purchase_model_._unique(X)
        return self._predict(X, unique, inverse)

    def _predict(self, X: pd.DataFrame, unique: pd.DataFrame, inverse: np.ndarray):
        margin = 1.0 if self.margin is None else float(self.margin)
        pm = self.purchase_model_
        total, discounted = self._discounted_purchases(pm, unique)
        spend = self.spend_model_.predict(X).to_numpy()
        out = pd.DataFrame({
            "expected_purchases": total[inverse],
            "p_alive": pm.p_alive_unique(unique)[inverse],
            "expected_spend": spend,
            "clv": discounted[inverse] * spend * margin,
        }, index=X.index)
        if self.bootstrap_params_ is not None:
            low, high = self._intervals(X, unique, inverse, margin)
            out["clv_low"], out["clv_high"] = low, high
        return out

    def _intervals(self, X: pd.DataFrame, unique: pd.DataFrame, inverse: np.ndarray,
                   margin: float) -> tuple[np.ndarray, np.ndarray]:
        """Per-customer CLV quantiles over the bootstrap refits (computed in chunks of
        customers to bound memory)."""
        names = list(PARAM_NAMES[self.model])
        f = X["frequency"].to_numpy(float)
        m = X["monetary_value"].to_numpy(float)
        draws = []
        for _, row in self.bootstrap_params_.iterrows():
            if not np.all(np.isfinite(row[names].to_numpy(float))):
                continue
            pm = PurchaseModel.from_params(self.model, row[names].to_numpy(float))
            disc = self._discounted_purchases(pm, unique)[1]
            if row["gg_method"] == "mean":
                spend = np.full(len(f), row["gg_population_mean"])
            else:
                spend = spend_gamma_gamma(row[["gg_p", "gg_q", "gg_v"]].to_numpy(float), f, m)
            draws.append((disc, spend))
        if not draws:
            return np.full(len(X), np.nan), np.full(len(X), np.nan)
        q = [(1 - self.interval) / 2, 1 - (1 - self.interval) / 2]
        low, high = np.empty(len(X)), np.empty(len(X))
        chunk = max(1, 20_000_000 // (8 * len(draws)))
        for start in range(0, len(X), chunk):
            sl = slice(start, start + chunk)
            values = np.stack([d[inverse[sl]] * s[sl] * margin for d, s in draws])
            low[sl], high[sl] = np.quantile(values, q, axis=0)
        return low, high

    def parameter_intervals(self) -> pd.DataFrame:
        """Point estimate and bootstrap interval of every parameter."""
        point = {**self.purchase_model_.params_.to_dict(),
                 **self.spend_model_.params_.add_prefix("gg_").to_dict()}
        out = pd.DataFrame({"estimate": pd.Series(point)})
        if self.bootstrap_params_ is not None:
            q = [(1 - self.interval) / 2, 1 - (1 - self.interval) / 2]
            boot = self.bootstrap_params_[list(point)].astype(float)
            out["low"] = boot.quantile(q[0])
            out["high"] = boot.quantile(q[1])
        return out


# ---------------------------------------------------------------------------------------------
# simulation (parameter recovery, diagnostics, benchmarks)


def simulate_summary(model: str, params, T, rng: np.random.Generator) -> pd.DataFrame:
    """``frequency``, ``recency``, ``T`` of customers observed for ``T`` time units after their
    first purchase, drawn from a purchase model with ``params`` (natural units)."""
    times = _simulate_times(model, params, np.asarray(T, float), rng)
    n = len(T)
    counts = np.bincount(times[0], minlength=n) if len(times[0]) else np.zeros(n, int)
    recency = np.zeros(n)
    if len(times[0]):
        np.maximum.at(recency, times[0], times[1])
    return pd.DataFrame({"frequency": counts.astype(float), "recency": recency,
                         "T": np.asarray(T, float)})


def _simulate_times(model: str, params, T: np.ndarray, rng: np.random.Generator):
    """Repeat purchase times (customer number, time since first purchase) up to each T."""
    _check_model(model)
    n = len(T)
    if model == "pareto":
        r, alpha, s, beta = params
        lam = rng.gamma(r, 1.0 / alpha, n)
        mu = rng.gamma(s, 1.0 / beta, n)
        life = np.minimum(rng.exponential(1.0, n) / mu, T)
        counts = rng.poisson(lam * life)
        who = np.repeat(np.arange(n), counts)
        return who, rng.uniform(0.0, 1.0, len(who)) * life[who]
    r, alpha, a, b = params
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    t = np.zeros(n)
    active = np.arange(n)
    if model == "mbgnbd":  # MBG/NBD: a customer may also drop out right after the first purchase
        active = active[rng.uniform(size=n) >= p]
    who, when = [], []
    while len(active):
        t[active] += rng.exponential(1.0, len(active)) / lam[active]
        active = active[t[active] <= T[active]]
        who.append(active)
        when.append(t[active].copy())
        active = active[rng.uniform(size=len(active)) >= p[active]]
    return np.concatenate(who), np.concatenate(when)


def simulate_spend(frequency, params, rng: np.random.Generator) -> np.ndarray:
    """Mean spend of ``frequency`` repeat purchases per customer from Gamma-Gamma (p, q, v):
    each customer's mean ``p / nu`` with ``nu ~ Gamma(q, rate v)``; 0 without a repeat purchase."""
    p, q, v = params
    f = np.asarray(frequency, int)
    nu = rng.gamma(q, 1.0 / v, len(f))
    # the sum of x Gamma(p, rate nu) spends is Gamma(p x, rate nu)
    total = rng.gamma(np.maximum(p * f, 1e-12), 1.0 / nu)
    return np.where(f > 0, total / np.maximum(f, 1), 0.0)


def simulate_transactions(
    n_customers: int,
    params=(0.243, 4.414, 0.793, 2.426),
    spend_params=(6.25, 3.74, 15.44),
    start: str = "2022-01-01",
    end: str = "2023-12-31",
    acquisition_days: int = 90,
    model: str = "bgnbd",
    seed: int = 0,
) -> pd.DataFrame:
    """A transactions frame (``customer_id``, ``order_id``, ``timestamp``, ``amount``) from a
    purchase model (time in weeks) and Gamma-Gamma spend: customers make their first purchase
    in the first ``acquisition_days`` days, then buy until ``end``."""
    rng = np.random.default_rng(seed)
    start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
    birth = rng.integers(0, acquisition_days, n_customers)
    T = ((end_ts - start_ts).days - birth) / 7.0
    who, when = _simulate_times(model, params, T, rng)
    cust = np.concatenate([np.arange(n_customers), who])
    day = np.concatenate([birth, birth[who] + np.floor(when * 7.0).astype(int)])
    day = np.minimum(day, (end_ts - start_ts).days)
    p, q, v = spend_params
    nu = rng.gamma(q, 1.0 / v, n_customers)
    amount = np.round(rng.gamma(p, 1.0 / nu[cust]) + 0.01, 2)
    order = np.lexsort((day, cust))
    seconds = rng.integers(8 * 3600, 22 * 3600, len(cust))
    ts = (np.datetime64(start_ts.date(), "s") + day.astype("timedelta64[D]")
          + seconds.astype("timedelta64[s]"))
    return pd.DataFrame({
        "customer_id": pd.Series(cust[order] + 1_000_000).astype(str),
        "order_id": np.arange(len(cust)).astype(str),
        "timestamp": ts[order].astype("datetime64[ns]"),
        "amount": amount[order],
    })


# ---------------------------------------------------------------------------------------------
# backtest and model choice


def holdout_period(first_purchase: Any, as_of: Any, fraction: float = 0.5,
                   max_days: int = 365, calibration_end: Any = None) -> tuple[pd.Timestamp,
                                                                          pd.Timestamp]:
    """(calibration end, observation end) of the backtest. The holdout is ``fraction`` of the
    observation window (first purchase to as-of), at most ``max_days`` days; an explicit
    ``calibration_end`` wins."""
    first, end = pd.Timestamp(first_purchase).normalize(), pd.Timestamp(as_of).normalize()
    if calibration_end:
        cal = pd.Timestamp(calibration_end).normalize()
    else:
        if not 0 < fraction < 1:
            raise UserError(f"clv holdout fraction must be between 0 and 1, got {fraction}")
        days = min(int((end - first).days * fraction), int(max_days))
        cal = end - pd.Timedelta(days=days)
    if not first < cal < end:
        raise UserError(
            f"the calibration period must end after the first purchase ({first.date()}) and "
            f"before the as-of date ({end.date()}); got {cal.date()}: set clv.holdout")
    return cal, end


def _cal_frame(cal_hold: pd.DataFrame) -> pd.DataFrame:
    return cal_hold.rename(columns={"frequency_cal": "frequency", "recency_cal": "recency",
                                    "T_cal": "T", "monetary_value_cal": "monetary_value"})


def backtest_metrics(actual, predicted) -> dict[str, float]:
    """Per-customer MAE and RMSE, Spearman correlation, and the error of the total."""
    a, p = np.asarray(actual, float), np.asarray(predicted, float)
    err = p - a
    total_a, total_p = float(a.sum()), float(p.sum())
    rho = spearmanr(a, p)[0] if len(a) > 2 and np.ptp(a) > 0 and np.ptp(p) > 0 else math.nan
    return {
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err ** 2))),
        "spearman": float(rho),
        "total_actual": total_a,
        "total_predicted": total_p,
        "total_error_pct": 100.0 * (total_p - total_a) / total_a if total_a else math.nan,
    }


@dataclass
class Backtest:
    """What a calibration / holdout comparison produced (see :func:`backtest`)."""

    calibration_end: pd.Timestamp
    observation_end: pd.Timestamp
    holdout_length: float  # in model time units
    metrics: pd.DataFrame  # one row per model
    predictions: pd.DataFrame  # per customer: calibration columns, actual, one column per model
    models: dict[str, PurchaseModel]
    errors: dict[str, str]
    tracking: pd.DataFrame
    conditional: pd.DataFrame


def backtest(tx: pd.DataFrame, calibration_end: Any, observation_end: Any,
             models=MODELS, time_unit: str = "weeks", penalizer: float = 0.0) -> Backtest:
    """Fit each purchase model on the calibration period and predict each customer's holdout
    purchases (repeat purchase days after ``calibration_end`` up to ``observation_end``).

    Uses :func:`analysis.data.features.calibration_holdout`; a model whose fit fails is reported in
    ``errors`` and left out."""
    from analysis.data import features

    cal_hold = features.calibration_holdout(tx, calibration_end, observation_end, time_unit)
    X = _cal_frame(cal_hold)
    length = float(cal_hold["duration_holdout"].iloc[0]) if len(cal_hold) else math.nan
    preds = X[["frequency", "recency", "T"]].copy()
    preds["actual"] = cal_hold["frequency_holdout"]
    fitted, errors, rows = {}, {}, []
    for name in models:
        try:
            pm = PurchaseModel(_check_model(name), penalizer).fit(X)
        except (ConvergenceError, FloatingPointError, ValueError, np.linalg.LinAlgError) as exc:
            errors[name] = f"{type(exc).__name__}: {str(exc).strip()}"
            continue
        fitted[name] = pm
        preds[name] = pm.expected_purchases(X, length)
        rows.append({"model": name, **backtest_metrics(preds["actual"], preds[name])})
    metrics = pd.DataFrame(rows).set_index("model") if rows else pd.DataFrame()
    tracking = tracking_data(tx, fitted, calibration_end, observation_end, time_unit)
    return Backtest(pd.Timestamp(calibration_end), pd.Timestamp(observation_end), length,
                    metrics, preds, fitted, errors, tracking, conditional_expectation_data(preds))


def choose_model(metrics: pd.DataFrame, by: str = "rmse") -> tuple[str, str]:
    """The model with the best holdout ``by`` (``rmse``, ``mae``: lowest; ``spearman``: highest;
    ``total_error``: smallest absolute error of the total), and a sentence saying why."""
    if metrics.empty:
        raise UserError("no CLV model could be fitted on the calibration period")
    if by == "total_error":
        score = metrics["total_error_pct"].abs()
    elif by in ("rmse", "mae"):
        score = metrics[by]
    elif by == "spearman":
        score = -metrics["spearman"]
    else:
        raise UserError(f"unknown clv choose_by {by!r}: use rmse, mae, spearman or total_error")
    best = str(score.idxmin())
    what = {"rmse": "per-customer RMSE", "mae": "per-customer MAE",
            "spearman": "Spearman rank correlation", "total_error": "error of the total"}[by]
    others = ", ".join(f"{MODEL_LABELS[m]} {metrics.loc[m, _metric_col(by)]:.4g}"
                       for m in metrics.index if m != best)
    reason = (f"{MODEL_LABELS[best]} has the best holdout {what} "
              f"({metrics.loc[best, _metric_col(by)]:.4g}" + (f"; {others})" if others else ")"))
    return best, reason


def _metric_col(by: str) -> str:
    return "total_error_pct" if by == "total_error" else by


def tracking_data(tx: pd.DataFrame, models: dict[str, PurchaseModel], calibration_end: Any,
                  observation_end: Any, time_unit: str = "weeks") -> pd.DataFrame:
    """Cumulative repeat purchases week by week, actual and expected by each model, for the
    customers whose first purchase is on or before ``calibration_end``.

    A model's curve adds, over customers, the expected repeat purchases of a new customer
    from the first purchase to the end of each week (lifetimes' expected_cumulative_transactions).
    Columns: ``week_end``, ``actual``, one per model."""
    cal_end = pd.Timestamp(calibration_end).normalize()
    obs_end = pd.Timestamp(observation_end).normalize()
    days = pd.DataFrame({"customer_id": tx["customer_id"].to_numpy(),
                         "day": pd.to_datetime(tx["timestamp"]).dt.normalize().to_numpy()})
    days = days[days["day"] <= obs_end].drop_duplicates()
    first = days.groupby("customer_id")["day"].transform("min")
    days = days[first <= cal_end]
    first = first[first <= cal_end]
    start = first.min() if len(first) else cal_end
    n_weeks = max(1, int(math.ceil(((obs_end - start).days + 1) / 7)))
    ends = (start + pd.to_timedelta(7 * np.arange(1, n_weeks + 1) - 1, unit="D")).to_numpy()
    week_end = pd.DatetimeIndex(np.minimum(ends, obs_end.to_datetime64()))
    repeat_days = days.loc[days["day"] > first, "day"]
    idx = np.searchsorted(week_end.to_numpy(), repeat_days.to_numpy())
    actual = np.cumsum(np.bincount(idx, minlength=n_weeks)[:n_weeks])
    out = pd.DataFrame({"week_end": week_end, "actual": actual.astype(float)})
    birth_counts = days.groupby("customer_id")["day"].min().value_counts()
    unit = UNIT_DAYS[time_unit]
    for name, pm in models.items():
        age = ((week_end.to_numpy()[None, :] - birth_counts.index.to_numpy()[:, None])
               / np.timedelta64(1, "D")) / unit
        expected = pm.population_expected_purchases(np.maximum(age, 0.0).ravel())
        out[name] = birth_counts.to_numpy() @ expected.reshape(age.shape)
    out["calibration"] = out["week_end"] <= cal_end
    return out


def conditional_expectation_data(predictions: pd.DataFrame, max_frequency: int = 7
                                 ) -> pd.DataFrame:
    """Mean holdout purchases by calibration frequency (0, 1, ..., ``max_frequency``+): actual
    and predicted by each model, with the number of customers."""
    models = [c for c in predictions.columns if c in MODELS]
    group = np.minimum(predictions["frequency"].to_numpy(), max_frequency).astype(int)
    out = predictions[["actual", *models]].groupby(group).mean()
    out.insert(0, "customers", predictions.groupby(group).size())
    out.index = [f"{i}+" if i == max_frequency else str(i) for i in out.index]
    out.index.name = "calibration_frequency"
    return out


# ---------------------------------------------------------------------------------------------
# diagnostics for the notebook


def repeat_purchase_histogram(model: PurchaseModel, X: pd.DataFrame, max_count: int = 7,
                              n_sim: int = 10, random_state=0) -> pd.DataFrame:
    """Customers by number of repeat purchases (0, 1, ..., ``max_count``+): actual, and expected
    by the model (mean of ``n_sim`` simulations of the same customers' observation times)."""
    rng = np.random.default_rng(random_state)
    bins = np.arange(max_count + 1)

    def hist(freq) -> np.ndarray:
        return np.bincount(np.minimum(np.asarray(freq, int), max_count), minlength=max_count + 1)

    T = X["T"].to_numpy(float)
    sims = [hist(model.simulate(T, rng)["frequency"]) for _ in range(n_sim)]
    labels = [f"{b}+" if b == max_count else str(b) for b in bins]
    return pd.DataFrame({"actual": hist(X["frequency"]), "model": np.mean(sims, axis=0)},
                        index=pd.Index(labels, name="repeat_purchases"))


def frequency_recency_matrix(model: PurchaseModel, T: float, t: float, what: str = "p_alive",
                             max_frequency: int = 30, n_recency: int = 30) -> pd.DataFrame:
    """``p_alive`` or ``expected_purchases`` (next ``t`` units) of a customer observed for ``T``
    units, by frequency (columns) and recency (rows, most recent first)."""
    freq = np.arange(max_frequency + 1, dtype=float)
    rec = np.linspace(T, 0.0, n_recency)
    f, r = np.meshgrid(freq, rec)
    grid = pd.DataFrame({"frequency": f.ravel(), "recency": np.where(f.ravel() > 0, r.ravel(), 0),
                         "T": float(T)})
    if what == "p_alive":
        values = model.p_alive(grid)
    elif what == "expected_purchases":
        values = model.expected_purchases(grid, t)
    else:
        raise ValueError("what must be 'p_alive' or 'expected_purchases'")
    return pd.DataFrame(values.to_numpy().reshape(f.shape), index=pd.Index(rec, name="recency"),
                        columns=pd.Index(freq.astype(int), name="frequency"))


# ---------------------------------------------------------------------------------------------
# the stage


def clv_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The ``clv`` section of a merged config, checked (a :class:`UserError` says what to fix)."""
    cfg = dict(config.get("clv") or {})
    if not cfg:
        raise UserError("the config has no clv section (defaults/clv.yaml)")
    models = cfg.get("models") or []
    if isinstance(models, str):
        models = [models]
    for m in models:
        _check_model(m)
    if not models:
        raise UserError(f"clv.models is empty: list one or more of {', '.join(MODELS)}")
    cfg["models"] = list(models)
    return cfg


@dataclass
class ClvRun:
    """The CLV stage's products: ``customers`` (``customer_id`` + the CLV columns, one row per
    customer of the customer table), ``report`` (what goes in ``clv_models.json``), the backtest,
    the fitted :class:`CLVModel` and the summary it was fitted on (indexed by customer id)."""

    customers: pd.DataFrame
    report: dict[str, Any]
    backtest: Backtest | None
    model: CLVModel
    summary: pd.DataFrame

    @property
    def chosen_label(self) -> str:
        """The chosen purchase model's name, e.g. "Pareto/NBD"."""
        return MODEL_LABELS[self.model.model]

    @property
    def horizon_units(self) -> float:
        """The CLV horizon in model time units (e.g. 12 months = 52.14 weeks)."""
        return self.model.horizon_months * UNITS_PER_MONTH[self.model.time_unit]

    def matrix(self, what: str = "p_alive") -> pd.DataFrame:
        """``p_alive`` or ``expected_purchases`` (over the horizon) by frequency and recency,
        for a customer whose first purchase was at the start of the data."""
        T = float(self.summary["T"].max())
        max_f = int(min(30, max(5, self.summary["frequency"].quantile(0.99))))
        return frequency_recency_matrix(self.model.purchase_model_, T, self.horizon_units,
                                        what, max_frequency=max_f)

    def repeat_histogram(self) -> pd.DataFrame:
        """Customers by repeat purchases, actual and expected by the chosen model."""
        return repeat_purchase_histogram(self.model.purchase_model_, self.summary)

    def top_customers(self, n: int = 20) -> pd.DataFrame:
        """The ``n`` customers with the highest CLV, with their forecasts and intervals."""
        return self.customers.nlargest(n, "clv").reset_index(drop=True)


def _clean(obj: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN / inf to None."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, pd.Timestamp):
        return obj.date().isoformat()
    return obj


def run_clv(tx: pd.DataFrame, customers: pd.DataFrame | None, as_of: Any,
            config: dict[str, Any]) -> ClvRun:
    """The CLV stage: backtest every configured model on a calibration / holdout split, choose
    the best by holdout performance, refit it on all purchases up to ``as_of``, and score CLV
    with bootstrap intervals.

    ``tx``: validated transactions; ``customers``: the customer table (its ``customer_id`` decide
    the rows of the result; customers without a purchase get NaN model outputs and CLV 0);
    ``config``: the merged config (``clv`` section)."""
    from analysis.data import features

    cfg = clv_settings(config)
    unit = cfg.get("time_unit", "weeks")
    tx = tx[["customer_id", "timestamp", "amount"]]  # all the models need (less to copy)
    as_of = pd.Timestamp(as_of)
    report: dict[str, Any] = {"as_of": as_of.date().isoformat(), "time_unit": unit,
                              "warnings": []}
    hold = cfg.get("holdout") or {}
    bt = None
    try:
        cal_end, obs_end = holdout_period(
            tx["timestamp"].min(), as_of, hold.get("fraction", 0.5), hold.get("max_days", 365),
            hold.get("calibration_end"))
    except UserError as exc:
        if len(cfg["models"]) > 1:
            raise
        report["warnings"].append(f"no backtest: {exc}")
    else:
        bt = backtest(tx, cal_end, obs_end, cfg["models"], unit, cfg.get("penalizer", 0.0))
    models_report: dict[str, Any] = {}
    if bt is not None:
        chosen, reason = choose_model(bt.metrics, cfg.get("choose_by", "rmse"))
        report["backtest"] = {
            "calibration_end": bt.calibration_end.date().isoformat(),
            "observation_end": bt.observation_end.date().isoformat(),
            "holdout_length": bt.holdout_length,
            "customers": int(len(bt.predictions)),
            "choose_by": cfg.get("choose_by", "rmse"),
        }
        for name in cfg["models"]:
            entry: dict[str, Any] = {"label": MODEL_LABELS[name]}
            if name in bt.models:
                pm = bt.models[name]
                entry["calibration"] = {"params": pm.params_.to_dict(),
                                        "log_likelihood": pm.log_likelihood_,
                                        "customers": pm.n_customers_}
                entry["backtest"] = bt.metrics.loc[name].to_dict()
            else:
                entry["error"] = bt.errors[name]
                report["warnings"].append(f"{MODEL_LABELS[name]} failed: {bt.errors[name]}")
            models_report[name] = entry
    else:
        chosen = cfg["models"][0]
        reason = f"{MODEL_LABELS[chosen]} is the only configured model (no backtest possible)"
        models_report[chosen] = {"label": MODEL_LABELS[chosen]}
    report["chosen_model"], report["choice_reason"] = chosen, reason

    summary = features.lifetimes_summary(tx, as_of, unit)
    gg = cfg.get("gamma_gamma") or {}
    boot = cfg.get("bootstrap") or {}
    ranked = [chosen] + [m for m in (bt.metrics.index if bt is not None else []) if m != chosen]
    for name in ranked:
        model = CLVModel(
            model=name, horizon_months=int(cfg.get("horizon_months", 12)),
            discount_rate=float(cfg.get("discount_rate", 0.01)), margin=cfg.get("margin"),
            time_unit=unit, penalizer=float(cfg.get("penalizer", 0.0)),
            gg_penalizer=float(gg.get("penalizer", 0.0)),
            gg_retry_penalizer=float(gg.get("retry_penalizer", 0.01)),
            correlation_warning=float(gg.get("correlation_warning", 0.3)),
            n_bootstrap=int(boot.get("n", 0)), interval=float(boot.get("interval", 0.9)),
            random_state=boot.get("seed"),
        )
        try:
            model.fit(summary)
            break
        except ConvergenceError as exc:
            report["warnings"].append(f"{MODEL_LABELS[name]} could not be refitted on all data "
                                      f"up to {as_of.date()}: {str(exc).strip()}")
    else:
        raise UserError("no CLV model could be fitted on the data up to the as-of date: "
                        "try clv.penalizer: 0.001")
    if model.model != chosen:
        chosen = model.model
        reason = f"{MODEL_LABELS[chosen]} is the best model that could be refitted on all data"
        report["chosen_model"], report["choice_reason"] = chosen, reason
        models_report.setdefault(chosen, {"label": MODEL_LABELS[chosen]})
    scores = model.predict(summary)
    pm, sm = model.purchase_model_, model.spend_model_
    models_report[chosen]["full"] = {"params": pm.params_.to_dict(),
                                     "log_likelihood": pm.log_likelihood_,
                                     "customers": pm.n_customers_}
    report["models"] = models_report
    report["spend_model"] = {
        "method": sm.method_, "params": sm.params_.to_dict(),
        "population_mean_spend": sm.population_mean_spend_,
        "frequency_spend_correlation": sm.correlation_,
        "repeat_buyers": sm.n_repeat_buyers_, "warnings": list(sm.warnings_),
    }
    report["warnings"] += sm.warnings_
    report["parameters"] = model.parameter_intervals().to_dict(orient="index")

    ids = (customers["customer_id"].astype(str) if customers is not None
           else pd.Series(summary.index, dtype=str))
    out = scores.reindex(pd.Index(ids, name="customer_id"))
    if "clv_low" not in out:
        out["clv_low"] = out["clv_high"] = np.nan
    no_purchase = ~out.index.isin(summary.index)
    out.loc[no_purchase, ["clv", "clv_low", "clv_high"]] = 0.0
    out = out[list(OUTPUT_COLUMNS)].reset_index()
    report["clv"] = {
        "horizon_months": model.horizon_months, "discount_rate_monthly": model.discount_rate,
        "margin": model.margin, "value": "profit" if model.margin else "revenue",
        "bootstrap_resamples": model.n_bootstrap, "interval": model.interval,
        "seed": model.random_state, "customers_scored": int((~no_purchase).sum()),
        "customers_without_purchase": int(no_purchase.sum()),
        "total_clv": float(out["clv"].sum()), "mean_clv": float(scores["clv"].mean()),
        "median_clv": float(scores["clv"].median()),
        "total_expected_purchases": float(scores["expected_purchases"].sum()),
        "top_decile_share": _top_share(scores["clv"], 0.1),
    }
    missing = set(summary.index) - set(out["customer_id"])
    if missing:
        report["warnings"].append(
            f"{len(missing)} customers with purchases are not in the customer table")
    return ClvRun(out, _clean(report), bt, model, summary)


def _top_share(values: pd.Series, top: float) -> float:
    v = np.sort(values.to_numpy(float))[::-1]
    total = v.sum()
    return float(v[: max(1, int(round(len(v) * top)))].sum() / total) if total > 0 else math.nan


def manager_summary(report: dict[str, Any]) -> str:
    """A few plain sentences (Markdown) for a manager, from a ``clv_models.json`` report."""
    c = report["clv"]
    chosen = MODEL_LABELS[report["chosen_model"]]
    value = "profit" if c.get("margin") else "revenue"
    lines = [
        f"- Over the next **{c['horizon_months']} months**, the {c['customers_scored']:,} "
        f"customers who have bought are expected to make **{c['total_expected_purchases']:,.0f} "
        f"repeat purchases** worth **{c['total_clv']:,.0f}** in discounted {value} "
        f"({c['discount_rate_monthly']:.1%} a month).",
        f"- Value is concentrated: the top 10% of customers hold "
        f"**{c['top_decile_share']:.0%}** of it (median customer {c['median_clv']:,.2f}).",
    ]
    bt = report.get("backtest")
    if bt:
        m = report["models"][report["chosen_model"]]["backtest"]
        lines.append(
            f"- The forecast model ({chosen}) was checked on the past: fitted on purchases up to "
            f"{bt['calibration_end']}, it predicted {m['total_predicted']:,.0f} repeat purchases "
            f"up to {bt['observation_end']} against {m['total_actual']:,.0f} that happened "
            f"({m['total_error_pct']:+.1f}%). {report['choice_reason']}.")
    if c.get("bootstrap_resamples"):
        lines.append(f"- Ranges shown per customer are {c['interval']:.0%} intervals from "
                     f"{c['bootstrap_resamples']} resamples of the customer base: they show how "
                     "sure the model's estimates are, not each customer's chance variation.")
    if c.get("customers_without_purchase"):
        lines.append(f"- {c['customers_without_purchase']:,} listed customers have not bought yet "
                     "and get no forecast (CLV 0).")
    lines += [f"- Caution: {w}" for w in report.get("warnings", [])]
    return "\n".join(lines)
