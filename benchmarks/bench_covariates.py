"""Benchmark: a purchase-model fit with static covariates against the same fit without (issue 20: at 1M customers
with three binary covariates, at most 3x the time).

Run with ``.venv/bin/python benchmarks/bench_covariates.py [--customers N] [--models pareto,bgnbd,mbgnbd]
[--repeat R]``. Customers are simulated with CLVTools' link functions (three binary covariates, each customer's
alpha and beta / a, b from them), observed for 1 to 78 weeks with recency and T in whole days (as a summary of
real transactions has them). Both sides deliver the same things but the coefficients, from the customers' rows:

- **without covariates**: :class:`~analysis.clv.models.PurchaseModel` ``.fit(summary)`` (the customers grouped
  into unique (frequency, recency, T) rows; the parameters at the exact optimum of the full data, BFGS started
  on a coarse copy; the log-likelihood) and the parameters' standard errors, lifetimes' ``summary`` se(coef):
  the Hessian of the objective at the optimum, which BG/NBD and MBG/NBD compute in ``fit`` (differences of the
  exact gradient, ``fitter_._hessian_``) and Pareto/NBD does not, so it is timed here as
  :meth:`~analysis.clv.models.PurchaseModel.warm_curvature` (the same differences on the fitted rows, grouped
  once for both);
- **with covariates**: :class:`~analysis.clv.covariates.CovariatePurchaseModel` ``.fit(X, baseline=...)`` (the
  customers grouped into unique (frequency, recency, T, covariates) rows; the parameters and coefficients at the
  exact optimum, BFGS started on a coarse copy; the log-likelihood; the standard errors of both from the
  Hessian; the likelihood-ratio test) given the fit without covariates above as its null and start (a report
  run has fitted it already for the backtest, and the test needs it anyway): the fit without is timed once, on
  its side. ``with, from nothing`` is also printed: ``fit(X)`` fitting its own null (on the unique rows with
  covariates, weighted), as the lifetimes-style API's ``fit(..., covariates_trans=...)`` does.

For each model it prints the wall and CPU time (the best of R runs) of each side, the ratio, the unique rows of
each, the coefficients against the truth and the likelihood-ratio test. The machine may be shared: CPU time is
the steadier number.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from analysis.clv.covariates import CovariatePurchaseModel
from analysis.clv.models import PurchaseModel, condense
from analysis.clv.simulate import simulate_summary

TRUE = {"pareto": (0.55, 10.5, 0.6, 12.0), "bgnbd": (0.25, 4.4, 0.8, 2.4), "mbgnbd": (0.25, 4.4, 0.8, 2.4)}
GAMMA_TRANS = np.array([0.5, -0.4, 0.3])
GAMMA_LIFE = np.array([-0.6, 0.4, 0.25])
COLUMNS = ["g1", "g2", "g3"]


def simulated(model: str, n: int, seed: int = 1) -> pd.DataFrame:
    """``n`` customers with three binary covariates, their summary in weeks with recency and T in whole days."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, (n, 3)).astype(float)
    r, alpha, s, beta = TRUE[model]
    rate = alpha * np.exp(-X @ GAMMA_TRANS)
    life = np.exp((-1.0 if model == "pareto" else 1.0) * (X @ GAMMA_LIFE))
    params = (r, rate, s, beta * life) if model == "pareto" else (r, rate, s * life, beta * life)
    T = rng.integers(7, 78 * 7 + 1, n) / 7.0
    summary = simulate_summary(model, params, T, rng)
    summary["recency"] = np.floor(summary["recency"].to_numpy() * 7.0) / 7.0
    return pd.concat([summary, pd.DataFrame(X, columns=COLUMNS)], axis=1)


def best(step, repeat: int):
    """(result, best wall seconds, best CPU seconds) of ``step()`` over ``repeat`` runs."""
    out, wall, cpu = None, np.inf, np.inf
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = step()
        wall, cpu = min(wall, time.perf_counter() - w0), min(cpu, time.process_time() - c0)
    return out, wall, cpu


def without_covariates(model: str, summary: pd.DataFrame) -> PurchaseModel:
    """The fit without covariates with its standard errors (see the module's docstring)."""
    condensed = condense(summary, ["frequency", "recency", "T"])  # grouped once for the fit and its Hessian
    pm = PurchaseModel(model).fit(summary, condensed=condensed)
    if model == "pareto":
        pm.curvature_ = pm.warm_curvature(condensed=condensed)
    return pm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--models", default="pareto,bgnbd,mbgnbd")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    for model in args.models.split(","):
        X = simulated(model, args.customers)
        summary = X[["frequency", "recency", "T"]]
        rows = len(condense(summary, ["frequency", "recency", "T"])[0])
        rows_cov = len(condense(X, ["frequency", "recency", "T", *COLUMNS])[0])
        base, w0, c0 = best(lambda: without_covariates(model, summary), args.repeat)  # noqa: B023
        fit = CovariatePurchaseModel(model, COLUMNS, COLUMNS)
        cov, w1, c1 = best(lambda: fit.fit(X, baseline=base), args.repeat)  # noqa: B023
        print(f"{model}: {args.customers:,} customers; unique rows {rows:,} without covariates, {rows_cov:,} with")
        print(f"  without covariates  wall {w0:7.2f} s  cpu {c0:7.2f} s")
        print(f"  with covariates     wall {w1:7.2f} s  cpu {c1:7.2f} s   ratio wall {w1 / w0:.2f}x cpu {c1 / c0:.2f}x")
        _, w2, c2 = best(lambda: CovariatePurchaseModel(model, COLUMNS, COLUMNS).fit(X), args.repeat)  # noqa: B023
        print(f"  with, from nothing  wall {w2:7.2f} s  cpu {c2:7.2f} s   ratio wall {w2 / w0:.2f}x cpu {c2 / c0:.2f}x")
        print(f"  full-data BFGS steps {cov.n_iterations_}")
        truth = dict(zip(cov.coefficients_.index, [*GAMMA_TRANS, *GAMMA_LIFE], strict=True))
        for key, value in cov.coefficients_.items():
            print(f"    {key:10s} {value:+.4f} (se {cov.std_errors_[key]:.4f}; true {truth[key]:+.2f})")
        test = cov.lr_test_
        print(f"  LR test {test['statistic']:,.1f} on {test['df']} df, p = {test['p_value']:.3g}")


if __name__ == "__main__":
    main()
