"""The CLV page's sentences and tables in English and Chinese (``--lang en|zh``)."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis import clv
from analysis.clv import describe, optimize, show
from analysis.clv.stage import SELECTION_COLUMNS
from tests.language import has_chinese

DEGENERATE = {
    "en": "the data cannot tell apart customers' dropout probabilities: the MBG/NBD fit runs to the edge of its "
    "parameter space (b grows without bound, as if all customers were alike in this); MBG/NBD left out of the choice",
    "zh": "数据无法区分客户的流失倾向：MBG/NBD 的拟合到达参数空间的边界（b 无限增大，仿佛所有客户在这方面都一样）；"
    "MBG/NBD 未参与选择",
}
PENALIZED = {
    "en": "Gamma-Gamma did not converge; refitted with penalty 0.01",
    "zh": "Gamma-Gamma 未收敛；已用惩罚 0.01 重新拟合",
}


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
        "as_of": "1998-06-30",
        "chosen_model": "pareto",
        "choice_reason": {"en": "Pareto/NBD has the best holdout per-customer RMSE (1.597; BG/NBD 1.602)",
                          "zh": "按验证期的每位客户 RMSE，Pareto/NBD 最好（1.597；BG/NBD 1.602）"},
        "chosen_label": {"en": "Pareto/NBD", "zh": "帕累托/NBD 模型"},
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
                        "warnings": [PENALIZED], "notes": []},
        "notices": [],
        "warnings": [{"en": f"MBG/NBD: {DEGENERATE['en']}", "zh": f"MBG/NBD：{DEGENERATE['zh']}"}, PENALIZED],
    }  # fmt: skip
    report.update(changes)
    return report


def _run(report: dict, backtested: bool = True) -> clv.ClvResult:
    metrics = pd.DataFrame({"mae": [0.78, 0.75], "rmse": [1.602, 1.597], "spend_rmse": [80.1, 79.9]},
                           index=pd.Index(["bgnbd", "pareto"], name="model"))  # fmt: skip
    intervals = pd.DataFrame({"estimate": [0.56], "low": [0.52], "high": [0.61]}, index=["r"])
    customers = pd.DataFrame({"customer_id": ["a", "b"], "expected_purchases": [2.0, 1.0], "p_alive": [0.98766, 0.5],
                              "expected_spend": [10.0, 5.0], "clv": [20.123, 5.0], "clv_low": [18.0, 4.0],
                              "clv_high": [22.0, 6.0]})  # fmt: skip
    tables = {"backtest": metrics if backtested else pd.DataFrame(), "parameters": intervals,
              "selection": pd.DataFrame(columns=SELECTION_COLUMNS),
              "top_customers": show.top_customers(customers, True)}  # fmt: skip
    return clv.ClvResult(columns=customers, record=report, tables=tables,
                         backtest=SimpleNamespace(metrics=metrics) if backtested else None,
                         model=SimpleNamespace(model="pareto"), fit_summary=pd.DataFrame())  # fmt: skip


def test_the_manager_summary_is_chinese_throughout_and_its_cautions_go_to_the_details():
    run = _run(_report())
    english = run.summary()
    assert english.startswith("- Over the next **12 months**") and "MBG/NBD: the data cannot" not in english
    assert english.endswith("Technical notes on the model fits are in Details at the end of this page.")
    chinese = run.summary("zh")
    lines = chinese.splitlines()
    assert len(lines) == len(english.splitlines())
    assert all(has_chinese(line) for line in lines)
    assert "未来 **12 个月**" in lines[0] and "70,180" in lines[0] and "收入" in lines[0]
    assert "按验证期的每位客户 RMSE，Pareto/NBD 最好（1.597；BG/NBD 1.602）" in chinese
    assert "流失倾向" not in chinese and "技术细节" in lines[-1]
    for phrase in ("Over the next", "Caution", "left out", "refitted", "holdout"):
        assert phrase not in chinese
    details = describe.details_markdown(run, "zh")
    assert "MBG/NBD：数据无法区分客户的流失倾向" in details and "已用惩罚 0.01 重新拟合" in details
    assert "MBG/NBD: the data cannot tell apart" in describe.details_markdown(run)


def test_without_amounts_the_chinese_summary_says_so():
    c = {**_report()["clv"], "total_clv": float("nan")}
    text = _run(_report(amounts=False, clv=c, warnings=[])).summary("zh")
    assert "**输入数据没有金额**" in text and "CLV 为 0" not in text and "区间" not in text
    with pytest.raises(ValueError, match="language 'de'"):
        _run(_report()).summary("de")


def test_why_a_model_was_chosen_in_both_languages():
    assert describe.best_model_reason(_report()) == _report()["choice_reason"]
    assert describe.best_model_reason(_report(backtest=None))["zh"] == "Pareto/NBD 是唯一配置的模型（无法回测）"
    assert describe.best_model_reason(_report(chosen_model="bgnbd")) == {
        "en": "BG/NBD is the best model that could be refitted on all data",
        "zh": "BG/NBD 是能在全部数据上重新拟合的最佳模型",
    }
    spearman = _report()
    spearman["backtest"] = {**spearman["backtest"], "choose_by": "spearman"}
    spearman["models"]["pareto"]["backtest"]["spearman"] = 0.46
    spearman["models"]["bgnbd"]["backtest"]["spearman"] = 0.45
    reason = describe.best_model_reason(spearman)
    assert reason["zh"].startswith("按验证期的Spearman 秩相关，Pareto/NBD 最好（0.46；BG/NBD 0.45）")
    # the English is the backtest's own sentence, made from the same numbers
    metrics = pd.DataFrame({"spearman": [0.45, 0.46]}, index=["bgnbd", "pareto"])
    assert reason["en"] == clv.choose_model(metrics, "spearman")[1]


@pytest.mark.parametrize(
    "model, params, ll, said",
    [
        ("mbgnbd", [0.2, 4.0, 0.8, 1000.0], -1.0,  # b at its bound: the dropout probabilities
         {"en": "the data cannot tell apart customers' dropout probabilities: the MBG/NBD fit runs to the edge of "
                "its parameter space (b grows without bound, as if all customers were alike in this)",
          "zh": "数据无法区分客户的流失倾向：MBG/NBD 的拟合到达参数空间的边界（b 无限增大，"
                "仿佛所有客户在这方面都一样）"}),
        ("bgnbd", [2000.0, 4.4, 0.8, 2.4], -1.0,  # r: the purchase rates
         {"en": "the data cannot tell apart customers' purchase rates: the BG/NBD fit runs to the edge of its "
                "parameter space (r grows without bound, as if all customers were alike in this)",
          "zh": "数据无法区分客户的购买率：BG/NBD 的拟合到达参数空间的边界（r 无限增大，仿佛所有客户在这方面都一样）"}),
        ("bgnbd", [0.2, 1e-9, 0.8, 2.4], -1.0,  # a scale at its lower bound, named with its value
         {"en": "the BG/NBD fit runs to the edge of its parameter space (alpha = 1e-09)",
          "zh": "BG/NBD 的拟合到达参数空间的边界（alpha = 1e-09）"}),
        ("bgnbd", [0.243, 4.414, 0.793, 2.426], float("nan"),  # no finite log-likelihood
         {"en": "the BG/NBD fit gave no finite parameters and log-likelihood",
          "zh": "BG/NBD 的拟合没有得到有限的参数和对数似然"}),
        ("pareto", [0.553, 10.58, 0.606, 11.67], -9595.0, None),  # sound
    ],
)  # fmt: skip
def test_the_optimiser_judges_a_degenerate_fit_in_both_languages(model, params, ll, said):
    assert optimize.judge(model, np.array(params), ll, 1 / 19.43, 1000.0) == said


@pytest.mark.parametrize("model", ["bgnbd", "pareto"])
def test_an_optimiser_that_stopped_says_so_in_chinese_words(model):
    """The few-repeaters page read "MBG/NBD 的拟合未能完成（程序信息：the optimiser stopped after 51 steps: ...）":
    the optimiser's own sentence is Chinese now; only SciPy's reason is quoted."""
    rng = np.random.default_rng(3)
    X = clv.simulate_summary(model, (0.243, 4.414, 0.793, 2.426), rng.uniform(20, 78, 500), rng)
    with pytest.raises(clv.DegenerateFit) as stopped:
        clv.PurchaseModel(model, max_iterations=2).fit(X)
    reason = stopped.value.reason
    assert reason["en"].startswith("the optimiser stopped after 2 steps: ") and str(stopped.value) == reason["en"]
    scipy_says = reason["en"].removeprefix("the optimiser stopped after 2 steps: ")
    assert reason["zh"] == f"优化器在 2 步后停止：{scipy_says}" and stopped.value.model.problem_ == reason


def test_a_library_message_is_quoted_inside_a_chinese_sentence():
    from analysis.clv.fitters import ConvergenceError, FitFailed, fit_failure, optimiser_stopped

    lifetimes_says = ConvergenceError("The model did not converge. Try adding a larger penalizer")
    assert fit_failure(lifetimes_says, "BG/NBD") == {
        "en": "The model did not converge. Try adding a larger penalizer",
        "zh": "BG/NBD 的拟合未能完成（程序信息：The model did not converge. Try adding a larger penalizer）"}
    assert fit_failure(FloatingPointError("overflow"), "MBG/NBD", named=True)["en"] == "FloatingPointError: overflow"
    ours = FitFailed(optimiser_stopped(51, "ABNORMAL: "))
    assert fit_failure(ours, "MBG/NBD", named=True) == {"en": "the optimiser stopped after 51 steps: ABNORMAL: ",
                                                         "zh": "优化器在 51 步后停止：ABNORMAL: "}  # fmt: skip


def test_choice_and_spend_lists_and_tables_in_chinese():
    run = _run(_report())
    choice = describe.choice_markdown(run, "zh")
    assert choice.startswith("**选定模型**：按验证期") and "- **MBG/NBD 未参与选择**：数据无法区分" in choice
    spend = describe.spend_markdown(run, "zh").splitlines()
    assert spend[0] == "- 方法：Gamma-Gamma（带惩罚）" and "- 警告：Gamma-Gamma 未收敛；已用惩罚 0.01 重新拟合" in spend
    assert all(has_chinese(line) for line in spend)
    assert describe.spend_markdown(run).splitlines()[0] == "- method: gamma-gamma (penalized)"

    table = clv.page_table(run, "backtest", "zh")
    assert table.index.name == "模型" and table.index.tolist() == ["BG/NBD", "Pareto/NBD"]
    assert table.columns.tolist() == ["MAE", "RMSE", "消费 RMSE"]
    assert clv.page_table(run, "backtest").index.name == "Model"
    assert clv.page_table(run, "parameters", "zh").columns.tolist() == ["估计值", "下限", "上限"]
    assert clv.page_table(run, "parameters", "zh").index.name == "参数"
    top = clv.page_table(run, "top_customers", "zh", n=1)
    assert top.columns.tolist() == [
        "客户编号", "预期购买次数", "仍活跃概率", "预期每次消费", "客户终身价值", "CLV 下限", "CLV 上限"
    ]  # fmt: skip
    assert top.iloc[0].tolist() == ["a", 2.0, 0.9877, 10.0, 20.12, 18.0, 22.0]
    assert top.index.name == "排名" and top.index.tolist() == [1]
    assert clv.page_table(run, "top_customers", n=50).index.tolist() == [1, 2]  # more asked than the page keeps
    assert clv.page_table(_run(_report(), backtested=False), "backtest").empty
    with pytest.raises(ValueError, match="no CLV table 'lift'"):
        clv.page_table(run, "lift")


def test_captions_and_the_no_dropout_sentence_only_where_they_belong():
    run = _run(_report())
    assert describe.caption(run, "tracking", "zh").startswith("**跟踪。**")
    assert describe.caption(_run(_report(), backtested=False), "tracking") == ""
    assert describe.no_dropout_markdown(run) == ""  # Pareto/NBD has dropout
    nbd = _run(_report())
    nbd.model = SimpleNamespace(model="nbd")
    assert has_chinese(describe.no_dropout_markdown(nbd, "zh"))


def test_the_record_names_the_model_for_people_and_the_page_as_its_tables_do():
    run = _run(_report())
    assert describe.MODEL_NAMES["pareto"] == {"en": "Pareto/NBD", "zh": "帕累托/NBD 模型"}
    assert all(has_chinese(name["zh"]) for name in describe.MODEL_NAMES.values())
    # this page's tables and charts say Pareto/NBD: so do its sentences
    assert describe.page_model_name(run, "zh") == "Pareto/NBD" and "预测模型（Pareto/NBD）" in run.summary("zh")
    nbd = _run(_report(chosen_model="nbd", selection={"not_backtested": {"en": "x", "zh": "某"}, "kind": "no_dropout",
                                                       "notes": [], "details": [], "fits": {}}))  # fmt: skip
    assert describe.page_model_name(nbd, "zh") == "NBD（无流失）" and "NBD（无流失）" in nbd.summary("zh")
