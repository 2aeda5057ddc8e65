"""Two baselines for the matching, to measure ours against (issue 6).

- `naive`: the textbook model: one binary variable per (case, place) pair, built directly in
  PuLP without any aggregation (no classes, no place groups, no reduced-cost fixing), solved
  with the same lexicographic stages as `planner.optimise.matching` (persons, balance, the priority
  terms in `matching.priority` order, placement quality), each through PuLP's HiGHS adapter with a
  per-stage time limit. Its stage optima must equal ours: the harness and
  tests/test_bench_baselines.py assert it.
- `greedy`: today's practice: cases in order of registration (earliest first, then case id;
  transferred cases first, at their state), each into the eligible place with room that scores
  best for it (ties: the first place by pledge id), never revisited.

Both use the same places (the plan's distribution), eligibility (`planner.optimise.eligibility`) and
weights as the planner, so only the optimisation differs. Run as a script, on one instance:

    .venv/bin/python bench/baselines.py INSTANCE [--naive-limit 600] [--no-naive]

plans the instance (our matching, timed), runs the baselines and prints one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pulp  # noqa: E402

from models.cases import Case  # noqa: E402
from models.instance import Instance  # noqa: E402
from planner.errors import PlanError  # noqa: E402
from planner.optimise.distribution import joint_split  # noqa: E402
from planner.optimise.eligibility import (  # noqa: E402
    Place,
    may_take,
    official_languages,
    places_from,
    quality,
)
from planner.optimise.matching import Split  # noqa: E402
from planner.optimise.solve import Solver, SolverOptions  # noqa: E402
from planner.optimise.tables import Tables  # noqa: E402

# Stage optima agree when within this (integral stages are exact; balance and quality are
# fixed with a round-off slack of 1e-9 in both models).
TOLERANCE = 1e-6


@dataclass
class Pairs:
    """Every (case, place) pair the rules allow, with the weights of each stage."""

    cases: list[Case]
    places: list[Place]
    transfers: dict[str, str]
    eligible: dict[int, list[int]] = field(default_factory=dict)  # case index -> places
    waiting: dict[int, int] = field(default_factory=dict)  # case index -> waiting bands
    score: dict[tuple[int, int], float] = field(default_factory=dict)  # per person


def pairs(instance: Instance, places: list[Place]) -> Pairs:
    """The allowed pairs: a transferred case only to its state's places, a blocked case
    nowhere, otherwise the hard rules (`may_take`); always within the place's capacity."""
    config = instance.config.matching
    cases = list(instance.cases or ())
    transfers = dict(instance.transfers)
    rejected = set(instance.rejections)
    languages = official_languages()
    dates = [c.registered for c in cases if c.registered is not None]
    today = max(dates) + dt.timedelta(days=1) if dates else dt.date(instance.config.cycle, 1, 1)
    found = Pairs(cases, places, transfers)
    at: dict[str, list[int]] = defaultdict(list)
    for i, place in enumerate(places):
        at[place.location].append(i)
    for c, case in enumerate(cases):
        if case.case_id in transfers:
            own = [i for i in at[case.location] if places[i].state == transfers[case.case_id]
                   and case.size <= places[i].capacity]
        elif case.blocked:
            continue
        else:
            own = [i for i in at[case.location]
                   if case.size <= places[i].capacity and may_take(case, places[i], rejected)]
        if not own:
            continue
        found.eligible[c] = own
        found.waiting[c] = (max((today - case.registered).days, 0) // config.waiting_band_days
                            if case.registered is not None else 0)
        for i in own:
            found.score[(c, i)] = quality(case, places[i].state, languages, config.quality)[0]
    return found


def stage_weights(instance: Instance, found: Pairs) -> dict[str, dict[tuple[int, int], float]]:
    """Per stage (bar balance), the objective coefficient of each pair."""
    weights: dict[str, dict[tuple[int, int], float]] = {"persons": {}}
    for term in instance.config.matching.priority:
        weights[term] = {}
    weights["quality"] = {}
    for c, own in found.eligible.items():
        case = found.cases[c]
        for i in own:
            weights["persons"][(c, i)] = float(case.size)
            for term in instance.config.matching.priority:
                weights[term][(c, i)] = float(
                    case.vulnerable if term == "vulnerable" else case.minors if term == "minors"
                    else case.size * found.waiting[c])
            weights["quality"][(c, i)] = case.size * found.score[(c, i)]
    return weights


@dataclass
class NaiveResult:
    stages: dict[str, float]
    finished: bool
    variables: int
    build_s: float
    stage_s: dict[str, float]
    note: str = ""


def case_variables(prob: pulp.LpProblem, found: Pairs, places: list[Place]
                   ) -> dict[tuple[int, int], pulp.LpVariable]:
    """One binary per (case, place it may take); each case placed at most once, a transferred
    case exactly once (`case[...]` rows)."""
    x = {(c, i): prob.add_variable(f"x[{found.cases[c].case_id},{places[i].key}]", 0, 1,
                                   cat=pulp.LpBinary)
         for c, own in found.eligible.items() for i in own}
    for c, own in found.eligible.items():
        row = pulp.lpSum(x[(c, i)] for i in own)
        case_id = found.cases[c].case_id
        prob += (row == 1 if case_id in found.transfers else row <= 1), f"case[{case_id}]"
    return x


def naive(instance: Instance, places: list[Place], time_limit_s: float | None = 600.0,
          balance_stage: bool = True) -> NaiveResult:
    """The naive model, stage by stage; stops at the first stage that is not proven optimal
    within the time limit (`finished` False). `balance_stage` False: no smallest-ratio
    balance stage (the joint split's balance is `naive_split`'s, on the joint places: ours
    solves no such stage on the split chosen either, it computes the ratio; solved here, on
    places the split fills exactly, it was an exact-fill MIP that did not finish in 600 s at
    10,000 bench persons)."""
    started = time.perf_counter()
    found = pairs(instance, places)
    prob = pulp.LpProblem("naive_matching", pulp.LpMaximize)
    x = case_variables(prob, found, places)
    by_place: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for c, own in found.eligible.items():
        for i in own:
            by_place[i].append((c, i))
    capacity: dict[str, int] = defaultdict(int)
    relocated: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for i, place in enumerate(places):
        capacity[place.location] += place.capacity
        if by_place[i]:
            prob += (pulp.lpSum(found.cases[c].size * x[(c, i)] for c, _ in by_place[i])
                     <= place.capacity, f"capacity[{place.key}]")
            relocated[place.location] += by_place[i]
    weights = stage_weights(instance, found)
    balance = prob.add_variable("balance", 0, 1)
    for location, cap in sorted(capacity.items()) if balance_stage else ():
        if cap:
            prob += (cap * balance <= pulp.lpSum(found.cases[c].size * x[(c, i)]
                                                 for c, i in relocated[location]),
                     f"balance[{location}]")
    build_s = time.perf_counter() - started
    order = ["persons", *(["balance"] if capacity and balance_stage else []),
             *instance.config.matching.priority, "quality"]
    objectives = {name: pulp.LpAffineExpression([(balance, 1.0)]) if name == "balance"
                  else pulp.LpAffineExpression(
                      [(x[key], w) for key, w in sorted(weights[name].items()) if w])
                  for name in order}
    return solve_stages(prob, objectives, len(x), build_s, time_limit_s)


def solve_stages(prob: pulp.LpProblem, objectives: dict[str, pulp.LpAffineExpression],
                 pairs: int, build_s: float, time_limit_s: float | None,
                 whole: bool = False) -> NaiveResult:
    """The naive model's lexicographic stages, in `objectives` order, each fixed before the
    next (HiGHS, no fallback); unfinished at the first stage without a proven optimum.
    `whole`: optima rounded to integers (stages counting persons)."""
    solver = Solver(SolverOptions("highs", time_limit_s, fallback=False))
    stages: dict[str, float] = {}
    stage_s: dict[str, float] = {}
    for name, objective in objectives.items():
        started = time.perf_counter()
        try:
            if objective.isNumericalConstant():
                best = float(objective.constant)  # nothing to choose: no pair weighs anything
            else:
                best = solver.stage(prob, name, objective, pulp.LpMaximize)
        except PlanError as exc:
            stage_s[name] = time.perf_counter() - started
            return NaiveResult(stages, False, pairs, build_s, stage_s, str(exc))
        stage_s[name] = time.perf_counter() - started
        record = solver.record()
        if record.status != "optimal":
            gap = record.gaps.get(name)
            bound = "" if gap is None else f", bound {best + gap * max(1.0, abs(best)):.1f}"
            return NaiveResult(stages, False, pairs, build_s, stage_s,
                               f"stage {name}: time limit ({time_limit_s:g} s) reached, best "
                               f"{best:.1f}{bound}")
        stages[name] = float(round(best)) if whole else best
    return NaiveResult(stages, True, pairs, build_s, stage_s)


def naive_split(instance: Instance, places: list[Place], split: Split,
                time_limit_s: float | None = 600.0) -> NaiveResult:
    """The joint split's stages (i) and (ii) (issue 18) in the naive model: one binary per
    (case, row and state it may serve), each row's persons over all its states within its
    total; persons relocated, then the persons within each balanced state's share of the
    balanced states' persons relocated, in proportion to need (planner.optimise.matching.shares),
    in one weighted objective as ours."""
    started = time.perf_counter()
    found = pairs(instance, places)
    prob = pulp.LpProblem("naive_split", pulp.LpMaximize)
    x = case_variables(prob, found, places)
    for pid, total in sorted(split.totals.items()):
        prob += (pulp.lpSum(found.cases[c].size * x[(c, i)] for (c, i) in x
                            if places[i].pledge_id == pid) <= total, f"total[{pid}]")
    states = sorted({found.cases[c].location for c in found.eligible
                     if split.needs.get(found.cases[c].location, 0.0) > 0})
    persons = {b: pulp.lpSum(found.cases[c].size * x[(c, i)] for (c, i) in x
                             if found.cases[c].location == b) for b in states}
    whole = math.fsum(split.needs[b] for b in states)
    covered = []
    for b in states:
        y = prob.add_variable(f"covered[{b}]", 0, None, cat=pulp.LpInteger)
        prob += y <= persons[b], f"own[{b}]"
        prob += (y <= (split.needs[b] / whole) * pulp.lpSum(persons.values()), f"share[{b}]")
        covered.append(y)
    build_s = time.perf_counter() - started
    relocated = pulp.lpSum(found.cases[c].size * v for (c, _), v in x.items())
    if not covered:
        return solve_stages(prob, {"persons": relocated}, len(x), build_s, time_limit_s,
                            whole=True)
    # Both stages in one weighted objective M x persons + covered (covered <= persons < M), as
    # ours (planner.optimise.matching.choose_split): the same optimum as persons fixed, then
    # the balance, which as two stages found no feasible balance in 600 s at 10,000 bench
    # persons (the fixed persons made it an exact-fill search over 48,509 binaries).
    big = float(sum(split.totals.values()) + 1)
    balance = pulp.lpSum(covered)
    result = solve_stages(prob, {"persons_balance": big * relocated + balance}, len(x), build_s,
                          time_limit_s, whole=True)
    if result.finished:
        result.stages = {"persons": float(round(pulp.value(relocated))),
                         "balance": float(round(pulp.value(balance)))}
    return result


def greedy(instance: Instance, places: list[Place], totals: dict[str, int] | None = None
           ) -> list[tuple[Case, Place]]:
    """Today's practice: by registration, each case into its best-scoring place with room.
    With `totals` (the joint split's places), a row's room is shared by its states."""
    found = pairs(instance, places)
    room = [p.capacity for p in places]
    shared = dict(totals or {})
    order = sorted(found.eligible, key=lambda c: (
        found.cases[c].case_id not in found.transfers,
        found.cases[c].registered or dt.date.max, found.cases[c].case_id))
    placed = []
    for c in order:
        case = found.cases[c]
        fits = [i for i in found.eligible[c] if room[i] >= case.size
                and shared.get(places[i].pledge_id, case.size) >= case.size]
        if not fits:
            continue
        best = max(fits, key=lambda i: (found.score[(c, i)], -i))
        room[best] -= case.size
        if places[best].pledge_id in shared:
            shared[places[best].pledge_id] -= case.size
        placed.append((case, places[best]))
    return placed


def outcome(placed: list[tuple[Case, str]]) -> dict[str, int]:
    """Persons relocated, vulnerable persons relocated, and persons placed in a state their
    case has a family or other link with (links honoured)."""
    return {"persons": sum(case.size for case, _ in placed),
            "vulnerable": sum(case.vulnerable for case, _ in placed),
            "links": sum(case.size for case, state in placed
                         if state in case.family_links or state in case.other_links)}


def same_optima(ours: dict[str, float], theirs: dict[str, float]) -> list[str]:
    """Stages where the two disagree (a stage ours skipped because no pair weighs anything
    must be 0 in the naive model)."""
    differ = []
    # The tie-break (issue 12) picks one plan among the optima: no naive counterpart.
    for name in sorted((set(ours) | set(theirs)) - {"tie_break"}):
        a, b = ours.get(name, 0.0), theirs.get(name, 0.0)
        if abs(a - b) > TOLERANCE * max(1.0, abs(a)):
            differ.append(f"{name}: ours {a!r}, naive {b!r}")
    return differ


def places_of(instance: Instance, tables: Tables
              ) -> tuple[list[Place], list[Place], Split | None]:
    """The places the baselines use: the plan's (distribution.csv); with the joint split
    (issue 18) the split chosen (the persons placed per row and state, where the later stages
    run), the joint places (each row's whole total for each state it may serve) and the split
    (row totals, needs), where stages (i) and (ii) run."""
    places = places_from(instance, [(r.pledge_id, r.beneficiary, r.amount)
                                    for r in tables.distribution])
    if instance.cases is None or instance.config.matching.split != "joint":
        return places, [], None
    split_places, split = joint_split(instance, {r.pledge_id: r.amount for r in tables.plan})
    used: dict[tuple[str, str], int] = defaultdict(int)
    for r in tables.assignments:
        used[(r.pledge_id, r.from_state)] += 1
    by_id = instance.pledges_by_id
    chosen = [Place(pid, by_id[pid].state, b, n, by_id[pid])
              for (pid, b), n in sorted(used.items())]
    return chosen, split_places, split


def naive_all(instance: Instance, places: list[Place], split_places: list[Place],
              split: Split | None, limit: float | None) -> NaiveResult:
    """Every stage in the naive model; with the joint split, stages (i) and (ii) on the
    joint places (`naive_split`), the others on the split chosen."""
    found = naive(instance, places, limit, balance_stage=split is None)
    if split is not None and found.finished:
        first = naive_split(instance, split_places, split, limit)
        found.stages.pop("balance", None)
        found.stages.update(first.stages)
        found.build_s += first.build_s
        found.stage_s.update({f"split_{k}": v for k, v in first.stage_s.items()})
        found.finished, found.note = first.finished, first.note
    return found


def compare(folder: Path, naive_limit: float | None, run_naive: bool) -> dict[str, object]:
    """Plan `folder` (our matching, timed), then the baselines on the same places."""
    from planner.inputs.load import load_instance
    from planner.pipeline import plan_with

    instance = load_instance(folder)
    timings: dict[str, float] = {}
    planned = plan_with(instance, SolverOptions(), timings=timings)
    tables, summary = planned.tables, planned.summary
    places, split_places, split = places_of(instance, tables)
    by_id = {c.case_id: c for c in instance.cases or ()}
    ours_placed = {(r.case_id, r.to_state) for r in tables.assignments}
    ours_stages = {k.removeprefix("matching_"): v for k, v in summary.objectives.items()
                   if k.startswith("matching_")}
    started = time.perf_counter()
    greedy_placed = greedy(instance, split_places, split.totals) if split is not None \
        else greedy(instance, places)
    greedy_s = time.perf_counter() - started
    result: dict[str, object] = {
        "persons": sum(case.size for case in by_id.values()),
        "ours": {"matching_s": timings.get("matching", 0.0), "stages": ours_stages,
                 **outcome([(by_id[c], s) for c, s in sorted(ours_placed)])},
        "greedy": {"seconds": greedy_s,
                   **outcome([(case, place.state) for case, place in greedy_placed])},
    }
    if run_naive:
        found = naive_all(instance, places, split_places, split, naive_limit)
        result["naive"] = {"finished": found.finished, "variables": found.variables,
                           "build_s": found.build_s, "stage_s": found.stage_s,
                           "seconds": found.build_s + math.fsum(found.stage_s.values()),
                           "stages": found.stages, "note": found.note,
                           "differ": same_optima(ours_stages, found.stages)
                           if found.finished else []}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("instance", type=Path)
    parser.add_argument("--naive-limit", type=float, default=600.0,
                        help="time limit per naive stage, seconds (default 600)")
    parser.add_argument("--no-naive", action="store_true", help="greedy only")
    args = parser.parse_args()
    print(json.dumps(compare(args.instance, args.naive_limit, not args.no_naive)))


if __name__ == "__main__":
    main()
