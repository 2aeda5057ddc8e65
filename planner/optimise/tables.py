"""Solution tables: the plan, the allocation per state, the distribution and the coverage."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from models.instance import Instance, Measure
from models.results import (
    AllocationRow,
    AssignmentRow,
    CoverageRow,
    DistributionRow,
    MatchabilityRow,
    PlanRow,
    Totals,
    UnassignedRow,
)
from planner.optimise.distribution import Distribution, unit
from planner.optimise.key import NOT_PARTICIPATING, KeyRow
from planner.optimise.offsets import OffsetsReport
from planner.optimise.pool_plan import PoolPlan


@dataclass
class Tables:
    plan: list[PlanRow]
    allocation: list[AllocationRow]
    distribution: list[DistributionRow]
    coverage: list[CoverageRow]
    totals: Totals
    assignments: list[AssignmentRow] = field(default_factory=list)
    unassigned: list[UnassignedRow] = field(default_factory=list)
    matchability: list[MatchabilityRow] = field(default_factory=list)


def plan_rows(instance: Instance, plan: PoolPlan) -> list[PlanRow]:
    rate = instance.config.pool.rate
    return [PlanRow(pledge_id=p.pledge_id, state=p.state, measure=p.measure,
                    amount=plan.amounts[p.pledge_id],
                    value=plan.amounts[p.pledge_id] / unit(p.measure, rate),
                    min=p.min, max=p.max, preference=p.preference, beneficiary=p.beneficiary)
            for p in instance.pledges]


def allocation_rows(instance: Instance, key: dict[str, KeyRow], plan: list[PlanRow],
                    offsets: OffsetsReport) -> list[AllocationRow]:
    rate = instance.config.pool.rate
    given: dict[tuple[str, Measure], float] = {}
    for row in plan:
        given[(row.state, row.measure)] = given.get((row.state, row.measure), 0.0) + row.amount
    rows = []
    for state in instance.states:
        k = key[state.code]
        if k.role == NOT_PARTICIPATING:
            continue
        amounts = {m: given.get((state.code, m), 0.0) for m in Measure}
        value = math.fsum(a / unit(m, rate) for m, a in amounts.items())
        balance = value - k.obligation
        rows.append(AllocationRow(
            state=state.code, name=state.name, role=k.role, share=k.share,
            share_computed=k.share_computed, share_official=k.share_official,
            deduction=k.deduction, obligation=k.obligation, obligation_eur=k.obligation * rate,
            relocation=amounts[Measure.relocation], offset=amounts[Measure.offset],
            financial_eur=amounts[Measure.financial],
            alternative_eur=amounts[Measure.alternative],
            value=value, balance=balance, shortfall=max(0.0, -balance),
            mandatory_offset=float(offsets.mandatory.get(state.code, 0))))
    return rows


def distribution_rows(instance: Instance, dist: Distribution) -> list[DistributionRow]:
    rate = instance.config.pool.rate
    by_id = instance.pledges_by_id
    return [DistributionRow(contributor=by_id[pid].state, beneficiary=b,
                            measure=by_id[pid].measure, amount=amount, pledge_id=pid,
                            value=amount / unit(by_id[pid].measure, rate))
            for (pid, b), amount in dist.flows.items()]


def coverage_rows(instance: Instance, dist: Distribution,
                  flows: list[DistributionRow]) -> list[CoverageRow]:
    stated = {(n.state, n.measure.value): n.amount for n in instance.needs if n.amount > 0}
    got: dict[tuple[str, str], float] = {}
    for row in flows:
        if not row.beneficiary:
            continue  # an offset assigned to no benefitting state (no responsibility.csv)
        key = (row.beneficiary, row.measure.value)
        got[key] = got.get(key, 0.0) + row.amount
    rows = []
    # Every target of the balance, and every (state, measure) that receives flows without a
    # need of its own (a directed pledge to a state that states none while others do): what a
    # state receives is never left out of the table.
    targets = sorted(set(dist.needs) | {k for k, amount in got.items() if amount > 0})
    for b, m in targets:
        need, received = stated.get((b, m), 0.0), got.get((b, m), 0.0)
        rows.append(CoverageRow(beneficiary=b, measure=Measure(m), need=need,
                                need_stated=(b, m) in stated, received=received,
                                ratio=received / need if need > 0 else None))
    return rows


def build_tables(instance: Instance, key: dict[str, KeyRow], offsets: OffsetsReport,
                 plan: PoolPlan, dist: Distribution) -> Tables:
    plan_table = plan_rows(instance, plan)
    allocation = allocation_rows(instance, key, plan_table, offsets)
    flows = distribution_rows(instance, dist)
    summed = ("obligation", "relocation", "offset", "financial_eur", "alternative_eur", "value",
              "shortfall")
    totals = Totals(**{name: math.fsum(getattr(r, name) for r in allocation) for name in summed},
                    surplus=math.fsum(max(0.0, r.balance) for r in allocation))
    return Tables(plan_table, allocation, flows, coverage_rows(instance, dist, flows), totals)
