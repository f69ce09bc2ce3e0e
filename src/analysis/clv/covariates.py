"""Static covariates in the purchase models (issue 20): which customer attributes change how often customers buy
and how long they stay, in CLVTools' parameterisation (Bachmann, Meierer & Naef; its ``SetStaticCovariates``,
``pnbd`` and ``bgnbd``, src/pnbd.cpp and src/bgnbd.cpp), so results compare one to one:

- Pareto/NBD: alpha_i = alpha exp(-gamma_trans . x_i), beta_i = beta exp(-gamma_life . x_i)
  (``pnbd_staticcov_alpha_i``, ``pnbd_staticcov_beta_i``): the rates' gamma scales shrink as gamma grows, so a
  positive gamma_trans means more purchases (the mean rate r / alpha_i grows) and a positive gamma_life more dropout,
  a shorter life (the mean lifetime beta_i / (s - 1) falls; the page tells it as exp(-gamma_life) "as long");
- BG/NBD: alpha_i = alpha exp(-gamma_trans . x_i), a_i = a exp(gamma_life . x_i), b_i = b exp(gamma_life . x_i)
  (``bgnbd_staticcov_alpha_i``, ``_a_i``, ``_b_i``): a and b scaled together keep the mean dropout probability
  a / (a + b) and change its spread;
- MBG/NBD: the BG/NBD form, by analogy (CLVTools has no MBG/NBD).

This module: the estimator
(:class:`CovariatePurchaseModel`: the fit on unique (frequency, recency, T, covariates) rows, standard errors from
the Hessian, the predictions with each customer's covariates). Its objective, with the exact gradient and the
Hessian, is :class:`~analysis.clv.covariate_objective.CovariateObjective`. The design matrix, the settings' checks, the
effects as ratios and the likelihood-ratio test are in :mod:`analysis.clv.covariate_design`.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import BaseEstimator, clone

from analysis.clv.covariate_design import Design, lr_test
from analysis.clv.covariate_objective import CovariateObjective
from analysis.clv.covariate_texts import covariate_text
from analysis.clv.fitters import ConvergenceError, inverse_curvature, one_blas_thread, optimiser_stopped
from analysis.clv.likelihoods import (
    PARAM_NAMES,
    bg_denominator,
    bg_log_odds,
    bg_numerator,
    check_model,
    group_codes,
    population_expected_purchases,
)
from analysis.clv.models import SUMMARY_COLUMNS, PurchaseModel, check_columns, condense
from analysis.clv.optimize import DegenerateFit, judge
from analysis.clv.pareto import pareto_expected_purchases, pareto_p_alive
from analysis.clv.simulate import simulate_summary
from analysis.stage import Text

COARSE_PATTERNS = 20_000  # above this many rows the fit starts from one on a coarse copy (:meth:`_coarse_start`)
COARSE_GRID = 50
COARSE_GTOL = 1e-6  # the coarse fit's gradient: tighter moves its optimum less than the grid does (measured)
MAX_COEFFICIENT = 20.0  # |gamma| this large (a ratio of e^20, 5e8): perfect separation, the fit runs to infinity


class CovariatePurchaseModel(BaseEstimator):
    """A purchase model (BG/NBD, Pareto/NBD, MBG/NBD) with static covariates, a scikit-learn estimator like
    :class:`~analysis.clv.models.PurchaseModel`, whose methods it offers (the CLV value, bootstrap and backtest
    call them alike) with each customer's covariates.

    Parameters: ``model``; ``trans``, ``life``: the columns of the summary (a :class:`Design`'s ``frame`` joined to
    it) that enter the purchase and the dropout process; ``constrain``: those with one coefficient in both;
    ``penalty``: CLVTools' L2 penalty on the coefficients; ``penalizer``, ``tol``, ``engine``, ``max_shape``,
    ``max_iterations`` as :class:`PurchaseModel` (``tol``, ``engine``: the fit without covariates).

    ``fit(X)`` fits the model without covariates first (its start, with every coefficient 0, and the
    likelihood-ratio test's null; ``fit(X, baseline=pm)`` takes one fitted already), then BFGS with the exact
    gradient of :class:`CovariateObjective` on the unique (frequency, recency, T, covariates) rows, time scaled to
    max T = 1: on more than ``COARSE_PATTERNS`` rows first on a coarse copy (:meth:`coarse_objective`, started
    with its exact Hessian), then on the full rows from there with the coarse Hessian (4 or 5 steps at 1M
    customers). Learns ``params_`` (r, alpha, s, beta / a,
    b: the customers' at covariates 0), ``coefficients_`` (``trans.<column>``, ``life.<column>``),
    ``std_errors_`` (the same keys and the parameters'), ``covariance_`` (of log r, log alpha, log s / a, log
    beta / b and the free coefficients: the inverse Hessian of the penalised negative log-likelihood at the
    optimum, :meth:`CovariateObjective.curvature`; the parameters' standard errors are p x the log parameter's,
    the delta method), ``log_likelihood_``, ``baseline_`` (the fit without covariates), ``lr_test_``
    (``statistic``, ``df``, ``p_value``), ``n_customers_``, ``n_patterns_``, ``problem_``: a degenerate fit
    (not finite, a shape at its bound, a coefficient beyond ``MAX_COEFFICIENT``: perfect separation, a Hessian
    not positive definite) raises :class:`~analysis.clv.optimize.DegenerateFit`, as the models without."""

    def __init__(
        self,
        model: str = "bgnbd",
        trans=(),
        life=(),
        constrain=(),
        penalty: float = 0.0,
        penalizer: float = 0.0,
        tol: float | None = None,
        engine: str = "fast",
        max_shape: float = 1000.0,
        max_iterations: int = 500,
    ):
        self.model = model
        self.trans = trans
        self.life = life
        self.constrain = constrain
        self.penalty = penalty
        self.penalizer = penalizer
        self.tol = tol
        self.engine = engine
        self.max_shape = max_shape
        self.max_iterations = max_iterations

    @property
    def pattern_columns(self) -> list[str]:
        """The columns a customer's pattern is made of: frequency, recency, T and the covariates."""
        return [*SUMMARY_COLUMNS, *dict.fromkeys([*self.trans, *self.life])]

    def _design(self) -> Design:
        return Design(pd.DataFrame(), list(self.trans), list(self.life), list(self.constrain))

    def objective(self, unique: pd.DataFrame, weights, scale: float = 1.0) -> CovariateObjective:
        """The objective on the rows ``unique`` with ``weights``, time multiplied by ``scale``."""
        f, r, T = (unique[c].to_numpy(float) for c in SUMMARY_COLUMNS)
        Xt, Xl = (unique[list(c)].to_numpy(float).reshape(len(unique), -1) for c in (self.trans, self.life))
        C = self._design().constraint_matrix()
        return CovariateObjective(self.model, f, r * scale, T * scale, weights, Xt, Xl, C, self.penalizer, self.penalty)

    def theta(self, scale: float = 1.0) -> np.ndarray:
        """log r, log alpha, log s / a, log beta / b (time multiplied by ``scale``) and the free coefficients."""
        units = np.array([1.0, scale, 1.0, scale if self.model == "pareto" else 1.0])
        free = self._design().constraint_matrix().T @ self.coefficients_.to_numpy(float)
        counts = self._design().constraint_matrix().sum(axis=0)
        return np.concatenate([np.log(self.params_.to_numpy(float) * units), free / np.maximum(counts, 1)])

    def fit(self, X: pd.DataFrame, y=None, sample_weight=None, initial=None, condensed=None, warm_curvature=None,
            baseline=None):  # fmt: skip
        """Fit on ``X`` (``frequency``, ``recency``, ``T`` and the covariate columns). ``sample_weight``: customers
        per row; ``initial``: a fitted model of the same settings to start from, with ``warm_curvature`` (its
        :meth:`warm_curvature`), as a bootstrap refit does (no fit without covariates then, no test);
        ``baseline``: the same model without covariates fitted on the same customers already (a
        :class:`PurchaseModel`, degenerate or not, as a run's backtest has it): the start and the test's null,
        instead of fitting it again."""
        check_model(self.model)
        check_columns(X, self.pattern_columns)
        unique, counts, _ = condensed or condense(X, self.pattern_columns)
        if sample_weight is not None:
            counts = np.bincount(condensed[2] if condensed else condense(X, self.pattern_columns)[2],
                                 weights=np.asarray(sample_weight, float), minlength=len(unique))  # fmt: skip
        keep = counts > 0
        unique, counts = unique[keep].reset_index(drop=True), counts[keep]
        self.n_customers_, self.n_patterns_ = int(round(counts.sum())), len(unique)
        if initial is None:
            self.baseline_ = self._baseline(unique, counts) if baseline is None else self._checked(baseline, counts)
            start = np.concatenate([self.baseline_.params_.to_numpy(float), np.zeros(len(self._design().keys()))])
        else:
            self.baseline_ = None
            start = np.concatenate([initial.params_.to_numpy(float), initial.coefficients_.to_numpy(float)])
        self.set_values(start)
        self._optimise(unique, counts, warm_curvature)
        if self.problem_ is not None:
            raise DegenerateFit(self.problem_, self)
        return self

    def _checked(self, baseline: PurchaseModel, counts: np.ndarray) -> PurchaseModel:
        """``baseline`` when it is this model without covariates on as many customers (else a ValueError)."""
        same = getattr(baseline, "model", None) == self.model and getattr(baseline, "penalizer", None) == self.penalizer
        if not same or getattr(baseline, "n_customers_", None) != int(round(counts.sum())):
            raise ValueError(
                f"the baseline given is not the {self.model} fit without covariates on these {counts.sum():,.0f} "
                "customers with the same penalizer"
            )
        return baseline

    def _baseline(self, unique: pd.DataFrame, counts: np.ndarray) -> PurchaseModel:
        """The same model without covariates on the same customers (a degenerate one too: its parameters start
        the fit and its log-likelihood is the test's null)."""
        pm = PurchaseModel(self.model, self.penalizer, self.tol, self.engine, self.max_shape, self.max_iterations)
        try:
            return pm.fit(unique[list(SUMMARY_COLUMNS)], sample_weight=counts)
        except DegenerateFit as exc:
            return exc.model

    def set_values(self, values) -> None:
        """``params_`` and ``coefficients_`` from one vector: the four parameters (natural units), then the full
        coefficients (trans, then life)."""
        values = np.asarray(values, float)
        self.params_ = pd.Series(values[:4], index=list(PARAM_NAMES[self.model]), dtype=float)
        self.coefficients_ = pd.Series(values[4:], index=self._design().keys(), dtype=float)

    def _optimise(self, unique: pd.DataFrame, counts: np.ndarray, curvature) -> None:
        """BFGS from the current parameters on the rows ``unique`` (time scaled to max T = 1), then the
        log-likelihood, standard errors, test and judgement."""
        scale = 1.0 / float(np.max(unique["T"].to_numpy(float)))
        objective = self.objective(unique, counts, scale)
        options = {"maxiter": int(self.max_iterations), "gtol": 1e-9}
        start = self.theta(scale)
        if curvature is None and len(unique) > COARSE_PATTERNS:
            start, curvature = self._coarse_start(objective, start)
        if curvature is not None:
            options["hess_inv0"] = curvature
        with one_blas_thread():
            out = minimize(objective, start, jac=True, method="BFGS", options=options)
        theta = out.x
        units = np.array([1.0, scale, 1.0, scale if self.model == "pareto" else 1.0])
        C = self._design().constraint_matrix()
        self.set_values(np.concatenate([np.exp(theta[:4]) / units, C @ theta[4:]]))
        self.n_iterations_ = int(out.nit)
        self.patterns_ = unique.loc[objective.first, self.pattern_columns[3:]].reset_index(drop=True)
        self.patterns_["weight"] = np.bincount(objective.pattern, weights=counts)  # the distinct covariates
        with one_blas_thread(), np.errstate(all="ignore"):  # a dot product of 400k rows: no second thread
            ll, hessian = objective.curvature(theta)
            # in the data's time unit: time scaled by c multiplies each purchase's density by 1 / c
            self.log_likelihood_ = float(ll + np.log(scale) * (counts @ unique["frequency"].to_numpy(float)))
        converged = bool(out.success) or float(np.max(np.abs(out.jac))) < 1e-6
        self.problem_ = None if converged else optimiser_stopped(int(out.nit), out.message)
        self.problem_ = self.problem_ or judge(self.model, self.params_, self.log_likelihood_, scale, self.max_shape)
        self.problem_ = self.problem_ or separation(self.coefficients_)
        self._uncertainty(objective, hessian, C)
        if self.baseline_ is not None:
            self.lr_test_ = lr_test(self.log_likelihood_, self.baseline_.log_likelihood_, C.shape[1])

    def _coarse_start(self, full: CovariateObjective, start: np.ndarray):
        """The start of the fit on many rows, as the fast fits without covariates have it
        (:func:`~analysis.clv.fitters.coarse_copy`): BFGS on a coarse copy of the rows (recency and T rounded to
        ``COARSE_GRID`` steps of the longest T, equal rows merged, their customers summed) from ``start``, and
        the inverse of its Hessian there, the full fit's first curvature: a few steps on the full rows instead of
        dozens. (``start``, None) when the coarse fit fails."""
        objective = self.coarse_objective(full)
        options = {"maxiter": int(self.max_iterations), "gtol": COARSE_GTOL}
        with one_blas_thread(), np.errstate(all="ignore"):
            first = inverse_curvature(objective.hessian(start))
            if first is not None:
                options["hess_inv0"] = first
            out = minimize(objective, start, jac=True, method="BFGS", options=options)
            if not np.all(np.isfinite(out.x)) or not np.isfinite(out.fun):
                return start, None
            return out.x, inverse_curvature(objective.hessian(out.x))

    def coarse_objective(self, full: CovariateObjective) -> CovariateObjective:
        """The objective of the coarse copy of the rows of ``full`` (time scaled to max T = 1): recency and T
        rounded to ``COARSE_GRID`` steps, equal rows (frequency, recency, T, covariate combination) merged, their
        customers summed."""
        steps = np.maximum(np.rint(full.T * COARSE_GRID), 1.0)
        t_steps = np.minimum(np.rint(full.t * COARSE_GRID), steps)
        codes = (pd.factorize(full.x)[0], t_steps.astype(np.int64), steps.astype(np.int64), full.pattern)
        inverse, first = group_codes(*codes)
        weights = np.bincount(inverse, weights=full.w, minlength=len(first))
        t, T = t_steps[first] / COARSE_GRID, steps[first] / COARSE_GRID
        Xt, Xl, pattern = full.Xt[first], full.Xl[first], full.pattern[first]
        return CovariateObjective(self.model, full.x[first], t, T, weights, Xt, Xl, full.C, self.penalizer,
                                  self.penalty, pattern)  # fmt: skip

    def _uncertainty(self, objective: CovariateObjective, hessian: np.ndarray, C) -> None:
        """``covariance_``, ``std_errors_`` and ``curvature_`` (the inverse Hessian of the mean objective, the warm
        start of refits) from the ``hessian`` of ``objective`` at the optimum; a Hessian not positive definite is
        a degenerate fit."""
        self.curvature_ = inverse_curvature(hessian)
        names = [*PARAM_NAMES[self.model], *self._design().keys()]
        if self.curvature_ is None:
            self.covariance_ = None
            self.std_errors_ = pd.Series(np.nan, index=names)
            alone = hessian[4:, 4:] if hessian.shape[0] > 4 else None  # the coefficients' block, the rest fixed
            sound = alone is not None and inverse_curvature(alone) is not None
            names = ", ".join(PARAM_NAMES[self.model])
            why = covariate_text("base_not_identified", names=names) if sound else covariate_text("not_identified")
            self.problem_ = self.problem_ or why
            return
        self.covariance_ = self.curvature_ / objective.W
        se_log = np.sqrt(np.diag(self.covariance_)[:4])
        full = C @ self.covariance_[4:, 4:] @ C.T
        se = np.concatenate([self.params_.to_numpy(float) * se_log, np.sqrt(np.diag(full))])
        self.std_errors_ = pd.Series(se, index=names)

    # scoring --------------------------------------------------------------------------------
    def individual_params(self, unique: pd.DataFrame) -> tuple:
        """Each row's (r, alpha_i, s, beta_i) or (r, alpha_i, a_i, b_i), natural units, r and s numbers."""
        if not hasattr(self, "params_"):
            raise ValueError("this CovariatePurchaseModel is not fitted yet: call fit first")
        r, alpha, s_or_a, beta_or_b = self.objective(unique, np.ones(len(unique))).individual(self.theta())
        return (r[0], alpha, s_or_a[0], beta_or_b) if self.model == "pareto" else (r[0], alpha, s_or_a, beta_or_b)

    def _unique(self, X: pd.DataFrame):
        check_columns(X, self.pattern_columns)
        return condense(X, self.pattern_columns)

    def conditional_matrix(self, unique: pd.DataFrame, times) -> np.ndarray:
        """E[repeat purchases in (T, T + t]] for each row of ``unique`` (summary and covariate columns) and each t
        of ``times``, with each row's parameters."""
        p = self.individual_params(unique)
        f, r, T = (unique[c].to_numpy(float) for c in SUMMARY_COLUMNS)
        if self.model == "pareto":
            alive = pareto_p_alive(p, f, r, T)
            return np.column_stack([pareto_expected_purchases(p, t, f, r, T, alive) for t in times])
        with np.errstate(all="ignore"):
            num = np.column_stack([bg_numerator(self.model, p, t, f, T) for t in times])
        return num / bg_denominator(self.model, p, f, r, T)[:, None]

    def discounted_purchases(self, unique: pd.DataFrame, times, weights, pairs=None):
        """As :meth:`PurchaseModel.discounted_purchases` (``pairs`` is not used: the rows differ in covariates)."""
        grid = self.conditional_matrix(unique, times)
        return grid[:, -1], np.diff(grid, axis=1) @ np.asarray(weights, float)

    def p_alive_unique(self, unique: pd.DataFrame) -> np.ndarray:
        p = self.individual_params(unique)
        f, r, T = (unique[c].to_numpy(float) for c in SUMMARY_COLUMNS)
        if self.model == "pareto":
            return pareto_p_alive(p, f, r, T)
        return expit(-bg_log_odds(self.model, p, f, r, T))

    def expected_purchases(self, X: pd.DataFrame, t: float, condensed=None) -> pd.Series:
        unique, _, inverse = condensed or self._unique(X)
        return pd.Series(self.conditional_matrix(unique, [t])[inverse, 0], index=X.index)

    def p_alive(self, X: pd.DataFrame) -> pd.Series:
        unique, _, inverse = self._unique(X)
        return pd.Series(self.p_alive_unique(unique)[inverse], index=X.index)

    def predict(self, X: pd.DataFrame, t: float = 52.0) -> pd.Series:
        return self.expected_purchases(X, t)

    def log_likelihood(self, X: pd.DataFrame) -> np.ndarray:
        """Each customer's log-likelihood in the data's time unit."""
        unique, _, inverse = self._unique(X)
        with np.errstate(all="ignore"):
            return self.objective(unique, np.ones(len(unique))).row_log_likelihoods(self.theta())[inverse]

    def population_expected_purchases(self, t) -> np.ndarray:
        """E[repeat purchases in (0, t]] of a new customer, averaged over the fitted customers' covariates
        (``patterns_``, weighted by their customers)."""
        t = np.asarray(t, float)
        rows = self.patterns_.assign(frequency=0.0, recency=0.0, T=1.0)
        p = self.individual_params(rows)
        params = [np.asarray(v, float).reshape(-1, *([1] * t.ndim)) if np.ndim(v) else v for v in p]
        with np.errstate(all="ignore"):
            each = population_expected_purchases(self.model, params, t)
        w = self.patterns_["weight"].to_numpy(float)
        return np.where(t > 0, np.tensordot(w / w.sum(), each, axes=1), 0.0)

    def simulate(self, T, rng: np.random.Generator, unique: pd.DataFrame | None = None) -> pd.DataFrame:
        """Simulated ``frequency``, ``recency`` for customers observed for ``T`` units, each drawn with the
        covariates of a fitted customer (``patterns_``, in proportion to their customers)."""
        T = np.asarray(T, float)
        w = self.patterns_["weight"].to_numpy(float)
        rows = self.patterns_.iloc[rng.choice(len(w), len(T), p=w / w.sum())].reset_index(drop=True)
        return simulate_summary(
            self.model, self.individual_params(rows.assign(frequency=0.0, recency=0.0, T=T)), T, rng
        )

    # bootstrap --------------------------------------------------------------------------------
    @property
    def draw_index(self) -> list[str]:
        """The names of a bootstrap draw's values: the parameters, then the coefficients."""
        return [*self.params_.index, *self.coefficients_.index]

    def with_values(self, values) -> CovariatePurchaseModel:
        """This model with the parameters and coefficients ``values`` (a bootstrap draw, :attr:`draw_index`)."""
        out = copy.copy(self)
        out.set_values(values)
        return out

    def warm_curvature(self, X=None, condensed=None) -> np.ndarray | None:
        return getattr(self, "curvature_", None)

    def refit_draws(self, unique: pd.DataFrame, weights: np.ndarray, curvature=None) -> list[np.ndarray]:
        """This model refitted on the rows ``unique`` (:attr:`pattern_columns`) with each column of ``weights``
        (rows x draws: a bootstrap draw's customers per row), from this fit with its ``curvature``: the values of
        :attr:`draw_index`, NaN where a refit fails or is degenerate (left out of the intervals)."""
        out = []
        for w in np.asarray(weights, float).T:
            model = clone(self)
            try:
                model.fit(unique, sample_weight=w, initial=self, condensed=(unique, np.ones(len(unique)),
                          np.arange(len(unique))), warm_curvature=curvature)  # fmt: skip
                out.append(np.concatenate([model.params_.to_numpy(float), model.coefficients_.to_numpy(float)]))
            except (ConvergenceError, FloatingPointError, ValueError, np.linalg.LinAlgError):
                out.append(np.full(len(self.draw_index), np.nan))
        return out


def separation(coefficients: pd.Series) -> Text | None:
    """Why the coefficients make a fit degenerate (not finite, or beyond ``MAX_COEFFICIENT``: perfect separation,
    e.g. a level none of whose customers came back), in both languages; None when they are sound."""
    for key, value in coefficients.items():
        if not np.isfinite(value) or abs(value) >= MAX_COEFFICIENT:
            return covariate_text("separation", key=key, value=value)
    return None
