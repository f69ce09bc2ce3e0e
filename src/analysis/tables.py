"""How the pages show a table's text columns, shared by every stage's ``show``."""

from __future__ import annotations

from collections.abc import Iterable

from pandas.io.formats.style import Styler


def left_aligned(style: Styler, columns: Iterable, **props: str) -> Styler:
    """``style`` with the text ``columns`` aligned left, their headers too (a right-aligned header stands apart
    from the text under it), and any further CSS ``props`` on their cells (e.g. ``white_space="nowrap"``)."""
    columns = list(columns)
    if not columns:
        return style
    cells = {"text-align": "left", **{name.replace("_", "-"): value for name, value in props.items()}}
    headers = {c: [{"selector": "th.col_heading", "props": "text-align: left"}] for c in columns}
    return style.set_properties(subset=columns, **cells).set_table_styles(headers, overwrite=False)
