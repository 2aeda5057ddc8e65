"""Matchability before matching: hand-computed bounds, bottleneck sentences, restriction costs,
and a property test against the matching MILP."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.cases import Case
from models.instance import Instance, InstanceConfig, Pledge, PoolConfig
from planner.optimise.eligibility import Place
from planner.optimise.matchability import (
    COLUMNS,
    Matchability,
    assess,
    bottlenecks,
    max_flow_bound,
    restriction_costs,
    rows,
)
from planner.optimise.matching import match
from planner.optimise.solve import Solver, SolverOptions

pytestmark = pytest.mark.solver


def case(case_id: str, size: int = 1, location: str = "IT", nationality: str = "SYR",
         status: str = "applicant", vulnerable: int = 0, minors: int = 0,
         blocked: str | None = None) -> Case:
    return Case(case_id=case_id, location=location,
                persons=tuple(f"{case_id}-{n}" for n in range(size)),
                statuses=frozenset({status}), nationalities=frozenset({nationality}),
                languages=frozenset(), vulnerable=vulnerable, minors=minors,
                family_links=frozenset(), other_links=frozenset(), preferences=(),
                registered=None, blocked=blocked)


def place(pledge_id: str, state: str, capacity: int, location: str = "IT",
          agreed: bool = False, **criteria: object) -> Place:
    """`agreed`: the receiving and benefitting states agreed to relocate beneficiaries
    (Art. 56(2)(a)(ii)); without it no beneficiary may take the place."""
    pledge = Pledge(pledge_id=pledge_id, state=state, measure="relocation", **criteria)
    return Place(pledge_id, state, location, capacity, pledge, agreed)


def bound(cases: list[Case], places: list[Place], rejected: set[tuple[str, str]] | None = None,
          transfers: dict[str, str] | None = None) -> int:
    return max_flow_bound(cases, places, rejected or set(), transfers or {})[0]


def test_families_split_in_the_bound():
    # 10 places, cases of 6, 5 and 5: all 10 places can be used (the MILP takes 5 + 5).
    assert bound([case("a", 6), case("b", 5), case("c", 5)], [place("FR-1", "FR", 10)]) == 10


def test_a_case_bigger_than_every_place_counts_nothing():
    places = [place("FR-1", "FR", 5), place("DE-1", "DE", 5)]
    assert bound([case("a", 6)], places) == 0
    assert bound([case("a", 6), case("b", 3)], places) == 3


def test_singles_bound_is_min_of_persons_and_places_per_location():
    cases = ([case(f"i{n}") for n in range(3)]
             + [case(f"g{n}", location="GR") for n in range(7)])
    places = [place("FR-1", "FR", 5), place("FR-1", "FR", 2, "GR"), place("DE-1", "DE", 2, "GR")]
    value, graph, flow = max_flow_bound(cases, places, set(), {})
    assert value == min(3, 5) + min(7, 4)
    assert sum(flow[n]["sink"] for n in graph.predecessors("sink")) == value
    # Aggregated: one group per (location, eligible places), never one node per case.
    assert sum(1 for _, d in graph.nodes(data=True) if d.get("kind") == "group") == 2


def test_nationality_restriction_cost():
    # 5 places for SYR only; 2 SYR and 4 AFG singles: 2 placed, 5 without the restriction.
    cases = [case("s1"), case("s2")] + [case(f"a{n}", nationality="AFG") for n in range(4)]
    places = [place("FR-1", "FR", 5, nationalities="SYR")]
    assert bound(cases, places) == 2
    assert restriction_costs(cases, places, set(), {}) == [("FR-1", "nationality", 3)]
    assert max_flow_bound(cases, places, set(), {},
                          ignore={"FR-1": frozenset({"nationality"})})[0] == 5
    assert bottlenecks(cases, places, set(), {}) == [
        "IT: 4 persons with no eligible place",
        "FR pledge FR-1 (from IT): 5 places for nationality SYR, 2 eligible candidates",
    ]


def test_costs_cover_every_criterion_a_row_sets():
    cases = [case("v", vulnerable=1), case("m", vulnerable=1, minors=1), case("big", 3),
             case("b", status="beneficiary"), case("x", nationality="ERI")]
    # Both places agreed for beneficiaries (Art. 56(2)(a)(ii)), so that only the profile
    # criteria restrict the beneficiary b.
    places = [place("FR-1", "FR", 10, nationalities="SYR;ERI", statuses="applicant",
                    max_case_size=2, vulnerable="false", unaccompanied_minors="false",
                    agreed=True),
              place("DE-1", "DE", 3, agreed=True)]
    # DE-1 takes 3 persons; FR-1 only the ERI single. Ignoring one criterion at a time:
    # case size opens the family of 3 (DE-1 then takes the others), status the beneficiary,
    # vulnerable the vulnerable single; the minor also needs unaccompanied_minor: nothing.
    assert bound(cases, places) == 4
    assert restriction_costs(cases, places, set(), {}) == [
        ("FR-1", "case_size", 3), ("FR-1", "nationality", 0), ("FR-1", "status", 1),
        ("FR-1", "unaccompanied_minor", 0), ("FR-1", "vulnerable", 1)]
    for _, criterion, cost in restriction_costs(cases, places, set(), {}):
        ignored = max_flow_bound(cases, places, set(), {},
                                 ignore={"FR-1": frozenset({criterion})})[0]
        assert ignored - 4 == cost


def test_rejection_lowers_the_bound():
    cases = [case("a"), case("b")]
    places = [place("FR-1", "FR", 2), place("DE-1", "DE", 1)]
    assert bound(cases, places) == 2
    assert bound(cases, places, rejected={("a", "FR")}) == 2  # a goes to DE
    assert bound(cases, places, rejected={("a", "FR"), ("b", "DE")}) == 2
    assert bound(cases, places, rejected={("a", "FR"), ("b", "FR")}) == 1


def test_blocked_cases_are_not_counted():
    cases = [case("a", 2), case("b", 3, blocked="security"), case("c", 1, blocked="consent")]
    places = [place("FR-1", "FR", 10)]
    assert bound(cases, places) == 2
    m = assess(cases, places, set(), {})
    assert (m.bound, m.places, m.persons_placeable) == (2, 10, 2)


def test_a_transfer_counts_only_at_its_state():
    # The transferred family of 2 ignores FR's nationality criterion but cannot use DE's room.
    cases = [case("t", 2, nationality="AFG")]
    places = [place("FR-1", "FR", 2, nationalities="SYR"), place("DE-1", "DE", 5)]
    assert bound(cases, places, transfers={"t": "FR"}) == 2
    assert bound(cases, places, transfers={"t": "NL"}) == 0
    assert bound(cases, places) == 2  # untransferred, it may go to DE
    small = [place("FR-1", "FR", 1), place("DE-1", "DE", 5)]
    assert bound(cases, small, transfers={"t": "FR"}) == 0


def test_bottleneck_sentences():
    cases = [case(f"s{n}") for n in range(9)] + [case("g", 2, location="GR")]
    places = [place("DE-1", "DE", 4), place("FR-1", "FR", 3, location="GR"),
              place("NL-1", "NL", 1, location="GR", max_case_size=1)]
    m = assess(cases, places, set(), {})
    assert m.bound == 6
    assert m.bottlenecks == (
        "FR pledge FR-1 (from GR): 3 places, 2 persons eligible",
        "NL pledge NL-1 (from GR): 1 place for cases of at most 1 person, 0 eligible candidates",
        "IT: 9 eligible persons, 4 places open to them",
    )
    assert m.bottleneck_rows == (("FR-1@GR", "", 1), ("NL-1@GR", "case_size", 1), ("IT", "", 5))


def test_shared_places_empty_together():
    # Two rows both open to the same 3 persons: 5 places, 2 stay empty between them.
    cases = [case(f"s{n}") for n in range(3)]
    places = [place("DE-1", "DE", 2), place("FR-1", "FR", 3, nationalities="SYR")]
    assert bottlenecks(cases, places, set(), {}) == [
        "pledges DE-1, FR-1 (from IT): 5 places together, 3 persons eligible"]


def test_rows_of_matchability_csv():
    cases = [case("s1"), case("a1", nationality="AFG"), case("a2", nationality="AFG")]
    places = [place("FR-1", "FR", 3, nationalities="SYR")]
    table = rows(assess(cases, places, set(), {}))
    assert all(tuple(row) == COLUMNS for row in table)
    assert [(r["kind"], r["subject"], r["criterion"], r["value"]) for r in table] == [
        ("bound", "persons_relocated", "", "1"),
        ("bottleneck", "IT", "", "2"),
        ("bottleneck", "FR-1@IT", "nationality", "2"),
        ("restriction", "FR-1", "nationality", "2"),
    ]
    assert table[0]["text"] == "at most 1 of 3 persons can be relocated to 3 places"


def test_same_input_same_output():
    rng = random.Random(7)
    cases = [case(f"c{n}", rng.randint(1, 3), rng.choice(["IT", "GR"]),
                  rng.choice(["SYR", "AFG"]), vulnerable=rng.randint(0, 1))
             for n in range(60)]
    places = [place("FR-1", "FR", 20, nationalities="SYR"), place("DE-1", "DE", 15),
              place("NL-1", "NL", 30, location="GR", vulnerable="false"),
              place("FR-1", "FR", 5, location="GR", nationalities="SYR")]
    first = assess(cases, places, {("c1", "FR")}, {"c2": "DE"})
    rng.shuffle(cases)
    again = assess(cases, list(reversed(places)), {("c1", "FR")}, {"c2": "DE"})
    assert first == again
    assert rows(first) == rows(again)
    assert isinstance(first, Matchability)


# --- property: with single persons the bound is the matching's optimum --------------------

STATES, LOCATIONS, NATIONALITIES = ("FR", "DE", "NL"), ("IT", "GR"), ("SYR", "AFG", "ERI")


def instance() -> Instance:
    config = InstanceConfig(name="t", cycle=2026,
                            pool=PoolConfig(relocations=100, financial_eur=1.0))
    return Instance(name="t", config=config, states=(), pledges=())


@st.composite
def small_instances(draw: st.DrawFn, singles: bool = True
                    ) -> tuple[list[Case], list[Place], set[tuple[str, str]]]:
    places = []
    for n in range(draw(st.integers(1, 4))):
        criteria: dict[str, object] = {}
        if draw(st.booleans()):
            criteria["nationalities"] = ";".join(draw(st.sets(st.sampled_from(NATIONALITIES),
                                                              min_size=1)))
        if draw(st.booleans()):
            criteria["statuses"] = draw(st.sampled_from(["applicant", "beneficiary"]))
        if draw(st.booleans()):
            criteria["max_case_size"] = draw(st.integers(1, 2))
        criteria["vulnerable"] = draw(st.booleans())
        criteria["unaccompanied_minors"] = draw(st.booleans())
        places.append(place(f"P{n}", draw(st.sampled_from(STATES)), draw(st.integers(1, 5)),
                            draw(st.sampled_from(LOCATIONS)), **criteria))
    cases = []
    for n in range(draw(st.integers(0, 10))):
        vulnerable = draw(st.integers(0, 1))
        cases.append(case(f"c{n}", 1 if singles else draw(st.integers(1, 3)),
                          draw(st.sampled_from(LOCATIONS)), draw(st.sampled_from(NATIONALITIES)),
                          draw(st.sampled_from(["applicant", "beneficiary"])), vulnerable,
                          vulnerable * draw(st.integers(0, 1)),
                          draw(st.sampled_from([None, None, None, "security"]))))
    rejected = set(draw(st.lists(st.tuples(st.sampled_from([c.case_id for c in cases] or ["x"]),
                                           st.sampled_from(STATES)), max_size=3)))
    return cases, places, rejected


def relocated(cases: list[Case], places: list[Place], rejected: set[tuple[str, str]]) -> int:
    result = match(instance(), cases, places, {}, rejected, Solver(SolverOptions(name="highs")))
    return sum(a.case.size for a in result.assignments)


@settings(max_examples=50, deadline=None)
@given(small_instances())
def test_bound_is_the_matching_optimum_for_singles(data):
    cases, places, rejected = data
    value = bound(cases, places, rejected)
    assert value == relocated(cases, places, rejected)
    m = assess(cases, places, rejected, {})
    assert m.bound == value <= min(m.places, m.persons_placeable)
    for pledge_id, criterion, cost in m.costs:
        ignored = max_flow_bound(cases, places, rejected, {},
                                 ignore={pledge_id: frozenset({criterion})})[0]
        assert cost == ignored - value >= 0


@settings(max_examples=25, deadline=None)
@given(small_instances(singles=False))
def test_bound_is_an_upper_bound_for_families(data):
    cases, places, rejected = data
    assert bound(cases, places, rejected) >= relocated(cases, places, rejected)
