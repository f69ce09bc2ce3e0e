"""Benchmark: load + validate + per-customer features (+ segments) on 1M simulated customers (~3M lines).

Run with ``make bench`` (or ``.venv/bin/python benchmarks/bench_data.py [--customers N]``). The
simulated export is written once to a temporary folder as Parquet and as CSV; each measurement
runs in a fresh process so its peak memory (max RSS) is its own. Prints seconds per step and peak
memory; asserts that every row reconciles.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def simulate(n_customers: int, seed: int = 0) -> pd.DataFrame:
    """A raw export: one line per purchase, ~3 purchases per customer over two years."""
    rng = np.random.default_rng(seed)
    per_customer = 1 + rng.poisson(2.0, n_customers)
    customer = np.repeat(np.arange(n_customers), per_customer)
    n = len(customer)
    start = np.datetime64("2022-01-01T00:00:00")
    seconds = rng.integers(0, 2 * 365 * 86400, n)
    return pd.DataFrame({
        "CustomerID": (customer + 100000).astype(str),
        "InvoiceNo": np.arange(n).astype(str),
        "InvoiceDate": start + seconds.astype("timedelta64[s]"),
        "Amount": np.round(rng.lognormal(3.0, 1.0, n), 2),
    })


def measure(path: str) -> dict:
    """Load, validate and summarise ``path`` in this process; seconds per step and peak memory."""
    import resource

    from analysis import segments
    from analysis.config import load_config
    from analysis.data import features, load
    from analysis.data.validate import validate

    config = load_config()
    out: dict = {}
    t0 = time.perf_counter()
    raw = load.read_transactions(path)
    out["load_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    checked = validate(raw.frame, raw.mapping, config, "2023-12-31")
    out["validate_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    table = features.customer_features(checked.transactions, "2023-12-31")
    out["features_s"] = time.perf_counter() - t0
    out["total_s"] = out["load_s"] + out["validate_s"] + out["features_s"]
    t0 = time.perf_counter()
    segments.run_segments(table, config)
    out["segments_s"] = time.perf_counter() - t0
    out["rows"] = checked.quality["rows_in"]
    out["customers"] = len(table)
    out["reconciled"] = checked.quality["reconciled"]
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        frame = simulate(args.customers)
        files = {"parquet": Path(tmp) / "sales.parquet", "csv": Path(tmp) / "sales.csv"}
        frame.to_parquet(files["parquet"], index=False)
        frame.to_csv(files["csv"], index=False)
        print(f"simulated {args.customers:,} customers, {len(frame):,} lines")
        del frame
        for kind, path in files.items():
            result = subprocess.run([sys.executable, __file__, "--measure", str(path)],
                                    capture_output=True, text=True, check=True)
            r = json.loads(result.stdout.strip().splitlines()[-1])
            assert r["reconciled"] and r["customers"] == args.customers, r
            print(f"{kind:8s} load {r['load_s']:6.2f}s  validate {r['validate_s']:6.2f}s  "
                  f"features {r['features_s']:6.2f}s  total {r['total_s']:6.2f}s  "
                  f"(then segments {r['segments_s']:.2f}s)  "
                  f"peak memory {r['peak_rss_mb']:,.0f} MB")


if __name__ == "__main__":
    main()
