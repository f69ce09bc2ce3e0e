"""The pages' tables: text columns and their headers aligned left, numbers and theirs as pandas shows them."""

import re

import pandas as pd

from analysis.tables import left_aligned


def test_text_columns_and_their_headers_are_aligned_left():
    frame = pd.DataFrame({"Why": ["no purchase for 40 days"], "Tier": ["VIP"], "Risk": [0.8]})
    html = left_aligned(frame.style, ["Why", "Tier"], white_space="nowrap").to_html()
    css = re.search(r"<style.*?</style>", html, re.S).group(0)
    assert re.search(r"th\.col_heading\.col0 \{\s*text-align: left;", css)  # Why's header
    assert re.search(r"th\.col_heading\.col1 \{\s*text-align: left;", css)  # Tier's header
    assert "col2" not in css  # the number column is left as it was
    assert re.search(r"_row0_col0, #T_\w+_row0_col1 \{\s*text-align: left;\s*white-space: nowrap;", css)  # the cells


def test_no_text_columns_leave_the_table_as_it_was():
    style = pd.DataFrame({"Risk": [0.8]}).style
    assert left_aligned(style, []) is style


def test_text_column_from_codes_with_missing_codes_and_words():
    from analysis.tables import text_column

    column = text_column(["VIP", None, 3], [0, 2, -1, 1, 0])
    assert column.dtype == "str"
    assert [None if pd.isna(v) else v for v in column] == ["VIP", "3", None, None, "VIP"]
