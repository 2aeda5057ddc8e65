"""Exact values for the solutions of the small models (pool plan, distribution; issue 12).

CBC reports values to 8 significant digits (its solution file's `%15.8g`): EUR 30 million to
about a euro, stage optima a little above or below the truth, so that the next stage starts
from another face than under HiGHS and the plans part. Yet an LP's (or a MIP's, its integers
fixed) optimal basic solution is a vertex: the one point where its tight rows and bounds meet.
`polish` finds those rows at the solution (within a tolerance that CBC's 8 digits need) and
solves them again in float64 (Gauss-Jordan): both back-ends then hold the same vertex, to
about 1e-12, and fix the same optima.
"""

from __future__ import annotations

import math

import numpy as np
import pulp

# Tolerances tried, in order, to tell the tight rows: first the one CBC's 8 digits need, so that
# both back-ends find the same rows; then tighter and looser ones.
TIGHT_TOLS = (1e-6, 1e-7, 1e-5, 1e-9)
# Largest model polished (dense algebra: a few milliseconds at this size).
MAX_COLUMNS = 1500


def polishable(prob: pulp.LpProblem) -> bool:
    """Small, with continuous variables (integers are exact once rounded)."""
    variables = prob.variables()
    return len(variables) <= MAX_COLUMNS and any(v.cat != pulp.LpInteger for v in variables)


def polish(prob: pulp.LpProblem) -> bool:
    """Replace the solution by the vertex its tight rows and bounds define, when they define
    one (full rank, consistent, feasible, close to the solution); else leave it (False).
    Integer variables keep their rounded values."""
    variables = prob.variables()
    n = len(variables)
    column = {v.name: j for j, v in enumerate(variables)}
    x = np.array([float(v.varValue or 0.0) for v in variables])
    integer = np.array([v.cat == pulp.LpInteger for v in variables])
    rows = list(prob.constraints())  # a list: the dict form is deprecated in PuLP 3.3
    a = np.zeros((len(rows), n))
    for r, constraint in enumerate(rows):
        for v, coef in constraint.expr.items():
            a[r, column[v.name]] += coef
    rhs = np.array([-c.constant for c in rows])
    sense = np.array([c.sense for c in rows])
    low = np.array([-math.inf if v.lowBound is None else float(v.lowBound) for v in variables])
    high = np.array([math.inf if v.upBound is None else float(v.upBound) for v in variables])
    scale = 1.0 + np.abs(a) @ np.abs(x) + np.abs(rhs)
    gap = a @ x - rhs
    for tol in TIGHT_TOLS:
        tight = (sense == pulp.LpConstraintEQ) | (np.abs(gap) <= tol * scale)
        at_low = np.isfinite(low) & (np.abs(x - low) <= tol * (1.0 + np.abs(low)))
        at_high = np.isfinite(high) & (np.abs(x - high) <= tol * (1.0 + np.abs(high)))
        pinned = integer | at_low | at_high
        target = np.where(integer, np.round(x), np.where(at_low, low, high))
        # The pinned variables' values are known: only the others are solved for.
        y = np.where(pinned, target, 0.0)
        rows = a[tight]
        values = rhs[tight] - rows[:, pinned] @ target[pinned]
        free = _solve(rows[:, ~pinned], values)
        if free is None:
            continue
        y[~pinned] = free
        system = np.vstack([rows, np.eye(n)[pinned]])
        values = np.concatenate([rhs[tight], target[pinned]])
        if _acceptable(y, x, a, rhs, sense, low, high, system, values, tol):
            for v, found in zip(variables, y, strict=True):
                v.varValue = float(found)
            return True
    return False


def _solve(system: np.ndarray, values: np.ndarray) -> np.ndarray | None:
    """The solution of an overdetermined system by Gauss-Jordan elimination with partial
    pivoting on equilibrated rows; None when its rank is short of the columns. (Not LAPACK:
    its threaded SVD took 0.8 s for 150 columns on a loaded 2-core machine, against 5 ms.)"""
    m, n = system.shape
    if n == 0:
        return np.zeros(0)
    if m < n:
        return None
    norms = np.abs(system).max(axis=1)
    norms[norms == 0] = 1.0
    work = np.hstack([system / norms[:, None], (values / norms)[:, None]])
    free = np.ones(m, dtype=bool)
    pivots = np.empty(n, dtype=np.int64)
    for j in range(n):
        column = np.where(free, np.abs(work[:, j]), -1.0)
        r = int(np.argmax(column))
        if column[r] <= 1e-9:
            return None
        free[r] = False
        pivots[j] = r
        factors = work[:, j] / work[r, j]
        factors[r] = 0.0
        work -= np.multiply.outer(factors, work[r])
    return work[pivots, n] / work[pivots, np.arange(n)]


def _acceptable(y: np.ndarray, x: np.ndarray, a: np.ndarray, rhs: np.ndarray,
                sense: np.ndarray, low: np.ndarray, high: np.ndarray, system: np.ndarray,
                values: np.ndarray, tol: float) -> bool:
    """The system holds at `y`, `y` is feasible, and it is where the solver's solution was."""
    eps = 1e-9
    if np.any(np.abs(system @ y - values)
              > eps * (1.0 + np.abs(system) @ np.abs(y) + np.abs(values))):
        return False
    gap = a @ y - rhs
    scale = eps * (1.0 + np.abs(a) @ np.abs(y) + np.abs(rhs))
    if np.any((sense != pulp.LpConstraintGE) & (gap > scale)) or \
            np.any((sense != pulp.LpConstraintLE) & (gap < -scale)):
        return False
    with np.errstate(invalid="ignore"):
        if np.any(y < low - eps * (1.0 + np.abs(low))) or \
                np.any(y > high + eps * (1.0 + np.abs(high))):
            return False
    return bool(np.all(np.abs(y - x) <= 100.0 * tol * (1.0 + np.abs(x))))
