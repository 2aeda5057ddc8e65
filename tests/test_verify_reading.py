"""The verifier reads assignments.csv and unassigned.csv a column at a time: the values, the
problems and their line numbers are exactly those of validating row by row (csv.DictReader and
`model_validate` per row, as the verifier read every file before). Line numbers are the
file's: blank lines are skipped but counted, a row that spans lines is at its last (as the
inputs' reader counts)."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from models.results import (
    AllocationRow,
    AssignmentRow,
    CoverageRow,
    DistributionRow,
    MatchabilityRow,
    PlanRow,
    SolverInfo,
    Summary,
    Totals,
    UnassignedRow,
)
from planner.errors import Problem
from planner.verifier.verify import Outputs, _cell_adapter

pytestmark = pytest.mark.unit

ASSIGNMENTS = "person_id,case_id,from_state,to_state,pledge_id,score,reasons\n"
UNASSIGNED = "person_id,case_id,location,reason\n"


def results_folder(folder: Path, assignments: str | None, unassigned: str | None) -> Path:
    """A results folder whose other tables are empty and whose summary says matching ran."""
    folder.mkdir()
    for name, model in (("plan.csv", PlanRow), ("allocation.csv", AllocationRow),
                        ("distribution.csv", DistributionRow), ("coverage.csv", CoverageRow),
                        ("matchability.csv", MatchabilityRow)):
        (folder / name).write_text(",".join(model.model_fields) + "\n", encoding="utf-8")
    summary = Summary(instance="t", variant="base", status="optimal",
                      totals=Totals(obligation=0, relocation=0, offset=0, financial_eur=0,
                                    alternative_eur=0, value=0, shortfall=0),
                      input_sha256="0" * 64, version="0",
                      solver=SolverInfo(requested="highs", name="highs", version="1"))
    summary.matching.ran = True
    (folder / "summary.json").write_text(summary.model_dump_json(), encoding="utf-8")
    if assignments is not None:
        (folder / "assignments.csv").write_text(assignments, encoding="utf-8")
    if unassigned is not None:
        (folder / "unassigned.csv").write_text(unassigned, encoding="utf-8")
    return folder


def row_by_row(path: Path, model: type[BaseModel]) -> tuple[list, list[Problem]]:
    """The reference: the verifier's reading before it went column-wise."""
    name = path.name
    if not path.is_file():
        return [], [Problem(name, 0, "-", "missing")]
    rows, problems = [], []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if list(reader.fieldnames or []) != list(model.model_fields):
            return [], [Problem(name, 1, "-", "columns differ from the schema")]
        for row in reader:
            line = reader.line_num
            try:
                rows.append((line, model.model_validate(row)))
            except ValidationError as exc:
                problems += [Problem(name, line, str(e["loc"][0]), e["msg"])
                             for e in exc.errors()]
    return rows, problems


def same_as_row_by_row(folder: Path) -> list[Problem]:
    problems: list[Problem] = []
    out = Outputs(folder, problems)
    expected: list[Problem] = []
    for attribute, name, model in (("assignments", "assignments.csv", AssignmentRow),
                                   ("unassigned", "unassigned.csv", UnassignedRow)):
        rows, found = row_by_row(folder / name, model)
        expected += found
        if not found:  # a readable file: the same values at the same lines
            table = getattr(out, attribute)
            assert table["line"].tolist() == [line for line, _ in rows]
            for field in model.model_fields:
                got = table[field].tolist()
                want = [getattr(row, field) for _, row in rows]
                assert got == want and list(map(type, got)) == list(map(type, want)), field
    assert problems == expected
    return problems


def test_good_files_give_the_rows_values(tmp_path):
    folder = results_folder(
        tmp_path / "out",
        ASSIGNMENTS + "p1,c1,EL,FR,FR-1,0.5,language;family\n"
        "p2,c1,EL,FR,FR-1,-0,\n\n"  # a blank line (line 4): skipped, counted
        'p3,c2,IT,DE,DE-1,1e-3," a ; ;b "\n'
        '"p,4","c\n3",IT,DE,DE-1,2,x\n'  # a quoted line break: one row, lines 6-7
        "p1,c1,EL,FR,FR-1,0.5,language;family\n",  # a person twice: both rows kept
        UNASSIGNED + "p5,c5,EL,capacity\np6,c6,IT,security\n")
    assert same_as_row_by_row(folder) == []
    out = Outputs(folder, [])
    assert out.assignments["line"].tolist() == [2, 3, 5, 7, 8]
    assert out.assignments["reasons"].tolist() == [("language", "family"), (), ("a", "b"),
                                                   ("x",), ("language", "family")]
    assert out.assignments["score"].tolist() == [0.5, 0.0, 0.001, 2.0, 0.5]


@pytest.mark.parametrize(("assignments", "unassigned"), [
    (ASSIGNMENTS + "p1,c1,EL,FR,FR-1,abc,\np2,c1,EL,FR,FR-1,inf,\np3,c1,EL,FR,FR-1,,x\n",
     UNASSIGNED),
    (ASSIGNMENTS + "p1,c1,EL,FR,FR-1,1,,extra\np2,c1,EL,FR\np3,c1,EL,FR,FR-1,nan,\n",
     UNASSIGNED + "p4,c4,EL,lazy\np5,c5,EL, capacity\np6,c6,EL\n"),
    (ASSIGNMENTS + "p1,c1,EL,FR,FR-1,1,\n", UNASSIGNED + "p4,c4,EL,capacity,more,cells\n"),
    (ASSIGNMENTS.replace("score", "points") + "p1,c1,EL,FR,FR-1,1,\n", UNASSIGNED),
    ("", UNASSIGNED + "\n\n"),
    (None, UNASSIGNED),
])
def test_bad_files_give_the_row_by_row_problems(tmp_path, assignments, unassigned):
    problems = same_as_row_by_row(results_folder(tmp_path / "out", assignments, unassigned))
    assert problems  # each case is broken somewhere


def test_problems_name_their_lines(tmp_path):
    folder = results_folder(tmp_path / "out",
                            ASSIGNMENTS + "p1,c1,EL,FR,FR-1,1,\n\np2,c1,EL,FR,FR-1,x,\n",
                            UNASSIGNED + "p4,c4,EL,lazy\n")
    assert [str(p) for p in same_as_row_by_row(folder)] == [
        "assignments.csv:4: score: Input should be a valid number, unable to parse string "
        "as a number",
        "unassigned.csv:2: reason: Input should be 'security', 'consent', "
        "'protection_date_missing', 'protection_expired', 'protection_after_adoption', "
        "'no_bilateral_agreement', 'no_eligible_place' or 'capacity'"]


CELLS = ["", " ", "0", "-0", "1", "1.5", " 2 ", "1e3", "1_000", "0x10", "1,5", "inf", "-inf",
         "nan", "abc", "true", "False", "yes", "0.0", "relocation", "Relocation", "capacity",
         " capacity", "a;b", " a ; ;b", "\u0661", "\u00a0", "None", "null", "[]"]
BASE = {
    AssignmentRow: {"person_id": "p", "case_id": "c", "from_state": "EL", "to_state": "FR",
                    "pledge_id": "FR-1", "score": "1", "reasons": ""},
    UnassignedRow: {"person_id": "p", "case_id": "c", "location": "EL", "reason": "capacity"},
    PlanRow: {"pledge_id": "a", "state": "AA", "measure": "relocation", "amount": "1",
              "value": "1", "min": "0", "max": "", "preference": "1", "beneficiary": ""},
    CoverageRow: {"beneficiary": "AA", "measure": "offset", "need": "0", "need_stated": "true",
                  "received": "0", "ratio": ""},
    MatchabilityRow: {"kind": "bound", "subject": "", "criterion": "", "value": "",
                      "text": ""},
}


@pytest.mark.parametrize("model", list(BASE))
def test_a_column_is_validated_as_the_row_validates_it(model):
    """Each field's own schema accepts and parses every cell exactly as the model does."""
    for field in model.model_fields:
        adapter, _ = _cell_adapter(model, field)
        for cell in CELLS:
            try:
                want = getattr(model.model_validate({**BASE[model], field: cell}), field)
            except ValidationError:
                want = ValidationError
            try:
                got = adapter.validate_python([cell])[0]
            except ValidationError:
                got = ValidationError
            assert (repr(got), type(got)) == (repr(want), type(want)), (model.__name__, field,
                                                                      cell)


@pytest.mark.parametrize("body", [
    "p1,c1,EL,FR,FR-1,1,a;b\np2,c1,EL,FR,FR-1,x,\np3,c2,IT,DE,DE-1,2,\n",  # a bad score
    "p1,c1,EL,FR,FR-1,1,a;b\np2,c1,EL,FR\np3,c2,IT,DE,DE-1,2,,extra\n",  # rows too short, long
    "p1,c1,EL,FR,FR-1,1,a;b\np1,c1,EL,FR,FR-1,0,\n",  # good, a person twice
])
def test_plain_and_csv_readings_agree(tmp_path, body):
    """The same rows written as the planner writes them, or with carriage returns, a quoted
    cell or a blank line (as a spreadsheet may save them): the same values and problems, at
    the same lines but for the blank line's (one line further after it)."""
    plain = same_as_row_by_row(results_folder(tmp_path / "plain", ASSIGNMENTS + body,
                                              UNASSIGNED + "p9,c9,EL,lazy\n"))
    blank = [replace(p, line=p.line + 1) if p.file == "assignments.csv" and p.line > 2 else p
             for p in plain]
    for n, (text, expected) in enumerate([
            ((ASSIGNMENTS + body).replace("\n", "\r\n"), plain),
            (ASSIGNMENTS + body.replace("p1", '"p1"'), plain),
            (ASSIGNMENTS + body.replace("\n", "\n\n", 1), blank)]):
        folder = results_folder(tmp_path / f"csv{n}", text, UNASSIGNED + "p9,c9,EL,lazy\n")
        assert same_as_row_by_row(folder) == expected
    assert plain[-1] == Problem("unassigned.csv", 2, "reason",
                                "Input should be 'security', 'consent', "
                                "'protection_date_missing', 'protection_expired', "
                                "'protection_after_adoption', 'no_bilateral_agreement', "
                                "'no_eligible_place' or 'capacity'")


def test_a_small_table_s_problems_are_at_the_file_s_lines(tmp_path):
    """plan.csv read row by row (`Outputs._rows`): a row after a blank line, and one after a
    row with a quoted line break, reported at their lines in the file."""
    folder = results_folder(tmp_path / "out", ASSIGNMENTS, UNASSIGNED)
    row = ",".join(BASE[PlanRow].values())
    (folder / "plan.csv").write_text(
        ",".join(PlanRow.model_fields) + "\n" + row + "\n\n"  # line 3 blank
        + row.replace("1", "x", 1) + "\n"  # line 4: amount "x"
        + row.replace("a", '"a\nb"', 1) + "\n"  # lines 5-6
        + row.replace("1", "y", 1) + "\n",  # line 7
        encoding="utf-8")
    problems: list[Problem] = []
    Outputs(folder, problems)
    assert [(p.file, p.line, p.column) for p in problems if p.file == "plan.csv"] == [
        ("plan.csv", 4, "amount"), ("plan.csv", 7, "amount")]
