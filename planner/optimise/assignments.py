"""From the plan's places to assignment tables: transfers checked, cases matched, rows out."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from operator import attrgetter
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from models.cases import Case
from models.instance import Instance
from models.results import (
    AssignmentRow,
    DistributionRow,
    MatchabilityRow,
    Matching,
    UnassignedRow,
)
from planner.errors import InputError, Problem
from planner.optimise.eligibility import Place, may_take, places_from, profiles, unplaced_reason
from planner.optimise.matchability import assess, rows
from planner.optimise.matching import Assignment, Clock, MatchResult, match
from planner.optimise.pacing import cut_flows
from planner.optimise.solve import Solver

R = TypeVar("R", bound=BaseModel)


def check_transfers(instance: Instance, places: list[Place],
                    totals: dict[str, int] | None = None) -> None:
    """A transfer uses its state's places for the case's location; more than the plan gives
    that state there is an input error (exit 2), reported on every transfer line involved.
    With the joint split (`totals`: each row's places, offered to each state it may serve),
    the transfers to a state from all locations together must also fit its rows' totals."""
    source = str(Path(instance.origin.folder) / "transfers.csv")
    sizes = {c.case_id: (c.location, c.size) for c in instance.cases or ()}
    capacity: dict[tuple[str, str], int] = defaultdict(int)
    largest: dict[tuple[str, str], int] = defaultdict(int)
    for place in places:
        capacity[(place.state, place.location)] += place.capacity
        largest[(place.state, place.location)] = max(largest[(place.state, place.location)],
                                                     place.capacity)
    used: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    problems = []
    lines_of = instance.origin.transfer_lines
    for case_id, state in instance.transfers:
        line = lines_of.get(case_id, 0)
        location, size = sizes[case_id]
        used[(state, location)].append((line, size))
        if capacity[(state, location)] >= size > largest[(state, location)]:
            # Families move whole: one pledge row must hold the whole case.
            problems.append(Problem(
                source, line, "case_id",
                f"case {case_id} has {size} persons, but no pledge row of {state} has that "
                f"many places for {location} (largest {largest[(state, location)]})"))
    for (state, location), lines in sorted(used.items()):
        total = sum(size for _, size in lines)
        if total > capacity[(state, location)]:
            for line, _ in lines:
                problems.append(Problem(
                    source, line, "state",
                    f"transfers to {state} from {location} need {total} places, the plan gives "
                    f"{state} {capacity[(state, location)]} there"))
    if totals is not None:
        problems += _beyond_totals(instance, source, totals, used, capacity)
    if problems:
        raise InputError(sorted(problems))


def _beyond_totals(instance: Instance, source: str, totals: dict[str, int],
                   used: dict[tuple[str, str], list[tuple[int, int]]],
                   capacity: dict[tuple[str, str], int]) -> list[Problem]:
    """The joint split's check (`check_transfers`): the transfers to a state from all
    locations together against its rows' totals, reported only where each location's
    transfers fit (else those are reported already)."""
    owned: dict[str, int] = defaultdict(int)
    for pid, total in totals.items():
        owned[instance.pledges_by_id[pid].state] += total
    by_state: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for (state, _), lines in used.items():
        by_state[state] += lines
    problems = []
    for state, lines in sorted(by_state.items()):
        total = sum(size for _, size in lines)
        if total > owned[state] and all(
                sum(s for _, s in used[(state, loc)]) <= capacity[(state, loc)]
                for (st, loc) in used if st == state):
            for line, _ in lines:
                problems.append(Problem(
                    source, line, "state",
                    f"transfers to {state} need {total} places, the plan gives {state} "
                    f"{owned[state]} in all"))
    return problems


def trusted_rows(model: type[R], records: Iterable[dict[str, object]]) -> list[R]:
    """Row models from values that already have their fields' types, without validation: what
    `model.model_construct` does for a model without defaults left out, aliases or private
    attributes, at a third of its cost (it was 0.2 s for 27,500 rows of a monthly re-run).
    The verifier re-reads and re-checks the written rows; tests/test_matching.py checks these
    rows equal validated ones."""
    fields = frozenset(model.model_fields)
    new, set_ = model.__new__, object.__setattr__
    rows = []
    for values in records:
        row = new(model)
        set_(row, "__dict__", values)
        set_(row, "__pydantic_fields_set__", set(fields))
        set_(row, "__pydantic_extra__", None)
        set_(row, "__pydantic_private__", None)
        rows.append(row)
    return rows


def explain_unplaced(unassigned: list[tuple[Case, str]], places: list[Place],
                     rejected: set[tuple[str, str]], recheck: bool = False
                     ) -> list[tuple[Case, str]]:
    """Each unplaced case's reason on the plan's final places: `no_eligible_place` made
    `no_bilateral_agreement` for a beneficiary's case that a place of its location would take
    were the agreement not required (Art. 56(2)(a)(ii)); with `recheck` (the joint split,
    whose matching saw every row's whole total), a `capacity` case that none of the final
    places may take is judged the same way (`no_eligible_place` or `no_bilateral_agreement`).
    Worked out once per distinct eligibility profile (the matching's key)."""
    at: dict[str, list[Place]] = defaultdict(list)
    for place in places:
        at[place.location].append(place)
    profile = profiles(rejected)
    known: dict[tuple[object, ...], str] = {}
    out = []
    for case, reason in unassigned:
        if (reason == "no_eligible_place" and "beneficiary" in case.statuses) or \
                (recheck and reason == "capacity"):
            key = profile(case)
            found = known.get(key)
            if found is None:
                here = at[case.location]
                found = known[key] = "capacity" if any(
                    may_take(case, p, rejected) for p in here) \
                    else unplaced_reason(case, here, rejected)
            reason = found
        out.append((case, reason))
    return out


def person_reasons(a: Assignment) -> list[tuple[str, ...]]:
    """Each person's reasons: the case's (transfer, links, language, preference), then
    `vulnerable` for a person whose own `vulnerable` cell is true and `unaccompanied_minor`
    for an unaccompanied minor (contract: candidates.csv's columns, per person; a family's
    other members carry neither)."""
    case, reasons = a.case, tuple(a.reasons)
    if not (case.vulnerable_bits or case.minor_bits):
        return [reasons] * len(case.persons)
    return [(*reasons, *(("vulnerable",) if case.vulnerable_bits >> n & 1 else ()),
             *(("unaccompanied_minor",) if case.minor_bits >> n & 1 else ()))
            for n in range(len(case.persons))]


def assignment_rows(result: MatchResult) -> tuple[list[AssignmentRow], list[UnassignedRow]]:
    """A row per person, by case id then person id. (The sort is nearly free: `match` already
    orders by case id, and a case's persons come sorted.)"""
    assigned = trusted_rows(AssignmentRow, (
        {"person_id": person, "case_id": a.case.case_id, "from_state": a.case.location,
         "to_state": a.place.state, "pledge_id": a.place.pledge_id, "score": float(a.score),
         "reasons": reasons}
        for a in result.assignments
        for person, reasons in zip(a.case.persons, person_reasons(a), strict=True)))
    left = trusted_rows(UnassignedRow, (
        {"person_id": person, "case_id": case.case_id, "location": case.location,
         "reason": reason}
        for case, reason in result.unassigned for person in case.persons))
    order = attrgetter("case_id", "person_id")
    return sorted(assigned, key=order), sorted(left, key=order)


def family_splits(rows: list[AssignmentRow], instance: Instance) -> int:
    """Cases whose persons are not all placed together in one pledge row."""
    sizes = {c.case_id: c.size for c in instance.cases or ()}
    seen: dict[str, set[tuple[str, str]]] = defaultdict(set)
    count = Counter(r.case_id for r in rows)
    for row in rows:
        seen[row.case_id].add((row.to_state, row.pledge_id))
    return sum(1 for case, targets in seen.items()
               if len(targets) > 1 or count[case] != sizes.get(case))


def run_matching(instance: Instance, flows: list[DistributionRow], solver: Solver,
                 timings: dict[str, float] | None = None
                 ) -> tuple[list[AssignmentRow], list[UnassignedRow], list[MatchabilityRow],
                            Matching]:
    """Places from the distribution, matchability (max-flow bound and its explanation), then
    the matching itself. `timings` gets the seconds of each step (`matching_*` keys)."""
    clock = Clock({} if timings is None else timings)
    with clock("matching_places"):
        places = _places(instance, flows)
        check_transfers(instance, places)
    result = match(instance, list(instance.cases or ()), places, *_fixed(instance), solver,
                   clock.seconds)
    return report_matching(instance, places, result, clock)


def _places(instance: Instance, flows: list[DistributionRow]) -> list[Place]:
    return places_from(instance, [(r.pledge_id, r.beneficiary, r.amount) for r in flows])


def _fixed(instance: Instance) -> tuple[dict[str, str], set[tuple[str, str]]]:
    """Transfers (case -> state) and rejected (case, state) pairs."""
    return dict(instance.transfers), set(instance.rejections)


def match_joint(instance: Instance, amounts: dict[str, float], solver: Solver,
                timings: dict[str, float] | None = None
                ) -> tuple[MatchResult, dict[tuple[str, str], float]]:
    """The joint split (issue 18): the matching on every relocation row's whole total for
    each state it may serve (planner.optimise.distribution.joint_split); returns the result and the
    persons placed per (pledge row, benefitting state), the distribution's floors."""
    from planner.optimise.distribution import joint_split

    clock = Clock({} if timings is None else timings)
    with clock("matching_places"):
        places, split = joint_split(instance, amounts)
        check_transfers(instance, places, split.totals)
    result = match(instance, list(instance.cases or ()), places, *_fixed(instance), solver,
                   clock.seconds, split)
    used: dict[tuple[str, str], float] = defaultdict(float)
    for a in result.assignments:
        used[(a.place.pledge_id, a.place.location)] += a.case.size
    return result, dict(sorted(used.items()))


def finish_joint(instance: Instance, flows: list[DistributionRow], result: MatchResult,
                 timings: dict[str, float] | None = None, paced: dict[str, float] | None = None
                 ) -> tuple[list[AssignmentRow], list[UnassignedRow], list[MatchabilityRow],
                            Matching]:
    """After the joint split's distribution: the places are distribution.csv's (the split
    used, places left empty included), and an unplaced case is `no_eligible_place` when none
    of them at its location may take it (else `capacity`), as with a fixed split. A paced
    re-plan (`paced`: the matching's places per relocation row, planner.optimise.pacing)
    reports on those flows cut to the paced places."""
    listed = [(r.pledge_id, r.beneficiary, r.amount) for r in flows]
    if paced:
        used: dict[tuple[str, str], float] = defaultdict(float)
        for a in result.assignments:
            used[(a.place.pledge_id, a.place.location)] += a.case.size
        listed = cut_flows(listed, paced, used)
    return report_matching(instance, places_from(instance, listed), result,
                           Clock({} if timings is None else timings), recheck=True)


def report_matching(instance: Instance, places: list[Place], result: MatchResult,
                    clock: Clock, recheck: bool = False
                    ) -> tuple[list[AssignmentRow], list[UnassignedRow], list[MatchabilityRow],
                               Matching]:
    """Matchability on the plan's places (max-flow bound and its explanation) and the
    matching's rows and summary; the unplaced cases' reasons on those places
    (`explain_unplaced`; `recheck`: the joint split's `capacity` cases too)."""
    transfers, rejected = _fixed(instance)
    with clock("matching_matchability"):
        explained = assess(list(instance.cases or ()), places, rejected, transfers)
    result.unassigned = explain_unplaced(result.unassigned, places, rejected, recheck)
    with clock("matching_rows"):
        assigned, left = assignment_rows(result)
    summary = Matching(
        ran=True,
        persons_total=len(assigned) + len(left),
        persons_eligible=len(assigned) + sum(1 for r in left if r.reason == "capacity"),
        persons_assigned=len(assigned),
        cases_assigned=len(result.assignments),
        family_splits=family_splits(assigned, instance),
        places=sum(p.capacity for p in places),
        bound=explained.bound,
        bottlenecks=list(explained.bottlenecks),
        unassigned_by_reason=dict(sorted(Counter(r.reason for r in left).items())),
        classes=result.classes,
        stages=result.stages,
    )
    matchability = [MatchabilityRow.model_validate(row) for row in rows(explained)]
    return assigned, left, matchability, summary
