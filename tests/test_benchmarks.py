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


@pytest.fixture(scope="module")
def bench_run():
    return _module("bench_run")


def test_bench_run_steps_and_table(bench_run):
    """The full-run benchmark's bookkeeping on the progress events of a run (the run itself takes minutes and
    belongs in benchmarks/): steps in order with their spans, the table, the targets as information."""
    events = [
        {"event": "prepared", "customers": 1_000_000, "rows_kept": 3, "run_dir": "/x", "_t": 10.0},
        {"event": "step_started", "step": "01_data_quality", "_t": 10.5},
        {"event": "step_done", "step": "01_data_quality", "seconds": 5.0, "_t": 15.5},
        {"event": "step_started", "step": "04_clv", "_t": 15.6},
        {"event": "step_done", "step": "04_clv", "seconds": 50.0, "_t": 65.6},
        {"event": "pack_step", "step": "deck", "seconds": 4.0, "_t": 70.0},
        {"event": "done", "_t": 70.1},
    ]
    assert bench_run._spans(events) == [
        ("prepare", "prepare", 0.0, 10.0),
        ("01_data_quality", "page", 10.5, 15.5),
        ("04_clv", "page", 15.6, 65.6),
        ("deck", "pack", 65.6, 70.0),
    ]
    sampler = bench_run.MemorySampler(pid=0, started=0.0)
    sampler.samples = [(5.0, 900.0, 0.0, 900.0), (12.0, 800.0, 3000.0, 3800.0), (40.0, 800.0, 5000.0, 5800.0)]
    measured = {
        "run_json": {
            "status": "ok",
            "seconds": {"prepare": 9.9, "01_data_quality": 5.0, "04_clv": 50.0, "deck": 4.0, "total": 70.0},
            "peak_memory_mb": {"prepare": {"runner": 900.0, "largest_kernel": 0.0}},
        },
        "events": events,
        "sampler": sampler,
        "wall": 71.0,
        "largest_mb": 5000.0,
        "exit_code": 0,
        "stderr": "",
        "command": ["python", "-m", "analysis", "run"],
    }
    result = bench_run.build_result("1m", "sim_1m.parquet", "2023-12-31", measured, None)
    assert [s["step"] for s in result["steps"]] == ["prepare", "01_data_quality", "04_clv", "deck"]
    clv = result["steps"][2]
    assert (clv["seconds"], clv["kernel_mb"], clv["all_processes_mb"]) == (50.0, 5000.0, 5800.0)
    assert result["steps"][3]["runner_mb"] is None  # no sample in the deck's span
    text = bench_run.format_table(result)
    assert "04_clv" in text and "wall 71.0 s (target <= 90 s: met)" in text
    assert result["other_seconds"] == pytest.approx(71.0 - 9.9 - 5.0 - 50.0 - 4.0)
    assert "largest process 4.88 GB (target <= 4 GB: not met)" in text
    assert bench_run.format_table(result, markdown=True).startswith("| step / page |")
    json.dumps(result, default=str)  # what the script writes


def test_memory_sampler_sees_child_processes(bench_run):
    import subprocess
    import time

    grandchild = "import time; x = b'x' * 200_000_000; time.sleep(1.5)"
    code = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}])"
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code])
    sampler = bench_run.MemorySampler(proc.pid, started, interval=0.05)
    sampler.start()
    proc.wait()
    sampler.stopped.set()
    sampler.join()
    peaks = sampler.peaks(0.0, time.perf_counter() - started)
    assert peaks["largest_child"] > 150  # MB: the grandchild's bytearray
    assert peaks["all"] >= peaks["largest_child"]
