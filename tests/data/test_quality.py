"""The data-quality page: its charts (what they draw for a file with and without quarantined rows), its numbers
and its sentences in both languages."""

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from analysis.data import plots, quality  # noqa: E402
from analysis.errors import UserError  # noqa: E402
from tests.language import has_chinese


def _quality(quarantined: dict[str, int]) -> dict:
    rows_in = 100 + sum(quarantined.values())
    return {
        "rows_in": rows_in,
        "quarantined": quarantined,
        "amount_quarantined": {k: float(v) for k, v in quarantined.items()},
    }


def test_quarantine_chart_bars_per_reason_or_a_sentence_when_nothing_was_set_aside():
    ax = plots.plot_quarantine(_quality({"duplicate_row": 3, "zero_amount": 1}))
    assert sorted(p.get_width() for p in ax.patches) == [1, 3]
    plt.close(ax.figure)
    ax = plots.plot_quarantine(_quality({}))
    assert not ax.axison and not ax.patches
    assert "No row was set aside" in ax.texts[0].get_text()
    plt.close(ax.figure)


def _monthly(revenue: list[float | None], customers: list[int], months=("2024-01", "2024-02")) -> dict:
    """A quality summary with only its per-month totals (as validation writes them into quality.json)."""
    return {"monthly": [{"month": m, "revenue": r, "customers": n}
                        for m, r, n in zip(months, revenue, customers, strict=True)]}  # fmt: skip


def test_monthly_revenue_chart_has_thousands_separators():
    ax = plots.plot_monthly_revenue(_monthly([12000.0, 3000.0], [1, 1]))
    ax.figure.canvas.draw()
    assert any("," in t.get_text() for t in ax.get_yticklabels())
    assert [p.get_height() for p in ax.patches] == [12000.0, 3000.0]
    plt.close(ax.figure)


def test_a_month_without_purchases_has_no_revenue_and_no_customers():
    monthly = quality.monthly_revenue(_monthly([10.0, 5.0], [2, 1], months=("2024-01", "2024-03")))
    assert list(monthly.index) == list(pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]))
    assert monthly["revenue"].isna().tolist() == [False, True, False]
    assert monthly["customers"].tolist() == [2, 0, 1]


# ---------------------------------------------------------------------------------------------
# the page in Chinese: sentences, headers and chart texts, with no glyph missing from the CJK font

QUALITY = {
    "rows_in": 110, "rows_kept": 100, "rows_quarantined": 10, "quarantined": {"duplicate_row": 7, "order_line": 3},
    "amount_quarantined": {"duplicate_row": 70.0, "order_line": 30.0}, "amount_in": 1100.0, "amount_kept": 1000.0,
    "reconciled": True, "customers": 40, "date_min": "2024-01-01", "date_max": "2024-06-30", "as_of": "2024-06-30",
    "date_format": "%Y-%m-%d", "mapping": {"customer_id": "客户", "amount": "金额"}, "input": "sales.csv",
    "source_format": "csv", "encoding": "utf-8",
}  # fmt: skip



def _draw_in_chinese(draw):
    import warnings

    from analysis.plotting import use_cjk_font

    assert use_cjk_font()
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Glyph .* missing")  # a box instead of a character
        ax = draw()
        ax.figure.canvas.draw()
    return ax


def test_quarantine_chart_in_chinese_names_reasons_in_chinese():
    ax = _draw_in_chinese(lambda: plots.plot_quarantine(QUALITY, lang="zh"))
    assert ax.get_title() == "被隔离（未纳入分析）的行及原因" and has_chinese(ax.get_xlabel())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["同一订单的附加行", "重复行"]
    plt.close(ax.figure)
    ax = _draw_in_chinese(lambda: plots.plot_quarantine(_quality({}), lang="zh"))
    assert ax.texts[0].get_text() == "没有被隔离的行：每一行输入都是保留的购买记录。"
    plt.close(ax.figure)


def test_chinese_reason_meanings_use_chinese_punctuation():
    from analysis.data.validate import REASONS

    ascii_marks = [(code, zh) for code, (_, zh) in REASONS.items() if any(m in zh for m in ",:;()")]
    assert ascii_marks == [], ascii_marks
    assert quality.reason_label("not_won", "zh") == "未赢单的商机"  # the label stops at the full-width bracket


def test_monthly_revenue_chart_in_chinese():
    ax = _draw_in_chinese(lambda: plots.plot_monthly_revenue(_monthly([12000.0, 3000.0], [1, 1]), lang="zh"))
    twin = next(a for a in ax.figure.axes if a is not ax)
    words = [ax.get_title(), ax.get_ylabel(), twin.get_ylabel(), *(t.get_text() for t in ax.get_legend().get_texts())]
    assert all(has_chinese(w) for w in words), words
    assert all(t.get_text()[:4].isdigit() for t in ax.get_xticklabels() if t.get_text())  # numbers, not month names
    plt.close(ax.figure)


def test_headline_summary_and_reason_table_in_chinese():
    headline = quality.headline(QUALITY, "zh")
    assert headline.startswith("**输入的 110 行中 90.9% 可用**") and "重复行（7 行）" in headline
    assert "every row" not in headline.lower()
    lines = quality.summary_lines(QUALITY, "zh")
    assert lines[1] == "输入 110 行；保留 100 行（90.9%）；隔离 10 行"
    assert "客户编号（customer_id）← 客户" in lines[-1] and "对账：完全一致（行数与金额均可对上）" in lines
    assert quality.summary_lines(QUALITY)[1].startswith("Rows in: 110; kept: 100")  # check's lines stay English
    shown = quality.show_reasons(QUALITY, "zh").data
    assert list(shown.columns) == ["原因代码（quarantine.csv）", "说明", "行数", "行数占比", "金额"]
    assert shown["说明"].tolist()[0] == "重复行"
    assert list(quality.show_reasons(QUALITY).data.columns)[1:3] == ["Meaning", "Rows"]


def test_monthly_chart_without_amounts_shows_customers_only_and_says_why():
    ax = _draw_in_chinese(lambda: plots.plot_monthly_revenue(_monthly([None, None], [1, 1]), lang="zh"))
    assert not ax.patches and len(ax.figure.axes) == 1 and "没有金额" in ax.get_title()
    plt.close(ax.figure)


def test_a_run_directory_from_before_the_monthly_totals_asks_for_a_new_run():
    with pytest.raises(UserError, match="prepared by an older version"):
        quality.monthly_revenue({"rows_in": 10})


def test_an_as_of_date_more_than_a_year_after_the_last_purchase_is_named_in_a_warning(tmp_path):
    from analysis.config import load_config
    from analysis.data.pipeline import prepare
    from tests.conftest import CDNOW_MASTER

    late = prepare(str(CDNOW_MASTER), load_config(), "2030-01-01").quality
    expected = ("Warning: the as-of date 2030-01-01 is 11,508 days after the last purchase (1998-06-30); if you "
                "meant a recent date, run again with --as-of 1998-06-30.")  # 1998-06-30 + 11,508 days = 2030-01-01
    assert quality.as_of_warning(late) == expected
    assert quality.summary_lines(late)[0] == expected and expected in quality.headline(late)
    assert "1998-06-30" in quality.as_of_warning(late, "zh") and has_chinese(quality.as_of_warning(late, "zh"))
    on_time = dict(late, as_of="1999-06-30")  # 365 days after: no warning
    assert quality.as_of_warning(on_time) is None and quality.summary_lines(on_time)[0].startswith("Input:")


def test_every_sentence_of_the_page_is_written_in_both_languages():
    """The catalogues are keyed by message id, each text in English and Chinese (none left in English)."""
    for catalogue in (quality.TEXTS, plots.TEXTS):
        for key, text in catalogue.items():
            assert set(text) == {"en", "zh"} and text["en"] and text["zh"], key
            words = {lang: re.sub(r"\{[^}]*\}", "", text[lang]) for lang in text}  # the words, not the fields
            assert has_chinese(words["zh"]) or not any(c.isalpha() for c in words["en"]), key  # "; " is "；"
    assert quality.words("zh")["reconciliation_failed"] == "不一致"
    with pytest.raises(ValueError, match="language 'fr'"):
        quality.words("fr")
