"""Ctrl-C (SIGINT) and SIGTERM during a run (issue #5, part 4): an orderly exit, 130 or 143,
"interrupted: nothing was written", no traceback, the existing results folder untouched (or
still absent), and no staging (`.NAME.xxxx.tmp`) or old (`.old`) folders left beside it.

The signal is sent to a real `planner run` once its progress line shows the stage: during the
matching (before any folder is made) and during verification (the staging folder exists). A
signal that arrives while HiGHS is inside a solve is handled when that solve returns.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PLANNER = Path(sys.executable).parent / "planner"
EU_2026 = REPO / "instances" / "eu-2026"


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> tuple[Path, Path]:
    """eu-2026 with 6,000 synthetic candidates (a run of a few seconds), and its results."""
    folder = tmp_path_factory.mktemp("signals") / "big"
    shutil.copytree(EU_2026, folder)
    done = subprocess.run([str(PLANNER), "generate", "--persons", "6000", "--out",
                           str(folder / "candidates.csv")], capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    results = folder.parent / "results"
    done = subprocess.run([str(PLANNER), "run", str(folder), "--out", str(results), "-q"],
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    return folder, results


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def interrupt(instance: Path, out: Path, signum: int, when: str) -> tuple[int, str, str]:
    """Start `planner run`, send `signum` once a progress line contains `when`; return the
    exit code, stdout and the whole stderr."""
    process = subprocess.Popen([str(PLANNER), "run", str(instance), "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    assert process.stderr is not None
    for line in process.stderr:
        seen.append(line)
        if when in line:
            process.send_signal(signum)
            break
    try:
        stdout, rest = process.communicate(timeout=120)
    finally:
        process.kill()
    assert any(when in line for line in seen), "".join(seen)
    return process.returncode, stdout, "".join(seen) + rest


@pytest.mark.parametrize(("signum", "code", "when"), [
    (signal.SIGINT, 130, "matching candidates"),
    (signal.SIGTERM, 143, "verifying the written plan")])
def test_signal_leaves_existing_results_untouched(big, tmp_path, signum, code, when):
    folder, results = big
    out = tmp_path / "results"
    shutil.copytree(results, out)
    before = snapshot(out)
    returncode, stdout, stderr = interrupt(folder, out, signum, when)
    assert returncode == code, stderr
    assert "Traceback" not in stderr
    assert stderr.splitlines()[-1] == "interrupted: nothing was written"
    assert stdout == ""
    assert snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["results"]


@pytest.mark.parametrize(("signum", "when"), [(signal.SIGINT, "verifying the written plan"),
                                              (signal.SIGTERM, "matching candidates")])
def test_signal_on_a_first_run_leaves_no_folder(big, tmp_path, signum, when):
    """While the plan is verified the staging folder exists: it goes, and no results folder
    appears."""
    folder, _ = big
    out = tmp_path / "parent" / "results"
    returncode, _, stderr = interrupt(folder, out, signum, when)
    assert returncode == 128 + signum, stderr
    assert "Traceback" not in stderr
    assert stderr.splitlines()[-1] == "interrupted: nothing was written"
    assert not (tmp_path / "parent").exists() or list((tmp_path / "parent").iterdir()) == []


def test_sigterm_during_compare_stops_the_workers_and_leaves_nothing(big, tmp_path):
    """`planner compare` plans in worker processes; SIGTERM reaches the parent alone. It ends
    the workers (their runs' staging folders go with them), exits 143 without a traceback,
    and neither the comparison folder nor a staging folder is left."""
    folder, _ = big
    variants = folder / "variants"
    out = tmp_path / "parent" / "compare"
    process = subprocess.Popen(
        [str(PLANNER), "compare", str(folder), "--variant", "no-deductions", "--variant",
         "redistribute-key", "--jobs", "2", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert variants.is_dir()
    seen = []
    assert process.stderr is not None
    for line in process.stderr:
        seen.append(line)
        if "matching candidates" in line:
            process.send_signal(signal.SIGTERM)
            break
    try:
        _, rest = process.communicate(timeout=120)
    finally:
        process.kill()
    stderr = "".join(seen) + rest
    assert any("matching candidates" in line for line in seen), stderr
    assert process.returncode == 143, stderr
    assert "Traceback" not in stderr
    assert stderr.splitlines()[-1] == "interrupted: nothing was written"
    assert not (tmp_path / "parent").exists() or list((tmp_path / "parent").iterdir()) == []
