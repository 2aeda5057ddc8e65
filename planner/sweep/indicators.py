"""One row of indicators per scenario (issue 16, item 2), from a `Plan` in memory.

The columns are fixed for a whole sweep (`columns`), so that every chunk has the same
schema: `variant`, `scenario`, `status` (the solver's verdict: optimal, time_limit, or
no_plan when no plan could be made, e.g. infeasible or no solution within the time limit),
then the indicators of models.uncertainty.INDICATORS and, per state, `relocation_coverage_XX`
(a benefitting state's relocation need covered: received / need), `obligation_XX` and
`shortfall_XX` (relocation-equivalents). An indicator that does not apply to a scenario (a
state not benefitting that year, no plan) is empty (NaN).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from models.instance import Instance, Measure
from models.uncertainty import INDICATORS
from planner.optimise.key import BENEFITTING
from planner.pipeline import Plan

KEYS = ("variant", "scenario", "status")
NO_PLAN = "no_plan"


def columns(instances: Iterable[Instance]) -> list[str]:
    """Every column of a sweep over these instances (the base and its variants): a state is
    given a coverage column where it is benefitting, or its designation is drawn, in one of
    them, and obligation and shortfall columns where it participates in one of them."""
    covered: set[str] = set()
    owing: set[str] = set()
    for instance in instances:
        drawn = set(instance.config.uncertainty.designation)
        covered |= {s.code for s in instance.states if s.benefitting or s.code in drawn}
        owing |= {s.code for s in instance.states if s.participates}
    return [*KEYS, *INDICATORS,
            *(f"relocation_coverage_{code}" for code in sorted(covered)),
            *(f"obligation_{code}" for code in sorted(owing)),
            *(f"shortfall_{code}" for code in sorted(owing))]


def row_of(plan: Plan, variant: str, scenario: int, names: list[str]) -> dict[str, object]:
    """The scenario's row: every column of `names`, NaN where an indicator does not apply."""
    tables = plan.tables
    totals = tables.totals
    coverage = {r.beneficiary: r.ratio for r in tables.coverage
                if r.measure is Measure.relocation and r.need_stated and r.ratio is not None}
    values: dict[str, float | None] = {
        "persons_relocated": float(len(tables.assignments)),
        "relocation_coverage_min": min(coverage.values(), default=None),
        "coverage_min": plan.summary.distribution.min_coverage
        if plan.summary.distribution is not None else None,
        "value_total": totals.value,
        "value_relocation": totals.relocation,
        "value_offset": totals.offset,
        "value_financial_eur": totals.financial_eur,
        "value_alternative_eur": totals.alternative_eur,
        "shortfall_total": totals.shortfall,
    }
    values.update({f"relocation_coverage_{code}": ratio for code, ratio in coverage.items()})
    for state in tables.allocation:
        if state.role != BENEFITTING:
            values[f"obligation_{state.state}"] = state.obligation
            values[f"shortfall_{state.state}"] = state.shortfall
    row: dict[str, object] = {"variant": variant, "scenario": scenario, "status": plan.status}
    for name in names[len(KEYS):]:
        value = values.get(name)
        row[name] = math.nan if value is None else float(value)
    return row


def failed_row(variant: str, scenario: int, status: str, names: list[str]
               ) -> dict[str, object]:
    """The row of a scenario without a plan: its status, every indicator empty."""
    return {"variant": variant, "scenario": scenario, "status": status,
            **{name: math.nan for name in names[len(KEYS):]}}
