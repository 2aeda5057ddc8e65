"""The loader's fast paths give what the general paths give.

`planner.inputs.load` splits a plain CSV text (no quote, no whitespace but newlines) itself instead
of
going through `csv.reader`; `planner.inputs.candidates.build_cases` builds cases column by column.
Each is compared here with the general path (forced) or with a row-by-row reference written
from the rules, on texts made to hit every branch, and one small case list is checked by hand.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest

import planner.inputs.reader
from models.cases import Case
from planner.inputs.candidates import BOOLEANS, build_cases
from planner.inputs.reader import Reader, Unreadable, _records

pytestmark = pytest.mark.unit

HEADER = "case_id,state"


def table(folder: Path, text: str, monkeypatch: pytest.MonkeyPatch | None = None):
    """read_table's rows, named cells and problems for `text`; with `monkeypatch`, the
    general csv path is forced (a `_NOT_PLAIN` that matches every text)."""
    (folder / "transfers.csv").write_text(text, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        if monkeypatch is not None:
            patch.setattr(planner.inputs.reader, "_NOT_PLAIN", re.compile(""))
        reader = Reader(folder)
        found = reader.read_table("transfers.csv", False, ("case_id", "state"))
    assert found is not None
    return found.rows, found.named, found.usable, reader.problems


PLAIN = [
    f"{HEADER}\nC1,FR\nC2,DE\n",
    f"{HEADER}\nC1,FR\n\nC2,DE",  # blank line, no final newline
    f"{HEADER}\nC1,FR\n,\n,,\nC2\nC3,DE,\nC4,DE,x\n,FR\nC5,\n",  # separators only, widths
    f"{HEADER},,\nC1,FR,,\nC2,DE,\nC3,IT,,,\nC4,ES,x,\n",  # a spreadsheet's trailing commas
    "case_id;state\nC1;FR\nC2;DE;\nC3,DE\n",  # `;` separator
    f"{HEADER}\nC1,FR\nC1,FR\nC2,XX\nC3,de\n",
]


@pytest.mark.parametrize("text", PLAIN)
def test_plain_text_splits_as_csv_reader_does(tmp_path: Path, text: str) -> None:
    assert planner.inputs.reader._NOT_PLAIN.search(text) is None  # the fast path is the one taken
    assert table(tmp_path, text) == table(tmp_path, text, pytest.MonkeyPatch())


@pytest.mark.parametrize("text", [
    f'{HEADER}\n"C1",FR\n"C,2",DE\n',  # quotes
    f"{HEADER}\r\nC1,FR\r\nC2,DE\r\n",  # CRLF
    f"{HEADER}\nC1 ,FR\n  ,  \nC2,\tDE\n",  # cells to strip, a row of spaces
    f"{HEADER}\nC1,FR\x0bC2,DE\n",  # a line boundary of str.splitlines that is not \n
])
def test_other_texts_take_the_csv_reader(tmp_path: Path, text: str) -> None:
    assert planner.inputs.reader._NOT_PLAIN.search(text) is not None
    assert table(tmp_path, text) == table(tmp_path, text, pytest.MonkeyPatch())


def test_plain_path_line_numbers_and_problems(tmp_path: Path) -> None:
    rows, named, usable, problems = table(tmp_path, f"{HEADER}\nC1,FR\n\n,\nC2,DE,x\nC3,IT\n")
    assert usable
    assert rows == [(2, {"case_id": "C1", "state": "FR"}), (6, {"case_id": "C3", "state": "IT"})]
    assert named[1] == {"case_id": "C2", "state": "DE"}
    assert [(p.line, p.column, p.message) for p in problems] == [
        (5, "-", "row has 3 fields, the header has 2")]


def test_records_of_a_field_over_the_csv_limit_go_through_csv(tmp_path: Path) -> None:
    import csv
    long = "x" * (csv.field_size_limit() + 1)
    with pytest.raises(Unreadable):  # csv.reader's error: the plain path must not hide it
        list(_records(f"{HEADER}\nC1,{long}\n", ","))
    assert all(plain for _, _, plain in _records(f"{HEADER}\nC1,FR\n", ","))


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
