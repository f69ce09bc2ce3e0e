"""The clustering page in Chinese: every chart text, table header and sentence in the page's language, with a
font that has every glyph (matplotlib's "Glyph ... missing" warning is an error here)."""

import re

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from analysis import clusters  # noqa: E402
from tests.language import CJK, SNAKE_CASE, assert_chinese, draw_strictly  # noqa: E402

from .conftest import planted_customers  # noqa: E402


@pytest.fixture(scope="module")
def run():
    from analysis.config import load_config

    config = load_config(overrides={"clusters": {"k_range": [2, 4], "stability": {"resamples": 2}}})
    customers, truth = planted_customers(900, seed=20)
    labels = config["tiers"]["labels"]
    # tiers given in an order that is not the configured one, nor alphabetical, in both languages
    keys = ["potential", "vip", "ordinary", "important"]
    customers["tier"] = [labels[keys[i % 4]][0] for i in range(len(customers))]
    customers["tier_zh"] = [labels[keys[i % 4]][1] for i in range(len(customers))]
    return clusters.run_clusters(customers, config), config


def test_every_chart_is_chinese_with_lang_zh(run):
    run, _ = run
    en = clusters.plots.TEXTS["en"]
    charts = {
        "k": lambda: clusters.plots.plot_k_selection(run.tables["k_table"], run.report["k"], lang="zh"),
        "heat": lambda: clusters.plots.plot_profile_heatmap(run.table("scaled_medians", "zh"), lang="zh"),
        "snake": lambda: clusters.plots.plot_snake(run.table("snake", "zh"), lang="zh"),
        "projection": lambda: clusters.plots.plot_projection(run.table("projection", "zh"),
                                                             run.report["projection_explained"], lang="zh"),
        "overlap": lambda: clusters.plots.plot_overlap(run.table("overlap_tier", "zh"), "tier", lang="zh"),
    }  # fmt: skip
    english_titles = [en["k_title"], en["heat_title"], en["snake_title"], en["overlap_titles"]["tier"]]
    for name, draw in charts.items():
        texts = draw_strictly(draw)
        assert_chinese(texts, english_titles), name
    texts = draw_strictly(lambda: clusters.plots.plot_overlaps(run, "zh")[0])
    assert_chinese(texts, english_titles)


def test_the_english_charts_stay_english(run):
    run, _ = run
    texts = draw_strictly(lambda: clusters.plots.plot_snake(run.table("snake", "en")))
    assert clusters.plots.TEXTS["en"]["snake_title"] in texts and not any(CJK.search(t) for t in texts)


def test_cross_tabs_follow_the_configured_tier_order_in_the_page_language(run):
    run, config = run
    labels = config["tiers"]["labels"]
    assert list(run.table("overlap_tier", "en").columns) == [v[0] for v in labels.values()]
    assert list(run.table("overlap_tier", "zh").columns) == [v[1] for v in labels.values()]
    assert list(run.table("overlap_tier", "zh").index) == list(run.names("zh").values())
    assert run.table("overlap_tier", "zh").to_numpy().tolist() == run.table("overlap_tier", "en").to_numpy().tolist()


def test_tables_and_sentences_are_chinese(run):
    run, _ = run
    for name in ("k_table", "profiles", "customers"):
        table = clusters.page_table(run, name, "zh")
        frame = table.data if hasattr(table, "data") else table
        headers = [str(c) for c in frame.columns] + [str(frame.index.name or "")]
        assert not [h for h in headers if SNAKE_CASE.match(h)], (name, headers)
        assert all(CJK.search(h) or h in ("", "k") for h in headers), (name, headers)
    profiles = clusters.page_table(run, "profiles", "zh").data
    assert set(profiles["客户群"]) == set(run.names("zh").values())
    for text in (clusters.manager_summary(run, "zh"), clusters.k_markdown(run, "zh"),
                 clusters.stability_markdown(run, "zh"), clusters.rules_markdown(run, "zh"),
                 clusters.cluster_readings(run, "zh")):  # fmt: skip
        assert CJK.search(text) and not re.search(r"\b(the|customers|group|precision)\b", text), text
