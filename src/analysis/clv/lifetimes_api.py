"""lifetimes' fitters, on the project's mathematics: change one import and a notebook written for lifetimes runs
as before, faster, and without NaN.

    from analysis.clv import BetaGeoFitter, GammaGammaFitter   # was: from lifetimes import ...

:class:`BetaGeoFitter`, :class:`ModifiedBetaGeoFitter`, :class:`ParetoNBDFitter` and :class:`GammaGammaFitter` take
lifetimes' arguments (``penalizer_coef``; ``fit(frequency, recency, T, weights=None, initial_params=None,
verbose=False, tol=..., index=None, **kwargs)``) and give lifetimes' attributes and methods (``params_``,
``summary``, ``data``, ``predict``, ``conditional_expected_number_of_purchases_up_to_time``,
``conditional_probability_alive``, ``conditional_probability_alive_matrix``,
``expected_number_of_purchases_up_to_time``, ``probability_of_n_purchases_up_to_time``,
``conditional_expected_average_profit``, ``customer_lifetime_value``, ``save_model`` / ``load_model``). Under them:

- the likelihoods of :mod:`analysis.clv.likelihoods` with their exact gradients (no autograd), on the distinct
  (frequency, recency, T) patterns, started on a coarse copy of the data when there are many
  (:func:`analysis.clv.fitters.fast_fit`); BG/NBD, MBG/NBD and Gamma-Gamma reach lifetimes' maximum;
- Pareto/NBD in log space (:mod:`analysis.clv.pareto`; finite for heavy buyers, where lifetimes returns NaN on
  SciPy >= 1.16), fitted by the bounded L-BFGS-B of :func:`analysis.clv.optimize.fit_pareto` (deterministic:
  lifetimes' random restarts, ``iterative_fitting``, add nothing) and, unlike lifetimes, with standard errors;
- P(alive) and the conditional expectations in log space.

Differences from lifetimes, on purpose: results keep the index of the customers given (a Series in, a Series
out), so they assign to a customer table by customer id; the Pareto/NBD penalty is per customer, as lifetimes'
other fitters have it (lifetimes' Pareto/NBD divides by the mean weight, so its penalty depended on how rows
were condensed); ``variance_matrix_`` is the full delta-method matrix (its diagonal, the standard errors, is
lifetimes'). The repr reads as lifetimes' (``<lifetimes.BetaGeoFitter: ...>``).
"""

from __future__ import annotations

import pickle
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, gammaln

from analysis.clv.covariate_fitters import CovariateFitting, covariates_given
from analysis.clv.fitters import FastFit, FitFailed, coarse_copy, fast_fit
from analysis.clv.likelihoods import (
    BGNBDObjective,
    GammaGammaObjective,
    MBGNBDObjective,
    bg_log_odds,
    bg_numerator,
    bg_purchases_probability,
    hessian_from_gradient,
    population_expected_purchases,
    spend_gamma_gamma,
)
from analysis.clv.models import condense
from analysis.clv.optimize import fit_pareto, judge, pareto_start
from analysis.clv.pareto import (
    ParetoObjective,
    pareto_dropout_integral,
    pareto_expected_purchases,
    pareto_log_likelihood,
    pareto_p_alive,
    pareto_purchases_probability,
)
from analysis.clv.simulate import simulate_summary
from analysis.errors import UserError
from analysis.stage import text

# time units in one month, as lifetimes' customer_lifetime_value counts them
MONTH = {"W": 4.345, "M": 1.0, "D": 30.0, "H": 30.0 * 24}


class InputError(UserError, ValueError):
    """A summary lifetimes' fitters cannot take (a ValueError, as lifetimes raises it)."""


def verbosity(verbose: bool) -> dict:
    """scipy's option for lifetimes' ``verbose`` (none when quiet: scipy deprecates ``disp`` for L-BFGS-B)."""
    return {"disp": True} if verbose else {}


def check_inputs(frequency, recency=None, T=None, monetary_value=None) -> None:
    """lifetimes' checks of a customer summary, each a one-line error: recency <= T, recency 0 without a
    repeat purchase, no negative recency, no empty summary, whole frequencies, positive spend; and, which
    lifetimes lets through to NaN, no missing value."""
    given = {"frequency": frequency, "recency": recency, "T": T, "monetary_value": monetary_value}
    for name, values in given.items():
        if values is not None and np.isnan(np.asarray(values, float)).any():
            raise InputError(f"the {name} column has missing values: fit on customers with a purchase only")
    if recency is not None:
        if np.any(recency > T):
            raise InputError("Some values in recency vector are larger than T vector.")
        if np.any(recency[frequency == 0] != 0):
            raise InputError("There exist non-zero recency values when frequency is zero.")
        if np.any(recency < 0):
            raise InputError("There exist negative recency (ex: last order set before first order)")
        if any(v.shape[0] == 0 for v in (recency, frequency, T)):
            raise InputError("There exists a zero length vector in one of frequency, recency or T.")
    if np.sum((frequency - frequency.astype(int)) ** 2) != 0:
        raise InputError("There exist non-integer values in the frequency vector.")
    if monetary_value is not None and np.any(monetary_value <= 0):
        raise InputError("There exist non-positive (<= 0) values in the monetary_value vector.")


@dataclass(frozen=True)
class BoundMethod:
    """A fitter's method kept in its attributes (lifetimes sets ``predict`` in ``fit``), saved by name."""

    name: str


def shaped(values, *inputs, at_least_1d: bool = False):
    """``values`` shaped like the inputs they came from: a Series with the index of the first Series among
    ``inputs``, a number when every input is a number, else an array (at least 1-d with ``at_least_1d``)."""
    values = np.asarray(values, float)
    for given in inputs:
        if isinstance(given, pd.Series) and values.shape == (len(given),):
            return pd.Series(values, index=given.index)
    if values.ndim == 0 and not at_least_1d:
        return values[()]
    return np.atleast_1d(values) if at_least_1d else values


class BaseFitter:
    """What every fitter shares with lifetimes' ``BaseFitter``: the repr, ``_unload_params``, ``summary`` and
    saving (``save_model`` / ``load_model``, with pickle: a model saved here loads here)."""

    def __repr__(self) -> str:
        name = type(self).__name__
        try:
            subjects = f" fitted with {self.data.shape[0]:d} subjects,"
        except AttributeError:
            subjects = ""
        try:
            params = ", ".join(f"{k}: {v:.2f}" for k, v in sorted(self.params_.items()))
        except AttributeError:
            return f"<lifetimes.{name}>"
        return f"<lifetimes.{name}:{subjects} {params}>"

    def _unload_params(self, *names) -> list[float]:
        if not hasattr(self, "params_"):
            raise ValueError("Model has not been fit yet. Please call the .fit method first.")
        return [self.params_[n] for n in names]

    def save_model(self, path, save_data: bool = True, save_generate_data_method: bool = True, values_to_save=None):
        """Pickle the fitter to ``path``; without ``data`` / ``generate_new_data`` when asked (each replaced by
        its entry of ``values_to_save``, None by default), as lifetimes saves it."""
        left_out = [name for name, keep in (("data", save_data), ("generate_new_data", save_generate_data_method))
                    if not keep]  # fmt: skip
        placeholders = list(values_to_save or []) + [None] * len(left_out)
        state = self.__getstate__()
        for name, placeholder in zip(left_out, placeholders[: len(left_out)], strict=True):
            if name in state:
                state[name] = placeholder
        with open(path, "wb") as out:
            pickle.dump(state, out)

    def load_model(self, path) -> None:
        """Load what :meth:`save_model` wrote into this fitter."""
        with open(path, "rb") as source:
            self.__setstate__(pickle.load(source))

    def __getstate__(self) -> dict:
        """The fitter's attributes, its bound methods (``predict``, ``generate_new_data``) by name."""
        return {k: BoundMethod(v.__name__) if getattr(v, "__self__", None) is self else v
                for k, v in self.__dict__.items()}  # fmt: skip

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update({k: getattr(self, v.name) if isinstance(v, BoundMethod) else v for k, v in state.items()})

    def _uncertainty(self, hessian, n_customers: float) -> None:
        """``variance_matrix_``, ``standard_errors_`` and ``confidence_intervals_`` from the Hessian of the
        mean negative log-likelihood per customer in the log parameters (the delta method)."""
        self._hessian_ = hessian
        p = self.params_.to_numpy(float)
        try:
            inverse = np.linalg.inv(np.asarray(hessian, float))
        except (np.linalg.LinAlgError, ValueError):
            inverse = np.full((len(p), len(p)), np.nan)
        names = self.params_.index
        variance = p[:, None] * inverse * p[None, :] / n_customers
        self.variance_matrix_ = pd.DataFrame(variance, index=names, columns=names)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(self.variance_matrix_.to_numpy())), index=names)
        self.confidence_intervals_ = pd.DataFrame(
            {"lower 95% bound": self.params_ - 1.96 * self.standard_errors_,
             "upper 95% bound": self.params_ + 1.96 * self.standard_errors_},
            index=names,
        )  # fmt: skip

    @property
    def summary(self) -> pd.DataFrame:
        """coef, se(coef) and the 95% bounds of each parameter."""
        out = pd.DataFrame(index=self.params_.index)
        out["coef"] = self.params_
        out["se(coef)"] = self.standard_errors_
        out["lower 95% bound"] = self.confidence_intervals_["lower 95% bound"]
        out["upper 95% bound"] = self.confidence_intervals_["upper 95% bound"]
        return out


def patterns(frequency, recency, T, weights):
    """The distinct (frequency, recency, T) rows and their summed weights: what a fit runs on."""
    frame = pd.DataFrame({"frequency": frequency, "recency": recency, "T": T})
    unique, _, inverse = condense(frame, ["frequency", "recency", "T"])
    w = np.bincount(inverse, weights=np.asarray(weights, float), minlength=len(unique))
    return (*(unique[c].to_numpy(float) for c in ("frequency", "recency", "T")), w)


class PurchaseFitter(CovariateFitting, BaseFitter):
    """The part BG/NBD, MBG/NBD and Pareto/NBD share: inputs, ``data``, the P(alive) matrix, simulation."""

    model = ""
    names: tuple[str, ...] = ()

    def __init__(self, penalizer_coef: float = 0.0):
        self.penalizer_coef = penalizer_coef

    def _prepare(self, frequency, recency, T, weights, index):
        """Checked arrays, ``_scale`` (1 / max T, lifetimes' time scale) and ``data``."""
        f, r, T = (np.asarray(v, float) for v in (frequency, recency, T))
        check_inputs(f, r, T)
        f = f.astype(int)
        w = np.ones(len(r), dtype=int) if weights is None else np.asarray(weights)
        self._scale = 1.0 / T.max()
        self.data = pd.DataFrame({"frequency": f, "recency": r, "T": T, "weights": w}, index=index)
        return f, r, T, w

    def _fitted(self, params: np.ndarray) -> None:
        self.params_ = pd.Series(params, index=list(self.names), dtype=float)
        self.predict = self.conditional_expected_number_of_purchases_up_to_time
        self.generate_new_data = self.generate

    def predict(self, t, frequency, recency, T, **covariates):
        """:meth:`conditional_expected_number_of_purchases_up_to_time` (``fit`` also sets it on the fitter, where
        lifetimes keeps it)."""
        return self.conditional_expected_number_of_purchases_up_to_time(t, frequency, recency, T, **covariates)

    def generate(self, size: int = 1, random_state=None) -> pd.DataFrame:
        """Customers drawn from the fitted model, observed as long as the fitted ones (``size`` when there are
        none); ``random_state``: a seed or ``numpy.random.Generator``."""
        data = getattr(self, "data", None)
        T = data["T"].to_numpy(float) if isinstance(data, pd.DataFrame) else np.ones(size)
        params = np.asarray(self._unload_params(*self.names), float)
        return simulate_summary(self.model, params, T, np.random.default_rng(random_state))

    def conditional_probability_alive_matrix(self, max_frequency=None, max_recency=None) -> np.ndarray:
        """P(alive) on the grid [recency t_x, frequency x] of whole time units, T = ``max_recency`` (by
        default the largest frequency and T fitted)."""
        max_frequency = max_frequency or int(self.data["frequency"].max())
        max_recency = max_recency or int(self.data["T"].max())
        x, t_x = np.meshgrid(np.arange(max_frequency + 1.0), np.arange(max_recency + 1.0))
        return np.asarray(self.conditional_probability_alive(x, t_x, float(max_recency)), float)


class BetaGeoFitter(PurchaseFitter):
    """BG/NBD (Fader, Hardie & Lee 2005) with lifetimes' interface; see the module's docstring."""

    model = "bgnbd"
    names = ("r", "alpha", "a", "b")
    objective = BGNBDObjective

    def fit(self, frequency, recency, T, weights=None, initial_params=None, verbose=False, tol=1e-7, index=None,
            **kwargs):  # fmt: skip
        """Fit on customers' ``frequency``, ``recency`` and ``T`` (``weights``: customers per row);
        ``initial_params`` in lifetimes' units (log parameters, time scaled to max T = 1); ``kwargs`` are
        scipy's options. Raises lifetimes' ConvergenceError when BFGS does not converge. With ``covariates_trans`` /
        ``covariates_life`` (``constrain``, ``penalty``): static covariates (:mod:`analysis.clv.covariate_fitters`)."""
        given = covariates_given(kwargs)
        self.covariate_model_ = None
        if given:
            return self.fit_covariates(frequency, recency, T, weights, index, **given)
        f, r, T, w = self._prepare(frequency, recency, T, weights, index)
        fu, ru, Tu, wu = patterns(f, r * self._scale, T * self._scale, w)
        objective = self.objective(fu, ru, Tu, wu, self.penalizer_coef)
        coarse = None
        if initial_params is None:
            rows = coarse_copy(fu, ru, Tu, wu, FastFit.COARSE_GRID, FastFit.COARSE_PATTERNS)
            coarse = None if rows is None else self.objective(*rows, self.penalizer_coef)
        x0 = 0.1 * np.ones(4) if initial_params is None else np.asarray(initial_params, float)
        output, hessian = fast_fit(objective, x0, tol, None, coarse, **verbosity(verbose), **kwargs)
        self._negative_log_likelihood_ = float(output.fun)
        params = np.exp(output.x)
        params[1] /= self._scale
        self._fitted(params)
        self._uncertainty(hessian, wu.sum())
        return self

    @staticmethod
    def _negative_log_likelihood(log_params, freq, rec, T, weights, penalizer_coef):
        """lifetimes' objective: the mean negative log-likelihood per customer plus the L2 penalty (customer by
        customer, so it adds up exactly over customers)."""
        params = np.exp(np.asarray(log_params, float))
        freq, rec, T, weights = (np.atleast_1d(np.asarray(v, float)) for v in (freq, rec, T, weights))
        ll = weights * customer_log_likelihood(BetaGeoFitter.model, params, freq, rec, T)
        return -ll.sum() / weights.sum() + penalizer_coef * np.sum(params**2)

    def conditional_expected_number_of_purchases_up_to_time(self, t, frequency, recency, T, **covariates):
        """E[repeat purchases in (T, T + t] | frequency, recency, T] (eq. 10 of Fader, Hardie & Lee 2005); a fit
        with covariates takes each customer's (``covariates_trans``, ``covariates_life``)."""
        if self.covariate_model_ is not None:
            return shaped(self.covariate_expected(t, frequency, recency, T, **covariates), frequency, recency, T)
        p = self._unload_params(*self.names)
        t_, x, t_x, T_ = np.broadcast_arrays(*(np.asarray(v, float) for v in (t, frequency, recency, T)))
        with np.errstate(all="ignore"):
            num = bg_numerator(self.model, p, t_.ravel(), x.ravel(), T_.ravel()).reshape(x.shape)
            expected = num * expit(-bg_log_odds(self.model, p, x, t_x, T_))
        return shaped(expected, frequency, recency, T, t)

    def conditional_probability_alive(self, frequency, recency, T, **covariates):
        """P(alive at T | frequency, recency, T) (Fader, Hardie & Lee, note 021); 1 without a repeat purchase; a
        fit with covariates takes each customer's."""
        if self.covariate_model_ is not None:
            return shaped(self.covariate_alive(frequency, recency, T, **covariates), frequency, recency, T)
        p = self._unload_params(*self.names)
        x, t_x, T_ = np.broadcast_arrays(*(np.asarray(v, float) for v in (frequency, recency, T)))
        with np.errstate(all="ignore"):
            alive = expit(-bg_log_odds(self.model, p, x, t_x, T_))
        return shaped(alive, frequency, recency, T, at_least_1d=True)

    def expected_number_of_purchases_up_to_time(self, t):
        """E[repeat purchases in (0, t]] of a new customer."""
        return shaped(population_expected_purchases(self.model, self._unload_params(*self.names), t), t)

    def probability_of_n_purchases_up_to_time(self, t, n):
        """P(a new customer makes ``n`` repeat purchases in (0, t])."""
        return shaped(bg_purchases_probability(self.model, self._unload_params(*self.names), t, n), t, n)


class ModifiedBetaGeoFitter(BetaGeoFitter):
    """MBG/NBD (Batislam, Denizel & Filiztekin 2007): BG/NBD where a customer may also drop out at the first
    purchase; lifetimes' interface."""

    model = "mbgnbd"
    objective = MBGNBDObjective

    @staticmethod
    def _negative_log_likelihood(log_params, freq, rec, T, weights, penalizer_coef):
        """lifetimes' objective (customer by customer)."""
        params = np.exp(np.asarray(log_params, float))
        freq, rec, T, weights = (np.atleast_1d(np.asarray(v, float)) for v in (freq, rec, T, weights))
        ll = weights * customer_log_likelihood(ModifiedBetaGeoFitter.model, params, freq, rec, T)
        return -ll.sum() / weights.sum() + penalizer_coef * np.sum(params**2)


def customer_log_likelihood(model: str, params, x, t_x, T) -> np.ndarray:
    """Each customer's BG/NBD or MBG/NBD log-likelihood, lifetimes' formula term by term."""
    r, alpha, a, b = params
    k = 1.0 if model == "mbgnbd" else 0.0
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    head = head + gammaln(a + b) + gammaln(b + x + k) - gammaln(b) - gammaln(a + b + x + k)
    with np.errstate(divide="ignore", under="ignore"):
        odds = bg_log_odds(model, params, x, t_x, T)
        return head - (r + x) * np.log(alpha + T) + np.logaddexp(0.0, odds)


class ParetoNBDFitter(PurchaseFitter):
    """Pareto/NBD (Schmittlein, Morrison & Colombo 1987; Fader & Hardie note 009) in log space, fitted within
    bounds; lifetimes' interface (see the module's docstring)."""

    model = "pareto"
    names = ("r", "alpha", "s", "beta")
    max_shape = 1000.0  # a shape parameter this large: customers alike in that respect (optimize.judge)

    def fit(self, frequency, recency, T, weights=None, iterative_fitting=1, initial_params=None, verbose=False,
            tol=1e-4, index=None, fit_method="L-BFGS-B", maxiter=2000, **kwargs):  # fmt: skip
        """Fit on customers' ``frequency``, ``recency`` and ``T`` (``weights``: customers per row);
        ``initial_params`` (r, alpha, s, beta) with time scaled to max T = 1, as lifetimes takes them. The fit
        is bounded L-BFGS-B to a gradient of 1e-9 whatever ``tol`` and ``fit_method`` say; ``iterative_fitting``
        is checked as lifetimes checks it (the fit is deterministic: restarts repeat it). With
        ``covariates_trans`` / ``covariates_life``: static covariates (:mod:`analysis.clv.covariate_fitters`)."""
        given = covariates_given(kwargs)
        self.covariate_model_ = None
        if given:
            return self.fit_covariates(frequency, recency, T, weights, index, **given)
        if iterative_fitting <= 0:
            raise InputError("iterative_fitting parameter should be greater than 0 as of lifetimes v0.2.1")
        if iterative_fitting > 1 and initial_params is not None:
            raise InputError(
                "iterative_fitting and initial_params should not be both set, as no improvement could be made."
            )
        f, r, T, w = self._prepare(frequency, recency, T, weights, index)
        fu, ru, Tu, wu = patterns(f, r, T, w)
        start = pareto_start(fu, Tu, wu, self._scale) if initial_params is None else np.asarray(initial_params)
        result = fit_pareto(fu, ru, Tu, wu, self.penalizer_coef, start, self.max_shape, int(maxiter))
        if result.problem is not None:
            raise FitFailed(text(f"the Pareto/NBD fit did not converge: {result.problem['en']}",
                                 f"Pareto/NBD 的拟合没有收敛：{result.problem['zh']}"))  # fmt: skip
        edge = judge(self.model, result.params, -result.objective, self._scale, self.max_shape)
        if edge is not None:
            warnings.warn(edge["en"], RuntimeWarning, stacklevel=2)
        self._negative_log_likelihood_ = result.objective
        self._fitted(result.params)
        objective = ParetoObjective(fu, ru * self._scale, Tu * self._scale, wu, self.penalizer_coef)
        scaled = np.log(result.params * np.array([1.0, self._scale, 1.0, self._scale]))
        with np.errstate(all="ignore"):
            self._uncertainty(hessian_from_gradient(objective, scaled), wu.sum())
        return self

    @staticmethod
    def _log_A_0(params, freq, recency, age):
        """log A_0 of note 009 (eq. 19, 20): the dropout integral times r + s + x, in log space."""
        r, alpha, s, beta = params
        return pareto_dropout_integral(params, freq, recency, age) + np.log(r + s + np.asarray(freq, float))

    @staticmethod
    def _conditional_log_likelihood(params, freq, rec, T):
        return pareto_log_likelihood(params, freq, rec, T)

    @staticmethod
    def _negative_log_likelihood(params, freq, rec, T, weights, penalizer_coef):
        """lifetimes' objective: minus the log-likelihood summed over customers, divided by their mean weight,
        plus the L2 penalty; inf outside the parameter space."""
        if np.any(np.asarray(params) <= 0.0):
            return np.inf
        weights = np.asarray(weights, float)
        ll = weights * pareto_log_likelihood(params, freq, rec, T)
        return -ll.sum() / weights.mean() + penalizer_coef * np.sum(np.asarray(params, float) ** 2)

    def conditional_expected_number_of_purchases_up_to_time(self, t, frequency, recency, T, **covariates):
        """E[repeat purchases in (T, T + t] | frequency, recency, T] (note 009, eq. 41), in log space; a fit with
        covariates takes each customer's (``covariates_trans``, ``covariates_life``)."""
        if self.covariate_model_ is not None:
            return shaped(self.covariate_expected(t, frequency, recency, T, **covariates), frequency, recency, T)
        p = self._unload_params(*self.names)
        t_, x, t_x, T_ = np.broadcast_arrays(*(np.asarray(v, float) for v in (t, frequency, recency, T)))
        return shaped(pareto_expected_purchases(p, t_, x, t_x, T_), frequency, recency, T, t)

    def conditional_probability_alive(self, frequency, recency, T, **covariates):
        """P(alive at T | frequency, recency, T) (note 009, eq. 36-37), in log space; with covariates, each
        customer's."""
        if self.covariate_model_ is not None:
            return shaped(self.covariate_alive(frequency, recency, T, **covariates), frequency, recency, T)
        p = self._unload_params(*self.names)
        x, t_x, T_ = np.broadcast_arrays(*(np.asarray(v, float) for v in (frequency, recency, T)))
        return shaped(pareto_p_alive(p, x, t_x, T_), frequency, recency, T)

    def expected_number_of_purchases_up_to_time(self, t):
        """E[repeat purchases in (0, t]] of a new customer (note 009, eq. 27)."""
        return shaped(population_expected_purchases(self.model, self._unload_params(*self.names), t), t)

    def conditional_probability_of_n_purchases_up_to_time(self, n, t, frequency, recency, T):
        """P(``n`` repeat purchases in (T, T + t] | frequency, recency, T) (note 028); 1 for n = 0 at t = 0."""
        p = self._unload_params(*self.names)
        return shaped(pareto_purchases_probability(p, n, t, frequency, recency, T), frequency, recency, T, n, t)


class GammaGammaFitter(BaseFitter):
    """Gamma-Gamma spend per purchase (Fader & Hardie note 025) with lifetimes' interface."""

    def __init__(self, penalizer_coef: float = 0.0):
        self.penalizer_coef = penalizer_coef

    def fit(self, frequency, monetary_value, weights=None, initial_params=None, verbose=False, tol=1e-7,
            index=None, q_constraint=False, **kwargs):  # fmt: skip
        """Fit on repeat buyers' ``frequency`` and mean spend per repeat purchase ``monetary_value``
        (``weights``: customers per row); ``q_constraint`` keeps q >= 1 (a positive population mean)."""
        f, m = np.asarray(frequency, float), np.asarray(monetary_value, float)
        check_inputs(f, monetary_value=m)
        if np.any(f <= 0):
            raise InputError("Gamma-Gamma is fitted on repeat buyers: pass customers with frequency > 0 only")
        w = np.ones(len(f), dtype=int) if weights is None else np.asarray(weights)
        objective = GammaGammaObjective(f, m, w, self.penalizer_coef)
        x0 = 0.1 * np.ones(3) if initial_params is None else np.asarray(initial_params, float)
        bounds = ((None, None), (0, None), (None, None)) if q_constraint else None
        output, hessian = fast_fit(objective, x0, tol, bounds, **verbosity(verbose), **kwargs)
        self._negative_log_likelihood_ = float(output.fun)
        self.data = pd.DataFrame({"monetary_value": m, "frequency": f, "weights": w}, index=index)
        self.params_ = pd.Series(np.exp(output.x), index=["p", "q", "v"])
        self._uncertainty(hessian, np.sum(w))
        return self

    def conditional_expected_average_profit(self, frequency=None, monetary_value=None):
        """E[spend per purchase | frequency, monetary_value] (note 025, eq. 5): the population mean for a
        customer without a repeat purchase. Defaults: the customers fitted."""
        frequency = self.data["frequency"] if frequency is None else frequency
        monetary_value = self.data["monetary_value"] if monetary_value is None else monetary_value
        params = self._unload_params("p", "q", "v")
        return shaped(spend_gamma_gamma(params, frequency, monetary_value), frequency, monetary_value)

    def customer_lifetime_value(self, transaction_prediction_model, frequency, recency, T, monetary_value,
                                time=12, discount_rate=0.01, freq="D"):  # fmt: skip
        """Discounted expected spend over ``time`` months (see :func:`customer_lifetime_value`), with this
        model's expected spend per purchase."""
        spend = self.conditional_expected_average_profit(frequency, monetary_value)
        return customer_lifetime_value(transaction_prediction_model, frequency, recency, T, spend, time,
                                       discount_rate, freq)  # fmt: skip


def customer_lifetime_value(transaction_prediction_model, frequency, recency, T, monetary_value, time=12,
                            discount_rate=0.01, freq="D") -> pd.Series:  # fmt: skip
    """Each customer's expected purchases month by month for ``time`` months (``transaction_prediction_model``'s
    ``predict``, cumulative, differenced), times ``monetary_value``, discounted at ``discount_rate`` a month;
    ``freq`` the unit of T ("D", "H", "W", "M"), as lifetimes' ``_customer_lifetime_value`` computes it. A
    Series named ``clv``, indexed like ``frequency`` when it is a Series."""
    if freq not in MONTH:
        raise InputError(f"unknown time unit freq={freq!r}: use one of {', '.join(MONTH)}")
    factor = MONTH[freq]
    arrays = [np.asarray(v, float) for v in (frequency, recency, T, monetary_value)]
    before = transaction_prediction_model.predict(0.0, *arrays[:3])
    clv = np.zeros(len(arrays[0]))
    for month in range(1, int(time) + 1):
        now = transaction_prediction_model.predict(month * factor, *arrays[:3])
        clv += arrays[3] * (np.asarray(now) - np.asarray(before)) / (1 + discount_rate) ** month
        before = now
    index = frequency.index if isinstance(frequency, pd.Series) else None
    return pd.Series(clv, index=index, name="clv")
