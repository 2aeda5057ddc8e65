"""One scenario of the year: the instance with what `[uncertainty]` varies drawn from the
scenario's own seed (models.uncertainty).

Scenario i of variant v draws from `numpy.random.SeedSequence([S, tag(v), i])` (S the sweep's
seed, tag a fixed hash of the variant's name), and each concern (designation, arrivals of one
state, consent, a pledge's delivery, ...) from its own child stream of it: a scenario is the
same whichever machine, worker or order runs it, and a concern's draws do not shift when
another concern is added or a state is designated. The result is an `Instance` in memory,
planned by planner.pipeline.plan_with like any other (nothing is read or written).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from models.cases import Case
from models.instance import Instance, InstanceConfig, Measure, MemberState, Need, Origin, Pledge
from models.uncertainty import Draw, UncertaintyConfig
from planner.inputs.candidates import build_cases
from planner.inputs.protection import rule_of
from planner.inputs.synthetic import SyntheticSpec, generate


def _tag(text: str) -> int:
    """A stable 63-bit number of a name (Python's hash() changes with every process)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def scenario_seed(seed: int, variant: str, index: int) -> np.random.SeedSequence:
    """The seed of scenario `index` of `variant` in a sweep seeded `seed` (issue 16, item 4)."""
    return np.random.SeedSequence([seed, _tag(variant), index])


def stream(seq: np.random.SeedSequence, *concern: str) -> np.random.Generator:
    """The scenario's own random stream for one concern (e.g. "arrivals", "IT")."""
    key = tuple(_tag(part) for part in concern)
    return np.random.default_rng(np.random.SeedSequence(seq.entropy,
                                                        spawn_key=(*seq.spawn_key, *key)))


def draw(rng: np.random.Generator, spec: Draw) -> float:
    """One value of `spec` (models.uncertainty.Draw)."""
    if spec.kind == "fixed":
        return spec.value
    if spec.kind == "uniform":
        return float(rng.uniform(float(spec.low or 0), float(spec.high or 0)))
    if spec.kind == "triangular":
        low, mode, high = float(spec.low or 0), float(spec.mode or 0), float(spec.high or 0)
        return low if low == high else float(rng.triangular(low, mode, high))
    if spec.kind == "lognormal":
        return spec.value * math.exp(float(spec.sigma or 0) * float(rng.standard_normal()))
    if spec.kind == "beta":
        return float(rng.beta(float(spec.alpha or 1), float(spec.beta or 1)))
    return spec.levels[int(rng.integers(len(spec.levels)))]


def share(rng: np.random.Generator, spec: Draw) -> float:
    """A draw used as a share: clipped to 0..1."""
    return min(1.0, max(0.0, draw(rng, spec)))


@dataclass(frozen=True)
class Base:
    """What every scenario of one variant starts from: the validated instance (without its
    candidates when scenarios draw their own: only their counts are needed, and the base
    travels to every worker), the variant's name, and the base count of persons per state
    that arrivals multiply (`[uncertainty.arrivals] persons`, else the instance's
    candidates per location)."""

    instance: Instance
    variant: str
    counts: dict[str, int]

    @classmethod
    def of(cls, instance: Instance, variant: str) -> Base:
        model = instance.config.uncertainty
        counts: dict[str, int] = {}
        for case in instance.cases or ():
            counts[case.location] = counts.get(case.location, 0) + case.size
        counts.update(model.arrivals.persons)
        if model.synthetic:
            instance = instance.model_copy(update={"cases": None})
        return cls(instance, variant, dict(sorted(counts.items())))


def scenario(base: Base, seq: np.random.SeedSequence) -> Instance:
    """The instance of one scenario: designation, pledges delivered, needs and candidates
    drawn; transfers and rejections dropped (they name the instance's own cases), and no
    origin folder (nothing of it is on disk)."""
    instance = base.instance
    model = instance.config.uncertainty
    states = _designate(instance, model, seq)
    benefitting = {s.code for s in states if s.benefitting}
    receiving = tuple(s.code for s in states if s.participates and not s.benefitting)
    config = instance.config
    if model.designation:
        config = _config_for(instance, benefitting)
    return instance.model_copy(update={
        "config": config,
        "states": states,
        "pledges": _deliver(instance.pledges, model, seq, benefitting),
        "needs": _needs(instance.needs, model, seq, benefitting),
        "cases": _candidates(base, model, seq, benefitting, receiving),
        "transfers": (), "rejections": (), "origin": Origin(),
    })


def _designate(instance: Instance, model: UncertaintyConfig, seq: np.random.SeedSequence
               ) -> tuple[MemberState, ...]:
    """The states, each listed in `designation` benefitting with its probability (Art. 11)."""
    states = []
    for state in instance.states:
        chance = model.designation.get(state.code)
        if chance is not None:
            designated = bool(stream(seq, "designation", state.code).random() < chance)
            state = state.model_copy(update={"benefitting": designated})
        states.append(state)
    return tuple(states)


def _config_for(instance: Instance, benefitting: set[str]) -> InstanceConfig:
    """instance.toml's settings that name benefitting states, kept to those designated."""
    config = instance.config
    dist = config.distribution.model_copy(update={
        "sar_states": tuple(s for s in config.distribution.sar_states if s in benefitting)})
    relocation = config.relocation.model_copy(update={"bilateral_agreements": tuple(
        p for p in config.relocation.bilateral_agreements if p[3:] in benefitting)})
    offsets = config.offsets.model_copy(update={"refused_by": tuple(
        s for s in config.offsets.refused_by if s in benefitting)})
    return config.model_copy(update={"distribution": dist, "relocation": relocation,
                                     "offsets": offsets})


def _whole(amount: float, measure: Measure) -> float:
    """Persons are whole (rounded down: a delivery never exceeds the pledge); EUR to cents."""
    return float(math.floor(amount + 1e-9)) if measure.in_persons else round(amount, 2)


def _deliver(pledges: tuple[Pledge, ...], model: UncertaintyConfig,
             seq: np.random.SeedSequence, benefitting: set[str]) -> tuple[Pledge, ...]:
    """Each pledge row's min and max scaled by its delivered fraction (a row without a max
    keeps none: it is bounded by the state's obligation). A row directed only to states not
    designated this year offers nothing."""
    delivered = []
    for pledge in pledges:
        spec = model.delivered.of(pledge.state, pledge.measure.value)
        fraction = share(stream(seq, "delivered", pledge.pledge_id), spec) \
            if spec.varies or spec.value != 1 else 1.0
        update: dict[str, Any] = {}
        if fraction != 1.0:
            update["min"] = _whole(pledge.min * fraction, pledge.measure)
            if pledge.max is not None:
                update["max"] = _whole(pledge.max * fraction, pledge.measure)
        if pledge.beneficiary and model.designation:
            kept = tuple(b for b in pledge.beneficiary if b in benefitting)
            update["beneficiary"] = kept or pledge.beneficiary
            if not kept:
                update["min"], update["max"] = 0.0, 0.0
        delivered.append(pledge.model_copy(update=update) if update else pledge)
    return tuple(delivered)


def _needs(needs: tuple[Need, ...], model: UncertaintyConfig, seq: np.random.SeedSequence,
           benefitting: set[str]) -> tuple[Need, ...]:
    """Each benefitting state's needs times its drawn multiplier (one per state, all its
    measures); the needs of a state not designated this year dropped."""
    factors: dict[str, float] = {}
    drawn = []
    for need in needs:
        if need.state not in benefitting:
            continue
        if need.state not in factors:
            spec = model.needs.of(need.state)
            factors[need.state] = draw(stream(seq, "needs", need.state), spec) \
                if spec.varies else spec.value
        factor = factors[need.state]
        drawn.append(need if factor == 1.0 else need.model_copy(
            update={"amount": _whole(need.amount * factor, need.measure)}))
    return tuple(drawn)


def _candidates(base: Base, model: UncertaintyConfig, seq: np.random.SeedSequence,
                benefitting: set[str], receiving: tuple[str, ...]) -> tuple[Case, ...] | None:
    """The scenario's cases: the instance's own in the benefitting states (no candidate
    uncertainty), or drawn by planner.inputs.synthetic state by state, each state's persons
    its base count times its arrivals multiplier."""
    if not model.synthetic:
        cases = base.instance.cases
        return None if cases is None else tuple(c for c in cases if c.location in benefitting)
    people = stream(seq, "candidates")
    consent, cleared, beneficiaries = (share(people, spec) for spec in (
        model.consent, model.cleared, model.beneficiaries))
    rows: list[dict[str, str]] = []
    for state in sorted(benefitting):
        rng = stream(seq, "arrivals", state)
        persons = round(base.counts.get(state, 0) * draw(rng, model.arrivals.of(state)))
        if persons <= 0:
            continue
        spec = SyntheticSpec(persons=persons, seed=int(rng.integers(2**62)),
                             locations={state: 1.0}, receiving=receiving,
                             consent_share=consent, not_cleared_share=1.0 - cleared,
                             beneficiary_share=beneficiaries)
        for row in generate(spec):  # ids made unique across states
            row["person_id"] = f"{state}-{row['person_id']}"
            row["case_id"] = f"{state}-{row['case_id']}"
            rows.append(row)
    if not rows:
        return ()
    return tuple(build_cases(pd.DataFrame(rows), rule_of(base.instance.config)))
