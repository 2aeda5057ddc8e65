"""Schemas of `planner track`'s outputs (issue 15): where the year stands at a date against the
plan, under Art. 60(3) ("Contributing Member States shall implement their pledges in
proportion to their overall pledge ... before the end of the year").

Units: `planned`, `implemented`, `target`, `ahead`, `remaining` and the two readings' targets
and paces are in the measure's unit (persons or EUR); every `_value` column is in
relocation-equivalents (EUR divided by the pool's EUR per relocation). The column order of each
CSV is the field order here; the verifier reads the files back through these models.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from models.instance import Measure
from models.results import Finite, OptFloat

_ROW = ConfigDict(extra="forbid", frozen=True)


class TrackingRow(BaseModel):
    """tracking.csv: one contributor x measure x benefitting state (empty: none in particular,
    as an offset without responsibility.csv).

    `share` = implemented / planned (empty when nothing is planned); `target` = planned x the
    elapsed fraction of the cycle (the pro-rata target at the date); `ahead` = implemented -
    target (negative: behind), `ahead_value` the same in relocation-equivalents; `remaining` =
    planned - implemented, at least 0. The two readings of Art. 60(3) (rules section 1):
    (a) `target_contributor` = planned x the contributor's own implemented share of its whole
    plan (in value), `pace_contributor` = implemented - that: each measure at the pace of the
    contributor's whole pledge; (b) `target_pool` = planned x the pool-wide implemented share,
    `pace_pool` = implemented - that: the contributor keeping pace with the pool."""

    model_config = _ROW
    contributor: str
    measure: Measure
    benefitting: str
    planned: Finite
    implemented: Finite
    share: OptFloat = None
    target: Finite
    ahead: Finite
    ahead_value: Finite
    remaining: Finite
    target_contributor: Finite
    pace_contributor: Finite
    target_pool: Finite
    pace_pool: Finite


class ContributorRow(BaseModel):
    """tracking_contributors.csv: one contributor's whole plan in value (relocation-equivalents):
    the sums of its tracking.csv rows. `share` = implemented / planned; `target_value` = planned
    x the elapsed fraction; `ahead_value` = implemented - target (negative: behind);
    `pace_pool_value` = implemented - planned x the pool-wide share (reading (b))."""

    model_config = _ROW
    contributor: str
    planned_value: Finite
    implemented_value: Finite
    share: OptFloat = None
    target_value: Finite
    ahead_value: Finite
    remaining_value: Finite
    pace_pool_value: Finite


class ReceivedRow(BaseModel):
    """tracking_received.csv: per benefitting state and measure, what it received to date
    against what the plan distributes to it (units of the measure)."""

    model_config = _ROW
    beneficiary: str
    measure: Measure
    distributed: Finite
    received: Finite
    share: OptFloat = None


class PoolTotals(BaseModel):
    """The pool as a whole, in value (relocation-equivalents)."""

    model_config = ConfigDict(extra="forbid")
    planned_value: float
    implemented_value: float
    share: float | None
    target_value: float
    ahead_value: float


class TrackingSummary(BaseModel):
    """tracking_summary.json: the date, the elapsed fraction of the cycle, the tolerance of the
    warnings, the pool's totals, the warnings, and what the tracking was computed from (the
    plan's results folder or `in memory`, the plan's input_sha256)."""

    model_config = ConfigDict(extra="forbid")
    instance: str
    cycle: int
    as_of: dt.date
    elapsed: float
    tolerance: float
    pool: PoolTotals
    ledger_rows: int
    transfers_counted: int
    warnings: list[str] = Field(default_factory=list)
    plan: str
    input_sha256: str
    version: str


class ChangeRow(BaseModel):
    """tracking_changes.csv (`planner track --since PREVIOUS`): what changed since a previous
    tracking. `kind`: `implemented` (newly implemented, units), `behind` (a contributor behind
    now beyond the tolerance and not before, value), `caught_up` (the reverse), `moved`
    (planned places or amounts of a contributor and measure that moved between benefitting
    states: the change of planned, units)."""

    model_config = _ROW
    kind: str
    contributor: str
    measure: str
    benefitting: str
    before: Finite
    after: Finite
    change: Finite
