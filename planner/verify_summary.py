"""The verifier's checks of summary.json beyond its totals: the solver's status and gaps, the
key's parameters and official shares, the offsets of Art. 63, the SAR share and the balance of
the distribution, and each lexicographic stage's objective (planner.verify calls these; its
docstring lists every check). Each figure is recomputed from the inputs or the written files.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from models.instance import Instance, Measure
from models.results import Summary
from planner.verify_rules import check_mandatory, sar_reachable

Fail = Callable[[str, int, str, str], None]
SOLVERS = ("highs", "cbc")
TOL = 1e-6


def _near(a: object, b: float, scale: float = 1.0) -> bool:
    return isinstance(a, int | float) and not isinstance(a, bool) \
        and abs(float(a) - b) <= TOL * max(1.0, abs(b)) * scale


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
    expected: dict[str, object] = {
        "weights": dict(config.key.weights), "redistribute": config.key.redistribute,
        "rounding": config.pool.rounding.value, "eur_per_relocation": config.pool.rate}
    for name, value in expected.items():
        if found.get(name) != value:
            fail("summary.json", 0, f"key.{name}", f"{found.get(name)!r}, instance.toml gives "
                 f"{value!r}")
    listed = key[key["listed"] & key["share"].notna()]
    shares = found.get("official_shares")
    wanted = {code: (float(row["share_computed"]), float(row["share"]),
                     float(row["share_used"]) - float(row["share_computed"]))
              for code, row in listed.iterrows()}
    if not isinstance(shares, dict) or set(shares) != set(wanted):
        fail("summary.json", 0, "key.official_shares", "the states differ from those with an "
             "official share in member_states.csv")
        return
    for code, (computed, official, difference) in sorted(wanted.items()):
        entry = shares[code]
        got = entry if isinstance(entry, dict) else {}
        if not (_near(got.get("computed"), computed) and _near(got.get("official"), official)
                and _near(got.get("difference"), difference)):
            fail("summary.json", 0, f"key.official_shares.{code}", "differs from the key: "
                 f"computed {computed:.9g}, official {official:.9g}")


def check_offsets(fail: Fail, summary: Summary, offsets: dict[str, Any]) -> None:
    """Art. 63 as re-derived (planner.verify_rules.expected_offsets): thresholds, trigger, gap,
    each state's mandatory offsets (whole persons of the key's spread) and what is left."""
    found = summary.offsets
    for name in ("voluntary_allowed", "mandatory_basis", "mandatory_triggered", "gap"):
        if found.get(name) != offsets[name]:
            fail("summary.json", 0, f"offsets.{name}", f"{found.get(name)!r}, the rules give "
                 f"{offsets[name]!r}")
    if list(found.get("voluntary_allowed_states") or []) != offsets["voluntary_allowed_states"]:
        fail("summary.json", 0, "offsets.voluntary_allowed_states", "differs from the states "
             "whose pledged relocations reach the voluntary share")
    for name in ("voluntary_threshold", "pledged_relocations", "mandatory_threshold"):
        if not _near(found.get(name), offsets[name]):
            fail("summary.json", 0, f"offsets.{name}", f"{found.get(name)!r}, the rules give "
                 f"{offsets[name]:g}")
    mandatory = found.get("mandatory")
    if not isinstance(mandatory, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0
            for v in mandatory.values()):
        fail("summary.json", 0, "offsets.mandatory", "not whole persons per state")
        return
    check_mandatory(fail, {k: float(v) for k, v in mandatory.items()}, offsets["mandatory"],
                    offsets["gap"], "summary.json", lambda _: 0, "offsets.mandatory")
    placed = sum(mandatory.values())
    want = round(min(offsets["gap"], sum(offsets["caps"][c] for c in offsets["mandatory"])))
    if placed != want:
        fail("summary.json", 0, "offsets.mandatory", f"{placed} persons in all, the gap "
             f"{offsets['gap']} within the states' caps gives {want}")
    if found.get("unallocated") != offsets["gap"] - placed:
        fail("summary.json", 0, "offsets.unallocated", f"{found.get('unallocated')!r}, "
             f"expected gap - mandatory = {offsets['gap'] - placed}")


def check_distribution(fail: Fail, summary: Summary, instance: Instance,
                       plan_values: dict[str, float], received_by: dict[str, float],
                       ratios: Iterable[float], needs: dict[tuple[str, Measure], float],
                       has_flows: bool, floors: dict[tuple[str, str], float] | None = None
                       ) -> None:
    """The SAR share (rules section 6) from the plan and distribution.csv: target = share x
    the plan's value, received = distribution.csv's value to the SAR states, met when received
    reaches the target; the smallest coverage ratio of coverage.csv."""
    config = instance.config.distribution
    found = summary.distribution
    if list(found.get("sar_states") or []) != list(config.sar_states):
        fail("summary.json", 0, "distribution.sar_states", "differs from instance.toml")
    if found.get("sar_share") != config.sar_share:
        fail("summary.json", 0, "distribution.sar_share", "differs from instance.toml")
    active = has_flows and config.sar_share > 0
    target = config.sar_share * math.fsum(plan_values.values()) if active else 0.0
    got = math.fsum(v for b, v in received_by.items() if b in config.sar_states) \
        if active else 0.0
    if not _near(found.get("sar_target_value"), target):
        fail("summary.json", 0, "distribution.sar_target_value",
             f"{found.get('sar_target_value')!r}, sar_share x the plan's value is {target:g}")
    if not _near(found.get("sar_received_value"), got):
        fail("summary.json", 0, "distribution.sar_received_value",
             f"{found.get('sar_received_value')!r}, distribution.csv sends the SAR states "
             f"{got:g}")
    if found.get("sar_met") is not (got >= target - TOL):
        fail("summary.json", 0, "distribution.sar_met", f"{found.get('sar_met')!r}, but "
             f"received {got:g} against the target {target:g}")
    smallest = min(ratios, default=None)
    written = found.get("min_coverage")
    if (smallest is None) != (written is None) or (
            smallest is not None and not _near(written, smallest)):
        fail("summary.json", 0, "distribution.min_coverage", f"{written!r}, coverage.csv's "
             f"smallest ratio is {smallest!r}")
    objectives = summary.objectives
    if "distribution_sar" in objectives and not summary.solver.gaps:
        best = min(target, sar_reachable(instance, plan_values, needs, floors))
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
