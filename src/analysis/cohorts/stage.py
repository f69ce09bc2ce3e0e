"""The cohorts stage: :func:`run` (the one call the notebook makes) and its result, :class:`CohortsResult`.

Customers are grouped by the period (``cohorts.period``: month, week or quarter) of their first kept purchase;
for each cohort and each period since acquisition the matrix (:mod:`analysis.cohorts.matrix`, computed in the
SQL engine) counts the customers acquired, those who bought in the period, their orders and revenue. The page
reads it as retention (active / acquired), revenue per acquired customer and its cumulative sum, by cohort and,
when the customer table has attributes (region, customer type, ...), for the largest groups of each.

A cell whose period was not over on the as-of date (the as-of date in the middle of a month) is kept in the
matrix and in ``cohorts.csv`` as it stands, and marked ``complete = False`` in the page's table: the averages
and comparisons leave it out.

Reconciliation: the cohort sizes add up to the customers of the customer table who bought (customers known only
from a customer list belong to no cohort), and the matrix's revenue to the revenue the data-quality stage kept
(``quality.json``'s ``amount_kept``; with an analyst's own frames, the customer table's total spend): both are in
``cohorts.json`` under ``reconciliation``. The stage adds no column to the customer table; its long-form matrix is
written as ``cohorts.csv`` by :func:`write_csv`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from analysis.cohorts import describe
from analysis.cohorts.matrix import (
    COLUMNS,
    PER_YEAR,
    PERIODS,
    TRANSACTION_COLUMNS,
    complete,
    engine_cells,
    period_start,
    periods_between,
)
from analysis.errors import UserError
from analysis.jsonable import jsonable
from analysis.stage import Inputs, StageResult

COUNTS = ("max_cohorts_shown", "max_periods_shown", "attribute_groups", "thin_cohorts")  # whole numbers >= 1


@dataclass(kw_only=True)
class CohortsResult(StageResult):
    """The stage's products: ``columns`` (``customer_id`` only: the stage adds no column), ``tables`` (``matrix``:
    the long-form matrix of :data:`analysis.cohorts.matrix.COLUMNS` plus ``complete``, whether the cell's period
    was over by the as-of date, and ``cumulative_orders_per_customer``; ``cohorts``: one row per cohort;
    ``by_<attribute>``: the pooled view per group of an attribute), ``record`` (``cohorts.json``) and what the
    page's words are made from: ``settings`` and ``facts`` (the numbers the sentences state, also in the record
    under ``summary``)."""

    stage: ClassVar[str] = "cohorts"

    settings: dict[str, Any]
    facts: dict[str, Any]

    def summary(self, lang: str = "en") -> str:
        """The managers' bullets in ``lang`` (:func:`analysis.cohorts.describe.summary`)."""
        return describe.summary(self, lang)


def run(prepared: Inputs, config: dict) -> CohortsResult:
    """The cohort matrix of the kept purchases (``prepared.read_transactions``) as of ``prepared.as_of``, its
    per-cohort and per-attribute views and the facts the page states, by the settings ``config["cohorts"]``."""
    cfg = check_settings(config["cohorts"])
    period, as_of = cfg["period"], pd.Timestamp(prepared.as_of)
    tx = prepared.read_transactions(TRANSACTION_COLUMNS)
    customers = prepared.customers
    amounts = bool(tx["amount"].notna().any())
    members, groups = attribute_groups(customers, cfg)
    found, by_group = engine_cells(tx, as_of, period, members)
    first_day = tx.loc[tx["timestamp"] < as_of.normalize() + pd.Timedelta(days=1), "timestamp"].min()
    del tx
    matrix = with_completeness(complete(found, as_of, period, amounts), as_of, period)
    k = int(cfg["compare_period"][period])
    tables = {"matrix": matrix, "cohorts": cohort_table(matrix, k)}
    facts = summary_facts(matrix, as_of, cfg, amounts)
    base = matrix.loc[(matrix["period"] == facts["k"]) & matrix["complete"], "cohort"]
    for name, sizes in groups.items():
        found = by_group[name][pd.to_datetime(by_group[name]["cohort"]).isin(base)]
        tables[f"by_{name}"] = group_table(found, sizes, period, amounts, k, facts["k"])
    facts["attributes"] = [name for name in groups]
    facts["first_day"] = first_day if pd.notna(first_day) else as_of
    facts["short_history"] = short_history(facts["first_day"], as_of)
    facts["listed_only"] = int((customers["orders"] <= 0).sum())
    checks = reconciliation(matrix, customers, amounts, kept_revenue(prepared))
    record = cohorts_record(cfg, facts, checks)
    return CohortsResult(columns=customers[["customer_id"]].reset_index(drop=True), record=record, tables=tables,
                         settings=cfg, facts=facts)  # fmt: skip


def _count(value: Any) -> bool:
    """Whether ``value`` is a whole number of at least 1."""
    return not isinstance(value, bool) and isinstance(value, int) and value >= 1


def check_settings(cfg: dict) -> dict:
    """The ``cohorts`` settings, checked: a period length it knows and positive whole numbers (else one clear
    line); an empty ``attributes`` list is none."""
    if cfg["period"] not in PERIODS:
        raise UserError(f"setting cohorts.period must be one of {', '.join(PERIODS)}, not {cfg['period']!r}")
    for key in COUNTS:
        if not _count(cfg[key]):
            raise UserError(f"setting cohorts.{key} must be a whole number of at least 1, not {cfg[key]!r}")
    if (
        isinstance(cfg["min_group_customers"], bool)
        or not isinstance(cfg["min_group_customers"], int)
        or cfg["min_group_customers"] < 0
    ):
        raise UserError(f"setting cohorts.min_group_customers must be a whole number, not "
                        f"{cfg['min_group_customers']!r}")  # fmt: skip
    k = cfg["compare_period"][cfg["period"]]
    if not _count(k):
        raise UserError(f"setting cohorts.compare_period.{cfg['period']} must be a whole number of at least 1, "
                        f"not {k!r}")  # fmt: skip
    return {**cfg, "attributes": list(cfg["attributes"] or [])}


def short_history(first_day: Any, as_of: pd.Timestamp) -> bool:
    """Whether the history from the first purchase's day to the as-of date is shorter than two calendar months
    (1 March to 30 April is two; 15 March to 30 April is not)."""
    if pd.isna(first_day):
        return True
    first = pd.Timestamp(first_day).normalize()
    return pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1) < first + pd.DateOffset(months=2)


def kept_revenue(prepared: Inputs) -> float | None:
    """The revenue the data-quality stage kept (``quality.json``'s ``amount_kept``), when the inputs are a run's
    (a prepared run or its directory); None for an analyst's own frames, which have no quality report."""
    quality = getattr(prepared, "quality", None)
    if not isinstance(quality, dict) or quality.get("amount_kept") is None:
        return None
    return float(quality["amount_kept"])


def with_completeness(matrix: pd.DataFrame, as_of: pd.Timestamp, period: str) -> pd.DataFrame:
    """``matrix`` with ``complete`` (whether the cell's period was over by the as-of date: the as-of date's own
    period only when the as-of date is its last day) and ``cumulative_orders_per_customer``."""
    last = period_start(as_of, period)
    last_over = period_start(as_of + pd.Timedelta(days=1), period) != last
    remaining = periods_between(matrix["cohort"], last, period) - matrix["period"]
    per_customer = matrix["orders"] / matrix["customers"]
    return matrix.assign(complete=((remaining > 0) | (last_over & (remaining == 0))).astype(bool),
                         cumulative_orders_per_customer=per_customer.groupby(matrix["cohort"]).cumsum())  # fmt: skip


def pooled(matrix: pd.DataFrame) -> pd.DataFrame:
    """Per period since acquisition, over the cohorts whose period is over: customers acquired, retention (active
    / acquired) and cumulative revenue and orders per acquired customer (each weighted by the cohorts' sizes)."""
    done = matrix[matrix["complete"]]
    by = done["period"]
    weights = done["customers"].groupby(by).sum()
    out = pd.DataFrame({"customers": weights, "retention": done["active_customers"].groupby(by).sum() / weights})
    for column in ("cumulative_revenue_per_customer", "cumulative_orders_per_customer"):
        out[column] = (done[column] * done["customers"]).groupby(by).sum(min_count=1) / weights
    return out


def cohort_table(matrix: pd.DataFrame, k: int) -> pd.DataFrame:
    """One row per cohort: customers acquired, retention in period 1 and ``k`` (NaN until that period is over),
    cumulative revenue per acquired customer at period ``k`` and to date, the periods observed."""
    done = matrix[matrix["complete"]].set_index(["cohort", "period"])
    cohorts = matrix.loc[matrix["period"] == 0, ["cohort", "customers"]].set_index("cohort")

    def at(column: str, p: int) -> pd.Series:
        if p not in done.index.get_level_values("period"):
            return pd.Series(np.nan, index=cohorts.index)
        return done.xs(p, level="period")[column].reindex(cohorts.index)

    latest = matrix.groupby("cohort").tail(1).set_index("cohort")
    columns = {
        "retention_1": at("retention", 1),
        f"retention_{k}": at("retention", k),  # (one column when k = 1)
        f"value_{k}": at("cumulative_revenue_per_customer", k),
        "value_to_date": latest["cumulative_revenue_per_customer"],
        "periods": latest["period"] + 1,
    }
    return cohorts.assign(**columns)


def attribute_groups(customers: pd.DataFrame, cfg: dict) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """For each attribute of ``cohorts.attributes`` the customer table has with two groups or more among its
    buyers: its largest groups (``attribute_groups``, each with ``min_group_customers`` or more) and their sizes
    (largest first); and one frame of the buyers in any of them, ``customer_id`` and one column per attribute
    (the buyer's group as text, missing when not in a group shown)."""
    buyers = customers[customers["orders"] > 0]
    members, sizes_of = {"customer_id": buyers["customer_id"].astype("string[pyarrow]")}, {}
    for name in cfg["attributes"]:
        if name not in buyers:
            continue
        sizes = buyers[name].value_counts(sort=True, ascending=False, dropna=True)
        sizes = sizes[sizes >= cfg["min_group_customers"]].head(cfg["attribute_groups"])
        if len(sizes) < 2:  # one group is the whole picture again
            continue
        members[name] = buyers[name].where(buyers[name].isin(sizes.index)).astype("string[pyarrow]")
        sizes_of[name] = sizes.set_axis(sizes.index.astype(str))
    frame = pd.DataFrame(members).reset_index(drop=True)
    frame = frame[frame.drop(columns="customer_id").notna().any(axis=1)] if sizes_of else frame[["customer_id"]]
    return frame.reset_index(drop=True), sizes_of


def group_table(
    cells: pd.DataFrame, sizes: pd.Series, period: str, amounts: bool, k: int, horizon: int
) -> pd.DataFrame:
    """One row per group of an attribute (largest first): customers won (in all cohorts), and over the cohorts of
    ``cells`` (the engine's cells of the cohorts whose period ``horizon``, the summary's comparison period, is
    over: the same cohorts at every period up to it, so a later period is not a different mix of cohorts, and
    every such cell is over) the pooled retention in period 1 and ``k``, the cumulative revenue (and orders) per
    customer won at ``k``, and ``curve``, the pooled retention by period up to ``horizon`` (a dict)."""
    cells = cells.assign(cohort=pd.to_datetime(cells["cohort"]).astype("datetime64[ns]"),
                         p=pd.to_datetime(cells["p"]).astype("datetime64[ns]"))  # fmt: skip
    cells["period"] = periods_between(cells["cohort"], cells["p"], period).astype("int64")
    cells = cells[cells["period"] <= horizon]
    rows = {}
    for group in sizes.index:
        sums = cells[cells["group"] == group].groupby("period")[["active_customers", "orders", "revenue"]].sum()
        sums = sums.reindex(range(horizon + 1), fill_value=0)
        won = float(sums.at[0, "active_customers"]) or np.nan  # the cohorts' customers: all buy in period 0
        curve = pd.DataFrame({"retention": sums["active_customers"] / won,
                              "cumulative_revenue_per_customer": sums["revenue"].cumsum() / won if amounts else np.nan,
                              "cumulative_orders_per_customer": sums["orders"].cumsum() / won})  # fmt: skip
        rows[group] = {"customers": int(sizes[group]), "retention_1": _at(curve, "retention", 1),
                       f"retention_{k}": _at(curve, "retention", k),
                       f"value_{k}": _at(curve, "cumulative_revenue_per_customer", k),
                       f"orders_{k}": _at(curve, "cumulative_orders_per_customer", k),
                       "curve": curve["retention"].dropna().to_dict()}  # fmt: skip
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("group")


def _at(frame: pd.DataFrame, column: str, period: int) -> float:
    """``frame[column]`` at ``period`` (NaN when that period is not there)."""
    return float(frame[column].get(period, np.nan))


def comparison(matrix: pd.DataFrame, period: str, k: int) -> dict[str, Any] | None:
    """The latest cohort whose period ``k`` is over, against the cohort won a year earlier (:data:`PER_YEAR`
    periods before; ``kind`` "year") or, when none was, the first cohort (``kind`` "first"): both cohorts'
    retention and cumulative revenue and orders per acquired customer at ``k``. None with fewer than two such
    cohorts."""
    cells = matrix[(matrix["period"] == k) & matrix["complete"]].set_index("cohort").sort_index()
    if len(cells) < 2:
        return None
    pick = None
    for recent in reversed(cells.index):
        earlier = recent - pd.DateOffset(weeks=52) if period == "week" else recent - pd.DateOffset(months=12)
        if earlier in cells.index:
            pick = (recent, earlier, "year")
            break
    recent, earlier, kind = pick or (cells.index[-1], cells.index[0], "first")
    out = {"kind": kind, "period": k, "recent": recent, "earlier": earlier}
    for which, cohort in (("recent", recent), ("earlier", earlier)):
        row = cells.loc[cohort]
        out |= {f"retention_{which}": float(row["retention"]), f"customers_{which}": int(row["customers"]),
                f"value_{which}": float(row["cumulative_revenue_per_customer"]),
                f"orders_{which}": float(row["cumulative_orders_per_customer"])}  # fmt: skip
    return out


def size_trend(matrix: pd.DataFrame, period: str, as_of: pd.Timestamp) -> dict[str, Any] | None:
    """The latest period over by the as-of date and the customers won in it (none, when nobody was: such a period
    has no cohort, and a fall to none is the news), against the mean of the year before it (up to
    :data:`PER_YEAR` periods from the first cohort, empty periods counting as none won); None with no period over
    or fewer than two periods before it."""
    first = matrix.loc[matrix["period"] == 0].set_index("cohort")["customers"]
    latest = period_start(as_of, period)
    if period_start(as_of + pd.Timedelta(days=1), period) == latest:  # the as-of date's own period is not over
        latest = period_start(latest - pd.Timedelta(days=1), period)
    if first.empty or latest < first.index.min():
        return None
    grid = pd.date_range(end=latest, periods=PER_YEAR[period] + 1,
                         freq={"month": "MS", "week": "W-MON", "quarter": "QS"}[period])  # fmt: skip
    before = first.reindex(grid[:-1][grid[:-1] >= first.index.min()]).fillna(0)
    if len(before) < 2:
        return None
    return {"latest": latest, "latest_customers": int(first.get(latest, 0)), "before": len(before),
            "mean_before": float(before.mean())}  # fmt: skip


def summary_facts(matrix: pd.DataFrame, as_of: pd.Timestamp, cfg: dict, amounts: bool) -> dict[str, Any]:
    """The numbers the page's sentences state: the cohorts (count, first, last, customers, orders, revenue), the
    periods observed and whether the as-of period is over, the pooled retention and value in period 1 and at the
    comparison period ``k`` (the latest period over, when ``compare_period`` is not reached yet) over the cohorts
    whose period ``k`` is over (``cohorts_k``, ``customers_k``: the same cohorts at both), the comparison of
    cohorts (:func:`comparison`), the cohorts' sizes (:func:`size_trend`) and whether they are few (``thin``)."""
    period = cfg["period"]
    cohorts = matrix.loc[matrix["period"] == 0, ["cohort", "customers"]]
    as_of_period = period_start(as_of, period)
    first = cohorts["cohort"].min() if len(cohorts) else as_of_period
    observed = int(periods_between(first, as_of_period, period)) + 1
    over = matrix.loc[matrix["complete"], "period"]
    k = min(int(cfg["compare_period"][period]), int(over.max()) if len(over) else 0)
    base = matrix.loc[(matrix["period"] == k) & matrix["complete"], ["cohort", "customers"]]
    curve = pooled(matrix[matrix["cohort"].isin(base["cohort"])])  # the same cohorts at every period
    return {
        "period": period, "as_of": as_of, "as_of_period": as_of_period, "has_amounts": amounts,
        "cohorts": len(cohorts), "first_cohort": first,
        "last_cohort": cohorts["cohort"].max() if len(cohorts) else first,
        "customers": int(cohorts["customers"].sum()), "orders": int(matrix["orders"].sum()),
        "revenue": float(matrix["revenue"].sum()) if amounts else None,
        "periods_observed": observed,
        "last_period_complete": bool(period_start(as_of + pd.Timedelta(days=1), period) != as_of_period),
        "k": k, "cohorts_k": len(base), "customers_k": int(base["customers"].sum()),
        "retention_1": _at(curve, "retention", 1), "retention_k": _at(curve, "retention", k),
        "value_k": _at(curve, "cumulative_revenue_per_customer", k),
        "orders_k": _at(curve, "cumulative_orders_per_customer", k),
        "comparison": comparison(matrix, period, int(cfg["compare_period"][period])),
        "sizes": size_trend(matrix, period, as_of),
        "thin": len(cohorts) <= cfg["thin_cohorts"],
    }  # fmt: skip


def reconciliation(matrix: pd.DataFrame, customers: pd.DataFrame, amounts: bool, kept: float | None) -> dict[str, Any]:
    """The matrix against the customer table and the data-quality stage: customers acquired (period 0, summed
    over cohorts) against the table's buyers (those with a purchase; the rest are only on the customer list),
    and the revenue over the whole matrix against the revenue kept (``kept``: quality.json's, else the table's
    total spend). Each check's ``..._match`` is true when the two agree (revenue to half a cent)."""
    buyers = int((customers["orders"] > 0).sum())
    acquired = int(matrix.loc[matrix["period"] == 0, "customers"].sum())
    out = {"customers_acquired": acquired, "customers_in_table": len(customers), "buyers_in_table": buyers,
           "customers_listed_only": len(customers) - buyers, "customers_match": acquired == buyers,
           "orders": int(matrix["orders"].sum())}  # fmt: skip
    if not amounts:
        return out | {"revenue": None, "revenue_kept": None, "revenue_kept_source": None, "revenue_match": None}
    source = "quality.json" if kept is not None else "customer table"
    kept = kept if kept is not None else float(customers["total_spend"].sum())
    revenue = float(matrix["revenue"].sum())
    return out | {"revenue": round(revenue, 6), "revenue_kept": round(kept, 6), "revenue_kept_source": source,
                  "revenue_match": bool(abs(revenue - kept) < 0.005)}  # fmt: skip


def _jsonable_facts(facts: dict[str, Any]) -> dict[str, Any]:
    """``facts`` with dates as ISO text (nested ones too), JSON-safe."""

    def day(v: Any) -> Any:
        if isinstance(v, pd.Timestamp):
            return v.date().isoformat()
        if isinstance(v, dict):
            return {k: day(x) for k, x in v.items()}
        return v

    return jsonable({k: day(v) for k, v in facts.items()})


def cohorts_record(cfg: dict, facts: dict, checks: dict) -> dict[str, Any]:
    """``cohorts.json``: the settings applied, the summary numbers (``comparison`` and ``sizes`` among them), the
    reconciliation, the managers' sentences in both languages (``sentences``, the first is the headline) and the
    warnings (no amounts, a period not over, listed customers: each ``{en, zh}``)."""
    settings = {k: cfg[k] for k in ("period", "max_cohorts_shown", "max_periods_shown", "thin_cohorts",
                                    "attribute_groups", "min_group_customers", "attributes")}  # fmt: skip
    return {
        "settings": settings | {"compare_period": cfg["compare_period"][cfg["period"]]},
        "columns": list(COLUMNS),
        "summary": _jsonable_facts(facts),
        "reconciliation": jsonable(checks),
        "sentences": describe.sentences(facts),
        "warnings": describe.warnings(facts),
    }


def write_csv(result: CohortsResult, run_dir: Path | str, config: dict) -> Path:
    """``cohorts.csv`` in ``run_dir``: the long-form matrix (:data:`analysis.cohorts.matrix.COLUMNS`; ``cohort``
    as the ISO date of the period's first day), UTF-8 with BOM as the run's other CSV files, money to the cent
    and shares to 4 decimals; returns its path."""
    from analysis.report.rundir import csv_formula_guard
    from analysis.report.rundir import write_csv as write_people_csv

    path = Path(run_dir) / "cohorts.csv"
    write_people_csv(csv_frame(result.tables["matrix"]), path, guard=csv_formula_guard(config))
    return path


def csv_frame(matrix: pd.DataFrame) -> pd.DataFrame:
    """The matrix as ``cohorts.csv`` holds it, rounded for people."""
    out = matrix[list(COLUMNS)].copy()
    out["cohort"] = out["cohort"].dt.strftime("%Y-%m-%d")
    out["retention"] = out["retention"].round(4)
    for column in ("revenue", "revenue_per_customer", "cumulative_revenue_per_customer"):
        out[column] = out[column].round(2)
    return out


def read_matrix(run_dir: Path | str) -> pd.DataFrame | None:
    """The long-form matrix of a finished run directory (its ``cohorts.csv``, as rounded for people) with
    ``complete`` and ``cumulative_orders_per_customer`` worked out again from ``cohorts.json``'s as-of date and
    period, for the pack's charts; None when the run has no cohorts."""
    run = Path(run_dir)
    if not (run / "cohorts.csv").is_file() or not (run / "cohorts.json").is_file():
        return None
    summary = json.loads((run / "cohorts.json").read_text(encoding="utf-8"))["summary"]
    matrix = pd.read_csv(run / "cohorts.csv", encoding="utf-8-sig", parse_dates=["cohort"])
    return with_completeness(matrix, pd.Timestamp(summary["as_of"]), summary["period"])
