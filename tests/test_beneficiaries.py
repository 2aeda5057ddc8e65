"""Beneficiaries of international protection (Art. 56(2)(a)(ii), rules section 7.2; issue 14):
relocated only where the receiving and benefitting states agreed bilaterally, and only if
protection was granted less than 3 years before the Council act's adoption (`pool.adopted`).

Hand instance (as tests/test_matching.py's): AA, BB, CC contribute, DD and EE benefit; pledge
`a` gives AA 2 places from DD, `b` gives BB 5 places from DD. Every run goes through the
verifier (planner.pipeline.run), so each expected outcome is also one it accepts.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from conftest import pledge, state, write_csv

from planner.errors import InputError
from planner.inputs.candidates import build_cases, read_candidates
from planner.inputs.load import load_instance
from planner.inputs.protection import ProtectionRule, first_eligible
from planner.inputs.reader import Reader
from planner.inputs.synthetic import SyntheticSpec, generate
from planner.optimise.solve import SolverOptions
from planner.pipeline import RunResult, run
from planner.verifier.matching import _expired
from planner.verifier.verify import verify

pytestmark = pytest.mark.solver

STATES = [state("AA", 2_000_000, 20_000), state("BB"), state("CC"),
          state("DD", benefitting="true"), state("EE", benefitting="true")]
PLEDGES = [pledge("a", "AA", "relocation", 2, 2, beneficiary="DD"),
           pledge("b", "BB", "relocation", 5, 5, beneficiary="DD")]
ADOPTED = "2025-12-08"  # first grant date still eligible: 2022-12-08 (Reg. 1182/71)
COLUMNS = ["person_id", "case_id", "location", "status", "consent", "family_links",
           "registered", "protection_granted"]


def person(pid: str, status: str = "beneficiary", granted: str = "2024-01-01",
           registered: str = "2026-01-01", consent: str = "true", **extra: object
           ) -> dict[str, object]:
    """A one-person case `pid` in DD (a beneficiary with consent, granted in 2024 by
    default)."""
    return {"person_id": pid, "case_id": pid, "location": "DD", "status": status,
            "consent": consent if status == "beneficiary" else "",
            "registered": registered,
            "protection_granted": granted if status == "beneficiary" else "", **extra}


def toml(agreements: str = '["AA-DD"]', adopted: str | None = ADOPTED, more: str = "") -> str:
    """The text after `rounding` in [pool] (conftest.BASE_TOML's `extra`)."""
    return ((f"adopted = {adopted}\n" if adopted else "")
            + f"\n[relocation]\nbilateral_agreements = {agreements}\n{more}")


def folder_of(make_instance, candidates: list[dict[str, object]], extra: str,
              cycle: int = 2026) -> Path:
    folder = make_instance(STATES, PLEDGES, relocations=120, financial=2_400_000,
                           extra_toml=extra)
    if cycle != 2026:
        text = (folder / "instance.toml").read_text()
        (folder / "instance.toml").write_text(text.replace("cycle = 2026", f"cycle = {cycle}"))
    write_csv(folder / "candidates.csv", candidates, COLUMNS)
    return folder


def matched(make_instance, candidates: list[dict[str, object]], extra: str = "",
            cycle: int = 2026, out: str = "out") -> RunResult:
    folder = folder_of(make_instance, candidates, extra or toml(), cycle)
    return run(folder, folder.parent / out, SolverOptions())


def where(result: RunResult) -> dict[str, str]:
    """Case -> receiving state, or the reason it was not placed."""
    found = {r.case_id: r.to_state for r in result.tables.assignments}
    found.update({r.case_id: r.reason for r in result.tables.unassigned})
    return found


# The scenario of most tests: an agreement AA-DD only.
SCENARIO = [
    person("Y", registered="2025-01-01"),  # waits longest: first for AA's 2 places
    person("V", granted="2022-12-08", registered="2025-02-01"),  # the earliest eligible day
    person("X", family_links="BB"),  # its link to BB does not open BB (no agreement)
    person("Z", status="applicant"),
    person("W", granted="2022-12-07"),  # 3 years and a day before the adoption
    person("M", granted=""),  # no date
    person("N", granted="", consent="false"),  # no consent and no date: consent first
]


@pytest.fixture
def scenario(make_instance) -> RunResult:
    return matched(make_instance, SCENARIO)


def test_agreement_with_one_receiving_state_only(scenario):
    # Y, V and X may go to AA only (2 places): Y and V wait longer (12 and 11 bands of 30
    # days by 2026-01-02 against X's 0), X stays for capacity although BB has places and
    # X a family link there. Z, an applicant, is unaffected: BB. W: granted 3 years and a
    # day before the adoption (its 3 years ended the day before), so not "less than 3 years".
    assert where(scenario) == {"Y": "AA", "V": "AA", "X": "capacity", "Z": "BB",
                               "W": "protection_expired", "M": "protection_date_missing",
                               "N": "consent"}
    m = scenario.summary.matching
    assert m.unassigned_by_reason == {"capacity": 1, "consent": 1,
                                      "protection_date_missing": 1, "protection_expired": 1}
    # Bound: AA's 2 places (beneficiaries) + Z in BB = 3, all placed.
    assert (m.bound, m.persons_assigned, m.persons_eligible) == (3, 3, 4)


def test_matchability_sentence_and_law_costs(scenario):
    m = scenario.summary.matching
    # Placeable beneficiaries' cases in DD: Y, V, X (W, M and N are blocked).
    assert "DD: 3 persons of beneficiaries' cases, bilateral agreements with AA only (of 2 " \
        "receiving states)" in m.bottlenecks
    law = {r.criterion: (r.subject, r.value, r.text) for r in scenario.tables.matchability
           if r.kind == "law"}
    # Without the agreement rule: Y, V, X, Z fit AA's 2 + BB's 5 places: 4, one more than 3.
    # Without the date rule: W and M also placeable, but only in AA, full: 3, none more.
    # Without both: Y, V, X, Z, W, M: 6 of 7 places, 3 more.
    assert {k: v[1] for k, v in law.items()} == {
        "bilateral_agreement": 1, "protection_period": 0,
        "bilateral_agreement;protection_period": 3}
    assert {v[0] for v in law.values()} == {"Art. 56(2)(a)(ii)"}
    assert law["bilateral_agreement"][2] == ("law (Art. 56(2)(a)(ii)): 1 more person could be "
                                             "placed if beneficiaries of protection needed no "
                                             "bilateral agreement")
    # Reported apart from the profile restrictions (none here: the rows set no criterion).
    assert not [r for r in scenario.tables.matchability if r.kind == "restriction"]


def test_no_agreement_at_all(make_instance):
    result = matched(make_instance, [person("Y"), person("X"), person("Z", status="applicant"),
                                     person("W", granted="2020-05-05")],
                     toml(agreements="[]"))
    # Default none: a beneficiary may go nowhere; the 3-year rule still names W's reason.
    assert where(result) == {"Y": "no_bilateral_agreement", "X": "no_bilateral_agreement",
                             "Z": "AA", "W": "protection_expired"} or where(result) == {
        "Y": "no_bilateral_agreement", "X": "no_bilateral_agreement", "Z": "BB",
        "W": "protection_expired"}
    m = result.summary.matching
    assert "DD: 2 persons of beneficiaries' cases, no bilateral agreement with any receiving " \
        "state" in m.bottlenecks
    law = {r.criterion: r.value for r in result.tables.matchability if r.kind == "law"}
    # Without agreements Y and X fit (7 places): 2 more; the date rule alone: W gains no
    # place (no agreement); both: Y, X, W: 3 more.
    assert law == {"bilateral_agreement": 2, "protection_period": 0,
                   "bilateral_agreement;protection_period": 3}


def test_no_beneficiary_no_law_rows(make_instance):
    result = matched(make_instance, [person("Z", status="applicant")], toml(agreements="[]"))
    assert where(result)["Z"] in ("AA", "BB")
    assert not [r for r in result.tables.matchability if r.kind == "law"]


def test_agreement_binds_per_benefitting_state(make_instance):
    # An agreement BB-EE does not open BB to DD's beneficiaries.
    result = matched(make_instance, [person("Y")], toml(agreements='["BB-EE"]'))
    assert where(result) == {"Y": "no_bilateral_agreement"}


@pytest.mark.parametrize(("granted", "reason"), [
    ("2022-12-06", "protection_expired"),  # 3 years and two days
    ("2022-12-07", "protection_expired"),  # 3 years and a day
    # The 3rd anniversary is the adoption day: the 3 years end with its last hour (Reg.
    # 1182/71 Art. 3(2)(c)), so the grant is still less than 3 years before the adoption.
    ("2022-12-08", "AA"),
    ("2022-12-09", "AA"),  # 3 years less a day
    ("2025-12-08", "AA"),  # the adoption day itself
    ("2026-03-01", "AA"),  # after the adoption: eligible by default
])
def test_three_year_boundary(make_instance, granted, reason):
    assert where(matched(make_instance, [person("Y", granted=granted)]))["Y"] == reason


def test_grant_after_adoption_refused_when_asked(make_instance):
    extra = toml(more="protection_after_adoption = false\n")
    result = matched(make_instance, [person("Y", granted="2025-12-09"),
                                     person("V", granted="2025-12-08")], extra)
    assert where(result) == {"Y": "protection_after_adoption", "V": "AA"}


def test_protection_max_years_is_a_parameter(make_instance):
    # 2 years: the first eligible day is 2023-12-08 (its 2nd anniversary is the adoption).
    result = matched(make_instance, [person("Y", granted="2023-12-07"),
                                     person("V", granted="2023-12-08")],
                     toml(more="protection_max_years = 2\n"))
    assert where(result) == {"Y": "protection_expired", "V": "AA"}


@pytest.mark.parametrize(("cycle", "adopted", "granted", "reason"), [
    # The 3rd anniversary of 29 February 2024 is 28 February 2027: the 3 years end with it.
    (2027, "2027-03-01", "2024-02-29", "protection_expired"),
    (2027, "2027-02-28", "2024-02-29", "AA"),
    (2027, "2027-02-28", "2024-02-28", "AA"),
    (2027, "2027-02-28", "2024-02-27", "protection_expired"),
    (2027, "2027-02-27", "2024-02-27", "AA"),
    (2027, "2027-02-27", "2024-02-26", "protection_expired"),
    # Adopted on 29 February 2028: 28 February 2025 is more than 3 years before it.
    (2028, "2028-02-29", "2025-02-28", "protection_expired"),
    (2028, "2028-02-29", "2025-03-01", "AA"),
])
def test_29_february(make_instance, cycle, adopted, granted, reason):
    result = matched(make_instance, [person("Y", granted=granted,
                                            registered=f"{cycle}-01-01")],
                     toml(adopted=adopted), cycle=cycle)
    assert where(result)["Y"] == reason


def test_first_eligible_day_by_hand():
    assert first_eligible(dt.date(2025, 12, 8), 3) == dt.date(2022, 12, 8)
    assert first_eligible(dt.date(2025, 12, 9), 3) == dt.date(2022, 12, 9)
    # 2024-02-28's anniversary is 2027-02-28 (the adoption day); 2024-02-27's is before it.
    assert first_eligible(dt.date(2027, 2, 28), 3) == dt.date(2024, 2, 28)
    assert first_eligible(dt.date(2027, 3, 1), 3) == dt.date(2024, 3, 1)
    assert first_eligible(dt.date(2027, 2, 27), 3) == dt.date(2024, 2, 27)
    # 2025-02-28's 3rd anniversary is 2028-02-28, a day before the adoption on the 29th.
    assert first_eligible(dt.date(2028, 2, 29), 3) == dt.date(2025, 3, 1)
    assert first_eligible(dt.date(2028, 2, 29), 4) == dt.date(2024, 2, 29)


def test_planner_and_verifier_read_the_boundary_alike():
    """The planner's first eligible day against the verifier's whole years passed, for every
    adoption day of 2027-2028 and grants around the boundary."""
    day = dt.date(2027, 1, 1)
    while day < dt.date(2029, 1, 1):
        for years in (1, 3):
            first = first_eligible(day, years)
            for granted in (first - dt.timedelta(days=n) for n in range(-3, 4)):
                assert (granted < first) == _expired(granted, day, years), \
                    (day, years, granted)
        day += dt.timedelta(days=1)


def test_family_with_one_beneficiary_needs_the_agreement(make_instance):
    family = [{**person("F1", status="applicant"), "case_id": "F"},
              {**person("F2"), "case_id": "F"}]
    result = matched(make_instance, family, toml(agreements="[]"))
    assert where(result) == {"F": "no_bilateral_agreement"}


def test_family_with_one_old_protection_is_blocked(make_instance):
    old = [{**person("G1", status="applicant"), "case_id": "G"},
           {**person("G2", granted="2010-01-01"), "case_id": "G"}]
    assert where(matched(make_instance, old)) == {"G": "protection_expired"}


def test_build_cases_blocks_in_order():
    import pandas as pd

    rows = [{"person_id": "P1", "case_id": "C1", "location": "DD", "status": "beneficiary",
             "consent": "true", "protection_granted": ""},
            {"person_id": "P2", "case_id": "C2", "location": "DD", "status": "beneficiary",
             "consent": "true", "protection_granted": "2020-01-01"},
            {"person_id": "P3", "case_id": "C2", "location": "DD", "status": "beneficiary",
             "consent": "true", "protection_granted": ""},
            {"person_id": "P4", "case_id": "C3", "location": "DD", "status": "beneficiary",
             "consent": "false", "protection_granted": ""},
            {"person_id": "P5", "case_id": "C4", "location": "DD", "status": "beneficiary",
             "consent": "true", "protection_granted": "2026-01-01"},
            {"person_id": "P6", "case_id": "C5", "location": "DD", "status": "applicant",
             "protection_granted": ""}]
    frame = pd.DataFrame(rows).fillna("")
    for column in ("security_cleared", "nationality", "languages", "vulnerable",
                   "unaccompanied_minor", "family_links", "other_links", "preferences",
                   "registered"):
        frame[column] = ""
    rule = ProtectionRule(dt.date(2022, 12, 9), dt.date(2025, 12, 8))
    # C2: a missing date comes before an expired one; C3: consent before both.
    assert [c.blocked for c in build_cases(frame, rule)] == [
        "protection_date_missing", "protection_date_missing", "consent",
        "protection_after_adoption", None]
    assert [c.blocked for c in build_cases(frame)] == [None, None, "consent", None, None]


# --- bad input ------------------------------------------------------------------------------


def problems_of(make_instance, candidates, extra: str) -> list[str]:
    folder = folder_of(make_instance, candidates, extra)
    with pytest.raises(InputError) as caught:
        load_instance(folder)
    return [f"{Path(p.file).name}:{p.line}: {p.column}: {p.message}"
            for p in caught.value.problems]


@pytest.mark.parametrize(("extra", "expected"), [
    (toml('["AA-DD", "aa-dd"]'), "instance.toml:11: relocation.bilateral_agreements: each pair "
     "at most once; given more than once: AA-DD"),
    (toml('["DD-DD"]'), "instance.toml:11: relocation.bilateral_agreements: a state cannot agree "
     "with itself: DD-DD"),
    (toml('["AADD"]'), "instance.toml:11: relocation.bilateral_agreements.0: 'AADD' is not a "
     "pair of state codes CONTRIBUTOR-BENEFITTING such as FR-IT"),
    (toml('["AA-ZZ"]'), "instance.toml:11: relocation.bilateral_agreements: AA-ZZ: unknown "
     "state ZZ"),
    (toml('["AA-CC"]'), "instance.toml:11: relocation.bilateral_agreements: AA-CC: CC is not "
     "benefitting (write CONTRIBUTOR-BENEFITTING)"),
    (toml(adopted="2023-12-08"), "instance.toml:8: pool.adopted: 2023-12-08 is not in 2025 or "
     "2026: the act establishing the 2026 pool is adopted the year before (Art. 57) or, late, "
     "during it"),
    (toml(adopted="2025-12-08T10:00:00"), "instance.toml:8: pool.adopted: a date without a time "
     "is expected: write 2025-12-08"),
    (toml(more="protection_max_years = 0\n"), "instance.toml:12: relocation.protection_max_years:"
     " must be at least 1, got 0"),
])
def test_bad_configuration(make_instance, extra, expected):
    assert problems_of(make_instance, [person("Y")], extra) == [expected]


@pytest.mark.parametrize(("granted", "status", "expected"), [
    ("2024-13-01", "beneficiary", "not an ISO date (YYYY-MM-DD)"),
    ("1899-12-31", "beneficiary", "a date before 1900-01-01: not a date of protection date"),
    ("2028-01-01", "beneficiary", "a date after 2027-12-31 (the end of the year after the "
     "cycle): not a date of protection date"),
])
def test_bad_protection_dates(make_instance, granted, status, expected):
    found = problems_of(make_instance, [person("Y", status=status, granted=granted)], toml())
    assert found == [f"candidates.csv:2: protection_granted: {expected}"]


def test_a_date_on_an_applicant_is_an_error(make_instance):
    row = {**person("Z", status="applicant"), "protection_granted": "2024-01-01"}
    assert problems_of(make_instance, [row], toml()) == [
        "candidates.csv:2: protection_granted: an applicant has no protection: set status = "
        "beneficiary or leave the date empty"]


def test_read_candidates_takes_the_column(tmp_path):
    (tmp_path / "candidates.csv").write_text(
        "person_id,case_id,location,status,protection_granted\nP1,C1,DD,beneficiary,"
        "2024-02-29\n")
    frame = read_candidates(Reader(tmp_path), {"DD"}, {"DD"}, set(), 2026)
    assert frame is not None and frame["protection_granted"].tolist() == ["2024-02-29"]


# --- the verifier ---------------------------------------------------------------------------


def edit(path: Path, find: str, column: str, value: str) -> None:
    """Set `column` of the row whose first cell is `find`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    for n, line in enumerate(lines):
        cells = line.split(",")
        if cells[0] == find:
            cells[header.index(column)] = value
            lines[n] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def finished(make_instance, tmp_path):
    folder = folder_of(make_instance, SCENARIO, toml())
    run(folder, tmp_path / "out", SolverOptions())
    return load_instance(folder), tmp_path / "out"


def failures(instance, out: Path) -> list[str]:
    return [f"{Path(p.file).name}:{p.line}: {p.column}: {p.message}"
            for p in verify(out, instance)]


def test_verifier_accepts_the_run(finished):
    assert failures(*finished) == []


def test_verifier_beneficiary_placed_without_agreement(finished):
    instance, out = finished
    # Y moved from AA's row a to BB's row b: DD-BB was never agreed.
    edit(out / "assignments.csv", "Y", "to_state", "BB")
    edit(out / "assignments.csv", "Y", "pledge_id", "b")
    # assignments.csv: V, Y, Z (by case id): Y on line 3.
    assert "assignments.csv:3: to_state: a beneficiary's case placed where the receiving and " \
        "benefitting states have no bilateral agreement: Art. 56(2)(a)(ii)" \
        in failures(instance, out)


def test_verifier_expired_protection_placed(finished, tmp_path):
    instance, out = finished
    # The inputs say Y's protection is older than 3 years; the run placed Y.
    source = Path(instance.origin.folder)
    moved = tmp_path / "older"
    shutil.copytree(source, moved)
    edit(moved / "candidates.csv", "Y", "protection_granted", "2021-01-01")
    found = failures(load_instance(moved), out)
    assert "assignments.csv:3: person_id: a beneficiary's case was placed although protection " \
        "was not granted less than 3 years before the Council act's adoption (or its date is " \
        "missing): Art. 56(2)(a)(ii)" in found


@pytest.mark.parametrize(("person_id", "reason", "expected"), [
    ("W", "capacity", "should be protection_expired"),
    ("M", "protection_expired", "should be protection_date_missing"),
    ("X", "protection_expired", "protection_expired without cause"),
])
def test_verifier_protection_reasons(finished, person_id, reason, expected):
    instance, out = finished
    edit(out / "unassigned.csv", person_id, "reason", reason)
    line = next(n for n, row in enumerate((out / "unassigned.csv").read_text().splitlines(), 1)
                if row.startswith(f"{person_id},"))
    assert f"unassigned.csv:{line}: reason: {expected}" in failures(instance, out)


def test_verifier_no_agreement_reason(make_instance, tmp_path):
    folder = folder_of(make_instance, [person("Y"), person("Z", status="applicant")],
                       toml(agreements="[]"))
    run(folder, tmp_path / "out", SolverOptions())
    instance, out = load_instance(folder), tmp_path / "out"
    edit(out / "unassigned.csv", "Y", "reason", "no_eligible_place")
    assert "unassigned.csv:2: reason: should be no_bilateral_agreement: no place in DD may " \
        "take the case without a bilateral agreement" in failures(instance, out)


def test_verifier_law_rows_and_sentence(finished):
    instance, out = finished
    path = out / "matchability.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("law,Art. 56(2)(a)(ii),bilateral_agreement,1,",
                                 "law,Art. 56(2)(a)(ii),bilateral_agreement,2,")
                    .replace("DD: 3 persons of beneficiaries'", "DD: 4 persons of beneficiaries'"),
                    encoding="utf-8")
    found = failures(instance, out)
    assert any(f.endswith("value: 2, without it the bound gains 1") for f in found), found
    assert any("DD: 3 persons of beneficiaries' cases, agreements with AA of 2" in f
               for f in found), found


def test_verifier_law_row_missing(finished):
    instance, out = finished
    path = out / "matchability.csv"
    kept = [line for line in path.read_text(encoding="utf-8").splitlines()
            if not line.startswith("law,Art. 56(2)(a)(ii),protection_period,")]
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    assert "matchability.csv:0: criterion: no law row for protection_period" \
        in failures(instance, out)


# --- determinism and the generator ----------------------------------------------------------


def test_deterministic(make_instance, tmp_path):
    folder = folder_of(make_instance, SCENARIO, toml())
    run(folder, tmp_path / "one", SolverOptions())
    run(folder, tmp_path / "two", SolverOptions())
    for name in ("assignments.csv", "unassigned.csv", "matchability.csv"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_synthetic_protection_dates():
    rows = generate(SyntheticSpec(persons=2000, seed=5))
    assert rows == generate(SyntheticSpec(persons=2000, seed=5))
    beneficiaries = [r for r in rows if r["status"] == "beneficiary"]
    assert all(r["protection_granted"] == "" for r in rows if r["status"] == "applicant")
    dated = [r for r in beneficiaries if r["protection_granted"]]
    # About 2 % missing; every date on or before its registration, at most 5 years before.
    assert 0 < len(beneficiaries) - len(dated) < 0.1 * len(beneficiaries)
    for r in dated:
        days = (dt.date.fromisoformat(r["registered"])
                - dt.date.fromisoformat(r["protection_granted"])).days
        assert 0 <= days <= 1825
    # Some older than 3 years before a December 2025 adoption, most not.
    old = sum(r["protection_granted"] < "2022-12-09" for r in dated)
    assert 0 < old < len(dated) / 2
    # A family is granted protection together.
    by_case: dict[str, set[str]] = {}
    for r in beneficiaries:
        by_case.setdefault(r["case_id"], set()).add(r["protection_granted"])
    assert all(len(dates) == 1 for dates in by_case.values())


def test_add_protection_dates_to_an_existing_table():
    from planner.inputs.synthetic import add_protection_dates

    rows = [{"person_id": "P1", "case_id": "C1", "status": "beneficiary",
             "registered": "2026-03-01"},
            {"person_id": "P2", "case_id": "C1", "status": "beneficiary",
             "registered": "2026-03-01"},
            {"person_id": "P3", "case_id": "C2", "status": "applicant", "registered": ""},
            {"person_id": "P4", "case_id": "C3", "status": "beneficiary",
             "registered": "2026-01-01", "protection_granted": "2020-01-01"}]
    out = add_protection_dates(rows, seed=3)
    assert out == add_protection_dates(rows, seed=3)
    assert out[0]["protection_granted"] == out[1]["protection_granted"]  # one case, one date
    assert out[2]["protection_granted"] == "" and out[3]["protection_granted"] == "2020-01-01"
    assert rows[0].get("protection_granted") is None  # the input rows are left as they were
