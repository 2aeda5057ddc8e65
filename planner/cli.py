"""The `planner` command: a thin layer over `planner.pipeline` (heavy imports stay lazy)."""

from __future__ import annotations

import gc
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from models.instance import Instance
    from planner.pipeline import AsOf

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Plan the EU Annual Solidarity Pool (Regulation (EU) 2024/1351).")

DEFAULT_INSTANCE = Path("instances/eu-2026")
InstanceArg = Annotated[Path | None, typer.Argument(
    help="Instance folder or input workbook BOOK.xlsx (`planner template`; default: the "
    "bundled instances/eu-2026).", show_default=False)]
Quiet = Annotated[bool, typer.Option("-q", "--quiet", help="No progress lines on stderr.")]
SolverOption = Annotated[str | None, typer.Option(
    "--solver", help="highs (default) or cbc; overrides the solver named in instance.toml.")]
TimeLimit = Annotated[float | None, typer.Option(
    "--time-limit", help="Solver time limit per stage, in seconds.")]
Formats = Annotated[list[str] | None, typer.Option(
    "--format", help="Also export the tables as xlsx, json or parquet (repeatable); csv is "
    "always written.")]
Sets = Annotated[list[str] | None, typer.Option(
    "--set", metavar="KEY=VALUE", help="What-if without writing files (repeatable): a key of "
    "instance.toml (pool.relocations=30000), a cell of member_states.csv "
    "(member_states.PL.deduction=0) or of pledges.csv (pledges.FR-2.max=60000000), applied "
    "over the instance or the --variant.")]


def _name(path: Path) -> str:
    """The instance's name in the default results folder: the folder's, or the workbook's
    without its suffix."""
    from planner.inputs.workbook import is_workbook

    return path.stem if is_workbook(path) else path.name


def _instance(path: Path | None) -> Path:
    if path is not None:
        return path
    if DEFAULT_INSTANCE.is_dir():
        return DEFAULT_INSTANCE
    return Path(__file__).resolve().parents[1] / DEFAULT_INSTANCE


def _fail(exc: Exception) -> NoReturn:
    """Bad input: every problem, one per line (exit 2); no plan: the reason (exit 3)."""
    from planner.errors import InputError
    from planner.outputs.outdir import OutFolderError
    from planner.report.display import visible_lines

    if isinstance(exc, InputError):
        for problem in exc.problems:
            print(visible_lines(problem), file=sys.stderr)
        raise typer.Exit(2)
    if isinstance(exc, OutFolderError):  # checked before anything is read (planner.outputs.outdir)
        print(visible_lines(f"--out: {exc}"), file=sys.stderr)
        raise typer.Exit(2)
    print(visible_lines(f"error: {exc}"), file=sys.stderr)
    raise typer.Exit(3)


def _options(solver: str | None, time_limit: float | None, formats: list[str] | None
             ) -> tuple[str, ...]:
    """Check the options shared by `run` and `compare` before anything is read or planned
    (exit 2 on any problem, all reported); return the formats, csv first."""
    from planner.optimise.solve import SOLVERS
    from planner.outputs.formats import check_formats

    problems = []
    if solver is not None and solver not in SOLVERS:
        problems.append(f"--solver: {solver!r} is not one of: {', '.join(SOLVERS)}")
    if time_limit is not None and not time_limit > 0:  # `not >` also catches nan
        problems.append(f"--time-limit: {time_limit:g} is not a positive number of seconds")
    wanted = tuple(dict.fromkeys(["csv", *(formats or [])]))
    problems += check_formats(wanted)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        raise typer.Exit(2)
    return wanted


@app.command()
def run(
    instance: InstanceArg = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="The run's folder (default results/<instance>/<variant or base>).")
    ] = None,
    variant: Annotated[str | None, typer.Option(
        "--variant", help="Plan variants/NAME.toml of the instance over it.")] = None,
    solver: SolverOption = None,
    time_limit: TimeLimit = None,
    formats: Formats = None,
    quiet: Quiet = False,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Re-plan the rest of the year at this date (YYYY-MM-DD): what the "
        "ledger and transfers record by then is fixed, only what remains is planned.")
    ] = None,
    pacing: Annotated[float | None, typer.Option(
        "--pacing", help="With --as-of: cap each contributor's new placements in the coming "
        "period at this many times its pro-rata share of what remains (0: no cap; default "
        "[replan] pacing).")] = None,
    sets: Sets = None,
) -> None:
    """Plan one proposal: obligations, each state's mix, the distribution; write and verify."""
    if _ENDS_AFTER_COMMAND:
        run_collector()
    from planner.comparison import shown_as
    from planner.errors import InputError, PlanError
    from planner.inputs.overrides import RunInputs
    from planner.inputs.workbook import instance_folder
    from planner.optimise.solve import SolverOptions
    from planner.outputs.outdir import OutFolderError
    from planner.pipeline import run as run_pipeline
    from planner.pipeline import stage_lines

    wanted = _options(solver, time_limit, formats)
    replan = _as_of(as_of, pacing)
    given = _instance(instance)
    target = out or Path("results") / _name(given) / (variant or "base")
    try:
        with instance_folder(given, variant, sets or ()) as folder:
            result = run_pipeline(folder, target, SolverOptions(solver or "", time_limit),
                                  variant=RunInputs.named(variant or "base", sets or ()),
                                  progress=shown_as(stage_lines(quiet), folder, str(given)),
                                  formats=wanted, as_of=replan)
    except (InputError, PlanError, OutFolderError) as exc:
        _fail(exc)
    from planner.report.terminal import terminal_text

    sys.stdout.write(terminal_text(result.tables, result.summary, out=str(target),
                                   tty=sys.stdout.isatty(),
                                   encoding=sys.stdout.encoding or "utf-8"))


@app.command()
def compare(
    instance: InstanceArg = None,
    variants: Annotated[list[str] | None, typer.Option(
        "--variant", help="A variant to plan (repeatable; default: every variants/*.toml).")
    ] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder of the comparison (default results/<instance>/compare).")] = None,
    solver: SolverOption = None,
    time_limit: TimeLimit = None,
    jobs: Annotated[int | None, typer.Option(
        "--jobs", min=1, help="Processes planning runs side by side (default: one per run, at "
        "most one per CPU).")] = None,
    formats: Formats = None,
    quiet: Quiet = False,
    sets: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help="An override applied over the base and every "
        "variant (repeatable; see `planner run --help`).")] = None,
    variant_sets: Annotated[list[str] | None, typer.Option(
        "--variant-set", metavar="NAME:KEY=VALUE", help="A what-if variant NAME made of "
        "overrides (repeatable: the KEY=VALUE of one NAME together make that variant, e.g. "
        "--variant-set big:pool.relocations=30000); with it, only the --variant given are "
        "planned besides the base.")] = None,
) -> None:
    """Plan the base and each variant (DIR/base, DIR/NAME) and compare them (DIR/comparison)."""
    from rich.console import Console

    from planner.comparison import check_names, print_comparison, run_inputs, split_groups
    from planner.comparison import compare_into as run_compare
    from planner.errors import InputError, PlanError
    from planner.inputs.variants import variant_names
    from planner.inputs.workbook import instance_folder
    from planner.outputs.outdir import OutFolderError
    from planner.report.display import visible_lines

    wanted = _options(solver, time_limit, formats)
    given = _instance(instance)
    target = out or Path("results") / _name(given) / "compare"
    try:
        with instance_folder(given, None, sets or ()) as folder:
            names = variants or ([] if variant_sets else variant_names(folder))
            groups, problems = split_groups(variant_sets or ())
            specs = run_inputs(names, sets or (), groups)
            problems += check_names(folder, specs)
            for problem in problems:
                print(visible_lines(problem), file=sys.stderr)
            if problems:
                raise typer.Exit(2)
            runs = run_compare(folder, specs, target, solver or "", time_limit, jobs, wanted,
                               quiet, str(given) if folder != given else "")
    except (InputError, PlanError, OutFolderError) as exc:
        _fail(exc)
    print_comparison(Console(width=120), runs, str(target))


@app.command()
def validate(instance: InstanceArg = None, variant: Annotated[str | None, typer.Option(
        "--variant", help="Check variants/NAME.toml applied over the instance.")] = None,
        quiet: Quiet = False, sets: Sets = None) -> None:
    """Check the inputs only: every problem as FILE:LINE: COLUMN: message (exit 2)."""
    from planner.errors import InputError
    from planner.inputs.load import load_instance
    from planner.inputs.workbook import instance_folder
    from planner.report.display import visible

    given = _instance(instance)
    try:
        with instance_folder(given, variant, sets or ()) as folder:
            loaded = load_instance(folder, variant, sets or ())
    except InputError as exc:
        _fail(exc)
    _ledger_warnings(loaded)
    if not quiet:
        name = f"{given} (variant {variant})" if variant else str(given)
        print(f"{visible(name)}: valid ({len(loaded.states)} states, "
              f"{len(loaded.pledges)} pledges, {len(loaded.needs)} needs)")


def _ledger_warnings(instance: Instance) -> None:
    """The ledger's warnings (more implemented than pledged, planner.inputs.ledger) on
    stderr: they do not stop anything."""
    from planner.inputs.ledger import ledger_warnings
    from planner.report.display import visible_lines

    for problem in ledger_warnings(instance):
        print(visible_lines(f"warning: {problem}"), file=sys.stderr)


@app.command()
def verify(
    results: Annotated[Path, typer.Argument(help="A results folder (planner run --out).")],
    instance: Annotated[Path | None, typer.Option(
        "--instance", help="The instance folder or workbook it was planned from (default: "
        "found by the name in its summary.json).")] = None,
) -> None:
    """Re-verify a results folder: every figure of every file recomputed or cross-checked
    (exit 0; 3 with every failed check; 2 when the folder or the instance is unreadable)."""
    from planner.errors import InputError
    from planner.inputs.load import load_instance
    from planner.inputs.workbook import instance_folder
    from planner.report.display import visible_lines
    from planner.verifier.verify import recheck

    try:
        with instance_folder(instance) if instance is not None else nullcontext() as folder:
            if folder is not None and folder != instance:
                load_instance(folder)  # a workbook's problems, named by cell
            code, lines = recheck(results, folder)
    except InputError as exc:
        code, lines = 2, [str(p) for p in exc.problems]
    for line in lines:
        print(visible_lines(line), file=sys.stdout if code == 0 else sys.stderr)
    raise typer.Exit(code)


@app.command()
def doctor() -> None:
    """Solve a tiny model with each solver back-end and print the versions."""
    import pulp

    from planner import __version__
    from planner.optimise.solve import SOLVERS, Solver, SolverOptions

    print(f"planner {__version__}, PuLP {pulp.__version__}")
    for name in SOLVERS:
        solver = Solver(SolverOptions(name=name, fallback=False))
        prob = pulp.LpProblem("doctor", pulp.LpMaximize)
        x = prob.add_variable("x", 0, 3, cat=pulp.LpInteger)
        prob += x <= 2.5
        try:
            best = solver.stage(prob, "doctor", pulp.LpAffineExpression(x), pulp.LpMaximize)
            print(f"{name}: ok ({solver.record().version}), optimum {best:g}")
        except Exception as exc:  # doctor reports every failure
            print(f"{name}: not usable: {exc}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True,
                              "help_option_names": []})
def generate(ctx: typer.Context) -> None:
    """Synthetic candidates.csv, deterministic by seed: --persons N --out PATH [--seed S]
    [--locations "CY=0.05,EL=0.2,IT=0.35,ES=0.4"] (see `planner generate --help`); or a
    synthetic ledger: --ledger --instance DIR --as-of DATE --out DIR [--seed S] [--transfers]."""
    from planner.inputs.synthetic import main as generate_main

    if "--ledger" in ctx.args:  # issue 15: a synthetic ledger (planner.synthetic_ledger)
        from planner.synthetic_ledger import main as ledger_main

        raise typer.Exit(ledger_main(list(ctx.args)))
    raise typer.Exit(generate_main(list(ctx.args)))


@app.command()
def schema(out: Annotated[Path, typer.Option("--out", help="Folder for the schemas.")] = Path(
        "schemas")) -> None:
    """Write the JSON Schema of every input and output file."""
    from models.schema import write_schemas
    from planner.outputs.registry import output_schemas

    for path in write_schemas(out, output_schemas()):
        print(path)


@app.command()
def track(
    instance: InstanceArg = None,
    as_of: Annotated[str, typer.Option(
        "--as-of", help="The date to track at, YYYY-MM-DD, within the cycle.")] = "",
    out: Annotated[Path | None, typer.Option(
        "--out", help="The tracking's folder (default results/<instance>/track-<date>).")
    ] = None,
    plan_dir: Annotated[Path | None, typer.Option(
        "--plan", help="The run's results to track against (default results/<instance>/base "
        "when current, else the year is planned in memory).")] = None,
    since: Annotated[Path | None, typer.Option(
        "--since", help="An earlier tracking (or run) folder: write what changed since.")
    ] = None,
    tolerance: Annotated[float | None, typer.Option(
        "--tolerance", help="Warn beyond this many share points of the planned value "
        "(0.1 = 10 points; default [tracking] tolerance, 0.1).")] = None,
    quiet: Quiet = False,
) -> None:
    """Where the year stands at a date (Art. 60(3)): tracking.csv, who is behind, report.html."""
    from planner.errors import InputError, PlanError
    from planner.outputs.outdir import OutFolderError
    from planner.pipeline import stage_lines
    from planner.report.display import visible_lines
    from planner.tracking import OptionError, track_to

    if not as_of:
        print("--as-of: required (YYYY-MM-DD)", file=sys.stderr)
        raise typer.Exit(2)
    if tolerance is not None and not 0 <= tolerance <= 1:  # `not <=` also catches nan
        print(f"--tolerance: {tolerance:g} is not a share between 0 and 1", file=sys.stderr)
        raise typer.Exit(2)
    folder = _instance(instance)
    target = out or Path("results") / folder.name / f"track-{as_of}"
    try:
        result = track_to(folder, target, as_of, plan_dir, since, tolerance, stage_lines(quiet))
    except OptionError as exc:
        print(visible_lines(str(exc)), file=sys.stderr)
        raise typer.Exit(2) from None
    except (InputError, PlanError, OutFolderError) as exc:
        _fail(exc)
    from planner.report.tracking_terminal import tracking_text

    sys.stdout.write(tracking_text(result.tracking, result.changes, str(target),
                                   tty=sys.stdout.isatty(),
                                   encoding=sys.stdout.encoding or "utf-8",
                                   warnings=result.warnings))


@app.command()
def template(
    instance: Annotated[Path | None, typer.Argument(
        help="An instance folder to fill the workbook with (default: an empty template).",
        show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", help="The workbook to write (.xlsx).")] = Path(
        "instance.xlsx"),
    variants: Annotated[bool, typer.Option(
        "--variants/--no-variants", help="Write the instance's variants as rows of the "
        "variants sheet.")] = True,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace BOOK.xlsx if it exists.")] = False,
) -> None:
    """Write an instance as an input workbook: settings, member states, pledges, needs,
    responsibility and variants, with drop-downs, formats and a README sheet."""
    from planner.errors import InputError
    from planner.inputs.load import load_instance
    from planner.inputs.template import write_template
    from planner.inputs.workbook import is_workbook
    from planner.report.display import visible_lines

    if not is_workbook(out) or out.is_dir():
        print(visible_lines(f"--out: {out} must name a workbook file ending in .xlsx"),
              file=sys.stderr)
        raise typer.Exit(2)
    if out.exists() and not force:  # an analyst's edited workbook is not lost by a slip
        print(visible_lines(f"--out: {out} exists: name another file, or replace it with "
                            "--force"), file=sys.stderr)
        raise typer.Exit(2)
    try:
        if instance is not None:
            load_instance(instance)  # a template is written from a valid instance only
    except InputError as exc:
        _fail(exc)
    for line in write_template(out, instance, variants):
        print(visible_lines(line), file=sys.stderr)
    print(out)


@app.command()
def explain(
    args: Annotated[list[str], typer.Argument(
        metavar="[INSTANCE] STATE", help="The instance folder (default: the bundled "
        "instances/eu-2026) and a state code of its member_states.csv.",
        show_default=False)],
    variant: Annotated[str | None, typer.Option(
        "--variant", help="Explain the plan of variants/NAME.toml over the instance.")] = None,
    solver: SolverOption = None,
    time_limit: TimeLimit = None,
    quiet: Quiet = False,
) -> None:
    """Why a state owes what it owes: its share (population and GDP parts), deduction and
    rounding, obligation, each pledge row and how the plan used it, where its contributions
    go, its offsets status and, with candidates, its places. Plans in memory; writes nothing."""
    from planner.errors import InputError, PlanError
    from planner.inputs.load import load_instance
    from planner.pipeline import plan, stage_lines
    from planner.report.display import visible_lines
    from planner.report.explain import UnknownState, explain_text, facts_of_tables
    from planner.report.explain import explain as explain_state

    if len(args) not in (1, 2):
        print("explain: give [INSTANCE] STATE (one state code, an instance folder before it "
              "optionally)", file=sys.stderr)
        raise typer.Exit(2)
    folder = _instance(Path(args[0]) if len(args) == 2 else None)
    wanted = _options(solver, time_limit, None)
    del wanted  # only checked: explain writes no files
    try:
        instance = load_instance(folder, variant)
        planned = plan(instance, solver=solver or "", time_limit=time_limit,
                       variant=variant or "base", progress=stage_lines(quiet))
        text = explain_text(explain_state(
            facts_of_tables(instance, planned.tables, planned.summary),
            args[-1].strip().upper()))  # state codes are upper case, as the loader makes them
    except UnknownState as exc:
        print(visible_lines(f"STATE: {exc}"), file=sys.stderr)
        raise typer.Exit(2) from None
    except (InputError, PlanError) as exc:
        _fail(exc)
    sys.stdout.write(visible_lines(text))


@app.command()
def sweep(
    instance: InstanceArg = None,
    variants: Annotated[list[str] | None, typer.Option(
        "--variant", help="A variant to sweep besides the base (repeatable).")] = None,
    scenarios: Annotated[int, typer.Option("--scenarios", help="Scenarios per variant.")] = 100,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sweep (default 1).")] = 1,
    workers: Annotated[int | None, typer.Option(
        "--workers", help="Worker processes of a local Dask cluster (default: one per CPU; 0: "
        "in this process, without Dask).")] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="An existing Dask cluster, e.g. tcp://host:8786.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder of the sweep (default results/<instance>/sweep).")] = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Skip the scenarios already written in --out.")] = False,
    batch: Annotated[int, typer.Option(
        "--batch", help="Scenarios per task (default 5).")] = 5,
    solver: SolverOption = None,
    time_limit: TimeLimit = None,
    quiet: Quiet = False,
) -> None:
    """Plan many scenarios of the year drawn from the instance's uncertainty section (issue
    16): scenarios.parquet and .csv, sweep.csv (P5, P50, P95, mean, targets) and sweep.html,
    on Dask distributed."""
    from planner.sweep.command import check, options, run_sweep
    from planner.sweep.run import SweepSpec

    _options(solver, time_limit, None)
    problems = check(scenarios, seed, workers, scheduler, batch)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        raise typer.Exit(2)
    folder = _instance(instance)
    spec = SweepSpec(folder, tuple(variants or ()), scenarios, seed, batch,
                     options(solver, time_limit))
    raise typer.Exit(run_sweep(spec, out or Path("results") / folder.name / "sweep", workers,
                               scheduler, resume, quiet))


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None or isinstance(exc.code, int):
        return exc.code or 0
    print(exc.code, file=sys.stderr)  # what sys.exit("text") would have printed
    return 1


def _leave(code: int) -> None:
    """Flush and end the process without tearing the interpreter down: freeing every module
    and object of a run (pandas, the solver, hundreds of thousands of rows) took 0.4 s CPU of
    a run of eu-2026 or of a monthly re-run (bench/README.md, issue 13). Every file is closed
    by then (written in `with` blocks, the staging folder published or discarded) and no
    command leaves work to atexit handlers. A stdout that cannot be written any more (a
    closed pipe) changes neither the exit code nor stderr."""
    import contextlib
    import os

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`planner run | head`)
            stream.flush()
    os._exit(code)


# The young generation of the cyclic collector is collected once 50,000 more container
# objects are alive (Python's default: 700). A run holds hundreds of thousands of rows and
# cells; at 700, its passes over them cost about 0.4 s CPU of a monthly re-run (5 full
# collections), at 50,000 about 0.15 s. The collector stays on: the cycles a run leaves
# (matplotlib's figures among them) are freed while later runs go (`compare --jobs 1`), where
# the former `gc.disable()` kept every run's (bench/README.md, issue 13). `planner run` from
# the console, one run and the process ends, plans with it off (`run_collector`).
YOUNG_THRESHOLD = 50_000


def collector() -> None:
    """The cyclic collector as every command runs with it: on, with `YOUNG_THRESHOLD`."""
    gc.enable()
    gc.set_threshold(YOUNG_THRESHOLD)


# Set by `main` only: the process ends (`_leave`) once its one command has run. A command
# invoked otherwise (typer's CliRunner in the tests, a library caller) leaves the collector
# as it is.
_ENDS_AFTER_COMMAND = False


def run_collector() -> None:
    """The cyclic collector as `planner run` runs with it from the console: off. The process
    plans one proposal and ends with `os._exit`, so the cycles its one run leaves are never
    worth collecting (peak memory: no growth measured, monthly re-run and 300,000 persons),
    while the collector's passes over the rows that survive cost about 0.15 s CPU of every
    run (bench/README.md). Commands that run several plans in one process (`compare`, and
    the library) keep `collector`: there, the cycles of each run must go (issue 13)."""
    gc.disable()


def main() -> None:
    from planner.interrupts import Interrupted, ignore, install

    global _ENDS_AFTER_COMMAND
    collector()
    _ENDS_AFTER_COMMAND = True
    install(Interrupted)  # the first SIGINT or SIGTERM: Interrupted; any later one: ignored
    code = 0
    try:
        app()
    except SystemExit as exc:
        code = _exit_code(exc)
    except (Interrupted, KeyboardInterrupt) as exc:
        ignore()
        from planner.outputs.export import discard_staged, published

        discard_staged()
        # Runs published into a staging folder (compare's) went with it.
        done = [path for path in published() if path.exists()]
        print("interrupted: " + ("nothing was written" if not done else
                                 "written before the interruption: " + ", ".join(map(str, done))),
              file=sys.stderr)
        code = exc.exit_code if isinstance(exc, Interrupted) else 130
    finally:
        ignore()  # once the command has finished, a signal changes nothing
    _leave(code)


if __name__ == "__main__":  # `python -m planner.cli` (with -X importtime, say), as `planner`
    main()


def _as_of(as_of: str | None, pacing: float | None) -> AsOf | None:
    """`run --as-of DATE [--pacing X]` checked before anything is read (exit 2, every problem
    at once): an ISO date, a pacing factor from 0 to 1000, and --pacing only with --as-of."""
    import datetime as dt
    import math
    import re

    from planner.pipeline import AsOf
    from planner.report.display import visible

    problems = []
    date = None
    if as_of is not None:
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", as_of):
                raise ValueError
            date = dt.date.fromisoformat(as_of)
        except ValueError:
            problems.append(f"--as-of: {as_of!r} is not an ISO date (YYYY-MM-DD)")
    if pacing is not None and not (math.isfinite(pacing) and 0 <= pacing <= 1000):
        problems.append(f"--pacing: {pacing:g} is not a factor from 0 (no cap) to 1000")
    if pacing is not None and as_of is None:
        problems.append("--pacing: only with --as-of (the pacing of a re-plan)")
    for problem in problems:
        print(visible(problem), file=sys.stderr)
    if problems:
        raise typer.Exit(2)
    return None if date is None else AsOf(date, pacing)
