"""The ledger of what was implemented (issue 15, Art. 60(3)): implementation.csv and the
optional `date` column of transfers.csv, read and checked with every problem at once.

implementation.csv is optional; each row says that on `date` the contributor `state`
implemented `amount` of `measure` (in the measure's unit) for `benefitting`. The checks:
the states are known (and `benefitting` is a benefitting state), the state pledged that
measure (pledges.csv), the date falls within the cycle, the amount is not negative (the
model's range) and whole for persons, a `reference` is given once only, and relocations are
not recorded both here and in transfers.csv. More implemented than pledged is a warning
(`ledger_warnings`), not an error: the ledger records what happened.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from pydantic import ValidationError

from models.instance import (
    Implementation,
    Instance,
    InstanceConfig,
    IsoDate,
    Ledger,
    Measure,
    MemberState,
    Pledge,
)
from planner.errors import Problem
from planner.inputs.checks import persons_amount
from planner.inputs.reader import CsvTable, Reader, cell_message, parse_rows

Key = tuple[str, Measure, str]  # contributor, measure, benefitting ("" = none in particular)
LEDGER = "implementation.csv"
TRANSFERS = "transfers.csv"
COLUMNS = ("date", "state", "measure", "amount", "benefitting", "reference")
# The cycle's first and last day (InstanceConfig.cycle_days); None when instance.toml is bad.
Days = tuple[dt.date, dt.date] | None


def elapsed_fraction(config: InstanceConfig, as_of: dt.date) -> float:
    """The share of the cycle's days (from `cycle_start`, default 1 January) up to `as_of`,
    that day included: 1 on 31 December."""
    first, last = config.cycle_days
    return ((as_of - first).days + 1) / ((last - first).days + 1)


def implemented_amounts(instance: Instance, as_of: dt.date) -> tuple[dict[Key, float], int, int]:
    """What the ledger and the transfers record up to `as_of` (included), per contributor,
    measure and benefitting state (a transfer counts its case's persons for the case's
    location; an undated one at any date); with the number of ledger rows and of transfers
    counted. Tracking (planner.report.tracking) and the re-plan of the rest of the year read
    it; the verifier has its own."""
    done: dict[Key, float] = defaultdict(float)
    ledger = instance.ledger
    rows = 0
    for entry in ledger.entries:
        if entry.date <= as_of:
            done[(entry.state, entry.measure, entry.benefitting or "")] += entry.amount
            rows += 1
    location = {c.case_id: (c.location, c.size) for c in instance.cases or ()}
    transfers = 0
    for case_id, state in instance.transfers:
        date = ledger.transfer_dates.get(case_id)
        if (date is None or date <= as_of) and case_id in location:
            where, persons = location[case_id]
            done[(state, Measure.relocation, where)] += persons
            transfers += 1
    return done, rows, transfers


def read_ledger(reader: Reader, states: list[tuple[int, MemberState]],
                pledges: list[tuple[int, Pledge]], codes: set[str] | None,
                days: Days, dates: dict[str, dt.date], has_transfers: bool) -> Ledger:
    """implementation.csv (optional) checked row by row, with the transfers' dates read from
    transfers.csv (`dates`); an empty ledger when the instance has no such file."""
    if not reader.path(LEDGER).exists():
        return Ledger(transfer_dates=dates)
    table = reader.read_table(LEDGER, False, ("date", "state", "measure", "amount"), COLUMNS)
    rows = parse_rows(reader, LEDGER, table, Implementation) \
        if table is not None and table.usable else []
    _check_rows(reader, states, pledges, codes, days, rows, has_transfers)
    return Ledger(entries=tuple(r for _, r in rows), lines=tuple(line for line, _ in rows),
                  transfer_dates=dates, has_file=True)


def _check_rows(reader: Reader, states: list[tuple[int, MemberState]],
                pledges: list[tuple[int, Pledge]], codes: set[str] | None,
                days: Days, rows: list[tuple[int, Implementation]],
                has_transfers: bool) -> None:
    known = {s.code: s for _, s in states}
    # What a state pledged is known only when pledges.csv was read without a problem: a row
    # that did not parse would make every ledger row of its measure look unpledged.
    pledges_read = not any(p.file == reader.display("pledges.csv") for p in reader.problems)
    pledged = {(p.state, p.measure) for _, p in pledges} if pledges_read else None
    references: dict[str, int] = {}
    for line, row in rows:
        _check_states(reader, line, row, codes, known)
        if pledged is not None and row.state in known and (row.state, row.measure) not in pledged:
            reader.problem(LEDGER, line, "measure", f"{row.state} pledged no {row.measure} "
                           "(pledges.csv)")
        if row.measure == Measure.relocation and has_transfers:
            reader.problem(LEDGER, line, "measure", "relocations are recorded in "
                           "transfers.csv, which this instance has (a row here would count "
                           "them twice)")
        if row.measure.in_persons:
            persons_amount(reader, LEDGER, line, "amount", row.measure, row.amount)
        _check_date(reader, LEDGER, line, row.date, days)
        if row.reference:
            if row.reference in references:
                reader.problem(LEDGER, line, "reference", f"duplicate reference "
                               f"{row.reference!r} (first on line {references[row.reference]})")
            references.setdefault(row.reference, line)


def _check_states(reader: Reader, line: int, row: Implementation, codes: set[str] | None,
                  known: dict[str, MemberState]) -> None:
    for column in ("state", "benefitting"):
        code = getattr(row, column)
        if code is not None and codes is not None and code not in codes:
            reader.problem(LEDGER, line, column, f"unknown state {code}")
    if row.benefitting is None:
        return
    if row.benefitting in known and not known[row.benefitting].benefitting:
        reader.problem(LEDGER, line, "benefitting", f"{row.benefitting} is not benefitting")
    elif row.benefitting == row.state:
        reader.problem(LEDGER, line, "benefitting", f"{row.state} is the benefitting state "
                       "itself")


def _check_date(reader: Reader, name: str, line: int, date: dt.date, days: Days) -> None:
    if days is None:
        return
    first, last = days
    if not first <= date <= last:
        reader.problem(name, line, "date", f"{date.isoformat()} is outside the cycle "
                       f"{last.year} ({first.isoformat()} to {last.isoformat()})")


def transfer_dates(reader: Reader, table: CsvTable, days: Days) -> dict[str, dt.date]:
    """transfers.csv's optional `date` column: case_id -> the transfer's date (an empty cell:
    undated). Each distinct cell is parsed once (a monthly file repeats few dates)."""
    from pydantic import TypeAdapter

    if "date" not in table.header:
        return {}
    adapter: TypeAdapter[dt.date] = TypeAdapter(IsoDate)
    parsed: dict[str, dt.date | str] = {}
    dates: dict[str, dt.date] = {}
    for line, row in table.rows:
        cell = row.get("date", "")
        if not cell:
            continue
        if cell not in parsed:
            try:
                parsed[cell] = adapter.validate_python(cell)
            except ValidationError as exc:
                parsed[cell] = cell_message(exc.errors()[0])
        value = parsed[cell]
        if isinstance(value, str):
            reader.problem(TRANSFERS, line, "date", value)
            continue
        _check_date(reader, TRANSFERS, line, value, days)
        dates.setdefault(row.get("case_id", ""), value)
    return dates


def ledger_warnings(instance: Instance) -> list[Problem]:
    """More implemented than pledged (a warning, not an error: the ledger records what
    happened): per state and measure, the line where the ledger's running total first passes
    the most the state's rows of that measure offer (rows without a `max` offer no limit)."""
    offered: dict[tuple[str, str], float | None] = {}
    for pledge in instance.pledges:
        key = (pledge.state, pledge.measure.value)
        before = offered.get(key, 0.0)
        offered[key] = None if before is None or pledge.max is None else before + pledge.max
    name = str(_ledger_path(instance))
    totals: dict[tuple[str, str], float] = defaultdict(float)
    warned: set[tuple[str, str]] = set()
    problems = []
    for line, entry in zip(instance.ledger.lines, instance.ledger.entries, strict=True):
        key = (entry.state, entry.measure.value)
        totals[key] += entry.amount
        most = offered.get(key)
        if most is not None and totals[key] > most + 1e-9 and key not in warned:
            warned.add(key)
            problems.append(Problem(name, line, "amount", f"{entry.state} has implemented "
                                    f"{totals[key]:,.10g} of {entry.measure} by here, more "
                                    f"than the {most:,.10g} it pledged"))
    return problems


def _ledger_path(instance: Instance) -> str:
    from pathlib import Path

    return str(Path(instance.origin.folder) / LEDGER)
