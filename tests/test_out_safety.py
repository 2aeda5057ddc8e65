"""`--out` never destroys what the planner did not write (issue #12, item 1;
planner.outputs.outdir).

`planner run` and `planner compare` replace their `--out` folder as a whole. They refuse (exit
2, one `--out: ...` line saying why and what to do, before anything is read, nothing changed)
a target that is the instance folder or above it, the current folder, a file, a symbolic link,
a non-empty folder without the planner's marker, a results folder holding files the planner
did not write, or results of the other command. Previous results, results of earlier versions
(summary.json with `version`), empty folders and new folders (also inside the instance) are
fine. Killed runs' leftovers beside the target are removed; a second run into the same place
is refused while the first holds its lock; a failed publication puts the previous folder back.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HANG_S

from planner.outputs import export

pytestmark = [pytest.mark.solver, pytest.mark.cli]

MARKER = ".planner-results"  # planner.outputs.outdir.MARKER

REPO = Path(__file__).resolve().parents[1]
EU_2026 = REPO / "instances" / "eu-2026"
PLANNER = Path(sys.executable).parent / "planner"


def planner(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PLANNER), *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=HANG_S, check=False)


def tree(folder: Path) -> dict[str, bytes | str]:
    """Every entry under `folder` (links not followed): a file's bytes, a link's target."""
    found: dict[str, bytes | str] = {}
    for top, dirs, files in os.walk(folder):
        for name in sorted(dirs + files):
            path = Path(top) / name
            key = path.relative_to(folder).as_posix()
            found[key] = (f"-> {os.readlink(path)}" if path.is_symlink() else
                          "folder" if path.is_dir() else path.read_bytes())
    return found


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """A run of eu-2026 and a comparison of it with one variant, made by the planner."""
    base = tmp_path_factory.mktemp("made")
    done = planner("run", EU_2026, "--out", base / "run", "-q", cwd=base)
    assert done.returncode == 0, done.stderr
    done = planner("compare", EU_2026, "--variant", "no-deductions", "--out", base / "compare",
                   "-q", cwd=base)
    assert done.returncode == 0, done.stderr
    return base


@pytest.fixture()
def here(tmp_path, results) -> Path:
    """tmp_path/inst (a copy of eu-2026), run/ and compare/ (copies of the results above),
    notes/ (a user's folder) and a file."""
    shutil.copytree(EU_2026, tmp_path / "inst")
    shutil.copytree(results / "run", tmp_path / "run", symlinks=True)
    shutil.copytree(results / "compare", tmp_path / "compare", symlinks=True)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "draft.txt").write_text("mine\n", encoding="utf-8")
    (tmp_path / "a-file").write_text("mine\n", encoding="utf-8")
    (tmp_path / "link").symlink_to(tmp_path / "run")
    return tmp_path


def refused(done: subprocess.CompletedProcess[str], out: str, reason: str) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.startswith(f"--out: {out} {reason}"), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr  # that line alone: nothing was read


@pytest.mark.parametrize(("command", "out", "reason", "advice"), [
    ("run", "inst", "is the instance folder: replacing it would erase the inputs",
     "choose a folder of its own, e.g. results/inst/base"),
    ("compare", "inst", "is the instance folder", "e.g. results/inst/compare"),
    ("run", ".", "contains the instance folder inst", "e.g. results/inst/base"),
    ("run", "a-file", "is a file, not a results folder",
     "choose another --out, or move the file away"),
    ("compare", "a-file", "is a file, not a results folder", "choose another --out"),
    ("run", "link", "is a symbolic link: the planner does not replace links",
     "give the folder itself, or a new folder"),
    ("run", "notes", "is a folder the planner did not write (no .planner-results in it) and "
     "not empty", "choose a new or empty folder, e.g. notes/results"),
    ("compare", "notes", "is a folder the planner did not write", "e.g. notes/results"),
    ("run", "compare", "holds a comparison (planner compare), not a run's results",
     "choose another --out, or remove that folder first"),
    ("compare", "run", "holds a run's results (planner run), not a comparison",
     "remove that folder first"),
])
def test_refused_before_anything_is_read(here, command, out, reason, advice):
    before = tree(here)
    done = planner(command, "inst", "--out", out, cwd=here)  # not -q: no progress line either
    refused(done, out, reason)
    assert advice in done.stderr
    assert tree(here) == before


def test_the_instance_through_another_spelling_is_refused(here):
    """`..` and links in the path are resolved before the comparison with the instance."""
    (here / "alias").symlink_to(here)
    before = tree(here)
    for out in ("inst/../inst", "alias/inst", str(here / "alias" / "inst" / "..")):
        done = planner("run", "inst", "--out", out, cwd=here)
        assert done.returncode == 2, done.stderr
        assert "instance folder" in done.stderr
    assert tree(here) == before


def test_the_current_folder_is_refused(here):
    """`--out .` in a folder that does not hold the instance: still the user's folder."""
    before = tree(here)
    done = planner("run", here / "inst", "--out", ".", cwd=here / "notes")
    refused(done, ".", "is the current folder or contains it")
    assert tree(here) == before


def test_results_with_a_file_added_are_refused_and_named(here):
    (here / "run" / "my-notes.txt").write_text("mine\n", encoding="utf-8")
    (here / "compare" / "base" / "extra.csv").write_text("x\n", encoding="utf-8")
    before = tree(here)
    done = planner("run", "inst", "--out", "run", cwd=here)
    refused(done, "run", "holds files the planner did not write (my-notes.txt): --out is "
            "replaced as a whole, so they would be lost; move them out of it, or choose "
            "another --out")
    done = planner("compare", "inst", "--variant", "no-deductions", "--out", "compare",
                   cwd=here)
    refused(done, "compare", "holds files the planner did not write (base/extra.csv)")
    assert tree(here) == before


def test_previous_results_are_replaced_and_carry_the_marker(here, results):
    done = planner("run", "inst", "--out", "run", "-q", cwd=here)
    assert done.returncode == 0, done.stderr
    marker = json.loads((here / "run" / MARKER).read_text(encoding="utf-8"))
    written = sorted(p.name for p in (here / "run").iterdir() if p.name != MARKER)
    assert marker == {"kind": "run", "version": marker["version"], "files": written}
    assert {"plan.csv", "allocation.csv", "summary.json", "report.html"} <= set(written)
    assert sorted(p.name for p in here.iterdir()) == ["a-file", "compare", "inst", "link",
                                                      "notes", "run"]
    done = planner("compare", "inst", "--variant", "no-deductions", "--out", "compare", "-q",
                   cwd=here)
    assert done.returncode == 0, done.stderr
    marker = json.loads((here / "compare" / MARKER).read_text(encoding="utf-8"))
    assert marker["kind"] == "compare"
    assert "base/summary.json" in marker["files"] and "base/.planner-results" in marker["files"]
    assert "comparison/kpis.csv" in marker["files"]


def test_results_of_earlier_versions_are_recognised(here):
    """No marker, but a summary.json with `version` among the files runs write."""
    (here / "run" / MARKER).unlink()
    (here / "compare" / MARKER).unlink()
    done = planner("run", "inst", "--out", "run", "-q", cwd=here)
    assert done.returncode == 0, done.stderr
    assert (here / "run" / MARKER).is_file()
    done = planner("compare", "inst", "--variant", "no-deductions", "--out", "compare", "-q",
                   cwd=here)
    assert done.returncode == 0, done.stderr
    # Without a version, a summary.json alone does not make a folder the planner's.
    (here / "notes" / "summary.json").write_text("{}\n", encoding="utf-8")
    done = planner("run", "inst", "--out", "notes", cwd=here)
    refused(done, "notes", "is a folder the planner did not write")


def test_an_empty_folder_and_a_folder_inside_the_instance_are_fine(here):
    (here / "empty").mkdir()
    inputs = tree(here / "inst")
    for out in ("empty", "inst/results"):
        done = planner("run", "inst", "--out", out, "-q", cwd=here)
        assert done.returncode == 0, done.stderr
        assert (here / out / "plan.csv").is_file()
        assert (here / out / MARKER).is_file()  # a later run may replace it
    assert {k: v for k, v in tree(here / "inst").items()
            if not k.startswith("results")} == inputs


def test_leftovers_of_killed_runs_are_removed(here):
    """Staging and old folders (tempfile.mkdtemp's names) beside the target go; those of
    another target, and anything else, stay."""
    for name in (".run.abcd1234.tmp", ".run.k_9xyzab.old", ".run.x.abcd1234.tmp",
                 ".runs.abcd1234.tmp", ".run.abc.tmp"):
        (here / name).mkdir()
        (here / name / "plan.csv").write_text("x\n", encoding="utf-8")
    (here / ".run.lock").write_text("999999\n", encoding="utf-8")  # a killed run's lock
    done = planner("run", "inst", "--out", "run", "-q", cwd=here)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in here.iterdir() if p.name.startswith(".")) == [
        ".run.abc.tmp", ".run.x.abcd1234.tmp", ".runs.abcd1234.tmp"]


def test_a_second_run_into_the_same_place_is_refused(here):
    """The first run holds `.NAME.lock` from before it reads anything until it has finished:
    stopped (SIGSTOP) after its first progress line, a second run into the same folder is
    refused; let go, the first one finishes normally."""
    first = subprocess.Popen([str(PLANNER), "run", "inst", "--out", "run"], cwd=here,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert first.stderr is not None
        line = first.stderr.readline()
        assert line.startswith("[planner] loading"), line
        first.send_signal(signal.SIGSTOP)
        before = tree(here / "run")
        second = planner("run", "inst", "--out", "run", cwd=here)
        refused(second, "run", f"is being written by another planner run (process "
                f"{first.pid}); wait until it ends, or choose another --out")
        assert tree(here / "run") == before
        first.send_signal(signal.SIGCONT)
        _, rest = first.communicate(timeout=HANG_S)
    finally:
        first.kill()
    assert first.returncode == 0, rest
    assert not (here / ".run.lock").exists()  # released and removed


def test_a_held_lock_refuses_compare_too(here):
    with (here / ".compare.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        done = planner("compare", "inst", "--variant", "no-deductions", "--out", "compare",
                       cwd=here)
    refused(done, "compare", "is being written by another planner run; wait until it ends")


def test_a_failed_publication_puts_the_previous_folder_back(tmp_path, monkeypatch):
    out = tmp_path / "run"
    out.mkdir()
    (out / "plan.csv").write_text("previous\n", encoding="utf-8")
    staged = export.staging_folder(out)
    (staged / "plan.csv").write_text("new\n", encoding="utf-8")
    real = os.replace

    def failing(source, target):
        if Path(source) == staged:
            raise OSError(28, "No space left on device")
        real(source, target)
    monkeypatch.setattr(export.os, "replace", failing)
    with pytest.raises(OSError):
        export.publish(staged, out)
    export.discard(staged)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert (out / "plan.csv").read_text(encoding="utf-8") == "previous\n"
