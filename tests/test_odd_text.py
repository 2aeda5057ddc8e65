"""Odd text in the inputs (issue #5, part 5): very long cells and odd Unicode in state names,
pledge ids, person and case ids. The outputs stay byte-stable and valid CSV: every table reads
back through the csv module with its header's columns, and the odd values come back exactly.

Unsafe text (issue #12, item 8) is refused on input with its reason: a cell written back to
the outputs that a spreadsheet would run as a formula, control characters, invisible characters
and mixed scripts in ids; and a message that quotes user text shows it escaped.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HANG_S, pledge, state, write_csv

from planner.errors import InputError, PlanError, escape
from planner.inputs.load import load_instance
from planner.optimise.solve import SolverOptions
from planner.pipeline import run

pytestmark = [pytest.mark.solver, pytest.mark.cli]

PLANNER = Path(sys.executable).parent / "planner"
LONG = "Ünïcödé " * 1_250  # 10,000 characters
NAMES = {
    "AA": 'Name, with "quotes"; and a comma',
    "BB": "Ελλάδα \u200f\u05e2\u05d1\u05e8\u05d9\u05ea\u200e e\u0301 \U0001f468\u200d\U0001f469"
          "\u200d\U0001f467 \u00a0nbsp \ufeffbom",
    "CC": "line one\nline two\r\nline three",
    "DD": LONG,
    "EE": "  spaced  \t tab  ",
}
# Each id in one script (or Latin with Japanese), printable, not starting a formula.
PLEDGE_IDS = ["p,1", 'p"2', "ø-ü-ß", "\u05e4-\u05e2 1", "x" * 2_000, "\U0001f30d;globe",
              "cmd|' /C calc'!A0", "e\u0301-\u6f22\u5b57-\u304b\u30ab"]
PERSONS = ["\u03a0\u03b1-\u03a9", "\u30b1\u30fc\u30b9-1", "p-\u00e9", "p" * 3_000, "p,comma"]


def odd_instance(make_instance) -> Path:
    states = [state(code, 1_000_000 * (i + 1), 10_000 * (i + 1)) | {"name": name}
              for i, (code, name) in enumerate(NAMES.items())]
    states[3]["benefitting"] = "true"
    states[4]["benefitting"] = "true"
    pledges = [pledge(pid, ("AA", "BB", "CC")[i % 3], "relocation", 0, 4)
               for i, pid in enumerate(PLEDGE_IDS)]
    folder = make_instance(states, pledges, relocations=40, financial=800_000, name="odd")
    write_csv(folder / "candidates.csv", [
        {"person_id": pid, "case_id": f"#{pid}", "location": ("DD", "EE")[i % 2]}
        for i, pid in enumerate(PERSONS)])
    return folder


def read_table(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        header, *rows = list(reader)
    assert all(len(row) == len(header) for row in rows), path.name
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_odd_text_round_trips_and_is_byte_stable(make_instance, tmp_path):
    folder = odd_instance(make_instance)
    # run() verifies the written files (read back through the output models) itself.
    run(folder, tmp_path / "one", SolverOptions())
    run(folder, tmp_path / "two", SolverOptions())
    one, two = tmp_path / "one", tmp_path / "two"
    for path in sorted(one.iterdir()):
        if path.name != "summary.json":
            assert path.read_bytes() == (two / path.name).read_bytes(), path.name
    first, second = (json.loads((f / "summary.json").read_text(encoding="utf-8"))
                     for f in (one, two))
    first.pop("timings_s")
    second.pop("timings_s")
    assert first == second
    tables = {p.name: read_table(p) for p in sorted(one.glob("*.csv"))}
    # Cells are read with surrounding white space trimmed (the loader's rule); inside, exact.
    assert {r["state"]: r["name"] for r in tables["allocation.csv"]} == {
        code: name.strip() for code, name in NAMES.items()}
    assert {r["pledge_id"] for r in tables["plan.csv"]} == set(PLEDGE_IDS)
    persons = tables["assignments.csv"] + tables["unassigned.csv"]
    assert sorted(r["person_id"] for r in persons) == sorted(PERSONS)
    assert all(r["case_id"] == f"#{r['person_id']}" for r in persons)
    assert {r["pledge_id"] for r in tables["assignments.csv"]} <= set(PLEDGE_IDS)
    assert len(tables["assignments.csv"]) == len(PERSONS)  # 24 places for 5 single persons


def test_odd_text_in_the_command_line(make_instance, tmp_path):
    """The table on stdout copes with the odd names, and -q leaves stderr empty."""
    folder = odd_instance(make_instance)
    done = subprocess.run([str(PLANNER), "run", str(folder), "--out", str(tmp_path / "out"),
                           "-q"], capture_output=True, text=True, timeout=HANG_S, check=False)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.rstrip("\n").splitlines()[-1] == \
        f"status optimal; results in {tmp_path / 'out'}"
    assert done.stderr == ""


FORMULA = ("a spreadsheet opening the results would read the cell as a formula (formula "
           "injection); remove or change the first character")
SAME = "so that two ids that read the same are the same id"
MIXED = ("write an id in one script, so that a look-alike letter (Cyrillic 'а' for Latin 'a') "
         "cannot make two ids that read the same")


def unsafe_instance(make_instance) -> Path:
    """One unsafe text per row: formula starts, control characters, invisible characters and
    mixed scripts, in state names, pledge ids, person and case ids, nationalities and
    languages."""
    states = [state("AA", name="=HYPERLINK(\"http://x\")"), state("BB", name="B\x1b[31mred"),
              state("CC", name="+C"), state("DD", benefitting="true", name="@D"),
              state("EE", benefitting="true", name="E\x00")]
    pledges = [pledge(pid, "AA", "relocation", 0, 4) for pid in (
        "-1", "\t1", "a\x1b]0;title\x07", "a\u200bb", "a\u202eb", "a\u00adb", "D\u0415-1",
        "\u0440aypal", "a\u00a0b")] + [
        pledge("n1", "BB", "relocation", 0, 4, nationalities="SYR;\u0405YR")]
    folder = make_instance(states, pledges, relocations=40, financial=800_000, name="unsafe")
    write_csv(folder / "candidates.csv", [
        {"person_id": "=1+1", "case_id": "c1", "location": "DD"},
        {"person_id": "p2", "case_id": "c\u200d2", "location": "DD"},
        {"person_id": "p\u03bf3", "case_id": "c3", "location": "DD"},
        {"person_id": "p4", "case_id": "c4", "location": "DD", "languages": "ar;\u0435n"},
        {"person_id": "p5", "case_id": "c5", "location": "DD", "nationality": "\u0405YR"}])
    return folder


def test_unsafe_text_is_refused_with_its_reason(make_instance) -> None:
    folder = unsafe_instance(make_instance)
    with pytest.raises(InputError) as caught:
        load_instance(folder)
    lines = [str(p).replace(f"{folder}/", "") for p in caught.value.problems]
    assert lines == [
        f"member_states.csv:2: name: starts with '=': {FORMULA}",
        "member_states.csv:3: name: holds the control character '\\x1b': delete it",
        f"member_states.csv:4: name: starts with '+': {FORMULA}",
        f"member_states.csv:5: name: starts with '@': {FORMULA}",
        "member_states.csv:6: name: holds the control character '\\x00': delete it",
        f"pledges.csv:2: pledge_id: starts with '-': {FORMULA}",
        # A cell's surrounding white space is trimmed: '\t1' is the id '1'.
        "pledges.csv:4: pledge_id: holds the control character '\\x1b': delete it",
        f"pledges.csv:5: pledge_id: holds an invisible character (U+200B): delete it, {SAME}",
        f"pledges.csv:6: pledge_id: holds an invisible character (U+202E): delete it, {SAME}",
        f"pledges.csv:7: pledge_id: holds an invisible character (U+00AD): delete it, {SAME}",
        f"pledges.csv:8: pledge_id: mixes scripts (Cyrillic and Latin): {MIXED}",
        f"pledges.csv:9: pledge_id: mixes scripts (Cyrillic and Latin): {MIXED}",
        f"pledges.csv:10: pledge_id: holds an invisible character (U+00A0): delete it, {SAME}",
        "pledges.csv:11: nationalities: 'ЅYR' is not an ISO 3166-1 alpha-3 code",
        f"candidates.csv:2: person_id: starts with '=': {FORMULA}",
        f"candidates.csv:3: case_id: holds an invisible character (U+200D): delete it, {SAME}",
        f"candidates.csv:4: person_id: mixes scripts (Greek and Latin): {MIXED}",
        "candidates.csv:5: languages: not a ;-list of ISO 639-1 codes",
        "candidates.csv:6: nationality: not an ISO 3166-1 alpha-3 code"]


def test_user_text_in_messages_is_escaped(make_instance, tmp_path: Path) -> None:
    """An ANSI escape in a TOML key, a header or a cell reaches the terminal as `\\x1b`, never
    raw (it would recolour or clear the user's terminal)."""
    states = [state("AA"), state("BB", benefitting="true")]
    folder = make_instance(states, [pledge("AA\x1b[2J-1", "AA", "relocation", 0, 4),
                                    pledge("AA-2", "AA", "cash\x1b[31m", 0, 4)],
                           extra_toml='[offsets]\n"share\\u001b[5m" = 1\n', name="ansi")
    text = (folder / "pledges.csv").read_text()
    header, *rows = text.splitlines()
    (folder / "pledges.csv").write_text("\n".join(
        [header + ",n\x1b[0m,n\x1b[0m", *(row + ",," for row in rows)]) + "\n")
    done = subprocess.run([str(PLANNER), "validate", str(folder)], capture_output=True,
                          text=True, timeout=HANG_S, check=False)
    assert done.returncode == 2
    assert "\x1b" not in done.stderr
    assert [line.replace(f"{folder}/", "") for line in done.stderr.splitlines()] == [
        "instance.toml:8: offsets.share\\x1b[5m: unknown key",
        "pledges.csv:1: n\\x1b[0m: column appears twice in the header"]
    (folder / "pledges.csv").write_text(text)
    done = subprocess.run([str(PLANNER), "validate", str(folder)], capture_output=True,
                          text=True, timeout=HANG_S, check=False)
    assert "\x1b" not in done.stderr
    assert [line.replace(f"{folder}/", "") for line in done.stderr.splitlines()] == [
        "instance.toml:8: offsets.share\\x1b[5m: unknown key",
        "pledges.csv:2: pledge_id: holds the control character '\\x1b': delete it",
        "pledges.csv:3: measure: 'cash\\x1b[31m' is not one of: 'relocation', 'offset', "
        "'financial' or 'alternative'"]


def test_escape_writes_what_a_terminal_would_not_print_as_itself() -> None:
    assert escape("plain Ünïcödé 漢字 ✓") == "plain Ünïcödé 漢字 ✓"
    assert escape("a\x1b[31mb\tc\nd\u200be\u202ef\x00") == \
        "a\\x1b[31mb\\tc\\nd\\u200be\\u202ef\\x00"
    assert str(PlanError("no plan: stage x\x1b[2J\nline two\x07")) == \
        "no plan: stage x\\x1b[2J\nline two\\x07"
