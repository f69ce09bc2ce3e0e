"""CLV charts: each draws on the Axes it is given (or a new one) and returns it."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from analysis import clv  # noqa: E402


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


def test_each_chart_returns_the_axes_it_was_given(fitted):
    X, model, scores = fitted
    pm = model.purchase_model_
    tracking = pd.DataFrame(
        {
            "week_end": pd.date_range("2024-01-07", periods=4, freq="7D"),
            "actual": [1.0, 3, 6, 8],
            "bgnbd": [1.2, 3.1, 5.5, 7.9],
            "calibration": [True, True, False, False],
        }
    )
    conditional = pd.DataFrame({"customers": [5, 3], "actual": [0.2, 1.5], "bgnbd": [0.3, 1.4]}, index=["0", "1+"])
    charts = [
        lambda ax: clv.plots.plot_repeat_histogram(clv.repeat_purchase_histogram(pm, X), ax=ax),
        lambda ax: clv.plots.plot_matrix(
            clv.frequency_recency_matrix(pm, 78.0, 52.0), "P(alive)", "P(alive)", ax=ax, percent=True
        ),
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


def test_clv_charts_say_so_when_the_input_has_no_amounts(fitted):
    _, _, scores = fitted
    no_money = scores.assign(expected_spend=np.nan, clv=np.nan, clv_low=np.nan, clv_high=np.nan)
    for ax in (clv.plots.plot_clv_distribution(no_money["clv"]), clv.plots.plot_top_customers(no_money)):
        assert [t.get_text() for t in ax.texts] == ["No CLV in currency: the input has no amounts"]
