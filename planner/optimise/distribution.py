"""Balanced distribution of the pool over the benefitting states (Art. 60(2), rules section 6).

Flows go from each pledge row to the benefitting states it may serve (its `beneficiary` list, or
all; only to states that state a need for the measure when some of them do). Coverage of a
(benefitting state, measure) is received / need. The distribution first secures the indicative
SAR share when configured, then maximises coverage leximin: the smallest ratio first, then the
next smallest, and so on. The tie-break (planner.optimise.tiebreak) then picks one distribution
among the balanced ones: the largest weighted sum of the flows, weights falling with (pledge id,
benefitting state) order. Persons are then rounded to whole persons by an integer flow that
keeps each pledge row's total and each state's received total within one person of the
balanced one, ties again broken by the same weights. Model names are positions (`flow_3_1`:
the fourth pledge row in pledge-id order to the second benefitting state in code order;
`_c_5`: the sixth target), never ids or codes.

Responsibility offsets (Art. 63, rules section 5; planner.optimise.offsets) go only where
responsibility.csv places persons: along its (state, benefitting) pairs, within each row's
`beneficiary` list and, for voluntary offsets, to benefitting states that agree; a pair's
flows over the state's offset rows are at most its persons (`pair_{n}`). Without the file an
offset counts toward no benefitting state: its rows have no flows here, distribution.csv lists
them with an empty beneficiary (`UNASSIGNED`), and offset needs are left out of the balance and
of the coverage (nothing can cover them).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

import pulp

from models.instance import Instance, Measure, Pledge
from planner.inputs.protection import agreed_pairs
from planner.optimise.eligibility import Place
from planner.optimise.matching import Split
from planner.optimise.offsets import offset_targets, pair_persons
from planner.optimise.solve import Solver, value
from planner.optimise.tiebreak import tie_break

Arc = tuple[str, str]  # (pledge_id, benefitting state)
Target = tuple[str, str]  # (benefitting state, measure)
UNASSIGNED = ""  # distribution.csv's beneficiary of offsets without responsibility.csv


def unit(measure: Measure, rate: float) -> float:
    """Amount units per relocation-equivalent: 1 person, or `rate` EUR (Art. 56(2))."""
    return 1.0 if measure.in_persons else rate


def offsets_assigned(instance: Instance) -> bool:
    """Whether offsets count toward benefitting states: only with responsibility.csv."""
    return instance.responsibility is not None


def stated_needs(instance: Instance) -> dict[Target, float]:
    """needs.csv in relocation-equivalents, positive needs only; offset needs only when
    responsibility.csv assigns offsets to benefitting states (else nothing can cover them)."""
    rate = instance.config.pool.rate
    assigned = offsets_assigned(instance)
    return {(n.state, n.measure.value): n.amount / unit(n.measure, rate)
            for n in instance.needs if n.amount > 0
            and (assigned or n.measure is not Measure.offset)}


def effective_needs(instance: Instance) -> dict[Target, float]:
    """Stated needs; for a pledged measure nobody states a need for, each benefitting state's
    total stated need (all measures) as its weight, or equal weights when no need is stated.
    Offsets without responsibility.csv have none (they are assigned to no benefitting state)."""
    needs = stated_needs(instance)
    totals = {b: math.fsum(v for (s, _), v in needs.items() if s == b)
              for b in instance.benefitting}
    if not any(totals.values()):
        totals = dict.fromkeys(instance.benefitting, 1.0)
    for measure in sorted({p.measure.value for p in instance.pledges}):
        if measure == Measure.offset.value and not offsets_assigned(instance):
            continue
        if not any(m == measure for _, m in needs):
            needs.update({(b, measure): w for b, w in totals.items() if w > 0})
    return dict(sorted(needs.items()))


def arcs_of(pledge: Pledge, benefitting: Iterable[str], needs: dict[Target, float]) -> list[str]:
    """The benefitting states a pledge row may go to (directed pledges, needs respected);
    never the pledging state itself (a benefitting state's pledge, rules section 4)."""
    allowed = [b for b in (list(pledge.beneficiary) or sorted(benefitting)) if b != pledge.state]
    needing = [b for b in allowed if needs.get((b, pledge.measure.value), 0.0) > 0]
    return needing or allowed


def add_flows(prob: pulp.LpProblem, instance: Instance, needs: dict[Target, float],
              values: dict[str, pulp.LpAffineExpression | float],
              voluntary: Collection[str] = (), only_offsets: bool = False,
              prefix: str = "flow", floors: dict[Arc, float] | None = None
              ) -> dict[Arc, pulp.LpVariable]:
    """Flow variables per (pledge row, benefitting state), in relocation-equivalents, summing to
    each row's value (constraint family `flow[pledge_id]`). Offset rows only along
    responsibility.csv's pairs, each pair within its persons (`pair_{n}`), and none without the
    file (planner.optimise.offsets.offset_targets; `voluntary`: the states whose offsets are
    voluntary).
    `only_offsets`: the offset rows alone (the pool plan's feasibility of Art. 63's pairs).
    Each flow at least `floors` (the persons the joint split's matching placed there)."""
    floors = floors or {}
    flows: dict[Arc, pulp.LpVariable] = {}
    if not instance.benefitting:
        return flows
    position = {b: n for n, b in enumerate(sorted(instance.benefitting))}
    assigned = offsets_assigned(instance)
    for n, pledge in enumerate(instance.pledges):
        offset = pledge.measure is Measure.offset
        if (offset and not assigned) or (only_offsets and not offset):
            continue
        targets = offset_targets(instance, pledge, voluntary) if offset \
            else arcs_of(pledge, instance.benefitting, needs)
        for b in targets:
            flows[(pledge.pledge_id, b)] = prob.add_variable(
                f"{prefix}_{n}_{position[b]}", lowBound=floors.get((pledge.pledge_id, b), 0))
        prob += (pulp.lpSum(flows[(pledge.pledge_id, b)] for b in targets)
                 == values[pledge.pledge_id], f"{prefix}_{n}")
    add_pair_caps(prob, instance, flows, f"{prefix}_pair")
    return flows


def add_pair_caps(prob: pulp.LpProblem, instance: Instance, flows: dict[Arc, pulp.LpVariable],
                  prefix: str) -> None:
    """Per (state, benefitting) pair of responsibility.csv: the state's offset flows to that
    benefitting state at most its persons (Art. 63, rules section 5)."""
    state_of = {p.pledge_id: p.state for p in instance.pledges
                if p.measure is Measure.offset}
    members: dict[tuple[str, str], list[pulp.LpVariable]] = {}
    for (pid, b), var in flows.items():
        if pid in state_of:
            members.setdefault((state_of[pid], b), []).append(var)
    persons = pair_persons(instance)
    for n, pair in enumerate(sorted(members)):
        prob += pulp.lpSum(members[pair]) <= persons.get(pair, 0), f"{prefix}_{n}"


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
    for n, (target, need) in enumerate(needs.items()):
        prob += (inflow.get(target, pulp.LpAffineExpression()) - need * t >= 0,
                 f"{name}_{n}")
    return solver.stage(prob, name, pulp.LpAffineExpression(t), pulp.LpMaximize)


def maximise_covered_total(prob: pulp.LpProblem, solver: Solver, name: str,
                           inflow: dict[Target, pulp.LpAffineExpression],
                           needs: dict[Target, float]) -> float:
    """Total coverage, each (state, measure) counted up to its need."""
    covered = []
    for n, (target, need) in enumerate(needs.items()):
        c = prob.add_variable(f"{name}_c_{n}", lowBound=0, upBound=1)
        prob += (inflow.get(target, pulp.LpAffineExpression()) - need * c >= 0,
                 f"{name}_{n}")
        covered.append(c)
    return solver.stage(prob, name, pulp.lpSum(covered), pulp.LpMaximize)


def leximin(prob: pulp.LpProblem, solver: Solver, inflow: dict[Target, pulp.LpAffineExpression],
            needs: dict[Target, float]) -> dict[Target, float]:
    """Progressive filling: raise the smallest ratio, fix the saturated ones, repeat."""
    free, level, rounds = dict(needs), {}, 0
    position = {target: n for n, target in enumerate(needs)}
    while free:
        rounds += 1
        best = maximise_min_coverage(prob, solver, f"balance{rounds}", inflow, free)
        floor = best - solver.slack(best)
        # Which ratios cannot rise above `best`? A small capped bonus per ratio, their sum
        # maximised: a ratio that takes a bonus can rise. One left at 0 may only have lost the
        # slack to another, so the rest are probed again without the risen ones, until none
        # rises: each of those cannot rise alone (it could take a bonus with the others at 0).
        # (One probe alone saturated ratios that could rise, on eu-2026 under CBC.)
        eps = 1e-3
        # A ratio has risen when its probe reaches 1e-6 (CBC's 8 digits make smaller rises
        # noise). A ratio of a need of 10 million may rise by less (1e-7, one unit); its unit
        # then goes to a state with a smaller need, which is why positive needs must lie within
        # MAX_NEED_SPREAD of each other (planner.inputs.checks.need_spread): a need of a cent
        # beside one
        # of EUR 1e12 was given 100 times its need. (1e-9 here made CBC's noise look like rises.)
        rise = eps * 1e-3
        undecided = {}
        for target, need in free.items():
            tag = f"probe{rounds}_{position[target]}"
            y = prob.add_variable(tag, 0, eps)
            prob += (inflow.get(target, pulp.LpAffineExpression()) - need * y >= need * floor,
                     tag)
            undecided[target] = y
        probes: list[pulp.LpVariable] = list(undecided.values())
        while undecided:
            prob.sense = pulp.LpMaximize
            prob.setObjective(pulp.lpSum(undecided.values()))
            solver.solve(prob, f"probe{rounds}")
            risen = [t for t, y in undecided.items() if value(y) >= rise]
            if not risen:
                break
            for target in risen:
                undecided.pop(target).upBound = 0
        for y in probes:
            # Pin the probe at 0: its row then only repeats ratio >= best, already fixed.
            y.upBound = 0
        for target in list(undecided) or list(free):
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
    not_distributed: dict[Group, float] = field(default_factory=dict)  # `towards` not met


Group = tuple[str, str, str]  # (contributor, measure, benefitting state)


def distribute(instance: Instance, amounts: dict[str, float], solver: Solver,
               voluntary: Collection[str] = (),
               floors: dict[Arc, float] | None = None,
               towards: dict[Group, float] | None = None) -> Distribution:
    """Distribute a plan's amounts over the benefitting states (Art. 60(2)); `voluntary`: the
    states whose offsets are voluntary (planner.optimise.offsets: they go to agreeing states only).
    `floors`: with the joint split (issue 18), the persons the matching placed per (relocation
    row, state): those places are taken, and only the rest (places left empty) is distributed
    by the rules below, so distribution.csv reports the split the matching used.
    `towards`: in a re-plan (issue 15), what each contributor implemented of a measure towards
    a benefitting state by the date (the measure's unit): money stays there, as floors under
    its flows (`ledger_floors`); the part that cannot is the Distribution's
    `not_distributed`."""
    rate = instance.config.pool.rate
    needs = effective_needs(instance)
    units = {p.pledge_id: unit(p.measure, rate) for p in instance.pledges}
    values = {pid: amounts[pid] / units[pid] for pid in amounts}
    pinned, left_over = ledger_floors(instance, amounts, towards or {}, needs)
    prob = pulp.LpProblem("distribution", pulp.LpMinimize)
    # The flows' floors in relocation-equivalents: the joint split's persons, the ledger's
    # money (a row is either relocation or money: the two never share an arc).
    lows = {**(floors or {}), **{arc: v / units[arc[0]] for arc, v in pinned.items()}}
    flows = add_flows(prob, instance, needs, values, voluntary, floors=lows)
    inflow = received(instance, flows)
    sar_target = _sar_stage(prob, solver, instance, flows, values)
    levels = leximin(prob, solver, inflow, needs) if flows else {}
    if flows:
        # The flows in (pledge id, benefitting state) order: the tie-break's order.
        tie_break(solver, prob, [flows[arc] for arc in sorted(flows)], "tie_break_flows")
    result = {arc: value(var) for arc, var in flows.items()}
    persons = {p.pledge_id for p in instance.pledges if p.measure.in_persons}
    flows_out = _whole_persons(instance, result, amounts, persons, solver, floors or {})
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
    if instance.benefitting and not offsets_assigned(instance):
        # No responsibility.csv: offsets count toward no benefitting state (rules section 5).
        flows_out.update({(p.pledge_id, UNASSIGNED): amounts[p.pledge_id]
                          for p in instance.pledges if p.measure is Measure.offset})
    final = {k: v for k, v in sorted(flows_out.items()) if v > 0}
    sar = set(instance.config.distribution.sar_states)
    # What the SAR states receive in the final flows (persons whole, EUR to the cent), the
    # figure of distribution.csv; not the SAR stage's own, which the balance then moves.
    sar_received = round(math.fsum(v / units[pid] for (pid, b), v in final.items()
                                   if b in sar), 9) if sar_target else 0.0
    return Distribution(flows=final, needs=needs, levels=levels, sar_received=sar_received,
                        sar_target=sar_target, not_distributed=left_over)


MONEY = (Measure.financial.value, Measure.alternative.value)


def ledger_floors(instance: Instance, amounts: dict[str, float], towards: dict[Group, float],
                  needs: dict[Target, float]) -> tuple[dict[Arc, float], dict[Group, float]]:
    """A re-plan's floors (issue 15, Art. 60(3)): money implemented towards a benefitting
    state stays there. Per (contributor, financial or alternative, state) of the ledger, the
    amount on the contributor's rows of the measure that may serve the state (`arcs_of`),
    most preferred first (preference, pledge id), each up to what the plan gives it less the
    floors already on it. Returns the floors per (row, state), in the measure's unit, and
    what could not be placed per group. Relocations are fixed by the transfers and the
    matching, offsets along responsibility.csv's pairs: neither is pinned here."""
    rows = sorted(instance.pledges, key=lambda p: (p.preference, p.pledge_id))
    used: dict[str, float] = {}
    floors: dict[Arc, float] = {}
    left_over: dict[Group, float] = {}
    for (state, measure, b), amount in sorted(towards.items()):
        if measure not in MONEY:
            continue
        left = amount
        for p in rows:
            if p.state != state or p.measure.value != measure or left <= 0 \
                    or b not in arcs_of(p, instance.benefitting, needs):
                continue
            take = min(left, amounts.get(p.pledge_id, 0.0) - used.get(p.pledge_id, 0.0))
            if take > 0:
                floors[(p.pledge_id, b)] = take
                used[p.pledge_id] = used.get(p.pledge_id, 0.0) + take
                left -= take
        if left >= 1:  # a euro of cents moved by the rounding is distributed
            left_over[(state, measure, b)] = round(left, 2)
    return floors, left_over


def _sar_stage(prob: pulp.LpProblem, solver: Solver, instance: Instance,
               flows: dict[Arc, pulp.LpVariable], values: dict[str, float]) -> float:
    """The indicative share for search-and-rescue states (rules section 6), as far as
    possible; returns the target, in relocation-equivalents."""
    config = instance.config.distribution
    if not flows or config.sar_share <= 0:
        return 0.0
    target = config.sar_share * math.fsum(values.values())
    sar = pulp.lpSum(v for (_, b), v in flows.items() if b in config.sar_states)
    s = prob.add_variable("sar_secured", lowBound=0, upBound=target)
    prob += sar - s >= 0, "sar_share"
    solver.stage(prob, "sar", pulp.LpAffineExpression(s), pulp.LpMaximize)
    return target


def _whole_persons(instance: Instance, flows: dict[Arc, float], amounts: dict[str, float],
                   persons: set[str], solver: Solver, floors: dict[Arc, float]
                   ) -> dict[Arc, float]:
    """Round the flows of the `persons` rows to integers: each row keeps its total, each
    (state, measure) total and each flow stays within one person of the balanced value
    (network flows are integral)."""
    arcs = {arc: round(v, 9) for arc, v in flows.items() if arc[0] in persons}
    if not arcs:
        return {}
    prob = pulp.LpProblem("whole_persons", pulp.LpMinimize)
    row_of = {p.pledge_id: n for n, p in enumerate(instance.pledges)}
    state_of = {b: n for n, b in enumerate(sorted(instance.benefitting))}
    # Never below a floor (persons placed there), even by the LP's round-off.
    g = {arc: prob.add_variable(f"persons_{row_of[arc[0]]}_{state_of[arc[1]]}",
                                max(math.floor(v), floors.get(arc, 0)),
                                max(math.ceil(v), floors.get(arc, 0)), cat=pulp.LpInteger)
         for arc, v in sorted(arcs.items())}
    for pid in sorted({pid for pid, _ in arcs}):
        prob += (pulp.lpSum(var for (p, _), var in g.items() if p == pid) == amounts[pid],
                 f"row_{row_of[pid]}")
    measure = {p.pledge_id: p.measure.value for p in instance.pledges}
    totals: dict[Target, list[Arc]] = {}
    for arc in arcs:
        totals.setdefault((arc[1], measure[arc[0]]), []).append(arc)
    for n, (_, members) in enumerate(sorted(totals.items())):
        total = math.fsum(arcs[a] for a in members)
        expr = pulp.lpSum(g[a] for a in members)
        prob += expr >= math.floor(round(total, 9)), f"low_{n}"
        prob += expr <= math.ceil(round(total, 9)), f"high_{n}"
    # responsibility.csv's persons per pair hold for whole persons too (integral caps: the
    # rows and the pairs are two laminar families, so the rounding stays integral).
    add_pair_caps(prob, instance, g, "pair")
    # Round up where the fraction is largest: closest to the balanced flows. Fractions to
    # 1e-6, so that near-equal ones are equal, a tie for the tie-break, on every back-end.
    objective = pulp.lpSum(round(arcs[a] - math.floor(arcs[a]), 6) * var for a, var in g.items())
    prob.setObjective(objective)
    prob.sense = pulp.LpMaximize
    solver.solve(prob, "whole_persons")
    # Integer values: the optimum is exact on every back-end; fixed, then ties broken.
    prob += objective >= value(objective) - 1e-9, "fix_whole_persons"
    tie_break(solver, prob, list(g.values()), "tie_break_persons")
    return {arc: float(round(value(var))) for arc, var in g.items()}


def joint_split(instance: Instance, amounts: dict[str, float]) -> tuple[list[Place], Split]:
    """The joint split's places (issue 18): each relocation row of the plan with at least one
    person offers its whole total to every benefitting state it may serve (`arcs_of`:
    directed pledges and needs, as the distribution), and the matching decides how much each
    state takes, each row within its total. The balance weights are the states' relocation
    needs (`effective_needs`)."""
    needs = effective_needs(instance)
    agreed = agreed_pairs(instance.config)  # Art. 56(2)(a)(ii): beneficiaries' pairs
    places, totals = [], {}
    for pledge in instance.pledges:
        total = int(round(amounts.get(pledge.pledge_id, 0.0)))
        if pledge.measure is not Measure.relocation or total < 1:
            continue
        totals[pledge.pledge_id] = total
        places += [Place(pledge.pledge_id, pledge.state, b, total, pledge,
                         (pledge.state, b) in agreed)
                   for b in arcs_of(pledge, instance.benefitting, needs)]
    relocation = {b: need for (b, m), need in needs.items() if m == Measure.relocation.value}
    return sorted(places, key=lambda p: (p.pledge_id, p.location)), Split(totals, relocation)
