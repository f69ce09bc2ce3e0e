"""Every warning and note the CLV stage can write reads in Chinese on the Chinese page: each is a {en, zh} text
made where it is found (the spend model's warnings and notes, a fit's problem, the backtest's reasons), passed on
by the stage (analysis.clv.record), never translated afterwards by matching the English; only a library's own
message is quoted, inside a Chinese sentence."""

import numpy as np
import pandas as pd
import pytest

from analysis import clv
from analysis.clv import record
from analysis.clv.fitters import ConvergenceError, FitFailed, optimiser_stopped
from analysis.config import load_config
from analysis.stage import Frames
from tests.language import has_chinese


def _in_chinese(texts) -> None:
    """Each of ``texts`` is a {en, zh} text whose Chinese is in Chinese words (not the English quoted)."""
    assert texts
    for t in texts:
        assert set(t) == {"en", "zh"} and has_chinese(t["zh"]) and t["en"] not in t["zh"], t


def _spend(sm) -> list:
    """The spend model's warnings and notes, checked to be what the stage writes in ``clv.json``."""
    entry = record.spend_entry(sm)
    assert entry["warnings"] == sm.warnings_ and entry["notes"] == sm.notes_
    return sm.warnings_ + sm.notes_


def test_every_spend_warning_and_note_is_said_in_both_languages(monkeypatch):
    rng = np.random.default_rng(6)
    f = rng.integers(1, 10, 2000).astype(float)
    correlated = pd.DataFrame({"frequency": f, "monetary_value": 10 * f + rng.gamma(2.0, 2.0, 2000)})
    flat = pd.DataFrame({"frequency": [0.0, 1, 2, 3, 4, 5] * 20, "monetary_value": [0.0, 20, 20, 20, 20, 20] * 20})
    one = pd.DataFrame({"frequency": [0.0, 2.0, 0.0], "monetary_value": [0.0, 15.0, 0.0]})
    free = correlated.assign(monetary_value=np.where(np.arange(2000) < 7, 0.0, correlated["monetary_value"]))
    none = correlated.assign(monetary_value=np.nan)
    independent = correlated.assign(monetary_value=rng.gamma(4.0, 10.0, 2000))
    said = {
        "correlated": _spend(clv.SpendModel(correlation_warning=0.3).fit(correlated)),
        "population mean": _spend(clv.SpendModel().fit(flat)),
        "fewer than two": _spend(clv.SpendModel().fit(one)),
        "were all free": _spend(clv.SpendModel(correlation_warning=1.0).fit(free)),
        "no amounts": _spend(clv.SpendModel().fit(none)),
    }
    real = clv.SpendModel._try_fit

    def first_fails(f, m, w, penalizer, initial_params, engine="fast"):
        return None if penalizer == 0.0 else real(f, m, w, penalizer, initial_params, engine)

    monkeypatch.setattr(clv.SpendModel, "_try_fit", staticmethod(first_fails))
    said["did not converge"] = _spend(clv.SpendModel(retry_penalizer=0.001).fit(independent))
    for phrase, texts in said.items():
        assert any(phrase in t["en"] for t in texts), (phrase, texts)
        _in_chinese(texts)
    assert "7 位客户的重复购买全部免费" in said["were all free"][0]["zh"]
    assert "已用惩罚 0.001 重新拟合" in said["did not converge"][0]["zh"]


def test_a_model_that_cannot_be_refitted_is_said_in_both_languages():
    rng = np.random.default_rng(3)
    X = clv.simulate_summary("bgnbd", (0.243, 4.414, 0.793, 2.426), rng.uniform(20, 78, 500), rng)
    X = X.assign(recency=X["T"])  # everyone bought at the end: nobody has dropped out
    with pytest.raises(clv.DegenerateFit) as degenerate:
        clv.PurchaseModel("mbgnbd").fit(X)
    said = record.refit_failure("mbgnbd", degenerate.value, "1998-06-30")
    assert said["en"] == f"MBG/NBD could not be refitted on all data up to 1998-06-30: {degenerate.value.reason['en']}"
    _in_chinese([said])
    stopped = record.refit_failure("pareto", FitFailed(optimiser_stopped(500, "ABNORMAL")), "1998-06-30")
    assert stopped == {"en": "Pareto/NBD could not be refitted on all data up to 1998-06-30: "
                             "the optimiser stopped after 500 steps: ABNORMAL",
                       "zh": "Pareto/NBD 无法在截至 1998-06-30 的全部数据上重新拟合：优化器在 500 步后停止：ABNORMAL"}
    lifetimes_says = record.refit_failure("pareto", ConvergenceError("did not converge"), "1998-06-30")
    assert lifetimes_says["zh"].endswith("重新拟合：Pareto/NBD 的拟合未能完成（程序信息：did not converge）")


def test_customers_with_purchases_missing_from_the_table_are_warned_of_in_both_languages():
    tx = clv.simulate_transactions(800, seed=5, start="2023-01-01", end="2024-06-30")
    ids = tx["customer_id"].unique()
    table = pd.DataFrame({"customer_id": ids[3:]})  # three buyers left off the list
    config = load_config(overrides={"clv": {"bootstrap": {"n": 0}, "models": ["bgnbd"]}})
    result = clv.run(Frames(tx, as_of="2024-06-30", customers_table=table), config)
    assert len(result.columns) == len(table)
    (missing,) = [w for w in result.warnings if "not in the customer table" in w["en"]]
    assert missing == {"en": "3 customers with purchases are not in the customer table",
                       "zh": "3 位有购买记录的客户不在客户表中"}  # fmt: skip
    assert missing["zh"] in clv.describe.details_markdown(result, "zh")
