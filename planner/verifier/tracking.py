"""The independent check of `planner track`'s files (issue 15): every sum of tracking.csv,
tracking_contributors.csv, tracking_received.csv and tracking_summary.json recomputed from the
plan's distribution.csv, the instance's ledger and transfers, and the date; no code shared
with the computation (planner.report.tracking).

Checked: one tracking.csv row per contributor, measure and benefitting state that is planned
or implemented, none else; planned = the plan's flows, implemented = the ledger to the date
plus the persons of the transfers dated to it (or undated); each derived column (share,
target, ahead and its value, remaining, both readings' targets and paces) from them; each
contributor's row the sum of its rows in value; each benefitting state's received and
distributed the sum over contributors; tracking_summary.json's date, elapsed fraction, counts
and pool totals.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from models.instance import Instance, Measure
from models.results import DistributionRow
from models.tracking import ContributorRow, ReceivedRow, TrackingRow, TrackingSummary
from planner.errors import Problem

M = TypeVar("M", bound=BaseModel)
Key = tuple[str, str, str]
TOLERANCE = 1e-6


class _Out:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.problems: list[Problem] = []

    def fail(self, name: str, line: int, column: str, message: str) -> None:
        self.problems.append(Problem(name, line, column, message))

    def rows(self, name: str, model: type[M]) -> list[tuple[int, M]]:
        if name not in self.files:
            self.fail(name, 0, "-", "file is missing")
            return []
        reader = csv.DictReader(io.StringIO(self.files[name].decode("utf-8")))
        if reader.fieldnames != list(model.model_fields):
            self.fail(name, 1, "-", f"header is not {','.join(model.model_fields)}")
            return []
        found = []
        for record in reader:
            number = reader.line_num  # the file's line (blank lines counted)
            data = {k: v for k, v in record.items() if v != "" or k in ("benefitting", "share")}
            try:
                found.append((number, model.model_validate(data)))
            except ValidationError as exc:
                self.fail(name, number, "-", f"not a valid row: {exc.errors()[0]['msg']}")
        return found


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole > 1e-9 else None


def _expected_elapsed(cycle: int, start: dt.date | None, as_of: dt.date) -> float:
    first = (start or dt.date(cycle, 1, 1)).toordinal()
    return (as_of.toordinal() - first + 1) / (dt.date(cycle + 1, 1, 1).toordinal() - first)


def _implemented(instance: Instance, as_of: dt.date) -> tuple[dict[Key, float], int, int]:
    sums: dict[Key, float] = defaultdict(float)
    entries = [e for e in instance.ledger.entries if e.date <= as_of]
    for e in entries:
        sums[(e.state, e.measure.value, e.benefitting or "")] += e.amount
    cases = {c.case_id: c for c in instance.cases or ()}
    counted = 0
    for case_id, state in instance.transfers:
        date = instance.ledger.transfer_dates.get(case_id)
        case = cases.get(case_id)
        if case is not None and (date is None or date <= as_of):
            sums[(state, "relocation", case.location)] += len(case.persons)
            counted += 1
    return sums, len(entries), counted


def verify_tracking(files: dict[str, bytes], instance: Instance, distribution: bytes,
                    as_of: dt.date) -> list[Problem]:
    """Every failed check of the tracking files `files` (name -> bytes) against the plan's
    distribution.csv bytes and the instance at `as_of`; empty when they pass."""
    out = _Out(files)
    planned: dict[Key, float] = defaultdict(float)
    for record in csv.DictReader(io.StringIO(distribution.decode("utf-8"))):
        flow = DistributionRow.model_validate(record)
        planned[(flow.contributor, flow.measure.value, flow.beneficiary)] += flow.amount
    done, ledger_rows, transfers = _implemented(instance, as_of)
    rate = instance.config.pool.rate
    worth = {m.value: (1.0 if m.in_persons else 1.0 / rate) for m in Measure}
    rows = out.rows("tracking.csv", TrackingRow)
    _check_keys(out, rows, planned, done)
    shares = _shares(rows, worth)
    elapsed = _expected_elapsed(instance.config.cycle, instance.config.cycle_start, as_of)
    for line, row in rows:
        _check_row(out, line, row, elapsed, worth[row.measure.value], shares)
    _check_contributors(out, rows, worth, elapsed, shares)
    _check_received(out, rows)
    _check_summary(out, rows, worth, elapsed, as_of, (ledger_rows, transfers))
    return out.problems


def _check_keys(out: _Out, rows: list[tuple[int, TrackingRow]], planned: dict[Key, float],
                done: dict[Key, float]) -> None:
    seen: set[Key] = set()
    for line, row in rows:
        key = (row.contributor, row.measure.value, row.benefitting)
        if key in seen:
            out.fail("tracking.csv", line, "contributor", f"{key} appears twice")
        seen.add(key)
        if not _close(row.planned, planned.get(key, 0.0)):
            out.fail("tracking.csv", line, "planned", f"{row.planned:g}, the plan's flows sum "
                     f"to {planned.get(key, 0.0):g}")
        if not _close(row.implemented, done.get(key, 0.0)):
            out.fail("tracking.csv", line, "implemented", f"{row.implemented:g}, the ledger "
                     f"and transfers sum to {done.get(key, 0.0):g}")
    for key in sorted(set(planned) | set(done)):
        if key not in seen and (planned.get(key, 0.0) > 1e-9 or done.get(key, 0.0) > 1e-9):
            out.fail("tracking.csv", 0, "-", f"no row for {', '.join(key)}")


def _shares(rows: list[tuple[int, TrackingRow]], worth: dict[str, float]
            ) -> dict[str, float]:
    """Each contributor's implemented share of its planned value, and the pool's ("")."""
    plan: dict[str, float] = defaultdict(float)
    done: dict[str, float] = defaultdict(float)
    for _, row in rows:
        for who in (row.contributor, ""):
            plan[who] += row.planned * worth[row.measure.value]
            done[who] += row.implemented * worth[row.measure.value]
    return {who: _ratio(done[who], plan[who]) or 0.0 for who in plan}


def _check_row(out: _Out, line: int, row: TrackingRow, elapsed: float, worth: float,
               shares: dict[str, float]) -> None:
    own, pool = shares.get(row.contributor, 0.0), shares.get("", 0.0)
    target = row.planned * elapsed
    expected: dict[str, float | None] = {
        "share": _ratio(row.implemented, row.planned), "target": target,
        "ahead": row.implemented - target, "ahead_value": (row.implemented - target) * worth,
        "remaining": max(row.planned - row.implemented, 0.0),
        "target_contributor": row.planned * own,
        "pace_contributor": row.implemented - row.planned * own,
        "target_pool": row.planned * pool, "pace_pool": row.implemented - row.planned * pool}
    for column, value in expected.items():
        if not _close(getattr(row, column), value):
            out.fail("tracking.csv", line, column, f"{getattr(row, column)}, recomputed "
                     f"{value}")


def _check_contributors(out: _Out, rows: list[tuple[int, TrackingRow]],
                        worth: dict[str, float], elapsed: float,
                        shares: dict[str, float]) -> None:
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for _, row in rows:
        w = worth[row.measure.value]
        total = sums[row.contributor]
        total[0] += row.planned * w
        total[1] += row.implemented * w
        total[2] += row.remaining * w
    listed = out.rows("tracking_contributors.csv", ContributorRow)
    if sorted(c.contributor for _, c in listed) != sorted(sums):
        out.fail("tracking_contributors.csv", 0, "contributor", "not one row per contributor "
                 "of tracking.csv")
    for line, c in listed:
        p, d, r = sums.get(c.contributor, [0.0, 0.0, 0.0])
        expected: dict[str, float | None] = {
            "planned_value": p, "implemented_value": d, "share": _ratio(d, p),
            "target_value": p * elapsed, "ahead_value": d - p * elapsed,
            "remaining_value": r, "pace_pool_value": d - p * shares.get("", 0.0)}
        _compare(out, "tracking_contributors.csv", line, c, expected)


def _check_received(out: _Out, rows: list[tuple[int, TrackingRow]]) -> None:
    sums: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for _, row in rows:
        if row.benefitting:
            total = sums[(row.benefitting, row.measure.value)]
            total[0] += row.planned
            total[1] += row.implemented
    listed = out.rows("tracking_received.csv", ReceivedRow)
    if sorted((r.beneficiary, r.measure.value) for _, r in listed) != sorted(sums):
        out.fail("tracking_received.csv", 0, "beneficiary", "not one row per benefitting "
                 "state and measure of tracking.csv")
    for line, r in listed:
        p, d = sums.get((r.beneficiary, r.measure.value), [0.0, 0.0])
        _compare(out, "tracking_received.csv", line, r,
                 {"distributed": p, "received": d, "share": _ratio(d, p)})


def _compare(out: _Out, name: str, line: int, row: BaseModel,
             expected: dict[str, float | None]) -> None:
    for column, value in expected.items():
        if not _close(getattr(row, column), value):
            out.fail(name, line, column, f"{getattr(row, column)}, recomputed {value}")


def _check_summary(out: _Out, rows: list[tuple[int, TrackingRow]], worth: dict[str, float],
                   elapsed: float, as_of: dt.date, counts: tuple[int, int]) -> None:
    name = "tracking_summary.json"
    if name not in out.files:
        out.fail(name, 0, "-", "file is missing")
        return
    try:
        summary = TrackingSummary.model_validate(json.loads(out.files[name]))
    except (ValidationError, ValueError) as exc:
        out.fail(name, 0, "-", f"not a valid tracking_summary.json: {exc}")
        return
    planned = sum(r.planned * worth[r.measure.value] for _, r in rows)
    done = sum(r.implemented * worth[r.measure.value] for _, r in rows)
    checks: list[tuple[str, Any, Any, Callable[[Any, Any], bool]]] = [
        ("as_of", summary.as_of, as_of, lambda a, b: a == b),
        ("elapsed", summary.elapsed, elapsed, _close),
        ("ledger_rows", summary.ledger_rows, counts[0], lambda a, b: a == b),
        ("transfers_counted", summary.transfers_counted, counts[1], lambda a, b: a == b),
        ("pool.planned_value", summary.pool.planned_value, planned, _close),
        ("pool.implemented_value", summary.pool.implemented_value, done, _close),
        ("pool.share", summary.pool.share, _ratio(done, planned), _close),
        ("pool.target_value", summary.pool.target_value, planned * elapsed, _close),
        ("pool.ahead_value", summary.pool.ahead_value, done - planned * elapsed, _close)]
    for column, given, wanted, same in checks:
        if not same(given, wanted):
            out.fail(name, 0, column, f"{given}, recomputed {wanted}")
