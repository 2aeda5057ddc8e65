"""The ledger of what was implemented (issue 15, item 1): implementation.csv and transfers.csv's
`date` column, loaded into `Instance.ledger` and checked with every problem at once. The
bad-input corpus holds one case per mistake as a user meets it (`implementation-*`,
`transfers-date-*`); these tests check what the loader keeps and the warnings."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from planner.errors import InputError
from planner.inputs.ledger import elapsed_fraction, ledger_warnings
from planner.inputs.load import load_instance

pytestmark = pytest.mark.unit

BASE = Path(__file__).parent / "data" / "bad" / "ok-base"
HEADER = "date,state,measure,amount,benefitting,reference\n"


def _instance(tmp_path: Path, ledger: str | None, transfers: str | None = None) -> Path:
    folder = tmp_path / "inst"
    shutil.copytree(BASE, folder)
    (folder / "expected.txt").unlink()
    if ledger is not None:
        (folder / "implementation.csv").write_text(ledger, encoding="utf-8")
    if transfers is not None:
        (folder / "transfers.csv").write_text(transfers, encoding="utf-8")
    return folder


def test_ledger_rows_and_transfer_dates_are_kept_in_file_order(tmp_path: Path) -> None:
    folder = _instance(tmp_path, HEADER + "2026-03-10,DE,offset,4,,DE-7\n"
                       "2026-02-10,be,financial,50000.5,it,BE-1\n"
                       "2026-04-01,CZ,financial,0,,\n",
                       "case_id,state,date\nC02,AT,2026-05-31\n")
    ledger = load_instance(folder).ledger
    assert ledger.has_file
    assert ledger.lines == (2, 3, 4)
    assert [(e.date, e.state, e.measure.value, e.amount, e.benefitting, e.reference)
            for e in ledger.entries] == [
        (dt.date(2026, 3, 10), "DE", "offset", 4.0, None, "DE-7"),
        (dt.date(2026, 2, 10), "BE", "financial", 50000.5, "IT", "BE-1"),
        (dt.date(2026, 4, 1), "CZ", "financial", 0.0, None, ""),
    ]
    assert ledger.transfer_dates == {"C02": dt.date(2026, 5, 31)}


def test_no_ledger_file_is_an_empty_ledger(tmp_path: Path) -> None:
    ledger = load_instance(_instance(tmp_path, None)).ledger
    assert not ledger.has_file and ledger.entries == () and ledger.transfer_dates == {}


def test_the_ledger_does_not_change_the_plans_inputs(tmp_path: Path) -> None:
    """The annual plan reads neither the ledger nor the dates: the instance's input_sha256
    (summary.json, checked by the verifier) stays that of the files the plan reads."""
    without = load_instance(_instance(tmp_path / "a", None))
    with_ledger = load_instance(_instance(tmp_path / "b", HEADER + "2026-03-10,DE,offset,4,,\n"))
    assert with_ledger.input_sha256 == without.input_sha256
    assert (with_ledger.states, with_ledger.pledges, with_ledger.transfers) == \
        (without.states, without.pledges, without.transfers)


def test_every_problem_of_a_ledger_at_once(tmp_path: Path) -> None:
    folder = _instance(tmp_path, HEADER +
                       "2026-02-10,BE,financial,50000,ES,R1\n"     # fine
                       "2025-12-31,BE,financial,10,IT,R2\n"        # before the cycle
                       "2026-02-30,XX,offset,1,IT,R3\n"            # no such day; XX unknown
                       "2026-03-01,DE,offset,2.5,AT,R1\n"          # half a person; AT; R1 again
                       "2026-03-01,AT,financial,10,DE,R5\n")       # AT pledged no money
    with pytest.raises(InputError) as caught:
        load_instance(folder)
    name = str(folder / "implementation.csv")
    assert [str(p) for p in caught.value.problems] == [
        f"{name}:3: date: 2025-12-31 is outside the cycle 2026 (2026-01-01 to 2026-12-31)",
        f"{name}:4: date: not an ISO date (YYYY-MM-DD)",
        f"{name}:5: amount: offset is counted in whole persons, got 2.5",
        f"{name}:5: benefitting: AT is not benefitting",
        f"{name}:5: reference: duplicate reference 'R1' (first on line 2)",
        f"{name}:6: benefitting: DE is not benefitting",
        f"{name}:6: measure: AT pledged no financial (pledges.csv)",
    ]


def test_a_misspelt_ledger_column_is_named(tmp_path: Path) -> None:
    folder = _instance(tmp_path, "date,state,measure,amount,benefiting\n"
                       "2026-02-10,BE,financial,5,IT\n")
    with pytest.raises(InputError) as caught:
        load_instance(folder)
    assert [str(p) for p in caught.value.problems] == [
        f"{folder / 'implementation.csv'}:1: benefiting: unknown column: did you mean "
        "'benefitting'?"]


def test_more_implemented_than_pledged_is_a_warning_on_the_line_it_happens(
        tmp_path: Path) -> None:
    """BE-2 offers at most EUR 200,000: the third payment passes it (120,000 + 60,000 +
    30,000 = 210,000); DE's offsets (at most 20) stay within. One warning per state and
    measure, and the instance loads."""
    folder = _instance(tmp_path, HEADER + "2026-02-10,BE,financial,120000,IT,\n"
                       "2026-03-10,DE,offset,20,,\n"
                       "2026-04-10,BE,financial,60000,ES,\n"
                       "2026-05-10,BE,financial,30000,ES,\n"
                       "2026-06-10,BE,financial,1,ES,\n")
    instance = load_instance(folder)
    assert [str(p) for p in ledger_warnings(instance)] == [
        f"{folder / 'implementation.csv'}:5: amount: BE has implemented 210,000 of financial "
        "by here, more than the 200,000 it pledged"]


def test_a_pledge_without_max_has_no_limit(tmp_path: Path) -> None:
    folder = _instance(tmp_path, HEADER + "2026-02-10,BE,financial,5000000,IT,\n")
    pledges = folder / "pledges.csv"
    pledges.write_text(pledges.read_text().replace("BE-2,BE,financial,0,200000,",
                                                   "BE-2,BE,financial,0,,"))
    assert ledger_warnings(load_instance(folder)) == []


def test_validate_prints_the_ledgers_warnings_and_succeeds(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from planner.cli import app

    folder = _instance(tmp_path, HEADER + "2026-02-10,BE,financial,250000,IT,\n")
    result = CliRunner().invoke(app, ["validate", str(folder)])
    assert result.exit_code == 0
    assert result.stderr == (f"warning: {folder / 'implementation.csv'}:2: amount: BE has "
                             "implemented 250,000 of financial by here, more than the 200,000 "
                             "it pledged\n")


def test_a_broken_pledge_row_does_not_make_the_ledger_look_unpledged(tmp_path: Path) -> None:
    """BE-2 (BE's money) does not parse: what BE pledged is not known, so BE's payments in
    the ledger are not called unpledged; the pledge row's own problem is the only one."""
    folder = _instance(tmp_path, HEADER + "2026-02-10,BE,financial,5000,IT,\n")
    pledges = folder / "pledges.csv"
    pledges.write_text(pledges.read_text().replace("BE-2,BE,financial,0,200000,",
                                                   "BE-2,BE,financial,abc,200000,"))
    with pytest.raises(InputError) as caught:
        load_instance(folder)
    assert [str(p) for p in caught.value.problems] == [
        f"{folder / 'pledges.csv'}:4: min: not a number: 'abc'"]


def _starting(folder: Path, start: str) -> Path:
    toml = folder / "instance.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        "cycle = 2026\n", f"cycle = 2026\ncycle_start = {start}\n"), encoding="utf-8")
    return folder


def test_a_cycle_from_12_june_counts_its_days_from_there(tmp_path: Path) -> None:
    """The 2026 cycle runs from 12 June (the Pact's date of application): 12 June to 31
    December is 19 + 31 + 31 + 30 + 31 + 30 + 31 = 203 days; 30 June is its 19th. Without
    `cycle_start` the year counts from 1 January: 30 June is day 181 of 365."""
    started = load_instance(_starting(_instance(tmp_path / "a", None), "2026-06-12")).config
    assert started.cycle_days == (dt.date(2026, 6, 12), dt.date(2026, 12, 31))
    assert elapsed_fraction(started, dt.date(2026, 6, 30)) == 19 / 203
    assert elapsed_fraction(started, dt.date(2026, 12, 31)) == 1.0
    plain = load_instance(_instance(tmp_path / "b", None)).config
    assert elapsed_fraction(plain, dt.date(2026, 6, 30)) == 181 / 365


def test_ledger_and_transfer_dates_before_the_cycle_start_are_refused(tmp_path: Path) -> None:
    folder = _starting(_instance(tmp_path, HEADER + "2026-06-11,DE,offset,4,,\n"
                                 "2026-06-12,DE,offset,1,,\n",
                                 "case_id,state,date\nC02,AT,2026-03-01\n"), "2026-06-12")
    with pytest.raises(InputError) as caught:
        load_instance(folder)
    assert [str(p) for p in caught.value.problems] == [
        f"{folder / 'transfers.csv'}:2: date: 2026-03-01 is outside the cycle 2026 "
        "(2026-06-12 to 2026-12-31)",
        f"{folder / 'implementation.csv'}:2: date: 2026-06-11 is outside the cycle 2026 "
        "(2026-06-12 to 2026-12-31)"]


def test_a_cycle_start_in_another_year_is_refused(tmp_path: Path) -> None:
    folder = _starting(_instance(tmp_path, None), "2025-06-12")
    with pytest.raises(InputError) as caught:
        load_instance(folder)
    assert [p.message for p in caught.value.problems] == [
        "cycle_start 2025-06-12 is not in the cycle 2026"]
