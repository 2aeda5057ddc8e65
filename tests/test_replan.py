"""Re-plans of the rest of the year (issue 15, item 3, and its tests of item 6): the ledger and
the transfers up to the date fixed, pacing on and off, the neutral re-plan byte for byte the
annual plan, determinism, and the verifier accepting re-plans and rejecting broken ones.

The small instance is the bad-input corpus's ok-base (its annual plan: AT-1 5 places, BE-1 6,
BE-2 EUR 0, CZ-1 EUR 60,000, DE-1 10, DE-2 20 offsets; BE's obligation 6, DE's 42)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import math
import shutil
from collections import Counter
from pathlib import Path

import pytest

from planner.inputs.load import load_instance
from planner.pipeline import Plan, plan, render, replan, verify

pytestmark = pytest.mark.solver

REPO = Path(__file__).resolve().parents[1]
BASE = Path(__file__).parent / "data" / "bad" / "ok-base"
HEADER = "date,state,measure,amount,benefitting,reference\n"
JUNE = dt.date(2026, 6, 30)


def _folder(tmp_path: Path, ledger: str | None = None,
            transfers: str = "case_id,state\nC02,AT\n") -> Path:
    folder = tmp_path / "inst"
    shutil.copytree(BASE, folder)
    (folder / "expected.txt").unlink()
    if ledger is not None:
        (folder / "implementation.csv").write_text(HEADER + ledger, encoding="utf-8")
    (folder / "transfers.csv").write_text(transfers, encoding="utf-8")
    return folder


def _eu_without_ledger(tmp_path: Path) -> Path:
    """A copy of eu-2026 without its synthetic ledger (implementation.csv)."""
    eu = tmp_path / "eu-2026"
    shutil.copytree(REPO / "instances" / "eu-2026", eu)
    (eu / "implementation.csv").unlink()
    return eu


def _rows(result: Plan, table: str) -> dict[str, dict[str, object]]:
    rows = getattr(result.tables, table)
    return {r.pledge_id if table == "plan" else r.state: r.model_dump() for r in rows}


def _untimed(files: dict[str, bytes]) -> dict[str, object]:
    out: dict[str, object] = dict(files)
    summary = json.loads(files["summary.json"])
    summary.pop("timings_s")
    out["summary.json"] = summary
    return out


def test_a_replan_keeps_what_the_ledger_fixed(tmp_path: Path, backend: str) -> None:
    """BE paid EUR 150,000 by March (7.5 relocation-equivalents, more than its obligation of
    6): fixed, so BE-2 gives 150,000 and, a state giving no more than its obligation unless
    its own minimums force it, BE-1 no relocation. DE's 3 offsets are within the 20 planned.
    CZ's payment of July is after the date: not fixed (CZ-1 as in the annual plan)."""
    folder = _folder(tmp_path, "2026-03-01,BE,financial,150000,IT,BE-P1\n"
                               "2026-06-30,DE,offset,3,,DE-O1\n"
                               "2026-07-01,CZ,financial,40000,,CZ-P1\n")
    instance = load_instance(folder)
    annual = plan(instance, solver=backend)
    result = replan(instance, JUNE, pacing=0, solver=backend)
    assert verify(result) == []
    before, after = _rows(annual, "plan"), _rows(result, "plan")
    assert (before["BE-1"]["amount"], before["BE-2"]["amount"]) == (6, 0)
    assert (after["BE-1"]["amount"], after["BE-2"]["amount"]) == (0, 150000)
    assert (after["BE-2"]["min"], after["DE-2"]["min"], after["CZ-1"]["min"]) == (150000, 3, 0)
    assert after["DE-2"]["amount"] == 20 and after["CZ-1"]["amount"] == 60000
    allocation = _rows(result, "allocation")
    assert (allocation["BE"]["value"], allocation["BE"]["balance"]) == (7.5, 1.5)
    assert result.summary.replan is not None
    assert result.summary.replan.fixed == {"BE": {"financial": 150000.0},
                                           "DE": {"offset": 3.0}}
    # The annual plan of the same files ignores the ledger.
    assert annual.summary.replan is None and annual.tables == plan(
        load_instance(_folder(tmp_path / "bare")), solver=backend).tables


def test_a_replan_keeps_the_transfers_up_to_the_date(tmp_path: Path, backend: str) -> None:
    """C02 went to AT in May; C05's transfer to DE is dated September: at 30 June C05 is a
    candidate like any other (matched, not as a transfer), at 30 September both are kept."""
    instance = load_instance(_folder(tmp_path, transfers="case_id,state,date\n"
                                     "C02,AT,2026-05-01\nC05,DE,2026-09-01\n"))
    june = replan(instance, JUNE, pacing=0, solver=backend)
    september = replan(instance, dt.date(2026, 9, 30), pacing=0, solver=backend)
    for result in (june, september):
        assert verify(result) == []
    reasons = {(r.case_id, r.to_state): r.reasons for r in june.tables.assignments}
    assert reasons[("C02", "AT")][0] == "transfer"
    assert all(not why or why[0] != "transfer" for (case, _), why in reasons.items()
               if case != "C02")
    assert june.summary.replan is not None and september.summary.replan is not None
    assert (june.summary.replan.transferred, june.summary.replan.transfers_after) == (
        {"AT": 1}, 1)
    assert (september.summary.replan.transferred,
            september.summary.replan.transfers_after) == ({"AT": 1, "DE": 1}, 0)
    moved = {(r.case_id, r.to_state, r.reasons[0]) for r in september.tables.assignments
             if r.reasons and r.reasons[0] == "transfer"}
    assert moved == {("C02", "AT", "transfer"), ("C05", "DE", "transfer")}


def _new_placements(result: Plan) -> Counter[str]:
    return Counter(r.to_state for r in result.tables.assignments
                   if not r.reasons or r.reasons[0] != "transfer")


def test_pacing_on_and_off(tmp_path: Path, backend: str) -> None:
    """At 30 June with pacing 1 (caps by hand in test_replan_rules::test_pacing_caps_by_hand:
    AT 1, BE 2, DE 2 new persons): C02 (transferred to AT) plus 5 new persons, 4 fewer than
    without pacing (AT 0 + BE 4 + DE 5 new); plan.csv and distribution.csv keep the year's
    places, the persons left are `capacity`. Pacing 0: the annual plan's matching."""
    instance = load_instance(_folder(tmp_path))
    off = replan(instance, JUNE, pacing=0, solver=backend)
    on = replan(instance, JUNE, pacing=1.0, solver=backend)
    annual = plan(instance, solver=backend)
    assert verify(on) == [] and verify(off) == []
    assert _new_placements(off) == _new_placements(annual) == Counter({"DE": 5, "BE": 4})
    assert _new_placements(on) == Counter({"AT": 1, "BE": 2, "DE": 2})
    assert on.summary.matching.persons_assigned == 6
    assert on.summary.matching.unassigned_by_reason["capacity"] == 4
    assert on.summary.replan is not None
    assert on.summary.replan.placements_cap == {"AT": 1, "BE": 2, "DE": 2}
    assert on.summary.replan.places_paced == {"AT-1": 2, "BE-1": 2, "DE-1": 2}
    assert on.tables.plan == off.tables.plan == annual.tables.plan
    assert on.summary.matching.places == 6 and off.summary.matching.places == 21


def test_the_verifier_rejects_a_replan_beyond_its_pacing(tmp_path: Path) -> None:
    """The unpaced re-plan's files claiming pacing 1: the matching placed more than the paced
    places, and the summary's caps are not the ones recorded."""
    instance = load_instance(_folder(tmp_path))
    off = replan(instance, JUNE, pacing=0)
    assert off.summary.replan is not None
    claimed = dataclasses.replace(off, summary=off.summary.model_copy(update={
        "replan": off.summary.replan.model_copy(update={"pacing": 1.0})}))
    problems = [str(p) for p in verify(claimed)]
    assert "summary.json:0: replan.placements_cap: {}, the inputs give {'AT': 1, 'BE': 2, " \
        "'DE': 2}" in problems
    assert "assignments.csv:0: pledge_id: BE-1 takes 4 persons in all, plan.csv gives it 2" \
        in problems
    assert "assignments.csv:0: pledge_id: DE-1 takes 5 persons in all, plan.csv gives it 2" \
        in problems


def test_the_verifier_rejects_a_replan_below_the_ledger(tmp_path: Path) -> None:
    """A re-plan's files checked against the instance as of a later date, when BE had paid:
    plan.csv gives less than the ledger fixed."""
    folder = _folder(tmp_path, "2026-03-01,BE,financial,150000,IT,BE-P1\n")
    instance = load_instance(folder)
    early = replan(instance, dt.date(2026, 2, 1), pacing=0)
    assert early.summary.replan is not None
    late = dataclasses.replace(early, summary=early.summary.model_copy(update={
        "replan": early.summary.replan.model_copy(update={"as_of": "2026-06-30",
                                                          "days_left": 184})}))
    from planner.inputs.asof import as_of_instance

    problems = [str(p) for p in verify(late, as_of_instance(instance, JUNE))]
    assert "plan.csv:0: amount: BE's financial rows give 0, less than the 150000 implemented " \
        "by 2026-06-30" in problems
    assert "summary.json:0: replan.fixed.BE.financial: None, implementation.csv gives 150000 " \
        "by 2026-06-30" in problems


def test_a_neutral_replan_on_an_empty_ledger_is_the_annual_plan_byte_for_byte(
        tmp_path: Path) -> None:
    """eu-2026 without its synthetic ledger and ok-base (with an undated transfer): every CSV
    byte for byte, summary.json the same but for its `replan` section (and the timings); the
    same with an empty implementation.csv."""
    cases = [load_instance(_eu_without_ledger(tmp_path)),
             load_instance(_folder(tmp_path / "a")),
             load_instance(_folder(tmp_path / "b", ledger=""))]
    for instance in cases:
        annual = _untimed(render(plan(instance)))
        again = _untimed(render(replan(instance, JUNE, pacing=0)))
        summary = again["summary.json"]
        assert isinstance(summary, dict)
        assert summary.pop("replan")["as_of"] == "2026-06-30"
        assert again == annual


def test_replans_are_deterministic(tmp_path: Path) -> None:
    instance = load_instance(_folder(tmp_path, "2026-03-01,BE,financial,150000,IT,BE-P1\n",
                                     "case_id,state,date\nC02,AT,2026-05-01\n"
                                     "C05,DE,2026-09-01\n"))
    first = _untimed(render(replan(instance, JUNE, pacing=1.0)))
    assert _untimed(render(replan(load_instance(instance.origin.folder), JUNE,
                                  pacing=1.0))) == first


def test_relocations_recorded_in_aggregate_are_not_matched_again(tmp_path: Path,
                                                                 backend: str) -> None:
    """No transfers; DE relocated 8 persons by April (ledger): DE-1's minimum becomes 8 (it
    gives its 10 places, as in the annual plan), and the matching, unpaced, fills only the 2
    places left (the annual plan of these files places C06 and C09, 4 persons, with DE; C05
    goes to BE-1, which serves ES too)."""
    instance = load_instance(_folder(tmp_path, "2026-04-01,DE,relocation,8,ES,DE-R1\n",
                                     transfers="case_id,state\n"))
    result = replan(instance, JUNE, pacing=0, solver=backend)
    assert verify(result) == []
    assert _rows(result, "plan")["DE-1"]["min"] == 8
    assert _rows(result, "plan")["DE-1"]["amount"] == 10
    assert _new_placements(plan(instance, solver=backend))["DE"] == 4
    assert _new_placements(result)["DE"] == 2
    assert result.summary.replan is not None
    assert result.summary.replan.places_paced == {"DE-1": 2}


def test_eu_2026_paced_at_mid_year(tmp_path: Path) -> None:
    """eu-2026 at 30 June, default pacing 1.25 over 31 of the 184 days left (factor
    1.25 x 31/184 = 0.2106, no transfers): FI 50 places -> ceil(10.53) = 11, FR 400 -> 85,
    LT 15 -> 4, LU 12 -> 3, PT 250 -> 53, RO 220 -> 47, SI 15 -> 4: 207 places, all filled
    from eu-2026's 1,200 candidates; the year's places stay in plan.csv. Without its synthetic
    ledger here (the ledger's own case is the next test)."""
    instance = load_instance(_eu_without_ledger(tmp_path))
    result = replan(instance, JUNE)
    assert verify(result) == []
    assert result.summary.replan is not None
    assert result.summary.replan.placements_cap == {"FI": 11, "FR": 85, "LT": 4, "LU": 3,
                                                    "PT": 53, "RO": 47, "SI": 4}
    assert result.summary.matching.places == result.summary.matching.persons_assigned == 207
    assert result.tables.plan == plan(instance).tables.plan


def test_eu_2026_paced_with_its_synthetic_ledger() -> None:
    """The same date with eu-2026's shipped ledger: the relocations it records in aggregate
    by 30 June (summed here from the file itself) are not placed again, so each cap is
    ceil(1.25 x 31/184 x (places - relocated)), places as in the test above."""
    places = {"FI": 50, "FR": 400, "LT": 15, "LU": 12, "PT": 250, "RO": 220, "SI": 15}
    relocated = Counter[str]()
    ledger = REPO / "instances" / "eu-2026" / "implementation.csv"
    for row in csv.DictReader(ledger.open(encoding="utf-8")):
        if row["measure"] == "relocation" and row["date"] <= "2026-06-30":
            relocated[row["state"]] += int(row["amount"])
    assert sum(relocated.values()) > 0  # the case this test is about
    result = replan(load_instance(REPO / "instances" / "eu-2026"), JUNE)
    assert verify(result) == []
    assert result.summary.replan is not None
    assert result.summary.replan.placements_cap == {
        state: math.ceil(1.25 * 31 / 184 * (n - relocated[state])) for state, n in places.items()}


def test_a_replan_sends_what_was_implemented_where_it_went(tmp_path: Path, backend: str
                                                          ) -> None:
    """By March BE paid EUR 150,000 towards ES and CZ EUR 40,000 towards IT; AT relocated 2
    persons towards ES, which its only row (AT-1, IT only) cannot serve. The re-plan's
    distribution sends BE's and CZ's money where it went (floors under its flows, which the
    balance does not move) and declares nothing of AT's: relocations are fixed by the transfers
    and the matching, not pinned by the ledger; the verifier re-checks the floors."""
    folder = _folder(tmp_path, "2026-03-01,BE,financial,150000,ES,BE-P1\n"
                               "2026-03-02,CZ,financial,40000,IT,CZ-P1\n"
                               "2026-03-03,AT,relocation,2,ES,AT-R1\n",
                     transfers="case_id,state\n")
    result = replan(load_instance(folder), JUNE, pacing=0, solver=backend)
    assert verify(result) == []
    sent: Counter[tuple[str, str, str]] = Counter()
    for row in result.tables.distribution:
        sent[(row.contributor, row.measure.value, row.beneficiary)] += row.amount
    assert sent[("BE", "financial", "ES")] == 150000  # all of BE-2 (its floor, 150,000)
    assert sent[("BE", "financial", "IT")] == 0
    assert sent[("CZ", "financial", "IT")] >= 40000
    assert result.summary.replan is not None
    assert result.summary.replan.not_distributed == {}
    # The verifier sees a distribution that does not send it there.
    moved = [row.model_copy(update={"beneficiary": "IT"}) if row.contributor == "BE"
             and row.measure.value == "financial" else row
             for row in result.tables.distribution]
    broken = dataclasses.replace(result, tables=dataclasses.replace(
        result.tables, distribution=moved))
    assert "distribution.csv:0: amount: BE-2 to ES: 0.00, less than the 150000.00 " \
        "implementation.csv records towards ES by 2026-06-30" in map(str, verify(broken))


def test_money_no_row_may_send_where_it_went_is_declared(tmp_path: Path) -> None:
    """CZ's only row (CZ-1, here for IT only) cannot send its EUR 40,000 paid towards ES
    there: summary.json declares it not distributed, and the verifier re-derives it."""
    folder = _folder(tmp_path, "2026-03-02,CZ,financial,40000,ES,CZ-P1\n")
    pledges = folder / "pledges.csv"
    pledges.write_text(pledges.read_text(encoding="utf-8").replace(
        "CZ-1,CZ,financial,0,100000,,", "CZ-1,CZ,financial,0,100000,IT,"), encoding="utf-8")
    result = replan(load_instance(folder), JUNE, pacing=0)
    assert verify(result) == []
    assert result.summary.replan is not None
    assert result.summary.replan.not_distributed == {"CZ": {"financial": {"ES": 40000.0}}}
    summary = result.summary.model_copy(update={"replan": result.summary.replan.model_copy(
        update={"not_distributed": {}})})
    assert "summary.json:0: replan.not_distributed.CZ.financial.ES: 0.00, the ledger and " \
        "plan.csv leave 40000.00 that no row may take" in map(
            str, verify(dataclasses.replace(result, summary=summary)))
