"""How a purchase model's maximum-likelihood fit is run and judged: bounded iterations, the starting
values, the checks that tell a sound fit from a degenerate one, and the one retry.

A fit is *degenerate* when it does not converge, gives a non-finite parameter or log-likelihood, or
runs to the edge of the parameter space: a heterogeneity shape parameter (r, s of Pareto/NBD; r, a, b
of BG/NBD and MBG/NBD) at ``max_shape`` or at ``MIN_PARAM``. A shape parameter growing without bound
means that customers are all alike in that respect as far as the data can tell (a gamma or beta
mixing distribution with no spread): on short calibration windows the dropout process of Pareto/NBD
is typically not identified and its likelihood has its maximum at infinity (s and beta grow
together). Such a fit is retried once from a second start; if it stays degenerate it is reported in
words and never used for a forecast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from analysis.clv.fitters import ConvergenceError, _FastFit, _one_blas_thread, coarse_copy, inverse_curvature
from analysis.clv.likelihoods import MODEL_LABELS, PARAM_NAMES, _hessian_from_gradient, _ParetoObjective

MIN_PARAM = 1e-6  # lower bound of every parameter (time scaled to max T = 1)
MAX_SCALE = 1e6  # upper bound of the scale parameters alpha and beta (same scale)

# what a shape parameter at its upper bound means, in the reader's words
_FLAT = {
    "r": "customers' purchase rates",
    "s": "customers' dropout rates",
    "a": "customers' dropout probabilities",
    "b": "customers' dropout probabilities",
}


class DegenerateFit(ConvergenceError):
    """A purchase model's fit stayed degenerate after the retry; ``model`` is the fitted
    model (for the report), ``reason`` the plain-language sentence."""

    def __init__(self, reason: str, model=None):
        super().__init__(reason)
        self.reason = reason
        self.model = model


@dataclass
class FitResult:
    """A fit's parameters in natural units, its penalised objective (mean negative log-likelihood
    per customer in the optimiser's time scale), iterations and, if degenerate, why."""

    params: np.ndarray
    objective: float
    iterations: int
    problem: str | None = None
    log_likelihood: float = np.nan  # the sum over customers, in the data's time unit


def pareto_start(f, T, w, scale: float) -> np.ndarray:
    """A data-based start for Pareto/NBD in the optimiser's units (time scaled to max T = 1):
    r = s = 1, alpha matching the mean repeat purchase rate r / alpha, beta = 1 (a mean lifetime
    as long as the longest observation)."""
    rate = float(np.sum(w * f) / max(np.sum(w * T * scale), 1e-12))
    return np.array([1.0, 1.0 / rate if rate > 0 else 1.0, 1.0, 1.0])


def fit_pareto(
    f, r, T, w, penalizer: float, start: np.ndarray, max_shape: float, max_iterations: int, tol: float | None = None
) -> FitResult:
    """Pareto/NBD by L-BFGS-B on the log parameters, time scaled to max T = 1, within bounds
    (shapes in [MIN_PARAM, max_shape], scales in [MIN_PARAM, MAX_SCALE]); ``start`` in those
    units. Returns the parameters in natural units."""
    with _one_blas_thread():
        result = _fit_pareto_from_coarse(f, r, T, w, penalizer, start, max_shape, max_iterations, tol)
        return result or _fit_pareto(f, r, T, w, penalizer, start, max_shape, max_iterations, tol)


def _fit_pareto_from_coarse(f, r, T, w, penalizer, start, max_shape, max_iterations, tol) -> FitResult | None:
    """On many patterns: the fit of :func:`_fit_pareto` on the coarse copy of the data (see
    :func:`~analysis.clv.fitters.coarse_copy`), then BFGS with central differences on the full
    data from its optimum, with the inverse coarse Hessian as first curvature (a few steps instead
    of about 35 evaluations). None, for the plain fit, without a coarse copy, when the coarse fit
    is degenerate, or when the full run does not converge inside the bounds."""
    scale = 1.0 / float(np.max(T))
    coarse = coarse_copy(f, r * scale, T * scale, w, _FastFit.COARSE_GRID, _FastFit.COARSE_PATTERNS)
    if coarse is None:
        return None
    x_c, t_c, T_c, w_c = coarse
    first = _fit_pareto(x_c, t_c / scale, T_c / scale, w_c, penalizer, start, max_shape, max_iterations, tol)
    if first.problem is not None:
        return None
    units = np.array([1.0, scale, 1.0, scale])
    x0 = np.log(first.params * units)
    coarse_objective = _ParetoObjective(x_c, t_c, T_c, w_c, penalizer)
    with np.errstate(all="ignore"):
        h_inv = inverse_curvature(_hessian_from_gradient(coarse_objective, x0))
    if h_inv is None:
        return None
    objective = _ParetoObjective(f, r * scale, T * scale, w, penalizer)
    out = minimize(
        objective,
        x0,
        jac=True,
        method="BFGS",
        options={"maxiter": int(max_iterations), "gtol": 1e-9, "hess_inv0": h_inv},
    )
    lo, hi = np.log(MIN_PARAM), np.log([max_shape, MAX_SCALE, max_shape, MAX_SCALE])
    inside = np.all(out.x > lo) and np.all(out.x < hi)
    if not (np.all(np.isfinite(out.x)) and inside and (out.success or float(np.max(np.abs(out.jac))) < 1e-6)):
        return None
    params = np.exp(out.x) / units
    return FitResult(params, float(out.fun), int(out.nit))


def _fit_pareto(f, r, T, w, penalizer, start, max_shape, max_iterations, tol) -> FitResult:
    scale = 1.0 / float(np.max(T))
    objective = _ParetoObjective(f, r * scale, T * scale, w, penalizer)
    lo = np.log(MIN_PARAM)
    bounds = [(lo, np.log(max_shape)), (lo, np.log(MAX_SCALE))] * 2
    x0 = np.clip(np.log(np.asarray(start, float)), [b[0] for b in bounds], [b[1] for b in bounds])
    # the way to the maximum with forward differences, the last steps with central ones
    objective.central = False
    rough = minimize(
        objective,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": int(max_iterations), "ftol": 1e-10},
    )
    objective.central = True
    x1 = rough.x if np.all(np.isfinite(rough.x)) and np.isfinite(rough.fun) else x0
    out = minimize(
        objective,
        x1,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": int(max_iterations), "ftol": tol or 1e-13, "gtol": 1e-9},
    )
    out.nit += rough.nit
    params = np.exp(out.x)
    params[[1, 3]] /= scale
    converged = bool(out.success) or float(np.max(np.abs(out.jac))) < 1e-6
    problem = None if converged else f"the optimiser stopped after {out.nit} steps: {out.message}"
    return FitResult(params, float(out.fun), int(out.nit), problem)


def judge(model: str, params: np.ndarray, log_likelihood: float, scale: float, max_shape: float) -> str | None:
    """Why a fitted model is degenerate (a sentence), or None when it is sound. ``scale``: the
    optimiser's time scale (1 / max T), to judge the scale parameters where the bounds are."""
    p = np.asarray(params, float)
    label = MODEL_LABELS[model]
    if not np.all(np.isfinite(p)) or not np.all(p > 0) or not np.isfinite(log_likelihood):
        return f"the {label} fit gave no finite parameters and log-likelihood"
    names = PARAM_NAMES[model]
    scaled = p * np.array([scale if n in ("alpha", "beta") else 1.0 for n in names])
    for name, value in zip(names, scaled, strict=True):
        if name in _FLAT and value >= max_shape * (1 - 1e-6):
            return (
                f"the data cannot tell apart {_FLAT[name]}: the {label} fit runs to the edge "
                f"of its parameter space ({name} grows without bound, as if all customers "
                "were alike in this)"
            )
        if value <= MIN_PARAM * (1 + 1e-6) or (name in ("alpha", "beta") and value >= MAX_SCALE * (1 - 1e-6)):
            return f"the {label} fit runs to the edge of its parameter space ({name} = {p[names.index(name)]:.3g})"
    return None
