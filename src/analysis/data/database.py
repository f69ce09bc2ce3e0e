"""Reading from a database: a table or a user's query in a database server, read where it is (the database is
the engine: :class:`DatabaseTable`), a DuckDB file's table, the connection string as it may be recorded
(:func:`redacted`), and a driver's errors as one line without the password. Used by :mod:`analysis.data.load`.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import weakref
from dataclasses import dataclass
from typing import Any

import ibis
import pandas as pd

from analysis.data import engine
from analysis.data.headers import listing
from analysis.errors import UserError

_views = itertools.count()


@dataclass(frozen=True)
class DatabaseTable:
    """A table (or the result of a query) in a database, read where it is: ``con`` the database's Ibis
    connection, ``relation`` the table, ``name`` how the user named it (``sales``, or ``query``)."""

    con: Any
    relation: ibis.Table
    name: str

    def numbered(self, con: Any) -> ibis.Table:
        """The rows with their row numbers (in the order the database returns them), kept once in a temporary table
        of ``con`` (every rule reads the same numbers, and a user's query runs once). Another engine than the
        database itself receives the rows as a frame."""
        if con is not self.con:
            return engine.from_pandas(self.relation.to_pandas())
        try:
            return engine.materialise(con, self.relation.mutate(**{engine.ROW: ibis.row_number() + 1}))
        except Exception as exc:  # the driver's own types: a query that fails, a table one may not read
            raise UserError(f"could not read {self.name} in the database: {_database_error(exc)}") from None


def redacted(location: str) -> str:
    """``location`` as it may be recorded: a connection string's password replaced by ``***``
    (``postgresql://ann:***@db:5432/shop``), a ``password=`` parameter too; a file path as it is."""
    if "://" not in location:
        return location
    scheme, rest = location.split("://", 1)
    userinfo, at, host = rest.rpartition("@")
    if at and ":" in userinfo:
        rest = f"{userinfo.split(':', 1)[0]}:***@{host}"
    rest = re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", rest)
    return f"{scheme}://{rest}"


def first_line(exc: Exception) -> str:
    """An exception's message in one line (its first), or its type's name when it has none."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def read_database(url: str, table: str | None) -> tuple[pd.DataFrame, None, str, str]:
    import ibis

    backend = url.split("://", 1)[0]
    try:
        # a DuckDB file opens read-only: raw data is never modified
        con = ibis.duckdb.connect(url[len("duckdb://") :], read_only=True) if backend == "duckdb" else ibis.connect(url)
    except Exception as exc:  # drivers raise their own types
        raise UserError(f"could not connect to {backend} database: {first_line(exc)}") from None
    tables = _tables(con)
    if table is None:
        if len(tables) != 1:
            raise UserError(f"name the table to read with --table; the database holds {listing(tables)}")
        table = tables[0]
    if table not in tables:
        raise UserError(f"table {table!r} not found; the database holds {listing(tables)}")
    frame = con.table(table).to_pandas()
    return frame, None, f"{backend} table {table}", f"{backend}:{table}:{len(frame)} rows"


CONNECT_TIMEOUT = 10  # seconds a database server may take to answer (libpq would wait minutes for a wrong host)


def database_source(url: str, table: str | None, query: str | None) -> tuple[DatabaseTable, str, str]:
    """(the table or query where it is, its source format, a fingerprint of its rows) in a database server."""
    backend = url.split("://", 1)[0]
    if table is not None and query is not None:
        raise UserError("give --table or --query, not both")
    try:
        con = ibis.connect(url, **({"connect_timeout": CONNECT_TIMEOUT} if "connect_timeout" not in url else {}))
    except Exception as exc:  # drivers raise their own types
        raise UserError(f"could not connect to {backend} database: {_database_error(exc, url)}") from None
    driver = getattr(con, "con", None)  # the driver's connection closes when the engine is let go, not left open
    if callable(getattr(driver, "close", None)):
        weakref.finalize(con, driver.close)
    if query is not None:
        relation, name = _query(con, query), "query"
    else:
        relation, name = _server_table(con, table), table
    fmt = f"{backend} query" if query is not None else f"{backend} table {table}"
    return DatabaseTable(con, relation, name), fmt, _database_fingerprint(con, relation, query or table)


def _server_table(con: Any, table: str | None) -> ibis.Table:
    """``table`` (``schema.table`` for another schema than the connection's) in a database server."""
    schema, _, name = (table or "").rpartition(".")
    try:
        tables = sorted(con.list_tables(database=schema or None))
    except Exception as exc:  # a schema that does not exist, a schema one may not read
        raise UserError(f"could not list the tables of schema {schema!r}: {_database_error(exc)}") from None
    if table is None:
        if len(tables) != 1:
            raise UserError(
                f"name the table to read with --table or give --query; the database holds {listing(tables)}"
            )
        name = tables[0]
    if name not in tables:
        raise UserError(f"table {table!r} not found; the database holds {listing(tables)}")
    return con.table(name, database=schema or None)


def _query(con: Any, query: str) -> ibis.Table:
    """The rows of the user's ``SELECT`` (a temporary view of the session, so the database checks it now)."""
    text = query.strip().rstrip(";").strip()
    if not re.match(r"(?is)^(select|with)\b", text) or ";" in text:  # one statement: a ; between two is refused
        raise UserError(f"--query takes one SELECT statement, got {query[:60]!r}")
    name = f"analysis_query_{next(_views)}"
    if getattr(con, "name", "") != "postgres":
        try:
            return con.sql(text)
        except Exception as exc:  # the engine's own types
            raise UserError(f"the query could not be read: {_database_error(exc)}") from None
    try:
        con.raw_sql(f'CREATE TEMPORARY VIEW "{name}" AS {text}').close()
    except Exception as exc:  # psycopg's types: a syntax error, a missing table or column
        con.con.rollback()
        raise UserError(f"the query could not be read: {_database_error(exc)}") from None
    return con.table(name)


def _database_fingerprint(con: Any, relation: ibis.Table, described: str) -> str:
    """A sha256 of what was read and of its rows: on PostgreSQL a hash of every row summed in the database (the
    same rows in any order give the same fingerprint), elsewhere the number of rows."""
    digest = hashlib.sha256(described.encode())
    if getattr(con, "name", "") == "postgres":
        sql = f"SELECT count(*), coalesce(sum(hashtextextended(q::text, 0)), 0) FROM ({con.compile(relation)}) AS q"
        try:
            cursor = con.raw_sql(sql)
        except Exception as exc:  # the driver's own types: a table one may not read, a connection lost
            con.con.rollback()
            raise UserError(f"could not read {described} in the database: {_database_error(exc)}") from None
        try:
            digest.update(repr(cursor.fetchone()).encode())
        finally:
            cursor.close()
    else:
        digest.update(str(int(relation.count().execute())).encode())
    return digest.hexdigest()


def _database_error(exc: Exception, url: str | None = None) -> str:
    """A driver's error in one line, a password in ``url`` never shown; how to give a password the server asked
    for, how to install a missing driver."""
    line = first_line(exc)
    password = _password(url) if url else None
    if password:
        line = line.replace(password, "***")
    if "no password supplied" in line:
        line += " (set PGPASSWORD or write it in ~/.pgpass)"
    elif "missing dependencies" in line:
        line += " (install the database's driver: pip install -e '.[postgres]' for PostgreSQL)"
    return line


def _password(url: str) -> str | None:
    userinfo = url.split("://", 1)[1].rpartition("@")[0]
    found = re.search(r"(?i)[?&]password=([^&#]*)", url)
    return userinfo.partition(":")[2] or (found.group(1) if found else None)


def _tables(con) -> list[str]:
    try:
        return sorted(con.list_tables())
    except Exception:  # ibis 12 with duckdb 2 fails here; ask the engine directly
        rows = con.raw_sql("select table_name from information_schema.tables").fetchall()
        return sorted(r[0] for r in rows)
