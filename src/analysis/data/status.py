"""Order status and deal stage: which rows are purchases, and which orders never happened.

In marketplace, shop and ERP exports each row is an order that carries its own status. The
vocabularies live in ``validation.order_status`` (``defaults/data.yaml``):

* ``cancelled``: the order was closed, cancelled or refunded; the row leaves as ``cancelled_order``
  with its amount, and is never netted against the customer's other purchases;
* ``unpaid``: the order was never paid; the row leaves as ``unpaid_order``;
* ``paid``: paid but maybe not yet delivered; a purchase (as is any status no list names).

In CRM deal exports (a ``deal_stage`` column) only won deals (``validation.deal_won``) are
purchases; open and lost deals, and deals without a stage, leave as ``not_won``.

A value is compared with the phrases after both are normalised (NFKC, lower case, spaces and
punctuation removed, so ``Closed Won``, ``closedwon`` and ``closed_won`` are one phrase) and takes
the list of the longest phrase it contains: ``unpaid`` is not ``paid``, and ``partially refunded``
(listed under ``paid``) is not ``refunded``. Equal lengths: the list named first above wins.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import ibis
import numpy as np
import pandas as pd

from analysis.data import engine

ORDER_REASONS = {"cancelled": "cancelled_order", "unpaid": "unpaid_order"}


def normalise_phrase(text: str) -> str:
    """``"Closed Won"`` → ``"closedwon"``; ``"买家已付款，等待卖家发货"`` → ``"买家已付款等待卖家发货"``."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", str(text)).lower())


def classify(values: pd.Series, vocabularies: dict[str, list[str]]) -> pd.Series:
    """The name of the vocabulary whose longest contained phrase each value matches; missing
    where no phrase matches (or the value is missing)."""
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    norm = pd.Series([normalise_phrase(v) for v in distinct], dtype="string")
    best = np.full(len(distinct) + 1, None, dtype=object)  # the extra slot: missing values (code -1)
    best_len = np.zeros(len(distinct) + 1)
    for name, phrases in vocabularies.items():
        for phrase in phrases or []:
            p = normalise_phrase(phrase)
            if not p:
                continue
            hit = np.append(norm.str.contains(p, regex=False).to_numpy(dtype=bool), False) & (len(p) > best_len)
            best[hit] = name
            best_len[hit] = len(p)
    return pd.Series(best[codes], index=values.index, dtype=object)


def status_reasons(con: Any, table: ibis.Table, cfg: dict) -> ibis.Table:
    """``table`` (canonical columns, see :mod:`analysis.data.standardise`) with ``status_reason``: the
    quarantine reason its status or deal stage gives (``cancelled_order``, ``unpaid_order``,
    ``not_won``), NULL for purchases. Each distinct status is classified once."""
    if "status" in table.columns:
        vocab = cfg["order_status"]
        lists = {k: vocab[k] or [] for k in ("cancelled", "unpaid", "paid")}
        table = engine.map_distinct(
            con, table, "status", lambda v: classify(v, lists).map(ORDER_REASONS), "__order_reason", "string"
        )
    if "deal_stage" in table.columns:
        won = {"won": cfg["deal_won"] or []}  # (null: no stage is a win)
        table = engine.map_distinct(con, table, "deal_stage", lambda v: classify(v, won) == "won", "__won", "boolean")
    reason = table["__order_reason"] if "__order_reason" in table.columns else ibis.null("string")
    if "__won" in table.columns:  # deals without a stage are not won either
        reason = ibis.ifelse(reason.isnull() & ~table["__won"].fill_null(False), "not_won", reason)
    return table.mutate(status_reason=reason).drop(*[c for c in ("__order_reason", "__won") if c in table.columns])
