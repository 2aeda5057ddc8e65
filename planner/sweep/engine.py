"""Batches of scenarios as tasks: on Dask distributed (a `LocalCluster` of worker processes,
or an existing cluster at `--scheduler`), or in this process (`--workers 0`).

A task is a `Batch` (one variant, scenarios first..last-1): a few seconds of work, so that
the scheduler's overhead per task stays small. Tasks go out with `Client.submit` (retries on
an error), come back with `as_completed` in whatever order they finish, and each is handed
to `on_batch` at once (the caller writes it as a chunk). A worker that dies loses nothing:
the scheduler runs its tasks again elsewhere, and each variant's `Base` is itself a task
result, so it is recomputed too (scattered data would be lost with the worker). Results do
not depend on where or in which order a batch runs (planner.sweep.scenario).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from planner.errors import InputError, PlanError
from planner.optimise.solve import SolverOptions
from planner.pipeline import plan_with
from planner.sweep.indicators import NO_PLAN, failed_row, row_of
from planner.sweep.scenario import Base, scenario, scenario_seed

INSTALL = "pip install 'solidarity-pool-planner[sweep]'"
# Retries of a task that raised (a worker lost is rescheduled by Dask without counting).
RETRIES = 2


class SweepError(Exception):
    """A sweep that cannot start or go on: the reason, on one line (exit 2)."""


def require_dask() -> None:
    """Dask distributed and pyarrow, or a SweepError saying how to install them."""
    missing = []
    for module in ("distributed", "pyarrow"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise SweepError(f"planner sweep needs {' and '.join(missing)} (the optional `sweep` "
                         f"dependencies): {INSTALL}")


@dataclass(frozen=True)
class Batch:
    """Scenarios `first` to `last - 1` of one variant."""

    variant: str
    first: int
    last: int

    @property
    def key(self) -> str:
        return f"{self.variant}-{self.first:07d}-{self.last:07d}"


@dataclass(frozen=True)
class Job:
    """What every batch of a sweep shares: the seed, the solver options and the columns;
    `threads`: the matching's threads per scenario (None: its default, 2). A Dask worker runs
    one scenario per core, so its scenarios match in one thread: a second would only compete
    with the other workers (the outputs are the same either way: the matching merges its
    per-state solves in state order, planner.optimise.matching.solve_counts)."""

    seed: int
    options: SolverOptions
    columns: list[str]
    threads: int | None = None


@dataclass
class Done:
    """A batch's result: its rows (the deterministic indicators), and per scenario the
    seconds it took and the worker's memory after it (timings.csv: not deterministic)."""

    batch: Batch
    rows: list[dict[str, object]]
    times: list[dict[str, object]] = field(default_factory=list)


def run_batch(base: Base, job: Job, batch: Batch) -> Done:
    """Plan every scenario of the batch in memory; a scenario without a plan (infeasible,
    no solution in the time limit) is a row with status no_plan, and the batch goes on."""
    with _matching_threads(job.threads):
        return _run_batch(base, job, batch)


@contextmanager
def _matching_threads(threads: int | None) -> Iterator[None]:
    """The matching's threads per plan set for the batch, then restored."""
    from planner.optimise import matching

    before = matching.MATCHING_THREADS
    matching.MATCHING_THREADS = before if threads is None else threads
    try:
        yield
    finally:
        matching.MATCHING_THREADS = before


def _run_batch(base: Base, job: Job, batch: Batch) -> Done:
    done = Done(batch, [])
    for index in range(batch.first, batch.last):
        started = time.perf_counter()
        instance = scenario(base, scenario_seed(job.seed, batch.variant, index))
        try:
            planned = plan_with(instance, job.options, batch.variant)
            row = row_of(planned, batch.variant, index, job.columns)
            solve_s = planned.solve.solve_s
        except (PlanError, InputError):
            row, solve_s = failed_row(batch.variant, index, NO_PLAN, job.columns), math_nan()
        done.rows.append(row)
        done.times.append({"variant": batch.variant, "scenario": index, "solve_s": solve_s,
                           "scenario_s": time.perf_counter() - started,
                           "worker": os.getpid(), "rss_mb": _rss_mb()})
    return done


def math_nan() -> float:
    return float("nan")


def _rss_mb() -> float:
    """This process's resident memory (for the bench's flat-memory check); NaN without
    psutil (a dependency of distributed)."""
    try:
        import psutil
    except ImportError:
        return math_nan()
    return psutil.Process().memory_info().rss / 2**20


def batches(variants: Sequence[str], scenarios: int, size: int) -> list[Batch]:
    """Every batch of the sweep, variant by variant, `size` scenarios each."""
    return [Batch(v, first, min(first + size, scenarios))
            for v in variants for first in range(0, scenarios, size)]


OnBatch = Callable[[Done], None]


def run_here(bases: dict[str, Base], job: Job, todo: Sequence[Batch], on_batch: OnBatch
             ) -> None:
    """Every batch in this process, in order (`--workers 0`)."""
    for batch in todo:
        on_batch(run_batch(bases[batch.variant], job, batch))


@contextmanager
def client_for(workers: int, scheduler: str | None) -> Iterator[Any]:
    """A Dask client: of the cluster at `scheduler`, or of a new LocalCluster of `workers`
    worker processes (one thread each: HiGHS and the matching are CPU-bound) on 127.0.0.1,
    closed at the end."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise SweepError(f"--scheduler: cannot reach {scheduler}: {exc}") from None
        with client:
            yield client
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def run_dask(client: Any, bases: dict[str, Base], job: Job, todo: Sequence[Batch],
             on_batch: OnBatch) -> None:
    """Every batch as a Dask task; each result handed to `on_batch` as it arrives."""
    from distributed import as_completed

    job = dataclasses.replace(job, threads=1)  # one scenario per core (Job)
    token = uuid.uuid4().hex  # task keys of this sweep only (a cluster may run several)
    held = {name: client.submit(_same, base, key=f"sweep-base-{name}-{token}")
            for name, base in bases.items()}
    futures = [client.submit(run_batch, held[b.variant], job, b, retries=RETRIES, pure=False,
                             key=f"sweep-batch-{b.key}-{token}") for b in todo]
    try:
        for future in as_completed(futures):
            on_batch(future.result())
            future.release()
    finally:
        client.cancel([*futures, *held.values()])


def _same(base: Base) -> Base:
    """A variant's base as a task result: recomputed by Dask if the worker holding it dies."""
    return base
