"""Exports of a verified run folder in other formats (issue #4: being built)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

FORMATS = ("csv",)


def write_formats(folder: Path, formats: Sequence[str]) -> None:
    """Write `folder`'s verified CSV tables again in each of `formats` (csv is always there)."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown formats: {unknown}")
