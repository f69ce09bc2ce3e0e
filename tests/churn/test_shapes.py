"""The churn stage on the shops real users bring (tests/shapes.py, issue 24): it declines where its scores could
not be checked or are no better than chance, says why in both languages, and never fails otherwise."""

import json

import numpy as np
import pytest

from analysis import churn
from analysis.config import deep_merge
from analysis.report.declines import empty_columns
from tests.language import CJK
from tests.shapes import SHAPES, b2b_accounts, nobody_twice, one_day, steady_buyers, tiny

from .staged import added, prepared, run_churn, run_clusters

FAST = {"churn": {"evaluation": {"bootstrap": 100, "importance_repeats": 1}, "gradient_boosting": {"max_iter": 30}}}


def _config(config, extra=None):
    return deep_merge(deep_merge(config, FAST), extra or {})


def _churn(shape, tmp_path, config):
    frame, as_of = shape()
    spine, customers = prepared(frame, as_of, tmp_path, config)
    _, customers = run_clusters(spine, customers, as_of, config)
    return run_churn(spine, customers, as_of, config)


def test_steady_buyers_decline_because_no_score_beats_chance(tmp_path, config):
    """One common purchase rate and no dropout: who buys in a period is chance. With the default horizon (the
    CLV holdout, 365 days; a purchase every 260 days on average) about a quarter of the customers skip it on
    each cut-off, and no scorer's ROC-AUC interval lies above 0.5: no risk list."""
    out = _churn(steady_buyers, tmp_path, config)  # the default settings, as a run does
    assert isinstance(out, churn.ChurnDeclined), "steady buyers were scored"
    assert out.stage == "churn" and out.columns == churn.stage.COLUMN_KINDS
    assert out.reason["en"].startswith("No churn score ranked the customers who stopped buying above those who "
                                       "stayed better than guessing when checked on 2024-01-01")  # fmt: skip
    assert "比随机猜测更好" in out.reason["zh"] and "随机猜测为 50%" in out.reason["zh"]
    # judged here from the scorers' numbers the stage reports, not from its decision
    scorers = out.report["scorers"]
    assert {"logistic", "gradient_boosting", "recency", "recency_gap", "p_alive"} == set(scorers)
    for s in scorers.values():
        assert s["roc_auc_low"] <= s["roc_auc"] <= s["roc_auc_high"]
    assert max(s["roc_auc_low"] for s in scorers.values()) <= 0.5  # no interval lies above guessing
    # the best scorer the reason names: the highest ROC-AUC among those that rank anyone (1 - P(alive) gives
    # every customer the same score here, the purchase model behind it finding nobody likely to have stopped)
    flat = [w["en"] for w in out.report["warnings"] if "gave every customer of the later cut-off the same" in w["en"]]
    assert len(flat) == 1 and flat[0].startswith(scorers["p_alive"]["label"])
    name, best = max(((n, s) for n, s in scorers.items() if n != "p_alive"), key=lambda item: item[1]["roc_auc"])
    assert best["roc_auc_low"] <= 0.5 < best["roc_auc_high"]
    assert (f"the best of them ({best['label']}) put a customer who stopped above one who stayed "
            f"{best['roc_auc']:.0%} of the time (90% interval {best['roc_auc_low']:.0%} to "
            f"{best['roc_auc_high']:.0%}), where 50% is guessing") in out.reason["en"]  # fmt: skip
    assert f"（{best['label_zh']}）" in out.reason["zh"] and f"{best['roc_auc_low']:.0%} 至" in out.reason["zh"]
    json.dumps(out.report, allow_nan=False)


def test_b2b_accounts_decline_because_nobody_stops(tmp_path, config):
    """Accounts ordering in about half of the months: nobody goes the default horizon (365 days) without buying."""
    out = _churn(b2b_accounts, tmp_path, _config(config))
    assert isinstance(out, churn.ChurnDeclined)
    assert out.reason["en"].startswith("Of the customers known on 2023-01-01, 0 stopped buying in the 365 days")
    assert "0 位停止购买" in out.reason["zh"]


def test_cdnow_is_scored(tmp_path, config, lifetimes_datasets):
    frame = pd_read_cdnow(lifetimes_datasets)
    run = _churn(lambda: (frame, "1998-06-30"), tmp_path, _config(config))
    assert isinstance(run, churn.ChurnResult), getattr(run, "reason", None)
    assert max(s["roc_auc_low"] for s in run.record["scorers"].values() if s["roc_auc_low"] is not None) > 0.5
    assert run.columns["churn_risk"].notna().all()


def pd_read_cdnow(folder):
    import pandas as pd

    raw = pd.read_csv(folder / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["customer_id", "_id", "date", "_n", "amount"], dtype={"customer_id": str, "date": str})
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d").dt.strftime("%Y-%m-%d")
    raw["order_id"] = np.arange(len(raw)).astype(str)
    return raw[["customer_id", "order_id", "date", "amount"]]


@pytest.mark.parametrize(("shape", "said"), [
    (tiny, "There is too little history to check a churn score on a later period: 89 days of purchases"),
    (one_day, "There is too little history to check a churn score on a later period: 0 days of purchases"),
    (nobody_twice, "Of the customers known on 2024-04-01, 129 stopped buying in the 137 days after it and 0 bought"),
])  # fmt: skip
def test_small_and_short_shops_decline_with_their_reason(shape, said, tmp_path, config):
    out = _churn(shape, tmp_path, _config(config))
    assert isinstance(out, churn.ChurnDeclined)
    assert out.reason["en"].startswith(said) and out.reason["zh"]
    assert "历史太短" in out.reason["zh"] or "停止购买" in out.reason["zh"]


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_every_shape_runs_or_declines(name, tmp_path, config):
    out = _churn(SHAPES[name], tmp_path, _config(config))
    assert isinstance(out, churn.ChurnResult | churn.ChurnDeclined)
    report = out.record if isinstance(out, churn.ChurnResult) else out.report
    json.dumps(report, allow_nan=False)
    for w in report.get("warnings", []):  # every warning in both languages, the Chinese one written in Chinese
        assert set(w) == {"en", "zh"} and w["zh"] != w["en"] and CJK.search(w["zh"]), w
    if isinstance(out, churn.ChurnResult):
        assert out.summary("zh") and churn.describe.details_markdown(out, "zh")


def test_value_at_risk_falls_back_to_the_last_years_spend_when_clv_declined(tmp_path, config):
    """The CLV page declined: its columns are there, all empty; value at risk is risk x the last year's spend,
    for every customer, as when the CLV page did not run."""
    frame, as_of = SHAPES["few_repeaters"]()
    spine, customers = prepared(frame, as_of, tmp_path, config)
    _, customers = run_clusters(spine, customers, as_of, config)
    without = run_churn(spine, customers, as_of, _config(config))
    declined = added(customers, empty_columns(customers["customer_id"], {"clv": "number", "clv_low": "number"}))
    run = run_churn(spine, declined, as_of, _config(config))
    assert run.record["value_at_risk_basis"] == {"yearly spend": int(run.columns["churn_risk"].notna().sum())}
    np.testing.assert_array_equal(run.columns["value_at_risk"], without.columns["value_at_risk"])


def test_clusters_declined_leaves_churn_as_it_is(tmp_path, config):
    """Empty cluster columns (the clusters page declined) change nothing in the churn scores."""
    frame, as_of = SHAPES["few_repeaters"]()
    spine, customers = prepared(frame, as_of, tmp_path, config)
    empty = added(customers, empty_columns(customers["customer_id"], {"cluster": "number", "cluster_name": "text",
                                                                     "cluster_name_zh": "text"}))  # fmt: skip
    run = run_churn(spine, empty, as_of, _config(config))
    assert isinstance(run, churn.ChurnResult) and run.columns["churn_risk"].notna().all()
