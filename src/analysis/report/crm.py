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

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.errors import UserError
from analysis.report.export import write_plain_xlsx
from analysis.report.history import tier_codes
from analysis.report.rundir import MONEY_COLUMNS, PROBABILITY_COLUMNS, csv_formula_guard
from analysis.report.sheetxml import number_text, utf8_bytes
from analysis.tables import formula_guarded, text_column

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


def _text(values: pd.Series, column: str, preset: dict, guard: bool = False) -> pd.Series:
    """``values`` as the strings the import tool reads; missing values as empty strings. Money, probabilities,
    dates, whole numbers and text are formatted by Arrow a column at a time, exactly as Python's ``format``
    writes them value by value; other floats by Python. ``guard``: a text (not a number written as text) that
    begins with a formula start gets a leading ``'`` (:func:`analysis.tables.formula_guarded`)."""
    missing = values.isna().to_numpy()
    if column in MONEY_COLUMNS:
        out = _cents(values.astype(float).to_numpy(float, na_value=np.nan))
    elif column in PROBABILITY_COLUMNS:
        scale = 100.0 if preset["percent"] else 1.0
        out = _short((values.astype(float) * scale).round(4).to_numpy(float, na_value=np.nan))
    elif pd.api.types.is_datetime64_any_dtype(values):
        codes, days = pd.factorize(values)  # a handful of dates: each formatted once
        out = pa.array([*pd.DatetimeIndex(days).strftime(preset["date_format"]), None]).take(
            pa.array(np.where(codes < 0, len(days), codes)))  # no date (code -1): the None after the dates
    elif pd.api.types.is_float_dtype(values):
        out = pa.array(values.map("{:.6g}".format).to_numpy(dtype=object), pa.string(), from_pandas=True)
    elif pd.api.types.is_integer_dtype(values):
        out = pc.cast(pa.array(values.array, from_pandas=True), pa.string())
    elif isinstance(values.dtype, pd.StringDtype):
        out = pa.array(values.array, from_pandas=True)
        out = formula_guarded(out) if guard else out
    else:
        out = pa.array(values.astype(object).map(str).to_numpy(dtype=object), pa.string())
        out = formula_guarded(out) if guard else out
    out = pc.if_else(pa.array(missing), "", out) if missing.any() else out
    return pd.Series(pd.array(out, dtype="str"), index=values.index)


def _python(text: pa.Array, values: np.ndarray, odd: np.ndarray, form: str) -> pa.Array:
    """``text`` with the values at ``odd`` formatted by Python's ``format(value, form)``."""
    if not odd.any():
        return text
    return pc.replace_with_mask(text, pa.array(odd), pa.array([format(v, form) for v in values[odd]], pa.string()))


def _digits(count: int, strip: bool) -> pa.Array:
    """The ``count``-digit fractions ``.00`` ... ``.99`` (``strip``: without trailing zeros, empty for none)."""
    texts = [f".{i:0{count}d}" for i in range(10**count)]
    return pa.array([t.rstrip("0").rstrip(".") for t in texts] if strip else texts)


def _cents(values: np.ndarray) -> pa.Array:
    """Money as ``"{:.2f}".format`` writes it (a NaN gives a placeholder the caller empties): from whole cents,
    except the values whose cents a float product could round the other way (within 1e-4 of half a cent), or too
    large: Python formats those."""
    size = np.abs(np.nan_to_num(values, posinf=0.0, neginf=0.0))
    cents = size * 100
    whole = np.rint(cents)
    odd = (np.abs(cents - np.floor(cents) - 0.5) < 1e-4) | (size >= 1e9) | np.isinf(values)
    whole = np.where(odd, 0, whole).astype(np.int64)
    text = number_text(np.signbit(values) & ~np.isnan(values), whole // 100, whole % 100, _digits(2, False))
    return _python(text, values, odd, ".2f")


def _short(values: np.ndarray) -> pa.Array:
    """Values rounded to 4 decimals as ``"{:g}".format`` writes them (a NaN gives a placeholder the caller
    empties): their decimals without trailing zeros while they have at most 6 significant digits; Python formats
    the others."""
    size = np.abs(np.nan_to_num(values, posinf=0.0, neginf=0.0))
    scaled = np.rint(size * 10_000)
    odd = ~((scaled < 1_000_000) | ((scaled % 10_000 == 0) & (size < 1_000_000))) | np.isinf(values)
    odd |= scaled / 10_000 != size  # (not a value of 4 decimals)
    scaled = np.where(odd, 0, scaled).astype(np.int64)
    text = number_text(np.signbit(values) & ~np.isnan(values), scaled // 10_000, scaled % 10_000, _digits(4, True))
    return _python(text, values, odd, "g")


def preset_frame(table: pd.DataFrame, preset: dict, config: dict, system: str) -> tuple[pd.DataFrame, list[str]]:
    """The rows of one CRM file set: ``table`` (the tier table) under the preset's headers, as text; and the
    warnings. An empty frame (no columns) means the preset is skipped. In a CSV preset, with
    ``export.csv_formula_guard``, a text from the data that begins with a formula start (``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return) gets a leading ``'``; numbers are never changed (an XLSX preset writes
    text cells, which are never formulas)."""
    guard = preset["format"] != "xlsx" and csv_formula_guard(config)
    warnings: list[str] = []
    ids = table["customer_id"].astype(str)
    out = pd.DataFrame(index=table.index)
    name_header = preset["name"]
    names = table["customer_name"] if "customer_name" in table else pd.Series(None, index=table.index, dtype="str")
    names = names.where(names.notna(), None).astype("str") if not isinstance(names.dtype, pd.StringDtype) else names
    names = names.where(names.notna() & (names.str.strip() != ""), None)
    missing = int(names.isna().sum())
    if missing:
        policy = config["crm"]["missing_name"]
        if policy not in MISSING_NAME:
            raise UserError(f"setting 'crm.missing_name' is {policy!r}: use one of {', '.join(MISSING_NAME)}")
        if missing == len(table) and policy == "skip":
            warnings.append(f"{system}: skipped: the data has no customer names for {name_header!r} (required)")
            return pd.DataFrame(), warnings
        whose = "the data has no customer names" if missing == len(table) else f"{missing:,} customers have no name"
        warnings.append(f"{system}: {whose}, so {name_header!r} (required) holds the customer id")
        names = names.where(names.notna(), ids)
    out[name_header] = _text(names.astype("str"), "customer_name", preset, guard)
    if preset["key"]:  # (null: the system matches on no field)
        source = next((c for c in preset["key_from"] or () if c in table), None)
        if source is None:
            warnings.append(
                f"{system}: the data has no {' or '.join(preset['key_from'] or ['key'])} column, so "
                f"{preset['key']!r} is left out and each import creates new records instead of updating them"
            )
        else:
            out[preset["key"]] = _text(table[source], source, preset, guard)
    values = dict(preset["tier_values"] or ())  # (null: every tier keeps its label)
    for header, column in preset["columns"]:
        if column not in table:
            continue
        if column in TIER_COLUMNS and "tier" in table:
            labels = config["tiers"]["labels"]  # the tier's picklist value, by its key; else the column's own text
            mapped = pd.Series(text_column([values.get(key) for key in labels], tier_codes(table["tier"], labels)),
                               index=table.index)  # fmt: skip
            shown = mapped.where(mapped.notna(), table[column]).where(table[column].notna())
            out[header] = _text(shown.astype("str"), column, preset, guard)
        else:
            out[header] = _text(table[column], column, preset, guard)
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
                _write_csv(path, part, csv_encoding(preset, system))
            files[system].append(path)
    return CrmFiles(files, warnings)


def csv_encoding(preset: dict, system: str) -> str:
    """The text encoding of a CSV preset's files (``crm.systems.<system>.encoding``); a CSV preset without one
    stops with a one-line error (null is for the Excel presets, which have no encoding)."""
    if not preset["encoding"]:
        raise UserError(f"setting 'crm.systems.{system}.encoding' is empty: a CSV preset takes utf-8-sig "
                        "(UTF-8 with BOM, Excel's CSV UTF-8) or utf-8")
    return str(preset["encoding"])


CSV_SPECIAL = np.frombuffer(b',"\r\n', dtype=np.uint8)  # the characters that make the csv writer quote a field


def _quoted(text: pa.Array) -> pa.Array:
    """Fields as Python's csv writer writes them with ``\\r\\n`` line ends: a field holding a comma, a quote, a
    carriage return or a newline enclosed in quotes, its quotes doubled. A column whose text holds none of them
    anywhere (numbers, dates, most labels) is told by one scan of its bytes; one of few distinct texts is looked
    at once per text."""
    text = pc.cast(text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text, pa.string())
    if not np.isin(np.frombuffer(utf8_bytes(text), dtype=np.uint8), CSV_SPECIAL).any():
        return text
    encoded = pc.dictionary_encode(text)  # a column of a few long texts (actions, names of groups): each once
    if 4 * len(encoded.dictionary) < len(text):
        return _quoted(encoded.dictionary).take(encoded.indices)
    special = pc.match_substring_regex(text, '[,"\\r\\n]')
    return pc.if_else(special, pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', ""), text)


def _write_csv(path: Path, frame: pd.DataFrame, encoding: str) -> None:
    """``frame`` (text, no missing values) as ``frame.to_csv(path, index=False, encoding=encoding,
    lineterminator="\\r\\n")`` writes it, byte for byte: the lines built a column at a time with Arrow."""
    columns = [_quoted(pa.array(frame[column].array, from_pandas=True)) for column in frame.columns]
    head = ",".join(_quoted(pa.array([str(c) for c in frame.columns], pa.string())).to_pylist()) + "\r\n"
    body = memoryview(b"")
    if len(frame):
        body = utf8_bytes(pc.binary_join_element_wise(pc.binary_join_element_wise(*columns, ","), "\r\n", ""))
    with path.open("wb") as out:
        if encoding.replace("-", "").replace("_", "").lower() in ("utf8", "utf8sig"):
            out.write(head.encode(encoding))
            out.write(body)
        else:
            out.write((head + bytes(body).decode("utf-8")).encode(encoding))


__all__ = ["CRM_DIR", "CrmFiles", "check_systems", "preset_frame", "write_crm_files"]
