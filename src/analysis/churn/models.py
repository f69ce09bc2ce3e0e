"""The churn scorers: logistic regression (imputed and scaled in a ``Pipeline``), gradient-boosted trees
(``HistGradientBoostingClassifier``), and the baselines turned into probabilities.

Every scorer is a scikit-learn classifier on the feature frame of :mod:`analysis.churn.features` whose
``predict_proba(X)[:, 1]`` is the probability of churning (no purchase within the horizon). A baseline
ranks customers by one number (days since the last purchase; those days over the customer's own typical
gap; 1 - P(alive)); :class:`BaselineScorer` maps that number to a probability with a one-variable logistic
regression fitted on the training cut-off, which keeps its ranking (and so its ROC-AUC) unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils import check_random_state

from analysis.errors import UserError
from analysis.stage import Text

# Each scorer's name for people, by id.
MODEL_NAMES: dict[str, Text] = {
    "logistic": {"en": "Logistic regression", "zh": "逻辑回归"},
    "gradient_boosting": {"en": "Gradient-boosted trees", "zh": "梯度提升树"},
    "recency": {"en": "Baseline: days since last purchase", "zh": "基准：距上次购买天数"},
    "recency_gap": {
        "en": "Baseline: days since last purchase / own typical gap",
        "zh": "基准：距上次购买天数 / 自身平均间隔",
    },
    "p_alive": {"en": "Baseline: 1 - P(alive)", "zh": "基准：1 - 仍活跃概率"},
}
MODELS = ("logistic", "gradient_boosting")
BASELINES = ("recency", "recency_gap", "p_alive")
CLIP_SD = 5.0


class BaselineScorer(ClassifierMixin, BaseEstimator):
    """A one-number rule as a classifier: ``feature`` (a column of X) transformed by ``transform``
    (``"log1p"``: log(1 + x); ``"logit_complement"``: logit(1 - x), for P(alive)), missing values set to
    the training median, then a one-variable logistic regression. Learned: ``median_``, ``model_``."""

    def __init__(self, feature: str = "recency_days", transform: str = "log1p"):
        self.feature = feature
        self.transform = transform

    def _signal(self, X: pd.DataFrame) -> np.ndarray:
        if self.feature not in X:
            raise ValueError(f"the feature frame has no {self.feature!r} column")
        x = X[self.feature].to_numpy(float)
        if self.transform == "log1p":
            return np.log1p(np.maximum(x, 0))
        if self.transform == "logit_complement":
            q = np.clip(1.0 - x, 1e-6, 1 - 1e-6)
            return np.log(q / (1 - q))
        raise ValueError(f"unknown baseline transform {self.transform!r}")

    def score_raw(self, X: pd.DataFrame) -> np.ndarray:
        """The rule's own number, transformed (higher = more at risk); NaN where it is missing."""
        return self._signal(X)

    def fit(self, X: pd.DataFrame, y, sample_weight=None):
        s = self._signal(X)
        finite = np.isfinite(s)
        self.median_ = float(np.median(s[finite])) if finite.any() else 0.0
        s = np.where(finite, s, self.median_)
        self.model_ = LogisticRegression().fit(s[:, None], np.asarray(y), sample_weight=sample_weight)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        s = self._signal(X)
        s = np.where(np.isfinite(s), s, self.median_)
        return self.model_.predict_proba(s[:, None])


def baseline(name: str) -> BaselineScorer:
    """The baseline scorer called ``name`` (recency, recency_gap, p_alive)."""
    spec = {
        "recency": ("recency_days", "log1p"),
        "recency_gap": ("recency_gap_ratio", "log1p"),
        "p_alive": ("p_alive", "logit_complement"),
    }
    if name not in spec:
        raise UserError(f"unknown churn baseline {name!r}: use {', '.join(spec)}")
    return BaselineScorer(*spec[name])


def signed_log1p(x: np.ndarray) -> np.ndarray:
    """sign(x) log(1 + |x|): tames heavy tails (spend, days) before scaling."""
    out = np.abs(np.asarray(x, dtype=float))
    np.log1p(out, out=out)
    return np.copysign(out, x, out=out)


def clip_scaled(x: np.ndarray, limit: float = CLIP_SD) -> np.ndarray:
    """Standardised features clipped to +-``limit`` standard deviations, so a customer far outside what
    the training cut-off showed (e.g. a tenure no one had then) does not get an extreme probability."""
    return np.clip(x, -limit, limit)


def make_model(name: str, cfg: dict[str, Any], seed: int) -> Any:
    """An unfitted model: ``logistic`` (median imputation with missing-value indicators, signed log,
    standard scaling clipped to +-5 SD, L2 logistic regression) or ``gradient_boosting``."""
    if name == "logistic":
        c = float(cfg["logistic"]["C"])
        return Pipeline(
            [
                ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
                ("log", FunctionTransformer(signed_log1p)),
                ("scale", StandardScaler()),
                ("clip", FunctionTransformer(clip_scaled)),
                ("model", LogisticRegression(C=c, max_iter=1000)),
            ]
        )
    if name == "gradient_boosting":
        g = cfg["gradient_boosting"]
        return HistGradientBoostingClassifier(
            max_iter=int(g["max_iter"]),
            learning_rate=float(g["learning_rate"]),
            max_leaf_nodes=int(g["max_leaf_nodes"]),
            random_state=seed,
        )
    if name in BASELINES:
        return baseline(name)
    raise UserError(f"unknown churn model {name!r}: use {', '.join(MODELS)}")


def training_sample(y: pd.Series, max_rows: int, seed: int) -> np.ndarray:
    """Positions of a stratified, seeded sample of at most ``max_rows`` customers (all when fewer)."""
    n = len(y)
    if n <= max_rows:
        return np.arange(n)
    rng = check_random_state(seed)
    values = np.asarray(y)
    picked = []
    for cls in np.unique(values):
        where = np.flatnonzero(values == cls)
        k = int(round(max_rows * len(where) / n))
        picked.append(rng.choice(where, size=k, replace=False))
    return np.sort(np.concatenate(picked))


NO_P_ALIVE = {
    "en": "P(alive) is not available: the BG/NBD model could not be fitted at the training cut-off (see warnings)",
    "zh": "仍活跃概率不可用：BG/NBD 模型无法在训练截止日上拟合（见技术警示）",
}


def fit_scorers(
    X: pd.DataFrame, y: pd.Series, names, cfg: dict[str, Any], seed: int
) -> tuple[dict[str, Any], dict[str, Text]]:
    """Fit each scorer in ``names`` on (``X``, ``y``); a scorer that fails is reported (why, ``{en, zh}``: the
    fit's own error quoted), not raised."""
    rows = training_sample(y, int(cfg["max_train_customers"]), seed)
    Xs, ys = X.iloc[rows], np.asarray(y)[rows]
    fitted, errors = {}, {}
    for name in names:
        if name == "p_alive" and ("p_alive" not in X or X["p_alive"].isna().all()):
            errors[name] = dict(NO_P_ALIVE)
            continue
        try:
            fitted[name] = make_model(name, cfg, seed).fit(Xs, ys)
        except (ValueError, np.linalg.LinAlgError) as exc:
            said = f"{type(exc).__name__}: {exc}"
            errors[name] = {"en": said, "zh": f"拟合出错（“{said}”）"}
    return fitted, errors


def churn_probability(model: Any, X: pd.DataFrame, columns, chunk: int = 20_000) -> np.ndarray:
    """P(churn) for the rows of ``X``, with its columns aligned to the training ``columns`` (indicator
    columns missing at this cut-off are 0). Scored ``chunk`` customers at a time: every scorer scores each
    customer on their own, and a million customers' aligned, imputed and scaled copies need not all be held
    at once."""
    columns = list(columns)
    parts = [
        model.predict_proba(X.iloc[start : start + chunk].reindex(columns=columns, fill_value=0.0))[:, 1]
        for start in range(0, len(X), chunk)
    ]
    return np.concatenate(parts) if parts else np.zeros(0)
