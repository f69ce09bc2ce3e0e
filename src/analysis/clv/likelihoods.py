"""Likelihoods and closed forms of the purchase and spend models, in numpy: the models' names and parameters;
the BG/NBD, MBG/NBD and Gamma-Gamma negative log-likelihoods of lifetimes with their exact gradients, the special
functions evaluated once per distinct frequency, recency and T; the BG/NBD and MBG/NBD conditional expectation
terms and P(n purchases); every model's population expectation; the Gamma-Gamma expected spend. The Pareto/NBD
mathematics is in :mod:`analysis.clv.pareto`.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
from scipy.special import betainc, betaln, digamma, gammaln, hyp2f1

from analysis.errors import UserError

MODELS = ("bgnbd", "pareto", "mbgnbd")


# A model fitted with static covariates (analysis.clv.covariates) is keyed <model>_cov in the backtest and the record.
COVARIATE_SUFFIX = "_cov"

MODEL_LABELS = {"bgnbd": "BG/NBD", "pareto": "Pareto/NBD", "mbgnbd": "MBG/NBD"}
MODEL_LABELS.update({f"{m}{COVARIATE_SUFFIX}": f"{MODEL_LABELS[m]}+cov" for m in MODELS})


def base_model(key: str) -> str:
    """The purchase model of a key of the backtest and the record (``pareto_cov`` -> ``pareto``)."""
    return key.removesuffix(COVARIATE_SUFFIX)


def has_covariates(key: str) -> bool:
    """Whether a key of the backtest and the record names a model fitted with covariates."""
    return key.endswith(COVARIATE_SUFFIX)


PARAM_NAMES = {
    "bgnbd": ("r", "alpha", "a", "b"),
    "pareto": ("r", "alpha", "s", "beta"),
    "mbgnbd": ("r", "alpha", "a", "b"),
}


def check_model(model: str) -> str:
    if model not in MODELS:
        raise UserError(f"unknown CLV model {model!r}: use one of {', '.join(MODELS)}")
    return model


def hessian_from_gradient(objective, x: np.ndarray, grad: np.ndarray | None = None, step: float = 1e-6) -> np.ndarray:
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


class BGNBDObjective:
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
        return hessian_from_gradient(self, np.asarray(log_params, float), grad)


class MBGNBDObjective(BGNBDObjective):
    """lifetimes' ``ModifiedBetaGeoFitter._negative_log_likelihood`` and its gradient: every
    customer has the softplus term, with A4 = log a - log(b + x) + (r + x) log((alpha + T) /
    (alpha + recency))."""

    modified = True


class GammaGammaObjective:
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
        return hessian_from_gradient(self, np.asarray(log_params, float), grad)


def bg_numerator(model: str, params, t, x, T) -> np.ndarray:
    """Numerator of lifetimes' conditional expectation (BG/NBD: Fader, Hardie & Lee 2005, eq. 10;
    MBG/NBD: Batislam et al. 2007), which depends on frequency and T only; 0 at t = 0. ``t``, ``x``
    and ``T`` broadcast. lifetimes' formula; where its hypergeometric term overflows (heavy
    buyers), the same term by Euler's transformation, (1 - z)^(a - 1) 2F1(a + b - 1 + k - r, a - 1;
    c; z), which is bounded at any frequency (lifetimes has that fallback for BG/NBD only). ``alpha``, ``a`` and
    ``b`` may be arrays that broadcast too (one per customer, with static covariates)."""
    r, alpha, a, b = params
    x, T, t = np.broadcast_arrays(*(np.asarray(v, float) for v in (x, T, t)))
    if not np.any(t):
        return np.zeros(x.shape)
    k = 1.0 if model == "mbgnbd" else 0.0  # MBG/NBD: b + x + 1 and a + b + x
    c, z, ratio = a + b + x - 1 + k, t / (alpha + T + t), (alpha + T) / (alpha + t + T)
    with np.errstate(all="ignore"):
        if k:
            kept = hyp2f1(r + x, b + x + 1, c, z) * ratio ** (r + x)
        else:
            kept = np.exp(np.log(hyp2f1(r + x, b + x, c, z)) + (r + x) * np.log(ratio))
        bad = ~np.isfinite(kept)
        if bad.any():  # a and b may be one per customer (static covariates): taken where bad, as c and z
            first, shape = (np.broadcast_to(v, c.shape)[bad] for v in (a + b - 1 + k - r, a - 1))
            euler = hyp2f1(first, shape, c[bad], z[bad])
            missed = ~np.isfinite(euler)  # SciPy's hyp2f1 fails where c - a - b is a whole number
            euler[missed] = hyp2f1_series(first[missed], shape[missed], c[bad][missed], z[bad][missed])
            kept[bad] = np.exp(shape * np.log1p(-z[bad])) * euler
    return c / (a - 1) * (1 - kept)


def bg_row_log_likelihood(model: str, r: float, alpha, a, b, x, t_x, T, gradient: bool = False):
    """Each row's BG/NBD or MBG/NBD log-likelihood (the per-customer terms of :class:`BGNBDObjective`) with
    ``alpha``, ``a`` and ``b`` one per row (static covariates, :mod:`analysis.clv.covariates`); with
    ``gradient`` also its derivatives in log r, log alpha, log a, log b (rows x 4)."""
    alpha, a, b, x, t_x, T = np.broadcast_arrays(*(np.asarray(v, float) for v in (alpha, a, b, x, t_x, T)))
    modified = model == "mbgnbd"
    k = 1.0 if modified else 0.0
    offset = x if modified else np.maximum(x, 1) - 1
    rx, ab = r + x, a + b
    log_aT, log_at = np.log(alpha + T), np.log(alpha + t_x)
    d = np.log(a) - np.log(b + offset) + rx * (log_aT - log_at)
    soft = np.maximum(d, 0.0) + np.log1p(np.exp(-np.abs(d)))
    active = np.ones(len(x), bool) if modified else x > 0
    head = gammaln(rx) - gammaln(r) + r * np.log(alpha) + gammaln(ab) + gammaln(b + x + k) - gammaln(b)
    ll = head - gammaln(ab + x + k) - rx * log_aT + np.where(active, soft, 0.0)
    if not gradient:
        return ll
    pi = np.where(active, np.exp(d - soft), 0.0)  # P(the dropped-out branch | data)
    slopes = np.column_stack(
        [
            r * (digamma(rx) - digamma(r) + np.log(alpha) - log_aT + pi * (log_aT - log_at)),
            r - rx * alpha / (alpha + T) + pi * rx * (alpha / (alpha + T) - alpha / (alpha + t_x)),
            a * (digamma(ab) - digamma(ab + x + k)) + pi,
            b * (digamma(ab) + digamma(b + x + k) - digamma(b) - digamma(ab + x + k)) - pi * b / (b + offset),
        ]
    )
    return ll, slopes


def group_codes(*codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct combinations of integer ``codes`` (one array per key, each in 0..n-1): each row's group
    number and the first row of each group (by hashing; groups in order of first appearance)."""
    inverse = np.zeros(len(codes[0]), np.int64)
    for c in codes:  # numbered anew after each key, so the combined number stays below rows x levels (int64
        # never wraps: 64 binary columns multiplied out would, and merge different customers' covariates)
        inverse = pd.factorize(inverse * (int(c.max(initial=0)) + 1) + c)[0].astype(np.int64, copy=False)
    first = np.empty(int(inverse.max(initial=-1)) + 1, np.int64)
    first[inverse[::-1]] = np.arange(len(inverse) - 1, -1, -1)
    return inverse, first


class BGPatternLikelihood:
    """The BG/NBD or MBG/NBD log-likelihood of weighted rows (frequency, recency, T) whose customers differ in
    a covariate pattern (one code per row, 0..P-1) and whose alpha, a and b are one per pattern (static
    covariates: :mod:`analysis.clv.covariates`), with its derivatives: the terms of :func:`bg_row_log_likelihood`
    summed over the rows, each special function evaluated once per distinct (pattern, frequency) and each
    logarithm once per distinct (pattern, T) and (pattern, recency), as :class:`BGNBDObjective` does without
    covariates. Only the softplus term of the customers with a repeat purchase (MBG/NBD: every customer) is
    computed row by row. Call with r and the per-pattern alpha, a, b: the total log-likelihood and each pattern's
    summed derivatives in log r, log alpha, log a, log b (patterns x 4)."""

    def __init__(self, model: str, x, t_x, T, weights, pattern):
        x, t_x, T, w = (np.asarray(v, float) for v in (x, t_x, T, weights))
        p = np.asarray(pattern, np.int64)
        self.n = int(p.max(initial=-1)) + 1
        self.modified = model == "mbgnbd"
        self.k = 1.0 if self.modified else 0.0
        ix, self.xu = pd.factorize(x)
        self.Wx = np.bincount(ix, weights=w, minlength=len(self.xu))
        self.W = w.sum()
        self.Wp = np.bincount(p, weights=w, minlength=self.n)
        self.ipx, first = group_codes(p, ix)  # (pattern, frequency)
        self.px_p, self.px_x = p[first], x[first]
        self.px_off = self.px_x if self.modified else np.maximum(self.px_x, 1) - 1
        self.Wpx = np.bincount(self.ipx, weights=w, minlength=len(first))
        self.ipT, first = group_codes(p, pd.factorize(T)[0])  # (pattern, T)
        self.pT_p, self.pT_T = p[first], T[first]
        self.WpT = np.bincount(self.ipT, weights=w, minlength=len(first))
        self.WXpT = np.bincount(self.ipT, weights=w * x, minlength=len(first))
        self.ipt, first = group_codes(p, pd.factorize(t_x)[0])  # (pattern, recency)
        self.pt_p, self.pt_t = p[first], t_x[first]
        active = np.ones(len(x), bool) if self.modified else x > 0  # the rows with the softplus term
        self.x_a, self.w_a, self.p_a = x[active], w[active], p[active]
        self.ipx_a, self.ipT_a, self.ipt_a = self.ipx[active], self.ipT[active], self.ipt[active]

    def per_pattern(self, index: np.ndarray, values: np.ndarray) -> np.ndarray:
        """``values`` (one per row of a table or per active row) summed per pattern (``index``: their patterns)."""
        return np.bincount(index, weights=values, minlength=self.n)

    def __call__(self, r: float, alpha: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, np.ndarray]:
        k = self.k
        A, B = a[self.px_p], b[self.px_p]  # per (pattern, frequency)
        AB, xk = A + B, self.px_x + k
        al_T, al_t = alpha[self.pT_p], alpha[self.pt_p]
        log_aT, log_at = np.log(al_T + self.pT_T), np.log(al_t + self.pt_t)
        ratio_T, ratio_t = al_T / (al_T + self.pT_T), al_t / (al_t + self.pt_t)
        branch = np.log(A) - np.log(B + self.px_off)
        # the rows with the softplus term
        rx = r + self.x_a
        gap = log_aT[self.ipT_a] - log_at[self.ipt_a]
        d = branch[self.ipx_a] + rx * gap
        soft = np.maximum(d, 0.0) + np.log1p(np.exp(-np.abs(d)))
        wpi = self.w_a * np.exp(d - soft)  # weight x P(the dropped-out branch | data)
        ab = a + b
        rT = r * self.WpT + self.WXpT  # sum of the weights times r + x per (pattern, T)
        ll = (
            self.Wx @ gammaln(r + self.xu) - self.W * gammaln(r) + r * (self.Wp @ np.log(alpha))
            + self.Wp @ (gammaln(ab) - gammaln(b)) + self.Wpx @ (gammaln(B + xk) - gammaln(AB + xk))
            - rT @ log_aT + self.w_a @ soft
        )  # fmt: skip
        per = self.per_pattern
        dig_x = digamma(r + self.px_x) - digamma(r)
        slope_r = r * (
            per(self.px_p, self.Wpx * dig_x) + self.Wp * np.log(alpha) - per(self.pT_p, self.WpT * log_aT)
            + per(self.p_a, wpi * gap)
        )  # fmt: skip
        slope_alpha = (
            r * self.Wp - per(self.pT_p, rT * ratio_T)
            + per(self.p_a, wpi * rx * (ratio_T[self.ipT_a] - ratio_t[self.ipt_a]))
        )  # fmt: skip
        dig_ab, dig_abx = digamma(ab), self.Wpx * digamma(AB + xk)
        slope_a = a * (self.Wp * dig_ab - per(self.px_p, dig_abx)) + per(self.p_a, wpi)
        wpi_px = np.bincount(self.ipx_a, weights=wpi, minlength=len(self.px_p))
        own_b = self.Wp * (dig_ab - digamma(b)) + per(self.px_p, self.Wpx * digamma(B + xk) - dig_abx)
        slope_b = b * own_b - per(self.px_p, wpi_px * B / (B + self.px_off))
        return float(ll), np.column_stack([slope_r, slope_alpha, slope_a, slope_b])


def hyp2f1_series(a, b, c, z, max_terms: int = 20_000) -> np.ndarray:
    """Gauss's series of 2F1(a, b; c; z), 0 <= z < 1, summed until a term is below 1e-17 of the sum
    (a few dozen terms where c is large, as for heavy buyers)."""
    a, b, c, z = np.broadcast_arrays(*(np.asarray(v, float) for v in (a, b, c, z)))
    total, term = np.ones(a.shape), np.ones(a.shape)
    for n in range(max_terms):
        term = term * (a + n) * (b + n) / ((c + n) * (n + 1)) * z
        total = total + term
        if np.all(np.abs(term) <= 1e-17 * np.abs(total)):
            break
    return total


def bg_log_odds(model: str, params, x, t_x, T) -> np.ndarray:
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


def bg_denominator(model: str, params, x, t_x, T) -> np.ndarray:
    """Denominator of the conditional expectation: 1 / P(alive)."""
    return 1.0 + np.exp(bg_log_odds(model, params, x, t_x, T))


def population_expected_purchases(model: str, params, t) -> np.ndarray:
    """E[repeat purchases in (0, t]] of a new customer: BG/NBD (Fader, Hardie & Lee 2005, eq. 9),
    MBG/NBD (Batislam et al. 2007), Pareto/NBD (note 009, eq. 27; its limit log(1 + t / beta) at
    s = 1)."""
    t = np.asarray(t, float)
    if model == "pareto":
        r, alpha, s, beta = params
        ratio = np.log(beta) - np.log(beta + t)
        horizon = -ratio if abs(s - 1.0) < 1e-12 else -np.expm1((s - 1.0) * ratio) / (s - 1.0)
        return r * beta / alpha * horizon
    r, alpha, a, b = params
    z = t / (alpha + t)
    if model == "mbgnbd":
        return b / (a - 1) * (1 - hyp2f1(r, b + 1, a + b, z) * (alpha / (alpha + t)) ** r)
    return (a + b - 1) / (a - 1) * (1 - hyp2f1(r, b, a + b - 1, z) * (alpha / (alpha + t)) ** r)


def bg_purchases_probability(model: str, params, t, n) -> np.ndarray:
    """P(a new customer makes n repeat purchases in (0, t]) under BG/NBD (Fader, Hardie & Lee
    2005, eq. 8) or MBG/NBD: the negative binomial of the purchases while alive, its tail the
    regularized incomplete beta function, in log space (finite for any n)."""
    r, alpha, a, b = params
    t, n = np.broadcast_arrays(np.asarray(t, float), np.asarray(n, float))
    k = 1.0 if model == "mbgnbd" else 0.0  # MBG/NBD may drop out at the first purchase too
    with np.errstate(divide="ignore", invalid="ignore"):
        log_nb = gammaln(r + n) - gammaln(r) - gammaln(n + 1) + r * (np.log(alpha) - np.log(alpha + t))
        log_nb = log_nb + np.where(n > 0, n * (np.log(t) - np.log(alpha + t)), 0.0)
        alive = np.exp(betaln(a, b + n + k) - betaln(a, b) + log_nb)
        tail = np.where(n > 0, betainc(np.maximum(n, 1.0), r, t / (alpha + t)), 1.0)  # P(NB >= n)
        dropped = np.exp(betaln(a + 1, b + n + k - 1) - betaln(a, b)) * tail
    return alive + np.where((n > 0) | (k > 0), dropped, 0.0)


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
