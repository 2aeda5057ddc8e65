"""The instance as of a date: the inputs of a re-plan of the rest of the year (`planner run
--as-of DATE`, issue 15, Art. 60(3)).

What was implemented or transferred by the date is fixed; only what remains is planned:

* transfers.csv: a row dated after the date is not a transfer yet (its case is matched like
  any other); rows dated on or before it, and undated rows, are transfers as in an annual
  plan (kept where they went, planner.optimise.assignments);
* implementation.csv: the rows dated on or before the date are, per contributor and measure,
  a floor under the plan: the state's rows of that measure are given minimums that sum to
  at least what was implemented, the most preferred row first (preference rank, then pledge
  id: the row the plan fills first), each up to its `max`; what exceeds every row's `max`
  (more implemented than pledged, a warning of planner validate) raises the last row's `max`
  too, so the plan holds what happened. plan.csv's `min` then shows the floor.
* implementation.csv's `benefitting`: the money a contributor paid or spent towards a
  benefitting state goes there in the re-plan's distribution too, as far as its rows may
  serve that state (`implemented_towards`; floors under the flows,
  planner.optimise.distribution.ledger_floors); summary.json's `replan.not_distributed`
  records any part that could not;
* a benefitting state's own pledges stay unimplemented (rules section 4): the ledger does
  not raise them.

Everything else is the annual plan's: a re-plan on an empty ledger with no transfer dated
after the date is the annual plan (the pacing aside, planner.optimise.pacing). The verifier
derives the same instance from summary.json's `replan.as_of` (planner.verifier.verify), and
re-checks the fixed part from the ledger on its own.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from models.instance import Implementation, Instance, Pledge
from planner.errors import InputError, Problem

Fixed = dict[tuple[str, str], float]  # (state, measure) -> amount implemented, measure unit
K = TypeVar("K", tuple[str, str], tuple[str, str, str])


def check_as_of(instance: Instance, as_of: dt.date) -> None:
    """The date must fall within the cycle (the pool is annual, Art. 57): else an input
    problem on instance.toml's `cycle`, exit 2."""
    first, last = instance.config.cycle_days
    if not first <= as_of <= last:
        raise InputError([Problem(str(Path(instance.origin.folder) / "instance.toml"), 0,
                                  "cycle", f"--as-of {as_of.isoformat()} is outside the cycle "
                                  f"{instance.config.cycle} ({first.isoformat()} to "
                                  f"{last.isoformat()})")])


def implemented(instance: Instance, as_of: dt.date) -> Fixed:
    """implementation.csv's amounts dated on or before `as_of`, per (state, measure), in
    (state, measure) order; a benefitting state's own rows are left out when its pledges are
    not implemented (rules section 4)."""
    return _sums(instance, as_of, lambda e: (e.state, e.measure.value))


def implemented_towards(instance: Instance, as_of: dt.date) -> dict[tuple[str, str, str], float]:
    """As `implemented`, of the rows that name a benefitting state, per (state, measure,
    benefitting): what a re-plan's distribution keeps sending there
    (planner.optimise.distribution.ledger_floors)."""
    return _sums(instance, as_of, lambda e: (e.state, e.measure.value, e.benefitting)
                 if e.benefitting else None)


def _sums(instance: Instance, as_of: dt.date, key: Callable[[Implementation], K | None]
          ) -> dict[K, float]:
    """The positive sums of the ledger's amounts to `as_of` by `key` (None: left out), in key
    order, without a benefitting state's own rows unless its pledges are implemented."""
    idle = set() if instance.config.benefitting.implement_pledges else set(instance.benefitting)
    totals: dict[K, list[float]] = defaultdict(list)
    for entry in instance.ledger.entries:
        found = key(entry) if entry.date <= as_of and entry.state not in idle else None
        if found is not None:
            totals[found].append(entry.amount)
    return {k: math.fsum(v) for k, v in sorted(totals.items()) if math.fsum(v) > 0}


def transfers_as_of(instance: Instance, as_of: dt.date) -> tuple[tuple[str, str], ...]:
    """transfers.csv's rows that are transfers at `as_of`: undated, or dated on or before it."""
    dates = instance.ledger.transfer_dates
    return tuple((case_id, state) for case_id, state in instance.transfers
                 if case_id not in dates or dates[case_id] <= as_of)


def floors(pledges: tuple[Pledge, ...], fixed: Fixed) -> dict[str, tuple[float, float | None]]:
    """The new (min, max) of the rows the fixed part raises, by pledge id: per (state,
    measure), the amount spread over the state's rows of the measure, most preferred first,
    each up to its max; the rest on the last row (its max raised to its new min)."""
    changed: dict[str, tuple[float, float | None]] = {}
    for (state, measure), amount in fixed.items():
        rows = sorted((p for p in pledges if p.state == state and p.measure.value == measure),
                      key=lambda p: (p.preference, p.pledge_id))
        left = amount
        for n, p in enumerate(rows):
            last = n == len(rows) - 1
            take = left if last or p.max is None else min(left, p.max)
            left -= take
            low = max(p.min, take)
            if low > p.min:
                high = p.max if p.max is None or p.max >= low else low
                changed[p.pledge_id] = (low, high)
    return changed


def as_of_instance(instance: Instance, as_of: dt.date) -> Instance:
    """The instance a re-plan at `as_of` plans (see the module's docstring); `check_as_of`
    first."""
    check_as_of(instance, as_of)
    raised = floors(instance.pledges, implemented(instance, as_of))
    pledges = tuple(p.model_copy(update={"min": raised[p.pledge_id][0],
                                         "max": raised[p.pledge_id][1]})
                    if p.pledge_id in raised else p for p in instance.pledges)
    transfers = transfers_as_of(instance, as_of)
    kept = {case_id for case_id, _ in transfers}
    origin = instance.origin.model_copy(update={"transfer_lines": {
        c: line for c, line in instance.origin.transfer_lines.items() if c in kept}})
    return instance.model_copy(update={"pledges": pledges, "transfers": transfers,
                                       "origin": origin})
