"""A synthetic ledger for an instance (issue 15, item 5): `planner generate --ledger`.

    planner generate --ledger --instance instances/eu-2026 --as-of 2026-06-30 --out DIR
        [--seed S] [--transfers]

writes `DIR/implementation.csv` (and with `--transfers`, `DIR/transfers.csv` with dates)
as the year could plausibly stand at the date: made from the instance's plan (planned in
memory), deterministic by seed (`random.Random(seed)` only), every row marked synthetic in its
`source` column (an extra column the planner does not read). **Illustrative, not a record.**

How it is drawn, per contributor (in code order) and then per planned flow (contributor,
measure, benefitting state, in the plan's order):

1. **The contributor's pace**, a factor on the elapsed share of the year: about 15 % of
   contributors have implemented nothing yet, 25 % lag (0.2-0.6), 45 % are about on time
   (0.8-1.1) and 15 % ahead (1.1-1.5).
2. **Each flow's amount to date**: planned x elapsed x pace x a flow's own factor (0.7-1.3),
   at most the planned amount; persons rounded down to whole persons, EUR to whole thousands
   (rounded down).
3. **Instalments**: 1-4 for money and alternative measures, one per month of activity for
   persons (relocations and offsets), dated uniformly between 1 January and the date, the
   amount split by random weights (the last gets the remainder, so the sum is exact).
4. **Relocations**: as aggregate rows of implementation.csv; with `--transfers`, as dated
   transfers of whole cases the plan assigned instead (a flow's persons reached case by case,
   in the plan's order, without going beyond them), so the transfers fit the plan's places.

References are `SYN-<state>-<n>`, numbered per contributor in date order.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import NoReturn

from models.instance import Instance, Measure
from models.results import AssignmentRow, DistributionRow

PACES = ((0.15, 0.0, 0.0), (0.25, 0.2, 0.6), (0.45, 0.8, 1.1), (0.15, 1.1, 1.5))
COLUMNS = ("date", "state", "measure", "amount", "benefitting", "reference", "source")


@dataclass(frozen=True)
class Entry:
    date: dt.date
    state: str
    measure: Measure
    amount: float
    benefitting: str


def _pace(rng: Random) -> float:
    draw, total = rng.random(), 0.0
    for weight, low, high in PACES:
        total += weight
        if draw < total:
            return rng.uniform(low, high)
    return rng.uniform(PACES[-1][1], PACES[-1][2])


def _amount(planned: float, share: float, measure: Measure) -> float:
    done = min(planned, planned * share)
    if measure.in_persons:
        return float(int(done))
    return float(int(done / 1000) * 1000)


def _dates(rng: Random, first: dt.date, as_of: dt.date, count: int) -> list[dt.date]:
    days = (as_of - first).days
    return sorted(first + dt.timedelta(days=rng.randint(0, days)) for _ in range(count))


def _split(rng: Random, amount: float, count: int, whole: bool) -> list[float]:
    """`amount` in `count` parts by random weights (whole units for persons, thousands of EUR
    otherwise); the last part takes the remainder, so the parts sum to `amount` exactly."""
    unit = 1.0 if whole else 1000.0
    weights = [rng.uniform(0.5, 1.5) for _ in range(count)]
    parts = [float(int(amount * w / sum(weights) / unit) * unit) for w in weights[:-1]]
    return [*parts, amount - sum(parts)]


def ledger_entries(instance: Instance, flows: Sequence[DistributionRow], as_of: dt.date,
                   seed: int) -> list[Entry]:
    """The synthetic ledger to `as_of`: entries in date, state, measure, benefitting order."""
    from planner.inputs.ledger import elapsed_fraction

    rng = Random(seed)
    elapsed = elapsed_fraction(instance.config, as_of)
    first = instance.config.cycle_days[0]
    by_state: dict[str, list[DistributionRow]] = defaultdict(list)
    for flow in flows:
        if flow.amount > 0:
            by_state[flow.contributor].append(flow)
    entries = []
    for state in sorted(by_state):
        pace = _pace(rng)
        for flow in by_state[state]:
            amount = _amount(flow.amount, elapsed * pace * rng.uniform(0.7, 1.3), flow.measure)
            if amount <= 0:
                continue
            months = max(1, min(as_of.month - first.month + 1, int(amount)))
            count = months if flow.measure.in_persons else rng.randint(1, 4)
            parts = _split(rng, amount, count, flow.measure.in_persons)
            for date, part in zip(_dates(rng, first, as_of, count), parts, strict=True):
                if part > 0:
                    entries.append(Entry(date, state, flow.measure, part, flow.beneficiary))
    return sorted(entries, key=lambda e: (e.date, e.state, e.measure.value, e.benefitting))


def as_transfers(entries: Sequence[Entry], assignments: Sequence[AssignmentRow]
                 ) -> tuple[list[Entry], list[tuple[str, str, dt.date]]]:
    """The relocation entries replaced by dated transfers of whole assigned cases: each
    entry's persons reached case by case (the plan's order) from the cases the plan assigned
    to that state from that location, never beyond them; the other entries as they are."""
    cases: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    sizes: dict[str, int] = defaultdict(int)
    where: dict[str, tuple[str, str]] = {}
    for row in assignments:
        sizes[row.case_id] += 1
        where.setdefault(row.case_id, (row.to_state, row.from_state))
    for case_id, pair in where.items():
        cases[pair].append((case_id, sizes[case_id]))
    kept, transfers = [], []
    for entry in entries:
        if entry.measure is not Measure.relocation:
            kept.append(entry)
            continue
        left = entry.amount
        queue = cases[(entry.state, entry.benefitting)]
        while queue and queue[0][1] <= left:
            case_id, size = queue.pop(0)
            transfers.append((case_id, entry.state, entry.date))
            left -= size
    return kept, transfers


def write_ledger(entries: Sequence[Entry], path: Path, seed: int) -> None:
    numbers: dict[str, int] = defaultdict(int)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for e in entries:
            numbers[e.state] += 1
            amount = f"{e.amount:.0f}"
            writer.writerow([e.date.isoformat(), e.state, e.measure.value, amount,
                             e.benefitting, f"SYN-{e.state}-{numbers[e.state]:04d}",
                             f"synthetic (planner generate --ledger --seed {seed})"])


def write_transfers(transfers: Sequence[tuple[str, str, dt.date]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("case_id", "state", "date"))
        for case_id, state, date in sorted(transfers, key=lambda t: (t[2], t[0])):
            writer.writerow((case_id, state, date.isoformat()))


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def main(argv: list[str]) -> int:
    """`planner generate --ledger ...`: exit 0, or 2 with the problem on stderr."""
    from planner.errors import InputError, PlanError
    from planner.inputs.load import load_instance
    from planner.pipeline import plan
    from planner.report.display import visible_lines
    from planner.tracking import OptionError, check_as_of, parse_as_of

    parser = _Parser(prog="planner generate --ledger",
                     description="Write a synthetic ledger (implementation.csv) for an instance.")
    parser.add_argument("--ledger", action="store_true", required=True)
    parser.add_argument("--instance", type=Path, required=True, help="the instance folder")
    parser.add_argument("--as-of", required=True, help="the date, YYYY-MM-DD")
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--transfers", action="store_true",
                        help="relocations as dated transfers (transfers.csv) of assigned cases")
    try:
        args = parser.parse_args(argv)
        as_of = parse_as_of(args.as_of)
        instance = load_instance(args.instance)
        check_as_of(instance, as_of)
        planned = plan(instance)
    except (_UsageError, OptionError) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    except (InputError, PlanError) as exc:
        problems = exc.problems if isinstance(exc, InputError) else [exc]
        for problem in problems:
            print(visible_lines(problem), file=sys.stderr)
        return 2 if isinstance(exc, InputError) else 3
    entries = ledger_entries(instance, planned.tables.distribution, as_of, args.seed)
    transfers: list[tuple[str, str, dt.date]] = []
    if args.transfers:
        entries, transfers = as_transfers(entries, planned.tables.assignments or [])
    args.out.mkdir(parents=True, exist_ok=True)
    write_ledger(entries, args.out / "implementation.csv", args.seed)
    if args.transfers:
        write_transfers(transfers, args.out / "transfers.csv")
    print(f"wrote {len(entries)} ledger rows to {args.out / 'implementation.csv'}"
          + (f" and {len(transfers)} dated transfers to {args.out / 'transfers.csv'}"
             if args.transfers else ""))
    return 0
