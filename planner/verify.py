"""The independent verifier: re-read the written outputs and re-check every rule.

It shares no code with the optimisation: it recomputes the key and the obligations in its own
way (pandas, from the validated inputs), reads the CSV files back through the result schemas,
and checks bounds, integrality, equal-value accounting (Art. 56(2)), obligations and shortfalls,
mandatory offsets (Art. 63), flows summing to amounts, directed pledges and needs (Art. 60(2)).
Any failure is a `PlanError` (exit 3) listing every failed check as FILE:LINE: COLUMN: message.
"""

from __future__ import annotations

import csv
import functools
import itertools
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, TypeAdapter, ValidationError

from models.instance import Instance, Measure
from models.results import (
    AllocationRow,
    AssignmentRow,
    CoverageRow,
    DistributionRow,
    PlanRow,
    Summary,
    UnassignedRow,
)
from planner.errors import PlanError, Problem
from planner.verify_matching import check_matching

M = TypeVar("M", bound=BaseModel)
Table = dict[str, np.ndarray]  # a column per field, and `line`

VALUE_TOL = 1e-6  # relocation-equivalents
EUR_TOL = 0.011  # amounts are written to the cent


class Outputs:
    """The files of a results folder, read back with their line numbers."""

    def __init__(self, folder: Path, problems: list[Problem]) -> None:
        self.folder, self.problems = folder, problems
        self.plan = self._rows("plan.csv", PlanRow)
        self.allocation = self._rows("allocation.csv", AllocationRow)
        self.distribution = self._rows("distribution.csv", DistributionRow)
        self.coverage = self._rows("coverage.csv", CoverageRow)
        self.summary = self._summary()
        matched = self.summary is not None and self.summary.matching.ran
        # The person-level tables, read column-wise.
        self.assignments = self._table("assignments.csv", AssignmentRow, matched)
        self.unassigned = self._table("unassigned.csv", UnassignedRow, matched)

    def fail(self, name: str, line: int, column: str, message: str) -> None:
        self.problems.append(Problem(name, line, column, message))

    def _cells(self, name: str, model: type[BaseModel]) -> list[list[str]] | None:
        """The data rows' cells once the file exists and its header is the schema's; blank
        lines skipped, as csv.DictReader skips them (row i of the list is at line i + 2)."""
        path = self.folder / name
        if not path.is_file():
            self.fail(name, 0, "-", "missing")
            return None
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            if next(reader, []) != list(model.model_fields):
                self.fail(name, 1, "-", "columns differ from the schema")
                return None
            return [cells for cells in reader if cells]

    def _rows(self, name: str, model: type[M]) -> list[tuple[int, M]]:
        body = self._cells(name, model)
        return [] if body is None else self._validate_rows(name, model, body)

    def _validate_rows(self, name: str, model: type[M], body: list[list[str]]
                       ) -> list[tuple[int, M]]:
        """Each row through the schema, each failure reported at its line."""
        fields = list(model.model_fields)
        rows = []
        for line, cells in enumerate(body, start=2):
            try:
                rows.append((line, model.model_validate(_as_dict(fields, cells))))
            except ValidationError as exc:
                for error in exc.errors():
                    self.fail(name, line, str(error["loc"][0]), error["msg"])
        return rows

    def _table(self, name: str, model: type[BaseModel], present: bool) -> Table:
        """A large table (`line` and a column per field, in line order) validated a column at
        a time by each field's own schema (a validation per row took 0.7 s at 27,500 persons).
        Any doubt (a cell that fails, a row of the wrong length) sends the file through
        `_validate_rows`, which reports every failure with its line exactly as the row-wise
        reading does."""
        width = len(model.model_fields)
        flat = self._plain_cells(name, model) if present else []
        if flat is not None:  # row i is flat[i * width:(i + 1) * width], at line i + 2
            body = None
            cells = [flat[n::width] for n in range(width)]
        else:
            body = self._cells(name, model) or []
            uniform = set(map(len, body)) <= {width}
            cells = [list(c) for c in zip(*body, strict=True)] if uniform and body \
                else [[] for _ in range(width)] if uniform else None
        columns = None if cells is None else _parse_columns(model, cells)
        if columns is None:
            if body is None:
                body = [flat[i:i + width] for i in range(0, len(flat), width)]
            rows = self._validate_rows(name, model, body)
            lines = np.array([line for line, _ in rows], dtype=np.int64)
            columns = {f: [getattr(row, f) for _, row in rows] for f in model.model_fields}
        else:
            lines = np.arange(2, len(cells[0]) + 2, dtype=np.int64)
        # fromiter: a tuple stays one object (np.array would make a 2-D array of them).
        return {"line": lines, **{f: np.fromiter(v, dtype=object, count=len(v))
                                  for f, v in columns.items()}}

    def _plain_cells(self, name: str, model: type[BaseModel]) -> list[str] | None:
        """The data rows' cells one after the other, when `str.split` reads the file exactly
        as `csv.reader` does: no quote, carriage return or NUL, no blank line, no field over
        csv's size limit, every row as wide as the schema (a file the planner wrote). None
        otherwise: `_cells` reads it (the csv module took 0.05 s for 25,000 rows). A file
        missing or with another header is reported here and has no cells."""
        path = self.folder / name
        if not path.is_file():
            self.fail(name, 0, "-", "missing")
            return []
        text = path.read_bytes().decode("utf-8")
        if '"' in text or "\r" in text or "\0" in text:
            return None
        head, _, body = text.partition("\n")
        if head.split(",") != list(model.model_fields):
            self.fail(name, 1, "-", "columns differ from the schema")
            return []
        lines = body.removesuffix("\n").split("\n") if body.removesuffix("\n") else []
        commas = len(model.model_fields) - 1
        if lines and (set(map(str.count, lines, itertools.repeat(","))) != {commas}
                      or not all(lines) or max(map(len, lines)) > csv.field_size_limit()):
            return None
        return ",".join(lines).split(",") if lines else []

    def _summary(self) -> Summary | None:
        try:
            return Summary.model_validate(json.loads((self.folder / "summary.json").read_text()))
        except (OSError, ValueError) as exc:
            self.fail("summary.json", 0, "-", f"unreadable: {exc}")
            return None


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


def _unit(measure: Measure, rate: float) -> float:
    return 1.0 if measure in (Measure.relocation, Measure.offset) else rate


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
    computed = sum(w * part[c] / part[c].sum() for c, w in cfg.key.weights.items())
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
        extra = int(math.floor(exact.sum() + 0.5) - base.sum())
        order = (exact - base).rename("r").rename_axis(None).to_frame().assign(code=exact.index)
        winners = order.sort_values(["r", "code"], ascending=[False, True]).index[:extra]
        obligation = (base + base.index.isin(winners)).astype(float)
    else:
        obligation = exact
    df["obligation"] = obligation
    df["listed"] = df["participates"] | df.index.isin(pledging)
    return df


def check_plan(out: Outputs, instance: Instance) -> None:
    rate = instance.config.pool.rate
    pledges = instance.pledges_by_id
    seen = set()
    for line, row in out.plan:
        p = pledges.get(row.pledge_id)
        if p is None:
            out.fail("plan.csv", line, "pledge_id", f"no pledge {row.pledge_id!r} in the input")
            continue
        seen.add(row.pledge_id)
        if (row.state, row.measure) != (p.state, p.measure):
            out.fail("plan.csv", line, "state", "state or measure differs from the pledge")
        tol = VALUE_TOL if p.measure.in_persons else EUR_TOL
        if row.amount < p.min - tol or (p.max is not None and row.amount > p.max + tol):
            out.fail("plan.csv", line, "amount", f"{row.amount:g} outside the pledge's bounds "
                     f"[{p.min:g}, {'no limit' if p.max is None else format(p.max, 'g')}]")
        if p.measure.in_persons and row.amount != int(row.amount):
            out.fail("plan.csv", line, "amount", "persons must be whole")
        if not _close(row.value, row.amount / _unit(p.measure, rate)):
            out.fail("plan.csv", line, "value", "value is not amount / unit (Art. 56(2))")
    for pid in sorted(set(pledges) - seen):
        out.fail("plan.csv", 0, "pledge_id", f"pledge {pid!r} is missing from the plan")


def check_allocation(out: Outputs, instance: Instance) -> None:
    rate = instance.config.pool.rate
    expected = expected_obligations(instance)
    given: dict[tuple[str, Measure], float] = {}
    for _, row in out.plan:
        given[(row.state, row.measure)] = given.get((row.state, row.measure), 0.0) + row.amount
    listed = {row.state for _, row in out.allocation}
    for code in expected.index[expected["listed"]]:
        if code not in listed:
            out.fail("allocation.csv", 0, "state", f"{code} is missing")
    # Plain floats per state: a pandas row lookup per allocation row cost more than the key.
    key = expected[["obligation", "share_used"]].to_dict("index")
    for line, row in out.allocation:
        if row.state not in key:
            out.fail("allocation.csv", line, "state", f"unknown state {row.state}")
            continue
        exp = key[row.state]
        if not _close(row.obligation, float(exp["obligation"])):
            out.fail("allocation.csv", line, "obligation",
                     f"{row.obligation:g}, expected {float(exp['obligation']):g}")
        if not _close(row.share, float(exp["share_used"])):
            out.fail("allocation.csv", line, "share", "differs from the key")
        columns = {Measure.relocation: row.relocation, Measure.offset: row.offset,
                   Measure.financial: row.financial_eur, Measure.alternative: row.alternative_eur}
        for measure, amount in columns.items():
            if not _close(amount, given.get((row.state, measure), 0.0), measure):
                out.fail("allocation.csv", line, measure.value, "differs from plan.csv")
        value = math.fsum(a / _unit(m, rate) for m, a in columns.items())
        if not _close(row.value, value):
            out.fail("allocation.csv", line, "value", "is not the sum of the measures' values")
        if not _close(row.balance, row.value - row.obligation):
            out.fail("allocation.csv", line, "balance", "is not value - obligation")
        if not _close(row.shortfall, max(0.0, row.obligation - row.value)):
            out.fail("allocation.csv", line, "shortfall", "is not max(0, obligation - value)")
        _check_state_rules(out, instance, line, row)


def _check_state_rules(out: Outputs, instance: Instance, line: int, row: AllocationRow) -> None:
    """Cap (value <= obligation unless own minimums force more), shortfall only when every row
    is exhausted, and mandatory offsets honoured (Art. 63)."""
    rate = instance.config.pool.rate
    rows = [p for p in instance.pledges if p.state == row.state]
    offset_min = sum(p.min for p in rows if p.measure is Measure.offset)
    forced = math.fsum(p.min / _unit(p.measure, rate) for p in rows
                       if p.measure is not Measure.offset) + max(offset_min, row.mandatory_offset)
    if row.value > max(row.obligation, forced) + VALUE_TOL:
        out.fail("allocation.csv", line, "value", f"{row.value:g} exceeds the obligation "
                 f"{row.obligation:g} beyond the state's own minimums")
    if row.offset < row.mandatory_offset - VALUE_TOL:
        out.fail("allocation.csv", line, "offset", "below the state's mandatory offsets")
    if row.shortfall > VALUE_TOL:
        taken = {r.pledge_id: r.amount for _, r in out.plan if r.state == row.state}
        restricted = instance.config.offsets.enforce_voluntary
        for p in rows:
            if p.measure is Measure.offset and restricted:
                continue
            tol = VALUE_TOL if p.measure.in_persons else EUR_TOL
            if p.max is None or taken.get(p.pledge_id, 0.0) < p.max - tol:
                out.fail("allocation.csv", line, "shortfall",
                         f"shortfall although pledge {p.pledge_id} has room left")


def check_distribution(out: Outputs, instance: Instance) -> None:
    rate = instance.config.pool.rate
    pledges = instance.pledges_by_id
    benefitting = set(instance.benefitting)
    stated = {(n.state, n.measure): n.amount for n in instance.needs if n.amount > 0}
    sums: dict[str, float] = {}
    for line, row in out.distribution:
        p = pledges.get(row.pledge_id)
        if p is None:
            out.fail("distribution.csv", line, "pledge_id", f"no pledge {row.pledge_id!r}")
            continue
        sums[row.pledge_id] = sums.get(row.pledge_id, 0.0) + row.amount
        if (row.contributor, row.measure) != (p.state, p.measure):
            out.fail("distribution.csv", line, "contributor", "differs from the pledge")
        allowed = list(p.beneficiary) or sorted(benefitting)
        if row.beneficiary not in benefitting or row.beneficiary not in allowed:
            out.fail("distribution.csv", line, "beneficiary",
                     f"{row.beneficiary} is not a beneficiary this pledge may serve")
        needing = [b for b in allowed if (b, p.measure) in stated]
        if needing and row.beneficiary not in needing:
            out.fail("distribution.csv", line, "beneficiary",
                     f"{row.beneficiary} states no need for {p.measure}, others do")
        if p.measure.in_persons and row.amount != int(row.amount):
            out.fail("distribution.csv", line, "amount", "persons must be whole")
        if row.amount < 0:
            out.fail("distribution.csv", line, "amount", "negative flow")
        if not _close(row.value, row.amount / _unit(p.measure, rate)):
            out.fail("distribution.csv", line, "value", "value is not amount / unit")
    if not benefitting:
        return
    for line, row in out.plan:
        if not _close(sums.get(row.pledge_id, 0.0), row.amount, row.measure):
            out.fail("distribution.csv", 0, "amount", f"flows of {row.pledge_id} sum to "
                     f"{sums.get(row.pledge_id, 0.0):.2f}, plan.csv line {line} says "
                     f"{row.amount:.2f}")


def check_coverage(out: Outputs, instance: Instance) -> None:
    got: dict[tuple[str, Measure], float] = {}
    for _, row in out.distribution:
        key = (row.beneficiary, row.measure)
        got[key] = got.get(key, 0.0) + row.amount
    stated = {(n.state, n.measure): n.amount for n in instance.needs if n.amount > 0}
    for line, row in out.coverage:
        key = (row.beneficiary, row.measure)
        if not _close(row.received, got.get(key, 0.0), row.measure):
            out.fail("coverage.csv", line, "received", "differs from distribution.csv")
        if row.need_stated and not _close(row.need, stated.get(key, 0.0), row.measure):
            out.fail("coverage.csv", line, "need", "differs from needs.csv")


def check_summary(out: Outputs, instance: Instance) -> None:
    if out.summary is None:
        return
    totals = out.summary.totals.model_dump()
    columns = {"obligation": "obligation", "relocation": "relocation", "offset": "offset",
               "financial_eur": "financial_eur", "alternative_eur": "alternative_eur",
               "value": "value", "shortfall": "shortfall"}
    for key, column in columns.items():
        total = math.fsum(getattr(r, column) for _, r in out.allocation)
        if abs(totals[key] - total) > EUR_TOL:
            out.fail("summary.json", 0, f"totals.{key}", f"{totals[key]:g} but the allocation "
                     f"sums to {total:g}")
    if out.summary.input_sha256 != instance.input_sha256:
        out.fail("summary.json", 0, "input_sha256", "does not match the inputs")
    if out.summary.status not in ("optimal", "time_limit"):
        out.fail("summary.json", 0, "status", f"unexpected status {out.summary.status!r}")


CHECKS: tuple[Callable[[Outputs, Instance], None], ...] = (
    check_plan, check_allocation, check_distribution, check_coverage, check_summary,
    check_matching)


def verify(folder: Path, instance: Instance) -> list[Problem]:
    """Every failed check of the results in `folder` against `instance` (empty: all pass)."""
    problems: list[Problem] = []
    out = Outputs(folder, problems)
    if not problems:
        for check in CHECKS:
            check(out, instance)
    return problems


def verify_or_raise(folder: Path, instance: Instance) -> None:
    problems = verify(folder, instance)
    if problems:
        lines = "\n".join(str(p) for p in problems[:50])
        raise PlanError(f"the verifier rejected the plan ({len(problems)} failed checks):\n"
                        f"{lines}")
