"""The churn stage on simulated data: determinism, reasons from the customer's own numbers, the fallback, and
the evaluation helpers against scikit-learn."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from analysis import churn, clv
from analysis.config import deep_merge
from analysis.errors import UserError
from analysis.stage import Frames

FAST = {
    "churn": {
        "evaluation": {"bootstrap": 20, "importance_repeats": 1, "importance_max_customers": 2000},
        "gradient_boosting": {"max_iter": 30},
    }
}


@pytest.fixture(scope="module")
def simulated():
    return clv.simulate_transactions(3000, seed=11)


def _cfg(config, extra=None):
    return deep_merge(deep_merge(config, FAST), extra or {})


def _run(tx, as_of, config, customers=None):
    """The stage on an analyst's own frames (the customer table made from ``tx`` unless given)."""
    return churn.run(Frames(tx, as_of=as_of, customers_table=customers), config)


def test_same_seed_same_scores_and_the_evaluation_is_on_the_later_cutoff(config, simulated):
    cfg = _cfg(config)
    one = _run(simulated, "2023-12-31", cfg)
    two = _run(simulated, "2023-12-31", cfg)
    pd.testing.assert_frame_equal(one.columns, two.columns)
    assert one.record == two.record
    json.dumps(one.record, allow_nan=False)  # JSON as it stands
    r = one.record
    assert not r["fallback"] and r["cutoffs"]["train"] < r["cutoffs"]["evaluation"] < r["cutoffs"]["score"]
    assert set(r["scorers"]) == {"logistic", "gradient_boosting", "recency", "recency_gap", "p_alive"}
    assert r["chosen_scorer"] in r["scorers"]
    assert list(one.columns.columns) == ["customer_id", *churn.OUTPUT_COLUMNS]
    assert one.columns["churn_risk"].between(0, 1).all()
    assert set(one.columns["risk_band"]) <= {"high", "medium", "low"}
    assert one.stage == "churn" and one.json_name == "churn.json" and one.warnings == r["warnings"]
    assert "choice" not in r and "definition" not in r  # the page's sentences are made by describe, not stored


def test_prospects_get_no_risk_and_their_own_band(config, simulated):
    customers = pd.DataFrame({"customer_id": [*simulated["customer_id"].unique(), "prospect-1"]})
    run = _run(simulated, "2023-12-31", _cfg(config), customers)
    assert run.columns["customer_id"].tolist() == customers["customer_id"].tolist()  # the table's rows, in order
    row = run.columns.set_index("customer_id").loc["prospect-1"]
    assert np.isnan(row["churn_risk"]) and row["risk_band"] == "no purchase yet" and row["risk_band_zh"] == "尚未购买"
    assert run.record["customers_without_purchase"] == 1
    assert "- 1 listed customers have not bought yet and get no churn risk." in run.summary()
    assert "- 1 位客户尚未购买，不评估流失风险。" in run.summary("zh")


def test_too_little_history_declines_with_the_days_it_would_take(config):
    """No unchecked rule of thumb stands in for a score that cannot be checked on a later period: the stage
    declines, and says how much history it would take."""
    tx = clv.simulate_transactions(400, start="2024-01-01", end="2024-03-31", acquisition_days=30, seed=2)
    with pytest.raises(churn.ChurnDeclined, match="too little history to check a churn score") as err:
        _run(tx, "2024-03-31", _cfg(config))
    exc = err.value
    assert exc.stage == "churn" and exc.columns == churn.stage.COLUMN_KINDS
    assert "takes at least 146 days" in exc.reason["en"] and "至少需要 146 天" in exc.reason["zh"]
    assert "scorers" not in exc.report and exc.report["declined"] == exc.reason
    json.dumps(exc.report, allow_nan=False)


def test_nobody_stopping_declines_and_keeps_the_cutoffs_warnings(config):
    """Weekly buyers who never stop: nobody churns on either cut-off, so nothing can be learnt; the BG/NBD model
    cannot be fitted on any date, and the declined report keeps those warnings, cut-off by cut-off."""
    days = pd.date_range("2023-01-01", "2024-03-31", freq="7D")
    tx = pd.DataFrame({"customer_id": np.repeat([f"c{i}" for i in range(50)], len(days)),
                       "timestamp": np.tile(days, 50), "amount": 10.0})  # fmt: skip
    tx["order_id"] = np.arange(len(tx)).astype(str)
    with pytest.raises(churn.ChurnDeclined) as err:
        _run(tx, "2024-03-31", _cfg(config, {"churn": {"horizon_days": 60}}))
    warnings = err.value.report["warnings"]
    said = [w["en"].split(":")[0] for w in warnings]
    assert said[:2] == ["cut-off 2023-12-02", "cut-off 2024-01-31"]
    assert [w["zh"].split("：")[0] for w in warnings[:2]] == ["截止日 2023-12-02", "截止日 2024-01-31"]
    assert all(w["zh"] != w["en"] and "BG/NBD 模型无法拟合" in w["zh"] for w in warnings[:2])  # each in Chinese
    assert err.value.reason["en"].startswith("Of the customers known on 2023-12-02, 0 stopped buying in the 60 days")


def test_reasons_are_the_customers_own_numbers(config):
    rows = [("loyal", d, 20.0) for d in pd.date_range("2024-01-01", periods=5, freq="30D")]  # every 30 days
    rows += [("once", "2024-02-10", 50.0)]
    tx = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])
    tx["timestamp"] = pd.to_datetime(tx["timestamp"])
    tx["order_id"] = [str(i) for i in range(len(tx))]
    as_of = pd.Timestamp("2024-04-30") + pd.Timedelta(days=95)  # last purchase Apr 30
    feats = churn.base_features(churn.daily_purchases(tx), as_of, trend_days=60)
    en, zh = churn.customer_reasons(feats, config["churn"]["reasons"], horizon=60, window=60)
    assert en["loyal"].startswith("no purchase for 95 days; usually buys every 30")
    assert zh["loyal"].startswith("95 天未购买，平时每 30 天购买一次")
    assert "purchases in the last 60 days down 100 % (0 vs 1)" in en["loyal"]  # Apr 30 is in the window before
    assert en["once"] == f"bought once, {(as_of - pd.Timestamp('2024-02-10')).days} days ago, never again"


def test_bands_by_probability_and_by_top_share():
    risk = pd.Series([0.9, 0.5, 0.1, np.nan, 0.8])
    by_p = churn.risk_bands(risk, {"method": "probability", "high": 0.7, "medium": 0.4})
    assert list(by_p) == ["high", "medium", "low", "no_purchase", "high"]
    by_share = churn.risk_bands(risk, {"method": "top_share", "high": 0.25, "medium": 0.5})
    assert list(by_share) == ["high", "low", "low", "no_purchase", "medium"]  # ranks 1, 3, 4, -, 2 of 4
    with pytest.raises(UserError, match="bands"):
        churn.risk_bands(risk, {"method": "guess", "high": 0.7, "medium": 0.4})


def test_value_at_risk_uses_clv_and_falls_back_to_yearly_spend():
    risk = pd.Series([0.5, 0.2], index=["a", "b"])
    var, source = churn.value_at_risk(risk, pd.Series({"a": 100.0, "b": np.nan}), pd.Series({"a": 1.0, "b": 50.0}))
    assert var.to_dict() == {"a": 50.0, "b": 10.0} and source.to_dict() == {"a": "clv", "b": "yearly spend"}


def test_bootstrap_auc_matches_sklearn_and_brackets_it():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 3000)
    p = np.round(np.clip(0.3 * y + rng.uniform(0, 0.7, 3000), 0, 1), 2)  # ties on purpose
    from analysis.churn.evaluate import group_counts, weighted_auc

    assert weighted_auc(*group_counts(y, p)) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    low, high = churn.auc_interval(y, p, n_boot=200, seed=1)
    assert low < roc_auc_score(y, p) < high and high - low < 0.06
    # the interval agrees with a plain bootstrap (customers drawn with replacement)
    draws = [rng.integers(0, len(y), len(y)) for _ in range(200)]
    plain = np.quantile([roc_auc_score(y[d], p[d]) for d in draws], [0.05, 0.95])
    assert low == pytest.approx(plain[0], abs=0.006) and high == pytest.approx(plain[1], abs=0.006)


def test_bootstrap_auc_brackets_the_auc_when_scores_are_grouped_by_rank():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 20_000)
    p = np.where(rng.uniform(size=20_000) < 0.3, 0.5, 0.3 * y + rng.uniform(0, 0.7, 20_000))  # many ties at 0.5
    auc = roc_auc_score(y, p)
    low, high = churn.auc_interval(y, p, n_boot=200, seed=2)
    assert low < auc < high and abs((high - auc) - (auc - low)) < 0.004  # about symmetric around the AUC


def test_metrics_equal_scikit_learn():
    from sklearn.metrics import average_precision_score, brier_score_loss, log_loss

    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 2000)
    p = np.round(np.clip(0.2 * y + rng.uniform(0, 0.8, 2000), 0, 1), 3)  # with ties
    m = churn.metrics(y, p, n_boot=0)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert m["pr_auc"] == pytest.approx(average_precision_score(y, p), abs=1e-12)
    assert m["brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    assert m["log_loss"] == pytest.approx(log_loss(y, np.clip(p, 1e-6, 1 - 1e-6)), abs=1e-9)


def test_gains_table_is_exact_on_a_tiny_case():
    y = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0])
    p = np.linspace(1, 0.1, 10)
    g = churn.gains_table(y, p, groups=5)
    assert list(g["churners"]) == [2, 0, 1, 0, 0]
    assert list(g["cumulative_gain"].round(4)) == [0.6667, 0.6667, 1.0, 1.0, 1.0]
    assert g.loc[0, "lift"] == pytest.approx(1.0 / 0.3)


@pytest.mark.parametrize("name", ["gradient_boosting", "logistic", "recency"])
def test_permutation_importance_is_scikit_learns(config, simulated, name):
    """The shuffled copies are scored in stacked batches: the same shuffles and numbers as scikit-learn's."""
    from sklearn.inspection import permutation_importance

    from analysis.churn import reasons
    from analysis.churn.models import churn_probability

    cfg = _cfg(config)["churn"]
    daily = churn.daily_purchases(simulated)
    X, _ = churn.cutoff_features(daily, "2023-06-30", 90)
    y = churn.churn_labels(daily, "2023-06-30", 90)
    model = churn.make_model(name, cfg, 0).fit(X, y)
    rows = np.sort(np.random.default_rng(3).choice(len(X), size=700, replace=False))

    class Scorer:  # the model seen through churn_probability, as the stage scores it
        def fit(self, *args):
            return self

        def predict_proba(self, Z):
            p = churn_probability(model, Z, X.columns)
            return np.column_stack([1 - p, p])

    def auc(est, Z, t):
        return roc_auc_score(t, est.predict_proba(Z)[:, 1])

    theirs = permutation_importance(Scorer(), X.iloc[rows], y.to_numpy()[rows], scoring=auc, n_repeats=3,
                                    random_state=3)  # fmt: skip
    mine = reasons.importance_table(model, X, y, X.columns, repeats=3, max_rows=700, seed=3)
    expected = pd.DataFrame({"importance": theirs.importances_mean, "std": theirs.importances_std},
                            index=pd.Index(X.columns, name="feature"))  # fmt: skip
    pd.testing.assert_frame_equal(mine, expected.sort_values("importance", ascending=False), check_exact=True)


@pytest.mark.parametrize("block", [None, 37])
def test_reasons_are_the_templates_filled_customer_by_customer(config, monkeypatch, block):
    """The Arrow-built texts against str.format, one customer at a time, with missing numbers ("?"), a reason
    without text in one language, customers left out and customers with no clear sign; also put together in
    blocks of 37 customers (the first block has no customer to give reasons to)."""
    from analysis.churn import reasons

    if block:
        monkeypatch.setattr(reasons, "REASON_ROWS", block)

    rng = np.random.default_rng(5)
    n = 400
    feats = pd.DataFrame({
        "recency_days": rng.integers(0, 800, n).astype(float),
        "mean_gap_days": np.where(rng.uniform(size=n) < 0.3, np.nan, rng.uniform(1, 200, n)),
        "purchase_days": rng.integers(1, 5, n).astype(float),
        "purchases_last": rng.integers(0, 4, n).astype(float), "purchases_prev": rng.integers(0, 4, n).astype(float),
        "spend_last": rng.uniform(0, 100, n), "spend_prev": rng.uniform(0, 100, n),
        "p_alive": np.where(rng.uniform(size=n) < 0.1, np.nan, rng.uniform(0, 1, n)),
    })  # fmt: skip
    cfg = deep_merge(config["churn"]["reasons"], {"texts": {"silent": ["", "{recency} 天未购买"]}})
    who = rng.uniform(size=n) < 0.8
    who[:40] = False
    en, zh = reasons.customer_reasons(feats, cfg, 90, 60, None, who)
    keys = [k for k in (*reasons.FEATURE_OF, reasons.NO_CLEAR_SIGN) if k in cfg["texts"]]
    sev = reasons.severities(feats, cfg, 90)
    scores = np.column_stack([sev[k] * 0.5 for k in keys[:-1]])
    scores = np.column_stack([scores, (scores == 0).all(axis=1)])  # no other reason applies
    assert 0 < scores[who, -1].sum() < who.sum()  # the case is met, and not by everyone
    numbers = reasons.reason_numbers(feats, 60)
    for i in range(n):
        for lang, got, sep in ((0, en, "; "), (1, zh, "；")):
            text = ""
            for j in np.argsort(-scores[i], kind="stable")[: cfg["count"]]:
                if scores[i, j] > 0:
                    key = keys[j]
                    named = {m: numbers["spend_drop" if key == "spend_down" and m == "drop" else m][i] for m in numbers}
                    words = {m: "?" if not np.isfinite(v) else str(int(np.round(v))) for m, v in named.items()}
                    text += (sep if text else "") + cfg["texts"][key][lang].format(**words)
            assert got.iloc[i] == (text if who[i] else ""), (i, lang)


def test_every_at_risk_customer_has_a_reason(config):
    """A customer at risk with no warning sign (bought twice, on their usual rhythm, P(alive) high) is told
    the model's view in both languages instead of getting no reason; a customer not at risk gets none."""
    from analysis.churn import reasons

    feats = pd.DataFrame({"recency_days": [40.0, 40.0], "mean_gap_days": [60.0, 60.0], "purchase_days": [3.0, 3.0],
                          "purchases_last": [1.0, 1.0], "purchases_prev": [1.0, 1.0], "spend_last": [20.0, 20.0],
                          "spend_prev": [20.0, 20.0], "p_alive": [0.9, 0.9]})  # fmt: skip
    en, zh = reasons.customer_reasons(feats, config["churn"]["reasons"], 90, 90, None, np.array([True, False]))
    assert en.tolist() == [
        "no single warning sign: the model rates purchase histories like this one as likely to stop "
        "(last purchase 40 days ago)",
        "",
    ]
    assert zh.tolist() == ["没有单一的预警信号：模型判断这类购买记录的客户较可能流失（上次购买在 40 天前）", ""]


def test_warning_list_takes_its_rows_from_chunked_text_columns():
    """The list's rows taken chunk by chunk from texts held in Arrow chunks (as read from Parquet) are the rows
    pandas would take: the riskiest value first, ties by customer id, with their own names, reasons and tier."""
    import pyarrow as pa

    from analysis.churn import warning

    rng = np.random.default_rng(8)
    n = 1000

    def chunked(texts):  # held in chunks of 128 rows
        return pd.array(pa.chunked_array([pa.array(texts[i : i + 128], pa.large_string()) for i in range(0, n, 128)]),
                        dtype="str")  # fmt: skip

    ids = [f"c{i:04d}" for i in range(n)]
    table = pd.DataFrame({
        "customer_id": chunked(ids), "customer_name": chunked([f"name {i}" for i in ids]),
        "churn_risk": rng.uniform(0.7, 1, n), "value_at_risk": np.round(rng.uniform(0, 50, n)),  # with ties
        "churn_reasons": chunked([f"reason {i}" for i in ids]), "churn_reasons_zh": chunked([f"原因 {i}" for i in ids]),
        "tier": chunked([f"tier {i}" for i in ids]),
        "risk_band_key": np.where(rng.uniform(size=n) < 0.5, "high", "medium"),
    })  # fmt: skip
    got = warning.warning_list(table, 40)
    high = pd.DataFrame({"customer_id": ids, "value_at_risk": table["value_at_risk"]})[table["risk_band_key"] == "high"]
    first = high.sort_values(["value_at_risk", "customer_id"], ascending=[False, True])["customer_id"].head(40)
    assert got["customer_id"].tolist() == first.tolist()
    for col, text in (("customer_name", "name"), ("churn_reasons", "reason"), ("churn_reasons_zh", "原因"),
                      ("tier", "tier")):  # fmt: skip
        assert got[col].tolist() == [f"{text} {i}" for i in first]
