"""What `planner sweep` does around `planner.sweep.run.sweep`: the options checked before
anything is read, the progress bar (rich, on stderr, with the ETA; none with -q), the
summary line, and Ctrl-C: the chunks written stay, and the message says how to resume.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from planner.errors import InputError
from planner.interrupts import Interrupted
from planner.optimise.solve import SolverOptions
from planner.report.display import visible_lines
from planner.sweep.engine import SweepError, require_dask
from planner.sweep.files import CHUNKS
from planner.sweep.run import Progress, SweepResult, SweepSpec, sweep


def default_workers() -> int:
    """One worker process per CPU this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def check(scenarios: int, seed: int, workers: int | None, scheduler: str | None,
          batch: int) -> list[str]:
    """The options' problems (exit 2), before anything is read."""
    problems = []
    if scenarios < 1:
        problems.append(f"--scenarios: {scenarios} is not a positive number of scenarios")
    if seed < 0:
        problems.append(f"--seed: {seed} is negative (a seed is 0 or more)")
    if workers is not None and workers < 0:
        problems.append(f"--workers: {workers} is negative (0: in this process, no Dask)")
    if workers is not None and scheduler:
        problems.append("--workers and --scheduler exclude each other (the cluster at "
                        "--scheduler has its own workers)")
    if batch < 1:
        problems.append(f"--batch: {batch} is not a positive number of scenarios")
    return problems


@contextmanager
def bar(quiet: bool) -> Iterator[Progress]:
    """A progress bar of scenarios done, with the time remaining, on stderr; shown from the
    sweep's start (after the inputs are validated: a bad input prints only its problems)."""
    if quiet:
        yield Progress()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as Bar

    shown = Bar(TextColumn("[planner] sweep"), BarColumn(), MofNCompleteColumn(),
                TextColumn("scenarios, elapsed"), TimeElapsedColumn(), TextColumn("ETA"),
                TimeRemainingColumn(), console=Console(stderr=True))
    task = shown.add_task("sweep", total=None)
    started: list[bool] = []

    def start(total: int, done: int) -> None:
        shown.reset(task, total=total, completed=done)  # the ETA counts from here
        shown.start()
        started.append(True)

    def advance(n: int) -> None:
        shown.advance(task, n)

    try:
        yield Progress(start, advance)
    finally:
        if started:
            shown.stop()


def run_sweep(spec: SweepSpec, out: Path, workers: int | None, scheduler: str | None,
              resume: bool, quiet: bool) -> int:
    """The command: exit 0 with the outputs written; 2 on bad input, a folder that cannot
    be used or a missing dependency; 130 on Ctrl-C (the chunks written are kept)."""
    try:
        if workers is None or workers > 0 or scheduler:
            require_dask()
        else:
            require_dask_free_parts()
        with bar(quiet) as progress:
            result = sweep(spec, out, workers=default_workers() if workers is None else workers,
                           scheduler=scheduler, resume=resume, progress=progress)
    except InputError as exc:  # every problem, shown inert (planner.report.display)
        for problem in exc.problems:
            print(visible_lines(problem), file=sys.stderr)
        return 2
    except SweepError as exc:
        print(exc, file=sys.stderr)
        return 2
    except (Interrupted, KeyboardInterrupt) as exc:
        written = len(list((out / CHUNKS).glob("*.parquet"))) if (out / CHUNKS).is_dir() else 0
        print(f"interrupted: {written} chunks (batches of up to {spec.batch} scenarios) are "
              f"written in "
              f"{out / CHUNKS}; the same command with --resume goes on from there",
              file=sys.stderr)
        return exc.exit_code if isinstance(exc, Interrupted) else 130
    print(summary_line(result))
    return 0


def require_dask_free_parts() -> None:
    """In this process Dask is not needed, but the chunks are Parquet files (pyarrow)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise SweepError("planner sweep needs pyarrow (the optional `sweep` dependencies): "
                         "pip install 'solidarity-pool-planner[sweep]'") from None


def summary_line(result: SweepResult) -> str:
    statuses = ", ".join(f"{n} {s}" for s, n in result.status.items())
    resumed = f" ({result.resumed} written before, resumed)" if result.resumed else ""
    return f"{result.scenarios} scenarios{resumed}: {statuses}; results in {result.out}"


def options(solver: str | None, time_limit: float | None) -> SolverOptions:
    return SolverOptions(solver or "", time_limit)
