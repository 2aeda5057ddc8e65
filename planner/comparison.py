"""`planner compare`: the base and each variant planned side by side, and what changes.

In memory (`planner.compare`, `compare`): the base and the variants are validated, then
planned (`planner.plan`), and a `Comparison` holds the plans and the comparison's two tables,
the rows below; nothing is written. On disk (`planner compare`, `compare_into`):
every variant is validated before anything is planned (a bad one: exit 2, nothing written);
then each run is planned, written and verified exactly as `planner run` does it, one folder
each (`DIR/base`, `DIR/NAME`), in parallel processes (`jobs`); then `DIR/comparison/` holds:

* `states.csv` (`StateComparisonRow`): one row per run and state (the base first, then the
  variants in the order given; states by code; the states of the run's and the base's
  allocation): share, obligation, each measure, value, balance, fair share, deviation and value
  per million inhabitants, and `*_delta` = this run's amount minus the base's (a state absent
  from a run counts 0 there).
* `kpis.csv` (`KpiRow`): one row per run and indicator, with `delta` against the base's same
  indicator (empty when either is empty): the pool (`pool_relocations`, `pool_financial_eur`),
  totals in both units (`obligation`, `obligation_eur`, `value`, `value_eur`, `shortfall`,
  `shortfall_eur`, `surplus`, `surplus_eur`: shortfall and surplus apart, never netted), each
  measure (`relocation` places, `offset`, `financial_eur`,
  `alternative_eur`), `persons_relocated` (persons the matching placed; empty without
  candidates), per benefitting state and measure (`subject` = `IT:relocation`) `received`
  and `coverage` (received / need, empty without a need), and fairness:

Fairness, over the **contributors** (participating, not benefitting; deducted states
included, ad hoc contributors and benefitting states not):

* fair share_i = share_i x pool.relocations: the state's key share (as the run's key uses it:
  official shares, renormalisation) of the whole pool, in relocation-equivalents, before
  deductions and rounding;
* deviation_i = value_i - fair share_i. Against the fair share and not against the obligation
  (balance, already in states.csv): the obligation has deductions and the proposal's rounding
  built in, so a fully deducted state would look perfectly fair; measured against the fair
  share, every departure from the key, granted (deductions) or not (shortfalls, giving more),
  shows;
* `fair_share_max_abs_deviation` = max_i |deviation_i|, `fair_share_mean_abs_deviation` =
  (1/n) sum_i |deviation_i|;
* `gini_value_per_capita` = the Gini coefficient of x_i = value_i / population_i, each state
  counting once: G = sum_i sum_j |x_i - x_j| / (2 n^2 mean(x)), 0 when every x_i is 0
  (0 = every contributor gives the same per inhabitant; it tends to 1 as one gives all).

Outputs do not depend on `jobs`: each run is the same computation wherever it runs, and the
comparison is built in the main process from the runs in their fixed order.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.instance import Instance
from models.results import AllocationRow, CoverageRow, KpiRow, StateComparisonRow, Summary
from planner.errors import InputError, PlanError, Problem
from planner.inputs.overrides import Assignment, RunInputs, assignments
from planner.outputs.export import discard, publish, staging_folder
from planner.outputs.fileio import write_table
from planner.outputs.outdir import COMPARE, claimed
from planner.outputs.registry import COMPARISON_TABLES, KPIS, STATES
from planner.pipeline import Plan, Progress, plan, stage_lines

BASE = "base"
CONTRIBUTOR = "contributor"
MEASURES = ("relocation", "offset", "financial_eur", "alternative_eur")
AMOUNTS = ("obligation", *MEASURES, "value", "balance")


@dataclass(frozen=True)
class ComparedRun:
    """What the comparison needs of one planned run (small, so it crosses processes)."""

    name: str
    relocations: float
    financial_eur: float
    rate: float
    population: dict[str, float]
    allocation: list[AllocationRow]
    coverage: list[CoverageRow]
    summary: Summary


def run_of(planned: Plan) -> ComparedRun:
    """What the comparison needs of a plan (the run is named by its variant)."""
    pool = planned.instance.config.pool
    return ComparedRun(planned.variant, pool.relocations, pool.financial_eur, pool.rate,
               {s.code: s.population for s in planned.instance.states},
               planned.tables.allocation, planned.tables.coverage, planned.summary)


@dataclass(frozen=True)
class Comparison:
    """The base and its variants planned in memory (`plans`, the base first) and the
    comparison's tables as `planner compare` writes them: `states` (comparison/states.csv)
    and `kpis` (comparison/kpis.csv)."""

    plans: tuple[Plan, ...]
    states: tuple[StateComparisonRow, ...]
    kpis: tuple[KpiRow, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.variant for p in self.plans)


def comparison_of(plans: Sequence[Plan]) -> Comparison:
    """The comparison of plans already made (the first one is the base)."""
    runs = [run_of(p) for p in plans]
    return Comparison(tuple(plans), tuple(state_rows(runs)), tuple(kpi_rows(runs)))


@dataclass(frozen=True)
class Failure:
    """A run that ended without a plan: input problems (exit 2) or a message (exit 3)."""

    name: str
    problems: list[Problem] = field(default_factory=list)
    message: str = ""


def gini(values: Sequence[float]) -> float:
    """Gini coefficient, sum_i sum_j |x_i - x_j| / (2 n^2 mean): on sorted values
    x_(1) <= ... <= x_(n) that is (2 sum_i i x_(i)) / (n sum x) - (n + 1) / n."""
    xs = sorted(values)
    n, total = len(xs), math.fsum(xs)
    if n == 0 or total <= 0:
        return 0.0
    ranked = math.fsum((i + 1) * x for i, x in enumerate(xs))
    return max(0.0, 2 * ranked / (n * total) - (n + 1) / n)


def fair_share(run: ComparedRun, row: AllocationRow) -> float:
    return row.share * run.relocations if row.role == CONTRIBUTOR else 0.0


def _amounts(row: AllocationRow | None) -> dict[str, float]:
    return {a: float(getattr(row, a)) if row is not None else 0.0 for a in AMOUNTS}


def state_rows(runs: Sequence[ComparedRun]) -> list[StateComparisonRow]:
    """comparison/states.csv: every run's states (the first run is the base)."""
    base = {r.state: r for r in runs[0].allocation}
    rows = []
    for run in runs:
        own = {r.state: r for r in run.allocation}
        for code in sorted(own.keys() | base.keys()):
            row = own.get(code)
            now, before = _amounts(row), _amounts(base.get(code))
            fair = fair_share(run, row) if row is not None else 0.0
            people = run.population.get(code, 0.0)
            rows.append(StateComparisonRow(
                variant=run.name, state=code,
                role=row.role if row is not None else "not_participating",
                share=row.share if row is not None else 0.0,
                **now, fair_share=fair, deviation=now["value"] - fair,
                value_per_million=now["value"] / people * 1e6 if people > 0 else None,
                **{f"{a}_delta": now[a] - before[a] for a in AMOUNTS}))
    return rows


def _indicators(run: ComparedRun) -> list[tuple[str, str, str, float | None]]:
    """(kpi, subject, unit, value) of one run, in the order of kpis.csv."""
    t, rate, eq = run.summary.totals, run.rate, "relocation-equivalents"
    contributors = [r for r in run.allocation if r.role == CONTRIBUTOR]
    deviations = [abs(r.value - fair_share(run, r)) for r in contributors]
    per_capita = [r.value / run.population[r.state] for r in contributors
                  if run.population.get(r.state, 0) > 0]
    matching = run.summary.matching
    rows: list[tuple[str, str, str, float | None]] = [
        ("pool_relocations", "", "persons", run.relocations),
        ("pool_financial_eur", "", "EUR", run.financial_eur),
        ("obligation", "", eq, t.obligation), ("obligation_eur", "", "EUR", t.obligation * rate),
        ("value", "", eq, t.value), ("value_eur", "", "EUR", t.value * rate),
        ("relocation", "", "persons", t.relocation), ("offset", "", "persons", t.offset),
        ("financial_eur", "", "EUR", t.financial_eur),
        ("alternative_eur", "", "EUR", t.alternative_eur),
        ("shortfall", "", eq, t.shortfall), ("shortfall_eur", "", "EUR", t.shortfall * rate),
        ("surplus", "", eq, t.surplus), ("surplus_eur", "", "EUR", t.surplus * rate),
        ("persons_relocated", "", "persons",
         float(matching.persons_assigned) if matching.ran else None),
        ("fair_share_max_abs_deviation", "", eq, max(deviations, default=0.0)),
        ("fair_share_mean_abs_deviation", "", eq,
         math.fsum(deviations) / len(deviations) if deviations else 0.0),
        ("gini_value_per_capita", "", "index", gini(per_capita)),
    ]
    for row in run.coverage:
        subject = f"{row.beneficiary}:{row.measure.value}"
        unit = "persons" if row.measure.in_persons else "EUR"
        rows += [("received", subject, unit, row.received),
                 ("coverage", subject, "ratio", row.ratio)]
    return rows


def kpi_rows(runs: Sequence[ComparedRun]) -> list[KpiRow]:
    """comparison/kpis.csv: every run's indicators (the first run is the base)."""
    base = {(k, s): v for k, s, _, v in _indicators(runs[0])}
    rows = []
    for run in runs:
        for kpi, subject, unit, value in _indicators(run):
            before = base.get((kpi, subject))
            delta = value - before if value is not None and before is not None else None
            rows.append(KpiRow(variant=run.name, kpi=kpi, subject=subject, unit=unit,
                               value=value, delta=delta))
    return rows


def write_comparison(folder: Path, runs: Sequence[ComparedRun],
                     formats: Sequence[str] = ("csv",)) -> None:
    """Write `folder` (states.csv, kpis.csv, the same in the other `formats`, report.html).
    It lies inside the comparison's staging folder, published as a whole by `compare`; the
    run folders are its siblings (`folder.parent / NAME`)."""
    from planner.outputs.formats import write_formats
    from planner.report.html_compare import write_comparison_report

    folder.mkdir()
    write_table(folder / STATES.file, STATES, state_rows(runs))
    write_table(folder / KPIS.file, KPIS, kpi_rows(runs))
    write_formats(folder, formats, COMPARISON_TABLES, [folder.parent / run.name for run in runs])
    write_comparison_report(folder)


# --- running the base and the variants -------------------------------------------------------

def compare(instance_dir: Path | str, variants: Sequence[str] | None = None, *,
            solver: str = "", time_limit: float | None = None,
            progress: Progress | None = None, sets: Sequence[str] = (),
            variant_sets: Sequence[tuple[str, str]] = ()) -> Comparison:
    """Plan the base and each variant in memory and compare them (nothing is written; writing
    a comparison is `planner compare`'s job). `variants`: names of `variants/NAME.toml`
    (default: every one the instance ships, none when `variant_sets` are given). `sets`:
    `KEY=VALUE` overrides of every run, `variant_sets`: (NAME, KEY=VALUE) pairs making what-if
    runs (`run_inputs`, as `--set` and `--variant-set`). Every input is validated first:
    InputError with the problems of all of them (ValueError for a run's name that cannot
    be). `solver`, `time_limit` and `progress` as for `planner.plan`."""
    from planner.inputs.variants import variant_names

    folder = Path(instance_dir)
    if variants is None:
        variants = [] if variant_sets else variant_names(folder)
    specs = run_inputs(variants, sets, variant_sets)
    wrong = check_names(folder, specs)
    if wrong:
        raise ValueError("\n".join(wrong))
    loaded = [load_one(folder, spec) for spec in specs]
    problems = [p for found in loaded if isinstance(found, list) for p in found]
    if problems:
        raise InputError(problems)
    instances = [found for found in loaded if not isinstance(found, list)]  # all of them
    return comparison_of([plan(instance, solver=solver, time_limit=time_limit,
                               variant=spec.name, progress=progress)
                          for spec, instance in zip(specs, instances, strict=True)])


def load_one(instance_dir: Path, name: str | RunInputs) -> Instance | list[Problem]:
    """The base or one variant (or a run's inputs with `--set` overrides) loaded, or its input
    problems."""
    from planner.inputs.load import load_inputs

    try:
        return load_inputs(instance_dir, _inputs(name))
    except InputError as exc:
        return list(exc.problems)


def _inputs(name: str | RunInputs) -> RunInputs:
    return name if isinstance(name, RunInputs) else RunInputs.named(name)


def validate_one(instance_dir: Path, name: str | RunInputs) -> list[Problem]:
    """The input problems of the base or one variant (empty: valid); run in a worker, so only
    the problems travel back."""
    found = load_one(instance_dir, name)
    return found if isinstance(found, list) else []


def run_inputs(variants: Sequence[str], sets: Sequence[str] = (),
               groups: Sequence[tuple[str, str]] = ()) -> list[RunInputs]:
    """The runs of a comparison: the base, each variant file, then each `--variant-set NAME
    KEY=VALUE` group (the assignments of one NAME, in the order given, over the instance);
    the `--set` assignments apply over every run."""
    common = tuple(assignments(sets))
    named: dict[str, list[Assignment]] = {}
    for name, written in groups:
        named.setdefault(name, []).append((f"--variant-set {name}", written))
    return [RunInputs.named(name, common) for name in [BASE, *dict.fromkeys(variants)]] + [
        RunInputs(name, None, (*common, *own)) for name, own in named.items()]


def split_groups(given: Sequence[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """`--variant-set NAME:KEY=VALUE` values as (NAME, KEY=VALUE), and the problem of each
    value that is not of that form."""
    groups, problems = [], []
    for text in given:
        name, sep, written = text.partition(":")
        if not sep or "=" in name or not name.strip():
            problems.append(f"--variant-set {text}: expected NAME:KEY=VALUE, e.g. "
                            "big:pool.relocations=30000")
        else:
            groups.append((name.strip(), written))
    return groups, problems


def check_names(folder: Path, runs: Sequence[RunInputs]) -> list[str]:
    """Problems of the runs' names (`--variant-set NAME`): a name a variant file or another
    run already has, or one that cannot name a results folder."""
    from planner.inputs.variants import NAME, RESERVED, variant_names

    problems = []
    files = set(variant_names(folder))
    taken = [run.name for run in runs]
    for run in runs[1:]:  # the first is the base
        if run.variant is not None:
            continue
        if not NAME.fullmatch(run.name) or run.name in RESERVED:
            problems.append(f"--variant-set: {run.name!r} cannot name a run (letters, digits, "
                            f"'-', '_', '.'; not {' or '.join(RESERVED)})")
        elif run.name in files or taken.count(run.name) > 1:
            problems.append(f"--variant-set: {run.name!r} is already the name of a variant of "
                            "the instance: choose another name")
    return problems


def plan_one(instance_dir: Path, name: str | RunInputs, out: Path, solver: str,
             time_limit: float | None, formats: Sequence[str], quiet: bool, shown: str = "",
             fork: bool = True) -> ComparedRun | Failure:
    """Plan, write, verify and publish one run into `out` (in a worker process); `shown`:
    how progress names the instance (a workbook, not its temporary folder); `fork`: its
    exports in a child process of their own (planner.pipeline.run), off when the runs are
    in parallel workers already (every eu-2026 variant at 30,000 persons, 2 workers: 9.5 s
    with a child per run, which imports matplotlib again each time, 8.3 s without)."""
    from planner.optimise.solve import SolverOptions
    from planner.pipeline import run as run_pipeline

    inputs = _inputs(name)
    name = inputs.name
    try:
        result = run_pipeline(instance_dir, out, SolverOptions(solver, time_limit),
                              variant=inputs,
                              progress=shown_as(stage_lines(quiet, name), instance_dir, shown),
                              formats=formats,
                              guard=False,  # `out` is inside the comparison's staging folder
                              fork=fork)
    except InputError as exc:  # not picklable as such: its problems are
        return Failure(name, problems=list(exc.problems))
    except PlanError as exc:
        return Failure(name, message=f"{name}: {exc}")
    return run_of(result.plan)


class _InProcess(Executor):
    """`jobs = 1`: the same calls, one after the other in this process."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def _worker_signals() -> None:
    """In a worker, SIGINT and SIGTERM end the process quietly: SystemExit still runs the
    run's `finally` (its staging folder goes), and, unlike the parent's exception, it ends an
    idle worker without the traceback multiprocessing prints for other exceptions. Raised once,
    where it cannot break pandas (planner.interrupts), as in the parent."""
    from planner.interrupts import install

    install(lambda signum: SystemExit(128 + signum))


def _executor(jobs: int) -> Executor:
    if jobs <= 1:
        return _InProcess()
    # fork: the workers start with the modules already imported (about 1 s each otherwise)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context(method),
                               initializer=_worker_signals)


def _stop_workers(futures: Sequence[Future[Any]]) -> None:
    """An interruption of the parent (SIGTERM reaches it alone; Ctrl-C reaches the whole
    process group): cancel what has not started and end the workers, so that leaving the
    pool does not wait for their plans."""
    for future in futures:
        future.cancel()
    for child in multiprocessing.active_children():
        child.terminate()


def default_jobs(variants: int) -> int:
    return max(1, min(variants + 1, os.cpu_count() or 1))


def _result(future: Future[Any], futures: Sequence[Future[Any]]) -> ComparedRun:
    """One run's result; a failed run cancels the runs not yet started."""
    result = future.result()
    if isinstance(result, Failure):
        for other in futures:
            other.cancel()
        if result.problems:
            raise InputError(result.problems)
        raise PlanError(result.message)
    return result


def shown_as(progress: Progress, folder: Path, shown: str) -> Progress:
    """Progress naming `folder` as `shown` (a workbook read through a temporary folder)."""
    if not shown:
        return progress
    return lambda message: progress(message.replace(str(folder), shown))


def compare_into(instance_dir: Path, variants: Sequence[str | RunInputs], out: Path,
                 solver: str = "", time_limit: float | None = None, jobs: int | None = None,
                 formats: Sequence[str] = ("csv",), quiet: bool = False, shown: str = ""
                 ) -> list[ComparedRun]:
    """Validate the base and every variant, then plan each into `out`/NAME and write
    `out`/comparison; `out` is replaced as a whole, and only when everything succeeded. First
    of all, `out` must be a folder a comparison may replace, and is held for the comparison
    (planner.outputs.outdir: OutFolderError). `variants`: names of variant files, or the runs'
    inputs (`run_inputs`, the base first) where `--set` overrides make them."""
    with claimed(out, instance_dir, COMPARE):
        specs = [_inputs(v) for v in variants]
        if not specs or specs[0].name != BASE:
            specs = [RunInputs.named(BASE), *specs]
        unique: dict[str, RunInputs] = {}
        for spec in specs:  # a name given twice: its first run
            unique.setdefault(spec.name, spec)
        specs = list(unique.values())
        names = [spec.name for spec in specs]
        say = stage_lines(quiet, "compare")
        jobs = default_jobs(len(names) - 1) if jobs is None else jobs
        staged: Path | None = None
        try:
            # Leaving this block waits for every started run, so that none is still writing
            # into the staging folder when it is discarded after a failure.
            with _executor(jobs) as pool:
                futures: list[Future[Any]] = []
                try:
                    say(f"validating {', '.join(names)} ({jobs} process{'es' if jobs > 1 else ''})")
                    futures = [pool.submit(validate_one, instance_dir, spec) for spec in specs]
                    problems = [p for check in futures for p in check.result()]
                    if problems:
                        raise InputError(problems)
                    staged = staging_folder(out)
                    futures = [pool.submit(plan_one, instance_dir, spec, staged / spec.name,
                                           solver, time_limit, tuple(formats), quiet, shown,
                                           jobs <= 1)
                               for spec in specs]
                    runs = [_result(future, futures) for future in futures]
                except (InputError, PlanError):
                    raise
                except BaseException:
                    if isinstance(pool, ProcessPoolExecutor):
                        _stop_workers(futures)
                    raise
            say("comparison tables")
            write_comparison(staged / "comparison", runs, formats)
            publish(staged, out, COMPARE)
        except OSError as exc:
            raise PlanError(f"cannot write results to {out}: {exc.strerror}") from exc
        finally:
            if staged is not None:
                discard(staged)
        return runs


def print_comparison(console: Any, runs: Sequence[ComparedRun], out: str) -> None:
    """The headline indicators per run on stdout (rich), each run's warnings, then where the
    files are. Run names, warnings and the folder are input text: shown escaped and never as
    markup (planner.report.display.literal)."""
    from rich.table import Table

    from planner.report.display import literal

    wanted = ("obligation", "value", "shortfall", "surplus", "relocation", "persons_relocated",
              "fair_share_max_abs_deviation", "gini_value_per_capita")
    headers = ("obligation", "value", "shortfall", "surplus", "relocation places",
               "persons relocated", "max |value - fair share|", "Gini per capita")
    table = Table(title="Base and variants (relocation-equivalents unless stated)")
    table.add_column("run", no_wrap=True)
    for header in headers:
        table.add_column(header, justify="right")
    for run in runs:
        values = {k: v for k, s, _, v in _indicators(run) if not s}
        cells = [("-" if values[k] is None else
                  f"{values[k]:.3f}" if k == "gini_value_per_capita" else f"{values[k]:,.0f}")
                 for k in wanted]
        table.add_row(literal(run.name), *cells)
    console.print(table)
    for run in runs:
        for warning in run.summary.warnings:
            console.print(literal(f"warning ({run.name}): {warning}"))
    console.print(literal(f"results: {out} (one folder per run; comparison/states.csv, "
                          "kpis.csv, report.html)"))
