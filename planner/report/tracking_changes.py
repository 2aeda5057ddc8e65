"""Month against month (issue 15, `planner track --since PREVIOUS`): what changed since an
earlier tracking, or since an earlier run's plan.

PREVIOUS is a folder `planner track` wrote (tracking.csv, tracking_contributors.csv and
tracking_summary.json) or one `planner run` wrote (its distribution.csv: only the planned amounts
are known there, nothing implemented). The rows of tracking_changes.csv, in this order:

* `implemented`: a contributor x measure x benefitting state whose implemented amount changed
  (before, after, change in the measure's unit); only from a tracking;
* `behind`: a contributor behind its pro-rata target by more than the tolerance now and not
  before, `caught_up` the reverse (ahead in relocation-equivalents before and after; each
  tracking judged with its own date and tolerance); only from a tracking;
* `moved`: a contributor x measure x benefitting state whose planned amount changed: places or
  amounts that moved between benefitting states with a re-plan (units).
"""

from __future__ import annotations

import json
from pathlib import Path

from models.tracking import ChangeRow, ContributorRow, TrackingRow
from planner.errors import InputError, Problem
from planner.outputs.fileio import TableError, read_table
from planner.outputs.registry import (
    DISTRIBUTION,
    TRACKING,
    TRACKING_CONTRIBUTORS,
    TRACKING_SUMMARY,
)
from planner.report.tracking import EPS, Tracking

Key = tuple[str, str, str]


def _behind(c: ContributorRow, tolerance: float) -> bool:
    return c.ahead_value < -tolerance * c.planned_value - EPS


def read_previous(folder: Path) -> tuple[dict[Key, TrackingRow] | None, dict[Key, float],
                                         dict[str, ContributorRow], float]:
    """An earlier tracking's rows (None from a run's folder), planned amounts, contributors and
    tolerance; InputError (exit 2) when the folder is neither."""
    try:
        if (folder / TRACKING.file).is_file():
            rows = {(r.contributor, r.measure.value, r.benefitting): r
                    for r in read_table(folder / TRACKING.file, TRACKING)}
            contributors = {c.contributor: c for c in read_table(
                folder / TRACKING_CONTRIBUTORS.file, TRACKING_CONTRIBUTORS)}
            tolerance = float(json.loads((folder / TRACKING_SUMMARY.file).read_text(
                encoding="utf-8"))["tolerance"])
            return rows, {k: r.planned for k, r in rows.items()}, contributors, tolerance
        if (folder / DISTRIBUTION.file).is_file():
            planned: dict[Key, float] = {}
            for flow in read_table(folder / DISTRIBUTION.file, DISTRIBUTION):
                key = (flow.contributor, flow.measure.value, flow.beneficiary)
                planned[key] = planned.get(key, 0.0) + flow.amount
            return None, planned, {}, 0.0
    except (OSError, TableError, ValueError, KeyError) as exc:
        raise InputError([Problem(str(folder), 0, "--since", f"cannot be read: {exc}")]) \
            from exc
    raise InputError([Problem(str(folder), 0, "--since", "neither a tracking (tracking.csv) "
                              "nor a run's results (distribution.csv)")])


def changes(folder: Path, now: Tracking) -> list[ChangeRow]:
    """What changed between the tracking or run in `folder` and `now`."""
    rows, planned, contributors, tolerance = read_previous(folder)
    current = {(r.contributor, r.measure.value, r.benefitting): r for r in now.rows}
    found: list[ChangeRow] = []
    if rows is not None:
        for key in sorted(set(rows) | set(current)):
            before = rows[key].implemented if key in rows else 0.0
            after = current[key].implemented if key in current else 0.0
            if abs(after - before) > EPS:
                found.append(ChangeRow(kind="implemented", contributor=key[0], measure=key[1],
                                       benefitting=key[2], before=before, after=after,
                                       change=after - before))
        found += _behind_changes(contributors, tolerance, now)
    for key in sorted(set(planned) | set(current)):
        before = planned.get(key, 0.0)
        after = current[key].planned if key in current else 0.0
        if abs(after - before) > EPS:
            found.append(ChangeRow(kind="moved", contributor=key[0], measure=key[1],
                                   benefitting=key[2], before=before, after=after,
                                   change=after - before))
    return found


def _behind_changes(previous: dict[str, ContributorRow], tolerance: float, now: Tracking
                    ) -> list[ChangeRow]:
    current = {c.contributor: c for c in now.contributors}
    found = []
    for state in sorted(set(previous) | set(current)):
        was = state in previous and _behind(previous[state], tolerance)
        is_ = state in current and _behind(current[state], now.tolerance)
        if was == is_:
            continue
        before = previous[state].ahead_value if state in previous else 0.0
        after = current[state].ahead_value if state in current else 0.0
        found.append(ChangeRow(kind="behind" if is_ else "caught_up", contributor=state,
                               measure="", benefitting="", before=before, after=after,
                               change=after - before))
    return found
