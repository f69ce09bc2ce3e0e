"""The feature matrix the clusters are found in, and the scikit-learn ``Pipeline`` that scales it.

Features, one row per buyer, in their original units (``FEATURES``):

- ``recency_days``, ``frequency`` (orders), ``monetary`` (total spend), ``tenure_days``, ``avg_order_value``:
  from the customer table (:func:`analysis.data.customer_features`).
- ``regularity``: the spread of the gaps between a customer's purchase days relative to their mean (standard
  deviation / mean, the coefficient of variation; 0 = clockwork). It needs at least two gaps, so three purchase
  days; it comes from the transactions (:func:`regularity`) or a ``regularity`` column already in the table.
- ``return_share``: returned value / (returned value + kept spend), when returns exist (the returned lines the
  data spine netted away, ``prepared.returns``: :func:`return_share`), or a ``return_share`` column in the table.

Customers with fewer than three purchase days have no regularity. This is not filled silently: they get the
median regularity of the customers who have one, so that feature is neutral for them (neither regular nor
irregular) and their frequency, recency and tenure place them; ``cadence`` in the frame says who has a real one,
and the report counts them. With ``single_purchase: separate`` one-time buyers are kept out of the clustering.
Customers without a purchase (prospects from a customer list) are never clustered (see :func:`buyers`).

Scaling (:func:`scaling_pipeline`): log1p (or Box-Cox on value + 1), robust scaling (median 0, robust standard
deviation 1: :class:`RobustScale`) and a cap at +/- ``clip`` robust units, so a handful of extreme customers
(wholesalers) join the nearest group instead of forming one by accident; :func:`extremes` counts who was capped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, PowerTransformer

from analysis.errors import UserError
from analysis.stage import Text, text

BASE = ("recency_days", "frequency", "monetary", "tenure_days", "avg_order_value")
MONEY = ("monetary", "avg_order_value")  # left out when the input has no amounts
OPTIONAL = ("regularity", "return_share")
FEATURES = BASE + OPTIONAL
UNITS: dict[str, Text] = {  # each feature's name for people
    "recency_days": text("days since the last purchase", "距上次购买天数"),
    "frequency": text("orders", "订单数"),
    "purchase_days": text("purchase days", "购买天数"),
    "monetary": text("total spend", "累计消费"),
    "tenure_days": text("days since the first purchase", "距首次购买天数"),
    "avg_order_value": text("average order value", "平均订单金额"),
    "regularity": text("irregularity of purchase gaps (0 = clockwork)", "购买间隔不规律度（0 = 非常规律）"),
    "return_share": text("share of value returned", "退货金额占比"),
}


def regularity(transactions: pd.DataFrame, as_of: object = None) -> pd.Series:
    """Coefficient of variation of the gaps (in days) between each customer's distinct purchase days, indexed
    by ``customer_id``; NaN for customers with fewer than three purchase days (fewer than two gaps). Only
    purchases on or before ``as_of`` count (all when ``None``)."""
    tx = _until(transactions, as_of)
    if len(tx) == 0:
        return pd.Series([], index=pd.Index([], name="customer_id", dtype=object), name="regularity", dtype=float)
    codes, ids = pd.factorize(tx["customer_id"].astype(str))
    cv, gaps = _gap_spread(codes, tx["timestamp"], len(ids))
    stats = pd.Series(cv[gaps > 0], index=pd.Index(ids[np.flatnonzero(gaps > 0)], name="customer_id"))
    return stats.sort_index().rename("regularity")


def _until(transactions: pd.DataFrame, as_of: object) -> pd.DataFrame:
    """The purchases on or before ``as_of`` (all when ``None`` or not a time)."""
    if as_of is None or pd.isna(as_of):
        return transactions
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")
    return transactions[transactions["timestamp"] <= end]


def _gap_spread(codes: np.ndarray, timestamps: pd.Series, customers: int) -> tuple[np.ndarray, np.ndarray]:
    """Per customer code (0..``customers`` - 1; the purchases' ``codes``): the coefficient of variation of the
    gaps between distinct purchase days (NaN under two gaps), and the number of gaps."""
    cv, size = np.full(customers, np.nan), np.zeros(customers, dtype=np.int64)
    day = timestamps.to_numpy("datetime64[ns]").astype("datetime64[D]").astype(np.int64)
    if len(day) == 0:
        return cv, size
    # distinct (customer, day) pairs as one integer each, sorted by customer and day: no sort of text
    span = int(day.max() - day.min()) + 1
    pairs = np.sort(codes.astype(np.int64) * span + (day - day.min()))
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]]  # (np.unique is many times slower on millions of keys)
    customer, day = pairs // span, pairs % span
    later = np.flatnonzero(customer[1:] == customer[:-1]) + 1  # every purchase day after a customer's first
    gaps = pd.Series((day[later] - day[later - 1]).astype(float))
    stats = gaps.groupby(customer[later]).agg(["mean", "std", "size"])
    # population standard deviation of the gaps (ddof=0) over their mean
    sd = stats["std"] * np.sqrt((stats["size"] - 1) / stats["size"])
    where = stats.index.to_numpy()
    cv[where] = (sd / stats["mean"]).where(stats["size"] >= 2).to_numpy()
    size[where] = stats["size"].to_numpy()
    return cv, size


def _customer_codes(customers: pd.Series, transactions: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer codes of the customer table's ids and of the purchases' ids, one code per id (one hash of both
    columns as text, with Arrow), and the number of codes."""
    text = [pa.array(_as_text(ids).array, from_pandas=True) for ids in (customers, transactions)]
    chunks = [
        chunk.cast(pa.large_string()) for t in text for chunk in (t.chunks if isinstance(t, pa.ChunkedArray) else [t])
    ]
    encoded = pc.dictionary_encode(pa.chunked_array(chunks, type=pa.large_string())).combine_chunks()
    count = len(encoded.dictionary)
    codes = pc.fill_null(encoded.indices, count).to_numpy(zero_copy_only=False)
    return codes[: len(customers)], codes[len(customers) :], count + 1


def _as_text(ids: pd.Series) -> pd.Series:
    """Ids as text (``str`` of each value), as the data spine writes them."""
    return ids if isinstance(ids.dtype, pd.StringDtype) else ids.astype(str)


def _ids(values: pd.Series) -> np.ndarray:
    """Customer ids as the data spine writes them: stripped text, ``17850.0`` read as ``17850``."""
    text = values.astype(str).str.strip()
    return text.str.replace(r"^(\d+)\.0+$", r"\1", regex=True).to_numpy()


def return_share(returns: pd.DataFrame | None, customers: pd.DataFrame) -> pd.Series | None:
    """Returned value / (returned value + kept spend) per customer of ``customers`` (by ``customer_id``), from the
    returned lines the data spine netted against earlier purchases (``prepared.returns``: ``customer_id``,
    ``timestamp``, ``amount`` > 0); ``None`` when there are no returns. A return's id is read as the customer
    table writes it (``17850.0`` is ``17850``)."""
    if returns is None or not len(returns):
        return None
    amount = returns["amount"].astype(float).abs().fillna(0.0)
    returned = amount.groupby(_ids(returns["customer_id"])).sum()
    ids = customers["customer_id"].astype(str)
    back = returned.reindex(ids).fillna(0.0).to_numpy()
    spend = customers["monetary"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(back + spend > 0, back / (back + spend), 0.0)
    return pd.Series(share, index=ids.to_numpy(), name="return_share")


def buyers(customers: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the customers with at least one purchase (the ones that are clustered)."""
    return customers["frequency"].fillna(0).to_numpy() > 0


def feature_frame(
    customers: pd.DataFrame,
    transactions: pd.DataFrame | None = None,
    returns: pd.DataFrame | None = None,
    as_of: object = None,
) -> pd.DataFrame:
    """The features of every customer in original units (columns ``FEATURES`` that exist, plus
    ``purchase_days`` and ``cadence``), in the order of ``customers``.

    ``regularity`` is taken from a column of that name, else computed from ``transactions`` (purchases up to
    ``as_of``), else left out; it is NaN for customers with fewer than three purchase days (``cadence`` False).
    ``return_share`` from a column, else from ``returns`` (the returned lines: :func:`return_share`), else left
    out.
    """
    missing = [c for c in BASE if c not in customers]
    if missing:
        raise UserError(f"the customer table lacks {', '.join(missing)}: build it with analysis.data.prepare")
    c = customers.reset_index(drop=True)
    out = c[list(BASE)].astype(float)
    if out.loc[buyers(c), "monetary"].isna().all():  # an event log without amounts: no money features
        out = out.drop(columns=list(MONEY))
    out["purchase_days"] = c["purchase_days"].astype(float) if "purchase_days" in c else c["frequency"].astype(float)
    if "regularity" in c:
        out["regularity"] = c["regularity"].astype(float).to_numpy()
    elif transactions is not None:
        tx = _until(transactions, as_of)
        own, bought, count = _customer_codes(c["customer_id"], tx["customer_id"])
        out["regularity"] = _gap_spread(bought, tx["timestamp"], count)[0][own]
    if "monetary" not in out:
        pass  # no amounts, so no share of spend returned
    elif "return_share" in c:
        out["return_share"] = c["return_share"].astype(float).fillna(0.0).to_numpy()
    else:
        share = return_share(returns, c)
        if share is not None:
            out["return_share"] = share.to_numpy()
    out["cadence"] = out["regularity"].notna() if "regularity" in out else out["purchase_days"] >= 3
    return out


def model_matrix(frame: pd.DataFrame) -> tuple[pd.DataFrame, float | None]:
    """The columns the algorithm sees, with the documented treatment of customers without a cadence: their
    regularity is the median of the customers with one (neutral). Returns the matrix and that median."""
    cols = [c for c in FEATURES if c in frame]
    x = frame[cols].copy()
    fill = None
    if "regularity" in x:
        known = x["regularity"].dropna()
        fill = float(known.median()) if len(known) else 0.0
        x["regularity"] = x["regularity"].fillna(fill)
    return x, fill


class RobustScale(TransformerMixin, BaseEstimator):
    """Centre on the median and divide by a robust standard deviation: the larger of IQR / 1.349 and
    (95th - 5th percentile) / 3.29 (both equal the standard deviation for normal data). The second guards
    features whose middle half is nearly constant, such as the return share when most customers return nothing:
    divided by their tiny interquartile range alone, every returner would look extreme. 1 when both are 0."""

    def fit(self, X, y=None):
        x = np.asarray(X, dtype=float)
        q05, q25, q50, q75, q95 = np.nanpercentile(x, [5, 25, 50, 75, 95], axis=0)
        scale = np.maximum((q75 - q25) / 1.349, (q95 - q05) / 3.29)
        self.center_ = q50
        self.scale_ = np.where(scale > 1e-12, scale, 1.0)
        self.n_features_in_ = x.shape[1]
        return self

    def transform(self, X):
        return (np.asarray(X, dtype=float) - self.center_) / self.scale_

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_features if input_features is not None else [], dtype=object)


def _shift_one(x):
    return np.asarray(x, dtype=float) + 1.0


def scaling_pipeline(transform: str = "log", clip: float | None = 4.0) -> Pipeline:
    """log1p (or Box-Cox on value + 1) -> robust scaling (:class:`RobustScale`) -> cap at +/- ``clip`` robust
    standard deviations (no cap when ``None``)."""
    if transform == "log":
        steps = [("log", FunctionTransformer(np.log1p, feature_names_out="one-to-one"))]
    elif transform in ("box-cox", "boxcox"):
        steps = [
            ("shift", FunctionTransformer(_shift_one, feature_names_out="one-to-one")),
            ("boxcox", PowerTransformer(method="box-cox", standardize=False)),
        ]
    else:
        raise UserError(f"clusters.features.transform is {transform!r}: use log or box-cox")
    steps.append(("scale", RobustScale()))
    if clip:
        c = float(clip)
        steps.append(("clip", FunctionTransformer(np.clip, kw_args={"a_min": -c, "a_max": c})))
    return Pipeline(steps)


def extremes(pipeline: Pipeline, x: pd.DataFrame, clip: float | None) -> np.ndarray:
    """Boolean mask of the customers with at least one feature beyond the cap (before capping)."""
    if not clip:
        return np.zeros(len(x), dtype=bool)
    raw = pipeline[:-1].transform(x) if "clip" in pipeline.named_steps else pipeline.transform(x)
    return (np.abs(raw) > float(clip)).any(axis=1)
