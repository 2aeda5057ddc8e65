"""The run, stage by stage: load -> key -> offsets -> pool plan -> distribution -> tables ->
write (staged) -> verify -> publish. Each stage is a function callable alone.

The library API (`from planner import plan, verify, write`) lives here: `plan` gives a `Plan`
in memory (nothing written; the variant's file is read again for a warning), `render` the
bytes `write` would write, `verify` checks those bytes with the independent verifier, and
`write` writes, verifies and publishes a folder as `planner run` does. `run` (the command) is
load -> plan -> write on top of them. Scenario sweeps call `plan` many times: each call builds
its own `Solver` record, so calls share no state.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from models.instance import FLOOR_FINANCIAL_EUR, FLOOR_RELOCATIONS, Instance, Measure
from models.results import (
    DistributionSummary,
    KeySummary,
    OfficialShare,
    OffsetsSummary,
    ProposalSummary,
    ReplanSummary,
    SolverInfo,
    Summary,
    WarningItem,
)
from planner import __version__
from planner.errors import Problem
from planner.inputs.asof import as_of_instance, implemented, implemented_towards
from planner.inputs.load import load_inputs
from planner.inputs.overrides import RunInputs
from planner.optimise.assignments import finish_joint, match_joint, run_matching
from planner.optimise.distribution import Distribution, distribute
from planner.optimise.key import compute_key
from planner.optimise.offsets import OffsetsReport, assess_offsets
from planner.optimise.pacing import (
    Pacing,
    days_left,
    paced_places,
    placement_caps,
    transferred_persons,
)
from planner.optimise.pool_plan import plan_pool
from planner.optimise.solve import Solver, SolveRecord, SolverOptions
from planner.optimise.tables import Tables, build_tables
from planner.outputs.alongside import Job, prepared
from planner.outputs.export import publish, run_files, staged_for, write_tables
from planner.outputs.fileio import summary_bytes, table_bytes
from planner.outputs.formats import write_formats
from planner.outputs.outdir import RUN, claimed
from planner.outputs.registry import SUMMARY
from planner.report.analyst_warnings import analyst_warnings
from planner.report.charts import preload
from planner.report.display import visible_lines
from planner.report.html import write_report
from planner.verifier.verify import verify as verify_files
from planner.verifier.verify import verify_or_raise

Progress = Callable[[str], None]


@dataclass(frozen=True, eq=False)
class Plan:
    """One proposal planned in memory: the tables and summary.json exactly as `planner run`
    writes them (`render` gives the files' bytes), and the instance it was planned from (what
    `verify` and `write` check against; the verifier re-reads candidates.csv from its folder).
    The metadata are the summary's: `name` (the instance's), `variant`, `status` and `timings`
    (seconds per stage); `solve` is what the solver did (planner.optimise.solve.SolveRecord:
    status and termination, gaps, times, the back-end used, notes). Frozen: its fields are not
    reassigned (the rows are lists and pydantic models: change them through
    `dataclasses.replace` and `model_copy`, as tests do).

    Two plans are equal when their tables and summaries are, apart from the wall-clock
    `timings`: planning the same instance twice gives equal plans."""

    tables: Tables
    summary: Summary
    instance: Instance = field(repr=False)
    solve: SolveRecord = field(repr=False)

    @property
    def name(self) -> str:
        return self.summary.instance

    @property
    def variant(self) -> str:
        return self.summary.variant

    @property
    def status(self) -> str:
        return self.summary.status

    @property
    def timings(self) -> dict[str, float]:
        return self.summary.timings_s

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Plan):
            return NotImplemented
        return self.tables == other.tables and _untimed(self.summary) == _untimed(other.summary)

    __hash__ = None  # type: ignore[assignment]  # equal by value, and its tables are lists


def _untimed(summary: Summary) -> Summary:
    return summary.model_copy(update={"timings_s": {}})


@dataclass(frozen=True)
class RunResult:
    """What `run` (the command) planned and where it published it; `summary` is the plan's
    with the time taken to write and verify added (`write_verify`, not in summary.json)."""

    plan: Plan
    out: Path
    summary: Summary

    @property
    def instance(self) -> Instance:
        return self.plan.instance

    @property
    def tables(self) -> Tables:
        return self.plan.tables

    @property
    def warnings(self) -> list[str]:
        return self.summary.warnings

    @property
    def solve(self) -> SolveRecord:
        return self.plan.solve


def _quiet(_: str) -> None:
    return None


def stage_lines(quiet: bool, name: str = "") -> Progress:
    """Progress as `[planner] message` lines on stderr (`[planner] NAME: message` for one run
    among several); nothing with `quiet`."""
    prefix = f"[planner] {name}: " if name else "[planner] "

    def say(message: str) -> None:  # messages quote paths and names: shown inert
        print(visible_lines(prefix + message), file=sys.stderr, flush=True)
    return _quiet if quiet else say


def summarise(instance: Instance, variant: str, tables: Tables, offsets: OffsetsReport,
              dist: Distribution, solve: SolveRecord, objectives: dict[str, float],
              timings: dict[str, float]) -> Summary:
    """summary.json of a planned run. Its warnings (planner.report.analyst_warnings), then the
    solver's notes (code `solver`): `warnings` lists their sentences, `warning_details` the
    same with code and subject."""
    details = [*analyst_warnings(instance, variant, tables.allocation, tables.plan),
               *(WarningItem(code="solver", text=note) for note in solve.notes)]
    share_diffs = {r.state: OfficialShare(computed=r.share_computed, official=r.share_official,
                                          difference=r.share - r.share_computed)
                   for r in tables.allocation if r.share_official is not None}
    return Summary(
        instance=instance.name,
        variant=variant,
        status=solve.status,
        totals=tables.totals,
        key=KeySummary(weights=instance.config.key.weights,
                       redistribute=instance.config.key.redistribute,
                       rounding=instance.config.pool.rounding.value,
                       eur_per_relocation=instance.config.pool.rate,
                       official_shares=share_diffs),
        proposal=proposal_section(instance),
        offsets=offsets_section(offsets, tables),
        distribution=DistributionSummary(
            sar_states=list(instance.config.distribution.sar_states),
            sar_share=instance.config.distribution.sar_share,
            sar_target_value=dist.sar_target,
            sar_received_value=dist.sar_received,
            sar_met=dist.sar_received >= dist.sar_target - 1e-6,
            min_coverage=min((r.ratio for r in tables.coverage if r.ratio is not None),
                             default=None),
        ),
        objectives=objectives,
        warnings=[w.text for w in details],
        warning_details=details,
        input_sha256=instance.input_sha256,
        version=__version__,
        solver=SolverInfo(requested=solve.requested, name=solve.used, version=solve.version,
                          time_limit_s=solve.time_limit_s, gap=solve.gap, gaps=dict(solve.gaps)),
        timings_s={k: round(v, 4) for k, v in timings.items()},
    )


def proposal_section(instance: Instance) -> ProposalSummary:
    """summary.json's `proposal`: the Commission's numbers (Art. 12) beside the Council's
    pool (Art. 57), each against the Art. 12(2) floors; the information line when the
    Council's pool is below them (not a warning: the Council may amend the proposal; the
    proposal below them is a warning, planner.report.analyst_warnings.proposal_warnings)."""
    config = instance.config
    pool_low = config.pool.relocations < FLOOR_RELOCATIONS \
        or config.pool.financial_eur < FLOOR_FINANCIAL_EUR
    proposal_low = config.proposal_relocations < FLOOR_RELOCATIONS \
        or config.proposal_financial_eur < FLOOR_FINANCIAL_EUR
    information = []
    if pool_low:
        information.append(
            f"the Council's pool ({config.pool.relocations:,} relocations, EUR "
            f"{config.pool.financial_eur:,.0f}) is below the Art. 12(2) floors of the "
            f"Commission's proposal ({FLOOR_RELOCATIONS:,} relocations, EUR "
            f"{FLOOR_FINANCIAL_EUR:,}): the Council may amend the proposal (Art. 57); "
            + (f"the proposal is {config.proposal_relocations:,} relocations, EUR "
               f"{config.proposal_financial_eur:,.0f}" if config.proposal.model_fields_set
               else "[proposal] is not set, so the pool's numbers stand for the proposal "
               "(Art. 63's thresholds too)"))
    return ProposalSummary(
        relocations=config.proposal_relocations,
        financial_eur=config.proposal_financial_eur,
        given=sorted(config.proposal.model_fields_set),
        pool_relocations=config.pool.relocations,
        pool_financial_eur=config.pool.financial_eur,
        floor_relocations=FLOOR_RELOCATIONS,
        floor_financial_eur=FLOOR_FINANCIAL_EUR,
        proposal_below_floor=proposal_low,
        pool_below_floor=pool_low,
        information=information,
    )


def offsets_section(offsets: OffsetsReport, tables: Tables) -> OffsetsSummary:
    """summary.json's `offsets` (Art. 63, rules section 5; planner.optimise.offsets): the thresholds
    against the proposal, the two numbers of 63(3) and the one that binds, the voluntary
    offsets counted toward the gap, the mandatory parts, and the offsets assigned to no
    benefitting state (no responsibility.csv) per contributor."""
    unassigned: dict[str, float] = {}
    for row in tables.distribution:
        if not row.beneficiary and row.measure is Measure.offset:
            unassigned[row.contributor] = unassigned.get(row.contributor, 0.0) + row.amount
    report = {field: getattr(offsets, _OFFSETS_RENAMED.get(field, field))
              for field in OffsetsSummary.model_fields if field != "unassigned_to_benefitting"}
    return OffsetsSummary(**report, unassigned_to_benefitting={
        k: v for k, v in sorted(unassigned.items()) if v > 0})


# OffsetsSummary's fields named otherwise in OffsetsReport; every other field has its name.
_OFFSETS_RENAMED = {"mandatory_threshold_needs": "threshold_needs",
                    "mandatory_threshold_proposal": "threshold_proposal",
                    "mandatory_owed": "owed", "mandatory_unplanned": "unplanned"}


def plan(instance: Instance, *, solver: str = "", time_limit: float | None = None,
         variant: str = "base", progress: Progress | None = None) -> Plan:
    """Plan a validated instance (`planner.load_instance`) in memory: key, offsets, pool plan,
    distribution, tables, matching. `solver` (highs or cbc) and `time_limit` (seconds per
    stage) override the instance's `[solver]`, as `planner run --solver --time-limit` do;
    `variant` is the name the summary records (the one given to `load_instance`); `progress`
    gets a line per stage. Writes nothing."""
    return plan_with(instance, SolverOptions(name=solver, time_limit_s=time_limit), variant,
                     progress or _quiet)


def plan_with(instance: Instance, options: SolverOptions, variant: str = "base",
              progress: Progress = _quiet, timings: dict[str, float] | None = None,
              pacing: Pacing | None = None) -> Plan:
    """`plan` with the caller's solver options (the command line; tests that forbid the
    fallback back-end), laid over the instance's [solver] settings; `timings` may hold stages
    timed before (`load`). `pacing`: a re-plan (`replan`) of an instance as of its date."""
    timings = {} if timings is None else timings
    solver = Solver(options.over(instance.config.solver))
    started = time.perf_counter()
    progress("key and obligations (Art. 66, Annex I)")
    key = compute_key(instance)
    offsets = assess_offsets(instance, key)
    progress("pool plan (shortfall, preferences, coverage)")
    pool = plan_pool(instance, key, offsets, solver)
    timings["pool_plan"] = time.perf_counter() - started
    joint = instance.cases is not None and instance.config.matching.split == "joint"
    floors, joined = None, None
    caps = placement_caps(instance, pool.amounts, pacing) if pacing and joint else {}
    paced = paced_places(instance, pool.amounts, caps, pacing.as_of) \
        if pacing and joint else None
    if joint:
        # Issue 18: the relocation rows' split over the benefitting states is decided with the
        # matching; the distribution then takes the persons placed as floors and spreads the
        # rest (places left empty) by its own rules. A paced re-plan matches on the paced
        # places (planner.optimise.pacing).
        progress("matching candidates to places, splitting the rows (Arts 60(2), 67-68)")
        started = time.perf_counter()
        joined, floors = match_joint(instance, {**pool.amounts, **(paced or {})}, solver,
                                     timings)
        timings["matching"] = time.perf_counter() - started
    matched_stages = set(solver.stages)
    progress("distribution over benefitting states (Art. 60(2))")
    started = time.perf_counter()
    towards = implemented_towards(instance, pacing.as_of) if pacing is not None else None
    dist = distribute(instance, pool.amounts, solver, offsets.voluntary_states, floors, towards)
    timings["distribution"] = time.perf_counter() - started
    tables = build_tables(instance, key, offsets, pool, dist)
    # The distribution's stages, before matching adds its own per-location stages.
    objectives = {**pool.objectives, **{f"distribution_{k}": v for k, v in solver.stages.items()
                                        if k not in pool.objectives
                                        and (not joint or k not in matched_stages)}}
    matching = None
    if joined is not None:
        started = time.perf_counter()
        tables.assignments, tables.unassigned, tables.matchability, matching = finish_joint(
            instance, tables.distribution, joined, timings, paced)
        timings["matching"] += time.perf_counter() - started
    elif instance.cases is not None:
        progress("matching candidates to places (Arts 67-68)")
        started = time.perf_counter()
        tables.assignments, tables.unassigned, tables.matchability, matching = run_matching(
            instance, tables.distribution, solver, timings)
        timings["matching"] = time.perf_counter() - started
    solve = solver.record()
    timings["solve"] = solve.solve_s
    if matching is not None:
        objectives.update({f"matching_{k}": v for k, v in matching.stages.items()})
    summary = summarise(instance, variant, tables, offsets, dist, solve, objectives, timings)
    if matching is not None:
        summary.matching = matching
    if pacing is not None:
        summary.replan = replan_section(instance, pacing, caps, paced or {})
        for (state, measure, b), amount in dist.not_distributed.items():
            summary.replan.not_distributed.setdefault(state, {}).setdefault(measure, {})[b] = \
                amount
    return Plan(tables, summary, instance, solve)


def replan_section(instance: Instance, pacing: Pacing, caps: dict[str, int],
                   paced: dict[str, float]) -> ReplanSummary:
    """summary.json's `replan` (issue 15): the as-of date, the fixed part (the ledger up to
    it, the persons transferred by it, the transfers dated after it), and the pacing of the
    coming period (planner.optimise.pacing)."""
    fixed: dict[str, dict[str, float]] = {}
    for (state, measure), amount in implemented(instance, pacing.as_of).items():
        fixed.setdefault(state, {})[measure] = amount
    dates = instance.ledger.transfer_dates
    return ReplanSummary(
        as_of=pacing.as_of.isoformat(),
        cycle_end=dt.date(instance.config.cycle, 12, 31).isoformat(),
        days_left=days_left(instance.config.cycle, pacing.as_of),
        period_days=pacing.period_days, pacing=pacing.pacing, fixed=fixed,
        transferred=transferred_persons(instance),
        transfers_after=sum(1 for d in dates.values() if d > pacing.as_of),
        placements_cap=caps, places_paced={k: int(v) for k, v in sorted(paced.items())})


def replan(instance: Instance, as_of: dt.date, *, pacing: float | None = None,
           solver: str = "", time_limit: float | None = None, variant: str = "base",
           progress: Progress | None = None) -> Plan:
    """Re-plan the rest of the year at `as_of` (`planner run --as-of`, issue 15): the
    instance as of the date (planner.inputs.asof: the ledger and the transfers up to it
    fixed, only what remains planned), its matching paced (planner.optimise.pacing;
    `pacing` overrides `[replan] pacing`, 0 = none). The Plan's `instance` is the instance
    as of the date (what `verify` and `write` check against); summary.json records the date
    (`replan`). InputError when the date is outside the cycle. Writes nothing."""
    return plan_with(as_of_instance(instance, as_of),
                     SolverOptions(name=solver, time_limit_s=time_limit), variant,
                     progress or _quiet, pacing=pacing_of(instance, as_of, pacing))


def pacing_of(instance: Instance, as_of: dt.date, pacing: float | None) -> Pacing:
    """The re-plan's pacing: `pacing` when given, else the instance's `[replan]`."""
    config = instance.config.replan
    return Pacing(as_of, config.pacing if pacing is None else pacing, config.period_days)


def render(plan: Plan) -> dict[str, bytes]:
    """File name -> the bytes `write` writes for the plan's CSV tables and summary.json (the
    other formats and report.html are made from them), without touching the disk: the same
    writer as on disk (planner.outputs.fileio)."""
    files = {table.file: table_bytes(table, rows)
             for table, rows in run_files(plan.tables, plan.summary.matching.ran)}
    files[SUMMARY.file] = summary_bytes(plan.summary)
    return files


def verify(plan: Plan, instance: Instance | None = None) -> list[Problem]:
    """Every rule the independent verifier (planner.verifier) finds broken in the plan, as
    FILE:LINE: COLUMN problems (empty: the plan passes), checked on the files `render` makes,
    in memory. `instance`: the inputs to check against (default: the plan's own); the
    candidates are re-read from its candidates.csv."""
    return verify_files(render(plan), plan.instance if instance is None else instance)


def write(plan: Plan, out: Path | str, formats: Sequence[str] = ("csv",),
          progress: Progress | None = None) -> Path:
    """Write the plan into the folder `out` as `planner run --out` does and return it: the
    files staged beside it, verified there (planner.verifier: PlanError when it rejects them),
    the other `formats` (xlsx, json, parquet) and report.html added, then published in one
    move. `out` must be a folder a run may replace (planner.outputs.outdir: OutFolderError)
    and is held for the write."""
    folder = Path(out)
    with claimed(folder, Path(plan.instance.origin.folder), RUN):
        _publish(plan, folder, progress or _quiet, formats)
    return folder


def _publish(plan: Plan, out: Path, progress: Progress, formats: Sequence[str],
             timings: dict[str, float] | None = None, exports: Job | None = None) -> None:
    """Stage, write, verify and publish `plan` into `out`, which the caller holds: the files
    are written into a staging folder beside it (planner.outputs.export.staged_for,
    discarded whatever happens), verified independently while the other formats and the
    report are made from the same CSVs (every format holds the same numbers) in a child
    process (planner.outputs.alongside), then, when both succeeded, moved into place at
    `out`. `exports`: that child, forked before the plan was made (`exports_for`, on the
    plan's instance); else one is forked here. `timings` gets the seconds of writing,
    verifying and the exports."""
    timings = {} if timings is None else timings
    owned = exports_for(plan.instance, formats) if exports is None else nullcontext(exports)
    with staged_for(out) as staged, owned as job:
        try:
            started = time.perf_counter()
            write_tables(staged, run_files(plan.tables, plan.summary.matching.ran),
                         plan.summary)
            timings["write"] = time.perf_counter() - started
            job.start(staged)
            progress("verifying the written plan")
            started = time.perf_counter()
            verify_or_raise(staged, plan.instance)
            timings["verify"] = time.perf_counter() - started
            progress("exports and report")
            timings["export"] = job.wait()
        finally:
            job.stop()  # before the staging folder goes: the child writes into it
        publish(staged, out)


def exports_for(instance: Instance, formats: Sequence[str], fork: bool = True
                ) -> AbstractContextManager[Job]:
    """The other formats and the report of a run of `instance` (`_publish`), as a Job
    started on the staging folder once the tables are written: in a child forked now
    (planner.outputs.alongside; not with `fork` off), which imports what the report draws
    with while this process goes on."""
    def export(staged: Path) -> None:
        write_formats(staged, formats)
        write_report(staged, instance)
    return prepared(export, "exports and report", preload, fork)


@dataclass(frozen=True)
class AsOf:
    """A re-plan's request (`planner run --as-of DATE [--pacing X]`): the date, and the
    pacing factor when the command line overrides `[replan] pacing`."""

    date: dt.date
    pacing: float | None = None


def run(instance_dir: Path, out: Path, options: SolverOptions,
        variant: str | RunInputs = "base", progress: Progress = _quiet,
        formats: Sequence[str] = ("csv",), guard: bool = True,
        as_of: AsOf | None = None, fork: bool = True) -> RunResult:
    """The whole job: load and validate, plan, write, verify, publish. `variant` other than
    "base" names `variants/NAME.toml` of the instance, applied over it, or is the run's inputs
    with `--set` overrides (`planner.inputs.overrides.RunInputs`). `guard`: first check
    that `out` may be replaced and hold it for the run (planner.outputs.outdir:
    OutFolderError, before anything is read); off only where the caller holds a folder around
    `out` (planner compare's runs). `as_of`: re-plan the rest of the year (`replan`).
    `fork`: the exports and report made in a child process beside the verifier (`_publish`);
    off where processes already fill the CPUs (planner compare's workers)."""
    inputs = variant if isinstance(variant, RunInputs) else RunInputs.named(variant)
    with claimed(out, instance_dir, RUN) if guard else nullcontext():
        return _run(instance_dir, out, options, inputs, progress, formats, as_of, fork)


def _run(instance_dir: Path, out: Path, options: SolverOptions, inputs: RunInputs,
         progress: Progress, formats: Sequence[str], as_of: AsOf | None = None,
         fork: bool = True) -> RunResult:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    progress(f"loading {instance_dir}")
    instance = load_inputs(instance_dir, inputs)
    pacing = None
    if as_of is not None:
        progress(f"re-plan as of {as_of.date.isoformat()}: the ledger and transfers fixed")
        pacing = pacing_of(instance, as_of.date, as_of.pacing)
        instance = as_of_instance(instance, as_of.date)
    timings["load"] = time.perf_counter() - started
    written: dict[str, float] = {}
    # The exports' child is forked now, on this instance (the plan's own: `plan_with` keeps
    # it), so that it has the report's imports done when the tables are written.
    with exports_for(instance, formats, fork) as exports:
        planned = plan_with(instance, options, inputs.name, progress, timings, pacing)
        assert planned.instance is instance  # what the child's report is made against
        started = time.perf_counter()
        _publish(planned, out, progress, formats, written, exports)
    spent = {**planned.summary.timings_s, **{k: round(v, 4) for k, v in written.items()},
             "write_verify": round(time.perf_counter() - started, 4)}
    return RunResult(planned, out, planned.summary.model_copy(update={"timings_s": spent}))
