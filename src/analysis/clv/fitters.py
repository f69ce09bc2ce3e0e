"""The one module that imports ``lifetimes``; its import-time side effects (a global pandas option and
a global warnings filter) are undone right after the import.

lifetimes' fitters are used as they are, with two changes: Pareto/NBD evaluated in log space (lifetimes'
formulas return NaN on SciPy >= 1.16 for heavy buyers), and BG/NBD, MBG/NBD and Gamma-Gamma fitted by
lifetimes' own BFGS call on the numpy likelihoods of :mod:`analysis.clv.likelihoods` with their exact
gradients instead of autograd (``engine="fast"``, the default).
"""

from __future__ import annotations

import contextlib
import functools
import io
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from threadpoolctl import ThreadpoolController

from analysis.clv.likelihoods import BGNBDObjective, GammaGammaObjective, MBGNBDObjective
from analysis.clv.pareto import pareto_expected_purchases, pareto_log_likelihood, pareto_p_alive
from analysis.errors import UserError
from analysis.stage import Text, text


def pandas_options(node=None, prefix: str = "") -> dict[str, Any]:
    """Every pandas option and its current value (deprecated ones included, quietly), read through
    ``pd.options`` one group at a time (``display.max_rows``, ``mode.chained_assignment``, ...)."""
    node = pd.options if node is None else node
    out: dict[str, Any] = {}
    for name in dir(node):
        with warnings.catch_warnings(), contextlib.suppress(Exception):
            warnings.simplefilter("ignore")
            value = getattr(node, name)
            if isinstance(value, type(pd.options)):
                out.update(pandas_options(value, f"{prefix}{name}."))
            else:
                out[prefix + name] = value
    return out


def restore_pandas_options(saved: dict[str, Any]) -> None:
    """Set back every option of ``saved`` (from :func:`pandas_options`) that has changed since."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, value in saved.items():
            with contextlib.suppress(Exception):
                if pd.get_option(key) != value:
                    pd.set_option(key, value)


_saved_options = pandas_options()


with warnings.catch_warnings():  # lifetimes adds a global "ignore FutureWarning" filter at import
    warnings.simplefilter("ignore")  # and pandas 3 warns that the option it sets is deprecated
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter
    from lifetimes.utils import ConvergenceError


restore_pandas_options(_saved_options)  # lifetimes sets pd.options.mode.chained_assignment


del _saved_options


class FitFailed(ConvergenceError):
    """A fit that gave no usable model (a lifetimes ``ConvergenceError``), with why in both languages:
    ``reason``, ``{en, zh}``; the exception's message is its English."""

    def __init__(self, reason: Text):
        super().__init__(reason["en"])
        self.reason = reason


def optimiser_stopped(steps: int, message: str) -> Text:
    """That the optimiser stopped after ``steps`` steps without converging, in both languages; ``message`` is
    SciPy's own (English) reason, quoted."""
    return text(f"the optimiser stopped after {steps} steps: {message}", f"优化器在 {steps} 步后停止：{message}")


def fit_failure(exc: Exception, label: str, named: bool = False) -> Text:
    """Why the fit of model ``label`` raised ``exc``, in both languages: its own words when it has them
    (:class:`FitFailed`), else the library's message (lifetimes, SciPy, numpy: English) quoted in a Chinese
    sentence saying that the fit did not complete; ``named``: the English starts with the exception's type."""
    if isinstance(exc, FitFailed):
        return exc.reason
    message = str(exc).strip()
    message = f"{type(exc).__name__}: {message}" if named else message
    return text(message, f"{label} 的拟合未能完成（程序信息：{message}）")


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


class FastFit:
    """Mixin: lifetimes' ``BaseFitter._fit`` (same BFGS call, tolerance and start) with the
    objective of ``_objective`` instead of autograd. A run that stops on a loss of precision with
    a gradient below 1e-5 counts as converged (BFGS often cannot improve the last digits);
    ``n_iterations_`` records the steps taken (those of the full data).

    On many patterns (above ``COARSE_PATTERNS`` rows) without a given start, BG/NBD and MBG/NBD
    first run lifetimes' BFGS from lifetimes' start on a coarse copy of the data (recency and T
    rounded to ``COARSE_GRID`` steps of the longest T, rows merged with their weights summed: a
    few thousand rows), then BFGS on the full data from that optimum with the inverse of the
    coarse Hessian as its first curvature: 2 to 5 steps instead of about 25. That run goes on to a
    gradient ``FINE_TOLERANCE`` times lifetimes' tolerance, so it ends at lifetimes' maximum to
    within lifetimes' own precision (tested to 1e-6). ``hess_inv0`` may also be passed (a warm
    start in the bootstrap, with the point estimate's inverse Hessian); with
    ``quasi_newton_hessian=True`` the Hessian kept (for lifetimes' standard errors) is BFGS's own
    estimate instead of finite differences of the gradient (a bootstrap refit needs none)."""

    _objective: type
    COARSE_PATTERNS = 20_000
    COARSE_GRID = 50
    FINE_TOLERANCE = 1e-2

    def _coarse_args(self, args):
        """The objective's arguments on the coarse grid, or None (too few rows to gain)."""
        return None

    def _fit(self, minimizing_function_args, initial_params, params_size, disp, tol=1e-7, bounds=None, **kwargs):
        with one_blas_thread():
            return self._fit_here(minimizing_function_args, initial_params, params_size, disp, tol, bounds, **kwargs)

    def _fit_here(self, minimizing_function_args, initial_params, params_size, disp, tol, bounds, **kwargs):
        objective = self._objective(*minimizing_function_args)
        x0 = 0.1 * np.ones(params_size) if initial_params is None else initial_params
        coarse = None
        if initial_params is None and "hess_inv0" not in kwargs:
            coarse_args = self._coarse_args(minimizing_function_args)
            coarse = None if coarse_args is None else self._objective(*coarse_args)
        quasi_newton = kwargs.pop("quasi_newton_hessian", False)
        output, hessian = fast_fit(objective, x0, tol, bounds, coarse, quasi_newton, disp=disp, **kwargs)
        self.n_iterations_ = int(output.nit)
        return output.x, output.fun, hessian


def fast_fit(objective, x0, tol: float, bounds=None, coarse=None, quasi_newton: bool = False, **options):
    """The fit of :class:`FastFit` on a prepared objective (value, gradient in the log parameters):
    lifetimes' BFGS call from ``x0`` (L-BFGS-B within ``bounds`` when given), first on the
    ``coarse`` objective (the same model on :func:`coarse_copy` of the data, or None) when it
    reaches a clean minimum, then on the full data from there with its inverse Hessian and a
    tolerance ``FastFit.FINE_TOLERANCE`` times ``tol``. Returns (scipy's result, the Hessian at the
    optimum: BFGS's own estimate with ``quasi_newton``, else differences of the exact gradient);
    raises ConvergenceError as lifetimes does."""
    with one_blas_thread():
        if coarse is not None and bounds is None:
            start = coarse_start(coarse, x0, tol)
            if start is not None:
                x0, options["hess_inv0"] = start
                tol = tol * FastFit.FINE_TOLERANCE
        output = _bfgs(objective, x0, tol, bounds, **options)
        hessian = inverse_curvature(output.hess_inv) if quasi_newton else None
        return output, objective.hessian(output.x, output.jac) if hessian is None else hessian


def coarse_start(objective, x0, tol: float):
    """(optimum, inverse Hessian) of BFGS on the coarse ``objective`` from ``x0``, or None when its
    fit is not a clean minimum."""
    with np.errstate(all="ignore"):
        out = minimize(objective, jac=True, method="BFGS", tol=tol, x0=x0)
        if not (out.success and np.all(np.isfinite(out.x))):
            return None
        h = objective.hessian(out.x, out.jac)
    h_inv = inverse_curvature(h)
    return None if h_inv is None else (out.x, h_inv)


def _bfgs(objective, x0, tol, bounds=None, **options):
    """lifetimes' optimiser call (``BaseFitter._fit``: scipy's default method, BFGS when there are
    no bounds) on ``objective`` (value, gradient) from ``x0``: its result, or ConvergenceError.
    A run that stops on a loss of precision with a gradient below 1e-5 counts as converged."""
    output = minimize(objective, jac=True, method=None, tol=tol, x0=x0, options=options, bounds=bounds)
    small = np.all(np.isfinite(output.x)) and float(np.max(np.abs(output.jac))) < 1e-5
    if output.success or (small and output.status == 2):
        return output
    raise FitFailed(optimiser_stopped(output.nit, output.message))


def fit_prepared(objective, start, tol: float | None = None, **options) -> np.ndarray:
    """The optimum (log parameters) of a prepared fast-engine objective, e.g. a bootstrap
    resample's ``reweighted`` copy of the point estimate's, by the BFGS call of :class:`FastFit`
    (lifetimes' tolerance 1e-7 unless ``tol``; ``options`` such as ``maxiter``, ``hess_inv0``) from
    ``start``; raises ConvergenceError as that fit does. Without lifetimes' input checks, its copy
    of the data and its standard errors, which a refit does not need."""
    with one_blas_thread():
        return _bfgs(objective, start, 1e-7 if tol is None else tol, disp=False, **options).x


def inverse_curvature(matrix) -> np.ndarray | None:
    """The inverse of a symmetric positive definite matrix (a Hessian, or BFGS's inverse Hessian),
    symmetrised as BFGS's ``hess_inv0`` must be; None when it is not finite or not positive definite."""
    m = np.asarray(matrix, float)
    if m.ndim != 2 or not np.all(np.isfinite(m)):
        return None
    m = (m + m.T) / 2
    if np.linalg.eigvalsh(m)[0] <= 0:
        return None
    out = np.linalg.inv(m)
    return (out + out.T) / 2


def coarse_copy(freq, rec, T, weights, grid: int, min_rows: int):
    """(frequency, recency, T, weights) with recency and T (scaled to max T = 1) rounded to
    ``grid`` steps and equal rows merged, their weights summed: the data of a fast first fit that
    starts the full one. None when there are at most ``min_rows`` rows or merging would not halve
    them."""
    x = np.asarray(freq, float)
    if len(x) <= min_rows:
        return None
    x_code, x_unique = pd.factorize(x)
    t_step = np.rint(np.asarray(rec, float) * grid).astype(np.int64)
    T_step = np.rint(np.asarray(T, float) * grid).astype(np.int64)
    key = (x_code * (grid + 1) + t_step) * (grid + 1) + T_step
    inverse, keys = pd.factorize(key)
    if len(keys) > len(x) // 2:
        return None
    w = np.bincount(inverse, weights=np.asarray(weights, float), minlength=len(keys))
    return x_unique[keys // (grid + 1) ** 2], (keys // (grid + 1) % (grid + 1)) / grid, (keys % (grid + 1)) / grid, w


class _CoarseGrid:
    """Mixin for BG/NBD and MBG/NBD: the coarse copy of (frequency, recency, T, weights) that
    starts the fit (see ``FastFit``); times are already scaled to max T = 1."""

    def _coarse_args(self, args):
        freq, rec, T, weights, penalizer = args
        coarse = coarse_copy(freq, rec, T, weights, self.COARSE_GRID, self.COARSE_PATTERNS)
        return None if coarse is None else (*coarse, penalizer)


class _FastBetaGeoFitter(_CoarseGrid, FastFit, BetaGeoFitter):
    _objective = BGNBDObjective


class _FastModifiedBetaGeoFitter(_CoarseGrid, FastFit, ModifiedBetaGeoFitter):
    _objective = MBGNBDObjective


class FastGammaGammaFitter(FastFit, GammaGammaFitter):
    _objective = GammaGammaObjective


FITTERS = {"bgnbd": BetaGeoFitter, "pareto": _ParetoNBDFitter, "mbgnbd": ModifiedBetaGeoFitter}


FAST_FITTERS = {"bgnbd": _FastBetaGeoFitter, "mbgnbd": _FastModifiedBetaGeoFitter}


@functools.cache
def _blas_libraries() -> ThreadpoolController:
    """The BLAS libraries of this process, looked up once (1-7 ms a lookup, and the bootstrap asks
    dozens of times)."""
    return ThreadpoolController()


@contextlib.contextmanager
def one_blas_thread():
    """Run the likelihoods' dot products on one BLAS thread. They are long vectors, short work:
    OpenBLAS's threads then mostly wait for each other, and on a busy machine for the CPU (the
    BG/NBD + Gamma-Gamma fit on 1M customers took 3-4 s wall instead of 0.7 s with other
    processes running)."""
    with _blas_libraries().limit(limits=1, user_api="blas"):
        yield


@contextlib.contextmanager
def quiet_lifetimes():
    """Silence lifetimes while it runs: its warnings filters and its print() on failure."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def fitter_class_for(model: str, engine: str = "fast") -> type:
    if engine not in ("fast", "lifetimes"):
        raise UserError(f"unknown CLV engine {engine!r}: use 'fast' or 'lifetimes'")
    if engine == "fast":
        return FAST_FITTERS.get(model, FITTERS[model])
    return FITTERS[model]
