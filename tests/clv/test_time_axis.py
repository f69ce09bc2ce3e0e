"""The time axis through the CLV stage (issue 19, parts 2 and 3; clv.monthly_run): the months of forecast.csv add
up to the page's per-customer totals in total, per tier and per RFM segment of the customer table; the monthly
backtest adds up to the backtest's holdout and is in clv.json and clv_models.json with the new customer's value;
forecast.csv is written as the run's other CSV files; the edge cases (under two calendar months of history, a
mid-month as-of date, no amounts) run through the stage and say so; a new customer's value per covariate level is
the model's at that level's coefficients."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis import clv
from analysis.clv import backtest_months, monthly, monthly_run
from analysis.clv.covariate_design import design_matrix
from analysis.clv.models import PurchaseModel
from analysis.clv.new_customer import new_customer_value
from analysis.clv.simulate import simulate_transactions
from analysis.config import load_config
from analysis.data.features import customer_features
from analysis.stage import Frames

AS_OF = "2023-06-30"
TIERS = {"VIP": "VIP客户", "Important": "重要客户", "Ordinary": "普通客户"}
SEGMENTS = {"Champions": "冠军客户", "Lost": "已流失客户"}


def settings(**clv_settings):
    return load_config(overrides={"clv": {"models": ["bgnbd", "pareto"], "bootstrap": {"n": 4, "seed": 1},
                                          **clv_settings}})  # fmt: skip


def with_segments(customers: pd.DataFrame) -> pd.DataFrame:
    """The customer table as the segments page leaves it: a tier and an RFM segment for each customer who bought,
    with their Chinese names (some customers without an RFM segment)."""
    n = len(customers)
    tier = np.array(list(TIERS))[np.arange(n) % 3]
    segment = np.array([*SEGMENTS, None], dtype=object)[np.arange(n) % 3]
    return customers.assign(tier=tier, tier_zh=pd.Series(tier).map(TIERS).to_numpy(), rfm_segment=segment,
                            rfm_segment_label_zh=pd.Series(segment).map(SEGMENTS).to_numpy())  # fmt: skip


@pytest.fixture(scope="module")
def shop():
    """Simulated purchases (BG/NBD, Gamma-Gamma) to the as-of date and the customer table with segments."""
    tx = simulate_transactions(1500, start="2022-01-01", end="2023-12-31", seed=5)
    tx = tx[tx["timestamp"] < pd.Timestamp(AS_OF) + pd.Timedelta(days=1)].reset_index(drop=True)
    return tx, with_segments(customer_features(tx, AS_OF))


@pytest.fixture(scope="module")
def result(shop):
    tx, customers = shop
    return clv.run(Frames(tx, as_of=AS_OF, customers_table=customers), settings())


def test_the_months_add_up_to_the_page_s_totals_in_total_per_tier_and_per_segment(result, shop):
    _, customers = shop
    months = result.tables["forecast"]
    assert list(months.columns) == list(monthly.FORECAST_COLUMNS)
    assert set(months["group_by"]) == {"all", "tier", "rfm_segment"}
    assert (months.groupby(["group_by", "group"]).size() == 12).all()  # a month-end as-of date: 12 whole months
    assert list(months["month"][:2]) == ["2023-07-01", "2023-08-01"]
    scores = result.columns.merge(customers[["customer_id", "tier", "rfm_segment"]], on="customer_id")
    scores["revenue"] = scores["expected_purchases"] * scores["expected_spend"]  # undiscounted, no margin
    total = months[months["group_by"] == "all"]
    assert total["expected_purchases"].sum() == pytest.approx(result.record["clv"]["total_expected_purchases"],
                                                              rel=1e-9)  # fmt: skip
    assert total["expected_revenue"].sum() == pytest.approx(scores["revenue"].sum(), rel=1e-9)
    for column in ("tier", "rfm_segment"):
        sums = months[months["group_by"] == column].groupby("group")[["expected_purchases", "expected_revenue"]].sum()
        truth = scores.groupby(column)[["expected_purchases", "revenue"]].sum()
        assert set(sums.index) == set(truth.index)
        np.testing.assert_allclose(sums.loc[truth.index].to_numpy(), truth.to_numpy(), rtol=1e-9)
    low, high, point = months["expected_revenue_low"], months["expected_revenue_high"], months["expected_revenue"]
    assert low.notna().all() and (low < point).all() and (point < high).all()  # a range around each month's value
    assert ((high - low) / point).between(0.001, 0.5).all()  # of some width, but not the whole axis
    quarter = result.record["forecast_quarter"]
    assert quarter["expected_revenue"] == pytest.approx(total["expected_revenue"][:3].sum(), rel=1e-9)
    assert quarter["customers"] == len(result.fit_summary)


def test_the_monthly_backtest_adds_up_to_the_holdout_and_is_recorded(result):
    record = json.loads(json.dumps(result.record, allow_nan=False))  # clv.json as written: JSON, no NaN
    rows, chosen = record["monthly_backtest"], record["chosen_model"]
    assert record["monthly_backtest_model"] == chosen and len(rows) >= 2
    metrics = result.backtest.metrics.loc[chosen]
    assert sum(r["actual_purchases"] for r in rows) == metrics["total_actual"]
    assert sum(r["forecast_purchases"] for r in rows) == pytest.approx(metrics["total_predicted"], rel=1e-9)
    assert sum(r["actual_revenue"] for r in rows) == pytest.approx(metrics["spend_total_actual"], rel=1e-9)
    errors = [abs(r["forecast_purchases"] / r["actual_purchases"] - 1) * 100 for r in rows]
    assert record["mape_purchases"] == pytest.approx(np.mean(errors), rel=1e-9)
    first = result.backtest.calibration_end + pd.Timedelta(days=1)  # the holdout's first day, mid-month here
    assert rows[0]["month"] == first.replace(day=1).date().isoformat() and rows[0]["partial"] == (first.day != 1)
    models = clv.models_record(record)
    assert models["monthly_backtest"] == rows and models["mape_revenue"] == record["mape_revenue"]
    new = models["new_customer"]
    assert new["expected_value"] == pytest.approx(new["expected_purchases"] * new["expected_spend_per_purchase"],
                                                  rel=0.1)  # discounted at 1 % a month: a little less  # fmt: skip
    assert new["expected_value"] < new["expected_purchases"] * new["expected_spend_per_purchase"]


def test_the_error_of_a_total_in_words():
    assert backtest_months.error_words(-15.74) == {"en": "15.7% too low", "zh": "低估 15.7%"}
    assert backtest_months.error_words(3.04) == {"en": "3.0% too high", "zh": "高估 3.0%"}
    assert backtest_months.error_words(0.01)["en"] == "on target"
    assert backtest_months.error_words(float("nan"))["en"] == "against none bought"


def test_the_page_and_the_summary_say_it_in_each_language(result):
    record = result.record
    for lang in ("en", "zh"):
        page = monthly_run.forecast_markdown(result, lang)
        assert record["forecast_quarter"]["text"][lang] in page and record["forecast_quarter"]["scope"][lang] in page
        assert "forecast.csv" in page
        assert monthly_run.backtest_markdown(result, lang) == record["monthly_backtest_text"][lang]
        assert monthly_run.new_customer_markdown(result, lang) == record["new_customer"]["text"][lang]
        summary = result.summary(lang)
        assert record["forecast_quarter"]["text"][lang] in summary and record["new_customer"]["text"][lang] in summary
    direction = "too low" if record["total_error_revenue_pct"] < 0 else "too high"
    said = f"put the period's total {abs(record['total_error_revenue_pct']):.1f}% {direction}"
    assert said in record["monthly_backtest_text"]["en"]
    assert "today's 1,500 customers only" in monthly_run.forecast_markdown(result, "en")
    assert "1,500 位客户" in monthly_run.forecast_markdown(result, "zh")
    assert monthly_run.group_labels(result, "tier", "zh") == TIERS
    assert monthly_run.has_groups(result, "rfm_segment")


def test_forecast_csv_is_written_as_the_run_s_other_csv_files(result, tmp_path, config):
    path = monthly_run.write_forecast(result, tmp_path, config)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf" + b"month,group_by,group,expected_purchases,expected_revenue,")
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert list(back.columns) == list(monthly.FORECAST_COLUMNS) and len(back) == len(result.tables["forecast"])
    frame = result.tables["forecast"]
    np.testing.assert_allclose(back["expected_revenue"], frame["expected_revenue"], atol=0.005)
    np.testing.assert_allclose(back["expected_purchases"], frame["expected_purchases"], atol=0.00005)
    assert (back["expected_revenue"] == back["expected_revenue"].round(2)).all()


def test_under_two_months_of_history_and_a_mid_month_as_of_date_the_run_succeeds_and_says_so():
    """Six weeks of purchases to 15 June: the holdout is three weeks, no monthly backtest (said); the first month
    is the rest of June, labelled so, the last one June 2024 up to the 15th."""
    tx = simulate_transactions(800, (0.9, 2.0, 0.8, 2.4), start="2023-05-01", end="2023-06-15", acquisition_days=20,
                               seed=2)  # fmt: skip
    result = clv.run(Frames(tx, as_of="2023-06-15"), settings())
    record = result.record
    assert record["monthly_backtest"] == []
    assert "shorter than two calendar months" in record["monthly_backtest_text"]["en"]
    assert "不足两个自然月" in record["monthly_backtest_text"]["zh"]
    months = record["monthly_forecast"]["months"]
    assert len(months) == 13 and months[0]["partial"] and months[-1]["partial"]
    assert months[0]["label"] == {"en": "Jun 2023 (from 16 Jun)", "zh": "2023年6月（16日起）"}
    assert months[0]["first_day"] == "2023-06-16" and months[-1]["last_day"] == "2024-06-15"
    forecast = result.tables["forecast"]
    assert forecast["month"].iloc[0] == "2023-06-01" and set(forecast["group_by"]) == {"all"}  # no segments page
    total = forecast["expected_purchases"].sum()
    assert total == pytest.approx(record["clv"]["total_expected_purchases"], rel=1e-9)
    page = monthly_run.forecast_markdown(result, "en")
    assert "the first month is the rest of Jun 2023" in page and "the last one the days of Jun 2024" in page
    assert "第一个月只含2023年6月剩余的日子" in monthly_run.forecast_markdown(result, "zh")


def test_without_amounts_the_time_axis_has_purchases_only_and_says_so(shop, tmp_path, config):
    tx = shop[0].assign(amount=np.nan)
    customers = with_segments(customer_features(tx, AS_OF))
    result = clv.run(Frames(tx, as_of=AS_OF, customers_table=customers), settings())
    forecast, record = result.tables["forecast"], result.record
    assert forecast["expected_revenue"].isna().all() and forecast["expected_revenue_low"].isna().all()
    assert forecast["expected_purchases"].notna().all()
    assert forecast[forecast["group_by"] == "all"]["expected_purchases"].sum() == pytest.approx(
        record["clv"]["total_expected_purchases"], rel=1e-9
    )
    assert "no amounts" in record["forecast_quarter"]["text"]["en"]
    assert "no amounts" in record["monthly_backtest_text"]["en"] and record["monthly_backtest"]
    assert "no amounts" in record["new_customer"]["text"]["en"] and "没有金额" in record["new_customer"]["text"]["zh"]
    assert "revenue is absent" in monthly_run.forecast_markdown(result, "en")
    assert "没有收入" in monthly_run.forecast_markdown(result, "zh")
    back = pd.read_csv(monthly_run.write_forecast(result, tmp_path, config), encoding="utf-8-sig")
    assert back["expected_revenue"].isna().all() and back["expected_purchases"].notna().all()


# a new customer per covariate level ------------------------------------------------------------------------------
PARAMS = (0.243, 4.414, 0.793, 2.426)
FAST = (0.243, 4.414 / 2, 0.793, 2.426)  # the second region buys twice as often


@pytest.fixture(scope="module")
def two_regions():
    """Customers of two regions (BG/NBD; "south" with half the purchase-rate scale), a CLV model with the region
    in both processes fitted on them, and its design."""
    a = simulate_transactions(2500, PARAMS, seed=4, start="2023-01-01", end="2024-06-30")
    b = simulate_transactions(2500, FAST, seed=5, start="2023-01-01", end="2024-06-30")
    b = b.assign(customer_id="b" + b["customer_id"], order_id="b" + b["order_id"])
    tx = pd.concat([a, b], ignore_index=True)
    from analysis.data.features import lifetimes_summary

    summary = lifetimes_summary(tx, "2024-06-30")
    region = pd.DataFrame({"region": np.where(summary.index.str.startswith("b"), "south", "north")},
                          index=summary.index)  # fmt: skip
    design = design_matrix(region, {"trans": ["region"], "life": ["region"], "constrain": [], "penalty": 0.0,
                                    "max_levels": 20})  # fmt: skip
    covariates = {"trans": design.trans, "life": design.life, "constrain": [], "penalty": 0.0}
    model = clv.CLVModel("bgnbd", covariates=covariates, n_bootstrap=20, random_state=1)
    return model.fit(summary.join(design.frame)), design


def test_a_new_customer_per_level_is_the_model_at_that_level_s_coefficients(two_regions):
    model, design = two_regions
    entry = monthly_run.new_customer(model, design)
    rows = {r["level"]: r for r in entry["by_covariate"]}
    assert set(rows) == {"north", "south"} and rows["north"]["reference"] and not rows["south"]["reference"]
    pm = model.purchase_model_
    r, alpha, a, b = pm.params_.to_numpy(float)
    g_trans, g_life = pm.coefficients_["trans.region=south"], pm.coefficients_["life.region=south"]
    for level, x in (("north", 0.0), ("south", 1.0)):  # CLVTools: alpha exp(-g x), a and b exp(g x)
        plain = PurchaseModel.from_params("bgnbd", [r, alpha * np.exp(-g_trans * x), a * np.exp(g_life * x),
                                                    b * np.exp(g_life * x)])  # fmt: skip
        truth = new_customer_value(plain, model.spend_model_, 12, 0.01)
        assert rows[level]["expected_purchases"] == pytest.approx(truth["expected_purchases"], rel=1e-9)
        assert rows[level]["expected_value"] == pytest.approx(truth["expected_value"], rel=1e-9)
        low, high = rows[level]["expected_value_low"], rows[level]["expected_value_high"]
        assert low < rows[level]["expected_value"] < high  # the bootstrap's range around the level's value
    shares = np.array([rows["north"]["customers"], rows["south"]["customers"]]) / 5000
    mix = shares @ [rows["north"]["expected_purchases"], rows["south"]["expected_purchases"]]
    assert entry["expected_purchases"] == pytest.approx(mix, rel=1e-9)  # the population: the levels' mix
    # against the simulation's truth: a new customer in each region makes its model's repeat purchases
    for level, params in (("north", PARAMS), ("south", FAST)):
        truth = new_customer_value(PurchaseModel.from_params("bgnbd", params), model.spend_model_, 12, 0.01)
        assert rows[level]["expected_purchases"] == pytest.approx(truth["expected_purchases"], rel=0.1)
    en, zh = entry["by_covariate_text"][0]["en"], entry["by_covariate_text"][0]["zh"]
    assert en.startswith("By region, a customer won today is expected to bring ") and "if north (the reference; " in en
    assert "按region区分" in zh and "（参照水平；区间 " in zh
    assert "消费模型不含协变量" in entry["by_covariate_text"][1]["zh"]


def test_a_forecast_model_without_covariates_says_the_levels_are_worth_the_same(shop):
    from analysis.data.features import lifetimes_summary

    summary = lifetimes_summary(shop[0], AS_OF)
    model = clv.CLVModel("bgnbd").fit(summary)
    region = pd.DataFrame({"region": np.where(np.arange(len(summary)) % 2, "a", "b")}, index=summary.index)
    design = design_matrix(region, {"trans": ["region"], "life": [], "constrain": [], "penalty": 0.0,
                                    "max_levels": 20})  # fmt: skip
    entry = monthly_run.new_customer(model, design)
    assert entry["by_covariate"] == [] and "worth the same whatever their region" in entry["by_covariate_text"][0]["en"]
    assert "无论region如何" in entry["by_covariate_text"][0]["zh"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_tier_chart_draws_a_line_per_tier_named_in_the_page_s_language(result, lang):
    import matplotlib.pyplot as plt

    from analysis.clv import monthly_plots

    names = monthly_run.group_labels(result, "tier", lang)
    ax = monthly_plots.plot_monthly_by_group(result.tables["forecast"], "tier", names, AS_OF, 12, lang=lang)
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    tiers = result.tables["forecast"].query("group_by == 'tier'").groupby("group")["expected_revenue"].sum()
    assert labels == [names[g] for g in tiers.sort_values(ascending=False).index]  # the largest first
    assert len(ax.get_lines()) == 3 and len(ax.collections) == 3  # a line and a shaded range per tier
    assert (lang == "zh") == ("客户等级" in ax.get_title())
    ax = monthly_plots.plot_monthly_forecast(result.tables["forecast"], AS_OF, 12, lang=lang)
    assert len(ax.patches) == 12
    plt.close("all")


def test_the_groups_counted_densely_or_by_sorting_are_the_same(result, shop, monkeypatch):
    """The customers per (group, row) are counted into a dense array up to DENSE_CELLS cells, by sorting beyond:
    the same forecast either way."""
    _, customers = shop
    model, summary = result.model, result.fit_summary
    groups = customers.set_index("customer_id")[["tier", "rfm_segment"]]
    args = (model.purchase_model_, model.spend_model_, summary, AS_OF, 12, groups)
    dense = monthly.monthly_forecast(*args, bootstrap=model.bootstrap_params_)
    monkeypatch.setattr(monthly, "DENSE_CELLS", 0)
    pd.testing.assert_frame_equal(monthly.monthly_forecast(*args, bootstrap=model.bootstrap_params_), dense)


def test_group_names_take_the_chinese_column_and_the_value_where_it_has_none():
    table = pd.DataFrame({"tier": ["VIP", "Ordinary", "VIP", None], "tier_zh": ["VIP客户", None, "VIP客户", None],
                          "rfm_segment": ["Lost", "Lost", "Champions", "Lost"]})  # fmt: skip
    assert monthly_run.group_names(table) == {
        "tier": {"VIP": {"en": "VIP", "zh": "VIP客户"}, "Ordinary": {"en": "Ordinary", "zh": "Ordinary"}},
        "rfm_segment": {"Lost": {"en": "Lost", "zh": "Lost"}, "Champions": {"en": "Champions", "zh": "Champions"}},
    }
