"""Work done in a forked child while this process goes on: a run's other formats and report
are made from its written tables while the verifier checks the same tables
(`planner.pipeline._publish`); both only read the tables, and nothing is published unless
both succeed.

Why: the two are independent and each is single-threaded Python. At 30,000 bench persons the
verifier took 0.28 s and the exports and report 0.54 s, one after the other; at 300,000,
1.8 s and 0.7 s. In a child on the second core they overlap (threads would not: the GIL).
`planner run` forks the child before planning (`prepared`): while this process plans, the
child imports what the report draws with (`prepare`: matplotlib, 0.3 s of the report's
0.6 s), then waits for the tables (`Job.start`).

The child is forked (it starts with every module and the instance already in memory; spawning
a fresh interpreter costs more than the work) only where that is safe and useful: on Linux,
with at least two CPUs for this process, when `FORK` is on (tests turn it off to cover the
sequential path) and when the caller does not say otherwise (`prepared(fork=False)`: planner
compare's parallel workers, whose CPUs are taken). Elsewhere the work runs in this process
when its result is asked for, after the body: the order and the outputs are the same.

The child prints nothing of its own (a library's warning is flushed) and leaves by
`os._exit`, so the parent's buffers and exit handlers run once. Its arguments come through
one pipe and its outcome back through another, pickled: its seconds, or its exception, raised
again in the parent (one that does not pickle comes back as a PlanError with its words). A
child whose parent closes the pipe without starting it (or dies) ends once prepared.

SIGINT and SIGTERM end the child at once (the default action): the parent, which gets the
terminal's Ctrl-C as well, kills and reaps the child before its own clean-up removes the
staging folder the child writes into (planner.interrupts, planner.outputs.export.staged_for).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from planner.errors import PlanError

FORK = True
SIGNALS = {signal.SIGINT, signal.SIGTERM}


def can_fork() -> bool:
    """Whether `prepared` forks here (module docstring)."""
    return (FORK and sys.platform.startswith("linux") and hasattr(os, "fork")
            and len(os.sched_getaffinity(0)) > 1)


class Job:
    """Work to run on arguments given later (`start`), its outcome taken by `wait`: the
    seconds it took, or its exception raised here. This one runs in this process, at `wait`;
    `_Child` runs it in a forked child."""

    def __init__(self, work: Callable[..., object]) -> None:
        self.work = work
        self.args: tuple[object, ...] | None = None

    def start(self, *args: object) -> None:
        self.args = args

    def wait(self) -> float:
        if self.args is None:
            raise RuntimeError("wait() before start()")
        started = time.perf_counter()
        self.work(*self.args)
        return time.perf_counter() - started

    def stop(self) -> None:
        """Leave nothing running (nothing runs here)."""


@contextmanager
def prepared(work: Callable[..., object], what: str,
             prepare: Callable[[], object] | None = None, fork: bool = True) -> Iterator[Job]:
    """A Job for `work`: forked now (`fork` and `can_fork`), the child running `prepare()`
    (if any, its failure ignored: `work` then does without it) and then waiting for
    `start(*args)` to run `work(*args)` while this process goes on; `wait()` gives the
    seconds or raises `work`'s exception (PlanError naming `what` when the child died
    without one). Leaving the body without having waited (an exception, an interrupt) kills
    and reaps the child first. Without a fork, `wait()` runs `work` here (`prepare` is not
    needed there)."""
    job = _Child(work, what, prepare) if fork and can_fork() else Job(work)
    try:
        yield job
    finally:
        job.stop()


class _Child(Job):
    def __init__(self, work: Callable[..., object], what: str,
                 prepare: Callable[[], object] | None) -> None:
        super().__init__(work)
        self.what = what
        self.read, result = os.pipe()
        arguments, self.go = os.pipe()
        for stream in (sys.stdout, sys.stderr):  # not written twice by the child's exit
            stream.flush()
        # SIGINT and SIGTERM held over the fork: one arriving before the child has its own
        # handling would run this process's handler there (an exception unwinding the
        # parent's code in the child). Here a held one is handled as the mask is restored.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        try:
            self.pid: int | None = os.fork()
            if self.pid == 0:
                os.close(self.read)
                os.close(self.go)
                _in_child(work, prepare, arguments, result, held)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        os.close(result)
        os.close(arguments)

    def start(self, *args: object) -> None:
        _send(self.go, pickle.dumps(args))
        os.close(self.go)
        self.go = -1
        self.args = args

    def wait(self) -> float:
        """The child's seconds, or its exception raised here."""
        if self.args is None:
            raise RuntimeError("wait() before start()")
        data = _receive(self.read)
        status = self._reap()
        if not data:
            raise PlanError(f"the {self.what} were not made: their process ended "
                            f"({_ended(status)})")
        outcome, value = pickle.loads(data)
        if outcome == "error":
            raise value
        return float(value)

    def _reap(self) -> int:
        assert self.pid is not None
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        os.close(self.read)
        return status

    def stop(self) -> None:
        """Kill and reap the child if `wait` did not (nothing is left running or unreaped)."""
        if self.go >= 0:
            os.close(self.go)
            self.go = -1
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError):  # already ended: reaped below
            os.kill(self.pid, signal.SIGKILL)
        self._reap()


def _in_child(work: Callable[..., object], prepare: Callable[[], object] | None,
              arguments: int, result: int, mask: set[int | signal.Signals]) -> None:
    """Prepare, wait for the arguments, run `work` and send its outcome; never return
    (`os._exit`). SIGINT and SIGTERM take their default action (they end the child) before
    `mask`, the parent's signal mask, is restored."""
    code = 1
    try:
        for signum in SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        if prepare is not None:
            with contextlib.suppress(Exception):  # only a head start: `work` does without
                prepare()
        given = _receive(arguments)
        if not given:  # the parent went on without it
            code = 0
            return
        started = time.perf_counter()
        try:
            work(*pickle.loads(given))
            outcome: tuple[str, object] = ("ok", time.perf_counter() - started)
        except BaseException as exc:  # every failure, interrupts too, goes to the parent
            outcome = ("error", exc)
        try:
            data = pickle.dumps(outcome)
            pickle.loads(data)  # an exception whose class needs other arguments fails here
        except Exception:  # an exception that does not pickle: its words do
            error = outcome[1]
            data = pickle.dumps(("error", PlanError(f"{type(error).__name__}: {error}")))
        _send(result, data)
        code = 0
    finally:
        for stream in (sys.stdout, sys.stderr):  # a library's warning, say: not lost
            with contextlib.suppress(Exception):  # leaving matters more
                stream.flush()
        os._exit(code)


def _send(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _receive(fd: int) -> bytes:
    """Everything until the writer closes its end."""
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
