"""Pacing of a re-plan's matching (`planner run --as-of DATE`, issue 15, Art. 60(3)).

"Contributing Member States shall implement their pledges in proportion to their overall
pledge ... before the end of the year" (Art. 60(3)). A re-plan matches the candidates known
now; without a cap, the states whose places fit them best would take them all, and the
others' places would wait for the year's end. [interp] `[replan] pacing` caps each
contributor's new placements (persons the matching places who are not transferred yet) in the
coming period near its pro-rata share of what remains:

    remaining = the relocation places plan.csv gives it - the persons transferred to it
    cap       = ceil(pacing x remaining x min(period_days, days left) / days left)

where "days left" counts the days after the as-of date to 31 December. The matching's places
of the contributor's relocation rows are then its transferred persons plus the cap, spread
over its rows in pledge-id order up to each row's places (`paced_places`): the year's places
stay in plan.csv and distribution.csv, only the matching sees the paced ones. `pacing = 0` is
the neutral value (no cap), and so is the last day of the year (nothing is left to pace).
Persons implementation.csv records as relocated in aggregate (an instance without
transfers.csv) used their places: remaining leaves them out, and the matching never gets
them, paced or not.

The pacing applies to the joint split (`[matching] split = "joint"`, the default), where the
matching decides each row's split; a fixed split is not paced. The verifier recomputes the
same caps from plan.csv, the transfers and summary.json's `replan` (planner.verifier.matching).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass

from models.instance import Instance, Measure
from planner.inputs.asof import implemented

# Slack against the round-off of remaining x period / days left (a whole number of persons
# must not be rounded up to the next one).
ROUND_TOL = 1e-9


@dataclass(frozen=True)
class Pacing:
    """A re-plan's date and pacing: `as_of` (the last day already lived), `pacing` (the
    factor; 0: none) and `period_days` (the coming period)."""

    as_of: dt.date
    pacing: float
    period_days: int


def days_left(cycle: int, as_of: dt.date) -> int:
    """Days after `as_of` up to 31 December of the cycle."""
    return (dt.date(cycle, 12, 31) - as_of).days


def transferred_persons(instance: Instance) -> dict[str, int]:
    """Persons of the transferred cases per contributor (the state they went to)."""
    sizes = {case.case_id: case.size for case in instance.cases or ()}
    persons: dict[str, int] = defaultdict(int)
    for case_id, state in instance.transfers:
        persons[state] += sizes.get(case_id, 0)
    return dict(sorted(persons.items()))


def relocated_in_aggregate(instance: Instance, as_of: dt.date) -> dict[str, int]:
    """Persons implementation.csv records as relocated by `as_of`, per contributor (an
    instance without transfers.csv: planner.inputs.ledger refuses both): those places are
    used, the matching does not fill them again."""
    return {state: int(amount) for (state, measure), amount in implemented(instance, as_of).items()
            if measure == Measure.relocation.value}


def _places(instance: Instance, amounts: dict[str, float]) -> dict[str, float]:
    places: dict[str, float] = defaultdict(float)
    for p in instance.pledges:
        if p.measure is Measure.relocation:
            places[p.state] += amounts.get(p.pledge_id, 0.0)
    return {s: v for s, v in sorted(places.items()) if v >= 1}


def placement_caps(instance: Instance, amounts: dict[str, float], pacing: Pacing
                   ) -> dict[str, int]:
    """Per contributor with relocation places: the most new persons the matching may place
    in the coming period; empty when the pacing is neutral. Its remaining places are those
    of plan.csv less the persons transferred to it or relocated in aggregate."""
    left = days_left(instance.config.cycle, pacing.as_of)
    if pacing.pacing == 0 or left <= 0:
        return {}
    period = min(pacing.period_days, left)
    moved = transferred_persons(instance)
    done = relocated_in_aggregate(instance, pacing.as_of)
    caps = {}
    for state, total in _places(instance, amounts).items():
        remaining = max(0.0, total - moved.get(state, 0) - done.get(state, 0))
        caps[state] = math.ceil(pacing.pacing * remaining * period / left - ROUND_TOL)
    return caps


def paced_places(instance: Instance, amounts: dict[str, float], caps: dict[str, int],
                 as_of: dt.date) -> dict[str, float]:
    """The matching's places per relocation row: per contributor, its transferred persons
    plus its cap (no cap: every place), never more than its places less those relocated in
    aggregate, spread over its rows in pledge-id order up to each row's places; rows of
    contributors with neither a cap nor aggregate relocations keep theirs (empty: the
    matching sees plan.csv's places, as in the annual plan)."""
    moved = transferred_persons(instance)
    done = relocated_in_aggregate(instance, as_of)
    allowed = {s: min(total - done.get(s, 0), moved.get(s, 0) + caps.get(s, math.inf))
               for s, total in _places(instance, amounts).items() if s in caps or s in done}
    paced = {}
    for p in instance.pledges:  # in pledge-id order
        if p.measure is not Measure.relocation or p.state not in allowed:
            continue
        take = max(0.0, min(amounts.get(p.pledge_id, 0.0), allowed[p.state]))
        allowed[p.state] -= take
        paced[p.pledge_id] = take
    return paced


def cut_flows(flows: list[tuple[str, str, float]], paced: dict[str, float],
              used: dict[tuple[str, str], float]) -> list[tuple[str, str, float]]:
    """The distribution's relocation flows (pledge id, benefitting state, places) cut to the
    paced places of their rows: a row keeps the persons placed from each state (`used`),
    then the rest of its paced places go to its flows in benefitting-state order, each up to
    its places. Rows without paced places are kept whole."""
    room = {pid: paced[pid] - math.fsum(u for (q, _), u in used.items() if q == pid)
            for pid in paced}
    cut = []
    for pid, state, amount in sorted(flows):
        if pid not in paced:
            cut.append((pid, state, amount))
            continue
        kept = min(amount, used.get((pid, state), 0.0))
        extra = max(0.0, min(amount - kept, room[pid]))
        room[pid] -= extra
        cut.append((pid, state, kept + extra))
    return cut
