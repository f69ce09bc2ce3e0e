"""Customer analytics workbench: raw transactions to segments, lifetime value and churn risk."""

__version__ = "0.1.0"
