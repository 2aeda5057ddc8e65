"""Column helpers of the loader (planner.candidates): the way a function is applied to a large
column. (The verifier reads candidates.csv its own way, planner.verify_matching.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd


def per_value(column: pd.Series, function: Callable[[Any], object]) -> pd.Series:
    """`column.map(function)` with one call per distinct value: the columns of a large file
    repeat few values (flags, codes, dates), and a Python call per cell of a million rows is
    what made validation slow, not pandas."""
    codes, values = pd.factorize(column, use_na_sentinel=False)
    results = np.empty(len(values), dtype=object)
    for n, value in enumerate(values):  # one by one: a tuple result stays one object
        results[n] = function(value)
    return pd.Series(results[codes], index=column.index, dtype=object)
