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

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from analysis.clv.fitters import FastFit, FitFailed, coarse_copy, inverse_curvature, one_blas_thread, optimiser_stopped
from analysis.clv.likelihoods import MODEL_LABELS, PARAM_NAMES, hessian_from_gradient
from analysis.clv.pareto import ParetoObjective
from analysis.stage import Text, text

MIN_PARAM = 1e-6  # lower bound of every parameter (time scaled to max T = 1)
MAX_SCALE = 1e6  # upper bound of the scale parameters alpha and beta (same scale)

# what a shape parameter at its upper bound means, in the reader's words
FLAT = {
    "r": text("customers' purchase rates", "客户的购买率"),
    "s": text("customers' dropout rates", "客户的流失倾向"),
    "a": text("customers' dropout probabilities", "客户的流失倾向"),
    "b": text("customers' dropout probabilities", "客户的流失倾向"),
}


class DegenerateFit(FitFailed):
    """A purchase model's fit stayed degenerate after the retry; ``model`` is the fitted
    model (for the report), ``reason`` why, in both languages (``{en, zh}``)."""

    def __init__(self, reason: Text, model=None):
        super().__init__(reason)
        self.model = model


@dataclass
class FitResult:
    """A fit's parameters in natural units, its penalised objective (mean negative log-likelihood
    per customer in the optimiser's time scale), iterations and, if degenerate, why (``{en, zh}``)."""

    params: np.ndarray
    objective: float
    iterations: int
    problem: Text | None = None
    log_likelihood: float = np.nan  # the sum over customers, in the data's time unit


def pareto_start(f, T, w, scale: float) -> np.ndarray:
    """A data-based start for Pareto/NBD in the optimiser's units (time scaled to max T = 1):
    r = s = 1, alpha matching the mean repeat purchase rate r / alpha, beta = 1 (a mean lifetime
    as long as the longest observation)."""
    rate = float(np.sum(w * f) / max(np.sum(w * T * scale), 1e-12))
    return np.array([1.0, 1.0 / rate if rate > 0 else 1.0, 1.0, 1.0])


def fit_pareto(
    f,
    r,
    T,
    w,
    penalizer: float,
    start: np.ndarray,
    max_shape: float,
    max_iterations: int,
    tol: float | None = None,
    curvature: np.ndarray | None = None,
) -> FitResult:
    """Pareto/NBD by L-BFGS-B on the log parameters, time scaled to max T = 1, within bounds
    (shapes in [MIN_PARAM, max_shape], scales in [MIN_PARAM, MAX_SCALE]); ``start`` in those
    units. Returns the parameters in natural units.

    ``curvature``: the inverse Hessian at ``start`` of a nearby fit's objective (log parameters,
    :func:`pareto_curvature`), as a bootstrap refit warm started at the point estimate has: BFGS
    then runs from ``start`` with it as its first curvature, a few steps to the same maximum
    (gradient below 1e-9) instead of about thirty evaluations from a cold curvature."""
    with one_blas_thread():
        if curvature is not None:
            scale = 1.0 / float(np.max(T))
            objective = ParetoObjective(f, r * scale, T * scale, w, penalizer)
            result = _polish(objective, np.log(np.asarray(start, float)), curvature, scale, max_shape, max_iterations)
        else:
            result = _fit_pareto_from_coarse(f, r, T, w, penalizer, start, max_shape, max_iterations, tol)
        return result or _fit_pareto(f, r, T, w, penalizer, start, max_shape, max_iterations, tol)


def pareto_curvature(f, r, T, w, penalizer: float, params) -> np.ndarray | None:
    """The inverse Hessian of the Pareto/NBD objective of :func:`fit_pareto` at ``params``
    (natural units), by differences of its gradient: the warm curvature of refits near
    ``params``; None when it is not positive definite."""
    scale = 1.0 / float(np.max(T))
    objective = ParetoObjective(f, r * scale, T * scale, w, penalizer)
    x = np.log(np.asarray(params, float) * np.array([1.0, scale, 1.0, scale]))
    with one_blas_thread(), np.errstate(all="ignore"):
        return inverse_curvature(hessian_from_gradient(objective, x))


def refit_pareto_draws(
    f, r, T, weights: np.ndarray, penalizer: float, params, max_shape: float, max_steps: int = 12
) -> list[np.ndarray | None]:
    """Pareto/NBD refitted on many weightings of the same patterns at once (bootstrap draws:
    ``weights`` is patterns x draws, the customers each draw has of each pattern), every draw
    warm started at ``params`` (the fit on all customers, natural units).

    Each draw's objective is that of :func:`fit_pareto` on its own customers (the same maximum
    likelihood estimate). The exact gradients of every pattern's log-likelihood at 21 points
    around ``params``, shared by all draws, give each draw a cubic model of its objective there
    (:func:`_draw_models_from_gradients`: its gradient, Hessian and third derivatives), whose
    maximum, found without further evaluations, is the draw's start; from there Newton steps with
    the model's Hessian as the first curvature, each evaluating the draw's exact gradient on the
    patterns the draw has and updating the curvature as BFGS does, stop at a gradient below 1e-9
    (the tolerance of :func:`fit_pareto`): one or two evaluations a draw. Returns, per draw, the
    parameters (natural units), or None where the run does not converge inside the bounds of
    :func:`_fit_pareto` (the caller then refits that draw one by one)."""
    weights = np.asarray(weights, float)
    n_draws = weights.shape[1]
    scale = 1.0 / float(np.max(T))
    objective = ParetoObjective(f, r * scale, T * scale, np.ones(len(f)), penalizer)
    x_hat = np.log(np.asarray(params, float) * np.array([1.0, scale, 1.0, scale]))
    # each draw's own time scale (1 / its longest T) only changes its penalty's alpha and beta
    drawn_max = np.max(np.where(weights > 0, np.asarray(T, float)[:, None], 0.0), axis=0)
    ratio = np.ones((n_draws, 4))
    ratio[:, [1, 3]] = (scale * drawn_max[:, None]) ** -1.0
    W = weights.sum(axis=0)
    with one_blas_thread(), np.errstate(all="ignore"):
        slopes, hessians, thirds = _draw_models_from_gradients(objective, x_hat, weights)
        lo, hi = np.log(MIN_PARAM), np.log([max_shape, MAX_SCALE, max_shape, MAX_SCALE])
        out: list[np.ndarray | None] = []
        for b in range(n_draws):
            pen = penalizer * ratio[b] ** 2  # the penalty on exp(x) in the draw's own units
            keep = weights[:, b] > 0
            own = objective.subset(keep, weights[keep, b])

            def gradient(x, own=own, b=b, pen=pen):
                return -_draw_slope(own, x) / W[b] + 2.0 * pen * np.exp(2 * x)

            # the draw's objective -ll / W + penalty: its derivatives at x_hat
            grow = np.exp(2 * x_hat)
            model = (
                -slopes[b] / W[b] + 2.0 * pen * grow,
                -hessians[b] / W[b] + np.diag(4.0 * pen * grow),
                -thirds[b] / W[b] + _diagonal3(8.0 * pen * grow),
            )
            try:
                x, grad = _newton(gradient, x_hat, *_cubic_minimum(*model), max_steps)
            except np.linalg.LinAlgError:  # a singular curvature: this draw is refitted alone
                out.append(None)
                continue
            done = bool(np.all(np.isfinite(grad)) and np.max(np.abs(grad)) < 1e-9)
            inside = np.all(np.isfinite(x)) and np.all(x > lo) and np.all(x < hi)
            out.append(np.exp(x) / np.array([1.0, scale, 1.0, scale]) if done and inside else None)
    return out


def _newton(gradient, x0: np.ndarray, step: np.ndarray, curvature: np.ndarray, max_steps: int):
    """From ``x0 + step``: Newton steps with ``curvature``, updated as BFGS does (a secant step,
    no line search), until the gradient is below 1e-9 or not finite; the last point and its
    gradient."""
    x = x0 + step
    grad = gradient(x)
    for _ in range(max_steps):
        if not (np.all(np.isfinite(grad)) and np.all(np.isfinite(curvature))) or np.max(np.abs(grad)) < 1e-9:
            break
        step = -np.linalg.solve(curvature, grad)
        x, before, grad = x + step, grad, gradient(x + step)
        change = grad - before
        if step @ change > 0:
            bent = curvature @ step
            curvature = curvature + np.outer(change, change) / (step @ change) - np.outer(bent, bent) / (step @ bent)
    return x, grad


def _diagonal3(values: np.ndarray) -> np.ndarray:
    """The 4 x 4 x 4 tensor with ``values`` on its diagonal."""
    out = np.zeros((4, 4, 4))
    out[range(4), range(4), range(4)] = values
    return out


def _cubic_minimum(g: np.ndarray, H: np.ndarray, third: np.ndarray, steps: int = 8):
    """The step d minimising the cubic model g.d + d'Hd / 2 + third[d, d, d] / 6 near 0, by
    Newton's method on the model, and the model's Hessian there; the plain Newton step -H^-1 g
    with H when the model has no minimum nearby (its Hessian not positive definite on the way,
    or a step longer than one in the log parameters)."""
    plain = (-np.linalg.solve(H, g), H)
    d = plain[0]
    for _ in range(steps):
        curvature = H + third @ d
        if not np.all(np.isfinite(curvature)) or np.linalg.eigvalsh((curvature + curvature.T) / 2)[0] <= 0:
            return plain
        d = d - np.linalg.solve(curvature, g + H @ d + (third @ d) @ d / 2)
        if not np.all(np.isfinite(d)) or np.max(np.abs(d)) > 1.0:
            return plain
    return d, H + third @ d


def _draw_slope(objective, x: np.ndarray) -> np.ndarray:
    """The exact gradient of the objective's weighted log-likelihood at ``x`` (log parameters)."""
    return objective.w @ objective.pattern_log_likelihoods(np.exp(x), gradient=True)[1]


_PAIRS = [(j, k) for j in range(4) for k in range(j + 1, 4)]


def _draw_models_from_gradients(objective, x: np.ndarray, weights: np.ndarray, step: float = 1e-3):
    """Each weighting's gradient (draws x 4), Hessian (draws x 4 x 4) and third derivatives (draws
    x 4 x 4 x 4) of the weighted log-likelihood at ``x`` (log parameters), from the exact gradients
    of every pattern's log-likelihood at 21 points shared by all weightings: the Hessian by central
    differences along the axes; the third derivatives T[., j, k] from the second differences of
    the gradient along the axes (j = k) and along e_j + e_k, which give T[., j, j] + 2 T[., j, k] +
    T[., k, k]; errors of order ``step`` squared."""

    def slopes(point):  # draws x 4
        return weights.T @ objective.pattern_log_likelihoods(np.exp(point), gradient=True)[1]

    e = step * np.eye(4)
    g = slopes(x)
    plus, minus = [slopes(x + e[i]) for i in range(4)], [slopes(x - e[i]) for i in range(4)]
    H = np.stack([(plus[i] - minus[i]) / (2 * step) for i in range(4)], axis=1)  # draws x i x m
    H = (H + H.transpose(0, 2, 1)) / 2
    third = np.empty((weights.shape[1], 4, 4, 4))
    for i in range(4):
        third[:, :, i, i] = (plus[i] + minus[i] - 2 * g) / step**2
    for j, k in _PAIRS:
        both = slopes(x + e[j] + e[k]) + slopes(x - e[j] - e[k]) - 2 * g
        third[:, :, j, k] = third[:, :, k, j] = (both / step**2 - third[:, :, j, j] - third[:, :, k, k]) / 2
    permuted = [third.transpose(0, *(1 + np.array(p))) for p in itertools.permutations(range(3))]
    return g, H, sum(permuted) / len(permuted)


def _fit_pareto_from_coarse(f, r, T, w, penalizer, start, max_shape, max_iterations, tol) -> FitResult | None:
    """On many patterns: the fit of :func:`_fit_pareto` on the coarse copy of the data (see
    :func:`~analysis.clv.fitters.coarse_copy`), then :func:`_polish` on the full data from its
    optimum, with the inverse coarse Hessian as first curvature (a few steps instead of about 35
    evaluations). None, for the plain fit, without a coarse copy, when the coarse fit is
    degenerate, or when the full run does not converge inside the bounds."""
    scale = 1.0 / float(np.max(T))
    coarse = coarse_copy(f, r * scale, T * scale, w, FastFit.COARSE_GRID, FastFit.COARSE_PATTERNS)
    if coarse is None:
        return None
    x_c, t_c, T_c, w_c = coarse
    first = _fit_pareto(x_c, t_c / scale, T_c / scale, w_c, penalizer, start, max_shape, max_iterations, tol)
    if first.problem is not None:
        return None
    x0 = np.log(first.params * np.array([1.0, scale, 1.0, scale]))
    coarse_objective = ParetoObjective(x_c, t_c, T_c, w_c, penalizer)
    with np.errstate(all="ignore"):
        h_inv = inverse_curvature(hessian_from_gradient(coarse_objective, x0))
    if h_inv is None:
        return None
    objective = ParetoObjective(f, r * scale, T * scale, w, penalizer)
    return _polish(objective, x0, h_inv, scale, max_shape, max_iterations)


def _polish(objective, x0, h_inv, scale, max_shape, max_iterations) -> FitResult | None:
    """BFGS with the exact gradient from ``x0`` (log parameters, time scaled by ``scale``) with
    the first inverse Hessian ``h_inv``, to a gradient of 1e-9; the fit in natural units, or None
    when it does not converge inside the bounds of :func:`_fit_pareto`."""
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
    params = np.exp(out.x) / np.array([1.0, scale, 1.0, scale])
    return FitResult(params, float(out.fun), int(out.nit))


def _fit_pareto(f, r, T, w, penalizer, start, max_shape, max_iterations, tol) -> FitResult:
    scale = 1.0 / float(np.max(T))
    objective = ParetoObjective(f, r * scale, T * scale, w, penalizer)
    lo = np.log(MIN_PARAM)
    bounds = [(lo, np.log(max_shape)), (lo, np.log(MAX_SCALE))] * 2
    x0 = np.clip(np.log(np.asarray(start, float)), [b[0] for b in bounds], [b[1] for b in bounds])
    out = minimize(
        objective,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": int(max_iterations), "ftol": tol or 1e-13, "gtol": 1e-9},
    )
    params = np.exp(out.x)
    params[[1, 3]] /= scale
    converged = bool(out.success) or float(np.max(np.abs(out.jac))) < 1e-6
    problem = None if converged else optimiser_stopped(int(out.nit), out.message)
    return FitResult(params, float(out.fun), int(out.nit), problem)


def judge(model: str, params: np.ndarray, log_likelihood: float, scale: float, max_shape: float) -> Text | None:
    """Why a fitted model is degenerate, in both languages (``{en, zh}``), or None when it is sound. ``scale``:
    the optimiser's time scale (1 / max T), to judge the scale parameters where the bounds are."""
    p = np.asarray(params, float)
    label = MODEL_LABELS[model]
    if not np.all(np.isfinite(p)) or not np.all(p > 0) or not np.isfinite(log_likelihood):
        return text(f"the {label} fit gave no finite parameters and log-likelihood",
                    f"{label} 的拟合没有得到有限的参数和对数似然")  # fmt: skip
    names = PARAM_NAMES[model]
    scaled = p * np.array([scale if n in ("alpha", "beta") else 1.0 for n in names])
    for name, value, natural in zip(names, scaled, p, strict=True):
        if name in FLAT and value >= max_shape * (1 - 1e-6):
            return text(
                f"the data cannot tell apart {FLAT[name]['en']}: the {label} fit runs to the edge of its parameter "
                f"space ({name} grows without bound, as if all customers were alike in this)",
                f"数据无法区分{FLAT[name]['zh']}：{label} 的拟合到达参数空间的边界（{name} 无限增大，"
                "仿佛所有客户在这方面都一样）",
            )
        if value <= MIN_PARAM * (1 + 1e-6) or (name in ("alpha", "beta") and value >= MAX_SCALE * (1 - 1e-6)):
            return text(f"the {label} fit runs to the edge of its parameter space ({name} = {natural:.3g})",
                        f"{label} 的拟合到达参数空间的边界（{name} = {natural:.3g}）")  # fmt: skip
    return None
