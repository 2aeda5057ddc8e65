"""sweep.csv: each indicator's distribution per variant (issue 16, item 2), and the ranking of
the variants for sweep.html.

Per variant and indicator, over the scenarios where it applies (`valid`; a scenario without
a plan, or a state not benefitting that year, gives no value): the mean, the 5th, 50th and
95th percentiles (linear interpolation between order statistics, numpy's default), and the
CVaR at 10 %: the mean of the worst ceil(10 % of valid) values, worst meaning lowest for an
indicator where higher is better and highest for one where lower is better
(models.uncertainty.lower_is_better). `p_target` is P(indicator >= target) and `p_limit`
P(indicator <= limit) over all the variant's scenarios (a scenario without a value does not
meet it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.uncertainty import lower_is_better
from planner.sweep.indicators import KEYS

COLUMNS = ("variant", "indicator", "scenarios", "valid", "mean", "p5", "p50", "p95", "cvar10",
           "target", "p_target", "limit", "p_limit")
TAIL = 0.10


def cvar(values: np.ndarray, lower_better: bool, tail: float = TAIL) -> float:
    """The mean of the worst `tail` of `values` (at least one value); NaN when empty."""
    if not len(values):
        return math.nan
    count = max(1, math.ceil(tail * len(values) - 1e-9))
    ordered = np.sort(values)
    worst = ordered[-count:] if lower_better else ordered[:count]
    return math.fsum(worst.tolist()) / count


def describe(values: np.ndarray, name: str) -> dict[str, float]:
    """The statistics of one indicator of one variant (NaN: no valid value)."""
    valid = values[~np.isnan(values)]
    if not len(valid):
        return {"valid": 0, "mean": math.nan, "p5": math.nan, "p50": math.nan,
                "p95": math.nan, "cvar10": math.nan}
    p5, p50, p95 = (float(v) for v in np.percentile(valid, [5, 50, 95]))
    return {"valid": len(valid), "mean": math.fsum(valid.tolist()) / len(valid),
            "p5": p5, "p50": p50, "p95": p95, "cvar10": cvar(valid, lower_is_better(name))}


def share(values: np.ndarray, threshold: float | None, at_least: bool) -> float:
    """P(value >= threshold) (or <= with `at_least` false) over every scenario."""
    if threshold is None or not len(values):
        return math.nan
    met = values >= threshold if at_least else values <= threshold
    return float(np.count_nonzero(met & ~np.isnan(values))) / len(values)


def summary(rows: pd.DataFrame, variants: Sequence[str], targets: Mapping[str, float],
            limits: Mapping[str, float]) -> pd.DataFrame:
    """sweep.csv: one row per variant and indicator, in the order of the rows' columns."""
    indicators = [c for c in rows.columns if c not in KEYS]
    out = []
    for variant in variants:
        own = rows[rows["variant"] == variant]
        for name in indicators:
            values = own[name].to_numpy(dtype=float)
            target, limit = targets.get(name), limits.get(name)
            out.append({"variant": variant, "indicator": name, "scenarios": len(values),
                        **describe(values, name),
                        "target": math.nan if target is None else target,
                        "p_target": share(values, target, True),
                        "limit": math.nan if limit is None else limit,
                        "p_limit": share(values, limit, False)})
    data = pd.DataFrame(out, columns=list(COLUMNS))
    data["valid"] = data["valid"].astype("int64")
    return data


@dataclass(frozen=True)
class Ranked:
    """A variant's place by the expected value and by the CVaR 10 % of one indicator."""

    variant: str
    mean: float
    cvar10: float
    rank_mean: int
    rank_cvar10: int


def _order(values: dict[str, float], lower: bool) -> list[str]:
    """Variants best first (NaN last, ties by name)."""
    def worth(variant: str) -> tuple[float, str]:
        value = values[variant]
        return (math.inf if math.isnan(value) else value if lower else -value), variant
    return sorted(values, key=worth)


def ranking(stats: pd.DataFrame, indicator: str) -> list[Ranked]:
    """The variants ranked by the expected value of `indicator` and by its CVaR 10 % (best
    first; ties by variant name), in the order of the first."""
    rows = stats[stats["indicator"] == indicator]
    lower = lower_is_better(indicator)
    means = dict(zip(rows["variant"].astype(str), rows["mean"].astype(float), strict=True))
    tails = dict(zip(rows["variant"].astype(str), rows["cvar10"].astype(float), strict=True))
    by_mean, by_cvar = _order(means, lower), _order(tails, lower)
    return [Ranked(v, means[v], tails[v], by_mean.index(v) + 1, by_cvar.index(v) + 1)
            for v in by_mean]
