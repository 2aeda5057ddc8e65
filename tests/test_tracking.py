"""`planner track`'s numbers (issue 15, item 2), computed by hand: a year of three contributors
(AT, BE, CZ) and two benefitting states (IT, ES), tracked after three months (31 March: 90 of
the year's 365 days), under both readings of Art. 60(3); the independent verifier re-checking
them, and seeing a changed number; the changes since an earlier tracking (item 4).

The plan's flows are given as distribution rows (what `planner run` gives for these fixed,
directed pledges; tests/test_track_cli.py checks that it does), so no solver runs here.

EUR per relocation 20,000. The plan, in units (value in relocation-equivalents):
AT relocation 10 to IT (10), AT financial 200,000 to ES (10); BE financial 400,000 to IT (20);
CZ alternative 100,000 to ES (5), CZ relocation 5 to ES (5). Pool: 50.

The ledger to 31 March: AT pays 100,000 to ES (5) and relocates 2 to IT (2): 7 of 20, 35 %;
BE pays 100,000 + 100,000 to IT: 10 of 20, 50 %; CZ delivers 25,000 of alternative measures
to ES (1.25): 1.25 of 10, 12.5 %; CZ's 5 relocations on 2 April come after the date. Pool:
18.25 of 50, 36.5 %.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from conftest import pledge, state, write_csv

from models.instance import Measure
from models.results import DistributionRow
from models.tracking import ContributorRow, ReceivedRow, TrackingRow
from planner.inputs.load import load_instance
from planner.outputs.fileio import table_bytes
from planner.outputs.registry import DISTRIBUTION, TRACKING
from planner.report.tracking import elapsed_fraction, track
from planner.tracking import tracking_files
from planner.verifier.tracking import verify_tracking

pytestmark = pytest.mark.unit

AS_OF = dt.date(2026, 3, 31)
F = 90 / 365  # elapsed: 1 January to 31 March, both counted
LEDGER = """date,state,measure,amount,benefitting,reference
2026-01-15,AT,financial,100000,ES,AT-F1
2026-02-20,BE,financial,100000,IT,BE-F1
2026-03-10,BE,financial,100000,IT,BE-F2
2026-03-31,AT,relocation,2,IT,AT-R1
2026-02-01,CZ,alternative,25000,ES,CZ-A1
2026-04-02,CZ,relocation,5,ES,CZ-R1
"""
FLOWS = [("AT", "ES", "financial", 200_000, "AT-2"), ("AT", "IT", "relocation", 10, "AT-1"),
         ("BE", "IT", "financial", 400_000, "BE-1"), ("CZ", "ES", "alternative", 100_000, "CZ-1"),
         ("CZ", "ES", "relocation", 5, "CZ-2")]


def three_months(folder: Path) -> Path:
    """The instance: pledges fixed (min = max) and each directed to one benefitting state."""
    folder.mkdir(parents=True)
    (folder / "instance.toml").write_text('name = "three months"\ncycle = 2026\n\n[pool]\n'
                                          "relocations = 100\nfinancial_eur = 2000000\n")
    write_csv(folder / "member_states.csv", [
        state("AT"), state("BE"), state("CZ"),
        state("IT", benefitting="true", status="pressure"),
        state("ES", benefitting="true", status="pressure")])
    write_csv(folder / "pledges.csv", [
        pledge("AT-1", "AT", "relocation", 10, 10, beneficiary="IT"),
        pledge("AT-2", "AT", "financial", 200000, 200000, beneficiary="ES"),
        pledge("BE-1", "BE", "financial", 400000, 400000, beneficiary="IT"),
        pledge("CZ-1", "CZ", "alternative", 100000, 100000, beneficiary="ES"),
        pledge("CZ-2", "CZ", "relocation", 5, 5, beneficiary="ES")])
    write_csv(folder / "needs.csv", [
        {"state": "IT", "measure": "relocation", "amount": 50},
        {"state": "ES", "measure": "relocation", "amount": 50},
        {"state": "IT", "measure": "financial", "amount": 1000000},
        {"state": "ES", "measure": "financial", "amount": 1000000}])
    (folder / "implementation.csv").write_text(LEDGER)
    return folder


def flows() -> list[DistributionRow]:
    return [DistributionRow(contributor=c, beneficiary=b, measure=Measure(m), amount=a,
                            pledge_id=p, value=a if m == "relocation" else a / 20_000)
            for c, b, m, a, p in FLOWS]


def row(contributor: str, measure: str, benefitting: str, planned: float, implemented: float,
        own: float, pool: float, unit: float) -> TrackingRow:
    """A row from its planned and implemented amounts and the two shares, by the formulas of
    models.tracking.TrackingRow (the values below are checked against them by hand)."""
    return TrackingRow(contributor=contributor, measure=Measure(measure),
                       benefitting=benefitting, planned=planned, implemented=implemented,
                       share=implemented / planned, target=planned * F,
                       ahead=implemented - planned * F,
                       ahead_value=(implemented - planned * F) * unit,
                       remaining=planned - implemented, target_contributor=planned * own,
                       pace_contributor=implemented - planned * own, target_pool=planned * pool,
                       pace_pool=implemented - planned * pool)


def _approx(rows: list[TrackingRow] | list[ContributorRow] | list[ReceivedRow]
            ) -> list[dict[str, object]]:
    return [{k: pytest.approx(v, abs=1e-9) if isinstance(v, float) else v
             for k, v in r.model_dump().items()} for r in rows]


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory):
    return load_instance(three_months(tmp_path_factory.mktemp("track") / "three-months"))


def test_elapsed_fraction_counts_the_days_of_the_cycle(instance) -> None:
    config = instance.config
    leap = config.model_copy(update={"cycle": 2028})
    assert elapsed_fraction(config, dt.date(2026, 1, 1)) == 1 / 365
    assert elapsed_fraction(config, AS_OF) == 90 / 365
    assert elapsed_fraction(config, dt.date(2026, 12, 31)) == 1.0
    assert elapsed_fraction(leap, dt.date(2028, 2, 29)) == 60 / 366  # a leap year: 366 days
    assert elapsed_fraction(leap, dt.date(2028, 12, 31)) == 1.0


def test_three_months_rows_under_both_readings(instance) -> None:
    t = track(instance, flows(), AS_OF, 0.1)
    # Each row by hand, planned x F for the target: e.g. AT financial to ES: target
    # 200,000 x 90/365 = 49,315.07, ahead 50,684.93 EUR = 2.534 relocation-equivalents;
    # reading (a): 200,000 x AT's 35 % = 70,000, pace +30,000; reading (b): 200,000 x 36.5 %
    # = 73,000, pace +27,000.
    assert t.rows[0].target == pytest.approx(49_315.068493150685)
    assert t.rows[0].ahead_value == pytest.approx(2.5342465753424657)
    assert (t.rows[0].target_contributor, t.rows[0].pace_contributor) == \
        pytest.approx((70_000, 30_000))
    assert (t.rows[0].target_pool, t.rows[0].pace_pool) == pytest.approx((73_000, 27_000))
    # AT relocation to IT: 2 of 10; (a) 10 x 35 % = 3.5, pace -1.5; (b) 3.65, pace -1.65.
    assert (t.rows[1].pace_contributor, t.rows[1].pace_pool) == pytest.approx((-1.5, -1.65))
    # BE at exactly its own pace: (a) 400,000 x 50 % = 200,000, pace 0.
    assert t.rows[2].pace_contributor == pytest.approx(0.0, abs=1e-9)
    assert _approx(t.rows) == _approx([
        row("AT", "financial", "ES", 200_000, 100_000, 0.35, 0.365, 1 / 20_000),
        row("AT", "relocation", "IT", 10, 2, 0.35, 0.365, 1),
        row("BE", "financial", "IT", 400_000, 200_000, 0.5, 0.365, 1 / 20_000),
        row("CZ", "alternative", "ES", 100_000, 25_000, 0.125, 0.365, 1 / 20_000),
        row("CZ", "relocation", "ES", 5, 0, 0.125, 0.365, 1)])


def test_three_months_contributors_pool_and_received(instance) -> None:
    t = track(instance, flows(), AS_OF, 0.1)
    assert _approx(t.contributors) == _approx([
        ContributorRow(contributor="AT", planned_value=20, implemented_value=7, share=0.35,
                       target_value=20 * F, ahead_value=7 - 20 * F, remaining_value=5 + 8,
                       pace_pool_value=7 - 20 * 0.365),
        ContributorRow(contributor="BE", planned_value=20, implemented_value=10, share=0.5,
                       target_value=20 * F, ahead_value=10 - 20 * F, remaining_value=10,
                       pace_pool_value=10 - 20 * 0.365),
        ContributorRow(contributor="CZ", planned_value=10, implemented_value=1.25,
                       share=0.125, target_value=10 * F, ahead_value=1.25 - 10 * F,
                       remaining_value=3.75 + 5, pace_pool_value=1.25 - 10 * 0.365)])
    assert t.pool.model_dump() == pytest.approx({
        "planned_value": 50, "implemented_value": 18.25, "share": 0.365,
        "target_value": 50 * F, "ahead_value": 18.25 - 50 * F})
    assert _approx(t.received) == _approx([
        ReceivedRow(beneficiary="ES", measure=Measure.alternative, distributed=100_000,
                    received=25_000, share=0.25),
        ReceivedRow(beneficiary="ES", measure=Measure.financial, distributed=200_000,
                    received=100_000, share=0.5),
        ReceivedRow(beneficiary="ES", measure=Measure.relocation, distributed=5, received=0,
                    share=0.0),
        ReceivedRow(beneficiary="IT", measure=Measure.financial, distributed=400_000,
                    received=200_000, share=0.5),
        ReceivedRow(beneficiary="IT", measure=Measure.relocation, distributed=10, received=2,
                    share=0.2)])
    assert (t.ledger_rows, t.transfers_counted) == (5, 0)  # CZ-R1 (2 April) not yet


def test_warnings_beyond_the_tolerance(instance) -> None:
    """Tolerance 0.1 (10 share points): CZ at 12.5 % is behind the calendar (24.7 % - 10) and
    the pool (36.5 % - 10); AT's relocations at 20 % lag AT's 35 % (reading a), CZ's at 0 %
    lag CZ's 12.5 %. At tolerance 0.15, only CZ against the pool (12.5 % < 36.5 % - 15) is
    left: CZ against the calendar (12.5 % >= 24.7 % - 15), AT's relocations (20 % >= 35 % - 15:
    exactly at the tolerance is within it) and CZ's (0 % >= 12.5 % - 15) pass."""
    assert track(instance, flows(), AS_OF, 0.1).warnings == [
        "behind the calendar: CZ has implemented 12.5 % of its plan by 2026-03-31, the "
        "pro-rata target is 24.7 % (1.22 relocation-equivalents behind; Art. 60(3))",
        "behind the pool (reading b): CZ has implemented 12.5 % of its plan, the pool 36.5 %",
        "behind its own pace (reading a): AT relocation to IT: 20.0 % implemented, AT's whole "
        "plan 35.0 %",
        "behind its own pace (reading a): CZ relocation to ES: 0.0 % implemented, CZ's whole "
        "plan 12.5 %"]
    assert track(instance, flows(), AS_OF, 0.15).warnings == [
        "behind the pool (reading b): CZ has implemented 12.5 % of its plan, the pool 36.5 %"]


def test_the_year_end_counts_everything(instance) -> None:
    t = track(instance, flows(), dt.date(2026, 12, 31), 0.1)
    assert t.elapsed == 1.0
    assert t.ledger_rows == 6
    cz = next(r for r in t.rows if (r.contributor, r.measure) == ("CZ", Measure.relocation))
    assert (cz.implemented, cz.target, cz.remaining) == (5, 5, 0)


def test_the_verifier_passes_the_tracking_and_sees_a_changed_number(instance) -> None:
    t = track(instance, flows(), AS_OF, 0.1)
    files = tracking_files(instance, t, None, "in memory")
    distribution = table_bytes(DISTRIBUTION, flows())
    assert verify_tracking(files, instance, distribution, AS_OF) == []
    # BE's implemented 200,000 written as 210,000: the ledger's sum, the derived columns and
    # the sums over contributors and benefitting states no longer agree.
    text = files[TRACKING.file].decode().replace("BE,financial,IT,400000,200000,",
                                                 "BE,financial,IT,400000,210000,")
    problems = verify_tracking({**files, TRACKING.file: text.encode()}, instance,
                               distribution, AS_OF)
    found = [str(p) for p in problems]
    assert found[0] == "tracking.csv:4: implemented: 210000, the ledger and transfers sum to " \
        "200000"
    assert "tracking.csv:4: share: 0.5, recomputed 0.525" in found
    assert any(p.file == "tracking_contributors.csv" and p.column == "implemented_value"
               for p in problems)
    assert any(p.file == "tracking_summary.json" and p.column == "pool.implemented_value"
               for p in problems)
    # A plan that gave BE less: the planned column no longer matches the flows.
    other = table_bytes(DISTRIBUTION, [f if f.contributor != "BE" else
                                       f.model_copy(update={"amount": 300_000.0})
                                       for f in flows()])
    assert "tracking.csv:4: planned: 400000, the plan's flows sum to 300000" in \
        [str(p) for p in verify_tracking(files, instance, other, AS_OF)]


def test_dated_transfers_count_from_their_date(tmp_path: Path) -> None:
    """ok-base's C02 (one person, P03, from IT) transferred to AT: counted from its date on; an
    undated transfer counts at any date."""
    folder = tmp_path / "inst"
    shutil.copytree(Path(__file__).parent / "data" / "bad" / "ok-base", folder)
    (folder / "transfers.csv").write_text("case_id,state,date\nC02,AT,2026-05-31\n")
    dated = load_instance(folder)
    plan = [DistributionRow(contributor="AT", beneficiary="IT", measure=Measure.relocation,
                            amount=5, pledge_id="AT-1", value=5)]
    before = track(dated, plan, dt.date(2026, 5, 30), 0.1)
    after = track(dated, plan, dt.date(2026, 5, 31), 0.1)
    assert (before.rows[0].implemented, before.transfers_counted) == (0, 0)
    assert (after.rows[0].implemented, after.transfers_counted) == (1, 1)
    (folder / "transfers.csv").write_text("case_id,state\nC02,AT\n")
    undated = track(load_instance(folder), plan, dt.date(2026, 1, 1), 0.1)
    assert undated.rows[0].implemented == 1
