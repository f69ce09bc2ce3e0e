"""The objective of a purchase model with static covariates (issue 20; CLVTools' parameterisation, see
:mod:`analysis.clv.covariates`): the mean negative log-likelihood per customer with both penalties, its exact
gradient and its Hessian, summed per covariate combination.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.clv.likelihoods import BGPatternLikelihood, bg_row_log_likelihood, group_codes
from analysis.clv.pareto import pareto_row_log_likelihood


class CovariateObjective:
    """The mean negative log-likelihood per customer of a purchase model with static covariates, plus lifetimes'
    L2 penalty on r, alpha, s, beta (a, b), as the models without covariates have it, and CLVTools' L2 penalty on
    the coefficients (``reg.lambdas``: ``penalty`` x the sum of the squared coefficients of both processes, a
    constrained one counted in each, added to the mean negative log-likelihood, as CLVTools'
    ``interlayer_regularization``), with its exact gradient and its Hessian (:meth:`hessian`).

    Parameters: log r, log alpha, log s (a), log beta (b), then the free coefficients (see
    :meth:`Design.constraint_matrix`). One row per pattern (frequency, recency, T, covariates) with its customers
    as ``weights``; ``X_trans``, ``X_life``: the rows' covariates (rows x columns). With every coefficient zero it
    is the objective of the model without covariates on the same rows.

    The rows' covariates are grouped once into their distinct combinations (``patterns``: eight for three binary
    covariates), each with its own alpha and s / a, beta / b: the likelihood's derivatives are summed per
    combination (:meth:`pattern_slopes`) and the coefficients' follow from those sums; BG/NBD and MBG/NBD
    evaluate their special functions once per distinct (combination, frequency), (combination, T) and
    (combination, recency) (:class:`~analysis.clv.likelihoods.BGPatternLikelihood`)."""

    def __init__(self, model, freq, rec, T, weights, X_trans, X_life, C, penalizer: float, penalty: float,
                 pattern=None):  # fmt: skip
        """``pattern``: each row's covariate combination (codes 0..P-1 in order of first appearance) when the
        caller has them, e.g. for a coarse copy of rows already grouped."""
        self.model = model
        self.x, self.t, self.T = (np.asarray(v, float) for v in (freq, rec, T))
        self.w = np.asarray(weights, float)
        self.W = self.w.sum()
        self.Xt, self.Xl = np.asarray(X_trans, float), np.asarray(X_life, float)
        self.C = np.asarray(C, float)
        self.penalizer, self.penalty = penalizer, penalty
        if pattern is None:
            columns = {c.tobytes(): c for c in np.hstack([self.Xt, self.Xl]).T}.values()  # a column in both: once
            codes = [pd.factorize(c)[0] for c in columns] or [np.zeros(len(self.x), np.int64)]
            self.pattern, first = group_codes(*codes)  # each row's combination, each combination's first row
        else:
            self.pattern = np.asarray(pattern, np.int64)
            first = np.empty(int(self.pattern.max(initial=-1)) + 1, np.int64)
            first[self.pattern[::-1]] = np.arange(len(self.pattern) - 1, -1, -1)
        self.first = first
        self.Pt, self.Pl = self.Xt[first], self.Xl[first]
        if model != "pareto":
            self.terms = BGPatternLikelihood(model, self.x, self.t, self.T, self.w, self.pattern)

    def _gammas(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gamma = self.C @ theta[4:]
        kt = self.Xt.shape[1]
        return gamma[:kt], gamma[kt:]

    def _scales(self, theta: np.ndarray, Xt: np.ndarray, Xl: np.ndarray):
        """(r, alpha, s or a, beta or b) for the covariates ``Xt``, ``Xl`` (rows x columns) at ``theta``."""
        base = np.exp(theta[:4])
        g_trans, g_life = self._gammas(theta)
        rate = np.exp(-Xt @ g_trans)
        life = np.exp((-1.0 if self.model == "pareto" else 1.0) * (Xl @ g_life))
        if self.model == "pareto":
            return base[0], base[1] * rate, np.full(len(rate), base[2]), base[3] * life
        return base[0], base[1] * rate, base[2] * life, base[3] * life

    def individual(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Each row's (r, alpha_i, s or a_i, beta_i or b_i) at ``theta``."""
        r, alpha, s_or_a, beta_or_b = self._scales(np.asarray(theta, float), self.Xt, self.Xl)
        return np.full(len(self.x), r), alpha, s_or_a, beta_or_b

    def row_log_likelihoods(self, theta: np.ndarray) -> np.ndarray:
        """Each row's log-likelihood at ``theta``."""
        theta = np.asarray(theta, float)
        r, alpha, s_or_a, beta_or_b = self.individual(theta)
        if self.model == "pareto":
            return pareto_row_log_likelihood(r[0], alpha, s_or_a[0], beta_or_b, self.x, self.t, self.T)[0]
        return bg_row_log_likelihood(self.model, r[0], alpha, s_or_a, beta_or_b, self.x, self.t, self.T)

    def pattern_slopes(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """The weighted log-likelihood of the rows at ``theta`` and, per covariate combination, the sum of its
        rows' weighted derivatives in log r, log alpha_i, log s (a_i), log beta_i (b_i) (combinations x 4)."""
        theta = np.asarray(theta, float)
        last = getattr(self, "_last", None)  # the optimiser's last point is where the Hessian is wanted
        if last is not None and np.array_equal(last[0], theta):
            return last[1]
        r, alpha, s_or_a, beta_or_b = self._scales(theta, self.Pt, self.Pl)
        if self.model != "pareto":
            out = self.terms(r, alpha, s_or_a, beta_or_b)
        else:
            p = self.pattern
            ll, slopes = pareto_row_log_likelihood(r, alpha[p], s_or_a[0], beta_or_b[p], self.x, self.t, self.T)
            summed = [np.bincount(p, weights=self.w * slopes[:, j], minlength=len(alpha)) for j in range(4)]
            out = float(self.w @ ll), np.column_stack(summed)
        self._last = (theta.copy(), out)
        return out

    def _directions(self) -> tuple[np.ndarray, np.ndarray]:
        """How a purchase and a dropout coefficient move a combination's log r, log alpha_i, log s (a_i), log
        beta_i (b_i), per unit of its covariate: alpha_i = alpha exp(-gamma x) moves log alpha by -x; Pareto/NBD's
        beta_i = beta exp(-gamma x) log beta by -x; BG/NBD's a_i, b_i = a, b exp(gamma x) log a and log b by x."""
        u = np.array([0.0, -1.0, 0.0, 0.0])
        v = np.array([0.0, 0.0, 0.0, -1.0]) if self.model == "pareto" else np.array([0.0, 0.0, 1.0, 1.0])
        return u, v

    def _chain(self, S: np.ndarray) -> np.ndarray:
        """The derivatives in the parameters and the full coefficients (trans, then life) from the combinations'
        summed derivatives ``S`` (combinations x 4)."""
        u, v = self._directions()
        return np.concatenate([S.sum(axis=0), self.Pt.T @ (S @ u), self.Pl.T @ (S @ v)])

    def _chain2(self, H: np.ndarray) -> np.ndarray:
        """The second derivatives in the parameters and the full coefficients from each combination's 4 x 4
        Hessian ``H`` (combinations x 4 x 4), by the chain rule through :meth:`_directions`."""
        u, v = self._directions()
        Hu, Hv = H @ u, H @ v  # combinations x 4
        Pt, Pl = self.Pt, self.Pl
        cross_t, cross_l = Hu.T @ Pt, Hv.T @ Pl  # 4 x columns
        tt = Pt.T @ (Pt * (Hu @ u)[:, None])
        tl = Pt.T @ (Pl * (Hu @ v)[:, None])
        ll = Pl.T @ (Pl * (Hv @ v)[:, None])
        return np.block([[H.sum(axis=0), cross_t, cross_l], [cross_t.T, tt, tl], [cross_l.T, tl.T, ll]])

    def _free(self) -> np.ndarray:
        """The parameters and full coefficients from the parameters and free coefficients: a block matrix."""
        out = np.zeros((4 + self.C.shape[0], 4 + self.C.shape[1]))
        out[:4, :4] = np.eye(4)
        out[4:, 4:] = self.C
        return out

    def __call__(self, theta):
        theta = np.asarray(theta, float)
        with np.errstate(all="ignore"):
            ll, S = self.pattern_slopes(theta)
            base = np.exp(theta[:4])
            gamma = self.C @ theta[4:]
            value = -ll / self.W + self.penalizer * np.sum(base**2) + self.penalty * np.sum(gamma**2)
            slopes = self._chain(S) @ self._free()
            grad = -slopes / self.W
            grad[:4] += 2 * self.penalizer * base**2
            grad[4:] += 2 * self.penalty * (self.C.T @ gamma)
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return np.inf, np.zeros(len(theta))
        return value, grad

    def hessian(self, theta: np.ndarray, step: float = 1e-6) -> np.ndarray:
        """The Hessian of the objective at ``theta`` (:meth:`curvature`)."""
        return self.curvature(theta, step)[1]

    def curvature(self, theta: np.ndarray, step: float = 1e-6) -> tuple[float, np.ndarray]:
        """The weighted log-likelihood of the rows at ``theta`` and the Hessian of the objective there: each
        combination's 4 x 4 Hessian in its own log r, log alpha_i, log s (a_i), log beta_i (b_i) by forward
        differences of its exact summed derivatives (:meth:`pattern_slopes`) along the four parameters (the
        coefficients move the same four numbers per combination), then the chain rule through the covariates
        (:meth:`_chain2`); the penalties' exactly. Four evaluations of the likelihood besides the one at
        ``theta``, however many coefficients: the Hessian that differences of the gradient along every parameter
        and coefficient give (to the differences' precision, about 1e-7), for 4 + 1 evaluations instead of
        parameters + coefficients + 1."""
        theta = np.asarray(theta, float)
        with np.errstate(all="ignore"):
            ll, S0 = self.pattern_slopes(theta)
            H = np.empty((len(S0), 4, 4))
            for j in range(4):
                e = np.zeros(len(theta))
                e[j] = step
                H[:, :, j] = (self.pattern_slopes(theta + e)[1] - S0) / step
        H = (H + H.transpose(0, 2, 1)) / 2
        full = self._free().T @ self._chain2(H) @ self._free()
        out = -full / self.W
        out[range(4), range(4)] += 4 * self.penalizer * np.exp(2 * theta[:4])
        out[4:, 4:] += 2 * self.penalty * (self.C.T @ self.C)
        return ll, (out + out.T) / 2
