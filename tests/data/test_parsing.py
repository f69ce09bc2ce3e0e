"""Dates and amounts as people write them: exact cases, ambiguity, time zones."""

import numpy as np
import pandas as pd
import pytest

from analysis.data.parsing import parse_amounts, parse_dates
from analysis.errors import UserError


def dates(values, **kwargs):
    parsed, fmt = parse_dates(pd.Series(values, dtype=object), **kwargs)
    return [None if pd.isna(v) else str(v) for v in parsed], fmt


@pytest.mark.parametrize(
    ("values", "expected", "fmt"),
    [
        (["2024-01-05", "2024-02-13"], ["2024-01-05 00:00:00", "2024-02-13 00:00:00"], "%Y-%m-%d"),
        (["19970101", "19980630"], ["1997-01-01 00:00:00", "1998-06-30 00:00:00"], "%Y%m%d"),
        (["2024/1/5 10:30", "2024/12/25 23:59"], ["2024-01-05 10:30:00", "2024-12-25 23:59:00"], "%Y/%m/%d %H:%M"),
        (["2024年1月5日", "2024年12月25日"], ["2024-01-05 00:00:00", "2024-12-25 00:00:00"], "%Y年%m月%d日"),
        (["12/1/10 8:26", "12/13/10 9:00"], ["2010-12-01 08:26:00", "2010-12-13 09:00:00"], "%m/%d/%y %H:%M"),
        (["05/01/2024", "13/01/2024"], ["2024-01-05 00:00:00", "2024-01-13 00:00:00"], "%d/%m/%Y"),
        (["05.01.2024", "31.12.2024"], ["2024-01-05 00:00:00", "2024-12-31 00:00:00"], "%d.%m.%Y"),
        (["5 Jan 2024", "13 Feb 2024"], ["2024-01-05 00:00:00", "2024-02-13 00:00:00"], "%d %b %Y"),
    ],
)
def test_formats_are_detected_from_the_whole_column(values, expected, fmt):
    assert dates(values) == (expected, fmt)


def test_one_value_above_twelve_anywhere_settles_day_first():
    values = [f"{d:02d}/{m:02d}/2024" for d in range(1, 13) for m in range(1, 13)] * 3 + ["25/12/2024"]
    parsed, fmt = dates(values)
    assert fmt == "%d/%m/%Y"
    assert parsed[1] == "2024-02-01 00:00:00"  # 01/02 is the first of February


def test_ambiguous_day_and_month_stop_with_a_clear_error():
    with pytest.raises(UserError, match="day-first or month-first.*--date-format"):
        dates(["01/02/2024", "03/04/2024", "12/11/2024"])


def test_same_day_and_month_are_not_ambiguous():
    assert dates(["01/01/2024", "02/02/2024"])[0] == ["2024-01-01 00:00:00", "2024-02-02 00:00:00"]


def test_explicit_format_wins_over_detection():
    assert dates(["01/02/2024"], fmt="%m/%d/%Y")[0] == ["2024-01-02 00:00:00"]
    with pytest.raises(UserError, match="no date matches the format"):
        dates(["2024-01-02"], fmt="%d/%m/%Y")


def test_unreadable_values_become_missing_and_nothing_readable_is_an_error():
    assert dates(["2024-01-05", "not a date", "", None])[0] == ["2024-01-05 00:00:00", None, None, None]
    with pytest.raises(UserError, match="could not recognise the dates"):
        dates(["soon", "later"])


def test_time_zones_are_normalised_to_the_configured_zone():
    values = ["2024-01-05T10:00:00+08:00", "2024-01-05T10:00:00Z"]
    assert dates(values)[0] == ["2024-01-05 02:00:00", "2024-01-05 10:00:00"]
    assert dates(values, timezone="Asia/Shanghai")[0] == ["2024-01-05 10:00:00", "2024-01-05 18:00:00"]
    aware = pd.Series(pd.to_datetime(["2024-01-05 23:30"]).tz_localize("America/New_York"))
    parsed, fmt = parse_dates(aware, timezone="UTC")
    assert (str(parsed.iloc[0]), fmt) == ("2024-01-06 04:30:00", "stored as timestamps")


def test_numbers_and_stored_dates_pass_through():
    parsed, _ = parse_dates(pd.Series([19970101, 19970102]))
    assert parsed.tolist() == [pd.Timestamp("1997-01-01"), pd.Timestamp("1997-01-02")]
    stored = pd.Series(pd.to_datetime(["2024-01-05"]))
    assert parse_dates(stored)[0].equals(stored.astype("datetime64[ns]"))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12.50", 12.5),
        ("¥1,234.50", 1234.5),
        ("$12", 12.0),
        ("£-3.20", -3.2),
        ("€1.234,56", 1234.56),
        ("１２３．５", 123.5),
        ("￥８８", 88.0),
        ("RMB 99元", 99.0),
        ("(12.50)", -12.5),
        ("12,5", 12.5),
        ("1,250", 1250.0),
        ("1 250,00", 1250.0),
        ("-7", -7.0),
        ("1e3", 1000.0),
    ],
)
def test_amounts_written_as_text(text, value):
    assert parse_amounts(pd.Series([text], dtype=object)).iloc[0] == pytest.approx(value)


def test_unreadable_amounts_become_missing():
    parsed = parse_amounts(pd.Series(["ten", "", None, "12..5", "1-2"], dtype=object))
    assert parsed.isna().all()
    numbers = parse_amounts(pd.Series([1, 2.5, np.nan]))
    assert numbers.tolist()[:2] == [1.0, 2.5] and np.isnan(numbers.iloc[2])
