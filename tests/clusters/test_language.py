"""The clustering page in Chinese: every chart text, table header and sentence in the page's language, with a
font that has every glyph (matplotlib's "Glyph ... missing" warning is an error here)."""

import re

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from analysis import clusters  # noqa: E402
from analysis.clusters import show  # noqa: E402
from analysis.stage import Frames  # noqa: E402
from tests.language import CJK, SNAKE_CASE, assert_chinese, draw_strictly  # noqa: E402

from .conftest import planted_customers  # noqa: E402


@pytest.fixture(scope="module")
def run():
    from analysis.config import load_config

    config = load_config(overrides={"clusters": {"k_range": [2, 4], "stability": {"resamples": 2}}})
    customers, truth = planted_customers(900, seed=20)
    # tiers and lifecycle stages first met in an order that is neither the configured one nor alphabetical, in
    # both languages; the last customer has no tier (shown as "-", last)
    for column, section, keys in (("tier", "tiers", ["potential", "vip", "ordinary", "important"]),
                                  ("lifecycle_stage", "lifecycle", ["dormant", "potential", "churned", "new",
                                                                    "active"])):  # fmt: skip
        labels = config[section]["labels"]
        customers[column] = [labels[keys[i % len(keys)]][0] for i in range(len(customers))]
        customers[f"{column}_zh"] = [labels[keys[i % len(keys)]][1] for i in range(len(customers))]
    customers.loc[len(customers) - 1, ["tier", "tier_zh"]] = None
    return clusters.run(Frames(customers_table=customers), config), config


def test_every_chart_is_chinese_with_lang_zh(run):
    run, _ = run
    en = {key: t["en"] for key, t in clusters.plots.TEXTS.items()}
    charts = {
        "k": lambda: clusters.plots.plot_k_selection(run.tables["k_table"], run.record["k"], lang="zh"),
        "heat": lambda: clusters.plots.plot_profile_heatmap(show.page_table(run, "scaled_medians", "zh"), lang="zh"),
        "snake": lambda: clusters.plots.plot_snake(show.page_table(run, "snake", "zh"), lang="zh"),
        "projection": lambda: clusters.plots.plot_projection(show.page_table(run, "projection", "zh"),
                                                             run.record["projection_explained"], lang="zh"),
        "overlap": lambda: clusters.plots.plot_overlap(show.page_table(run, "overlap_tier", "zh"), "tier", lang="zh"),
    }  # fmt: skip
    english_titles = [en["k_title"], en["heat_title"], en["snake_title"], en["overlap_tier"]]
    for name, draw in charts.items():
        texts = draw_strictly(draw)
        assert_chinese(texts, english_titles), name
    texts = draw_strictly(lambda: clusters.plots.plot_overlaps(show.overlaps(run, "zh"), "zh")[0])
    assert_chinese(texts, english_titles)


def test_the_english_charts_stay_english(run):
    run, _ = run
    texts = draw_strictly(lambda: clusters.plots.plot_snake(show.page_table(run, "snake", "en")))
    assert clusters.plots.TEXTS["snake_title"]["en"] in texts and not any(CJK.search(t) for t in texts)


@pytest.mark.parametrize(("column", "section"), [("tier", "tiers"), ("lifecycle_stage", "lifecycle")])
def test_cross_tabs_follow_the_configured_order_in_the_page_language(run, column, section):
    """Issue 23: tiers in tier order (VIP, Important, Ordinary, Potential: ``tiers.labels``), lifecycle stages in
    lifecycle order (``lifecycle.labels``), not alphabetically nor as first met; a customer without one last."""
    run, config = run
    labels = list(config[section]["labels"].values())
    missing = ["-"] if column == "tier" else []
    en, zh = (show.page_table(run, f"overlap_{column}", lang) for lang in ("en", "zh"))
    assert list(en.columns) == [v[0] for v in labels] + missing
    assert list(zh.columns) == [v[1] for v in labels] + missing
    assert list(show.overlaps(run, "zh")[column].columns) == list(zh.columns)  # what the page draws
    assert list(zh.index) == list(show.names(run, "zh").values())
    assert zh.to_numpy().tolist() == en.to_numpy().tolist()
    assert list(next(iter(run.record["overlap"][column].values()))) == list(en.columns)  # clusters.json too
    assert en.to_numpy().sum() == len(run.columns)


def test_tables_and_sentences_are_chinese(run):
    run, _ = run
    for name in ("k_table", "profiles", "customers"):
        table = show.page_table(run, name, "zh")
        frame = table.data if hasattr(table, "data") else table
        headers = [str(c) for c in frame.columns] + [str(frame.index.name or "")]
        assert not [h for h in headers if SNAKE_CASE.match(h)], (name, headers)
        assert all(CJK.search(h) or h in ("", "k") for h in headers), (name, headers)
    profiles = show.page_table(run, "profiles", "zh").data
    assert set(profiles["客户群"]) == set(show.names(run, "zh").values())
    describe = clusters.describe
    for text in (run.summary("zh"), describe.k_markdown(run, "zh"), describe.stability_markdown(run, "zh"),
                 describe.rules_markdown(run, "zh"), describe.cluster_readings(run, "zh"),
                 describe.details_markdown(run, "zh")):  # fmt: skip
        assert CJK.search(text) and not re.search(r"\b(the|customers|group|precision)\b", text), text
