"""Fair shares and obligations: the reference key of Art. 66 and Annex I (rules sections 2-4).

share_i = sum_c w_c * x_ic / sum_j x_jc over the participating states (Annex I: 50 % population,
50 % GDP by default). Benefitting states stay in the denominator and keep their share, which is
not passed on (2026 practice) unless `key.redistribute`. The obligation in relocation-equivalents
is share * relocations * (1 - deduction) (Arts 61-62), rounded per `pool.rounding`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from models.instance import Instance, Rounding

CONTRIBUTOR, BENEFITTING, AD_HOC, NOT_PARTICIPATING = (
    "contributor", "benefitting", "ad_hoc", "not_participating")


@dataclass(frozen=True)
class KeyRow:
    """A state's place in the key: shares, deduction and obligation (relocation-equivalents)."""

    state: str
    role: str
    share_computed: float
    share_official: float | None
    share: float
    deduction: float
    obligation_exact: float
    obligation: float


def computed_shares(instance: Instance) -> dict[str, float]:
    """Annex I: the weighted indicator shares over the participating states."""
    participants = [s for s in instance.states if s.participates]
    shares = {s.code: 0.0 for s in instance.states}
    for column, weight in instance.config.key.weights.items():
        total = math.fsum(s.indicator(column) for s in participants)
        for state in participants:
            shares[state.code] += weight * state.indicator(column) / total
    return shares


def _roles(instance: Instance) -> dict[str, str]:
    pledging = {p.state for p in instance.pledges}
    return {s.code: BENEFITTING if s.benefitting else CONTRIBUTOR if s.participates
            else AD_HOC if s.code in pledging else NOT_PARTICIPATING
            for s in instance.states}


def round_obligations(exact: dict[str, float], rounding: Rounding) -> dict[str, float]:
    """Rules section 3: `ceil` (the 2026 annex), Hamilton's largest remainder, or none."""
    # Shares come from floating-point sums: 0.2 * 21000 must stay 4200, not become 4201.
    clean = {code: round(value, 9) for code, value in exact.items()}
    if rounding is Rounding.none:
        return clean
    if rounding is Rounding.ceil:
        return {code: float(math.ceil(value)) for code, value in clean.items()}
    total = math.floor(math.fsum(clean.values()) + 0.5)
    floors = {code: math.floor(value) for code, value in clean.items()}
    left = total - sum(floors.values())
    # Largest remainders first; ties by state code so the result is stable.
    # Remainders to 9 decimals too: 25.4 - 25 and 8.4 - 8 differ in the 16th digit, and a tie
    # must go to the state code, as documented, not to floating-point noise.
    remainder = {code: round(clean[code] - floors[code], 9) for code in clean}
    order = sorted(clean, key=lambda code: (-remainder[code], code))
    for code in order[:left]:
        floors[code] += 1
    return {code: float(value) for code, value in floors.items()}


def compute_key(instance: Instance) -> dict[str, KeyRow]:
    """Shares and obligations of every state, by code."""
    config = instance.config
    computed = computed_shares(instance)
    roles = _roles(instance)
    used = {s.code: s.share if s.share is not None else computed[s.code] for s in instance.states}
    if config.key.redistribute:
        # Renormalise over the contributors only (a proposal variant, rules section 2).
        total = math.fsum(used[c] for c, role in roles.items() if role == CONTRIBUTOR)
        used = {c: (v / total if roles[c] == CONTRIBUTOR and total > 0 else v)
                for c, v in used.items()}
    deduction = {s.code: s.deduction if roles[s.code] == CONTRIBUTOR else 0.0
                 for s in instance.states}
    exact = {c: (used[c] * config.pool.relocations * (1 - deduction[c])
                 if roles[c] == CONTRIBUTOR else 0.0) for c in used}
    if config.deductions.redistribute:
        deducted = math.fsum(used[c] * config.pool.relocations * deduction[c]
                             for c in used if roles[c] == CONTRIBUTOR)
        base = math.fsum(exact.values())
        if base > 0:
            exact = {c: v + deducted * v / base for c, v in exact.items()}
    rounded = round_obligations(exact, config.pool.rounding)
    return {
        s.code: KeyRow(
            state=s.code,
            role=roles[s.code],
            share_computed=computed[s.code],
            share_official=s.share,
            share=used[s.code],
            deduction=deduction[s.code],
            obligation_exact=exact[s.code],
            obligation=rounded[s.code],
        )
        for s in instance.states
    }


def benefitting_targets(instance: Instance, key: dict[str, KeyRow]) -> dict[str, float]:
    """Rules section 4 [interp]: with `benefitting.implement_pledges`, what a pledging
    benefitting state's value counts against: its fair share, share x pool.relocations,
    rounded up to whole persons (exact under `pool.rounding = "none"`). Not an obligation: a
    value below it is no shortfall. Empty when the pledges are not implemented (the default:
    a benefitting state "should not be obliged to implement" its pledges [law])."""
    if not instance.config.benefitting.implement_pledges:
        return {}
    pledging = {p.state for p in instance.pledges}
    relocations = instance.config.pool.relocations
    exact = {code: round(row.share * relocations, 9) for code, row in key.items()
             if row.role == BENEFITTING and code in pledging}
    if instance.config.pool.rounding is Rounding.none:
        return exact
    return {code: float(math.ceil(value)) for code, value in exact.items()}
