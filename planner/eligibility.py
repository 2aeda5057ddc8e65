"""Who may go where: places from the plan, the hard rules of rules section 7, and scores.

A place is a relocation pledge row's share for one benefitting state (distribution.csv). A case
may take a place when it is in that benefitting state, is not blocked (security, consent), was
not rejected by the receiving state, and meets the row's profile criteria (rules section 7.5).
Scores (soft rules, Art. 67): family links, other links, a shared official language, stated
preferences, per person placed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

from models.instance import Instance, Measure, Pledge, QualityWeights
from planner.candidates import Case

CRITERIA = ("nationality", "status", "case_size", "vulnerable", "unaccompanied_minor")
REASONS = ("family_link", "other_link", "language", "preference")


@dataclass(frozen=True)
class Place:
    """Persons a relocation pledge row takes from one benefitting state."""

    pledge_id: str
    state: str
    location: str
    capacity: int
    pledge: Pledge

    @property
    def key(self) -> str:
        return f"{self.pledge_id}@{self.location}"


def places_from(instance: Instance, flows: list[tuple[str, str, float]]) -> list[Place]:
    """Places per (relocation pledge row, benefitting state) from (pledge_id, beneficiary,
    amount) flows, sorted by pledge id then state."""
    by_id = instance.pledges_by_id
    places = [Place(pid, by_id[pid].state, b, int(round(amount)), by_id[pid])
              for pid, b, amount in flows
              if by_id[pid].measure is Measure.relocation and amount >= 1]
    return sorted(places, key=lambda p: (p.pledge_id, p.location))


def failed_criteria(case: Case, pledge: Pledge) -> tuple[str, ...]:
    """The profile criteria of a relocation row that a case does not meet."""
    failed = []
    if pledge.nationalities and not case.nationalities <= set(pledge.nationalities):
        failed.append("nationality")
    if pledge.statuses and not case.statuses <= set(pledge.statuses):
        failed.append("status")
    if pledge.max_case_size is not None and case.size > pledge.max_case_size:
        failed.append("case_size")
    if not pledge.vulnerable and case.vulnerable:
        failed.append("vulnerable")
    if not pledge.unaccompanied_minors and case.minors:
        failed.append("unaccompanied_minor")
    return tuple(failed)


def may_take(case: Case, place: Place, rejected: set[tuple[str, str]],
             ignore: frozenset[str] = frozenset()) -> bool:
    """Hard rules 1-5 of rules section 7 (capacity is the model's)."""
    if case.blocked or case.location != place.location:
        return False
    if (case.case_id, place.state) in rejected:
        return False
    return all(c in ignore for c in failed_criteria(case, place.pledge))


def official_languages() -> dict[str, frozenset[str]]:
    """Official languages per state (shared/data/official_languages.csv, national only)."""
    text = resources.files("planner").joinpath("data/official_languages.csv").read_text("utf-8")
    return {row["code"]: frozenset(row["languages"].split(";"))
            for row in csv.DictReader(text.splitlines())}


def quality(case: Case, state: str, languages: dict[str, frozenset[str]],
            weights: QualityWeights) -> tuple[float, tuple[str, ...]]:
    """Score per person of placing `case` in `state`, and the reason codes behind it."""
    reasons, score = [], 0.0
    if state in case.family_links:
        reasons.append("family_link")
        score += weights.family_link
    if state in case.other_links:
        reasons.append("other_link")
        score += weights.other_link
    if case.languages & languages.get(state, frozenset()):
        reasons.append("language")
        score += weights.language
    if state in case.preferences:
        reasons.append("preference")
        # First choice counts fully, the second half, the third a third...
        score += weights.preference / (case.preferences.index(state) + 1)
    return round(score, 9), tuple(reasons)
