"""One process per command (issue 13): the cyclic collector as `planner` runs with it frees
what repeated runs leave; matplotlib is imported only when the report draws a chart; the
command's output is flushed before `os._exit`, with the command's exit code."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import HANG_S

from planner.cli import YOUNG_THRESHOLD, collector
from planner.optimise.solve import SolverOptions
from planner.outputs import alongside
from planner.outputs.alongside import can_fork
from planner.pipeline import run

pytestmark = pytest.mark.cli

REPO = Path(__file__).resolve().parents[1]
PLANNER = Path(sys.executable).parent / "planner"
RUNS = 6


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    """eu-2026 without its candidates: a whole run (report and charts included) in a third
    of a second."""
    folder = tmp_path / "eu-2026"
    shutil.copytree(REPO / "instances" / "eu-2026", folder)
    (folder / "candidates.csv").unlink()
    return folder


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    """eu-2026 with one bad cell: pledges.csv line 2, `min` not a number."""
    folder = tmp_path / "bad"
    shutil.copytree(REPO / "instances" / "eu-2026", folder)
    pledges = folder / "pledges.csv"
    lines = pledges.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].replace(",4555,4555,", ",abc,4555,", 1)
    pledges.write_text("".join(lines), encoding="utf-8")
    return folder


@pytest.fixture
def restored_collector() -> Iterator[None]:
    """The test process's own collector settings, back after the test."""
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.set_threshold(*threshold)
    (gc.enable if enabled else gc.disable)()


def test_repeated_runs_in_one_process_do_not_keep_their_garbage(
        plain: Path, tmp_path: Path, restored_collector: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The report drawn in this process, as where no child is forked for it
    # (planner.outputs.alongside): its matplotlib figures are most of a run's cycles.
    monkeypatch.setattr(alongside, "FORK", False)
    # What one run leaves in reference cycles (matplotlib's figures among them), counted
    # with the collector off: what every run would add to the process under gc.disable().
    gc.disable()
    run(plain, tmp_path / "first", SolverOptions())
    left = gc.collect()
    assert left > 1_000  # the runs do make cycles: else this test would prove nothing
    collector()
    assert gc.isenabled()
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    for n in range(RUNS):
        run(plain, tmp_path / str(n), SolverOptions())
    gc.disable()
    pending = gc.collect()  # the garbage the runs left that the collector has not freed yet
    # At most the young generation's worth and a run's: not RUNS runs' worth.
    assert pending < YOUNG_THRESHOLD + left < RUNS * left


def command(*args: str, env: dict[str, str] | None = None, stdout: object = subprocess.PIPE
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PLANNER), *args], cwd=REPO, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=HANG_S, check=False,
                          env=env)


def buffered() -> dict[str, str]:
    """The environment with stdout block-buffered, as a user's shell has it (PYTHONUNBUFFERED
    would make every print a write of its own, and there would be nothing to flush)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def test_output_is_flushed_before_the_process_ends(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with target.open("w") as handle:
        done = command("validate", env=buffered(), stdout=handle)
    assert (done.returncode, done.stderr) == (0, "")
    assert target.read_text() == "instances/eu-2026: valid (27 states, 24 pledges, 12 needs)\n"


def test_a_closed_stdout_keeps_the_exit_code_and_prints_no_traceback() -> None:
    """`planner validate | true`: the output cannot be written; the command's own exit code
    stays (a normal interpreter exit printed "Exception ignored ... BrokenPipeError" and
    exited 120)."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = command("validate", env=buffered(), stdout=write)
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (0, "")


def test_bad_input_exit_code_and_its_problem_survive_the_fast_exit(bad: Path, tmp_path: Path
                                                                   ) -> None:
    done = command("run", str(bad), "--out", str(tmp_path / "out"), "-q", env=buffered())
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"{bad / 'pledges.csv'}:2: min: not a number: 'abc'\n"
    assert not (tmp_path / "out").exists()


# `planner` with `_leave` reporting, as the process ends, whether matplotlib was imported, and
# the report's writer reporting it as the report starts and ends.
WATCHED = """
import os, sys
import planner.cli as cli
import planner.pipeline as pipeline

def seen(when):
    print(when, "matplotlib" in sys.modules, file=sys.stderr)

def write_report(folder, instance=None):
    seen("report starts:")
    report(folder, instance)
    seen("report written:")

def leave(code):
    seen("end:")
    sys.stderr.flush()
    os._exit(code)

report, pipeline.write_report, cli._leave = pipeline.write_report, write_report, leave
sys.argv[0] = "planner"
cli.main()
"""


def watched(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", WATCHED, *args], cwd=REPO,
                          capture_output=True, text=True, timeout=HANG_S, check=False)
    return [line for line in done.stderr.splitlines() if line.split(":")[0] in
            ("report starts", "report written", "end")]


@pytest.mark.parametrize("args", [("--help",), ("validate",), ("validate", "--variant", "none")])
def test_commands_that_draw_nothing_do_not_import_matplotlib(args: tuple[str, ...]) -> None:
    assert watched(*args) == ["end: False"]


def test_a_run_of_bad_input_does_not_import_matplotlib(bad: Path, tmp_path: Path) -> None:
    assert watched("run", str(bad), "--out", str(tmp_path / "out"), "-q") == ["end: False"]


def test_a_run_imports_matplotlib_only_for_the_report(plain: Path, tmp_path: Path) -> None:
    """Where the report is made in a forked child (planner.outputs.alongside), the command's
    own process never imports matplotlib, and the child has it imported (`preload`) by the
    time the report starts; elsewhere the command's process imports it for the report only."""
    fork = can_fork()
    assert watched("run", str(plain), "--out", str(tmp_path / "out"), "-q") == [
        f"report starts: {fork}", "report written: True", f"end: {not fork}"]


# `planner` with the report's writer reporting whether the cyclic collector is on as the run
# writes its report (the plan made, its rows alive), for `run` and for `compare`.
COLLECTING = """
import gc, sys
import planner.cli as cli
import planner.pipeline as pipeline

def write_report(folder, instance=None):
    print("collecting:", gc.isenabled(), file=sys.stderr)
    return report(folder, instance)

report, pipeline.write_report = pipeline.write_report, write_report
sys.argv[0] = "planner"
cli.main()
"""


def collecting(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", COLLECTING, *args], cwd=REPO,
                          capture_output=True, text=True, timeout=HANG_S, check=False)
    assert done.returncode == 0, done.stderr
    return [line for line in done.stderr.splitlines() if line.startswith("collecting:")]


def test_the_console_plans_one_run_with_the_collector_off(plain: Path, tmp_path: Path) -> None:
    assert collecting("run", str(plain), "--out", str(tmp_path / "out"), "-q") == [
        "collecting: False"]


def test_the_console_compares_with_the_collector_on(plain: Path, tmp_path: Path) -> None:
    variants = sorted(p.stem for p in (plain / "variants").glob("*.toml"))[:2]
    args = [a for v in variants for a in ("--variant", v)]
    assert collecting("compare", str(plain), *args, "--out", str(tmp_path / "cmp"), "-q",
                      "--jobs", "1") == ["collecting: True"] * (len(variants) + 1)


def test_a_run_invoked_in_process_leaves_the_collector_as_it_was(
        plain: Path, tmp_path: Path, restored_collector: None) -> None:
    """typer's CliRunner (the bad-input corpus) calls the command without `main`: a test
    process keeps collecting."""
    from typer.testing import CliRunner

    from planner.cli import app

    collector()
    result = CliRunner().invoke(app, ["run", str(plain), "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    assert gc.isenabled()
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD
