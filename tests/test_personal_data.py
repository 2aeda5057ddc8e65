"""Personal data (issue #5, part 6): candidate attributes never reach stdout, stderr or any
output but the candidate-level tables, which are created readable by the owner only.

The candidates carry values found nowhere else (person and case ids, nationality and language
codes, registration dates), so any leak shows as a match. Commands: `run` (default verbosity
and -q, with every export format), `validate` (both verbosities), `compare`, and bad input.
Error lines cite FILE:LINE: COLUMN and do not quote a candidate's cells, not even the malformed
one (the line number finds it); ids of other persons never appear.
"""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HANG_S, write_csv

pytestmark = [pytest.mark.solver, pytest.mark.cli]

REPO = Path(__file__).resolve().parents[1]
PLANNER = Path(sys.executable).parent / "planner"
EU_2026 = REPO / "instances" / "eu-2026"
LOCATIONS = ("EL", "IT", "ES", "CY")
NATIONALITIES = ("QZX", "XJQ", "ZQV")  # three letters, but no country's code
LANGUAGES = ("qx", "zj")  # two letters, but no language's code
# Stems of the files that may hold candidates: the CSV tables, and `persons` in the other
# formats (xlsx, json, ...); every other file is searched for leaks.
PERSONAL = ("assignments", "unassigned", "persons")


def candidate_rows() -> list[dict[str, object]]:
    rows = []
    for c in range(90):
        for p in range(1 + c % 3):
            rows.append({
                "person_id": f"PXQ{c:03}K{p}", "case_id": f"CZV{c:03}W",
                "location": LOCATIONS[c % 4],
                "status": "beneficiary" if c % 6 == 0 else "applicant",
                "consent": "true" if c % 12 else "false",
                "security_cleared": "false" if c % 17 == 0 else "true",
                "nationality": NATIONALITIES[c % 3],
                "languages": LANGUAGES[c % 2] + (";en" if c % 5 == 0 else ""),
                "vulnerable": "true" if c % 7 == 0 else "false",
                "family_links": "DE" if c % 4 == 0 else "",
                "registered": f"2019-{1 + c % 12:02}-{11 + c % 17:02}"})
    return rows


def secrets(rows: list[dict[str, object]]) -> list[re.Pattern[str]]:
    """Every person's id, case id, nationality, language codes and registration date."""
    values = {str(r[k]) for r in rows for k in ("person_id", "case_id", "registered")}
    values |= set(NATIONALITIES) | set(LANGUAGES)
    return [re.compile(rf"(?<![A-Za-z0-9]){re.escape(v)}(?![A-Za-z0-9])", re.IGNORECASE)
            for v in sorted(values)]


def leaks(text: str, patterns: list[re.Pattern[str]]) -> list[str]:
    return [p.pattern for p in patterns if p.search(text)]


def planner(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PLANNER), *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=HANG_S, check=False)


@pytest.fixture(scope="module")
def instance(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("personal") / "inst"
    shutil.copytree(EU_2026, folder)
    write_csv(folder / "candidates.csv", candidate_rows())
    (folder / "variants").mkdir(exist_ok=True)
    (folder / "variants" / "smaller.toml").write_text("[pool]\nrelocations = 15000\n",
                                                      encoding="utf-8")
    return folder


PATTERNS = secrets(candidate_rows())


def test_the_patterns_find_what_they_look_for(instance):
    """The search itself works: the candidates file holds every value."""
    text = (instance / "candidates.csv").read_text(encoding="utf-8")
    assert leaks(text, PATTERNS) == [p.pattern for p in PATTERNS]
    assert leaks("QZXA xqx 2019-01-111 PXQ000K00", PATTERNS) == []


@pytest.mark.parametrize("quiet", [False, True])
def test_run_prints_no_candidate_data(instance, tmp_path, quiet):
    """Quiet or not; the other formats once (they write no more to the terminal)."""
    out = tmp_path / "out"
    formats = () if quiet else ("--format", "xlsx", "--format", "json")
    done = planner("run", instance, "--out", out, *formats, *(["-q"] if quiet else []))
    assert done.returncode == 0, done.stderr
    assert quiet == ("[planner]" not in done.stderr)
    assert "matching:" in done.stdout  # the matching ran and was reported
    assert leaks(done.stdout + done.stderr, PATTERNS) == []
    files = sorted(p for p in out.rglob("*") if p.is_file())
    personal = [p for p in files if p.stem in PERSONAL]
    assert {p.suffix for p in personal} == ({".csv"} if quiet else {".csv", ".xlsx", ".json"})
    for path in personal:  # created readable and writable by the owner only
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert leaks((out / "assignments.csv").read_text(encoding="utf-8"), PATTERNS)
    for path in files:
        if path.stem in PERSONAL or path.suffix not in (".csv", ".json", ".html", ".md"):
            continue
        assert leaks(path.read_text(encoding="utf-8"), PATTERNS) == [], path.name


@pytest.mark.parametrize("quiet", [False, True])
def test_validate_prints_no_candidate_data(instance, quiet):
    done = planner("validate", instance, *(["-q"] if quiet else []))
    assert done.returncode == 0, done.stderr
    assert leaks(done.stdout + done.stderr, PATTERNS) == []


def test_compare_prints_no_candidate_data(instance, tmp_path):
    done = planner("compare", instance, "--variant", "smaller", "--out", tmp_path / "cmp",
                   "--jobs", "1")
    assert done.returncode == 0, done.stderr
    assert leaks(done.stdout + done.stderr, PATTERNS) == []
    for path in sorted((tmp_path / "cmp" / "comparison").rglob("*")):
        if path.is_file() and path.suffix in (".csv", ".json", ".html", ".md"):
            assert leaks(path.read_text(encoding="utf-8"), PATTERNS) == [], path.name


def test_bad_candidates_cite_lines_not_cells(instance, tmp_path):
    """Malformed cells on three lines: each problem names the line and column only."""
    rows = candidate_rows()
    rows[4]["nationality"] = "QZ1"
    rows[9]["registered"] = "2019-13-45"
    rows[20]["languages"] = "qxz"
    rows[30]["location"] = "DE"
    bad = tmp_path / "bad"
    shutil.copytree(instance, bad)
    write_csv(bad / "candidates.csv", rows)
    for command in (("validate", bad), ("run", bad, "--out", tmp_path / "out", "-q")):
        done = planner(*command)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        lines = done.stderr.splitlines()
        assert [line.split(": ")[0:2] for line in lines] == [
            [f"{bad}/candidates.csv:6", "nationality"],
            [f"{bad}/candidates.csv:11", "registered"],
            [f"{bad}/candidates.csv:22", "languages"],
            [f"{bad}/candidates.csv:32", "location"]], done.stderr
        malformed = [re.compile(re.escape(v)) for v in ("QZ1", "2019-13-45", "qxz")]
        assert leaks(done.stdout + done.stderr, PATTERNS + malformed) == []
    assert not (tmp_path / "out").exists()
