"""Benchmark: the lifetimes-style fitters of ``analysis.clv`` against lifetimes itself, the same calls of a lifetimes
notebook on CDNOW: lifetimes' 2,357-customer summary (``cdnow_customers_summary_with_transactions.csv``) and the
full CDNOW master file (23,570 customers, summarised by ``summary_data_from_transaction_data`` as of 1997-09-30,
in weeks).

Run with ``.venv/bin/python benchmarks/bench_lifetimes_api.py [--repeat N]``. For each library and data set it
prints the wall and CPU time (the best of N runs) of each step: the summary of the transactions, the BG/NBD,
MBG/NBD, Pareto/NBD and Gamma-Gamma fits, P(alive) and the 52-week forecast of every customer, and the 12-month
CLV; then how many of the forecasts are NaN. The machine may be shared: CPU time is the steadier number.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

FOLDER = Path(importlib.util.find_spec("lifetimes").origin).parent / "datasets"


def timed(step, repeat: int):
    """(result, best wall seconds, best CPU seconds) of ``step()`` over ``repeat`` runs."""
    best_wall = best_cpu = np.inf
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = step()
        best_wall, best_cpu = min(best_wall, time.perf_counter() - w0), min(best_cpu, time.process_time() - c0)
    return out, best_wall, best_cpu


def steps(lib, summary_fn, transactions: pd.DataFrame | None, X: pd.DataFrame | None):
    """The notebook's calls, each a function of the results before it."""
    state: dict = {}
    if transactions is not None:
        yield "summary", lambda: state.update(X=summary_fn(transactions, "id", "date", "amount",
                                                          observation_period_end="1997-09-30", freq="D",
                                                          freq_multiplier=7))  # fmt: skip
    else:
        state["X"] = X

    def fit(name):
        return lambda: state.update({name: getattr(lib, name)().fit(state["X"]["frequency"], state["X"]["recency"],
                                                                     state["X"]["T"])})  # fmt: skip

    for name in ("BetaGeoFitter", "ModifiedBetaGeoFitter", "ParetoNBDFitter"):
        yield name, fit(name)

    def gamma_gamma():
        repeat = state["X"][(state["X"]["frequency"] > 0) & (state["X"]["monetary_value"] > 0)]
        state["gg"] = lib.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])

    yield "GammaGammaFitter", gamma_gamma
    args = lambda: [state["X"][c] for c in ("frequency", "recency", "T")]  # noqa: E731
    for name in ("BetaGeoFitter", "ParetoNBDFitter"):
        yield f"{name} p_alive + forecast", lambda name=name: state.update({
            f"{name}_out": (state[name].conditional_probability_alive(*args()),
                            state[name].conditional_expected_number_of_purchases_up_to_time(52, *args()))})  # fmt: skip
    yield "customer_lifetime_value (BG/NBD)", lambda: state.update(
        clv=state["gg"].customer_lifetime_value(state["BetaGeoFitter"], *args(), state["X"]["monetary_value"],
                                                time=12, freq="W"))  # fmt: skip
    yield "nan", lambda: state.update(nan={k: int(np.isnan(np.asarray(v, float)).sum()) for k, v in (
        ("BG p_alive", state["BetaGeoFitter_out"][0]), ("BG forecast", state["BetaGeoFitter_out"][1]),
        ("Pareto p_alive", state["ParetoNBDFitter_out"][0]), ("Pareto forecast", state["ParetoNBDFitter_out"][1]),
        ("CLV", state["clv"]))})  # fmt: skip
    yield "report", lambda: state


def run(label: str, lib, summary_fn, repeat: int, transactions=None, X=None) -> None:
    print(f"\n{label}")
    for name, step in steps(lib, summary_fn, transactions, X):
        if name == "report":
            state = step()
            print(f"  NaN: {state['nan']}; Pareto/NBD {dict(state['ParetoNBDFitter'].params_.round(4))}")
            continue
        _, wall, cpu = timed(step, 1 if name == "nan" else repeat)
        if name != "nan":
            print(f"  {name:38s} wall {wall:7.3f} s  cpu {cpu:7.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    warnings.simplefilter("ignore")
    import lifetimes
    import lifetimes.utils

    from analysis import clv
    from analysis.clv import fitters  # noqa: F401  (lifetimes imported once, its side effects undone)
    from analysis.data import summary_data_from_transaction_data

    small = pd.read_csv(FOLDER / "cdnow_customers_summary_with_transactions.csv")
    small.columns = ["customer_id", "frequency", "recency", "T", "monetary_value"]
    small = small.set_index("customer_id")
    master = pd.read_csv(FOLDER / "CDNOW_master.txt", sep=r"\s+", header=0, names=["id", "date", "cds", "amount"],
                         dtype={"id": str, "date": str})  # fmt: skip
    master["date"] = pd.to_datetime(master["date"], format="%Y%m%d")
    for name, lib, summary in (("lifetimes", lifetimes, lifetimes.utils.summary_data_from_transaction_data),
                               ("analysis.clv", clv, summary_data_from_transaction_data)):  # fmt: skip
        run(f"{name}: CDNOW sample summary, 2,357 customers", lib, summary, repeat, X=small)
        run(f"{name}: CDNOW master, 23,570 customers, 39 weeks", lib, summary, repeat, transactions=master)


if __name__ == "__main__":
    main()
