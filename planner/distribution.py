"""Balanced distribution of the pool over the benefitting states (Art. 60(2), rules section 6).

Flows go from each pledge row to the benefitting states it may serve (its `beneficiary` list, or
all; only to states that state a need for the measure when some of them do). Coverage of a
(benefitting state, measure) is received / need. The distribution first secures the indicative
SAR share when configured, then maximises coverage leximin: the smallest ratio first, then the
next smallest, and so on. Persons are then rounded to whole persons by an integer flow that keeps
each pledge row's total and each state's received total within one person of the balanced one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import pulp

from models.instance import Instance, Measure, Pledge
from planner.solve import Solver, new_problem, value

Arc = tuple[str, str]  # (pledge_id, benefitting state)
Target = tuple[str, str]  # (benefitting state, measure)


def unit(measure: Measure, rate: float) -> float:
    """Amount units per relocation-equivalent: 1 person, or `rate` EUR (Art. 56(2))."""
    return 1.0 if measure.in_persons else rate


def stated_needs(instance: Instance) -> dict[Target, float]:
    """needs.csv in relocation-equivalents, positive needs only."""
    rate = instance.config.pool.rate
    return {(n.state, n.measure.value): n.amount / unit(n.measure, rate)
            for n in instance.needs if n.amount > 0}


def effective_needs(instance: Instance) -> dict[Target, float]:
    """Stated needs; for a pledged measure nobody states a need for, each benefitting state's
    total stated need (all measures) as its weight, or equal weights when no need is stated."""
    needs = stated_needs(instance)
    totals = {b: math.fsum(v for (s, _), v in needs.items() if s == b)
              for b in instance.benefitting}
    if not any(totals.values()):
        totals = dict.fromkeys(instance.benefitting, 1.0)
    for measure in sorted({p.measure.value for p in instance.pledges}):
        if not any(m == measure for _, m in needs):
            needs.update({(b, measure): w for b, w in totals.items() if w > 0})
    return dict(sorted(needs.items()))


def arcs_of(pledge: Pledge, benefitting: Iterable[str], needs: dict[Target, float]) -> list[str]:
    """The benefitting states a pledge row may go to (directed pledges, needs respected)."""
    allowed = list(pledge.beneficiary) or sorted(benefitting)
    needing = [b for b in allowed if needs.get((b, pledge.measure.value), 0.0) > 0]
    return needing or allowed


def add_flows(prob: pulp.LpProblem, instance: Instance, needs: dict[Target, float],
              values: dict[str, pulp.LpAffineExpression | float]) -> dict[Arc, pulp.LpVariable]:
    """Flow variables per (pledge row, benefitting state), in relocation-equivalents, summing to
    each row's value (constraint family `flow[pledge_id]`)."""
    flows: dict[Arc, pulp.LpVariable] = {}
    if not instance.benefitting:
        return flows
    for pledge in instance.pledges:
        targets = arcs_of(pledge, instance.benefitting, needs)
        for b in targets:
            flows[(pledge.pledge_id, b)] = prob.add_variable(
                f"flow[{pledge.pledge_id},{b}]", lowBound=0)
        prob += (pulp.lpSum(flows[(pledge.pledge_id, b)] for b in targets)
                 == values[pledge.pledge_id], f"flow[{pledge.pledge_id}]")
    return flows


def received(instance: Instance, flows: dict[Arc, pulp.LpVariable]
             ) -> dict[Target, pulp.LpAffineExpression]:
    """What each (benefitting state, measure) receives, in relocation-equivalents."""
    measure = {p.pledge_id: p.measure.value for p in instance.pledges}
    terms: dict[Target, list[pulp.LpVariable]] = {}
    for (pid, b), var in flows.items():
        terms.setdefault((b, measure[pid]), []).append(var)
    return {k: pulp.lpSum(v) for k, v in sorted(terms.items())}


def maximise_min_coverage(prob: pulp.LpProblem, solver: Solver, name: str,
                          inflow: dict[Target, pulp.LpAffineExpression],
                          needs: dict[Target, float]) -> float:
    """One max-min stage: the smallest coverage ratio over `needs`, fixed once optimal."""
    t = prob.add_variable(f"{name}_t", lowBound=0)
    for target, need in needs.items():
        prob += (inflow.get(target, pulp.LpAffineExpression()) - need * t >= 0,
                 f"{name}[{target[0]},{target[1]}]")
    return solver.stage(prob, name, pulp.LpAffineExpression(t), pulp.LpMaximize)


def maximise_covered_total(prob: pulp.LpProblem, solver: Solver, name: str,
                           inflow: dict[Target, pulp.LpAffineExpression],
                           needs: dict[Target, float]) -> float:
    """Total coverage, each (state, measure) counted up to its need."""
    covered = []
    for target, need in needs.items():
        c = prob.add_variable(f"{name}_c[{target[0]},{target[1]}]", lowBound=0, upBound=1)
        prob += (inflow.get(target, pulp.LpAffineExpression()) - need * c >= 0,
                 f"{name}[{target[0]},{target[1]}]")
        covered.append(c)
    return solver.stage(prob, name, pulp.lpSum(covered), pulp.LpMaximize)


def leximin(prob: pulp.LpProblem, solver: Solver, inflow: dict[Target, pulp.LpAffineExpression],
            needs: dict[Target, float]) -> dict[Target, float]:
    """Progressive filling: raise the smallest ratio, fix the saturated ones, repeat."""
    free, level, rounds = dict(needs), {}, 0
    while free:
        rounds += 1
        best = maximise_min_coverage(prob, solver, f"balance{rounds}", inflow, free)
        # Which ratios cannot rise above `best`? Probe all at once: by convexity, every ratio
        # that can rise alone can rise together, so a small capped bonus tells them apart.
        eps = 1e-3
        bonus = {}
        for target, need in free.items():
            y = prob.add_variable(f"probe{rounds}[{target[0]},{target[1]}]", 0, eps)
            prob += (inflow.get(target, pulp.LpAffineExpression()) - need * y >= need * best,
                     f"probe{rounds}[{target[0]},{target[1]}]")
            bonus[target] = y
        prob.sense = pulp.LpMaximize
        prob.setObjective(pulp.lpSum(bonus.values()))
        solver.solve(prob, f"probe{rounds}")
        saturated = [t for t, y in bonus.items() if value(y) < eps * 1e-3] or list(free)
        for y in bonus.values():
            # Pin the probe at 0: its row then only repeats ratio >= best, already fixed.
            y.upBound = 0
        for target in saturated:
            level[target] = best
            del free[target]
    return level


@dataclass(frozen=True)
class Distribution:
    """Amounts per (pledge row, benefitting state) in the measure's unit, and the balance."""

    flows: dict[Arc, float]
    needs: dict[Target, float]
    levels: dict[Target, float]
    sar_received: float
    sar_target: float


def distribute(instance: Instance, amounts: dict[str, float], solver: Solver) -> Distribution:
    """Distribute a plan's amounts over the benefitting states (Art. 60(2))."""
    rate = instance.config.pool.rate
    needs = effective_needs(instance)
    units = {p.pledge_id: unit(p.measure, rate) for p in instance.pledges}
    values = {pid: amounts[pid] / units[pid] for pid in amounts}
    prob = new_problem("distribution")
    flows = add_flows(prob, instance, needs, values)
    inflow = received(instance, flows)
    sar_received, sar_target = _sar_stage(prob, solver, instance, flows, values)
    levels = leximin(prob, solver, inflow, needs) if flows else {}
    result = {arc: value(var) for arc, var in flows.items()}
    persons = {p.pledge_id for p in instance.pledges if p.measure.in_persons}
    flows_out = _whole_persons(instance, result, amounts, persons, solver)
    money: dict[str, list[Arc]] = {}
    for (pid, b), v in result.items():
        if pid not in persons:
            flows_out[(pid, b)] = round(v * units[pid], 2)
            money.setdefault(pid, []).append((pid, b))
    for pid, arcs in money.items():
        # Cents: the largest flow takes the rounding remainder, so flows sum to the amount.
        largest = max(arcs, key=lambda a: (flows_out[a], a[1]))
        rest = math.fsum(flows_out[a] for a in arcs if a != largest)
        flows_out[largest] = round(amounts[pid] - rest, 2)
    return Distribution(
        flows={k: v for k, v in sorted(flows_out.items()) if v > 0},
        needs=needs, levels=levels, sar_received=sar_received, sar_target=sar_target)


def _sar_stage(prob: pulp.LpProblem, solver: Solver, instance: Instance,
               flows: dict[Arc, pulp.LpVariable], values: dict[str, float]) -> tuple[float, float]:
    """The indicative share for search-and-rescue states (rules section 6), as far as possible."""
    config = instance.config.distribution
    if not flows or config.sar_share <= 0:
        return 0.0, 0.0
    target = config.sar_share * math.fsum(values.values())
    sar = pulp.lpSum(v for (_, b), v in flows.items() if b in config.sar_states)
    s = prob.add_variable("sar_secured", lowBound=0, upBound=target)
    prob += sar - s >= 0, "sar_share"
    solver.stage(prob, "sar", pulp.LpAffineExpression(s), pulp.LpMaximize)
    return value(sar), target


def _whole_persons(instance: Instance, flows: dict[Arc, float], amounts: dict[str, float],
                   persons: set[str], solver: Solver) -> dict[Arc, float]:
    """Round the flows of the `persons` rows to integers: each row keeps its total, each
    (state, measure) total and each flow stays within one person of the balanced value
    (network flows are integral)."""
    arcs = {arc: round(v, 9) for arc, v in flows.items() if arc[0] in persons}
    if not arcs:
        return {}
    prob = new_problem("whole_persons")
    g = {arc: prob.add_variable(f"persons[{arc[0]},{arc[1]}]", math.floor(v), math.ceil(v),
                                cat=pulp.LpInteger) for arc, v in arcs.items()}
    for pid in sorted({pid for pid, _ in arcs}):
        prob += (pulp.lpSum(var for (p, _), var in g.items() if p == pid) == amounts[pid],
                 f"row[{pid}]")
    measure = {p.pledge_id: p.measure.value for p in instance.pledges}
    totals: dict[Target, list[Arc]] = {}
    for arc in arcs:
        totals.setdefault((arc[1], measure[arc[0]]), []).append(arc)
    for (b, m), members in sorted(totals.items()):
        total = math.fsum(arcs[a] for a in members)
        expr = pulp.lpSum(g[a] for a in members)
        prob += expr >= math.floor(round(total, 9)), f"low[{b},{m}]"
        prob += expr <= math.ceil(round(total, 9)), f"high[{b},{m}]"
    # Round up where the fraction is largest: closest to the balanced flows.
    prob.setObjective(pulp.lpSum((arcs[a] - math.floor(arcs[a])) * var for a, var in g.items()))
    prob.sense = pulp.LpMaximize
    solver.solve(prob, "whole_persons")
    return {arc: float(round(value(var))) for arc, var in g.items()}
