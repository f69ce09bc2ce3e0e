"""Reading raw transactions from files and databases, and finding which column plays which role.

Formats, chosen by file extension:

* ``.csv`` ``.tsv`` ``.txt``: delimited text; the delimiter is sniffed, the encoding detected
  (a BOM means UTF-8 with BOM; else UTF-8 if the bytes decode, else GB18030, the superset of
  GBK; else Latin-1) unless the user names one. The CDNOW text format (whitespace separated;
  the master file ``id date cds dollars`` with its header line, the 1/10 sample file
  ``id sample_id date cds dollars`` without one) is recognised by its shape.
* ``.xlsx`` ``.xlsm``: one sheet (the first unless named).
* ``.parquet``: as stored.
* ``.duckdb`` ``.ddb`` ``.db``: a table in a DuckDB file; any other database by an Ibis connection
  string (``postgresql://user@host:5432/db``, ``snowflake://…``, …) with ``--table`` (``schema.table`` for
  another schema) or ``--query "SELECT …"`` (a view the user writes). Such a table is read in place: the
  database is the engine (validation, reconciliation and features run there, :func:`engine_for`) and its rows
  never all come into Python (:mod:`analysis.data.database`). A password in the connection string is never
  recorded (:func:`analysis.data.database.redacted`); keep it out of the string altogether (``PGPASSWORD``,
  ``~/.pgpass``).

Every value of a text file is read as text; parsing is validation's job, so an unreadable
value is quarantined with a reason instead of failing the whole load.

Column roles come from the explicit mapping first (config ``data.columns`` or ``--column``),
then from the known headers of real exports in English and Chinese (``data.headers``, shipped in
``defaults/headers.yaml``: marketplaces, shops, ERP/POS, CRM deals, research data sets), compared
without case, spaces or punctuation. Within a role the table is in order of preference (a payment
time before a creation time, a paid amount before a list amount); the other headers seen for a
role are reported (``RawTable.also_seen``). A price without a quantity is the amount (CLVTools'
``Id, Date, Price``). Without any amount column the input is an event log without amounts.

The header is the first row of a text or Excel file unless the user names its row (``data.header_row``,
``--header-row N``, counted from 1 as a spreadsheet counts, blank rows included). When the first row
does not give the required roles (a report title such as ``2023年销售明细表`` above the headers, as
ERP and POS systems export), the header is the row among the first :data:`HEADER_SEARCH_ROWS` that
the known headers match best with a customer id, a date and an amount (or a price); the rows above
it are not data: they are skipped and reported (``RawTable.header``, and in ``source_format``).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from analysis.data import engine
from analysis.data.database import DatabaseTable, database_source, first_line, read_database
from analysis.data.headers import (
    HEADER_SEARCH_ROWS,
    REQUIRED,
    find_roles,
    header_index,
    listing,
    seen_alternatives,
)
from analysis.errors import UserError

TEXT_SUFFIXES = {".csv", ".tsv", ".txt"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
DUCKDB_SUFFIXES = {".duckdb", ".ddb", ".db"}
ENCODINGS = ("utf-8-sig", "utf-8", "gb18030", "latin-1")

CDNOW_MASTER = ("customer_id", "date", "number_of_cds", "dollar_value")
CDNOW_SAMPLE = ("customer_id", "sample_id", "date", "number_of_cds", "dollar_value")

DELIMITERS = ",;\t|"


@dataclass(frozen=True)
class HeaderRow:
    """Where the header of a text or Excel file was: its ``row`` (1-based, as a spreadsheet counts) and
    the text of each row above it (skipped, not data; a blank row is ``""``)."""

    row: int = 1
    above: tuple[str, ...] = ()

    def describe(self) -> str:
        """``header on row 2 (1 row above it skipped: '2023年销售明细表')``."""
        n, texts = self.row - 1, [repr(text[:40]) for text in self.above if text]
        shown = ": " + ", ".join(texts[:3]) + (", ..." if len(texts) > 3 else "") if texts else ""
        return f"header on row {self.row} ({n} row{'s' if n != 1 else ''} above it skipped{shown})"


@dataclass
class RawTable:
    """Rows as read (no parsing yet), the role → header mapping, and where they came from;
    ``also_seen``: role → the other headers that could have played it, not taken.

    ``source`` is the frame read, for a Parquet file its path, for a database table the table where it is: the
    engine scans it (:meth:`table`) and its rows are read into pandas only if someone asks for :attr:`frame`."""

    source: pd.DataFrame | Path | DatabaseTable
    mapping: dict[str, str]
    encoding: str | None
    source_format: str
    fingerprint: str
    also_seen: dict[str, list[str]] = field(default_factory=dict)
    header: HeaderRow = HeaderRow()

    @property
    def frame(self) -> pd.DataFrame:
        if isinstance(self.source, Path):
            self.source = _readable(pd.read_parquet, self.source)
        elif isinstance(self.source, DatabaseTable):
            self.source = self.source.relation.to_pandas()
        return self.source

    def as_read(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` (some of the raw columns, from the engine) with its timestamp columns in the
        type pandas reads the file with (the engine keeps no time zone name, pandas does)."""
        if not isinstance(self.source, Path):
            return frame  # a database table: its own types, as the engine reads them
        import pyarrow.parquet as pq

        dtypes = pq.read_schema(self.source).empty_table().to_pandas().dtypes
        for col in frame.columns:
            if col in dtypes and pd.api.types.is_datetime64_any_dtype(dtypes[col]):
                frame[col] = frame[col].astype(dtypes[col])
        return frame

    def table(self, con: Any) -> ibis.Table:
        """The raw rows as an engine table with row numbers (see :mod:`analysis.data.engine`)."""
        if isinstance(self.source, Path):
            try:
                return engine.read_parquet(con, str(self.source))
            except Exception as exc:  # the engine's own error types
                raise UserError(f"could not read {self.source}: {first_line(exc)}") from None
        if isinstance(self.source, DatabaseTable):
            return self.source.numbered(con)
        return engine.from_pandas(self.source)


def engine_for(raw: RawTable) -> Any:
    """The engine to validate ``raw`` in: the database it is in (its rows stay there), else a new DuckDB."""
    if isinstance(raw.source, DatabaseTable):
        return raw.source.con
    return engine.connect()


def read_transactions(
    path: str,
    encoding: str | None = None,
    sheet: str | int | None = None,
    table: str | None = None,
    columns: dict[str, str] | None = None,
    headers: dict[str, list] | None = None,
    header_row: int | None = None,
    query: str | None = None,
) -> RawTable:
    """Read a transactions file or table and map its columns to roles (see module docstring).

    ``headers`` is the table of known headers per role (config ``data.headers``; None = the defaults);
    ``header_row`` the row of a text or Excel file holding the headers (config ``data.header_row``,
    1-based; None = the first row, or the row found below title rows, see the module docstring).
    """
    find = functools.partial(header_index, explicit=columns or {}, table=headers)
    frame, enc, fmt, fingerprint, header = read_table(
        path, encoding, sheet, table, lazy=True, header_row=header_row, find_header=find, query=query
    )
    if fmt == "cdnow":
        columns = {"order_id": "record", **(columns or {})}
    if isinstance(frame, Path):
        headers_seen = _parquet_columns(frame)
    else:
        headers_seen = [str(c) for c in (frame.relation.columns if isinstance(frame, DatabaseTable) else frame.columns)]
    mapping = find_roles(headers_seen, columns, headers)
    also_seen = seen_alternatives(headers_seen, mapping, headers)
    if "amount" not in mapping and "unit_price" in mapping and "quantity" not in mapping:
        # a price without a quantity is the price of the purchase (CLVTools: Id, Date, Price)
        mapping["amount"] = mapping.pop("unit_price")
        if "unit_price" in also_seen:
            also_seen["amount"] = also_seen.pop("unit_price")
    missing = [r for r in REQUIRED if r not in mapping]
    if missing:
        raise UserError(_no_column(missing[0], headers_seen, fmt, header_row))
    if header.row > 1:
        fmt = f"{fmt}, {header.describe()}"
    return RawTable(frame, mapping, enc, fmt, fingerprint, also_seen, header)


def _no_column(role: str, headers: list[str], fmt: str, header_row: int | None) -> str:
    """The one-line error for a required role no header plays; for a text or Excel file, how to name the
    header's row."""
    where, hint = "", ""
    if header_row is not None:
        where, hint = f" (row {header_row})", ", or give the row of the headers with --header-row N"
    elif fmt == "excel" or fmt.startswith("csv"):
        hint = " (use --header-row N if the header is not on the first row)"
    return (
        f"no {role} column found among the headers {listing(headers)}{where}: "
        f"name it with --column {role}=HEADER or data.columns in the config{hint}"
    )


def read_customer_list(
    path: str,
    encoding: str | None = None,
    columns: dict[str, str] | None = None,
    headers: dict[str, list] | None = None,
) -> RawTable:
    """A maintained customer list: a customer id column, optionally names and attributes."""
    frame, enc, fmt, fingerprint, _ = read_table(path, encoding=encoding)
    mapping = find_roles(list(frame.columns), columns, headers)
    if "customer_id" not in mapping:
        raise UserError(
            f"no customer_id column found in the customer list {path} among the headers "
            f"{listing(frame.columns)}: rename that column to customer_id"
        )
    return RawTable(frame, mapping, enc, fmt, fingerprint)


# ---------------------------------------------------------------------------------------------
# reading


def read_table(
    path: str,
    encoding: str | None = None,
    sheet: str | int | None = None,
    table: str | None = None,
    lazy: bool = False,
    header_row: int | None = None,
    find_header: Callable[[list[list[str]]], int | None] | None = None,
    query: str | None = None,
) -> tuple[pd.DataFrame | Path | DatabaseTable, str | None, str, str, HeaderRow]:
    """(frame, encoding, source format, fingerprint, where its header was) for a file or database table;
    with ``lazy`` a Parquet file is not read: its path stands for the frame (the engine scans it), nor a table of
    a database server (:class:`DatabaseTable`; a DuckDB file's table is read). ``query``: a ``SELECT`` whose
    rows are the input, instead of a ``table``, in a database.

    The header of a text or Excel file is on row ``header_row`` (1-based) when given, else on the row
    ``find_header`` picks among the first rows' cells (None from it, or no ``find_header``: the first row)."""
    if "://" in path and not path.startswith("duckdb://"):
        source, fmt, fingerprint = database_source(path, table, query)
        return (source if lazy else source.relation.to_pandas()), None, fmt, fingerprint, HeaderRow()
    if query is not None:
        raise UserError(f"--query reads from a database server, not from {path}: give --table, or a file alone")
    if "://" in path:
        return (*read_database(path, table), HeaderRow())
    file = Path(path)
    if not file.exists():
        raise UserError(f"input file not found: {path}")
    if file.is_dir():
        raise UserError(f"the input {path} is a folder: give a file")
    if file.stat().st_size == 0:
        raise UserError(f"the input file {path} is empty: export the transactions again")
    suffix = file.suffix.lower()
    fingerprint = _fingerprint(file)
    if suffix in DUCKDB_SUFFIXES:
        frame, _, fmt, _ = read_database(f"duckdb://{file}", table)
        return frame, None, fmt, fingerprint, HeaderRow()
    if suffix in EXCEL_SUFFIXES:
        frame, header = _read_excel(file, sheet, header_row, find_header)
        return frame, None, "excel", fingerprint, header
    if suffix == ".parquet":
        if lazy:
            _parquet_columns(file)  # a damaged file is an error now, not in the middle of validation
            return file, None, "parquet", fingerprint, HeaderRow()
        return _readable(pd.read_parquet, file), None, "parquet", fingerprint, HeaderRow()
    if suffix == ".xls":
        raise UserError(f"{path} is an old .xls workbook: save it as .xlsx or .csv and try again")
    if suffix not in TEXT_SUFFIXES:
        raise UserError(
            f"unsupported input type {suffix or '(no extension)'}: use .csv, .txt, .xlsx, .parquet or .duckdb"
        )
    text, enc = _decode(file.read_bytes(), encoding, path)
    frame, fmt, header = _read_text(text, path, header_row, find_header)
    return frame, enc, fmt, fingerprint, header


def _parquet_columns(file: Path) -> list[str]:
    import pyarrow.parquet as pq

    return [str(c) for c in _readable(pq.read_schema, file).names]


def _fingerprint(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _readable(reader, file: Path, **kwargs) -> pd.DataFrame:
    try:
        return reader(file, **kwargs)
    except (OSError, ValueError) as exc:
        raise UserError(f"could not read {file}: {first_line(exc)}") from None


def _decode(data: bytes, encoding: str | None, path: str) -> tuple[str, str]:
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise UserError(f"unknown encoding {encoding!r}: use utf-8, utf-8-sig, gbk or gb18030") from None
        except UnicodeDecodeError as exc:
            raise UserError(
                f"{path} is not valid {encoding} (byte {exc.start}): leave the encoding out to detect it"
            ) from None
    for enc in ENCODINGS:
        if enc == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf"):
            continue
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def _read_text(
    text: str, path: str, header_row: int | None = None, find_header: Callable | None = None
) -> tuple[pd.DataFrame, str, HeaderRow]:
    """A delimited text (or CDNOW) file: the frame, its format and where its header was (see :func:`read_table`)."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if not lines:
        raise UserError(f"the input file {path} is empty: export the transactions again")
    cdnow = _cdnow_layout(lines) if header_row in (None, 1) else None
    if cdnow:
        return _read_cdnow(text, cdnow), "cdnow", HeaderRow()
    top = _first_lines(text, max(header_row or 0, HEADER_SEARCH_ROWS))
    if header_row is not None:
        skip = _row_within(header_row, len(top), path) - 1
        sep = _sniff([line for line in top[skip : header_row + HEADER_SEARCH_ROWS] if line.strip()])
    else:
        skip, sep = _text_header(top[:HEADER_SEARCH_ROWS], _sniff(lines), find_header)
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=sep, skiprows=skip, dtype=str, keep_default_na=False, skip_blank_lines=True
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise UserError(f"could not read {path} as a table: {first_line(exc)}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    header = HeaderRow(skip + 1, tuple(" ".join(c for c in _cells(line, sep) if c) for line in top[:skip]))
    return frame, "csv" if sep == "," else f"csv (delimiter {sep!r})", header


def _first_lines(text: str, n: int) -> list[str]:
    """The first ``n`` lines of ``text`` as pandas counts them (blank lines too), so that a line's position is
    its row number; without their line ends."""
    lines, start = [], 0
    for end in itertools.islice(re.finditer(r"\r\n|\r|\n", text), n):
        lines.append(text[start : end.start()])
        start = end.end()
    if len(lines) < n and start < len(text):
        lines.append(text[start:])
    return lines


def _sniff(lines: list[str]) -> str:
    try:
        return csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _cells(line: str, sep: str) -> list[str]:
    return [c.strip() for c in next(csv.reader([line], delimiter=sep), [])]


def _text_header(lines: list[str], sep: str, find_header: Callable | None) -> tuple[int, str]:
    """(lines above the header, delimiter): the sniffed ``sep`` first; title lines can mislead the sniffer, so
    when no line split by ``sep`` is a header, each other delimiter in turn. (0, ``sep``) when none is."""
    if find_header is None:
        return 0, sep
    for delimiter in (sep, *(d for d in DELIMITERS if d != sep)):
        found = find_header([_cells(line, delimiter) for line in lines])
        if found is not None:
            return found, delimiter
    return 0, sep


def _row_within(header_row: int, rows: int, path: object) -> int:
    """``header_row``, when the file has that many rows."""
    if header_row > rows:
        raise UserError(
            f"the header row {header_row} is past the end of {path} ({rows} rows): "
            f"give the row of the headers, counted from 1"
        )
    return header_row


def _cdnow_layout(lines: list[str]) -> tuple[str, ...] | None:
    """The CDNOW column names when the lines look like CDNOW records, else None."""
    body = lines[1:] if lines[0].split() == list(CDNOW_MASTER) else lines
    shapes = {len(line.split()) for line in body[:20]}
    if len(shapes) != 1 or not all(re.fullmatch(r"[\d.\s]+", line) for line in body[:20]):
        return None
    width = shapes.pop()
    layout = {4: CDNOW_MASTER, 5: CDNOW_SAMPLE}.get(width)
    if layout and all(re.fullmatch(r"(19|20)\d{6}", line.split()[width - 3]) for line in body[:20]):
        return layout
    return None


def _read_cdnow(text: str, layout: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.read_csv(io.StringIO(text), sep=r"\s+", header=None, names=list(layout), dtype=str, comment=None)
    frame = frame[frame["customer_id"] != "customer_id"].reset_index(drop=True)
    # Each record is one purchase, and the file has no order number: number the records, so two
    # identical purchases on one day stay two purchases (as in the published analyses).
    frame.insert(0, "record", (frame.index + 1).astype(str))
    return frame


def _read_excel(
    file: Path, sheet: str | int | None, header_row: int | None = None, find_header: Callable | None = None
) -> tuple[pd.DataFrame, HeaderRow]:
    """One sheet as a frame, and where its header was (see :func:`read_table`)."""
    try:
        book = pd.ExcelFile(file, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise UserError(f"could not open the workbook {file}: {first_line(exc)}") from None
    with book:  # closed when read (an open workbook keeps its file open)
        names = book.sheet_names
        if sheet is None:
            sheet = 0
        elif isinstance(sheet, str) and sheet not in names and sheet.isdigit():
            sheet = int(sheet)
        if isinstance(sheet, int) and not 0 <= sheet < len(names) or isinstance(sheet, str) and sheet not in names:
            raise UserError(f"sheet {sheet!r} is not in {file.name}; its sheets are {listing(names)}")
        # the first rows, blank ones too (as the sheet numbers them): only these are read to find the header
        top = pd.read_excel(book, sheet_name=sheet, header=None, nrows=header_row or HEADER_SEARCH_ROWS, dtype=object)
        rows = [["" if pd.isna(v) else str(v).strip() for v in row] for row in top.itertuples(index=False)]
        if header_row is not None:
            skip = _row_within(header_row, len(rows), file.name) - 1
        else:
            skip = (find_header(rows) if find_header else None) or 0
        frame = pd.read_excel(book, sheet_name=sheet, header=skip, dtype=object)
        frame.columns = [str(c).strip() for c in frame.columns]
        return frame, HeaderRow(skip + 1, tuple(" ".join(c for c in row if c) for row in rows[:skip]))


