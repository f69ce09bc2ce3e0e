"""Parsing dates and amounts as people write them.

Dates: an explicit format always wins. Otherwise every candidate format below is tried on the
distinct values of the column and the one that reads the most values wins. When a day-first and
a month-first format read the same values but disagree on some of them (``01/02/2024``), the
column is ambiguous: parsing stops and asks for the format instead of guessing. A day above 12
anywhere in the column settles it. Timezone-aware values are converted to the configured zone
and stored without a zone.

Text (ids, names, attributes): stripped, empty becomes missing, and whole numbers stored as
floats (ids read from Parquet or Excel, ``17850.0``) become ``17850``; transactions and customer
lists are cleaned alike, so their ids match.

Amounts: numbers pass through. Text is normalised (full-width digits and signs, currency symbols
and codes such as ``¥ $ £ € 元 RMB``, thousands separators, a decimal comma, ``(12.50)`` as a
negative) and read; anything still unreadable becomes missing, so validation can quarantine it.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

from analysis.errors import UserError

_TIMES = ("", " %H:%M", " %H:%M:%S")
_YEAR_FIRST = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")
_DAY_FIRST = ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y", "%d.%m.%y", "%d-%m-%y")
_MONTH_FIRST = ("%m/%d/%Y", "%m.%d.%Y", "%m-%d-%Y", "%m/%d/%y", "%m.%d.%y", "%m-%d-%y")
ISO = "ISO 8601"
CANDIDATES = (
    *(d + t for d in _YEAR_FIRST for t in _TIMES),
    ISO,
    *(d + t for d in (*_DAY_FIRST, *_MONTH_FIRST) for t in _TIMES),
    "%d %b %Y",
    "%b %d %Y",
    "%d %B %Y",
    "%B %d %Y",
    "%b %d, %Y",
    "%B %d, %Y",
)
_SCREEN = 5_000  # candidates are first screened on this many distinct values


def parse_dates(values: pd.Series, fmt: str | None = None, timezone: str = "UTC") -> tuple[pd.Series, str]:
    """(timestamps, format used). Unreadable values become NaT; a column in which no value can be
    read, or whose day/month order is ambiguous, raises :class:`UserError`."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return _naive(values, timezone), "stored as timestamps"
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]"), "stored as timestamps"
    codes, distinct = _distinct(values)
    text = distinct.astype("string").str.strip()
    if pd.api.types.is_float_dtype(values):
        text = text.str.replace(r"\.0$", "", regex=True)
    text = text.mask(text == "")
    readable = text.dropna().astype(object)
    if readable.empty:
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]"), fmt or "none"
    if fmt:
        parsed = _parse(readable, fmt)
        if parsed.isna().all():
            raise UserError(f"no date matches the format {fmt!r} (e.g. {readable.iloc[0]!r}): check --date-format")
    else:
        fmt, parsed = _detect(readable)
    per_distinct = _naive(parsed, timezone).reindex(text.index).to_numpy(dtype="datetime64[ns]")
    return pd.Series(_expand(codes, per_distinct), index=values.index), fmt


def _distinct(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(code per value, the distinct values): parse each distinct value once. Missing → code -1."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, pd.Series(uniques)


def _expand(codes: np.ndarray, per_distinct: np.ndarray) -> np.ndarray:
    """The parsed value of each original value (missing where the code is -1)."""
    missing = np.array(np.nan if per_distinct.dtype.kind == "f" else "NaT", dtype=per_distinct.dtype)
    out = np.append(per_distinct, missing)
    return out[codes]  # code -1 picks the appended missing value


def _parse(values: pd.Series, fmt: str) -> pd.Series:
    """Parse with one format; values it cannot read become NaT. Mixed UTC offsets become UTC."""
    pandas_fmt = "ISO8601" if fmt == ISO else fmt
    try:
        return pd.to_datetime(values, format=pandas_fmt, errors="coerce")
    except (ValueError, TypeError):  # mixed offsets, or aware and naive values together
        return pd.to_datetime(values, format=pandas_fmt, errors="coerce", utc=True)


def _naive(parsed: pd.Series, timezone: str) -> pd.Series:
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert(timezone).dt.tz_localize(None)
    if parsed.dtype == object:  # a mix pandas could not unify
        parsed = pd.to_datetime(parsed, utc=True, errors="coerce").dt.tz_convert(timezone).dt.tz_localize(None)
    return parsed.astype("datetime64[ns]")


def _detect(distinct: pd.Series) -> tuple[str, pd.Series]:
    step = max(1, len(distinct) // _SCREEN)
    screen = distinct.iloc[::step]
    counts = {fmt: int(_parse(screen, fmt).notna().sum()) for fmt in CANDIDATES}
    best = max(counts.values())
    if best == 0:
        examples = ", ".join(repr(v) for v in distinct.head(3))
        raise UserError(f"could not recognise the dates ({examples}): set the format, e.g. --date-format '%d/%m/%Y'")
    finalists = [fmt for fmt in CANDIDATES if counts[fmt] == best]
    parsed = {fmt: _parse(distinct, fmt) for fmt in finalists}
    full = {fmt: int(p.notna().sum()) for fmt, p in parsed.items()}
    top = max(full.values())
    winners = [fmt for fmt in finalists if full[fmt] == top]
    chosen = winners[0]
    for other in winners[1:]:
        a, b = parsed[chosen], parsed[other]
        differ = (a.notna() & b.notna() & (a != b)).to_numpy()
        if differ.any():
            example = distinct[differ].iloc[0]
            raise UserError(
                f"dates such as {example!r} could be day-first or month-first and no value in the column "
                f"settles it: set the format, e.g. --date-format '{_DAY_FIRST[0]}' or '{_MONTH_FIRST[0]}'"
            )
    return chosen, parsed[chosen]


def parse_text(values: pd.Series) -> pd.Series:
    """Text as a pandas string column: stripped, empty strings missing, ``17850.0`` read as ``17850``."""
    if pd.api.types.is_float_dtype(values):
        known = values.dropna()
        if np.isfinite(known).all() and (known == np.floor(known)).all():
            values = values.astype("Int64")
    s = values.astype("string").str.strip()
    return s.mask(s == "")


# ---------------------------------------------------------------------------------------------
# amounts

_CURRENCY = r"(?i:rmb|cny|usd|eur|gbp|jpy|hkd|us\$|hk\$|元|円|[¥$£€￥₩₹])"


def parse_amounts(values: pd.Series) -> pd.Series:
    """Numbers as float64; text with currency marks and separators read; the rest NaN."""
    if pd.api.types.is_bool_dtype(values):
        return pd.Series(np.nan, index=values.index)
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")  # copy-on-write: never aliases the input
    codes, distinct = _distinct(values)
    per_distinct = _read_numbers(distinct.astype("string")).to_numpy(dtype="float64", na_value=np.nan)
    return pd.Series(_expand(codes, per_distinct), index=values.index)


def _read_numbers(text: pd.Series) -> pd.Series:
    s = text.map(lambda v: unicodedata.normalize("NFKC", v), na_action="ignore").astype("string")
    s = s.str.replace(r"[\s\u00a0']", "", regex=True).str.replace(_CURRENCY, "", regex=True)
    negative = s.str.fullmatch(r"\(.*\)").fillna(False) | s.str.endswith("-").fillna(False)
    s = s.str.strip("()").str.rstrip("-")
    both = s.str.contains(",", regex=False) & s.str.contains(".", regex=False)
    comma_decimal = both & (s.str.rfind(",") > s.str.rfind("."))
    comma_decimal |= ~both & s.str.fullmatch(r"[-+]?\d+,\d{1,2}")  # 12,50 (but 1,250 is thousands)
    s = s.where(~comma_decimal, s.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    s = s.where(comma_decimal, s.str.replace(",", "", regex=False))
    number = pd.to_numeric(s.where(s.str.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")), errors="coerce")
    return number.astype("float64").where(~negative, -number.astype("float64").abs())
