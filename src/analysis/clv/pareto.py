"""The Pareto/NBD mathematics in numpy (Schmittlein, Morrison & Colombo 1987; Fader & Hardie notes 009 and
028), in log space: the likelihood, P(alive), the conditional expectation and P(n purchases), with the dropout
term (Fader & Hardie's hypergeometric terms) as an integral by a fixed Gauss-Legendre rule, the same cost at every
frequency; and the fit's objective with its exact gradient (:class:`ParetoObjective`).
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
from scipy.special import digamma, expit, gammaln

from analysis.clv.likelihoods import hessian_from_gradient

# Gauss-Legendre rule of the dropout integral: the same nodes, so the same cost, at every frequency
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(32)
_LOG_WEIGHTS = np.log(_WEIGHTS)
_NEGLIGIBLE = 42.0  # the integrand below e^-42 of its peak is left out (a relative 6e-19)


def _dropout_window(k, far, d, span):
    """The stretch of the dropout integral that carries its mass, in u = log((c + tau) / (c +
    t_x)), c = min(alpha, beta), where the integrand is exp(-psi(u)), psi(u) = k u + far log(e^u
    + d), a convex function: its peak is at u = 0, or, with k < 0 (no repeat purchase and r < 1),
    where psi' = 0. Returns the end of the stretch, at most ``span``: where psi has risen
    ``_NEGLIGIBLE`` above the peak, found by Newton's method from the right (on a convex function
    it stays right of the root, so no mass is cut off)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        q = -k / far
        peak = np.where(k < 0, np.log(d * q / (1.0 - q)), 0.0)
    peak = np.clip(np.nan_to_num(peak, nan=0.0, neginf=0.0), 0.0, span)

    def psi(u):
        return k * u + far * np.log(np.exp(u) + d)

    target = psi(peak) + _NEGLIGIBLE
    u = span.copy()
    for _ in range(5):
        excess = psi(u) - target
        slope = k + far / (1.0 + d * np.exp(-u))
        u = np.where(excess > 0, u - excess / np.where(excess > 0, slope, 1.0), u)
    return np.clip(u, peak, span)


def pareto_dropout_integral(params, x, t_x, T, moments: bool = False):
    """log of the integral over the dropout time tau in (t_x, T) of (alpha + tau)^-(r + x) (beta +
    tau)^-(s + 1): the chance of dropping out between the last purchase and T, without the factors
    s and A_1 (Fader & Hardie note 009, eq. 18-20, write it with hypergeometric functions). A
    32-node Gauss-Legendre rule in log space on the stretch of :func:`_dropout_window`: the same
    cost at every frequency, and no overflow. -inf where t_x = T. ``params`` (r, alpha, s, beta):
    r and s numbers, alpha and beta numbers or one per customer (static covariates); frequency x,
    recency t_x and T arrays that broadcast with them.

    ``moments``: also the means of log(alpha + tau), 1 / (alpha + tau), log(beta + tau) and 1 /
    (beta + tau) under the integrand (rows x 4; 0 where t_x = T): the log integral's derivatives
    in r, alpha, s, beta are minus these, those in alpha and beta times r + x and s + 1."""
    r, s = float(params[0]), float(params[2])
    arrays = np.broadcast_arrays(*(np.asarray(v, float) for v in (x, t_x, T, params[1], params[3])))
    shape, (x, t_x, T, alpha, beta) = arrays[0].shape, (v.ravel() for v in arrays)
    near_alpha = alpha <= beta  # the nearer singularity of the integrand, at tau = -min(alpha, beta)
    base = np.minimum(alpha, beta) + t_x
    a, b = r + x, np.full(len(x), s + 1.0)
    out, means = np.full(len(x), -np.inf), np.zeros((len(x), 4))
    some = t_x < T
    if not some.any():
        return (out.reshape(shape), means) if moments else out.reshape(shape)
    base, a, b, near_alpha = base[some], a[some], b[some], near_alpha[some]
    d = np.abs(alpha - beta)[some] / base
    k, far = np.where(near_alpha, a - 1.0, b - 1.0), np.where(near_alpha, b, a)
    half = _dropout_window(k, far, d, np.log1p((T[some] - t_x[some]) / base))[:, None] / 2
    u = half + half * _NODES
    e_u = np.exp(u)
    log_far = np.log(e_u + d[:, None])
    terms = np.log(half) + _LOG_WEIGHTS - k[:, None] * u - far[:, None] * log_far
    top = terms.max(axis=1)
    weight = np.exp(terms - top[:, None])
    total = weight.sum(axis=1)
    log_base = np.log(base)
    out[some] = (1.0 - a - b) * log_base + top + np.log(total)
    if moments:
        weight /= total[:, None]
        near = (log_base + _row_dot(weight, u), _row_dot(weight, 1.0 / e_u) / base)
        other = (log_base + _row_dot(weight, log_far), _row_dot(weight, 1.0 / (e_u + d[:, None])) / base)
        near_first = np.column_stack([*near, *other])
        means[some] = np.where(near_alpha[:, None], near_first, near_first[:, [2, 3, 0, 1]])
        return out.reshape(shape), means
    return out.reshape(shape)


def _row_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The dot product of each row of ``a`` with the same row of ``b``."""
    return np.einsum("ij,ij->i", a, b)


def _pareto_log_parts(params, x, t_x, T):
    """The two log terms of the Pareto/NBD likelihood (without the common factor A_1): alive
    through T, and dropped out between the last purchase and T."""
    r, alpha, s, beta = params
    x, T = np.asarray(x, dtype=float), np.asarray(T, dtype=float)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    died = np.log(s) + pareto_dropout_integral(params, x, t_x, T)
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


def pareto_expected_purchases(params, t, x, t_x, T, p_alive=None) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T] under Pareto/NBD (note 009, eq. 41), in log space;
    ``p_alive``: :func:`pareto_p_alive` of the same customers when the caller has it (several t)."""
    r, alpha, s, beta = params
    x, T, t = (np.asarray(v, dtype=float) for v in (x, T, t))
    ratio = np.log(beta + T) - np.log(beta + T + t)  # log((beta+T)/(beta+T+t)) <= 0
    horizon = -ratio if abs(s - 1.0) < 1e-12 else -np.expm1((s - 1.0) * ratio) / (s - 1.0)
    rate = (r + x) * (beta + T) / (alpha + T)
    alive = pareto_p_alive(params, x, t_x, T) if p_alive is None else p_alive
    return alive * rate * horizon


_DYING_NODES, _DYING_WEIGHTS = np.polynomial.legendre.leggauss(64)  # the integral over the dropout time after T


def pareto_purchases_probability(params, n, t, x, t_x, T) -> np.ndarray:
    """P(n repeat purchases in (T, T + t] | x, t_x, T) under Pareto/NBD (Fader & Hardie note 028):
    dropped out before T (n = 0 only); alive through T + t with n purchases; or alive at T, dropping
    out at T + y, y < t, with n purchases in (T, T + y], the integral over y by Gauss-Legendre in
    u = log(1 + y / (alpha + T)), in log space."""
    r, alpha, s, beta = params
    n, t, x, t_x, T = np.broadcast_arrays(*(np.asarray(v, float) for v in (n, t, x, t_x, T)))
    log_l = pareto_log_likelihood(params, x, t_x, T)
    head = gammaln(r + x + n) - gammaln(r) - gammaln(n + 1) + r * np.log(alpha) + s * np.log(beta)
    with np.errstate(divide="ignore", invalid="ignore"):
        through = head + n * np.log(t) - (r + x + n) * np.log(alpha + T + t) - s * np.log(beta + T + t)
        g, w = _DYING_NODES, _DYING_WEIGHTS
        base = (alpha + T)[..., None]
        half = np.log1p(t / (alpha + T))[..., None] / 2
        u = half + half * g  # log((alpha + T + y) / (alpha + T)) at the nodes
        y = base * np.expm1(u)
        log_f = (
            n[..., None] * np.log(y)
            - (r + x + n)[..., None] * (np.log(base) + u)
            - (s + 1) * np.log(beta + T[..., None] + y)
            + np.log(base * half) + u + np.log(w)
        )  # fmt: skip
        peak = np.max(log_f, axis=-1, keepdims=True)
        peak = np.where(np.isfinite(peak), peak, 0.0)
        log_i = np.squeeze(peak, -1) + np.log(np.sum(np.exp(log_f - peak), axis=-1))
        dying = np.exp(head + np.log(s) + log_i - log_l)
        out = np.exp(through - log_l) + dying + (n == 0) * (1.0 - pareto_p_alive(params, x, t_x, T))
    return np.where(t > 0, out, (n == 0).astype(float))


def pareto_row_log_likelihood(r: float, alpha, s: float, beta, x, t_x, T):
    """Each row's Pareto/NBD log-likelihood with ``alpha`` and ``beta`` one per row (static
    covariates, :mod:`analysis.clv.covariates`) and its derivatives in log r, log alpha, log s,
    log beta (rows x 4): the terms of :meth:`ParetoObjective.pattern_log_likelihoods`, row by row."""
    alpha, beta, x, t_x, T = np.broadcast_arrays(*(np.asarray(v, float) for v in (alpha, beta, x, t_x, T)))
    log_i, means = pareto_dropout_integral((r, alpha, s, beta), x, t_x, T, moments=True)
    rx = r + x
    log_aT, log_bT = np.log(alpha + T), np.log(beta + T)
    alive = -rx * log_aT - s * log_bT
    tail = np.logaddexp(alive, np.log(s) + log_i)
    head = gammaln(rx) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    p_alive = np.exp(alive - tail)
    p_died = 1.0 - p_alive
    slopes = np.column_stack(
        [
            r * (digamma(rx) - digamma(r) + np.log(alpha) - p_alive * log_aT - p_died * means[:, 0]),
            r - rx * alpha * (p_alive / (alpha + T) + p_died * means[:, 1]),
            s * (np.log(beta) - p_alive * log_bT + p_died * (1.0 / s - means[:, 2])),
            s - beta * (p_alive * s / (beta + T) + p_died * (s + 1.0) * means[:, 3]),
        ]
    )
    return head + tail, slopes


class ParetoObjective:
    """Mean negative Pareto/NBD log-likelihood per customer plus lifetimes' L2 penalty on the
    parameters (the same normalisation as BG/NBD, so a penalty means the same on condensed
    patterns as on customers), in the log parameters (r, alpha, s, beta), with its exact gradient.

    One row per pattern (frequency, recency, T) with its customers as weight; the dropout integral
    is computed once per row (:func:`pareto_dropout_integral`, with its moments for the gradient),
    the terms of the frequency alone once per distinct frequency and those of T alone once per
    distinct T."""

    def __init__(self, freq, rec, T, weights, penalizer_coef):
        self.x, self.t, self.T = (np.asarray(v, float) for v in (freq, rec, T))
        self.w = np.asarray(weights, float)
        self.W = self.w.sum()
        # distinct values by hashing (their order does not matter; np.unique sorts)
        self.i_x, self.xu = pd.factorize(self.x)
        self.i_T, self.Tu = pd.factorize(self.T)
        self.penalizer = penalizer_coef

    def pattern_log_likelihoods(self, params, gradient: bool = False):
        """Each row's log-likelihood at ``params`` (natural units); with ``gradient`` also its
        derivatives in the log parameters (rows x 4)."""
        r, alpha, s, beta = params
        if not gradient:
            alive, died = _pareto_log_parts(params, self.x, self.t, self.T)
            head = gammaln(r + self.xu) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
            return head[self.i_x] + np.logaddexp(alive, died)
        log_i, means = pareto_dropout_integral(params, self.x, self.t, self.T, moments=True)
        ix, iT = self.i_x, self.i_T
        rx = (r + self.xu)[ix]
        log_aT, log_bT = np.log(alpha + self.Tu)[iT], np.log(beta + self.Tu)[iT]
        alive = -rx * log_aT - s * log_bT
        died = np.log(s) + log_i
        tail = np.logaddexp(alive, died)
        head = gammaln(r + self.xu) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        p_alive = np.exp(alive - tail)
        p_died = 1.0 - p_alive
        slopes = np.column_stack(
            [
                (digamma(r + self.xu) - digamma(r))[ix] + np.log(alpha) - p_alive * log_aT - p_died * means[:, 0],
                r / alpha - rx * (p_alive / (alpha + self.Tu)[iT] + p_died * means[:, 1]),
                np.log(beta) - p_alive * log_bT + p_died * (1.0 / s - means[:, 2]),
                s / beta - p_alive * s / (beta + self.Tu)[iT] - p_died * (s + 1.0) * means[:, 3],
            ]
        )
        return head[ix] + tail, slopes * np.asarray(params, float)

    def log_likelihoods(self, P: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Weighted total log-likelihood at each row of ``P`` (natural parameters, k x 4); with
        ``weights`` (rows x m, several weightings of the rows) a k x m matrix."""
        w = self.w if weights is None else weights
        return np.array([self.pattern_log_likelihoods(p) @ w for p in np.asarray(P, float)])

    def subset(self, keep: np.ndarray, weights: np.ndarray) -> ParetoObjective:
        """This objective on the rows ``keep`` (a boolean mask) with ``weights`` (one per kept
        row, e.g. a bootstrap draw's customers without the rows it lacks); nothing re-grouped."""
        out = copy.copy(self)
        out.w = np.asarray(weights, float)
        out.W = out.w.sum()
        out.x, out.t, out.T, out.i_x, out.i_T = (v[keep] for v in (self.x, self.t, self.T, self.i_x, self.i_T))
        return out

    def __call__(self, log_params):
        params = np.exp(np.asarray(log_params, float))
        with np.errstate(all="ignore"):
            ll, slopes = self.pattern_log_likelihoods(params, gradient=True)
            value = -(self.w @ ll) / self.W + self.penalizer * np.sum(params**2)
            grad = -(self.w @ slopes) / self.W + 2 * self.penalizer * params**2
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return np.inf, np.zeros(4)
        return value, grad

    def hessian(self, log_params, grad=None):
        return hessian_from_gradient(self, np.asarray(log_params, float), grad)
