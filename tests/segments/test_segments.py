"""Segmentation: exact small cases for every RFM rule (English and Chinese), ABC cut-offs, lifecycle
rules on hand-made histories, tiers and actions, degenerate populations, determinism."""

import numpy as np
import pandas as pd
import pytest

from analysis import segments
from analysis.data.features import customer_features
from analysis.errors import UserError
from analysis.stage import Frames

AS_OF = "2024-12-31"


def run_on(customers: pd.DataFrame, config: dict) -> segments.SegmentsResult:
    """The stage on a customer table of one's own, as an analyst runs it."""
    return segments.run(Frames(customers_table=customers), config)


def table(rows, columns=("customer_id", "recency_days", "frequency", "monetary")):
    return pd.DataFrame(rows, columns=list(columns))


def tx_from(histories: dict[str, list[tuple[str, float]]]) -> pd.DataFrame:
    rows = [
        (cid, f"{cid}-{i}", pd.Timestamp(day), amount)
        for cid, purchases in histories.items()
        for i, (day, amount) in enumerate(purchases)
    ]
    tx = pd.DataFrame(rows, columns=["customer_id", "order_id", "timestamp", "amount"])
    return tx.assign(outlier=False)


# ---------------------------------------------------------------------------------------------
# RFM scores


def test_quantile_scores_on_distinct_values_and_ties():
    assert segments.score(pd.Series(range(10)), 5).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # tied values share a score: the share of customers strictly below them decides it
    tied = segments.score(pd.Series([1, 1, 1, 1, 1, 2, 2, 3, 4, 5]), 5)
    assert tied.tolist() == [1, 1, 1, 1, 1, 3, 3, 4, 5, 5]  # positions 0, 5/9, 7/9, 8/9, 1
    assert segments.score(pd.Series([3.0, 1.0, 2.0]), 5).tolist() == [5, 1, 3]  # few customers still span 1..5
    assert segments.score(pd.Series([7.0, 7.0, 7.0]), 5).tolist() == [3, 3, 3]  # no spread: the middle
    assert np.isnan(segments.score(pd.Series([1.0, np.nan]), 5).iloc[1])


def test_recency_is_inverted_and_one_time_buyers_score_f1():
    customers = table([["a", 1, 1, 10.0], ["b", 30, 1, 20.0], ["c", 300, 1, 30.0]])
    scores = segments.rfm_scores(customers, 5)
    assert scores["r_score"].tolist() == [5, 3, 1]  # the most recent purchase scores highest
    assert scores["f_score"].tolist() == [1, 1, 1]  # everyone bought once: the lowest frequency
    assert scores["m_score"].tolist() == [1, 3, 5]
    with pytest.raises(UserError, match="rfm.bins"):
        segments.rfm_scores(customers, 1)


@pytest.mark.parametrize(
    ("r", "f", "m", "expected"),
    [
        (5, 5, 5, "Champions"),  # also matches Loyal Customers: the first rule wins
        (4, 4, 4, "Champions"),
        (5, 5, 3, "Loyal Customers"),  # frequent and recent, but not the biggest spender
        (3, 4, 1, "Loyal Customers"),
        (2, 5, 5, "Can't Lose Them"),
        (1, 4, 4, "Can't Lose Them"),
        (2, 5, 3, "At Risk"),
        (1, 3, 1, "At Risk"),
        (5, 2, 1, "Potential Loyalist"),
        (4, 3, 5, "Potential Loyalist"),
        (5, 1, 5, "New Customers"),
        (4, 1, 1, "Promising"),
        (3, 3, 2, "Need Attention"),
        (3, 2, 5, "Need Attention"),
        (3, 1, 2, "About To Sleep"),
        (2, 1, 1, "Hibernating"),
        (2, 2, 5, "Hibernating"),
        (1, 1, 1, "Lost"),
        (1, 2, 5, "Lost"),
    ],
)
def test_english_segment_rules(config, r, f, m, expected):
    scores = pd.DataFrame({"r_score": [r], "f_score": [f], "m_score": [m]}, dtype="Int64")
    en, zh = segments.english_segments(scores, config["rfm"])
    assert en.iloc[0] == expected
    labels = {rule["name"][0]: rule["name"][1] for rule in config["rfm"]["segments"]}
    assert zh.iloc[0] == labels[expected]


def test_the_default_table_names_every_score_combination(config):
    grid = pd.DataFrame([(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)],
                        columns=["r_score", "f_score", "m_score"], dtype="Int64")  # fmt: skip
    en, _ = segments.english_segments(grid, config["rfm"])
    assert "Others" not in set(en) and len(set(en)) == 11


def test_unmatched_scores_are_others(config):
    config["rfm"]["segments"] = config["rfm"]["segments"][:1]  # only Champions left
    scores = pd.DataFrame({"r_score": [5, 1], "f_score": [5, 1], "m_score": [5, 1]}, dtype="Int64")
    assert segments.english_segments(scores, config["rfm"])[0].tolist() == ["Champions", "Others"]


CHINESE = table(
    [
        ["c1", 10, 5, 200.0],  # recent, frequent, big: 重要价值
        ["c2", 10, 1, 200.0],  # recent, rare, big: 重要发展
        ["c3", 90, 5, 200.0],  # long ago, frequent, big: 重要保持 (naive code calls this 重要价值)
        ["c4", 90, 1, 200.0],  # 重要挽留
        ["c5", 10, 5, 10.0],  # 一般价值
        ["c6", 10, 1, 10.0],  # 一般发展
        ["c7", 90, 5, 10.0],  # 一般保持
        ["c8", 90, 1, 10.0],  # 一般挽留
    ]
)  # means: recency 50, frequency 3, monetary 105


def test_chinese_eight_segments_with_high_r_meaning_recent(config):
    zh, en = segments.chinese_segments(CHINESE, config["rfm"])
    assert zh.tolist() == [
        "重要价值客户",
        "重要发展客户",
        "重要保持客户",
        "重要挽留客户",
        "一般价值客户",
        "一般发展客户",
        "一般保持客户",
        "一般挽留客户",
    ]
    assert en.tolist()[:3] == ["Important value", "Important development", "Important retention"]


def test_chinese_threshold_median_and_equal_counts_as_low(config):
    customers = table([["a", 10, 2, 50.0], ["b", 20, 2, 50.0], ["c", 30, 9, 500.0]])
    config["rfm"]["threshold"] = "median"  # medians: recency 20, frequency 2, monetary 50
    zh, _ = segments.chinese_segments(customers, config["rfm"])
    assert zh.tolist() == ["一般发展客户", "一般挽留客户", "重要保持客户"]
    config["rfm"]["threshold"] = "mode"
    with pytest.raises(UserError, match="rfm.threshold"):
        segments.chinese_segments(customers, config["rfm"])


def test_bought_yesterday_often_and_much_vs_long_ago_once_and_little(config):
    histories = {f"mid{i}": [("2024-06-01", 40.0 + i), ("2024-09-01", 40.0)] for i in range(8)}
    histories["best"] = [(f"2024-{m:02d}-15", 500.0) for m in range(1, 13)] + [("2024-12-30", 500.0)]
    histories["gone"] = [("2022-01-10", 5.0)]
    customers = customer_features(tx_from(histories), AS_OF)
    run = run_on(customers, config)
    out = run.columns.set_index("customer_id")
    assert tuple(out.loc["best", ["r_score", "f_score", "m_score"]]) == (5, 5, 5)
    assert out.loc["best", ["rfm_segment", "rfm_segment_zh"]].tolist() == ["Champions", "重要价值客户"]
    assert tuple(out.loc["gone", ["r_score", "f_score", "m_score"]]) == (1, 1, 1)
    assert out.loc["gone", ["rfm_segment", "rfm_segment_zh"]].tolist() == ["Lost", "一般挽留客户"]
    assert out.loc["best", "lifecycle_stage"] == "active" and out.loc["gone", "lifecycle_stage"] == "churned"


# ---------------------------------------------------------------------------------------------
# ABC


def test_abc_cut_offs_on_ten_customers():
    value = pd.Series([5.0, 50.0, 1.0, 20.0, 5.0, 10.0, 4.0, 1.0, 3.0, 1.0])
    ids = pd.Series([f"c{i}" for i in range(10)])
    abc = segments.abc_classes(value, ids, {"A": 0.8, "B": 0.95})
    # ranked: 50 20 10 | 5 5 4 3 | 1 1 1; value before each: 0 .5 .7 | .8 .85 .9 .94 | .97 .98 .99
    assert dict(zip(ids, abc["abc_class"], strict=True)) == {
        "c1": "A",
        "c3": "A",
        "c5": "A",
        "c0": "B",
        "c4": "B",
        "c6": "B",
        "c8": "B",
        "c2": "C",
        "c7": "C",
        "c9": "C",
    }
    summary = segments.abc_summary(abc["abc_class"], value)
    assert summary["customers"].tolist() == [3, 4, 3]
    assert summary["value_share"].tolist() == pytest.approx([0.80, 0.17, 0.03])


def test_abc_zero_value_is_c_and_margin_needs_a_margin_column(config):
    abc = segments.abc_classes(pd.Series([10.0, 0.0]), pd.Series(["a", "b"]), {"A": 0.8, "B": 0.95})
    assert abc["abc_class"].tolist() == ["A", "C"]
    with pytest.raises(UserError, match="no margin column"):
        segments.abc_value(table([["a", 1, 1, 5.0]]), {"value": "margin"})
    margin = table(
        [["a", 1, 1, 5.0, 2.0]], columns=("customer_id", "recency_days", "frequency", "monetary", "margin_total")
    )
    assert segments.abc_value(margin, {"value": "margin"}).tolist() == [2.0]
    with pytest.raises(UserError, match="abc.cuts"):
        segments.abc_classes(pd.Series([1.0]), pd.Series(["a"]), {"A": 0.9, "B": 0.5})


def test_pareto_curve_ends_at_one_and_starts_with_the_biggest():
    curve = segments.pareto_curve(pd.Series([1.0, 3.0]))
    assert curve["customer_share"].tolist() == [0.0, 0.5, 1.0]
    assert curve["value_share"].tolist() == [0.0, 0.75, 1.0]


# ---------------------------------------------------------------------------------------------
# lifecycle


def test_lifecycle_on_hand_made_histories(config):
    histories = {
        "new": [("2024-12-01", 10.0)],  # 30 days ago
        "active": [("2024-09-02", 10.0), ("2024-10-02", 10.0), ("2024-11-01", 10.0), ("2024-12-01", 10.0)],
        "dormant": [("2024-07-04", 10.0), ("2024-08-03", 10.0), ("2024-09-02", 10.0), ("2024-10-02", 10.0)],
        "churned": [("2024-01-01", 10.0), ("2024-01-31", 10.0), ("2024-03-01", 10.0)],  # 305 days, gap 30
        "once_recent": [("2024-11-01", 10.0)],  # 60 days: new
        "once_dormant": [("2024-09-15", 10.0)],  # 107 days = 3.6 gaps
        "once_gone": [("2024-06-01", 10.0)],  # 213 days = 7.1 gaps
    }
    customers = customer_features(tx_from(histories), AS_OF)
    stage, population_gap = segments.lifecycle(customers, config["lifecycle"])
    assert population_gap == 30.0  # the median own gap of the customers with a cadence
    assert dict(zip(customers["customer_id"], stage, strict=True)) == {
        "new": "new",
        "active": "active",
        "dormant": "dormant",
        "churned": "churned",
        "once_recent": "new",
        "once_dormant": "dormant",
        "once_gone": "churned",
    }
    config["lifecycle"]["population_gap_days"] = 120  # one-time buyers judged against 120 days instead
    stage, _ = segments.lifecycle(customers, config["lifecycle"])
    assert dict(zip(customers["customer_id"], stage, strict=True))["once_gone"] == "active"


def test_lifecycle_rule_is_stated_in_words(config):
    text = segments.lifecycle_rule_text(config["lifecycle"], 30.0)
    assert "90 days" in text["en"] and "2 x the gap" in text["en"] and "30 days" in text["en"]
    assert "沉睡" in text["zh"] and "90天" in text["zh"]


# ---------------------------------------------------------------------------------------------
# tiers and actions


@pytest.mark.parametrize(
    ("abc", "stage", "segment", "tier"),
    [
        (None, "potential", "No purchase yet", "potential"),
        ("A", "active", "Champions", "vip"),
        ("A", "dormant", "At Risk", "vip"),
        ("A", "churned", "Can't Lose Them", "important"),
        ("B", "dormant", "Need Attention", "important"),
        ("B", "churned", "Lost", "ordinary"),
        ("C", "active", "Loyal Customers", "important"),
        ("C", "new", "New Customers", "potential"),
        ("C", "churned", "Hibernating", "ordinary"),
    ],
)
def test_tier_rules(config, abc, stage, segment, tier):
    keyed = pd.DataFrame({"abc_class": [abc], "lifecycle_stage": [stage], "rfm_segment": [segment]})
    assert segments.match_rules(keyed, config["tiers"]["rules"], "tier").iloc[0] == tier


def test_actions_follow_the_situation_then_the_tier(config):
    histories = {f"c{i}": [("2024-03-01", 10.0), ("2024-04-01", 10.0), ("2024-05-01", 10.0)] for i in range(5)}
    histories["vip_dormant"] = [("2024-08-01", 900.0), ("2024-09-01", 900.0), ("2024-10-01", 900.0)]
    histories["vip_active"] = [("2024-10-01", 900.0), ("2024-11-01", 900.0), ("2024-12-01", 900.0)]
    histories["newbie"] = [("2024-12-20", 5.0)]
    run = run_on(customer_features(tx_from(histories), AS_OF), config)
    out = run.columns.set_index("customer_id")
    assert out.loc["vip_dormant", ["tier", "lifecycle_stage"]].tolist() == ["VIP", "dormant"]
    assert out.loc["vip_dormant", "recommended_action"].startswith("Win back in person")
    assert out.loc["vip_active", "recommended_action"] == config["playbook"]["tiers"]["vip"]["action"][0]
    newbie = out.loc["newbie", ["tier_zh", "recommended_action_zh"]].tolist()
    assert newbie == ["潜在客户", "新客引导：欢迎系列与复购激励"]
    assert out.loc["c0", "recommended_action"].startswith("Low-cost automated win-back")  # churned ordinary
    assert run.record["valuable_slipping"] == 1  # vip_dormant: the one valuable customer slipping away
    assert "**1** valuable customers (VIP and Important tiers) are dormant or churned" in run.summary()


def test_playbook_covers_every_tier_and_segment(config):
    tiers = segments.playbook_table(config)
    assert list(tiers.index) == ["VIP", "Important", "Ordinary", "Potential"]
    assert tiers.notna().all().all() and segments.playbook_table(config, "zh").loc["VIP客户", "owner"] == "大客户经理"
    named = {rule["name"][0] for rule in config["rfm"]["segments"]} | {config["rfm"]["others"][0]}
    assert set(segments.segment_playbook_table(config).index) == named
    assert "冠军客户" in segments.segment_playbook_table(config, "zh").index


# ---------------------------------------------------------------------------------------------
# degenerate populations, customer lists, attributes, determinism


@pytest.mark.parametrize(
    "histories",
    [
        {"solo": [("2024-05-01", 10.0)]},
        {f"c{i}": [("2024-05-01", 10.0)] for i in range(4)},  # identical: same day, once, same amount
        {"a": [("2024-05-01", 10.0)], "b": [("2024-05-01", 0.0)]},  # one with no value
    ],
)
def test_degenerate_populations_give_documented_scores(config, histories):
    run = run_on(customer_features(tx_from(histories), AS_OF), config)
    out = run.columns
    assert out["f_score"].eq(1).all()  # everyone bought once
    if len(histories) > 1 and len({h[0][1] for h in histories.values()}) == 1:
        assert out["r_score"].eq(3).all() and out["m_score"].eq(3).all()  # no spread: the middle score
    assert out["rfm_segment"].notna().all() and out["tier"].notna().all()
    assert abs(run.tables["abc"]["customer_share"].sum() - 1) < 1e-12


def test_customers_without_a_purchase_are_potential(config):
    customers = customer_features(tx_from({"a": [("2024-05-01", 10.0)], "b": [("2024-12-01", 50.0)]}), AS_OF)
    listed = pd.DataFrame(
        {
            "customer_id": ["z"],
            "orders": [0],
            "purchase_days": [0],
            "frequency": [0],
            "total_spend": [0.0],
            "monetary": [0.0],
        }
    )
    run = run_on(pd.concat([customers, listed], ignore_index=True), config)
    z = run.columns.set_index("customer_id").loc["z"]
    assert pd.isna(z["r_score"]) and pd.isna(z["abc_class"])
    assert (z["rfm_segment"], z["rfm_segment_zh"], z["lifecycle_stage"], z["tier"]) == (
        "No purchase yet",
        "尚未购买",
        "potential",
        "Potential",
    )


def test_breakdown_by_region_and_determinism(config):
    rng = np.random.default_rng(3)
    histories = {
        f"c{i:03d}": [
            (f"2024-{rng.integers(1, 13):02d}-10", float(rng.integers(1, 500))) for _ in range(rng.integers(1, 5))
        ]
        for i in range(200)
    }
    customers = customer_features(tx_from(histories), AS_OF)
    customers["region"] = np.where(np.arange(len(customers)) % 3 == 0, "华东", "华南")
    run = run_on(customers, config)
    by_region = run.tables["by_region"]
    assert set(by_region.index) == {"华东", "华南"} and by_region["value_share"].sum() == pytest.approx(1.0)
    assert by_region["customers"].sum() == 200
    mix = run.tables["segments_by_region"].filter(like="segment: ")
    assert mix.sum(axis=1).to_numpy() == pytest.approx([1.0, 1.0])
    east = run.columns[customers["region"].to_numpy() == "华东"]
    assert mix.loc["华东", "segment: Lost"] == pytest.approx((east["rfm_segment"] == "Lost").mean())
    assert by_region.filter(like="tier: ").sum(axis=1).to_numpy() == pytest.approx([1.0, 1.0])
    shuffled = customers.sample(frac=1.0, random_state=1)
    again = run_on(shuffled, config).columns.set_index("customer_id").sort_index()
    pd.testing.assert_frame_equal(again, run.columns.set_index("customer_id").sort_index())


def test_cdnow_every_customer_has_one_label_in_each_scheme(config):
    from analysis.data.pipeline import prepare
    from tests.conftest import CDNOW_MASTER

    prepared = prepare(str(CDNOW_MASTER), config, "1998-06-30")
    run = run_on(prepared.customers, config)
    out = run.columns
    assert len(out) == len(prepared.customers) and out["customer_id"].is_unique
    for col in ("rfm_segment", "rfm_segment_zh", "abc_class", "lifecycle_stage", "tier", "recommended_action"):
        assert out[col].notna().all(), col
    assert set(out["rfm_segment_zh"]) <= {r["name"][1] for r in config["rfm"]["segments_zh"]}
    abc = run.tables["abc"]
    assert abc["value_share"].sum() == pytest.approx(1.0) and abc.loc["A", "value_share"] >= 0.8 - 1e-9
    ranked = np.sort(prepared.customers["monetary"].to_numpy())[::-1]
    share = np.cumsum(ranked) / ranked.sum()
    n_a = int(abc.loc["A", "customers"])
    assert share[n_a - 2] < 0.8 <= share[n_a - 1]  # A is the fewest top customers that reach 80 % of value
    # the CDNOW cohort all first bought in Jan-Mar 1997: nobody is new at mid-1998
    assert run.record["counts"]["lifecycle_stage"].get("new", 0) == 0


def test_customer_list_adds_prospects_and_attributes(tmp_path, config):
    from analysis.data.pipeline import prepare

    sales = tmp_path / "sales.csv"
    sales.write_text(
        "客户编号,订单日期,实付金额\nk1,2024-03-01,100\nk1,2024-06-01,80\nk2,2024-11-20,30\n", encoding="utf-8"
    )
    crm = tmp_path / "crm.csv"
    crm.write_text("客户编号,客户名称,行业\nk1,甲公司,制造\nk2,乙公司,零售\nk3,丙公司,制造\n", encoding="utf-8")
    prepared = prepare(str(sales), config, AS_OF, customers_path=str(crm))
    assert prepared.quality["customer_list"]["never_bought"] == 1
    run = run_on(prepared.customers, config)
    out = run.columns.set_index("customer_id")
    assert out.loc["k3", ["lifecycle_stage_zh", "tier_zh"]].tolist() == ["潜在", "潜在客户"]
    industry = run.tables["by_industry"]
    assert industry.loc["制造", "customers"] == 2 and industry.loc["制造", "value"] == 180.0


def test_a_tier_rule_naming_an_unknown_tier_is_a_clear_error(config):
    config["tiers"]["rules"] = [{"tier": "gold"}]
    customers = customer_features(tx_from({"a": [("2024-05-01", 10.0)]}), AS_OF)
    with pytest.raises(UserError, match="names tier 'gold'"):
        run_on(customers, config)


def test_manager_summary_in_both_languages(config):
    histories = {"big": [("2024-12-01", 900.0), ("2024-12-20", 900.0)], "small": [("2023-01-05", 10.0)]}
    run = run_on(customer_features(tx_from(histories), AS_OF), config)
    en, zh = run.summary(), run.summary("zh")
    assert "**50%** of customers (class A) bring **99%** of the value" in en
    assert "1 are new" in en and "0 customers are dormant and 1 churned" in en
    assert "**50%** 的客户（A类）贡献了 **99%** 的价值" in zh


# ---------------------------------------------------------------------------------------------
# the report: rules in words, JSON, tables in both languages


def test_every_rule_is_stated_in_words_with_the_thresholds_used(config):
    thresholds = {"recency_days": 50.0, "frequency": 3.0, "monetary": 105.0}  # the means of CHINESE
    rules = segments.rule_texts(config, thresholds, 30.0)
    assert set(rules) == {"rfm_scores", "rfm_segments", "rfm_segments_zh", "abc", "lifecycle", "tiers", "actions"}
    assert all(set(text) == {"en", "zh"} for text in rules.values())
    assert "below the buyers' mean (50.0 days: a recent purchase)" in rules["rfm_segments_zh"]["en"]
    assert "均值（50.0天）为R高" in rules["rfm_segments_zh"]["zh"]
    assert "重要保持客户：R低，F高，M高" in rules["rfm_segments_zh"]["zh"]
    assert "Champions: R 4-5, F 4-5, M 4-5; Loyal Customers: R 3-5, F 4-5;" in rules["rfm_segments"]["en"]
    assert "New Customers: R 5, F 1;" in rules["rfm_segments"]["en"]
    assert "under 80% of the total" in rules["abc"]["en"] and "B while under 95%" in rules["abc"]["en"]
    assert "VIP: ABC class is A and lifecycle stage is not churned;" in rules["tiers"]["en"]
    assert "Ordinary: everyone else." in rules["tiers"]["en"]
    assert "ABC分类为A，且生命周期不是流失：VIP客户" in rules["tiers"]["zh"]
    assert "tier is VIP or Important and lifecycle stage is dormant or churned: Win back" in rules["actions"]["en"]
    config["rfm"]["bins"], config["rfm"]["threshold"], config["abc"]["value"] = 4, "median", "margin"
    rules = segments.rule_texts(config, thresholds, 30.0)
    assert "from 1 to 4" in rules["rfm_scores"]["en"] and "中位数（50.0天）" in rules["rfm_segments_zh"]["zh"]
    assert "ranked by margin" in rules["abc"]["en"] and "按毛利" in rules["abc"]["zh"]


def test_report_is_plain_json_and_tables_carry_both_languages(config):
    import json

    histories = {
        "big": [("2024-10-01", 900.0), ("2024-11-01", 900.0), ("2024-12-01", 900.0)],
        "mid": [("2024-06-01", 100.0), ("2024-07-01", 100.0)],
        "small": [("2023-01-05", 10.0)],
    }
    run = run_on(customer_features(tx_from(histories), AS_OF), config)
    report = json.loads(json.dumps(run.record, allow_nan=False))
    assert report["customers"] == report["buyers"] == 3
    assert report["thresholds_zh"] == pytest.approx(
        {"recency_days": (30 + 183 + 726) / 3, "frequency": 2.0, "monetary": (2700 + 200 + 10) / 3}
    )
    assert sum(report["counts"]["tier"].values()) == 3
    tiers = run.tables["tiers"]
    assert list(tiers.index) == ["VIP", "Ordinary"]  # the configured order, not by value
    assert tiers.loc["VIP", "label_zh"] == "VIP客户" and tiers["customer_share"].sum() == pytest.approx(1.0)
    assert run.tables["segments_zh"].loc["重要价值客户", "label_en"] == "Important value"
    assert list(run.tables["lifecycle"].index) == ["active", "churned"]
    assert run.tables["pareto"]["value_share"].tolist() == pytest.approx([0, 2700 / 2910, 2900 / 2910, 1.0])
    assert segments.rules_markdown(run, "abc").startswith("ABC classes:")


def test_nobody_bought_yet_gives_prospects_and_valid_json(config):
    import json

    listed = pd.DataFrame(
        {
            "customer_id": ["p1", "p2"],
            "orders": 0,
            "purchase_days": 0,
            "frequency": 0,
            "total_spend": 0.0,
            "monetary": 0.0,
            "recency_days": np.nan,
            "tenure_days": np.nan,
            "mean_gap_days": np.nan,
        }
    )
    run = run_on(listed, config)
    assert run.columns["tier"].tolist() == ["Potential", "Potential"]
    assert run.columns["abc_class"].isna().all() and run.columns["r_score"].isna().all()
    assert json.loads(json.dumps(run.record, allow_nan=False))["thresholds_zh"]["monetary"] is None
    assert "0 customers are dormant and 0 churned" in run.summary()
    assert "2 customers on the customer list have not bought yet" in run.summary()
    assert "2 位潜在客户尚未购买" in run.summary("zh")


# ---------------------------------------------------------------------------------------------
# the stage contract: one entry, one result shape, every sentence in both languages


def test_the_stage_runs_on_transactions_alone_and_gives_the_contract_result(config):
    histories = {"big": [("2024-12-01", 900.0), ("2024-12-20", 900.0)], "small": [("2023-01-05", 10.0)]}
    tx = tx_from(histories)
    result = segments.run(Frames(transactions=tx, as_of=AS_OF), config)  # the customer table made from them
    assert isinstance(result, segments.SegmentsResult) and result.stage == "segments"
    assert result.json_name == "segments.json" and result.warnings == [] and result.record["warnings"] == []
    same = run_on(customer_features(tx, AS_OF), config)
    pd.testing.assert_frame_equal(result.columns, same.columns)
    assert result.columns["customer_id"].tolist() == ["big", "small"]  # one row per customer, in the table's order
    assert result.summary("zh") == segments.describe.summary(same, "zh")


def test_a_table_the_page_does_not_have_is_named_with_the_ones_it_has(config):
    result = run_on(customer_features(tx_from({"a": [("2024-05-01", 10.0)]}), AS_OF), config)
    with pytest.raises(ValueError, match="no table 'tier'.*tiers, playbook"):
        segments.show.page_table(result, "tier")


def test_without_amounts_the_score_lines_name_r_and_f_only(config):
    config["rfm"]["threshold_on"] = "scores"
    rules = segments.rule_texts(config, {"recency_days": 3.0, "frequency": 2.5, "monetary": float("nan")}, 30.0,
                                amounts=False)  # fmt: skip
    assert "R and F are high when their score is above the buyers' mean (3.00, 2.50);" in rules["rfm_segments_zh"]["en"]
    assert "R、F 得分高于已购买客户的均值（3.00、2.50）为高" in rules["rfm_segments_zh"]["zh"]
    assert "nan" not in rules["rfm_segments_zh"]["en"] + rules["rfm_segments_zh"]["zh"]


def test_every_catalogue_of_the_page_is_keyed_by_id_with_both_languages():
    import re

    from tests.language import has_chinese

    catalogues = (segments.describe.SUMMARY, segments.describe.SCORING, segments.describe.HIGH,
                  segments.describe.RULES, segments.describe.CONDITIONS, segments.describe.COLUMN_WORDS,
                  segments.describe.MEASURES, segments.describe.THRESHOLDS, segments.show.TEXTS,
                  segments.show.HEADERS, segments.plots.TEXTS, segments.plots.TITLES)  # fmt: skip
    for catalogue in catalogues:
        for key, text in catalogue.items():
            assert set(text) == {"en", "zh"} and text["en"] and text["zh"], key
            words = {lang: re.sub(r"\{[^}]*\}", "", text[lang]) for lang in text}  # the words, not the fields
            assert has_chinese(words["zh"]) or not re.search("[a-z]{2,}", words["en"]), key
