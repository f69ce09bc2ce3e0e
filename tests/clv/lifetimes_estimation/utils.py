"""What lifetimes' estimation tests use of ``lifetimes.utils``, from analysis: the summary of a transaction log
and the discounted CLV sum (lifetimes names it ``_customer_lifetime_value``; the tests call it by that name)."""

from analysis.clv.lifetimes_api import customer_lifetime_value
from analysis.data import summary_data_from_transaction_data

_customer_lifetime_value = customer_lifetime_value

__all__ = ["summary_data_from_transaction_data", "_customer_lifetime_value"]
