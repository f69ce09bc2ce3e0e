"""The benchmark data generator (benchmarks/generate.py), at a few thousand customers: the loader finds every
column, rows are deterministic per seed, blocks do not depend on the size asked, and the true parameters are
written beside the Parquet. Timing itself lives in benchmarks/, never in tests."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generate():
    return _module("generate")


@pytest.fixture(scope="module")
def small(generate, tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "sim_3k.parquet"
    record = generate.generate(3000, out, seed=7)
    return out, record


def test_generator_writes_parquet_and_true_parameters(small):
    out, record = small
    frame = pd.read_parquet(out)
    assert len(frame) == record["rows"] > 3000
    assert frame["Customer ID"].nunique() == record["customers"] == 3000
    assert frame["Order ID"].is_unique
    assert (frame["Amount"] > 0).all()
    assert frame["Order Date"].min() >= pd.Timestamp(record["start"])
    assert frame["Order Date"].max() < pd.Timestamp(record["as_of"]) + pd.Timedelta(days=1)
    # first purchases fall in the acquisition period
    first = frame.groupby("Customer ID")["Order Date"].min()
    assert first.max() < pd.Timestamp(record["start"]) + pd.Timedelta(days=record["acquisition_days"])
    # attributes are per customer: one value per customer on all of its rows
    for header in ("Country", "Region", "Industry", "Customer Type", "Size"):
        assert frame.groupby("Customer ID")[header].nunique().max() == 1
    on_disk = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert on_disk["bgnbd"] == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert on_disk["gamma_gamma"] == {"p": 6.25, "q": 3.74, "gamma": 15.44}
    assert on_disk["rows"] == record["rows"] and on_disk["file_bytes"] == out.stat().st_size


def test_loader_finds_every_column(small):
    from analysis.data import load

    out, record = small
    raw = load.read_transactions(str(out))
    assert raw.mapping == record["columns"]


def test_same_seed_same_bytes_and_blocks_independent_of_size(generate, tmp_path, monkeypatch):
    monkeypatch.setattr(generate, "BLOCK", 1000)
    a = generate.generate(2000, tmp_path / "a.parquet", seed=3)
    generate.generate(2000, tmp_path / "b.parquet", seed=3)
    generate.generate(3500, tmp_path / "c.parquet", seed=3)
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    bigger = pd.read_parquet(tmp_path / "c.parquet")
    assert bigger["Customer ID"].nunique() == 3500
    # the first two blocks of the larger set are the smaller set
    pd.testing.assert_frame_equal(bigger.iloc[: a["rows"]], pd.read_parquet(tmp_path / "a.parquet"))
    assert not (tmp_path / ".a.parquet.partial").exists()


def test_purchases_follow_the_model(generate, tmp_path):
    """Loose moments at 20k customers (parameter recovery is the CLV tests' job): the mean number of repeat
    purchases over the window is near BG/NBD's expectation for the CDNOW estimates."""
    from scipy.special import hyp2f1

    record = generate.generate(20_000, tmp_path / "m.parquet", seed=1)
    r, alpha, a, b = record["bgnbd"].values()
    # E[X(t)] for BG/NBD at the mean observation length (weeks)
    frame = pd.read_parquet(tmp_path / "m.parquet", columns=["Customer ID", "Order Date"])
    first = frame.groupby("Customer ID")["Order Date"].min()
    t = ((pd.Timestamp(record["as_of"]) - first).dt.days / 7).to_numpy()
    z = t / (alpha + t)
    expected = (a + b - 1) / (a - 1) * (1 - ((alpha / (alpha + t)) ** r) * hyp2f1(r, b, a + b - 1, z))
    repeats = frame.groupby("Customer ID").size() - 1
    assert repeats.mean() == pytest.approx(np.mean(expected), rel=0.1)


def test_sizes(generate):
    assert generate.parse_size("100k") == 100_000
    assert generate.parse_size("1M") == 1_000_000
    assert generate.parse_size("10m") == 10_000_000
    assert generate.parse_size("2500") == 2500
