"""The pool plan: how much each pledge row gives (Arts 56-57, rules sections 3-5).

One variable per pledge row, its value in relocation-equivalents (persons for relocations and
offsets, EUR / rate for money: Art. 56(2) equal value), bounded by the row's [min, max];
persons are whole. Lexicographic stages, each fixed before the next:
  (i)   minimise the total shortfall of obligations; then, only with
        `benefitting.implement_pledges`, the benefitting states' pledges up to their fair
        shares (rules section 4; by default their rows are fixed at 0: not implemented);
  (ii)  follow each state's preference ranks (minimise rank-weighted value);
  (iii) maximise coverage of the stated needs: the smallest ratio, then the total;
  then the tie-break (planner.optimise.tiebreak): the largest weighted sum of the rows' values,
  weights falling with pledge-id order, among the plans the stages leave, so the plan is one
  per input, on every back-end.
Model names are positions (`value_3`: the fourth pledge row in pledge-id order, `cover_2`: the
third state in code order), never pledge ids or codes: ids that differ only by a space, `-` or
`_` were one name to PuLP, and CBC misread names with `|` or non-ASCII letters.
A contributor never gives more value than its obligation unless its own minimums force it.
Responsibility offsets (Art. 63, planner.optimise.offsets): each state's mandatory part is a lower
bound on its offset rows (`mandatory_offset_{n}`); with responsibility.csv its offsets must
also fit the persons of its (state, benefitting) pairs, by flows of the offset rows along the
pairs (`offsets_{row}_{state}`, `offsets_pair_{n}`), so the distribution can assign each
offset to a benefitting state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pulp

from models.instance import Instance, Measure
from planner.optimise.distribution import (
    add_flows,
    maximise_covered_total,
    maximise_min_coverage,
    received,
    stated_needs,
    unit,
)
from planner.optimise.key import BENEFITTING, CONTRIBUTOR, KeyRow, benefitting_targets
from planner.optimise.offsets import OffsetsReport, not_implemented
from planner.optimise.solve import Solver, value
from planner.optimise.tiebreak import tie_break


@dataclass(frozen=True)
class PoolPlan:
    """Amounts per pledge row (measure units: whole persons, EUR to the cent)."""

    amounts: dict[str, float]
    shortfall: dict[str, float]
    cap: dict[str, float]
    objectives: dict[str, float]


def forced_value(instance: Instance, state: str, mandatory: int) -> float:
    """The value a state's own minimums (and its mandatory offsets) force, in rel.-equivalents."""
    rate = instance.config.pool.rate
    rows = [p for p in instance.pledges if p.state == state]
    offsets = sum(p.min for p in rows if p.measure is Measure.offset)
    others = math.fsum(p.min / unit(p.measure, rate) for p in rows
                       if p.measure is not Measure.offset)
    return others + max(offsets, mandatory)


def caps(instance: Instance, key: dict[str, KeyRow], offsets: OffsetsReport) -> dict[str, float]:
    """Per pledging state: the most value the plan may take, max(obligation, forced minimum);
    a benefitting state's pledge (rules section 4) takes 0, or with
    `benefitting.implement_pledges` max(its fair share, forced minimum)."""
    targets = benefitting_targets(instance, key)
    cap = {}
    for s in sorted({p.state for p in instance.pledges}):
        forced = forced_value(instance, s, offsets.mandatory.get(s, 0))
        if key[s].role == BENEFITTING:
            cap[s] = max(targets[s], forced) if s in targets else 0.0
        else:
            cap[s] = max(key[s].obligation, forced)
    return cap


def define_values(prob: pulp.LpProblem, instance: Instance, offsets: OffsetsReport
                  ) -> dict[str, pulp.LpVariable]:
    """value[pledge_id] within the row's bounds; integer for persons."""
    rate = instance.config.pool.rate
    restricted = (instance.config.offsets.enforce_voluntary
                  and not offsets.voluntary_allowed)
    values = {}
    idle = not_implemented(instance)
    for n, p in enumerate(instance.pledges):
        u = unit(p.measure, rate)
        lower, upper = p.min / u, None if p.max is None else p.max / u
        if p.state in idle:
            # A benefitting state's pledge: accepted and reported, not implemented (s. 4).
            lower = upper = 0
        elif restricted and p.measure is Measure.offset and \
                p.state not in offsets.voluntary_allowed_states:
            # Offsets not yet allowed voluntarily: only the row's own minimum (rules s. 5);
            # mandatory offsets are added by `define_offset_rules`.
            upper = max(p.min, float(offsets.mandatory.get(p.state, 0)))
        values[p.pledge_id] = prob.add_variable(
            f"value_{n}", lowBound=lower, upBound=upper,
            cat=pulp.LpInteger if p.measure.in_persons else pulp.LpContinuous)
    return values


def by_state(instance: Instance, values: dict[str, pulp.LpVariable],
             measure: Measure | None = None) -> dict[str, pulp.LpAffineExpression]:
    rows: dict[str, list[pulp.LpVariable]] = {}
    for p in instance.pledges:
        if measure is None or p.measure is measure:
            rows.setdefault(p.state, []).append(values[p.pledge_id])
    return {s: pulp.lpSum(v) for s, v in sorted(rows.items())}


def define_obligations(prob: pulp.LpProblem, instance: Instance, key: dict[str, KeyRow],
                       values: dict[str, pulp.LpVariable], cap: dict[str, float]
                       ) -> dict[str, pulp.LpVariable]:
    """cover[state]: value + shortfall >= obligation; cap[state]: value <= cap (Art. 56(2))."""
    total = by_state(instance, values)
    position = state_positions(instance, key)
    shortfall = {}
    for state, row in key.items():
        if row.role != CONTRIBUTOR or row.obligation <= 0:
            continue
        shortfall[state] = prob.add_variable(f"shortfall_{position[state]}", lowBound=0)
        prob += (total.get(state, pulp.LpAffineExpression()) + shortfall[state]
                 >= row.obligation, f"cover_{position[state]}")
    for state, expr in total.items():
        prob += expr <= cap[state], f"cap_{position[state]}"
    return shortfall


def state_positions(instance: Instance, key: dict[str, KeyRow]) -> dict[str, int]:
    """Each state's position in code order: its number in model names."""
    return {s: n for n, s in enumerate(sorted({*key, *(p.state for p in instance.pledges)}))}


def define_offset_rules(prob: pulp.LpProblem, instance: Instance, key: dict[str, KeyRow],
                        values: dict[str, pulp.LpVariable], offsets: OffsetsReport) -> None:
    """mandatory_offset_{state}: offsets at least the state's mandatory part (Art. 63)."""
    offered = by_state(instance, values, Measure.offset)
    position = state_positions(instance, key)
    for state, amount in offsets.mandatory.items():
        prob += offered[state] >= amount, f"mandatory_offset_{position[state]}"


def plan_pool(instance: Instance, key: dict[str, KeyRow], offsets: OffsetsReport,
              solver: Solver) -> PoolPlan:
    rate = instance.config.pool.rate
    prob = pulp.LpProblem("pool_plan", pulp.LpMinimize)
    values = define_values(prob, instance, offsets)
    cap = caps(instance, key, offsets)
    shortfall = define_obligations(prob, instance, key, values, cap)
    define_offset_rules(prob, instance, key, values, offsets)
    if instance.responsibility is not None:
        add_flows(prob, instance, {}, dict(values), offsets.voluntary_states, only_offsets=True,
                  prefix="offsets")
    objectives: dict[str, float] = {}
    if not values:
        return PoolPlan({}, {s: key[s].obligation for s in shortfall}, cap, objectives)
    objectives["shortfall"] = solver.stage(prob, "shortfall", pulp.lpSum(shortfall.values()),
                                           pulp.LpMinimize)
    targets = benefitting_targets(instance, key)
    if targets:
        # Benefitting states' pledges counted (rules section 4 [interp]): as much of each as
        # its fair share takes (their cap), after the contributors' shortfall.
        objectives["benefitting_value"] = solver.stage(
            prob, "benefitting_value",
            pulp.lpSum(values[p.pledge_id] for p in instance.pledges if p.state in targets),
            pulp.LpMaximize)
    objectives["preference"] = solver.stage(
        prob, "preference",
        pulp.lpSum(p.preference * values[p.pledge_id] for p in instance.pledges),
        pulp.LpMinimize)
    needs = stated_needs(instance)
    if needs and instance.benefitting:
        flows = add_flows(prob, instance, needs, dict(values), offsets.voluntary_states)
        inflow = received(instance, flows)
        objectives["coverage_min"] = maximise_min_coverage(prob, solver, "coverage_min",
                                                           inflow, needs)
        objectives["coverage_total"] = maximise_covered_total(prob, solver, "coverage_total",
                                                              inflow, needs)
    objectives["tie_break"] = float(tie_break(
        solver, prob, [values[p.pledge_id] for p in instance.pledges]))
    amounts = {p.pledge_id: (float(round(value(values[p.pledge_id]))) if p.measure.in_persons
                             else round(value(values[p.pledge_id]) * rate, 2))
               for p in instance.pledges}
    return PoolPlan(amounts, {s: max(0.0, round(value(v), 9)) for s, v in shortfall.items()},
                    cap, objectives)
