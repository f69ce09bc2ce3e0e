"""The data spine: read raw transactions (``load``, ``parsing``), keep or quarantine every row
(``validate``: typed columns from ``standardise``, the rules of ``rules`` as Ibis expressions run by
the SQL engine of ``engine``, order-status vocabularies from ``status``, netting of returns in
``returns``), build the per-customer table (``features``, Ibis) and report on it (``quality``, its charts in
``plots``); ``summary`` is lifetimes' ``summary_data_from_transaction_data`` for an analyst's own frame.
``pipeline.prepare`` runs the whole spine once for a report run."""

from analysis.data.features import calibration_holdout, customer_features, lifetimes_summary
from analysis.data.pipeline import Prepared, parse_column_options, prepare
from analysis.data.summary import summary_data_from_transaction_data

__all__ = [
    "Prepared",
    "calibration_holdout",
    "customer_features",
    "lifetimes_summary",
    "parse_column_options",
    "prepare",
    "summary_data_from_transaction_data",
]
