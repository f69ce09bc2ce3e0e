"""The data spine: raw file → validated transactions + quarantine → per-customer features."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd

from analysis.config import check_columns
from analysis.data import engine, features, load
from analysis.data.database import redacted
from analysis.data.headers import ROLES
from analysis.data.parsing import parse_text
from analysis.data.returns import returned_lines
from analysis.data.validate import ATTRIBUTE_ROLES, Validated, validate_raw
from analysis.errors import UserError
from analysis.stage import with_columns


@dataclass
class Prepared:
    """Everything later stages need, computed once per run: the data-quality summary (``quality``), and the kept
    transactions, the quarantine and the customer table, which stay in the engine (28M purchases and 10M
    customers at 10M customers) until they are asked for as pandas frames or written into files (streamed)."""

    checked: Validated
    quality: dict[str, Any]
    table: ibis.Table | pd.DataFrame  # the customer table: in the engine, or a frame once merged with a list
    data_cfg: dict[str, Any]  # the settings' ``data`` section (how the input's dates and texts read)

    # The parts every stage reads (analysis.stage.Inputs), as a notebook's run-directory handle has them.
    @property
    def as_of(self) -> pd.Timestamp:
        return pd.Timestamp(self.quality["as_of"])

    @property
    def mapping(self) -> dict[str, str]:
        return self.quality["mapping"]

    @property
    def transactions(self) -> pd.DataFrame:
        return self.checked.transactions

    def read_transactions(self, columns: list[str] | tuple[str, ...] | None = None) -> pd.DataFrame:
        """The validated transactions with only ``columns`` (those there are; all when None)."""
        return with_columns(self.transactions, columns)

    @property
    def quarantine(self) -> pd.DataFrame:
        return self.checked.quarantine

    @cached_property
    def returns(self) -> pd.DataFrame:
        """The returned lines netting took off earlier purchases: ``customer_id``, ``timestamp``, ``amount``."""
        return returned_lines(self.quarantine, self.mapping, self.data_cfg)

    @cached_property
    def customers(self) -> pd.DataFrame:
        """One row per customer, columns as in ARCHITECTURE.md."""
        if isinstance(self.table, pd.DataFrame):
            return self.table
        return engine.to_pandas(self.checked.con, self.table)

    def write(self, folder: Path) -> None:
        """``transactions.parquet``, ``quarantine.csv`` and ``customers.parquet`` in ``folder``."""
        self.checked.write_transactions(folder / "transactions.parquet")
        self.checked.write_quarantine(folder / "quarantine.csv")
        if isinstance(self.table, pd.DataFrame):
            self.table.to_parquet(folder / "customers.parquet", index=False)
        else:
            engine.write_parquet(self.checked.con, self.table, folder / "customers.parquet")


def parse_column_options(options: list[str] | None) -> dict[str, str]:
    """``["customer_id=客户ID", ...]`` (repeated ``--column ROLE=HEADER``) → ``{role: header}``."""
    mapping: dict[str, str] = {}
    for item in options or []:
        role, sep, header = item.partition("=")
        if not sep or not role.strip() or not header.strip():
            raise UserError(f"--column takes ROLE=HEADER, got {item!r}")
        role = role.strip()
        if role not in ROLES:
            raise UserError(f"unknown column role {role!r}: use one of {', '.join(ROLES)}")
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
    data_cfg = config["data"]
    raw = load.read_transactions(
        str(input_path),
        encoding=data_cfg.get("encoding"),
        sheet=data_cfg.get("sheet"),
        table=data_cfg.get("table"),
        columns=data_cfg["columns"] or None,  # {} maps nothing: find every column by header
        headers=data_cfg.get("headers"),
        header_row=data_cfg.get("header_row"),
        query=data_cfg["query"],
    )
    check_columns(config, set(raw.mapping))
    con = con if con is not None else load.engine_for(raw)  # a database server's table stays there
    checked = validate_raw(raw, config, as_of, con)
    quality = {
        **checked.quality,
        "columns_also_seen": raw.also_seen,
        "input": redacted(str(input_path)),
        "source_format": raw.source_format,
        "encoding": raw.encoding,
        "fingerprint": raw.fingerprint,
    }
    unit = features.time_unit_days(config["features"]["time_unit"])
    as_of_day = pd.Timestamp(quality["as_of"]).date()
    table = engine.materialise(con, features.customer_features_expr(checked.kept, as_of_day, unit))
    if customers_path:
        table, quality["customer_list"] = add_customer_list(engine.to_pandas(con, table), customers_path, data_cfg)
        quality["customers_total"] = len(table)
    else:
        quality["customers_total"] = int(engine.execute(con, table.count()))
    return Prepared(checked, quality, table, config["data"])


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
