"""Early warning: risk bands, value at risk, the list a retention team calls first, and how the risk bands
agree with the lifecycle stages of the segments page.

- Risk bands (``churn.bands``): by probability (``churn_risk >= high`` is high, ``>= medium`` medium) or by
  top share (the riskiest ``high`` share of buyers is high, the riskiest ``medium`` share (cumulative)
  medium). Customers without a purchase get the band "no purchase yet" and no risk.
- Value at risk = churn probability x CLV (the CLV stage's 12-month value) or, where CLV is missing,
  x the spend of the last 365 days up to the as-of date.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.extensions import ExtensionArray

from analysis.errors import UserError
from analysis.stage import Text
from analysis.tables import text_column

BAND_ORDER = ("high", "medium", "low", "no_purchase")


def band_codes(risk: np.ndarray, cfg: dict[str, Any]) -> np.ndarray:
    """Band per customer as a position in :data:`BAND_ORDER` (high, medium, low; no_purchase where ``risk``
    is NaN); ``cfg``: ``churn.bands``."""
    method, high, medium = cfg["method"], float(cfg["high"]), float(cfg["medium"])
    p = np.asarray(risk, float)
    has = np.isfinite(p)
    if method == "probability":
        if not 0 <= medium <= high <= 1:
            raise UserError("churn.bands with method probability need 0 <= medium <= high <= 1")
        code = np.where(p >= high, 0, np.where(p >= medium, 1, 2))
    elif method == "top_share":
        if not 0 <= high <= medium <= 1:
            raise UserError("churn.bands with method top_share need 0 <= high <= medium <= 1 (shares of buyers)")
        rank = pd.Series(p).where(has).rank(ascending=False, method="first").to_numpy()
        n = max(int(has.sum()), 1)
        code = np.where(rank <= round(high * n), 0, np.where(rank <= round(medium * n), 1, 2))
    else:
        raise UserError(f"unknown churn.bands.method {method!r}: use probability or top_share")
    return np.where(has, code, 3).astype(np.int8)


def risk_bands(risk: pd.Series, cfg: dict[str, Any]) -> pd.Series:
    """Band key per customer (high, medium, low; no_purchase where ``risk`` is NaN)."""
    return pd.Series(text_column(BAND_ORDER, band_codes(risk.to_numpy(float), cfg)), index=risk.index)


def band_names(cfg: dict[str, Any]) -> list[Text]:
    """The name of each band of :data:`BAND_ORDER` (``churn.bands.labels``: [English, 中文] per key)."""
    labels = cfg["labels"]
    missing = [k for k in BAND_ORDER if not labels.get(k) or len(labels[k]) != 2]
    if missing:
        raise UserError(f"churn.bands.labels needs [English, 中文] for {', '.join(missing)}")
    return [{"en": str(labels[k][0]), "zh": str(labels[k][1])} for k in BAND_ORDER]


def band_texts(codes: np.ndarray, cfg: dict[str, Any]) -> tuple[ExtensionArray, ExtensionArray]:
    """English and Chinese labels per customer of the band ``codes`` (:func:`band_codes`)."""
    names = band_names(cfg)
    return text_column([n["en"] for n in names], codes), text_column([n["zh"] for n in names], codes)


def yearly_spend(daily, as_of: Any) -> np.ndarray:
    """Each customer's spend in the 365 days up to ``as_of``, per customer of ``daily`` (its ``ids``)."""
    from analysis.churn.features import to_day

    end = to_day(as_of)
    keep = (daily.day <= end) & (daily.day > end - 365)
    return np.bincount(daily.customer[keep], weights=daily.spend[keep], minlength=daily.n_customers)


def value_at_risk(risk: pd.Series, clv: pd.Series | None, spend: pd.Series) -> tuple[pd.Series, pd.Series]:
    """churn risk x CLV, or x past yearly spend where CLV is missing; and which value was used."""
    base = spend.reindex(risk.index).fillna(0.0)
    source = pd.Series("yearly spend", index=risk.index)
    if clv is not None:
        c = clv.reindex(risk.index)
        use = c.notna()
        base = base.where(~use, c)
        source = source.where(~use, "clv")
    return risk * base, source


# What the segments page says of a customer, shown beside their risk when it ran.
CONTEXT_COLUMNS = (
    "tier",
    "tier_zh",
    "lifecycle_stage",
    "lifecycle_stage_zh",
    "recommended_action",
    "recommended_action_zh",
)


def warning_list(table: pd.DataFrame, size: int = 30) -> pd.DataFrame:
    """The high-risk customers ranked by value at risk, with their name (when the input has one), reasons and
    (when present) tier, lifecycle stage and the playbook's recommended action."""
    cols = ["customer_id", "customer_name", "churn_risk", "value_at_risk", "churn_reasons", "churn_reasons_zh",
            *CONTEXT_COLUMNS]  # fmt: skip
    rows = np.flatnonzero((table["risk_band_key"] == "high").to_numpy())
    value = table["value_at_risk"].to_numpy(float)[rows]
    by = "value_at_risk" if (~np.isnan(value)).any() else "churn_risk"  # no amounts: by risk
    value = table[by].to_numpy(float)[rows]
    known = value[~np.isnan(value)]
    if len(known) > size:  # only the candidates (ties at the cut included) are taken and sorted, not everyone
        rows = rows[value >= np.partition(known, len(known) - size)[len(known) - size]]
    ranked = _rows(table, rows).sort_values([by, "customer_id"], ascending=[False, True])
    return ranked[[c for c in cols if c in ranked]].head(size).reset_index(drop=True)


def _rows(table: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """``table.iloc[rows]`` (``rows``: increasing positions), taken chunk by chunk from the columns held in
    Arrow chunks (texts read from Parquet, the reasons): pandas joins all of a column's chunks before it takes
    rows from it, a copy of ten million customers' texts for a list of 30."""
    out = {}
    for name, values in table.items():
        array = values.array
        chunks = array.__arrow_array__() if isinstance(array, pd.arrays.ArrowExtensionArray) else None
        if chunks is None or chunks.num_chunks < 2:
            out[name] = array.take(rows)
            continue
        ends = np.cumsum([len(chunk) for chunk in chunks.chunks])
        which = np.searchsorted(ends, rows, side="right")  # the chunk of each row
        parts = [chunks.chunk(i).take(pa.array(rows[which == i] - (ends[i] - len(chunks.chunk(i)))))
                 for i in np.unique(which)]  # fmt: skip
        out[name] = pd.array(pa.chunked_array(parts, chunks.type), dtype=values.dtype)
    return pd.DataFrame(out, index=table.index[rows])


def list_coverage(table: pd.DataFrame, size: int) -> dict[str, float]:
    """How much value at risk the first ``size`` high-risk customers, and all high-risk customers, hold."""
    total = float(table["value_at_risk"].sum())
    high = table.loc[table["risk_band_key"] == "high", "value_at_risk"].sort_values(ascending=False)
    top = float(high.head(size).sum())
    return {
        "list_size": int(min(size, len(high))),
        "list_value_at_risk": top,
        "high_risk_customers": int(len(high)),
        "high_value_at_risk": float(high.sum()),
        "total_value_at_risk": total,
        "list_share_of_total": top / total if total > 0 else float("nan"),
        "high_share_of_total": float(high.sum()) / total if total > 0 else float("nan"),
    }


# The lifecycle stage x risk band combinations where the two signals disagree (analysis.churn.describe says what
# each means).
DISAGREEMENTS = (("churned", "low"), ("dormant", "low"), ("active", "high"), ("new", "high"))


def lifecycle_crosstab(
    stage: pd.Series, band: pd.Series, order: list[str] | None = None
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Customers by lifecycle stage (rows, in ``order`` when given, others after it) x risk band (columns), and
    the disagreements that occur."""
    table = pd.crosstab(stage.rename("lifecycle_stage"), band.rename("risk_band"))
    rows = [s for s in (order or []) if s in table.index]
    table = table.reindex(index=rows + sorted(s for s in table.index if s not in rows),
                          columns=[b for b in BAND_ORDER if b in table.columns])  # fmt: skip
    found = []
    for s, b in DISAGREEMENTS:
        n = int(table.loc[s, b]) if s in table.index and b in table.columns else 0
        if n:
            found.append({"lifecycle_stage": s, "risk_band": b, "customers": n})
    return table, found
