"""Benchmark: the data spine (`prepare`: load, validate, features, and the run directory's files written from the
engine) on simulated customers, then segments.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/bench_data.py [--customers N] [--dir DIR]``). The
simulated export (~3 purchases per customer) is written once as Parquet, in chunks so 10M customers
(~28M lines) fit in memory, and as CSV for up to 1M customers; ``--dir`` keeps the files for the next
run; ``--input FILE`` measures a Parquet file already made (``benchmarks/data/sim_10m.parquet``). Each
measurement runs in a fresh process: seconds (wall and CPU) and peak memory (resident set, sampled every
20 ms, the engine's memory included) per step, and the process's peak. Asserts that every row
reconciles. ``--json FILE`` also writes the table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

CHUNK = 1_000_000  # customers per Parquet row group written


def simulate(n_customers: int, seed: int = 0, first_id: int = 0, first_line: int = 0) -> pd.DataFrame:
    """A raw export: one line per purchase, ~3 purchases per customer over two years."""
    rng = np.random.default_rng(seed)
    per_customer = 1 + rng.poisson(2.0, n_customers)
    customer = np.repeat(np.arange(first_id, first_id + n_customers), per_customer)
    n = len(customer)
    start = np.datetime64("2022-01-01T00:00:00")
    seconds = rng.integers(0, 2 * 365 * 86400, n)
    return pd.DataFrame({
        "CustomerID": (customer + 100000).astype(str),
        "InvoiceNo": np.arange(first_line, first_line + n).astype(str),
        "InvoiceDate": start + seconds.astype("timedelta64[s]"),
        "Amount": np.round(rng.lognormal(3.0, 1.0, n), 2),
    })


def write_parquet(n_customers: int, path: Path) -> int:
    """Simulate in chunks of ``CHUNK`` customers and append each to one Parquet file; returns the lines."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer, lines = None, 0
    for i, first in enumerate(range(0, n_customers, CHUNK)):
        frame = simulate(min(CHUNK, n_customers - first), seed=i, first_id=first, first_line=lines)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
        lines += len(frame)
    writer.close()
    return lines


class PeakMemory:
    """Peak resident memory (MB) of this process while a step runs, sampled by a thread."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def rss_mb() -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss_mb())
            time.sleep(0.02)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss_mb())


def step(out: dict, name: str, fn):
    """Run ``fn()``, record its seconds (wall and CPU) and peak memory under ``name``; return its result."""
    with PeakMemory() as mem:
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        out[f"{name}_s"] = time.perf_counter() - t0
        out[f"{name}_cpu_s"] = time.process_time() - c0
    out[f"{name}_mb"] = mem.peak
    return result


STEPS = ("prepare", "write", "customers", "segments")


def measure(path: str, as_of: str) -> dict:
    """:func:`analysis.data.pipeline.prepare` on ``path`` in this process (load, validate and the customer table, in
    the engine), the run directory's files written from the engine, the customer table read into pandas, then
    segments."""
    import resource

    from analysis import segments
    from analysis.config import load_config
    from analysis.data.pipeline import prepare

    config = load_config()
    out: dict = {}
    prepared = step(out, "prepare", lambda: prepare(path, config, as_of))
    with tempfile.TemporaryDirectory() as folder:
        step(out, "write", lambda: prepared.write(Path(folder)))
    table = step(out, "customers", lambda: prepared.customers)
    step(out, "segments", lambda: segments.run(prepared, config))
    out["rows"] = prepared.quality["rows_in"]
    out["customers"] = len(table)
    out["reconciled"] = prepared.quality["reconciled"]
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--dir", help="keep the simulated files here (reused when present)")
    parser.add_argument("--input", help="measure this Parquet file instead of simulating one")
    parser.add_argument("--as-of", default="2023-12-31", help="the as-of date (the simulations end in 2023)")
    parser.add_argument("--formats", default="parquet,csv", help="parquet,csv (CSV only up to 1M customers)")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.as_of)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.dir or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        files = {"parquet": Path(args.input or folder / f"sales_{args.customers}.parquet")}
        if not files["parquet"].exists():
            lines = write_parquet(args.customers, files["parquet"])
            print(f"simulated {args.customers:,} customers, {lines:,} lines")
        if "csv" in args.formats and args.customers <= 1_000_000 and not args.input:
            files["csv"] = folder / f"sales_{args.customers}.csv"
            if not files["csv"].exists():
                pd.read_parquet(files["parquet"]).to_csv(files["csv"], index=False)
        results = {}
        for kind, path in files.items():
            if kind not in args.formats:
                continue
            result = subprocess.run([sys.executable, __file__, "--measure", str(path), "--as-of", args.as_of],
                                    capture_output=True, text=True, check=True)  # fmt: skip
            r = json.loads(result.stdout.strip().splitlines()[-1])
            assert r["reconciled"] and (args.input or r["customers"] == args.customers), r
            results[kind] = r
            print(f"{kind:8s} {r['rows']:,} lines, {r['customers']:,} customers; peak {r['peak_mb']:,.0f} MB")
            for name in STEPS:
                print(f"  {name:9s} {r[f'{name}_s']:7.2f} s  CPU {r[f'{name}_cpu_s']:7.2f} s  "
                      f"peak {r[f'{name}_mb']:8,.0f} MB")  # fmt: skip
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
