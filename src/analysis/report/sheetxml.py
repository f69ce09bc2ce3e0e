"""The rows of a long table written into an XLSX sheet fast: the SpreadsheetML of sheet 1 of ``customers.xlsx``
and of the CRM presets' Excel files, built a column at a time with Arrow's string kernels.

openpyxl writes the workbook around the rows (sheets, styles, widths, the frozen header, the filter; see
:mod:`analysis.report.export`); openpyxl writes each cell through its object model (about 20 microseconds a
cell, 10 minutes for a million customers), so :func:`add_rows` then streams the rows into the saved sheet:

- numbers as Python writes them (``12.0``, ``0.1``, :func:`float_text`), dates as Excel serial days, booleans
  as ``t="b"``; a missing or infinite value is no cell;
- text through the shared-strings table (``xl/sharedStrings.xml``, as Excel writes it): a tier table repeats a
  handful of segment, tier and action texts a million times, so each cell holds the index of its text instead
  of the text, which makes the sheet several times smaller and its compression as much faster. Text is never a
  formula, is XML-escaped and cleaned of the control characters an XLSX file cannot hold.

The sheet is compressed in a second thread while the next rows are built (zlib and Arrow release the GIL).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from openpyxl.utils import get_column_letter

DECIMALS = 4  # floats with at most this many decimals are written from integers (see _short_decimals)
CHUNK_ROWS = 50_000  # rows turned into XML at a time (bounded memory)
ZIP_LEVEL = 1  # deflate level of the streamed parts: fast; level 6 saves ~15 % of the file for ~3x the time
EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # day 0 of Excel's serial dates (1900 system)
# The control characters an XLSX file cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE, as an Arrow regex).
ILLEGAL_XML = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRINGS_PART = "xl/sharedStrings.xml"
STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
STRINGS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"

BOOL, NUMBER, TEXT = ' t="b"', "", ' t="s"'  # the type attribute of a cell


def float_text(values: np.ndarray) -> pa.Array:
    """Floats as Python writes them (``repr``: ``12.0``, ``0.1``, ``1e-05``), null where not finite.

    Arrow formats a million floats in milliseconds but writes whole numbers without ``.0`` and switches to
    exponents at other magnitudes than Python; whole numbers get their ``.0`` and the rare values Arrow may
    write differently (an exponent, below 1e-4 or from 1e16) are formatted by Python, so every value reads
    exactly as ``repr`` writes it."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    short = _short_decimals(values, finite)
    if short is not None:
        return short
    text = pc.cast(pa.array(values, mask=~finite), pa.string())
    size = np.abs(values)
    python = finite & (((size < 1e-4) & (size > 0)) | (size >= 1e16))
    python |= pc.fill_null(pc.match_substring(text, "e"), False).to_numpy(zero_copy_only=False)
    whole = finite & ~python & (values == np.floor(values))
    if whole.any():
        text = pc.if_else(pa.array(whole), pc.binary_join_element_wise(text, ".0", ""), text)
    if python.any():
        odd = np.flatnonzero(python)
        text = text.to_numpy(zero_copy_only=False).astype(object)
        text[odd] = [repr(float(v)) for v in values[odd]]
        text = pa.array(text, type=pa.string(), mask=~finite)
    return text


def _short_decimals(values: np.ndarray, finite: np.ndarray) -> pa.Array | None:
    """Floats with at most ``DECIMALS`` decimals (money rounded to cents, shares to 4 places, serial dates) as
    ``repr`` writes them, from their whole part and their ten-thousandths (the shortest text that reads back as
    such a value is its decimals without trailing zeros); ``None`` when a value has more decimals or is too
    large for that."""
    scale = 10**DECIMALS
    known = np.where(finite, values, 0.0)
    scaled = np.rint(known * scale)
    if not (np.abs(scaled).max(initial=0.0) < 1e15 and np.array_equal(scaled / scale, known)):
        return None
    whole, fraction = np.divmod(np.abs(scaled).astype(np.int64), scale)
    return number_text(np.signbit(values) & finite, whole, fraction, _fractions(), missing=~finite)


def number_text(negative: np.ndarray, whole: np.ndarray, fraction: np.ndarray, fractions: pa.Array,
                missing: np.ndarray | None = None) -> pa.Array:
    """Numbers as text from their sign, whole part and fraction (an index into the texts ``fractions``), null
    where ``missing``: a million values in milliseconds, no Python string per value."""
    text = pc.binary_join_element_wise(
        pc.cast(pa.array(whole, mask=missing), pa.string()), fractions.take(pa.array(fraction)), ""
    )
    if negative.any():
        text = pc.if_else(pa.array(negative), pc.binary_join_element_wise("-", text, ""), text)
    return text


@cache
def _fractions() -> pa.Array:
    """``.0``, ``.0001``, ..., ``.5``, ..., ``.9999``: each number of ten-thousandths as ``repr`` ends a float."""
    return pa.array([f".{i:0{DECIMALS}d}".rstrip("0") if i else ".0" for i in range(10**DECIMALS)])


def is_text(series: pd.Series) -> bool:
    """Whether a column is written as text (anything not boolean, a date or a number)."""
    return not (
        pd.api.types.is_bool_dtype(series)
        or pd.api.types.is_datetime64_any_dtype(series)
        or pd.api.types.is_numeric_dtype(series)
    )


def _text(series: pd.Series) -> pa.Array:
    """A text column as Arrow strings, null where missing."""
    if not isinstance(series.dtype, pd.StringDtype):
        series = series.astype(object).where(series.notna(), None).astype("string")
    text = pa.array(series.array, from_pandas=True)
    return text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text


def _clean(text: pa.Array) -> pa.Array:
    """Strings without the control characters an XLSX file cannot hold."""
    text = pc.cast(text, pa.string())
    if pc.any(pc.match_substring_regex(text, ILLEGAL_XML)).as_py():
        text = pc.replace_substring_regex(text, ILLEGAL_XML, "")
    return text


class SharedStrings:
    """The workbook's shared-strings table for the text columns of ``table``: every distinct text once, the
    texts of columns with fewer distinct values first (the texts repeated most get the shortest indexes, which
    makes the sheet a tenth smaller), each column's in order of first appearance. Per column, ``codes`` gives
    each row's distinct text of that column (null: no cell) and ``positions`` the index of each of those texts in
    the table."""

    def __init__(self, table: pd.DataFrame):
        encoded = {c: pc.dictionary_encode(_text(table[c])) for c in table.columns if is_text(table[c])}
        encoded = dict(sorted(encoded.items(), key=lambda item: len(item[1].dictionary)))  # (a stable sort)
        # One hash over the columns' distinct texts (cleaned) gives each text its place in the table.
        texts = [_clean(codes.dictionary) for codes in encoded.values()]
        merged = pc.dictionary_encode(pa.concat_arrays(texts) if texts else pa.array([], pa.string()))
        self.strings: pa.Array = merged.dictionary
        self.codes: dict[str, pa.Array] = {}
        self.positions: dict[str, pa.Array] = {}
        self.count = 0
        start = 0
        for column, codes in encoded.items():
            self.positions[column] = merged.indices.slice(start, len(codes.dictionary))
            self.codes[column] = codes.indices
            start += len(codes.dictionary)
            self.count += len(codes) - codes.null_count

    def xml(self) -> Iterator[bytes | memoryview]:
        """``xl/sharedStrings.xml``."""
        yield (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<sst xmlns="{MAIN_NS}" count="{self.count}" uniqueCount="{len(self.strings)}">'
        ).encode()
        for start in range(0, len(self.strings), CHUNK_ROWS * 4):
            text = self.strings.slice(start, CHUNK_ROWS * 4)
            for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
                text = pc.replace_substring(text, char, entity)
            yield utf8_bytes(pc.binary_join_element_wise('<si><t xml:space="preserve">', text, "</t></si>", ""))
        yield b"</sst>"


def _values_text(series: pd.Series) -> tuple[pa.Array, str]:
    """A column's values as the text of their cells (null: no cell), and the cell's type attribute."""
    if pd.api.types.is_bool_dtype(series):
        return pc.cast(pa.array(series.astype("Int8"), from_pandas=True), pa.string()), BOOL
    if pd.api.types.is_datetime64_any_dtype(series):
        return float_text(((series - EXCEL_EPOCH) / pd.Timedelta(days=1)).to_numpy(float, na_value=np.nan)), NUMBER
    if pd.api.types.is_integer_dtype(series):
        return pc.cast(pa.array(series, from_pandas=True), pa.string()), NUMBER
    if series.dtype == np.float64:
        return float_text(series.to_numpy(float, na_value=np.nan)), NUMBER
    if pd.api.types.is_numeric_dtype(series):  # other widths: as pandas writes them
        finite = np.isfinite(series.astype(float).to_numpy(na_value=np.nan))
        return pa.array(series.astype("string").where(finite, None), type=pa.string(), from_pandas=True), NUMBER
    raise TypeError(f"column {series.name!r} is text: its cells come from the shared strings")


def utf8_bytes(text: pa.Array) -> memoryview:
    """The bytes of a string array without nulls, all its strings one after the other (no copy)."""
    _, offsets, data = text.buffers()
    if data is None or not len(text):
        return memoryview(b"")
    width = 8 if pa.types.is_large_string(text.type) else 4
    ends = np.frombuffer(offsets, dtype=f"<i{width}")[text.offset : text.offset + len(text) + 1]
    return memoryview(data)[int(ends[0]) : int(ends[-1])]


def rows_xml(
    table: pd.DataFrame,
    styles: dict[str, int | None],
    strings: SharedStrings,
    prepare: Any = None,
) -> Iterator[memoryview]:
    """The table's rows (row 2 on) as SpreadsheetML (UTF-8), ``CHUNK_ROWS`` rows at a time: each cell
    ``<c s="3"><v>12.5</v></c>`` with its column's style id from ``styles`` (None: no style), text cells the
    index of their text in ``strings``; a missing value is no cell. A cell's reference (``r="B2"``) is optional
    in SpreadsheetML, a cell without one being the column after the previous cell, so only the cells of a
    column with missing values and of the column after it carry one; that makes the sheet a third smaller.
    ``prepare`` (a function of a chunk of rows) turns each chunk into the values to write, e.g. rounds them
    for people."""
    letters = [get_column_letter(i) for i in range(1, len(table.columns) + 1)]

    def attrs(column: str, kind: str) -> str:
        return (f' s="{styles[column]}"' if styles[column] else "") + kind + "><v>"

    # A text column's cells without a reference, once per distinct text of the column, taken for each row.
    cells = {
        c: pc.binary_join_element_wise("<c" + attrs(c, TEXT), pc.cast(positions, pa.string()), "</v></c>", "")
        for c, positions in strings.positions.items()
    }
    for start in range(0, len(table), CHUNK_ROWS):
        chunk = table.iloc[start : start + CHUNK_ROWS]
        if prepare is not None:
            chunk = prepare(chunk)
        rows = pc.cast(pa.array(np.arange(start + 2, start + 2 + len(chunk))), pa.string())
        parts: list[Any] = ['<row r="', rows, '">']
        after_gap = False
        for letter, column in zip(letters, chunk.columns, strict=True):
            if column in strings.codes:
                codes = strings.codes[column].slice(start, len(chunk))
                if not (codes.null_count or after_gap):
                    parts.append(pc.take(cells[column], codes))
                    continue
                values, kind = pc.cast(pc.take(strings.positions[column], codes), pa.string()), TEXT
            else:
                values, kind = _values_text(chunk[column])
            gaps = values.null_count > 0
            if gaps or after_gap:
                cell = pc.binary_join_element_wise(f'<c r="{letter}', rows, '"' + attrs(column, kind), values,
                                                   "</v></c>", "")  # fmt: skip
                parts.append(pc.fill_null(cell, "") if gaps else cell)
            else:
                parts += ["<c" + attrs(column, kind), values, "</v></c>"]
            after_gap = gaps
        parts.append("</row>")
        yield utf8_bytes(pc.binary_join_element_wise(*_merged(parts), ""))


def _merged(parts: list[Any]) -> list[Any]:
    """``parts`` with each run of constant texts joined into one (fewer pieces for Arrow to copy per row)."""
    out: list[Any] = []
    for part in parts:
        if isinstance(part, str) and out and isinstance(out[-1], str):
            out[-1] += part
        else:
            out.append(part)
    return out


def _write_parts(part: Any, pieces: Iterable[bytes | memoryview]) -> None:
    """Write ``pieces`` to the open zip member ``part``, each compressed in a second thread while the next is
    built (at most one piece waits)."""
    with ThreadPoolExecutor(max_workers=1) as writer:
        pending = None
        for piece in pieces:
            if pending is not None:
                pending.result()
            pending = writer.submit(part.write, piece)
        if pending is not None:
            pending.result()


def add_rows(path: Path, sheet: str, rows: Iterable[memoryview], strings: SharedStrings) -> None:
    """Rewrite the workbook ``path`` (saved by openpyxl) with ``rows`` streamed into the sheet part ``sheet``
    after its header row and ``strings`` as the workbook's shared strings; every other part is copied as it is
    (the content types and the workbook's relationships gain the shared strings)."""
    out = path.with_name(path.name + ".rows")
    with (
        zipfile.ZipFile(path) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as dst,
    ):
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "[Content_Types].xml":
                override = f'<Override PartName="/{STRINGS_PART}" ContentType="{STRINGS_TYPE}"/>'
                data = data.replace(b"</Types>", override.encode() + b"</Types>")
            elif item.filename == "xl/_rels/workbook.xml.rels":
                rel = f'<Relationship Type="{STRINGS_REL}" Target="sharedStrings.xml" Id="rIdStrings"/>'
                data = data.replace(b"</Relationships>", rel.encode() + b"</Relationships>")
            if item.filename != sheet:
                dst.writestr(item, data)
                continue
            head, tail = data.split(b"</sheetData>", 1)
            with dst.open(item.filename, "w", force_zip64=True) as part:
                _write_parts(part, chain([head], rows, [b"</sheetData>" + tail]))
        with dst.open(STRINGS_PART, "w", force_zip64=True) as part:
            _write_parts(part, strings.xml())
    out.replace(path)


__all__ = ["SharedStrings", "add_rows", "float_text", "is_text", "rows_xml", "utf8_bytes"]
