"""Column helpers of the loader (planner.inputs.candidates): the way a function is applied to a
large column. (The verifier reads candidates.csv its own way, planner.verifier.matching.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd


def per_value_codes(column: pd.Series, function: Callable[[Any], object]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """`function` applied once per distinct value of `column` (the columns of a large file
    repeat few values: flags, codes, dates; a Python call per cell of a million rows is what
    made validation slow, not pandas), as (codes, results): row i's result is
    `results[codes[i]]`, each distinct value's result one shared object."""
    codes, values = pd.factorize(column, use_na_sentinel=False)
    results = np.empty(len(values), dtype=object)
    for n, value in enumerate(values):  # one by one: a tuple result stays one object
        results[n] = function(value)
    return codes, results
