"""Benchmark: the cohorts stage (:func:`analysis.cohorts.run`) on 1M simulated customers.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/bench_cohorts.py [--customers N]``). Transactions are
simulated from BG/NBD (the CDNOW estimates, two years, customers acquired in the first quarter) with Gamma-Gamma
spend (:func:`analysis.clv.simulate.simulate_transactions`, as the churn benchmark); the customer table is made
from them once, untimed, with two attributes drawn per customer (region: 5 values, customer type: 3), so the
stage also computes the by-attribute view. The stage then runs once untimed on 2,000 customers (imports, first
calls), then on all of them with the default settings (monthly cohorts), and once by week.

Prints wall-clock and CPU seconds for the stage (and, apart, for reading the four columns it needs from a Parquet
file, as the page reads the run directory's transactions), the cohorts and cells it found, and the peak memory
(RSS high-water mark) while it runs, the transactions already in memory. Target (issue 19): at most 5 s at 1M
customers.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from measure import cpu_seconds, peak_memory_gb, reset_peak_memory

AS_OF = "2023-12-31"
TARGET_SECONDS = 5.0


def _timed(rows: list, name: str, call):
    t, c = time.perf_counter(), cpu_seconds()
    out = call()
    rows.append((name, time.perf_counter() - t, cpu_seconds() - c))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()

    import pandas as pd

    from analysis import clv, cohorts
    from analysis.config import deep_merge, load_config
    from analysis.data.features import customer_features
    from analysis.stage import Frames

    config = load_config()
    tx = clv.simulate_transactions(args.customers, seed=1)
    tx["order_id"] = np.arange(len(tx)).astype(str)
    customers = customer_features(tx, pd.Timestamp(AS_OF))
    rng = np.random.default_rng(1)
    customers["region"] = rng.choice(["North", "South", "East", "West", "Centre"], len(customers))
    customers["customer_type"] = rng.choice(["retail", "wholesale", "online"], len(customers), p=[0.6, 0.1, 0.3])
    print(f"simulated {args.customers:,} customers, {len(tx):,} transactions")

    small = tx[tx["customer_id"].isin(customers["customer_id"].iloc[:2000])]
    cohorts.run(Frames(small, as_of=AS_OF), config)  # warm-up

    rows: list = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "transactions.parquet"
        tx.to_parquet(path, index=False)
        _timed(rows, "read 4 columns of transactions.parquet", lambda: pd.read_parquet(path, columns=list(
            cohorts.stage.TRANSACTION_COLUMNS)))  # fmt: skip

    frames = Frames(tx, as_of=AS_OF, customers_table=customers)
    reset_peak_memory()
    run = _timed(rows, "whole stage, by month (2 attributes)", lambda: cohorts.run(frames, config))
    peak = peak_memory_gb()
    weekly = deep_merge(config, {"cohorts": {"period": "week"}})
    by_week = _timed(rows, "whole stage, by week", lambda: cohorts.run(frames, weekly))

    print(
        f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
        "(wall time grows when other work shares the machine; CPU time does not)"
    )
    print(f"{'part':45s} {'wall s':>8s} {'CPU s':>8s}")
    for name, sec, cpu in rows:
        print(f"{name:45s} {sec:8.2f} {cpu:8.2f}")
    print(f"{'peak memory during the stage (GB)':45s} {peak:8.2f}")
    for name, result in (("month", run), ("week", by_week)):
        r = result.record
        print(f"by {name}: {r['summary']['cohorts']} cohorts, {len(result.tables['matrix']):,} cells, "
              f"reconciled: customers {r['reconciliation']['customers_match']}, "
              f"revenue {r['reconciliation']['revenue_match']}")  # fmt: skip
    stage = next(sec for name, sec, _ in rows if name.startswith("whole stage, by month"))
    print(f"target {TARGET_SECONDS:.0f} s at 1M customers: {'met' if stage <= TARGET_SECONDS else 'NOT met'}")


if __name__ == "__main__":
    main()
