"""Simulated transactions with known BG/NBD and Gamma-Gamma parameters, written as Parquet, for the full-run
benchmark (``benchmarks/bench_run.py``; ``make bench-data``).

Each customer makes a first purchase on a day drawn uniformly from the first ``acquisition_days`` days after
``start``, then buys by BG/NBD (time in weeks; default the CDNOW estimates of Fader, Hardie and Lee 2005:
r=0.243, alpha=4.414, a=0.793, b=2.426) until the as-of date ``end``; every purchase's amount is drawn from
Gamma-Gamma (p=6.25, q=3.74, gamma=15.44). The draws are those of
:func:`analysis.clv.simulate.simulate_transactions`, called once per block of 100,000 customers with a seed
derived from ``(seed, block)``; so the same seed gives the same rows at any size, and the first 100k customers
of the 1M set are the 100k set.

Each customer also gets attributes, drawn independently of the purchase process (so the true parameters hold
for the whole population and for every group): country, region (within the country), industry, customer type
and company size, written on every row under headers the loader recognises (``defaults/headers.yaml``):
``Customer ID``, ``Order ID``, ``Order Date``, ``Amount``, ``Country``, ``Region``, ``Industry``,
``Customer Type``, ``Size``. Rows are in customer order, each customer's rows by date.

Profiles (``--profile``): ``cdnow`` (the default, above) and ``dense``, a grocery-like panel of one year
(2023) where customers arrive in the first 60 days and buy about 20 times each (BG/NBD r=2.0, alpha=4.0, a=0.2,
b=8.0 in weeks: a purchase every two weeks on average, a few customers up to about 190 purchases), the data on
which a Pareto/NBD likelihood costs most. A size with the profile's name in front (``dense100k``) selects it
too, so ``make bench-data BENCH_SIZES=dense100k`` writes ``sim_dense100k.parquet``.

The Parquet file is written one block (one row group) at a time, so 10M customers (~28M rows) never need all
rows in memory; it is written to a temporary name and renamed when complete. The true parameters, the
settings and the counts go into a JSON file beside it (``<name>.json``).

    .venv/bin/python benchmarks/generate.py --customers 1000000 --out benchmarks/data/sim_1m.parquet
    .venv/bin/python benchmarks/generate.py --customers dense100k
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.clv.simulate import simulate_transactions

# The CDNOW estimates (weeks): BG/NBD (r, alpha, a, b) and Gamma-Gamma (p, q, gamma).
BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}
START, END, ACQUISITION_DAYS = "2022-01-01", "2023-12-31", 90
# the purchase process and observation window of each profile (the spend model is the same)
PROFILES = {
    "cdnow": {"bgnbd": BGNBD, "start": START, "end": END, "acquisition_days": ACQUISITION_DAYS},
    "dense": {
        "bgnbd": {"r": 2.0, "alpha": 4.0, "a": 0.2, "b": 8.0},
        "start": "2023-01-01",
        "end": "2023-12-31",
        "acquisition_days": 60,
    },
}
BLOCK = 100_000  # customers per block and per row group; fixed, so the rows do not depend on the size asked
FIRST_ID = 1_000_000  # customer ids are FIRST_ID + number, as simulate_transactions writes them

# Customer attributes: value -> share of customers. Regions are drawn within the customer's country.
COUNTRIES = {
    "China": 0.35,
    "United States": 0.20,
    "Germany": 0.10,
    "United Kingdom": 0.08,
    "Japan": 0.08,
    "France": 0.07,
    "Brazil": 0.06,
    "India": 0.06,
}
REGIONS = {
    "China": ["East China", "North China", "South China", "Central China", "Southwest", "Northeast"],
    "United States": ["Northeast", "Midwest", "South", "West"],
    "Germany": ["North", "South", "East", "West"],
    "United Kingdom": ["England", "Scotland", "Wales", "Northern Ireland"],
    "Japan": ["Kanto", "Kansai", "Chubu", "Kyushu"],
    "France": ["Ile-de-France", "North", "South", "West"],
    "Brazil": ["Southeast", "South", "Northeast"],
    "India": ["North", "South", "West", "East"],
}
INDUSTRIES = {
    "Retail": 0.22,
    "Manufacturing": 0.18,
    "Technology": 0.15,
    "Healthcare": 0.10,
    "Finance": 0.10,
    "Education": 0.08,
    "Hospitality": 0.09,
    "Logistics": 0.08,
}
CUSTOMER_TYPES = {"Consumer": 0.52, "Corporate": 0.30, "Home Office": 0.18}
SIZES = {"1-10": 0.40, "11-50": 0.27, "51-200": 0.18, "201-1000": 0.10, "1000+": 0.05}

SIZES_BY_LABEL = {"100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}


def _strings(codes: np.ndarray, values: list[str]) -> pa.Array:
    """Plain strings, as most exports have them (Parquet still stores them dictionary-encoded)."""
    return pa.array(values, pa.string()).take(pa.array(codes, pa.int32()))


def _draw(rng: np.random.Generator, table: dict[str, float], n: int) -> np.ndarray:
    """Codes into ``list(table)`` for ``n`` customers, drawn with the table's shares."""
    shares = np.array(list(table.values()))
    return rng.choice(len(table), size=n, p=shares / shares.sum())


def customer_attributes(n: int, rng: np.random.Generator) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Per-customer attribute codes and their values: header -> (codes, values)."""
    country = _draw(rng, COUNTRIES, n)
    # regions as one list of "country/region" pairs; a customer's region is uniform within the country
    pairs = [(c, r) for c in COUNTRIES for r in REGIONS[c]]
    first = np.cumsum([0] + [len(REGIONS[c]) for c in COUNTRIES])
    counts = np.diff(first)
    region = first[country] + np.floor(rng.uniform(size=n) * counts[country]).astype(int)
    return {
        "Country": (country, list(COUNTRIES)),
        "Region": (region, [r for _, r in pairs]),
        "Industry": (_draw(rng, INDUSTRIES, n), list(INDUSTRIES)),
        "Customer Type": (_draw(rng, CUSTOMER_TYPES, n), list(CUSTOMER_TYPES)),
        "Size": (_draw(rng, SIZES, n), list(SIZES)),
    }


def _block_seed(seed: int, block: int, stream: int) -> int:
    """A 32-bit seed for one block's draws (stream 0: transactions, 1: attributes), independent across blocks."""
    return int(np.random.SeedSequence([seed, block, stream]).generate_state(1)[0])


def simulate_block(
    block: int, n_customers: int, seed: int, first_order: int, profile: str = "cdnow"
) -> tuple[pa.Table, int]:
    """The rows of customers ``block * BLOCK`` to ``block * BLOCK + n_customers - 1`` as an Arrow table (order
    ids continue from ``first_order``), and how many of them made a repeat purchase; ``profile``: a key of
    ``PROFILES``."""
    chosen = PROFILES[profile]
    tx = simulate_transactions(
        n_customers,
        params=tuple(chosen["bgnbd"].values()),
        spend_params=tuple(GAMMA_GAMMA.values()),
        start=chosen["start"],
        end=chosen["end"],
        acquisition_days=chosen["acquisition_days"],
        model="bgnbd",
        seed=_block_seed(seed, block, 0),
    )
    # simulate_transactions numbers customers from FIRST_ID within the call: shift to the block's place
    local = tx["customer_id"].astype("int64").to_numpy() - FIRST_ID
    customer = FIRST_ID + block * BLOCK + local
    attributes = customer_attributes(n_customers, np.random.default_rng(_block_seed(seed, block, 1)))
    columns = {
        "Customer ID": pa.array(customer.astype(str), pa.string()),
        "Order ID": pa.array(first_order + np.arange(len(tx), dtype="int64")),
        "Order Date": pa.array(tx["timestamp"].to_numpy().astype("datetime64[us]")),
        "Amount": pa.array(tx["amount"].to_numpy()),
    }
    for header, (codes, values) in attributes.items():
        columns[header] = _strings(codes[local], values)
    repeat_buyers = int(np.count_nonzero(np.bincount(local, minlength=n_customers) > 1))
    return pa.table(columns), repeat_buyers


def generate(
    n_customers: int, out: str | Path, seed: int = 0, compression: str = "zstd", profile: str = "cdnow"
) -> dict:
    """Write ``n_customers`` simulated customers' transactions of ``profile`` (a key of ``PROFILES``) to the
    Parquet file ``out`` and the true parameters and counts to ``out`` with the suffix ``.json``; returns that
    record."""
    chosen = PROFILES[profile]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    t0 = time.perf_counter()
    rows, repeat_buyers, first_order = 0, 0, 0
    writer = None
    try:
        for block, begin in enumerate(range(0, n_customers, BLOCK)):
            table, repeaters = simulate_block(block, min(BLOCK, n_customers - begin), seed, first_order, profile)
            if writer is None:
                writer = pq.ParquetWriter(partial, table.schema, compression=compression)
            writer.write_table(table, row_group_size=len(table))
            rows += len(table)
            first_order += len(table)
            repeat_buyers += repeaters
        writer.close()
        writer = None
        partial.replace(out)
    finally:
        if writer is not None:
            writer.close()
        partial.unlink(missing_ok=True)
    seconds = time.perf_counter() - t0
    record = {
        "file": out.name,
        "customers": n_customers,
        "rows": rows,
        "repeat_buyers": repeat_buyers,
        "seed": seed,
        "profile": profile,
        "time_unit": "weeks",
        "bgnbd": chosen["bgnbd"],
        "gamma_gamma": GAMMA_GAMMA,
        "start": chosen["start"],
        "as_of": chosen["end"],
        "acquisition_days": chosen["acquisition_days"],
        "block_customers": BLOCK,
        "columns": {
            "customer_id": "Customer ID",
            "order_id": "Order ID",
            "timestamp": "Order Date",
            "amount": "Amount",
            "country": "Country",
            "region": "Region",
            "industry": "Industry",
            "customer_type": "Customer Type",
            "size": "Size",
        },
        "attributes": {
            "Country": COUNTRIES,
            "Region": REGIONS,
            "Industry": INDUSTRIES,
            "Customer Type": CUSTOMER_TYPES,
            "Size": SIZES,
        },
        "generator": "benchmarks/generate.py (analysis.clv.simulate.simulate_transactions per block)",
        "generation_seconds": round(seconds, 2),
        "file_bytes": out.stat().st_size,
    }
    out.with_suffix(".json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return record


def parse_profile(text: str) -> tuple[str | None, str]:
    """A size with a profile's name in front (``dense100k``) as (profile, size); (None, text) without one."""
    text = text.strip().lower()
    for name in PROFILES:
        if text.startswith(name) and text != name:
            return name, text[len(name) :].lstrip("_-")
    return None, text


def parse_size(text: str) -> int:
    """``100k``, ``1m``, ``10M`` or a plain number of customers."""
    text = text.strip().lower().replace("_", "")
    if text in SIZES_BY_LABEL:
        return SIZES_BY_LABEL[text]
    for suffix, factor in (("k", 1_000), ("m", 1_000_000)):
        if text.endswith(suffix):
            return int(float(text[:-1]) * factor)
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--customers", default="100k", help="number of customers: 100k, 1m, 10m or a number; dense100k: dense profile"
    )
    parser.add_argument("--profile", choices=list(PROFILES), help="purchase process (default cdnow, or the size's)")
    parser.add_argument("--out", help="Parquet file to write (default benchmarks/data/sim_<customers>.parquet)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    named, size = parse_profile(args.customers)
    profile = args.profile or named or "cdnow"
    n = parse_size(size)
    out = args.out or Path(__file__).parent / "data" / f"sim_{args.customers.lower()}.parquet"
    record = generate(n, out, seed=args.seed, profile=profile)
    print(
        f"{out}: {record['customers']:,} customers, {record['rows']:,} rows, "
        f"{record['file_bytes'] / 1e6:.1f} MB in {record['generation_seconds']:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
