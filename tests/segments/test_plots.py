"""Segment charts draw what they are given: one bar per group, one cell per score pair, the cut-offs."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from analysis import segments  # noqa: E402


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
