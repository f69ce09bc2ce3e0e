"""Typed canonical columns from the raw rows, as Ibis expressions: one column per mapped role.

What each role becomes (the reading rules themselves are in :mod:`analysis.data.parsing`):

* text roles (ids, names, attributes, status): stripped, empty text missing, whole numbers stored as
  floats (``17850.0``) read as ``17850``; done by the engine;
* ``timestamp``: stored timestamps pass through (a stored zone converted to the configured one);
  text or numbers are read once per distinct value with the detected (or given) format;
* amounts, quantities, prices, margins, refunds: stored numbers pass through, text is read once per
  distinct value; ``<role>_missing`` says the raw value was empty (as opposed to unreadable).

The result keeps the row number and adds ``duplicate_row``: an exact copy of an earlier row of the
input (every raw column equal; the first copy is not a duplicate).
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd

from analysis.data import engine
from analysis.data.engine import ROW
from analysis.data.parsing import parse_amounts, parse_dates

TEXT_ROLES = ("product_id", "description", "customer_name", "country", "region", "city", "industry",
              "customer_type", "size")
NUMBER_ROLES = ("quantity", "unit_price", "margin")

# Python's str.strip() whitespace, as a regular expression class DuckDB (RE2), Spark (Java) and PostgreSQL read:
# the characters themselves (PostgreSQL reads no \x{..} escape)
_SPACE = "[\\s\x0b\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_EDGES = f"^{_SPACE}+|{_SPACE}+$"


def _stripped(text: ibis.StringValue) -> ibis.StringValue:
    """Text without surrounding white space; empty text is missing. Only text that starts or ends with white
    space is rewritten (most text has none; a test for its first and last characters among a list of them
    becomes a join per column in DuckDB, 20 joins over every row of a 1M-customer export)."""
    edge = text.re_search(f"^{_SPACE}|{_SPACE}$")
    return ibis.ifelse(edge, text.re_replace(_EDGES, ""), text).nullif("")


def _whole_numbers(con: Any, column: ibis.FloatingValue) -> bool:
    """True when every known value is a finite whole number (ids stored as floats)."""
    known = column.notnull() & ~column.isnan()
    bad = ibis.ifelse(known & (column.isinf() | (column != column.floor())), 1, 0).sum()
    return int(engine.execute(con, bad.name("bad").as_table()).iloc[0, 0] or 0) == 0


def text_column(con: Any, column: ibis.Value) -> ibis.StringValue:
    """A raw column read as text (see the module docstring)."""
    kind = column.type()
    if kind.is_floating():
        if _whole_numbers(con, column):
            column = ibis.ifelse(column.isnan(), ibis.null("int64"), column.cast("int64"))
        else:
            column = ibis.ifelse(column.isnan(), ibis.null("float64"), column)
    if kind.is_numeric() or kind.is_boolean():
        return column.cast("string")  # a number written out: no white space around it, never empty
    if not kind.is_string():
        column = column.cast("string")
    return _stripped(column)


def _needs_python(column: ibis.Value, role: str) -> bool:
    """Whether a raw column must be read in Python (once per distinct value): dates not stored as
    timestamps, numbers written as text."""
    kind = column.type()
    if role == "timestamp":
        return not (kind.is_timestamp() or kind.is_date())
    return not (kind.is_numeric() or kind.is_boolean())


def frame_table(frame: pd.DataFrame, mapping: dict[str, str], data_cfg: dict) -> tuple[ibis.Table, str | None]:
    """A frame read from a text or Excel file as raw rows for the engine, its dates and numbers
    written as text already read (in pandas, once per distinct value, by the same parsers the
    engine path joins back); and the date format used (None: the dates are stored as timestamps)."""
    parsed: dict[str, pd.Series] = {}
    date_format = None
    for role in ("timestamp", *NUMBER_ROLES, "amount", "refund"):
        if role not in mapping:
            continue
        column = frame[mapping[role]]
        if role == "timestamp" and not pd.api.types.is_datetime64_any_dtype(column):
            parsed["__timestamp"], date_format = parse_dates(
                column, fmt=data_cfg["date_format"], timezone=data_cfg["timezone"]
            )
        elif role != "timestamp" and not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
            parsed[f"__{role}"] = parse_amounts(column)
    return engine.from_pandas(frame, parsed), date_format


def _read_in_python(
    con: Any, table: ibis.Table, mapping: dict[str, str], data_cfg: dict, date_format: str | None = None
) -> tuple[ibis.Table, str]:
    """``table`` with ``__<role>`` columns: the date and numbers written as text, read once per
    distinct value and joined back (unless :func:`frame_table` read them); and the date format used."""
    found = {"format": date_format or "stored as timestamps"}

    def read_dates(values: pd.Series) -> pd.Series:
        parsed, found["format"] = parse_dates(
            values, fmt=data_cfg["date_format"], timezone=data_cfg["timezone"]
        )
        return parsed.astype(object).where(parsed.notna(), None)

    for role in ("timestamp", *NUMBER_ROLES, "amount", "refund"):
        if role in mapping and f"__{role}" not in table.columns and _needs_python(table[mapping[role]], role):
            if role == "timestamp":
                found["format"] = data_cfg["date_format"] or "none"  # when no value is readable
                table = engine.map_distinct(con, table, mapping[role], read_dates, f"__{role}", "timestamp")
            else:
                table = engine.map_distinct(con, table, mapping[role], parse_amounts, f"__{role}", "float64")
    return table, found["format"]


def _duplicates(raw: ibis.Table) -> ibis.BooleanValue:
    """Whether each raw row is an exact copy of an earlier row (every raw column equal, NULLs equal). The rows
    are grouped by all their columns (a hash aggregate); only the groups with copies are joined back, on
    the row number, instead of numbering every row within its group (a sort of the whole input)."""
    columns = engine.raw_columns(raw)
    groups = raw.group_by(columns).aggregate(__first=raw[ROW].min(), __copies=raw.count())
    copied = groups.filter(groups["__copies"] > 1)
    same = [raw[c].identical_to(copied[c]) for c in columns]
    later = raw.join(copied, same).filter(lambda t: t[ROW] != t["__first"]).select(__copy=ROW)
    return raw[ROW].isin(later["__copy"])


def _timestamp(table: ibis.Table, header: str) -> ibis.Value:
    if "__timestamp" in table.columns:
        return table["__timestamp"]
    return table[header].cast("timestamp")  # a stored zone: wall-clock time in the session's zone


def _number(con: Any, table: ibis.Table, header: str, role: str) -> tuple[ibis.Value, ibis.Value]:
    """(parsed number, raw-is-missing) for a raw column."""
    column = table[header]
    kind = column.type()
    if f"__{role}" in table.columns:
        return table[f"__{role}"], text_column(con, column).isnull()
    if kind.is_boolean():
        return ibis.null("float64"), column.isnull()
    missing = column.isnull() | column.isnan() if kind.is_floating() else column.isnull()
    return ibis.ifelse(missing, ibis.null("float64"), column.cast("float64")), missing


def standardise(
    con: Any, raw: ibis.Table, mapping: dict[str, str], data_cfg: dict, date_format: str | None = None
) -> tuple[ibis.Table, str, bool]:
    """(canonical table, date format used, whether the input has amounts) for raw rows with row numbers.

    Columns: the row number, ``customer_id``, ``order_raw`` (the order id as written), ``timestamp``,
    ``amount`` and ``amount_missing`` (NULL amounts in an event log), the mapped number roles and
    their ``_missing`` flags, ``refund`` (absolute, 0 where none), the text roles, ``status``,
    ``deal_stage`` and ``duplicate_row``.
    """
    table = raw.mutate(__duplicate=_duplicates(raw))
    table, date_format = _read_in_python(con, table, mapping, data_cfg, date_format)
    numbers = {role: _number(con, table, mapping[role], role) for role in (*NUMBER_ROLES, "amount", "refund")
               if role in mapping}
    std: dict[str, ibis.Value] = {
        ROW: table[ROW],
        "customer_id": text_column(con, table[mapping["customer_id"]]),
        "order_raw": text_column(con, table[mapping["order_id"]]) if "order_id" in mapping else ibis.null("string"),
        "timestamp": _timestamp(table, mapping["timestamp"]),
    }
    for role in NUMBER_ROLES:
        if role in numbers:
            std[role], std[f"{role}_missing"] = numbers[role]
    has_amounts = True
    if "amount" in numbers:
        std["amount"], std["amount_missing"] = numbers["amount"]
    elif {"quantity", "unit_price"} <= numbers.keys():
        std["amount"] = numbers["quantity"][0] * numbers["unit_price"][0]
        std["amount_missing"] = numbers["quantity"][1] | numbers["unit_price"][1]
    else:  # an event log without amounts
        has_amounts = False
        std["amount"] = ibis.null("float64")
        std["amount_missing"] = ibis.literal(False)
    if "refund" in numbers:
        std["refund"] = numbers["refund"][0].abs().fill_null(0.0)
    for role in (*TEXT_ROLES, "status", "deal_stage"):
        if role in mapping:
            std[role] = text_column(con, table[mapping[role]])
    std["duplicate_row"] = table["__duplicate"]
    return table.select(**std), date_format, has_amounts
