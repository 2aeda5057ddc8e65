"""The verifier's checks of a re-plan (`planner run --as-of DATE`, issue 15), in its own code:
nothing here comes from planner.optimise.pacing.

summary.json's `replan` against the inputs: the as-of date within the cycle, the days left
and the end of the cycle, `fixed` (implementation.csv's amounts dated up to the date, per
contributor and measure, a benefitting state's own rows left out unless its pledges are
implemented), the persons transferred by the date per contributor, the transfers dated after
it (none of them may be in the instance checked against: it must be the instance as of the
date), the placement caps and the paced places. plan.csv: each contributor's rows of a
measure give at least what the ledger fixed (Art. 60(3): implemented is implemented).

The matching checks (planner.verifier.matching) then run on the paced places: `paced_view`
gives them plan.csv's relocation rows cut to the paced places and distribution.csv's flows cut
to them (each row keeps the persons assignments.csv places from each state; the rest of its
paced places go to its flows in benefitting-state order).
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections import defaultdict
from typing import TYPE_CHECKING

from models.instance import Instance, Measure
from models.results import DistributionRow, ReplanSummary
from planner.verifier.rules import arcs, effective_needs

if TYPE_CHECKING:  # verify imports this module: the annotation only
    from planner.verifier.verify import Outputs

TOL = 1e-6


def _date(out: Outputs) -> tuple[ReplanSummary, dt.date] | None:
    replan = out.summary.replan if out.summary is not None else None
    if replan is None:
        return None
    try:
        return replan, dt.date.fromisoformat(replan.as_of)
    except ValueError:
        out.fail("summary.json", 0, "replan.as_of", f"{replan.as_of!r} is not an ISO date")
        return None


def _persons(instance: Instance) -> dict[str, int]:
    sizes = {case.case_id: len(case.persons) for case in instance.cases or ()}
    moved: dict[str, int] = defaultdict(int)
    for case_id, state in instance.transfers:
        moved[state] += sizes.get(case_id, 0)
    return dict(moved)


def _fixed(instance: Instance, as_of: dt.date) -> dict[str, dict[str, float]]:
    idle = () if instance.config.benefitting.implement_pledges else instance.benefitting
    fixed: dict[str, dict[str, float]] = {}
    for entry in instance.ledger.entries:
        if entry.date <= as_of and entry.state not in idle and entry.amount > 0:
            per = fixed.setdefault(entry.state, {})
            per[entry.measure.value] = per.get(entry.measure.value, 0.0) + entry.amount
    return fixed


def caps_of(out: Outputs, instance: Instance, replan: ReplanSummary, as_of: dt.date
            ) -> tuple[dict[str, int], dict[str, int]]:
    """The placement caps and the matching's places per relocation row, from plan.csv, the
    transfers, the relocations the ledger records in aggregate and the pacing recorded (joint
    split only; no caps at pacing 0 or on the last day)."""
    if instance.cases is None or instance.config.matching.split != "joint":
        return {}, {}
    left = (dt.date(instance.config.cycle, 12, 31) - as_of).days
    moved = _persons(instance)
    done = {s: m["relocation"] for s, m in _fixed(instance, as_of).items() if "relocation" in m}
    rows = sorted((row.pledge_id, row.state, row.amount) for _, row in out.plan
                  if row.measure is Measure.relocation)
    places: dict[str, float] = defaultdict(float)
    for _, state, amount in rows:
        places[state] += amount
    caps = {} if replan.pacing == 0 or left <= 0 else {
        s: math.ceil(replan.pacing * max(0.0, total - moved.get(s, 0) - done.get(s, 0))
                     * min(replan.period_days, left) / left - 1e-9)
        for s, total in places.items() if total >= 1}
    allowed = {s: min(total - done.get(s, 0), moved.get(s, 0) + caps.get(s, math.inf))
               for s, total in places.items() if total >= 1 and (s in caps or s in done)}
    paced = {}
    for pid, state, amount in rows:
        if state in allowed:
            paced[pid] = int(max(0.0, min(amount, allowed[state])))
            allowed[state] -= paced[pid]
    return dict(sorted(caps.items())), dict(sorted(paced.items()))


def check_replan(out: Outputs, instance: Instance) -> None:
    """summary.json's `replan` re-derived, and plan.csv holding the fixed part."""
    found = _date(out)
    if found is None:
        return
    replan, as_of = found
    cycle = instance.config.cycle
    first, last = instance.config.cycle_days
    if not first <= as_of <= last:
        out.fail("summary.json", 0, "replan.as_of", f"{replan.as_of} is outside the cycle "
                 f"{cycle}")
    dates = instance.ledger.transfer_dates
    late = [c for c, _ in instance.transfers if c in dates and dates[c] > as_of]
    if late:
        out.fail("summary.json", 0, "replan.as_of", f"the instance checked against has "
                 f"transfers dated after {replan.as_of} ({late[0]}...): not the instance as of "
                 "that date")
    caps, paced = caps_of(out, instance, replan, as_of)
    expected = {"cycle_end": dt.date(cycle, 12, 31).isoformat(),
                "days_left": (dt.date(cycle, 12, 31) - as_of).days,
                "transferred": dict(sorted(_persons(instance).items())),
                "transfers_after": sum(1 for d in dates.values() if d > as_of),
                "placements_cap": caps, "places_paced": paced}
    for name, want in expected.items():
        if getattr(replan, name) != want:
            out.fail("summary.json", 0, f"replan.{name}", f"{getattr(replan, name)!r}, the "
                     f"inputs give {want!r}")
    _check_fixed(out, replan, _fixed(instance, as_of))
    _check_towards(out, instance, replan)


MONEY = (Measure.financial, Measure.alternative)
Group = tuple[str, str, str]  # contributor, measure, benefitting state


def ledger_floors(out: Outputs, instance: Instance, needs: dict[tuple[str, Measure], float]
                  ) -> tuple[dict[tuple[str, str], float], dict[Group, float]]:
    """A re-plan's money implemented towards a benefitting state by its date (the ledger's
    rows with a `benefitting`), laid on the contributor's rows of the measure that may serve
    that state (`rules.arcs`), most preferred first (preference, pledge id), each up to its
    plan.csv amount less what is already laid on it: the floor under each (row, state) flow
    (distribution.csv may not send less; the balance may not move it), and per (contributor,
    measure, state) what no row could take. Nothing outside a re-plan."""
    replan = out.summary.replan if out.summary is not None else None
    try:
        as_of = dt.date.fromisoformat(replan.as_of) if replan is not None else None
    except ValueError:
        as_of = None  # check_replan says so
    if as_of is None:
        return {}, {}
    idle = () if instance.config.benefitting.implement_pledges else instance.benefitting
    owed: dict[Group, float] = defaultdict(float)
    for e in instance.ledger.entries:
        if e.date <= as_of and e.state not in idle and e.benefitting and e.measure in MONEY:
            owed[(e.state, e.measure.value, e.benefitting)] += e.amount
    amounts = {row.pledge_id: row.amount for _, row in out.plan}
    rows = sorted(instance.pledges, key=lambda p: (p.preference, p.pledge_id))
    laid: dict[str, float] = defaultdict(float)
    floors: dict[tuple[str, str], float] = {}
    unplaced: dict[Group, float] = {}
    for (state, measure, b), amount in sorted(owed.items()):
        for p in rows:
            if p.state == state and p.measure.value == measure and amount > 0 \
                    and b in arcs(p, instance.benefitting, needs):
                take = min(amount, amounts.get(p.pledge_id, 0.0) - laid[p.pledge_id])
                if take > 0:
                    floors[(p.pledge_id, b)] = take
                    laid[p.pledge_id] += take
                    amount -= take
        if amount >= 1:
            unplaced[(state, measure, b)] = amount
    return floors, unplaced


def _check_towards(out: Outputs, instance: Instance, replan: ReplanSummary) -> None:
    """distribution.csv sends the ledger's money where it went (`ledger_floors`), within a
    cent per flow; summary.json's `replan.not_distributed` is what no row could take."""
    floors, unplaced = ledger_floors(out, instance, effective_needs(instance))
    sent = {(row.pledge_id, row.beneficiary): row.amount for _, row in out.distribution}
    for (pid, b), floor in sorted(floors.items()):
        if sent.get((pid, b), 0.0) < floor - 0.01:
            out.fail("distribution.csv", 0, "amount", f"{pid} to {b}: "
                     f"{sent.get((pid, b), 0.0):.2f}, less than the {floor:.2f} "
                     f"implementation.csv records towards {b} by {replan.as_of}")
    declared = {(s, m, b): v for s, ms in replan.not_distributed.items()
                for m, bs in ms.items() for b, v in bs.items()}
    for key in sorted(set(declared) | set(unplaced)):
        if abs(declared.get(key, 0.0) - unplaced.get(key, 0.0)) > 0.01:
            out.fail("summary.json", 0, "replan.not_distributed." + ".".join(key),
                     f"{declared.get(key, 0.0):.2f}, the ledger and plan.csv leave "
                     f"{unplaced.get(key, 0.0):.2f} that no row may take")


def _check_fixed(out: Outputs, replan: ReplanSummary, fixed: dict[str, dict[str, float]]
                 ) -> None:
    planned: dict[tuple[str, str], float] = defaultdict(float)
    for _, row in out.plan:
        planned[(row.state, row.measure.value)] += row.amount
    for state, measures in sorted(fixed.items()):
        for measure, amount in sorted(measures.items()):
            got = replan.fixed.get(state, {}).get(measure)
            if got is None or abs(got - amount) > TOL * max(1.0, amount):
                out.fail("summary.json", 0, f"replan.fixed.{state}.{measure}",
                         f"{got!r}, implementation.csv gives {amount:.10g} by {replan.as_of}")
            if planned[(state, measure)] < amount - max(0.011, TOL * amount):
                out.fail("plan.csv", 0, "amount", f"{state}'s {measure} rows give "
                         f"{planned[(state, measure)]:.10g}, less than the {amount:.10g} "
                         f"implemented by {replan.as_of}")
    extra = {(s, m) for s, ms in replan.fixed.items() for m in ms} \
        - {(s, m) for s, ms in fixed.items() for m in ms}
    for state, measure in sorted(extra):
        out.fail("summary.json", 0, f"replan.fixed.{state}.{measure}", "implementation.csv "
                 f"records none by {replan.as_of}")


def paced_view(out: Outputs, instance: Instance) -> Outputs:
    """`out` with plan.csv's relocation rows at their paced places and distribution.csv's
    relocation flows cut to them (the places the matching used); `out` itself when the run
    is not paced."""
    found = _date(out)
    if found is None:
        return out
    _, paced = caps_of(out, instance, *found)
    if not paced:
        return out
    used: dict[tuple[str, str], float] = defaultdict(float)
    for pid, state in zip(out.assignments["pledge_id"].tolist(),
                          out.assignments["from_state"].tolist(), strict=True):
        used[(str(pid), str(state))] += 1
    room = {pid: paced[pid] - sum(u for (q, _), u in used.items() if q == pid) for pid in paced}
    flows: list[tuple[int, DistributionRow]] = []
    for line, row in sorted(out.distribution, key=lambda r: (r[1].pledge_id, r[1].beneficiary)):
        if row.measure is Measure.relocation and row.pledge_id in paced:
            kept = min(row.amount, used.get((row.pledge_id, row.beneficiary), 0.0))
            extra = max(0.0, min(row.amount - kept, room[row.pledge_id]))
            room[row.pledge_id] -= extra
            row = row.model_copy(update={"amount": kept + extra})
        flows.append((line, row))
    view = copy.copy(out)
    view.distribution = sorted(flows, key=lambda r: r[0])
    view.plan = [(line, row.model_copy(update={"amount": float(paced[row.pledge_id])})
                  if row.pledge_id in paced else row) for line, row in out.plan]
    return view

