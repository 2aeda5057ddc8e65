"""The last stage of every model: one plan per input, whatever the back-end (issue 12 item 5).

The lexicographic stages fix the values that matter (shortfall, preferences, coverage, the
balance levels, persons relocated, ...), but many plans can share them: LU's relocations or
its money, which pledge row serves which benefitting state. HiGHS and CBC then return
different ones. The tie-break stage picks one by a rule that depends on the input alone.

Small models (the pool plan, the distribution: about 100 pledge rows): `tie_break`, a last
stage maximising sum_k w_k x_k over every variable, the k-th in a fixed order (positions of the
inputs' sorted ids: pledge rows by pledge id, then benefitting states by code, then the other
variables by their positional names) weighted by the square root of the k-th prime, largest
first. The square roots of distinct primes are linearly independent over the rationals and the
model's data are rationals, so no edge of the face the earlier stages leave is orthogonal to
the weights: the optimum is one vertex, whatever the back-end. (Sequential fixing, each
variable maximised and fixed in turn, was tried first: the round-off slack of about a hundred
fixes added up until HiGHS called the last ones infeasible.) Every solution of these models is
made exact by planner.optimise.exact (CBC's values have 8 significant digits), so both back-ends
fix the same optima and find the same vertex, to the cent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pulp

from planner.optimise.solve import Solver, value


def tie_break(solver: Solver, prob: pulp.LpProblem, first: Sequence[pulp.LpVariable],
              name: str = "tie_break") -> float:
    """Maximise the tie-break objective over `first`, then every other variable of `prob` in
    name order (names are positions, so the order is fixed). Returns the optimum."""
    variables = list(first)
    seen = {v.name for v in variables}
    variables += [v for v in prob.variables() if v.name not in seen]
    weights = prime_roots(len(variables))
    objective = pulp.LpAffineExpression(list(zip(variables, weights, strict=True)))
    prob.sense = pulp.LpMaximize
    prob.setObjective(objective)
    solver.solve(prob, name)
    best = value(objective)
    solver.stages[name] = best
    return best


def prime_roots(n: int) -> list[float]:
    """The square roots of the first n primes, largest first."""
    primes: list[int] = []
    candidate = 2
    while len(primes) < n:
        if all(candidate % p for p in primes if p * p <= candidate):
            primes.append(candidate)
        candidate += 1
    return [math.sqrt(p) for p in reversed(primes)]
