"""The run, stage by stage: load -> key -> offsets -> pool plan -> distribution -> tables ->
write (staged) -> verify -> publish. Each stage is a function callable alone."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from models.instance import FLOOR_FINANCIAL_EUR, FLOOR_RELOCATIONS, Instance, Measure
from models.results import (
    AllocationRow,
    AssignmentRow,
    CoverageRow,
    DistributionRow,
    DistributionSummary,
    KeySummary,
    MatchabilityRow,
    OfficialShare,
    OffsetsSummary,
    PlanRow,
    ProposalSummary,
    SolverInfo,
    Summary,
    UnassignedRow,
    WarningItem,
)
from planner import __version__
from planner.errors import PlanError
from planner.inputs.load import load_instance
from planner.optimise.assignments import finish_joint, match_joint, run_matching
from planner.optimise.distribution import Distribution, distribute
from planner.optimise.key import compute_key
from planner.optimise.offsets import OffsetsReport, assess_offsets
from planner.optimise.pool_plan import plan_pool
from planner.optimise.solve import Solver
from planner.optimise.tables import Tables, build_tables
from planner.outputs.export import discard, publish, staging_folder, write_tables
from planner.outputs.formats import write_formats
from planner.outputs.outdir import RUN, claimed
from planner.report.analyst_warnings import analyst_warnings
from planner.report.display import visible_lines
from planner.report.html import write_report
from planner.verifier.verify import verify_or_raise

Progress = Callable[[str], None]


@dataclass
class RunResult:
    instance: Instance
    tables: Tables
    summary: Summary
    out: Path
    warnings: list[str] = field(default_factory=list)


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
              dist: Distribution, solver: Solver, objectives: dict[str, float],
              timings: dict[str, float]) -> Summary:
    """summary.json of a planned run. Its warnings (planner.report.analyst_warnings), then the
    solver's notes (code `solver`): `warnings` lists their sentences, `warning_details` the
    same with code and subject."""
    details = [*analyst_warnings(instance, variant, tables.allocation, tables.plan),
               *(WarningItem(code="solver", text=note) for note in solver.notes)]
    share_diffs = {r.state: OfficialShare(computed=r.share_computed, official=r.share_official,
                                          difference=r.share - r.share_computed)
                   for r in tables.allocation if r.share_official is not None}
    return Summary(
        instance=instance.name,
        variant=variant,
        status=solver.status,
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
        solver=SolverInfo(requested=solver.name, name=solver.used, version=solver.version,
                          time_limit_s=solver.time_limit_s, gap=solver.gap, gaps=solver.gaps),
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
    return OffsetsSummary(
        proposal_relocations=offsets.proposal_relocations,
        voluntary_share=offsets.voluntary_share,
        voluntary_threshold=offsets.voluntary_threshold,
        pledged_relocations=offsets.pledged_relocations,
        voluntary_allowed=offsets.voluntary_allowed,
        voluntary_allowed_states=list(offsets.voluntary_allowed_states),
        refused_by=list(offsets.refused_by),
        voluntary_states=list(offsets.voluntary_states),
        voluntary=offsets.voluntary,
        mandatory_basis=offsets.mandatory_basis,
        relocation_needs=offsets.relocation_needs,
        mandatory_share=offsets.mandatory_share,
        mandatory_threshold_needs=offsets.threshold_needs,
        mandatory_proposal_share=offsets.mandatory_proposal_share,
        mandatory_threshold_proposal=offsets.threshold_proposal,
        mandatory_binding=offsets.mandatory_binding,
        mandatory_threshold=offsets.mandatory_threshold,
        mandatory_triggered=offsets.mandatory_triggered,
        gap=offsets.gap,
        remaining_gap=offsets.remaining_gap,
        mandatory_owed=offsets.owed,
        mandatory=offsets.mandatory,
        mandatory_unplanned=offsets.unplanned,
        caps=offsets.caps,
        unallocated=offsets.unallocated,
        responsibility_given=offsets.responsibility_given,
        unassigned_to_benefitting={k: v for k, v in sorted(unassigned.items()) if v > 0},
    )


def plan(instance: Instance, solver: Solver, variant: str = "base",
         progress: Progress = _quiet, timings: dict[str, float] | None = None
         ) -> tuple[Tables, Summary]:
    """Plan a validated instance: key, offsets, pool plan, distribution, tables, matching."""
    timings = {} if timings is None else timings
    started = time.perf_counter()
    progress("key and obligations (Art. 66, Annex I)")
    key = compute_key(instance)
    offsets = assess_offsets(instance, key)
    progress("pool plan (shortfall, preferences, coverage)")
    pool = plan_pool(instance, key, offsets, solver)
    timings["pool_plan"] = time.perf_counter() - started
    joint = instance.cases is not None and instance.config.matching.split == "joint"
    floors, joined = None, None
    if joint:
        # Issue 18: the relocation rows' split over the benefitting states is decided with the
        # matching; the distribution then takes the persons placed as floors and spreads the
        # rest (places left empty) by its own rules.
        progress("matching candidates to places, splitting the rows (Arts 60(2), 67-68)")
        started = time.perf_counter()
        joined, floors = match_joint(instance, pool.amounts, solver, timings)
        timings["matching"] = time.perf_counter() - started
    matched_stages = set(solver.stages)
    progress("distribution over benefitting states (Art. 60(2))")
    started = time.perf_counter()
    dist = distribute(instance, pool.amounts, solver, offsets.voluntary_states, floors)
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
            instance, tables.distribution, joined, timings)
        timings["matching"] += time.perf_counter() - started
    elif instance.cases is not None:
        progress("matching candidates to places (Arts 67-68)")
        started = time.perf_counter()
        tables.assignments, tables.unassigned, tables.matchability, matching = run_matching(
            instance, tables.distribution, solver, timings)
        timings["matching"] = time.perf_counter() - started
    timings["solve"] = solver.solve_s
    if matching is not None:
        objectives.update({f"matching_{k}": v for k, v in matching.stages.items()})
    summary = summarise(instance, variant, tables, offsets, dist, solver, objectives, timings)
    if matching is not None:
        summary.matching = matching
    return tables, summary


def pool_files(tables: Tables) -> list[tuple[str, type[BaseModel], Sequence[BaseModel]]]:
    return [("plan", PlanRow, tables.plan), ("allocation", AllocationRow, tables.allocation),
            ("distribution", DistributionRow, tables.distribution),
            ("coverage", CoverageRow, tables.coverage)]


def write_and_verify(instance: Instance, tables: Tables, summary: Summary, staged: Path,
                     out: Path, progress: Progress = _quiet, formats: Sequence[str] = ("csv",)
                     ) -> None:
    """Write the files into the staging folder `staged` (planner.outputs.export.staging_folder;
    the caller discards it), verify them independently, add the other formats and the report
    (made from the verified CSVs, so every format holds the same numbers), then move them into
    place at `out`."""
    files = pool_files(tables)
    if summary.matching.ran:
        files += [("assignments", AssignmentRow, tables.assignments),
                  ("unassigned", UnassignedRow, tables.unassigned),
                  ("matchability", MatchabilityRow, tables.matchability)]
    write_tables(staged, files, summary)
    progress("verifying the written plan")
    verify_or_raise(staged, instance)
    progress("exports and report")
    write_formats(staged, formats)
    write_report(staged)
    publish(staged, out)


def run(instance_dir: Path, out: Path, solver: Solver, variant: str = "base",
        progress: Progress = _quiet, formats: Sequence[str] = ("csv",), guard: bool = True
        ) -> RunResult:
    """The whole job: load and validate, plan, write, verify, publish. `variant` other than
    "base" names `variants/NAME.toml` of the instance, applied over it. `guard`: first check
    that `out` may be replaced and hold it for the run (planner.outputs.outdir:
    OutFolderError, before anything is read); off only where the caller holds a folder around
    `out` (planner compare's runs)."""
    if not guard:
        return _run(instance_dir, out, solver, variant, progress, formats)
    with claimed(out, instance_dir, RUN):
        return _run(instance_dir, out, solver, variant, progress, formats)


def _run(instance_dir: Path, out: Path, solver: Solver, variant: str, progress: Progress,
         formats: Sequence[str]) -> RunResult:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    progress(f"loading {instance_dir}")
    instance = load_instance(instance_dir, None if variant == "base" else variant)
    timings["load"] = time.perf_counter() - started
    solver.configure(instance.config.solver)
    staged: Path | None = None
    try:
        tables, summary = plan(instance, solver, variant, progress, timings)
        started = time.perf_counter()
        staged = staging_folder(out)
        write_and_verify(instance, tables, summary, staged, out, progress, formats)
    except OSError as exc:
        raise PlanError(f"cannot write results to {out}: {exc.strerror}") from exc
    finally:
        if staged is not None:
            discard(staged)  # whatever happened; once published, nothing is left to remove
    summary.timings_s["write_verify"] = round(time.perf_counter() - started, 4)
    return RunResult(instance, tables, summary, out, summary.warnings)
