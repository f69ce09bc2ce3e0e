"""Segment charts draw what they are given: one bar per group, one cell per score pair, the cut-offs."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from analysis import segments  # noqa: E402
from tests.language import has_chinese


def test_shares_and_counts_draw_one_bar_per_group():
    table = pd.DataFrame(
        {"customers": [5, 3, 2], "customer_share": [0.5, 0.3, 0.2], "value_share": [0.7, 0.2, 0.1]},
        index=["Champions", "Lost", "Others"],
    )
    ax = segments.plots.plot_shares(table, "t")
    assert len(ax.patches) == 6 and [t.get_text() for t in ax.get_yticklabels()] == list(table.index)
    ax = segments.plots.plot_counts(table, "t", order=["Lost", "Champions", "Absent"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Lost", "Champions"]
    assert [p.get_height() for p in ax.patches] == [3, 5]


def test_heatmap_counts_customers_per_score_pair():
    seg = pd.DataFrame({"r_score": [5, 5, 1, None], "f_score": [5, 5, 1, None], "monetary": [10.0, 30.0, 1.0, 0.0]})
    ax = segments.plots.plot_rf_heatmap(seg)
    assert sorted(t.get_text() for t in ax.texts) == ["1", "2"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3", "4", "5"]  # the full grid of scores
    assert [t.get_text() for t in ax.get_yticklabels()] == ["5", "4", "3", "2", "1"]
    assert ax.images[0].get_array().max() == 20.0  # mean spend of the (5, 5) cell


def test_pareto_marks_the_a_and_b_cut_offs():
    value = pd.Series([50.0, 20.0, 10.0, 5.0, 5.0, 4.0, 3.0, 1.0, 1.0, 1.0])
    abc = segments.abc_summary(
        segments.abc_classes(value, value.index.astype(str).to_series(), {"A": 0.8, "B": 0.95})["abc_class"], value
    )
    ax = segments.plots.plot_pareto(segments.pareto_curve(value), abc)
    assert [line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == "--"] == [0.3, 0.7]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["A: 30% of customers\n80% of value", "B: 70% of customers\n97% of value"]


# ---------------------------------------------------------------------------------------------
# the charts in Chinese: every word in Chinese, and no glyph missing from the CJK font


def _texts(ax) -> dict[str, list[str]]:
    """The words of a drawn chart by kind (its colorbar's label included)."""
    legend = ax.get_legend()
    return {
        "title": [ax.get_title()],
        "axes": [ax.get_xlabel(), ax.get_ylabel()] + [a.get_ylabel() for a in ax.figure.axes if a is not ax],
        "legend": [t.get_text() for t in legend.get_texts()] if legend else [],
        "ticks": [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()],
        "notes": [t.get_text() for t in ax.texts],
    }



def _draw_in_chinese(draw):
    """Draw a chart with a missing glyph an error (it would show as a box), then close it; returns its texts."""
    import warnings

    import matplotlib.pyplot as plt

    from analysis.plotting import use_cjk_font

    assert use_cjk_font()
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Glyph .* missing")
        ax = draw()
        ax.figure.canvas.draw()
    texts = _texts(ax)
    plt.close(ax.figure)
    return texts


SUMMARY = pd.DataFrame(
    {"label_zh": ["冠军客户", "已流失客户"], "customers": [5, 3], "customer_share": [0.625, 0.375],
     "value_share": [0.9, 0.1]},
    index=pd.Index(["Champions", "Lost"], name="rfm_segment"),
)  # fmt: skip


def test_shares_chart_in_chinese_names_the_groups_and_says_what_it_shows_in_chinese():
    texts = _draw_in_chinese(lambda: segments.plots.plot_shares(SUMMARY, "segments", lang="zh"))
    assert texts["title"] == ["RFM 细分：客户占比与价值占比"]
    assert texts["legend"] == ["客户占比", "价值占比"]
    assert [t for t in texts["ticks"] if not t.replace("%", "").isdigit()] == ["冠军客户", "已流失客户"]
    english = _texts(segments.plots.plot_shares(SUMMARY, "segments"))
    assert english["title"] == ["RFM segments: share of customers and of value"]
    assert "Champions" in english["ticks"] and not any(has_chinese(t) for v in english.values() for t in v)


def test_counts_chart_in_chinese():
    texts = _draw_in_chinese(lambda: segments.plots.plot_counts(SUMMARY, "lifecycle", lang="zh"))
    assert texts["title"] == ["各生命周期阶段的客户数"] and texts["axes"][1] == "客户数"
    assert {"冠军客户", "已流失客户"} <= set(texts["ticks"])


def test_heatmap_in_chinese():
    seg = pd.DataFrame({"r_score": [5, 1], "f_score": [5, 1], "monetary": [10.0, 1.0]})
    texts = _draw_in_chinese(lambda: segments.plots.plot_rf_heatmap(seg, lang="zh"))
    assert all(has_chinese(t) for t in texts["title"] + texts["axes"])
    assert "Customers by recency" not in texts["title"][0]


def test_pareto_in_chinese():
    value = pd.Series([50.0, 20.0, 10.0, 5.0, 5.0, 4.0, 3.0, 1.0, 1.0, 1.0])
    abc = segments.abc_summary(
        segments.abc_classes(value, value.index.astype(str).to_series(), {"A": 0.8, "B": 0.95})["abc_class"], value
    )
    texts = _draw_in_chinese(lambda: segments.plots.plot_pareto(segments.pareto_curve(value), abc, lang="zh"))
    assert texts["title"] == ["客户价值有多集中？（ABC 分类）"]
    assert all(has_chinese(t) for t in texts["axes"] + texts["legend"] + texts["notes"])
    assert texts["notes"][0] == "A类：30% 的客户\n贡献 80% 的价值"
