"""What `planner track` prints: who is behind, most behind first, and the warnings."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from models.tracking import ChangeRow
from planner.report.display import literal
from planner.report.terminal import _Text
from planner.report.tracking import Tracking


def tracking_text(t: Tracking, changes: list[ChangeRow] | None, out: str, tty: bool,
                  encoding: str, warnings: list[str] | None = None) -> str:
    """The terminal text for a tracking, as `terminal_text` renders a run's; `warnings`: all of
    them (the ledger's too), default the tracking's."""
    buffer = _Text(encoding)
    console = Console(file=buffer, width=120, force_terminal=True if tty else None,
                      markup=False, emoji=False)
    console.print(behind_table(t))
    p = t.pool
    share = "-" if p.share is None else f"{100 * p.share:.1f} %"
    console.print(literal(f"pool: {p.implemented_value:,.2f} of {p.planned_value:,.2f} "
                          f"relocation-equivalents implemented ({share}); pro-rata target "
                          f"{p.target_value:,.2f} ({100 * t.elapsed:.1f} % of the cycle)"))
    for warning in t.warnings if warnings is None else warnings:
        console.print(literal(f"warning: {warning}"))
    if changes is not None:
        console.print(literal(f"changes since the previous tracking: {len(changes)} (see "
                              "tracking_changes.csv)"))
        for row in changes:
            if row.kind in ("behind", "caught_up"):
                console.print(literal(f"  {row.kind}: {row.contributor} (ahead "
                                      f"{row.before:,.2f} -> {row.after:,.2f})"))
    console.print(literal(f"tracking in {out}"))
    return buffer.getvalue()


def behind_table(t: Tracking) -> Table:
    """The contributors behind their pro-rata target, sorted by value behind (most first,
    ties by code), in relocation-equivalents."""
    behind = sorted((c for c in t.contributors if c.ahead_value < -1e-9),
                    key=lambda c: (c.ahead_value, c.contributor))
    table = Table(title=f"behind the pro-rata target at {t.as_of.isoformat()} "
                  "(relocation-equivalents)")
    for name in ("state", "planned", "implemented", "share", "target", "behind"):
        table.add_column(name, justify="left" if name == "state" else "right")
    for c in behind:
        share = "-" if c.share is None else f"{100 * c.share:.1f} %"
        table.add_row(literal(c.contributor), f"{c.planned_value:,.2f}",
                      f"{c.implemented_value:,.2f}", share, f"{c.target_value:,.2f}",
                      f"{-c.ahead_value:,.2f}")
    if not behind:
        table.add_row("none", "", "", "", "", "")
    return table
