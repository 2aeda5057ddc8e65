"""The verifier's checks of summary.json beyond its totals: the solver's status and gaps, the
key's parameters and official shares, the offsets of Art. 63, the SAR share and the balance of
the distribution, and each lexicographic stage's objective (planner.verifier.verify calls these; its
docstring lists every check). Each figure is recomputed from the inputs or the written files.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from models.instance import Instance, Measure
from models.results import OffsetsSummary, Summary
from planner.verifier.rules import check_mandatory, planned_mandatory, sar_reachable

Fail = Callable[[str, int, str, str], None]
SOLVERS = ("highs", "cbc")
TOL = 1e-6


def _near(a: object, b: float, scale: float = 1.0) -> bool:
    return isinstance(a, int | float) and not isinstance(a, bool) \
        and abs(float(a) - b) <= TOL * max(1.0, abs(b)) * scale


def check_fields(fail: Fail, found: object, expected: dict[str, object], section: str,
                 source: str) -> None:
    """Each field of a summary.json section (`found`) as `source` gives it (`expected`)."""
    for name, value in expected.items():
        if getattr(found, name) != value:
            fail("summary.json", 0, f"{section}.{name}", f"{getattr(found, name)!r}, {source} "
                 f"{value!r}")


def check_status(fail: Fail, summary: Summary) -> None:
    """`optimal` exactly when no stage stopped at a time limit; `gap` the largest of `gaps`
    (null when one is unknown); a note per stopped stage and for a fallback back-end."""
    solver = summary.solver
    if summary.status not in ("optimal", "time_limit"):
        fail("summary.json", 0, "status", f"unexpected status {summary.status!r}")
    elif (summary.status == "optimal") != (not solver.gaps):
        fail("summary.json", 0, "status", f"{summary.status}, but "
             + (f"stages {', '.join(sorted(solver.gaps))} stopped at the time limit"
                if solver.gaps else "no stage stopped at a time limit"))
    gaps = list(solver.gaps.values())
    expected = None if any(g is None for g in gaps) else max(
        (g for g in gaps if g is not None), default=0.0)
    if (solver.gap is None) != (expected is None) or (
            expected is not None and solver.gap is not None and abs(solver.gap - expected) > TOL):
        fail("summary.json", 0, "solver.gap", f"{solver.gap}, the stages' gaps give {expected}")
    for stage, gap in sorted(solver.gaps.items()):
        if gap is not None and not gap >= 0:
            fail("summary.json", 0, "solver.gaps", f"stage {stage}: negative gap {gap:g}")
        note = f"stage {stage}: time limit reached, best feasible solution kept"
        if note not in summary.warnings:
            fail("summary.json", 0, "warnings", f"no warning that stage {stage} stopped at the "
                 "time limit")
    if solver.name not in SOLVERS:
        fail("summary.json", 0, "solver.name", f"{solver.name!r} is not a back-end")
    if solver.requested not in SOLVERS:
        fail("summary.json", 0, "solver.requested", f"{solver.requested!r} is not a back-end")
    elif solver.name != solver.requested and not any(
            w.endswith(f"used {solver.name}") for w in summary.warnings):
        fail("summary.json", 0, "solver.name", f"{solver.name} was used, {solver.requested} "
             "requested, without a warning")
    if solver.time_limit_s is not None and not solver.time_limit_s > 0:
        fail("summary.json", 0, "solver.time_limit_s", "not a positive number of seconds")


def check_key(fail: Fail, summary: Summary, instance: Instance, key: pd.DataFrame) -> None:
    """The key's parameters as in instance.toml, and each official share beside the
    computed one (Annex I)."""
    config = instance.config
    found = summary.key
    if found is None:
        fail("summary.json", 0, "key", "missing")
        return
    expected: dict[str, object] = {
        "weights": dict(config.key.weights), "redistribute": config.key.redistribute,
        "rounding": config.pool.rounding.value, "eur_per_relocation": config.pool.rate}
    check_fields(fail, found, expected, "key", "instance.toml gives")
    listed = key[key["listed"] & key["share"].notna()]
    shares = found.official_shares
    wanted = {str(code): (float(row["share_computed"]), float(row["share"]),
                          float(row["share_used"]) - float(row["share_computed"]))
              for code, row in listed.iterrows()}
    if set(shares) != set(wanted):
        fail("summary.json", 0, "key.official_shares", "the states differ from those with an "
             "official share in member_states.csv")
        return
    for code, (computed, official, difference) in sorted(wanted.items()):
        got = shares[code]
        if not (_near(got.computed, computed) and _near(got.official, official)
                and _near(got.difference, difference)):
            fail("summary.json", 0, f"key.official_shares.{code}", "differs from the key: "
                 f"computed {computed:.9g}, official {official:.9g}")


def check_proposal(fail: Fail, summary: Summary, instance: Instance) -> None:
    """`proposal` (Arts 12, 57): the proposal's numbers as instance.toml gives them (the
    pool's where `[proposal]` leaves one out), the pool's, the Art. 12(2) floors and each
    comparison with them; the information line exactly when the pool is below a floor; the
    `proposal_below_floor` warning exactly when a stated proposal is."""
    config = instance.config
    floor_relocations, floor_eur = 30_000, 600_000_000  # Art. 12(2), the verifier's own
    relocations = config.proposal_relocations
    financial = config.proposal_financial_eur
    pool_low = config.pool.relocations < floor_relocations \
        or config.pool.financial_eur < floor_eur
    proposal_low = relocations < floor_relocations or financial < floor_eur
    found = summary.proposal
    if found is None:
        fail("summary.json", 0, "proposal", "missing")
        return
    expected: dict[str, object] = {
        "relocations": relocations, "financial_eur": financial,
        "given": sorted(config.proposal.model_fields_set),
        "pool_relocations": config.pool.relocations,
        "pool_financial_eur": config.pool.financial_eur,
        "floor_relocations": floor_relocations, "floor_financial_eur": floor_eur,
        "proposal_below_floor": proposal_low, "pool_below_floor": pool_low}
    check_fields(fail, found, expected, "proposal", "the inputs give")
    if bool(found.information) != pool_low:
        fail("summary.json", 0, "proposal.information", "an information line exactly when "
             "the Council's pool is below the Art. 12(2) floors")
    warned = any(w.code == "proposal_below_floor" for w in summary.warning_details)
    if warned != (proposal_low and bool(config.proposal.model_fields_set)):
        fail("summary.json", 0, "warnings", "a proposal_below_floor warning exactly when the "
             "stated proposal is below the Art. 12(2) floors")


def check_offsets(fail: Fail, summary: Summary, offsets: dict[str, Any],
                  unassigned: dict[str, float]) -> None:
    """Art. 63 as re-derived (planner.verifier.rules.expected_offsets): the proposal's number,
    thresholds (voluntary; mandatory (a), (b), the one used and which binds), trigger, gap,
    the voluntary offsets counted (never relabelled mandatory), each state's mandatory offsets
    (whole persons of the key's spread, within both caps) and what is left; the offsets
    assigned to no benefitting state, per state, from distribution.csv (`unassigned`)."""
    found = summary.offsets
    if found is None:
        fail("summary.json", 0, "offsets", "missing")
        return
    _check_offset_figures(fail, found, offsets)
    written = found.unassigned_to_benefitting
    want = {s: v for s, v in sorted(unassigned.items()) if v > 0}
    if set(written) != set(want) or not all(_near(written[s], v) for s, v in want.items()):
        fail("summary.json", 0, "offsets.unassigned_to_benefitting", f"{written!r}, "
             f"distribution.csv's offsets with an empty beneficiary are {want!r}")
    owed = found.mandatory_owed
    if not all(v > 0 for v in owed.values()):
        fail("summary.json", 0, "offsets.mandatory_owed", "not whole persons per state")
        return
    _check_owed_caps(fail, owed, offsets)
    _check_owed_totals(fail, found, owed, offsets)


def _check_offset_figures(fail: Fail, found: OffsetsSummary, offsets: dict[str, Any]
                          ) -> None:
    """The section's figures as the rules give them: flags, basis, gaps and the proposal's
    number exactly; the state lists in order; the voluntary offsets (pledged offsets a state
    may make voluntarily); thresholds and relocation figures within rounding."""
    check_fields(fail, found, {name: offsets[name] for name in (
        "voluntary_allowed", "mandatory_basis", "mandatory_binding", "mandatory_triggered", "gap",
        "remaining_gap", "proposal_relocations", "responsibility_given",
        "voluntary_allowed_states", "voluntary_states", "refused_by")}, "offsets", "the rules give")
    if found.voluntary != offsets["voluntary"]:
        fail("summary.json", 0, "offsets.voluntary", f"{found.voluntary!r}, the rules "
             f"give {offsets['voluntary']!r} (pledged offsets a state may make voluntarily)")
    for name in ("voluntary_threshold", "pledged_relocations", "mandatory_threshold",
                 "mandatory_threshold_needs", "mandatory_threshold_proposal",
                 "relocation_needs"):
        if not _near(getattr(found, name), offsets[name]):
            fail("summary.json", 0, f"offsets.{name}", f"{getattr(found, name)!r}, the rules "
                 f"give {offsets[name]:g}")


def _check_owed_caps(fail: Fail, owed: dict[str, int], offsets: dict[str, Any]) -> None:
    """Each state's owed mandatory offsets (Art. 63(3), rules section 5): never a voluntary
    state's offsets relabelled, at most its fair share minus its pledged relocations and, with
    responsibility.csv, the persons the file places on its territory."""
    relabelled = sorted(set(owed) & set(offsets["voluntary_states"]))
    if relabelled:
        fail("summary.json", 0, "offsets.mandatory_owed", f"{', '.join(relabelled)}: voluntary "
             "offsets relabelled as mandatory (rules section 5)")
    for state, amount in sorted(owed.items()):
        fair = offsets["caps_fair_share"].get(state, 0.0)
        if amount > fair + TOL:
            fail("summary.json", 0, "offsets.mandatory_owed", f"{state}: {amount} mandatory "
                 f"offsets, above its fair share minus its pledged relocations ({fair:g})")
        held = (offsets["caps_persons"] or {}).get(state)
        if held is not None and amount > held + TOL:
            fail("summary.json", 0, "offsets.mandatory_owed", f"{state}: {amount} mandatory "
                 f"offsets, above the {held:g} persons responsibility.csv places on its "
                 "territory")


def _check_owed_totals(fail: Fail, found: OffsetsSummary, owed: dict[str, int],
                       offsets: dict[str, Any]) -> None:
    """The owed parts whole persons of the key's exact spread of the gap (check_mandatory),
    together the gap left by the voluntary offsets within the states' caps; unallocated =
    that gap - owed; the planned part (`mandatory`) each owed part within what the state's
    offset rows hold, and the rest `mandatory_unplanned`."""
    check_mandatory(fail, {k: float(v) for k, v in owed.items()}, offsets["mandatory"],
                    offsets["remaining_gap"], "summary.json", lambda _: 0,
                    "offsets.mandatory_owed")
    placed = sum(owed.values())
    want_placed = round(min(offsets["remaining_gap"],
                            sum(offsets["caps"][c] for c in offsets["mandatory"])))
    if placed != want_placed:
        fail("summary.json", 0, "offsets.mandatory_owed", f"{placed} persons in all, the gap "
             f"{offsets['remaining_gap']} left by the voluntary offsets, within the states' "
             f"caps, gives {want_placed}")
    if found.unallocated != offsets["remaining_gap"] - placed:
        fail("summary.json", 0, "offsets.unallocated", f"{found.unallocated!r}, "
             f"expected the gap left - owed = {offsets['remaining_gap'] - placed}")
    planned = planned_mandatory(owed, offsets["room"])
    if found.mandatory != planned:
        fail("summary.json", 0, "offsets.mandatory", f"{found.mandatory!r}, each "
             f"state's owed part within what its offset rows hold gives {planned!r}")
    unplanned = {s: n - planned.get(s, 0) for s, n in owed.items() if n > planned.get(s, 0)}
    if found.mandatory_unplanned != unplanned:
        fail("summary.json", 0, "offsets.mandatory_unplanned",
             f"{found.mandatory_unplanned!r}, owed - planned gives {unplanned!r}")


def check_distribution(fail: Fail, summary: Summary, instance: Instance,
                       plan_values: dict[str, float], received_by: dict[str, float],
                       ratios: Iterable[float], needs: dict[tuple[str, Measure], float],
                       has_flows: bool, voluntary: set[str] | None = None,
                       floors: dict[tuple[str, str], float] | None = None) -> None:
    """The SAR share (rules section 6) from the plan and distribution.csv: target = share x
    the plan's value, received = distribution.csv's value to the SAR states, met when received
    reaches the target; the smallest coverage ratio of coverage.csv."""
    config = instance.config.distribution
    found = summary.distribution
    if found is None:
        fail("summary.json", 0, "distribution", "missing")
        return
    if found.sar_states != list(config.sar_states):
        fail("summary.json", 0, "distribution.sar_states", "differs from instance.toml")
    if found.sar_share != config.sar_share:
        fail("summary.json", 0, "distribution.sar_share", "differs from instance.toml")
    active = has_flows and config.sar_share > 0
    target = config.sar_share * math.fsum(plan_values.values()) if active else 0.0
    got = math.fsum(v for b, v in received_by.items() if b in config.sar_states) \
        if active else 0.0
    if not _near(found.sar_target_value, target):
        fail("summary.json", 0, "distribution.sar_target_value",
             f"{found.sar_target_value!r}, sar_share x the plan's value is {target:g}")
    if not _near(found.sar_received_value, got):
        fail("summary.json", 0, "distribution.sar_received_value",
             f"{found.sar_received_value!r}, distribution.csv sends the SAR states "
             f"{got:g}")
    if found.sar_met is not (got >= target - TOL):
        fail("summary.json", 0, "distribution.sar_met", f"{found.sar_met!r}, but "
             f"received {got:g} against the target {target:g}")
    smallest = min(ratios, default=None)
    written = found.min_coverage
    if (smallest is None) != (written is None) or (
            smallest is not None and not _near(written, smallest)):
        fail("summary.json", 0, "distribution.min_coverage", f"{written!r}, coverage.csv's "
             f"smallest ratio is {smallest!r}")
    objectives = summary.objectives
    if "distribution_sar" in objectives and not summary.solver.gaps:
        best = min(target, sar_reachable(instance, plan_values, needs, voluntary, floors))
        if not _near(objectives["distribution_sar"], best):
            fail("summary.json", 0, "objectives.distribution_sar",
                 f"{objectives['distribution_sar']:g}, the most the SAR states can get up to "
                 f"the target is {best:g}")
    elif active:
        fail("summary.json", 0, "objectives.distribution_sar", "missing")


def check_levels(fail: Fail, summary: Summary, levels_of: dict[tuple[str, Measure], tuple[
        float, float]]) -> None:
    """distribution_balanceN: the balance's successive levels, increasing; every level is some
    target's coverage and every target's coverage a level, within what rounding to whole
    persons or cents moves (`levels_of`: target -> (ratio, slack))."""
    levels = [v for k, v in sorted(summary.objectives.items(), key=lambda kv: (
        len(kv[0]), kv[0])) if k.startswith("distribution_balance")]
    if any(b < a - TOL for a, b in zip(levels, levels[1:], strict=False)):
        fail("summary.json", 0, "objectives.distribution_balance", "levels not increasing")
    if not levels_of:
        return
    for level in levels:
        if not any(abs(level - r) <= s + TOL for r, s in levels_of.values()):
            fail("summary.json", 0, "objectives.distribution_balance",
                 f"level {level:.9g} is no target's coverage in the files")
    for (b, m), (ratio, slack) in sorted(levels_of.items(), key=lambda kv: (kv[0][0],
                                                                            kv[0][1].value)):
        if levels and not any(abs(level - ratio) <= slack + TOL for level in levels):
            fail("summary.json", 0, "objectives.distribution_balance",
                 f"{b} {m.value}: coverage {ratio:.9g} is none of the levels")


def check_objectives(fail: Fail, summary: Summary, instance: Instance,
                     plan_values: dict[str, float], smallest: float | None,
                     slack: float) -> None:
    """Stage (i): the total shortfall; stage (ii): the preference-weighted value, from
    plan.csv; stage (iii): the smallest stated coverage of the files cannot beat the stage's
    optimum (rounding to whole persons aside); matching stages as in `matching.stages`."""
    objectives = summary.objectives
    if "shortfall" in objectives and not _near(objectives["shortfall"], summary.totals.shortfall):
        fail("summary.json", 0, "objectives.shortfall", f"{objectives['shortfall']:g}, the "
             f"allocation's shortfall is {summary.totals.shortfall:g}")
    pledges = instance.pledges_by_id
    weighted = math.fsum(pledges[p].preference * v for p, v in plan_values.items()
                         if p in pledges)
    if "preference" in objectives and not _near(objectives["preference"], weighted, 10.0):
        fail("summary.json", 0, "objectives.preference", f"{objectives['preference']:g}, "
             f"plan.csv's preference-weighted value is {weighted:g}")
    if plan_values and "shortfall" not in objectives:
        fail("summary.json", 0, "objectives.shortfall", "missing")
    best = objectives.get("coverage_min")
    if best is not None and smallest is not None and smallest > best + slack + TOL:
        fail("summary.json", 0, "objectives.coverage_min", f"{best:.9g}, but coverage.csv "
             f"reaches {smallest:.9g} for every stated need")
    stages = summary.matching.stages
    for name, value in objectives.items():
        if name.startswith("matching_") and not _near(stages.get(name[9:]), value):
            fail("summary.json", 0, f"objectives.{name}", f"{value:g}, matching.stages gives "
                 f"{stages.get(name[9:])!r}")
    for name in stages:
        if f"matching_{name}" not in objectives:
            fail("summary.json", 0, f"objectives.matching_{name}", "missing")
