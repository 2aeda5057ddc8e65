"""The verifier's matching checks (rules section 7), from the raw candidates.csv.

Independent of `planner.candidates` and `planner.eligibility`: it re-reads candidates.csv with
pandas and re-derives every person's case, blocks and profile from the cells.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from models.instance import Instance, Measure

TRUE = {"true", "1", "yes", "y", "t"}


def _flag(series: pd.Series, default: bool) -> pd.Series:
    text = series.fillna("").str.strip().str.lower()
    return text.isin(TRUE).where(text != "", default)


def candidates_frame(instance: Instance) -> pd.DataFrame:
    path = Path(instance.source) / "candidates.csv"
    with path.open(encoding="utf-8-sig") as handle:
        header = handle.readline()
    sep = ";" if ";" in header and "," not in header else ","
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", sep=sep)
    raw.columns = [c.strip() for c in raw.columns]
    raw = raw[(raw != "").any(axis=1)].copy()
    for column in ("status", "consent", "security_cleared", "nationality", "vulnerable",
                   "unaccompanied_minor"):
        if column not in raw.columns:
            raw[column] = ""
    raw = raw.apply(lambda col: col.str.strip())
    raw["status"] = raw["status"].where(raw["status"] != "", "applicant")
    raw["cleared"] = _flag(raw["security_cleared"], True)
    raw["consented"] = _flag(raw["consent"], False)
    raw["minor"] = _flag(raw["unaccompanied_minor"], False)
    raw["vuln"] = _flag(raw["vulnerable"], False) | raw["minor"]
    raw["nationality"] = raw["nationality"].str.upper()
    return raw.set_index("person_id")


def check_matching(out, instance: Instance) -> None:  # noqa: ANN001 - verify.Outputs
    if instance.cases is None:
        return
    people = candidates_frame(instance)
    assigned = {row.person_id: (line, row) for line, row in out.assignments}
    left = {row.person_id: (line, row) for line, row in out.unassigned}
    for pid in people.index:
        if (pid in assigned) == (pid in left):
            out.fail("assignments.csv", 0, "person_id",
                     f"a candidate is {'in both tables' if pid in assigned else 'in neither'}")
    for pid in set(assigned) | set(left):
        if pid not in people.index:
            out.fail("assignments.csv", 0, "person_id", "a person not in candidates.csv")
    case_size = people.groupby("case_id").size()
    blocked_security = set(people.loc[~people["cleared"], "case_id"])
    blocked_consent = set(people.loc[(people["status"] == "beneficiary")
                                     & ~people["consented"], "case_id"])
    transfers = {c: s for c, s, _ in instance.transfers}
    rejected = {(c, s) for c, s, _ in instance.rejections}
    pledges = instance.pledges_by_id
    places: dict[tuple[str, str], float] = {}
    for _, row in out.distribution:
        if row.measure is Measure.relocation:
            places[(row.pledge_id, row.beneficiary)] = row.amount
    used: dict[tuple[str, str], int] = {}
    targets: dict[str, set[tuple[str, str]]] = {}
    for pid, (line, row) in sorted(assigned.items(), key=lambda kv: kv[1][0]):
        if pid not in people.index:
            continue
        person = people.loc[pid]
        case = person["case_id"]
        if row.case_id != case or row.from_state != person["location"]:
            out.fail("assignments.csv", line, "case_id", "case or location differs from input")
        targets.setdefault(case, set()).add((row.to_state, row.pledge_id))
        pledge = pledges.get(row.pledge_id)
        if pledge is None or pledge.measure is not Measure.relocation or \
                pledge.state != row.to_state:
            out.fail("assignments.csv", line, "pledge_id", "not a relocation row of to_state")
            continue
        used[(row.pledge_id, row.from_state)] = used.get((row.pledge_id, row.from_state), 0) + 1
        if case in transfers:
            if transfers[case] != row.to_state:
                out.fail("assignments.csv", line, "to_state", "a transferred case was moved")
            continue
        if case in blocked_security or case in blocked_consent:
            out.fail("assignments.csv", line, "person_id", "a blocked case (security or "
                     "consent) was placed")
        if (case, row.to_state) in rejected:
            out.fail("assignments.csv", line, "to_state",
                     "the receiving state rejected this case")
        _check_profile(out, line, person, pledge, int(case_size[case]))
    for case in sorted(transfers):
        if case not in targets:
            out.fail("assignments.csv", 0, "case_id", f"transferred case {case} is not kept")
    for (pid_, location), persons in sorted(used.items()):
        if persons > places.get((pid_, location), 0) + 1e-9:
            out.fail("assignments.csv", 0, "pledge_id", f"{pid_} takes {persons} persons from "
                     f"{location}, it has {places.get((pid_, location), 0):g} places there")
    splits = 0
    placed = Counter(row.case_id for _, row in assigned.values())
    for case, where in sorted(targets.items()):
        if len(where) > 1 or placed[case] != case_size.get(case, 0):
            splits += 1
            out.fail("assignments.csv", 0, "case_id", f"case {case} is split")
    _check_reasons(out, left, people, blocked_security, blocked_consent)
    _check_counts(out, assigned, left, splits)


def _check_profile(out, line: int, person: pd.Series, pledge, size: int) -> None:  # noqa: ANN001
    if pledge.nationalities and person["nationality"] not in pledge.nationalities:
        out.fail("assignments.csv", line, "pledge_id", "nationality outside the row's profile")
    if pledge.statuses and person["status"] not in pledge.statuses:
        out.fail("assignments.csv", line, "pledge_id", "status outside the row's profile")
    if pledge.max_case_size is not None and size > pledge.max_case_size:
        out.fail("assignments.csv", line, "pledge_id", "case larger than the row accepts")
    if not pledge.vulnerable and person["vuln"]:
        out.fail("assignments.csv", line, "pledge_id", "the row accepts no vulnerable persons")
    if not pledge.unaccompanied_minors and person["minor"]:
        out.fail("assignments.csv", line, "pledge_id",
                 "the row accepts no unaccompanied minors")


def _check_reasons(out, left, people: pd.DataFrame, security: set, consent: set) -> None:  # noqa: ANN001
    for pid, (line, row) in left.items():
        if pid not in people.index:
            continue
        case = people.loc[pid, "case_id"]
        expected = "security" if case in security else "consent" if case in consent else None
        if expected and row.reason != expected:
            out.fail("unassigned.csv", line, "reason", f"should be {expected}")
        if not expected and row.reason in ("security", "consent"):
            out.fail("unassigned.csv", line, "reason", f"{row.reason} without cause")


def _check_counts(out, assigned: dict, left: dict, splits: int) -> None:  # noqa: ANN001
    if out.summary is None:
        return
    m = out.summary.matching
    cases = {row.case_id for _, row in assigned.values()}
    expected = {"persons_assigned": len(assigned), "cases_assigned": len(cases),
                "persons_total": len(assigned) + len(left), "family_splits": splits}
    for key, count in expected.items():
        if getattr(m, key) != count:
            out.fail("summary.json", 0, f"matching.{key}", f"{getattr(m, key)}, the tables "
                     f"say {count}")
