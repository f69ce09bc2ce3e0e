"""The purchase model (BG/NBD, Pareto/NBD, MBG/NBD) as a scikit-learn estimator on lifetimes-style
customer summaries (the Gamma-Gamma spend model is in :mod:`analysis.clv.spend`).

Inputs are summaries indexed by ``customer_id`` (see :func:`analysis.data.features.lifetimes_summary`):
``frequency`` (repeat purchase days), ``recency`` (first to last purchase), ``T`` (first purchase to the
as-of date), in the model time unit (weeks = days / 7 by default), and ``monetary_value`` (mean spend of the
repeat purchase days). Models are fitted on the unique ``(frequency, recency, T)`` rows with their counts as
weights and scored on unique rows mapped back to customers: the same numbers as customer by customer, because
the log-likelihood is a sum over customers. Every result is indexed by customer id, never by position.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, gammaln
from sklearn.base import BaseEstimator

from analysis.clv.fitters import (
    FAST_FITTERS,
    FITTERS,
    ConvergenceError,
    fit_failure,
    fit_prepared,
    fitter_class_for,
    inverse_curvature,
    quiet_lifetimes,
)
from analysis.clv.likelihoods import (
    MODEL_LABELS,
    PARAM_NAMES,
    bg_denominator,
    bg_log_odds,
    bg_numerator,
    check_model,
    population_expected_purchases,
)
from analysis.clv.optimize import (
    DegenerateFit,
    FitResult,
    fit_pareto,
    judge,
    pareto_curvature,
    pareto_start,
    refit_pareto_draws,
)
from analysis.clv.pareto import pareto_expected_purchases, pareto_log_likelihood, pareto_p_alive
from analysis.clv.simulate import simulate_summary
from analysis.errors import UserError

# Time units in one month, as lifetimes' customer_lifetime_value counts them.
UNITS_PER_MONTH = {"weeks": 4.345, "W": 4.345, "days": 30.0, "D": 30.0}


UNIT_DAYS = {"weeks": 7.0, "W": 7.0, "days": 1.0, "D": 1.0}


OUTPUT_COLUMNS = ("expected_purchases", "p_alive", "expected_spend", "clv", "clv_low", "clv_high")


SUMMARY_COLUMNS = ("frequency", "recency", "T")


def check_columns(X: pd.DataFrame, columns) -> None:
    if not isinstance(X, pd.DataFrame):
        raise TypeError("expected a DataFrame indexed by customer_id")
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise ValueError(
            f"the customer summary lacks {', '.join(missing)}: pass a frame from "
            "analysis.data.features.lifetimes_summary (frequency, recency, T, monetary_value)"
        )


def condense(X: pd.DataFrame, columns) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Unique rows of ``X[columns]`` (in order of first appearance), how many customers each
    has, and each customer's row number in the unique rows."""
    columns = list(columns)
    values = [X[c].to_numpy(float) for c in columns]
    if any(np.isnan(v).any() for v in values):
        raise ValueError(
            f"the customer summary has missing values in {', '.join(columns)}: score customers with purchases only"
        )
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


def weighted_patterns(X: pd.DataFrame, sample_weight=None, condensed=None):
    """The distinct (frequency, recency, T) patterns of ``X`` a fit runs on, checked: ``(unique, counts,
    inverse)`` as :func:`condense` gives them (``condensed``: computed already), the counts weighted by
    ``sample_weight`` (one weight per customer) when given."""
    check_columns(X, SUMMARY_COLUMNS)
    if len(X) == 0:
        raise UserError("no customers with purchases to fit a CLV model on")
    unique, counts, inverse = condensed or condense(X, SUMMARY_COLUMNS)
    if sample_weight is not None:
        counts = np.bincount(inverse, weights=np.asarray(sample_weight, float), minlength=len(unique))
    return unique, counts, inverse


def _scaled_init(model: str, params: np.ndarray, scale: float) -> np.ndarray:
    """Starting values in the space the optimiser works in (time scaled to max T = 1; BG/NBD
    and MBG/NBD on lifetimes' log parameters, Pareto/NBD on the parameters)."""
    p = np.array(params, dtype=float)
    p[1] *= scale
    if model == "pareto":
        p[3] *= scale
        return p
    return np.log(p)


def finite_params(params) -> bool:
    p = np.asarray(params, dtype=float)
    return bool(np.all(np.isfinite(p)) and np.all(p > 0))


class PurchaseModel(BaseEstimator):
    """A purchase-count model (BG/NBD, Pareto/NBD or MBG/NBD) fitted through lifetimes.

    Parameters
    ----------
    model : "bgnbd", "pareto" or "mbgnbd".
    penalizer : L2 penalty on the parameters (lifetimes' ``penalizer_coef``); 0 = plain MLE.
    tol : optimiser tolerance; ``None`` = lifetimes' default for the model.
    engine : ``"fast"`` (default) fits BG/NBD and MBG/NBD with lifetimes' optimiser on the same
        likelihood computed in numpy with its exact gradient (see ``BGNBDObjective``);
        ``"lifetimes"`` uses lifetimes' autograd likelihood. Both give the same parameters
        (tested to 1e-6); Pareto/NBD is always fitted by bounded L-BFGS-B on the log-space
        likelihood of :mod:`analysis.clv.pareto` (see :func:`~analysis.clv.optimize.fit_pareto`).
    max_shape : a heterogeneity shape parameter (r, s; a, b) this large marks a degenerate fit.
    max_iterations : optimiser steps per start.

    ``fit(X)`` takes a customer summary with ``frequency``, ``recency``, ``T`` (any index) and
    learns ``params_`` (a Series), ``log_likelihood_`` (the sum over customers, in the data's time
    unit, comparable across models and with the literature), ``n_customers_``, ``n_patterns_``
    (unique rows fitted), ``n_iterations_`` and ``problem_`` (None, or why the fit is degenerate, in
    both languages, ``{en, zh}``: then ``fit`` raises :class:`~analysis.clv.optimize.DegenerateFit`).
    The fit runs on unique rows with counts as weights; no copy of the data is kept.
    """

    def __init__(
        self,
        model: str = "bgnbd",
        penalizer: float = 0.0,
        tol: float | None = None,
        engine: str = "fast",
        max_shape: float = 1000.0,
        max_iterations: int = 500,
    ):
        self.model = model
        self.penalizer = penalizer
        self.tol = tol
        self.engine = engine
        self.max_shape = max_shape
        self.max_iterations = max_iterations

    # fitting -------------------------------------------------------------------------------
    def fit(
        self, X: pd.DataFrame, y=None, sample_weight=None, initial_params=None, condensed=None, warm_curvature=None
    ):
        """Fit on ``X`` (``frequency``, ``recency``, ``T``). ``sample_weight``: customers per row
        (used by the bootstrap); ``initial_params``: a warm start in natural units;
        ``condensed``: ``condense(X, SUMMARY_COLUMNS)`` when the caller already has it;
        ``warm_curvature``: with ``initial_params`` (fast engine; Pareto/NBD), the inverse
        Hessian of the objective there (:meth:`warm_curvature` of the fit it comes from): BFGS
        starts with it, a few steps instead of about twenty, and keeps its own Hessian estimate
        for the standard errors (a bootstrap refit, which needs none).

        Raises :class:`~analysis.clv.optimize.DegenerateFit` (a ``ConvergenceError``) when the
        fit stays degenerate after the retry (see :mod:`analysis.clv.optimize`)."""
        check_model(self.model)
        unique, counts, inverse = weighted_patterns(X, sample_weight, condensed)
        if sample_weight is not None:
            keep = counts > 0
            unique, counts = unique[keep].reset_index(drop=True), counts[keep]
        self.n_customers_ = int(round(counts.sum()))
        self.n_patterns_ = len(unique)
        self._fit_patterns(
            unique["frequency"].to_numpy(),
            unique["recency"].to_numpy(),
            unique["T"].to_numpy(),
            counts,
            initial_params,
            warm_curvature,
        )
        if self.problem_ is not None:
            raise DegenerateFit(self.problem_, self)
        return self

    def _fit_patterns(self, f, r, T, w, initial_params=None, warm_curvature=None) -> None:
        """Fit from the first start (``initial_params`` or the default start); if that fit is
        degenerate, once more from a second start (r = 1, alpha matching the mean purchase rate,
        the other parameters 1); keep the best sound fit, else the last one with its problem."""
        model = self.model
        scale = 1.0 / float(np.max(T))
        first = None if initial_params is None else _scaled_init(model, initial_params, scale)
        second = pareto_start(f, T, w, scale)
        if model != "pareto":
            second = np.log(second)
        best, fitter = None, None
        for start, curvature in ((first, warm_curvature), (second, None)):
            try:
                result, candidate = self._fit_once(f, r, T, w, start, scale, curvature)
            except (ConvergenceError, FloatingPointError, ValueError, np.linalg.LinAlgError) as exc:
                why = fit_failure(exc, MODEL_LABELS[model])  # the optimiser's words, or the library's quoted
                result, candidate = FitResult(np.full(4, np.nan), np.inf, 0, why), None
            with np.errstate(all="ignore"):
                result.log_likelihood = float(np.sum(w * self._log_likelihood_at(result.params, f, r, T)))
            if result.problem is None:
                result.problem = judge(model, result.params, result.log_likelihood, scale, self.max_shape)
            if best is None or (
                result.problem is None and (best.problem is not None or result.objective < best.objective)
            ):
                best, fitter = result, candidate
            if best.problem is None:
                break
        self.params_ = pd.Series(best.params, index=list(PARAM_NAMES[model]), dtype=float)
        self.n_iterations_ = best.iterations
        self.problem_ = best.problem
        if fitter is None:
            fitter = FITTERS[model]()
        # the fitter keeps the data it saw; drop it (the estimator keeps no copy of the data)
        for attr in ("data", "generate_new_data"):
            fitter.__dict__.pop(attr, None)
        fitter.params_ = self.params_.copy()
        self.fitter_ = fitter
        self.log_likelihood_ = best.log_likelihood

    def refit(self, unique: pd.DataFrame, weights: np.ndarray, curvature=None) -> np.ndarray:
        """The parameters refitted on the unique rows of the fit with other ``weights`` (customers
        per row, e.g. a bootstrap resample; rows without any are left out), warm started at this
        fit with its ``curvature`` (:meth:`warm_curvature`); NaN when the refit fails."""
        keep = weights > 0
        model = type(self)(self.model, self.penalizer, self.tol, self.engine, self.max_shape, self.max_iterations)
        try:
            condensed = (unique[keep].reset_index(drop=True), weights[keep], None)
            model.fit(unique, initial_params=self._params(), condensed=condensed, warm_curvature=curvature)
            return model._params()
        except ConvergenceError:
            return np.full(len(PARAM_NAMES[self.model]), np.nan)

    def refit_draws(self, unique: pd.DataFrame, weights: np.ndarray, curvature=None) -> list[np.ndarray]:
        """:meth:`refit` for each column of ``weights`` (rows x draws), the rows grouped once for
        all draws. Pareto/NBD refits all draws at once
        (:func:`~analysis.clv.optimize.refit_pareto_draws`, the same maxima); BG/NBD and MBG/NBD
        (fast engine) run the BFGS call of their fit on the one objective reweighted per draw
        (:meth:`_fast_draws`). A draw whose run fails there or whose fit is degenerate is
        refitted alone."""
        f, r, T = (unique[c].to_numpy(float) for c in SUMMARY_COLUMNS)
        if self.model == "pareto":
            together = refit_pareto_draws(f, r, T, weights, self.penalizer, self._params(), self.max_shape)
        elif self.engine == "fast":
            together = self._fast_draws(f, r, T, weights, curvature)
        else:
            together = [None] * weights.shape[1]
        out = []
        for params, w in zip(together, weights.T, strict=True):
            scale = 1.0 / float(np.max(T[w > 0]))
            sound = params is not None and judge(self.model, params, 0.0, scale, self.max_shape) is None
            out.append(params if sound else self.refit(unique, w, curvature))
        return out

    def _fast_draws(self, f, r, T, weights: np.ndarray, curvature) -> list[np.ndarray | None]:
        """BG/NBD or MBG/NBD refitted on each column of ``weights`` as :meth:`refit` fits it (from
        this fit, in lifetimes' time scale of the draw's own customers, BFGS with ``curvature``),
        on the one objective of these rows reweighted per draw; None where the run fails."""
        objective = FAST_FITTERS[self.model]._objective(f, r, T, np.ones(len(f)), self.penalizer)
        out: list[np.ndarray | None] = []
        for w in weights.T:
            scale = 1.0 / float(np.max(T[w > 0]))
            start = _scaled_init(self.model, self._params(), scale)
            try:
                x = fit_prepared(
                    objective.reweighted(w, scale),
                    start,
                    self.tol,
                    maxiter=int(self.max_iterations),
                    hess_inv0=curvature,
                )
            except (ConvergenceError, FloatingPointError, ValueError, np.linalg.LinAlgError):
                out.append(None)  # as in _fit_patterns: this draw is refitted alone
                continue
            params = np.exp(x)
            params[1] /= scale
            out.append(params)
        return out

    def _fit_once(self, f, r, T, w, start, scale, curvature=None) -> tuple[FitResult, Any]:
        """One fit from ``start`` (optimiser units; None = the model's default start), with
        BFGS's first inverse Hessian ``curvature`` (fast engine only) when given."""
        model = self.model
        if model == "pareto":
            start = pareto_start(f, T, w, scale) if start is None else start
            result = fit_pareto(
                f, r, T, w, self.penalizer, start, self.max_shape, self.max_iterations, self.tol, curvature
            )
            return result, FITTERS["pareto"]()
        fitter = fitter_class_for(model, self.engine)(penalizer_coef=self.penalizer)
        kwargs: dict[str, Any] = {"maxiter": int(self.max_iterations)}
        if self.tol is not None:
            kwargs["tol"] = self.tol
        if start is not None:
            kwargs["initial_params"] = start
        if curvature is not None and self.engine == "fast":
            kwargs["hess_inv0"], kwargs["quasi_newton_hessian"] = curvature, True
        with quiet_lifetimes():
            fitter.fit(f, r, T, weights=w, **kwargs)
        params = fitter.params_.reindex(list(PARAM_NAMES[model])).to_numpy(float)
        objective = float(getattr(fitter, "_negative_log_likelihood_", np.nan))
        return FitResult(params, objective, getattr(fitter, "n_iterations_", -1)), fitter

    def warm_curvature(self, X: pd.DataFrame | None = None, condensed=None) -> np.ndarray | None:
        """The inverse Hessian of this fit's objective (lifetimes' log parameters; Pareto/NBD: the
        log parameters of :func:`~analysis.clv.optimize.fit_pareto`), to warm start refits near it
        (``fit(..., warm_curvature=...)``); None when unknown. Pareto/NBD computes it on the
        customers it was fitted on, ``X`` (or ``condensed``, as in :meth:`fit`): None without them."""
        if self.model == "pareto":
            if X is None and condensed is None:
                return None
            unique, counts, _ = condensed or condense(X, SUMMARY_COLUMNS)
            f, r, T = (unique[c].to_numpy(float) for c in SUMMARY_COLUMNS)
            return pareto_curvature(f, r, T, counts.astype(float), self.penalizer, self._params())
        if self.engine != "fast":
            return None
        hessian = getattr(getattr(self, "fitter_", None), "_hessian_", None)
        return None if hessian is None else inverse_curvature(hessian)

    def _log_likelihood_at(self, params, f, r, T) -> np.ndarray:
        if self.model == "pareto":
            return pareto_log_likelihood(params, f, r, T)
        return self._ll_vector(params, f, r, T)

    @classmethod
    def from_params(cls, model: str, params) -> PurchaseModel:
        """A fitted model with the given parameters (natural units), e.g. a bootstrap draw."""
        out = cls(check_model(model))
        out.params_ = pd.Series(np.asarray(params, float), index=list(PARAM_NAMES[model]))
        out.fitter_ = FITTERS[model]()
        out.fitter_.params_ = out.params_.copy()
        return out

    # scoring --------------------------------------------------------------------------------
    def _params(self) -> np.ndarray:
        if not hasattr(self, "params_"):
            raise ValueError("this PurchaseModel is not fitted yet: call fit first")
        return self.params_.to_numpy()

    def log_likelihood(self, frequency, recency, T) -> np.ndarray:
        """Each customer's log-likelihood in the data's time unit (not lifetimes' scaled one)."""
        x, t_x, T = (np.asarray(v, float) for v in (frequency, recency, T))
        return self._log_likelihood_at(self._params(), x, t_x, T)

    def _ll_vector(self, p, x, t_x, T) -> np.ndarray:
        """BG/NBD and MBG/NBD log-likelihood, the formulas of lifetimes' fitters; the special
        functions and logarithms are evaluated once per distinct frequency, recency and T."""
        r, alpha, a, b = p
        modified = self.model != "bgnbd"  # MBG/NBD (Batislam, Denizel & Filiztekin 2007), as in lifetimes
        ix, xu = pd.factorize(np.asarray(x, float))
        it, tu = pd.factorize(np.asarray(t_x, float))
        iT, Tu = pd.factorize(np.asarray(T, float))
        k = 1.0 if modified else 0.0
        head = gammaln(r + xu) - gammaln(r) + r * np.log(alpha)  # a1 + a2 per distinct frequency
        head += gammaln(a + b) + gammaln(b + xu + k) - gammaln(b) - gammaln(a + b + xu + k)
        with np.errstate(divide="ignore"):
            branch = np.log(a) - np.log(b + (xu if modified else np.maximum(xu, 1) - 1))
        rx = r + x
        a3 = -rx * np.log(alpha + Tu)[iT]
        if not modified:
            a4 = branch[ix] - rx * np.log(alpha + tu)[it]
            return head[ix] + np.logaddexp(a3, np.where(x > 0, a4, -np.inf))
        a4 = branch[ix] + rx * (np.log(alpha + Tu)[iT] - np.log(alpha + tu)[it])
        return head[ix] + a3 + np.logaddexp(a4, 0.0)

    def _unique(self, X: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        self._params()
        check_columns(X, SUMMARY_COLUMNS)
        return condense(X, SUMMARY_COLUMNS)

    def conditional_matrix(self, unique: pd.DataFrame, times) -> np.ndarray:
        """E[repeat purchases in (T, T + t]] for each row of ``unique`` (``frequency``,
        ``recency``, ``T``) and each t of ``times``: a rows x times matrix.

        BG/NBD and MBG/NBD: lifetimes' formulas (numerator / denominator), with the
        hypergeometric numerator, which does not depend on recency, evaluated once per distinct
        (frequency, T). Pareto/NBD: the log-space formula of this module."""
        p = self._params()
        f, r, T = (unique[c].to_numpy(float) for c in SUMMARY_COLUMNS)
        if self.model == "pareto":
            alive = pareto_p_alive(p, f, r, T)
            return np.column_stack([pareto_expected_purchases(p, t, f, r, T, alive) for t in times])
        pairs, _, pair = condense(unique, ["frequency", "T"])
        pf, pT = pairs["frequency"].to_numpy(), pairs["T"].to_numpy()
        with quiet_lifetimes():
            num = np.column_stack([bg_numerator(self.model, p, t, pf, pT) for t in times])
        return num[pair] / bg_denominator(self.model, p, f, r, T)[:, None]

    def discounted_purchases(self, unique: pd.DataFrame, times, weights, pairs=None) -> tuple[np.ndarray, np.ndarray]:
        """For each row of ``unique``: E[purchases up to the last of ``times``] and the sum over
        periods of (E[up to times[k]] - E[up to times[k - 1]]) x ``weights[k - 1]`` (the
        discounted purchases). ``times`` starts at 0.

        For BG/NBD and MBG/NBD the denominator does not depend on time, so the sums are taken on
        the numerators per distinct (frequency, T) and divided once per row; ``pairs`` is
        ``condense(unique, ["frequency", "T"])`` when the caller scores several parameter sets
        (the bootstrap draws)."""
        p = self._params()
        weights = np.asarray(weights, float)
        if self.model == "pareto":
            grid = self.conditional_matrix(unique, times)
            return grid[:, -1], np.diff(grid, axis=1) @ weights
        f, r, T = (unique[c].to_numpy(float) for c in SUMMARY_COLUMNS)
        pairs, _, pair = pairs or condense(unique, ["frequency", "T"])
        pf, pT = pairs["frequency"].to_numpy(), pairs["T"].to_numpy()
        with quiet_lifetimes():
            num = np.column_stack([bg_numerator(self.model, p, t, pf, pT) for t in times])
        den = bg_denominator(self.model, p, f, r, T)
        return num[pair, -1] / den, (np.diff(num, axis=1) @ weights)[pair] / den

    def p_alive_unique(self, unique: pd.DataFrame) -> np.ndarray:
        """P(alive at T) for each row of ``unique``."""
        p = self._params()
        f, r, T = (unique[c].to_numpy(float) for c in SUMMARY_COLUMNS)
        if self.model == "pareto":
            return pareto_p_alive(p, f, r, T)
        return expit(-bg_log_odds(self.model, p, f, r, T))  # lifetimes' formula

    def expected_purchases(self, X: pd.DataFrame, t: float, condensed=None) -> pd.Series:
        """Each customer's expected repeat purchases in the next ``t`` time units (``condensed``:
        ``condense(X, SUMMARY_COLUMNS)`` when the caller already has it)."""
        unique, _, inverse = condensed or self._unique(X)
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
        t = np.asarray(t, float)
        with np.errstate(all="ignore"):
            out = population_expected_purchases(self.model, self._params(), t)
        return np.where(t > 0, out, 0.0)

    def simulate(self, T, rng: np.random.Generator) -> pd.DataFrame:
        """Simulated ``frequency``, ``recency`` for customers observed for ``T`` units, from the
        fitted parameters (for the repeat-purchase histogram)."""
        return simulate_summary(self.model, self.params_.to_numpy(), np.asarray(T, float), rng)
