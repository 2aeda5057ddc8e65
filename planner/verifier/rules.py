"""The verifier's re-derivations of the rules behind summary.json, and its optimality
certificates (planner.verifier.verify calls these; see its docstring for the list of checks).

Independent of the planner's computation: Art. 63 offsets are re-derived here (the mandatory
spread by a water level found by sorting, not by the planner's iterative fill), effective needs
and the arcs of each pledge row from the inputs, and each certificate is a property an optimum
must have, checked on the written files:
- stage (ii) of the pool plan (preferences): no state could move value from a row it ranks
  lower to a row it ranks higher that has room left (its value, so stage (i), unchanged);
- the distribution's balance (Art. 60(2)): the received amounts form a base of a polymatroid
  (Gale), and a leximin base has, for every pair (j loses, i gains) that an alternating path
  of the flows can exchange, ratio_i >= ratio_j (Fujishige's optimality condition), within
  one person (persons are rounded after the balance) or a cent per flow; exchanges that would
  take value from a SAR state to another are left out (the SAR stage comes first);
- the SAR stage: the secured value is min(target, the value of the rows that may reach a SAR
  state), which is the most any distribution can send there.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import pandas as pd

from models.instance import Instance, Measure, Pledge

Fail = Callable[[str, int, str, str], None]
VALUE_TOL = 1e-6
SOLVER_SLACK = 1e-4  # relocation-equivalents (EUR 2 at EUR 20,000)
# The planner's leximin tells saturated ratios apart by a probe capped at 1e-3: a ratio whose
# rise the supply limits below that may be fixed early, up to 1e-3 below its leximin level
# (found by the property tests: EUR 5 left on one side). Differences of ratios below it are
# not reported.
PROBE_EPS = 1e-3


def unit(measure: Measure, rate: float) -> float:
    """Relocation-equivalents per unit of the measure (Art. 56(2)), the verifier's own."""
    return 1.0 if measure in (Measure.relocation, Measure.offset) else rate


# --- Art. 63: offsets ----------------------------------------------------------------------


def expected_offsets(instance: Instance, key: pd.DataFrame) -> dict[str, Any]:
    """summary.json's `offsets` as the rules give it (rules section 5, Art. 63).
    `key` is planner.verifier.verify.expected_obligations (roles by `participates` and
    `benefitting`).
    Thresholds against the proposal (`[proposal] relocations`, default the pool's); a state's
    pledged offsets are voluntary when it may offset voluntarily (63(1), 63(2)(b), or any
    state unless `enforce_voluntary`) toward a benefitting state that agrees (and, with
    responsibility.csv, has persons there); the mandatory gap is closed by the voluntary
    offsets first, the rest spread by key over the other contributors within two caps:
    obligation - pledged relocations and persons (responsibility.csv): `mandatory` here is that
    exact spread (what each state owes); `room` what its offset rows can hold (their maxima,
    within the persons of the pairs they may serve), the planned part being the owed one
    within it."""
    config = instance.config.offsets
    proposal = instance.config.proposal_relocations
    obligation = key["obligation"].to_dict()
    contributor = (key["participates"] & ~key["benefitting"]).to_dict()
    ad_hoc = {s.code for s in instance.states if not s.participates and not s.benefitting}
    tops: dict[str, float] = defaultdict(float)
    fixed: dict[str, float] = defaultdict(float)
    offer: dict[str, float] = defaultdict(float)
    idle = set() if instance.config.benefitting.implement_pledges else set(instance.benefitting)
    offer_min: dict[str, float] = defaultdict(float)
    serves: dict[str, set[str]] = defaultdict(set)
    for p in instance.pledges:
        top = math.inf if p.max is None else p.max
        if p.state in idle:
            continue  # a benefitting state's pledge, not implemented (rules section 4)
        if p.measure is Measure.relocation:
            tops[p.state] += top
            fixed[p.state] += p.min
        elif p.measure is Measure.offset:
            offer[p.state] += top
            offer_min[p.state] += p.min
            serves[p.state] |= set(p.beneficiary or instance.benefitting)
    # A state's pledged relocations: its rows' maxima, capped at its obligation (or at its own
    # fixed minimum when that is more).
    pledged = {s: min(t, max(obligation.get(s, 0.0), fixed[s])) for s, t in tops.items()}
    total = math.fsum(pledged.values())
    voluntary_threshold = config.voluntary_share * proposal
    pool_allowed = total >= voluntary_threshold - 1e-9
    allowed = [c for c in key.index
               if (contributor[c] or c in ad_hoc) and obligation[c] > 0
               and (pool_allowed or pledged.get(c, 0.0)
                    >= config.voluntary_share * obligation[c] - 1e-9)]
    given = instance.responsibility is not None
    persons = responsibility_persons(instance)
    agree = set(instance.benefitting) - set(config.refused_by)

    def on_territory(c: str, toward: set[str]) -> float:
        if not given:
            return math.inf
        return float(sum(n for (s, b), n in persons.items() if s == c and b in toward))

    voluntary_states, voluntary = [], {}
    for c in key.index:
        if not (contributor[c] or c in ad_hoc) or offer.get(c, 0.0) <= 0:
            continue
        if config.enforce_voluntary and c not in allowed:
            continue
        toward = serves[c] & agree
        if not toward or on_territory(c, toward) <= 0:
            continue
        voluntary_states.append(c)
        room = max(obligation[c] - pledged.get(c, 0.0), offer_min[c])
        counted = math.floor(round(min(offer[c], room, on_territory(c, toward)), 9))
        if counted > 0:
            voluntary[c] = counted
    needs = math.fsum(n.amount for n in instance.needs if n.measure is Measure.relocation)
    by_needs = config.mandatory_share * needs
    by_proposal = config.mandatory_proposal_share * proposal
    threshold = {"needs": by_needs, "proposal": by_proposal}.get(
        config.mandatory_basis, max(by_needs, by_proposal))
    binding = config.mandatory_basis if config.mandatory_basis != "higher" else \
        "both" if by_needs == by_proposal else "needs" if by_needs > by_proposal else "proposal"
    triggered = total < threshold - 1e-9
    gap = math.ceil(round(threshold - total, 9)) if triggered else 0
    remaining = max(0, gap - sum(voluntary.values()))
    fair = {c: max(obligation[c] - pledged.get(c, 0.0), 0.0)
            for c in key.index if contributor[c] and c not in voluntary_states}
    # Art. 63(3)'s caps: fair share minus pledged relocations and the persons on the state's
    # territory (toward any benefitting state); the offset rows only bound what is planned.
    everywhere = set(instance.benefitting)
    caps = {c: math.floor(round(min(f, on_territory(c, everywhere)), 9))
            for c, f in fair.items()}
    room = {c: min(offer.get(c, 0.0), on_territory(c, serves[c])) for c in fair}
    shares = key["share_used"].to_dict()
    mandatory = _spread(remaining, {c: float(shares[c]) for c in caps}, caps) \
        if remaining else {}
    return {"voluntary_allowed": pool_allowed, "voluntary_allowed_states": allowed,
            "voluntary_threshold": voluntary_threshold, "pledged_relocations": total,
            "proposal_relocations": proposal, "refused_by": list(config.refused_by),
            "voluntary_states": voluntary_states, "voluntary": voluntary,
            "mandatory_basis": config.mandatory_basis, "relocation_needs": needs,
            "mandatory_threshold_needs": by_needs,
            "mandatory_threshold_proposal": by_proposal, "mandatory_binding": binding,
            "mandatory_threshold": threshold, "mandatory_triggered": triggered, "gap": gap,
            "remaining_gap": remaining, "mandatory": mandatory,
            "unallocated": remaining - sum(mandatory.values()),
            "caps": caps, "caps_fair_share": fair, "room": room,
            "caps_persons": {c: on_territory(c, everywhere) for c in fair} if given else None,
            "responsibility_given": given}


def planned_mandatory(owed: dict[str, int], room: dict[str, float]) -> dict[str, int]:
    """The mandatory offsets the plan enforces: each state's owed part within what its offset
    rows can hold (`room`; the plan takes offsets only from pledge rows)."""
    planned = {}
    for state, n in owed.items():
        held = n if math.isinf(room.get(state, 0.0)) else \
            min(n, math.floor(round(room.get(state, 0.0), 9)))
        if held > 0:
            planned[state] = held
    return planned


def responsibility_persons(instance: Instance) -> dict[tuple[str, str], float]:
    """responsibility.csv: (state, benefitting) -> persons (empty without the file)."""
    return {(r.state, r.benefitting): r.persons for r in instance.responsibility or ()}


def offset_arcs(instance: Instance, pledge: Pledge, voluntary: set[str]) -> list[str]:
    """Where an offset row may count (rules section 5): a pair of responsibility.csv with
    persons, within the row's beneficiary list; not toward a state in offsets.refused_by
    when the state's offsets are voluntary (Art. 63(2))."""
    persons = responsibility_persons(instance)
    refused = set(instance.config.offsets.refused_by) if pledge.state in voluntary else set()
    return [b for b in (pledge.beneficiary or sorted(instance.benefitting))
            if persons.get((pledge.state, b), 0.0) > 0 and b not in refused]


def _spread(total: int, weights: dict[str, float], caps: dict[str, int]) -> dict[str, float]:
    """The exact spread of `total` persons in proportion to `weights` within `caps`: each
    state min(cap, level x weight) at the one level where they sum to the total (or every
    cap, when the caps hold less); the level is found by taking the states in the order in
    which they reach their caps."""
    active = {c: w for c, w in weights.items() if w > 0 and caps.get(c, 0) > 0}
    want = float(min(total, sum(caps[c] for c in active)))
    order = sorted(active, key=lambda c: caps[c] / active[c])
    left, weight, spread = want, math.fsum(active.values()), {}
    for c in order:
        level = left / weight if weight > 0 else 0.0
        if active[c] * level >= caps[c]:
            spread[c] = float(caps[c])
            left -= caps[c]
            weight -= active[c]
        else:
            spread[c] = active[c] * level
    return spread


def check_mandatory(fail: Fail, got: dict[str, float], exact: dict[str, float], gap: int,
                    name: str, line_of: Callable[[str], int], column: str) -> None:
    """Whole persons of the exact spread: each state its exact part rounded down or up, none
    above its cap, summing to the spread's total."""
    for state in sorted(set(got) | set(exact)):
        have, share = got.get(state, 0.0), exact.get(state, 0.0)
        if not math.floor(share + 1e-9) - 1e-9 <= have <= math.ceil(share - 1e-9) + 1e-9:
            fail(name, line_of(state), column, f"{state}: {have:g} mandatory offsets, the "
                 f"key's spread of the gap {gap} gives {share:.3f} (Art. 63)")


# --- needs and arcs (Art. 60(2)) -----------------------------------------------------------


def effective_needs(instance: Instance) -> dict[tuple[str, Measure], float]:
    """(benefitting state, measure) -> need in relocation-equivalents: the stated needs, and
    for a pledged measure nobody states a need for, each state's total stated need (equal
    weights when nobody states any). Offsets only with responsibility.csv: without it they
    count toward no benefitting state, so no offset need can be covered."""
    rate = instance.config.pool.rate
    offsets = instance.responsibility is not None
    needs = {(n.state, n.measure): n.amount / unit(n.measure, rate)
             for n in instance.needs if n.amount > 0
             and (offsets or n.measure is not Measure.offset)}
    weight = {b: math.fsum(v for (s, _), v in needs.items() if s == b)
              for b in instance.benefitting}
    if not any(weight.values()):
        weight = dict.fromkeys(instance.benefitting, 1.0)
    for measure in {p.measure for p in instance.pledges}:
        if measure is Measure.offset and not offsets:
            continue
        if not any(m is measure for _, m in needs):
            needs.update({(b, measure): w for b, w in weight.items() if w > 0})
    return needs


def arcs(pledge: Pledge, benefitting: tuple[str, ...],
         needs: dict[tuple[str, Measure], float],
         instance: Instance | None = None, voluntary: set[str] | None = None) -> list[str]:
    """The states a row may serve: its beneficiaries (or all), those with a need for its
    measure when any of them has one; never the pledging state itself (rules section 4). An
    offset row (with `instance`): `offset_arcs`, needs aside (the persons decide where offsets
    count)."""
    if instance is not None and pledge.measure is Measure.offset:
        return offset_arcs(instance, pledge, voluntary or set())
    allowed = [b for b in (list(pledge.beneficiary) or sorted(benefitting)) if b != pledge.state]
    return [b for b in allowed if needs.get((b, pledge.measure), 0.0) > 0] or allowed


# --- certificates --------------------------------------------------------------------------


def preference_swaps(instance: Instance, amounts: dict[str, float],
                     mandatory: dict[str, float],
                     paired: dict[tuple[str, str], float] | None = None,
                     voluntary: set[str] | None = None) -> list[tuple[str, str]]:
    """(worse row, better row) pairs of one state where value could move from a row ranked
    lower to one ranked higher: stage (ii) was not optimal. One relocation-equivalent must fit
    both ways when a side is in persons (persons are whole), a euro when both are money. With
    responsibility.csv an offset row's room is also the persons left on its pairs (`paired`:
    the offsets distribution.csv sends per (state, benefitting); other rows' flows held as
    they are, so a swap reported is one that fits)."""
    persons = responsibility_persons(instance)
    rate = instance.config.pool.rate
    restricted = instance.config.offsets.enforce_voluntary
    rows: dict[str, list[Pledge]] = defaultdict(list)
    for p in instance.pledges:
        rows[p.state].append(p)
    found = []
    for state, own in sorted(rows.items()):
        offsets = math.fsum(amounts.get(p.pledge_id, 0.0) for p in own
                            if p.measure is Measure.offset)
        for worse in own:
            for better in own:
                if better.preference >= worse.preference:
                    continue
                step = 1.0 if worse.measure.in_persons or better.measure.in_persons \
                    else 1.0 / rate
                give = (amounts.get(worse.pledge_id, 0.0) - worse.min) / unit(worse.measure,
                                                                              rate)
                top = math.inf if better.max is None else better.max
                if restricted and better.measure is Measure.offset:
                    continue  # its upper limit may be Art. 63's, not the row's
                room = (top - amounts.get(better.pledge_id, 0.0)) / unit(better.measure, rate)
                if better.measure is Measure.offset and instance.responsibility is not None:
                    room = min(room, math.fsum(
                        max(0.0, persons[(state, b)] - (paired or {}).get((state, b), 0.0))
                        for b in offset_arcs(instance, better, voluntary or set())))
                if worse.measure is Measure.offset and better.measure is not Measure.offset \
                        and offsets - step < mandatory.get(state, 0.0) - VALUE_TOL:
                    continue  # the state's mandatory offsets hold that value
                if give >= step - 1e-9 and room >= step - 1e-9:
                    found.append((worse.pledge_id, better.pledge_id))
    return found


def leximin_violations(instance: Instance, flows: list[tuple[str, str, float]],
                       needs: dict[tuple[str, Measure], float],
                       voluntary: set[str] | None = None,
                       floors: dict[tuple[str, str], float] | None = None
                       ) -> list[tuple[Measure, str, str, float, float]]:
    """(measure, losing state j, gaining state i, ratio_j, ratio_i) where value could move
    from j to i along the flows (distribution.csv's (pledge_id, beneficiary, amount)) although
    j's coverage ratio exceeds i's by more than rounding explains. Offsets move only along
    responsibility.csv's pairs with persons left (`voluntary`: states whose offsets are
    voluntary); offsets assigned to no benefitting state (empty beneficiary) are left out.
    `floors`: the joint split's persons placed per (pledge row, state) (assignments.csv):
    those cannot move, only a flow's places left empty can."""
    rate = instance.config.pool.rate
    sar = set(instance.config.distribution.sar_states) \
        if instance.config.distribution.sar_share > 0 else set()
    served = _Served.of(instance, flows, floors or {})
    graph = _exchange_graph(instance, served, needs, voluntary)
    found = []
    for j in sorted(graph, key=lambda t: (t[1].value, t[0])):
        if needs.get(j, 0.0) <= 0:
            continue
        measure = j[1]
        # Rounding after the balance: a person per target, or a cent per flow; and the
        # solver's own accuracy on the stages' values (measured: EUR 1 of a EUR 1 pledge left
        # on one side by HiGHS), SOLVER_SLACK relocation-equivalents.
        slack = (1.0 if measure.in_persons else 0.01 * (served.count[measure] + 1) / rate) \
            + SOLVER_SLACK
        got = served.got
        # The targets value may move to from j in any number of steps.
        for i in sorted(nx.descendants(graph, j), key=lambda t: t[0]):
            if needs.get(i, 0.0) <= 0 or (j[0] in sar and i[0] not in sar):
                continue
            high = (got[j] - slack) / needs[j]
            low = (got[i] + slack) / needs[i]
            if high > low + PROBE_EPS:
                found.append((measure, j[0], i[0], got[j] / needs[j], got[i] / needs[i]))
    return found


@dataclass
class _Served:
    """What the flows to benefitting states give: relocation-equivalents per target (state,
    measure), the targets each row serves beyond its floor (value that may move), flows per
    measure (the cents rounding may move), offsets per (state, beneficiary) pair."""

    got: dict[tuple[str, Measure], float]
    serving: dict[str, set[tuple[str, Measure]]]  # row -> its targets
    count: dict[Measure, int]
    paired: dict[tuple[str, str], float]

    @classmethod
    def of(cls, instance: Instance, flows: list[tuple[str, str, float]],
           floors: dict[tuple[str, str], float]) -> _Served:
        rate = instance.config.pool.rate
        pledges = instance.pledges_by_id
        served = cls(defaultdict(float), defaultdict(set), defaultdict(int),
                     defaultdict(float))
        for pid, b, amount in flows:
            p = pledges.get(pid)
            if p is None or amount <= 0 or not b:
                continue
            served.got[(b, p.measure)] += amount / unit(p.measure, rate)
            if amount > floors.get((pid, b), 0.0):
                served.serving[pid].add((b, p.measure))
            served.count[p.measure] += 1
            if p.measure is Measure.offset:
                served.paired[(p.state, b)] += amount
        return served


def _exchange_graph(instance: Instance, served: _Served,
                    needs: dict[tuple[str, Measure], float], voluntary: set[str] | None
                    ) -> nx.DiGraph[tuple[str, Measure]]:
    """An arc j -> i for each target i value may move to from target j in one step: a row
    sends to j and may send to i (an offset row: a person left on the pair, Art. 63)."""
    pledges = instance.pledges_by_id
    persons = responsibility_persons(instance)
    graph: nx.DiGraph[tuple[str, Measure]] = nx.DiGraph()
    for pid, targets in served.serving.items():
        p = pledges[pid]
        reach = {(b, p.measure) for b in arcs(p, instance.benefitting, needs, instance,
                                              voluntary)
                 if p.measure is not Measure.offset
                 or served.paired[(p.state, b)] <= persons.get((p.state, b), 0.0) - 1 + 1e-9}
        graph.add_edges_from((j, i) for j in targets for i in reach)
    return graph


def sar_reachable(instance: Instance, values: dict[str, float],
                  needs: dict[tuple[str, Measure], float],
                  voluntary: set[str] | None = None,
                  floors: dict[tuple[str, str], float] | None = None) -> float:
    """The most value a distribution can send to the SAR states: every row that may reach
    one sends all of its value there, but for `floors` (the joint split's persons placed, in
    relocation-equivalents) at the other states; offset rows within the persons of their
    pairs with SAR states (a maximum flow per contributor: rows -> pairs)."""
    sar = set(instance.config.distribution.sar_states)
    pledges = instance.pledges_by_id
    floors = floors or {}
    plain = math.fsum(v - math.fsum(f for (p, b), f in floors.items() if p == pid
                                    and b not in sar)
                      for pid, v in values.items() if pid in pledges
                      and pledges[pid].measure is not Measure.offset
                      and sar & set(arcs(pledges[pid], instance.benefitting, needs)))
    graph: nx.DiGraph[Hashable] = nx.DiGraph()
    for pid, v in values.items():
        p = pledges.get(pid)
        if p is None or p.measure is not Measure.offset or v <= 0:
            continue
        for b in sar & set(arcs(p, instance.benefitting, needs, instance, voluntary)):
            graph.add_edge("source", ("row", pid), capacity=v)
            graph.add_edge(("row", pid), ("pair", p.state, b), capacity=math.inf)
            graph.add_edge(("pair", p.state, b), "sink",
                           capacity=responsibility_persons(instance)[(p.state, b)])
    offsets = nx.maximum_flow_value(graph, "source", "sink") if graph.number_of_nodes() else 0
    return plain + float(offsets)
