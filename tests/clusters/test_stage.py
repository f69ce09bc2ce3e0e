"""The clustering stage against truth: planted groups, determinism, rules, degenerate inputs."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from analysis import clusters
from analysis.clusters.rules import assign_by_rules, matches
from analysis.errors import StageDeclined
from analysis.stage import Frames

from .conftest import planted_customers


def _run(customers: pd.DataFrame, config: dict) -> clusters.ClustersResult:
    """The stage on an analyst's own customer table (no transactions: no regularity, no returns)."""
    return clusters.run(Frames(customers_table=customers), config)


def _labels(run) -> np.ndarray:
    return run.columns["cluster"].to_numpy(dtype=float)


def _text(run) -> str:
    return " ".join(w["en"] for w in run.record["warnings"])


def test_planted_groups_are_recovered_and_k_is_chosen_right(fast):
    customers, truth = planted_customers(3000, seed=1, sigma=0.3)
    run = _run(customers, fast)
    assert run.record["k"] == 3
    assert "k = 3" in run.record["k_reason"]["en"] and "支持 3 组" in run.record["k_reason"]["zh"]
    assert adjusted_rand_score(truth, _labels(run)) >= 0.9
    assert run.record["stability"]["mean_ari"] >= 0.9 and run.record["stability"]["stable"]
    json.dumps(run.record)  # JSON-able as it is
    assert list(run.columns.columns) == ["customer_id", *clusters.COLUMN_KINDS]
    assert run.columns["customer_id"].tolist() == customers["customer_id"].tolist()  # the table's order
    assert run.stage == "clusters" and run.json_name == "clusters.json"


def test_names_say_what_the_planted_groups_are(fast):
    customers, truth = planted_customers(3000, seed=2)
    run = _run(customers, fast)
    frame = pd.DataFrame({"truth": truth, "name": run.columns["cluster_name"]})
    name = frame.groupby("truth")["name"].agg(lambda s: s.mode()[0])
    assert "frequent" in name[0].lower() and "lapsed" not in name[0].lower()  # loyal
    assert "lapsed" in name[1].lower() and "one-time" in name[1].lower()  # bought once, long ago
    assert "lapsed" not in name[2].lower() and "cooling" not in name[2].lower()  # first bought a few weeks ago
    assert run.columns["cluster_name"].nunique() == run.columns["cluster_name_zh"].nunique() == 3


def test_wholesalers_do_not_form_a_cluster_by_accident(fast):
    customers, truth = planted_customers(3000, seed=3)
    big = customers.index[:5]  # five loyal customers become wholesalers: a thousand times the spend
    customers.loc[big, ["total_spend", "monetary", "avg_order_value"]] *= 1000
    run = _run(customers, fast)
    assert run.record["k"] == 3
    assert adjusted_rand_score(truth, _labels(run)) >= 0.9
    assert run.record["extremes"] >= 5


def test_two_runs_give_the_same_clusters_and_names(fast):
    customers, _ = planted_customers(2000, seed=4, sigma=0.5)
    first = _run(customers, fast)
    second = _run(customers, fast)
    pd.testing.assert_frame_equal(first.columns, second.columns)
    assert first.record["names"] == second.record["names"]


def test_rules_reproduce_the_assignment_with_their_stated_precision(fast):
    customers, _ = planted_customers(3000, seed=5, sigma=0.5)
    run = _run(customers, fast)
    cluster = run.columns["cluster"].to_numpy(dtype=float)
    assert run.record["rules"], "no rules"
    for rule in run.record["rules"]:
        hit = matches(customers, rule["conditions"])
        assert hit.sum() == rule["customers"]
        assert (cluster[hit] == rule["cluster"]).mean() == pytest.approx(rule["precision"], abs=1e-12)
        assert (hit & (cluster == rule["cluster"])).sum() / (cluster == rule["cluster"]).sum() == pytest.approx(
            rule["coverage"], abs=1e-12
        )
        assert rule["precision"] >= fast["clusters"]["rules"]["min_precision"]
        assert 1 <= len({c["feature"] for c in rule["conditions"]}) <= fast["clusters"]["rules"]["depth"]
    assigned = assign_by_rules(customers, run.record["rules"])
    assert (assigned == cluster).mean() >= 0.9  # a CRM applying the rules gets (nearly) the model's clusters


def test_a_fixed_k_is_used_and_said(fast):
    fast["clusters"]["k"] = 4
    customers, _ = planted_customers(2000, seed=6)
    run = _run(customers, fast)
    assert run.record["k"] == 4 and "clusters.k" in run.record["k_reason"]["en"]
    assert run.record["k_reason"]["zh"] == "（由设置 clusters.k 指定）"
    assert set(run.columns["cluster"].dropna().astype(int)) == {1, 2, 3, 4}


def test_the_gaussian_mixture_option_recovers_the_planted_groups(fast):
    fast["clusters"].update(algorithm="gmm", k=3)
    customers, truth = planted_customers(2000, seed=7)
    run = _run(customers, fast)
    assert adjusted_rand_score(truth, _labels(run)) >= 0.9


def test_an_unstable_grouping_is_flagged(fast):
    fast["clusters"]["stability"]["threshold"] = 1.01  # no grouping reaches it
    customers, _ = planted_customers(1000, seed=8)
    run = _run(customers, fast)
    assert run.record["stability"]["stable"] is False
    assert "not stable" in _text(run)


def test_prospects_get_no_cluster_and_a_clear_label(fast):
    customers, _ = planted_customers(1000, seed=9)
    prospects = pd.DataFrame({"customer_id": ["p1", "p2"], "orders": 0, "purchase_days": 0, "total_spend": 0.0,
                              "frequency": 0, "monetary": 0.0})  # fmt: skip
    run = _run(pd.concat([customers, prospects], ignore_index=True), fast)
    out = run.columns.set_index("customer_id")
    assert out.loc[["p1", "p2"], "cluster"].isna().all()
    label = fast["clusters"]["labels"]["no_purchase"]
    assert (out.loc[["p1", "p2"], "cluster_name"] == label[0]).all()
    assert (out.loc[["p1", "p2"], "cluster_name_zh"] == label[1]).all()
    assert out["cluster"].notna().sum() == 1000 and run.record["clustered"] == 1000


@pytest.mark.parametrize("n", [0, 1, 3, 49])
def test_too_few_buyers_for_groups_decline_with_their_reason(fast, n):
    """A fixed k = 5 with at least 10 customers a group in each resample (63 % distinct) takes 80 buyers."""
    fast["clusters"]["k"] = 5
    assert clusters.fewest_buyers(fast["clusters"]) == 80
    customers, _ = planted_customers(50, seed=10)
    with pytest.raises(StageDeclined) as err:
        _run(customers.head(n), fast)
    said = "No customer has bought yet" if n == 0 else f"Only {n:,} customers have bought"
    assert err.value.reason["en"].startswith(said) and err.value.reason["zh"]
    assert err.value.stage == "clusters" and err.value.columns == clusters.COLUMN_KINDS


def test_identical_customers_decline_as_showing_no_groups(fast):
    customers, _ = planted_customers(200, seed=11)
    same = pd.concat([customers.head(1)] * 200, ignore_index=True).assign(customer_id=[f"s{i}" for i in range(200)])
    with pytest.raises(StageDeclined, match="look the same on every feature") as err:
        _run(same, fast)
    assert "没有可区分的群体" in err.value.reason["zh"]


def _once(customers: pd.DataFrame) -> pd.DataFrame:
    """``customers`` as if each had bought once (the same recency and basket size)."""
    once = customers.assign(orders=1, purchase_days=1, frequency=1, tenure_days=customers["recency_days"])
    once["total_spend"] = once["monetary"] = once["avg_order_value"]
    return once


def test_a_single_purchase_each_declines_as_nothing_but_when_and_how_much(fast):
    """Bought once each, customers differ only in when and how much they bought (the segments page's R and M):
    no repeat behaviour to group by, so the stage declines rather than cut a cloud by date and amount."""
    customers, _ = planted_customers(1000, seed=12)
    with pytest.raises(StageDeclined) as err:
        _run(_once(customers), fast)
    assert err.value.reason["en"].startswith("None of the 1,000 customers bought on more than one day: with one "
                                             "purchase each, they differ only in when they bought")  # fmt: skip
    assert "没有人在一天以上购买过" in err.value.reason["zh"] and err.value.columns == clusters.COLUMN_KINDS


def test_fewer_repeat_buyers_than_a_group_holds_decline(fast):
    customers, _ = planted_customers(1000, seed=12)
    once = _once(customers)
    once.loc[:8, ["orders", "purchase_days", "frequency"]] = 2  # 9 repeat buyers: fewer than the 10 a group holds
    with pytest.raises(StageDeclined, match=r"^Only 9 of the 1,000 customers bought on more than one day, fewer "
                                            r"than the 10 a group holds") as err:  # fmt: skip
        _run(once, fast)
    assert "只有 9 位在一天以上购买过" in err.value.reason["zh"]
    once.loc[:9, ["orders", "purchase_days", "frequency"]] = 2  # 10: enough for a group of them
    assert _run(once, fast).columns["cluster"].notna().all()


def test_the_large_population_path_recovers_the_planted_groups_too(fast):
    """Sampled k search and stability, MiniBatchKMeans for the final fit: the path 1M customers take."""
    fast["clusters"].update(minibatch_threshold=1000, search_sample=1500, silhouette_sample=500, rule_sample=1000)
    customers, truth = planted_customers(4000, seed=13, sigma=0.3)
    run = _run(customers, fast)
    assert run.record["model"] == "MiniBatchKMeans" and run.record["samples"]["search"] == 1500
    assert run.record["k"] == 3
    assert adjusted_rand_score(truth, _labels(run)) >= 0.9
    assert run.record["stability"]["mean_ari"] >= 0.9


def _purchases(n: int = 400, seed: int = 14) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An analyst's own purchases (one to eight each over a year, a few after the as-of date 2024-12-31) and
    returned lines for some of the customers."""
    rng = np.random.default_rng(seed)
    ids = np.repeat([f"c{i:03d}" for i in range(n)], rng.integers(1, 9, n))
    when = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 380, len(ids)), unit="D")
    tx = pd.DataFrame({"customer_id": ids, "order_id": [f"o{i}" for i in range(len(ids))], "timestamp": when,
                       "amount": np.round(rng.lognormal(3.0, 0.6, len(ids)), 2)})  # fmt: skip
    back = tx[tx["timestamp"] <= "2024-12-31"].sample(60, random_state=seed)
    returns = pd.DataFrame({"customer_id": back["customer_id"].to_numpy(), "timestamp": back["timestamp"].to_numpy(),
                            "amount": np.round(back["amount"].to_numpy() / 2, 2)})  # fmt: skip
    return tx, returns


def test_the_stage_reads_the_purchases_returns_and_as_of_date_itself(fast):
    """Given the purchases, the returns and the as-of date, the stage measures regularity (purchases up to the
    as-of date only) and the return share itself: the same groups as a customer table that already has both."""
    tx, returns = _purchases()
    frames = Frames(transactions=tx, as_of="2024-12-31", returns=returns)
    run = clusters.run(frames, fast)
    assert {"regularity", "return_share"} <= set(run.record["features"])
    table = frames.customers
    given = table.assign(regularity=table["customer_id"].map(clusters.regularity(tx, "2024-12-31")),
                         return_share=clusters.return_share(returns, table).to_numpy())  # fmt: skip
    by_hand = _run(given, fast)
    pd.testing.assert_frame_equal(run.columns, by_hand.columns)
    assert run.record["profiles"] == by_hand.record["profiles"]
