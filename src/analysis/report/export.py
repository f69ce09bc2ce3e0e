"""The customer tier table (客户分层管理表格): one row per customer with who they are, their R/F/M numbers,
segment, value class, lifecycle stage, tier, cluster, lifetime value, churn risk and what to do, as of one date;
and its Excel workbook ``customers.xlsx``.

:func:`tier_table` picks the table's columns from the run's customer table (a stage that did not run simply has
no column); :func:`write_tier_workbook` writes the workbook: sheet 1 the table (header frozen, filters on, column
widths from the contents, money ``#,##0.00``, probabilities ``0.0%``, dates ``yyyy-mm-dd``), sheet 2 what every
column means in English and Chinese (``defaults/columns.yaml``), sheet 3 the tier playbook
(``defaults/segments.yaml``). A table longer than an Excel sheet holds is not cut: sheet 1 says so and points to
``customers.csv`` and ``customers.parquet``.

openpyxl writes the workbook (write-only mode): sheets, styles, widths, the frozen header and the filter. The rows
are then streamed into sheet 1 by :mod:`analysis.report.sheetxml` (SpreadsheetML built a column at a time with
Arrow, text as shared strings), rounded for people a chunk at a time, so the table is never copied whole: about
6 s of CPU for 1,000,000 customers (half of it compression), where openpyxl's per-cell writer takes many minutes.
:func:`write_plain_xlsx` does the same for a one-sheet file of text (the CRM presets that take Excel files).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from analysis.report.rundir import MONEY_COLUMNS, PROBABILITY_COLUMNS, rounded_for_people
from analysis.report.sheetxml import SharedStrings, add_rows, rows_xml
from analysis.stage import Text, text

# Rows an Excel sheet holds, the header row included (Excel's specification and limits); a module constant so a
# test can lower it.
EXCEL_MAX_ROWS = 1_048_576

ATTRIBUTES = ("country", "region", "city", "industry", "customer_type", "size")
# The company's web domain when the data has one: the key HubSpot matches companies on (see report/crm.py).
DOMAINS = ("domain", "website")
# The table's columns in reading order; a Chinese label column follows its English twin (see ZH_TWINS).
TIER_COLUMNS = (
    "customer_id", "customer_name", *ATTRIBUTES, *DOMAINS,
    "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_segment", "rfm_segment_zh",
    "abc_class", "lifecycle_stage", "tier", "cluster_name", "clv", "clv_low", "clv_high", "p_alive",
    "churn_risk", "risk_band", "value_at_risk", "recommended_action",
)  # fmt: skip
ZH_TWINS = ("tier", "lifecycle_stage", "recommended_action", "cluster_name", "risk_band")

MONEY_FORMAT = "#,##0.00"
PROBABILITY_FORMAT = "0.0%"
DATE_FORMAT = "yyyy-mm-dd"
INTEGER_FORMAT = "0"

# Texts of the workbook itself, [English, 中文] (the column explanations are data: defaults/columns.yaml).
TEXTS: dict[str, Text] = {
    "customers": {"en": "Customers", "zh": "客户分层"},
    "columns": {"en": "Columns", "zh": "字段说明"},
    "playbook": {"en": "Playbook", "zh": "分层策略"},
    "column": {"en": "Column", "zh": "字段"},
    "english": {"en": "English", "zh": "英文说明"},
    "chinese": {"en": "Chinese", "zh": "中文说明"},
    "tier": {"en": "Tier", "zh": "分层"},
    "tier_en": {"en": "Tier (English)", "zh": "分层（英文）"},
    "tier_zh": {"en": "Tier (Chinese)", "zh": "分层（中文）"},
    "count": {"en": "Customers", "zh": "客户数"},
    "too_many": text(
        "{rows:,} customers do not fit in an Excel sheet ({limit:,} rows with the header). The full table is in "
        "customers.csv (UTF-8 with BOM) and customers.parquet in the same folder.",
        "{rows:,} 位客户超过 Excel 单个工作表的行数上限（含表头 {limit:,} 行）。完整表格见同一文件夹中的 "
        "customers.csv（UTF-8 BOM）和 customers.parquet。",
    ),
}
# Headings of the playbook's fields (a field not listed here is headed by its key).
PLAYBOOK_FIELDS: dict[str, Text] = {
    "service_level": {"en": "Service level", "zh": "服务水平"},
    "contact_cadence": {"en": "Contact cadence", "zh": "联系频率"},
    "channel": {"en": "Channel", "zh": "渠道"},
    "offer": {"en": "Offer", "zh": "优惠"},
    "owner": {"en": "Owner", "zh": "负责人"},
    "action": {"en": "Recommended action", "zh": "建议动作"},
}

WIDTH_SAMPLE = 2000  # rows looked at to size the columns
MIN_WIDTH, MAX_WIDTH = 8, 60
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
WRAP = Alignment(wrap_text=True, vertical="top")
_WIDE = re.compile(r"[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]")


def tier_table(customers: pd.DataFrame, as_of: Any) -> pd.DataFrame:
    """The tier table of ``customers`` (the run's customer table, one row per customer) as of ``as_of``.

    Columns in the order of ``TIER_COLUMNS`` when present, each Chinese label column (``tier_zh``, ...) right
    after its English twin, then ``as_of``: the day the tiers were assessed on (as customers.csv and the CRM files
    have it, so an import keeps when each customer was classified). Rows keep the customer table's order.
    """
    if "customer_id" not in customers:
        raise ValueError("the customer table has no customer_id column")
    columns: list[str] = []
    for name in TIER_COLUMNS:
        if name in customers:
            columns.append(name)
            twin = f"{name}_zh"
            if name in ZH_TWINS and twin in customers:
                columns.append(twin)
    table = customers[columns].reset_index(drop=True)  # a new frame (copy on write): customers is untouched
    table["as_of"] = pd.Timestamp(as_of).normalize()
    return table


def number_format(column: str, series: pd.Series) -> str | None:
    """The Excel number format of a column: money, probability, date, whole number, or None (general)."""
    if column in MONEY_COLUMNS:
        return MONEY_FORMAT
    if column in PROBABILITY_COLUMNS:
        return PROBABILITY_FORMAT
    if pd.api.types.is_datetime64_any_dtype(series):
        return DATE_FORMAT
    if pd.api.types.is_integer_dtype(series):
        return INTEGER_FORMAT
    return None


def text_width(text: str) -> int:
    """Columns ``text`` takes on screen: a Chinese (wide) character counts as two."""
    return len(text) + len(_WIDE.findall(text))


def column_width(column: str, series: pd.Series, fmt: str | None) -> float:
    """A width that shows the header and the values of the first ``WIDTH_SAMPLE`` rows, within bounds."""
    sample = series.iloc[:WIDTH_SAMPLE].dropna()
    if fmt == DATE_FORMAT:
        widest = 10
    elif fmt in (MONEY_FORMAT, INTEGER_FORMAT) and len(sample):
        widest = len(f"{float(sample.abs().max()):,.2f}") + 1
    elif fmt == PROBABILITY_FORMAT:
        widest = 6
    else:
        widest = max((text_width(str(v)) for v in sample.unique()[:WIDTH_SAMPLE]), default=0)
    return float(min(MAX_WIDTH, max(MIN_WIDTH, widest + 2, text_width(column) + 4)))  # +4: the filter button


def _cell(ws: Any, value: Any) -> Any:
    """``value`` as a cell of ``ws``: a text is always a text cell (openpyxl makes a text beginning with ``=`` a
    formula, and the texts here come from the data and the settings); anything else as it is."""
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"
    return cell


def _header(ws: Any, names: Iterable[str]) -> list[WriteOnlyCell]:
    cells = []
    for name in names:
        cell = _cell(ws, str(name))
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cells.append(cell)
    return cells


def _write_table(ws: Any, table: pd.DataFrame) -> dict[str, int | None]:
    """Sheet 1 without its rows: column widths and the frozen, filtered header. Returns the style id of each
    column's number format (registered in the workbook); :func:`~analysis.report.sheetxml.add_rows` adds the
    rows after openpyxl saved. Widths fit the first rows as people read them (rounded)."""
    styles: dict[str, int | None] = {}
    first = rounded_for_people(table.iloc[:WIDTH_SAMPLE])
    for i, column in enumerate(table.columns, 1):
        fmt = number_format(column, table[column])
        ws.column_dimensions[get_column_letter(i)].width = column_width(column, first[column], fmt)
        styles[column] = None
        if fmt:
            template = WriteOnlyCell(ws)
            template.number_format = fmt
            styles[column] = template.style_id
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{len(table) + 1}"
    ws.append(_header(ws, table.columns))
    return styles


def _write_overflow(ws: Any, rows: int, lang: str) -> None:
    """Sheet 1 when the table is longer than a sheet: what happened and where the table is (``lang`` first)."""
    ws.column_dimensions["A"].width = 120
    for each in (lang, *(other for other in ("en", "zh") if other != lang)):
        cell = _cell(ws, TEXTS["too_many"][each].format(rows=rows, limit=EXCEL_MAX_ROWS))
        cell.alignment = WRAP
        ws.append([cell])


def _write_columns(ws: Any, columns: Iterable[str], descriptions: dict[str, list[str]], lang: str) -> None:
    """Sheet 2: every column of sheet 1 with what it means, in English and Chinese."""
    for letter, width in zip("ABC", (26, 60, 50), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    ws.append(_header(ws, [TEXTS[k][lang] for k in ("column", "english", "chinese")]))
    for column in columns:
        en, zh = (list(descriptions.get(column) or []) + ["", ""])[:2]
        ws.append([_cell(ws, str(column)), _cell(ws, str(en)), _cell(ws, str(zh))])


def _write_playbook(ws: Any, table: pd.DataFrame, config: dict, lang: str) -> None:
    """Sheet 3: per tier (in the order of ``tiers.labels``) its name in both languages, its customers in the
    table, and each playbook field in both languages."""
    labels = config["tiers"]["labels"]
    playbook = config["playbook"]["tiers"]
    fields: list[str] = []
    for entry in playbook.values():
        fields += [f for f in entry if f not in fields]
    header = [TEXTS["tier_en"][lang], TEXTS["tier_zh"][lang], TEXTS["count"][lang]]
    for field in fields:
        name = PLAYBOOK_FIELDS[field][lang] if field in PLAYBOOK_FIELDS else field
        header += [f"{name} (English)", f"{name} (Chinese)"] if lang == "en" else [f"{name}（英文）", f"{name}（中文）"]
    widths = [14, 14, 11] + [40, 30] * len(fields)
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    ws.append(_header(ws, header))
    counts = table["tier"].value_counts() if "tier" in table else pd.Series(dtype=int)
    for key, (en, zh) in labels.items():
        row: list[Any] = [_cell(ws, str(en)), _cell(ws, str(zh)), int(counts.get(en, 0)) if "tier" in table else None]
        for field in fields:
            words = (list(playbook.get(key, {}).get(field) or []) + ["", ""])[:2]
            row += [_wrapped(ws, words[0]), _wrapped(ws, words[1])]
        ws.append(row)


def _wrapped(ws: Any, text: str) -> WriteOnlyCell:
    cell = _cell(ws, str(text))
    cell.alignment = WRAP
    return cell


def write_tier_workbook(path: str | Path, table: pd.DataFrame, config: dict, lang: str = "en") -> list[str]:
    """Write ``table`` (from :func:`tier_table`) as the workbook ``path`` (``customers.xlsx``); returns warnings.

    Sheet 1 the table, rounded for people (money to cents, probabilities to 4 decimals), sheet 2 the columns
    explained (``config["columns"]``), sheet 3 the tier playbook (``config["tiers"]["labels"]``,
    ``config["playbook"]["tiers"]``). ``lang`` (``en`` or ``zh``) names the sheets and heads sheets 2 and 3; both
    languages are always in them. A table with more rows than ``EXCEL_MAX_ROWS`` (header included) is not
    written: sheet 1 says so and points to ``customers.csv`` and ``customers.parquet``, and a warning says it too.
    """
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh', not {lang!r}")
    warnings: list[str] = []
    styles: dict[str, int | None] | None = None
    wb = Workbook(write_only=True)
    sheet = wb.create_sheet(TEXTS["customers"][lang])
    if len(table) + 1 > EXCEL_MAX_ROWS:
        _write_overflow(sheet, len(table), lang)
        warnings.append(
            f"customers.xlsx: {len(table):,} customers exceed Excel's {EXCEL_MAX_ROWS:,} rows per sheet; "
            "sheet 1 points to customers.csv and customers.parquet instead"
        )
    else:
        styles = _write_table(sheet, table)
    _write_columns(wb.create_sheet(TEXTS["columns"][lang]), table.columns, config["columns"], lang)
    _write_playbook(wb.create_sheet(TEXTS["playbook"][lang]), table, config, lang)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    wb.save(tmp)
    if styles is not None:
        strings = SharedStrings(table)
        rows = rows_xml(table, styles, strings, prepare=rounded_for_people)
        add_rows(tmp, sheet.path.lstrip("/"), rows, strings)
    tmp.replace(path)
    return warnings


def write_plain_xlsx(path: str | Path, frame: pd.DataFrame, title: str = "Sheet1") -> None:
    """Write ``frame`` as a one-sheet workbook ``path``: a plain header row, then the rows, every cell as it is
    in ``frame`` (text stays text, so ids such as 00001 keep their zeros, and a text beginning with ``=`` is never
    a formula; missing values are empty cells)."""
    wb = Workbook(write_only=True)
    sheet = wb.create_sheet(title)
    sheet.append([_cell(sheet, str(c)) for c in frame.columns])
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    wb.save(tmp)
    strings = SharedStrings(frame)
    add_rows(tmp, sheet.path.lstrip("/"), rows_xml(frame, dict.fromkeys(frame.columns), strings), strings)
    tmp.replace(path)


__all__ = ["EXCEL_MAX_ROWS", "tier_table", "write_tier_workbook", "write_plain_xlsx", "number_format", "text_width"]
