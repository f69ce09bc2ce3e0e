"""lifetimes' tests/conftest.py seeds numpy's global generator before every test (with a random seed, printed);
here with a fixed one, so a run can be repeated."""

import numpy as np


def pytest_runtest_setup(item):
    np.random.seed(2357)
