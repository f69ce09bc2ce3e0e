"""The fast sheet writer: floats read exactly as Python writes them, and a table with gaps, repeated texts and
every cell type reads back cell for cell (missing values are no cell, the cells after a gap land in place)."""

import numpy as np
import pandas as pd
from openpyxl import load_workbook

from analysis.report import sheetxml
from analysis.report.export import write_plain_xlsx


def test_float_text_is_python_repr():
    rng = np.random.default_rng(0)
    values = rng.random(20_000) * 10.0 ** rng.integers(-12, 25, 20_000)
    values = np.concatenate([values, np.round(values, 2), np.floor(values), -values,
                             [0.0, -0.0, 1e16, 1.5e16, 1e15, 1e-4, 1e-5, 5e-324, np.nan, np.inf]])  # fmt: skip
    text = sheetxml.float_text(values).to_pylist()
    assert text == [repr(float(v)) if np.isfinite(v) else None for v in values]


def test_float_text_of_short_decimals_is_python_repr():
    # money in cents, shares to 4 places and serial dates take the integer path; it writes what repr writes
    rng = np.random.default_rng(1)
    values = rng.normal(size=20_000) * 10.0 ** rng.integers(-2, 11, 20_000)
    for decimals in range(5):
        rounded = np.concatenate([np.round(values, decimals), [0.0, -0.0, 1.0, 45291.0, 0.0001, 99999999999.9999]])
        assert sheetxml._short_decimals(rounded, np.isfinite(rounded)) is not None
        text = sheetxml.float_text(np.concatenate([rounded, [np.nan, -np.inf]])).to_pylist()
        assert text == [repr(float(v)) for v in rounded] + [None, None]


def test_rows_with_gaps_and_shared_strings_read_back_in_place(tmp_path, monkeypatch):
    monkeypatch.setattr(sheetxml, "CHUNK_ROWS", 2)  # several chunks
    frame = pd.DataFrame({
        "id": ["007", "008", "009", "010", "011"],
        "tier": ["VIP", None, "VIP", "A & <B>", "Li\x07 Lei"],
        "money": [1.5, np.nan, 12.0, np.inf, 0.1],
        "count": pd.array([1, None, 3, 4, 5], dtype="Int64"),
        "flag": [True, False, True, False, True],
        "day": pd.to_datetime(["2024-01-31", None, "2024-02-29", "2024-03-31", "2024-04-30"]),
    })  # fmt: skip
    path = tmp_path / "t.xlsx"
    write_plain_xlsx(path, frame)
    rows = list(load_workbook(path)["Sheet1"].iter_rows(values_only=True))
    assert rows[0] == tuple(frame.columns)
    assert rows[1] == ("007", "VIP", 1.5, 1, True, 45322.0)  # a date is its Excel serial day (no format here)
    assert rows[2] == ("008", None, None, None, False, None)
    assert rows[3][:4] == ("009", "VIP", 12.0, 3)
    assert rows[4][1:3] == ("A & <B>", None)  # text escaped; an infinite amount is no cell
    assert rows[5][1] == "Li Lei"  # control characters an XLSX file cannot hold are dropped
