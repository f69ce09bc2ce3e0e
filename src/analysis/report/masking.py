"""Masking a rendered page for stakeholders (``--mask-pii``): the executed notebook keeps the real values, the HTML
page written from it does not.

Two passes over the parsed page (:func:`mask_html`):

1. tables (pandas ``to_html`` and Styler output): the cells under a column header, or beside an index name, that
   names personal data (:func:`analysis.privacy.pii_kind`, or that column's header in a page language) are masked
   with their kind's masker; ids are hashed with :func:`analysis.privacy.mask_id`, as the summary and deck do;
2. every text of the page (text nodes, ``<pre>`` text outputs, ``alt`` and ``title``): known customers' names,
   phones and e-mails (:class:`analysis.privacy.KnownValues`), then any e-mail or phone number
   (:func:`analysis.privacy.mask_text`).

Images are left as they are (a chart is a PNG: the notebooks mask what they draw), and so are scripts and styles.
Numeric ids in free text cannot be told from other numbers: the notebooks mask those.
"""

from __future__ import annotations

import re
from pathlib import Path

from analysis.i18n import HEADERS
from analysis.privacy import MASKERS, KnownValues, mask_id, mask_name, mask_text, pii_kind

# A header a page shows for a personal column (``Customer``, ``客户编号``, ...) -> that column.
LOCALIZED = {label: column for column, pair in HEADERS.items() if pii_kind(column) for label in pair.values()}
# Cells that hold no value, or hold one masked already (by a notebook, through privacy.for_pages).
EMPTY = {"", "nan", "none", "<na>", "nat", "...", "…", "-", "—"}
MASKED_ID = re.compile(r"\bc-[0-9a-f]{8}\b")
LABEL = re.compile(r"^(?P<name>.+) \((?P<id>[^()]+)\)$")  # "name (id)", as analysis.report.numbers writes it
TEXT_ATTRIBUTES = ("alt", "title", "aria-label")


def header_kind(text: str) -> str | None:
    """The kind of personal data (``name``, ``phone``, ``email``, ``id``) under a header, else ``None``."""
    text = text.strip()
    return pii_kind(text) or (pii_kind(LOCALIZED[text]) if text in LOCALIZED else None)


def mask_cell(text: str, kind: str, salt: str = "") -> str:
    """One table cell of ``kind``; empty cells and cells masked already are kept. An id cell reading
    "name (id)" is masked as both."""
    value = text.strip()
    if value.lower() in EMPTY:
        return text
    if kind == "id":
        if MASKED_ID.search(value):
            return text
        label = LABEL.match(value)
        if label:
            name = label["name"] if "*" in label["name"] else mask_name(label["name"])
            return f"{name} ({mask_id(label['id'], salt)})"
        return mask_id(value, salt)
    return text if "*" in value else MASKERS[kind](value)


def _spans(cell, name: str) -> int:
    try:
        return max(int(cell.get(name, 1)), 1)
    except (TypeError, ValueError):
        return 1


def _grid(rows: list) -> list[list[tuple[int, int, object]]]:
    """Each row's cells as ``(first column, columns spanned, cell)``, with rowspan and colspan (MultiIndex
    tables) placed as a browser places them."""
    taken: set[tuple[int, int]] = set()
    out = []
    for r, row in enumerate(rows):
        cells, c = [], 0
        for cell in row.find_all(["th", "td"], recursive=False):
            while (r, c) in taken:
                c += 1
            width, height = _spans(cell, "colspan"), _spans(cell, "rowspan")
            taken.update((r + dr, c + dc) for dr in range(height) for dc in range(width))
            cells.append((c, width, cell))
            c += width
        out.append(cells)
    return out


def mask_table(table, salt: str = "") -> None:
    """Mask, in place, the cells of a parsed ``<table>`` under a personal column's header (a lower header row
    wins over the one above it, as MultiIndex columns read) or beside a personal index name."""
    rows = [row for row in table.find_all("tr") if row.find_parent("table") is table]
    grid = _grid(rows)
    is_header = [row.find_parent("thead") is not None for row in rows]
    if not any(is_header):  # no <thead>: the leading rows of header cells only
        for i, row in enumerate(rows):
            if not row.find_all("th", recursive=False) or row.find_all("td", recursive=False):
                break
            is_header[i] = True
    kinds: dict[int, str] = {}
    for cells, header in zip(grid, is_header, strict=True):
        if header:
            for c, width, cell in cells:
                kind = header_kind(cell.get_text(" "))
                if kind:
                    kinds.update(dict.fromkeys(range(c, c + width), kind))
    if not kinds:
        return
    for cells, header in zip(grid, is_header, strict=True):
        if not header:
            for c, _, cell in cells:
                if c in kinds:
                    text = cell.get_text()
                    masked = mask_cell(text, kinds[c], salt)
                    if masked != text:
                        cell.string = masked


def mask_html(page: str, salt: str = "", known: KnownValues | None = None) -> str:
    """``page`` (an HTML document) with its tables' personal columns masked, then every known name, phone and
    e-mail (``known``) and any e-mail or phone number in its text."""
    from bs4 import BeautifulSoup
    from bs4.element import Comment, NavigableString

    known = known or KnownValues()
    soup = BeautifulSoup(page, "html.parser")
    for table in soup.find_all("table"):
        mask_table(table, salt)
    for node in soup.find_all(string=True):
        if type(node) not in (NavigableString, Comment) or node.parent.name in ("script", "style"):
            continue
        masked = mask_text(known(str(node)))
        if masked != node:
            node.replace_with(type(node)(masked))
    for attribute in TEXT_ATTRIBUTES:
        for tag in soup.find_all(attrs={attribute: True}):
            if isinstance(tag[attribute], str):
                tag[attribute] = mask_text(known(tag[attribute]))
    return str(soup)


class PageMasker:
    """The masking of one run's pages: ``PageMasker(run_dir)(html)`` is the page to write. Made once per run;
    reads the known names, phones and e-mails from the run's customer table again only when a stage has added
    a personal column to it."""

    def __init__(self, run_dir: str | Path, salt: str = ""):
        self.customers = Path(run_dir) / "customers.parquet"
        self.salt = salt
        self._columns: tuple[str, ...] | None = None
        self._known = KnownValues()

    def known(self) -> KnownValues:
        """The known values of the customer table as it is now."""
        import pyarrow.parquet as pq

        if not self.customers.exists():
            return self._known
        columns = tuple(c for c in pq.read_schema(self.customers).names if pii_kind(c) in MASKERS)
        if columns != self._columns:
            import pandas as pd

            frame = pd.read_parquet(self.customers, columns=list(columns)) if columns else pd.DataFrame()
            self._known, self._columns = KnownValues.from_frame(frame), columns
        return self._known

    def __call__(self, page: str) -> str:
        return mask_html(page, self.salt, self.known())
