"""Determinism (issue #5, part 3): the same inputs give byte-identical output files, and
shuffling the rows of every input table gives the same plan, byte for byte.

Compared: every file the run writes; summary.json as data without `timings_s` (wall-clock
times) and, for shuffled inputs only, without `input_sha256`, which hashes the input files'
bytes and so changes when their rows are reordered.
"""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
from pathlib import Path

import pytest
from conftest import pledge, state, write_csv

from planner.optimise.solve import SolverOptions
from planner.pipeline import run

pytestmark = pytest.mark.solver

REPO = Path(__file__).resolve().parents[1]
TABLES = ("member_states.csv", "pledges.csv", "needs.csv", "candidates.csv", "transfers.csv",
          "rejections.csv")


def small_instance(make_instance) -> Path:
    """Every input table, with ties for the solver to break: equal pledge rows, equal cases."""
    states = [state("AA", 2_000_000, 20_000), state("BB"), state("CC"), state("FF"),
              state("DD", benefitting="true", status="pressure"),
              state("EE", benefitting="true"), state("GG", deduction="0.5")]
    pledges = [pledge("a1", "AA", "relocation", 0, 6), pledge("a2", "AA", "relocation", 0, 6),
               pledge("b1", "BB", "relocation", 2, 8, beneficiary="DD", nationalities="SYR;AFG"),
               pledge("c1", "CC", "relocation", 0, 4, beneficiary="EE", max_case_size=2),
               pledge("f1", "FF", "relocation", 0, 4),
               pledge("am", "AA", "financial", 0, 300_000, preference=2),
               pledge("cm", "CC", "financial", 0, 200_000),
               pledge("fm", "FF", "financial", 0, 200_000),
               pledge("g1", "GG", "relocation", 0, 3)]
    folder = make_instance(states, pledges,
                           needs=[{"state": "DD", "measure": "relocation", "amount": 14},
                                  {"state": "EE", "measure": "relocation", "amount": 10},
                                  {"state": "DD", "measure": "financial", "amount": 200_000}],
                           relocations=80, financial=1_600_000, name="small")
    rows = []
    for c in range(36):
        for p in range(1 + c % 3):
            rows.append({"person_id": f"p{c:02}-{p}", "case_id": f"c{c:02}",
                         "location": "DD" if c % 2 else "EE",
                         "nationality": ("SYR", "AFG", "ERI")[c % 3],
                         "languages": "ar;en" if c % 4 == 0 else "",
                         "vulnerable": "true" if c % 7 == 0 else "false",
                         "family_links": "BB" if c % 5 == 0 else "",
                         "registered": "2025-01-01" if c % 2 else "2025-02-01"})
    write_csv(folder / "candidates.csv", rows)
    write_csv(folder / "transfers.csv", [{"case_id": "c03", "state": "AA"}],
              ["case_id", "state"])
    write_csv(folder / "rejections.csv", [{"case_id": "c05", "state": "BB"},
                                          {"case_id": "c07", "state": "AA"}],
              ["case_id", "state"])
    return folder


def shuffled_copy(folder: Path, into: Path, seed: int) -> Path:
    """The instance with the data rows of every CSV table in a random order (the folder's
    name is the instance's name, so `into` keeps it)."""
    shutil.copytree(folder, into)
    rng = random.Random(seed)
    for name in TABLES:
        path = into / name
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            header, *rows = list(csv.reader(handle))
        order = list(rows)
        while len(rows) > 1 and order == rows:
            rng.shuffle(order)
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows([header, *order])
        path.write_text(text.getvalue(), encoding="utf-8")
    return into


def outputs(folder: Path, drop: tuple[str, ...]) -> dict[str, object]:
    """Every file's bytes; summary.json as data without the `drop` keys (a dropped
    input_sha256 is also blanked wherever another file quotes it, e.g. the HTML report)."""
    files: dict[str, object] = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    summary = json.loads(files.pop("summary.json"))  # type: ignore[arg-type]
    sha = summary["input_sha256"].encode()
    for key in drop:
        summary.pop(key)
    if "input_sha256" in drop:
        files = {name: data.replace(sha, b"<input_sha256>")  # type: ignore[attr-defined]
                 for name, data in files.items()}
    files["summary.json"] = summary
    return files


@pytest.fixture
def small(make_instance) -> Path:
    return small_instance(make_instance)


def test_same_inputs_give_byte_identical_files(small, tmp_path):
    run(small, tmp_path / "one", SolverOptions())
    run(small, tmp_path / "two", SolverOptions())
    one, two = outputs(tmp_path / "one", ("timings_s",)), outputs(tmp_path / "two",
                                                                  ("timings_s",))
    assert set(one) >= {"plan.csv", "assignments.csv", "unassigned.csv", "summary.json"}
    assert one == two


@pytest.mark.parametrize("seed", [1, 2])
def test_shuffled_rows_give_the_same_plan(small, tmp_path, seed):
    base = run(small, tmp_path / "base", SolverOptions())
    assert base.summary.matching.persons_assigned > 0
    assert base.summary.matching.unassigned_by_reason.get("capacity", 0) > 0  # a real choice
    shuffled = shuffled_copy(small, tmp_path / "shuffled" / small.name, seed)
    assert (shuffled / "candidates.csv").read_bytes() != (small / "candidates.csv").read_bytes()
    run(shuffled, tmp_path / "after", SolverOptions())
    before = outputs(tmp_path / "base", ("timings_s", "input_sha256"))
    after = outputs(tmp_path / "after", ("timings_s", "input_sha256"))
    assert before == after


def test_shuffled_eu_2026_gives_the_same_plan(tmp_path):
    """The bundled instance (27 states, 26 pledges, 12 needs, 1,200 candidates)."""
    original = REPO / "instances" / "eu-2026"
    shuffled = shuffled_copy(original, tmp_path / "shuffled" / "eu-2026", seed=7)
    run(original, tmp_path / "base", SolverOptions())
    run(shuffled, tmp_path / "after", SolverOptions())
    assert outputs(tmp_path / "base", ("timings_s", "input_sha256")) == \
        outputs(tmp_path / "after", ("timings_s", "input_sha256"))
