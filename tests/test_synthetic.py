"""Synthetic candidates (planner.inputs.synthetic): determinism, shape, invariants and the CLI."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from planner.inputs.synthetic import (
    CANDIDATE_COLUMNS,
    DEFAULT_RECEIVING,
    NATIONALITIES,
    ROUTES,
    SyntheticSpec,
    generate,
    main,
    write_candidates,
)

pytestmark = pytest.mark.unit

CONTRACT_COLUMNS = ["person_id", "case_id", "location", "status", "consent", "security_cleared",
                    "nationality", "languages", "vulnerable", "unaccompanied_minor",
                    "family_links", "other_links", "preferences", "registered",
                    "protection_granted"]
SHARED = ("location", "status", "consent", "registered", "family_links", "other_links",
          "preferences")


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return generate(SyntheticSpec(persons=20_000, seed=3))


def cases_of(rows: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    cases: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        cases[row["case_id"]].append(row)
    return cases


def test_same_seed_same_rows_and_different_seed_different_rows() -> None:
    first = generate(SyntheticSpec(persons=2_000, seed=11))
    assert first == generate(SyntheticSpec(persons=2_000, seed=11))
    assert first != generate(SyntheticSpec(persons=2_000, seed=12))


@pytest.mark.parametrize("target", [1, 7, 500, 3_001])
def test_person_count_is_within_one_case_of_the_target(target: int) -> None:
    rows = generate(SyntheticSpec(persons=target, seed=target))
    last_case = [row for row in rows if row["case_id"] == rows[-1]["case_id"]]
    assert target <= len(rows) < target + len(last_case)


def test_columns_ids_and_order(rows: list[dict[str, str]]) -> None:
    assert list(CANDIDATE_COLUMNS) == CONTRACT_COLUMNS
    assert all(list(row) == CONTRACT_COLUMNS for row in rows)
    assert all(isinstance(value, str) for row in rows for value in row.values())
    assert rows[0]["person_id"] == "P0000001" and rows[0]["case_id"] == "C000001"
    assert [row["person_id"] for row in rows] == [f"P{n:07d}" for n in range(1, len(rows) + 1)]
    keys = [(row["case_id"], row["person_id"]) for row in rows]
    assert keys == sorted(keys)
    case_numbers = [int(case[1:]) for case in dict.fromkeys(row["case_id"] for row in rows)]
    assert case_numbers == list(range(1, len(case_numbers) + 1))


def test_location_shares_of_persons_follow_the_spec(rows: list[dict[str, str]]) -> None:
    counts = Counter(row["location"] for row in rows)
    for code, share in SyntheticSpec(persons=1).locations.items():
        assert counts[code] / len(rows) == pytest.approx(share, abs=0.03)


def test_custom_locations_including_a_state_without_route() -> None:
    rows = generate(SyntheticSpec(persons=3_000, locations={"MT": 0.5, "IT": 0.5}))
    counts = Counter(row["location"] for row in rows)
    assert set(counts) == {"MT", "IT"}
    assert counts["MT"] / len(rows) == pytest.approx(0.5, abs=0.05)
    assert not any("MT" in row["preferences"].split(";") for row in rows if row["location"] == "MT")


def test_families_share_case_fields(rows: list[dict[str, str]]) -> None:
    cases = cases_of(rows)
    assert any(len(persons) > 1 for persons in cases.values())
    for persons in cases.values():
        for column in SHARED:
            assert len({person[column] for person in persons}) == 1, column


def test_unaccompanied_minors_are_single_vulnerable_persons(rows: list[dict[str, str]]) -> None:
    cases = cases_of(rows)
    minors = [persons for persons in cases.values()
              if any(person["unaccompanied_minor"] == "true" for person in persons)]
    assert 0.02 < len(minors) / len(cases) < 0.08
    for persons in minors:
        assert len(persons) == 1 and persons[0]["vulnerable"] == "true"


def test_realistic_shares(rows: list[dict[str, str]]) -> None:
    cases = cases_of(rows)
    heads = [persons[0] for persons in cases.values()]
    families = sum(len(persons) > 1 for persons in cases.values()) / len(cases)
    assert 0.2 < families < 0.4
    assert max(len(persons) for persons in cases.values()) <= 8
    assert 0.15 <= sum(row["vulnerable"] == "true" for row in rows) / len(rows) <= 0.25
    assert sum(bool(head["family_links"]) for head in heads) / len(heads) == pytest.approx(
        0.08, abs=0.02)
    assert sum(bool(head["other_links"]) for head in heads) / len(heads) == pytest.approx(
        0.10, abs=0.02)
    assert sum(bool(head["preferences"]) for head in heads) / len(heads) == pytest.approx(
        0.40, abs=0.03)
    assert Counter(head["family_links"] for head in heads if head["family_links"]).most_common(
        1)[0][0] == "DE"


def test_values_are_well_formed(rows: list[dict[str, str]]) -> None:
    receiving = set(DEFAULT_RECEIVING)
    for row in rows:
        for column in ("family_links", "other_links", "preferences"):
            codes = row[column].split(";") if row[column] else []
            assert set(codes) <= receiving, (column, row)
            assert len(codes) == len(set(codes))
            assert row["location"] not in codes
        assert len(row["family_links"].split(";")) == 1
        assert row["status"] in {"applicant", "beneficiary"}
        assert row["consent"] in ({"true", "false"} if row["status"] == "beneficiary" else {""})
        for column in ("security_cleared", "vulnerable", "unaccompanied_minor"):
            assert row[column] in {"true", "false"}
        assert row["nationality"] in NATIONALITIES
        languages = row["languages"].split(";")
        assert languages and all(len(code) == 2 and code.islower() for code in languages)
        assert date(2025, 6, 1) <= date.fromisoformat(row["registered"]) <= date(2026, 11, 1)


def test_custom_receiving_states_bound_every_list() -> None:
    spec = SyntheticSpec(persons=3_000, seed=5, receiving=("SE", "PT"))
    rows = generate(spec)
    codes = {code for row in rows for column in ("family_links", "other_links", "preferences")
             for code in row[column].split(";") if code}
    assert codes == {"SE", "PT"}


def test_every_route_nationality_has_languages() -> None:
    for route in ROUTES.values():
        assert {code for code, _ in route.nationalities} <= set(NATIONALITIES)


def test_written_file_round_trips(tmp_path: Path) -> None:
    rows = generate(SyntheticSpec(persons=500, seed=2))
    path = tmp_path / "nested" / "candidates.csv"
    write_candidates(rows, path)
    raw = path.read_bytes()
    assert b"\r" not in raw and raw.endswith(b"\n")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == CONTRACT_COLUMNS
        assert list(reader) == rows
    assert [p.name for p in path.parent.iterdir()] == ["candidates.csv"]


def test_main_writes_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "c.csv"
    argv = ["--persons", "300", "--seed", "4", "--locations", "EL=0.5, IT=0.5", "--out", str(out)]
    assert main(argv) == 0
    with out.open(encoding="utf-8", newline="") as handle:
        written = list(csv.DictReader(handle))
    spec = SyntheticSpec(persons=300, seed=4, locations={"EL": 0.5, "IT": 0.5})
    assert written == generate(spec)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("options", [
    ["--persons", "0"],
    ["--persons", "-3"],
    ["--persons", "many"],
    ["--persons", "10", "--locations", "Greece=1"],
    ["--persons", "10", "--locations", "el=1"],
    ["--persons", "10", "--locations", "CY=0.5,EL=0.4"],
    ["--persons", "10", "--locations", "CY=0.5,EL=half"],
    ["--persons", "10", "--locations", "CY=0.5,CY=0.5"],
    ["--persons", "10", "--locations", "CY"],
    ["--persons", "10", "--receiving", "AT,germany"],
])
def test_main_rejects_bad_options(options: list[str], tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "c.csv"
    assert main([*options, "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "error" in error
    assert not out.exists()


def test_main_requires_out(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--persons", "10"]) == 2
    assert "--out" in capsys.readouterr().err


@pytest.mark.parametrize("changes", [
    {"persons": 0},
    {"locations": {"CY": 1.0000001}},
    {"locations": {"CY": 1.5, "EL": -0.5}},
    {"locations": {}},
    {"end": date(2025, 1, 1)},
    {"beneficiary_share": 1.5},
])
def test_spec_rejects_bad_values(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SyntheticSpec(**{"persons": 10, **changes})  # type: ignore[arg-type]
