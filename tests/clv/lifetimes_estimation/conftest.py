"""lifetimes' tests/conftest.py seeds numpy's global generator before every test (with a random seed, printed);
here with a fixed one, so a run can be repeated.

Warnings fail the tests (pyproject.toml), but one raised by lifetimes' own test code, kept as it is written: its
``test_fit_with_index`` tests compare a pandas Index with a ``range`` (``ggf.data.index == index``), which pandas
3.1 deprecates (Pandas4Warning "Operation with range is deprecated"). That warning, and only in those tests, is
allowed here."""

import numpy as np
import pytest

RANGE_COMPARISON = "ignore:Operation with range is deprecated:pandas.errors.Pandas4Warning"


def pytest_collection_modifyitems(items):
    for item in items:
        if item.name == "test_fit_with_index" and "lifetimes_estimation" in str(item.path):
            item.add_marker(pytest.mark.filterwarnings(RANGE_COMPARISON))


def pytest_runtest_setup(item):
    np.random.seed(2357)
