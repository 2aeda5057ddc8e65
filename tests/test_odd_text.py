"""Odd text in the inputs (issue #5, part 5): very long cells and odd Unicode in state names,
pledge ids, person and case ids. The outputs stay byte-stable and valid CSV: every table reads
back through the csv module with its header's columns, and the odd values come back exactly.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from conftest import pledge, state, write_csv

from planner.pipeline import run
from planner.solve import Solver

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
PLEDGE_IDS = ["p,1", 'p"2', "ø-ü-ß-\u05e4", "x" * 2_000, "\U0001f30d;globe", "=cmd|' /C calc'!A0"]
PERSONS = ["person-\u03a9", "\u30b1\u30fc\u30b9-1", "p\u200b-zero-width", "p" * 3_000, "p,comma"]


def odd_instance(make_instance) -> Path:
    states = [state(code, 1_000_000 * (i + 1), 10_000 * (i + 1)) | {"name": name}
              for i, (code, name) in enumerate(NAMES.items())]
    states[3]["benefitting"] = "true"
    states[4]["benefitting"] = "true"
    pledges = [pledge(pid, ("AA", "BB", "CC")[i % 3], "relocation", 0, 4)
               for i, pid in enumerate(PLEDGE_IDS)]
    folder = make_instance(states, pledges, relocations=40, financial=800_000, name="odd")
    write_csv(folder / "candidates.csv", [
        {"person_id": pid, "case_id": f"case {pid}", "location": ("DD", "EE")[i % 2]}
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
    run(folder, tmp_path / "one", Solver())
    run(folder, tmp_path / "two", Solver())
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
    assert all(r["case_id"] == f"case {r['person_id']}" for r in persons)
    assert {r["pledge_id"] for r in tables["assignments.csv"]} <= set(PLEDGE_IDS)
    assert len(tables["assignments.csv"]) == len(PERSONS)  # 24 places for 5 single persons


def test_odd_text_in_the_command_line(make_instance, tmp_path):
    """The table on stdout copes with the odd names, and -q leaves stderr empty."""
    folder = odd_instance(make_instance)
    done = subprocess.run([str(PLANNER), "run", str(folder), "--out", str(tmp_path / "out"),
                           "-q"], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.rstrip("\n").splitlines()[-1] == \
        f"status optimal; results in {tmp_path / 'out'}"
    assert done.stderr == ""
