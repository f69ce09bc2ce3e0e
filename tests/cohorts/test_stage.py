"""The cohorts stage: its record and sentences on small frames computed by hand (the comparison with the cohort
won a year earlier, the pooled retention, the cohorts' sizes, a period not over), the edge cases (no amounts, less
than two calendar months, one cohort, customers only on the list, attributes present and absent), the settings'
errors, ``cohorts.csv``, and the two reconciliations on CDNOW and on the UCI Online Retail extract."""

import json

import numpy as np
import pandas as pd
import pytest

from analysis import cohorts
from analysis.config import deep_merge
from analysis.data import prepare
from analysis.data.features import customer_features
from analysis.errors import UserError
from analysis.stage import Frames
from tests.conftest import CDNOW_MASTER, UCI
from tests.language import CJK, ENGLISH_WORD


def _tx(rows, region=None):
    frame = pd.DataFrame(rows, columns=["customer_id", "order_id", "timestamp", "amount"])
    frame = frame.assign(timestamp=pd.to_datetime(frame["timestamp"]), amount=frame["amount"].astype(float))
    if region is not None:
        frame["region"] = frame["customer_id"].map(region)
    return frame


def _year_of_cohorts() -> pd.DataFrame:
    """Cohorts of January 2023 and of January 2024 (and one customer each month between): of January 2023's four
    customers two buy three months later (April 2023), of January 2024's five one does (April 2024)."""
    rows = []
    for i in range(4):
        rows.append((f"old{i}", f"o{i}", "2023-01-10", 10.0))
    rows += [("old0", "o90", "2023-04-02", 6.0), ("old1", "o91", "2023-04-20", 4.0)]
    for m in range(2, 13):
        rows.append((f"m{m}", f"m{m}", f"2023-{m:02d}-15", 1.0))
    for i in range(5):
        rows.append((f"new{i}", f"n{i}", "2024-01-05", 20.0))
    rows += [("new0", "n90", "2024-04-30", 5.0)]
    return _tx(rows)


def test_the_headline_compares_with_the_cohort_won_a_year_earlier(config):
    result = cohorts.run(Frames(_year_of_cohorts(), as_of="2024-05-31"), config)
    c = result.record["summary"]["comparison"]
    assert (c["kind"], c["period"], c["recent"], c["earlier"]) == ("year", 3, "2024-01-01", "2023-01-01")
    assert c["retention_recent"] == pytest.approx(1 / 5) and c["retention_earlier"] == pytest.approx(2 / 4)
    assert c["value_recent"] == pytest.approx((5 * 20 + 5) / 5) and c["value_earlier"] == pytest.approx(50 / 4)
    headline = result.record["sentences"][0]
    assert headline["en"].startswith(
        "**20%** of the customers won in 2024-01 bought again 3 months later (2024-04), "
        "against **50%** of those won a year earlier (2023-01)."
    )
    assert "21.00" in headline["en"] and "12.50" in headline["en"]
    assert headline["zh"].startswith("2024年1月获得的新客户中，**20%** 在 3 个月后（2024年4月）再次购买")
    assert result.summary("en").startswith("- **20%**")


def test_the_cohorts_sizes_against_the_year_before(config):
    result = cohorts.run(Frames(_year_of_cohorts(), as_of="2024-05-31"), config)
    sizes = result.record["summary"]["sizes"]
    # the latest month over is May 2024, in which nobody was won (no cohort: the fall to none is what the page
    # says); the 12 months before it, May 2023 to April 2024: 8 x 1 (May to December), 5 (January), 0, 0, 0
    assert sizes == {"latest": "2024-05-01", "latest_customers": 0, "before": 12, "mean_before": pytest.approx(13 / 12)}
    assert any(t["en"].startswith("**0** new customers were won in") for t in result.record["sentences"])


def test_pooled_retention_counts_the_same_cohorts_at_both_periods(config):
    tx = _tx([("a", "1", "2024-01-05", 10.0), ("b", "2", "2024-01-06", 10.0), ("a", "3", "2024-02-05", 1.0),
              ("b", "4", "2024-04-05", 1.0), ("c", "5", "2024-03-05", 5.0), ("c", "6", "2024-04-06", 5.0)])  # fmt: skip
    facts = cohorts.run(Frames(tx, as_of="2024-04-30"), config).record["summary"]
    # k = 3: only January's cohort has April over; of its two customers one bought in February, one in April
    assert (facts["k"], facts["cohorts_k"], facts["customers_k"]) == (3, 1, 2)
    assert facts["retention_1"] == 0.5 and facts["retention_k"] == 0.5
    assert facts["value_k"] == pytest.approx(11.0)  # (10 + 10 + 1 + 1) / 2
    assert facts["thin"] and facts["last_period_complete"]


def test_a_period_not_over_is_said_and_left_out(config):
    tx = _tx([("a", "1", "2024-01-05", 10.0), ("a", "2", "2024-02-05", 1.0), ("b", "3", "2024-02-06", 4.0),
              ("a", "4", "2024-03-05", 1.0), ("b", "5", "2024-03-06", 4.0)])  # fmt: skip
    result = cohorts.run(Frames(tx, as_of="2024-03-10"), config)
    facts = result.record["summary"]
    assert not facts["last_period_complete"] and facts["k"] == 1  # March is not over: period 2 is not counted yet
    assert facts["retention_1"] == 1.0 and facts["cohorts_k"] == 1  # January's a bought in February
    assert any("(2024-03) is not over yet (the data ends on 2024-03-10)" in w["en"] for w in result.warnings)
    assert result.tables["matrix"]["complete"].tolist() == [True, True, False, True, False]


def test_without_amounts_the_page_counts_orders_and_says_revenue_is_absent(config):
    tx = _year_of_cohorts().assign(amount=np.nan)
    result = cohorts.run(Frames(tx, as_of="2024-05-31"), config)
    record = result.record
    assert record["summary"]["revenue"] is None and record["reconciliation"]["revenue"] is None
    assert record["reconciliation"]["customers_match"]
    assert record["warnings"][0]["en"].startswith("The data has no amounts, so revenue is absent")
    headline = record["sentences"][0]["en"]
    assert "orders on average" in headline and "1.20" in headline  # (5 + 1) / 5 orders by April 2024
    table = cohorts.show.page_table(result, "cohorts", "en").data
    assert not [c for c in table.columns if "Revenue" in c]
    frame = cohorts.csv_frame(result.tables["matrix"])
    assert frame["revenue"].isna().all() and frame["orders"].sum() == len(tx)


def test_less_than_two_calendar_months_is_said_and_the_stage_runs(config):
    tx = _tx([("a", "1", "2024-03-15", 10.0), ("b", "2", "2024-03-20", 5.0), ("a", "3", "2024-04-02", 1.0)])
    result = cohorts.run(Frames(tx, as_of="2024-04-30"), config)
    assert result.record["summary"]["short_history"]
    assert [s["en"] for s in result.record["sentences"]] == [
        "The data covers less than two calendar months (2024-03-15 to 2024-04-30): too short to see whether "
        "customers come back. The cohort tables are shown as they stand."]  # fmt: skip
    assert CJK.search(result.record["sentences"][0]["zh"])
    assert result.record["reconciliation"]["customers_match"] and result.record["reconciliation"]["revenue_match"]


@pytest.mark.parametrize(("first", "as_of", "short"), [("2024-03-01", "2024-04-30", False),
                                                        ("2024-03-15", "2024-04-30", True),
                                                        ("2024-03-15", "2024-05-14", False),
                                                        ("2024-01-31", "2024-03-29", True)])  # fmt: skip
def test_two_calendar_months(first, as_of, short):
    assert cohorts.short_history(pd.Timestamp(first), pd.Timestamp(as_of)) is short


def test_one_cohort_is_a_thin_comparison(config):
    tx = _tx([("a", "1", "2024-01-05", 10.0), ("b", "2", "2024-01-06", 10.0), ("a", "3", "2024-03-05", 1.0),
              ("b", "4", "2024-05-05", 2.0)])  # fmt: skip
    result = cohorts.run(Frames(tx, as_of="2024-06-30"), config)
    first = result.record["sentences"][0]
    assert first["en"].startswith("All 2 customers were won in one month (2024-01): there is no other cohort")
    assert first["zh"].startswith("全部 2 位客户都是在同一月（2024年1月）获得的")
    assert result.record["summary"]["comparison"] is None


def test_customers_only_on_the_list_belong_to_no_cohort(config):
    tx = _year_of_cohorts()
    table = customer_features(tx, pd.Timestamp("2024-05-31"))
    listed = pd.DataFrame({"customer_id": ["x1", "x2"], "orders": [0, 0], "total_spend": [0.0, 0.0]})
    table = pd.concat([table, listed], ignore_index=True)
    result = cohorts.run(Frames(tx, as_of="2024-05-31", customers_table=table), config)
    r = result.record["reconciliation"]
    assert (r["customers_acquired"], r["buyers_in_table"], r["customers_listed_only"]) == (20, 20, 2)
    assert r["customers_match"] and r["revenue_match"] and r["revenue_kept_source"] == "customer table"
    assert any(w["en"].startswith("2 customers on the customer list have not bought yet") for w in result.warnings)
    assert len(result.columns) == len(table)


def test_attributes_give_the_same_view_for_the_largest_groups(config):
    region = {"a": "North", "b": "North", "c": "South", "d": "South", "e": "East"}
    tx = _tx([("a", "1", "2024-01-05", 10.0), ("b", "2", "2024-01-06", 10.0), ("c", "3", "2024-01-07", 4.0),
              ("d", "4", "2024-02-07", 4.0), ("e", "5", "2024-02-08", 1.0), ("a", "6", "2024-02-05", 1.0),
              ("c", "7", "2024-03-01", 2.0), ("d", "8", "2024-03-02", 2.0)], region)  # fmt: skip
    cfg = deep_merge(config, {"cohorts": {"min_group_customers": 2, "attribute_groups": 2}})
    result = cohorts.run(Frames(tx, as_of="2024-03-31"), cfg)
    table = result.tables["by_region"]
    assert list(table.index) == ["North", "South"]  # East has one customer won: below min_group_customers
    assert table.loc["North", "customers"] == 2 and table.loc["North", "retention_1"] == 0.5  # a in February
    # the summary compares at period 2 (March is the latest month over for January's cohort): only the cohorts
    # observed that long count, January's. South: c (January) bought in March, not February; d (February) is
    # counted among the customers won, not in the shares
    assert result.record["summary"]["k"] == 2 and table.loc["South", "customers"] == 2
    assert table.loc["South", "retention_1"] == 0.0
    assert table.loc["South", "curve"] == {0: 1.0, 1: 0.0, 2: 1.0}
    assert result.record["summary"]["attributes"] == ["region"]
    assert cohorts.describe.no_attributes_text(result, "en") == ""
    shown = cohorts.show.page_table(result, "by_region", "zh").data
    assert all(CJK.search(str(c)) for c in shown.columns)
    bare = cohorts.run(Frames(tx.drop(columns="region"), as_of="2024-03-31"), cfg)
    assert not [t for t in bare.tables if t.startswith("by_")]
    assert cohorts.describe.no_attributes_text(bare, "zh").startswith("数据中没有可拆分的客户属性")


def test_the_chinese_summary_and_tables_have_no_english_left(config):
    result = cohorts.run(Frames(_year_of_cohorts(), as_of="2024-05-20"), config)
    text = result.summary("zh")
    assert CJK.search(text) and not ENGLISH_WORD.search(text), text
    assert len(result.record["sentences"]) >= 3 and result.warnings
    for name in ("cohorts", "reconciliation"):
        frame = cohorts.show.page_table(result, name, "zh").data
        headers = [str(c) for c in frame.columns] + [str(frame.index.name or "")]
        assert all(CJK.search(h) for h in headers), headers
        assert all(CJK.search(str(i)) for i in frame.index), list(frame.index)


@pytest.mark.parametrize(("setting", "value", "message"), [
    ("period", "year", "cohorts.period must be one of month, week, quarter, not 'year'"),
    ("max_cohorts_shown", 0, "cohorts.max_cohorts_shown must be a whole number of at least 1, not 0"),
    ("compare_period", {"month": 0}, "cohorts.compare_period.month must be a whole number of at least 1, not 0"),
])  # fmt: skip
def test_a_bad_setting_is_one_clear_line(config, setting, value, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cohorts.run(Frames(_year_of_cohorts(), as_of="2024-05-31"), deep_merge(config, {"cohorts": {setting: value}}))


def test_cohorts_csv_has_exactly_the_issues_columns(tmp_path, config):
    result = cohorts.run(Frames(_year_of_cohorts(), as_of="2024-05-31"), config)
    path = cohorts.write_csv(result, tmp_path, config)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(path, encoding="utf-8-sig")
    assert list(frame.columns) == ["cohort", "period", "customers", "active_customers", "retention", "orders",
                                   "revenue", "revenue_per_customer", "cumulative_revenue_per_customer"]  # fmt: skip
    assert frame["cohort"].iloc[0] == "2023-01-01" and frame.loc[frame["period"] == 0, "customers"].sum() == 20
    assert frame["revenue"].sum() == pytest.approx(_year_of_cohorts()["amount"].sum())
    json.dumps(result.record, allow_nan=False)  # the record is JSON as written


@pytest.mark.slow
@pytest.mark.parametrize("source", ["cdnow", "uci"])
def test_reconciliations_on_real_data(config, source):
    """Period 0's customers summed over cohorts are the customer table's, the matrix's revenue the revenue the
    data-quality stage kept (quality.json's amount_kept); by week and quarter too."""
    if source == "uci" and not UCI.is_file():
        pytest.skip(f"{UCI} not available")
    p = prepare(str(CDNOW_MASTER), config, "1998-06-30", None) if source == "cdnow" else \
        prepare(str(UCI), config, None, None)  # fmt: skip
    for period in ("month", "week", "quarter"):
        result = cohorts.run(p, deep_merge(config, {"cohorts": {"period": period}}))
        r = result.record["reconciliation"]
        assert r["customers_acquired"] == len(p.customers) == p.quality["customers"], period
        assert r["revenue_kept_source"] == "quality.json" and r["revenue_kept"] == p.quality["amount_kept"]
        assert r["revenue"] == pytest.approx(p.quality["amount_kept"], abs=0.005) and r["revenue_match"], period
        matrix = result.tables["matrix"]
        assert matrix["orders"].sum() >= p.customers["orders"].sum()  # an order is counted in each period it spans
        assert (matrix["retention"].between(0, 1)).all()
    if source == "cdnow":  # every customer was won in January to March 1997
        assert result.record["summary"]["cohorts"] == 1 and result.record["summary"]["thin"]
    else:
        assert "by_country" in result.tables
