"""The executive summary's sentences, from a tiny run directory's own files."""

import json

import pandas as pd
import pytest

from analysis.report.summary import sentences

CLV = {"clv": {"total_clv": 807136.2, "horizon_months": 12, "top_decile_share": 0.5}}


@pytest.fixture
def run_dir(tmp_path):
    (tmp_path / "quality.json").write_text(json.dumps({"date_min": "1997-01-01", "as_of": "1998-06-30"}))
    pd.DataFrame({"customer_id": ["a", "b"], "monetary": [10.0, 20.0], "orders": [1, 2]}).to_parquet(
        tmp_path / "customers.parquet"
    )
    return tmp_path


def _clv_sentence(run_dir, config, lang):
    return next(s for s in sentences(run_dir, config, lang) if "807,136" in s)


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "Expected value of the next 12 months: 807,136 (Pareto/NBD);"),
        ("zh", "未来 12 个月预期价值 807,136（帕累托/NBD 模型）；"),
    ],
)
def test_the_model_is_named_as_people_name_it_in_each_language(run_dir, config, lang, said):
    label = {"en": "Pareto/NBD", "zh": "帕累托/NBD 模型"}
    (run_dir / "clv.json").write_text(
        json.dumps({**CLV, "chosen_model": "pareto", "chosen_label": label}, ensure_ascii=False), encoding="utf-8"
    )
    assert _clv_sentence(run_dir, config, lang).startswith(said)


def test_a_record_without_the_label_names_the_model_by_its_label_not_its_settings_key(run_dir, config):
    (run_dir / "clv.json").write_text(json.dumps({**CLV, "chosen_model": "pareto"}))
    assert "(Pareto/NBD)" in _clv_sentence(run_dir, config, "en")
    (run_dir / "clv.json").write_text(json.dumps({**CLV, "chosen_model": "nbd"}))
    assert "（NBD（无流失））" in _clv_sentence(run_dir, config, "zh")


def _forecast_record(amounts=True):
    """clv.json's forecast keys as the CLV stage writes them (analysis.clv.monthly, analysis.clv.new_customer), on
    made-up numbers: the next three months, a three-month backtest, a newly won customer."""
    from analysis.clv import backtest_months, monthly
    from analysis.clv.new_customer import new_customer_text

    nan = float("nan")
    as_of, end = pd.Timestamp("1998-06-30"), pd.Timestamp("1998-09-30")
    revenue, draws = (230187.4, [227905.1, 231983.2]) if amounts else (nan, [])  # interval 1: the draws' extremes
    quarter = monthly.quarter_entry(as_of, end, 23570, 5933.2, revenue, draws, 1.0)
    windows = monthly.month_windows("1998-03-31", "1998-06-30")
    table = pd.DataFrame({"actual_purchases": [2000.0, 1900.0, 1800.0], "forecast_purchases": [1800.0, 1900.0, 1900.0],
                          "actual_revenue": [80000.0, 76000.0, 70000.0] if amounts else [nan] * 3,
                          "forecast_revenue": [72000.0, 76000.0, 77000.0] if amounts else [nan] * 3})  # fmt: skip
    part = backtest_months.backtest_errors(table, windows, pd.Timestamp("1998-03-31"), as_of)
    new = {"horizon_months": 12, "discount_rate_monthly": 0.01, "margin": None, "expected_purchases": 1.48,
           "expected_spend_per_purchase": 36.09 if amounts else nan, "expected_value": 50.49 if amounts else nan,
           "expected_value_low": 49.21 if amounts else nan,
           "expected_value_high": 51.52 if amounts else nan}  # fmt: skip
    new["text"] = new_customer_text(new)
    return {**CLV, "chosen_model": "pareto", "forecast_quarter": quarter, **part, "new_customer": new}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_next_three_months_and_a_new_customer_are_told_in_each_language(run_dir, config, lang):
    from analysis.jsonable import jsonable

    record = jsonable(_forecast_record())
    (run_dir / "clv.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    points = sentences(run_dir, config, lang)
    line = next(s for s in points if "230,187" in s)
    assert "227,905" in line and "231,983" in line  # the range
    assert record["forecast_quarter"]["scope"][lang] in line and record["monthly_backtest_text"][lang] in line
    assert ("missed monthly revenue by 7% on average" if lang == "en" else "平均误差为 7%") in line  # (10+0+10)/3
    said = next(s for s in points if "50.49" in s)
    assert said.startswith(
        "A customer won today is expected to bring 50.49" if lang == "en" else "今天新获得的一位客户"
    )


def test_without_the_forecast_keys_or_amounts_nothing_false_is_said(run_dir, config):
    from analysis.jsonable import jsonable

    (run_dir / "clv.json").write_text(json.dumps({**CLV, "chosen_model": "pareto"}))
    assert not [s for s in sentences(run_dir, config, "en") if "three months" in s or "won today" in s]
    (run_dir / "clv.json").write_text(json.dumps(jsonable(_forecast_record(amounts=False))))
    points = " ".join(sentences(run_dir, config, "en"))
    assert "make 5,933 repeat purchases (the data has no amounts: no revenue)" in points
    assert "revenue is not backtested" in points and "1.48 repeat purchases" in points and "nan" not in points
