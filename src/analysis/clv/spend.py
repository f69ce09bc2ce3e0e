"""The Gamma-Gamma spend model (Fader & Hardie note 025) as a scikit-learn estimator, with a penalised
retry, a fallback to the population mean, and the cases without spend: repeat buyers whose purchases
were all free, and event logs without amounts.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import pearsonr
from sklearn.base import BaseEstimator, clone

from analysis.clv.fitters import (
    ConvergenceError,
    FastGammaGammaFitter,
    GammaGammaFitter,
    fit_prepared,
    inverse_curvature,
    one_blas_thread,
    quiet_lifetimes,
)
from analysis.clv.likelihoods import GammaGammaObjective, spend_gamma_gamma
from analysis.clv.models import check_columns, finite_params
from analysis.errors import UserError
from analysis.stage import Text, text

PENALIZED_MEAN_TOLERANCE = 0.2  # see SpendModel._try_fit


def _accepted(params: pd.Series, m, w, penalizer: float) -> pd.Series | None:
    """A Gamma-Gamma fit's ``params`` (p, q, v) when they are usable for customers with mean
    spends ``m`` and weights ``w``, else None: finite and positive, q > 1 (else the population
    mean v p / (q - 1) is undefined), and a penalised fit only with a population mean within
    PENALIZED_MEAN_TOLERANCE of the observed one (a penalty can "converge" on a biased answer: it
    pulls q and v towards 0)."""
    if not finite_params(params) or params["q"] <= 1.0:
        return None
    if penalizer > 0:
        observed = np.average(m, weights=w)
        implied = params["v"] * params["p"] / (params["q"] - 1)
        if abs(implied / observed - 1) > PENALIZED_MEAN_TOLERANCE:
            return None
    return params


def _no_amounts(frequency: np.ndarray, monetary_value: np.ndarray) -> bool:
    """True when the summary carries no spend: every repeat buyer's mean spend is NaN (an
    event log without amounts), or every customer's."""
    repeat = monetary_value[frequency > 0]
    return bool(len(monetary_value)) and bool(np.isnan(repeat if len(repeat) else monetary_value).all())


def free_buyers_note(free: int) -> Text:
    """The note that ``free`` repeat buyers spent nothing on their repeat purchases and are left out of the fit."""
    return text(
        f"{free:,} repeat buyers whose repeat purchases were all free (zero amounts) are left out of the spend fit "
        "(Gamma-Gamma needs a positive mean spend); their expected spend per purchase still comes from the fitted "
        "model",
        f"{free:,} 位客户的重复购买全部免费（金额为零），未纳入消费模型拟合（Gamma-Gamma 需要正的平均消费）；"
        "他们的预期每次消费仍由拟合的模型给出",
    )


def mean_fallback_warning(mean: float) -> Text:
    """The warning that Gamma-Gamma could not be fitted, so every customer's spend per purchase is ``mean``."""
    return text(
        "Gamma-Gamma could not be fitted (spend per purchase shows too little variation between customers); every "
        f"customer's expected spend per purchase is the population mean {mean:,.2f}",
        f"Gamma-Gamma 无法拟合（客户之间每次消费金额差异太小）；每位客户的预期每次消费都取总体平均值 {mean:,.2f}",
    )


class SpendModel(BaseEstimator):
    """Gamma-Gamma expected spend per purchase, with a penalised retry and a fallback.

    Parameters
    ----------
    penalizer : L2 penalty of the first attempt (0 = plain MLE).
    retry_penalizer : penalty of the second attempt when the first does not converge.
    correlation_warning : warn when |Pearson correlation| between frequency and spend among
        repeat buyers exceeds this (Gamma-Gamma assumes they are independent).
    engine : ``"fast"`` (numpy likelihood with exact gradient, lifetimes' optimiser) or
        ``"lifetimes"`` (lifetimes' autograd likelihood); same parameters.

    ``fit(X)`` uses the repeat buyers of ``X`` (``frequency`` > 0, ``monetary_value`` > 0) and
    learns ``method_`` (``"gamma-gamma"``, ``"gamma-gamma (penalized)"``, ``"mean"``, or
    ``"none"`` when the input has no amounts: every ``monetary_value`` NaN), ``params_`` (p, q,
    v; NaN for the fallback), ``population_mean_``, ``correlation_``, ``n_repeat_buyers_``,
    ``n_free_repeat_buyers_`` (repeat buyers with zero mean spend, left out of the fit),
    ``warnings_`` and ``notes_`` (plain-language sentences for the report, each ``{en, zh}``).

    A penalised fit is kept only when its implied population mean spend is within 20 % of the
    observed mean of the repeat buyers' mean spend (a penalty can pull the estimates far off).
    The fallback ``"mean"`` model: every customer's expected spend per purchase is the mean
    spend per repeat purchase day over all repeat buyers (the limit of Gamma-Gamma when spend
    shows no heterogeneity, which is the usual cause of non-convergence).
    """

    def __init__(
        self,
        penalizer: float = 0.0,
        retry_penalizer: float = 0.01,
        correlation_warning: float = 0.3,
        engine: str = "fast",
    ):
        self.penalizer = penalizer
        self.retry_penalizer = retry_penalizer
        self.correlation_warning = correlation_warning
        self.engine = engine

    def fit(self, X: pd.DataFrame, y=None, sample_weight=None, initial_params=None, warm_curvature=None):
        """Fit on the repeat buyers of ``X``. ``sample_weight``: customers per row (the
        bootstrap); ``initial_params``: a warm start (p, q, v); ``warm_curvature``: with it, the
        inverse Hessian there (:meth:`warm_curvature`), so a refit near the point estimate takes
        a few BFGS steps (fast engine)."""
        check_columns(X, ("frequency", "monetary_value"))
        freq, money = X["frequency"].to_numpy(float), X["monetary_value"].to_numpy(float)
        weight = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, float)
        rep = (freq > 0) & (money > 0) & (weight > 0)
        f, m, w = freq[rep], money[rep], weight[rep]
        self.n_repeat_buyers_ = int(round(w.sum()))
        self.warnings_: list[Text] = []
        self.notes_: list[Text] = []
        self.params_ = pd.Series(np.nan, index=["p", "q", "v"])
        self.population_mean_ = self.correlation_ = math.nan
        self.n_free_repeat_buyers_ = 0
        if _no_amounts(freq, money):
            self.method_ = "none"
            self.notes_.append(text("the input has no amounts: spend per purchase and CLV in currency are not computed",
                                    "输入数据没有金额：不计算每次消费金额和以货币计的 CLV"))  # fmt: skip
            return self
        free = int(round(weight[(freq > 0) & (money <= 0)].sum()))
        if free:
            self.notes_.append(free_buyers_note(free))
        self.n_free_repeat_buyers_ = free
        self.population_mean_ = float(np.sum(w * f * m) / np.sum(w * f)) if len(f) else math.nan
        self.correlation_ = self._correlation(f, m, w)
        if np.isfinite(self.correlation_) and abs(self.correlation_) > self.correlation_warning:
            self.warnings_.append(
                text(f"frequency and spend per purchase are correlated (r = {self.correlation_:.2f}); Gamma-Gamma "
                     "assumes they are independent, so spend forecasts may be biased",
                     f"购买频次与每次消费金额相关（r = {self.correlation_:.2f}）；Gamma-Gamma 假设二者独立，"
                     "消费预测可能有偏差")
            )  # fmt: skip
        self.params_ = pd.Series(np.nan, index=["p", "q", "v"])
        self.method_ = "mean"
        if len(f) < 2:
            self.warnings_.append(
                text("fewer than two repeat buyers: spend per purchase is the observed mean, not a Gamma-Gamma model",
                     "重复购买客户少于两位：每次消费金额取观测平均值，而不是 Gamma-Gamma 模型")
            )  # fmt: skip
            if not len(f):
                self.population_mean_ = math.nan
            return self
        attempts = [("gamma-gamma", self.penalizer), ("gamma-gamma (penalized)", self.retry_penalizer)]
        for method, pen in attempts:
            warm = {} if warm_curvature is None or pen != self.penalizer else {"curvature": warm_curvature}
            params = self._try_fit(f, m, w, pen, initial_params, self.engine, **warm)
            if params is not None:
                self.params_, self.method_, self.penalty_ = params, method, pen
                if method != "gamma-gamma":
                    self.warnings_.append(text(f"Gamma-Gamma did not converge; refitted with penalty {pen}",
                                               f"Gamma-Gamma 未收敛；已用惩罚 {pen} 重新拟合"))  # fmt: skip
                return self
        self.warnings_.append(mean_fallback_warning(self.population_mean_))
        return self

    @staticmethod
    def _correlation(f, m, w) -> float:
        if len(f) < 3 or np.all(f == f[0]) or np.all(m == m[0]):
            return math.nan
        if np.all(w == 1):
            return float(pearsonr(f, m)[0])
        fm, mm = np.average(f, weights=w), np.average(m, weights=w)
        cov = np.average((f - fm) * (m - mm), weights=w)
        return float(cov / math.sqrt(np.average((f - fm) ** 2, weights=w) * np.average((m - mm) ** 2, weights=w)))

    @staticmethod
    def _try_fit(f, m, w, penalizer, initial_params, engine="fast", curvature=None) -> pd.Series | None:
        if engine not in ("fast", "lifetimes"):
            raise UserError(f"unknown CLV engine {engine!r}: use 'fast' or 'lifetimes'")
        fitter_class = FastGammaGammaFitter if engine == "fast" else GammaGammaFitter
        fitter = fitter_class(penalizer_coef=penalizer)
        kwargs = {} if initial_params is None else {"initial_params": np.log(initial_params)}
        if curvature is not None and initial_params is not None and engine == "fast":
            kwargs.update(hess_inv0=curvature, quasi_newton_hessian=True)
        try:
            with quiet_lifetimes():
                fitter.fit(f, m, weights=w, **kwargs)
        except (ConvergenceError, np.linalg.LinAlgError, ValueError, FloatingPointError):
            return None
        return _accepted(fitter.params_.astype(float), m, w, penalizer)

    def repeat_objective(self, X: pd.DataFrame):
        """The fitted Gamma-Gamma objective on the repeat buyers of ``X`` (positive frequency and
        spend), one customer each: the customers grouped once for :meth:`warm_curvature` and the
        refits of :meth:`refit`; None without a Gamma-Gamma fit."""
        if not getattr(self, "method_", "").startswith("gamma-gamma"):
            return None
        freq, money = X["frequency"].to_numpy(float), X["monetary_value"].to_numpy(float)
        rep = (freq > 0) & (money > 0)
        return GammaGammaObjective(freq[rep], money[rep], np.ones(int(rep.sum())), self.penalty_)

    def warm_curvature(self, X: pd.DataFrame, objective=None) -> np.ndarray | None:
        """The inverse Hessian of the fitted Gamma-Gamma objective (log parameters) on the repeat
        buyers of ``X`` (``objective``: its :meth:`repeat_objective` when the caller has it), to
        warm start refits near ``params_``; None without a Gamma-Gamma fit."""
        objective = objective or self.repeat_objective(X)
        if objective is None:
            return None
        return inverse_curvature(objective.hessian(np.log(self.params_.to_numpy(float))))

    def refit(self, X: pd.DataFrame, sample_weight, objective=None, curvature=None) -> tuple[pd.Series, str, float]:
        """(``params_``, ``method_``, ``population_mean_``) of this model refitted on ``X`` with
        ``sample_weight`` (customers per row: a bootstrap resample), warm started at ``params_``
        with ``curvature`` (:meth:`warm_curvature`). With ``objective`` (:meth:`repeat_objective`
        of ``X``) a plain Gamma-Gamma fit (fast engine) is refitted on that objective reweighted,
        the customers not grouped again: the first attempt of :meth:`fit`. Whatever that cannot
        settle (it fails, or the fit was penalised or fell back) :meth:`fit` decides in full."""
        warm = self.params_.to_numpy(float)
        if objective is not None and self.method_ == "gamma-gamma" and self.engine == "fast":
            freq, money = X["frequency"].to_numpy(float), X["monetary_value"].to_numpy(float)
            rep = (freq > 0) & (money > 0)
            w = np.asarray(sample_weight, float)[rep]
            if np.count_nonzero(w) >= 2:
                # a trial step of the line search may overflow; the refit it ends with is judged by _accepted
                with one_blas_thread(), np.errstate(over="ignore", invalid="ignore"):
                    drawn = objective.reweighted(w)
                    try:
                        x = fit_prepared(drawn, np.log(warm), hess_inv0=curvature)
                        params = _accepted(pd.Series(np.exp(x), index=["p", "q", "v"]), money[rep], w, self.penalty_)
                    except (ConvergenceError, np.linalg.LinAlgError, ValueError, FloatingPointError):
                        params = None
                    if params is not None:
                        return params, self.method_, drawn.mean_spend()
        initial = warm if np.all(np.isfinite(warm)) else None
        sm = clone(self).fit(X, sample_weight=sample_weight, initial_params=initial, warm_curvature=curvature)
        return sm.params_, sm.method_, sm.population_mean_

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Expected spend per purchase for each customer (population mean without a repeat
        purchase), indexed like ``X``."""
        if not hasattr(self, "method_"):
            raise ValueError("this SpendModel is not fitted yet: call fit first")
        check_columns(X, ("frequency", "monetary_value"))
        return pd.Series(
            self._spend(X["frequency"].to_numpy(float), X["monetary_value"].to_numpy(float)), index=X.index
        )

    def _spend(self, f, m) -> np.ndarray:
        if self.method_ == "none":
            return np.full(len(f), np.nan)
        if self.method_ == "mean":
            return np.full(len(f), self.population_mean_)
        return spend_gamma_gamma(self.params_.to_numpy(), f, m)

    @property
    def population_mean_spend_(self) -> float:
        """Expected spend per purchase of a customer without a repeat purchase."""
        if self.method_ in ("mean", "none"):
            return self.population_mean_
        p, q, v = self.params_.to_numpy()
        return float(v * p / (q - 1))
