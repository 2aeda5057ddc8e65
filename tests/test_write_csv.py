"""write_table formats a column at a time and gives exactly the bytes of `fmt` per cell;
read_table reads back the rows written; a personal table is 0600 from its creation."""

from __future__ import annotations

import csv
import math
import os
from enum import Enum
from pathlib import Path
from typing import Literal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from models.instance import Measure
from models.results import AssignmentRow, MatchabilityRow, PlanRow, UnassignedRow
from planner.outputs.fileio import (
    TableError,
    count_rows,
    fmt,
    fmt_column,
    read_table,
    write_table,
)
from planner.outputs.registry import ASSIGNMENTS, MATCHABILITY, PLAN, UNASSIGNED, OutputFile

pytestmark = pytest.mark.unit


class Row(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    amount: float
    ratio: float | None = None
    whole: int = 0
    flag: bool = False
    measure: Measure = Measure.relocation
    kind: Literal["bound", "restriction"] = "bound"
    tags: tuple[str, ...] = ()


class Colour(Enum):  # a plain enum: fmt gives str(member)
    red = 1


def write_csv(path: Path, model: type[BaseModel], rows: list[BaseModel]) -> None:
    write_table(path, OutputFile(path.name, model, "pool"), rows)


def per_cell(path: Path, model: type[BaseModel], rows: list[BaseModel]) -> None:
    """write_csv as it was: `fmt` of every cell, a row at a time (the reference)."""
    columns = list(model.model_fields)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(fmt(getattr(row, c)) for c in columns)


def both(tmp_path: Path, model: type[BaseModel], rows: list[BaseModel]) -> tuple[bytes, bytes]:
    write_csv(tmp_path / "new.csv", model, rows)
    per_cell(tmp_path / "old.csv", model, rows)
    return (tmp_path / "new.csv").read_bytes(), (tmp_path / "old.csv").read_bytes()


def test_exact_text_of_validated_rows(tmp_path):
    rows = [Row(name="a", amount=-0.0, ratio=None, whole=3, flag=True, measure="financial",
                kind="restriction", tags=("x", "y")),
            Row(name='b,"c"', amount=1e-10, ratio=1e20, whole=-1, tags=()),
            Row(name="line\nbreak", amount=2.0, ratio=0.1 + 0.2, whole=0),
            Row(name="d", amount=-1e-10, ratio=1 / 3, measure=Measure.offset),
            Row(name="e", amount=12345678.123456789, ratio=-2.5)]
    write_csv(tmp_path / "t.csv", Row, rows)
    assert (tmp_path / "t.csv").read_text(encoding="utf-8") == (
        "name,amount,ratio,whole,flag,measure,kind,tags\n"
        "a,0,,3,true,financial,restriction,x;y\n"
        '"b,""c""",0,100000000000000000000,-1,false,relocation,bound,\n'
        '"line\nbreak",2,0.3,0,false,relocation,bound,\n'
        "d,0,0.333333333,0,false,offset,bound,\n"
        "e,12345678.12345679,-2.5,0,false,relocation,bound,\n")  # float precision
    new, old = both(tmp_path, Row, rows)
    assert new == old


def test_constructed_rows_with_mixed_types_match_per_cell(tmp_path):
    # model_construct skips validation: a column may then hold values of several types whose
    # equal values format differently (True == 1 == 1.0 gives "true", "1", "1").
    cells = [True, 1, 1.0, None, -0.0, 0.0, math.nan, math.inf, -math.inf, 1e-10, 1e20, 2.5, 3,
             np.float64(0.5), np.int64(7), Measure.offset, Colour.red, "1", (1, True, 1.0),
             ("a", "b"), (), ("a", Measure.financial), ["x", 2.0]]
    rows = [Row.model_construct(name=f"r{i}", amount=cell, ratio=cell, whole=cell, flag=cell,
                                measure=cell, kind=cell, tags=cell)
            for i, cell in enumerate(cells)]
    new, old = both(tmp_path, Row, rows)
    assert new == old
    lines = new.decode().splitlines()
    assert lines[1] == "r0,true,true,true,true,true,true,true"
    assert lines[2] == "r1,1,1,1,1,1,1,1"
    assert lines[19].endswith(",1;true;1")


def test_one_type_columns_use_distinct_values_and_keep_order():
    assert fmt_column([2.0, -0.0, 2.0, 0.0, None, 1e-10]) == ["2", "0", "2", "0", "", "0"]
    assert fmt_column([True, False, True]) == ["true", "false", "true"]
    assert fmt_column([Measure.relocation, Measure.financial]) == ["relocation", "financial"]
    assert fmt_column([("a", "b"), (), ("a", "b")]) == ["a;b", "", "a;b"]
    assert fmt_column([1, True, 1.0]) == ["1", "true", "1"]  # mixed: per cell
    assert fmt_column([]) == []


def test_assignment_rows_built_both_ways_give_the_same_file(tmp_path):
    values = [dict(person_id=f"p{i}", case_id=f"c{i // 2}", from_state="EL", to_state="FR",
                   pledge_id="FR-1", score=[0.0, -0.0, 1.5, 2 / 3][i % 4],
                   reasons=(("language", "family") if i % 3 else ()))
              for i in range(12)]
    write_csv(tmp_path / "a.csv", AssignmentRow, [AssignmentRow(**v) for v in values])
    write_csv(tmp_path / "b.csv", AssignmentRow, [AssignmentRow.model_construct(**v)
                                                  for v in values])
    per_cell(tmp_path / "c.csv", AssignmentRow, [AssignmentRow(**v) for v in values])
    text = (tmp_path / "a.csv").read_bytes()
    assert text == (tmp_path / "b.csv").read_bytes() == (tmp_path / "c.csv").read_bytes()
    assert text.decode().splitlines()[2:4] == ["p1,c0,EL,FR,FR-1,0,language;family",
                                               "p2,c1,EL,FR,FR-1,1.5,language;family"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.floats(), st.none(), st.integers(-10**25, 10**25)), max_size=30))
def test_any_numbers_match_per_cell(tmp_path_factory, numbers):
    folder = tmp_path_factory.mktemp("numbers")
    rows = [Row.model_construct(name="n", amount=x, ratio=x) for x in numbers]
    new, old = both(folder, Row, rows)
    assert new == old


# --- reading back: read_table and count_rows -------------------------------------------------

def test_read_table_gives_back_the_rows_written(tmp_path):
    """Every value the writer's fixed text keeps exactly comes back equal and typed: text with
    commas, quotes and line breaks, empty numbers, enums, Literals, `;`-lists."""
    plans = [PlanRow(pledge_id='b,"c"\nd', state="", measure=Measure.offset, amount=-2.5,
                     value=12345678.12345679, min=0, max=None, preference=-1,
                     beneficiary=("EL", "IT")),
             PlanRow(pledge_id="x", state="AT", measure="financial", amount=1e20, value=0.5,
                     min=1e-9, max=3, preference=2)]
    notes = [MatchabilityRow(kind="law", subject="", criterion="a;b", value=None, text="=1")]
    for table, rows in ((PLAN, plans), (MATCHABILITY, notes), (PLAN, [])):
        write_table(tmp_path / table.file, table, rows)
        assert read_table(tmp_path / table.file, table) == rows


def test_read_table_refuses_a_file_off_its_model(tmp_path):
    path = tmp_path / PLAN.file
    header = ",".join(PlanRow.model_fields) + "\n"
    cases = {"": "^plan.csv: columns differ from PlanRow$",
             "pledge_id,state\n": "^plan.csv: columns differ from PlanRow$",
             header + "A-1,AT,offset,1,1,0,,1,\nA-2,AT,offset,many,1,0,,1,\n":
                 "^plan.csv:3: amount: Input should be a valid number",
             header + "A-1,AT,offset,1,1,0,,1,\nA-2,AT\n": "^plan.csv:3: 2 fields, 9 columns$",
             # The file's lines: a quoted line break makes a row of lines 2-3, so the next
             # row is line 4 (the last line of a row that spans several, as inputs count).
             header + '"A\n1",AT,offset,1,1,0,,1,\nA-2,AT,offset,many,1,0,,1,\n':
                 "^plan.csv:4: amount: Input should be a valid number",
             header + "A-1,AT,offset,1,1,0,,1,\nA-2,AT,offset,1,1,0,,1,\n\n":
                 "^plan.csv:4: 0 fields, 9 columns$"}
    for text, message in cases.items():
        path.write_text(text, encoding="utf-8")
        with pytest.raises(TableError, match=message):
            read_table(path, PLAN)
    path.unlink()
    with pytest.raises(TableError, match="^plan.csv: missing$"):
        read_table(path, PLAN)


def test_count_rows_counts_the_validated_values_of_some_columns(tmp_path):
    rows = [UnassignedRow(person_id=f"P{i}", case_id=f"K{i // 2}", location=loc, reason=why)
            for i, (loc, why) in enumerate([("EL", "capacity"), ("EL", "capacity"),
                                             ("IT", "capacity"), ("EL", "security")])]
    path = tmp_path / UNASSIGNED.file
    write_table(path, UNASSIGNED, rows)
    assert count_rows(path, UNASSIGNED, ("location", "reason")) == {
        ("EL", "capacity"): 2, ("IT", "capacity"): 1, ("EL", "security"): 1}
    assert count_rows(path, UNASSIGNED, ("reason",)) == {("capacity",): 3, ("security",): 1}
    path.write_text(path.read_text().replace("IT,capacity", "IT,bogus"), encoding="utf-8")
    with pytest.raises(TableError, match="^unassigned.csv:4: reason: Input should be "):
        count_rows(path, UNASSIGNED, ("location", "reason"))
    with pytest.raises(TableError, match="^unassigned.csv: no column town$"):
        count_rows(path, UNASSIGNED, ("town",))


def test_a_personal_table_is_private_from_its_creation(tmp_path):
    """0600 whatever the umask, even over an existing file readable by all; a table that is
    not personal follows the umask."""
    previous = os.umask(0o022)
    try:
        (tmp_path / ASSIGNMENTS.file).write_text("old", encoding="utf-8")
        (tmp_path / ASSIGNMENTS.file).chmod(0o644)
        write_table(tmp_path / ASSIGNMENTS.file, ASSIGNMENTS, [])
        write_table(tmp_path / "t.csv", OutputFile("t.csv", Row, "pool"), [])
    finally:
        os.umask(previous)
    assert (tmp_path / ASSIGNMENTS.file).stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "t.csv").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / ASSIGNMENTS.file).read_text() == ",".join(AssignmentRow.model_fields) + "\n"


def test_count_rows_adds_up_two_texts_of_one_value(tmp_path):
    """Counts are of values, as the row model reads them: "1" and "1.0" are one score."""
    path = tmp_path / ASSIGNMENTS.file
    path.write_text(",".join(AssignmentRow.model_fields) + "\n"
                    "P1,K1,EL,FR,FR-1,1,\nP2,K2,EL,FR,FR-1,1.0,\nP3,K3,EL,FR,FR-1,2,\n",
                    encoding="utf-8")
    assert count_rows(path, ASSIGNMENTS, ("to_state", "score")) == {("FR", 1.0): 2,
                                                                   ("FR", 2.0): 1}
