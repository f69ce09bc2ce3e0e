"""lifetimes' ``lifetimes.datasets`` loaders for its estimation tests, reading the CSV files shipped inside the
installed lifetimes package by path (importing ``lifetimes.datasets`` needs pkg_resources and imports
lifetimes, with its import-time side effects)."""

import importlib.util
from pathlib import Path

import pandas as pd

FOLDER = Path(importlib.util.find_spec("lifetimes").origin).parent / "datasets"


def load_dataset(filename, **kwargs):
    return pd.read_csv(FOLDER / filename, **kwargs)


def load_donations(**kwargs):
    return load_dataset("donations.csv", **kwargs)


def load_cdnow_summary(**kwargs):
    return load_dataset("cdnow_customers_summary.csv", **kwargs)


def load_transaction_data(**kwargs):
    return load_dataset("example_transactions.csv", **kwargs)


def load_cdnow_summary_data_with_monetary_value(**kwargs):
    df = load_dataset("cdnow_customers_summary_with_transactions.csv", **kwargs)
    df.columns = ["customer_id", "frequency", "recency", "T", "monetary_value"]
    df = df.set_index("customer_id")
    return df
