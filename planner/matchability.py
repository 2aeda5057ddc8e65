"""Before matching, explain what the places can take (rules section 7).

A maximum flow on an aggregated graph bounds the persons the matching can relocate:

    source -> group (cases with the same location and the same eligible places; capacity =
    their persons) -> place (a relocation row's share for one benefitting state; unlimited)
    -> sink (capacity = the place's capacity).

Families may split in this bound, so it is an upper bound on the MILP's persons relocated (and
equal to it when every case is a single person). A case bigger than an eligible place's capacity
cannot use that place, as in the MILP. The minimum cut names the bottlenecks: places that stay
empty because too few persons may take them, and locations whose eligible persons exceed the
places open to them. Restriction costs say how many more persons could be placed if one row
dropped one profile criterion (rules section 7.5). Sentences quote only counts, state codes,
pledge ids and criteria names, never a candidate's data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import networkx as nx

from models.instance import Pledge
from planner.candidates import Case
from planner.eligibility import CRITERIA, Place, failed_criteria

SOURCE, SINK = "source", "sink"
COLUMNS = ("kind", "subject", "criterion", "value", "text")
Ignore = Mapping[str, frozenset[str]]
# What eligibility depends on besides location, rejections and transfers.
Profile = tuple[frozenset[str], frozenset[str], int, bool, bool]
# (location, profile, states that rejected the cases, state a transfer went to)
AtomKey = tuple[str, Profile, frozenset[str] | None, str | None]


@dataclass(frozen=True)
class _Atom:
    """Cases alike for eligibility: same location, profile, rejected states and transfer."""

    location: str
    persons: int
    cases: int
    # (place index, criteria the case fails there), places of the location the cases may take
    # apart from profile criteria (not rejected, big enough; a transfer's state only).
    candidates: tuple[tuple[int, tuple[str, ...]], ...]

    def eligible(self, places: list[Place], ignore: Ignore) -> tuple[int, ...]:
        empty: frozenset[str] = frozenset()
        return tuple(i for i, failed in self.candidates
                     if all(c in ignore.get(places[i].pledge_id, empty) for c in failed))


class _Index:
    """Cases reduced to atoms, with profile eligibility cached per (profile, pledge row)."""

    def __init__(self, cases: list[Case], places: list[Place], rejected: set[tuple[str, str]],
                 transfers: dict[str, str]) -> None:
        self.places = places
        self.at: dict[str, list[int]] = defaultdict(list)
        for i, place in enumerate(places):
            self.at[place.location].append(i)
        refused: dict[str, set[str]] = defaultdict(set)
        for case_id, state in rejected:
            refused[case_id].add(state)
        failed: dict[tuple[Profile, str], tuple[str, ...]] = {}
        counts: dict[AtomKey, list[int]] = {}
        samples: dict[AtomKey, Case] = {}
        for case in cases:
            transfer = transfers.get(case.case_id)
            if case.blocked and transfer is None:
                continue
            profile: Profile = (case.statuses, case.nationalities, case.size,
                                case.vulnerable > 0, case.minors > 0)
            states = frozenset(refused.get(case.case_id, ())) if transfer is None else None
            key: AtomKey = (case.location, profile, states, transfer)
            if key not in counts:
                counts[key] = [0, 0]
                samples[key] = case
            counts[key][0] += case.size
            counts[key][1] += 1
        self.atoms: list[_Atom] = []
        for key in counts:
            location, profile, states, transfer = key
            candidates: list[tuple[int, tuple[str, ...]]] = []
            for i in self.at.get(location, ()):
                place = places[i]
                if place.capacity < profile[2]:
                    continue  # the case does not fit in this place
                if transfer is not None:
                    if place.state == transfer:
                        candidates.append((i, ()))
                elif states is not None and place.state not in states:
                    row = (profile, place.pledge_id)
                    if row not in failed:
                        failed[row] = failed_criteria(samples[key], place.pledge)
                    candidates.append((i, failed[row]))
            self.atoms.append(_Atom(location, counts[key][0], counts[key][1], tuple(candidates)))
        self.by_location: dict[str, list[int]] = defaultdict(list)
        for k, atom in enumerate(self.atoms):
            self.by_location[atom.location].append(k)

    def eligible(self, ignore: Ignore) -> list[tuple[int, ...]]:
        return [atom.eligible(self.places, ignore) for atom in self.atoms]

    def graph(self, eligible: list[tuple[int, ...]], locations: Iterable[str] | None = None
              ) -> nx.DiGraph:
        """The aggregated flow graph of the given locations (all by default)."""
        wanted = sorted(set(self.at) | set(self.by_location)) if locations is None \
            else sorted(set(locations))
        graph = nx.DiGraph(no_place={})
        graph.add_node(SOURCE)
        graph.add_node(SINK)
        for location in wanted:
            groups: dict[tuple[str, ...], list[int]] = {}
            for k in self.by_location.get(location, ()):
                atom = self.atoms[k]
                if not eligible[k]:
                    graph.graph["no_place"][location] = (
                        graph.graph["no_place"].get(location, 0) + atom.persons)
                    continue
                keys = tuple(sorted({self.places[i].key for i in eligible[k]}))
                totals = groups.setdefault(keys, [0, 0])
                totals[0] += atom.persons
                totals[1] += atom.cases
            for i in sorted(self.at.get(location, ()), key=lambda i: self.places[i].key):
                place = self.places[i]
                node = _place_node(place.key)
                if node in graph:  # the same row and location twice: capacities add up
                    graph.nodes[node]["capacity"] += place.capacity
                    graph[node][SINK]["capacity"] += place.capacity
                    continue
                graph.add_node(node, kind="place", location=location, key=place.key,
                               pledge=place.pledge, capacity=place.capacity, eligible=0)
                graph.add_edge(node, SINK, capacity=int(place.capacity))
            for n, (keys, (persons, cases)) in enumerate(sorted(groups.items())):
                group = f"group:{location}:{n}"
                graph.add_node(group, kind="group", location=location, persons=persons,
                               cases=cases, places=keys)
                graph.add_edge(SOURCE, group, capacity=int(persons))
                for key in keys:
                    graph.add_edge(group, _place_node(key))  # no capacity: unlimited
                    graph.nodes[_place_node(key)]["eligible"] += persons
        return graph


def _place_node(key: str) -> str:
    return f"place:{key}"


def _flow(graph: nx.DiGraph) -> tuple[int, dict]:
    value, flow = nx.maximum_flow(graph, SOURCE, SINK)
    return int(value), flow


def max_flow_bound(cases: list[Case], places: list[Place], rejected: set[tuple[str, str]],
                   transfers: dict[str, str], ignore: dict[str, frozenset[str]] | None = None
                   ) -> tuple[int, nx.DiGraph, dict]:
    """The most persons the places can take (families may split), the aggregated graph and
    the flow per edge. `ignore` maps a pledge id to profile criteria ignored for that row."""
    index = _Index(cases, places, rejected, transfers)
    graph = index.graph(index.eligible(ignore or {}))
    value, flow = _flow(graph)
    return value, graph, flow


# --- bottlenecks --------------------------------------------------------------------------


def set_criteria(pledge: Pledge) -> tuple[str, ...]:
    """The profile criteria a relocation row actually sets, in `CRITERIA` order."""
    sets = {"nationality": bool(pledge.nationalities), "status": bool(pledge.statuses),
            "case_size": pledge.max_case_size is not None, "vulnerable": not pledge.vulnerable,
            "unaccompanied_minor": not pledge.unaccompanied_minors}
    return tuple(c for c in CRITERIA if sets[c])


def criteria_text(pledge: Pledge) -> str:
    """The row's profile criteria in words, e.g. `nationality SYR, no vulnerable persons`."""
    words = []
    for criterion in set_criteria(pledge):
        if criterion == "nationality":
            words.append("nationality " + " or ".join(sorted(pledge.nationalities)))
        elif criterion == "status":
            words.append("status " + " or ".join(sorted(pledge.statuses)))
        elif criterion == "case_size":
            size = pledge.max_case_size
            words.append(f"cases of at most {size} person{'s' if size != 1 else ''}")
        elif criterion == "vulnerable":
            words.append("no vulnerable persons")
        else:
            words.append("no unaccompanied minors")
    return ", ".join(words)


def _row_name(pledge: Pledge, location: str) -> str:
    return f"{pledge.state} pledge {pledge.pledge_id} (from {location})"


def _place_sentence(data: dict) -> tuple[str, str, int, str]:
    pledge, location = data["pledge"], data["location"]
    capacity, eligible = data["capacity"], data["eligible"]
    criteria = set_criteria(pledge)
    if criteria:
        text = (f"{_row_name(pledge, location)}: {capacity} places for {criteria_text(pledge)}, "
                f"{eligible} eligible candidates")
    else:
        text = f"{_row_name(pledge, location)}: {capacity} places, {eligible} persons eligible"
    return data["key"], ";".join(criteria), capacity - eligible, text


def _explain(graph: nx.DiGraph) -> list[tuple[str, str, int, str]]:
    """(subject, criteria, value, sentence) per bottleneck, by location."""
    _, (reach, rest) = nx.minimum_cut(graph, SOURCE, SINK)
    nodes = graph.nodes
    found: dict[str, list[tuple[tuple[int, str], tuple[str, str, int, str]]]] = defaultdict(list)
    for location, persons in graph.graph["no_place"].items():
        found[location].append(((0, ""), (location, "", persons,
                                          f"{location}: {persons} persons with no eligible "
                                          f"place")))
    # Source side: persons left unplaced; their places are all full.
    persons: dict[str, int] = defaultdict(int)
    open_places: dict[str, int] = defaultdict(int)
    for node in reach:
        data = nodes[node]
        if data.get("kind") == "group":
            persons[data["location"]] += data["persons"]
        elif data.get("kind") == "place":
            open_places[data["location"]] += data["capacity"]
    for location, count in persons.items():
        found[location].append(((1, ""), (
            location, "", count - open_places[location],
            f"{location}: {count} eligible persons, {open_places[location]} places open to "
            f"them")))
    # Sink side: all persons of these groups are placed, their places only partly filled.
    side = graph.subgraph(n for n in rest if n != SINK).to_undirected(as_view=True)
    for component in nx.connected_components(side):
        rows = sorted((nodes[n] for n in component if nodes[n]["kind"] == "place"),
                      key=lambda d: d["key"])
        if not rows:
            continue
        capacity = sum(d["capacity"] for d in rows)
        reaching = sum(nodes[n]["persons"] for n in component if nodes[n]["kind"] == "group")
        if capacity <= reaching:
            continue
        location = rows[0]["location"]
        order = (2, rows[0]["key"])
        if len(rows) == 1:
            found[location].append((order, _place_sentence(rows[0])))
            continue
        ids = ", ".join(d["pledge"].pledge_id for d in rows)
        found[location].append((order, (
            ";".join(d["key"] for d in rows), "", capacity - reaching,
            f"pledges {ids} (from {location}): {capacity} places together, {reaching} persons "
            f"eligible")))
        for d in rows:
            if set_criteria(d["pledge"]) and d["eligible"] < d["capacity"]:
                found[location].append(((3, d["key"]), _place_sentence(d)))
    return [item for location in sorted(found) for _, item in sorted(found[location])]


def bottlenecks(cases: list[Case], places: list[Place], rejected: set[tuple[str, str]],
                transfers: dict[str, str], ignore: dict[str, frozenset[str]] | None = None
                ) -> list[str]:
    """Sentences from the minimum cut: where places stay empty, where persons stay unplaced,
    and which criteria restrict rows with empty places; sorted by location."""
    index = _Index(cases, places, rejected, transfers)
    return [text for *_, text in _explain(index.graph(index.eligible(ignore or {})))]


# --- restriction costs --------------------------------------------------------------------


def _costs(index: _Index, eligible: list[tuple[int, ...]], graph: nx.DiGraph, flow: dict
           ) -> list[tuple[str, str, int]]:
    """Per row and criterion it sets: the bound gained by ignoring it there. Only the
    locations of that row are solved again, and only eligibility for that row changes."""
    places = index.places
    placed: dict[str, int] = defaultdict(int)
    capacity: dict[str, int] = defaultdict(int)
    for node, data in graph.nodes(data=True):
        if data.get("kind") == "place":
            placed[data["location"]] += flow[node][SINK]
            capacity[data["location"]] += data["capacity"]
    rows: dict[str, list[Place]] = defaultdict(list)
    for place in places:
        rows[place.pledge_id].append(place)
    costs = []
    for pledge_id in sorted(rows):
        locations = sorted({p.location for p in rows[pledge_id]})
        for criterion in sorted(set_criteria(rows[pledge_id][0].pledge)):
            gained = 0
            for location in locations:
                if placed[location] >= capacity[location]:
                    continue  # every place there is full already
                changed = list(eligible)
                for k in index.by_location.get(location, ()):
                    extra = [i for i, failed in index.atoms[k].candidates
                             if failed == (criterion,) and places[i].pledge_id == pledge_id]
                    if extra:
                        changed[k] = tuple(sorted((*eligible[k], *extra)))
                if changed != eligible:
                    value, _ = _flow(index.graph(changed, [location]))
                    gained += value - placed[location]
            costs.append((pledge_id, criterion, gained))
    return costs


def restriction_costs(cases: list[Case], places: list[Place], rejected: set[tuple[str, str]],
                      transfers: dict[str, str]) -> list[tuple[str, str, int]]:
    """(pledge_id, criterion, persons) for every profile criterion a relocation row sets: how
    many more persons the bound allows with that criterion ignored for that row alone."""
    index = _Index(cases, places, rejected, transfers)
    eligible = index.eligible({})
    graph = index.graph(eligible)
    _, flow = _flow(graph)
    return _costs(index, eligible, graph, flow)


# --- the assessment -----------------------------------------------------------------------


@dataclass(frozen=True)
class Matchability:
    """What the places can take, before matching. `bottleneck_rows` holds (subject, criteria,
    value) for each sentence of `bottlenecks`: a location or place key, the row's criteria
    (`;`-joined), and the persons left unplaced or places left empty."""

    bound: int
    places: int
    persons_placeable: int
    bottlenecks: tuple[str, ...]
    costs: tuple[tuple[str, str, int], ...]
    bottleneck_rows: tuple[tuple[str, str, int], ...] = ()


def assess(cases: list[Case], places: list[Place], rejected: set[tuple[str, str]],
           transfers: dict[str, str]) -> Matchability:
    """Bound, bottlenecks and restriction costs from one index and one base flow."""
    index = _Index(cases, places, rejected, transfers)
    eligible = index.eligible({})
    graph = index.graph(eligible)
    bound, flow = _flow(graph)
    explained = _explain(graph)
    return Matchability(
        bound=bound,
        places=sum(p.capacity for p in places),
        persons_placeable=sum(c.size for c in cases
                              if not c.blocked or c.case_id in transfers),
        bottlenecks=tuple(text for *_, text in explained),
        costs=tuple(_costs(index, eligible, graph, flow)),
        bottleneck_rows=tuple((subject, criteria, value)
                              for subject, criteria, value, _ in explained),
    )


def rows(m: Matchability) -> list[dict[str, str]]:
    """The rows of matchability.csv (`COLUMNS`): the bound, then bottlenecks, then costs."""
    out = [{"kind": "bound", "subject": "persons_relocated", "criterion": "",
            "value": str(m.bound),
            "text": f"at most {m.bound} of {m.persons_placeable} persons can be relocated to "
                    f"{m.places} places"}]
    known = len(m.bottleneck_rows) == len(m.bottlenecks)
    for n, text in enumerate(m.bottlenecks):
        subject, criteria, value = m.bottleneck_rows[n] if known else ("", "", None)
        out.append({"kind": "bottleneck", "subject": subject, "criterion": criteria,
                    "value": "" if value is None else str(value), "text": text})
    for pledge_id, criterion, cost in m.costs:
        out.append({"kind": "restriction", "subject": pledge_id, "criterion": criterion,
                    "value": str(cost),
                    "text": f"{pledge_id}: {cost} more persons could be placed without its "
                            f"{criterion} criterion"})
    return out
