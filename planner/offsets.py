"""Responsibility offsets (Art. 63), rules section 5 [interp: every threshold a parameter].

Pledged relocations are read from the pledges, before planning: a state's pledged relocations
are the sum of its relocation rows' maxima (no maximum: its obligation), capped at its
obligation, so the trigger never depends on the plan it changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from models.instance import Instance, Measure
from planner.key import AD_HOC, CONTRIBUTOR, KeyRow


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


def pledged_relocations(instance: Instance, key: dict[str, KeyRow]) -> dict[str, float]:
    pledged: dict[str, float] = {}
    idle = set() if instance.config.benefitting.implement_pledges else set(instance.benefitting)
    for pledge in instance.pledges:
        # A benefitting state's pledge counts only when implemented (rules section 4); then
        # as an ad hoc contributor's does (no obligation: its fixed minimum).
        if pledge.measure is Measure.relocation and pledge.state not in idle:
            top = pledge.max if pledge.max is not None else math.inf
            pledged[pledge.state] = pledged.get(pledge.state, 0.0) + top
    return {code: min(amount, max(key[code].obligation, _fixed(instance, code)))
            for code, amount in sorted(pledged.items())}


def _fixed(instance: Instance, state: str) -> float:
    return sum(p.min for p in instance.pledges
               if p.state == state and p.measure is Measure.relocation)


def offset_capacity(instance: Instance) -> dict[str, float]:
    capacity: dict[str, float] = {}
    for pledge in instance.pledges:
        if pledge.measure is Measure.offset:
            top = pledge.max if pledge.max is not None else math.inf
            capacity[pledge.state] = capacity.get(pledge.state, 0.0) + top
    return capacity


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


def assess_offsets(instance: Instance, key: dict[str, KeyRow]) -> OffsetsReport:
    """Whether voluntary offsets are allowed and whether mandatory offsets are triggered."""
    config, pool = instance.config.offsets, instance.config.pool
    pledged = pledged_relocations(instance, key)
    total = math.fsum(pledged.values())
    voluntary_threshold = config.voluntary_share * pool.relocations
    pool_allowed = total >= voluntary_threshold - 1e-9
    allowed_states = tuple(
        code for code, row in key.items()
        if row.role in (CONTRIBUTOR, AD_HOC) and row.obligation > 0
        and (pool_allowed or pledged.get(code, 0.0) >= config.voluntary_share * row.obligation
             - 1e-9)
    )
    if config.mandatory_basis == "needs":
        basis = math.fsum(n.amount for n in instance.needs if n.measure is Measure.relocation)
    else:
        basis = float(pool.relocations)
    threshold = config.mandatory_share * basis
    triggered = total < threshold - 1e-9
    gap = math.ceil(round(threshold - total, 9)) if triggered else 0
    mandatory: dict[str, int] = {}
    if gap:
        capacity = offset_capacity(instance)
        caps = {
            code: int(min(max(row.obligation - pledged.get(code, 0.0), 0.0),
                          capacity.get(code, 0.0)))
            for code, row in key.items() if row.role == CONTRIBUTOR
        }
        weights = {code: key[code].share for code in caps}
        mandatory = spread_by_key(gap, weights, caps)
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
        unallocated=gap - sum(mandatory.values()),
    )
