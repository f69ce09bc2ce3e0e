"""The run history (定期更新): one customer snapshot per as-of date, and the tier migration between two.

The store is a Parquet dataset partitioned by as-of date, beside the runs::

    history/as_of=1998-03-31/part-0.parquet
    history/as_of=1998-06-30/part-0.parquet

Every snapshot has the same columns (``SNAPSHOT_SCHEMA``; a stage that did not run leaves its columns
empty), so snapshots from runs with different stages read together. A rerun for the same as-of date
replaces that snapshot. A snapshot appears whole or not at all, even when its writer is killed
(:func:`write_snapshot`), and a snapshot that cannot be read is one error naming it (:func:`check_store`).
The store is read with DuckDB through Ibis.

:func:`migration` compares two snapshots: the tier transition matrix in customers and in value, who
moved up or down, who is new and who is lost, and per tier of the previous review the share of its
customers who bought again since (评估效果: does the treatment of each tier work).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from analysis.errors import UserError
from analysis.report.lock import kill_point, owned, remove_abandoned
from analysis.tables import text_column

PARTITION = "as_of"
PART_FILE = "part-0.parquet"
NEW, LOST = "new", "lost"

# The columns of a snapshot, in order; the as-of date is the partition, not a column of the file.
SNAPSHOT_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("tier", pa.string()),
        ("tier_key", pa.string()),
        ("rfm_segment", pa.string()),
        ("cluster_name", pa.string()),
        ("lifecycle_stage", pa.string()),
        ("monetary", pa.float64()),
        ("clv", pa.float64()),
        ("churn_risk", pa.float64()),
        ("risk_band", pa.string()),
        ("last_purchase", pa.timestamp("us")),
    ]
)


def _date(as_of: Any) -> dt.date:
    """``as_of`` (a date, a timestamp or 'YYYY-MM-DD') as a date."""
    try:
        stamp = pd.Timestamp(as_of)
    except (ValueError, TypeError):
        raise UserError(f"as-of date {as_of!r} is not a date (use YYYY-MM-DD)") from None
    if pd.isna(stamp):
        raise UserError("an as-of date is needed for a history snapshot")
    return stamp.date()


def tier_codes(tiers: pd.Series, labels: dict[str, list[str]] | None) -> np.ndarray:
    """Each tier label's position in ``labels`` (``config["tiers"]["labels"]``: {key: [en, zh]}), found by its
    label in either language or by its key; -1 where a label is unknown or the tier is missing. The handful of
    distinct labels is looked up once each."""
    lookup: dict[str, int] = {}
    for i, (key, names) in enumerate((labels or {}).items()):
        lookup.update({str(name): i for name in names})
        lookup[str(key)] = i
    text = pa.array(_text(tiers).array, from_pandas=True)
    encoded = pc.dictionary_encode(text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text)
    positions = np.array([lookup.get(v, -1) for v in encoded.dictionary.to_pylist()] + [-1], dtype=np.int64)
    indices = pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy(zero_copy_only=False)
    return positions[indices]


def tier_keys(tiers: pd.Series, labels: dict[str, list[str]] | None) -> pd.Series:
    """The tier key (vip, important, ...) of each tier label, by ``config["tiers"]["labels"]`` ({key: [en, zh]});
    a value that already is a key stays. Missing where a label is unknown or the tier is missing."""
    return pd.Series(text_column(labels or {}, tier_codes(tiers, labels)), index=tiers.index, name=tiers.name)


def _text(values: pd.Series) -> pd.Series:
    """``values`` as text (``str`` of each value), missing values missing."""
    return values.astype("string")


def snapshot(customers: pd.DataFrame, labels: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """The columns of ``customers`` the history keeps (``SNAPSHOT_SCHEMA``), missing ones empty; ``tier_key``
    from ``labels`` when given."""
    if "customer_id" not in customers:
        raise UserError("the customer table has no customer_id column")
    ids = customers["customer_id"].astype(str)
    if pc.count_distinct(pa.array(ids.array, from_pandas=True), mode="all").as_py() < len(ids):  # one hash
        raise UserError(f"the customer table repeats {int(ids.duplicated().sum())} customer ids")
    out = pd.DataFrame({"customer_id": ids.reset_index(drop=True)})
    for name in SNAPSHOT_SCHEMA.names[1:]:
        if name == "tier_key":
            continue
        if name in customers:
            out[name] = customers[name].reset_index(drop=True)
        else:
            out[name] = None
    tiers = out["tier"]
    out.insert(2, "tier_key", tier_keys(tiers, labels) if labels else None)
    for name in ("monetary", "clv", "churn_risk"):
        out[name] = pd.to_numeric(out[name], errors="coerce").astype(float)
    out["last_purchase"] = pd.to_datetime(out["last_purchase"]).astype("datetime64[us]")
    for name in ("tier", "tier_key", "rfm_segment", "cluster_name", "lifecycle_stage", "risk_band"):
        out[name] = _text(out[name])
    return out


def written(table: pa.Table, path: Path) -> None:
    """``table`` written as Parquet at ``path`` and on the disk (fsync) before it is renamed into place: after a
    crash of the machine the rename is never there without the data."""
    pq.write_table(table, path)
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def append_snapshot(
    history_dir: str | Path,
    customers: pd.DataFrame,
    as_of: Any,
    tier_labels: dict[str, list[str]] | None = None,
) -> Path:
    """Write the run's customer snapshot for ``as_of`` into the history store at ``history_dir``, replacing
    the snapshot of the same date if there is one. ``tier_labels`` (``config["tiers"]["labels"]``) adds the
    tier key, so a later rename of a tier label does not break the migration. Returns the partition folder."""
    day = _date(as_of)
    return write_snapshot(history_dir, snapshot(customers, tier_labels), day)


def write_snapshot(history_dir: str | Path, frame: pd.DataFrame, as_of: Any) -> Path:
    """Write ``frame`` (from :func:`snapshot`) as the snapshot for ``as_of`` into the history store, replacing
    the snapshot of the same date if there is one. Returns the partition folder.

    A reader never sees half a snapshot, even if the process is killed midway: a new partition is written in a
    hidden folder beside the others and renamed into place; a rerun's file is written beside the old one under a
    hidden name and renamed over it (one rename: there is no moment without a snapshot of that date). What a
    killed writer left (hidden, named by its host and pid) is removed here by the next one."""
    root = Path(history_dir)
    root.mkdir(parents=True, exist_ok=True)
    remove_abandoned([*root.glob(".tmp-*"), *root.glob(f"{PARTITION}=*/.{PART_FILE}*")])
    day = _date(as_of)
    table = pa.Table.from_pandas(frame, schema=SNAPSHOT_SCHEMA, preserve_index=False)
    target = root / f"{PARTITION}={day.isoformat()}"
    if not target.is_dir():
        tmp = root / owned(f".tmp-{target.name}")
        tmp.mkdir()
        try:
            written(table, tmp / PART_FILE)
            kill_point("history_write")
            try:
                tmp.rename(target)
            except OSError:  # another writer made the partition meanwhile: replace its file, as a rerun does
                if not target.is_dir():
                    raise
                os.replace(tmp / PART_FILE, target / PART_FILE)
            return target
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    tmp = target / owned(f".{PART_FILE}")
    try:
        written(table, tmp)
        kill_point("history_write")
        os.replace(tmp, target / PART_FILE)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def as_of_dates(history_dir: str | Path) -> list[dt.date]:
    """The as-of dates of the snapshots in the store, oldest first (none when the store does not exist)."""
    root = Path(history_dir)
    if not root.is_dir():
        return []
    found = []
    for path in root.glob(f"{PARTITION}=*"):
        if (path / PART_FILE).is_file():
            found.append(_date(path.name.split("=", 1)[1]))
    return sorted(found)


def check_store(history_dir: str | Path) -> None:
    """Raise :class:`UserError` naming the first snapshot of the store whose file cannot be read as Parquet (its
    footer, which a file cut short lacks: a full disk, a copy that stopped), and saying what to do. Reads each
    file's footer only, a few kilobytes, whatever the number of customers."""
    for path in _part_files(history_dir):
        _check_part(path, pq.read_metadata)


def _part_files(history_dir: str | Path) -> list[Path]:
    root = Path(history_dir)
    return sorted(root.glob(f"{PARTITION}=*/{PART_FILE}")) if root.is_dir() else []


def _check_part(path: Path, read: Callable[[Path], Any]) -> None:
    """``read(path)``, a failure to read told as the user's one-line error about that snapshot."""
    try:
        read(path)
    except (OSError, pa.ArrowException) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if str(path) in reason:  # Arrow's "Could not open Parquet input source '<path>': <reason>. Either ..."
            reason = reason.split(": ", 1)[-1].split(". ")[0]
        folder, root = path.parent, path.parent.parent
        raise UserError(
            f"the history snapshot {path} cannot be read ({reason}): move its folder out of the history (e.g. "
            f"mv {folder} {root.parent / 'history-set-aside' / folder.name}) and run again; the tier migration "
            f"then compares with the snapshot before it"
        ) from None


def previous_as_of(history_dir: str | Path, as_of: Any) -> dt.date | None:
    """The latest as-of date in the store before ``as_of``; ``None`` when there is none."""
    day = _date(as_of)
    earlier = [d for d in as_of_dates(history_dir) if d < day]
    return earlier[-1] if earlier else None


def read_history(history_dir: str | Path, as_of: Any = None) -> pd.DataFrame:
    """Every snapshot in the store (or only the one of ``as_of``), with its ``as_of`` date (datetime64),
    read with DuckDB through Ibis. Empty (with the snapshot's columns) when there is nothing to read."""
    import ibis

    dates = as_of_dates(history_dir)
    if as_of is not None:
        dates = [d for d in dates if d == _date(as_of)]
    if not dates:
        empty = SNAPSHOT_SCHEMA.empty_table().to_pandas()
        return empty.assign(as_of=pd.Series(dtype="datetime64[s]"))
    # one date: its file alone (a damaged snapshot of another date does not stop it)
    root, name = Path(history_dir), f"{PARTITION}={dates[0].isoformat() if as_of is not None else '*'}"
    pattern = str(root / name / PART_FILE)
    con = ibis.duckdb.connect()
    try:
        t = con.read_parquet(pattern, hive_partitioning=True, union_by_name=True)
        frame = con.execute(t.order_by([PARTITION, "customer_id"]))
    except Exception:  # the engine's own error says neither which file nor what to do: find the file
        for path in sorted(root.glob(f"{name}/{PART_FILE}")):
            _check_part(path, pq.read_table)
        raise
    finally:
        con.disconnect()
    frame[PARTITION] = pd.to_datetime(frame[PARTITION])
    return frame


@dataclass
class Migration:
    """Tier migration between two snapshots.

    ``counts`` and ``value``: the transition matrix (rows: tier at the previous review, and "new"; columns:
    tier now, and "lost"), in customers and in value. ``moves``: one row per customer in either snapshot
    (``customer_id``, ``tier_before``, ``tier_after``, ``move``: up, down, same, new or lost, ``value``,
    ``bought_again``). ``bought_again``: per tier of the previous review, its customers, how many bought
    again after the previous as-of date, and the share. ``report``: the same, JSON-able.
    """

    counts: pd.DataFrame
    value: pd.DataFrame
    moves: pd.DataFrame
    bought_again: pd.DataFrame
    report: dict[str, Any] = field(default_factory=dict)
    tier_order: list[str] = field(default_factory=list)


def _keys(frame: pd.DataFrame, labels: dict | None, tier_order: list[str], which: str) -> pd.Series:
    """Each customer's tier key: the snapshot's ``tier_key`` where present, else its label mapped by ``labels``."""
    by_label = tier_keys(frame["tier"], labels or {k: [] for k in tier_order}) if "tier" in frame else None
    if "tier_key" in frame and by_label is not None:
        keys = frame["tier_key"].astype(object).where(frame["tier_key"].notna(), by_label)
    elif "tier_key" in frame:
        keys = frame["tier_key"].astype(object)
    elif by_label is not None:
        keys = by_label
    else:
        raise UserError(f"the {which} snapshot has no tier column")
    unknown = keys.isna() | ~keys.isin(tier_order)
    if unknown.any():
        shown = frame["tier"][unknown] if "tier" in frame else keys[unknown]
        names = sorted({str(v) for v in shown})[:5]
        raise UserError(
            f"the {which} snapshot has tiers that are not in tiers.labels: {', '.join(names)} "
            f"(known: {', '.join(tier_order)})"
        )
    return pd.Series(keys.to_numpy(), index=frame["customer_id"].astype(str).to_numpy())


def _previous_date(previous: pd.DataFrame, previous_as_of: Any) -> pd.Timestamp:
    if previous_as_of is not None:
        return pd.Timestamp(_date(previous_as_of))
    if PARTITION in previous and previous[PARTITION].notna().any():
        return pd.Timestamp(previous[PARTITION].max())
    raise UserError("the previous snapshot has no as-of date: pass previous_as_of")


def migration(
    previous: pd.DataFrame,
    current: pd.DataFrame,
    tier_order: list[str],
    labels: dict[str, list[str]] | None = None,
    previous_as_of: Any = None,
    as_of: Any = None,
    value: str = "monetary",
) -> Migration:
    """Compare two snapshots (frames with ``customer_id``, ``tier`` and/or ``tier_key``, ``last_purchase``
    and the ``value`` column).

    ``tier_order``: tier keys, best first (vip, important, ordinary, potential); moving to an earlier key is an
    upgrade. ``labels`` (``config["tiers"]["labels"]``) maps the tier labels to keys where a snapshot has no
    ``tier_key``. A customer's value is this period's (``current[value]``), or the previous one's for a lost
    customer. Bought again: the customer's current ``last_purchase`` is after ``previous_as_of`` (default:
    the previous snapshot's ``as_of``); a lost customer did not buy again.
    """
    order = list(tier_order)
    if len(set(order)) != len(order) or not order:
        raise UserError(f"tier order {order} must list each tier once")
    before = _keys(previous, labels, order, "previous")
    after = _keys(current, labels, order, "current")
    for name, keys in (("previous", before), ("current", after)):
        if keys.index.duplicated().any():
            raise UserError(f"the {name} snapshot repeats customer ids")
    since = _previous_date(previous, previous_as_of)
    ids = before.index.union(after.index, sort=False)
    rank = {k: i for i, k in enumerate(order)}
    # Each customer's row in either snapshot (-1: not in it), looked up once for every column taken from it.
    in_before, in_after = before.index.get_indexer(ids), after.index.get_indexer(ids)
    tier_before = _take(before, in_before, ids)
    tier_after = _take(after, in_after, ids)
    worth = _take(current[value].astype(float), in_after, ids) if value in current else pd.Series(np.nan, index=ids)
    if value in previous:
        worth = worth.where(tier_after.notna(), _take(previous[value].astype(float), in_before, ids))
    if "last_purchase" in current:
        last = _take(pd.to_datetime(current["last_purchase"]), in_after, ids)
    else:
        last = pd.Series(pd.NaT, index=ids)
    r0, r1 = tier_before.map(rank), tier_after.map(rank)
    move = np.select(
        [tier_before.isna(), tier_after.isna(), r1 < r0, r1 > r0], ["new", "lost", "up", "down"], default="same"
    )
    moves = pd.DataFrame(
        {
            "customer_id": ids,
            "tier_before": tier_before.fillna(NEW).to_numpy(),
            "tier_after": tier_after.fillna(LOST).to_numpy(),
            "move": move,
            "value": worth.fillna(0.0).to_numpy(),
            "bought_again": (tier_before.notna() & (last > since)).to_numpy(),
        }
    )
    rows, cols = [NEW, *order], [*order, LOST]
    counts = pd.crosstab(moves["tier_before"], moves["tier_after"]).reindex(index=rows, columns=cols, fill_value=0)
    val = moves.pivot_table(index="tier_before", columns="tier_after", values="value", aggfunc="sum", fill_value=0.0)
    val = val.reindex(index=rows, columns=cols, fill_value=0.0).astype(float)
    for t in (counts, val):
        t.index.name, t.columns.name = "tier_before", "tier_after"
    counts = counts.astype(int)
    old = moves[moves["move"] != "new"].groupby("tier_before", sort=False)
    again = pd.DataFrame({"customers": old.size(), "bought_again": old["bought_again"].sum()}).reindex(order)
    again = again.fillna(0).astype(int)
    again["share"] = again["bought_again"] / again["customers"].where(again["customers"] > 0)
    again.index.name = "tier_before"
    n = moves["move"].value_counts()
    report = {
        "previous_as_of": since.date().isoformat(),
        "as_of": _date(as_of).isoformat() if as_of is not None else _latest(current),
        "tier_order": order,
        "customers_previous": int(len(before)),
        "customers_current": int(len(after)),
        **{k: int(n.get(k, 0)) for k in ("up", "down", "same", "new", "lost")},
        "counts": {r: {c: int(counts.at[r, c]) for c in cols} for r in rows},
        "value": {r: {c: float(val.at[r, c]) for c in cols} for r in rows},
        "bought_again": {
            k: {"customers": int(again.at[k, "customers"]), "bought_again": int(again.at[k, "bought_again"]),
                "share": None if pd.isna(again.at[k, "share"]) else float(again.at[k, "share"])}
            for k in order
        },
    }  # fmt: skip
    return Migration(counts, val, moves, again, report, order)


def _take(values: pd.Series, rows: np.ndarray, ids: pd.Index) -> pd.Series:
    """``values`` at positions ``rows`` (missing where -1), indexed by ``ids``: a reindex by position."""
    return pd.Series(values.reset_index(drop=True).reindex(rows).to_numpy(), index=ids)


def _latest(frame: pd.DataFrame) -> str | None:
    if PARTITION in frame and frame[PARTITION].notna().any():
        return pd.Timestamp(frame[PARTITION].max()).date().isoformat()
    return None


def migration_since_previous(
    history_dir: str | Path,
    as_of: Any,
    tier_order: list[str],
    labels: dict[str, list[str]] | None = None,
    current: pd.DataFrame | None = None,
) -> Migration | None:
    """The migration from the snapshot before ``as_of`` to the one of ``as_of`` (``current`` when given, e.g.
    the snapshot a run has just written, else read from the store); ``None`` when the store has no earlier
    snapshot (or none for ``as_of``), and when either snapshot has no tiers at all (a run whose segments page did
    not run or declined: there is no migration to tell, rather than every customer an unknown tier)."""
    before = previous_as_of(history_dir, as_of)
    if before is None:
        return None
    if current is None:
        current = read_history(history_dir, as_of)
    if not _tiered(current):
        return None
    previous = read_history(history_dir, before)
    if not _tiered(previous):
        return None
    return migration(previous, current, tier_order, labels, previous_as_of=before, as_of=as_of)


def _tiered(frame: pd.DataFrame) -> bool:
    """Whether any customer of the snapshot ``frame`` has a tier."""
    return any(name in frame and frame[name].notna().any() for name in ("tier", "tier_key"))
