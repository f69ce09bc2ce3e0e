"""Benchmark: the CLV stage on the CDNOW 1/10 sample (shipped with lifetimes) as of 1997-09-30, the
window where the backtest calibrates on 19 weeks (up to 1997-05-17) and Pareto/NBD's dropout
heterogeneity is not identified (issue 8 §4).

Run with ``.venv/bin/python benchmarks/bench_clv_fit.py [--before COMMIT] [--bootstrap N]``; with ``--input
FILE --as-of DATE`` (e.g. ``benchmarks/data/sim_dense100k.parquet`` and ``2023-12-31``, the dense profile of
``generate.py``) it times the stage on that file instead (no separate calibration fits), and ``--models
pareto`` times one model's path alone (its full fit and bootstrap refits).
The sample is prepared once with the current data code (default settings) and written to a
temporary folder; the stage then runs in a fresh process on those transactions: with the current
``src/`` and, with ``--before``, with the ``src/`` of an earlier commit (extracted with
``git archive``, the repository is not touched). Prints, for each: the stage's wall and CPU time,
each model's calibration fit alone (wall and CPU), and every model's parameters, log-likelihood and
status as ``clv.json`` has them. The machine may be shared: CPU time is the steadier number.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "1997-09-30"


def _child(folder: Path, bootstrap: int, as_of: str, models: str | None) -> None:
    """Time the stage on the prepared sample with whatever ``analysis`` is on the path."""
    import pandas as pd

    from analysis import clv
    from analysis.config import load_config
    from analysis.data import features
    from analysis.stage import Frames

    warnings.simplefilter("ignore")
    tx = pd.read_parquet(folder / "transactions.parquet")
    customers = pd.read_parquet(folder / "customers.parquet")
    overrides = {"bootstrap": {"n": bootstrap}, **({"models": models.split(",")} if models else {})}
    config = load_config(overrides={"clv": overrides})
    out: dict = {"fits": {}}
    cal = features.calibration_holdout(tx, "1997-05-17", AS_OF)
    X = cal.rename(columns={"frequency_cal": "frequency", "recency_cal": "recency", "T_cal": "T"})
    for name in clv.MODELS if as_of == AS_OF else ():
        w0, c0 = time.perf_counter(), time.process_time()
        try:
            clv.PurchaseModel(name).fit(X)
            status = "sound"
        except Exception as exc:  # noqa: BLE001 - a benchmark reports every outcome
            status = f"{type(exc).__name__}: {exc}"[:120]
        out["fits"][name] = {"wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0, "status": status}
    w0, c0 = time.perf_counter(), time.process_time()
    run = clv.run(Frames(tx, as_of=as_of, customers_table=customers), config)
    out["stage"] = {"wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0}
    out["models"] = run.record["models"]
    out["chosen"] = run.record["choice_reason"]["en"]
    out["spend_model"] = run.record["spend_model"]["params"]
    print(json.dumps(out, default=str))


def _prepare(folder: Path, source: str | None, as_of: str) -> None:
    import importlib.util

    from analysis.config import load_config
    from analysis.data.pipeline import prepare

    if source is None:
        source = str(Path(importlib.util.find_spec("lifetimes").origin).parent / "datasets" / "CDNOW_sample.txt")
    prepared = prepare(source, load_config(), as_of)
    prepared.transactions.to_parquet(folder / "transactions.parquet")
    prepared.customers[["customer_id"]].to_parquet(folder / "customers.parquet")


def _run(src: Path, folder: Path, bootstrap: int, as_of: str, models: str | None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, __file__, "--child", str(folder), "--bootstrap", str(bootstrap), "--as-of", as_of]
    cmd += ["--models", models] if models else []
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _print(label: str, result: dict) -> None:
    stage = result["stage"]
    print(f"\n== {label}: clv.run {stage['wall_s']:.1f} s wall, {stage['cpu_s']:.1f} s CPU")
    for name, fit in result["fits"].items():
        print(f"   calibration fit {name:7s} {fit['wall_s']:7.2f} s wall {fit['cpu_s']:7.2f} s CPU  {fit['status']}")
    for entry in result["models"].values():
        for part in ("calibration", "full"):
            if part in entry:
                params = ", ".join(f"{k}={v:.4g}" for k, v in entry[part]["params"].items())
                ll = entry[part]["log_likelihood"]
                print(f"   {entry['label']:10s} {part:11s} {params}  LL={ll}  {entry.get('status', '')}")
        if entry.get("reason"):
            print(f"   {'':10s} {entry['reason']}")
    print(f"   Gamma-Gamma {result['spend_model']}")
    print(f"   chosen: {result['chosen']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="an earlier commit to time as well (e.g. b8e7a3d)")
    parser.add_argument("--bootstrap", type=int, default=30, help="bootstrap resamples (30)")
    parser.add_argument("--input", help="a transactions file to time the stage on (default: the CDNOW 1/10 sample)")
    parser.add_argument("--as-of", default=AS_OF, help=f"the as-of date ({AS_OF} with the CDNOW sample)")
    parser.add_argument("--models", help="the models to run, comma-separated (default: the configured ones)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(Path(args.child), args.bootstrap, args.as_of, args.models)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _prepare(folder, args.input, args.as_of)
        runs = [("after (this tree)", ROOT / "src")]
        if args.before:
            archive = folder / "before.tar"
            subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), args.before, "src"], check=True)
            with tarfile.open(archive) as tar:
                tar.extractall(folder / "before", filter="data")
            runs.insert(0, (f"before ({args.before})", folder / "before" / "src"))
        for label, src in runs:
            _print(label, _run(src, folder, args.bootstrap, args.as_of, args.models))


if __name__ == "__main__":
    main()
