"""`planner track` (issue 15): where the year stands at a date, written, verified, published.

The plan comes from a run's results folder (`--plan DIR`; by default `results/<instance>/base`
when it holds a plan of the instance's current inputs) or, failing that, is planned in memory
(as `planner run` would, nothing of it written). The tracking (planner.report.tracking) is
written into a staging folder beside `--out`, its sums re-checked by the independent verifier
(planner.verifier.tracking: exit 3 on any failure, nothing published), report.html added,
and the folder published in one move, as a run's.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.instance import Instance
from models.results import DistributionRow
from models.tracking import ChangeRow, TrackingSummary
from planner.errors import InputError, PlanError, Problem
from planner.inputs.load import load_instance
from planner.outputs.export import publish, staged_for
from planner.outputs.fileio import TableError, read_summary, read_table, table_bytes
from planner.outputs.outdir import TRACK, claimed
from planner.outputs.registry import (
    DISTRIBUTION,
    TRACKING,
    TRACKING_CHANGES,
    TRACKING_CONTRIBUTORS,
    TRACKING_RECEIVED,
    TRACKING_SUMMARY,
)
from planner.report.tracking import Tracking, track
from planner.report.tracking_html import render_tracking

Progress = Any  # a callable taking one line (planner.pipeline.stage_lines)


@dataclass(frozen=True)
class TrackResult:
    tracking: Tracking
    changes: list[ChangeRow] | None
    out: Path
    plan_source: str
    warnings: list[str]  # the ledger's, then the tracking's (tracking_summary.json)


class OptionError(Exception):
    """A command-line option of `planner track` is wrong (exit 2, printed `--OPTION: ...`)."""


def parse_as_of(text: str) -> dt.date:
    """`--as-of`: a date written YYYY-MM-DD; OptionError otherwise."""
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise OptionError(f"--as-of: {text!r} is not a date (YYYY-MM-DD)")


def check_as_of(instance: Instance, as_of: dt.date) -> None:
    """The date falls within the instance's cycle."""
    first, last = instance.config.cycle_days
    if not first <= as_of <= last:
        raise OptionError(f"--as-of: {as_of.isoformat()} is outside the cycle "
                          f"{instance.config.cycle} ({first.isoformat()} to "
                          f"{last.isoformat()})")


def plan_flows(instance: Instance, plan_dir: Path | None, default: Path, progress: Progress
               ) -> tuple[list[DistributionRow], str]:
    """The plan's flows and where they come from: `plan_dir` (its summary.json must name the
    instance's current inputs: InputError otherwise), else `default` when it does, else a plan
    made in memory."""
    for folder, explicit in ((plan_dir, True), (default, False)):
        if folder is None or not (explicit or (folder / "summary.json").is_file()):
            continue
        try:
            summary = read_summary(folder / "summary.json")
            current = summary.input_sha256 == instance.input_sha256 and summary.variant == "base"
            if current:
                return read_table(folder / DISTRIBUTION.file, DISTRIBUTION), str(folder)
        except (OSError, TableError, ValueError) as exc:
            if explicit:
                raise InputError([Problem(str(folder), 0, "--plan", f"not a run's results: "
                                          f"{exc}")]) from exc
            continue
        if explicit:
            raise InputError([Problem(str(folder), 0, "--plan", "was planned from other inputs "
                                      "(summary.json input_sha256 or variant differ): plan "
                                      "again with planner run")])
        progress(f"{folder} is not a plan of the current inputs: planning in memory")
    from planner.pipeline import plan

    progress("planning the year in memory (no current results folder)")
    return list(plan(instance, progress=progress).tables.distribution), "planned in memory"


def track_to(instance_dir: Path, out: Path, as_of_text: str, plan_dir: Path | None = None,
             since: Path | None = None, tolerance: float | None = None,
             progress: Progress = lambda _: None) -> TrackResult:
    """The whole `planner track`: load, find the plan, track, write, verify, publish."""
    as_of = parse_as_of(as_of_text)
    with claimed(out, instance_dir, TRACK):
        progress(f"loading {instance_dir}")
        instance = load_instance(instance_dir)
        check_as_of(instance, as_of)
        default = Path("results") / instance_dir.resolve().name / "base"
        flows, source = plan_flows(instance, plan_dir, default, progress)
        used = instance.config.tracking.tolerance if tolerance is None else tolerance
        result = track(instance, flows, as_of, used)
        found = None
        if since is not None:
            from planner.report.tracking_changes import changes

            found = changes(since, result)
        _publish(instance, result, flows, found, source, out, progress)
        return TrackResult(result, found, out, source, all_warnings(instance, result))


def all_warnings(instance: Instance, t: Tracking) -> list[str]:
    """The ledger's warnings (more implemented than pledged, with their line), then the
    tracking's (behind beyond the tolerance, beyond the plan)."""
    from planner.inputs.ledger import ledger_warnings

    return [f"ledger: {w.message} ({Path(w.file).name} line {w.line})"
            for w in ledger_warnings(instance)] + t.warnings


def tracking_files(instance: Instance, t: Tracking, changes: list[ChangeRow] | None,
                   source: str) -> dict[str, bytes]:
    """File name -> bytes of the tracking's tables and tracking_summary.json."""
    from planner import __version__

    files = {TRACKING.file: table_bytes(TRACKING, t.rows),
             TRACKING_CONTRIBUTORS.file: table_bytes(TRACKING_CONTRIBUTORS, t.contributors),
             TRACKING_RECEIVED.file: table_bytes(TRACKING_RECEIVED, t.received)}
    if changes is not None:
        files[TRACKING_CHANGES.file] = table_bytes(TRACKING_CHANGES, changes)
    warnings = all_warnings(instance, t)
    summary = TrackingSummary(
        instance=instance.name, cycle=instance.config.cycle, as_of=t.as_of, elapsed=t.elapsed,
        tolerance=t.tolerance, pool=t.pool, ledger_rows=t.ledger_rows,
        transfers_counted=t.transfers_counted, warnings=warnings,
        plan=source, input_sha256=instance.input_sha256, version=__version__)
    text = json.dumps(summary.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    files[TRACKING_SUMMARY.file] = text.encode("utf-8")
    return files


def _publish(instance: Instance, t: Tracking, flows: list[DistributionRow],
             changes: list[ChangeRow] | None, source: str, out: Path, progress: Progress
             ) -> None:
    from planner.verifier.tracking import verify_tracking

    files = tracking_files(instance, t, changes, source)
    progress("verifying the tracking's sums")
    problems = verify_tracking(files, instance, table_bytes(DISTRIBUTION, flows), t.as_of)
    if problems:
        raise PlanError("the verifier rejected the tracking:\n" +
                        "\n".join(str(p) for p in problems))
    with staged_for(out, "the tracking") as staged:
        for name, data in files.items():
            (staged / name).write_bytes(data)
        (staged / "report.html").write_text(render_tracking(instance, t, source),
                                            encoding="utf-8")
        publish(staged, out, TRACK)
