"""The CLV stage on the shops real users bring (issue 24): small, sparse, B2B and dense data never stop it.
Each shape either gets a forecast, with its fallback said (not backtested, a small penalty, no dropout seen
yet), or the stage declines with its reason in both languages; it never raises anything else."""

import math

import numpy as np
import pandas as pd
import pytest

import analysis.config
import analysis.data.pipeline
from analysis import clv
from analysis.errors import StageDeclined
from tests.conftest import ROOT
from tests.shapes import SHAPES, write_shape

DECLINES = {  # shape: what its reason says
    "one_day": "All purchases fall on one day (2024-06-01)",
    "one_week": "The data cover only 7 days (2024-06-01 to 2024-06-07): too short a history",
    "nobody_twice": "None of the 500 customers has bought on a second day yet",
}
NO_DROPOUT = ("tiny", "b2b_accounts", "steady_buyers", "dense_panel")  # nobody has stopped buying


def _run(path, as_of: str):
    """``run_clv`` as the notebook calls it, on the prepared file at ``path``."""
    config = analysis.config.load_config(None)
    prepared = analysis.data.pipeline.prepare(str(path), config, as_of)
    return clv.run_clv(prepared.transactions, prepared.customers, pd.Timestamp(as_of), config)


@pytest.fixture(scope="module")
def shape_run(tmp_path_factory):
    """The CLV stage's result on a shape, made on first use: a :class:`ClvRun` or the :class:`StageDeclined`."""
    base, runs = tmp_path_factory.mktemp("clv_shapes"), {}

    def run(shape: str):
        if shape not in runs:
            path, as_of = write_shape(shape, base)
            try:
                runs[shape] = _run(path, as_of)
            except StageDeclined as exc:
                runs[shape] = exc
        return runs[shape]

    return run


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_shape_gets_a_forecast_or_a_decline_and_nothing_else(shape_run, shape):
    result = shape_run(shape)
    if shape in DECLINES:
        assert isinstance(result, StageDeclined)
        assert result.stage == "clv" and result.reason["en"].startswith(DECLINES[shape])
        assert result.reason["zh"] and result.reason["zh"] != result.reason["en"]
        assert set(result.columns) == set(clv.OUTPUT_COLUMNS) and set(result.columns.values()) == {"number"}
        return
    assert isinstance(result, clv.ClvRun), result
    scores = result.customers
    assert np.isfinite(scores["expected_purchases"]).all() and (scores["expected_purchases"] >= 0).all()
    assert scores["p_alive"].between(0, 1).all() and np.isfinite(scores["clv"]).all()
    report = result.report
    assert report["chosen_label"] in ("Pareto/NBD", "BG/NBD", "MBG/NBD", "NBD (no dropout)")
    assert report["chosen_label_zh"] and report["chosen_label"] == result.chosen_label
    for lang in ("en", "zh"):
        clv.manager_summary(report, lang), result.details_markdown(lang), result.choice_markdown(lang)


@pytest.mark.parametrize("shape", ["tiny", "few_repeaters", "b2b_accounts"])
def test_without_a_calibration_fit_the_page_says_not_backtested(shape_run, shape):
    run = shape_run(shape)
    selection = run.report["selection"]
    cal_end = selection["not_backtested"]["en"].removeprefix("not backtested: too little history before ")
    assert pd.Timestamp(cal_end) < pd.Timestamp(run.report["as_of"])  # a date, the backtest's calibration end
    assert run.report["choice_reason"].startswith(f"not backtested: too little history before {cal_end}")
    assert f"{cal_end} 之前的历史太短" in run.report["choice_reason_zh"]
    assert f"**Not backtested: too little history before {cal_end}.**" in clv.manager_summary(run.report)
    assert "backtest" not in run.report and run.backtest is None


def test_when_nothing_fits_without_help_a_small_penalty_is_tried_and_said(shape_run):
    run = shape_run("few_repeaters")
    selection = run.report["selection"]
    assert selection["kind"] == "penalized" and selection["penalizer"] == 0.001
    assert all(f["status"] != "fitted" for f in selection["fits"].values() if f["penalizer"] == 0)
    assert "refitted with a small penalty (0.001)" in run.report["choice_reason"]
    assert "小惩罚（0.001）" in clv.manager_summary(run.report, "zh")
    assert run.model.penalizer == 0.001


def test_the_bic_choice_is_the_lowest_bic_of_the_reported_fits(shape_run):
    run = shape_run("few_repeaters")
    selection = run.report["selection"]
    sound = [f for f in selection["fits"].values() if f["status"] == "fitted" and f["penalizer"] == 0.001]
    assert len(sound) > 1
    # BIC = k log n - 2 log L, from what the report says of each fit
    bic = {f["model"]: f["n_params"] * math.log(f["customers"]) - 2 * f["log_likelihood"] for f in sound}
    assert run.report["chosen_model"] == min(bic, key=bic.get)
    assert all(f["n_params"] == 4 and f["customers"] == len(run.summary) for f in sound)


@pytest.mark.parametrize("shape", NO_DROPOUT)
def test_where_nobody_has_dropped_out_the_purchase_process_alone_forecasts(shape_run, shape):
    run = shape_run(shape)
    report = run.report
    assert report["chosen_model"] == "nbd" and report["chosen_label"] == "NBD (no dropout)"
    assert "no dropout seen yet" in report["choice_reason"] and "尚未看到流失" in report["choice_reason_zh"]
    assert "No dropout seen yet" in clv.manager_summary(report) and not run.dropout
    assert (run.customers["p_alive"] == 1).all()
    assert report["selection"]["dropout_gain"] <= clv.NO_DROPOUT_GAIN
    # the dropout models' fits that ran to the edge of their parameter space are told in the Details, not above
    assert "edge of its parameter space" in run.details_markdown() and "edge" not in clv.manager_summary(report)


STEADY_DAYS = 260  # tests.shapes.steady_buyers: everyone buys once in 260 days on average, memoryless


def test_steady_buyers_at_one_rate_are_forecast_that_rate(shape_run):
    run = shape_run("steady_buyers")
    assert run.model.purchase_model_.poisson_  # one common rate: the NBD's Poisson limit
    assert "one common rate" in clv.manager_summary(run.report)
    assert "no dropout seen yet" in run.report["choice_reason"]
    per_customer = run.customers["expected_purchases"]  # over the 12-month horizon, 52.14 weeks = 365 days
    # the rate's sampling error is 1 / sqrt(about 4,000 repeat purchases), 1.6 %: 6 % is about 4 of them
    assert per_customer.mean() == pytest.approx(365 / STEADY_DAYS, rel=0.06)
    assert per_customer.std() < 1e-9  # everyone at the one rate


def _observed_information(params, x, T) -> np.ndarray:
    """The negative Hessian of the NBD log-likelihood at ``params`` (central differences, relative steps)."""
    p = np.asarray(params, float)
    h = 1e-4 * p
    hessian = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            e_i, e_j = np.eye(2)[i] * h[i], np.eye(2)[j] * h[j]

            def ll(q):
                return clv.nbd_log_likelihood(q, x, T).sum()

            hessian[i, j] = (ll(p + e_i + e_j) - ll(p + e_i - e_j) - ll(p - e_i + e_j) + ll(p - e_i - e_j)) / (
                4 * h[i] * h[j]
            )
    return -hessian


def test_the_nbd_recovers_the_parameters_of_simulated_gamma_poisson_buyers():
    rng = np.random.default_rng(24)
    n, r, alpha = 5000, 2.0, 8.0  # purchase rates gamma(r, alpha): a mean of 0.25 a week
    T = rng.uniform(10, 100, n)
    x = rng.poisson(rng.gamma(r, 1 / alpha, n) * T).astype(float)
    X = pd.DataFrame({"frequency": x, "recency": 0.0, "T": T})
    model = clv.NBDModel().fit(X)
    assert not model.poisson_
    estimate = model.params_[["r", "alpha"]].to_numpy()
    se = np.sqrt(np.diag(np.linalg.inv(_observed_information(estimate, x, T))))
    # the maximum-likelihood estimate is within 4 of its standard errors of the truth (a 1-in-15,000 miss)
    assert np.all(np.abs(estimate - [r, alpha]) < 4 * se), (estimate, se)
    assert se[0] < 0.2 * r  # and the data are informative enough for that to mean something
    # a customer's expected purchases are (r + x) / (alpha + T) x t
    t = 52.0
    expected = model.expected_purchases(X, t)
    assert np.allclose(expected, (estimate[0] + x) / (estimate[1] + T) * t)
    assert (model.p_alive(X) == 1).all()


def test_buyers_at_one_rate_give_the_poisson_limit():
    rng = np.random.default_rng(7)
    T = rng.uniform(10, 100, 3000)
    x = rng.poisson(0.3 * T).astype(float)
    model = clv.NBDModel().fit(pd.DataFrame({"frequency": x, "recency": 0.0, "T": T}))
    assert model.poisson_ and list(model.params_.index) == ["rate"]
    assert model.params_["rate"] == pytest.approx(x.sum() / T.sum(), rel=1e-12)  # total purchases / total time
    assert model.params_["rate"] == pytest.approx(0.3, rel=0.03)  # 1 / sqrt(sum x) = 0.6 %


@pytest.mark.slow
def test_an_as_of_date_long_after_the_data_warns_with_the_last_purchase_date():
    run = _run(ROOT / "data" / "raw" / "CDNOW_master.txt", "2030-01-01")
    (notice,) = run.report["notices"]
    assert "1998-06-30" in notice["en"] and "1998-06-30" in notice["zh"] and "2030-01-01" in notice["en"]
    assert notice["en"] in clv.manager_summary(run.report) and notice["zh"] in clv.manager_summary(run.report, "zh")
    assert np.isfinite(run.customers["expected_purchases"]).all()


@pytest.mark.slow
def test_an_as_of_date_days_after_the_first_purchase_declines():
    with pytest.raises(StageDeclined) as declined:
        _run(ROOT / "data" / "raw" / "CDNOW_master.txt", "1997-01-05")
    assert declined.value.reason["en"].startswith("The data cover only 5 days (1997-01-01 to 1997-01-05)")
