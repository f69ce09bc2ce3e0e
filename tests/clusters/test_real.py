"""The stage on real data read through the project's own data spine: CDNOW master and the UCI Online Retail extract."""

import json

import numpy as np
import pandas as pd
import pytest

from analysis import clusters
from analysis.clusters.features import feature_frame, return_share
from analysis.config import load_config
from analysis.report import open_stage

from ..conftest import CDNOW_MASTER, UCI

SMALL = {"clusters": {"k_range": [2, 5], "stability": {"resamples": 3}, "silhouette_sample": 2000}}


def _run(path, as_of):
    st = open_stage(input_path=str(path), as_of=as_of)
    return st, clusters.run(st, load_config(overrides=SMALL))


def _netted_share(st) -> pd.Series:
    """The return share read straight from the quarantine: its ``return_netted`` rows' value by customer id."""
    rows = st.quarantine[st.quarantine["reason"] == "return_netted"]
    ids = rows[st.mapping["customer_id"]].str.strip().str.replace(r"\.0$", "", regex=True)
    back = pd.to_numeric(rows["amount_parsed"]).abs().groupby(ids.to_numpy()).sum()
    back = back.reindex(st.customers["customer_id"].astype(str)).fillna(0.0).to_numpy()
    spend = st.customers["monetary"].to_numpy(dtype=float)
    return pd.Series(back / (back + spend), index=st.customers["customer_id"].astype(str).to_numpy())


def _check_accounts(st, run):
    """Sizes and values of the profiles add up to what the transactions say, customer by customer."""
    before = st.customers  # (a page run on the same scratch folder may have added the stage's columns already)
    before = before.drop(columns=[c for c in clusters.COLUMN_KINDS if c in before])
    customers = before.merge(run.columns, on="customer_id", validate="one_to_one")
    spend = st.transactions.groupby("customer_id")["amount"].sum()
    value = customers.assign(spend=customers["customer_id"].map(spend)).groupby("cluster")["spend"].sum()
    profiles = run.tables["profiles"]
    assert profiles["customers"].sum() == run.record["clustered"] == customers["cluster"].notna().sum()
    np.testing.assert_allclose(profiles["value"].to_numpy(), value.reindex(profiles.index).to_numpy(), rtol=1e-9)
    assert profiles["value_share"].sum() == pytest.approx(1.0)
    names = [n["en"] for n in run.record["names"].values()] + [n["zh"] for n in run.record["names"].values()]
    assert len(set(names)) == len(names)
    json.dumps(run.record)
    return customers


@pytest.mark.slow
def test_cdnow_master(config):
    st, run = _run(CDNOW_MASTER, "1998-06-30")
    customers = _check_accounts(st, run)
    assert len(customers) == 23_570 and customers["cluster"].notna().all()
    assert 2 <= run.record["k"] <= 5
    # single-purchase treatment: exactly the customers with fewer than three purchase days have no cadence
    assert run.record["single_purchase"]["without_cadence"] == int((st.customers["purchase_days"] < 3).sum())
    # the group numbered 1 is the most valuable, and its typical customer buys more often than the last group's
    profiles = run.tables["profiles"]
    assert profiles["value"].is_monotonic_decreasing
    assert profiles["median_frequency"].iloc[0] > profiles["median_frequency"].iloc[-1]


@pytest.mark.slow
def test_uci_online_retail_with_returns_and_wholesalers(config):
    if not UCI.exists():
        pytest.skip("the UCI extract is not on this machine")
    st, run = _run(UCI, "")
    _check_accounts(st, run)
    assert "return_share" in run.record["features"]  # UCI has returns netted against purchases
    share = return_share(st.returns, st.customers)
    assert share.between(0, 1).all() and (share > 0).sum() > 100  # hundreds of customers returned something
    # the feature the stage clusters on is the quarantine's netted returns over returned + kept, customer by
    # customer (the quarantine keeps the input's id text, 17850.0 for the table's 17850)
    pd.testing.assert_series_equal(share, _netted_share(st), check_names=False, rtol=1e-12)
    features = feature_frame(st.customers, None, st.returns)
    np.testing.assert_allclose(features["return_share"].to_numpy(), share.to_numpy(), rtol=1e-12)
    assert run.record["extremes"] > 0  # and a few wholesalers far from everyone else
    shares = run.tables["profiles"]["customer_share"]
    small = shares[shares < config["clusters"]["min_cluster_share"]]
    warned = " ".join(w["en"] for w in run.record["warnings"])
    assert all(f"Cluster {i} " in warned for i in small.index)  # a tiny group is never silent
