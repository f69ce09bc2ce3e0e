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
from tests.language import has_chinese
from tests.shapes import SHAPES, write_shape

DECLINES = {  # shape: what its reason says
    "one_day": "All purchases fall on one day (2024-06-01)",
    "one_week": "The data cover only 7 days (2024-06-01 to 2024-06-07): too short a history",
    "nobody_twice": "None of the 500 customers has bought on a second day yet",
}
NO_DROPOUT = ("tiny", "b2b_accounts", "steady_buyers", "dense_panel")  # nobody has stopped buying


def _run(path, as_of: str):
    """``clv.run`` as the pipeline calls it, on the prepared file at ``path``."""
    config = analysis.config.load_config(None)
    prepared = analysis.data.pipeline.prepare(str(path), config, as_of)
    return clv.run(prepared, config)


@pytest.fixture(scope="module")
def shape_run(tmp_path_factory):
    """The CLV stage's result on a shape, made on first use: a :class:`ClvResult` or the :class:`StageDeclined`."""
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
    assert isinstance(result, clv.ClvResult), result
    scores = result.columns
    assert np.isfinite(scores["expected_purchases"]).all() and (scores["expected_purchases"] >= 0).all()
    assert scores["p_alive"].between(0, 1).all() and np.isfinite(scores["clv"]).all()
    report = result.record
    assert report["chosen_label"]["en"] in ("Pareto/NBD", "BG/NBD", "MBG/NBD", "NBD (no dropout)")
    assert has_chinese(report["chosen_label"]["zh"]) and report["chosen_label"] == result.chosen_label
    for lang in ("en", "zh"):
        result.summary(lang), clv.describe.details_markdown(result, lang), clv.describe.choice_markdown(result, lang)
    fits = (report.get("selection") or {}).get("fits", {}).values()
    for warning in [*report["warnings"], *(f["reason"] for f in fits if "reason" in f)]:
        # in Chinese words, not the English quoted (the stage's words say what the models found)
        assert set(warning) == {"en", "zh"} and has_chinese(warning["zh"]) and warning["en"] not in warning["zh"]


@pytest.mark.parametrize("shape", ["tiny", "few_repeaters", "b2b_accounts"])
def test_without_a_calibration_fit_the_page_says_not_backtested(shape_run, shape):
    run = shape_run(shape)
    selection = run.record["selection"]
    cal_end = selection["not_backtested"]["en"].removeprefix("not backtested: too little history before ")
    assert pd.Timestamp(cal_end) < pd.Timestamp(run.record["as_of"])  # a date, the backtest's calibration end
    assert run.record["choice_reason"]["en"].startswith(f"not backtested: too little history before {cal_end}")
    assert f"{cal_end} 之前的历史太短" in run.record["choice_reason"]["zh"]
    assert f"**Not backtested: too little history before {cal_end}.**" in run.summary()
    assert "backtest" not in run.record and run.backtest is None
    assert clv.page_table(run, "backtest").empty and not clv.page_table(run, "selection", "zh").empty


def test_when_nothing_fits_without_help_a_small_penalty_is_tried_and_said(shape_run):
    run = shape_run("few_repeaters")
    selection = run.record["selection"]
    assert selection["kind"] == "penalized" and selection["penalizer"] == 0.001
    assert all(f["status"] != "fitted" for f in selection["fits"].values() if f["penalizer"] == 0)
    assert "refitted with a small penalty (0.001)" in run.record["choice_reason"]["en"]
    assert "小惩罚（0.001）" in run.summary("zh")
    zh = run.record["choice_reason"]["zh"]  # the other fits' BICs listed with Chinese punctuation
    assert "的 BIC 最低" in zh and "、" in zh and "; " not in zh and ", " not in zh
    # why each unpenalized fit was not used, in Chinese on the Chinese page
    reasons = [f["reason"] for f in selection["fits"].values() if f["penalizer"] == 0]
    details = clv.describe.details_markdown(run, "zh")
    assert reasons and all(has_chinese(r["zh"]) and r["zh"] in details for r in reasons)
    assert run.model.penalizer == 0.001


def test_the_bic_choice_is_the_lowest_bic_of_the_reported_fits(shape_run):
    run = shape_run("few_repeaters")
    selection = run.record["selection"]
    sound = [f for f in selection["fits"].values() if f["status"] == "fitted" and f["penalizer"] == 0.001]
    assert len(sound) > 1
    # BIC = k log n - 2 log L, from what the report says of each fit
    bic = {f["model"]: f["n_params"] * math.log(f["customers"]) - 2 * f["log_likelihood"] for f in sound}
    assert run.record["chosen_model"] == min(bic, key=bic.get)
    assert all(f["n_params"] == 4 and f["customers"] == len(run.fit_summary) for f in sound)


@pytest.mark.parametrize("shape", NO_DROPOUT)
def test_where_nobody_has_dropped_out_the_purchase_process_alone_forecasts(shape_run, shape):
    run = shape_run(shape)
    report = run.record
    assert report["chosen_model"] == "nbd"
    assert report["chosen_label"] == {"en": "NBD (no dropout)", "zh": "NBD（无流失）"}
    assert "no dropout seen yet" in report["choice_reason"]["en"] and "尚未看到流失" in report["choice_reason"]["zh"]
    assert "No dropout seen yet" in run.summary() and not run.dropout
    assert (run.columns["p_alive"] == 1).all()
    assert report["selection"]["dropout_gain"] <= clv.NO_DROPOUT_GAIN
    # the dropout models' fits that ran to the edge of their parameter space are told in the Details, not above
    assert "edge of its parameter space" in clv.describe.details_markdown(run) and "edge" not in run.summary()
    assert "参数空间的边界" in clv.describe.details_markdown(run, "zh") and "边界" not in run.summary("zh")


STEADY_DAYS = 260  # tests.shapes.steady_buyers: everyone buys once in 260 days on average, memoryless


def test_steady_buyers_at_one_rate_are_forecast_that_rate(shape_run):
    run = shape_run("steady_buyers")
    assert run.model.purchase_model_.poisson_  # one common rate: the NBD's Poisson limit
    assert "one common rate" in run.summary()
    assert "no dropout seen yet" in run.record["choice_reason"]["en"]
    per_customer = run.columns["expected_purchases"]  # over the 12-month horizon, 52.14 weeks = 365 days
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
    (notice,) = run.record["notices"]
    assert "1998-06-30" in notice["en"] and "1998-06-30" in notice["zh"] and "2030-01-01" in notice["en"]
    assert notice["en"] in run.summary() and notice["zh"] in run.summary("zh")
    assert np.isfinite(run.columns["expected_purchases"]).all()


@pytest.mark.slow
def test_an_as_of_date_days_after_the_first_purchase_declines():
    with pytest.raises(StageDeclined) as declined:
        _run(ROOT / "data" / "raw" / "CDNOW_master.txt", "1997-01-05")
    assert declined.value.reason["en"].startswith("The data cover only 5 days (1997-01-01 to 1997-01-05)")
