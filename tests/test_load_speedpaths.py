"""How the loader reads CSV rows, and its one fast path: building cases column by column.

`planner.inputs.reader` reads every CSV text with `csv.reader` (the hand-rolled splitter for
plain texts is gone, issue 13): rows, cells stripped, blank rows skipped, the line of every
row, a spreadsheet's trailing separators, and rows of the wrong width, checked here by hand.
`planner.inputs.candidates.build_cases` builds cases column by column; it is compared with a
row-by-row reference written from the rules, and one small case list is checked by hand.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest

from models.cases import Case
from planner.inputs.candidates import BOOLEANS, build_cases
from planner.inputs.reader import Reader

pytestmark = pytest.mark.unit

HEADER = "case_id,state"
C1_FR = {"case_id": "C1", "state": "FR"}
C2_DE = {"case_id": "C2", "state": "DE"}


def table(folder: Path, text: str):
    """read_table's rows, named cells, usability and problems (line, column, message)."""
    (folder / "transfers.csv").write_text(text, encoding="utf-8", newline="")
    reader = Reader(folder)
    found = reader.read_table("transfers.csv", False, ("case_id", "state"))
    assert found is not None
    return (found.rows, found.named, found.usable,
            [(p.line, p.column, p.message) for p in reader.problems])


def width(line: int, fields: int) -> tuple[int, str, str]:
    return (line, "-", f"row has {fields} fields, the header has 2")


@pytest.mark.parametrize("text", [
    f"{HEADER}\nC1,FR\nC2,DE\n",
    f"{HEADER}\r\nC1,FR\r\nC2,DE\r\n",  # CRLF
    f'{HEADER}\n"C1",FR\n"C2",DE',  # quotes, no final newline
    f"{HEADER}\nC1 ,FR\n  ,  \nC2,\tDE\n",  # cells to strip, a row of spaces (blank)
    f"{HEADER}\nC1,FR\x0bC2,DE\n",  # a line boundary of str.splitlines that is not \n
    f"{HEADER},,\nC1,FR,,\nC2,DE,\n",  # a spreadsheet's trailing separators
    "case_id;state\nC1;FR\nC2;DE\n",  # `;` separator, header without a comma
])
def test_the_same_two_rows_however_written(tmp_path: Path, text: str) -> None:
    rows, named, usable, problems = table(tmp_path, text)
    lines = [2, 4] if "  ," in text else [2, 3]
    assert rows == [(lines[0], C1_FR), (lines[1], C2_DE)]
    assert named == [C1_FR, C2_DE]
    assert (usable, problems) == (True, [])


def test_rows_of_the_wrong_width_are_named_but_not_rows(tmp_path: Path) -> None:
    text = f"{HEADER}\nC1,FR\n,\n,,\nC2\nC3,DE,\nC4,DE,x\n,FR\nC5,\n\nC6,IT\n"
    rows, named, usable, problems = table(tmp_path, text)
    assert rows == [(2, C1_FR), (8, {"case_id": "", "state": "FR"}),
                    (9, {"case_id": "C5", "state": ""}), (11, {"case_id": "C6", "state": "IT"})]
    # Separators only are blank rows; a short row names what it has; extra cells are dropped.
    assert named[1:4] == [{"case_id": "C2"}, {"case_id": "C3", "state": "DE"},
                          {"case_id": "C4", "state": "DE"}]
    assert usable
    assert problems == [width(5, 1), width(6, 3), width(7, 3)]


def test_trailing_separators_only_up_to_the_header_s_own(tmp_path: Path) -> None:
    rows, named, _, problems = table(tmp_path, f"{HEADER},,\nC1,FR,,\nC3,IT,,,\nC4,ES,x,\n")
    assert rows == [(2, C1_FR)]
    assert named[1:] == [{"case_id": "C3", "state": "IT"}, {"case_id": "C4", "state": "ES"}]
    assert problems == [width(3, 5), width(4, 3)]
    # With `;`, an unquoted `IT,ES` is one cell: the row has the header's width...
    _, named, _, problems = table(tmp_path, "case_id;state\nC1;IT,ES\nC2;DE;\n")
    assert named == [{"case_id": "C1", "state": "IT,ES"}, C2_DE]
    # ...and a separator too many is an error even when its cell is empty.
    assert problems == [width(3, 3)]


def test_quoted_cells_keep_separators_and_newlines(tmp_path: Path) -> None:
    rows, _, _, problems = table(tmp_path, f'{HEADER}\n"C,1",FR\n"C1\nstill C1",FR\nC2,DE\n')
    # A record over two lines has the line it ends on.
    assert rows == [(2, {"case_id": "C,1", "state": "FR"}),
                    (4, {"case_id": "C1\nstill C1", "state": "FR"}), (5, C2_DE)]
    assert problems == []


def test_a_field_over_the_csv_limit_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    long = "x" * (csv.field_size_limit() + 1)
    rows, _, usable, problems = table(tmp_path, f"{HEADER}\nC1,FR\nC2,{long}\nC3,IT\n")
    assert not usable
    assert rows == [(2, C1_FR)]
    assert problems == [(3, "-", "not a readable CSV file: field larger than field limit "
                         f"({csv.field_size_limit()})")]


@pytest.mark.parametrize("text", ["", "\n\n", " \r\n\t", "\r\nC1,FR\n"])
def test_empty_and_blank_first_line(tmp_path: Path, text: str) -> None:
    reader = Reader(tmp_path)
    assert reader.header("transfers.csv", text) is None
    expected = (0, "file is empty (a header row is required)") if not text.strip() else \
        (1, "the first line is blank: the header row must come first")
    assert [(p.line, p.message) for p in reader.problems] == [expected]


COLUMNS = ("person_id", "case_id", "location", "status", "consent", "security_cleared",
           "nationality", "languages", "vulnerable", "unaccompanied_minor", "family_links",
           "other_links", "preferences", "registered")


def frame_of(rows: list[dict[str, str]]) -> pd.DataFrame:
    """A frame as `read_frame` makes it (Arrow strings, every column, `_line`)."""
    lines = [",".join(COLUMNS)] + [",".join(r.get(c, "") for c in COLUMNS) for r in rows]
    frame = pd.read_csv(StringIO("\n".join(lines) + "\n"), dtype=str, keep_default_na=False)
    frame["_line"] = frame.index + 2
    return frame


def codes(value: str) -> list[str]:
    return [p.strip().upper() for p in value.split(";") if p.strip()]


def flag(row: dict[str, str], column: str) -> bool:
    value = row.get(column, "").lower()
    return BOOLEANS[column] if value == "" else value in ("true", "yes", "1")


def reference(rows: list[dict[str, str]]) -> list[Case]:
    """The cases row by row, from the rules: sorted by case then person, sets united,
    wishes in order of first mention, earliest date, counts, and the block."""
    cases = []
    for case_id in sorted({r["case_id"] for r in rows}):
        members = sorted((r for r in rows if r["case_id"] == case_id),
                         key=lambda r: r["person_id"])
        statuses = [r.get("status") or "applicant" for r in members]
        dates = [dt.date.fromisoformat(r["registered"]) for r in members if r.get("registered")]
        minors = [flag(r, "unaccompanied_minor") for r in members]
        vulnerable = [flag(r, "vulnerable") for r in members]  # its own column (contract)
        security = not all(flag(r, "security_cleared") for r in members)
        consent = any(s == "beneficiary" and not flag(r, "consent")
                      for r, s in zip(members, statuses, strict=True))
        cases.append(Case(
            case_id, members[0]["location"], tuple(r["person_id"] for r in members),
            frozenset(statuses), frozenset(r.get("nationality", "").upper() for r in members),
            frozenset(c.lower() for r in members for c in codes(r.get("languages", ""))),
            sum(vulnerable), sum(minors),
            frozenset(c for r in members for c in codes(r.get("family_links", ""))),
            frozenset(c for r in members for c in codes(r.get("other_links", ""))),
            tuple(dict.fromkeys(c for r in members for c in codes(r.get("preferences", "")))),
            min(dates) if dates else None,
            "security" if security else "consent" if consent else None,
            sum(1 << n for n, v in enumerate(vulnerable) if v),
            sum(1 << n for n, m in enumerate(minors) if m)))
    return cases


def typed(cases: list[Case]) -> list[tuple[tuple[type, object], ...]]:
    """Each field with its type: 1 and True, or a list and a tuple, are not the same here."""
    return [tuple((type(v), v) for v in case) for case in cases]


def test_build_cases_by_hand() -> None:
    rows = [
        {"person_id": "P3", "case_id": "C2", "location": "IT", "status": "beneficiary",
         "consent": "no", "nationality": "syr", "languages": "AR", "vulnerable": "yes",
         "preferences": "fr;de", "registered": "2026-03-01"},
        {"person_id": "P1", "case_id": "C1", "location": "EL", "security_cleared": "false"},
        {"person_id": "P2", "case_id": "C2", "location": "IT", "nationality": "AFG",
         "languages": "ps;ar", "unaccompanied_minor": "1", "preferences": "DE;NL",
         "registered": "2026-01-05", "family_links": "SE"},
        {"person_id": "P4", "case_id": "C3", "location": "ES", "status": "beneficiary",
         "consent": "true"},
    ]
    cases = build_cases(frame_of(rows))
    expected = [
        Case("C1", "EL", ("P1",), frozenset({"applicant"}), frozenset({""}), frozenset(), 0, 0,
             frozenset(), frozenset(), (), None, "security"),
        Case("C2", "IT", ("P2", "P3"), frozenset({"applicant", "beneficiary"}),
             frozenset({"AFG", "SYR"}), frozenset({"ps", "ar"}), 1, 1, frozenset({"SE"}),
             frozenset(), ("DE", "NL", "FR"), dt.date(2026, 1, 5), "consent", 0b10, 0b01),
        Case("C3", "ES", ("P4",), frozenset({"beneficiary"}), frozenset({""}), frozenset(), 0,
             0, frozenset(), frozenset(), (), None, None),
    ]
    assert typed(cases) == typed(expected)
    assert all(type(c) is Case for c in cases)
    assert build_cases(frame_of(rows).iloc[:0]) == []


@pytest.mark.parametrize("seed", range(6))
def test_build_cases_matches_the_row_by_row_reference(seed: int) -> None:
    rng = random.Random(seed)
    choices = {"status": ["", "applicant", "beneficiary"], "consent": ["", "yes", "false"],
               "security_cleared": ["", "true", "0"], "nationality": ["", "SYR", "afg"],
               "languages": ["", "ar", "en;FR", "ar; ar"], "vulnerable": ["", "1", "no"],
               "unaccompanied_minor": ["", "true", "false"], "family_links": ["", "de;SE"],
               "other_links": ["", "AT"], "preferences": ["", "FR", "DE;FR;DE", "nl"],
               "registered": ["", "2026-01-01", "2025-12-31"]}
    rows = []
    for n in range(300):
        case = rng.randrange(120)
        row = {"person_id": f"P{rng.randrange(10**6):06d}-{n}", "case_id": f"C{case:03d}",
               "location": ["IT", "EL", "ES"][case % 3]}
        # Half the rows take every value of their case's first draw: families that agree.
        pick = random.Random(case) if rng.random() < 0.5 else rng
        row.update({c: pick.choice(v) for c, v in choices.items()})
        rows.append(row)
    assert typed(build_cases(frame_of(rows))) == typed(reference(rows))
