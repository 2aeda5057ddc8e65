"""The exports and report made in a forked child while the verifier runs
(planner.outputs.alongside, used by planner.pipeline._publish): the same files as one after
the other, the child's failure raised in the parent with nothing published, a failed
verification or an exception in the body killing and reaping the child, and the same
behaviour where no fork is made. `planner run` forks it before planning (`prepared`): it
prepares first, gets its arguments later, and a run whose plan fails leaves no child."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from planner import pipeline
from planner.errors import PlanError
from planner.optimise.solve import SolverOptions
from planner.outputs import alongside as module
from planner.outputs.alongside import can_fork, prepared
from planner.outputs.formats import FormatError

pytestmark = pytest.mark.solver

REPO = Path(__file__).resolve().parents[1]
EU = REPO / "instances" / "eu-2026"
needs_fork = pytest.mark.skipif(not can_fork(), reason="forks only on Linux with 2+ CPUs")


@contextlib.contextmanager
def started(work, what: str = "exports"):
    """`prepared` started at once: the body gets `wait`."""
    with prepared(work, what) as job:
        job.start()
        yield job.wait


def mark(path: Path) -> None:
    """The process's id into `path`, whole or not at all (a file that exists is complete: the
    test may kill the writer as soon as it sees it)."""
    part = path.with_suffix(".part")
    part.write_text(str(os.getpid()))
    os.replace(part, path)


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def untimed(found: dict[str, bytes]) -> dict[str, bytes]:
    """summary.json without its wall-clock seconds; the report without its line of them."""
    import json

    summary = json.loads(found.pop("summary.json"))
    summary.pop("timings_s")
    found["summary.json"] = json.dumps(summary, sort_keys=True).encode()
    return found


@needs_fork
def test_forked_exports_are_the_files_made_one_after_the_other(tmp_path, monkeypatch):
    forked = pipeline.run(EU, tmp_path / "forked", SolverOptions(), formats=("csv", "xlsx"))
    monkeypatch.setattr(module, "FORK", False)
    alone = pipeline.run(EU, tmp_path / "alone", SolverOptions(), formats=("csv", "xlsx"))
    one, two = files(tmp_path / "forked"), files(tmp_path / "alone")
    assert {"report.html", "tables.xlsx", "assignments.csv"} <= set(one)
    assert untimed(one) == untimed(two)
    for result in (forked, alone):
        assert {"write", "verify", "export"} <= set(result.summary.timings_s)
        assert result.summary.timings_s["export"] > 0


@pytest.mark.parametrize("fork", [True, False])
def test_an_export_failure_is_raised_and_nothing_is_published(tmp_path, monkeypatch, fork):
    if fork and not can_fork():
        pytest.skip("no fork here")
    monkeypatch.setattr(module, "FORK", fork)

    def broken(folder: Path, instance: object = None) -> None:
        (folder / "report.html").write_text("half")
        raise FormatError("the report could not be drawn")
    monkeypatch.setattr(pipeline, "write_report", broken)
    with pytest.raises(FormatError, match="the report could not be drawn"):
        pipeline.run(EU, tmp_path / "out", SolverOptions())
    assert list(tmp_path.iterdir()) == []


@needs_fork
def test_a_failed_verification_kills_the_exports_and_publishes_nothing(tmp_path, monkeypatch):
    begun = tmp_path / "begun"
    pids: list[int] = []

    def slow(folder: Path, instance: object = None) -> None:
        mark(begun)
        time.sleep(60)

    def rejecting(folder: Path, instance: object) -> None:
        while not begun.exists():
            time.sleep(0.01)
        pids.append(int(begun.read_text()))
        begun.unlink()
        raise PlanError("the verifier rejects the plan")
    monkeypatch.setattr(pipeline, "write_report", slow)
    monkeypatch.setattr(pipeline, "verify_or_raise", rejecting)
    began = time.monotonic()
    with pytest.raises(PlanError, match="rejects"):
        pipeline.run(EU, tmp_path / "out", SolverOptions())
    assert time.monotonic() - began < 30  # the child was not waited for
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ProcessLookupError):  # killed and reaped: no such process any more
        os.kill(pids[0], 0)


@needs_fork
def test_a_child_that_dies_is_a_plan_error():
    with pytest.raises(PlanError, match=r"the exports were not made: .*signal 9"), \
            started(lambda: os.kill(os.getpid(), signal.SIGKILL), "exports") as wait:
        wait()


@pytest.mark.parametrize("fork", [True, False])
def test_the_child_s_exception_comes_back(monkeypatch, fork):
    if fork and not can_fork():
        pytest.skip("no fork here")
    monkeypatch.setattr(module, "FORK", fork)

    def fails() -> None:
        raise LookupError("held", threading.Lock())  # a lock does not pickle
    expected = PlanError if fork else LookupError
    with pytest.raises(expected, match=r"held.*lock") as raised, \
            started(fails, "exports") as wait:
        wait()
    if fork:
        assert str(raised.value).startswith("LookupError: ('held', <unlocked _thread.lock")

    def full() -> None:
        raise OSError(28, "disk full")
    with pytest.raises(OSError, match="disk full") as caught, started(full, "x") as wait:
        wait()
    assert caught.value.errno == 28


@pytest.mark.parametrize("fork", [True, False])
def test_the_work_runs_beside_the_body_or_after_it(tmp_path, monkeypatch, fork):
    """Forked, the work has started before the body ends (it writes while the body waits for
    it); without a fork it runs at `wait`, after the body's own steps."""
    if fork and not can_fork():
        pytest.skip("no fork here")
    monkeypatch.setattr(module, "FORK", fork)
    marker = tmp_path / "mark"
    with started(lambda: mark(marker), "x") as wait:
        deadline = time.monotonic() + 30
        while fork and not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert marker.exists() == fork
        seconds = wait()
    assert seconds >= 0
    assert (int(marker.read_text()) != os.getpid()) == fork


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + 30
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert path.exists()


def gone(pid: int) -> bool:
    """No such process any more: ended and reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@needs_fork
def test_a_prepared_child_prepares_before_it_is_started(tmp_path):
    ready, done = tmp_path / "ready", tmp_path / "done"

    def work(target: Path, text: str) -> None:
        assert ready.exists()  # prepared first
        target.write_text(text)
    with prepared(work, "x", lambda: mark(ready)) as job:
        wait_for(ready)  # prepared while nothing was started
        assert not done.exists()
        job.start(done, "the arguments came through the pipe")
        assert job.wait() >= 0
    assert done.read_text() == "the arguments came through the pipe"
    child = int(ready.read_text())
    assert child != os.getpid() and gone(child)


@needs_fork
@pytest.mark.parametrize("how", ["exception", "never started"])
def test_a_prepared_child_never_started_is_ended_and_reaped(tmp_path, how):
    ready = tmp_path / "ready"
    ran: list[int] = []

    def body() -> None:
        with prepared(lambda: ran.append(1), "x",
                      lambda: mark(ready)):
            wait_for(ready)
            if how == "exception":
                raise PlanError("the plan failed")
    if how == "exception":
        with pytest.raises(PlanError, match="the plan failed"):
            body()
    else:
        body()
    assert gone(int(ready.read_text()))


@needs_fork
def test_a_failing_preparation_is_only_a_lost_head_start(tmp_path):
    def prepare() -> None:
        raise ImportError("no matplotlib here")
    target = tmp_path / "out"
    with prepared(lambda: target.write_text("made"), "x", prepare) as job:
        job.start()
        job.wait()
    assert target.read_text() == "made"


def test_without_a_fork_the_job_runs_at_wait(tmp_path, monkeypatch):
    monkeypatch.setattr(module, "FORK", False)
    target = tmp_path / "out"
    with prepared(lambda text: target.write_text(text), "x",
                  lambda: pytest.fail("nothing to prepare here")) as job:
        job.start("made here")
        assert not target.exists()
        job.wait()
    assert target.read_text() == "made here"


@needs_fork
def test_a_run_whose_plan_fails_leaves_no_exports_child(tmp_path, monkeypatch):
    """`planner run` forks the exports' child before planning (pipeline.exports_for): a plan
    that fails ends it, and nothing is written."""
    ready = tmp_path / "ready"
    monkeypatch.setattr(pipeline, "preload", lambda: mark(ready))

    def failing(*args: object, **kwargs: object) -> None:
        wait_for(ready)
        raise PlanError("no plan: infeasible")
    monkeypatch.setattr(pipeline, "plan_with", failing)
    with pytest.raises(PlanError, match="infeasible"):
        pipeline.run(EU, tmp_path / "out", SolverOptions())
    assert gone(int(ready.read_text()))
    assert [p.name for p in tmp_path.iterdir()] == ["ready"]
