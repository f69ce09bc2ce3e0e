"""CLV charts: each draws on the Axes it is given (or a new one) and returns it."""

import matplotlib

matplotlib.use("Agg")

import warnings  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from analysis import clv, privacy  # noqa: E402
from analysis.plotting import use_cjk_font  # noqa: E402
from tests.language import has_chinese


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = clv.simulate_summary("bgnbd", (0.243, 4.414, 0.793, 2.426), rng.uniform(20, 78, 2000), rng)
    X["monetary_value"] = np.where(X["frequency"] > 0, rng.gamma(5.0, 8.0, len(X)), 0.0)
    X.index = [f"c{i}" for i in range(len(X))]
    model = clv.CLVModel("bgnbd", n_bootstrap=3, random_state=0).fit(X)
    scores = model.predict(X).rename_axis("customer_id").reset_index()
    return X, model, scores


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _backtest_tables(pareto: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small tracking table (cumulative repeat purchases per week, BG/NBD and optionally Pareto/NBD) and a
    conditional-expectation table, as the backtest gives them."""
    tracking = pd.DataFrame(
        {
            "week_end": pd.date_range("2024-01-07", periods=4, freq="7D"),
            "actual": [1.0, 3, 6, 8],
            "bgnbd": [1.2, 3.1, 5.5, 7.9],
            **({"pareto": [1.1, 3.0, 5.8, 8.1]} if pareto else {}),
            "calibration": [True, True, False, False],
        }
    )
    conditional = pd.DataFrame({"customers": [5, 3], "actual": [0.2, 1.5], "bgnbd": [0.3, 1.4]}, index=["0", "1+"])
    return tracking, conditional


def test_each_chart_returns_the_axes_it_was_given(fitted):
    X, model, scores = fitted
    pm = model.purchase_model_
    tracking, conditional = _backtest_tables()
    charts = [
        lambda ax: clv.plots.plot_repeat_histogram(clv.repeat_purchase_histogram(pm, X), ax=ax),
        lambda ax: clv.plots.plot_matrix(clv.frequency_recency_matrix(pm, 78.0, 52.0), "p_alive", ax=ax),
        lambda ax: clv.plots.plot_tracking(tracking, ax=ax),
        lambda ax: clv.plots.plot_conditional_expectation(conditional, ax=ax),
        lambda ax: clv.plots.plot_clv_distribution(scores["clv"], ax=ax),
        lambda ax: clv.plots.plot_top_customers(scores, n=5, ax=ax),
    ]
    for draw in charts:
        _, ax = plt.subplots()
        assert draw(ax) is ax
        assert ax.get_title() and (ax.lines or ax.patches or ax.images or ax.collections)


def test_charts_make_their_own_axes_and_top_customers_are_the_highest(fitted):
    _, _, scores = fitted
    ax = clv.plots.plot_top_customers(scores, n=3)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[::-1] == scores.nlargest(3, "clv")["customer_id"].tolist()
    assert ax.get_title() == "The 3 most valuable customers"


def test_repeat_histogram_counts_every_customer(fitted):
    X, model, _ = fitted
    hist = clv.repeat_purchase_histogram(model.purchase_model_, X, max_count=5)
    assert hist.index.tolist() == ["0", "1", "2", "3", "4", "5+"]
    assert hist["actual"].sum() == len(X)
    assert hist["model"].sum() == pytest.approx(len(X))
    one = clv.repeat_purchase_histogram(model.purchase_model_, X, max_count=5, draws=1)  # one simulation
    assert one["model"].sum() == len(X) and not one["model"].equals(hist["model"])
    assert one["model"].to_numpy() == pytest.approx(hist["model"].to_numpy(), rel=0.2, abs=3 * len(X) ** 0.5)


def test_clv_charts_say_so_when_the_input_has_no_amounts(fitted):
    _, _, scores = fitted
    no_money = scores.assign(expected_spend=np.nan, clv=np.nan, clv_low=np.nan, clv_high=np.nan)
    for ax in (clv.plots.plot_clv_distribution(no_money["clv"]), clv.plots.plot_top_customers(no_money)):
        assert [t.get_text() for t in ax.texts] == ["No CLV in currency: the input has no amounts"]


def _texts(ax) -> dict[str, list[str]]:
    legend = ax.get_legend()
    colorbars = [a.get_ylabel() for a in ax.figure.axes if a is not ax]
    return {
        "title": [ax.get_title()],
        "axes": [label for label in (ax.get_xlabel(), ax.get_ylabel(), *colorbars) if label],
        "legend": [t.get_text() for t in legend.get_texts()] if legend else [],
        "notes": [t.get_text() for t in ax.texts],
    }


def _draw(ax) -> None:
    """Draw the figure with a missing glyph (a box on the page) as an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        ax.figure.canvas.draw()


def _zh_charts(fitted):
    X, model, scores = fitted
    pm = model.purchase_model_
    tracking, conditional = _backtest_tables(pareto=True)
    matrix = clv.frequency_recency_matrix(pm, 78.0, 52.0)
    return {
        "Does the model reproduce how often customers come back?": lambda lang: clv.plots.plot_repeat_histogram(
            clv.repeat_purchase_histogram(pm, X), lang=lang
        ),
        "Probability a customer is still active": lambda lang: clv.plots.plot_matrix(matrix, "p_alive", lang=lang),
        "Expected purchases in the next 6 months": lambda lang: clv.plots.plot_matrix(
            matrix, "expected_purchases", 6, lang=lang
        ),
        "Tracking: forecast against what customers actually did": lambda lang: clv.plots.plot_tracking(
            tracking, lang=lang
        ),
        "Are frequent buyers forecast correctly?": lambda lang: clv.plots.plot_conditional_expectation(
            conditional, lang=lang
        ),
        "Most customers are worth little; a few are worth a lot": lambda lang: clv.plots.plot_clv_distribution(
            scores["clv"], lang=lang
        ),
        "The 5 most valuable customers": lambda lang: clv.plots.plot_top_customers(scores, n=5, lang=lang),
    }


def test_every_chart_speaks_chinese_with_no_missing_glyph(fitted):
    use_cjk_font()
    for english, draw in _zh_charts(fitted).items():
        assert draw("en").get_title() == english
        ax = draw("zh")
        _draw(ax)
        texts = _texts(ax)
        assert has_chinese(texts["title"][0]) and english not in texts["title"][0], english
        assert texts["axes"] and all(has_chinese(t) for t in texts["axes"]), (english, texts["axes"])
        # legend entries: Chinese, or a model's name
        assert all(has_chinese(t) or t in clv.MODEL_LABELS.values() for t in texts["legend"]), texts["legend"]
        assert all(has_chinese(t) for t in texts["notes"]), texts["notes"]
        plt.close("all")


def test_the_chart_of_an_input_without_amounts_says_so_in_chinese(fitted):
    use_cjk_font()
    _, _, scores = fitted
    ax = clv.plots.plot_top_customers(scores.assign(clv=np.nan), lang="zh")
    _draw(ax)
    assert ax.texts[0].get_text() == clv.plots.TEXTS["no_amounts"]["zh"]
    with pytest.raises(ValueError, match="language 'fr'"):
        clv.plots.plot_tracking(pd.DataFrame(), lang="fr")


def test_top_customers_are_named_and_masked_when_asked(fitted):
    use_cjk_font()
    _, _, scores = fitted
    top = scores.nlargest(3, "clv").assign(customer_name=["张三丰", "Alice Smith", None])
    ax = clv.plots.plot_top_customers(top, n=3, lang="zh")
    labels = [t.get_text() for t in ax.get_yticklabels()][::-1]
    ids = top["customer_id"].tolist()
    assert labels == [f"张三丰 ({ids[0]})", f"Alice Smith ({ids[1]})", ids[2]]
    plt.close("all")

    ax = clv.plots.plot_top_customers(privacy.for_pages(top, True), n=3, lang="zh")
    _draw(ax)
    labels = [t.get_text() for t in ax.get_yticklabels()][::-1]
    assert labels[0].startswith("张** (c-") and labels[1].startswith("A**** S**** (c-") and labels[2].startswith("c-")
    assert not any(cid in label for cid in ids for label in labels)
    assert not any(name in label for name in ("张三丰", "Alice", "Smith") for label in labels)
