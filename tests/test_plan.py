"""Hand-computed pool plans and distributions; every plan goes through the verifier."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import pledge, state

from planner.optimise.solve import SolverOptions
from planner.pipeline import RunResult, run

pytestmark = pytest.mark.solver

# Shares A 0.4, B 0.2, C 0.2, D 0.2; 100 relocations or EUR 2,000,000: rate EUR 20,000.
THREE_PLUS_ONE = [state("AA", 2_000_000, 20_000), state("BB"), state("CC"),
                  state("DD", benefitting="true", status="pressure")]


# Art. 63(3)'s trigger at 60 % of the proposal's (here the pool's) 100 relocations, with the
# thresholds enforced: the pool-based trigger these tests were written for (mandatory_basis
# "pool" before issue 14).
OLD_TRIGGER = ('[offsets]\nmandatory_basis = "proposal"\nmandatory_proposal_share = 0.6\n'
               "enforce_voluntary = true\n")


def plan(folder: Path, backend: str) -> RunResult:
    """Plan `folder` with the back-end `backend` alone (the `backend` fixture: each one)."""
    return run(folder, folder.parent / f"out-{backend}", SolverOptions(backend, fallback=False))


def amounts(result: RunResult) -> dict[str, float]:
    return {row.pledge_id: row.amount for row in result.tables.plan}


def allocation(result: RunResult, column: str) -> dict[str, float]:
    return {row.state: getattr(row, column) for row in result.tables.allocation}


def flows(result: RunResult) -> dict[tuple[str, str], float]:
    return {(row.pledge_id, row.beneficiary): row.amount for row in result.tables.distribution}


def test_three_contributors_one_beneficiary(make_instance, backend):
    folder = make_instance(THREE_PLUS_ONE, [
        pledge("a", "AA", "relocation", 0, 100),
        pledge("b", "BB", "financial", 0, 1_000_000),
        pledge("c", "CC", "offset", 20, 20),
    ], needs=[{"state": "DD", "measure": "relocation", "amount": 50}])
    result = plan(folder, backend)
    # Each gives exactly its obligation: 40 persons, 20 x EUR 20,000, 20 offsets.
    assert amounts(result) == {"a": 40, "b": 400_000, "c": 20}
    assert allocation(result, "value") == {"AA": 40, "BB": 20, "CC": 20, "DD": 0}
    assert result.summary.totals.shortfall == 0
    # No responsibility.csv: the offsets count toward no benefitting state (empty beneficiary).
    assert flows(result) == {("a", "DD"): 40, ("b", "DD"): 400_000, ("c", ""): 20}


def test_shortfall_is_a_result(make_instance, backend):
    folder = make_instance(THREE_PLUS_ONE, [
        pledge("a", "AA", "relocation", 0, 100),
        pledge("b", "BB", "financial", 0, 200_000),  # 10 of its 20
    ])
    result = plan(folder, backend)
    assert allocation(result, "shortfall") == {"AA": 0, "BB": 10, "CC": 20, "DD": 0}
    assert allocation(result, "balance")["BB"] == -10
    assert result.summary.totals.shortfall == 30
    assert result.summary.status == "optimal"


def test_preference_ranks_come_first(make_instance, backend):
    folder = make_instance(THREE_PLUS_ONE, [
        pledge("a-rel", "AA", "relocation", 0, 100, preference=2),
        pledge("a-eur", "AA", "financial", 0, 500_000, preference=1),
    ], needs=[{"state": "DD", "measure": "relocation", "amount": 1000}])
    # Although relocations are what DD needs, AA's own ranking decides: EUR 500,000 (25) first.
    assert amounts(plan(folder, backend)) == {"a-rel": 15, "a-eur": 500_000}


def test_equal_ranks_follow_needs(make_instance, backend):
    folder = make_instance(THREE_PLUS_ONE, [
        pledge("a-rel", "AA", "relocation", 0, 30),
        pledge("a-eur", "AA", "financial", 0, 800_000),
    ], needs=[{"state": "DD", "measure": "relocation", "amount": 100},
              {"state": "DD", "measure": "financial", "amount": 100_000}])
    # Ratio relocation x/100 vs money (40-x)*20000/100000: max-min takes x = 30 (the most),
    # money 10 x 20000 = 200,000 (ratio 2 > 0.3).
    assert amounts(plan(folder, backend)) == {"a-rel": 30, "a-eur": 200_000}


def test_value_never_exceeds_obligation_unless_minimums_force_it(make_instance, backend):
    folder = make_instance(THREE_PLUS_ONE, [
        pledge("a", "AA", "financial", 0, 5_000_000),  # could give 250, owes 40
        pledge("b", "BB", "relocation", 25, 30),  # its own minimum 25 > obligation 20
    ])
    result = plan(folder, backend)
    assert amounts(result) == {"a": 800_000, "b": 25}
    assert allocation(result, "balance") == {"AA": 0, "BB": 5, "CC": -20, "DD": 0}


def test_directed_pledges_and_balance_over_two_beneficiaries(make_instance, backend):
    states = [state("AA", 2_000_000, 20_000), state("BB"), state("CC"),
              state("DD", benefitting="true"), state("EE", benefitting="true")]
    folder = make_instance(states, [
        pledge("a", "AA", "relocation", 0, 40),
        pledge("b", "BB", "relocation", 20, 20, beneficiary="DD"),
        pledge("c", "CC", "financial", 0, 400_000),
    ], needs=[{"state": "DD", "measure": "relocation", "amount": 30},
              {"state": "EE", "measure": "relocation", "amount": 10}],
        relocations=120, financial=2_400_000)
    result = plan(folder, backend)
    # Shares 1/3, 1/6, 1/6 of 120: 40, 20, 20. Balance: (20 + x) / 30 = (40 - x) / 10, x = 25.
    assert amounts(result) == {"a": 40, "b": 20, "c": 400_000}
    # No financial need stated: money follows total stated needs, 30 : 10.
    assert flows(result) == {("a", "DD"): 25, ("a", "EE"): 15, ("b", "DD"): 20,
                             ("c", "DD"): 300_000, ("c", "EE"): 100_000}
    ratios = {(r.beneficiary, r.measure.value): r.ratio for r in result.tables.coverage}
    assert ratios[("DD", "relocation")] == pytest.approx(1.5)
    assert ratios[("EE", "relocation")] == pytest.approx(1.5)


def test_leximin_raises_the_second_smallest(make_instance, backend):
    states = [state("AA", 2_000_000, 20_000), state("BB"), state("CC"),
              state("DD", benefitting="true"), state("EE", benefitting="true"),
              state("FF", benefitting="true")]
    folder = make_instance(states, [
        pledge("a", "AA", "relocation", 30, 30, beneficiary="DD;EE"),
        pledge("b", "BB", "relocation", 3, 3, beneficiary="FF"),
    ], needs=[{"state": s, "measure": "relocation", "amount": 10} for s in ("DD", "EE", "FF")],
        relocations=140)
    # FF is stuck at 3/10; the max-min alone would leave DD/EE arbitrary, leximin splits 15/15.
    assert flows(plan(folder, backend)) == {("a", "DD"): 15, ("a", "EE"): 15, ("b", "FF"): 3}


def test_sar_share(make_instance, backend):
    states = [state("AA", 2_000_000, 20_000), state("BB"), state("CC"),
              state("DD", benefitting="true"), state("EE", benefitting="true")]
    folder = make_instance(states, [pledge("a", "AA", "financial", 800_000, 800_000)],
                           needs=[{"state": "DD", "measure": "financial", "amount": 900_000},
                                  {"state": "EE", "measure": "financial", "amount": 100_000}],
                           relocations=120, financial=2_400_000,
                           extra_toml='[distribution]\nsar_share = 0.5\nsar_states = ["EE"]\n')
    # Needs alone would give EE 80,000; the SAR share reserves half of the pool for it.
    result = plan(folder, backend)
    assert flows(result) == {("a", "DD"): 400_000, ("a", "EE"): 400_000}
    assert result.summary.distribution.sar_met is True


def test_offsets_trigger_and_mandatory_offsets(make_instance, backend):
    folder = make_instance(THREE_PLUS_ONE, [
        pledge("a", "AA", "relocation", 0, 10),
        pledge("a2", "AA", "financial", 0, 1_000_000),
        pledge("b", "BB", "offset", 0, 30, preference=2),
        pledge("b2", "BB", "financial", 0, 1_000_000),
        pledge("c", "CC", "offset", 0, ""),
    ], extra_toml=OLD_TRIGGER)
    result = plan(folder, backend)
    off = result.summary.offsets
    # Pledged relocations 10 < 0.6 x 100: gap 50, spread by key (0.4, 0.2, 0.2) over AA, BB,
    # CC (none voluntary under enforcement) within their fair shares minus relocations (30,
    # 20, 20): 25, 12.5, 12.5; whole persons, the tie to the lower code: 25, 13, 12. AA
    # pledged no offset row: its 25 are owed, not planned.
    assert off.mandatory_triggered is True and off.gap == 50
    assert off.mandatory_owed == {"AA": 25, "BB": 13, "CC": 12}
    assert off.mandatory == {"BB": 13, "CC": 12}
    assert off.mandatory_unplanned == {"AA": 25}
    assert off.unallocated == 0
    assert off.voluntary_allowed is False
    assert allocation(result, "offset") == {"AA": 0, "BB": 13, "CC": 12, "DD": 0}
    # BB prefers money for the rest of its 20: 7 x EUR 20,000. CC may not offset beyond its
    # mandatory 12 (thresholds enforced): a shortfall of 8.
    assert amounts(result)["b2"] == 140_000
    assert allocation(result, "shortfall")["CC"] == 8


def test_mandatory_offsets_spread_by_key_within_caps(make_instance, backend):
    folder = make_instance(THREE_PLUS_ONE, [
        pledge("a", "AA", "relocation", 0, 45),
        pledge("b", "BB", "offset", 0, ""),
        pledge("c", "CC", "offset", 0, 5),
    ], extra_toml=OLD_TRIGGER)
    off = plan(folder, backend).summary.offsets
    # Pledged 40 (capped at AA's obligation) < 60: gap 20, 10 each by key over BB and CC (AA's
    # fair share is all relocations). CC's offset row holds 5: 5 planned, 5 owed not planned;
    # BB's part stays 10 (another state's missing offsets are not passed on to it).
    assert (off.gap, off.mandatory_owed, off.unallocated) == (
        20, {"BB": 10, "CC": 10}, 0)
    assert (off.mandatory, off.mandatory_unplanned) == ({"BB": 10, "CC": 5}, {"CC": 5})


def test_no_trigger_when_relocations_suffice(make_instance, backend):
    folder = make_instance(THREE_PLUS_ONE, [
        pledge("a", "AA", "relocation", 0, 40), pledge("b", "BB", "relocation", 0, 20),
        pledge("c", "CC", "offset", 0, 20)], extra_toml=OLD_TRIGGER)
    off = plan(folder, backend).summary.offsets
    assert off.mandatory_triggered is False and off.voluntary_allowed is True
    assert off.voluntary_allowed_states == ["AA", "BB", "CC"]


def test_enforced_voluntary_offsets(make_instance, backend):
    folder = make_instance(THREE_PLUS_ONE, [
        pledge("a", "AA", "relocation", 0, 20), pledge("a2", "AA", "offset", 0, 40),
        pledge("b", "BB", "offset", 0, 20), pledge("b2", "BB", "financial", 0, 400_000,
                                                  preference=2)],
        extra_toml="[offsets]\nenforce_voluntary = true\nmandatory_share = 0\n"
                   "mandatory_proposal_share = 0\n")
    result = plan(folder, backend)
    # AA pledged 20 >= half of its 40: offsets allowed; BB pledged none: money instead.
    # AA's rows tie (both preference 1): the tie-break lets the first row (pledge id order)
    # take the most it can.
    assert result.summary.offsets.voluntary_allowed_states == ["AA"]
    assert amounts(result) == {"a": 20, "a2": 20, "b": 0, "b2": 400_000}


def test_eu_2026_plan(tmp_path):
    result = run(Path("instances/eu-2026"), tmp_path / "out", SolverOptions())
    alloc = {row.state: row for row in result.tables.allocation}
    assert (alloc["DE"].obligation, alloc["DE"].offset) == (4555, 4555)
    assert alloc["FR"].obligation == 3361
    assert all(alloc[c].obligation == 0 for c in ("AT", "PL", "HR", "CZ"))
    # HU and SK pledged nothing (their whole obligations, 2025 population); BG and MT pledge
    # less (215 - 100, 28 - 15); BE's announced EUR 12.9 million = 645 of its computed 647.
    assert {c: alloc[c].shortfall for c in ("HU", "SK", "BG", "MT", "BE")} == {
        "HU": 348, "SK": 207, "BG": 115, "MT": 13, "BE": 2}
    assert result.summary.totals.shortfall == 685
    assert result.summary.offsets.mandatory_triggered is True


def test_an_ad_hoc_contributor_has_no_share_and_gives_its_committed_minimums(make_instance,
                                                                              backend):
    # Art. 13(1): NO takes no part in the key (participates = false) but may contribute. The
    # shares stay AA 0.4, BB 0.2, CC 0.2, DD 0.2 over the four participants (NO's population
    # and GDP are not in the denominator); NO owes nothing, so the plan takes its committed
    # minimum (EUR 200,000 = 10 relocation-equivalents at EUR 20,000) and nothing of its
    # open relocation offer.
    states = [*THREE_PLUS_ONE, state("NO", 5_000_000, 400_000, participates="false")]
    folder = make_instance(states, [
        pledge("a", "AA", "relocation", 0, 100),
        pledge("n1", "NO", "financial", 200_000, 200_000),
        pledge("n2", "NO", "relocation", 0, 50),
    ], needs=[{"state": "DD", "measure": "relocation", "amount": 50}])
    result = plan(folder, backend)
    shares = {row.state: row.share for row in result.tables.allocation}
    assert shares["AA"] == pytest.approx(0.4) and shares["BB"] == pytest.approx(0.2)
    assert allocation(result, "obligation")["NO"] == 0
    assert amounts(result) == {"a": 40, "n1": 200_000, "n2": 0}
    assert allocation(result, "value")["NO"] == 10
    assert flows(result)[("n1", "DD")] == 200_000
