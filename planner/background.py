"""The exports and report.html written by a child process while the parent verifies the plan.

`planner run` forks the child first thing, before its own heavy imports (and before any thread
exists). While the parent loads and plans, the child imports matplotlib, the report and the
formats and draws throwaway charts (font cache, glyphs, first use of each artist: on the monthly
scenario ~1.2 s of the ~1.8 s the exports took on the critical path), then waits. Once the
tables are staged, the parent sends the staging folder and the formats (`go`), verifies while
the child writes the exports into that folder, and publishes only once both have succeeded
(`wait`); the report is still made from the written CSVs, by the same code, so its bytes do not
depend on where it was made. Asked to (`show`), the child then renders the terminal's table from
the same verified files (planner.report.terminal_text), so the parent prints it without
importing rich; if that fails, the parent renders it itself. A child that fails is a PlanError
naming what failed (exit 3, nothing published): the exports are not made again in process,
since the same files would fail the same way.

The child never prints (its stdin, stdout and stderr are /dev/null) and never outlives the
parent: it leaves quietly, writing nothing, when the parent closes the orders without a `go`
(end of file: also what the kernel does when the parent dies), Linux kills it if the parent dies
while it works, and `stop` kills and reaps it whenever the parent leaves the run (bad input, a
verification failure, a signal) before the staging folder is discarded. SIGINT from the
terminal reaches the whole process group: the child ignores it and leaves the decision to the
parent. Where there is no fork, `started` gives None and the run exports in process, as
library callers of `pipeline.run` and `planner compare`'s workers do.
"""

from __future__ import annotations

import io
import json
import os
import select
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from planner.errors import PlanError

if TYPE_CHECKING:
    from planner.html_report import ChartData, Run

PR_SET_PDEATHSIG = 1  # linux/prctl.h
DONE = "\0done"  # the child's word once every export is written; anything else: what failed
# After DONE, the terminal's text, when asked for (`show`) and rendered.
UNKNOWN = -1  # the child's wait status, when it cannot be had
# The largest head-start order sent: both may wait in the pipe, unread, while the child draws.
HEAD_START_BYTES = 16_000


class Background:
    """A forked child waiting for a staged folder to export: its pid and the two pipes."""

    def __init__(self, pid: int, orders: int, outcome: int) -> None:
        self.pid = pid
        self._orders: int | None = orders  # parent -> child: the job, then end of file
        self._outcome: int | None = outcome  # child -> parent: DONE, or what failed
        self._status: int | None = None  # the wait status once reaped (UNKNOWN: reaped elsewhere)
        self._terminal: dict[str, object] | None = None  # what `show` asked for
        # The terminal's table (planner.report.terminal_text), rendered by the child after the
        # exports; None until then, or when it was not asked for or could not be rendered.
        self.shown: str | None = None

    @classmethod
    def fork(cls) -> Background:
        # Modules both processes need (the parent's pipeline imports them too), imported once
        # here and inherited; they start no thread and import neither numpy nor matplotlib.
        import planner.formats  # noqa: F401
        import planner.html_report  # noqa: F401

        orders_read, orders_write = os.pipe()
        outcome_read, outcome_write = os.pipe()
        parent = os.getpid()
        for stream in (sys.stdout, sys.stderr):  # nothing buffered may be written twice
            if stream is not None:
                stream.flush()
        pid = os.fork()
        if pid == 0:  # the child: whatever happens, it ends here, without Python's exit steps
            try:
                os.close(orders_write)
                os.close(outcome_read)
                _child(parent, orders_read, outcome_write)
            finally:
                os._exit(1)
        os.close(orders_read)
        os.close(outcome_write)
        return cls(pid, orders_write, outcome_read)

    def prepare(self, staged: Path, rate: float) -> None:
        """Let the child draw the pool's charts from the pool tables staged in `staged` while
        the matching runs (before `go`; a head start only: nothing is written)."""
        self._send({"prepare": {"staged": str(staged), "rate": rate}})

    def prepare_matching(self, data: ChartData) -> None:
        """Let the child draw the matching's charts from their numbers
        (planner.html_report.matching_chart_data_of) while the tables are written and
        verified (before `go`; a head start only)."""
        self._send({"prepare": {"matching": data}})

    def show(self, out: str, tty: bool, encoding: str) -> None:
        """Ask the child to render, after the exports, the table the terminal shows of the run
        (`planner.report.terminal_text`, for results published at `out` and a stream that is a
        terminal or not, of `encoding`): `shown` after `wait`. Before `go`."""
        self._terminal = {"out": out, "tty": tty, "encoding": encoding}

    def go(self, staged: Path, formats: Sequence[str]) -> None:
        """Start the exports of `staged` (the child must not be told twice)."""
        try:
            self._send({"staged": str(staged), "formats": list(formats),
                        "terminal": self._terminal})
        finally:
            if self._orders is not None:
                os.close(self._orders)
                self._orders = None

    def _send(self, order: dict[str, object]) -> None:
        """One order, one JSON line (JSON escapes line breaks inside strings); orders end
        with `go` (or `stop`)."""
        if self._orders is None:
            raise RuntimeError("the background exports were already started or stopped")
        line = (json.dumps(order) + "\n").encode()
        if "prepare" in order and len(line) > HEAD_START_BYTES:
            return  # a head start must not wait for the child to read: the report draws it
        try:
            while line:  # below a pipe's buffer (64 KiB on Linux): written without blocking
                line = line[os.write(self._orders, line):]  # type: ignore[arg-type]
        except BrokenPipeError:
            pass  # the child is gone: `wait` says how it ended

    def wait(self) -> None:
        """Until the child has written the exports; PlanError if it did not."""
        if self._outcome is None or self._orders is not None:
            raise RuntimeError("the background exports were not started, or already waited for")
        with os.fdopen(self._outcome, "rb") as pipe:
            self._outcome = None
            message = pipe.read().decode("utf-8", "replace")  # end of file: the child ended
        status = self._reap()
        if message == DONE:
            return
        if message.startswith(DONE + "\n"):
            self.shown = message[len(DONE) + 1:]
            return
        if not message and status != UNKNOWN:
            message = (f"the process ended by signal {os.WTERMSIG(status)}"
                       if os.WIFSIGNALED(status) else
                       f"the process ended with exit code {os.waitstatus_to_exitcode(status)}")
        raise PlanError(f"exports and report: {message or 'the process ended without a word'}")

    def stop(self) -> None:
        """End the child now, if it still runs, and reap it; close the pipes. Call it before
        the staging folder is discarded, so that nothing is written into it afterwards."""
        if self._status is None:
            with suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self._reap()
        for fd in (self._orders, self._outcome):
            if fd is not None:
                os.close(fd)
        self._orders = self._outcome = None

    def _reap(self) -> int:
        if self._status is None:
            try:
                _, self._status = os.waitpid(self.pid, 0)
            except ChildProcessError:  # SIGCHLD ignored, or waited for by someone else
                self._status = UNKNOWN
        return self._status


@contextmanager
def started() -> Iterator[Background | None]:
    """A child ready to export a run (None where there is no fork: export in process), stopped
    and reaped on leaving the block, however the block ends."""
    child = Background.fork() if hasattr(os, "fork") else None
    try:
        yield child
    finally:
        if child is not None:
            child.stop()


# --- the child ---------------------------------------------------------------------------------

def _child(parent: int, orders: int, outcome: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides, and stops the child
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a quiet end, no handler, no traceback
    _die_with(parent)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    with suppress(Exception):  # only a warm-up: the export itself reports any failure
        _warm_up(orders)
    with os.fdopen(orders, "rb") as pipe:
        request = pipe.readline()
        while request.startswith(b'{"prepare"'):
            with suppress(Exception):  # only a head start: the report draws what it lacks
                order = json.loads(request)["prepare"]
                if "matching" in order:
                    prepare_matching(order["matching"])
                else:
                    prepare(Path(order["staged"]), order["rate"])
            request = pipe.readline()
    if not request:  # the parent gave up: write nothing
        os._exit(0)
    try:
        job = json.loads(request)
        run = export(Path(job["staged"]), job["formats"])
    except PlanError as exc:
        _exit_with(outcome, str(exc))
    except BaseException as exc:  # noqa: BLE001 - the parent reports it: no traceback here
        _exit_with(outcome, f"{type(exc).__name__}: {exc}")
    message = DONE
    if job.get("terminal"):
        with suppress(BaseException):  # a display only: the parent renders it if this fails
            message += "\n" + table_text(run, **job["terminal"])
    _write_all(outcome, message.encode("utf-8", "replace"))
    os._exit(0)


def _write_all(fd: int, data: bytes) -> None:
    """The whole message (the terminal's text may exceed a pipe's buffer: the parent reads
    until the end of file meanwhile)."""
    while data:
        data = data[os.write(fd, data):]


def _die_with(parent: int) -> None:
    """Killed by Linux when the parent dies, at whatever point (the orders' end of file covers
    the wait only)."""
    if sys.platform.startswith("linux"):
        with suppress(OSError, AttributeError):
            import ctypes

            ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the request took effect
        os._exit(0)


def _exit_with(outcome: int, message: str) -> None:
    os.write(outcome, (message or "failed").encode("utf-8", "replace")[:4000])
    os._exit(1)


def _warm_up(orders: int | None = None) -> None:
    """What the first report in a process pays once: the imports, matplotlib's font cache and
    glyphs, the SVG back-end, and the first use of each kind of chart (artists, colour map,
    colour bar, hatching), drawn with a single made-up item each and thrown away; and rich's
    import and first table, for the terminal's text. It stops drawing once an order waits on
    `orders`: a small run's parent is ready before the warm-up ends, and its own charts warm
    matplotlib as well as these (on eu-2026 the warm-up was the run's critical path)."""
    from rich.console import Console
    from rich.table import Table

    from planner import charts, formats, html_report, report  # noqa: F401

    table = Table(title="warm-up")
    table.add_column("a")
    table.add_row("1", style="red")
    Console(file=io.StringIO(), width=120).print(table)
    drawings = (
        lambda: charts.mix_chart(["A"], {"relocation": [1.0]}, [2.0], "unit"),
        lambda: charts.coverage_chart(["A"], {"relocation": [0.5]}),
        lambda: charts.flow_chart(["A"], ["B"], [[1.0]], "unit"),
        lambda: charts.stacked_counts(["A"], {"assigned": [1.0], "capacity": [1.0]}, "t", "u",
                                      "warm-up"),
        lambda: charts.bar_list(["A"], [1.0], "t", "u", "warm-up"))
    for draw in drawings:
        if orders is not None and select.select([orders], [], [], 0)[0]:
            return  # an order (or the end of the orders) is waiting
        draw()


def prepare(staged: Path, rate: float) -> None:
    """What the child does on `prepare`: the pool's charts, from the pool tables staged before
    the matching (planner.html_report.prepare_charts)."""
    from planner.html_report import prepare_charts

    prepare_charts(staged, rate)


def prepare_matching(data: ChartData) -> None:
    """What the child does on `prepare_matching`: the matching's charts, remembered by their
    arguments as the pool's are (lists from JSON, as the report passes lists)."""
    from planner.html_report import matching_charts

    matching_charts(data)


def export(staged: Path, formats: Sequence[str]) -> Run:
    """What the child does on `go`: the other formats and report.html of a staged run; the
    run as the report read it."""
    from planner.formats import write_formats
    from planner.html_report import write_report

    write_formats(staged, formats)
    return write_report(staged)


def table_text(run: Run, out: str, tty: bool, encoding: str) -> str:
    """The terminal's table of the run, from its verified files (as the report is)."""
    from planner.report import terminal_text

    return terminal_text(run, run.summary, out, tty, encoding)
