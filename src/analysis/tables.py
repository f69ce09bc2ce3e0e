"""Text columns, shared by every stage: made from integer codes (the customer table's labels), and shown
aligned left on the pages' tables."""

from __future__ import annotations

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
