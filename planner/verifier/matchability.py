"""The verifier's view of the places: who may take which (rules section 7), the reasons of the
unplaced, the most persons the places can take (matchability.csv's bound, recomputed) and the
certificate that no unplaced case fits in a place left free (stage (i) of the matching).

Independent of planner.optimise.matchability and planner.optimise.eligibility: the cases and their
profiles come
from the raw candidates.csv (planner.verifier.matching.People), the places from distribution.csv;
cases alike for eligibility form groups, and the bound is a maximum flow (networkx) over
groups and places, computed here on its own graph. matchability.csv's bottleneck sentences
are checked for what can be recomputed without the planner's minimum cut: each figure a
sentence quotes against its `value`, every place's capacity and eligible persons, the persons
with no eligible place per location, and that the sentences account for every placeable
person the bound leaves out. The rules on beneficiaries of protection (Art. 56(2)(a)(ii)): a
place whose receiving and benefitting states did not agree fails the pseudo-criterion
`bilateral_agreement` for a beneficiary's case (from instance.toml's pairs, read here); the
sentence on agreements per location and the `law` rows' gains are recomputed.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

from models.instance import Instance, Measure, Pledge
from models.results import MatchabilityRow

if TYPE_CHECKING:  # matching imports this module: the annotation only
    from planner.verifier.matching import Cases

Fail = Callable[[str, int, str, str], None]
FILE = "matchability.csv"
CRITERIA = ("nationality", "status", "case_size", "vulnerable", "unaccompanied_minor")
AGREEMENT = "bilateral_agreement"
LAW_SUBJECT = "Art. 56(2)(a)(ii)"
LAW_TEXT = {
    "bilateral_agreement": "if beneficiaries of protection needed no bilateral agreement",
    "protection_period": "without the rule on the date of protection (granted less than the "
                         "limit before the Council act's adoption, a date required)",
    "bilateral_agreement;protection_period": "without either rule on beneficiaries of "
                                             "protection",
}


@dataclass(frozen=True)
class Place:
    pledge: Pledge
    location: str
    capacity: int

    @property
    def key(self) -> str:
        return f"{self.pledge.pledge_id}@{self.location}"


@dataclass
class Group:
    """Cases alike for eligibility: location, size, profile, refusals, transfer."""

    location: str
    size: int
    beneficiary: bool = False  # a beneficiary among its persons (not a transfer)
    cases: list[int] = field(default_factory=list)
    # Per place index at the location: the profile criteria the cases fail there (None: the
    # place is not theirs at all: another transfer state, or a state that refused them).
    failed: dict[int, tuple[str, ...] | None] = field(default_factory=dict)
    # eligible's answers per arguments, with the places they index (`failed` is set once,
    # when the group is made: the answer to the same question does not change).
    memo: dict[tuple[bool, bool, tuple[tuple[str, str], ...]],
               tuple[list[Place], tuple[int, ...]]] = field(default_factory=dict, repr=False,
                                                            compare=False)

    @property
    def persons(self) -> int:
        return self.size * len(self.cases)

    def eligible(self, places: list[Place], ignore: dict[str, str] | None = None,
                 fit: bool = True, agreement: bool = True) -> tuple[int, ...]:
        """The places they may take (`fit`: and that hold a whole case); `ignore` maps a
        pledge id to a criterion left out; `agreement` False: no bilateral agreement needed.
        Worked out once per group, question and places: the unplaced rows of a group's cases
        ask it again and again (187,000 times at 300,000 persons)."""
        key = (fit, agreement, tuple(sorted(ignore.items())) if ignore else ())
        found = self.memo.get(key)
        if found is not None and found[0] is places:
            return found[1]
        eligible = []
        for i, failed in self.failed.items():
            if failed is None or (fit and places[i].capacity < self.size):
                continue
            # Every criterion failed is the one ignored at this row, or the agreement when
            # none is needed (most places fail none: no generator for them).
            left_out = ignore.get(places[i].pledge.pledge_id) if failed and ignore else None
            if failed and any(c != left_out and (agreement or c != AGREEMENT)
                              for c in failed):
                continue
            eligible.append(i)
        own = tuple(eligible)
        self.memo[key] = (places, own)
        return own


def places_of(instance: Instance, flows: list[tuple[str, str, Measure, float]]) -> list[Place]:
    """A place per relocation flow of at least one person (distribution.csv)."""
    pledges = instance.pledges_by_id
    return sorted((Place(pledges[pid], b, int(round(amount))) for pid, b, measure, amount
                   in flows if measure is Measure.relocation and amount >= 1 and pid in pledges),
                  key=lambda p: (p.pledge.pledge_id, p.location))


def set_criteria(pledge: Pledge) -> tuple[str, ...]:
    sets = (bool(pledge.nationalities), bool(pledge.statuses), pledge.max_case_size is not None,
            not pledge.vulnerable, not pledge.unaccompanied_minors)
    return tuple(c for c, on in zip(CRITERIA, sets, strict=True) if on)


def failed_criteria(pledge: Pledge, statuses: frozenset[str], nationalities: frozenset[str],
                    size: int, vulnerable: bool, minor: bool) -> tuple[str, ...]:
    """Rules section 7.5: every person of the case within each criterion the row sets."""
    return tuple(c for c, bad in zip(CRITERIA, (
        bool(pledge.nationalities) and not nationalities <= set(pledge.nationalities),
        bool(pledge.statuses) and not statuses <= set(pledge.statuses),
        pledge.max_case_size is not None and size > pledge.max_case_size,
        not pledge.vulnerable and vulnerable,
        not pledge.unaccompanied_minors and minor), strict=True) if bad)


# A case's statuses, nationalities, and whether it has a vulnerable person, a minor.
Profile = tuple[frozenset[str], frozenset[str], bool, bool]


def groups_of(places: list[Place], cases: Cases, agreed: frozenset[tuple[str, str]],
              placeable: np.ndarray | None = None) -> list[Group]:
    """The placeable cases (not blocked, or transferred; `placeable` instead of the cases' own)
    grouped, each group's criteria failed per place of its location (`bilateral_agreement` for
    a beneficiary's case where the (receiving, benefitting) pair is not in `agreed`). Groups
    in the order of their first case, each group's cases in increasing order."""
    profile, transfer, refused = cases.profile, cases.transfer, cases.refused
    at: dict[str, list[int]] = defaultdict(list)
    for i, place in enumerate(places):
        at[place.location].append(i)
    groups = []
    # failed_criteria per place, profile and whether the size is above the row's maximum (all
    # it sees of the size): groups of every size share the answer.
    criteria: dict[tuple[int, Profile, bool], tuple[str, ...]] = {}
    for case, members in cases.partition(cases.placeable if placeable is None else placeable):
        key = (cases.location[case], int(cases.size[case]), transfer.get(case),
               profile[case] if case not in transfer else None, refused.get(case))
        group = Group(key[0], key[1], key[2] is None and "beneficiary" in profile[case][0],
                      list(members))
        for i in at.get(group.location, ()):
            pledge = places[i].pledge
            if key[2] is not None:
                group.failed[i] = () if pledge.state == key[2] else None
            elif key[4] is not None and pledge.state in key[4]:
                group.failed[i] = None
            else:
                statuses, nationalities, vulnerable, minor = own = profile[case]
                memo = (i, own, pledge.max_case_size is not None
                        and group.size > pledge.max_case_size)
                failed = criteria.get(memo)
                if failed is None:
                    failed = criteria[memo] = failed_criteria(pledge, statuses, nationalities,
                                                              group.size, vulnerable, minor)
                if group.beneficiary and (pledge.state, group.location) not in agreed:
                    failed = (*failed, AGREEMENT)
                group.failed[i] = failed
        groups.append(group)
    return groups


def max_flow(groups: list[Group], places: list[Place], ignore: dict[str, str] | None = None,
             locations: set[str] | None = None, agreement: bool = True) -> int:
    """The most persons the places can take, families allowed to split (an upper bound on
    any matching): source -> group (its persons) -> eligible place -> sink (capacity)."""
    merged: dict[tuple[str, tuple[int, ...]], int] = defaultdict(int)
    for group in groups:
        if locations is None or group.location in locations:
            own = group.eligible(places, ignore, agreement=agreement)
            if own:
                merged[(group.location, own)] += group.persons
    if not merged:
        return 0
    return _flow(tuple(sorted(merged.items())), tuple(p.capacity for p in places))


@functools.lru_cache(maxsize=256)
def _flow(supplies: tuple[tuple[tuple[str, tuple[int, ...]], int], ...],
          capacities: tuple[int, ...]) -> int:
    """max_flow's value for its graph, given whole: each (location, eligible places) with its
    persons, and every place's capacity. Once per distinct graph: the restriction and law
    gains ask again for graphs already solved (a criterion that opens nothing new)."""
    graph: nx.DiGraph[Hashable] = nx.DiGraph()
    for n, ((_, own), persons) in enumerate(supplies):
        graph.add_edge("s", ("g", n), capacity=persons)
        for i in own:
            graph.add_edge(("g", n), ("p", i))
            graph.add_edge(("p", i), "t", capacity=capacities[i])
    return int(nx.maximum_flow_value(graph, "s", "t"))


def restriction_gains(groups: list[Group], places: list[Place]
                      ) -> dict[tuple[str, str], int]:
    """(pledge id, criterion) -> how many more persons the bound allows with that criterion
    ignored for that row alone, for every criterion of every row with places."""
    gains: dict[tuple[str, str], int] = {}
    by_pledge: dict[str, set[str]] = defaultdict(set)
    for place in places:
        by_pledge[place.pledge.pledge_id].add(place.location)
    pledges = {p.pledge.pledge_id: p.pledge for p in places}
    base: dict[str, int] = {}
    for pid in sorted(by_pledge):
        for criterion in sorted(set_criteria(pledges[pid])):
            gained = 0
            for location in sorted(by_pledge[pid]):
                opened = any(failed == (criterion,) and places[i].pledge.pledge_id == pid
                             for g in groups if g.location == location
                             for i, failed in g.failed.items())
                if not opened:
                    continue
                if location not in base:
                    base[location] = max_flow(groups, places, None, {location})
                gained += max_flow(groups, places, {pid: criterion}, {location}) \
                    - base[location]
            gains[(pid, criterion)] = gained
    return gains


def law_gains(groups: list[Group], period_groups: list[Group], places: list[Place],
              bound: int) -> dict[str, int]:
    """The `law` rows' gains: the bound without the agreement rule, with the cases the rule on
    the date of protection blocks (`period_groups`: the groups with them placeable), and
    both, less `bound`."""
    return {"bilateral_agreement": max_flow(groups, places, agreement=False) - bound,
            "protection_period": max_flow(period_groups, places) - bound,
            "bilateral_agreement;protection_period":
                max_flow(period_groups, places, agreement=False) - bound}


def _g(value: float | None) -> str:
    return "empty" if value is None else format(value, "g")


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


NO_PLACE = re.compile(r"(?P<loc>\w\w): (?P<n>\d+) persons? with no eligible place")
OPEN = re.compile(r"(?P<loc>\w\w): (?P<a>\d+) eligible persons?, (?P<b>\d+) places? open to them")
ONE = re.compile(r"(?P<state>\w\w) pledge (?P<pid>.+) \(from (?P<loc>\w\w)\): (?P<cap>\d+) "
                 r"places?(?: for (?P<crit>.+), (?P<e1>\d+) eligible candidates?|, "
                 r"(?P<e2>\d+) persons? eligible)")
NO_AGREEMENT = re.compile(r"(?P<loc>\w\w): (?P<n>\d+) persons? of beneficiaries' cases, "
                          r"no bilateral agreement with any receiving state")
SOME_AGREEMENTS = re.compile(r"(?P<loc>\w\w): (?P<n>\d+) persons? of beneficiaries' cases, "
                             r"bilateral agreements with (?P<states>[A-Z, ]+) only "
                             r"\(of (?P<of>\d+) receiving states?\)")
MANY = re.compile(r"pledges (?P<ids>.+) \(from (?P<loc>\w\w)\): (?P<cap>\d+) places? together, "
                  r"(?P<m>\d+) persons? eligible")


def check_matchability(fail: Fail, rows: list[tuple[int, MatchabilityRow]],
                       groups: list[Group], places: list[Place], placeable: int,
                       bound: int, summary_bottlenecks: list[str],
                       law: dict[str, int] | None = None,
                       agreed: frozenset[tuple[str, str]] = frozenset()) -> None:
    """matchability.csv: the bound row first, its value the recomputed bound and its text the
    counts; each bottleneck's figures (see the module's docstring); a restriction row per
    criterion of each row with places, its value the recomputed gain; `law` (None: no
    beneficiary among the candidates): a law row per rule on beneficiaries, its gain."""
    _check_bound_row(fail, rows, places, placeable, bound)
    _check_bottlenecks(fail, rows, groups, places, (placeable, bound), agreed)
    texts = [row.text for _, row in rows if row.kind == "bottleneck"]
    if texts != list(summary_bottlenecks):
        fail("summary.json", 0, "matching.bottlenecks", "differ from matchability.csv")
    _check_restrictions(fail, rows, groups, places)
    _check_law(fail, rows, law or {})


def _check_bound_row(fail: Fail, rows: list[tuple[int, MatchabilityRow]], places: list[Place],
                     placeable: int, bound: int) -> None:
    """One bound row, first: its value the maximum flow of persons to places recomputed here,
    its text the counts (persons placeable, places)."""
    capacity = sum(p.capacity for p in places)
    bound_rows = [(line, r) for line, r in rows if r.kind == "bound"]
    if not rows or rows[0][1].kind != "bound" or len(bound_rows) != 1:
        fail(FILE, 0, "kind", "one bound row, first, is expected")
    for line, row in bound_rows:
        text = (f"at most {bound} of {_n(placeable, 'person')} can be relocated to "
                f"{_n(capacity, 'place')}")
        if row.value != bound or row.subject != "persons_relocated":
            fail(FILE, line, "value", f"{row.value:g} persons, the places can take "
                 f"{bound}" if row.value is not None else "missing")
        elif row.text != text:
            fail(FILE, line, "text", f"expected {text!r}")


def _eligible_counts(groups: list[Group], places: list[Place]
                     ) -> tuple[dict[int, int], dict[str, int]]:
    """The persons eligible for each place (by its index) and, per location, the persons
    with no eligible place."""
    eligible: dict[int, int] = defaultdict(int)
    no_place: dict[str, int] = defaultdict(int)
    for group in groups:
        own = group.eligible(places)
        for i in own:
            eligible[i] += group.persons
        if not own:
            no_place[group.location] += group.persons
    return eligible, no_place


def _check_bottlenecks(fail: Fail, rows: list[tuple[int, MatchabilityRow]],
                       groups: list[Group], places: list[Place], counts: tuple[int, int],
                       agreed: frozenset[tuple[str, str]]) -> None:
    """Each bottleneck row one the planner states, its value and figures recomputed; every
    location with beneficiaries' cases lacking an agreement and every location with persons
    of no eligible place stated; together the bottlenecks leave out exactly the placeable
    persons the bound does (`counts`: the persons placeable, the bound)."""
    eligible, no_place = _eligible_counts(groups, places)
    agreements = _agreement_sentences(groups, places, agreed)
    by_key = {p.key: p for p in places}
    left_out, said_no_place = 0, set()
    for line, row in rows:
        if row.kind != "bottleneck":
            continue
        found, figures = _bottleneck(row, by_key, eligible, places, no_place)
        if found is None and row.criterion == AGREEMENT:
            found, figures = _agreement_bottleneck(row, agreements)
        if found is None:
            fail(FILE, line, "text", "not a bottleneck the planner states")
            continue
        if row.value != found:
            fail(FILE, line, "value", f"{_g(row.value)}, its text gives {found}")
        if figures:
            fail(FILE, line, "text", figures)
        match = NO_PLACE.fullmatch(row.text)
        if match or OPEN.fullmatch(row.text):
            left_out += found
        if match:
            said_no_place.add(match["loc"])
    said = {row.subject for _, row in rows if row.kind == "bottleneck"
            and row.criterion == AGREEMENT}
    for location in sorted(set(agreements) - said):
        fail(FILE, 0, "text", f"{location}: the beneficiaries' cases without an agreement "
             "are not stated")
    for location in sorted(set(no_place) - said_no_place):
        fail(FILE, 0, "text", f"{location}: the {no_place[location]} persons with no eligible "
             "place are not stated")
    placeable, bound = counts
    if left_out != placeable - bound:
        fail(FILE, 0, "value", f"the bottlenecks leave out {left_out} persons, the bound "
             f"leaves out {placeable - bound} of the {placeable} placeable")


def _check_restrictions(fail: Fail, rows: list[tuple[int, MatchabilityRow]],
                        groups: list[Group], places: list[Place]) -> None:
    """A restriction row per criterion of each pledge row with places, none other: its value
    the persons the bound gains without that criterion (restriction_gains), its text that
    value."""
    gains = restriction_gains(groups, places)
    listed = set()
    for line, row in rows:
        if row.kind != "restriction":
            continue
        pair = (row.subject, row.criterion)
        listed.add(pair)
        if pair not in gains:
            fail(FILE, line, "criterion", f"{row.subject} sets no {row.criterion} criterion "
                 "on a row with places")
        elif row.value != gains[pair]:
            fail(FILE, line, "value", f"{_g(row.value)}, without that criterion the bound gains "
                 f"{gains[pair]}")
        elif row.text != (f"{row.subject}: {_n(gains[pair], 'more person')} could be placed "
                          f"without its {row.criterion} criterion"):
            fail(FILE, line, "text", "does not state its value")
    for pid, criterion in sorted(set(gains) - listed):
        fail(FILE, 0, "criterion", f"no restriction row for {pid}'s {criterion} criterion")


def _check_law(fail: Fail, rows: list[tuple[int, MatchabilityRow]], law: dict[str, int]
               ) -> None:
    """A `law` row per rule on beneficiaries (when there are beneficiaries), its value the
    recomputed gain and its text that value."""
    listed = set()
    for line, row in rows:
        if row.kind != "law":
            continue
        listed.add(row.criterion)
        if row.criterion not in law or row.subject != LAW_SUBJECT:
            fail(FILE, line, "criterion", f"{row.subject} {row.criterion}: not a rule on "
                 "beneficiaries of protection" + ("" if law else " (no beneficiary among the "
                                                  "candidates)"))
        elif row.value != law[row.criterion]:
            fail(FILE, line, "value", f"{_g(row.value)}, without it the bound gains "
                 f"{law[row.criterion]}")
        elif row.text != (f"law ({LAW_SUBJECT}): {_n(law[row.criterion], 'more person')} "
                          f"could be placed {LAW_TEXT[row.criterion]}"):
            fail(FILE, line, "text", "does not state its value")
    for rules in sorted(set(law) - listed):
        fail(FILE, 0, "criterion", f"no law row for {rules}")


def _agreement_sentences(groups: list[Group], places: list[Place],
                         agreed: frozenset[tuple[str, str]]
                         ) -> dict[str, tuple[int, list[str], int]]:
    """Per location where beneficiaries' cases (placeable, not transferred) lack an agreement
    with a receiving state there: (their persons, the agreed states, the receiving states)."""
    persons: dict[str, int] = defaultdict(int)
    for group in groups:
        if group.beneficiary:
            persons[group.location] += group.persons
    out = {}
    for location, count in persons.items():
        states = {p.pledge.state for p in places if p.location == location}
        agreed_states = sorted(s for s in states if (s, location) in agreed)
        if states and len(agreed_states) < len(states):
            out[location] = (count, agreed_states, len(states))
    return out


def _agreement_bottleneck(row: MatchabilityRow,
                          agreements: dict[str, tuple[int, list[str], int]]
                          ) -> tuple[int | None, str]:
    match = NO_AGREEMENT.fullmatch(row.text) or SOME_AGREEMENTS.fullmatch(row.text)
    if match is None or row.subject != match["loc"]:
        return None, ""
    n = int(match["n"])
    want = agreements.get(match["loc"])
    states = match.groupdict().get("states")
    given = (n, states.split(", ") if states else [],
             int(match["of"]) if states else (want[2] if want else 0))
    if want is None:
        return n, f"{match['loc']}: no beneficiaries' cases lack an agreement there"
    if given != want or (not states and want[1]):
        return n, (f"{match['loc']}: {want[0]} persons of beneficiaries' cases, agreements "
                   f"with {', '.join(want[1]) or 'no receiving state'} of {want[2]}")
    return n, ""


def _bottleneck(row: MatchabilityRow, by_key: dict[str, Place], eligible: dict[int, int],
                places: list[Place], no_place: dict[str, int]) -> tuple[int | None, str]:
    """The value a bottleneck's text gives, and what is wrong with its figures ("" if
    nothing)."""
    index = {p.key: i for i, p in enumerate(places)}
    if match := NO_PLACE.fullmatch(row.text):
        n = int(match["n"])
        wrong = "" if n == no_place.get(match["loc"], 0) and row.subject == match["loc"] else \
            f"{match['loc']} has {no_place.get(match['loc'], 0)} such persons"
        return n, wrong
    if match := OPEN.fullmatch(row.text):
        at = sum(p.capacity for p in places if p.location == match["loc"])
        wrong = "" if int(match["b"]) <= at and row.subject == match["loc"] else \
            f"{match['loc']} has {at} places"
        return int(match["a"]) - int(match["b"]), wrong
    if match := ONE.fullmatch(row.text):
        key = f"{match['pid']}@{match['loc']}"
        place = by_key.get(key)
        persons = int(match["e1"] or match["e2"])
        if place is None or row.subject != key:
            return None, ""
        want = eligible.get(index[key], 0)
        wrong = "" if (int(match["cap"]), persons) == (place.capacity, want) and \
            row.criterion == ";".join(set_criteria(place.pledge)) else \
            f"{key}: {place.capacity} places, {want} eligible persons"
        return int(match["cap"]) - persons, wrong
    if match := MANY.fullmatch(row.text):
        keys = [f"{pid}@{match['loc']}" for pid in match["ids"].split(", ")]
        if any(k not in by_key for k in keys) or row.subject != ";".join(keys):
            return None, ""
        at = sum(by_key[k].capacity for k in keys)
        wrong = "" if int(match["cap"]) == at else f"these rows have {at} places there"
        return int(match["cap"]) - int(match["m"]), wrong
    return None, ""
