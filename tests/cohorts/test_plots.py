"""The cohorts page's charts: every text Chinese with ``lang="zh"`` (a missing glyph is an error), the triangle's
percentages written in its cells, the settings' limits on cohorts and periods shown, and charts that still draw on
one cohort of one period, without amounts and by week."""

import numpy as np
import pandas as pd
import pytest

from analysis import cohorts
from analysis.config import deep_merge
from analysis.stage import Frames
from tests.language import assert_chinese, draw_strictly


def _simulated(weeks: int = 60, seed: int = 3, amounts: bool = True) -> pd.DataFrame:
    """Customers won over ``weeks`` weeks, each buying again now and then, with regions (named in Chinese: a
    group's name is data, shown as written)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(400):
        first = pd.Timestamp("2023-01-02") + pd.Timedelta(days=int(rng.integers(0, 7 * weeks)))
        days = np.cumsum(rng.exponential(40, 6)).astype(int)
        for j, d in enumerate([0, *days]):
            rows.append((f"c{i}", f"c{i}-{j}", first + pd.Timedelta(days=int(d)), float(rng.gamma(2, 20))))
    tx = pd.DataFrame(rows, columns=["customer_id", "order_id", "timestamp", "amount"])
    tx = tx[tx["timestamp"] <= "2024-03-15"]
    tx["region"] = tx["customer_id"].map(lambda c: ["华北", "华南", "华东"][int(c[1:]) % 3])
    return tx if amounts else tx.assign(amount=np.nan)


@pytest.fixture(scope="module")
def result():
    from analysis.config import load_config

    return cohorts.run(Frames(_simulated(), as_of="2024-03-15"), load_config())


def _charts(r, lang):
    s, m = r.settings, r.tables["matrix"]
    return {
        "heatmap": lambda: cohorts.plots.plot_retention_heatmap(m, s["period"], s["max_cohorts_shown"],
                                                                s["max_periods_shown"], lang=lang),
        "value": lambda: cohorts.plots.plot_cumulative_value(m, s["period"], r.facts["has_amounts"],
                                                             s["max_cohorts_shown"], s["max_periods_shown"], lang=lang),
        "sizes": lambda: cohorts.plots.plot_cohort_sizes(m, s["period"], s["max_cohorts_shown"], lang=lang),
    }  # fmt: skip


def test_every_chart_is_chinese_with_lang_zh(result):
    english = [t["en"] for t in cohorts.plots.TEXTS.values()]
    for draw in _charts(result, "zh").values():
        assert_chinese(draw_strictly(draw), english)
    table = result.tables["by_region"]
    assert_chinese(draw_strictly(lambda: cohorts.plots.plot_group_retention(table, "region", lang="zh")), english)


def test_the_triangle_writes_each_share_and_shows_the_settings_limits(result):
    import matplotlib.pyplot as plt

    ax = _charts(result, "en")["heatmap"]()
    texts = [t.get_text() for t in ax.texts]  # the cells' (the colour bar's ticks are not)
    plt.close(ax.figure)
    m = result.tables["matrix"]
    shown = cohorts.plots.shown_cells(m, 18, 18)
    # first purchases from 2 January 2023 to 25 February 2024: 14 monthly cohorts, the first seen to March 2024
    assert shown["cohort"].nunique() == 14 and shown["period"].max() == 14
    written = [t for t in texts if t.endswith("%") and t[:-1].isdigit()]
    expected = shown.loc[shown["period"] >= 1, "retention"]
    assert len(written) == len(expected) and sorted(written) == sorted(f"{v:.0%}" for v in expected)
    few = cohorts.plots.shown_cells(m, 4, 3)
    assert few["cohort"].nunique() == 4 and few["period"].max() == 3
    assert few["cohort"].min() == np.sort(m["cohort"].unique())[-4]  # the most recent cohorts


@pytest.mark.parametrize("case", ["one_cohort_one_period", "no_amounts", "weeks"])
def test_charts_draw_on_the_edge_cases(case, config):
    if case == "one_cohort_one_period":
        tx = _simulated(weeks=1)
        tx = tx[tx["timestamp"] < "2023-01-09"]
        r = cohorts.run(Frames(tx, as_of="2023-01-20"), config)
        assert r.facts["short_history"] and r.facts["cohorts"] == 1
    elif case == "no_amounts":
        r = cohorts.run(Frames(_simulated(amounts=False), as_of="2024-03-15"), config)
    else:
        r = cohorts.run(Frames(_simulated(), as_of="2024-03-15"), deep_merge(config, {"cohorts": {"period": "week"}}))
        assert r.facts["cohorts"] > 18
    for lang in ("en", "zh"):
        for draw in _charts(r, lang).values():
            assert draw_strictly(draw)
