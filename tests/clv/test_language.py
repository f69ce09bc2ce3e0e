"""The CLV page's sentences and tables in English and Chinese (``--lang en|zh``)."""

from types import SimpleNamespace

import pandas as pd
import pytest

from analysis import clv
from analysis.clv.describe import choice_reason, localize_message
from tests.language import has_chinese

DEGENERATE = (
    "the data cannot tell apart customers' dropout probabilities: the MBG/NBD fit runs to the edge of its "
    "parameter space (b grows without bound, as if all customers were alike in this); MBG/NBD left out of the choice"
)


def _report(**changes) -> dict:
    metrics = {
        "total_predicted": 1643.0,
        "total_actual": 1877.0,
        "total_error_pct": -12.4,
        "spend_total_predicted": 59640.0,
        "spend_total_actual": 70792.0,
        "spend_total_error_pct": -15.8,
    }
    report = {
        "chosen_model": "pareto",
        "choice_reason": "Pareto/NBD has the best holdout per-customer RMSE (1.597; BG/NBD 1.602)",
        "amounts": True,
        "backtest": {"calibration_end": "1997-10-01", "observation_end": "1998-06-30", "choose_by": "rmse"},
        "models": {
            "bgnbd": {"label": "BG/NBD", "status": "fitted", "backtest": {**metrics, "rmse": 1.602}},
            "pareto": {"label": "Pareto/NBD", "status": "fitted", "backtest": {**metrics, "rmse": 1.597}},
            "mbgnbd": {"label": "MBG/NBD", "status": "left out", "reason": DEGENERATE},
        },
        "clv": {"horizon_months": 12, "customers_scored": 2357, "total_expected_purchases": 2034.2,
                "total_clv": 70180.0, "discount_rate_monthly": 0.01, "margin": None, "top_decile_share": 0.65,
                "median_clv": 3.22, "bootstrap_resamples": 30, "interval": 0.9, "customers_without_purchase": 4},
        "spend_model": {"method": "gamma-gamma (penalized)", "params": {"p": 4.68, "q": 4.19, "v": 24.39},
                        "population_mean_spend": 35.81, "repeat_buyers": 1139, "free_repeat_buyers": 0,
                        "warnings": ["Gamma-Gamma did not converge; refitted with penalty 0.01"],
                        "notes": []},
        "warnings": [f"MBG/NBD: {DEGENERATE}", "Gamma-Gamma did not converge; refitted with penalty 0.01"],
    }  # fmt: skip
    report.update(changes)
    return report


def _run(report: dict) -> clv.ClvRun:
    metrics = pd.DataFrame({"mae": [0.78, 0.75], "rmse": [1.602, 1.597], "spend_rmse": [80.1, 79.9]},
                           index=pd.Index(["bgnbd", "pareto"], name="model"))  # fmt: skip
    intervals = pd.DataFrame({"estimate": [0.56], "low": [0.52], "high": [0.61]}, index=["r"])
    model = SimpleNamespace(parameter_intervals=lambda: intervals)
    customers = pd.DataFrame({"customer_id": ["a", "b"], "expected_purchases": [2.0, 1.0], "p_alive": [0.98766, 0.5],
                              "expected_spend": [10.0, 5.0], "clv": [20.123, 5.0], "clv_low": [18.0, 4.0],
                              "clv_high": [22.0, 6.0]})  # fmt: skip
    return clv.ClvRun(customers, report, SimpleNamespace(metrics=metrics), model, pd.DataFrame())


def test_the_manager_summary_is_chinese_throughout_and_its_cautions_go_to_the_details():
    report = _report()
    english = clv.manager_summary(report)
    assert english.startswith("- Over the next **12 months**") and "MBG/NBD: the data cannot" not in english
    assert english.endswith("Technical notes on the model fits are in Details at the end of this page.")
    chinese = clv.manager_summary(report, "zh")
    lines = chinese.splitlines()
    assert len(lines) == len(english.splitlines())
    assert all(has_chinese(line) for line in lines)
    assert "未来 **12 个月**" in lines[0] and "70,180" in lines[0] and "收入" in lines[0]
    assert "按验证期的每位客户 RMSE，Pareto/NBD 最好（1.597；BG/NBD 1.602）" in chinese
    assert "流失倾向" not in chinese and "技术细节" in lines[-1]
    for phrase in ("Over the next", "Caution", "left out", "refitted", "holdout"):
        assert phrase not in chinese
    details = clv.details_markdown(report, "zh")
    assert "MBG/NBD：数据无法区分客户的流失倾向" in details and "已用惩罚 0.01 重新拟合" in details
    assert "MBG/NBD: the data cannot tell apart" in clv.details_markdown(report)


def test_without_amounts_the_chinese_summary_says_so():
    c = {**_report()["clv"], "total_clv": float("nan")}
    text = clv.manager_summary(_report(amounts=False, clv=c, warnings=[]), "zh")
    assert "**输入数据没有金额**" in text and "CLV 为 0" not in text and "区间" not in text
    with pytest.raises(ValueError, match="language 'de'"):
        clv.manager_summary(_report(), "de")


def test_why_a_model_was_chosen_in_chinese():
    assert choice_reason(_report(), "en") == _report()["choice_reason"]
    assert choice_reason(_report(backtest=None), "zh") == "Pareto/NBD 是唯一配置的模型（无法回测）"
    assert choice_reason(_report(chosen_model="bgnbd"), "zh") == "BG/NBD 是能在全部数据上重新拟合的最佳模型"
    spearman = _report()
    spearman["backtest"] = {**spearman["backtest"], "choose_by": "spearman"}
    spearman["models"]["pareto"]["backtest"]["spearman"] = 0.46
    spearman["models"]["bgnbd"]["backtest"]["spearman"] = 0.45
    assert choice_reason(spearman, "zh").startswith("按验证期的Spearman 秩相关，Pareto/NBD 最好（0.46；BG/NBD 0.45）")


def test_the_stage_messages_are_translated_and_unknown_ones_kept():
    assert localize_message(DEGENERATE, "en") == DEGENERATE
    assert localize_message(DEGENERATE, "zh") == (
        "数据无法区分客户的流失倾向：MBG/NBD 的拟合到达参数空间的边界（b 无限增大，仿佛所有客户在这方面都一样）；"
        "MBG/NBD 未参与选择"
    )
    refit = "Pareto/NBD could not be refitted on all data up to 1998-06-30: the optimiser stopped after 500 steps: X"
    assert localize_message(refit, "zh") == (
        "Pareto/NBD 无法在截至 1998-06-30 的全部数据上重新拟合：优化器在 500 步后停止：X"
    )
    assert localize_message("something new", "zh") == "something new"


def test_choice_and_spend_lists_and_tables_in_chinese():
    run = _run(_report())
    choice = run.choice_markdown("zh")
    assert choice.startswith("**选定模型**：按验证期") and "- **MBG/NBD 未参与选择**：数据无法区分" in choice
    spend = run.spend_markdown("zh").splitlines()
    assert spend[0] == "- 方法：Gamma-Gamma（带惩罚）" and "- 警告：Gamma-Gamma 未收敛；已用惩罚 0.01 重新拟合" in spend
    assert all(has_chinese(line) for line in spend)
    assert run.spend_markdown().splitlines()[0] == "- method: gamma-gamma (penalized)"

    table = run.backtest_table("zh")
    assert table.index.name == "模型" and table.index.tolist() == ["BG/NBD", "Pareto/NBD"]
    assert table.columns.tolist() == ["MAE", "RMSE", "消费 RMSE"]
    assert run.backtest_table().index.name == "Model"
    assert run.parameter_table("zh").columns.tolist() == ["估计值", "下限", "上限"]
    assert run.parameter_table("zh").index.name == "参数"
    top = run.top_customers_table(1, "zh")
    assert top.columns.tolist() == [
        "客户编号", "预期购买次数", "仍活跃概率", "预期每次消费", "客户终身价值", "CLV 下限", "CLV 上限"
    ]  # fmt: skip
    assert top.iloc[0].tolist() == ["a", 2.0, 0.9877, 10.0, 20.12, 18.0, 22.0]
    assert top.index.name == "排名" and top.index.tolist() == [1]
    assert clv.ClvRun(run.customers, run.report, None, run.model, run.summary).backtest_table().empty
