"""Customer lifetime value: discounted expected spend over a horizon, from a purchase model and the
Gamma-Gamma spend model, with bootstrap intervals (:class:`CLVModel`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from analysis.clv.covariates import CovariatePurchaseModel
from analysis.clv.likelihoods import check_model, gamma_gamma_shrinkage
from analysis.clv.models import SUMMARY_COLUMNS, UNITS_PER_MONTH, PurchaseModel, check_columns, condense
from analysis.clv.nbd import NBD_MODEL, NBDModel
from analysis.clv.spend import SpendModel
from analysis.errors import UserError


def _row_quantiles(values: np.ndarray, q) -> list[np.ndarray]:
    """Each row's quantiles ``q`` of its values (``np.quantile(values, q, axis=1)``, linear
    interpolation; NaN for a row with a NaN) by sorting the rows, several times faster than
    numpy's partition on short rows."""
    ordered = np.sort(values, axis=1)  # NaN last
    n = ordered.shape[1]
    out = []
    for share in q:
        at = (n - 1) * share
        below = int(np.floor(at))
        lo, hi = ordered[:, below], ordered[:, min(below + 1, n - 1)]
        t = at - below  # numpy's interpolation, from the nearer end
        between = lo + (hi - lo) * t if t < 0.5 else hi - (hi - lo) * (1 - t)
        out.append(np.where(np.isnan(ordered[:, -1]), np.nan, between))
    return out


def discount_weights(horizon_months: int, discount_rate: float) -> np.ndarray:
    """1 / (1 + d)^m for months m = 1..H (the cash flows of month m are discounted m months)."""
    return 1.0 / (1.0 + discount_rate) ** np.arange(1, horizon_months + 1)


class CLVModel(BaseEstimator):
    """Purchase model + spend model + discounted CLV, with bootstrap intervals.

    Parameters
    ----------
    model : purchase model, "bgnbd", "pareto", "mbgnbd", or "nbd" (:class:`NBDModel`, the purchase process
        without dropout: the fallback where nobody has dropped out yet).
    horizon_months : CLV horizon in months.
    discount_rate : monthly discount rate (0.01 = 1 % a month).
    margin : profit margin applied to spend (e.g. 0.3); ``None`` = revenue CLV.
    time_unit : "weeks" or "days", the unit of the summary (a month = 4.345 weeks or 30 days,
        as in lifetimes).
    penalizer, tol, engine, max_shape, max_iterations : passed to :class:`PurchaseModel`
        (engine also to SpendModel); a degenerate purchase fit raises
        :class:`~analysis.clv.optimize.DegenerateFit`, a degenerate bootstrap refit is a failed
        draw (left out of the intervals).
    gg_penalizer, gg_retry_penalizer, correlation_warning : passed to :class:`SpendModel`.
    n_bootstrap : customer-resampling refits for intervals (0 = none). More resamples: raise it
        (e.g. ``clv.bootstrap.n: 500`` in the config); time grows linearly. The intervals
        express estimation (parameter) uncertainty, not the randomness of a customer's future
        purchases around their expectation.
    interval : coverage of the intervals (0.9 = 5th to 95th percentile).
    random_state : seed or ``numpy.random.Generator`` for the bootstrap.
    covariates : static covariates of the purchase model, ``{"trans": [...], "life": [...], "constrain": [...],
        "penalty": x}`` (columns of ``X``, see :class:`~analysis.clv.covariates.CovariatePurchaseModel`); None =
        the model without covariates. Every prediction then uses each customer's covariates, and the bootstrap
        refits the coefficients too.

    ``fit(X)`` needs ``frequency``, ``recency``, ``T``, ``monetary_value`` (customers with at
    least one purchase). ``predict(X)`` returns a frame indexed like ``X`` with
    ``expected_purchases`` (over the horizon), ``p_alive``, ``expected_spend`` (per purchase),
    ``clv``, and with a bootstrap ``clv_low``, ``clv_high``.
    """

    def __init__(
        self,
        model: str = "bgnbd",
        horizon_months: int = 12,
        discount_rate: float = 0.01,
        margin: float | None = None,
        time_unit: str = "weeks",
        penalizer: float = 0.0,
        tol: float | None = None,
        gg_penalizer: float = 0.0,
        gg_retry_penalizer: float = 0.01,
        correlation_warning: float = 0.3,
        n_bootstrap: int = 0,
        interval: float = 0.9,
        random_state=None,
        engine: str = "fast",
        max_shape: float = 1000.0,
        max_iterations: int = 500,
        covariates: dict | None = None,
    ):
        self.model = model
        self.horizon_months = horizon_months
        self.discount_rate = discount_rate
        self.margin = margin
        self.time_unit = time_unit
        self.penalizer = penalizer
        self.tol = tol
        self.gg_penalizer = gg_penalizer
        self.gg_retry_penalizer = gg_retry_penalizer
        self.correlation_warning = correlation_warning
        self.n_bootstrap = n_bootstrap
        self.interval = interval
        self.random_state = random_state
        self.engine = engine
        self.max_shape = max_shape
        self.max_iterations = max_iterations
        self.covariates = covariates

    def _purchase(self) -> PurchaseModel | NBDModel | CovariatePurchaseModel:
        if self.model == NBD_MODEL:
            return NBDModel(self.max_shape, self.max_iterations)
        if self.covariates:
            cov = self.covariates
            return CovariatePurchaseModel(
                self.model, list(cov["trans"]), list(cov["life"]), list(cov["constrain"]), float(cov["penalty"]),
                self.penalizer, self.tol, self.engine, self.max_shape, self.max_iterations,
            )  # fmt: skip
        return PurchaseModel(self.model, self.penalizer, self.tol, self.engine, self.max_shape, self.max_iterations)

    @property
    def pattern_columns(self) -> list[str]:
        """The columns that tell customers apart in the purchase model: frequency, recency, T and the covariates."""
        if not self.covariates:
            return list(SUMMARY_COLUMNS)
        return [*SUMMARY_COLUMNS, *dict.fromkeys([*self.covariates["trans"], *self.covariates["life"]])]

    def _spend(self) -> SpendModel:
        return SpendModel(self.gg_penalizer, self.gg_retry_penalizer, self.correlation_warning, self.engine)

    def _check(self) -> None:
        if self.model != NBD_MODEL:
            check_model(self.model)
        if self.time_unit not in UNITS_PER_MONTH:
            raise UserError(f"unknown time unit {self.time_unit!r}: use 'weeks' or 'days'")
        if int(self.horizon_months) < 1:
            raise UserError(f"clv horizon_months must be at least 1, got {self.horizon_months}")
        if not self.discount_rate > -1:
            raise UserError(f"clv discount_rate must be above -1, got {self.discount_rate}")
        if self.margin is not None and not 0 < self.margin <= 1:
            raise UserError(f"clv margin must be in (0, 1] or null, got {self.margin}")
        if int(self.n_bootstrap) < 0:
            raise UserError(f"clv bootstrap n must be 0 or more, got {self.n_bootstrap}")

    def fit(self, X: pd.DataFrame, y=None):
        self._fit(X)
        return self

    def fit_predict(self, X: pd.DataFrame, y=None) -> pd.DataFrame:
        """``fit(X).predict(X)``, grouping the customers into unique rows once."""
        condensed = self._fit(X)
        return self._predict(X, condensed[0], condensed[2])

    def _fit(self, X: pd.DataFrame):
        self._check()
        check_columns(X, (*self.pattern_columns, "monetary_value"))
        if len(X) == 0:
            raise UserError("no customers with purchases to fit a CLV model on")
        condensed = condense(X, self.pattern_columns)
        self.purchase_model_ = self._purchase().fit(X, condensed=condensed)
        self.spend_model_ = self._spend().fit(X)
        self.bootstrap_params_ = self._bootstrap(X, condensed) if self.n_bootstrap else None
        return condensed

    def _bootstrap(self, X: pd.DataFrame, condensed) -> pd.DataFrame:
        """Refit both models on ``n_bootstrap`` resamples of customers (with replacement).

        A resample is drawn as counts per customer (n draws with replacement), so each refit runs
        on the unique rows with those counts as weights (equal to refitting on the resampled
        customers), warm started from the point estimates and their curvature (a few steps per
        refit). The rows and the repeat buyers are grouped once: a resample only reweights them
        (:meth:`PurchaseModel.refit_draws`, :meth:`SpendModel.refit`)."""
        rng = np.random.default_rng(self.random_state)
        n = len(X)
        rows = []
        pm0, sm0 = self.purchase_model_, self.spend_model_
        curv_p = pm0.warm_curvature(condensed=condensed)
        unique, _, inverse = condensed
        # the spend model sees only customers with a repeat purchase: the same fit, on fewer rows
        repeat = X["frequency"].to_numpy(float) > 0
        if not repeat.any():
            repeat[:] = True
        spend_X, repeat = X[repeat], np.flatnonzero(repeat)
        spend_objective = sm0.repeat_objective(spend_X) if np.all(np.isfinite(sm0.params_)) else None
        curv_s = sm0.warm_curvature(spend_X, spend_objective) if spend_objective is not None else None
        pattern_counts = np.empty((int(self.n_bootstrap), len(unique)))  # a row per draw
        for b in range(int(self.n_bootstrap)):
            # n customers drawn with replacement: their counts are multinomial(n, 1/n each)
            counts = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
            pattern_counts[b] = np.bincount(inverse, weights=counts, minlength=len(unique))
            params, method, mean = sm0.refit(spend_X, counts.take(repeat), spend_objective, curv_s)
            row: dict[str, Any] = {"draw": b, **params.add_prefix("gg_").to_dict()}
            row["gg_method"] = method
            row["gg_population_mean"] = mean
            rows.append(row)
        names = self._draw_names()
        for row, params in zip(rows, pm0.refit_draws(unique, pattern_counts.T, curv_p), strict=True):
            row.update(zip(names, params, strict=True))
        return pd.DataFrame(rows).set_index("draw")

    def _draw_names(self) -> list[str]:
        """The purchase model's values a bootstrap draw holds: its parameters (and coefficients)."""
        pm = self.purchase_model_
        return list(pm.draw_index) if isinstance(pm, CovariatePurchaseModel) else list(pm.params_.index)

    def _draw_model(self, values):
        """The purchase model at a bootstrap draw's ``values`` (:meth:`_draw_names`)."""
        pm = self.purchase_model_
        if isinstance(pm, CovariatePurchaseModel):
            return pm.with_values(values)
        return type(pm).from_params(self.model, values)

    # prediction -----------------------------------------------------------------------------
    def _discounted_purchases(self, pm: PurchaseModel, unique: pd.DataFrame, pairs=None):
        """Per unique row: expected purchases over the horizon and their discounted sum.

        The month-m purchases are E(m months) - E(m - 1 months), discounted by (1 + d)^m, as
        in lifetimes' customer_lifetime_value; here all months at once on unique rows."""
        per_month = UNITS_PER_MONTH[self.time_unit]
        h = int(self.horizon_months)
        times, weights = np.arange(0, h + 1) * per_month, discount_weights(h, self.discount_rate)
        return pm.discounted_purchases(unique, times, weights, pairs)

    def predict(self, X: pd.DataFrame) -> pd.DataFrame:
        """``expected_purchases``, ``p_alive``, ``expected_spend``, ``clv`` (+ ``clv_low``,
        ``clv_high`` with a bootstrap), indexed like ``X``."""
        if not hasattr(self, "purchase_model_"):
            raise ValueError("this CLVModel is not fitted yet: call fit first")
        check_columns(X, (*self.pattern_columns, "monetary_value"))
        unique, _, inverse = self.purchase_model_._unique(X)
        return self._predict(X, unique, inverse)

    def _predict(self, X: pd.DataFrame, unique: pd.DataFrame, inverse: np.ndarray):
        margin = 1.0 if self.margin is None else float(self.margin)
        pm = self.purchase_model_
        total, discounted = self._discounted_purchases(pm, unique)
        spend = self.spend_model_.predict(X).to_numpy()
        out = pd.DataFrame(
            {
                "expected_purchases": total[inverse],
                "p_alive": pm.p_alive_unique(unique)[inverse],
                "expected_spend": spend,
                "clv": discounted[inverse] * spend * margin,
            },
            index=X.index,
        )
        if self.bootstrap_params_ is not None:
            low, high = self._intervals(X, unique, inverse, margin)
            out["clv_low"], out["clv_high"] = low, high
        return out

    def _intervals(
        self, X: pd.DataFrame, unique: pd.DataFrame, inverse: np.ndarray, margin: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-customer CLV quantiles over the bootstrap refits.

        A draw's CLV of a customer is discounted purchases x expected spend per purchase x margin,
        and its expected spend is (1 - weight) x population mean + weight x the customer's mean
        spend, the weight a function of the frequency (:func:`gamma_gamma_shrinkage`): so per
        unique row and draw a base and a slope, and per customer base + slope x mean spend, all
        draws of a chunk of customers at once (a row each), sorted per customer."""
        names = self._draw_names()
        if self.spend_model_.method_ == "none":  # no amounts: no CLV in currency
            return np.full(len(X), np.nan), np.full(len(X), np.nan)
        draws = [row for _, row in self.bootstrap_params_.iterrows() if np.all(np.isfinite(row[names].to_numpy(float)))]
        if not draws:
            return np.full(len(X), np.nan), np.full(len(X), np.nan)
        f = unique["frequency"].to_numpy(float)
        base, slope = np.empty((len(unique), len(draws))), np.empty((len(unique), len(draws)))
        plain = self.model not in ("pareto", NBD_MODEL) and not self.covariates
        pairs = condense(unique, ["frequency", "T"]) if plain else None
        for k, row in enumerate(draws):
            pm = self._draw_model(row[names].to_numpy(float))
            value = self._discounted_purchases(pm, unique, pairs)[1] * margin
            if row["gg_method"] == "mean":
                mean, weight = row["gg_population_mean"], np.zeros(len(f))
            else:
                mean, weight = gamma_gamma_shrinkage(row[["gg_p", "gg_q", "gg_v"]].to_numpy(float), f)
            base[:, k], slope[:, k] = value * ((1 - weight) * mean), value * weight
        q = [(1 - self.interval) / 2, 1 - (1 - self.interval) / 2]
        low, high = np.empty(len(X)), np.empty(len(X))
        # without a repeat purchase a customer's CLV is the base of the row: quantiles per row
        alone = np.flatnonzero(f == 0)
        at = np.full(len(unique), -1)
        at[alone] = np.arange(len(alone))
        repeat = X["frequency"].to_numpy(float) > 0
        customers = np.flatnonzero(~repeat)
        row_low, row_high = _row_quantiles(base[alone], q)
        low[customers], high[customers] = row_low[at[inverse[customers]]], row_high[at[inverse[customers]]]
        customers = np.flatnonzero(repeat)
        m = X["monetary_value"].to_numpy(float)
        flat = np.array([row["gg_method"] == "mean" for row in draws])  # one spend for all, even without m
        chunk = max(1, 20_000_000 // (8 * len(draws)))
        for start in range(0, len(customers), chunk):
            these = customers[start : start + chunk]
            rows = inverse[these]
            values = base[rows] + slope[rows] * m[these, None]
            if flat.any():
                values[:, flat] = base[rows][:, flat]
            low[these], high[these] = _row_quantiles(values, q)
        return low, high

    def parameter_intervals(self) -> pd.DataFrame:
        """Point estimate and bootstrap interval of every parameter."""
        pm = self.purchase_model_
        coefficients = pm.coefficients_.to_dict() if isinstance(pm, CovariatePurchaseModel) else {}
        point = {**pm.params_.to_dict(), **coefficients, **self.spend_model_.params_.add_prefix("gg_").to_dict()}
        out = pd.DataFrame({"estimate": pd.Series(point)})
        if self.bootstrap_params_ is not None:
            q = [(1 - self.interval) / 2, 1 - (1 - self.interval) / 2]
            boot = self.bootstrap_params_[list(point)].astype(float)
            out["low"] = boot.quantile(q[0])
            out["high"] = boot.quantile(q[1])
        return out
