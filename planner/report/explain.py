"""Why a state owes what it owes (`planner explain`, the per-state section of report.html).

An analyst's first question is "why does my state owe this?". The answer is assembled here from
the plan's own rows (the figures of plan.csv, allocation.csv, distribution.csv, coverage.csv,
matchability.csv and summary.json) and the instance (the key's indicators, the pool), in the
order the rules apply them:

1. the share (Art. 66, Annex I): each weighted indicator's part, with the total it is divided
   by and the participating states that total sums over; or the official share and its
   difference from the computed one;
2. the obligation: share x the Council's relocations (Art. 57) x (1 - deduction) (Arts 61-62),
   rounded per `pool.rounding`, in persons and in EUR;
3. each pledge row and what the plan took from it, with the reason a row was not used fully:
   the cap at the obligation (a state never gives more than it owes unless its own minimums
   force it), its preference rank, or no need left among the states it may serve;
4. where its contributions go (Art. 60(2)); its offsets status (Art. 63); with candidates, its
   places, the persons placed in them and the cost of each of its profile restrictions.

Nothing here recomputes the plan: the explanation only reads the rows and says which rule made
each figure. Candidates appear as counts only.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from models.instance import Instance, Measure, Rounding
from models.results import (
    AllocationRow,
    CoverageRow,
    DistributionRow,
    MatchabilityRow,
    OffsetsSummary,
    PlanRow,
    Summary,
)

if TYPE_CHECKING:
    from planner.optimise.tables import Tables

EPS = 1e-6
# Why a pledge row was not used fully, in the order they are given.
REASONS = {
    "not_implemented": "a benefitting state's own pledges are accepted and reported, not "
                       "implemented (Arts 58-59; benefitting.implement_pledges = false)",
    "no_obligation": "the state owes nothing, so only its committed minimum is taken",
    "fair_share": "cap at its fair share: a benefitting state's implemented pledges count up "
                  "to its fair share, never more unless its own minimums force it "
                  "(benefitting.implement_pledges)",
    "cap": "cap at the obligation: the state's obligation is met, and the plan takes no more "
           "than a state owes unless its own minimums force it",
    "preference": "preference rank: the rows the state ranked higher were taken first",
    "no_need": "no need left: the benefitting states this row may serve have their need for "
               "this measure covered",
    "other": "limited by the plan's other rules (directed pledges, needs, offsets not allowed)",
}


@dataclass(frozen=True)
class RunFacts:
    """The rows one explanation reads: a plan in memory (`facts_of_tables`) or a written run
    (planner.report.html). `placed`: persons placed per receiving state (counts only)."""

    instance: Instance
    summary: Summary
    plan: Sequence[PlanRow]
    allocation: Sequence[AllocationRow]
    distribution: Sequence[DistributionRow]
    coverage: Sequence[CoverageRow]
    matchability: Sequence[MatchabilityRow]
    placed: Mapping[str, int]


def facts_of_tables(instance: Instance, tables: Tables, summary: Summary) -> RunFacts:
    """The facts of a plan in memory (`planner explain`)."""
    placed = Counter(a.to_state for a in tables.assignments)
    return RunFacts(instance, summary, tables.plan, tables.allocation, tables.distribution,
                    tables.coverage, tables.matchability, placed)


@dataclass(frozen=True)
class KeyPart:
    """One weighted indicator of the key: weight x value / total (the total over `over`)."""

    column: str
    weight: float
    value: float
    total: float

    @property
    def part(self) -> float:
        return self.weight * self.value / self.total if self.total else 0.0


@dataclass(frozen=True)
class RowUse:
    """A pledge row, what the plan took from it, and why not more (`reasons`: REASONS keys;
    empty when the row was used fully)."""

    row: PlanRow
    full: bool
    reasons: tuple[str, ...]
    ranked_higher: tuple[str, ...]


@dataclass(frozen=True)
class Candidates:
    """With candidates: the state's relocation places, persons placed in them, and the cost of
    each of its profile restrictions (pledge id, criterion, persons)."""

    places: float
    placed: int
    restrictions: tuple[tuple[str, str, float], ...]


@dataclass(frozen=True)
class Explanation:
    state: str
    name: str
    role: str
    status: str  # member_states.csv `status` (Art. 11): what a deduction may rest on
    parts: tuple[KeyPart, ...]
    over: tuple[str, ...]  # the participating states the key's totals sum over
    allocation: AllocationRow
    relocations: int  # the Council's pool (Art. 57)
    rate: float
    rounding: Rounding
    key_redistribute: bool
    deductions_redistribute: bool
    implement_pledges: bool  # benefitting.implement_pledges (rules section 4)
    rows: tuple[RowUse, ...]
    flows: tuple[tuple[str, str, float, float], ...]  # beneficiary, measure, amount, value
    offsets: tuple[str, ...]
    candidates: Candidates | None

    @property
    def computed(self) -> float:
        return math.fsum(p.part for p in self.parts)

    @property
    def obligation_exact(self) -> float:
        """share x relocations x (1 - deduction), before rounding (and before deducted amounts
        are redistributed, when they are)."""
        a = self.allocation
        return a.share * self.relocations * (1 - a.deduction)

    @property
    def surplus(self) -> float:
        return max(0.0, self.allocation.balance)


class UnknownState(ValueError):
    """The state asked for is not a row of member_states.csv."""


def explain(facts: RunFacts, state: str) -> Explanation:
    """The explanation of `state`'s figures in the plan `facts` describes."""
    member = {s.code: s for s in facts.instance.states}.get(state)
    allocation = {a.state: a for a in facts.allocation}.get(state)
    if member is None or allocation is None:
        known = ", ".join(a.state for a in facts.allocation)
        raise UnknownState(f"{state!r} is not a state of the plan (one of: {known})")
    config = facts.instance.config
    participants = tuple(s for s in facts.instance.states if s.participates)
    parts = tuple(KeyPart(column, weight, member.indicator(column),
                          math.fsum(s.indicator(column) for s in participants))
                  for column, weight in config.key.weights.items()) if member.participates else ()
    rows = [r for r in facts.plan if r.state == state]
    return Explanation(
        state, member.name, allocation.role, member.status.value, parts,
        tuple(s.code for s in participants),
        allocation, config.pool.relocations, config.pool.rate, config.pool.rounding,
        config.key.redistribute, config.deductions.redistribute,
        config.benefitting.implement_pledges,
        tuple(row_use(r, rows, allocation, facts) for r in rows),
        flows(facts.distribution, state),
        offsets_status(facts.summary.offsets, state, allocation),
        candidates(facts, state) if facts.summary.matching.ran else None)


# --- the pledge rows ---------------------------------------------------------------------------

def _no_need_left(row: PlanRow, facts: RunFacts) -> bool:
    """Every state the row may serve that states a need for its measure has it covered (and
    at least one does)."""
    serves = set(row.beneficiary or facts.instance.benefitting)
    stated = [c for c in facts.coverage if c.beneficiary in serves and c.measure is row.measure
              and c.need_stated]
    return bool(stated) and all(c.received >= c.need - EPS for c in stated)


def row_use(row: PlanRow, rows: Sequence[PlanRow], allocation: AllocationRow,
            facts: RunFacts) -> RowUse:
    """How the plan used one of the state's rows, and the reasons it did not use it fully."""
    higher = tuple(r.pledge_id for r in rows if r.preference < row.preference and r.amount > EPS)
    if row.max is not None and row.amount >= row.max - EPS:
        return RowUse(row, True, (), higher)
    reasons: list[str] = []
    if allocation.role == "benefitting":
        implemented = facts.instance.config.benefitting.implement_pledges
        reasons.append("fair_share" if implemented else "not_implemented")
    elif allocation.obligation <= EPS and allocation.role != "benefitting":
        reasons.append("no_obligation" if allocation.role == "ad_hoc" else "cap")
    elif allocation.value >= allocation.obligation - EPS:
        reasons.append("cap")
    if reasons[-1:] in (["cap"], ["fair_share"]) and higher:
        reasons.append("preference")
    if _no_need_left(row, facts):
        reasons.append("no_need")
    return RowUse(row, False, tuple(reasons) or ("other",), higher)


def flows(distribution: Sequence[DistributionRow], state: str
          ) -> tuple[tuple[str, str, float, float], ...]:
    """Amount and value the state sends per (benefitting state, measure); an empty
    beneficiary: offsets assigned to no benefitting state (no responsibility.csv)."""
    amount: defaultdict[tuple[str, str], float] = defaultdict(float)
    value: defaultdict[tuple[str, str], float] = defaultdict(float)
    for d in distribution:
        if d.contributor == state:
            amount[d.beneficiary, d.measure.value] += d.amount
            value[d.beneficiary, d.measure.value] += d.value
    return tuple((b, m, amount[b, m], value[b, m]) for b, m in sorted(amount))


# --- offsets and candidates ----------------------------------------------------------------------

def offsets_status(off: OffsetsSummary | None, state: str, allocation: AllocationRow
                   ) -> tuple[str, ...]:
    """Art. 63 for one state: may it offset voluntarily, and why; its mandatory part."""
    if off is None:
        return ()
    pool_wide = (f"pledged relocations {off.pledged_relocations:,.0f} "
                 f"{'reach' if off.voluntary_allowed else 'do not reach'} the threshold "
                 f"{off.voluntary_threshold:,.0f} ({off.voluntary_share:.0%} of the proposal's "
                 f"{off.proposal_relocations:,} relocations, Art. 63(1))")
    if off.voluntary_allowed:
        voluntary = f"voluntary offsets allowed pool-wide: {pool_wide}"
    elif state in off.voluntary_allowed_states:
        voluntary = (f"voluntary offsets allowed for {state} (Art. 63(2)(b)): it pledged at "
                     f"least {off.voluntary_share:.0%} of its obligation as relocations; "
                     f"pool-wide they are not: {pool_wide}")
    else:
        voluntary = (f"voluntary offsets not allowed: {pool_wide}, and {state} did not pledge "
                     f"{off.voluntary_share:.0%} of its obligation as relocations "
                     "(Art. 63(2)(b))")
    lines = [voluntary]
    if state in off.voluntary:
        lines.append(f"its {off.voluntary[state]:,} offsets are counted as voluntary and stay "
                     "voluntary (they close the mandatory gap first)")
    if off.refused_by:
        lines.append("benefitting states refusing voluntary offsets: " + ", ".join(off.refused_by))
    lines.append(mandatory_line(off, state, allocation))
    return tuple(lines)


def mandatory_line(off: OffsetsSummary, state: str, allocation: AllocationRow) -> str:
    if not off.mandatory_triggered:
        return (f"mandatory offsets (Art. 63(3)) not triggered: pledged relocations reach the "
                f"threshold {off.mandatory_threshold:,.0f}")
    owed = off.mandatory_owed.get(state, 0)
    text = (f"mandatory offsets (Art. 63(3)) triggered: gap {off.gap:,} below the threshold "
            f"{off.mandatory_threshold:,.0f} ({off.mandatory_binding} binding), "
            f"{off.remaining_gap:,} after voluntary offsets, spread by key; "
            f"{state}'s mandatory share: {owed:,} persons")
    if owed:
        text += (f", of which planned {off.mandatory.get(state, 0):,} and owed but not planned "
                 f"{off.mandatory_unplanned.get(state, 0):,} (no or too small offset rows)")
    elif state in off.voluntary:
        text += " (its voluntary offsets count instead)"
    elif allocation.role == "contributor" and not off.caps.get(state, 0):
        text += " (its cap, the obligation minus its pledged relocations, leaves none)"
    return text


def candidates(facts: RunFacts, state: str) -> Candidates:
    ids = {r.pledge_id for r in facts.plan if r.state == state}
    places = math.fsum(r.amount for r in facts.plan
                       if r.state == state and r.measure is Measure.relocation)
    costs = tuple((r.subject, r.criterion, r.value or 0.0) for r in facts.matchability
                  if r.kind == "restriction" and r.subject in ids)
    return Candidates(places, facts.placed.get(state, 0), costs)


# --- words ---------------------------------------------------------------------------------------

def _n(value: float) -> str:
    return f"{value:,.0f}" if abs(value - round(value)) < EPS else f"{value:,.2f}"


def _amount(value: float, measure: Measure) -> str:
    return f"{_n(value)} persons" if measure.in_persons else f"EUR {_n(value)}"


def share_lines(e: Explanation) -> list[str]:
    a = e.allocation
    if not e.parts:
        return [f"{e.state} does not participate in the key: no fair share (Art. 13(1))"]
    lines = [f"{p.column}: {p.weight:g} x {_n(p.value)} / {_n(p.total)} = {p.part:.6%}"
             for p in e.parts]
    lines.append(f"computed share {e.computed:.6%} (the totals sum over the {len(e.over)} "
                 f"participating states: {', '.join(e.over)})")
    if a.share_official is not None:
        lines.append(f"official share {a.share_official:.6%} used as given: difference "
                     f"{(a.share_official - a.share_computed) * 100:+.6f} points")
    if e.key_redistribute:
        lines.append(f"renormalised over the contributors only (key.redistribute): {a.share:.6%}")
    return lines


def obligation_lines(e: Explanation) -> list[str]:
    a = e.allocation
    if a.role == "benefitting":
        counted = (f"; its pledges are implemented and count up to its fair share, "
                   f"{a.share:.6%} x {e.relocations:,} rounded as the pool rounds"
                   if e.implement_pledges else "")
        return ["a benefitting state owes nothing this cycle: it receives (Art. 58); "
                f"obligation 0{counted}"]
    if a.role != "contributor":
        return ["no obligation (an ad hoc contributor, Art. 13(1)); its committed minimums count"]
    lines = [f"deduction {a.deduction:.0%} (Arts 61-62; status {e.status}): {a.share:.6%} x "
             f"{e.relocations:,} x (1 - {a.deduction:g}) = {e.obligation_exact:,.4f}"]
    if e.deductions_redistribute:
        lines.append("plus its part of the amounts deducted from others (deductions.redistribute)")
    lines.append(f"rounding {e.rounding.value}: obligation {_n(a.obligation)} persons "
                 f"(relocation-equivalents) = EUR {_n(a.obligation_eur)} at EUR {_n(e.rate)} each")
    lines.append(f"planned value {_n(a.value)}: shortfall {_n(a.shortfall)}, "
                 f"surplus {_n(e.surplus)}")
    return lines


def row_line(use: RowUse) -> str:
    r = use.row
    top = _amount(r.max, r.measure) if r.max is not None else "no maximum"
    head = (f"{r.pledge_id} {r.measure.value} (preference {r.preference}, min "
            f"{_amount(r.min, r.measure)}, max {top}): the plan takes "
            f"{_amount(r.amount, r.measure)} = {_n(r.value)} relocation-equivalents")
    if use.full:
        return head + "; used fully"
    why = [REASONS[code] + (f" ({', '.join(use.ranked_higher)})" if code == "preference" else "")
           for code in use.reasons]
    return head + "; not used fully: " + "; ".join(why)


def flow_lines(e: Explanation) -> list[str]:
    lines = []
    for beneficiary, measure, amount, value in e.flows:
        where = beneficiary or "no benefitting state (offsets not assigned: no responsibility.csv)"
        lines.append(f"to {where}: {_amount(amount, Measure(measure))} {measure} "
                     f"({_n(value)} relocation-equivalents)")
    return lines or ["nothing"]


def candidate_lines(c: Candidates) -> list[str]:
    lines = [f"{_n(c.places)} relocation places, {c.placed:,} persons placed in them"]
    lines += [f"restriction {pledge} {criterion}: {_n(persons)} more persons could be placed "
              "without it" for pledge, criterion, persons in c.restrictions]
    return lines


def sections(e: Explanation) -> list[tuple[str, list[str]]]:
    """The explanation as titled groups of plain sentences (terminal and report.html)."""
    parts = [("Share (Art. 66, Annex I)", share_lines(e)),
             ("Deduction, rounding and obligation (Arts 57, 61-62)", obligation_lines(e)),
             ("Pledge rows and how the plan used them",
              [row_line(u) for u in e.rows] or ["no pledge rows"]),
             ("Where its contributions go (Art. 60(2))", flow_lines(e)),
             ("Responsibility offsets (Art. 63)", list(e.offsets) or ["not assessed"])]
    if e.candidates is not None:
        parts.append(("Candidates (Arts 67-68)", candidate_lines(e.candidates)))
    return parts


def explain_text(e: Explanation) -> str:
    """The explanation as `planner explain` prints it."""
    out = [f"{e.state} {e.name} ({e.role}): obligation {_n(e.allocation.obligation)} "
           f"relocation-equivalents, EUR {_n(e.allocation.obligation_eur)}"]
    for title, lines in sections(e):
        out.append(f"\n{title}")
        out += [f"  {line}" for line in lines]
    return "\n".join(out) + "\n"
