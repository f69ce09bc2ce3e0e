"""The SQL engine behind the data spine, reached through Ibis: DuckDB by default, any Ibis backend
(Spark, a warehouse) by passing its connection.

Raw rows enter the engine as an Ibis table with a row number (:data:`ROW`, 1 for the first data row
of the input), so every rule can name the rows it quarantines and "the first copy" of a duplicate
is well defined. A Parquet file is scanned by the engine, never read into pandas; a text or Excel
file arrives as the pandas frame the reader made. Values that need Python to be read (dates and
amounts written as text, status phrases) are read once per distinct value and joined back
(:func:`map_distinct`).
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import pandas as pd
import pyarrow.parquet as pq

ROW = "__row__"  # the input row number, 1-based
BATCH_ROWS = 65_536  # rows a batch brings from an engine other than DuckDB (Ibis's 1M: 1 GB from PostgreSQL)
_names = itertools.count()


def connect(timezone: str = "UTC", memory_limit: str | None = None) -> Any:
    """An embedded DuckDB connection whose session time zone is ``timezone``: timestamps stored with
    a zone are read as wall-clock times in it.

    The engine keeps its working set under ``memory_limit`` (default: a third of the machine's
    memory, leaving room for the pandas frames the later stages receive) and spills the rest to
    the system's temporary folder, never to the working directory; it need not keep rows in
    insertion order (every output is ordered by row number)."""
    con = ibis.duckdb.connect()
    spill = Path(tempfile.gettempdir()) / "analysis-duckdb"
    con.raw_sql(f"SET TimeZone = '{_quoted(timezone)}'")
    con.raw_sql(f"SET temp_directory = '{_quoted(str(spill))}'")
    limit = memory_limit or _a_third_of_memory()
    if limit:
        con.raw_sql(f"SET memory_limit = '{_quoted(limit)}'")
    con.raw_sql("SET preserve_insertion_order = false")
    return con


def _a_third_of_memory() -> str | None:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system: DuckDB's own default
        return None
    return f"{max(1, total // 3 // 2**20)}MB"


def _quoted(text: str) -> str:
    return str(text).replace("'", "''")


def is_duckdb(con: Any) -> bool:
    return getattr(con, "name", "") == "duckdb"


def from_pandas(frame: pd.DataFrame, parsed: dict[str, pd.Series] | None = None) -> ibis.Table:
    """The rows of a frame as read, numbered, with the columns in ``parsed`` (named ``__<role>``:
    values already read in Python) beside them. Columns of mixed Python values (text, Excel cells)
    are handed over as text, the way the parsers read them."""
    data = {}
    for name in frame.columns:
        col = frame[name]
        data[str(name)] = (col.astype("string") if col.dtype == object else col).reset_index(drop=True)
    for name, values in (parsed or {}).items():
        data[name] = values.reset_index(drop=True)
    table = pd.DataFrame(data, index=range(len(frame)))
    table[ROW] = range(1, len(frame) + 1)
    return ibis.memtable(table)


def read_parquet(con: Any, path: str) -> ibis.Table:
    """A Parquet file as an engine table with row numbers, scanned lazily (never read into pandas)."""
    if is_duckdb(con):
        table = con.read_parquet(path, file_row_number=True)
        return table.mutate(**{ROW: table.file_row_number + 1}).drop("file_row_number")
    if getattr(con, "name", "") == "pyspark":
        return _spark_parquet(con, path)
    return con.read_parquet(path).mutate(**{ROW: ibis.row_number() + 1})


def _spark_parquet(con: Any, path: str) -> ibis.Table:
    """Spark numbers rows only in an order: the order it reads them (ids rising with the file's
    partitions and rows)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    frame = con._session.read.parquet(path)
    frame = frame.withColumn(ROW, F.row_number().over(Window.orderBy(F.monotonically_increasing_id())))
    name = f"__spine_raw_{next(_names)}"
    frame.createOrReplaceTempView(name)
    return con.table(name)


def raw_columns(table: ibis.Table) -> list[str]:
    """The input's own columns (without the row number and the values read in Python)."""
    return [c for c in table.columns if not c.startswith("__")]


def materialise(con: Any, expr: ibis.Table) -> ibis.Table:
    """Compute ``expr`` once and keep the result in the engine (a temporary table), so the steps
    after it do not recompute the scan and the rules before it."""
    if is_duckdb(con):
        return con.create_table(f"__spine_{next(_names)}", expr, temp=True)
    # Ibis 12 registers the small tables an expression joins (memtables) when it executes one,
    # not when it caches one on Spark: register them first
    con._run_pre_execute_hooks(expr)
    return expr.cache()


def release(con: Any, table: ibis.Table) -> None:
    """Free what :func:`materialise` kept, once no later step reads it (at 10M customers a copy of 31M rows)."""
    if is_duckdb(con):
        con.raw_sql(f'DROP TABLE IF EXISTS "{table.get_name()}"')
    else:
        table.release()


def execute(con: Any, expr: ibis.Expr) -> Any:
    return con.execute(expr)


def _as_pandas_reads(expr: ibis.Table) -> ibis.Table:
    """``expr`` in the types the run directory's frames have in pandas: timestamps in nanoseconds (DuckDB keeps
    microseconds), whole numbers as 64-bit integers (Spark counts days in 32 bits)."""
    typed = {}
    for name, kind in expr.schema().items():
        if kind.is_timestamp() and kind.scale != 9:
            typed[name] = expr[name].cast(dt.Timestamp(timezone=kind.timezone, scale=9))
        elif kind.is_integer() and not kind.is_int64():
            typed[name] = expr[name].cast("int64")
    return expr.mutate(**typed) if typed else expr


@contextmanager
def _in_order(con: Any):
    """DuckDB keeps rows in their order while inside (its threads would otherwise hand them over in any order);
    the connection's own setting is restored after."""
    if not is_duckdb(con):
        yield
        return
    before = con.raw_sql("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
    con.raw_sql("SET preserve_insertion_order = true")
    try:
        yield
    finally:
        con.raw_sql(f"SET preserve_insertion_order = {str(bool(before)).lower()}")


def to_pandas(con: Any, expr: ibis.Table) -> pd.DataFrame:
    """The rows of ``expr`` as a pandas frame, the frame :func:`write_parquet`'s file gives read back."""
    with _in_order(con):
        return con.to_pyarrow(_as_pandas_reads(expr)).to_pandas()


def write_parquet(con: Any, expr: ibis.Table, path: Path) -> None:
    """Stream the rows of ``expr`` into the Parquet file ``path`` (DuckDB's own writer; elsewhere a batch of
    rows at a time), so millions of rows never sit in memory at once, nor in pandas. Read back with pandas the
    file gives the frame :func:`to_pandas` gives."""
    typed = _as_pandas_reads(expr)
    tmp = Path(path).with_suffix(Path(path).suffix + ".tmp")
    if is_duckdb(con):
        with _in_order(con):
            con.to_parquet(typed, tmp)
    else:
        reader = con.to_pyarrow_batches(typed, chunk_size=BATCH_ROWS)
        with pq.ParquetWriter(tmp, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
    tmp.replace(path)


def distinct_in_order(con: Any, table: ibis.Table, column: str) -> pd.Series:
    """The distinct non-missing values of ``column`` in order of first appearance (so what is
    derived from them, such as a detected date format, does not depend on the engine's order)."""
    first = table.group_by(column).aggregate(__first=table[ROW].min())
    first = first.filter(first[column].notnull()).order_by("__first")
    values = execute(con, first.select(column))[column]
    return values.reset_index(drop=True)


def map_distinct(
    con: Any,
    table: ibis.Table,
    column: str,
    read: Callable[[pd.Series], pd.Series],
    name: str,
    dtype: str,
) -> ibis.Table:
    """``table`` with a column ``name`` (type ``dtype``): ``read`` applied once per distinct value of
    ``column`` and joined back; missing values, and values ``read`` cannot read, give NULL."""
    values = distinct_in_order(con, table, column)
    result = pd.Series(read(values), dtype=object).reset_index(drop=True)
    result = result.where(result.notna(), None)
    lookup = pd.DataFrame({"__key": values, name: result})
    mapping = ibis.memtable(lookup, schema={"__key": table[column].type(), name: dtype})
    joined = table.left_join(mapping, table[column] == mapping["__key"])
    return joined.select(table, mapping[name])
