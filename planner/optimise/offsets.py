"""Responsibility offsets (Art. 63), rules section 5: thresholds against the Commission's
proposal, voluntary and mandatory offsets, and the benefitting state each offset counts toward.

Pledged relocations are read from the pledges, before planning: a state's pledged relocations
are the sum of its relocation rows' maxima (no maximum: its obligation), capped at its
obligation, so the trigger never depends on the plan it changes.

- Voluntary, pool-wide (63(1)) [law]: the pledged relocations reach `offsets.voluntary_share`
  x the PROPOSAL's relocation number (`[proposal] relocations`, Art. 12), not the Council's.
- Voluntary, per contributor (63(2)(b)) [law]: its pledged relocations reach
  `voluntary_share` x its obligation. The benefitting state must agree (63(2)) [law]: the
  states in `offsets.refused_by` do not, and no voluntary offset counts toward them.
- A state's offsets are voluntary when it may offset voluntarily (either rule above, or any
  state when `offsets.enforce_voluntary` is false: the thresholds are then reported, not
  enforced, as 2026 practice accepted Germany's offsets [practice]) and some benefitting state
  that agrees may receive them. Voluntary offsets stay voluntary: they count toward closing the
  mandatory gap and are never relabelled mandatory.
- Mandatory (63(3)) [law "up to the higher of the two numbers"; the two numbers interp]: (a)
  `mandatory_share` x the relocation needs of the proposal (needs.csv's relocation rows), (b)
  `mandatory_proposal_share` x the proposal's relocation number; `mandatory_basis` `higher`
  (default) takes the higher one, `needs` (a), `proposal` (b). Triggered when the pledged
  relocations fall below it; the gap (threshold - pledged relocations) is first closed by the
  voluntary offsets, and only what remains is spread by key over the other contributors.
- Each contributor's part (`owed`) is capped, as Art. 63(3) caps it, by its fair share
  (obligation) minus its pledged relocations and by the persons present on its territory for
  whom benefitting states are responsible (responsibility.csv, when given) [law]; what no cap
  takes is `unallocated`. A state's part does not grow because another pledged no offset row.
  The plan takes offsets only from pledge rows, so it enforces `mandatory` = the part its
  offset rows can hold (their maxima) and reports the rest as `unplanned` (owed, not planned:
  the state pledged no, or too small, offset rows).
- responsibility.csv also decides to which benefitting state an offset counts: only along its
  (state, benefitting) pairs, at most its persons per pair (`offset_targets`, `pair_persons`).
  Without the file, offsets count toward no benefitting state (distribution.csv: empty
  beneficiary).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field

from models.instance import Instance, Measure, Pledge
from planner.optimise.key import AD_HOC, CONTRIBUTOR, KeyRow


@dataclass(frozen=True)
class OffsetsReport:
    voluntary_share: float
    voluntary_threshold: float
    pledged_relocations: float
    voluntary_allowed: bool
    voluntary_allowed_states: tuple[str, ...]
    mandatory_share: float
    mandatory_basis: str
    mandatory_threshold: float
    mandatory_triggered: bool
    gap: int
    mandatory: dict[str, int] = field(default_factory=dict)
    unallocated: int = 0
    proposal_relocations: int = 0
    refused_by: tuple[str, ...] = ()
    voluntary_states: tuple[str, ...] = ()
    voluntary: dict[str, int] = field(default_factory=dict)
    remaining_gap: int = 0
    mandatory_proposal_share: float = 1.0
    relocation_needs: float = 0.0
    threshold_needs: float = 0.0
    threshold_proposal: float = 0.0
    mandatory_binding: str = ""
    caps: dict[str, int] = field(default_factory=dict)
    responsibility_given: bool = False
    # Art. 63(3): each contributor's part of the gap left by the voluntary offsets (by key,
    # within its two caps), and the part of it no offset row of the state can hold.
    owed: dict[str, int] = field(default_factory=dict)
    unplanned: dict[str, int] = field(default_factory=dict)


def not_implemented(instance: Instance) -> set[str]:
    """The benefitting states whose pledges are accepted, not implemented (rules section 4 [law];
    all of them unless `benefitting.implement_pledges`)."""
    return set() if instance.config.benefitting.implement_pledges else set(instance.benefitting)


def pledged_relocations(instance: Instance, key: dict[str, KeyRow]) -> dict[str, float]:
    # A benefitting state's pledge counts only when implemented (rules section 4); then as an
    # ad hoc contributor's does (no obligation: its fixed minimum).
    pledged = _maxima(instance, Measure.relocation, not_implemented(instance))
    return {code: min(amount, max(key[code].obligation, _fixed(instance, code)))
            for code, amount in sorted(pledged.items())}


def _fixed(instance: Instance, state: str, measure: Measure = Measure.relocation) -> float:
    return sum(p.min for p in instance.pledges if p.state == state and p.measure is measure)


def _maxima(instance: Instance, measure: Measure, idle: Collection[str] = ()
            ) -> dict[str, float]:
    """Per state (but `idle` ones), the sum of its `measure` rows' maxima (inf: no maximum)."""
    total: dict[str, float] = {}
    for pledge in instance.pledges:
        if pledge.measure is measure and pledge.state not in idle:
            top = pledge.max if pledge.max is not None else math.inf
            total[pledge.state] = total.get(pledge.state, 0.0) + top
    return total


def pair_persons(instance: Instance) -> dict[tuple[str, str], int]:
    """responsibility.csv as (state, benefitting) -> persons; empty without the file."""
    return {(r.state, r.benefitting): int(r.persons) for r in instance.responsibility or ()}


def offset_targets(instance: Instance, pledge: Pledge, voluntary: Collection[str]
                   ) -> list[str]:
    """The benefitting states an offset row's offsets may count toward (rules section 5): a
    pair of responsibility.csv with persons, within the row's `beneficiary` list, and, for a
    state whose offsets are voluntary, a benefitting state that agrees (Art. 63(2)). None
    without responsibility.csv."""
    persons = pair_persons(instance)
    allowed = list(pledge.beneficiary) or sorted(instance.benefitting)
    refused = set(instance.config.offsets.refused_by) if pledge.state in voluntary else set()
    return [b for b in allowed if persons.get((pledge.state, b), 0) > 0 and b not in refused]


def _reachable(instance: Instance, state: str) -> set[str]:
    """The benefitting states a state's offset rows may serve (their beneficiary lists)."""
    found: set[str] = set()
    for p in instance.pledges:
        if p.state == state and p.measure is Measure.offset:
            found |= set(p.beneficiary or instance.benefitting)
    return found


def spread_by_key(total: int, weights: dict[str, float], caps: dict[str, int]) -> dict[str, int]:
    """Water-fill `total` persons over states in proportion to `weights`, each within its cap;
    whole persons by largest remainder, ties by state code."""
    alloc = {code: 0.0 for code in weights}
    active = {c for c in weights if weights[c] > 0 and caps.get(c, 0) > 0}
    remaining = float(min(total, sum(caps.get(c, 0) for c in active)))
    target = remaining
    while active and remaining > 1e-9:
        weight = math.fsum(weights[c] for c in active)
        full = {c for c in active if alloc[c] + remaining * weights[c] / weight >= caps[c]}
        if not full:
            for c in active:
                alloc[c] += remaining * weights[c] / weight
            break
        for c in full:
            remaining -= caps[c] - alloc[c]
            alloc[c] = float(caps[c])
        active -= full
    whole = {c: math.floor(round(a, 9)) for c, a in alloc.items()}
    left = int(round(target)) - sum(whole.values())
    order = sorted((c for c in alloc if whole[c] < caps.get(c, 0)),
                   key=lambda c: (-(alloc[c] - whole[c]), c))
    for c in order[:max(left, 0)]:
        whole[c] += 1
    return {c: n for c, n in sorted(whole.items()) if n > 0}


def mandatory_thresholds(instance: Instance) -> tuple[float, float, float, float, str]:
    """Art. 63(3): (relocation needs, number (a), number (b), the threshold, which binds).
    (a) = mandatory_share x the relocation needs of the proposal (needs.csv); (b) =
    mandatory_proposal_share x the proposal's relocation number; `higher` takes the higher
    ("both" when equal), `needs` (a), `proposal` (b)."""
    config = instance.config.offsets
    needs = math.fsum(n.amount for n in instance.needs if n.measure is Measure.relocation)
    a = config.mandatory_share * needs
    b = config.mandatory_proposal_share * instance.config.proposal_relocations
    binding: str = config.mandatory_basis
    if binding == "higher":
        binding = "needs" if a > b else "proposal" if b > a else "both"
    return needs, a, b, {"needs": a, "proposal": b, "both": a}[binding], binding


def assess_offsets(instance: Instance, key: dict[str, KeyRow]) -> OffsetsReport:
    """Whether voluntary offsets are allowed, which pledged offsets are voluntary, whether
    mandatory offsets are triggered and each contributor's mandatory part (Art. 63)."""
    config = instance.config.offsets
    proposal = instance.config.proposal_relocations
    pledged = pledged_relocations(instance, key)
    total = math.fsum(pledged.values())
    voluntary_threshold = config.voluntary_share * proposal
    pool_allowed = total >= voluntary_threshold - 1e-9
    allowed_states = tuple(
        code for code, row in key.items()
        if row.role in (CONTRIBUTOR, AD_HOC) and row.obligation > 0
        and (pool_allowed or pledged.get(code, 0.0) >= config.voluntary_share * row.obligation
             - 1e-9)
    )
    persons = pair_persons(instance)
    given = instance.responsibility is not None
    capacity = _maxima(instance, Measure.offset)
    agreeing = set(instance.benefitting) - set(config.refused_by)

    def persons_toward(code: str, targets: set[str]) -> float:
        return float(sum(n for (s, b), n in persons.items() if s == code and b in targets)) \
            if given else math.inf

    voluntary_states, voluntary = [], {}
    for code, row in key.items():
        if row.role not in (CONTRIBUTOR, AD_HOC) or capacity.get(code, 0.0) <= 0:
            continue
        if config.enforce_voluntary and code not in allowed_states:
            continue
        targets = _reachable(instance, code) & agreeing
        toward = persons_toward(code, targets)
        if not targets or toward <= 0:
            continue  # no benefitting state that agrees (and, with the file, has persons)
        voluntary_states.append(code)
        room = max(row.obligation - pledged.get(code, 0.0), _fixed(instance, code,
                                                                   Measure.offset))
        counted = math.floor(round(min(capacity[code], room, toward), 9))
        if counted > 0:
            voluntary[code] = counted
    needs, a, b, threshold, binding = mandatory_thresholds(instance)
    triggered = total < threshold - 1e-9
    gap = math.ceil(round(threshold - total, 9)) if triggered else 0
    remaining = max(0, gap - sum(voluntary.values()))
    # Art. 63(3)'s two caps: fair share minus pledged relocations, and (responsibility.csv) the
    # persons on the state's territory. What a state owes does not depend on whether it, or
    # anyone else, pledged offset rows.
    caps = {
        code: math.floor(round(min(max(row.obligation - pledged.get(code, 0.0), 0.0),
                                   persons_toward(code, set(instance.benefitting))), 9))
        for code, row in key.items()
        if row.role == CONTRIBUTOR and code not in voluntary_states
    }
    owed: dict[str, int] = {}
    if remaining:
        owed = spread_by_key(remaining, {code: key[code].share for code in caps}, caps)
    # The plan takes offsets only from pledge rows: it enforces what a state's offset rows can
    # hold, within the persons of the pairs those rows may serve, and the rest is reported as
    # owed but not planned.
    mandatory: dict[str, int] = {}
    for code, n in owed.items():
        room = min(capacity.get(code, 0.0), persons_toward(code, _reachable(instance, code)))
        held = n if math.isinf(room) else min(n, math.floor(round(room, 9)))
        if held > 0:
            mandatory[code] = held
    return OffsetsReport(
        voluntary_share=config.voluntary_share,
        voluntary_threshold=voluntary_threshold,
        pledged_relocations=total,
        voluntary_allowed=pool_allowed,
        voluntary_allowed_states=allowed_states,
        mandatory_share=config.mandatory_share,
        mandatory_basis=config.mandatory_basis,
        mandatory_threshold=threshold,
        mandatory_triggered=triggered,
        gap=gap,
        mandatory=mandatory,
        unallocated=remaining - sum(owed.values()),
        owed=owed,
        unplanned={c: n - mandatory.get(c, 0) for c, n in owed.items()
                   if n > mandatory.get(c, 0)},
        proposal_relocations=proposal,
        refused_by=tuple(config.refused_by),
        voluntary_states=tuple(voluntary_states),
        voluntary=voluntary,
        remaining_gap=remaining,
        mandatory_proposal_share=config.mandatory_proposal_share,
        relocation_needs=needs,
        threshold_needs=a,
        threshold_proposal=b,
        mandatory_binding=binding,
        caps={c: n for c, n in sorted(caps.items()) if n > 0},
        responsibility_given=given,
    )
