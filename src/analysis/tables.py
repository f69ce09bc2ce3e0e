"""Text columns, shared by every stage: made from integer codes (the customer table's labels), shown aligned left
on the pages' tables, and kept from becoming code: escaped where a page is made (Styler tables, Markdown), and
guarded against formula starts in the CSV files people open in a spreadsheet."""

from __future__ import annotations

import html
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.io.formats.style import Styler


def text_column(vocabulary: Iterable, codes) -> pd.api.extensions.ExtensionArray:
    """``vocabulary[code]`` for each code as a text column (pandas ``str``), missing where the code is negative
    or the word is None: a million customers' labels without a Python string each."""
    codes = np.asarray(codes, np.int64)
    words = pa.array([None if w is None else str(w) for w in vocabulary], pa.string())
    return pd.array(words.take(pa.array(codes, mask=codes < 0)), dtype="str")


def left_aligned(style: Styler, columns: Iterable, **props: str) -> Styler:
    """``style`` with the text ``columns`` aligned left, their headers too (a right-aligned header stands apart
    from the text under it), and any further CSS ``props`` on their cells (e.g. ``white_space="nowrap"``)."""
    columns = list(columns)
    if not columns:
        return style
    cells = {"text-align": "left", **{name.replace("_", "-"): value for name, value in props.items()}}
    headers = {c: [{"selector": "th.col_heading", "props": "text-align: left"}] for c in columns}
    return style.set_properties(subset=columns, **cells).set_table_styles(headers, overwrite=False)


# A text cell that begins with one of these is read as a formula by Excel and the CRMs' spreadsheet previews
# (OWASP, "CSV Injection"): such a cell is written with a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START = "^[=+\\-@\\t\\r]"


def formula_guarded(text: pa.Array) -> pa.Array:
    """Arrow ``text`` with a leading ``'`` on every value that begins with a formula start (``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return): ``"=1+1"`` → ``"'=1+1"``; other values and nulls unchanged."""
    import pyarrow.compute as pc

    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    starts = pc.match_substring_regex(text, _FORMULA_START)
    if not pc.any(starts).as_py():
        return text
    quote, nothing = pa.scalar("'", text.type), pa.scalar("", text.type)  # (string or large_string)
    return pc.if_else(starts, pc.binary_join_element_wise(quote, text, nothing), text)


def formula_guarded_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with :func:`formula_guarded` applied to its text cells (text columns, text categories and the
    text values of mixed columns); numbers, dates and missing values are left as they are (a negative amount is
    a number, not text). The frame itself when no cell needs it."""
    out = None
    for i in range(frame.shape[1]):
        values = frame.iloc[:, i]
        if isinstance(values.dtype, pd.CategoricalDtype):
            guarded = values.cat.rename_categories([formula_guarded_value(c) for c in values.cat.categories])
        elif values.dtype == object:
            guarded = values.map(formula_guarded_value)
        elif pd.api.types.is_string_dtype(values.dtype):
            starts = values.str.match(_FORMULA_START).fillna(False).astype(bool)
            guarded = values.where(~starts, "'" + values)
        else:
            continue
        if not guarded.equals(values):
            out = frame.copy() if out is None else out
            out.isetitem(i, guarded)
    return frame if out is None else out


def formula_guarded_value(value):
    """One value as :func:`formula_guarded` writes it: a text with a formula start gets a leading ``'``; anything
    else (a number, a missing value) is returned as it is."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]|~#!"})


def markdown_text(value: object) -> str:
    """A text from the data, a setting or a file name, safe to put into Markdown (a notebook's
    ``display(Markdown(...))``): its Markdown characters (``* _ [ ] | ` ~ # ! \\``) backslash-escaped, line breaks
    as spaces, then HTML-escaped (Markdown passes raw HTML through): ``<b>A|B</b>`` → ``&lt;b&gt;A\\|B&lt;/b&gt;``,
    shown as written."""
    text = " ".join(str(value).splitlines())
    return html.escape(text.translate(_MARKDOWN_SPECIAL), quote=True)


def escaped(style: Styler) -> Styler:
    """``style`` with its headers, index labels and their names HTML-escaped (the Styler writes them as they are);
    its cells are escaped where their formats are set, with ``format(..., escape="html")``."""
    for axis in (0, 1):
        style = style.format_index(escape="html", axis=axis).format_index_names(escape="html", axis=axis)
    return style
