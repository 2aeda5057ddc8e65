"""What a person reads on the terminal after a run: per state share, obligation, mix, balance.

`terminal_text` renders it once, from the run's tables in memory, for the stream `planner run`
prints to.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from models.results import AllocationRow, CoverageRow, MatchabilityRow, Matching, Summary
from planner.report.display import literal, visible

if TYPE_CHECKING:
    from planner.optimise.tables import Tables


class _Text(io.StringIO):
    """A text buffer that reports the encoding of the stream its text is for (rich draws
    boxes in ASCII for an encoding that is not UTF)."""

    def __init__(self, encoding: str) -> None:
        super().__init__()
        self._encoding = encoding

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding


def terminal_text(tables: Tables, summary: Summary, out: str, tty: bool,
                  encoding: str) -> str:
    """`print_plan`'s output for a stream that is a terminal (`tty`) or not, of `encoding`,
    with the width `planner run` uses; colours as rich would choose them there (the same
    environment: NO_COLOR, FORCE_COLOR, TERM and COLORTERM)."""
    buffer = _Text(encoding)
    # No markup or emoji codes anywhere: every text from the inputs is shown as written.
    print_plan(Console(file=buffer, width=120, force_terminal=True if tty else None,
                       markup=False, emoji=False), tables, summary, out)
    return buffer.getvalue()


def _num(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _meur(value: float) -> str:
    return f"{value / 1e6:,.2f}" if value else "-"


def _amount(value: float) -> str:
    return _num(value, 2) if abs(value) > 1e-6 else "-"


def information(s: Summary) -> list[str]:
    """Sentences that are neither warnings nor errors: the Council's pool below the Art.
    12(2) floors; offsets assigned to no benefitting state (no responsibility.csv)."""
    notes = list(s.proposal.information) if s.proposal is not None else []
    if s.replan is not None:
        notes.append(replan_line(s))
    unassigned = s.offsets.unassigned_to_benefitting if s.offsets is not None else {}
    if unassigned:
        notes.append("offsets not assigned to a benefitting state (no responsibility.csv): "
                     + ", ".join(f"{k} {v:,.0f}" for k, v in unassigned.items())
                     + "; offset needs are left out of the coverage")
    return notes


def replan_line(s: Summary) -> str:
    """A re-plan's date and pacing (`planner run --as-of`, issue 15), in one sentence."""
    r = s.replan
    assert r is not None
    fixed = sum(len(m) for m in r.fixed.values())
    pacing = (f"new placements capped at {sum(r.placements_cap.values()):,} persons over "
              f"{len(r.placements_cap)} contributors for the next {r.period_days} days "
              f"(pacing {r.pacing:g})" if r.placements_cap else "new placements not paced")
    return (f"re-plan as of {r.as_of} ({r.days_left} days left): fixed by then: {fixed} "
            f"contributor measures of the ledger, transferred persons "
            f"{sum(r.transferred.values()):,}; later-dated transfers matched afresh "
            f"{r.transfers_after:,}; {pacing}")


def proposal_and_offsets(summary: Summary) -> list[str]:
    """The Commission's proposal beside the Council's pool (Arts 12, 57), Art. 63's thresholds
    (the two numbers of 63(3) side by side, the one that binds), voluntary and mandatory
    offsets, and the information lines (neither warnings nor errors)."""
    lines = []
    p = summary.proposal
    if p is not None:
        lines.append(f"proposal (Commission, Art. 12): {p.relocations:,} relocations or EUR "
                     f"{p.financial_eur / 1e6:,.2f} million"
                     + ("" if p.given else " (not set: the pool's numbers)")
                     + f"; Council's pool (Art. 57): {p.pool_relocations:,} relocations or "
                     f"EUR {p.pool_financial_eur / 1e6:,.2f} million")
    off = summary.offsets
    if off is not None:
        def listed(value: dict[str, int]) -> str:
            return ", ".join(f"{k} {v:,}" for k, v in value.items()) if value else "none"
        lines.append(
            f"offsets (Art. 63): voluntary threshold {off.voluntary_threshold:,.0f} (of the "
            f"proposal's {off.proposal_relocations:,}); mandatory threshold (a) needs "
            f"{off.mandatory_threshold_needs:,.0f}, (b) proposal "
            f"{off.mandatory_threshold_proposal:,.0f}, binding: {off.mandatory_binding};"
            f" voluntary offsets counted: {listed(off.voluntary)}; mandatory owed: "
            f"{listed(off.mandatory_owed)}, of which planned: "
            f"{listed(off.mandatory)}, owed but not planned (no offset rows): "
            f"{listed(off.mandatory_unplanned)}; left uncovered: "
            f"{off.unallocated:,}")
    lines += [f"information: {note}" for note in information(summary)]
    return lines


def print_plan(console: Console, tables: Tables, summary: Summary, out: str) -> None:
    """The allocation, coverage, offsets, matching and warnings. Text from the inputs (state
    codes, names, bottlenecks naming pledge ids, warnings, the folder) goes through
    `planner.report.display.literal`: escaped, never markup, whatever `console` parses."""
    console.print(allocation_table(tables.allocation, summary))
    console.print(coverage_table(tables.coverage))
    t, off = summary.totals, summary.offsets
    voluntary = "allowed" if off is not None and off.voluntary_allowed \
        else "not allowed pool-wide"
    mandatory = f"triggered, gap {off.gap}" if off is not None and off.mandatory_triggered \
        else "not triggered"
    lines = [*pool_lines(tables.allocation, summary),
             f"shortfall {t.shortfall:,.2f} and surplus {t.surplus:,.2f} "
             f"relocation-equivalents; voluntary offsets {voluntary}; mandatory offsets "
             f"{mandatory}", *proposal_and_offsets(summary)]
    if summary.matching.ran:
        lines += matching_lines(summary.matching, tables.matchability)
    lines += [f"warning: {warning}" for warning in summary.warnings]
    for line in lines:
        console.print(literal(line))
    console.print(literal(f"status {summary.status}; results in {out}"), soft_wrap=True)


def pool_lines(rows: Sequence[AllocationRow], summary: Summary) -> list[str]:
    """The pool's numbers down to the obligations: the Council's pool (Art. 57), the
    contributors' fair shares of it (the benefitting states' shares are not passed on), what
    deductions take off (Arts 61-62) and from whom, the obligations after rounding and the
    plan's value (its shortfall and surplus follow on a line of their own, apart)."""
    p = summary.proposal
    if p is None:
        return []
    contributors = [r for r in rows if r.role == "contributor"]
    fair = math.fsum(r.share * p.pool_relocations for r in contributors)
    kept = math.fsum(r.share * p.pool_relocations for r in rows if r.role == "benefitting")
    deducted = math.fsum(r.share * p.pool_relocations * r.deduction for r in contributors)
    whom = ", ".join(f"{r.state} {r.deduction:.0%}" for r in contributors if r.deduction > 0)
    rounding = summary.key.rounding if summary.key is not None else ""
    return [f"pool (Council, Art. 57): {p.pool_relocations:,} relocations or EUR "
            f"{p.pool_financial_eur:,.0f}; contributors' fair shares {fair:,.2f} (benefitting "
            f"states' shares {kept:,.2f} not passed on); deductions (Arts 61-62) "
            f"{deducted:,.2f}" + (f" ({whom})" if whom else "")
            + f"; obligations after rounding ({rounding}) {summary.totals.obligation:,.2f}; "
            f"planned value {summary.totals.value:,.2f}"]


# A state's role as one character after its code: eleven columns within 120 characters.
MARKS = {"benefitting": "*", "ad_hoc": "+"}
MAX_STATE = 24
ROLES = {"benefitting": "* benefitting state (owes nothing this cycle, receives)",
         "ad_hoc": "+ ad hoc contributor (no fair share, Art. 13(1))"}


def allocation_table(rows: Sequence[AllocationRow], summary: Summary) -> Table:
    """Per state: share, obligation, each measure, value, shortfall and surplus, and the
    totals. Shortfall and surplus have a column each, and a total each: one state's surplus
    does not make up for another's shortfall, as a net balance would suggest."""
    roles = [ROLES[r] for r in ROLES if any(row.role == r for row in rows)]
    table = Table(title=literal(f"{summary.instance}: obligations and plan "
                                "(relocation-equivalents; money in EUR million)"),
                  caption="; ".join(roles) or None)
    # "altern.": ten columns, "CY (benefitting)" whole, within the 120 characters.
    for column in ("state", "share %", "deduct.", "obligation", "relocation", "offset",
                   "financial", "altern.", "value", "shortfall", "surplus"):
        table.add_column(column, justify="left" if column == "state" else "right")
    # A long state code (input text, shown escaped) keeps its width: never cut or folded.
    table.columns[0].min_width = min(max((len(visible(r.state)) + 1 for r in rows), default=5),
                                     MAX_STATE)
    for row in rows:
        table.add_row(
            literal(row.state + MARKS.get(row.role, "")),
            f"{row.share * 100:.4f}", f"{row.deduction:.0%}" if row.deduction else "-",
            _num(row.obligation, 2 if row.obligation % 1 else 0),
            _num(row.relocation) if row.relocation else "-",
            _num(row.offset) if row.offset else "-",
            _meur(row.financial_eur), _meur(row.alternative_eur),
            _num(row.value, 2), _amount(row.shortfall), _amount(max(0.0, row.balance)),
            style="red" if row.shortfall > 1e-6 else None)
    t = summary.totals
    table.add_row("total", "", "", _num(t.obligation, 2), _num(t.relocation), _num(t.offset),
                  _meur(t.financial_eur), _meur(t.alternative_eur), _num(t.value, 2),
                  _num(t.shortfall, 2), _num(t.surplus, 2), style="bold")
    return table


def coverage_table(rows: Sequence[CoverageRow]) -> Table:
    """Per benefitting state and measure: the stated need, what it receives, the ratio."""
    cov = Table(title="coverage of needs per benefitting state")
    for column in ("beneficiary", "measure", "need", "received", "ratio"):
        cov.add_column(column, justify="left" if column in ("beneficiary", "measure") else "right")
    for row in rows:
        eur = not row.measure.in_persons
        cov.add_row(literal(row.beneficiary), row.measure.value,
                    (_meur(row.need) if eur else _num(row.need)) if row.need_stated else "-",
                    _meur(row.received) if eur else _num(row.received),
                    f"{row.ratio:.1%}" if row.ratio is not None else "-")
    return cov


def matching_lines(m: Matching, matchability: Sequence[MatchabilityRow]) -> list[str]:
    """The matching's outcome, its first ten bottlenecks, the five costliest restrictions,
    and every rule of the law that costs persons."""
    lines = [f"matching: {m.persons_assigned} of {m.persons_total} persons placed in "
             f"{m.cases_assigned} cases ({m.places} places; at most {m.bound} can be "
             f"placed); family splits {m.family_splits}; not placed: "
             + (", ".join(f"{k} {v}" for k, v in m.unassigned_by_reason.items()) or "none")]
    lines += [f"  bottleneck: {line}" for line in m.bottlenecks[:10]]
    if len(m.bottlenecks) > 10:
        lines.append(f"  ... {len(m.bottlenecks) - 10} more in matchability.csv")
    costly = sorted((r for r in matchability if r.kind == "restriction" and (r.value or 0) > 0),
                    key=lambda r: (-(r.value or 0), r.subject, r.criterion))
    lines += [f"  restriction cost: {row.text}" for row in costly[:5]]
    # The rules on beneficiaries (Art. 56(2)(a)(ii)) are the law, not a state's profile
    # choice: their cost is shown apart, every rule that costs persons.
    lines += [f"  cost of the law: {row.text}" for row in matchability
              if row.kind == "law" and (row.value or 0) > 0]
    return lines
