"""The covariates of the customers as the purchase models read them (issue 20): the design matrix from the customer
attributes (:func:`design_matrix`: indicator columns against the most frequent level, numeric columns as they
are), the settings' checks (one ``error:`` line each), and what a fit with covariates tells a manager: the effects
as ratios (:func:`ratios`) and the likelihood-ratio test (:func:`lr_test`). The models are in
:mod:`analysis.clv.covariates`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import chi2

from analysis.errors import UserError

SETTING = "clv.covariates"
PROCESSES = ("trans", "life")


@dataclass
class Design:
    """The covariates of each customer as the models read them: ``frame`` (one column per coefficient,
    ``<column>=<level>`` for an indicator, ``<column>`` for a numeric column, indexed like the attributes), which
    of its columns enter the purchase process (``trans``) and the dropout process (``life``), the ``constrain``ed
    ones (the same coefficient in both) and each categorical column's reference level (``references``)."""

    frame: pd.DataFrame
    trans: list[str]
    life: list[str]
    constrain: list[str] = field(default_factory=list)
    references: dict[str, str] = field(default_factory=dict)
    penalty: float = 0.0

    @property
    def columns(self) -> list[str]:
        return list(dict.fromkeys([*self.trans, *self.life]))

    def keys(self) -> list[str]:
        """The coefficients' names in the record: ``trans.<column>``, then ``life.<column>``."""
        return [f"trans.{c}" for c in self.trans] + [f"life.{c}" for c in self.life]

    def constraint_matrix(self) -> np.ndarray:
        """(trans + life) x free coefficients: the full coefficient vectors from the free ones; a constrained
        column's trans and life coefficients are one free coefficient."""
        keys, free = self.keys(), []
        for key in keys:
            column = key.split(".", 1)[1]
            name = f"constr.{column}" if column in self.constrain else key
            if name not in free:
                free.append(name)
        out = np.zeros((len(keys), len(free)))
        for i, key in enumerate(keys):
            column = key.split(".", 1)[1]
            out[i, free.index(f"constr.{column}" if column in self.constrain else key)] = 1.0
        return out


def is_categorical(values: pd.Series) -> bool:
    """Whether a column enters as indicators (text, categories, yes/no) rather than as a number."""
    return not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)


def check_covariate(name: str, values: pd.Series, max_levels: int) -> None:
    """One ``error:`` line for a covariate that cannot enter a model: missing for some customers, the same for
    all, or a text column with more levels than ``max_levels``."""
    missing = int(values.isna().sum())
    if missing:
        raise UserError(
            f"covariate {name!r} ({SETTING}) is missing for {missing:,} of {len(values):,} customers: fill it in "
            f"the customer file or leave {name!r} out of {SETTING}"
        )
    levels = values.astype(str).nunique() if is_categorical(values) else values.nunique()
    if levels < 2:
        raise UserError(
            f"covariate {name!r} ({SETTING}) has the same value ({values.iloc[0]!r}) for every customer: it cannot "
            f"explain a difference between customers; leave it out of {SETTING}"
        )
    if is_categorical(values) and levels > max_levels:
        raise UserError(
            f"covariate {name!r} ({SETTING}) has {levels:,} levels, more than {SETTING}.max_levels ({max_levels}): "
            f"group the rare levels into a few (e.g. 'other') in the customer file, or raise {SETTING}.max_levels"
        )


def indicator_columns(name: str, values: pd.Series) -> tuple[pd.DataFrame, str]:
    """A categorical column as indicator columns ``<name>=<level>`` (0 / 1), one per level but the reference, the
    most frequent level (ties: the first in sorted order), which is returned too."""
    text = values.astype(str)
    counts = text.value_counts()
    top = counts[counts == counts.max()].index
    reference = sorted(top)[0]
    levels = [level for level in sorted(counts.index) if level != reference]
    frame = pd.DataFrame({f"{name}={level}": (text == level).astype(float) for level in levels}, index=values.index)
    return frame, reference


def design_matrix(attributes: pd.DataFrame, settings: dict) -> Design | None:
    """The :class:`Design` of ``settings`` (``clv.covariates``: ``trans``, ``life``, ``constrain``, ``max_levels``)
    on the customer ``attributes`` (one row per customer, the rows the models are fitted on); None when no
    covariate is named (the models without covariates, unchanged). Every check before any work, each one
    ``error:`` line: a name that is no column, missing values, a constant, too many levels, a constrained name not
    in both processes."""
    trans, life = list(settings["trans"] or []), list(settings["life"] or [])
    constrain = list(settings["constrain"] or [])
    if not float(settings["penalty"]) >= 0:
        raise UserError(f"{SETTING}.penalty must be 0 or more, got {settings['penalty']!r}")
    if not trans and not life:
        if constrain:
            raise UserError(f"{SETTING}.constrain names {', '.join(constrain)}, but no covariate is named")
        return None
    known = [str(c) for c in attributes.columns]
    for name in dict.fromkeys([*trans, *life, *constrain]):
        if name not in attributes.columns:
            raise UserError(
                f"covariate {name!r} ({SETTING}) is not a column of the customer attributes: they have "
                f"{', '.join(known) or 'none'}"
            )
    for name in constrain:
        if name not in trans or name not in life:
            raise UserError(f"covariate {name!r} is in {SETTING}.constrain, so it must be in both trans and life")
    parts, references, columns = [], {}, {}
    for name in dict.fromkeys([*trans, *life]):
        values = attributes[name]
        check_covariate(name, values, int(settings["max_levels"]))
        if is_categorical(values):
            frame, references[name] = indicator_columns(name, values)
        else:
            frame = pd.DataFrame({name: values.astype(float)}, index=attributes.index)
        parts.append(frame)
        columns[name] = list(frame.columns)
    frame = pd.concat(parts, axis=1)
    return Design(
        frame,
        [c for n in trans for c in columns[n]],
        [c for n in life for c in columns[n]],
        [c for n in constrain for c in columns[n]],
        references,
        float(settings["penalty"]),
    )


def ratios(coefficients: pd.Series, std_errors: pd.Series, model: str, z: float = 1.96) -> pd.DataFrame:
    """Each coefficient as the ratio a manager reads, with its range from the standard error (coefficient +- z
    standard errors, 95 % for 1.96): ``trans.<c>``: exp(gamma), how many times as often these customers buy
    (the purchase rate's mean r / alpha_i, alpha_i = alpha exp(-gamma x)); ``life.<c>``: Pareto/NBD exp(-gamma),
    how many times as long they stay (the mean lifetime beta_i / (s - 1), beta_i = beta exp(-gamma x): in
    CLVTools' form a positive gamma_life is a higher dropout rate, a shorter life); BG/NBD, MBG/NBD exp(gamma),
    the factor on a and b (the odds' spread; the mean dropout probability a / (a + b) is unchanged, so "as long"
    is not claimed there). Columns ``process``, ``column``, ``coefficient`` (CLVTools' gamma, as fitted),
    ``std_error``, ``ratio``, ``low``, ``high``, ``z``, ``p_value``."""
    rows = []
    for key, gamma in coefficients.items():
        process, column = key.split(".", 1)
        se = float(std_errors.get(key, math.nan))
        sign = -1.0 if process == "life" and model == "pareto" else 1.0  # the mean lifetime falls with gamma
        rows.append(
            {
                "key": key,
                "process": process,
                "column": column,
                "coefficient": float(gamma),
                "std_error": se,
                "ratio": math.exp(sign * gamma),
                "low": math.exp(sign * gamma - z * se),
                "high": math.exp(sign * gamma + z * se),
                "z": gamma / se if se > 0 else math.nan,
                "p_value": float(chi2.sf((gamma / se) ** 2, 1)) if se > 0 else math.nan,  # two-sided, normal
                "model": model,
            }
        )
    return pd.DataFrame(rows).set_index("key")


def lr_test(log_likelihood: float, baseline_log_likelihood: float, df: int) -> dict[str, float]:
    """The likelihood-ratio test of the model with covariates against the same model without: statistic 2 (ll -
    ll0), ``df`` (the free coefficients), p-value from the chi-square (exact only without a penalty)."""
    statistic = 2.0 * (float(log_likelihood) - float(baseline_log_likelihood))
    p_value = float(chi2.sf(max(statistic, 0.0), df)) if np.isfinite(statistic) and df > 0 else math.nan
    return {"statistic": statistic, "df": int(df), "p_value": p_value}
