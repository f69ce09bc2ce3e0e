"""The pieces of the stage on tiny exact cases: regularity, return share, silhouette, the knee, the choice of k."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import silhouette_score
from sklearn.metrics.pairwise import euclidean_distances

from analysis.clusters.features import feature_frame, regularity, return_share
from analysis.clusters.models import choose_k, knee, silhouette
from analysis.clusters.rules import condition_text, matches


def _tx(rows):
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"]).assign(
        timestamp=lambda f: pd.to_datetime(f["timestamp"], format="ISO8601")
    )


def test_regularity_is_the_spread_of_the_gaps_over_their_mean():
    tx = _tx([
        ("a", "2020-01-01 09:00", 5.0), ("a", "2020-01-01 17:00", 5.0),  # two orders, one purchase day
        ("a", "2020-01-11", 5.0), ("a", "2020-01-31", 5.0),  # gaps 10 and 20 days: mean 15, sd 5
        ("b", "2020-01-01", 5.0), ("b", "2020-01-08", 5.0), ("b", "2020-01-15", 5.0),  # clockwork: 7 and 7
        ("c", "2020-01-01", 5.0), ("c", "2020-03-01", 5.0),  # one gap only: no regularity
        ("d", "2020-01-01", 5.0), ("d", "2020-01-05", 5.0), ("d", "2020-02-01", 5.0),  # the last is after as_of
    ])  # fmt: skip
    reg = regularity(tx, as_of="2020-01-31")
    assert reg["a"] == pytest.approx(5 / 15)
    assert reg["b"] == 0.0
    assert "c" not in reg.index or np.isnan(reg["c"])
    assert "d" not in reg.index or np.isnan(reg["d"])


def test_return_share_is_returned_value_over_returned_plus_kept():
    customers = pd.DataFrame({"customer_id": ["a", "b", "c", "17850"], "monetary": [75.0, 10.0, 0.0, 30.0]})
    # the returned lines as prepared.returns gives them; an id read from a number (17850.0) is the table's 17850
    returns = _tx([("a", "2020-01-02", 20.0), ("a", "2020-01-03", 5.0), ("17850.0", "2020-01-04", 10.0)])
    share = return_share(returns, customers)
    assert share.to_dict() == pytest.approx({"a": 0.25, "b": 0.0, "c": 0.0, "17850": 0.25})
    assert return_share(returns.iloc[:0], customers) is None  # no returns: no feature


def test_feature_frame_keeps_single_purchase_customers_and_says_who_has_a_cadence():
    customers = pd.DataFrame({"customer_id": ["a", "c"], "recency_days": [0.0, 30.0], "frequency": [4, 2],
                              "purchase_days": [3, 2], "monetary": [20.0, 10.0], "tenure_days": [30.0, 90.0],
                              "avg_order_value": [5.0, 5.0]})  # fmt: skip
    tx = _tx([("a", "2020-01-01", 5.0), ("a", "2020-01-11", 5.0), ("a", "2020-01-31", 10.0),
              ("c", "2020-01-01", 5.0), ("c", "2020-03-01", 5.0)])  # fmt: skip
    frame = feature_frame(customers, tx, as_of="2020-03-31")
    assert frame["cadence"].tolist() == [True, False]
    assert frame.loc[0, "regularity"] == pytest.approx(5 / 15) and np.isnan(frame.loc[1, "regularity"])


def test_silhouette_matches_scikit_learn_including_a_customer_alone_in_a_group():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4))
    labels = rng.integers(0, 4, 300)
    labels[7] = 9  # a group of one
    assert silhouette(euclidean_distances(x), labels) == pytest.approx(silhouette_score(x, labels), abs=1e-9)


def test_the_knee_is_the_point_farthest_below_the_chord():
    # scaled: k 0, .25, .5, .75, 1; spread 1, .318, .091, .034, 0; chord minus spread peaks at k = 2
    assert knee(np.arange(1, 6), np.array([100.0, 40.0, 20.0, 15.0, 12.0])) == 2
    assert knee(np.arange(2, 7), np.array([100.0, 90.0, 80.0, 20.0, 10.0])) == 5
    assert knee(np.arange(2, 5), np.array([5.0, 5.0, 5.0])) == 2  # flat: the first k


def test_the_votes_choose_k_and_say_why():
    table = pd.DataFrame({"k": [2, 3, 4, 5], "spread": [100.0, 30.0, 25.0, 22.0], "silhouette": [0.5, 0.6, 0.4, 0.3],
                          "calinski_harabasz": [900.0, 1000.0, 800.0, 700.0],
                          "davies_bouldin": [0.8, 0.9, 0.7, 1.0]}).set_index("k")  # fmt: skip
    k, why, picks = choose_k(table)
    assert picks == {"silhouette": 3, "calinski_harabasz": 3, "davies_bouldin": 4, "elbow": 3}
    assert k == 3 and "3 of 4" in why["en"] and "davies-bouldin 4" in why["en"]
    assert why["zh"] == "：4 项指标中有 3 项（轮廓系数、CH 指数、肘部法则）支持 3 组；其余指标的选择：DB 指数 4"
    k, why, _ = choose_k(table, "davies_bouldin")
    assert k == 4 and why == {"en": "k = 4 because the Davies-Bouldin index (overlap of neighbouring groups) is lowest "
                                    "there (the setting clusters.criterion)",
                              "zh": "：DB 指数在 4 组时最优（设置 clusters.criterion）"}  # fmt: skip


def test_rule_conditions_read_in_whole_days_and_apply_as_written():
    frame = pd.DataFrame({"recency_days": [45.0, 46.0], "monetary": [10.0, 10.01]})
    assert matches(frame, [{"feature": "recency_days", "op": ">", "value": 45.0}]).tolist() == [False, True]
    assert "≥ 46" in condition_text({"feature": "recency_days", "op": ">", "value": 45.0})
    assert "≤ 45" in condition_text({"feature": "recency_days", "op": "<=", "value": 45.0})
    assert "> 10.00" in condition_text({"feature": "monetary", "op": ">", "value": 10.0})
