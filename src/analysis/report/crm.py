"""CRM import presets (``--crm zoho|salesforce|hubspot|fxiaoke``): the customer tier table as the file each CRM's
import tool takes, written to ``crm/`` in the run directory.

Each preset is data (``defaults/crm.yaml``, with the documentation it follows): the headers, the required name
field, the field records are matched on, how dates and probabilities are written, the encoding and the rows per
file (a larger table is split into numbered files). Values are written as import tools read them: money with two
decimals and no thousands separator, probabilities as percent numbers, dates in the preset's format, tiers as the
preset's picklist values, missing values as empty cells.

Nothing is invented: where the data lacks a required field (CDNOW has no customer names) the file holds the
customer id there, or the preset is skipped (``crm.missing_name``), and a one-line warning says which.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pandas as pd

from analysis.errors import UserError
from analysis.report.export import write_plain_xlsx
from analysis.report.rundir import MONEY_COLUMNS, PROBABILITY_COLUMNS

CRM_DIR = "crm"
MISSING_NAME = ("id", "skip")
TIER_COLUMNS = ("tier", "tier_zh")


class CrmFiles(NamedTuple):
    """What :func:`write_crm_files` wrote: the files per system, and the warnings to show the user."""

    files: dict[str, list[Path]]
    warnings: list[str]


def check_systems(systems: list[str] | tuple[str, ...], config: dict) -> list[str]:
    """``systems`` without repeats, in the order given; a name without a preset stops with a one-line error."""
    known = list(config["crm"]["systems"])
    chosen: list[str] = []
    for name in systems:
        key = str(name).strip().lower()
        if key not in known:
            raise UserError(f"unknown CRM {name!r}: use one of {', '.join(known)}")
        if key not in chosen:
            chosen.append(key)
    return chosen


def tier_keys(tiers: pd.Series, config: dict) -> pd.Series:
    """The tier key (vip, important, ...) of each English tier label in ``tiers``."""
    by_label = {labels[0]: key for key, labels in config["tiers"]["labels"].items()}
    return tiers.map(by_label)


def _text(values: pd.Series, column: str, preset: dict) -> pd.Series:
    """``values`` as the strings the import tool reads; missing values as empty strings."""
    missing = values.isna()
    if column in MONEY_COLUMNS:
        out = values.astype(float).map("{:.2f}".format)
    elif column in PROBABILITY_COLUMNS:
        scale = 100.0 if preset.get("percent") else 1.0
        out = (values.astype(float) * scale).round(4).map("{:g}".format)
    elif pd.api.types.is_datetime64_any_dtype(values):
        out = values.dt.strftime(preset["date_format"])
    elif pd.api.types.is_float_dtype(values):
        out = values.map("{:.6g}".format)
    else:
        out = values.astype(object).map(str)
    return out.where(~missing, "")


def preset_frame(table: pd.DataFrame, preset: dict, config: dict, system: str) -> tuple[pd.DataFrame, list[str]]:
    """The rows of one CRM file set: ``table`` (the tier table) under the preset's headers, as text; and the
    warnings. An empty frame (no columns) means the preset is skipped."""
    warnings: list[str] = []
    ids = table["customer_id"].astype(str)
    out = pd.DataFrame(index=table.index)
    name_header = preset["name"]
    names = table["customer_name"].astype(object) if "customer_name" in table else pd.Series(None, index=table.index)
    names = names.where(names.notna() & (names.astype(str).str.strip() != ""), None)
    missing = int(names.isna().sum())
    if missing:
        policy = config["crm"].get("missing_name", "id")
        if policy not in MISSING_NAME:
            raise UserError(f"setting 'crm.missing_name' is {policy!r}: use one of {', '.join(MISSING_NAME)}")
        if missing == len(table) and policy == "skip":
            warnings.append(f"{system}: skipped: the data has no customer names for {name_header!r} (required)")
            return pd.DataFrame(), warnings
        whose = "the data has no customer names" if missing == len(table) else f"{missing:,} customers have no name"
        warnings.append(f"{system}: {whose}, so {name_header!r} (required) holds the customer id")
        names = names.where(names.notna(), ids)
    out[name_header] = names.astype(str)
    if preset.get("key"):
        source = next((c for c in preset.get("key_from") or [] if c in table), None)
        if source is None:
            warnings.append(
                f"{system}: the data has no {' or '.join(preset.get('key_from') or ['key'])} column, so "
                f"{preset['key']!r} is left out and each import creates new records instead of updating them"
            )
        else:
            out[preset["key"]] = _text(table[source], source, preset)
    values = dict(preset.get("tier_values") or [])
    for header, column in preset["columns"]:
        if column not in table:
            continue
        if column in TIER_COLUMNS and "tier" in table:
            keys = tier_keys(table["tier"], config)
            mapped = keys.map(values)
            out[header] = mapped.where(mapped.notna(), table[column]).astype(object).where(table[column].notna(), "")
        else:
            out[header] = _text(table[column], column, preset)
    return out.reset_index(drop=True), warnings


def _parts(frame: pd.DataFrame, max_rows: int) -> list[pd.DataFrame]:
    """``frame`` in consecutive parts of at most ``max_rows`` rows (one empty part for an empty frame)."""
    if max_rows < 1:
        raise UserError(f"a CRM preset's max_rows must be at least 1, not {max_rows}")
    return [frame.iloc[i : i + max_rows] for i in range(0, max(len(frame), 1), max_rows)]


def write_crm_files(
    run_dir: str | Path, table: pd.DataFrame, config: dict, systems: list[str] | tuple[str, ...]
) -> CrmFiles:
    """Write the import files of each of ``systems`` for ``table`` (the tier table, see
    :func:`analysis.report.export.tier_table`) into ``run_dir/crm/``.

    Returns the files per system (a skipped preset has none) and one-line warnings: a required field the data
    lacks, a missing match key, a table split into several files.
    """
    chosen = check_systems(systems, config)
    folder = Path(run_dir) / CRM_DIR
    files: dict[str, list[Path]] = {}
    warnings: list[str] = []
    for system in chosen:
        preset = config["crm"]["systems"][system]
        frame, notes = preset_frame(table, preset, config, system)
        warnings += notes
        files[system] = []
        if frame.columns.empty:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        suffix = ".xlsx" if preset["format"] == "xlsx" else ".csv"
        for stale in folder.glob(f"{preset['file']}*{suffix}"):
            stale.unlink()
        parts = _parts(frame, int(preset["max_rows"]))
        if len(parts) > 1:
            warnings.append(
                f"{system}: {len(frame):,} customers split into {len(parts)} files of at most "
                f"{int(preset['max_rows']):,} (the import tool's limit per file)"
            )
        for number, part in enumerate(parts, 1):
            stem = preset["file"] if len(parts) == 1 else f"{preset['file']}_{number:03d}"
            path = folder / f"{stem}{suffix}"
            if suffix == ".xlsx":
                write_plain_xlsx(path, part.replace("", None))
            else:
                part.to_csv(path, index=False, encoding=preset.get("encoding") or "utf-8-sig", lineterminator="\r\n")
            files[system].append(path)
    return CrmFiles(files, warnings)


__all__ = ["CRM_DIR", "CrmFiles", "check_systems", "preset_frame", "write_crm_files"]
