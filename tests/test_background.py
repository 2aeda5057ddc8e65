"""The exports and report.html written by a child process while the plan is verified
(planner/background.py): the same bytes as in process; nothing published, and no child left,
when verification fails, the child fails or the input is bad; a child whose parent gives up
ends without writing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import HANG_S
from typer.testing import CliRunner

from planner import pipeline
from planner.background import Background, started
from planner.cli import app
from planner.errors import PlanError
from planner.formats import parquet_available
from planner.pipeline import run
from planner.solve import Solver

REPO = Path(__file__).resolve().parents[1]
EU_2026 = REPO / "instances" / "eu-2026"
BAD = REPO / "tests" / "data" / "bad" / "needs-missing-column"
PLANNER = Path(sys.executable).parent / "planner"
FORMATS = ("csv", "xlsx", "json", *(("parquet",) if parquet_available() else ()))
OPTIONS = [a for f in FORMATS[1:] for a in ("--format", f)]


def files(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder`: its bytes (summary.json without the wall-clock timings,
    which differ at every run) and its permission bits."""
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.name == "summary.json":
            summary = json.loads(data)
            summary.pop("timings_s")
            data = json.dumps(summary, sort_keys=True).encode()
        out[str(path.relative_to(folder))] = (data, path.stat().st_mode & 0o777)
    return out


def reaped(pid: int) -> bool:
    """`pid` is no child of this process any more: it has ended and been waited for."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def running(pid: int) -> bool:
    """`pid`, a child of this process, has not ended yet (if it has, it is reaped here)."""
    return os.waitpid(pid, os.WNOHANG) == (0, 0)


def gone(pid: int) -> bool:
    """No process `pid` runs (ended, or a zombie whose parent has not waited for it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


@pytest.fixture(scope="module")
def in_process(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """eu-2026 (1,200 candidates) in every format, exported in process (no child)."""
    out = tmp_path_factory.mktemp("in-process") / "results"
    run(EU_2026, out, Solver(), formats=FORMATS)
    return out


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The pid of every background child forked meanwhile."""
    pids: list[int] = []
    fork = Background.fork.__func__  # type: ignore[attr-defined]

    def recorded(cls: type[Background]) -> Background:
        child = fork(cls)
        pids.append(child.pid)
        return child
    monkeypatch.setattr(Background, "fork", classmethod(recorded))
    yield pids


def test_the_command_writes_the_same_bytes_as_in_process(in_process: Path, tmp_path: Path
                                                         ) -> None:
    """`planner run` exports in its child: every file of every format, byte for byte and mode
    for mode, as the in-process run made them; nothing printed on -q."""
    out = tmp_path / "results"
    done = subprocess.run([str(PLANNER), "run", str(EU_2026), "--out", str(out), "-q",
                           *OPTIONS], capture_output=True, text=True, timeout=HANG_S, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    expected = files(in_process)
    assert "report.html" in expected and "persons.json" in expected
    assert expected["assignments.csv"][1] == expected["persons.xlsx"][1] == 0o600
    assert files(out) == expected
    assert [p.name for p in tmp_path.iterdir()] == ["results"]


def test_pipeline_with_a_child_writes_the_same_bytes(in_process: Path, tmp_path: Path,
                                                     forks: list[int]) -> None:
    out = tmp_path / "results"
    with started() as background:
        assert background is not None
        run(EU_2026, out, Solver(), formats=FORMATS, background=background)
        assert reaped(background.pid)  # waited for before the folder was published
    assert forks == [background.pid]
    assert files(out) == files(in_process)


@pytest.mark.parametrize("child_done", [False, True])
def test_verification_failure_stops_the_child_and_publishes_nothing(
        in_process: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        child_done: bool) -> None:
    """The verifier rejects the plan while the child is still exporting, or once it has
    written report.html into the staging folder: the child is stopped and waited for before
    the staging folder goes, and the previous results stay as they were."""
    out = tmp_path / "results"
    shutil.copytree(in_process, out)
    before = files(out)
    seen: dict[str, object] = {}

    def rejecting(staged: Path, _instance: object) -> None:
        if child_done:
            deadline = time.monotonic() + HANG_S
            while not (staged / "report.html").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        seen["report written"] = (staged / "report.html").exists()
        if not child_done:
            seen["child running"] = running(background.pid)
        raise PlanError("verification: made up by the test")

    monkeypatch.setattr(pipeline, "verify_or_raise", rejecting)
    with started() as background:
        assert background is not None
        with pytest.raises(PlanError, match="^verification: made up by the test$"):
            run(EU_2026, out, Solver(), formats=FORMATS, background=background)
        assert reaped(background.pid)
    assert seen["report written"] is child_done
    assert seen.get("child running", True) is True
    assert files(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["results"]


def test_a_failing_child_is_exit_3_naming_it_and_publishes_nothing(in_process: Path,
                                                                    tmp_path: Path) -> None:
    """matplotlib cannot be imported (a stand-in that raises comes first on PYTHONPATH): the
    parent, which never imports it, verifies the plan; the child's report fails. Exit 3 with
    what failed, no traceback, and the previous results as they were."""
    broken = tmp_path / "broken" / "matplotlib"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text('raise ImportError("matplotlib broken by the test")\n')
    out = tmp_path / "results"
    shutil.copytree(in_process, out)
    before = files(out)
    env = {**os.environ, "PYTHONPATH": str(broken.parent)}
    done = subprocess.run([str(PLANNER), "run", str(EU_2026), "--out", str(out), "-q",
                           *OPTIONS], capture_output=True, text=True, timeout=HANG_S, check=False,
                          env=env)
    assert done.returncode == 3, done.stderr
    assert done.stderr == "error: exports and report: ImportError: matplotlib broken by the test\n"
    assert done.stdout == ""
    assert files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken", "results"]


def test_a_child_killed_by_a_signal_is_a_plan_error(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import planner.html_report

    def killed(_folder: Path) -> None:  # replaced before the fork: the child runs this
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(planner.html_report, "write_report", killed)
    out = tmp_path / "results"
    with started() as background:
        assert background is not None
        with pytest.raises(PlanError) as raised:
            run(EU_2026, out, Solver(), background=background)
        assert reaped(background.pid)
    assert str(raised.value) == "exports and report: the process ended by signal 9"
    assert list(tmp_path.iterdir()) == []


def test_bad_input_leaves_no_child_and_writes_nothing(tmp_path: Path, forks: list[int]) -> None:
    for args in (["run", str(BAD), "--out", str(tmp_path / "a"), "-q"],
                 ["run", str(EU_2026), "--out", str(tmp_path / "b"), "--solver", "nope"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
    assert len(forks) == 2
    assert all(reaped(pid) for pid in forks)
    assert list(tmp_path.iterdir()) == []


def test_end_of_file_without_go_ends_the_child_quietly() -> None:
    """The parent closes the orders without a job: the child finishes its warm-up, reads end
    of file and exits 0 by itself, having written nothing (it was told no folder) and said
    nothing."""
    child = Background.fork()
    try:
        assert child._orders is not None and child._outcome is not None
        os.close(child._orders)  # what the kernel does when the parent dies
        child._orders = None
        deadline = time.monotonic() + HANG_S
        while ((ended := os.waitpid(child.pid, os.WNOHANG)) == (0, 0)
               and time.monotonic() < deadline):
            time.sleep(0.05)
        assert ended != (0, 0), "the child did not end at the end of its orders"
        child._status = status = ended[1]
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        assert os.read(child._outcome, 100) == b""
    finally:
        child.stop()


def test_the_child_does_not_outlive_its_parent(tmp_path: Path) -> None:
    """A parent that dies without a word (no go, no stop): its child ends too."""
    script = ("import os\nfrom planner.background import Background\n"
              "print(Background.fork().pid, flush=True)\nos._exit(0)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=REPO, timeout=HANG_S, check=True)
    assert done.stderr == ""
    pid = int(done.stdout)
    deadline = time.monotonic() + HANG_S
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(pid)


@pytest.mark.parametrize(("tty", "encoding"), [(False, "utf-8"), (True, "utf-8"),
                                               (False, "ascii")])
def test_the_child_renders_the_terminal_table_as_in_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tty: bool, encoding: str) -> None:
    """The child renders the terminal's table from the verified files: the same text as the
    tables in memory give, coloured for a terminal only, boxes in ASCII for an ASCII stream."""
    from planner.report import terminal_text

    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")  # inherited by the child at the fork
    out = tmp_path / "results"
    with started() as background:
        assert background is not None
        background.show(str(out), tty, encoding)
        result = run(EU_2026, out, Solver(), background=background)
    expected = terminal_text(result.tables, result.summary, str(out), tty, encoding)
    assert background.shown == expected
    assert ("\x1b[" in expected) is tty
    assert expected.rstrip().endswith(f"status optimal; results in {out}")
    assert ("━" in expected) is (encoding == "utf-8")
    assert expected.isascii() is (encoding == "ascii")


def test_the_command_prints_the_table_itself_when_the_child_cannot(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int]) -> None:
    """Rendering is a display only: when it fails in the child, the run still succeeds and
    the parent prints the table from the tables in memory."""
    import planner.background

    def broken(*_args: object, **_kwargs: object) -> str:  # replaced before the fork
        raise RuntimeError("no table")

    monkeypatch.setattr(planner.background, "table_text", broken)
    out = tmp_path / "results"
    result = CliRunner().invoke(app, ["run", str(EU_2026), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert len(forks) == 1 and reaped(forks[0])
    assert "obligations and plan" in result.output
    assert result.output.rstrip().endswith(f"status optimal; results in {out}")


def test_a_head_start_too_big_for_the_pipe_is_not_sent() -> None:
    """Head-start orders wait unread in the pipe while the child draws: one that could fill
    the pipe (and block the parent) is left out, and the report draws those charts itself."""
    from planner.background import HEAD_START_BYTES

    orders_read, orders_write = os.pipe()
    outcome_read, outcome_write = os.pipe()
    child = Background(os.getpid(), orders_write, outcome_read)
    small = (["IT"], {"assigned": [1.0]}, ["IT: 2 persons"], [2.0])
    big = (["IT"], {"assigned": [1.0]}, ["x" * HEAD_START_BYTES], [2.0])
    child.prepare_matching(big)  # type: ignore[arg-type]
    child.prepare_matching(small)  # type: ignore[arg-type]
    os.close(orders_write)
    with os.fdopen(orders_read, "rb") as pipe:
        lines = pipe.read().splitlines()
    assert [json.loads(line) for line in lines] == [
        json.loads(json.dumps({"prepare": {"matching": small}}))]
    for fd in (outcome_read, outcome_write):
        os.close(fd)


def test_the_warm_up_stops_drawing_once_an_order_waits() -> None:
    """The child's warm-up draws throwaway charts only while the parent has nothing for it:
    with an order waiting it draws none (a small run's own charts warm matplotlib as well);
    with none it draws all five."""
    from planner import background, charts

    read, write = os.pipe()
    try:
        os.write(write, b'{"prepare": {}}\n')
        charts._DRAWN.clear()
        background._warm_up(read)
        assert len(charts._DRAWN) == 0
        os.read(read, 100)  # nothing waits now
        background._warm_up(read)
        assert len(charts._DRAWN) == 5
    finally:
        os.close(read)
        os.close(write)
