"""The self-contained report.html of a run folder (issue #4: being built)."""

from __future__ import annotations

from pathlib import Path


def write_report(folder: Path) -> None:
    """Write `folder`/report.html from the verified tables (not yet: issue #4)."""
    return None
