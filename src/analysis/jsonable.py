"""Stage reports as JSON: numpy scalars become Python numbers, NaN and infinities become null, timestamps
become ISO dates, so every stage's JSON file reads the same way and a rerun writes the same bytes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def jsonable(obj: Any) -> Any:
    """``obj`` (dicts, lists and scalars, nested) made JSON-safe; mapping keys become strings."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, pd.Timestamp):
        return obj.date().isoformat()
    return obj
