"""RFM variants by settings alone, data without amounts, and labels that can be renamed without changing a
number (issue: trust on real data, sections 3 to 5)."""

import numpy as np
import pandas as pd
import pytest

from analysis import segments
from analysis.config import load_config
from analysis.errors import UserError
from tests.segments.test_segments import run_on

# A published-style scheme: R by days (30/60/90/120), F by purchase days (2/3/5/10), M by spend
# (100/250/500/1000); the 8 segments split each score at a fixed 3 ("above 3 is high").
PUBLISHED_STYLE = """
rfm:
  scoring: edges
  frequency: purchase_days
  edges: {recency_days: [30, 60, 90, 120], frequency: [2, 3, 5, 10], monetary: [100, 250, 500, 1000]}
  threshold: fixed
  threshold_on: scores
  threshold_fixed: {recency_days: 3, frequency: 3, monetary: 3}
"""
CUSTOMERS = pd.DataFrame(
    [  # id, days since last purchase, orders, purchase days, spend
        ("a", 10, 12, 10, 1500.0),
        ("b", 45, 3, 3, 300.0),
        ("c", 95, 1, 1, 80.0),
        ("d", 200, 6, 4, 600.0),  # 6 orders on 4 days: F counts the days here
        ("e", 60, 2, 2, 100.0),  # exactly on edges: 60 days is not past 60; 100 reaches 100
        ("f", 121, 5, 5, 999.99),
    ],
    columns=["customer_id", "recency_days", "frequency", "purchase_days", "monetary"],
)
EXPECTED = pd.DataFrame(
    {
        "r_score": [5, 4, 2, 1, 4, 1],
        "f_score": [5, 3, 1, 3, 2, 4],
        "m_score": [5, 3, 1, 4, 2, 4],
        "segment": ["重要价值客户", "一般发展客户", "一般挽留客户", "重要挽留客户", "一般发展客户", "重要保持客户"],
    }
)


@pytest.fixture
def published(tmp_path):
    path = tmp_path / "rfm.yaml"
    path.write_text(PUBLISHED_STYLE, encoding="utf-8")
    return load_config(path)["rfm"]


def test_a_published_style_table_is_reproduced_by_settings_alone(published):
    metrics = segments.rfm_metrics(CUSTOMERS, published)
    scores = segments.rfm_scores(metrics, 5, published["edges"])
    zh, en = segments.chinese_segments(metrics, published, scores)
    got = scores.astype(int).assign(segment=zh.to_numpy())
    pd.testing.assert_frame_equal(got, EXPECTED, check_dtype=False)
    assert en.tolist()[:2] == ["Important value", "Ordinary development"]
    rules = segments.rule_texts({**load_config(), "rfm": published}, segments.chinese_thresholds(
        metrics, published, scores), 30.0)
    assert "by fixed edges" in rules["rfm_scores"]["en"] and "distinct purchase days" in rules["rfm_scores"]["en"]
    assert "score is above the fixed value (3.00, 3.00, 3.00)" in rules["rfm_segments_zh"]["en"]


def test_frequency_as_orders_and_monetary_per_purchase_day(published):
    metrics = segments.rfm_metrics(CUSTOMERS, {**published, "frequency": "orders", "monetary": "per_purchase_day"})
    assert metrics["frequency"].tolist() == [12, 3, 1, 6, 2, 5]
    assert metrics["monetary"].tolist() == pytest.approx([150.0, 100.0, 80.0, 150.0, 50.0, 199.998])
    scores = segments.rfm_scores(metrics, 5, published["edges"])
    assert scores.loc[3, "f_score"] == 4  # 6 orders reach the edge at 5


def test_thresholds_by_median_on_values_and_bad_edges(published):
    metrics = segments.rfm_metrics(CUSTOMERS, published)
    median = segments.chinese_thresholds(metrics, {"threshold": "median", "threshold_on": "values"})
    assert median == {"recency_days": 77.5, "frequency": 3.5, "monetary": 450.0}
    with pytest.raises(UserError, match="rfm.edges needs 4 increasing values"):
        segments.rfm_scores(metrics, 5, {**published["edges"], "monetary": [1, 2, 3]})
    with pytest.raises(UserError, match="set rfm.threshold_fixed for monetary"):
        segments.chinese_thresholds(metrics, {"threshold": "fixed", "threshold_fixed": {"recency_days": 1,
                                                                                       "frequency": 1}})


def _cdnow_customers(lifetimes_datasets, config):
    from analysis.data.pipeline import prepare

    return prepare(str(lifetimes_datasets / "CDNOW_sample.txt"), config, "1998-06-30").customers


def test_without_amounts_the_schemes_fall_back_to_r_and_f_and_abc_ranks_by_orders(lifetimes_datasets, config):
    customers = _cdnow_customers(lifetimes_datasets, config)
    no_money = customers.assign(monetary=np.nan, total_spend=np.nan, avg_order_value=np.nan)
    run = run_on(no_money, config)
    out = run.columns
    assert out["m_score"].isna().all() and out["r_score"].notna().all()
    assert set(out["rfm_segment_zh"]) <= {r["name"][1] for r in config["rfm"]["segments_zh_rf"]}
    assert out["rfm_segment"].isin([r["name"][0] for r in config["rfm"]["segments"]]).all()  # no "Others"
    assert run.record["settings"]["abc_value"] == "orders" and not run.record["has_amounts"]
    # ABC by orders: A is the fewest top customers by orders that reach 80 % of all orders
    orders = np.sort(customers["frequency"].to_numpy())[::-1]
    n_a = int(run.tables["abc"].loc["A", "customers"])
    share = np.cumsum(orders) / orders.sum()
    assert share[n_a - 2] < 0.8 <= share[n_a - 1] or orders[n_a - 1] == orders[n_a - 2]
    summary = run.summary()
    assert "no amounts" in summary and "of the orders" in summary
    assert "没有金额" in run.summary("zh")
    assert "no M score" in run.record["rules"]["rfm_scores"]["en"]


def test_renaming_labels_changes_no_number(lifetimes_datasets, config, tmp_path):
    customers = _cdnow_customers(lifetimes_datasets, config)
    path = tmp_path / "labels.yaml"
    path.write_text("lifecycle:\n  labels:\n    dormant: [sleeping, 休眠]\n    churned: [gone, 已流失]\n"
                    "tiers:\n  labels:\n    vip: [Gold, 金牌客户]\n", encoding="utf-8")
    renamed = load_config(path)
    default_run, renamed_run = run_on(customers, config), run_on(customers, renamed)
    assert renamed_run.record["lifecycle_by_key"] == default_run.record["lifecycle_by_key"]
    assert renamed_run.record["tiers_by_key"] == default_run.record["tiers_by_key"]
    assert default_run.record["lifecycle_by_key"]["dormant"] > 0 and default_run.record["tiers_by_key"]["vip"]
    for lang in ("en", "zh"):
        assert renamed_run.summary(lang) == default_run.summary(lang)
    assert set(renamed_run.columns["lifecycle_stage"]) >= {"sleeping", "gone"}


def test_tier_rules_without_a_catch_all_leave_the_rest_ordinary(lifetimes_datasets, config):
    customers = _cdnow_customers(lifetimes_datasets, config)
    default_run = run_on(customers, config)
    rules = config["tiers"]["rules"]
    assert rules[-1] == {"tier": "ordinary"}  # the default's catch-all, left out below
    cut = {**config, "tiers": {**config["tiers"], "rules": rules[:-1]}}
    run = run_on(customers, cut)
    assert run.columns["tier"].tolist() == default_run.columns["tier"].tolist()
    assert run.record["tiers_by_key"] == default_run.record["tiers_by_key"]
    assert (run.columns["tier"] == config["tiers"]["labels"]["ordinary"][0]).sum() > 0
