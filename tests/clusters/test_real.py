"""The stage on real data read through the project's own data spine: CDNOW master and the UCI Online Retail extract."""

import json

import numpy as np
import pytest

from analysis import clusters
from analysis.clusters.features import return_share
from analysis.config import load_config
from analysis.report import open_stage

from ..conftest import CDNOW_MASTER, UCI

SMALL = {"clusters": {"k_range": [2, 5], "stability": {"resamples": 3}, "silhouette_sample": 2000}}


def _run(path, as_of):
    st = open_stage(input_path=str(path), as_of=as_of)
    config = load_config(overrides=SMALL)
    raw_id = st.quality["mapping"]["customer_id"]  # the quarantine keeps the input's own headers
    run = clusters.run_clusters(st.customers, config, transactions=st.transactions, as_of=st.as_of,
                                quarantine=st.quarantine, quarantine_id=raw_id)  # fmt: skip
    return st, run


def _check_accounts(st, run):
    """Sizes and values of the profiles add up to what the transactions say, customer by customer."""
    customers = st.customers.merge(run.customers, on="customer_id", validate="one_to_one")
    spend = st.transactions.groupby("customer_id")["amount"].sum()
    value = customers.assign(spend=customers["customer_id"].map(spend)).groupby("cluster")["spend"].sum()
    profiles = run.tables["profiles"]
    assert profiles["customers"].sum() == run.report["clustered"] == customers["cluster"].notna().sum()
    np.testing.assert_allclose(profiles["value"].to_numpy(), value.reindex(profiles.index).to_numpy(), rtol=1e-9)
    assert profiles["value_share"].sum() == pytest.approx(1.0)
    names = [n["en"] for n in run.report["names"].values()] + [n["zh"] for n in run.report["names"].values()]
    assert len(set(names)) == len(names)
    json.dumps(run.report)
    return customers


@pytest.mark.slow
def test_cdnow_master(config):
    st, run = _run(CDNOW_MASTER, "1998-06-30")
    customers = _check_accounts(st, run)
    assert len(customers) == 23_570 and customers["cluster"].notna().all()
    assert 2 <= run.report["k"] <= 5
    # single-purchase treatment: exactly the customers with fewer than three purchase days have no cadence
    assert run.report["single_purchase"]["without_cadence"] == int((st.customers["purchase_days"] < 3).sum())
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
    assert "return_share" in run.report["features"]  # UCI has returns netted against purchases
    share = return_share(st.quarantine, st.customers, st.quality["mapping"]["customer_id"])
    assert share.between(0, 1).all() and (share > 0).sum() > 100  # hundreds of customers returned something
    assert run.report["extremes"] > 0  # and a few wholesalers far from everyone else
    shares = run.tables["profiles"]["customer_share"]
    small = shares[shares < config["clusters"]["min_cluster_share"]]
    warned = " ".join(w["en"] for w in run.report["warnings"])
    assert all(f"Cluster {i} " in warned for i in small.index)  # a tiny group is never silent
