"""The re-plan's rules without a solver (issue 15, item 3): the instance as of a date
(planner.inputs.asof: what is fixed) and the pacing's caps and cuts (planner.optimise.pacing),
each against numbers worked out by hand."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from models.instance import Measure, Pledge
from planner.errors import InputError
from planner.inputs.asof import as_of_instance, floors, implemented, transfers_as_of
from planner.inputs.load import load_instance
from planner.optimise.pacing import (
    Pacing,
    cut_flows,
    days_left,
    paced_places,
    placement_caps,
    transferred_persons,
)

pytestmark = pytest.mark.unit

BASE = Path(__file__).parent / "data" / "bad" / "ok-base"
LEDGER = ("date,state,measure,amount,benefitting,reference\n"
          "2026-03-01,BE,financial,150000,IT,BE-P1\n"
          "2026-06-30,DE,offset,3,,DE-O1\n"
          "2026-07-01,CZ,financial,40000,,CZ-P1\n")
TRANSFERS = "case_id,state,date\nC02,AT,2026-05-01\nC05,DE,2026-09-01\n"
JUNE = dt.date(2026, 6, 30)


def _folder(tmp_path: Path, ledger: str = LEDGER, transfers: str = TRANSFERS) -> Path:
    folder = tmp_path / "inst"
    shutil.copytree(BASE, folder)
    (folder / "expected.txt").unlink()
    (folder / "implementation.csv").write_text(ledger, encoding="utf-8")
    (folder / "transfers.csv").write_text(transfers, encoding="utf-8")
    return folder


def test_the_ledger_up_to_the_date_is_fixed_and_later_rows_are_not(tmp_path: Path) -> None:
    instance = load_instance(_folder(tmp_path))
    # The as-of date itself counts (DE's offset on 30 June); CZ's payment of 1 July does not.
    assert implemented(instance, JUNE) == {("BE", "financial"): 150000.0,
                                           ("DE", "offset"): 3.0}
    assert implemented(instance, dt.date(2026, 2, 28)) == {}
    replanned = as_of_instance(instance, JUNE)
    rows = {p.pledge_id: (p.min, p.max) for p in replanned.pledges}
    assert rows == {"AT-1": (2, 6), "BE-1": (0, 8), "BE-2": (150000, 200000),
                    "CZ-1": (0, 100000), "DE-1": (5, 10), "DE-2": (3, 20)}


def test_transfers_dated_after_the_date_are_not_transfers_yet(tmp_path: Path) -> None:
    instance = load_instance(_folder(tmp_path))
    assert transfers_as_of(instance, JUNE) == (("C02", "AT"),)
    assert transfers_as_of(instance, dt.date(2026, 9, 1)) == (("C02", "AT"), ("C05", "DE"))
    assert transfers_as_of(instance, dt.date(2026, 4, 30)) == ()
    replanned = as_of_instance(instance, JUNE)
    assert replanned.transfers == (("C02", "AT"),)
    assert replanned.origin.transfer_lines == {"C02": 2}
    # Undated rows are transfers at any date, as in the annual plan.
    undated = load_instance(_folder(tmp_path / "u", transfers="case_id,state\nC02,AT\n"))
    assert transfers_as_of(undated, dt.date(2026, 1, 1)) == (("C02", "AT"),)


def test_an_empty_ledger_leaves_the_instance_as_it_is(tmp_path: Path) -> None:
    instance = load_instance(_folder(tmp_path, ledger=LEDGER.splitlines()[0] + "\n",
                                     transfers="case_id,state\nC02,AT\n"))
    assert as_of_instance(instance, JUNE) == instance


def test_a_date_outside_the_cycle_is_an_input_problem(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    instance = load_instance(folder)
    with pytest.raises(InputError) as caught:
        as_of_instance(instance, dt.date(2027, 1, 1))
    assert [str(p) for p in caught.value.problems] == [
        f"{folder / 'instance.toml'}:0: cycle: --as-of 2027-01-01 is outside the cycle 2026 "
        "(2026-01-01 to 2026-12-31)"]


def _pledge(pid: str, preference: int, min_: float, max_: float | None) -> Pledge:
    return Pledge(pledge_id=pid, state="AA", measure=Measure.financial, min=min_, max=max_,
                  preference=preference)


def test_the_fixed_part_fills_the_preferred_rows_first_and_what_exceeds_them_the_last() -> None:
    rows = (_pledge("A-1", 2, 0, 100), _pledge("A-2", 1, 10, 50), _pledge("A-3", 3, 0, 30))
    # 120 implemented: A-2 (rank 1) takes 50, A-1 (rank 2) 70, A-3 nothing.
    assert floors(rows, {("AA", "financial"): 120}) == {"A-2": (50, 50), "A-1": (70, 100)}
    # 200, more than the 180 pledged: A-3, the last, takes the remaining 50 (20 beyond its
    # max of 30), its max raised to match.
    assert floors(rows, {("AA", "financial"): 200}) == {
        "A-2": (50, 50), "A-1": (100, 100), "A-3": (50, 50)}
    # 5, below A-2's own minimum of 10: nothing changes.
    assert floors(rows, {("AA", "financial"): 5}) == {}


def test_pacing_caps_by_hand(tmp_path: Path) -> None:
    """ok-base's plan gives AT-1 5 places, BE-1 6, DE-1 10; C02 (1 person) went to AT. At 30
    June 184 days are left; a period of 31 days at pacing 1: AT ceil(4 x 31/184 = 0.67) = 1,
    BE ceil(6 x 31/184 = 1.01) = 2, DE ceil(10 x 31/184 = 1.68) = 2; the matching's places
    are the transferred persons plus the cap: AT-1 2, BE-1 2, DE-1 2."""
    instance = as_of_instance(load_instance(_folder(tmp_path)), JUNE)
    amounts = {"AT-1": 5.0, "BE-1": 6.0, "BE-2": 0.0, "CZ-1": 60000.0, "DE-1": 10.0,
               "DE-2": 20.0}
    assert days_left(2026, JUNE) == 184
    assert transferred_persons(instance) == {"AT": 1}
    caps = placement_caps(instance, amounts, Pacing(JUNE, 1.0, 31))
    assert caps == {"AT": 1, "BE": 2, "DE": 2}
    assert paced_places(instance, amounts, caps, JUNE) == {"AT-1": 2, "BE-1": 2, "DE-1": 2}
    # 2.5 x: AT ceil(1.68) = 2, BE ceil(2.53) = 3, DE ceil(4.21) = 5.
    assert placement_caps(instance, amounts, Pacing(JUNE, 2.5, 31)) == {
        "AT": 2, "BE": 3, "DE": 5}
    # Within the last period the whole remainder is due: 10 days left, period 31.
    assert placement_caps(instance, amounts, Pacing(dt.date(2026, 12, 21), 1.0, 31)) == {
        "AT": 4, "BE": 6, "DE": 10}


def test_neutral_pacing_caps_nothing(tmp_path: Path) -> None:
    instance = as_of_instance(load_instance(_folder(tmp_path)), JUNE)
    amounts = {"AT-1": 5.0, "BE-1": 6.0, "DE-1": 10.0}
    assert placement_caps(instance, amounts, Pacing(JUNE, 0.0, 31)) == {}
    # On 31 December nothing is left to pace.
    assert placement_caps(instance, amounts, Pacing(dt.date(2026, 12, 31), 1.0, 31)) == {}


def test_the_flows_are_cut_to_the_paced_places_keeping_the_persons_placed() -> None:
    flows = [("R-1", "IT", 4.0), ("R-1", "ES", 3.0), ("R-2", "IT", 5.0), ("X-1", "ES", 9.0)]
    # R-1 paced at 5 with 2 placed from ES: ES keeps 2, the other 3 go in state order (ES
    # first: 1 more, up to its 3; then IT 2). R-2 paced at 0; X-1 not paced.
    assert cut_flows(flows, {"R-1": 5, "R-2": 0}, {("R-1", "ES"): 2}) == [
        ("R-1", "ES", 3.0), ("R-1", "IT", 2.0), ("R-2", "IT", 0.0), ("X-1", "ES", 9.0)]


def test_relocations_recorded_in_aggregate_leave_the_matching(tmp_path: Path) -> None:
    """No transfers; the ledger records 4 persons relocated by DE in April. DE's 10 places
    less those 4 leave 6: at pacing 1 ceil(6 x 31/184 = 1.01) = 2 new placements; without
    pacing the matching still sees only the 6 places not used (AT ceil(5 x 31/184) = 1, BE
    2 as before)."""
    folder = _folder(tmp_path, ledger="date,state,measure,amount,benefitting,reference\n"
                     "2026-04-01,DE,relocation,4,ES,DE-R1\n", transfers="case_id,state\n")
    instance = as_of_instance(load_instance(folder), JUNE)
    amounts = {"AT-1": 5.0, "BE-1": 6.0, "DE-1": 10.0}
    caps = placement_caps(instance, amounts, Pacing(JUNE, 1.0, 31))
    assert caps == {"AT": 1, "BE": 2, "DE": 2}
    assert paced_places(instance, amounts, caps, JUNE) == {"AT-1": 1, "BE-1": 2, "DE-1": 2}
    assert paced_places(instance, amounts, {}, JUNE) == {"DE-1": 6}
    assert paced_places(instance, amounts, {}, dt.date(2026, 3, 31)) == {}
