"""Match cases to places (Arts 67-68, rules section 7): families whole, balanced, explained.

Cases that are interchangeable for the model (same location, size, eligible places, scores,
unaccompanied minors, vulnerable persons, waiting band, transfer) form a class; a transferred
case is placed in every solution, so its priority terms are constants added outside the model
and do not split its class. The model chooses how many cases of each class go where, and cases
are then taken from each class in a fixed order (earliest `registered`, then case id).
Lexicographic stages, each fixed before the next:
  (i)   persons relocated;
  (ii)  balance: with a fixed split, the smallest ratio, over benefitting states, of persons
        relocated to places (fixed by stage (i)); with the joint split, the persons within
        each state's need-proportional share (below);
  (iii) priority, in `matching.priority` order (default: unaccompanied minors, then vulnerable
        persons, each counted per person by its own `unaccompanied_minor` and `vulnerable`
        cells, then waiting time per person in whole bands of `matching.waiting_band_days`
        days);
  (iv)  placement quality: family links, other links, language, preferences (weights);
  then the tie-break (issue 12): among the plans worth every optimum, the one of the largest
  sum of fixed pseudo-random integer weights by column position (`tie_weights`), so that HiGHS
  and CBC choose the same cases and places. Integer weights keep the stage exact (its
  optimum fixed as an integer, like the others'); they are as spread as the objective's size
  allows (up to 1,000,000 apart; about 20,000 at the monthly re-run's 16,000 cases), so two
  plans tie only if a combination of weights cancels exactly. Only for models of at most
  TIE_BREAK_COLUMNS columns (the speed cost is there).

The split of places over benefitting states (issue 18, `matching.split`, Art. 60(2)):
  fixed:  the distribution splits each relocation row's places over the benefitting states
          before the matching (planner.optimise.distribution), and the matching takes them as they
          are; a row whose profile fits no candidate of the state it landed on stays empty.
  joint (the default where candidates are known): a row offers its whole total to every
          state it may serve (directed pledges, needs: `distribution.joint_split`), and
          stages (i) and (ii) choose how many persons each row takes from each state, on one
          model of every state (`choose_split`): the selection model below, plus a row per
          pledge row (`total[...]`: its persons over all its states within its total). Stage
          (ii) there is the persons within each balanced state's share (`shares`: the
          balanced states' persons relocated, in proportion to relocation need, rounded
          down), the largest sum; a balanced state has a positive relocation need and a case
          some place may take (`balanced`). Both stages in one exact weighted objective
          M x persons + covered (covered <= persons < M), then the tie-break when every
          later model gets its own (`on_split`: otherwise the plan is the back-end's choice
          anyway, and the split is too), so that every back-end takes the same split. The
          split chosen (persons per row and state) becomes the places of the later stages,
          solved per state as with a fixed split (`fixed_split`): stages (iii) and (iv) are
          optimal for that split, not over every split as good in (i)-(ii) (two such splits
          can differ widely in quality).
          The distribution then takes those persons as floors and spreads each row's places
          left empty by its own rules, so distribution.csv reports the split used.
  Why two phases: the fully joint model (every stage on one model of every state) has a
  degenerate LP relaxation (a row's places move freely between states), so reduced-cost
  fixing fixes nothing and its stages are whole-model MIPs, many times slower. For speed the
  split's optimum is fixed as two rows (persons, covered persons; `Model.replace_fix`), the
  later stages run on full places (`_Location.full`: capacity rows as equalities, the first
  priority term fixed alone), classes are merged on the split chosen (`fixed_split`) and the
  states' later stages run two at a time (`MATCHING_THREADS`). The measurements: bench/
  README.md, "Moved from docstrings (issue 13)" and "Speed of the joint split".

How the stages are solved, all exactly (every stage proven optimal, no time-limit shortcut):
- per benefitting state: the states' problems share nothing (`solve_counts`);
- stages (i) and (iii) on a smaller but equivalent model (`define_selection`): classes alike but
  for their scores are one kind (the scores only enter stage (iv)), and places that exactly the
  same classes may use form a group; the model takes cases per (kind, group) and counts the
  cases of each size per place (`define_sizes`). Every place of a group takes every case the
  group takes, so the size counts are an exact packing: no bin-packing check, no fallback;
- stage (iv) on the classes (`define_placement`), but a class has one column per group, at its
  lowest score there, and a column per place only where it scores more;
- each stage through its LP bound and reduced-cost fixing (`Solver.maximise`,
  planner.optimise.highs_stages), its optimum fixed exactly before the next;
- stage (iv) has a column for every (class, group) pair (leaving out those that reduced-cost
  fixing called unused parted the back-ends' tie-breaks: issue 12).

Why grouping and reduced-cost fixing together: the plain MIPs (one column per (class,
place), the earlier stages fixed as dense rows) spent most of their time in HiGHS's domain
propagation over those rows; each device alone helped, both together solve every stage at
30,000 persons in about a second, with the same stage optima. A MIP start from the previous
stage gained nothing (and HiGHS 1.16 with a MIP start and presolve once returned the start as
"optimal": planner.optimise.solve keeps starts away from presolve). The measurements, stage
by stage: bench/README.md, "Moved from docstrings (issue 13)".
Symmetry among identical places: once grouped, only a group's size counts are symmetric, and
HiGHS's symmetry detection on or off changed nothing measurable, so no constraints were added.
"""
from __future__ import annotations

import datetime as dt
import math
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np

from models.cases import Case
from models.instance import Instance
from planner.optimise.eligibility import Place, may_take, official_languages, profiles, quality
from planner.optimise.highs_stages import Model
from planner.optimise.solve import Solver

ClassKey = tuple[object, ...]


@dataclass
class Clock:
    """Seconds per step, added up over the benefitting states (summary.json `timings_s`)."""

    seconds: dict[str, float]
    lock: threading.Lock = field(default_factory=threading.Lock)  # states solved in threads

    @contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            with self.lock:
                self.seconds[step] = self.seconds.get(step, 0.0) + time.perf_counter() - started


@dataclass(frozen=True)
class Assignment:
    case: Case
    place: Place
    score: float
    reasons: tuple[str, ...]


@dataclass
class MatchResult:
    assignments: list[Assignment]
    unassigned: list[tuple[Case, str]]
    stages: dict[str, float] = field(default_factory=dict)
    classes: int = 0


@dataclass(frozen=True)
class Split:
    """The joint split (issue 18): each relocation row's places (`totals`, from the pool plan)
    go to the benefitting states it may serve (one Place per (row, state), of the row's whole
    capacity) as the matching decides; `needs` are the states' relocation needs, the balance
    stage's weights."""

    totals: dict[str, int]
    needs: dict[str, float]


@dataclass
class CaseClass:
    """Interchangeable cases and what the model needs to know of them."""

    key: ClassKey
    location: str
    size: int
    minors: int
    vulnerable: int
    waiting: int
    places: tuple[int, ...]  # indices into the place list
    scores: tuple[float, ...]
    fixed: bool  # transferred cases: all of them must be placed
    cases: list[Case] = field(default_factory=list)
    # Transferred classes only: their cases' minors, vulnerable persons and persons x waiting
    # bands, a constant of every stage (`minors`, `vulnerable` and `waiting` are then 0 in
    # the model).
    constant: dict[str, int] = field(
        default_factory=lambda: {"minors": 0, "vulnerable": 0, "waiting": 0})

    def weight(self, term: str) -> int:
        """A case's contribution to a priority term (per case: persons counted inside)."""
        if term == "waiting":
            return self.size * self.waiting
        return self.minors if term == "minors" else self.vulnerable


Scorer = Callable[[Case, str], tuple[float, tuple[str, ...]]]


def wishes(case: Case) -> tuple[object, ...]:
    """What a case's score in a state depends on (eligibility.quality)."""
    return (case.family_links, case.other_links, case.languages, case.preferences)


def scorer(instance: Instance) -> Scorer:
    """`eligibility.quality` of a case in a state, computed once per distinct wishes and state
    (many cases share them; frozensets cache their hash)."""
    languages, weights = official_languages(), instance.config.matching.quality
    scored: dict[tuple[object, ...], tuple[float, tuple[str, ...]]] = {}

    def score(case: Case, state: str) -> tuple[float, tuple[str, ...]]:
        key = (*wishes(case), state)
        found = scored.get(key)
        if found is None:
            found = scored[key] = quality(case, state, languages, weights)
        return found
    return score


def scoring_states() -> Callable[[Case], frozenset[str]]:
    """The states where a case may score anything (`eligibility.quality`: its family and
    other links, its preferences, the states where one of its languages is official);
    everywhere else its score is 0.0 exactly, with no need to ask. Re-plan bench: 133,043
    (case, place) pairs, most of them scoring nothing; asking only these took the scores
    from 0.11 s to 0.03 s. The language part is computed once per distinct language set."""
    speaking: dict[str, set[str]] = defaultdict(set)
    for state, spoken in official_languages().items():
        for language in spoken:
            speaking[language].add(state)
    by_languages: dict[frozenset[str], frozenset[str]] = {}

    def states(case: Case) -> frozenset[str]:
        spoken = by_languages.get(case.languages)
        if spoken is None:
            spoken = by_languages[case.languages] = frozenset().union(
                *(speaking.get(language, ()) for language in case.languages))
        return spoken | case.family_links | case.other_links | frozenset(case.preferences)
    return states


def eligible_places(places: list[Place], transfers: dict[str, str],
                    rejected: set[tuple[str, str]]) -> Callable[[Case], tuple[int, ...] | str]:
    """Which places a case may take (indices into `places`; a transferred case: its state's
    places at its location), or the reason code of a case left out (blocked, or no eligible
    place). Computed once per distinct profile (or location and transfer state), since
    eligibility depends on a few attributes only, shared by many cases (at 300,000 persons,
    once per case took 10 s)."""
    by_location: dict[str, list[int]] = defaultdict(list)
    for index, place in enumerate(places):
        by_location[place.location].append(index)
    profile = profiles(rejected)
    known: dict[tuple[object, ...], tuple[int, ...]] = {}

    def eligible(case: Case) -> tuple[int, ...] | str:
        state = transfers.get(case.case_id)
        if state is None and case.blocked:
            return case.blocked
        key = profile(case) if state is None else (case.location, state)
        found = known.get(key)
        if found is None:
            found = known[key] = tuple(
                i for i in by_location[case.location]
                if (may_take(case, places[i], rejected) if state is None
                    else places[i].state == state))
        return found or "no_eligible_place"
    return eligible


def build_classes(instance: Instance, cases: list[Case], places: list[Place],
                  transfers: dict[str, str], rejected: set[tuple[str, str]], score: Scorer
                  ) -> tuple[list[CaseClass], list[tuple[Case, str]]]:
    """Group placeable cases into classes; the others get their reason code."""
    dates = [c.registered for c in cases if c.registered is not None]
    today = max(dates) + dt.timedelta(days=1) if dates else dt.date(instance.config.cycle, 1, 1)
    band = instance.config.matching.waiting_band_days
    eligible_of = eligible_places(places, transfers, rejected)
    scoring = scoring_states()
    state_of = [place.state for place in places]
    classes: dict[ClassKey, CaseClass] = {}
    left_out: list[tuple[Case, str]] = []
    # Scores, like eligibility, are computed once per distinct value; wishes key them by value
    # (hashing frozensets is cached by Python).
    score_cache: dict[tuple[object, ...], tuple[float, ...]] = {}
    for case in cases:
        eligible = eligible_of(case)
        if isinstance(eligible, str):
            left_out.append((case, eligible))
            continue
        wanted = (*wishes(case), eligible)
        scores = score_cache.get(wanted)
        if scores is None:
            some = scoring(case)
            scores = score_cache[wanted] = tuple(
                score(case, state_of[i])[0] if state_of[i] in some else 0.0 for i in eligible)
        # Whole bands of `band` days waited (0 when the date is unknown).
        waiting = 0 if case.registered is None else max((today - case.registered).days, 0) // band
        _join_class(classes, case, eligible, scores, waiting, case.case_id in transfers)
    return _in_order(classes.values()), left_out


def _in_order(classes: Collection[CaseClass]) -> list[CaseClass]:
    """Each class's cases by `registered` then case id; the classes by their first case."""
    for cls in classes:
        cls.cases.sort(key=lambda c: (c.registered or dt.date.max, c.case_id))
    return sorted(classes, key=lambda c: c.cases[0].case_id)


def _join_class(classes: dict[ClassKey, CaseClass], case: Case, eligible: tuple[int, ...],
                scores: tuple[float, ...], waiting: int, fixed: bool) -> None:
    """Add `case` to its class (made when new). A transferred case (`fixed`) is placed in any
    solution, at its state's places, all at one score: its priority terms add the same to
    every solution (`constant`), so its class need not tell them apart (a monthly re-run's
    14,762 transferred cases made 3,850 classes keyed by them, 595 without)."""
    size = len(case.persons)
    minors, vulnerable, band_in_model = ((0, 0, 0) if fixed
                                         else (case.minors, case.vulnerable, waiting))
    key = (case.location, size, eligible, scores, minors, vulnerable, band_in_model, fixed)
    cls = classes.get(key)
    if cls is None:
        cls = classes[key] = CaseClass(key, case.location, size, minors, vulnerable,
                                       band_in_model, eligible, scores, fixed)
    cls.cases.append(case)
    if fixed:
        cls.constant["minors"] += case.minors
        cls.constant["vulnerable"] += case.vulnerable
        cls.constant["waiting"] += size * waiting


def place_groups(eligible: dict[int, list[int]]) -> list[tuple[int, ...]]:
    """Places that exactly the same classes may use, in place order: interchangeable for every
    stage whose objective depends on the case alone (persons, priority terms)."""
    users: dict[int, list[int]] = defaultdict(list)
    for k, own in eligible.items():
        for i in own:
            users[i].append(k)
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for i in sorted(users):
        groups[tuple(users[i])].append(i)
    return [tuple(g) for g in groups.values()]


# The tie-break's objective stays below this (exact in doubles to HiGHS's 1e-6 gap).
TIE_BUDGET = 1e9
# Largest model (columns) given the tie-break. Measured (2 cores, loaded): eu-2026 0.14 s in
# all, the monthly re-run 0.05 s (561 columns at most), the 30,000-person bench 21 s (ES:
# 5,707 columns, 15.8 s; IT: 7,859, 4.2 s; EL: 2,846, 0.75 s) against 2.6 s for its quality
# stage: pseudo-random weights leave the LP far from integral. Above this the assignments
# are the back-end's own choice among equally good ones (a warning says so).
TIE_BREAK_COLUMNS = 2_000


def tie_break(solver: Solver, model: Model, location: str, cases: int, per_case: int,
              lifted: dict[int, int] | None = None, derived: Collection[int] = ()
              ) -> float | None:
    """The tie-break stage on the last model of a location, when small enough. `lifted`:
    columns that stand for themselves plus another column (`define_placement`'s `at`, whose
    cases are also in their group's `in`), weighted by both; `derived`: columns that only sum
    others (`fix_by_type`), weighted 0 and not counted. Both keep the objective the one on
    the columns before those changes (so the same plan)."""
    columns = len(model.upper) - len(derived)
    if columns > TIE_BREAK_COLUMNS:
        solver.notes.append(
            f"matching {location}: no tie-break ({columns:,} columns, more than "
            f"{TIE_BREAK_COLUMNS:,}); the assignments are {solver.used}'s choice among "
            "equally good ones and may differ on another back-end")
        return None
    if not solver.tie_breaks:  # the joint split is the back-end's choice (`on_split`)
        return None
    weights = tie_weights(model, cases, per_case)
    for column, base in (lifted or {}).items():
        weights[column] += weights[base]
    for column in derived:
        del weights[column]
    return solver.maximise(model, f"tie_break_{location}", weights)


def tie_weights(model: Model, cases: int, columns_per_case: int) -> dict[int, float]:
    """Pseudo-random integer weights, one per column by position (splitmix64 of the
    position): fixed by the model's layout, which the inputs' sorted ids fix. A solution
    holds at most `columns_per_case` x `cases` in its columns, so the objective stays below
    TIE_BUDGET."""
    spread = int(max(2, min(1_000_000, TIE_BUDGET // max(1, columns_per_case * cases))))
    z = np.arange(len(model.upper), dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    weights = 1 + (z % np.uint64(spread)).astype(np.int64)
    return {j: float(w) for j, w in enumerate(weights)}


@dataclass
class _Location:
    """One benefitting state's matching problem: classes, their usable places, place groups."""

    classes: list[CaseClass]
    members: list[int]  # classes with at least one usable place
    eligible: dict[int, list[int]]  # usable places (case size within capacity) per class
    places: list[Place]
    groups: list[tuple[int, ...]]
    totals: dict[str, int] = field(default_factory=dict)  # the joint split's row totals
    # The split chosen (`fixed_split`): every place holds exactly its capacity in some
    # solution, the split's own, so the most persons fill every place (`define_sizes`).
    full: bool = False
    group_of: dict[int, int] = field(default_factory=dict)
    sizes: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.group_of = {i: g for g, own in enumerate(self.groups) for i in own}
        self.sizes = sorted({self.classes[k].size for k in self.members})

    def shared(self) -> dict[str, list[int]]:
        """The joint split: each row's used places when it has several (states)."""
        rows: dict[str, list[int]] = defaultdict(list)
        for i in sorted(self.group_of):
            if self.places[i].pledge_id in self.totals:
                rows[self.places[i].pledge_id].append(i)
        return {pid: own for pid, own in sorted(rows.items()) if len(own) > 1}

    def class_groups(self, k: int) -> list[int]:
        return sorted({self.group_of[i] for i in self.eligible[k]})

    def label(self, g: int) -> str:
        """A group by its first place (groups share no place)."""
        return self.places[self.groups[g][0]].key


def _location(classes: list[CaseClass], members: Iterable[int], places: list[Place],
              totals: dict[str, int] | None = None, full: bool = False) -> _Location | None:
    """The problem of `members` (classes) on `places`: each class's places it fits in (None
    when no class fits anywhere)."""
    eligible = {k: own for k in members
                if (own := [i for i in classes[k].places
                            if classes[k].size <= places[i].capacity])}
    if not eligible:
        return None
    return _Location(classes, sorted(eligible), eligible, places, place_groups(eligible),
                     totals or {}, full)


def _kinds(loc: _Location, priority: bool) -> list[list[int]]:
    """Classes alike but for their scores (and, unless `priority`, their priority terms), in
    class order: one kind each."""
    kinds: dict[ClassKey, list[int]] = defaultdict(list)
    for k in loc.members:
        c = loc.classes[k]
        terms = (c.minors, c.vulnerable, c.waiting) if priority else ()
        kinds[(c.size, *terms, tuple(loc.class_groups(k)), c.fixed)].append(k)
    return list(kinds.values())


def define_sizes(model: Model, loc: _Location, cases: dict[tuple[int, int], list[int]]
                 ) -> dict[tuple[int, int], int]:
    """size[s,place]: cases of s persons in a place; the cases of s persons a group takes fill
    its places (`size[s,group]`), persons within capacity (`capacity[place]`). Within a group
    every place may take every case the group takes, so these counts are an exact packing."""
    sizes: dict[tuple[int, int], int] = {}
    for g, own in enumerate(loc.groups):
        for s in loc.sizes:
            if (s, g) not in cases:
                continue
            for i in own:
                sizes[(s, i)] = model.column(f"size[{s},{loc.places[i].key}]",
                                             loc.places[i].capacity // s)
            columns = cases[(s, g)] + [sizes[(s, i)] for i in own]
            model.row(f"size[{s},{loc.label(g)}]", 0, 0, columns,
                      [1.0] * len(cases[(s, g)]) + [-1.0] * len(own))
    for i in sorted(loc.group_of):
        sized = [(s, sizes[(s, i)]) for s in loc.sizes if (s, i) in sizes]
        if sized:
            # On the split chosen every place is full in every solution of stage (i) (the
            # split's own fills them all, and persons are maximised first): saying so exactly
            # (capacity as an equality) gives the later stages the same optima, and HiGHS
            # finds their integer solutions at once (30,000 bench persons: vulnerable, ES
            # 1.8 s -> 0.2 s, EL 1.3 s -> 0.07 s; with `<=` rows the root's heuristics
            # searched for an exact packing the LP did not show).
            full = loc.places[i].capacity if loc.full else -math.inf
            model.row(f"capacity[{loc.places[i].key}]", full, loc.places[i].capacity,
                      [c for _, c in sized], [float(s) for s, _ in sized])
    for pid, own_places in loc.shared().items():
        # The joint split: a row's persons over all its states within its places.
        used = [(s, sizes[(s, i)]) for i in own_places for s in loc.sizes if (s, i) in sizes]
        model.row(f"total[{pid}]", -math.inf, loc.totals[pid], [c for _, c in used],
                  [float(s) for s, _ in used])
    return sizes


def define_selection(model: Model, loc: _Location, kinds: list[list[int]]
                     ) -> tuple[dict[tuple[int, int], int], dict[tuple[int, int], int]]:
    """take[kind,group]: cases of a kind (classes alike but for their scores) a group takes;
    each kind at most its cases (`kind[n]`), transferred kinds exactly."""
    take: dict[tuple[int, int], int] = {}
    by_size: dict[tuple[int, int], list[int]] = defaultdict(list)
    for n, kind in enumerate(kinds):
        first = loc.classes[kind[0]]
        cases = sum(len(loc.classes[k].cases) for k in kind)
        own = []
        for g in loc.class_groups(kind[0]):
            take[(n, g)] = model.column(f"take[{n},{loc.label(g)}]", cases)
            by_size[(first.size, g)].append(take[(n, g)])
            own.append(take[(n, g)])
        model.row(f"kind[{n}]", cases if first.fixed else -math.inf, cases, own,
                  [1.0] * len(own))
    return take, define_sizes(model, loc, by_size)


def define_placement(model: Model, loc: _Location) -> tuple[
        dict[tuple[int, int], int], dict[tuple[int, int], int], dict[tuple[int, int], int],
        dict[int, float], dict[int, int], int]:
    """For placement quality: rest[class,group] cases of a class in a group scored at the
    class's lowest score there; at[class,place] cases of it placed where it scores more, scored
    there. A class's cases in a group are its rest there plus its `at` there. Exact: a
    solution's cases can be laid out so, and any other layout only scores more.

    Written with rest = in - sum(at) rather than in[class,group] and a row per (class, group)
    `at <= in` (the two are one linear change of columns: the same integer solutions, the
    same optima, an objective given on `in` and `at` is the same objective on `rest` and
    `at`, see `group_of_at`): no such row, so half the rows. The placement LPs at 300,000
    bench persons (places growing): IT 16.5 s -> 3.7 s, ES 8.5 s -> 3.4 s, the same optima.
    Returns rest, at, the size columns, the quality per column in units of 1/unit
    (`scaled_scores`), per `at` column its class's `rest` column in that group
    (`group_of_at`), and the unit."""
    rest: dict[tuple[int, int], int] = {}
    at: dict[tuple[int, int], int] = {}
    quality: dict[int, float] = {}
    group_of_at: dict[int, int] = {}
    unit, worth = scaled_scores(loc)
    by_size: dict[tuple[int, int], list[int]] = defaultdict(list)
    named: dict[tuple[int, int], list[int]] = defaultdict(list)
    for k in loc.members:
        cls = loc.classes[k]
        score = dict(zip(cls.places, cls.scores, strict=True))
        n = len(cls.cases)
        own = []
        for g in loc.class_groups(k):
            column = rest[(k, g)] = model.column(f"rest[{k},{loc.label(g)}]", n)
            by_size[(cls.size, g)].append(column)
            own.append(column)
            there = [i for i in loc.eligible[k] if loc.group_of[i] == g]
            low = min(score[i] for i in there)
            quality[column] = cls.size * worth[low]
            for i in there:
                if score[i] > low:
                    at[(k, i)] = model.column(f"at[{k},{loc.places[i].key}]", n)
                    quality[at[(k, i)]] = cls.size * worth[score[i]]
                    group_of_at[at[(k, i)]] = column
                    named[(cls.size, i)].append(at[(k, i)])
                    by_size[(cls.size, g)].append(at[(k, i)])
                    own.append(at[(k, i)])
        model.row(f"class[{k}]", n if cls.fixed else -math.inf, n, own, [1.0] * len(own))
    sizes = define_sizes(model, loc, by_size)
    for (s, i), own in sorted(named.items()):
        model.row(f"placed[{s},{loc.places[i].key}]", -math.inf, 0, own + [sizes[(s, i)]],
                  [1.0] * len(own) + [-1.0])
    return rest, at, sizes, quality, group_of_at, unit


# Scores are sums of the quality weights and preference weight / rank, rounded to 9 decimals
# (planner.optimise.eligibility.quality): as fractions of denominator up to this they are
# exact (two such fractions lie 1e-6 apart or more, the rounding moved them 5e-10 at most).
SCORE_DENOMINATOR = 1_000
QUALITY_UNIT = 100_000  # the largest common denominator used


def quality_unit(scores: Iterable[float]) -> int:
    """The common denominator of `scores` as exact fractions (`exact`); 1 when some score is
    no such fraction or the denominator would exceed QUALITY_UNIT (the costs then stay as they
    are: not integral)."""
    unit = 1
    for score in sorted(set(scores)):
        fraction = exact(score)
        if not isinstance(fraction, Fraction):
            return 1
        unit = math.lcm(unit, fraction.denominator)
        if unit > QUALITY_UNIT:
            return 1
    return unit


def exact(score: float) -> Fraction | float:
    """A score as the fraction of denominator up to SCORE_DENOMINATOR it stands for, or as
    it is when there is none."""
    fraction = Fraction(score).limit_denominator(SCORE_DENOMINATOR)
    return fraction if abs(float(fraction) - score) <= 1e-9 * max(1.0, abs(score)) else score


def scaled_scores(loc: _Location) -> tuple[int, dict[float, float]]:
    """The location's scores in units of 1/`quality_unit`: whole numbers when there is such a
    unit, so the quality stage is an integral objective, fixed exactly, and a region's optimum
    one unit below the target is the stage's (planner.optimise.highs_stages). With the scores
    as floats rounded to 9 decimals (2/3 as 0.666666667) the re-plan bench's ES took two
    regions where one proves it (0.44 s, then 1.05 s). Returns the unit and each score's
    value in it."""
    scores = {s for k in loc.members for s in loc.classes[k].scores}
    unit = quality_unit(scores)
    if unit == 1:
        return 1, {score: score for score in scores}
    return unit, {score: float(round(exact(score) * unit)) for score in scores}


# Benefitting states solved at once (threads: HiGHS releases the GIL while it solves, and every
# state has its own highspy model; HiGHS runs single-threaded, so two threads use 2 cores).
# Measured at 300,000 bench persons, places growing (2 cores): the matching 28.1 s -> 19.9 s
# (its per-state stages 15.5 s of solving, ES's 8 s the longest), the same tables byte for
# byte. Only with HiGHS (CBC, the fallback, solves one state at a time).
MATCHING_THREADS = 2


def solve_counts(instance: Instance, classes: list[CaseClass], places: list[Place],
                 solver: Solver, clock: Clock | None = None, full: bool = False
                 ) -> tuple[dict[tuple[int, int], int], dict[str, float]]:
    """Solve the stages per benefitting state, then add them up. `full`: the places are the
    joint split's chosen (`fixed_split`), each filled exactly by some solution.

    Every place serves one benefitting state and every case is in one, so the locations'
    problems share no variable and no constraint: a lexicographic optimum of the sum is the
    sum of the locations' lexicographic optima, and stage (ii), the smallest ratio of persons
    relocated to places, is then fixed by stage (i) and computed rather than solved.
    """
    counts: dict[tuple[int, int], int] = {}
    stages: dict[str, float] = defaultdict(float)
    relocated: dict[str, float] = defaultdict(float)
    capacity: dict[str, int] = defaultdict(int)
    for place in places:
        capacity[place.location] += place.capacity
    by_location: dict[str, list[int]] = defaultdict(list)
    for k, cls in enumerate(classes):
        by_location[cls.location].append(k)
    clock = clock or Clock({})
    locations = sorted(capacity)
    solver.backend(presolve=False)  # chosen once, before any thread
    workers = min(MATCHING_THREADS, len(locations), len(os.sched_getaffinity(0)))
    if solver.used != "highs" or workers < 2:
        solved = [_solve_location(instance, classes, by_location[b], places, solver, b, clock,
                                  full) for b in locations]
    else:
        # Each state on its own copy of the solver (its notes, stages, gaps), merged below in
        # state order, so the outputs do not depend on which thread finished first.
        own = {b: solver.fork() for b in locations}
        largest = sorted(locations, key=lambda b: (-len(by_location[b]), b))
        with ThreadPoolExecutor(workers) as pool:
            futures = {b: pool.submit(_solve_location, instance, classes, by_location[b],
                                      places, own[b], b, clock, full) for b in largest}
            solved = [futures[b].result() for b in locations]
        for b in locations:
            solver.absorb(own[b])
    for location, (found, values) in zip(locations, solved, strict=True):
        counts.update(found)
        for name, amount in values.items():
            stages[name] += amount
        relocated[location] = values.get("persons", 0.0)
    if capacity:
        stages["balance"] = min(relocated[b] / capacity[b] for b in capacity if capacity[b])
    return counts, _stage_order(instance, stages)


def _stage_order(instance: Instance, stages: dict[str, float]) -> dict[str, float]:
    order = ["persons", "balance", *instance.config.matching.priority, "quality", "tie_break"]
    return {name: stages[name] for name in order if name in stages}


def balanced(classes: list[CaseClass], places: list[Place], split: Split) -> list[str]:
    """The joint split's balance (stage ii) is over the benefitting states with a positive
    relocation need and a case that some place may take (a case larger than every place it
    may take counts as none): a state no place can serve has no ratio to raise."""
    return sorted({c.location for c in classes
                   if split.needs.get(c.location, 0.0) > 0
                   and any(c.size <= places[i].capacity for i in c.places)})


def shares(persons: dict[str, int], needs: dict[str, float]) -> dict[str, int]:
    """Each balanced state's share of the persons relocated, in proportion to its relocation
    need, in whole persons rounded down (exact fractions: the verifier computes the same)."""
    total = sum(persons.values())
    whole = sum(Fraction(n) for n in needs.values())
    return {b: math.floor(total * Fraction(n) / whole) for b, n in needs.items()}


def _add_shares(model: Model, columns: list[tuple[int, str, float]], needs: dict[str, float]
                ) -> list[int]:
    """Stage (ii)'s columns: per balanced state, `covered[b]` persons up to both its persons
    relocated and its share, in proportion to need, of the balanced states' persons
    relocated (`shares`);
    `columns` are (column, state, persons per unit). Their sum is the stage's objective."""
    whole = math.fsum(needs.values())
    everyone = [(c, w) for c, state, w in columns if state in needs]
    covered = []
    for b, need in needs.items():
        mine = [(c, w) for c, state, w in columns if state == b]
        column = model.column(f"covered[{b}]", math.fsum(model.upper[c] * w for c, w in mine))
        model.row(f"own[{b}]", -math.inf, 0.0, [column] + [c for c, _ in mine],
                  [1.0] + [-w for _, w in mine])
        # Fractional coefficients: the row's slack need not be whole, so reduced-cost fixing
        # must not make it tight (planner.optimise.highs_stages: a region could lose every
        # solution).
        model.row(f"share[{b}]", -math.inf, 0.0, [column] + [c for c, _ in everyone],
                  [1.0] + [-w * need / whole for _, w in everyone], tightenable=False)
        covered.append(column)
    return covered


@dataclass
class SplitChoice:
    """The joint split's stages (i) and (ii) solved (`choose_split`): the model with the
    back-end's optimum (its persons per place: `take`), so that the tie-break can be run on
    it (`tie_break`) when the later stages make it worth its time (`on_split`)."""

    model: Model | None = None
    size_columns: dict[tuple[int, int], int] = field(default_factory=dict)
    cases: int = 0

    def take(self) -> dict[int, int]:
        """The persons per (joint) place of the model's solution."""
        chosen = self.model.solution if self.model is not None else None
        persons: dict[int, int] = defaultdict(int)
        if chosen is not None:
            for (size, i), column in self.size_columns.items():
                persons[i] += size * int(round(chosen[column]))
        return dict(persons)

    def tie_break(self, solver: Solver) -> dict[int, int]:
        """The tie-break among splits worth the optimum, so that every back-end takes the
        same split (`tie_break`); returns its persons per place."""
        if self.model is not None:
            tie_break(solver, self.model, "split", self.cases, 2)
        return self.take()


def choose_split(classes: list[CaseClass], places: list[Place], solver: Solver,
                 split: Split, states: list[str], clock: Clock) -> SplitChoice:
    """Stages (i) and (ii) with the joint split, on one model of every state (a row's places
    are shared by its states): persons relocated, then the balance, in one exact weighted
    objective M x persons + covered (covered <= persons < M, so the most persons come first;
    fixing persons as a row and then maximising the balance is the same optimum, but made
    every later stage an exact-fill MIP of 35-100 s at 10,000 persons). The tie-break is
    left to `SplitChoice.tie_break` (`on_split` runs it when the later stages have theirs).
    `states`: the balanced ones (`balanced`)."""
    loc = _location(classes, range(len(classes)), places, totals=split.totals)
    if loc is None:
        return SplitChoice()
    kinds = _kinds(loc, priority=False)
    model = Model("matching_split")
    needs = {b: split.needs[b] for b in states}
    with clock("matching_build"):
        take, size_columns = define_selection(model, loc, kinds)
        firsts = [(column, classes[kinds[n][0]]) for (n, _), column in take.items()]
        covered = _add_shares(model, [(c, cls.location, float(cls.size)) for c, cls in firsts],
                              needs)
    big = float(sum(split.totals.values()) + 1)
    cost = {c: big * cls.size for c, cls in firsts}
    cost.update(dict.fromkeys(covered, 1.0))
    with clock("matching_solve_split"):
        # Its LP is nearly integral: the LP solution's neighbourhood holds the optimum
        # (planner.optimise.highs_stages, `near`).
        solver.maximise(model, "split", cost, near=True)
        # The optimum fixed as two rows, persons and covered persons, rather than one row of
        # M x persons + covered: the same solutions in integers (covered <= persons < M),
        # but HiGHS's root propagation over the one row of coefficients 1 to M x size took
        # most of the tie-break's time (300,000 bench persons: 8.9 s -> 6.2 s; 30,000:
        # 1.9 s -> 0.7 s; the same optimum).
        chosen = model.solution
        assert chosen is not None
        weights = [(c, float(cls.size)) for c, cls in firsts]
        model.replace_fix("split", [
            ("fix_split_persons", float(sum(w * round(chosen[c]) for c, w in weights)),
             [c for c, _ in weights], [w for _, w in weights]),
            ("fix_split_balance", float(sum(round(chosen[c]) for c in covered)), covered,
             [1.0] * len(covered))])
    return SplitChoice(model, size_columns, sum(len(classes[k].cases) for k in loc.members))


def on_split(instance: Instance, classes: list[CaseClass], places: list[Place],
             solver: Solver, clock: Clock, choice: SplitChoice
             ) -> tuple[list[CaseClass], list[Place], dict[tuple[int, int], int],
                        dict[str, float]]:
    """The later stages, per state, on the split chosen (`fixed_split`), with the tie-breaks
    when they make the plan the same on every back-end: only when every state's last model
    gets its own (`tie_break`: at most TIE_BREAK_COLUMNS columns), and then the split's too.
    The models' sizes depend on the split, so they are counted (`last_columns`, no model
    built) on the back-end's own split: when a state's model is too large, that split is the
    plan, with no tie-break anywhere (a state's plan depends on the split, then the
    back-end's choice too, and a note says so; re-plan bench: the split's tie-break was
    0.8-1.9 s of a 4-5 s run, a small state's 0.2 s); otherwise the split is tie-broken and
    the later stages run on it with their tie-breaks. Every stage optimum but the
    tie-breaks' is the same either way. The decision is each back-end's own: near the limit,
    one back-end's split could lead to a model over it and another's not."""
    # Full places make placing nobody infeasible, a time-limited stage's last resort
    # (planner.optimise.highs_stages): with a time limit the places keep `<=` rows (slower,
    # the same optima).
    full = not solver.options.time_limit_s
    split_classes, split_places = fixed_split(classes, places, choice.take())
    with clock("matching_build"):
        large = [b for b, columns in last_columns(split_classes, split_places).items()
                 if columns > TIE_BREAK_COLUMNS]
    if choice.model is not None and not large:
        with clock("matching_solve_split"):
            persons = choice.tie_break(solver)
        split_classes, split_places = fixed_split(classes, places, persons)
        counts, stages = solve_counts(instance, split_classes, split_places, solver, clock,
                                      full)
        return split_classes, split_places, counts, stages
    own = solver.fork()
    own.tie_breaks = False
    counts, stages = solve_counts(instance, split_classes, split_places, own, clock, full)
    if large:
        own.notes.append(
            f"matching: no tie-break of the joint split or of any state's assignments (the "
            f"last models of {', '.join(large)} have more than {TIE_BREAK_COLUMNS:,} "
            f"columns); the split of places over benefitting states and every assignment "
            f"are {solver.used}'s choice among equally good ones and may differ on another "
            "back-end")
    solver.absorb(own)
    return split_classes, split_places, counts, stages


def last_columns(classes: list[CaseClass], places: list[Place]) -> dict[str, int]:
    """Per benefitting state, the columns of its last model as `tie_break` counts them,
    counted without building it: the placement model's (`define_placement`: a `rest` per
    class and group, an `at` per place where the class scores above its lowest there) when
    some class scores somewhere, else the selection model's (`define_selection`: a `take`
    per kind and group), plus the size columns of either (`define_sizes`: per group, a column
    per place for each size of case it may take). tests/test_joint_split.py checks the
    counts against the models built."""
    by_location: dict[str, list[int]] = defaultdict(list)
    for k, cls in enumerate(classes):
        by_location[cls.location].append(k)
    counted: dict[str, int] = {}
    for location in sorted({p.location for p in places}):
        _, members, left = settle(classes, by_location[location], places)
        loc = _location(classes, members, left)
        counted[location] = 0 if loc is None else _columns(loc)
    return counted


def _columns(loc: _Location) -> int:
    """The count of `last_columns` for one location."""
    sized = {(loc.classes[k].size, g) for k in loc.members for g in loc.class_groups(k)}
    columns = sum(len(loc.groups[g]) for _, g in sized)
    if not _scored(loc):
        return columns + sum(len(loc.class_groups(kind[0]))
                             for kind in _kinds(loc, priority=True))
    for k in loc.members:
        score = dict(zip(loc.classes[k].places, loc.classes[k].scores, strict=True))
        low: dict[int, float] = {}
        for i in loc.eligible[k]:
            g = loc.group_of[i]
            low[g] = min(low.get(g, score[i]), score[i])
        columns += len(low) + sum(score[i] > low[loc.group_of[i]] for i in loc.eligible[k])
    return columns


def _scored(loc: _Location) -> bool:
    """Whether some class scores at some usable place (placement quality, stage (iv))."""
    return any(loc.classes[k].scores[loc.classes[k].places.index(i)] for k in loc.members
               for i in loc.eligible[k])


def fixed_split(classes: list[CaseClass], places: list[Place], persons: dict[int, int]
                ) -> tuple[list[CaseClass], list[Place]]:
    """The classes and places of the split chosen (`choose_split`): a place per (row, state)
    given persons, of that capacity; each class keeps those of its places (and scores).
    Classes told apart only by places the split left empty become one class (their cases are
    interchangeable for every later stage): fewer columns in the later stages' models
    (30,000 bench persons: IT's placement model 9,930 columns instead of 15,031)."""
    kept = sorted(i for i, n in persons.items() if n > 0)
    at = {i: n for n, i in enumerate(kept)}
    new_places = [Place(places[i].pledge_id, places[i].state, places[i].location, persons[i],
                        places[i].pledge) for i in kept]
    merged: dict[ClassKey, CaseClass] = {}
    for cls in classes:
        own = [(at[i], score) for i, score in zip(cls.places, cls.scores, strict=True)
               if i in at]
        eligible, scores = tuple(i for i, _ in own), tuple(sc for _, sc in own)
        key = (cls.location, cls.size, eligible, scores, cls.minors, cls.vulnerable,
               cls.waiting, cls.fixed)
        found = merged.setdefault(key, replace(cls, key=key, places=eligible, scores=scores,
                                               cases=[], constant=dict.fromkeys(cls.constant, 0)))
        found.cases += cls.cases
        for term, amount in cls.constant.items():
            found.constant[term] += amount
    return _in_order(merged.values()), new_places


def _solve_location(instance: Instance, classes: list[CaseClass], members: list[int],
                    places: list[Place], solver: Solver, location: str, clock: Clock,
                    full: bool = False
                    ) -> tuple[dict[tuple[int, int], int], dict[str, float]]:
    settled, members, places = settle(classes, members, places)
    counts, stages = _solve_open(instance, classes, members, places, solver, location, clock,
                                 full)
    if settled:
        counts.update(settled)
        for (k, i), n in settled.items():
            cls = classes[k]
            stages["persons"] = stages.get("persons", 0.0) + n * cls.size
            score = exact(cls.scores[cls.places.index(i)])
            if score:
                stages["quality"] = stages.get("quality", 0.0) + float(n * cls.size * score)
        add_constants(instance, [classes[k] for k, _ in settled], stages)
        stages = _stage_order(instance, stages)
    return counts, stages


def settle(classes: list[CaseClass], members: list[int], places: list[Place]
           ) -> tuple[dict[tuple[int, int], int], list[int], list[Place]]:
    """Transferred classes with one place they may take: placed there before the model, their
    persons taken off its capacity (they are in every solution, there). The rest of the
    model is the same problem for the others: those places hold what is left. Returns the
    settled counts per (class, place), the other classes and the places left."""
    settled: dict[tuple[int, int], int] = {}
    left = list(places)
    for k in members:
        cls = classes[k]
        persons = len(cls.cases) * cls.size
        # Where they do not fit, the model says so (no plan), as it did before.
        if cls.fixed and len(cls.places) == 1 and persons <= left[cls.places[0]].capacity:
            i = cls.places[0]
            settled[(k, i)] = len(cls.cases)
            left[i] = replace(left[i], capacity=left[i].capacity - persons)
    done = {k for k, _ in settled}
    return settled, [k for k in members if k not in done], left


def _solve_open(instance: Instance, classes: list[CaseClass], members: list[int],
                places: list[Place], solver: Solver, location: str, clock: Clock,
                full: bool = False
                ) -> tuple[dict[tuple[int, int], int], dict[str, float]]:
    loc = _location(classes, members, places, full=full)
    if loc is None:
        return {}, {}
    # Stages (i) and (iii) look at cases only: classes alike but for their scores are one kind.
    kinds = _kinds(loc, priority=True)
    selection = Model(f"matching_{location}")
    with clock("matching_build"):
        take, size_columns = define_selection(selection, loc, kinds)

    def per_kind(weight: dict[int, float]) -> dict[int, float]:
        return {column: weight[kinds[n][0]] for (n, _), column in take.items()}

    stages, fixed = _selection_stages(instance, members, loc, selection, per_kind, solver,
                                      location, clock)
    cases = sum(len(classes[k].cases) for k in loc.members)
    scored = _scored(loc)
    tied = None
    if not scored:  # the selection is the last model: its tie-break
        with clock("matching_solve_tie_break"):
            tied = tie_break(solver, selection, location, cases, 2)
    chosen = selection.solution
    assert chosen is not None  # the stages above solved the model
    sizes = {key: int(chosen[column]) for key, column in size_columns.items()}
    into = _split(loc, kinds, {key: int(chosen[column]) for key, column in take.items()})
    at: dict[tuple[int, int], int] = {}
    if scored:
        # Every (class, group) pair gets a placement column. Until issue 12 the pairs that
        # reduced-cost fixing at the selection's optima called unused were left out (about
        # 85% at 300,000 persons), but on eu-2026, IT, a plan worth every optimum used one
        # (tie-break optimum 587,313,227 without those pairs, 689,541,040 with them, as CBC
        # and PuLP-HiGHS found), so the back-ends parted; see git history for that code.
        into, at, sizes, stages["quality"], tied = _place(
            solver, loc, location, fixed, into, sizes, clock, cases)
    if tied is not None:
        stages["tie_break"] = tied
    add_constants(instance, [classes[k] for k in loc.members], stages)
    return _realise(loc, into, at, sizes), stages


def add_constants(instance: Instance, classes: Iterable[CaseClass], stages: dict[str, float]
                  ) -> None:
    """Transferred cases' priority terms (`CaseClass.constant`): the same in every solution,
    so left out of the model and added to the stages' values here."""
    for term in instance.config.matching.priority:
        constant = sum(cls.constant[term] for cls in classes)
        if constant:
            stages[term] = stages.get(term, 0.0) + constant


def _selection_stages(instance: Instance, members: list[int], loc: _Location, selection: Model,
                      per_kind: Callable[[dict[int, float]], dict[int, float]], solver: Solver,
                      location: str, clock: Clock
                      ) -> tuple[dict[str, float], list[tuple[str, dict[int, float], float]]]:
    """Stages (i) and (iii) of a location on its selection model: the persons placed and the
    priority terms. Returns the stages' values and the optima the placement model fixes."""
    classes = loc.classes
    persons = {k: float(classes[k].size) for k in members}
    weights = {term: {k: float(classes[k].weight(term)) for k in members}
               for term in instance.config.matching.priority}
    terms = [t for t in instance.config.matching.priority if any(weights[t].values())]
    stages: dict[str, float] = {}
    fixed: list[tuple[str, dict[int, float], float]] = []  # for the placement model
    if terms:
        # Stages (i) and the first priority term in one exact weighted objective: the first
        # term's largest possible value is below M, so M * persons + term is maximised by the
        # most persons first. Fixing persons alone and then maximising the term is the same
        # optimum, but exact-fill constraints made that MIP far slower (measured: 26 s
        # against 0.8 s for 6,300 variables).
        first = terms[0]
        big = math.fsum(weights[first][k] * len(classes[k].cases) for k in members) + 1.0
        combined = {k: big * persons[k] + weights[first][k] for k in members}
        name = f"persons_{first}_{location}"
        with clock("matching_solve_persons"):
            fixed.append((name, combined, solver.maximise(selection, name, per_kind(combined))))
        chosen = selection.solution
        stages["persons"] = float(selection.dense(per_kind(persons)) @ chosen)
        stages[first] = float(selection.dense(per_kind(weights[first])) @ chosen)
        if loc.full:
            # Full places hold the same persons in every solution, so the optimum is the
            # first term's alone: fixed so, without coefficients up to M x size (as the
            # split's: HiGHS's propagation over them was slow).
            used = [(c, w) for c, w in per_kind(weights[first]).items() if w]
            selection.replace_fix(name, [(f"fix_{first}_{location}", stages[first],
                                          [c for c, _ in used], [w for _, w in used])])
            fixed[-1] = (f"{first}_{location}", weights[first], stages[first])
        for term in terms[1:]:
            name = f"{term}_{location}"
            with clock(f"matching_solve_{term}"):
                stages[term] = solver.maximise(selection, name, per_kind(weights[term]))
            fixed.append((name, weights[term], stages[term]))
    else:
        name = f"persons_{location}"
        with clock("matching_solve_persons"):
            stages["persons"] = solver.maximise(selection, name, per_kind(persons))
        fixed.append((name, persons, stages["persons"]))
    return stages, fixed


def _split(loc: _Location, kinds: list[list[int]], taken: dict[tuple[int, int], int]
           ) -> dict[tuple[int, int], int]:
    """Cases per (class, group) from cases per (kind, group): the kind's classes in order."""
    into: dict[tuple[int, int], int] = {}
    left = {k: len(loc.classes[k].cases) for kind in kinds for k in kind}
    for (n, g), count in sorted(taken.items()):
        for k in kinds[n]:
            share = min(count, left[k])
            if share:
                into[(k, g)] = into.get((k, g), 0) + share
                left[k] -= share
                count -= share
    return into


def _place(solver: Solver, loc: _Location, location: str,
           fixed: list[tuple[str, dict[int, float], float]],
           start_into: dict[tuple[int, int], int], start_sizes: dict[tuple[int, int], int],
           clock: Clock, cases: int
           ) -> tuple[dict[tuple[int, int], int], dict[tuple[int, int], int],
                      dict[tuple[int, int], int], float, float | None]:
    """Stage (iv): the best placement quality among selections worth the earlier optima;
    then the tie-break among those."""
    model = Model(f"placement_{location}")
    with clock("matching_build"):
        rest, at, size_columns, quality, group_of_at, unit = define_placement(model, loc)
        own: dict[int, list[int]] = defaultdict(list)
        for (k, _), column in [*rest.items(), *at.items()]:
            own[k].append(column)
        types = fix_by_type(model, loc, fixed, own)
    # A size column exists wherever the start places a case.
    start = {rest[key]: n for key, n in start_into.items()}
    start |= {column: sum(start.get(c, 0) for c in members)
              for column, members in types.items()}
    model.solution = model.dense(start | {size_columns[key]: n
                                          for key, n in start_sizes.items() if n})
    with clock("matching_solve_quality"):
        best = solver.maximise(model, f"quality_{location}", quality) / unit
    with clock("matching_solve_tie_break"):
        tied = tie_break(solver, model, location, cases, 3, group_of_at, set(types))
    chosen = model.solution
    into = {key: int(round(chosen[c])) for key, c in rest.items()}
    for (k, i), c in at.items():
        into[(k, loc.group_of[i])] += int(round(chosen[c]))
    return ({key: n for key, n in into.items() if n > 0},
            {key: int(chosen[c]) for key, c in at.items() if chosen[c] > 0.5},
            {key: int(chosen[c]) for key, c in size_columns.items()}, best, tied)


def fix_by_type(model: Model, loc: _Location, fixed: list[tuple[str, dict[int, float], float]],
                own: dict[int, list[int]]) -> dict[int, list[int]]:
    """The earlier stages' optima (`fixed`: name, weight per class, optimum) on the placement
    model. Classes of the same weights in every one of them are one type, counted by a column
    `type[...]` (its classes' cases placed: a row `count[...]` over their columns, `own`); the
    optima are rows over those counts. The same solutions as rows over every class's columns,
    but short rows instead of long ones (ES at the re-plan bench: 151 types for 5,000 classes,
    the quality region 1.76 s -> 0.61 s, HiGHS's root node cuts and propagation over the long
    rows). Returns each count column's own columns."""
    types: dict[tuple[float, ...], list[int]] = defaultdict(list)
    for k in loc.members:
        key = tuple(weight[k] for _, weight, _ in fixed)
        if any(key):
            types[key].append(k)
    count: dict[tuple[float, ...], int] = {}
    members: dict[int, list[int]] = {}
    for n, (key, classes) in enumerate(sorted(types.items())):
        columns = [c for k in classes for c in own[k]]
        count[key] = model.column(f"type[{n}]", sum(len(loc.classes[k].cases) for k in classes))
        members[count[key]] = columns
        model.row(f"count[{n}]", 0, 0, columns + [count[key]],
                  [1.0] * len(columns) + [-1.0])
    for f, (name, _, best) in enumerate(fixed):
        used = [(column, key[f]) for key, column in sorted(count.items()) if key[f]]
        model.row(f"fix_{name}", best, math.inf, [c for c, _ in used], [w for _, w in used])
    return members


def _realise(loc: _Location, into: dict[tuple[int, int], int], at: dict[tuple[int, int], int],
             sizes: dict[tuple[int, int], int]) -> dict[tuple[int, int], int]:
    """Cases per (class, place): the named placements, then each place's other cases of each
    size from its group's remaining cases of that size, classes in order."""
    counts: dict[tuple[int, int], int] = dict(at)
    pool: dict[tuple[int, int], list[list[int]]] = defaultdict(list)
    named: dict[tuple[int, int], int] = defaultdict(int)  # per (class, group)
    named_here: dict[tuple[int, int], int] = defaultdict(int)  # per (size, place)
    for (k, i), count in at.items():
        named[(k, loc.group_of[i])] += count
        named_here[(loc.classes[k].size, i)] += count
    for (k, g), count in sorted(into.items()):
        if count - named[(k, g)] > 0:
            pool[(loc.classes[k].size, g)].append([k, count - named[(k, g)]])
    for (s, i), count in sorted(sizes.items(), key=lambda item: (item[0][1], item[0][0])):
        free = count - named_here[(s, i)]
        queue = pool[(s, loc.group_of[i])]
        while free > 0:
            k, left = queue[0]
            share = min(free, left)
            counts[(k, i)] = counts.get((k, i), 0) + share
            free -= share
            queue[0][1] -= share
            if queue[0][1] == 0:
                queue.pop(0)
    if any(queue for queue in pool.values()):
        raise AssertionError("placement left cases without a place")
    return counts


def match(instance: Instance, cases: list[Case], places: list[Place],
          transfers: dict[str, str], rejected: set[tuple[str, str]],
          solver: Solver, timings: dict[str, float] | None = None, split: Split | None = None
          ) -> MatchResult:
    """Assign cases to places; every case ends in an assignment or with a reason. `timings`
    gets the seconds of eligibility, model building and each stage's solve. With `split`, the
    places are the joint split's (`eligibility.joint_places`: a row's whole capacity per
    state it may serve) and each row's persons stay within its total."""
    clock = Clock({} if timings is None else timings)
    score = scorer(instance)
    with clock("matching_eligibility"):
        classes, left_out = build_classes(instance, cases, places, transfers, rejected, score)
    if split is None:
        counts, stages = solve_counts(instance, classes, places, solver, clock)
    else:
        # Stages (i) and (ii) on every state at once choose the split; the later stages then
        # run per state on it, exactly as with a split fixed beforehand.
        states = balanced(classes, places, split)
        choice = choose_split(classes, places, solver, split, states, clock)
        classes, places, counts, stages = on_split(instance, classes, places, solver, clock,
                                                   choice)
        # Stage (ii) is the joint split's: the persons within each state's share of all
        # persons relocated, in proportion to its relocation need (`shares`).
        stages.pop("balance", None)
        if states:
            relocated: dict[str, int] = defaultdict(int)
            for (k, _), count in counts.items():
                relocated[classes[k].location] += count * classes[k].size
            share = shares({b: relocated[b] for b in states},
                           {b: split.needs[b] for b in states})
            # The split's value, unless a later stage stopped at a time limit short of it.
            stages["balance"] = float(sum(min(relocated[b], share[b]) for b in states))
        stages = _stage_order(instance, stages)
    assignments: list[Assignment] = []
    unassigned = list(left_out)
    for k, cls in enumerate(classes):
        queue = iter(cls.cases)
        for i in cls.places:
            for _ in range(counts.get((k, i), 0)):
                case = next(queue)
                points, reasons = score(case, places[i].state)
                if case.case_id in transfers:
                    reasons = ("transfer", *reasons)
                # `vulnerable` and `unaccompanied_minor` are per person
                # (planner.optimise.assignments).
                assignments.append(Assignment(case, places[i], points, reasons))
        unassigned += [(case, "capacity") for case in queue]
    assignments.sort(key=lambda a: a.case.case_id)
    unassigned.sort(key=lambda item: item[0].case_id)
    return MatchResult(assignments, unassigned, stages, len(classes))
