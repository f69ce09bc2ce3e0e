"""Static covariates (issue 20): with every coefficient 0 the model without covariates to 1e-9, the exact
gradient against finite differences, recovery of known coefficients on 50,000 simulated customers, and the
settings' one-line errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.clv.covariate_design import design_matrix, lr_test
from analysis.clv.covariates import CovariatePurchaseModel
from analysis.clv.models import PurchaseModel
from analysis.clv.simulate import simulate_summary
from analysis.errors import UserError

TRUE = {
    "pareto": (0.55, 10.5, 0.6, 12.0),
    "bgnbd": (0.25, 4.4, 0.8, 2.4),
    "mbgnbd": (0.25, 4.4, 0.8, 2.4),
}
GAMMA_TRANS = np.array([0.5, -0.4, 0.3])  # two binary covariates and one numeric
GAMMA_LIFE = np.array([-0.6, 0.4, 0.25])
COLUMNS = ["g1", "g2", "num"]


def simulated(model: str, n: int, seed: int = 7) -> pd.DataFrame:
    """``n`` customers with two binary and one standard normal covariate, each customer's alpha, beta (a, b) by
    CLVTools' link functions, their purchases drawn from the model over 20 to 60 weeks."""
    rng = np.random.default_rng(seed)
    cov = pd.DataFrame({"g1": rng.integers(0, 2, n), "g2": rng.integers(0, 2, n), "num": rng.normal(0, 1, n)})
    X = cov.to_numpy(float)
    r, alpha, s, beta = TRUE[model]
    rate = alpha * np.exp(-X @ GAMMA_TRANS)
    if model == "pareto":
        params = (r, rate, s, beta * np.exp(-X @ GAMMA_LIFE))
    else:
        params = (r, rate, s * np.exp(X @ GAMMA_LIFE), beta * np.exp(X @ GAMMA_LIFE))
    summary = simulate_summary(model, params, rng.uniform(20, 60, n), rng)
    return pd.concat([summary, cov.astype(float)], axis=1)


@pytest.fixture(scope="module", params=["pareto", "bgnbd", "mbgnbd"])
def small(request):
    return request.param, simulated(request.param, 3000, seed=3)


def test_zero_coefficients_are_the_model_without(small):
    model, X = small
    base = PurchaseModel(model).fit(X[["frequency", "recency", "T"]])
    cov = CovariatePurchaseModel(model, trans=COLUMNS, life=COLUMNS)
    cov.n_customers_ = len(X)
    cov.set_values(np.concatenate([base.params_.to_numpy(), np.zeros(6)]))
    cov.patterns_ = X[COLUMNS].drop_duplicates().assign(weight=1.0)
    np.testing.assert_allclose(cov.log_likelihood(X), base.log_likelihood(X["frequency"], X["recency"], X["T"]),
                               rtol=0, atol=1e-9)  # fmt: skip
    np.testing.assert_allclose(cov.p_alive(X), base.p_alive(X), rtol=0, atol=1e-9)
    np.testing.assert_allclose(cov.expected_purchases(X, 39.0), base.expected_purchases(X, 39.0), rtol=0, atol=1e-9)
    times, weights = np.arange(13) * 4.345, 1.0 / 1.01 ** np.arange(1, 13)
    got = cov.discounted_purchases(X[cov.pattern_columns], times, weights)
    want = base.discounted_purchases(X[["frequency", "recency", "T"]], times, weights)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-9)
    t = np.array([0.0, 10.0, 52.0])
    np.testing.assert_allclose(cov.population_expected_purchases(t), base.population_expected_purchases(t), atol=1e-9)


def test_gradient_matches_finite_differences(small):
    model, X = small
    cov = CovariatePurchaseModel(model, trans=COLUMNS, life=["g1", "num"], constrain=["g1"], penalty=0.01)
    cov.set_values(np.concatenate([TRUE[model], [0.3, -0.2, 0.1, 0.3, -0.1]]))
    objective = cov.objective(X, np.ones(len(X)), 1 / 60)
    theta = cov.theta(1 / 60)
    value, grad = objective(theta)
    for i in range(len(theta)):
        e = np.zeros(len(theta))
        e[i] = 1e-6
        numeric = (objective(theta + e)[0] - objective(theta - e)[0]) / 2e-6
        assert grad[i] == pytest.approx(numeric, rel=1e-5, abs=1e-8), i


@pytest.mark.parametrize("columns", [COLUMNS, ["g1", "g2"]], ids=["numeric", "binary"])
def test_the_pattern_sums_are_the_rows_likelihood_and_the_hessian_the_gradients_differences(small, columns):
    """The objective sums its derivatives per covariate combination (BG/NBD, MBG/NBD: special functions once per
    (combination, frequency), ...): its value is the per-row formula summed, and its Hessian (differences along
    the four parameters only, then the chain rule) is the one differences of the gradient along every parameter
    and coefficient give; with a constrained coefficient and both penalties."""
    from analysis.clv.likelihoods import hessian_from_gradient

    model, X = small
    life = [columns[0], columns[-1]]
    cov = CovariatePurchaseModel(model, trans=columns, life=life, constrain=[columns[0]], penalty=0.01, penalizer=0.001)
    cov.set_values(np.concatenate([TRUE[model], 0.1 * np.arange(1, len(columns) + 3)]))
    objective = cov.objective(X, np.arange(len(X)) % 3 + 1.0, 1 / 60)
    theta = cov.theta(1 / 60)
    assert len(objective.Pt) == (len(X) if "num" in columns else 4)
    rows = objective.row_log_likelihoods(theta) @ objective.w
    penalties = 0.001 * np.sum(np.exp(2 * theta[:4])) + 0.01 * np.sum((objective.C @ theta[4:]) ** 2)
    assert objective(theta)[0] == pytest.approx(-rows / objective.W + penalties, rel=1e-13)
    ll, hessian = objective.curvature(theta)
    assert ll == pytest.approx(rows, rel=1e-13)
    np.testing.assert_allclose(
        hessian, hessian_from_gradient(objective, theta), rtol=0, atol=1e-5 * np.abs(hessian).max()
    )


def test_a_fit_given_its_baseline_is_the_fit_that_makes_its_own(small):
    """``baseline=``: the fit without covariates a run has already (its start and the test's null) gives the fit
    the model makes by itself; one of another model or other customers is refused."""
    model, X = small
    own = CovariatePurchaseModel(model, trans=["g1", "g2"], life=["g1"]).fit(X)
    base = PurchaseModel(model).fit(X[["frequency", "recency", "T"]])
    given = CovariatePurchaseModel(model, trans=["g1", "g2"], life=["g1"]).fit(X, baseline=base)
    assert given.baseline_ is base
    np.testing.assert_allclose(given.coefficients_, own.coefficients_, rtol=1e-9)
    assert given.lr_test_["statistic"] == pytest.approx(own.lr_test_["statistic"], rel=1e-9)
    # the log-likelihood in the data's time unit is the customers' own, summed
    assert given.log_likelihood_ == pytest.approx(given.log_likelihood(X).sum(), rel=1e-12)
    with pytest.raises(ValueError, match="not the .* fit without covariates on these 3,000 customers"):
        CovariatePurchaseModel(model, trans=["g1"]).fit(X, baseline=PurchaseModel(model).fit(X.iloc[:100]))


@pytest.mark.parametrize("model", ["pareto", "bgnbd", "mbgnbd"])
def test_recovers_the_coefficients_within_two_standard_errors(model):
    X = simulated(model, 50_000)
    fit = CovariatePurchaseModel(model, trans=COLUMNS, life=COLUMNS).fit(X)
    want = pd.Series(np.concatenate([GAMMA_TRANS, GAMMA_LIFE]), index=fit.coefficients_.index)
    z = (fit.coefficients_ - want) / fit.std_errors_[want.index]
    assert np.all(np.abs(z) < 2), z
    assert fit.lr_test_["df"] == 6 and fit.lr_test_["p_value"] < 1e-6
    assert fit.lr_test_["statistic"] == pytest.approx(2 * (fit.log_likelihood_ - fit.baseline_.log_likelihood_))


def test_lr_test_exact():
    out = lr_test(-100.0, -103.0, 2)
    assert out == {"statistic": 6.0, "df": 2, "p_value": pytest.approx(np.exp(-3.0))}


ATTRIBUTES = pd.DataFrame(
    {
        "Channel": ["web", "web", "shop", "web", "phone", "shop"],
        "Age": [30.0, 41.0, 25.0, 52.0, 38.0, 60.0],
        "Same": ["x"] * 6,
        "Gap": ["a", None, "b", "a", None, "b"],
        "City": [f"c{i}" for i in range(6)],
    }
)


def settings(**kw):
    return {"trans": [], "life": [], "constrain": [], "penalty": 0.0, "max_levels": 5, **kw}


def test_design_matrix_exact():
    design = design_matrix(ATTRIBUTES, settings(trans=["Channel", "Age"], life=["Channel"], constrain=["Channel"]))
    assert design.references == {"Channel": "web"}
    assert design.trans == ["Channel=phone", "Channel=shop", "Age"] and design.life == ["Channel=phone", "Channel=shop"]
    assert design.frame["Channel=shop"].tolist() == [0, 0, 1, 0, 0, 1]
    assert design.frame["Age"].tolist() == ATTRIBUTES["Age"].tolist()
    assert design.constraint_matrix().shape == (5, 3)
    assert design_matrix(ATTRIBUTES, settings()) is None


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"trans": ["Region"]}, r"covariate 'Region' .* is not a column of the customer attributes: they have Channel"),
        ({"life": ["Same"]}, r"'Same' .* has the same value \('x'\) for every customer"),
        ({"trans": ["Gap"]}, r"'Gap' .* is missing for 2 of 6 customers"),
        ({"trans": ["City"]}, r"'City' .* has 6 levels, more than clv.covariates.max_levels \(5\): group the rare"),
        ({"trans": ["Channel"], "constrain": ["Channel"]}, r"must be in both trans and life"),
    ],
)
def test_bad_settings_are_one_line(kw, match):
    with pytest.raises(UserError, match=match):
        design_matrix(ATTRIBUTES, settings(**kw))


def test_ratios_are_how_often_and_how_long_in_clvtools_signs():
    """CLVTools: alpha_i = alpha exp(-g x) (a positive g: more purchases), Pareto/NBD beta_i = beta exp(-g x) (a
    positive g: a higher dropout rate, a shorter mean lifetime beta_i / (s - 1)); BG/NBD: a and b times exp(g)."""
    from analysis.clv.covariate_design import ratios

    coefficients = pd.Series({"trans.g": 0.5, "life.g": 0.5})
    se = pd.Series({"trans.g": 0.1, "life.g": 0.1})
    pareto = ratios(coefficients, se, "pareto")
    assert pareto.loc["trans.g", "ratio"] == pytest.approx(np.exp(0.5))
    assert pareto.loc["life.g", "ratio"] == pytest.approx(np.exp(-0.5))
    assert pareto.loc["life.g", "low"] == pytest.approx(np.exp(-0.5 - 0.196))
    assert pareto.loc["life.g", "high"] == pytest.approx(np.exp(-0.5 + 0.196))
    assert ratios(coefficients, se, "bgnbd").loc["life.g", "ratio"] == pytest.approx(np.exp(0.5))


def test_customers_who_stay_twice_as_long_are_told_so():
    """Simulated Pareto/NBD customers, the second half with twice the dropout scale beta (a mean lifetime twice as
    long) and the same purchase rate: the told ratios' 95 % ranges hold 2 for how long and 1 for how often."""
    from analysis.clv.covariate_design import ratios

    rng = np.random.default_rng(11)
    n = 20_000
    g = (np.arange(n) >= n // 2).astype(float)
    r, alpha, s, beta = TRUE["pareto"]
    summary = simulate_summary("pareto", (r, np.full(n, alpha), s, beta * (1 + g)), rng.uniform(20, 80, n), rng)
    fit = CovariatePurchaseModel("pareto", trans=["g"], life=["g"]).fit(summary.assign(g=g))
    told = ratios(fit.coefficients_, fit.std_errors_, "pareto")
    assert told.loc["life.g", "low"] < 2.0 < told.loc["life.g", "high"] and told.loc["life.g", "low"] > 1.2
    assert told.loc["trans.g", "low"] < 1.0 < told.loc["trans.g", "high"]


def test_many_covariate_columns_never_merge_different_customers():
    """70 binary indicator columns: multiplied out, two customers who differ in the first column only are
    2**69 apart, which int64 wraps to 0 (they were one combination); with 400 customers besides."""
    from analysis.clv.likelihoods import group_codes

    rng = np.random.default_rng(3)
    rows = pd.DataFrame(rng.integers(0, 2, (400, 70)))
    rows.loc[400] = rows.loc[0].to_numpy() ^ np.eye(70, dtype=rows.dtypes.iloc[0])[0]  # the first column flipped
    inverse, first = group_codes(*(rows[c].to_numpy() for c in rows.columns))
    assert inverse[0] != inverse[400] and inverse.max() + 1 == len(rows.drop_duplicates())
    pd.testing.assert_frame_equal(rows.iloc[first[inverse]].reset_index(drop=True), rows.reset_index(drop=True))
