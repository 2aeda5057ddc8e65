"""`planner run --as-of DATE [--pacing X]` through the console script (issue 15, item 3): the run
folder records the date, `planner verify` re-checks a re-plan against the instance as of its
date, and bad options or dates exit 2 with nothing written."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HANG_S

pytestmark = [pytest.mark.solver, pytest.mark.cli]

BASE = Path(__file__).parent / "data" / "bad" / "ok-base"
PLANNER = Path(sys.executable).parent / "planner"


def planner(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PLANNER), *map(str, args)], capture_output=True, text=True,
                          timeout=HANG_S, check=False)


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "inst"
    shutil.copytree(BASE, folder)
    (folder / "expected.txt").unlink()
    (folder / "implementation.csv").write_text(
        "date,state,measure,amount,benefitting,reference\n"
        "2026-03-01,BE,financial,150000,IT,BE-P1\n", encoding="utf-8")
    (folder / "transfers.csv").write_text("case_id,state,date\nC02,AT,2026-05-01\n"
                                          "C05,DE,2026-09-01\n", encoding="utf-8")
    return folder


def test_run_as_of_records_the_date_and_verify_rechecks_it(tmp_path: Path) -> None:
    folder, out = _folder(tmp_path), tmp_path / "june"
    done = planner("run", folder, "--as-of", "2026-06-30", "--pacing", "1", "--out", out, "-q")
    assert done.returncode == 0, done.stderr
    replan = json.loads((out / "summary.json").read_text(encoding="utf-8"))["replan"]
    assert (replan["as_of"], replan["pacing"], replan["period_days"], replan["days_left"]) == (
        "2026-06-30", 1.0, 31, 184)
    assert replan["fixed"] == {"BE": {"financial": 150000.0}}
    # The terminal says it too (and report.html, among the information lines).
    assert "information: re-plan as of 2026-06-30 (184 days left): fixed by then: 1 " \
        "contributor measures of the ledger" in done.stdout
    assert "re-plan as of 2026-06-30" in (out / "report.html").read_text(encoding="utf-8")
    checked = planner("verify", out, "--instance", folder)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith(f"{out}: verified (")
    # The same folder is not the annual plan of these inputs: BE-2's floor, C05 matched freely.
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    del summary["replan"]
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    rejected = planner("verify", out, "--instance", folder)
    assert rejected.returncode == 3
    assert "plan.csv:4: min: 150000 differs from pledges.csv (0)" in rejected.stderr


def test_bad_as_of_options_exit_2_and_write_nothing(tmp_path: Path) -> None:
    folder, out = _folder(tmp_path), tmp_path / "out"
    done = planner("run", folder, "--as-of", "30/06/2026", "--pacing", "-1", "--out", out)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "--as-of: '30/06/2026' is not an ISO date (YYYY-MM-DD)",
        "--pacing: -1 is not a factor from 0 (no cap) to 1000"]
    alone = planner("run", folder, "--pacing", "1", "--out", out)
    assert alone.returncode == 2
    assert alone.stderr.splitlines() == ["--pacing: only with --as-of (the pacing of a re-plan)"]
    outside = planner("run", folder, "--as-of", "2027-01-01", "--out", out, "-q")
    assert outside.returncode == 2
    assert outside.stderr.splitlines() == [
        f"{folder / 'instance.toml'}:0: cycle: --as-of 2027-01-01 is outside the cycle 2026 "
        "(2026-01-01 to 2026-12-31)"]
    assert not out.exists()
