"""Benchmark: the CLV stage against plain lifetimes on 1M simulated customers (~3M transactions).

Run with ``make bench`` (or ``.venv/bin/python benchmarks/bench_clv.py [--customers N]``).
Transactions are simulated once from BG/NBD (the CDNOW estimates, two years, customers acquired
in the first quarter) with Gamma-Gamma spend and written to a temporary Parquet file. Each side
then runs in a fresh process (so its peak memory, max RSS, is its own), timed from transactions
in memory to CLV per customer:

- plain lifetimes: ``summary_data_from_transaction_data`` + ``BetaGeoFitter.fit`` +
  ``GammaGammaFitter.fit`` + ``customer_lifetime_value`` (12 months, 1 % a month, weeks);
- ours: ``analysis.data.features.lifetimes_summary`` (DuckDB) + ``analysis.clv.CLVModel.fit_predict``
  with the same settings, the call the CLV stage makes (it groups the customers into unique rows
  once for the fit and the scores); no bootstrap (``--bootstrap N`` also times N resamples).

Then the time axis the CLV stage adds (issue 19; ``--time-axis N``, default 30, the stage's bootstrap; 0 = skip),
in a process of its own on the same customers, with the model fitted once with N bootstrap refits (untimed): the
month-by-month forecast in total, per tier (3) and per RFM segment (10) with the refits' range
(:func:`analysis.clv.monthly.forecast_products`), the monthly backtest on a 26-week holdout
(:func:`analysis.clv.monthly.monthly_backtest`: the calibration summary again, each month's actuals and
forecast; the backtest's own fits untimed) and a new customer's value with its range, each the best of
``--repeat`` runs, and the same through :func:`analysis.clv.monthly_run.time_axis` as the stage calls it.

Each side first runs once untimed on 2,000 customers (imports, engine start), then ``--repeat``
times (default 3) on all of them; the fastest run is reported, with every run's total. Peak
memory is the process's RSS high-water mark while the stage runs, with the transactions already
loaded. Prints seconds per step, the speed-up and peak memory; asserts that parameters and every
customer's CLV are equal (relative difference <= 1e-6), matched by customer id.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

AS_OF = "2023-12-31"
HORIZON, DISCOUNT = 12, 0.01
RTOL = 1e-6


def _reset_peak_memory() -> float:
    """Reset this process's peak RSS (Linux), so the peak measured is the stage's own with the
    transactions already in memory, not the Parquet read's; returns the RSS now (MB)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_memory_mb() -> float:
    """Peak RSS since the last reset (VmHWM), or since the start where that is unavailable."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _warm_up_sample(tx: pd.DataFrame) -> pd.DataFrame:
    """The transactions of the first 2,000 customers: each side runs once on them untimed, so
    one-off costs (lazy imports, the SQL engine's start) are not counted against either."""
    return tx[tx["customer_id"].isin(tx["customer_id"].unique()[:2000])]


def _plain_once(tx: pd.DataFrame):
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    t0 = time.perf_counter()
    summary = summary_data_from_transaction_data(
        tx,
        "customer_id",
        "timestamp",
        monetary_value_col="amount",
        observation_period_end=AS_OF,
        freq="D",
        freq_multiplier=7,
    )
    t1 = time.perf_counter()
    bgf = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    repeat = summary[summary["frequency"] > 0]
    ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    t2 = time.perf_counter()
    clv = ggf.customer_lifetime_value(
        bgf,
        summary["frequency"],
        summary["recency"],
        summary["T"],
        summary["monetary_value"],
        time=HORIZON,
        discount_rate=DISCOUNT,
        freq="W",
    )
    t3 = time.perf_counter()
    times = {"summary": t1 - t0, "fit": t2 - t1, "clv": t3 - t2, "fit_clv": t3 - t1, "total": t3 - t0}
    # lifetimes' values follow the order of its input rows: attach the customer ids by position
    result = pd.DataFrame({"clv": np.asarray(clv)}, index=summary.index)
    params = {**bgf.params_.to_dict(), **ggf.params_.add_prefix("gg_").to_dict()}
    return times, result, params, {}


def _ours_once(tx: pd.DataFrame):
    from analysis import clv
    from analysis.data import features

    t0 = time.perf_counter()
    summary = features.lifetimes_summary(tx[["customer_id", "timestamp", "amount"]], AS_OF)
    t1 = time.perf_counter()
    model = clv.CLVModel("bgnbd", horizon_months=HORIZON, discount_rate=DISCOUNT, time_unit="weeks")
    scores = model.fit_predict(summary)  # as the CLV stage calls it: the customers grouped once for both
    t2 = time.perf_counter()
    times = {"summary": t1 - t0, "fit_clv": t2 - t1, "total": t2 - t0}
    params = {**model.purchase_model_.params_.to_dict(), **model.spend_model_.params_.add_prefix("gg_").to_dict()}
    return times, scores[["clv"]], params, {"patterns": model.purchase_model_.n_patterns_}


def _bootstrap_seconds(tx: pd.DataFrame, n_bootstrap: int) -> float:
    from analysis import clv
    from analysis.data import features

    t0 = time.perf_counter()
    summary = features.lifetimes_summary(tx[["customer_id", "timestamp", "amount"]], AS_OF)
    clv.CLVModel(
        "bgnbd", horizon_months=HORIZON, discount_rate=DISCOUNT, n_bootstrap=n_bootstrap, random_state=0
    ).fit_predict(summary)
    return time.perf_counter() - t0


def _best(step, repeat: int) -> float:
    """The fastest of ``repeat`` runs of ``step()``, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return min(times)


def time_axis(path: str, repeat: int, n_bootstrap: int) -> dict:
    """Seconds of each part of the CLV stage's time axis on the transactions at ``path`` (see the module's
    docstring) and of the whole, as the stage calls it."""
    from analysis import clv
    from analysis.clv import monthly, monthly_run
    from analysis.clv.new_customer import new_customer_value
    from analysis.config import load_config
    from analysis.data import features

    warnings.simplefilter("ignore")
    tx = pd.read_parquet(path, columns=["customer_id", "timestamp", "amount"])
    summary = features.lifetimes_summary(tx, AS_OF)
    model = clv.CLVModel("bgnbd", horizon_months=HORIZON, discount_rate=DISCOUNT, n_bootstrap=n_bootstrap,
                         random_state=0).fit(summary)  # fmt: skip
    rng = np.random.default_rng(0)
    customers = pd.DataFrame({"customer_id": summary.index, "tier": rng.choice(["VIP", "Important", "Ordinary"],
                              len(summary)), "rfm_segment": rng.choice([f"segment {k}" for k in range(10)],
                              len(summary))})  # fmt: skip
    groups = customers.set_index("customer_id")
    cal = pd.Timestamp(AS_OF) - pd.Timedelta(weeks=26)
    bt = clv.backtest(tx, cal, AS_OF, ["bgnbd"])
    pm, sm, boot = model.purchase_model_, model.spend_model_, model.bootstrap_params_
    cfg, rows = load_config()["clv"], np.arange(len(summary))

    def forecast():
        monthly.forecast_products(pm, sm, summary, AS_OF, HORIZON, groups, bootstrap=boot)

    def stage():
        monthly_run.time_axis(model, summary, customers, rows, tx, bt, "bgnbd", cfg, pd.Timestamp(AS_OF))

    return {
        "forecast_s": _best(forecast, repeat),
        "monthly_backtest_s": _best(lambda: monthly.monthly_backtest(tx, bt, "bgnbd"), repeat),
        "new_customer_s": _best(lambda: new_customer_value(pm, sm, HORIZON, DISCOUNT, bootstrap=boot), repeat),
        "stage_s": _best(stage, repeat),
    }


def measure(side: str, path: str, out: str, repeat: int, n_bootstrap: int) -> dict:
    """Run one side ``repeat`` times on the transactions at ``path`` (after an untimed warm-up)
    and keep the fastest run; write its CLV per customer to ``out``."""
    warnings.simplefilter("ignore")
    once = _plain_once if side == "plain" else _ours_once
    tx = pd.read_parquet(path)
    once(_warm_up_sample(tx))
    data_mb = _reset_peak_memory()
    runs = [once(tx) for _ in range(repeat)]
    times, result, params, extra = min(runs, key=lambda run: run[0]["total"])
    peak_mb = _peak_memory_mb()
    result.to_parquet(out)
    out_dict = {
        "seconds": times,
        "all_totals": [run[0]["total"] for run in runs],
        "params": params,
        "data_rss_mb": data_mb,
        "peak_rss_mb": peak_mb,
        **extra,
    }
    if side == "ours" and n_bootstrap:
        out_dict["bootstrap_s"] = _bootstrap_seconds(tx, n_bootstrap)
    return out_dict


def _run(side: str, data: Path, out: Path, repeat: int, n_bootstrap: int) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--measure",
        side,
        str(data),
        str(out),
        "--repeat",
        str(repeat),
        "--bootstrap",
        str(n_bootstrap),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument(
        "--bootstrap", type=int, default=0, help="also time our stage with this many bootstrap resamples"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per side (the fastest is reported)")
    parser.add_argument("--time-axis", type=int, default=30,
                        help="bootstrap refits of the time axis' model (as the stage); 0 = not timed")  # fmt: skip
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        side, data, out = args.measure
        if side == "time_axis":
            print(json.dumps(time_axis(data, args.repeat, args.bootstrap)))
            return
        print(json.dumps(measure(side, data, out, args.repeat, args.bootstrap)))
        return

    from analysis.clv import simulate_transactions

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "transactions.parquet"
        tx = simulate_transactions(args.customers, seed=0, start="2022-01-01", end=AS_OF)
        tx.to_parquet(data, index=False)
        print(
            f"simulated {args.customers:,} customers, {len(tx):,} transactions "
            f"(BG/NBD + Gamma-Gamma, 2022-01-01 to {AS_OF})"
        )
        del tx
        results = {}
        for side in ("plain", "ours"):
            results[side] = _run(side, data, Path(tmp) / f"{side}.parquet", args.repeat, args.bootstrap)
            s = results[side]["seconds"]
            split = f" (fit {s['fit']:.2f}s, clv {s['clv']:.2f}s)" if "fit" in s else ""
            print(
                f"{side:6s} summary {s['summary']:6.2f}s  fit + clv {s['fit_clv']:6.2f}s{split}  "
                f"total {s['total']:6.2f}s  "
                f"peak memory {results[side]['peak_rss_mb']:,.0f} MB "
                f"({results[side]['data_rss_mb']:,.0f} MB with the transactions loaded); "
                f"totals of the {args.repeat} runs: " + ", ".join(f"{t:.2f}s" for t in results[side]["all_totals"])
            )
        a = pd.read_parquet(Path(tmp) / "plain.parquet")["clv"]
        b = pd.read_parquet(Path(tmp) / "ours.parquet")["clv"]
        axis = {}
        if args.time_axis:
            axis = _run("time_axis", data, Path(tmp) / "axis.parquet", args.repeat, args.time_axis)

    # equal outputs: parameters and each customer's CLV, matched by customer id
    assert a.index.sort_values().equals(b.index.sort_values()), "different customers"
    p, q = results["plain"]["params"], results["ours"]["params"]
    param_diff = max(abs(q[k] / p[k] - 1) for k in p)
    clv_diff = float(np.max(np.abs(b.loc[a.index].to_numpy() / a.to_numpy() - 1)))
    assert param_diff <= RTOL, f"parameters differ by {param_diff:.2e}"
    assert clv_diff <= RTOL, f"CLV differs by {clv_diff:.2e}"
    ratio = results["plain"]["seconds"]["total"] / results["ours"]["seconds"]["total"]
    print(
        f"equal outputs: parameters within {param_diff:.1e}, CLV of {len(a):,} customers "
        f"within {clv_diff:.1e} (relative)"
    )
    print(f"fitted on {results['ours']['patterns']:,} unique (frequency, recency, T) rows")
    print(f"speed-up: {ratio:.1f}x")
    if "bootstrap_s" in results["ours"]:
        print(
            f"ours with {args.bootstrap} bootstrap resamples (summary, fit, refits, "
            f"intervals): {results['ours']['bootstrap_s']:.2f}s"
        )

    if axis:
        print(
            f"time axis ({args.time_axis} bootstrap refits): monthly forecast by tier and segment "
            f"{axis['forecast_s']:.2f}s, monthly backtest {axis['monthly_backtest_s']:.2f}s, new customer "
            f"{axis['new_customer_s']:.2f}s; as the CLV stage calls it {axis['stage_s']:.2f}s"
        )


if __name__ == "__main__":
    main()
