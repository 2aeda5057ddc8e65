"""Who may go where: places from the plan, the hard rules of rules section 7, and scores.

A place is a relocation pledge row's share for one benefitting state (distribution.csv). A case
may take a place when it is in that benefitting state, is not blocked (security, consent, a
beneficiary's protection date), was not rejected by the receiving state, meets the row's
profile criteria (rules section 7.5) and, when it holds a beneficiary of protection, the
receiving and benefitting states agreed bilaterally (Art. 56(2)(a)(ii), planner.inputs.protection).
Scores (soft rules, Art. 67): family links, other links, a shared official language, stated
preferences, per person placed.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from models.cases import Case
from models.instance import Instance, Measure, Pledge, QualityWeights
from planner.inputs.protection import AGREEMENT, NO_AGREEMENT, agreed_pairs

CRITERIA = ("nationality", "status", "case_size", "vulnerable", "unaccompanied_minor")


@dataclass(frozen=True)
class Place:
    """Persons a relocation pledge row takes from one benefitting state."""

    pledge_id: str
    state: str
    location: str
    capacity: int
    pledge: Pledge
    # Whether `state` and `location` agreed bilaterally to relocate beneficiaries
    # (Art. 56(2)(a)(ii)); False by default: no agreement unless instance.toml lists it.
    agreed: bool = False

    @property
    def key(self) -> str:
        return f"{self.pledge_id}@{self.location}"


def places_from(instance: Instance, flows: list[tuple[str, str, float]]) -> list[Place]:
    """Places per (relocation pledge row, benefitting state) from (pledge_id, beneficiary,
    amount) flows, sorted by pledge id then state."""
    by_id = instance.pledges_by_id
    agreed = agreed_pairs(instance.config)
    places = [Place(pid, by_id[pid].state, b, int(round(amount)), by_id[pid],
                    (by_id[pid].state, b) in agreed)
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


def needs_agreement(case: Case, place: Place) -> bool:
    """A beneficiary's case at a place whose states did not agree (Art. 56(2)(a)(ii)) [law]:
    the family moves whole, so one beneficiary binds the case."""
    return not place.agreed and "beneficiary" in case.statuses


def may_take(case: Case, place: Place, rejected: set[tuple[str, str]],
             ignore: frozenset[str] = frozenset()) -> bool:
    """Hard rules 1-5 of rules section 7 (capacity is the model's). `ignore`: profile
    criteria, or `bilateral_agreement`, left out."""
    if case.blocked or case.location != place.location:
        return False
    if (case.case_id, place.state) in rejected:
        return False
    if AGREEMENT not in ignore and needs_agreement(case, place):
        return False
    return all(c in ignore for c in failed_criteria(case, place.pledge))


def unplaced_reason(case: Case, places: list[Place], rejected: set[tuple[str, str]]) -> str:
    """Why a case not blocked has no place it may take: `no_bilateral_agreement` when one of
    its location's places would take it were the agreement not required, else
    `no_eligible_place`."""
    if "beneficiary" in case.statuses and any(
            may_take(case, place, rejected, frozenset({AGREEMENT})) for place in places
            if place.location == case.location):
        return NO_AGREEMENT
    return "no_eligible_place"


Profile = tuple[str, frozenset[str], frozenset[str], int, bool, bool, frozenset[str]]


def profiles(rejected: set[tuple[str, str]]) -> Callable[[Case], Profile]:
    """What a case's eligibility depends on beyond its location's places: the key of the
    per-profile caches (many cases share one), the states that rejected it included."""
    states: dict[str, set[str]] = defaultdict(set)
    for case_id, state in rejected:
        states[case_id].add(state)
    refused = {case_id: frozenset(own) for case_id, own in states.items()}

    def profile(case: Case) -> Profile:
        return (case.location, case.statuses, case.nationalities, case.size,
                case.vulnerable > 0, case.minors > 0, refused.get(case.case_id, frozenset()))
    return profile


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
