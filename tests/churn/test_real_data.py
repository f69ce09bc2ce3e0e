"""On CDNOW and the UCI Online Retail extract: every model and both kinds of baseline are judged on a later
cut-off than the one they were trained on, in one table (the model is not required to win)."""

import pandas as pd
import pytest

from analysis import churn
from analysis.config import deep_merge
from analysis.data import prepare
from tests.conftest import CDNOW_MASTER, UCI

FAST = {
    "churn": {
        "evaluation": {"bootstrap": 30, "importance_repeats": 1, "importance_max_customers": 3000},
        "gradient_boosting": {"max_iter": 60},
    }
}


def _check(run, tx):
    r = run.record
    assert not r["fallback"], r.get("fallback_reason")
    train, evaluation = pd.Timestamp(r["cutoffs"]["train"]), pd.Timestamp(r["cutoffs"]["evaluation"])
    assert train + pd.Timedelta(days=r["horizon_days"]) <= evaluation  # training labels end before evaluation
    assert evaluation + pd.Timedelta(days=r["horizon_days"]) == pd.Timestamp(r["as_of"])
    table = run.tables["metrics"]
    assert {"logistic", "gradient_boosting", "recency", "recency_gap", "p_alive"} <= set(table.index)
    known = tx.loc[tx["timestamp"] < evaluation + pd.Timedelta(days=1), "customer_id"].nunique()
    scored = table[table["note"] == ""]  # a scorer that could not be fitted is listed with the reason
    assert (scored["customers"] == known).all()  # computed on the evaluation cut-off's customers
    assert (scored["roc_auc_low"] <= scored["roc_auc"]).all() and (scored["roc_auc"] <= scored["roc_auc_high"]).all()
    assert {"logistic", "gradient_boosting", "recency"} <= set(scored.index)
    assert scored[["roc_auc", "pr_auc", "brier", "log_loss"]].notna().all().all()
    assert table.loc[table["note"] != "", "roc_auc"].isna().all()
    assert r["chosen_scorer"] in table.index
    print("\n" + table[["roc_auc", "roc_auc_low", "roc_auc_high", "pr_auc", "brier"]].round(3).to_string())
    print(table.loc[table["note"] != "", "note"].to_string())
    print("chosen:", r["chosen_scorer"], "| horizon", r["horizon_days"], "| cut-offs", r["cutoffs"])


@pytest.mark.slow
def test_cdnow_models_and_baselines_on_the_later_cutoff(config):
    cfg = deep_merge(config, FAST)
    p = prepare(str(CDNOW_MASTER), cfg, "1998-06-30", None)
    run = churn.run(p, cfg)
    _check(run, p.transactions)
    assert run.columns["churn_risk"].notna().all() and len(run.columns) == len(p.customers)
    assert "return_share" not in run.features  # CDNOW has no returns


@pytest.mark.slow
def test_uci_models_and_baselines_on_the_later_cutoff(config):
    if not UCI.is_file():
        pytest.skip(f"{UCI} not available")
    cfg = deep_merge(config, FAST)
    p = prepare(str(UCI), cfg, None, None)
    run = churn.run(p, cfg)
    _check(run, p.transactions)
    assert any(c.startswith("attr_country=") for c in run.features.columns)  # customer attributes used
    # the returned lines netting took off (the prepared run's returns) become each customer's return share:
    # returned / (kept + returned) spend up to the as-of date
    returns = p.returns
    assert len(returns) > 0 and (returns["amount"] > 0).all()
    share = run.features["return_share"]
    returned = returns.groupby("customer_id")["amount"].sum().reindex(share.index).fillna(0.0)
    spend = p.customers.set_index("customer_id")["total_spend"].reindex(share.index)
    expected = (returned / (spend + returned).where(spend + returned > 0)).fillna(0.0)
    pd.testing.assert_series_equal(share, expected, check_names=False, atol=1e-9)
    assert (share > 0).sum() > 100
    said = run.columns["churn_reasons"].str.contains("returned", regex=False)
    assert said.any() and run.columns.loc[said, "churn_reasons_zh"].str.contains("退货金额占消费的").all()
