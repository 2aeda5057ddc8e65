"""`Case`: a family unit of candidates, as the loader groups candidates.csv
(`planner.inputs.candidates.build_cases`) and the matching places it (`planner.optimise`).
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple


class Case(NamedTuple):
    """A family unit: relocated whole to one state, or not at all (rules section 7.3).
    A named tuple: a million-row file makes over half a million of them, and a tuple is made
    in a fifth of the time a frozen dataclass takes (0.6 against 3.5 microseconds)."""

    case_id: str
    location: str
    persons: tuple[str, ...]
    statuses: frozenset[str]
    nationalities: frozenset[str]
    languages: frozenset[str]
    vulnerable: int  # persons whose own `vulnerable` cell is true (contract: that column)
    minors: int  # unaccompanied minors (`unaccompanied_minor`), whether vulnerable or not
    family_links: frozenset[str]
    other_links: frozenset[str]
    preferences: tuple[str, ...]
    registered: dt.date | None
    # Never relocated (unless transferred): "security", "consent", or a beneficiary's
    # protection (planner.inputs.protection.BLOCKS: date missing, expired, after the adoption).
    blocked: str | None
    # Who is flagged, per person: bit n is persons[n]'s own flag (reasons are per person:
    # planner.optimise.assignments gives `vulnerable` and `unaccompanied_minor` to that person
    # only).
    vulnerable_bits: int = 0
    minor_bits: int = 0

    @property
    def size(self) -> int:
        return len(self.persons)
