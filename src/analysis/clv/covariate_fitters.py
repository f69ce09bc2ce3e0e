"""Static covariates in the lifetimes-style fitters (issue 20): ``ParetoNBDFitter().fit(frequency, recency, T,
covariates_trans=df, covariates_life=df)`` (and :class:`BetaGeoFitter`, :class:`ModifiedBetaGeoFitter`), with
the predictions taking each customer's covariates. The fit is :class:`~analysis.clv.covariates.
CovariatePurchaseModel` (CLVTools' parameterisation, see :mod:`analysis.clv.covariates`); this module is the
part of the fitters that reads the covariates (:class:`CovariateFitting`, a base of
:class:`~analysis.clv.lifetimes_api.PurchaseFitter`).

``covariates_trans`` / ``covariates_life``: a DataFrame (one row per customer, in the order of ``frequency``;
or a Series, one covariate) of the purchase and the dropout process; text columns become indicators against
their most frequent level (``<column>=<level>``), numbers enter as they are. Keywords ``constrain`` (columns
with one coefficient in both processes) and ``penalty`` (CLVTools' L2 penalty on the coefficients) go with them.
After the fit: ``params_`` (r, alpha, s, beta / a, b at covariates 0), ``coefficients_`` (``trans.<column>``,
``life.<column>``), ``standard_errors_`` (both), ``lr_test_`` (statistic, df, p_value against the same model
without covariates), ``references_`` (each text column's reference level), ``covariate_model_``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.clv.covariate_design import design_matrix
from analysis.clv.covariates import CovariatePurchaseModel

COVARIATE_KEYWORDS = ("covariates_trans", "covariates_life", "constrain", "penalty")


def as_frame(values, n: int, what: str) -> pd.DataFrame:
    """Covariates as a DataFrame of ``n`` rows (a Series is one column), index reset to the customers' order."""
    if values is None:
        return pd.DataFrame(index=pd.RangeIndex(n))
    frame = values.to_frame() if isinstance(values, pd.Series) else pd.DataFrame(values)
    if len(frame) != n:
        raise ValueError(f"{what} has {len(frame)} rows for {n} customers: one row per customer, in their order")
    return frame.reset_index(drop=True)


class CovariateFitting:
    """The covariate part of a lifetimes-style purchase fitter (``model``, ``penalizer_coef``, ``_prepare``,
    ``_fitted`` come from :class:`~analysis.clv.lifetimes_api.PurchaseFitter`)."""

    covariate_model_: CovariatePurchaseModel | None = None

    def fit_covariates(self, frequency, recency, T, weights=None, index=None, **covariates: Any):
        """Fit with static covariates (the keywords of :data:`COVARIATE_KEYWORDS`); see the module's docstring.
        A degenerate fit (perfect separation, a shape at its bound, effects that cannot be told apart) raises
        :class:`~analysis.clv.optimize.DegenerateFit`, its reason in both languages."""
        f, r, T, w = self._prepare(frequency, recency, T, weights, index)
        n = len(f)
        trans = as_frame(covariates.get("covariates_trans"), n, "covariates_trans")
        life = as_frame(covariates.get("covariates_life"), n, "covariates_life")
        attributes = pd.concat([trans, life.drop(columns=[c for c in life if c in trans])], axis=1)
        constrain, penalty = list(covariates.get("constrain") or []), float(covariates.get("penalty") or 0.0)
        settings = {"trans": list(trans.columns), "life": list(life.columns), "max_levels": 10**9,
                    "constrain": constrain, "penalty": penalty}  # fmt: skip
        design = design_matrix(attributes, settings)
        X = pd.concat([pd.DataFrame({"frequency": f, "recency": r, "T": T}), design.frame], axis=1)
        pm = CovariatePurchaseModel(self.model, design.trans, design.life, design.constrain, design.penalty,
                                    self.penalizer_coef)  # fmt: skip
        pm.fit(X, sample_weight=w)
        self.covariate_model_, self.references_ = pm, dict(design.references)
        self._fitted(pm.params_.to_numpy(float))
        self.coefficients_ = pm.coefficients_.copy()
        self.standard_errors_ = pm.std_errors_.copy()
        self.lr_test_ = dict(pm.lr_test_)
        self._negative_log_likelihood_ = -pm.log_likelihood_ / float(np.sum(w))
        return self

    def covariate_rows(self, frequency, recency, T, covariates_trans=None, covariates_life=None) -> pd.DataFrame:
        """The summary and the covariates' indicator columns of the customers to predict for (the levels and
        references of the fit; a level the fit never saw counts as the reference)."""
        f, r, T = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, float)) for v in (frequency, recency, T)))
        n = len(f)
        if covariates_trans is None and covariates_life is None:
            raise ValueError("this fitter was fitted with covariates: pass covariates_trans / covariates_life")
        trans, life = as_frame(covariates_trans, n, "covariates_trans"), as_frame(covariates_life, n, "covariates_life")
        attributes = pd.concat([trans, life.drop(columns=[c for c in life if c in trans])], axis=1)
        out = pd.DataFrame({"frequency": f, "recency": r, "T": T})
        for column in self.covariate_model_.pattern_columns[3:]:
            name, _, level = column.partition("=")
            if name not in attributes:
                raise ValueError(f"covariate {name!r} of the fit is missing from the covariates given")
            values = attributes[name]
            out[column] = (values.astype(str) == level).astype(float) if level else values.astype(float)
        return out

    def covariate_expected(self, t, frequency, recency, T, **covariates) -> pd.Series | np.ndarray:
        """E[repeat purchases in (T, T + t]] of each customer with their covariates."""
        rows = self.covariate_rows(frequency, recency, T, **covariates)
        return self.covariate_model_.expected_purchases(rows, float(t)).to_numpy(float)

    def covariate_alive(self, frequency, recency, T, **covariates) -> np.ndarray:
        """P(alive at T) of each customer with their covariates."""
        rows = self.covariate_rows(frequency, recency, T, **covariates)
        return self.covariate_model_.p_alive(rows).to_numpy(float)


def covariates_given(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The covariate keywords taken out of a fit's ``kwargs`` (the rest are scipy's options); empty when no
    covariate is given."""
    given = {k: kwargs.pop(k) for k in COVARIATE_KEYWORDS if k in kwargs}
    if given.get("covariates_trans") is None and given.get("covariates_life") is None:
        return {}
    return given
