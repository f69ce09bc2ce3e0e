"""The clustering charts draw on the Axes they are given, one row or line per group, with a title."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from analysis import clusters  # noqa: E402
from analysis.stage import Frames  # noqa: E402

from .conftest import planted_customers  # noqa: E402


@pytest.fixture(scope="module")
def run():
    from analysis.config import load_config

    config = load_config(overrides={"clusters": {"k_range": [2, 5], "stability": {"resamples": 2}}})
    customers, _ = planted_customers(1500, seed=20)
    return clusters.run(Frames(customers_table=customers), config)


def test_each_chart_draws_on_the_given_axes(run):
    k = run.record["k"]
    charts = [
        lambda ax: clusters.plots.plot_k_selection(run.tables["k_table"], k, ax=ax),
        lambda ax: clusters.plots.plot_profile_heatmap(run.tables["scaled_medians"], ax=ax),
        lambda ax: clusters.plots.plot_snake(run.tables["snake"], ax=ax),
        lambda ax: clusters.plots.plot_projection(run.tables["projection"], run.record["projection_explained"], ax=ax),
    ]
    for draw in charts:
        fig, ax = plt.subplots()
        assert draw(ax) is ax and ax.get_title()
        plt.close(fig)


def test_the_charts_show_every_group(run):
    k = run.record["k"]
    ax = clusters.plots.plot_profile_heatmap(run.tables["scaled_medians"])
    assert [t.get_text() for t in ax.get_yticklabels()] == list(run.tables["scaled_medians"].index)
    assert len(run.tables["scaled_medians"]) == k
    ax = clusters.plots.plot_snake(run.tables["snake"])
    assert len(ax.get_lines()) == k + 1  # one line per group and the zero line
    ax = clusters.plots.plot_k_selection(run.tables["k_table"], k)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2", "3", "4", "5"]
    plt.close("all")


def test_without_segments_the_overlaps_say_run_the_segments_page_first(run):
    assert clusters.show.overlaps(run, "en") == {}
    (ax,) = clusters.plots.plot_overlaps({}, "en")
    assert [t.get_text() for t in ax.texts] == [clusters.plots.TEXTS["no_overlap"]["en"]]
    plt.close("all")


def test_the_k_chart_says_when_there_was_no_search():
    fig, ax = plt.subplots()
    assert clusters.plots.plot_k_selection(None, 1, ax=ax) is ax
    assert ax.texts
    plt.close(fig)
