"""`planner sweep`, the whole: load the base and the variants, prepare the folder (resume),
run the batches not yet written (Dask or this process), write each as a chunk as it arrives,
then assemble scenarios.parquet/.csv, sweep.csv, sweep.html and timings.csv.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner import __version__
from planner.errors import InputError, Problem
from planner.inputs.load import load_instance
from planner.optimise.solve import SolverOptions
from planner.sweep import engine, files, stats
from planner.sweep.engine import Batch, Done, Job
from planner.sweep.indicators import columns
from planner.sweep.page import sweep_page
from planner.sweep.scenario import Base

DEFAULT_BATCH = 5


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep asks (sweep.json holds all of it but the engine: results do not depend
    on where they are computed)."""

    folder: Path
    variants: tuple[str, ...] = ()  # besides the base, which always comes first
    scenarios: int = 100
    seed: int = 1
    batch: int = DEFAULT_BATCH
    options: SolverOptions = field(default_factory=SolverOptions)

    @property
    def names(self) -> tuple[str, ...]:
        return ("base", *(v for v in self.variants if v != "base"))


@dataclass
class Progress:
    """Callbacks of a running sweep: `start(total, done)` once, `advance(n)` per batch."""

    start: Callable[[int, int], None] = lambda total, done: None
    advance: Callable[[int], None] = lambda n: None


def load_bases(spec: SweepSpec) -> dict[str, Base]:
    """The base and each variant, validated together (one InputError with every problem)."""
    problems: list[Problem] = []
    bases: dict[str, Base] = {}
    for name in spec.names:
        try:
            instance = load_instance(spec.folder, None if name == "base" else name)
        except InputError as exc:
            problems += exc.problems
            continue
        bases[name] = Base.of(instance, name)
    if problems:
        raise InputError(problems)
    return bases


def manifest(spec: SweepSpec, bases: dict[str, Base]) -> dict[str, Any]:
    """sweep.json: the question, so that `--resume` continues only the same sweep."""
    models = {name: base.instance.config.uncertainty.model_dump(mode="json")
              for name, base in bases.items()}
    return {"kind": "sweep", "version": __version__, "instance": bases["base"].instance.name,
            "inputs": {n: b.instance.input_sha256 for n, b in bases.items()},
            "uncertainty_sha256": hashlib.sha256(
                json.dumps(models, sort_keys=True).encode()).hexdigest(),
            "variants": list(spec.names), "scenarios": spec.scenarios, "seed": spec.seed,
            "batch": spec.batch, "solver": spec.options.name,
            "time_limit_s": spec.options.time_limit_s}


@dataclass(frozen=True)
class SweepResult:
    out: Path
    scenarios: int  # rows written
    resumed: int  # of them, scenarios found already written
    status: dict[str, int]  # rows per status


def sweep(spec: SweepSpec, out: Path, *, workers: int = 0, scheduler: str | None = None,
          resume: bool = False, client: Any = None, progress: Progress | None = None,
          on_batch: Callable[[Done], None] | None = None) -> SweepResult:
    """Run the sweep into `out`. `workers` 0 and no `scheduler` or `client`: in this process;
    else on Dask (`client` given: that one, e.g. a test's LocalCluster). `on_batch` is
    called after each chunk is written (tests kill a worker there)."""
    progress = progress or Progress()
    bases = load_bases(spec)
    names = columns(base.instance for base in bases.values())
    job = Job(spec.seed, spec.options, names)
    every = engine.batches(spec.names, spec.scenarios, spec.batch)
    done = files.prepare(out, manifest(spec, bases), resume, spec.folder)
    todo = [b for b in every if b.key not in done]
    progress.start(spec.scenarios * len(spec.names),
                   sum(b.last - b.first for b in every if b.key in done))

    def arrived(result: Done) -> None:
        files.write_chunk(out, result, names)
        progress.advance(result.batch.last - result.batch.first)
        if on_batch is not None:
            on_batch(result)

    if client is not None:
        engine.run_dask(client, bases, job, todo, arrived)
    elif workers > 0 or scheduler:
        with engine.client_for(workers, scheduler) as own:
            engine.run_dask(own, bases, job, todo, arrived)
    else:
        engine.run_here(bases, job, todo, arrived)
    return finish(spec, bases, out, every,
                  sum(b.last - b.first for b in every if b.key in done))


def finish(spec: SweepSpec, bases: dict[str, Base], out: Path, every: Sequence[Batch],
           resumed: int) -> SweepResult:
    """Assemble the outputs from every chunk of the sweep."""
    rows = files.read_rows(out, every, spec.names)
    times = files.read_times(out, every)
    model = bases["base"].instance.config.uncertainty
    table = stats.summary(rows, spec.names, model.targets, model.limits)
    base = bases["base"].instance
    meta = (f"{base.name}: {spec.scenarios} scenarios per variant "
            f"({', '.join(spec.names)}), seed {spec.seed}; planner {__version__}")
    page = sweep_page(f"Scenario sweep: {base.name}", rows, table, spec.names, model.rank_by,
                      meta)
    files.write_outputs(out, rows, times, table, page)
    counts = rows["status"].value_counts()
    return SweepResult(out, len(rows), resumed,
                       {str(k): int(v) for k, v in sorted(counts.items())})
