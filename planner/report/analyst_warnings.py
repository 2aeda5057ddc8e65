"""The warnings a careful analyst wants (summary.json `warnings` and `warning_details`, the
terminal, the report): a plan that is valid but may not mean what its reader assumes.

Each check is a small function returning `WarningItem`s (code, subject, sentence), in a fixed
order so that equal inputs give equal summaries. The README lists every code and when it
appears. Texts keep the inputs' text exactly (summary.json is data); the terminal and the
report escape it when they show it (planner.report.display).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from pathlib import Path

from models.instance import FLOOR_FINANCIAL_EUR, FLOOR_RELOCATIONS, Instance, Status
from models.results import AllocationRow, PlanRow, WarningItem
from planner.optimise.key import AD_HOC, BENEFITTING, CONTRIBUTOR

TOL = 1e-6  # relocation-equivalents: below it, a balance is rounding noise
SHARE_TOL = 1e-9


def amount(value: float) -> str:
    """A figure as a sentence shows it: whole numbers exact, others to two decimals."""
    rounded = round(value, 2)
    return f"{rounded:,.0f}" if rounded.is_integer() else f"{rounded:,.2f}"


def deduction_warnings(instance: Instance) -> list[WarningItem]:
    """Rules section 4 (Arts 61-62): a deduction is for a state facing a significant migratory
    situation, or under pressure and not using the pool. One granted to a state with no
    status, or only `at_risk`, is accepted (the Council decides), with a warning."""
    found = []
    for s in instance.states:
        if s.deduction <= 0:
            continue
        if s.status == Status.none:
            found.append(WarningItem(
                code="deduction_without_status", subject=s.code,
                text=f"{s.code}: deduction {s.deduction:g} granted without a migratory status "
                     "(accepted: the Council decides)"))
        elif s.status == Status.at_risk:
            found.append(WarningItem(
                code="deduction_at_risk", subject=s.code,
                text=f"{s.code}: deduction {s.deduction:g} granted to a state only at risk of "
                     "migratory pressure (Arts 61-62 provide deductions for a significant "
                     "migratory situation or pressure; accepted: the Council decides)"))
    return found


def share_warnings(instance: Instance, allocation: Sequence[AllocationRow]
                   ) -> list[WarningItem]:
    """Rules section 2: official shares override the computed ones state by state; the
    computed shares of the other participating states sum to 1 with the computed shares the
    official ones replace, so official shares above those push the key above 100 % and the
    obligations above the pool (before deductions and rounding)."""
    participating = [r for r in allocation if r.role in (CONTRIBUTOR, BENEFITTING)]
    official = [r.state for r in participating if r.share_official is not None]
    total = math.fsum(r.share_official if r.share_official is not None else r.share_computed
                      for r in participating)
    if not official or total <= 1 + SHARE_TOL:
        return []
    others = len(participating) - len(official)
    computed = f" and the computed shares of the {others} other participating states" \
        if others else ""
    if instance.config.key.redistribute:
        effect = "key.redistribute rescales the contributors' shares, so the official ones " \
            "do not apply as given"
    else:
        excess = (total - 1) * instance.config.pool.relocations
        effect = f"obligations exceed the pool by {amount(excess)} relocation-equivalents " \
            "before deductions and rounding"
    return [WarningItem(
        code="shares_above_one", subject="key",
        text=f"key: the official shares of {', '.join(official)}{computed} sum to "
             f"{total * 100:.4f} %, above 100 % ({effect})")]


def surplus_warnings(allocation: Sequence[AllocationRow], plan: Sequence[PlanRow]
                     ) -> list[WarningItem]:
    """A state whose plan is worth more than its obligation: the planner takes no more than
    the obligation unless the state's own pledge minimums force it, and the surplus does not
    reduce any other state's shortfall. Ad hoc contributors (Art. 13(1)) and benefitting
    states have no obligation to exceed."""
    forcing: dict[str, list[str]] = {}
    for row in plan:
        if row.min > 0 and row.amount > 0:
            forcing.setdefault(row.state, []).append(row.pledge_id)
    found = []
    for r in allocation:
        if r.role in (AD_HOC, BENEFITTING) or r.balance <= TOL:
            continue  # no obligation (a benefitting state's pledges: benefitting_warnings)
        rows = forcing.get(r.state, [])
        cause = f"; forced by the minimums of pledge rows {', '.join(rows)}" if rows else ""
        found.append(WarningItem(
            code="surplus", subject=r.state,
            text=f"{r.state}: planned value {amount(r.value)} exceeds its obligation "
                 f"{amount(r.obligation)}: a surplus of {amount(r.balance)} "
                 f"relocation-equivalents{cause} (it does not reduce any other state's "
                 "shortfall)"))
    return found


def benefitting_warnings(instance: Instance, plan: Sequence[PlanRow]) -> list[WarningItem]:
    """Rules section 4 [law]: a benefitting state "should not be obliged to implement" its
    pledges that year. Its rows are accepted and reported with amount 0 (one warning per
    state says so), or, with `benefitting.implement_pledges` [interp], planned up to its fair
    share and never sent to itself (the warning gives what was planned)."""
    benefitting = set(instance.benefitting)
    rows: dict[str, list[PlanRow]] = {}
    for row in plan:
        if row.state in benefitting:
            rows.setdefault(row.state, []).append(row)
    found = []
    for state, own in sorted(rows.items()):
        ids = ", ".join(r.pledge_id for r in own)
        offered = _offered(own)
        if not instance.config.benefitting.implement_pledges:
            text = (f"{state} pledged {ids} ({offered}): accepted, not implemented: benefitting "
                    "this cycle (rules section 4; benefitting.implement_pledges = true counts "
                    "them)")
        else:
            value = math.fsum(r.value for r in own)
            text = (f"{state} pledged {ids} ({offered}): implemented "
                    f"(benefitting.implement_pledges = true), planned value {amount(value)} "
                    "relocation-equivalents, counted against its fair share, not an "
                    f"obligation; never sent to {state} itself (rules section 4)")
        found.append(WarningItem(code="benefitting_pledge", subject=state, text=text))
    return found


def _offered(rows: Sequence[PlanRow]) -> str:
    """What the rows offer at most, in words: `relocation up to 100; financial up to EUR 2`."""
    parts = []
    for r in rows:
        top = "no limit" if r.max is None else (
            amount(r.max) if r.measure.in_persons else f"EUR {amount(r.max)}")
        parts.append(f"{r.measure.value} up to {top}")
    return "; ".join(parts)


def candidate_warnings(instance: Instance) -> list[WarningItem]:
    """A candidates.csv with a header and no row: the matching runs, with nobody to match."""
    if instance.cases is None or len(instance.cases) > 0:
        return []
    return [WarningItem(
        code="no_candidates", subject="candidates.csv",
        text="candidates.csv has a header but no candidates: nobody is matched to the plan's "
             "relocation places (add the candidates, or remove the file to plan without "
             "matching)")]


def variant_warnings(instance: Instance, variant: str) -> list[WarningItem]:
    """A variant's `[member_states.XX]` tables that name one state more than once (codes are
    read without case or surrounding space, so `[member_states.PL]` and
    `[member_states.pl]` are one state): only the last one applies (planner.inputs.variants)."""
    from planner.inputs.reader import toml_text_line
    from planner.inputs.variants import variant_file

    if variant == "base" or not instance.origin.folder:
        return []
    file = variant_file(variant)
    try:
        text = (Path(instance.origin.folder) / file).read_text(encoding="utf-8-sig")
        states = tomllib.loads(text).get("member_states", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []  # it was read and validated moments ago; nothing to add if it changed
    if not isinstance(states, dict):
        return []
    written: dict[str, list[str]] = {}
    for key in states:
        written.setdefault(key.strip().upper(), []).append(key)
    found = []
    for code, keys in sorted(written.items()):
        if len(keys) < 2:
            continue
        places = ", ".join(f"[member_states.{k}] (line "
                           f"{toml_text_line(text, ('member_states', k))})" for k in keys)
        found.append(WarningItem(
            code="variant_state_twice", subject=code,
            text=f"{file}: state {code} is overridden {len(keys)} times, by {places}; only "
                 f"the last, [member_states.{keys[-1]}], applies"))
    return found


def proposal_warnings(instance: Instance) -> list[WarningItem]:
    """Art. 12(2) [law]: the Commission's proposal sets at least FLOOR_RELOCATIONS
    relocations and EUR FLOOR_FINANCIAL_EUR. A proposal below either floor is warned about
    (the Council's pool below them is information only: planner.pipeline.proposal_section).
    Only a proposal instance.toml states (`[proposal]`): without it the pool's numbers stand
    for the proposal, and the information line about the pool says so."""
    config = instance.config
    if not config.proposal.model_fields_set:
        return []
    low = []
    if config.proposal_relocations < FLOOR_RELOCATIONS:
        low.append(f"{config.proposal_relocations:,} relocations (floor {FLOOR_RELOCATIONS:,})")
    if config.proposal_financial_eur < FLOOR_FINANCIAL_EUR:
        low.append(f"EUR {config.proposal_financial_eur:,.0f} (floor EUR "
                   f"{FLOOR_FINANCIAL_EUR:,})")
    if not low:
        return []
    return [WarningItem(
        code="proposal_below_floor", subject="proposal",
        text=f"proposal: the Commission's proposal of {' and '.join(low)} is below the "
             "Art. 12(2) floors")]


def analyst_warnings(instance: Instance, variant: str, allocation: Sequence[AllocationRow],
                     plan: Sequence[PlanRow]) -> list[WarningItem]:
    """Every warning of a planned run but the solver's notes, in a fixed order: proposal,
    deductions, key, surplus, benefitting states' pledges, candidates, variant."""
    return (proposal_warnings(instance)
            + deduction_warnings(instance) + share_warnings(instance, allocation)
            + surplus_warnings(allocation, plan) + benefitting_warnings(instance, plan)
            + candidate_warnings(instance) + variant_warnings(instance, variant))
