"""The data spine: raw file → validated transactions + quarantine → per-customer features."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.config import check_columns
from analysis.data import engine, features, load
from analysis.data.parsing import parse_text
from analysis.data.validate import ATTRIBUTE_ROLES, validate_raw
from analysis.errors import UserError


@dataclass
class Prepared:
    """Everything later stages need, computed once per run."""

    transactions: pd.DataFrame
    quarantine: pd.DataFrame
    quality: dict[str, Any]
    customers: pd.DataFrame


def parse_column_options(options: list[str] | None) -> dict[str, str]:
    """``["customer_id=客户ID", ...]`` (repeated ``--column ROLE=HEADER``) → ``{role: header}``."""
    mapping: dict[str, str] = {}
    for item in options or []:
        role, sep, header = item.partition("=")
        if not sep or not role.strip() or not header.strip():
            raise UserError(f"--column takes ROLE=HEADER, got {item!r}")
        role = role.strip()
        if role not in load.ROLES:
            raise UserError(f"unknown column role {role!r}: use one of {', '.join(load.ROLES)}")
        mapping[role] = header.strip()
    return mapping


def prepare(
    input_path: str,
    config: dict,
    as_of: Any = None,
    customers_path: str | None = None,
    con: Any = None,
) -> Prepared:
    """Load, validate and summarise per customer. ``config['data']['columns']`` maps roles. ``con`` is the
    engine (an Ibis connection: :func:`analysis.data.engine.connect`'s DuckDB by default, or e.g.
    ``ibis.pyspark.connect(spark)``); validation, quarantine and the features run there."""
    data_cfg = config.get("data", {})
    raw = load.read_transactions(
        str(input_path),
        encoding=data_cfg.get("encoding"),
        sheet=data_cfg.get("sheet"),
        table=data_cfg.get("table"),
        columns=data_cfg.get("columns") or None,
        headers=data_cfg.get("headers"),
    )
    check_columns(config, set(raw.mapping))
    con = con if con is not None else engine.connect()
    checked = validate_raw(raw, config, as_of, con)
    quality = {
        **checked.quality,
        "columns_also_seen": raw.also_seen,
        "input": str(input_path),
        "source_format": raw.source_format,
        "encoding": raw.encoding,
        "fingerprint": raw.fingerprint,
    }
    unit = config.get("features", {}).get("time_unit", "weeks")
    customers = features.customer_features(checked.kept, quality["as_of"], unit, backend=con)
    if customers_path:
        customers, quality["customer_list"] = add_customer_list(customers, customers_path, data_cfg)
    quality["customers_total"] = len(customers)
    return Prepared(checked.transactions, checked.quarantine, quality, customers)


def add_customer_list(customers: pd.DataFrame, path: str, data_cfg: dict) -> tuple[pd.DataFrame, dict[str, int]]:
    """Merge a maintained customer list: its names and attributes win; listed customers with no
    purchase are added with ``orders = 0`` (the potential customers)."""
    listed = load.read_customer_list(str(path), encoding=data_cfg.get("encoding"), headers=data_cfg.get("headers"))
    frame, mapping = listed.frame, listed.mapping
    ids = parse_text(frame[mapping["customer_id"]])  # cleaned as transaction ids are: 17850.0 is 17850
    missing = ids.isna()
    duplicate = ids.duplicated(keep="first") & ~missing
    keep = ~missing & ~duplicate
    table = pd.DataFrame({"customer_id": ids[keep].astype(str)})
    for role in ATTRIBUTE_ROLES:
        if role in mapping:
            table[role] = parse_text(frame.loc[keep, mapping[role]]).astype(object).to_numpy()
    merged = customers.merge(table, on="customer_id", how="outer", suffixes=("", "_list"))
    for role in ATTRIBUTE_ROLES:
        if f"{role}_list" in merged:
            merged[role] = merged[f"{role}_list"].where(merged[f"{role}_list"].notna(), merged[role])
            merged = merged.drop(columns=f"{role}_list")
    never = merged["orders"].isna()
    for col in ("orders", "purchase_days", "frequency"):
        merged[col] = merged[col].fillna(0).astype("int64")
    for col in ("total_spend", "monetary"):
        merged[col] = merged[col].fillna(0.0).astype("float64")
    merged = merged.sort_values("customer_id", kind="stable").reset_index(drop=True)
    report = {
        "rows_in": len(frame),
        "customers_listed": int(keep.sum()),
        "missing_customer_id": int(missing.sum()),
        "duplicate_customer_id": int(duplicate.sum()),
        "never_bought": int(never.sum()),
        "bought_but_not_listed": int(np.setdiff1d(customers["customer_id"], table["customer_id"]).size),
    }
    return merged, report
