"""The verifier's matching checks (rules section 7), from the raw candidates.csv.

Independent of `planner.inputs.candidates` and `planner.optimise.eligibility`: it re-reads
candidates.csv with
pandas and re-derives every person's case, blocks and profile from the cells. The checks are
column-wise (one join of the written rows with the candidates by person id, cases as numbers,
numpy masks and counts per check): at 300,000 persons a lookup per person took longer than the
matching itself, and pandas' joins and group-bys on text most of the rest.

Beneficiaries of protection (Art. 56(2)(a)(ii)): their `protection_granted` cells are re-read
and checked against instance.toml's `pool.adopted` and `relocation` here, by whole years
counted from the grant (`_years_passed`), and each placed beneficiary's case against the
bilateral agreements.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from models.instance import Instance, Measure, Pledge
from planner.verifier.matchability import (
    Group,
    Place,
    check_matchability,
    groups_of,
    law_gains,
    max_flow,
    places_of,
)
from planner.verifier.replan import paced_view
from planner.verifier.rules import arcs, effective_needs
from planner.verifier.summary import check_fields

if TYPE_CHECKING:  # verify imports this module: the annotation only
    from models.results import Matching, Summary
    from planner.verifier.verify import Outputs

TRUE = {"true", "1", "yes", "y", "t"}
OPTIONAL = ("status", "consent", "security_cleared", "nationality", "vulnerable",
            "unaccompanied_minor", "languages", "family_links", "other_links", "preferences",
            "registered", "protection_granted")  # candidates.csv columns that may be left out
WISHES = ("family_links", "other_links", "languages", "preferences")


def _text(values: np.ndarray, upper: bool = False) -> np.ndarray:
    """The cells stripped (and upper-cased); a cell that is not text is kept as it is. The
    str methods mapped in C: a Python call per cell cost more than the file's parsing."""
    try:
        cells = list(map(str.strip, values))
        return np.array(list(map(str.upper, cells)) if upper else cells, dtype=object)
    except TypeError:  # a cell that is not text: none from read_csv(keep_default_na=False)
        return np.array([(v.strip().upper() if upper else v.strip()) if isinstance(v, str)
                         else v for v in values], dtype=object)


def _flags(values: np.ndarray, default: bool) -> np.ndarray:
    """The flag of each cell (stripped), computed once per distinct cell."""
    texts = {cell: cell.strip().lower() if isinstance(cell, str) else "" for cell in set(values)}
    table = {cell: text in TRUE if text else default for cell, text in texts.items()}
    return np.fromiter(map(table.__getitem__, values), dtype=bool, count=len(values))


@dataclass(frozen=True)
class People:
    """The candidates, a column per attribute (row n: the n-th row of candidates.csv with a
    non-blank cell), each row's case as a number (`case_code`, -1 for none) into `cases` so
    that the checks group and look up by integers rather than by text, and the raw cells of
    the profile's columns (`own` derives them once, for every row)."""

    person_id: np.ndarray
    case_id: np.ndarray
    location: np.ndarray
    blocked_security: np.ndarray  # per case number, and a last entry for no case (code -1)
    blocked_consent: np.ndarray
    # Per case number (and a last entry for no case): "" or the first of the protection
    # reasons that applies to one of its beneficiaries (PROTECTION order).
    protection: np.ndarray
    case_code: np.ndarray
    cases: np.ndarray
    row_of: dict[object, int]  # person id -> its (last) row
    raw: dict[str, np.ndarray]  # the profile's columns, as read

    @property
    def unique(self) -> bool:
        return len(self.row_of) == len(self.person_id)

    @functools.cached_property
    def own(self) -> dict[str, np.ndarray]:
        """Nationality (upper case), status ("applicant" where blank), vulnerable and
        unaccompanied minor (each its own column, as the contract defines them) of every row,
        worked out once (the cases, the scores, the profiles and the blocks all use them; each
        is a function of its cell alone)."""
        return {"nationality": _text(self.raw["nationality"], upper=True),
                "status": _status(self.raw["status"]),
                "minor": _flags(self.raw["unaccompanied_minor"], False),
                "vuln": _flags(self.raw["vulnerable"], False)}

    def profile(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """`own` of the persons at `rows`."""
        return {name: column[rows] for name, column in self.own.items()}


def _status(cells: np.ndarray) -> np.ndarray:
    status = _text(cells)
    status[status == ""] = "applicant"
    return status


def read_people(instance: Instance) -> People:
    path = Path(instance.origin.folder) / "candidates.csv"
    with path.open(encoding="utf-8-sig") as handle:
        header = handle.readline()
    sep = ";" if ";" in header and "," not in header else ","
    # Plain Python strings (object), not pandas' Arrow strings: `isin` on Arrow strings went
    # through Python per value and took 13 s of the checks at 300,000 persons.
    raw = pd.read_csv(path, dtype=object, keep_default_na=False, encoding="utf-8-sig", sep=sep)
    names = [c.strip() for c in raw.columns]
    # Rows with a non-blank cell (column by column: no 2-D copy of the whole file); when the
    # first column has no blank cell, that is every row.
    kept = raw.iloc[:, 0].to_numpy() != ""
    if not kept.all():
        kept = np.logical_or.reduce([raw.iloc[:, n].to_numpy() != ""
                                     for n in range(raw.shape[1])])
    count = int(kept.sum())

    def cells(column: str) -> np.ndarray:
        """The column's cells of the kept rows ("" where the column is absent)."""
        if column not in names and column in OPTIONAL:
            return np.full(count, "", dtype=object)
        values = raw.iloc[:, names.index(column)].to_numpy()
        return values if count == len(values) else values[kept]

    person_id, case_id = _text(cells("person_id")), _text(cells("case_id"))
    codes, cases = pd.factorize(case_id)  # a missing case (NaN) is -1, as groupby drops it
    codes = codes.astype(np.int64)

    def per_case(mask: np.ndarray) -> np.ndarray:
        """Whether a row of `mask` has the case, per case number; the last entry for the rows
        without a case (code -1 picks it)."""
        found = np.zeros(len(cases) + 1, dtype=bool)
        found[codes[mask]] = True
        return found

    beneficiary = _status(cells("status")) == "beneficiary"
    reasons = _protection(_text(cells("protection_granted")), instance)
    protection = np.full(len(cases) + 1, "", dtype=object)
    for reason in reversed(PROTECTION):  # the first reason in PROTECTION order wins
        protection[per_case(beneficiary & (reasons == reason))] = reason
    return People(person_id=person_id, case_id=case_id, location=_text(cells("location")),
                  blocked_security=per_case(~_flags(cells("security_cleared"), True)),
                  blocked_consent=per_case(beneficiary & ~_flags(cells("consent"), False)),
                  protection=protection,
                  case_code=codes, cases=np.asarray(cases, dtype=object),
                  row_of=dict(zip(person_id.tolist(), range(len(person_id)), strict=True)),
                  raw={c: cells(c) for c in ("nationality", "status", "vulnerable",
                                             "unaccompanied_minor", "registered", *WISHES)})


PROTECTION = ("protection_date_missing", "protection_expired", "protection_after_adoption")
BLOCKS = ("security", "consent", *PROTECTION)


def _years_passed(granted: dt.date, day: dt.date) -> int:
    """Whole years from `granted` to `day`: a year is complete on the same calendar date (28
    February for 29 February in a common year)."""
    years = day.year - granted.year
    try:
        anniversary = granted.replace(year=day.year)
    except ValueError:  # 29 February, a common year
        anniversary = dt.date(day.year, 2, 28)
    return years - (day < anniversary)


def _expired(granted: dt.date, adopted: dt.date, years: int) -> bool:
    """Whether `years` whole years from the grant had run out before the adoption day: the
    period ends with the last hour of its anniversary (Reg. 1182/71 Art. 3(2)(c)), so it has
    run out when the full years are complete by the day before the adoption."""
    return _years_passed(granted, adopted - dt.timedelta(days=1)) >= years


def agreed_pairs(instance: Instance) -> frozenset[tuple[str, str]]:
    """(receiving state, benefitting state) pairs of instance.toml's bilateral agreements
    (Art. 56(2)(a)(ii)), read here apart from the planner's planner.inputs.protection."""
    return frozenset((p[:2], p[3:]) for p in instance.config.relocation.bilateral_agreements)


def _protection(cells: np.ndarray, instance: Instance) -> np.ndarray:
    """Per row, the protection reason its date gives a beneficiary ("" none): no date, N
    years or more passed by pool.adopted (relocation.protection_max_years), or granted after
    it when relocation.protection_after_adoption is false. Without pool.adopted only a
    missing date counts. Each distinct cell worked out once."""
    adopted = instance.config.pool.adopted
    rules = instance.config.relocation

    def reason(cell: str) -> str:
        if cell == "":
            return "protection_date_missing"
        granted = dt.date.fromisoformat(cell)
        if adopted is None:
            return ""
        if granted <= adopted and _expired(granted, adopted, rules.protection_max_years):
            return "protection_expired"
        if granted > adopted and not rules.protection_after_adoption:
            return "protection_after_adoption"
        return ""

    table = {cell: reason(cell) for cell in set(cells.tolist())}
    return np.array([table[c] for c in cells.tolist()], dtype=object)


def check_matching(out: Outputs, instance: Instance) -> None:
    """Every person in exactly one table; each placed person's case, pledge row, transfer,
    blocks, rejections and profile; transfers kept; places respected; families whole; the
    reasons of the unplaced; the summary's counts. Failures come in the order a reader checks
    them: persons, then assignments.csv line by line, then the per-case and per-row totals."""
    if instance.cases is None:
        return
    # A paced re-plan (issue 15): the places the matching used (planner.verifier.replan).
    out = paced_view(out, instance)
    people = read_people(instance)
    # A person listed twice counts once, at the last line (as a mapping by person would).
    assigned = _frame(out.assignments, ("person_id", "case_id", "from_state", "to_state",
                                        "pledge_id", "score", "reasons"))
    left = _frame(out.unassigned, ("person_id", "case_id", "location", "reason"))
    ctx = _Context(out, instance, people, case_table(people, instance), agreed_pairs(instance))
    # Each listed person who is a candidate (position in the table, row in `people`).
    joined_assigned = _join(assigned["person_id"], people)
    joined_left = _join(left["person_id"], people)
    _check_listed(ctx, (assigned["person_id"], *joined_assigned),
                  (left["person_id"], *joined_left))
    placed = _Placed(ctx, assigned, joined_assigned)
    quality, targets, used = _check_placed(placed)
    _check_transfers_kept(ctx, targets)
    used_by = _check_places(ctx, placed, used)
    # Persons placed per case, counted by the case_id assignments.csv gives them.
    codes = np.fromiter(map(ctx.cases.case_at.get, assigned["case_id"], repeat(-1)),
                        dtype=np.int64, count=len(assigned["case_id"]))
    per_case, split = _check_splits(ctx, codes, targets)
    places, groups = _check_unplaced(ctx, left, joined_left, used_by)
    for _, name, line, column, text in sorted(ctx.failures, key=lambda f: f[0]):
        out.fail(name, line, column, text)
    # Distinct cases placed: those of candidates' cases, and any others named.
    cases_assigned = int((per_case > 0).sum()) \
        + len(set(assigned["case_id"][codes < 0].tolist()))
    bound = max_flow(groups, places)
    if out.summary is not None:
        check_fields(out.fail, out.summary.matching, {
            "persons_assigned": len(assigned["line"]), "cases_assigned": cases_assigned,
            "persons_total": len(assigned["line"]) + len(left["line"]),
            "family_splits": int(split.sum())}, "matching", "the tables say")
        _check_bound(ctx, places, groups, bound, out.summary.matching.bottlenecks)
        _check_matching_summary(ctx, out.summary, left, places, bound, assigned, codes,
                                quality)


_Order = tuple[int, int, int]


@dataclass
class _Context:
    """What the matching checks share: the outputs, the inputs, the candidates and their
    cases, and the failures so far, each with its place in the reading order (`_Order`:
    persons, then assignments.csv line by line, then the totals)."""

    out: Outputs
    instance: Instance
    people: People
    cases: Cases
    agreed: frozenset[tuple[str, str]]
    failures: list[tuple[_Order, str, int, str, str]] = field(default_factory=list)

    def fail(self, order: _Order, name: str, line: int, column: str, text: str) -> None:
        self.failures.append((order, name, line, column, text))


def _check_listed(ctx: _Context, *tables: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """Every candidate in exactly one of assignments.csv and unassigned.csv, and no person in
    either who is not a candidate (`tables`: each one's person ids, and its positions `at`
    that are candidates, at their rows `found`)."""
    listed, strangers = [], set()
    for ids, at, found in tables:
        listed.append(np.zeros(len(ctx.people.person_id), dtype=bool))
        listed[-1][found] = True
        stranger = np.ones(len(ids), dtype=bool)
        stranger[at] = False
        strangers |= set(ids[stranger].tolist())
    for both in listed[0][listed[0] == listed[1]]:
        ctx.fail((0, 0, 0), "assignments.csv", 0, "person_id",
                 f"a candidate is {'in both tables' if both else 'in neither'}")
    for _ in range(len(strangers)):
        ctx.fail((1, 0, 0), "assignments.csv", 0, "person_id", "a person not in candidates.csv")


class _Placed:
    """The placed persons who are candidates, a column per attribute (assignments.csv's and
    their candidate's row `found`, case number `code`, pledge row, receiving and benefitting
    state as numbers). Each check reports its failing rows by line (`each`); some narrow the
    rows the later checks see (`keep`)."""

    def __init__(self, ctx: _Context, assigned: dict[str, np.ndarray],
                 joined: tuple[np.ndarray, np.ndarray]) -> None:
        self.ctx = ctx
        at, found = joined
        # `at` is every position when each listed person is a candidate, once.
        everyone = ctx.people.unique and len(at) == len(assigned["line"])
        rows = {c: v if everyone else v[at] for c, v in assigned.items()}
        rows["found"], rows["code"] = found, ctx.people.case_code[found]
        rows["pledge"], self.pledge_ids = pd.factorize(rows["pledge_id"])  # grouped below
        rows["to"] = pd.factorize(rows["to_state"])[0]
        rows["from"], self.from_states = pd.factorize(rows["from_state"])
        self.rows = rows

    def each(self, mask: np.ndarray, check: int, column: str, text: str) -> None:
        for line in self.rows["line"][mask].tolist():
            self.ctx.fail((2, line, check), "assignments.csv", line, column, text)

    def keep(self, mask: np.ndarray) -> None:
        if not mask.all():
            for column, values in self.rows.items():
                self.rows[column] = values[mask]


def _check_placed(placed: _Placed) -> tuple[float, np.ndarray, np.ndarray]:
    """assignments.csv row by row: case and location as in candidates.csv, score and reasons,
    a relocation row of to_state, transferred cases where they were moved, no blocked,
    unprotected, unagreed or rejected case, the pledge row's profile. The placement quality
    (the sum of the expected scores), the distinct (to_state, pledge row) pairs per case
    number, and the persons per (pledge row, location) number."""
    ctx, rows = placed.ctx, placed.rows
    people = ctx.people
    found = rows["found"]
    placed.each((rows["case_id"] != people.case_id[found])
                | (rows["from_state"] != people.location[found]), 0,
                "case_id", "case or location differs from input")
    quality = _check_scores(placed)
    targets = _targets(rows["code"], rows["to"] * len(placed.pledge_ids) + rows["pledge"],
                       len(people.cases))
    _check_relocation_rows(placed)
    rows = placed.rows
    used = np.bincount(rows["pledge"] * len(placed.from_states) + rows["from"],
                       minlength=len(placed.pledge_ids) * len(placed.from_states))
    _check_moved(placed)
    _check_blocks(placed)
    _check_profiles(placed)
    return quality, targets, used


def _check_scores(placed: _Placed) -> float:
    """Each placed person's score and reasons recomputed (the case's links, languages,
    preferences, transfer and the person's own vulnerable and unaccompanied_minor cells); the
    sum of the expected scores."""
    rows = placed.rows
    own = placed.ctx.people.profile(rows["found"])  # each placed person's own flags
    rows["own_vulnerable"], rows["own_minor"] = own["vuln"], own["minor"]
    for check, (mask, column, text) in enumerate(_score_failures(rows, placed.ctx.cases,
                                                                 placed.ctx.instance)):
        placed.each(mask, 10 + check, column, text)
    return float(rows.pop("expected_score").sum())


def _check_relocation_rows(placed: _Placed) -> None:
    """The pledge row a relocation row of to_state; the rows that are not are left out of
    the later checks."""
    rows = placed.rows
    state_of = {p: pledge.state for p, pledge in placed.ctx.instance.pledges_by_id.items()
                if pledge.measure is Measure.relocation}
    good = np.array([state_of.get(p) for p in placed.pledge_ids], dtype=object)[rows["pledge"]] \
        == rows["to_state"]
    placed.each(~good, 1, "pledge_id", "not a relocation row of to_state")
    placed.keep(good)


def _check_moved(placed: _Placed) -> None:
    """A transferred case placed only where it was transferred; its rows are left out of the
    later checks (a transfer overrides blocks, rejections and profiles)."""
    rows, transfer = placed.rows, placed.ctx.cases.transfer
    moved = np.full(len(placed.ctx.people.cases) + 1, None, dtype=object)  # per case number
    moved[list(transfer)] = list(transfer.values())
    is_moved = (moved != None)[rows["code"]]  # noqa: E711 - elementwise
    placed.each(is_moved & (moved[rows["code"]] != rows["to_state"]), 2, "to_state",
                "a transferred case was moved")
    placed.keep(~is_moved)


def _check_blocks(placed: _Placed) -> None:
    """No case placed that the inputs block: security or consent, a beneficiary's protection
    out of date (Art. 56(2)(a)(ii)), a beneficiary's case without a bilateral agreement
    between the receiving and benefitting states, a case the receiving state rejected."""
    ctx, rows = placed.ctx, placed.rows
    people, instance = ctx.people, ctx.instance
    blocked = people.blocked_security | people.blocked_consent
    protected = people.protection != ""
    placed.each(blocked[rows["code"]], 3, "person_id",
                "a blocked case (security or consent) was placed")
    placed.each(protected[rows["code"]] & ~blocked[rows["code"]], 3, "person_id",
                "a beneficiary's case was placed although protection was not granted less "
                f"than {instance.config.relocation.protection_max_years} years before the "
                "Council act's adoption (or its date is missing): Art. 56(2)(a)(ii)")
    with_beneficiary = np.zeros(len(people.cases) + 1, dtype=bool)
    with_beneficiary[people.case_code[people.own["status"] == "beneficiary"]] = True
    # Whether (to_state, from_state) agreed, per distinct pair (a few hundred) not per row.
    to, to_names = pd.factorize(rows["to_state"])
    origin, from_names = pd.factorize(rows["from_state"])
    pairs = np.array([[(t, f) in ctx.agreed for f in from_names.tolist()]
                      for t in to_names.tolist()], dtype=bool).reshape(len(to_names),
                                                                       len(from_names))
    agreed = pairs[to, origin]
    placed.each(with_beneficiary[rows["code"]] & ~agreed, 4, "to_state",
                "a beneficiary's case placed where the receiving and benefitting states have "
                "no bilateral agreement: Art. 56(2)(a)(ii)")
    rejected = set(instance.rejections)
    if rejected:  # (none: no row is rejected)
        placed.each(np.fromiter(map(rejected.__contains__,
                                    zip(people.case_id[rows["found"]], rows["to_state"],
                                        strict=True)), dtype=bool, count=len(rows["line"])),
                    4, "to_state", "the receiving state rejected this case")


def _check_profiles(placed: _Placed) -> None:
    """Each placed person within its pledge row's profile (rules section 7.5): nationality,
    status, case size, vulnerable persons, unaccompanied minors."""
    rows = placed.rows
    pledges = placed.ctx.instance.pledges_by_id
    profile = placed.ctx.people.profile(rows["found"])
    # A person without a case has no size: NaN, which no maximum rejects.
    profile["size"] = np.append(placed.ctx.cases.size.astype(float), np.nan)[rows["code"]]
    # Each pledge row's persons by its number (`pledge`, one per pledge id), and each
    # criterion worked out for those persons only.
    numbers = np.unique(rows["pledge"]).tolist()
    for number, pledge_id in sorted(zip(numbers, placed.pledge_ids[numbers].tolist(),
                                        strict=True), key=lambda pair: pair[1]):
        mine = np.flatnonzero(rows["pledge"] == number)
        own = {column: values[mine] for column, values in profile.items()}
        for n, (mask, text) in enumerate(_profile_failures(own, pledges[pledge_id])):
            failing = np.zeros(len(rows["line"]), dtype=bool)
            failing[mine[mask]] = True
            placed.each(failing, 5 + n, "pledge_id", text)


def _check_transfers_kept(ctx: _Context, targets: np.ndarray) -> None:
    """Every transferred case placed (rules section 7: transfers are kept)."""
    case_at = ctx.cases.case_at
    for case in sorted({c for c, _ in ctx.instance.transfers}):
        if case not in case_at or targets[case_at[case]] == 0:
            ctx.fail((3, 0, 0), "assignments.csv", 0, "case_id",
                     f"transferred case {case} is not kept")


def _check_places(ctx: _Context, placed: _Placed, used: np.ndarray
                  ) -> dict[tuple[str, str], int]:
    """Rules 7.4: the persons a pledge row takes from a location within its places there
    (distribution.csv), and from every location together within its amount (plan.csv: the
    joint split decides a row's states with the matching). The persons per (pledge row,
    location)."""
    places: dict[tuple[str, str], float] = {}
    for _, row in ctx.out.distribution:
        if row.measure is Measure.relocation:
            places[(row.pledge_id, row.beneficiary)] = row.amount
    width = len(placed.from_states)
    used_by = {(placed.pledge_ids[k // width], placed.from_states[k % width]): int(used[k])
               for k in np.flatnonzero(used).tolist()}
    for (pledge_id, location), persons in sorted(used_by.items()):
        have = places.get((pledge_id, location), 0)
        if persons > have + 1e-9:
            ctx.fail((4, 0, 0), "assignments.csv", 0, "pledge_id", f"{pledge_id} takes "
                     f"{persons} persons from {location}, it has {have:g} places there")
    planned = {row.pledge_id: row.amount for _, row in ctx.out.plan}
    per_row: dict[str, int] = defaultdict(int)
    for (pledge_id, _), persons in used_by.items():
        per_row[pledge_id] += persons
    for pledge_id, persons in sorted(per_row.items()):
        if persons > planned.get(pledge_id, 0.0) + 1e-9:
            ctx.fail((4, 0, 1), "assignments.csv", 0, "pledge_id", f"{pledge_id} takes "
                     f"{persons} persons in all, plan.csv gives it "
                     f"{planned.get(pledge_id, 0.0):g}")
    return used_by


def _check_splits(ctx: _Context, codes: np.ndarray, targets: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Families whole (rules section 7.3): a case placed with one (to_state, pledge row) and
    all of its persons (`codes`: each assignments.csv row's case number). Per case number,
    its persons placed and whether it is split."""
    placed = np.bincount(codes[codes >= 0], minlength=len(ctx.people.cases))
    split = (targets > 1) | ((targets > 0) & (placed != ctx.cases.size))
    for case in sorted(ctx.people.cases[split].tolist()):
        ctx.fail((5, 0, 0), "assignments.csv", 0, "case_id", f"case {case} is split")
    return placed, split


def _check_unplaced(ctx: _Context, left: dict[str, np.ndarray],
                    joined_left: tuple[np.ndarray, np.ndarray],
                    used_by: dict[tuple[str, str], int]) -> tuple[list[Place], list[Group]]:
    """unassigned.csv row by row: the blocking reasons exactly where the inputs block the
    case, case and location as in candidates.csv, no_eligible_place (or
    no_bilateral_agreement) exactly when no place may take the case, else capacity, and no
    capacity case that fits in free places. The places and the groups of placeable cases."""
    people = ctx.people
    _check_reasons(ctx, left, *joined_left)
    at_left, found_left = joined_left
    for line in left["line"][at_left][(left["case_id"][at_left] != people.case_id[found_left])
                                      | (left["location"][at_left]
                                         != people.location[found_left])].tolist():
        ctx.fail((6, line, 1), "unassigned.csv", line, "case_id", "case or location differs "
                 "from input")
    places = places_of(ctx.instance, [(r.pledge_id, r.beneficiary, r.measure, r.amount)
                                      for _, r in ctx.out.distribution])
    groups = groups_of(places, ctx.cases, ctx.agreed)
    _check_capacity(ctx, left, at_left, found_left, groups, places, used_by)
    return places, groups


def _check_bound(ctx: _Context, places: list[Place], groups: list[Group], bound: int,
                 bottlenecks: list[str]) -> None:
    """matchability.csv (planner.verifier.matchability) against the recomputed bound and
    summary.json's `bottlenecks`; with beneficiaries among the candidates, the gains of the
    rules on them (Art. 56(2)(a)(ii))."""
    cases, people = ctx.cases, ctx.people
    law = None
    if (people.own["status"] == "beneficiary").any():
        period_groups = groups_of(places, cases, ctx.agreed,
                                  cases.placeable | cases.period_blocked)
        law = law_gains(groups, period_groups, places, bound)
    check_matchability(ctx.out.fail, ctx.out.matchability, groups, places,
                       sum(g.persons for g in groups), bound, bottlenecks, law, ctx.agreed)


def _frame(table: dict[str, np.ndarray], columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The table's `line` and `columns`, one row per person (the last line that names it), in
    line order (the table's)."""
    ids = table["person_id"].tolist()
    if len(set(ids)) == len(ids):  # each person once: the table as it is
        return {c: table[c] for c in ("line", *columns)}
    last = dict(zip(ids, range(len(ids)), strict=True))
    at = np.sort(np.fromiter(last.values(), dtype=np.int64, count=len(last)))
    return {c: table[c][at] for c in ("line", *columns)}


def _join(ids: np.ndarray, people: People) -> tuple[np.ndarray, np.ndarray]:
    """The rows (positions) of a table whose person is a candidate, in the table's order, and
    each one's row in `people`: `frame.join(people, on="person_id", how="inner")`, a row per
    match when candidates.csv repeats a person id."""
    if people.unique:
        found = np.fromiter(map(people.row_of.get, ids, repeat(-1)), dtype=np.int64,
                            count=len(ids))
        at = np.flatnonzero(found >= 0)
        return at, found[at]
    every: dict[object, list[int]] = {}
    for n, person in enumerate(people.person_id.tolist()):
        every.setdefault(person, []).append(n)
    pairs = [(i, n) for i, person in enumerate(ids.tolist()) for n in every.get(person, ())]
    return (np.array([i for i, _ in pairs], dtype=np.int64),
            np.array([n for _, n in pairs], dtype=np.int64))


def _targets(codes: np.ndarray, pairs: np.ndarray, n_cases: int) -> np.ndarray:
    """Per case number, how many distinct (to_state, pledge_id) pairs (numbered) the placed
    rows give it (a row without a case counts for none)."""
    has = codes >= 0
    width = int(pairs.max(initial=0)) + 1
    keys = np.unique(codes[has] * width + pairs[has])
    return np.bincount(keys // width, minlength=n_cases)


def _profile_failures(rows: dict[str, np.ndarray], pledge: Pledge
                      ) -> list[tuple[np.ndarray, str]]:
    """A mask per profile criterion the row sets (rules section 7.5): the persons outside it."""
    never = np.zeros(len(rows["size"]), dtype=bool)

    def outside(column: str, allowed: tuple[str, ...]) -> np.ndarray:
        return ~np.fromiter(map(set(allowed).__contains__, rows[column]), bool, len(never))

    return [
        (outside("nationality", pledge.nationalities) if pledge.nationalities else never,
         "nationality outside the row's profile"),
        (outside("status", pledge.statuses) if pledge.statuses else never,
         "status outside the row's profile"),
        (rows["size"] > pledge.max_case_size if pledge.max_case_size is not None else never,
         "case larger than the row accepts"),
        (rows["vuln"] if not pledge.vulnerable else never,
         "the row accepts no vulnerable persons"),
        (rows["minor"] if not pledge.unaccompanied_minors else never,
         "the row accepts no unaccompanied minors"),
    ]


def _check_reasons(ctx: _Context, left: dict[str, np.ndarray], at: np.ndarray,
                   found: np.ndarray) -> None:
    """Security, consent and protection reasons exactly where the inputs block the case
    (in that order; Art. 56(2)(a)(ii) for protection)."""
    people = ctx.people
    codes = people.case_code[found]
    expected = np.where(people.blocked_security[codes], "security",
                        np.where(people.blocked_consent[codes], "consent",
                                 people.protection[codes]))
    reason = left["reason"][at]
    wrong = np.where(expected != "", reason != expected, np.isin(reason, BLOCKS))
    for line, want, got in zip(left["line"][at][wrong].tolist(), expected[wrong],
                               reason[wrong], strict=True):
        ctx.fail((6, line, 0), "unassigned.csv", line, "reason",
                 f"should be {want}" if want else f"{got} without cause")


# --- cases, scores, reasons and the matching's stages -------------------------------------


@dataclass
class Cases:
    """Per case number: its location (its first row's), profile (statuses, nationalities, any
    vulnerable person, any unaccompanied minor), vulnerable persons, unaccompanied minors,
    waiting bands,
    wishes (the raw cells of its rows, by person id), whether it can be placed at all (not
    blocked, or transferred), the states that refused it and the state it was transferred to."""

    location: list[str]
    size: np.ndarray  # persons
    profile: list[tuple[frozenset[str], frozenset[str], bool, bool]]
    vulnerable: np.ndarray
    minors: np.ndarray
    bands: np.ndarray
    wish: np.ndarray  # per case: a number for its wishes' cells (`wishes[n]`)
    wishes: list[tuple[tuple[str, ...], ...]]  # the cells of each distinct wishes, by row
    placeable: np.ndarray
    refused: dict[int, frozenset[str]]
    transfer: dict[int, str]
    case_at: dict[object, int]  # case id -> its number
    # Blocked only by the rule on the date of protection (placeable without it).
    period_blocked: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    partitions: dict[bytes, list[tuple[int, list[int]]]] = field(default_factory=dict)

    def partition(self, placeable: np.ndarray) -> list[tuple[int, list[int]]]:
        """The cases of `placeable` (a mask per case number) grouped by `alike`: each group's
        first case and its cases in increasing order, the groups in the order of their first
        case. Once per mask (the unplaced and the joint split's checks ask for the same)."""
        key = placeable.tobytes()
        if key not in self.partitions:
            chosen = np.flatnonzero(placeable)
            order = np.argsort(self.alike[chosen], kind="stable")  # cases ascending in each
            members, kinds = chosen[order], self.alike[chosen][order]
            starts = np.flatnonzero(np.diff(kinds, prepend=-1) != 0) if len(kinds) \
                else np.zeros(0, dtype=np.int64)
            bounds = np.append(starts, len(members)).tolist()
            cases = members.tolist()
            self.partitions[key] = [(cases[bounds[g]], cases[bounds[g]:bounds[g + 1]])
                                    for g in np.argsort(members[starts]).tolist()]
        return self.partitions[key]

    @functools.cached_property
    def alike(self) -> np.ndarray:
        """Per case number, a number for what eligibility sees of it (location, size, the
        state it was transferred to, its profile unless transferred, the states that refused
        it): equal numbers for equal keys (planner.verifier.matchability.groups_of groups
        by it, three times per run)."""
        keys: dict[tuple[object, ...], int] = {}
        transfer, refused = self.transfer, self.refused
        return np.fromiter((keys.setdefault((location, size, transfer.get(case),
                                             profile if case not in transfer else None,
                                             refused.get(case)), len(keys))
                            for case, (location, size, profile) in enumerate(zip(
                                self.location, self.size.tolist(), self.profile,
                                strict=True))), dtype=np.int64, count=len(self.location))


def case_table(people: People, instance: Instance) -> Cases:
    n = len(people.cases)
    has = np.flatnonzero(people.case_code >= 0)
    codes = people.case_code[has]
    # Each case's rows by person id (the order in which the planner merges a family's wishes).
    order = np.lexsort((people.person_id[has], codes))
    rows, codes = has[order], codes[order]
    starts = np.searchsorted(codes, np.arange(n + 1))
    first = rows[starts[:-1]] if n else np.zeros(0, dtype=np.int64)
    derived = people.own
    status, nationality, minor, vuln = (derived[c] for c in ("status", "nationality", "minor",
                                                             "vuln"))
    kind, of_kind = _distinct([status, nationality, vuln, minor])
    merged: dict[frozenset[int], tuple[frozenset[str], frozenset[str], bool, bool]] = {}

    def profile(own: frozenset[int]) -> tuple[frozenset[str], frozenset[str], bool, bool]:
        found = merged.get(own)
        if found is None:
            parts = [of_kind[k] for k in own]
            found = merged[own] = (frozenset(p[0] for p in parts),  # type: ignore[misc]
                                   frozenset(p[1] for p in parts),  # type: ignore[misc]
                                   any(p[2] for p in parts), any(p[3] for p in parts))
        return found

    # Each distinct row of wishes' cells a number; a case's wishes are its row's number, or
    # for a family a number for its rows' numbers (person id order).
    wish_row, row_ids = _distinct([_text(people.raw[c]) for c in WISHES])
    wishes: list[tuple[tuple[str, ...], ...]] = [(w,) for w in row_ids]  # type: ignore[misc]
    size = np.diff(starts)
    single_profile = [profile(frozenset((k,))) for k in range(len(of_kind))]
    kind_first = kind[first].tolist()
    profiles = [single_profile[k] for k in kind_first]
    wish = wish_row[first].copy()
    families: dict[tuple[int, ...], int] = {}
    # Python lists in case order: a family's slice without numpy's per-call cost.
    kinds, wish_rows, bounds = kind[rows].tolist(), wish_row[rows].tolist(), starts.tolist()
    for case in np.flatnonzero(size > 1).tolist():
        begin, end = bounds[case], bounds[case + 1]
        profiles[case] = profile(frozenset(kinds[begin:end]))
        ids = tuple(wish_rows[begin:end])
        number = families.get(ids)
        if number is None:
            number = families[ids] = len(wishes)
            wishes.append(tuple(wishes[i][0] for i in ids))
        wish[case] = number
    vulnerable, minors = (np.bincount(people.case_code[has], weights=flags[has], minlength=n)
                          .astype(np.int64) for flags in (vuln, minor))
    bands = _waiting_bands(people, instance, rows, starts)
    case_at = dict(zip(people.cases.tolist(), range(n), strict=True))
    transfer = {case_at[c]: s for c, s in instance.transfers if c in case_at}
    refusals: dict[int, set[str]] = defaultdict(set)
    for c, s in instance.rejections:
        if c in case_at:
            refusals[case_at[c]].add(s)
    blocked = (people.blocked_security | people.blocked_consent)[:n]
    period = (people.protection != "")[:n]
    placeable = ~blocked & ~period
    placeable[list(transfer)] = True
    return Cases(location=people.location[first].tolist(), size=size, profile=profiles,
                 vulnerable=vulnerable, minors=minors, bands=bands, wish=wish, wishes=wishes,
                 placeable=placeable,
                 refused={c: frozenset(s) for c, s in refusals.items()}, transfer=transfer,
                 case_at=case_at,
                 period_blocked=~blocked & period & ~placeable)


def _distinct(columns: list[np.ndarray]) -> tuple[np.ndarray, list[tuple[object, ...]]]:
    """Each row's number for its cells across `columns` (equal cells, equal numbers; numbered
    in the order each first appears) and the distinct rows' cells in that order. Factorised
    column by column (a dictionary of 300,000 row tuples took 0.1 s per use); a column with
    a cell that is neither text nor a flag goes through the dictionary, as before."""
    if any(c.dtype == object and pd.api.types.infer_dtype(c, skipna=False)
           not in ("string", "empty") for c in columns):
        numbers: dict[tuple[object, ...], int] = {}
        number = np.fromiter((numbers.setdefault(k, len(numbers)) for k in zip(
            *(c.tolist() for c in columns), strict=True)), dtype=np.int64,
            count=len(columns[0]))
        return number, list(numbers)
    number = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(column)
        # (number, code) pairs as one integer (below rows x rows), renumbered by first sight.
        number = pd.factorize(number * len(uniques) + codes)[0].astype(np.int64)
    first = np.unique(number, return_index=True)[1]
    return number, list(zip(*(c[first].tolist() for c in columns), strict=True))


def _waiting_bands(people: People, instance: Instance, rows: np.ndarray, starts: np.ndarray
                   ) -> np.ndarray:
    """Whole bands of `waiting_band_days` each case waited, from its earliest `registered` to
    the day after the latest case's (1 January of the cycle when none is given)."""
    n = len(starts) - 1
    cells = _text(people.raw["registered"])
    # Each distinct date read once (a few hundred dates for 300,000 persons).
    codes, cells = pd.factorize(cells) \
        if pd.api.types.infer_dtype(cells, skipna=False) in ("string", "empty") \
        else (np.arange(len(cells)), cells)
    days = pd.to_datetime(pd.Series(cells), format="%Y-%m-%d", errors="coerce")
    number = (days - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype=float)[codes]
    earliest = np.full(n, np.inf)
    if n and len(rows):
        own = np.where(np.isnan(number[rows]), np.inf, number[rows])
        earliest = np.minimum.reduceat(own, starts[:-1])
    # The day after the latest case's registration (a case's: its earliest person's).
    known = np.isfinite(earliest)
    today = (float(earliest[known].max()) + 1 if known.any()
             else float((pd.Timestamp(instance.config.cycle, 1, 1)
                         - pd.Timestamp("1970-01-01")).days))
    band = instance.config.matching.waiting_band_days
    waited = np.where(np.isfinite(earliest), np.maximum(today - earliest, 0), 0)
    return (waited // band).astype(np.int64)


def _official_languages() -> dict[str, frozenset[str]]:
    from importlib import resources

    text = resources.files("planner").joinpath("data/official_languages.csv").read_text("utf-8")
    rows = csv.DictReader(io.StringIO(text))
    return {row["code"]: frozenset(row["languages"].split(";")) for row in rows}


class _Wishes:
    """Each distinct wishes' parsed sets (family links, other links, languages, preferences in
    order), each distinct cell parsed once."""

    def __init__(self, cells: list[tuple[tuple[str, ...], ...]]) -> None:
        self.cells = cells
        self.parsed: dict[int, tuple[frozenset[str], frozenset[str], frozenset[str],
                                     tuple[str, ...]]] = {}
        self.sets: list[dict[str, frozenset[str]]] = [{}, {}, {}]
        self.order: dict[str, tuple[str, ...]] = {}
        self.unions: dict[tuple[int, tuple[str, ...]], frozenset[str]] = {}

    def _set(self, column: int, cell: str) -> frozenset[str]:
        found = self.sets[column].get(cell)
        if found is None:
            codes = _codes(cell)
            found = self.sets[column][cell] = frozenset(
                c.lower() for c in codes) if column == 2 else frozenset(codes)
        return found

    def _union(self, column: int, cells: tuple[str, ...]) -> frozenset[str]:
        """A family's set in a column: the union of its persons' cells' sets, once per
        distinct cells (families share them: most cells are empty)."""
        found = self.unions.get((column, cells))
        if found is None:
            found = self.unions[(column, cells)] = frozenset().union(
                *(self._set(column, cell) for cell in cells))
        return found

    def _preferences(self, cell: str) -> tuple[str, ...]:
        found = self.order.get(cell)
        if found is None:
            found = self.order[cell] = tuple(dict.fromkeys(_codes(cell)))
        return found

    def __getitem__(self, n: int) -> tuple[frozenset[str], frozenset[str], frozenset[str],
                                           tuple[str, ...]]:
        found = self.parsed.get(n)
        if found is None:
            rows = self.cells[n]
            if len(rows) == 1:  # one person: its cells as they are
                w = rows[0]
                found = self.parsed[n] = (self._set(0, w[0]), self._set(1, w[1]),
                                          self._set(2, w[2]), self._preferences(w[3]))
                return found
            sets = [self._union(c, tuple(w[c] for w in rows)) for c in range(3)]
            found = self.parsed[n] = (sets[0], sets[1], sets[2], tuple(dict.fromkeys(
                c for w in rows for c in self._preferences(w[3]))))
        return found


def _codes(cell: str) -> list[str]:
    return [c.strip().upper() for c in cell.split(";") if c.strip()]


def _expected_score(wishes: tuple[frozenset[str], frozenset[str], frozenset[str],
                                  tuple[str, ...]], state: str, instance: Instance,
                    languages: dict[str, frozenset[str]]) -> tuple[float, tuple[str, ...]]:
    """Rules section 7 (Art. 67): the points per person of placing the case in `state`, and
    the reasons: family link, other link, a shared official language, a stated preference
    (the first fully, the second half, ...)."""
    family, other, spoken, preferences = wishes
    weights = instance.config.matching.quality
    score = 0.0
    reasons: list[str] = []
    if state in family:
        score, reasons = score + weights.family_link, [*reasons, "family_link"]
    if state in other:
        score, reasons = score + weights.other_link, [*reasons, "other_link"]
    if spoken & languages.get(state, frozenset()):
        score, reasons = score + weights.language, [*reasons, "language"]
    if state in preferences:
        score += weights.preference / (preferences.index(state) + 1)
        reasons.append("preference")
    return round(score, 9), tuple(reasons)


def _score_failures(rows: dict[str, np.ndarray], cases: Cases, instance: Instance
                    ) -> list[tuple[np.ndarray, str, str]]:
    """Each placed person's score and reasons as the rules give them for the case's state
    (`transfer` first for a transferred case; last, per person, `vulnerable` for a person
    whose own `vulnerable` cell is true and `unaccompanied_minor` for an unaccompanied minor).
    Worked out once per distinct (wishes, state, transfer, own flags): a placed row is then a
    number into those."""
    languages = _official_languages()
    parsed = _Wishes(cases.wishes)
    count = len(rows["line"])
    codes = rows["code"]
    ok = codes >= 0
    code = np.where(ok, codes, 0)
    states, names = pd.factorize(rows["to_state"])
    transferred = np.zeros(len(cases.location) + 1, dtype=np.int64)
    transferred[list(cases.transfer)] = 1
    flags = rows["own_vulnerable"].astype(np.int64) * 2 + rows["own_minor"].astype(np.int64)
    if not count or not len(cases.location):
        rows["expected_score"] = np.zeros(count)
        return []
    width = max(len(names), 1)
    key = ((cases.wish[code] * 2 + transferred[code]) * 4 + flags) * width + states
    distinct, inverse = np.unique(key, return_inverse=True)
    reason_ids: dict[tuple[str, ...], int] = {}
    scores, reasons = [], []
    for k in distinct.tolist():
        wish, state = divmod(k, width)
        wish, own = divmod(wish, 4)
        wish, moved = divmod(wish, 2)
        points, why = _expected_score(parsed[wish], names[state], instance, languages)
        scores.append(points)
        want = (*(("transfer",) if moved else ()), *why, *(("vulnerable",) if own >= 2 else ()),
                *(("unaccompanied_minor",) if own % 2 else ()))
        reasons.append(reason_ids.setdefault(want, len(reason_ids)))
    expected = np.array(scores, dtype=float)[inverse]
    written = np.fromiter((reason_ids.setdefault(tuple(r), len(reason_ids))
                           for r in rows["reasons"].tolist()), dtype=np.int64, count=count)
    score = rows["score"].astype(float)
    score_bad = ok & (np.abs(score - expected) > 1e-9 * np.maximum(1.0, np.abs(expected)))
    reasons_bad = ok & (written != np.array(reasons, dtype=np.int64)[inverse])
    rows["expected_score"] = np.where(ok, expected, 0.0)
    return [(score_bad, "score", "differs from the case's links, languages and preferences "
             "(Art. 67)"),
            # "vulnerability": the person's own `vulnerable` and `unaccompanied_minor` cells.
            (reasons_bad, "reasons", "differ from the case's links, languages, preferences, "
             "transfer and vulnerability")]


def _check_capacity(ctx: _Context, left: dict[str, np.ndarray], at: np.ndarray,
                    found: np.ndarray, groups: list[Group], places: list[Place],
                    used: dict[tuple[str, str], int]) -> None:
    """`no_eligible_place` exactly for the placeable cases no place of their location may
    take; a `capacity` case that fits in the free places of a place it may take: stage (i)
    (persons relocated) was not optimal. A case's first line only (its first line without a
    blocking reason). The answer is the case's group's (cases alike for eligibility), worked
    out once per group: a lookup per unplaced person took longer than the rest of the checks."""
    number = np.full(len(ctx.people.cases) + 1, -1, dtype=np.int64)  # per case number
    for n, group in enumerate(groups):
        number[group.cases] = n
    reasons, codes = left["reason"][at], ctx.people.case_code[found]
    rows = np.flatnonzero((number[codes] >= 0) & ~np.isin(reasons, BLOCKS))
    rows = np.sort(rows[np.unique(codes[rows], return_index=True)[1]])
    verdicts = [_verdict(group, places, used, ctx.out.proven) for group in groups]
    want = np.array([v[0] for v in verdicts] or [""], dtype=object)[number[codes[rows]]]
    fits = np.array([v[1] for v in verdicts] or [""], dtype=object)[number[codes[rows]]]
    got = reasons[rows]
    bad = np.where(want == "capacity", (got != "capacity") | (fits != ""), got != want)
    for line, n, reason in zip(left["line"][at][rows][bad].tolist(),
                               number[codes[rows][bad]].tolist(), got[bad].tolist(),
                               strict=True):
        wanted, fit = verdicts[n]
        if wanted != "capacity":
            text = (f"should be {wanted}: no place in {groups[n].location} may take the case"
                    + (" without a bilateral agreement" if wanted != "no_eligible_place"
                       else ""))
        else:
            text = "should be capacity: a place may take the case" if reason != "capacity" \
                else fit
        ctx.fail((6, line, 2), "unassigned.csv", line, "reason", text)


def _verdict(group: Group, places: list[Place], used: dict[tuple[str, str], int],
             proven: bool) -> tuple[str, str]:
    """The reason a group's unplaced (not blocked) cases must give, and for `capacity` what
    is wrong with it ("" nothing): a place the case fits in the free places of (only when
    every stage is proven optimal: else not the most persons, maybe)."""
    if not group.eligible(places, fit=False):
        # Art. 56(2)(a)(ii): a beneficiary's case that a place would take with an agreement.
        return ("no_bilateral_agreement" if group.eligible(places, fit=False, agreement=False)
                else "no_eligible_place"), ""
    if proven:
        for i in group.eligible(places):
            free = places[i].capacity - used.get((places[i].pledge.pledge_id,
                                                  places[i].location), 0)
            if free >= group.size:
                return "capacity", (f"the case fits in the {free} free places of "
                                    f"{places[i].key}: not the most persons relocated")
    return "capacity", ""


def joint_balance_states(out: Outputs, instance: Instance, cases: Cases) -> dict[str, float]:
    """The joint split's balance (issue 18): the benefitting states with a positive relocation
    need and a placeable case that some relocation row allowed to serve the state may take
    (profile, rejections, transfer, the row's whole amount as its capacity); their needs."""
    needs = effective_needs(instance)
    pledges = instance.pledges_by_id
    flows = [(row.pledge_id, b, Measure.relocation, row.amount) for _, row in out.plan
             if row.measure is Measure.relocation and row.pledge_id in pledges
             for b in arcs(pledges[row.pledge_id], instance.benefitting, needs)]
    offered = places_of(instance, flows)
    groups = groups_of(offered, cases, agreed_pairs(instance))
    return {g.location: needs[(g.location, Measure.relocation)] for g in groups
            if needs.get((g.location, Measure.relocation), 0.0) > 0 and g.eligible(offered)}


def _check_matching_summary(ctx: _Context, summary: Summary, left: dict[str, np.ndarray],
                            places: list[Place], bound: int, assigned: dict[str, np.ndarray],
                            codes: np.ndarray, quality: float) -> None:
    """summary.json's matching counts and stages from the tables: persons eligible, places,
    bound, unassigned by reason; persons relocated (at most the bound), the balance of persons
    relocated to places over benefitting states, vulnerable persons and waiting bands placed,
    and the placement quality (the sum of the expected scores)."""
    out, instance, cases = ctx.out, ctx.instance, ctx.cases
    m = summary.matching
    persons = len(assigned["line"])
    capacity: dict[str, int] = defaultdict(int)
    for place in places:
        capacity[place.location] += place.capacity
    _check_matching_counts(out, m, left, persons, capacity, bound)
    stages: dict[str, float] = {"persons": float(persons)}
    balance = _balance_stage(out, instance, assigned, cases, capacity)
    if balance is not None:
        stages["balance"] = balance
    placed_cases = np.unique(codes[codes >= 0])
    sizes = np.bincount(codes[codes >= 0], minlength=len(cases.location))
    terms = {"vulnerable": float(cases.vulnerable[placed_cases].sum()),
             "minors": float(cases.minors[placed_cases].sum()),
             "waiting": float((cases.bands[placed_cases] * sizes[placed_cases]).sum())}
    stages.update({term: terms[term] for term in instance.config.matching.priority})
    stages["quality"] = quality
    # The tie-break's value weighs the solver's columns by position (planner.optimise.matching
    # tie_weights): a model-internal number, not a property of the files, so only its name is
    # accepted. Its effect, one answer per input, is tested across back-ends instead.
    for name in set(m.stages) - set(stages) - {"tie_break"}:
        out.fail("summary.json", 0, f"matching.stages.{name}", "not a stage of the matching")
    for name, value in stages.items():
        got = m.stages.get(name)
        if got is None and (value == 0 or not places):
            continue  # a stage with nothing to weigh: the planner leaves it out
        if got is None or abs(got - value) > 1e-6 * max(1.0, abs(value)):
            out.fail("summary.json", 0, f"matching.stages.{name}", f"{got!r}, the files give "
                     f"{value:.9g}")


def _check_matching_counts(out: Outputs, m: Matching, left: dict[str, np.ndarray],
                           persons: int, capacity: dict[str, int], bound: int) -> None:
    """summary.json's persons eligible (placed or left for capacity), places, bound and
    unassigned by reason (`m`: its matching section) from the tables; persons placed at most
    the bound."""
    reasons = Counter(left["reason"].tolist())
    check_fields(out.fail, m, {"persons_eligible": persons + reasons.get("capacity", 0),
                               "places": sum(capacity.values()), "bound": bound,
                               "unassigned_by_reason": dict(sorted(reasons.items()))},
                 "matching", "the files give")
    if persons > bound:
        out.fail("summary.json", 0, "matching.persons_assigned", f"{persons} persons placed, "
                 f"more than the {bound} the places can take")


def _balance_stage(out: Outputs, instance: Instance, assigned: dict[str, np.ndarray],
                   cases: Cases, capacity: dict[str, int]) -> float | None:
    """The balance stage's value from assignments.csv (None: no such stage). Joint split: the
    persons relocated within each balanced state's share (in proportion to its relocation
    need, rounded down) of the balanced states' persons relocated; otherwise the smallest
    share of a location's places filled."""
    from_location = Counter(assigned["from_state"].tolist())
    if instance.config.matching.split == "joint":
        needs = joint_balance_states(out, instance, cases)
        if not needs:
            return None
        total = sum(from_location.get(b, 0) for b in needs)
        whole = sum(Fraction(n) for n in needs.values())
        return float(sum(min(from_location.get(b, 0), math.floor(total * Fraction(n) / whole))
                         for b, n in needs.items()))
    if capacity:
        return min(from_location.get(b, 0) / c for b, c in capacity.items() if c)
    return None
