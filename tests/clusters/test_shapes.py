"""The clusters stage on the shops real users bring (tests/shapes.py, issue 24): it declines when there are too
few buyers for groups or nothing to tell them apart, says why in both languages, and never fails otherwise."""

import json

import pandas as pd
import pytest

from analysis import clusters
from analysis.data.pipeline import prepare
from analysis.errors import StageDeclined
from analysis.report.declines import empty_columns
from tests.shapes import SHAPES, nobody_twice, one_day, tiny


def _clusters(shape, tmp_path, config):
    """The stage on the data spine's products for a shape (``prepare``: no run directory), and its columns: the
    result's, or empty ones when it declines (as the page leaves them)."""
    frame, as_of = shape()
    path = tmp_path / "transactions.csv"
    frame.to_csv(path, index=False)
    return _staged(prepare(str(path), config, as_of), config)


def _staged(spine, config):
    try:
        out = clusters.run(spine, config)
    except StageDeclined as exc:
        return exc, empty_columns(spine.customers["customer_id"], exc.columns)
    return out, out.columns


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_every_shape_runs_or_declines(name, tmp_path, config):
    out, table = _clusters(SHAPES[name], tmp_path, config)
    assert isinstance(out, clusters.ClustersResult | StageDeclined)
    if isinstance(out, StageDeclined):
        assert table["cluster"].isna().all() and table["cluster_name"].isna().all()
    else:
        json.dumps(out.record)
        assert out.summary("zh") and clusters.describe.details_markdown(out, "zh")
        _plain_summary(out)


TECHNICAL = ("⚠️", "Rand", "silhouette", "criteria", "capped", "clusters.", "k =", "兰德", "轮廓", "指标中有", "封顶")


def _plain_summary(run) -> None:
    """The managers' summary carries no technical caution, criterion or setting: those are in the details."""
    for lang in ("en", "zh"):
        summary = run.summary(lang)
        assert not [w for w in TECHNICAL if w in summary], summary


def test_tiny_is_grouped_into_no_more_groups_than_its_buyers_allow(tmp_path, config):
    out, _ = _clusters(tiny, tmp_path, config)
    assert isinstance(out, clusters.ClustersResult) and out.record["k"] == 2
    assert "40 buyers allow groups of at least 10 customers for k up to 2" in clusters.describe.details_markdown(out)


@pytest.mark.parametrize(("shape", "n"), [(one_day, 200), (nobody_twice, 500)])
def test_one_purchase_each_declines(shape, n, tmp_path, config):
    """One day of data, or a year where nobody bought twice: nothing but when and how much to group by."""
    out, table = _clusters(shape, tmp_path, config)
    assert isinstance(out, StageDeclined) and out.stage == "clusters"
    assert out.reason["en"] == (f"None of the {n} customers bought on more than one day: with one purchase each, "
                                "they differ only in when they bought and how much they spent, which the segments "
                                "page's RFM scores and value classes already show; no groups are formed.")  # fmt: skip
    assert out.reason["zh"].startswith(f"{n} 位客户中没有人在一天以上购买过")
    assert len(table) == n and table["cluster"].isna().all() and table["cluster_name_zh"].isna().all()


def test_too_few_buyers_decline(tmp_path, config):
    frame, as_of = tiny()
    few = frame[frame["customer_id"] < "C00020"]  # 20 buyers: fewer than the 32 a split into two takes
    out, table = _clusters(lambda: (few, as_of), tmp_path, config)
    assert isinstance(out, StageDeclined)
    assert out.reason["en"] == ("Only 20 customers have bought: splitting them into groups of at least 10 customers "
                                "each that come back when the customers are resampled takes at least 32.")  # fmt: skip
    assert "至少需要 32 位" in out.reason["zh"] and len(table) == 20


def test_cdnow_is_grouped(config, lifetimes_datasets):
    spine = prepare(str(lifetimes_datasets / "CDNOW_sample.txt"), config, "1998-06-30")
    out, table = _staged(spine, config)
    assert isinstance(out, clusters.ClustersResult) and out.record["k"] >= 2
    assert pd.Series(table["cluster"]).notna().all()
    _plain_summary(out)
    details, details_zh = (clusters.describe.details_markdown(out, lang) for lang in ("en", "zh"))
    assert "- Chosen: k = " in details and "adjusted Rand index" in details
    assert "选定" in details_zh and "调整兰德指数" in details_zh
