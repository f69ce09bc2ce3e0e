"""Likelihoods and closed forms of the purchase and spend models, in numpy.

Pareto/NBD in log space (the hypergeometric terms through Euler's transformation, ``2F1(1, b; c; z)``,
which never overflows); the BG/NBD, MBG/NBD and Gamma-Gamma negative log-likelihoods of lifetimes with their
exact gradients, the special functions evaluated once per distinct frequency, recency and T; the BG/NBD and
MBG/NBD conditional expectation terms; the Gamma-Gamma expected spend.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
from scipy.special import digamma, expit, gammaln, hyp2f1

from analysis.errors import UserError

_LN2 = math.log(2.0)

MODELS = ("bgnbd", "pareto", "mbgnbd")


MODEL_LABELS = {"bgnbd": "BG/NBD", "pareto": "Pareto/NBD", "mbgnbd": "MBG/NBD"}


PARAM_NAMES = {
    "bgnbd": ("r", "alpha", "a", "b"),
    "pareto": ("r", "alpha", "s", "beta"),
    "mbgnbd": ("r", "alpha", "a", "b"),
}


def _check_model(model: str) -> str:
    if model not in MODELS:
        raise UserError(f"unknown CLV model {model!r}: use one of {', '.join(MODELS)}")
    return model


def _log1mexp(d: np.ndarray) -> np.ndarray:
    """log(1 - exp(d)) for d <= 0, accurate near 0 and for very negative d; -inf at d = 0."""
    d = np.minimum(d, 0.0)
    out = np.empty_like(d)
    near = d > -_LN2  # each element by its own formula only (half the transcendental functions)
    with np.errstate(divide="ignore"):
        out[near] = np.log(-np.expm1(d[near]))
        far = ~near
        out[far] = np.log1p(-np.exp(d[far]))
    return out


_TINY = 1e-300


def _hyp2f1_one(b, c, z, max_terms: int = 5000) -> np.ndarray:
    """2F1(1, b; c; z) for 0 <= z < 1, elementwise, by the continued fraction of the incomplete
    beta function (Numerical Recipes ``betacf``: ``2F1(1, a + b; a + 1; z)`` with ``a = c - 1``,
    ``b = b - c + 1``, which holds for a negative second parameter too), evaluated by Lentz's
    method. Accurate to about 1e-13 where ``scipy.special.hyp2f1`` takes time linear in ``b``
    or overflows (large b with z near 1). Elements whose fraction has converged are dropped
    every few terms; the work is bounded by the slowest element (about 150 terms at z = 0.999)."""
    b, c, z = np.broadcast_arrays(*(np.asarray(v, float) for v in (b, c, z)))
    shape = z.shape
    a, bb, z = (c - 1.0).ravel(), (b - c + 1.0).ravel(), z.ravel()
    h = np.empty(len(z))
    act = np.arange(len(z))  # elements still being computed
    # per element: the numerators' factors, and Lentz's C and D
    za, zb, a1 = z * bb, z * (a + bb), a + 1.0
    cc = np.ones(len(z))
    d = 1.0 / _nonzero(1.0 - zb / a1)
    hh = d.copy()
    m = 1
    while len(act) and m < max_terms:
        am, ab, zi, zbi, zai, ai = a[act], a1[act], z[act], zb[act], za[act], a[act]
        di, ci, hi = d[act], cc[act], hh[act]
        for _ in range(min(m, 8)):  # check after 1, 2, 4, 8, 8, ... terms
            m2 = 2.0 * m
            step = (m * zai - m * m * zi) / ((am - 1.0 + m2) * (ai + m2))
            di, ci = 1.0 / _nonzero(1.0 + step * di), _nonzero(1.0 + step / ci)
            hi = hi * (di * ci)
            step = -(ai + m) * (zbi + m * zi) / ((ai + m2) * (ab + m2))
            di, ci = 1.0 / _nonzero(1.0 + step * di), _nonzero(1.0 + step / ci)
            delta = di * ci
            hi = hi * delta
            m += 1
        d[act], cc[act], hh[act] = di, ci, hi
        done = np.abs(delta - 1.0) <= 1e-15
        h[act[done]] = hi[done]
        act = act[~done]
    h[act] = hh[act]
    return h.reshape(shape)


def _nonzero(v: np.ndarray) -> np.ndarray:
    """``v`` with exact zeros (and tiny values) moved to 1e-300, as Lentz's method needs."""
    return np.where(np.abs(v) < _TINY, _TINY, v)


def _pareto_log_term(params, x, y):
    """log of the hypergeometric term of A_0 at time y (Fader & Hardie note 009, eq. 19-20),
    rewritten with Euler's transformation so the 2F1 factor is 2F1(1, b; c; z), between 1 and
    1 / (1 - z): no overflow at any frequency. ``params`` may be arrays that broadcast against
    ``x`` and ``y`` (several parameter values at once)."""
    r, alpha, s, beta = params
    rx, rsx = r + x, r + s + x
    ge = np.asarray(alpha >= beta)
    log_ay, log_by = np.log(alpha + y), np.log(beta + y)
    z = np.where(ge, (alpha - beta) / (alpha + y), (beta - alpha) / (beta + y))
    b = np.where(ge, rx, s + 1.0)
    head = np.where(ge, -s * log_by - rx * log_ay, (1.0 - rx) * log_ay - (s + 1.0) * log_by)
    return head + np.log(_hyp2f1_one(b, rsx + 1.0, z))


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


def _hessian_from_gradient(objective, x: np.ndarray, grad: np.ndarray | None = None, step: float = 1e-6) -> np.ndarray:
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
        self.ix, self.xu = pd.factorize(x)  # distinct values by hashing (no sort needed)
        it, self.tu = pd.factorize(np.asarray(rec, float))
        self.iT, self.Tu = pd.factorize(np.asarray(T, float))
        # MBG/NBD has the softplus term for every customer, BG/NBD only after a repeat purchase
        self.active = np.ones(len(x), bool) if self.modified else x > 0
        self.xa = x[self.active]
        self.ixa, self.ita, self.iTa = self.ix[self.active], it[self.active], self.iT[self.active]
        # A4 = log a - log(b + offset(x)) - (r + x) log(alpha + recency)
        self.offset = self.xu if self.modified else np.maximum(self.xu, 1) - 1
        self.penalizer = penalizer_coef
        self._weigh(np.asarray(weights, float))

    def _weigh(self, w: np.ndarray) -> None:
        """The sums of the customers' weights ``w`` (one per row) the likelihood needs."""
        self.W = w.sum()
        self.Wx = np.bincount(self.ix, weights=w, minlength=len(self.xu))
        self.W0 = np.bincount(self.iT[~self.active], weights=w[~self.active], minlength=len(self.Tu))
        self.wa = w[self.active]

    def reweighted(self, weights, time_scale: float = 1.0):
        """This objective on the same rows with other ``weights`` (customers per row, e.g. a
        bootstrap resample; rows without any are left out of the sums over rows) and recency and
        T multiplied by ``time_scale``: nothing re-grouped."""
        out = copy.copy(self)
        out.tu, out.Tu = self.tu * time_scale, self.Tu * time_scale
        out._weigh(np.asarray(weights, float))
        drawn = out.wa > 0
        out.xa, out.wa, out.ixa, out.ita, out.iTa = (v[drawn] for v in (self.xa, out.wa, self.ixa, self.ita, self.iTa))
        return out

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
        per_x = gammaln(r + xu) - gammaln(r) + r * np.log(alpha) + gammaln(ab) + gammaln(bx) - gammaln(b) - gammaln(abx)
        ll = self.Wx @ per_x + wa @ (soft - rx * log_aT) - r * (self.W0 @ log_aT_u)
        inv_aT = inv_aT_u[self.iTa]
        grad = np.array(
            [
                self.Wx @ (digamma(r + xu) - digamma(r) + np.log(alpha)) - wa @ log_aT + wpi @ gap - self.W0 @ log_aT_u,
                self.W * r / alpha
                - (wa * rx) @ inv_aT
                + (wpi * rx) @ (inv_aT - inv_at_u[self.ita])
                - r * (self.W0 @ inv_aT_u),
                self.Wx @ (digamma(ab) - digamma(abx)) + wpi.sum() / a,
                self.Wx @ (digamma(ab) + digamma(bx) - digamma(b) - digamma(abx))
                - wpi @ (1.0 / (b + self.offset))[self.ixa],
            ]
        )
        value = -ll / self.W + self.penalizer * np.sum(params**2)
        return value, -params * grad / self.W + 2 * self.penalizer * params**2

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
    -px log1p(v / xm) - q log1p(xm / v) - log m, which avoids cancelling large sums.

    The terms in p and q alone depend on the frequency only, and the terms in v on the total
    repeat spend xm only: the special functions are evaluated once per distinct frequency and
    the logarithms once per distinct total (amounts in cents make totals repeat: about 75,000
    distinct totals among 530,000 repeat buyers), with the customers' weights summed per
    distinct value."""

    def __init__(self, frequency, monetary_value, weights, penalizer_coef):
        self.x = np.asarray(frequency, float)
        m = np.asarray(monetary_value, float)
        self.ix, self.xu = pd.factorize(self.x, sort=True)  # np.unique's result, by hashing
        self.code, self.xm = pd.factorize(self.x * m)
        self.log_xm = np.log(self.xm)
        self.log_m = np.log(m)
        self.penalizer = penalizer_coef
        self._weigh(np.asarray(weights, float))

    def _weigh(self, w: np.ndarray) -> None:
        """The sums of the customers' weights ``w`` (one per row) the likelihood needs."""
        self.W = w.sum()
        self.Wx = np.bincount(self.ix, weights=w, minlength=len(self.xu))
        self.w = np.bincount(self.code, weights=w, minlength=len(self.xm))  # weight per distinct xm
        self.wx = np.bincount(self.code, weights=w * self.x, minlength=len(self.xm))  # weight x frequency
        self.s_log_m = w @ self.log_m

    def reweighted(self, weights):
        """This objective on the same customers with other ``weights`` (e.g. a bootstrap
        resample): nothing re-grouped."""
        out = copy.copy(self)
        out._weigh(np.asarray(weights, float))
        return out

    def mean_spend(self) -> float:
        """The weighted mean spend per repeat purchase, sum(w x m) / sum(w x)."""
        return float(self.w @ self.xm / (self.Wx @ self.xu))

    def __call__(self, log_params):
        params = np.exp(np.asarray(log_params, float))
        p, q, v = params
        xu = self.xu
        l_v = np.log1p(v / self.xm)  # log((xm + v) / xm)
        l_m = l_v + (self.log_xm - np.log(v))  # log((xm + v) / v)
        pxq = p * xu + q
        ll = (
            self.Wx @ (gammaln(pxq) - gammaln(p * xu))
            - self.W * gammaln(q)
            - p * (self.wx @ l_v)
            - q * (self.w @ l_m)
            - self.s_log_m
        )
        z = self.xm + v
        grad = np.array(
            [
                self.Wx @ (xu * (digamma(pxq) - digamma(p * xu))) - self.wx @ l_v,
                self.Wx @ digamma(pxq) - self.W * digamma(q) - self.w @ l_m,
                self.W * q / v - (p * self.wx + q * self.w) @ (1.0 / z),
            ]
        )
        value = -ll / self.W + self.penalizer * np.sum(params**2)
        return value, -params * grad / self.W + 2 * self.penalizer * params**2

    def hessian(self, log_params, grad=None):
        return _hessian_from_gradient(self, np.asarray(log_params, float), grad)


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
        ln_hyp[bad] = np.log(hyp2f1(_c[bad] - _a[bad], _c[bad] - _b[bad], _c[bad], z[bad])) + (
            _c[bad] - _a[bad] - _b[bad]
        ) * np.log(1 - z[bad])
    return _c / (a - 1) * (1 - np.exp(ln_hyp + (r + x) * np.log((alpha + T) / (alpha + t + T))))


def _bg_log_odds(model: str, params, x, t_x, T) -> np.ndarray:
    """log((1 - P(alive)) / P(alive)) under BG/NBD or MBG/NBD (lifetimes' ``log_div``):
    log(a / (b + x - 1)) + (r + x) log((alpha + T) / (alpha + t_x)), with x in place of x - 1
    for MBG/NBD; -inf for BG/NBD customers without a repeat purchase (alive for sure)."""
    r, alpha, a, b = params
    x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
    ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    if model == "mbgnbd":
        return np.log(a) - np.log(b + x) + ratio
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, np.log(a) - np.log(b + x - 1) + ratio, -np.inf)


def _bg_denominator(model: str, params, x, t_x, T) -> np.ndarray:
    """Denominator of the conditional expectation: 1 / P(alive)."""
    return 1.0 + np.exp(_bg_log_odds(model, params, x, t_x, T))


def spend_gamma_gamma(params, f, m) -> np.ndarray:
    """Gamma-Gamma E[spend per purchase | x, m] (Fader & Hardie note 025, eq. 5), elementwise;
    customers with x = 0 get the population mean."""
    f = np.asarray(f, float)
    m = np.where(f > 0, np.asarray(m, float), 0.0)
    mean, weight = gamma_gamma_shrinkage(params, f)
    return (1 - weight) * mean + weight * m


def gamma_gamma_shrinkage(params, f) -> tuple[float, np.ndarray]:
    """Gamma-Gamma's expected spend per purchase as a mix (note 025, eq. 5): the population mean
    v p / (q - 1), and for each frequency x the weight p x / (p x + q - 1) of the customer's own
    mean spend (0 without a repeat purchase)."""
    p, q, v = params
    f = np.asarray(f, float)
    return v * p / (q - 1), p * f / (p * f + q - 1)


class _ParetoObjective:
    """Mean negative Pareto/NBD log-likelihood per customer plus lifetimes' L2 penalty on the
    parameters (the same normalisation as BG/NBD, so a penalty means the same on condensed
    patterns as on customers), in the log parameters (r, alpha, s, beta), with its gradient by
    central differences (``central = False``: forward differences, about half the work): the
    parameter points go through one vectorised evaluation, the hypergeometric terms are computed
    once per distinct (x, t_x) and (x, T), the terms of x alone once per distinct x and those of
    T alone once per distinct T."""

    def __init__(self, freq, rec, T, weights, penalizer_coef, step: float = 1e-5):
        x, t, T = (np.asarray(v, float) for v in (freq, rec, T))
        self.w = np.asarray(weights, float)
        self.W = self.w.sum()
        # distinct values by hashing (their order does not matter; np.unique sorts, and on pairs
        # it sorts a structured view, slowly)
        self.i_x, self.xu = pd.factorize(x)
        self.i_Tu, self.Tu = pd.factorize(T)
        i_y, yu = pd.factorize(np.r_[t, T])
        inverse, pairs = pd.factorize(np.r_[self.i_x, self.i_x] * len(yu) + i_y)
        self.px, self.py = self.xu[pairs // len(yu)], yu[pairs % len(yu)]
        self.i_t, self.i_T = inverse[: len(x)], inverse[len(x) :]
        self.penalizer = penalizer_coef
        self.step = step
        self.forward_step = 1e-7
        self.central = True

    def log_likelihoods(self, P: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Weighted total log-likelihood at each row of ``P`` (natural parameters, k x 4); with
        ``weights`` (patterns x m, several weightings of the patterns) a k x m matrix."""
        r, alpha, s, beta = (P[:, i : i + 1] for i in range(4))
        term = _pareto_log_term((r, alpha, s, beta), self.px[None, :], self.py[None, :])

        def rows(values, index):  # per distinct value -> per row (np.take: C order, the same sums)
            return np.take(values, index, axis=1)

        lt, lT = rows(term, self.i_t), rows(term, self.i_T)
        log_a0 = lt + _log1mexp(lT - lt)
        rx, ix, iT = r + self.xu, self.i_x, self.i_Tu  # per distinct x and T, then per row
        alive = -rows(rx, ix) * rows(np.log(alpha + self.Tu), iT) - rows(s * np.log(beta + self.Tu), iT)
        died = np.log(s) + log_a0 - rows(np.log(r + s + self.xu), ix)
        a1 = rows(gammaln(rx) - gammaln(r) + r * np.log(alpha) + s * np.log(beta), ix)
        return (a1 + np.logaddexp(alive, died)) @ (self.w if weights is None else weights)

    def subset(self, keep: np.ndarray, weights: np.ndarray) -> _ParetoObjective:
        """This objective on the rows ``keep`` (a boolean mask) with ``weights`` (one per kept
        row, e.g. a bootstrap draw's customers without the rows it lacks): only the (frequency,
        time) pairs those rows have are computed; nothing re-grouped."""
        out = copy.copy(self)
        out.w = np.asarray(weights, float)
        out.W = out.w.sum()
        i_t, i_T = self.i_t[keep], self.i_T[keep]
        used = np.zeros(len(self.px), bool)
        used[i_t] = used[i_T] = True
        number = np.cumsum(used) - 1
        out.px, out.py = self.px[used], self.py[used]
        out.i_t, out.i_T = number[i_t], number[i_T]
        out.i_x, out.i_Tu = self.i_x[keep], self.i_Tu[keep]
        return out

    def __call__(self, log_params):
        theta = np.asarray(log_params, float)
        if self.central:  # 9 points: error of order step^2
            h = self.step * np.eye(4)
            points = np.exp(np.vstack([theta, theta + h, theta - h]))
        else:  # forward differences, 5 points: for the first, rough part of a fit
            h = self.forward_step * np.eye(4)
            points = np.exp(np.vstack([theta, theta + h]))
        with np.errstate(all="ignore"):
            ll = self.log_likelihoods(points)
        params = points[0]
        value = -ll[0] / self.W + self.penalizer * np.sum(params**2)
        slope = (ll[1:5] - ll[5:9]) / (2 * self.step) if self.central else (ll[1:5] - ll[0]) / self.forward_step
        grad = -slope / self.W + 2 * self.penalizer * params**2
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return np.inf, np.zeros(4)
        return value, grad
