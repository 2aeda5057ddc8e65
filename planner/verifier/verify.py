"""The independent verifier: re-read the written outputs and re-check every figure.

The outputs are a results folder or, for a plan in memory (planner.verify), a mapping of file
name -> the bytes that would be written (planner.pipeline.render): both are read the same way.

It shares no code with the optimisation: it recomputes the key and the obligations in its own
way (pandas, from the validated inputs), re-derives Art. 63 and the needs (planner.verifier.rules),
re-reads candidates.csv on its own (planner.verifier.matching) and reads the CSV files back
through the result schemas. Any failure is a `PlanError` (exit 3) listing every failed check as
FILE:LINE: COLUMN: message. What is checked, file by file:

plan.csv: each pledge row once, none missing or unknown; state, measure, min, max, preference
  and beneficiary as in pledges.csv; amount within [min, max] (and, for offsets not yet allowed
  under enforce_voluntary, within Art. 63's limit), whole persons, EUR to the cent; value =
  amount / unit (Art. 56(2)). Stage (ii) optimal: no state could move value from a row it ranks
  lower to a row it ranks higher with room left (verify_rules.preference_swaps).
allocation.csv: a row per participating or pledging state, once; name, role, share, share_
  computed, share_official, deduction, obligation (the key recomputed, each rounding rule),
  obligation_eur = obligation x rate; relocation, offset, financial_eur, alternative_eur from
  plan.csv; value, balance, shortfall from them; mandatory_offset = whole persons of the key's
  exact spread of the gap (Art. 63); value within max(obligation, own minimums), offsets at
  least mandatory; stage (i) minimal: a shortfall only when every row of the state is full;
  a benefitting state (rules section 4): value 0, or with benefitting.implement_pledges at
  most max(fair share, own minimums) and below the fair share only when every row is full.
distribution.csv: each (pledge, beneficiary) once; contributor and measure of the pledge; a
  state the row may serve (directed pledges; needing states first, effective needs as the
  planner defines them; never the pledging state itself; offsets only along
  responsibility.csv's pairs, within each pair's persons, toward agreeing states when
  voluntary, and with an empty beneficiary exactly without the file); positive, whole
  persons, cents; value = amount / unit; each row's flows sum to its amount. The balance
  (Art. 60(2)) leximin: no exchange along the flows from a better covered to a worse covered
  state beyond rounding (verify_rules); with the joint split (issue 18) only places left
  empty may move (assignments.csv's persons per row and state are floors), and the SAR reach
  leaves those floors where they are.
coverage.csv: a row per (benefitting state, measure) with an effective need or any flow, once
  (a state receiving without a stated need included); received from distribution.csv; need
  and need_stated from needs.csv; ratio = received / need (empty for no need).
assignments.csv, unassigned.csv (planner.verifier.matching): every candidate in exactly one;
  case and location of each person as in candidates.csv; pledge row a relocation row of
  to_state; transfers kept; no blocked or rejected case placed; profile criteria; places per
  (pledge row, location) and per pledge row (plan.csv's amount) respected; families whole;
  score and reasons recomputed from the case's links, languages (shared/data's official
  languages), preferences, transfer and each person's own vulnerable and
  unaccompanied_minor cells; the reason of each unplaced person: security and consent
  exactly where the inputs block the case, no_eligible_place exactly when no place at its
  location may take it, else capacity; and no capacity case fits in the free places of a
  place it may take (stage (i) of the matching optimal).
matchability.csv (planner.verifier.matchability): the bound row's value is the maximum flow of
  persons to places recomputed here, its text the counts; each bottleneck's figures (its
  value, each place's capacity and eligible persons, persons with no eligible place per
  location), and together they leave out exactly the placeable persons the bound does; a
  restriction row per criterion of each row with places, its value the recomputed gain.
summary.json: totals from allocation.csv; instance and input_sha256 of the inputs; the
  proposal (its numbers, the pool's, the Art. 12(2) floors, the information line and the
  warning); status `optimal` exactly when no stage stopped at its time limit, solver.gap
  the largest of gaps, a warning per stopped stage and for a fallback back-end, a warning
  per deduction without a status or with `at_risk` only, a `benefitting_pledge` warning per
  benefitting state that pledged; key (weights, redistribute, rounding, rate, official
  shares); offsets (each figure of Art. 63 re-derived from the inputs: thresholds against the
  proposal, the two numbers of 63(3) and which binds, the voluntary offsets, never relabelled
  mandatory, the mandatory parts within both caps, the offsets assigned to no benefitting
  state); distribution (SAR states and share; target = share x the plan's value; received =
  distribution.csv's value to the SAR states; sar_met; min_coverage = coverage.csv's
  smallest ratio); objectives: shortfall = totals, preference = the plan's preference-weighted
  value, coverage_min no less than what the files reach (an upper bound certificate),
  distribution_sar = min(target, the value of the rows that may reach a SAR state),
  distribution_balanceN increasing and each one a target's coverage (and each target's
  coverage one of them), matching_* = matching.stages; matching: persons total, eligible,
  assigned, cases, splits, places, bound, bottlenecks, unassigned by reason and the stages
  (persons <= bound, balance, vulnerable, waiting bands, quality = the recomputed scores).
Not checked: timings_s (wall clock), version (a provenance string), solver.version and
  matching.classes (the model's size), the bottleneck sentences' minimum-cut side (which
  locations and rows the cut names), coverage_total and coverage_min themselves (a stage of
  the pool plan over all plans: only the bound above), and the priority and quality stages'
  optimality (their values are recomputed, not certified).
The terminal table and report.html are rendered from these verified files and summary.json.
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import functools
import io
import json
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from itertools import repeat
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast

import numpy as np
import pandas as pd
from pydantic import BaseModel, TypeAdapter, ValidationError

from models.instance import Instance, Measure, Pledge
from models.results import AllocationRow, PlanRow, Summary
from planner.errors import PlanError, Problem
from planner.outputs.registry import (
    ALLOCATION,
    ASSIGNMENTS,
    COVERAGE,
    DISTRIBUTION,
    MATCHABILITY,
    PLAN,
    SUMMARY,
    UNASSIGNED,
)
from planner.verifier import summary as vs
from planner.verifier.matching import check_matching
from planner.verifier.replan import check_replan, ledger_floors
from planner.verifier.rules import (
    check_mandatory,
    effective_needs,
    expected_offsets,
    leximin_violations,
    offset_arcs,
    planned_mandatory,
    preference_swaps,
    responsibility_persons,
    unit,
)

M = TypeVar("M", bound=BaseModel)
K = TypeVar("K")
Columns = dict[str, np.ndarray]  # a column per field, and `line`
Files = Path | Mapping[str, bytes]  # a results folder, or file name -> the file's bytes

VALUE_TOL = 1e-6  # relocation-equivalents
EUR_TOL = 0.011  # amounts are written to the cent


class Outputs:
    """The files of a results folder (or their bytes in memory), read back with their line
    numbers."""

    def __init__(self, files: Files, problems: list[Problem]) -> None:
        self.files, self.problems = files, problems
        # The files and their row models from planner.outputs.registry; the reading is its own.
        self.plan = self._rows(PLAN.file, PLAN.model)
        self.allocation = self._rows(ALLOCATION.file, ALLOCATION.model)
        self.distribution = self._rows(DISTRIBUTION.file, DISTRIBUTION.model)
        self.coverage = self._rows(COVERAGE.file, COVERAGE.model)
        self.summary = self._summary()
        matched = self.summary is not None and self.summary.matching.ran
        # The person-level tables, read column-wise.
        self.assignments = self._table(ASSIGNMENTS.file, ASSIGNMENTS.model, matched)
        self.unassigned = self._table(UNASSIGNED.file, UNASSIGNED.model, matched)
        self.matchability = self._rows(MATCHABILITY.file, MATCHABILITY.model) if matched else []
        self.cache: dict[str, object] = {}  # what several checks derive from the inputs

    @property
    def proven(self) -> bool:
        """Every stage proven optimal (no time limit reached): the optimality certificates
        apply. A summary claiming a stopped stage is itself checked (verify_summary)."""
        return self.summary is not None and not self.summary.solver.gaps

    def fail(self, name: str, line: int, column: str, message: str) -> None:
        self.problems.append(Problem(name, line, column, message))

    def _bytes(self, name: str) -> bytes:
        """A file's bytes; OSError as reading it raises (FileNotFoundError when absent)."""
        if isinstance(self.files, Path):
            return (self.files / name).read_bytes()
        if name not in self.files:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), name)
        return self.files[name]

    def _cells(self, name: str, model: type[BaseModel]) -> list[tuple[int, list[str]]] | None:
        """The data rows' line numbers and cells once the file exists (else `missing`) and
        its header is the schema's; blank lines skipped, as csv.DictReader skips them, and
        counted: a row's line is the file's (the last of a row that spans several, as the
        inputs' reader counts, planner.inputs.reader)."""
        if not ((self.files / name).is_file() if isinstance(self.files, Path)
                else name in self.files):
            self.fail(name, 0, "-", "missing")
            return None
        reader = csv.reader(io.StringIO(self._bytes(name).decode("utf-8"), newline=""))
        if next(reader, []) != list(model.model_fields):
            self.fail(name, 1, "-", "columns differ from the schema")
            return None
        return [(reader.line_num, cells) for cells in reader if cells]

    def _rows(self, name: str, model: type[M]) -> list[tuple[int, M]]:
        body = self._cells(name, model)
        return [] if body is None else self._validate_rows(name, model, body)

    def _validate_rows(self, name: str, model: type[M], body: list[tuple[int, list[str]]]
                       ) -> list[tuple[int, M]]:
        """Each row (its line, its cells) through the schema, each failure reported at its
        line."""
        fields = list(model.model_fields)
        rows = []
        for line, cells in body:
            try:
                rows.append((line, model.model_validate(_as_dict(fields, cells))))
            except ValidationError as exc:
                for error in exc.errors():
                    self.fail(name, line, str(error["loc"][0]), error["msg"])
        return rows

    def _table(self, name: str, model: type[BaseModel], present: bool) -> Columns:
        """A large table (`line` and a column per field, in line order) validated a column at
        a time by each field's own schema (a validation per row took 0.7 s at 27,500 persons).
        Any doubt (a cell that fails, a row of the wrong length) sends the file through
        `_validate_rows`, which reports every failure with its line exactly as the row-wise
        reading does."""
        width = len(model.model_fields)
        plain = self._plain(name, model) if present else [[] for _ in range(width)]
        columns = None if plain is None else _parse_columns(model, plain)
        if plain is not None and columns is not None:
            return _numbered(np.arange(2, len(plain[0]) + 2, dtype=np.int64), columns)
        # Not plain, or a cell fails: the file as csv.reader reads it.
        body = (self._cells(name, model) or []) if present else []
        uniform = {len(row) for _, row in body} <= {width}
        cells = [list(c) for c in zip(*(row for _, row in body), strict=True)] \
            if uniform and body else [[] for _ in range(width)] if uniform else None
        columns = None if cells is None else _parse_columns(model, cells)
        if columns is None:
            rows = self._validate_rows(name, model, body)
            lines = np.array([line for line, _ in rows], dtype=np.int64)
            columns = {f: [getattr(row, f) for _, row in rows] for f in model.model_fields}
        else:
            lines = np.array([line for line, _ in body], dtype=np.int64)
        return _numbered(lines, columns)

    def _plain(self, name: str, model: type[BaseModel]) -> list[list[str]] | None:
        """The data rows' cells column by column (`_plain_columns`) when the file exists, is
        plain and has the schema's header; None for anything else, which `_cells` reads (and
        reports)."""
        if not ((self.files / name).is_file() if isinstance(self.files, Path)
                else name in self.files):
            return None
        return _plain_columns(self._bytes(name).decode("utf-8"), list(model.model_fields))

    def _summary(self) -> Summary | None:
        try:
            return Summary.model_validate(json.loads(self._bytes(SUMMARY.file).decode("utf-8")))
        except (OSError, ValueError) as exc:
            self.fail("summary.json", 0, "-", f"unreadable: {exc}")
            return None


def _numbered(lines: np.ndarray, columns: dict[str, list[object]]) -> Columns:
    # fromiter: a tuple stays one object (np.array would make a 2-D array of them).
    return {"line": lines, **{f: np.fromiter(v, dtype=object, count=len(v))
                              for f, v in columns.items()}}


def _plain_columns(text: str, fields: list[str]) -> list[list[str]] | None:
    """A CSV text's data cells column by column, split with str methods (csv.reader per row
    took 0.2 s at 300,000 persons), when that is what csv.reader gives: no quote or carriage
    return (the characters the reader treats apart besides the comma and the line feed; no
    NUL either, which csv modules before Python 3.11 refused), the header is `fields`, every
    non-blank data line has their number of cells and none is longer than the reader's field
    limit, and no blank line lies between them (row i is then at line i + 2; with one,
    `_cells` numbers the rows). Blank lines at the end skipped, as `_cells` skips them. None
    otherwise."""
    if not text or '"' in text or "\r" in text or "\0" in text:
        return None
    lines = text.split("\n")
    if lines[0].split(",") != fields:
        return None
    body = [line for line in lines[1:] if line]
    if "" in lines[1:len(body) + 1]:  # a blank line before the last row
        return None
    if not body:
        return [[] for _ in fields]
    if set(map(str.count, body, repeat(","))) != {len(fields) - 1} \
            or max(map(len, body)) > csv.field_size_limit():
        return None
    cells = ",".join(body).split(",")
    return [cells[n::len(fields)] for n in range(len(fields))]


def _as_dict(fields: list[str], cells: list[str]) -> dict[str | None, object]:
    """The row as csv.DictReader gives it: cells beyond the header under None, missing cells
    None (so the schema reports both)."""
    row: dict[str | None, object] = dict(zip(fields, cells, strict=False))
    if len(cells) > len(fields):
        row[None] = cells[len(fields):]
    for field in fields[len(cells):]:
        row[field] = None
    return row


@functools.cache
def _cell_adapter(model: type[BaseModel], field: str) -> tuple[TypeAdapter[list[object]], bool]:
    """One field's schema (type, constraints and validators, the model's config) for a list of
    cells, and whether it calls Python per cell (a validator function in the field's
    metadata): such a column is validated one distinct cell at a time."""
    info = model.model_fields[field]
    kind = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    adapter = TypeAdapter(list[kind], config=model.model_config)  # type: ignore[valid-type]
    calls_python = any(callable(getattr(m, "func", None)) for m in info.metadata)
    return adapter, calls_python


def _parse_columns(model: type[BaseModel], cells: list[list[str]]
                   ) -> dict[str, list[object]] | None:
    """Each column's cells (`cells[n]`, field n) validated by the field's schema (a column in
    one call); None when a cell fails (or the model validates across fields, which a column at
    a time cannot)."""
    checks = model.__pydantic_decorators__
    if checks.validators or checks.field_validators or checks.root_validators \
            or checks.model_validators:
        return None
    columns: dict[str, list[object]] = {}
    for field, column in zip(model.model_fields, cells, strict=True):
        adapter, calls_python = _cell_adapter(model, field)
        # A validator in Python sees each distinct cell once (a column repeats a few values).
        distinct = list(dict.fromkeys(column)) if calls_python else column
        try:
            values = adapter.validate_python(distinct)
        except ValidationError:
            return None
        if calls_python:
            values = list(map(dict(zip(distinct, values, strict=True)).__getitem__, column))
        columns[field] = values
    return columns


def _sums(pairs: Iterable[tuple[K, float]]) -> dict[K, float]:
    """The values summed per key, in order (keys in the order first seen)."""
    sums: dict[K, float] = {}
    for key, value in pairs:
        sums[key] = sums.get(key, 0.0) + value
    return sums


def _close(a: float, b: float, measure: Measure | None = None) -> bool:
    tol = EUR_TOL if measure is not None and not measure.in_persons else VALUE_TOL
    return abs(a - b) <= tol


def expected_obligations(instance: Instance) -> pd.DataFrame:
    """The key recomputed column-wise from the inputs (Art. 66, Annex I; rules ss. 2-4)."""
    cfg = instance.config
    df = pd.DataFrame([{**s.model_dump(exclude={"indicators"}), **s.indicators}
                       for s in instance.states]).set_index("code")
    pledging = {p.state for p in instance.pledges}
    part = df[df["participates"]]
    computed = sum((w * part[c] / part[c].sum() for c, w in cfg.key.weights.items()),
                   pd.Series(0.0, index=part.index))
    df["share_computed"] = computed.reindex(df.index).fillna(0.0)
    df["share_used"] = df["share"].where(df["share"].notna(), df["share_computed"])
    contributor = df["participates"] & ~df["benefitting"]
    if cfg.key.redistribute:
        df.loc[contributor, "share_used"] /= df.loc[contributor, "share_used"].sum()
    deduction = df["deduction"].where(contributor, 0.0)
    exact = (df["share_used"] * cfg.pool.relocations * (1 - deduction)).where(contributor, 0.0)
    if cfg.deductions.redistribute and exact.sum() > 0:
        lost = (df["share_used"] * cfg.pool.relocations * deduction).where(contributor, 0).sum()
        exact = exact * (1 + lost / exact.sum())
    exact = exact.round(9)
    if cfg.pool.rounding == "ceil":
        obligation = exact.apply(math.ceil).astype(float)
    elif cfg.pool.rounding == "largest_remainder":
        base = exact.apply(math.floor)
        extra = int(math.floor(math.fsum(exact) + 0.5) - base.sum())
        # Remainders to 9 decimals: a decimal tie (25.4 and 8.4) goes to the lower code.
        order = (exact - base).round(9).rename("r").rename_axis(None).to_frame().assign(
            code=exact.index)
        winners = order.sort_values(["r", "code"], ascending=[False, True]).index[:extra]
        obligation = (base + base.index.isin(winners)).astype(float)
    else:
        obligation = exact
    df["obligation"] = obligation
    df["listed"] = df["participates"] | df.index.isin(pledging)
    return df


def _key(out: Outputs, instance: Instance) -> pd.DataFrame:
    if "key" not in out.cache:
        out.cache["key"] = expected_obligations(instance)
    return out.cache["key"]  # type: ignore[return-value]


def _offsets(out: Outputs, instance: Instance) -> dict[str, Any]:
    if "offsets" not in out.cache:
        out.cache["offsets"] = expected_offsets(instance, _key(out, instance))
    return out.cache["offsets"]  # type: ignore[return-value]


def _needs(out: Outputs, instance: Instance) -> dict[tuple[str, Measure], float]:
    if "needs" not in out.cache:
        out.cache["needs"] = effective_needs(instance)
    return out.cache["needs"]  # type: ignore[return-value]


def _check_mandatory_offsets(out: Outputs, offsets: dict[str, Any]) -> None:
    """allocation.csv's mandatory_offset: the planned part of each state's owed mandatory
    offsets (Art. 63(3)): summary.json's owed parts (checked against the key's exact spread
    by verify_summary.check_offsets) within what the state's offset rows hold; without a
    readable summary, each within the exact spread's floor and ceiling."""
    written = _mandatory(out)
    found = out.summary.offsets if out.summary is not None else None
    owed = found.mandatory_owed if found is not None else None
    line_of = {r.state: n for n, r in out.allocation}
    if owed is None:
        check_mandatory(out.fail, written, offsets["mandatory"],
                        int(offsets["remaining_gap"]), "allocation.csv",
                        lambda s: line_of.get(s, 0), "mandatory_offset")
        return
    planned = planned_mandatory(owed, offsets["room"])
    for state in sorted(set(written) | set(planned)):
        if abs(written.get(state, 0.0) - planned.get(state, 0)) > VALUE_TOL:
            out.fail("allocation.csv", line_of.get(state, 0), "mandatory_offset",
                     f"{state}: {written.get(state, 0.0):g} mandatory offsets, its owed part "
                     f"{owed.get(state, 0)} within what its offset rows hold gives "
                     f"{planned.get(state, 0)} (Art. 63(3))")


def _mandatory(out: Outputs) -> dict[str, float]:
    """Each state's mandatory offsets as written (allocation.csv), where they are known."""
    return {row.state: row.mandatory_offset for _, row in out.allocation}


def _twice(out: Outputs, name: str, keyed: list[tuple[int, object]], column: str,
           what: str) -> set[object]:
    """Report each key listed again after its first line; the keys seen."""
    first: dict[object, int] = {}
    for line, key in keyed:
        if key in first:
            out.fail(name, line, column, f"{what} listed twice (first on line {first[key]})")
        else:
            first[key] = line
    return set(first)


def _fmt(value: float | None) -> str:
    return "no limit" if value is None else format(value, "g")


def check_plan(out: Outputs, instance: Instance) -> None:
    """Each pledge row once, its echo columns as in pledges.csv, its amount within the row's
    bounds (and Art. 63's limit on offsets not yet allowed), whole persons, value = amount /
    unit; stage (ii) (preferences) optimal by the swap certificate."""
    rate = instance.config.pool.rate
    pledges = instance.pledges_by_id
    seen = _twice(out, "plan.csv", [(line, row.pledge_id) for line, row in out.plan],
                  "pledge_id", "pledge")
    check_amount = _amount_check(out, instance)
    for line, row in out.plan:
        p = pledges.get(row.pledge_id)
        if p is None:
            out.fail("plan.csv", line, "pledge_id", f"no pledge {row.pledge_id!r} in the input")
            continue
        _check_plan_echoes(out, line, row, p)
        check_amount(line, row, p)
        _check_units(out, "plan.csv", line, row.amount, p.measure)
        if not _close(row.value, row.amount / unit(p.measure, rate)):
            out.fail("plan.csv", line, "value", "value is not amount / unit (Art. 56(2))")
    for pid in sorted(set(pledges) - seen):
        out.fail("plan.csv", 0, "pledge_id", f"pledge {pid!r} is missing from the plan")
    if seen == set(pledges) and out.proven:
        _check_preferences(out, instance)


def _check_plan_echoes(out: Outputs, line: int, row: PlanRow, p: Pledge) -> None:
    """plan.csv repeats the pledge row's state, measure, min, max, preference and beneficiary
    as pledges.csv gives them (numbers within rounding)."""
    if (row.state, row.measure) != (p.state, p.measure):
        out.fail("plan.csv", line, "state", "state or measure differs from the pledge")
    echoes = (("min", row.min, p.min), ("max", row.max, p.max),
              ("preference", row.preference, p.preference),
              ("beneficiary", row.beneficiary, p.beneficiary))
    for column, written, given in echoes:
        if written != given and not (isinstance(written, float)
                                     and isinstance(given, int | float)
                                     and _close(written, float(given), p.measure)):
            shown = [_fmt(v) if column in ("min", "max") else ";".join(v)  # type: ignore
                     if column == "beneficiary" else str(v) for v in (written, given)]
            out.fail("plan.csv", line, column, f"{shown[0]} differs from pledges.csv "
                     f"({shown[1]})")


def _amount_check(out: Outputs, instance: Instance) -> Callable[[int, PlanRow, Pledge], None]:
    """What bounds a plan row's amount: nothing implemented for a benefitting state's pledge
    unless benefitting.implement_pledges (rules section 4); the row's [min, max]; under
    offsets.enforce_voluntary, before Art. 63 allows voluntary offsets, a state's offsets up
    to its planned mandatory offsets (or its own minimum) only. The check of a row: one failure
    at most, the first limit broken."""
    offsets = _offsets(out, instance)
    idle = set() if instance.config.benefitting.implement_pledges else set(instance.benefitting)
    # Offsets limited to the mandatory ones (Art. 63), but for states that may offset
    # voluntarily all the same; the planned mandatory offsets as allocation.csv writes them
    # (checked against the owed parts and the rows' room by _check_mandatory_offsets).
    restricted = instance.config.offsets.enforce_voluntary and not offsets["voluntary_allowed"]
    allowed, mandatory = set(offsets["voluntary_allowed_states"]), _mandatory(out)

    def check(line: int, row: PlanRow, p: Pledge) -> None:
        tol = VALUE_TOL if p.measure.in_persons else EUR_TOL
        if p.state in idle:
            if abs(row.amount) > tol:
                out.fail("plan.csv", line, "amount", f"{row.amount:g}, but {p.state} is "
                         "benefitting: its pledge is accepted, not implemented (rules section "
                         "4; benefitting.implement_pledges = false): 0")
        elif row.amount < p.min - tol or (p.max is not None and row.amount > p.max + tol):
            out.fail("plan.csv", line, "amount", f"{row.amount:g} outside the pledge's bounds "
                     f"[{p.min:g}, {_fmt(p.max)}]")
        elif restricted and p.measure is Measure.offset and p.state not in allowed:
            top = max(p.min, float(mandatory.get(p.state, 0)))
            if row.amount > top + tol:
                out.fail("plan.csv", line, "amount", f"{row.amount:g} offsets, but {p.state} "
                         f"may not offset voluntarily: at most {top:g} (Art. 63)")

    return check


def _check_units(out: Outputs, name: str, line: int, amount: float, measure: Measure) -> None:
    """An amount in whole persons (relocations, offsets) or in EUR to the cent."""
    if measure.in_persons and amount != int(amount):
        out.fail(name, line, "amount", "persons must be whole")
    if not measure.in_persons and abs(amount * 100 - round(amount * 100)) > 1e-6:
        out.fail(name, line, "amount", "EUR amounts are to the cent")


def _check_preferences(out: Outputs, instance: Instance) -> None:
    """Stage (ii) optimal: no state could move value from a row it ranks lower to a row it
    ranks higher with room left (the swap certificate, planner.verifier.rules); an offset
    row's room with responsibility.csv is the persons left on its pairs."""
    offsets = _offsets(out, instance)
    amounts = {row.pledge_id: row.amount for _, row in out.plan}
    paired = _sums(((f.contributor, f.beneficiary), f.amount) for _, f in out.distribution
                   if f.measure is Measure.offset and f.beneficiary)
    voluntary = set(offsets["voluntary_states"])
    for worse, better in preference_swaps(instance, amounts, _mandatory(out),
                                          paired, voluntary):
        line = next(n for n, r in out.plan if r.pledge_id == worse)
        out.fail("plan.csv", line, "amount", f"not the state's preferred mix: value could move "
                 f"from {worse} to {better}, ranked higher, which has room left (stage ii)")


def check_allocation(out: Outputs, instance: Instance) -> None:
    """A row per participating or pledging state, once; name, role, shares, deduction,
    obligation (in both units) and mandatory offsets from the inputs; the measures from
    plan.csv; value, balance and shortfall from them; the state rules."""
    rate = instance.config.pool.rate
    expected = _key(out, instance)
    given = _sums(((r.state, r.measure), r.amount) for _, r in out.plan)
    listed = _twice(out, "allocation.csv", [(line, row.state) for line, row in out.allocation],
                    "state", "state")
    for code in expected.index[expected["listed"]]:
        if code not in listed:
            out.fail("allocation.csv", 0, "state", f"{code} is missing")
    _check_mandatory_offsets(out, _offsets(out, instance))
    # Plain values per state: a pandas row lookup per allocation row cost more than the key.
    key = expected[["obligation", "share_used", "share_computed", "share", "deduction",
                    "participates", "benefitting", "listed", "name"]].to_dict("index")
    for line, row in out.allocation:
        if row.state not in key:
            out.fail("allocation.csv", line, "state", f"unknown state {row.state}")
            continue
        exp = cast("dict[str, Any]", key[row.state])  # a row of to_dict('index')
        role = _check_identity(out, line, row, exp)
        _check_key_columns(out, line, row, exp, role, rate)
        _check_measures(out, line, row, given, rate)
        _check_state_rules(out, instance, line, row)


def _check_identity(out: Outputs, line: int, row: AllocationRow, exp: dict[str, Any]) -> str:
    """The state listed (it participates or pledges), its role (benefitting, contributor or
    ad_hoc, from member_states.csv) and name; the role the inputs give."""
    if not exp["listed"]:
        out.fail("allocation.csv", line, "state", f"{row.state} neither participates nor "
                 "pledges")
    role = "benefitting" if exp["benefitting"] else "contributor" if exp["participates"] \
        else "ad_hoc"
    if row.role != role:
        out.fail("allocation.csv", line, "role", f"{row.role}, the inputs make it {role}")
    if row.name != exp["name"]:
        out.fail("allocation.csv", line, "name", "differs from member_states.csv")
    return role


def _check_key_columns(out: Outputs, line: int, row: AllocationRow, exp: dict[str, Any],
                       role: str, rate: float) -> None:
    """The key's columns as recomputed (Art. 66, Annex I): obligation, obligation_eur =
    obligation x rate (Art. 56(2)), share used, computed and official, and the deduction (a
    contributor's only)."""
    if not _close(row.obligation, float(exp["obligation"])):
        out.fail("allocation.csv", line, "obligation",
                 f"{row.obligation:g}, expected {float(exp['obligation']):g}")
    if not _close(row.obligation_eur, row.obligation * rate, Measure.financial):
        out.fail("allocation.csv", line, "obligation_eur", "is not obligation x EUR per "
                 "relocation (Art. 56(2))")
    if not _close(row.share, float(exp["share_used"])):
        out.fail("allocation.csv", line, "share", "differs from the key")
    if not _close(row.share_computed, float(exp["share_computed"])):
        out.fail("allocation.csv", line, "share_computed", "differs from the key (Annex I)")
    official = None if pd.isna(exp["share"]) else float(exp["share"])
    if (row.share_official is None) != (official is None) or (
            official is not None and not _close(row.share_official or 0.0, official)):
        out.fail("allocation.csv", line, "share_official", "differs from member_states.csv")
    deduction = float(exp["deduction"]) if role == "contributor" else 0.0
    if not _close(row.deduction, deduction):
        out.fail("allocation.csv", line, "deduction", f"{row.deduction:g}, expected "
                 f"{deduction:g}")


def _check_measures(out: Outputs, line: int, row: AllocationRow,
                    given: dict[tuple[str, Measure], float], rate: float) -> None:
    """Each measure's total as plan.csv's rows of the state sum it; value = the measures'
    values (Art. 56(2)), balance = value - obligation, shortfall = max(0, obligation -
    value)."""
    columns = {Measure.relocation: row.relocation, Measure.offset: row.offset,
               Measure.financial: row.financial_eur, Measure.alternative: row.alternative_eur}
    for measure, amount in columns.items():
        if not _close(amount, given.get((row.state, measure), 0.0), measure):
            out.fail("allocation.csv", line, measure.value, "differs from plan.csv")
    value = math.fsum(a / unit(m, rate) for m, a in columns.items())
    if not _close(row.value, value):
        out.fail("allocation.csv", line, "value", "is not the sum of the measures' values")
    if not _close(row.balance, row.value - row.obligation):
        out.fail("allocation.csv", line, "balance", "is not value - obligation")
    if not _close(row.shortfall, max(0.0, row.obligation - row.value)):
        out.fail("allocation.csv", line, "shortfall", "is not max(0, obligation - value)")


def _check_state_rules(out: Outputs, instance: Instance, line: int, row: AllocationRow) -> None:
    """Cap (value <= obligation unless own minimums force more), shortfall only when every row
    is exhausted (stage (i) minimal), and mandatory offsets honoured (Art. 63)."""
    rate = instance.config.pool.rate
    rows = [p for p in instance.pledges if p.state == row.state]
    offset_min = sum(p.min for p in rows if p.measure is Measure.offset)
    forced = math.fsum(p.min / unit(p.measure, rate) for p in rows
                       if p.measure is not Measure.offset) + max(offset_min, row.mandatory_offset)
    if row.role == "benefitting":
        _check_benefitting(out, instance, line, row, rows, forced)
        return
    if row.value > max(row.obligation, forced) + VALUE_TOL:
        out.fail("allocation.csv", line, "value", f"{row.value:g} exceeds the obligation "
                 f"{row.obligation:g} beyond the state's own minimums")
    if row.offset < row.mandatory_offset - VALUE_TOL:
        out.fail("allocation.csv", line, "offset", "below the state's mandatory offsets")
    if row.shortfall > VALUE_TOL:
        restricted = instance.config.offsets.enforce_voluntary
        for p in _with_room(out, row.state, [p for p in rows if not (
                p.measure is Measure.offset and restricted)]):
            out.fail("allocation.csv", line, "shortfall",
                     f"shortfall although pledge {p.pledge_id} has room left")


def _with_room(out: Outputs, state: str, rows: list[Pledge]) -> list[Pledge]:
    """The pledge rows (`state`'s) that plan.csv's rows of the state leave below their
    maximum."""
    taken = {r.pledge_id: r.amount for _, r in out.plan if r.state == state}
    return [p for p in rows if p.max is None or taken.get(p.pledge_id, 0.0)
            < p.max - (VALUE_TOL if p.measure.in_persons else EUR_TOL)]


def _check_benefitting(out: Outputs, instance: Instance, line: int, row: AllocationRow,
                       rows: list[Pledge], forced: float) -> None:
    """A benefitting state's pledge (rules section 4): nothing implemented by default (plan.csv
    holds 0 per row: check_plan); with benefitting.implement_pledges, value at most
    max(fair share, own minimums), and below its fair share only when every row is full (the
    planner's stage after the shortfall takes as much as the fair share allows)."""
    if not instance.config.benefitting.implement_pledges:
        if row.value > VALUE_TOL:
            out.fail("allocation.csv", line, "value", f"{row.value:g}, but {row.state}'s "
                     "pledge is not implemented (rules section 4): 0")
        return
    # Rules section 4 [interp]: what a benefitting state's implemented pledge counts against,
    # its fair share: share x pool.relocations, rounded up (exact under rounding `none`).
    exact = round(float(_key(out, instance)["share_used"][row.state])
                  * instance.config.pool.relocations, 9)
    target = exact if instance.config.pool.rounding == "none" else float(math.ceil(exact))
    if row.value > max(target, forced) + VALUE_TOL:
        out.fail("allocation.csv", line, "value", f"{row.value:g} exceeds {row.state}'s fair "
                 f"share {target:g} beyond its own minimums (rules section 4)")
    if row.value < target - VALUE_TOL:
        for p in _with_room(out, row.state, rows):
            out.fail("allocation.csv", line, "value", f"{row.value:g}, below {row.state}'s "
                     f"fair share {target:g} although pledge {p.pledge_id} has room left "
                     "(benefitting.implement_pledges)")


def joint_floors(out: Outputs, instance: Instance) -> dict[tuple[str, str], float]:
    """With the joint split (issue 18, `matching.split = "joint"`), the persons assignments.csv
    places per (pledge row, benefitting state): the distribution's balance moves only the
    places left empty."""
    if instance.cases is None or instance.config.matching.split != "joint" \
            or not out.assignments or not len(out.assignments["line"]):
        return {}
    return {pair: float(n) for pair, n in Counter(zip(
        out.assignments["pledge_id"].tolist(), out.assignments["from_state"].tolist(),
        strict=True)).items()}


def check_distribution(out: Outputs, instance: Instance) -> None:
    """Each flow once, from its pledge row to a state the row may serve (directed pledges,
    needs), positive, whole persons or cents, value = amount / unit; each row's flows sum to
    its amount; the balance leximin by the exchange certificate (planner.verifier.rules).
    Offsets (Art. 63, rules section 5): with responsibility.csv only along its pairs (for a
    voluntary state's offsets, toward agreeing states), each pair's flows within its persons;
    without it, one flow per offset row with an empty beneficiary (assigned to no benefitting
    state), and only offsets have an empty beneficiary."""
    rate = instance.config.pool.rate
    pledges = instance.pledges_by_id
    needs = _needs(out, instance)
    voluntary = set(_offsets(out, instance)["voluntary_states"])
    paired: dict[tuple[str, str], list[int]] = {}
    sums: dict[str, float] = {}
    _twice(out, "distribution.csv", [(line, (row.pledge_id, row.beneficiary))
                                     for line, row in out.distribution],
           "beneficiary", "flow")
    for line, row in out.distribution:
        p = pledges.get(row.pledge_id)
        if p is None:
            out.fail("distribution.csv", line, "pledge_id", f"no pledge {row.pledge_id!r}")
            continue
        sums[row.pledge_id] = sums.get(row.pledge_id, 0.0) + row.amount
        if (row.contributor, row.measure) != (p.state, p.measure):
            out.fail("distribution.csv", line, "contributor", "differs from the pledge")
        if p.measure is Measure.offset:
            _check_offset_flow(out, instance, line, row.beneficiary, p, voluntary, paired)
        else:
            _check_flow_target(out, instance, line, row.beneficiary, p, needs)
        _check_units(out, "distribution.csv", line, row.amount, p.measure)
        if row.amount < 0:
            out.fail("distribution.csv", line, "amount", "negative flow")
        elif row.amount == 0:
            out.fail("distribution.csv", line, "amount", "a flow of 0 is not listed")
        if not _close(row.value, row.amount / unit(p.measure, rate)):
            out.fail("distribution.csv", line, "value", "value is not amount / unit")
    _check_pair_persons(out, instance, paired)
    if instance.benefitting:
        _check_flow_sums(out, sums)
        _check_balance(out, instance, needs, voluntary)


def _check_flow_target(out: Outputs, instance: Instance, line: int, beneficiary: str,
                       pledge: Pledge, needs: dict[tuple[str, Measure], float]) -> None:
    """A flow of a relocation, financial or alternative row (rules sections 4 and 6): to a
    benefitting state the row may serve (its beneficiaries, or any; never the pledging state),
    and to one that needs the measure when any of those does."""
    benefitting = set(instance.benefitting)
    allowed = [b for b in (list(pledge.beneficiary) or sorted(benefitting))
               if b != pledge.state]
    if beneficiary not in benefitting or beneficiary not in allowed:
        out.fail("distribution.csv", line, "beneficiary",
                 f"{beneficiary or 'empty'} is not a beneficiary this pledge may serve")
    needing = [b for b in allowed if needs.get((b, pledge.measure), 0.0) > 0]
    if needing and beneficiary not in needing:
        out.fail("distribution.csv", line, "beneficiary",
                 f"{beneficiary} states no need for {pledge.measure}, others do")


def _check_pair_persons(out: Outputs, instance: Instance,
                        paired: dict[tuple[str, str], list[int]]) -> None:
    """Art. 63 with responsibility.csv: the offsets a state sends toward a benefitting state
    (`paired`: the lines of each (state, beneficiary) pair) within the persons the file
    places on its territory for that state."""
    persons = responsibility_persons(instance)
    amount_of = {(row.pledge_id, row.beneficiary): row.amount for _, row in out.distribution}
    for (state, b), lines in sorted(paired.items()):
        sent = math.fsum(amount_of[(r.pledge_id, r.beneficiary)] for n, r in out.distribution
                         if n in lines)
        if sent > persons.get((state, b), 0.0) + VALUE_TOL:
            out.fail("distribution.csv", lines[-1], "amount", f"{state}'s offsets toward {b} "
                     f"sum to {sent:g}, responsibility.csv places {persons.get((state, b), 0):g}"
                     f" persons {b} is responsible for on {state}'s territory (Art. 63)")


def _check_flow_sums(out: Outputs, sums: dict[str, float]) -> None:
    """Each plan row's flows sum to its amount (`sums`: the flows per pledge row)."""
    for line, row in out.plan:
        if not _close(sums.get(row.pledge_id, 0.0), row.amount, row.measure):
            out.fail("distribution.csv", 0, "amount", f"flows of {row.pledge_id} sum to "
                     f"{sums.get(row.pledge_id, 0.0):.2f}, plan.csv line {line} says "
                     f"{row.amount:.2f}")


def _check_balance(out: Outputs, instance: Instance, needs: dict[tuple[str, Measure], float],
                   voluntary: set[str]) -> None:
    """The balance (Art. 60(2)) leximin, for proven optima: no exchange along the flows from
    a better covered to a worse covered state beyond rounding (the exchange certificate,
    planner.verifier.rules.leximin_violations)."""
    if not out.proven:
        return
    flows = [(row.pledge_id, row.beneficiary, row.amount) for _, row in out.distribution]
    # A re-plan's money laid where the ledger says it went does not move either (a cent over
    # its floor is the rounding's).
    pinned = {arc: v + 0.01 for arc, v in ledger_floors(out, instance, needs)[0].items()}
    for measure, high, low, r_high, r_low in leximin_violations(
            instance, flows, needs, voluntary, {**joint_floors(out, instance), **pinned}):
        out.fail("distribution.csv", 0, "amount", f"not balanced (Art. 60(2)): {measure.value} "
                 f"could move from {high} (coverage {r_high:.6g}) to {low} ({r_low:.6g})")


def _check_offset_flow(out: Outputs, instance: Instance, line: int, beneficiary: str,
                       pledge: Pledge, voluntary: set[str],
                       paired: dict[tuple[str, str], list[int]]) -> None:
    """An offset flow (rules section 5): empty beneficiary exactly without responsibility.csv;
    with it, a pair of the file within the row's list, agreeing when voluntary."""
    if instance.responsibility is None:
        if beneficiary:
            out.fail("distribution.csv", line, "beneficiary", f"{beneficiary}: without "
                     "responsibility.csv an offset is assigned to no benefitting state (empty)")
        return
    if beneficiary in offset_arcs(instance, pledge, voluntary):
        paired.setdefault((pledge.state, beneficiary), []).append(line)
        return
    if not beneficiary:
        why = "the beneficiary is empty, but responsibility.csv assigns offsets"
    elif beneficiary in instance.config.offsets.refused_by and pledge.state in voluntary:
        why = f"{beneficiary} refuses voluntary offsets (offsets.refused_by, Art. 63(2))"
    else:
        why = (f"{beneficiary}: no pair of responsibility.csv with persons for "
               f"{pledge.state} that this row may serve")
    out.fail("distribution.csv", line, "beneficiary", why)


def check_coverage(out: Outputs, instance: Instance) -> None:
    """A row per (benefitting state, measure) the balance covers or that receives flows, once;
    received from distribution.csv, need and need_stated from needs.csv, ratio = received /
    need."""
    # An offset assigned to no benefitting state (no beneficiary): no coverage row.
    got = _sums(((f.beneficiary, f.measure), f.amount) for _, f in out.distribution
                if f.beneficiary)
    stated = {(n.state, n.measure): n.amount for n in instance.needs if n.amount > 0}
    wanted = set(_needs(out, instance)) | {k for k, v in got.items() if v > 0}
    listed = _twice(out, "coverage.csv", [(line, (row.beneficiary, row.measure))
                                          for line, row in out.coverage],
                    "beneficiary", "(beneficiary, measure)")
    for b, m in sorted(wanted - listed, key=lambda k: (k[0], k[1].value)):
        out.fail("coverage.csv", 0, "beneficiary", f"{b} {m.value} is missing")
    for line, row in out.coverage:
        key = (row.beneficiary, row.measure)
        if key not in wanted:
            out.fail("coverage.csv", line, "beneficiary", f"{row.beneficiary} {row.measure.value}"
                     " is neither a need nor received")
        if not _close(row.received, got.get(key, 0.0), row.measure):
            out.fail("coverage.csv", line, "received", "differs from distribution.csv")
        if row.need_stated != (key in stated):
            out.fail("coverage.csv", line, "need_stated", "differs from needs.csv")
        if not _close(row.need, stated.get(key, 0.0), row.measure):
            out.fail("coverage.csv", line, "need", "differs from needs.csv")
        ratio = row.received / row.need if row.need > 0 else None
        if (ratio is None) != (row.ratio is None) or (
                ratio is not None and not _close(row.ratio or 0.0, ratio)):
            out.fail("coverage.csv", line, "ratio", "is not received / need")


def check_summary(out: Outputs, instance: Instance) -> None:
    """Totals from allocation.csv; the inputs' digest and name; status, solver and gaps; the
    key, offsets, distribution and objectives sections (planner.verifier.summary)."""
    summary = out.summary
    if summary is None:
        return
    _check_totals(out, summary)
    if summary.input_sha256 != instance.input_sha256:
        out.fail("summary.json", 0, "input_sha256", "does not match the inputs")
    if summary.instance != instance.name:
        out.fail("summary.json", 0, "instance", f"{summary.instance!r}, the inputs are "
                 f"{instance.name!r}")
    vs.check_status(out.fail, summary)
    _check_state_warnings(out, summary, instance)
    vs.check_key(out.fail, summary, instance, _key(out, instance))
    vs.check_proposal(out.fail, summary, instance)
    unassigned = _sums((f.contributor, f.amount) for _, f in out.distribution
                       if not f.beneficiary and f.measure is Measure.offset)
    vs.check_offsets(out.fail, summary, _offsets(out, instance), unassigned)
    _check_coverage_sections(out, summary, instance)


def _check_totals(out: Outputs, summary: Summary) -> None:
    """summary.json's totals: each the sum of its allocation.csv column; surplus the sum of
    the positive balances."""
    totals = summary.totals.model_dump()
    for key in ("obligation", "relocation", "offset", "financial_eur", "alternative_eur",
                "value", "shortfall"):
        total = math.fsum(getattr(r, key) for _, r in out.allocation)
        if abs(totals[key] - total) > EUR_TOL:
            out.fail("summary.json", 0, f"totals.{key}", f"{totals[key]:g} but the allocation "
                     f"sums to {total:g}")
    surplus = math.fsum(max(0.0, r.balance) for _, r in out.allocation)
    if abs(summary.totals.surplus - surplus) > EUR_TOL:
        out.fail("summary.json", 0, "totals.surplus", f"{summary.totals.surplus:g} but "
                 f"the allocation's positive balances sum to {surplus:g}")


def _check_state_warnings(out: Outputs, summary: Summary, instance: Instance) -> None:
    """The warnings the inputs call for (rules section 4): a deduction without a migratory
    status or with `at_risk` only (a deduction needs a significant situation or pressure,
    Arts 61-62), and a benefitting state that pledged."""
    warned = {(w.code, w.subject) for w in summary.warning_details}
    for s in instance.states:
        if s.deduction > 0 and s.status in ("none", "at_risk") and not any(
                w.startswith(f"{s.code}: deduction ") for w in summary.warnings):
            out.fail("summary.json", 0, "warnings", f"no warning for {s.code}'s deduction "
                     + ("without a migratory status" if s.status == "none"
                        else "while only at risk of migratory pressure"))
    for state in sorted({p.state for p in instance.pledges} & set(instance.benefitting)):
        if ("benefitting_pledge", state) not in warned:
            out.fail("summary.json", 0, "warnings", f"no warning that {state}, benefitting, "
                     "pledged (rules section 4)")


def _check_coverage_sections(out: Outputs, summary: Summary, instance: Instance) -> None:
    """The sections that follow from the distribution and coverage: `distribution` (the SAR
    share, min_coverage), the balance's levels (proven optima only) and the objectives, each
    level within what rounding after the balance moves a target's coverage."""
    rate = instance.config.pool.rate
    plan_values = {row.pledge_id: row.value for _, row in out.plan}
    received = _sums((f.beneficiary, f.value) for _, f in out.distribution)
    got = _sums(((f.beneficiary, f.measure), f.amount / unit(f.measure, rate))
                for _, f in out.distribution)
    flows = Counter(f.measure for _, f in out.distribution)
    stated = [c.ratio for _, c in out.coverage if c.ratio is not None]
    needs = _needs(out, instance)
    vs.check_distribution(out.fail, summary, instance, plan_values, received, stated, needs,
                          bool(out.distribution),
                          set(_offsets(out, instance)["voluntary_states"]),
                          joint_floors(out, instance))

    def slack(target: tuple[str, Measure]) -> float:
        """How far rounding after the balance moves a target's coverage."""
        moved = 1.0 if target[1].in_persons else 0.01 * (flows.get(target[1], 0) + 1) / rate
        return moved / needs[target]

    if out.proven:  # the levels and the coverage bound hold for proven optima only
        vs.check_levels(out.fail, summary, {t: (got.get(t, 0.0) / n, slack(t))
                                            for t, n in needs.items() if n > 0})
    stated_slack = max((slack(t) for t in needs if needs[t] > 0), default=0.0)
    vs.check_objectives(out.fail, summary, instance, plan_values,
                        min(stated, default=None) if out.proven else None, stated_slack)


CHECKS: tuple[Callable[[Outputs, Instance], None], ...] = (
    check_plan, check_allocation, check_distribution, check_coverage, check_summary,
    check_replan, check_matching)


def verify(files: Files, instance: Instance) -> list[Problem]:
    """Every failed check of the results (a folder, or file name -> bytes) against `instance`
    (empty: all pass)."""
    problems: list[Problem] = []
    out = Outputs(files, problems)
    if not problems:
        for check in CHECKS:
            check(out, instance)
    return problems


def verify_or_raise(files: Files, instance: Instance) -> None:
    problems = verify(files, instance)
    if problems:
        lines = "\n".join(str(p) for p in problems[:50])
        raise PlanError(f"the verifier rejected the plan ({len(problems)} failed checks):\n"
                        f"{lines}")


def _checked(folder: Path) -> int:
    """What `planner verify` counts as checks: every cell of the written tables and every
    value of summary.json (timings aside), each read back and recomputed or cross-checked."""
    count = 0
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            count += sum(len(row) for n, row in enumerate(csv.reader(handle)) if n)

    def leaves(value: object) -> int:
        if isinstance(value, dict):
            return sum(leaves(v) for v in value.values())
        if isinstance(value, list):
            return sum(leaves(v) for v in value)
        return 1

    data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    data.pop("timings_s", None)
    return count + leaves(data)


def _instance_folders(results: Path, name: str) -> list[Path]:
    """Where a results folder's instance may be: ./instances/NAME, beside the results tree
    (results/NAME/... -> instances/NAME) and the bundled instances."""
    found = [Path("instances") / name, *(p / "instances" / name for p in results.resolve().parents),
             Path(__file__).resolve().parents[2] / "instances" / name]
    return [p for p in dict.fromkeys(found) if p.is_dir()]


def recheck(results: Path, instance_dir: Path | None = None) -> tuple[int, list[str]]:
    """`planner verify RESULTS [--instance DIR]`: the exit code (0 verified, 2 unreadable
    input, 3 failed checks) and the lines to print (stdout for 0, stderr otherwise). The
    instance is DIR, or found from summary.json's `instance` name (./instances/NAME, an
    `instances/NAME` beside the results tree, the bundled one); summary.json's `variant` is
    applied; its `input_sha256` must be the inputs'."""
    from planner.errors import InputError
    from planner.inputs.load import load_instance

    if not results.is_dir():
        return 2, [f"{results}:0: -: results folder not found"]
    data: Any = None
    try:
        data = json.loads((results / "summary.json").read_text(encoding="utf-8"))
        name, variant, digest = data["instance"], data["variant"], data["input_sha256"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        if instance_dir is None:
            return 2, [f"{results / 'summary.json'}:0: -: unreadable ({exc}); give the "
                       "instance with --instance DIR"]
        name, variant, digest = instance_dir.name, "base", None
    folders = [instance_dir] if instance_dir is not None else _instance_folders(results,
                                                                              str(name))
    if not folders:
        return 2, [f"{results / 'summary.json'}:0: instance: cannot find the instance "
                   f"{name!r} (looked for instances/{name}); give it with --instance DIR"]
    loaded = None
    for folder in folders:
        try:
            loaded = load_instance(folder, None if variant == "base" else str(variant))
        except InputError as exc:
            if instance_dir is not None or len(folders) == 1:
                return 2, [str(p) for p in exc.problems]
            continue
        if digest is None or loaded.input_sha256 == digest:
            break
    if loaded is None:
        return 2, [f"{results / 'summary.json'}:0: instance: no readable instance {name!r}"]
    if digest is not None and loaded.input_sha256 != digest:
        where = ", ".join(str(f) for f in folders)
        return 3, [f"summary.json:0: input_sha256: the results were planned from other "
                   f"inputs than {where}" + (f" (variant {variant})" if variant != "base"
                                             else ""),
                   f"{results}: 1 failed check"]
    return _recheck_with(results, loaded, data)


def _recheck_with(results: Path, loaded: Instance, data: object) -> tuple[int, list[str]]:
    """`recheck` once the instance is found: a re-plan's against the instance as of its
    date; the exit code and the lines to print."""
    as_of = _as_of(loaded, data, results)
    if isinstance(as_of, tuple):
        return as_of
    problems = verify(results, as_of)
    if problems:
        return 3, [str(p) for p in problems] + [
            f"{results}: {len(problems)} failed check{'s' if len(problems) > 1 else ''}"]
    return 0, [f"{results}: verified ({_checked(results)} checks)"]


def _as_of(loaded: Instance, data: object, results: Path) -> Instance | tuple[int, list[str]]:
    """A re-plan's results (summary.json `replan.as_of`, issue 15) are checked against the
    instance as of that date (planner.inputs.asof); exit 2 when the date cannot be used."""
    from planner.errors import InputError
    from planner.inputs.asof import as_of_instance

    replan = data.get("replan") if isinstance(data, dict) else None
    if not isinstance(replan, dict):
        return loaded
    try:
        return as_of_instance(loaded, dt.date.fromisoformat(str(replan.get("as_of"))))
    except ValueError:
        return 2, [f"{results / 'summary.json'}:0: replan.as_of: not an ISO date"]
    except InputError as exc:
        return 2, [str(p) for p in exc.problems]
