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
dropped one profile criterion (rules section 7.5). The rules on beneficiaries of protection
(Art. 56(2)(a)(ii), planner.inputs.protection) are the law, not a receiving state's choice: a
bottleneck sentence per location where beneficiaries' cases lack an agreement with some or every
receiving state, and `law` rows (apart from the restrictions) with the persons the bound gains
without the agreement rule, without the rule on the date of protection, and without both.
Sentences quote only counts, state codes, pledge ids and criteria names, never a candidate's
data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

import networkx as nx

from models.cases import Case
from models.instance import Pledge
from planner.inputs.protection import AGREEMENT, BLOCKS, LAW_SUBJECT, PERIOD
from planner.optimise.eligibility import CRITERIA, Place, failed_criteria, needs_agreement, profiles

SOURCE, SINK = "source", "sink"
COLUMNS = ("kind", "subject", "criterion", "value", "text")
Ignore = Mapping[str, frozenset[str]]
# Cases alike for eligibility: location, statuses, nationalities, size, any vulnerable, any
# unaccompanied minor, states that rejected them (None for a transfer), the transfer's state.
AtomKey = tuple[str, frozenset[str], frozenset[str], int, bool, bool, frozenset[str] | None,
                str | None]


@dataclass(frozen=True)
class _Atom:
    """Cases alike for eligibility, with their persons and number."""

    location: str
    persons: int
    cases: int
    # (place index, criteria the cases fail there) for the places of their location they may
    # take apart from profile criteria (not rejected, big enough; a transfer's state only).
    # `bilateral_agreement` among them: a beneficiary's case where the states did not agree.
    candidates: tuple[tuple[int, tuple[str, ...]], ...]
    beneficiary: bool = False  # cases with a beneficiary of protection (not transferred)

    def eligible(self, places: list[Place], ignore: Ignore) -> tuple[int, ...]:
        empty: frozenset[str] = frozenset()
        return tuple(i for i, failed in self.candidates
                     if all(c in ignore.get(places[i].pledge_id, empty) for c in failed))


def _atoms(cases: list[Case], rejected: set[tuple[str, str]], transfers: dict[str, str],
           period: bool) -> dict[AtomKey, list]:
    """Cases reduced to atoms (`_Index`): per atom key, [persons, cases, a sample case]. A
    transferred case's key is its location, size and state (its profile does not matter); a
    blocked case has none, unless `period` is off and the rule on the date blocks it."""
    profile = profiles(rejected)
    none: frozenset[str] = frozenset()
    counts: dict[AtomKey, list] = {}
    for case in cases:
        transfer = transfers.get(case.case_id)
        if case.blocked and transfer is None and (period or case.blocked not in BLOCKS):
            continue
        if transfer is not None:
            # Its state's places that hold it, whatever its profile: size alone matters.
            key: AtomKey = (case.location, none, none, len(case.persons), False, False,
                            None, transfer)
        else:
            key = (*profile(case), None)
        entry = counts.get(key)
        if entry is None:
            entry = counts[key] = [0, 0, case]
        entry[0] += len(case.persons)
        entry[1] += 1
    return counts


class _Index:
    """Cases reduced to atoms; profile criteria are checked once per (atom, pledge row)."""

    def __init__(self, cases: list[Case], places: list[Place], rejected: set[tuple[str, str]],
                 transfers: dict[str, str], period: bool = True) -> None:
        """`period`: the rule on the date of protection applies (False: the cases it blocks
        count as placeable, for its cost)."""
        self.places = places
        self.keys = [place.key for place in places]
        self._names: dict[tuple[int, ...], tuple[str, ...]] = {}
        self.at: dict[str, list[int]] = defaultdict(list)
        for i, place in enumerate(places):
            self.at[place.location].append(i)
        self._failed: dict[tuple[object, ...], tuple[str, ...]] = {}
        self.atoms: list[_Atom] = []
        # (pledge id, criterion) -> (atom, place) pairs that ignoring that criterion opens.
        self.opens: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
        self.by_location: dict[str, list[int]] = defaultdict(list)
        for key, (persons, number, sample) in _atoms(cases, rejected, transfers, period).items():
            location, transfer = key[0], key[7]
            candidates = self._candidates(key, sample)
            self.by_location[location].append(len(self.atoms))
            self.atoms.append(_Atom(location, persons, number, candidates,
                                    transfer is None and "beneficiary" in sample.statuses))

    def _candidates(self, key: AtomKey, sample: Case) -> tuple[tuple[int, tuple[str, ...]], ...]:
        """The places at the atom's location that hold its cases, each with the criteria its
        cases fail there (none at a transferred case's state's places); the pairs that one
        ignored criterion opens go to `opens`. `sample`: one of the atom's cases."""
        location, size, states, transfer = key[0], key[3], key[6], key[7]
        profile = key[1:6]
        candidates: list[tuple[int, tuple[str, ...]]] = []
        for i in self.at.get(location, ()):
            place = self.places[i]
            if place.capacity < size:
                continue  # the case does not fit in this place
            if transfer is not None:
                if place.state == transfer:
                    candidates.append((i, ()))
            elif states is not None and place.state not in states:
                row = (profile, place.pledge_id)
                if row not in self._failed:
                    self._failed[row] = failed_criteria(sample, place.pledge)
                fails = self._failed[row]
                if needs_agreement(sample, place):
                    fails = (*fails, AGREEMENT)
                candidates.append((i, fails))
                if len(fails) == 1:
                    self.opens[(place.pledge_id, fails[0])].append((len(self.atoms), i))
        return tuple(candidates)

    def eligible(self, ignore: Ignore) -> list[tuple[int, ...]]:
        return [atom.eligible(self.places, ignore) for atom in self.atoms]

    def graph(self, eligible: list[tuple[int, ...]], locations: Iterable[str] | None = None,
              override: Mapping[int, tuple[int, ...]] | None = None) -> nx.DiGraph:
        """The aggregated flow graph of the given locations (all by default); `override`
        replaces the eligible places of some atoms. `graph.graph` holds the persons with no
        eligible place per location and the group node of each atom."""
        wanted = sorted(set(self.at) | set(self.by_location)) if locations is None \
            else sorted(set(locations))
        override = override or {}
        no_place: dict[str, int] = {}
        atom_group: dict[int, str] = {}
        graph: nx.DiGraph[Hashable] = nx.DiGraph(no_place=no_place, atom_group=atom_group)
        graph.add_node(SOURCE)
        graph.add_node(SINK)
        for location in wanted:
            groups: dict[tuple[str, ...], list] = {}
            for k in self.by_location.get(location, ()):
                atom, own = self.atoms[k], override.get(k, eligible[k])
                if not own:
                    no_place[location] = no_place.get(location, 0) + atom.persons
                    continue
                keys = self._names.get(own)
                if keys is None:
                    keys = self._names[own] = tuple(sorted({self.keys[i] for i in own}))
                totals = groups.setdefault(keys, [0, 0, []])
                totals[0] += atom.persons
                totals[1] += atom.cases
                totals[2].append(k)
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
            for n, (keys, (persons, cases, atoms)) in enumerate(sorted(groups.items())):
                group = f"group:{location}:{n}"
                graph.add_node(group, kind="group", location=location, persons=persons,
                               cases=cases, places=keys)
                graph.add_edge(SOURCE, group, capacity=int(persons))
                for key in keys:
                    graph.add_edge(group, _place_node(key))  # no capacity: unlimited
                    graph.nodes[_place_node(key)]["eligible"] += persons
                atom_group.update(dict.fromkeys(atoms, group))
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
    words = {"nationality": "nationality " + " or ".join(sorted(pledge.nationalities)),
             "status": "status " + " or ".join(sorted(pledge.statuses)),
             "case_size": f"cases of at most {_n(pledge.max_case_size or 0, 'person')}",
             "vulnerable": "no vulnerable persons",
             "unaccompanied_minor": "no unaccompanied minors"}
    return ", ".join(words[criterion] for criterion in set_criteria(pledge))


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _row_name(pledge: Pledge, location: str) -> str:
    return f"{pledge.state} pledge {pledge.pledge_id} (from {location})"


def _place_sentence(data: dict) -> tuple[str, str, int, str]:
    pledge, location = data["pledge"], data["location"]
    capacity, eligible = data["capacity"], data["eligible"]
    criteria = set_criteria(pledge)
    row, offered = _row_name(pledge, location), _n(capacity, "place")
    if criteria:
        text = f"{row}: {offered} for {criteria_text(pledge)}, {_n(eligible, 'eligible candidate')}"
    else:
        text = f"{row}: {offered}, {_n(eligible, 'person')} eligible"
    return data["key"], ";".join(criteria), capacity - eligible, text


def _cut(graph: nx.DiGraph) -> tuple[set[str], set[str]]:
    """The minimum cut's sides: nodes reachable from the source in the residual graph of a
    maximum flow (the same for every maximum flow), and the others."""
    _, (reach, rest) = nx.minimum_cut(graph, SOURCE, SINK)
    return set(reach), set(rest)


def _agreements(index: _Index) -> dict[str, tuple[str, str, int, str]]:
    """Per location where beneficiaries' cases (placeable, not transferred) lack a bilateral
    agreement with some receiving state there: (subject, criterion, persons, sentence)."""
    persons: dict[str, int] = defaultdict(int)
    for atom in index.atoms:
        if atom.beneficiary:
            persons[atom.location] += atom.persons
    found = {}
    for location, count in sorted(persons.items()):
        states = {index.places[i].state for i in index.at.get(location, ())}
        agreed = sorted({index.places[i].state for i in index.at.get(location, ())
                         if index.places[i].agreed})
        if not states or len(agreed) == len(states):
            continue
        who = _n(count, "person") + " of beneficiaries' cases"
        text = (f"{location}: {who}, no bilateral agreement with any receiving state"
                if not agreed else
                f"{location}: {who}, bilateral agreements with {', '.join(agreed)} only "
                f"(of {_n(len(states), 'receiving state')})")
        found[location] = (location, AGREEMENT, count, text)
    return found


def _explain(graph: nx.DiGraph, reach: set[str], rest: set[str],
             agreements: dict[str, tuple[str, str, int, str]] | None = None
             ) -> list[tuple[str, str, int, str]]:
    """(subject, criteria, value, sentence) per bottleneck, by location; `agreements`: the
    sentence on beneficiaries per location (`_agreements`), after the persons with no place."""
    nodes = graph.nodes
    found: dict[str, list[tuple[tuple[object, ...], tuple[str, str, int, str]]]] = (
        defaultdict(list))
    for location, item in (agreements or {}).items():
        found[location].append(((0, 1), item))
    for location, stranded in graph.graph["no_place"].items():
        found[location].append(((0,), (location, "", stranded,
                                          f"{location}: {_n(stranded, 'person')} with no "
                                          f"eligible place")))
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
        found[location].append(((1,), (
            location, "", count - open_places[location],
            f"{location}: {_n(count, 'eligible person')}, {_n(open_places[location], 'place')} "
            f"open to them")))
    for location, order, item in _underfilled(graph, rest):
        found[location].append((order, item))
    return [item for location in sorted(found)
            for _, item in sorted(found[location], key=lambda pair: pair[0])]


def _underfilled(graph: nx.DiGraph, rest: set[str]
                 ) -> list[tuple[str, tuple[object, ...], tuple[str, str, int, str]]]:
    """The sink side of the cut (`_explain`): groups whose persons are all placed, their places
    only partly filled; (location, sort key, bottleneck) per row or rows together."""
    nodes = graph.nodes
    items: list[tuple[str, tuple[object, ...], tuple[str, str, int, str]]] = []
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
        first = rows[0]["key"]
        if len(rows) == 1:
            items.append((location, (2, first), _place_sentence(rows[0])))
            continue
        ids = ", ".join(d["pledge"].pledge_id for d in rows)
        items.append((location, (2, first), (
            ";".join(d["key"] for d in rows), "", capacity - reaching,
            f"pledges {ids} (from {location}): {_n(capacity, 'place')} together, "
            f"{_n(reaching, 'person')} eligible")))
        for d in rows:
            if set_criteria(d["pledge"]) and d["eligible"] < d["capacity"]:
                items.append((location, (2, first, d["key"]), _place_sentence(d)))
    return items


def bottlenecks(cases: list[Case], places: list[Place], rejected: set[tuple[str, str]],
                transfers: dict[str, str], ignore: dict[str, frozenset[str]] | None = None
                ) -> list[str]:
    """Sentences from the minimum cut: where places stay empty, where persons stay unplaced,
    and which criteria restrict rows with empty places; sorted by location."""
    index = _Index(cases, places, rejected, transfers)
    graph = index.graph(index.eligible(ignore or {}))
    return [text for *_, text in _explain(graph, *_cut(graph), _agreements(index))]


# --- restriction costs --------------------------------------------------------------------


def _costs(index: _Index, eligible: list[tuple[int, ...]], graph: nx.DiGraph, flow: dict,
           reach: set[str]) -> list[tuple[str, str, int]]:
    """Per row and criterion it sets: the bound gained by ignoring it there. Only the row's
    eligibility changes, and a location is solved again only when a newly opened pair crosses
    the base minimum cut (a group with unplaced persons to a place on the sink side);
    otherwise that cut still bounds the flow and nothing is gained."""
    places = index.places
    placed: dict[str, int] = defaultdict(int)
    capacity: dict[str, int] = defaultdict(int)
    for node, data in graph.nodes(data=True):
        if data.get("kind") == "place":
            placed[data["location"]] += flow[node][SINK]
            capacity[data["location"]] += data["capacity"]
    atom_group: dict[int, str] = graph.graph["atom_group"]
    pledges = {place.pledge_id: place.pledge for place in places}
    costs = []
    for pledge_id in sorted(pledges):
        for criterion in sorted(set_criteria(pledges[pledge_id])):
            opened: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
            for k, i in index.opens.get((pledge_id, criterion), ()):
                opened[places[i].location][k].append(i)
            gained = 0
            for location, extra in sorted(opened.items()):
                if placed[location] >= capacity[location]:
                    continue  # every place there is full already
                if not any(atom_group.get(k, SOURCE) in reach
                           and _place_node(places[i].key) not in reach
                           for k, opens in extra.items() for i in opens):
                    continue
                override = {k: tuple(sorted((*eligible[k], *opens))) for k, opens in extra.items()}
                value, _ = _flow(index.graph(eligible, [location], override))
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
    return _costs(index, eligible, graph, flow, _cut(graph)[0])


LAW_RULES = ((AGREEMENT,), (PERIOD,), (AGREEMENT, PERIOD))
LAW_TEXT = {
    (AGREEMENT,): "if beneficiaries of protection needed no bilateral agreement",
    (PERIOD,): "without the rule on the date of protection (granted less than the limit "
               "before the Council act's adoption, a date required)",
    (AGREEMENT, PERIOD): "without either rule on beneficiaries of protection",
}


def law_costs(cases: list[Case], places: list[Place], rejected: set[tuple[str, str]],
              transfers: dict[str, str], bound: int, index: _Index | None = None
              ) -> list[tuple[str, int]]:
    """(rules lifted, `;`-joined; persons) for the rules on beneficiaries (Art. 56(2)(a)(ii)):
    how many more persons than `bound` the places could take without the bilateral agreement
    rule, without the rule on the date of protection (expired, missing, after the adoption),
    and without both. None when no candidate is a beneficiary. `index`: the cases' index
    with every rule (`assess`'s), reused for the agreement rule alone; the rule on the date
    needs an index of its own, one for both of its rows (each index reads every case: the
    re-plan bench's law costs 0.21 s -> 0.1 s)."""
    if not any("beneficiary" in c.statuses for c in cases):
        return []
    lifted = {p.pledge_id: frozenset({AGREEMENT}) for p in places}
    indices = {True: index} if index is not None else {}
    out = []
    for rules in LAW_RULES:
        period = PERIOD not in rules
        if period not in indices:
            indices[period] = _Index(cases, places, rejected, transfers, period=period)
        chosen = indices[period]
        value, _ = _flow(chosen.graph(chosen.eligible(lifted if AGREEMENT in rules else {})))
        out.append((";".join(rules), value - bound))
    return out


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
    law: tuple[tuple[str, int], ...] = ()  # `law_costs`


def assess(cases: list[Case], places: list[Place], rejected: set[tuple[str, str]],
           transfers: dict[str, str]) -> Matchability:
    """Bound, bottlenecks and restriction costs from one index and one base flow.
    `persons_placeable` counts the persons of cases not blocked (transferred cases always)."""
    index = _Index(cases, places, rejected, transfers)
    eligible = index.eligible({})
    graph = index.graph(eligible)
    bound, flow = _flow(graph)
    reach, rest = _cut(graph)
    explained = _explain(graph, reach, rest, _agreements(index))
    return Matchability(
        bound=bound,
        places=sum(p.capacity for p in places),
        persons_placeable=sum(c.size for c in cases
                              if not c.blocked or c.case_id in transfers),
        bottlenecks=tuple(text for *_, text in explained),
        costs=tuple(_costs(index, eligible, graph, flow, reach)),
        bottleneck_rows=tuple((subject, criteria, value)
                              for subject, criteria, value, _ in explained),
        law=tuple(law_costs(cases, places, rejected, transfers, bound, index)),
    )


def rows(m: Matchability) -> list[dict[str, str]]:
    """The rows of matchability.csv (`COLUMNS`): the bound, then bottlenecks, then costs."""
    out = [{"kind": "bound", "subject": "persons_relocated", "criterion": "",
            "value": str(m.bound),
            "text": f"at most {m.bound} of {_n(m.persons_placeable, 'person')} can be "
                    f"relocated to {_n(m.places, 'place')}"}]
    for (subject, criteria, value), text in zip(m.bottleneck_rows, m.bottlenecks, strict=True):
        out.append({"kind": "bottleneck", "subject": subject, "criterion": criteria,
                    "value": str(value), "text": text})
    for pledge_id, criterion, cost in m.costs:
        out.append({"kind": "restriction", "subject": pledge_id, "criterion": criterion,
                    "value": str(cost),
                    "text": f"{pledge_id}: {_n(cost, 'more person')} could be placed without "
                            f"its {criterion} criterion"})
    for rules, gain in m.law:
        out.append({"kind": "law", "subject": LAW_SUBJECT, "criterion": rules,
                    "value": str(gain), "text": law_text(rules, gain)})
    return out


def law_text(rules: str, gain: int) -> str:
    """A law row's sentence, e.g. `law (Art. 56(2)(a)(ii)): 3 more persons could be placed
    if beneficiaries of protection needed no bilateral agreement`."""
    return (f"law ({LAW_SUBJECT}): {_n(gain, 'more person')} could be placed "
            f"{LAW_TEXT[tuple(rules.split(';'))]}")
