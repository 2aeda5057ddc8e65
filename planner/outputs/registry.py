"""Every file the planner writes of its own, declared once: its name, row model, stage and
whether it holds personal data. Everything else derives from here: the writer
(planner.outputs.export), the other formats (planner.outputs.formats), the JSON Schemas
(`schemas`, for `planner schema`), the reports (planner.report.html, html_compare), the
comparison (planner.comparison) and the verifier's list of files (planner.verifier.verify).

Stages: `pool` files are written by every run, `matching` files by a run whose matching ran
(it has candidates), `comparison` files by `planner compare` in `DIR/comparison/`, `tracking`
files by `planner track` (issue 15). The order of `TABLES` is the order of the exports
(xlsx sheets, json keys, parquet files).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from models.results import (
    AllocationRow,
    AssignmentRow,
    CoverageRow,
    DistributionRow,
    KpiRow,
    MatchabilityRow,
    PlanRow,
    StateComparisonRow,
    Summary,
    UnassignedRow,
)
from models.tracking import ChangeRow, ContributorRow, ReceivedRow, TrackingRow, TrackingSummary

M = TypeVar("M", bound=BaseModel)
Stage = Literal["pool", "matching", "comparison", "tracking"]
STAGES: tuple[Stage, ...] = ("pool", "matching", "comparison", "tracking")


@dataclass(frozen=True)
class OutputFile(Generic[M]):
    """One file the planner writes: a CSV table (a row per `model`, its columns the model's
    fields in order) or, for summary.json, one `model` as JSON."""

    file: str
    model: type[M]
    stage: Stage
    # Candidate-level data (person and case ids): the file is mode 0600, its other formats go
    # to files of their own (persons.xlsx, ...), and the report shows it as counts only.
    personal: bool = False

    @property
    def name(self) -> str:
        """The table's name: its xlsx sheet, json key and parquet file (`plan`)."""
        return self.file.rsplit(".", 1)[0]

    @property
    def schema_name(self) -> str:
        """The file its JSON Schema documents: a comparison file with its folder's name in
        front (`comparison-states.csv`), as it lies in `DIR/comparison/`."""
        return f"comparison-{self.file}" if self.stage == "comparison" else self.file


PLAN = OutputFile("plan.csv", PlanRow, "pool")
ALLOCATION = OutputFile("allocation.csv", AllocationRow, "pool")
DISTRIBUTION = OutputFile("distribution.csv", DistributionRow, "pool")
COVERAGE = OutputFile("coverage.csv", CoverageRow, "pool")
ASSIGNMENTS = OutputFile("assignments.csv", AssignmentRow, "matching", personal=True)
UNASSIGNED = OutputFile("unassigned.csv", UnassignedRow, "matching", personal=True)
MATCHABILITY = OutputFile("matchability.csv", MatchabilityRow, "matching")
STATES = OutputFile("states.csv", StateComparisonRow, "comparison")
KPIS = OutputFile("kpis.csv", KpiRow, "comparison")
SUMMARY = OutputFile("summary.json", Summary, "pool")  # every run's; not a table
# `planner track`'s folder (issue 15); tracking_changes.csv only with --since.
TRACKING = OutputFile("tracking.csv", TrackingRow, "tracking")
TRACKING_CONTRIBUTORS = OutputFile("tracking_contributors.csv", ContributorRow, "tracking")
TRACKING_RECEIVED = OutputFile("tracking_received.csv", ReceivedRow, "tracking")
TRACKING_CHANGES = OutputFile("tracking_changes.csv", ChangeRow, "tracking")
TRACKING_SUMMARY = OutputFile("tracking_summary.json", TrackingSummary, "tracking")  # not a table

TABLES: tuple[OutputFile[Any], ...] = (PLAN, ALLOCATION, DISTRIBUTION, COVERAGE, ASSIGNMENTS,
                                       UNASSIGNED, MATCHABILITY, STATES, KPIS)


def tables_of(*stages: Stage) -> tuple[OutputFile[Any], ...]:
    """The CSV tables of these stages, in export order."""
    return tuple(t for t in TABLES if t.stage in stages)


RUN_TABLES = tables_of("pool", "matching")  # a run folder's tables
COMPARISON_TABLES = tables_of("comparison")  # DIR/comparison's tables
# Every output file, summary.json after the run's tables (the order of `planner schema`).
TRACKING_TABLES: tuple[OutputFile[Any], ...] = (TRACKING, TRACKING_CONTRIBUTORS,
                                                TRACKING_RECEIVED, TRACKING_CHANGES)
FILES: tuple[OutputFile[Any], ...] = (*RUN_TABLES, SUMMARY, *COMPARISON_TABLES,
                                      *TRACKING_TABLES, TRACKING_SUMMARY)


def output_schemas() -> dict[str, type[BaseModel]]:
    """Schema file name -> model of every output file (`planner schema`; the inputs' are in
    models.schema)."""
    return {f.schema_name: f.model for f in FILES}
