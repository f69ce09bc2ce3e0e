"""Benchmark: the churn stage (:func:`analysis.churn.run`) on 1M simulated customers.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/bench_churn.py [--customers N]``). Transactions
are simulated from BG/NBD (the CDNOW estimates, two years, customers acquired in the first quarter) with
Gamma-Gamma spend, plus 2 % listed customers who never bought. The stage then runs once untimed on 2,000
customers (imports, first calls), then on all of them with the default settings: purchase days, features at
three dates (each with a BG/NBD fit), both models and three baselines fitted and judged with bootstrap
intervals, permutation importance, the refit, reasons, bands and value at risk.

Prints wall-clock and CPU seconds per part (measured on the same data outside the stage) and for the whole
stage, and the peak memory (RSS high-water mark) while the stage runs, with the transactions already in memory.
Target (issue 12): 8 s of CPU and 3 GB for 1M customers; CPU rather than wall time, which grows when other work
shares the machine.
"""

from __future__ import annotations

import argparse
import os
import time

import pandas as pd
from measure import cpu_seconds, peak_memory_gb, reset_peak_memory

AS_OF = "2023-12-31"
TARGET_CPU_SECONDS, TARGET_GB = 8.0, 3.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()

    from analysis import churn, clv
    from analysis.config import load_config
    from analysis.stage import Frames

    config = load_config()
    tx = clv.simulate_transactions(args.customers, seed=1)
    ids = tx["customer_id"].unique()
    prospects = [f"p{i}" for i in range(args.customers // 50)]
    customers = pd.DataFrame({"customer_id": [*ids, *prospects]})
    print(
        f"simulated {args.customers:,} customers ({len(prospects):,} listed prospects more), {len(tx):,} transactions"
    )

    small = tx[tx["customer_id"].isin(ids[:2000])]
    churn.run(Frames(small, as_of=AS_OF), config)  # warm-up

    rows = []
    t, c = time.perf_counter(), cpu_seconds()
    daily = churn.daily_purchases(tx)
    rows.append(("purchase days", time.perf_counter() - t, cpu_seconds() - c))
    t, c = time.perf_counter(), cpu_seconds()
    churn.cutoff_features(daily, AS_OF, 180)
    rows.append(("features at one date (incl. BG/NBD fit)", time.perf_counter() - t, cpu_seconds() - c))
    del daily

    reset_peak_memory()
    t, c = time.perf_counter(), cpu_seconds()
    run = churn.run(Frames(tx, as_of=AS_OF, customers_table=customers), config)
    cpu = cpu_seconds() - c
    rows.append(("whole stage", time.perf_counter() - t, cpu))
    peak = peak_memory_gb()

    print(
        f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
        "(wall time grows when other work shares the machine; CPU time does not)"
    )
    print(f"{'part':45s} {'wall s':>8s} {'CPU s':>8s}")
    for name, sec, cpu in rows:
        print(f"{name:45s} {sec:8.2f} {cpu:8.2f}")
    print(f"{'peak memory during the stage (GB)':45s} {peak:8.2f}")
    r = run.record
    print(
        f"cut-offs {r['cutoffs']}, horizon {r['horizon_days']} days, chosen {r['chosen_scorer']}, "
        f"{r['bootstrap_resamples']} AUC resamples, customers scored {r['customers_scored']:,}"
    )
    table = run.tables["metrics"][["roc_auc", "roc_auc_low", "roc_auc_high", "pr_auc", "brier"]]
    print(table.round(3).to_string())
    ok = cpu <= TARGET_CPU_SECONDS and peak <= TARGET_GB
    print(f"target {TARGET_CPU_SECONDS:.0f} s of CPU and {TARGET_GB:.0f} GB: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
