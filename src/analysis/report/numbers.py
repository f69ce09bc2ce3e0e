"""The numbers of a run, read from its own files, for every page and file that reports them (the landing
page, the executive summary, the deck): the headline numbers, the customers at high churn risk to call
first, and how a customer is named on a stakeholder page. A stage that did not run gives no number."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from analysis.privacy import mask_id, mask_name


def read_json(run_dir: Path, name: str) -> dict[str, Any] | None:
    """The run file ``name`` as JSON, or ``None`` when the stage that writes it did not run."""
    path = run_dir / name
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def band_is_high(customers: pd.DataFrame, config: dict) -> pd.Series:
    """Customers in the high churn-risk band (its label in either language)."""
    names = set(config["churn"]["bands"]["labels"]["high"]) | {"high"}
    if "risk_band" not in customers:
        return pd.Series(False, index=customers.index)
    return customers["risk_band"].isin(names)


def headline(run_dir: str | Path, customers: pd.DataFrame | None = None) -> dict[str, Any]:
    """The headline numbers of a run, from its own files (a stage that did not run gives no number).

    ``customers``, ``revenue`` (sum of ``monetary``; data with amounts only), ``class_a_share`` and
    ``class_a_customers`` (segments, when ABC ranks by revenue or margin),
    ``tiers`` ({tier key: customers}), ``high_risk_customers`` and ``high_value_at_risk`` (churn), ``clv_12m``
    and ``clv_horizon_months`` (CLV), ``as_of`` and ``input``. ``customers``: the run's customer table when
    the caller has it (else only the columns needed are read)."""
    run = Path(run_dir)
    settings = read_json(run, "settings.json") or {}
    quality = read_json(run, "quality.json") or {}
    if customers is None:
        customers = read_customers(run, ["frequency", "monetary"])
    out: dict[str, Any] = {
        "as_of": settings.get("as_of") or quality.get("as_of"),
        "input": quality.get("input") or settings.get("input_path"),
        "customers": int(len(customers)),
        "buyers": int((customers["frequency"] > 0).sum()),
    }
    money = pd.to_numeric(customers["monetary"], errors="coerce") if "monetary" in customers else None
    if money is not None and quality.get("has_amounts", bool(money.notna().any())):
        out["revenue"] = float(money.fillna(0).sum())
    segments = read_json(run, "segments.json")
    if segments:
        a = next((row for row in segments.get("abc", []) if row.get("abc_class") == "A"), None)
        if a and segments["settings"]["abc_value"] in ("revenue", "margin"):
            out["class_a_share"] = float(a["value_share"])
            out["class_a_customers"] = int(a["customers"])
            out["class_a_customer_share"] = float(a["customer_share"])
        out["tiers"] = {k: int(v["customers"]) for k, v in (segments.get("tiers_by_key") or {}).items()}
    churn = read_json(run, "churn.json")
    if churn and churn.get("warning_list"):
        out["high_risk_customers"] = int(churn["warning_list"]["high_risk_customers"])
        out["high_value_at_risk"] = float(churn["warning_list"]["high_value_at_risk"])
    clv = read_json(run, "clv.json")
    if clv and (clv.get("clv") or {}).get("total_clv") is not None:
        out["clv_12m"] = float(clv["clv"]["total_clv"])
        out["clv_horizon_months"] = int(clv["clv"]["horizon_months"])
        out["clv_customers"] = int(clv["clv"].get("customers_scored", 0))
    return out


def read_customers(run_dir: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The run's customer table (``customers.parquet``); with ``columns``, only those of them it has."""
    path = Path(run_dir) / "customers.parquet"
    if columns is not None:
        names = set(pq.read_schema(path).names)
        columns = [c for c in columns if c in names]
    return pd.read_parquet(path, columns=columns)


def top_at_risk(customers: pd.DataFrame, config: dict, n: int) -> pd.DataFrame:
    """The ``n`` customers at high churn risk to call first: by value at risk (by churn risk when the input has
    no amounts), ties by customer id."""
    if "churn_risk" not in customers:
        return customers.iloc[0:0]
    rows = np.flatnonzero(band_is_high(customers, config).to_numpy())
    worth = customers["value_at_risk"].to_numpy(float, na_value=np.nan)[rows] if "value_at_risk" in customers else None
    by = "value_at_risk" if worth is not None and not np.isnan(worth).all() else "churn_risk"
    values = customers[by].to_numpy(float, na_value=np.nan)[rows]
    known = values[~np.isnan(values)]
    if n > 0 and len(known) > n:  # only rows that can be among the first n are sorted
        rows = rows[values >= np.partition(known, len(known) - n)[len(known) - n]]
    # sorted on its two columns alone (positions as the index); only the first n rows of the whole table are taken
    keys = customers[[by, "customer_id"]].iloc[rows].set_axis(rows)
    return customers.iloc[keys.sort_values([by, "customer_id"], ascending=[False, True]).head(n).index.to_numpy()]


def customer_label(row: pd.Series, mask_pii: bool, salt: str) -> str:
    """A customer as a stakeholder page shows them: "name (id)", or the id; masked when asked."""
    name = row.get("customer_name")
    cid = str(row["customer_id"])
    shown_id = mask_id(cid, salt) if mask_pii else cid
    if isinstance(name, str) and name.strip():
        return f"{mask_name(name) if mask_pii else name} ({shown_id})"
    return shown_id
