"""`planner track` end to end (issue 15, items 2 and 4), in this process through the command's
own function (typer's CliRunner): the hand-computed three months of tests/test_tracking.py
planned by `planner run` and tracked from its folder, from a plan made in memory, twice
(byte-identical), month against month (`--since`), and its refusals (exit 2).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from test_tracking import FLOWS, three_months
from typer.testing import CliRunner

from planner.cli import app

pytestmark = [pytest.mark.solver, pytest.mark.cli]

RUNNER = CliRunner()


def planner(*args: object) -> tuple[int, str, str]:
    result = RUNNER.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result.exit_code, result.stdout, result.stderr


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The three-months instance and its plan (`planner run`)."""
    root = tmp_path_factory.mktemp("track-cli")
    instance = three_months(root / "three-months")
    code, _, err = planner("run", instance, "--out", root / "run", "-q")
    assert code == 0, err
    return instance, root / "run"


def test_the_plan_gives_the_flows_the_hand_computation_assumes(planned) -> None:
    _, run = planned
    assert sorted((r["contributor"], r["beneficiary"], r["measure"], float(r["amount"]),
                   r["pledge_id"]) for r in rows(run / "distribution.csv")) == sorted(FLOWS)


def test_track_writes_the_tracking_and_names_who_is_behind(planned, tmp_path: Path) -> None:
    instance, run = planned
    out = tmp_path / "march"
    code, stdout, stderr = planner("track", instance, "--as-of", "2026-03-31", "--plan", run,
                                   "--out", out, "-q")
    assert (code, stderr) == (0, "")
    assert sorted(p.name for p in out.iterdir()) == [
        ".planner-results", "report.html", "tracking.csv", "tracking_contributors.csv",
        "tracking_received.csv", "tracking_summary.json"]
    first = rows(out / "tracking.csv")[0]
    assert first == {"contributor": "AT", "measure": "financial", "benefitting": "ES",
                     "planned": "200000", "implemented": "100000", "share": "0.5",
                     "target": "49315.068493151", "ahead": "50684.931506849",
                     "ahead_value": "2.534246575", "remaining": "100000",
                     "target_contributor": "70000", "pace_contributor": "30000",
                     "target_pool": "73000", "pace_pool": "27000"}
    # Only CZ is behind the calendar: 1.25 of 10 against 10 x 90/365 = 2.47.
    table = stdout.split("pool:")[0]
    assert "CZ" in table and "1.22" in table and "AT" not in table and "BE" not in table
    assert "warning: behind the calendar: CZ has implemented 12.5 %" in stdout
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 2 and 'data-table="tracking"' in page


def test_track_is_deterministic_and_plans_in_memory_alike(planned, tmp_path: Path) -> None:
    instance, run = planned
    for name, extra in (("a", ["--plan", run]), ("b", ["--plan", run]), ("c", [])):
        code, _, err = planner("track", instance, "--as-of", "2026-03-31", "--out",
                               tmp_path / name, "-q", *extra)
        assert code == 0, err
    files = ("tracking.csv", "tracking_contributors.csv", "tracking_received.csv")
    for name in (*files, "tracking_summary.json", "report.html"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    for name in files:  # the plan made in memory is the written one
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "c" / name).read_bytes()


def test_month_against_month(planned, tmp_path: Path) -> None:
    """February (59 days: nobody behind beyond 10 points) to March: AT's 2 relocations and
    BE's second 100,000 are new; CZ falls behind (ahead 1.25 - 10 x 59/365 = -0.366, then
    1.25 - 10 x 90/365 = -1.216; the change is taken from February's file as written, at nine
    decimals: -1.2157534247 + 0.366438356 = -0.8493150687); the plan is the same, so nothing
    moved."""
    instance, run = planned
    assert planner("track", instance, "--as-of", "2026-02-28", "--plan", run, "--out",
                   tmp_path / "feb", "-q")[0] == 0
    code, stdout, err = planner("track", instance, "--as-of", "2026-03-31", "--plan", run,
                                "--out", tmp_path / "mar", "--since", tmp_path / "feb", "-q")
    assert code == 0, err
    assert rows(tmp_path / "mar" / "tracking_changes.csv") == [
        {"kind": "implemented", "contributor": "AT", "measure": "relocation",
         "benefitting": "IT", "before": "0", "after": "2", "change": "2"},
        {"kind": "implemented", "contributor": "BE", "measure": "financial",
         "benefitting": "IT", "before": "100000", "after": "200000", "change": "100000"},
        {"kind": "behind", "contributor": "CZ", "measure": "", "benefitting": "",
         "before": "-0.366438356", "after": "-1.215753425", "change": "-0.849315069"}]
    assert "behind: CZ" in stdout
    # Against the run's folder: only the plan is known there, and it is the same.
    code, _, err = planner("track", instance, "--as-of", "2026-03-31", "--plan", run, "--out",
                           tmp_path / "mar2", "--since", run, "-q")
    assert code == 0, err
    assert rows(tmp_path / "mar2" / "tracking_changes.csv") == []


def test_refusals(planned, tmp_path: Path) -> None:
    instance, run = planned
    assert planner("track", instance, "--as-of", "2027-01-01", "--out", tmp_path / "x",
                   "-q")[::2] == (2, "--as-of: 2027-01-01 is outside the cycle 2026 "
                                     "(2026-01-01 to 2026-12-31)\n")
    assert planner("track", instance, "--as-of", "31.03.2026", "--out", tmp_path / "x",
                   "-q")[::2] == (2, "--as-of: '31.03.2026' is not a date (YYYY-MM-DD)\n")
    stale = tmp_path / "stale"
    stale.mkdir()
    for name in ("instance.toml", "member_states.csv", "pledges.csv", "needs.csv"):
        (stale / name).write_bytes((instance / name).read_bytes())
    with (stale / "needs.csv").open("a") as handle:
        handle.write("IT,alternative,500000\n")
    code, _, err = planner("track", stale, "--as-of", "2026-03-31", "--plan", run, "--out",
                           tmp_path / "y", "-q")
    assert (code, err) == (2, f"{run}:0: --plan: was planned from other inputs (summary.json "
                              "input_sha256 or variant differ): plan again with planner run\n")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_a_tracking_folder_is_replaced_by_the_next_tracking_only(planned, tmp_path: Path
                                                                 ) -> None:
    """The folder's marker says `track`: the next tracking into it replaces it (a monthly
    routine), a run may not, and a run's folder is not a tracking's."""
    instance, run = planned
    out = tmp_path / "monthly"
    for as_of in ("2026-02-28", "2026-03-31"):
        code, _, err = planner("track", instance, "--as-of", as_of, "--plan", run, "--out",
                               out, "-q")
        assert code == 0, err
    assert '"as_of": "2026-03-31"' in (out / "tracking_summary.json").read_text()
    assert planner("run", instance, "--out", out, "-q")[::2] == (
        2, f"--out: {out} holds a tracking (planner track), not a run's results: choose "
           "another --out, or remove that folder first\n")
    assert planner("track", instance, "--as-of", "2026-03-31", "--out", run, "-q")[::2] == (
        2, f"--out: {run} holds a run's results (planner run), not a tracking: choose "
           "another --out, or remove that folder first\n")


def test_more_implemented_than_pledged_is_warned_not_refused(planned, tmp_path: Path) -> None:
    """CZ delivers 100,000 more of alternative measures on 15 March: 125,000 against the
    100,000 it pledged (the ledger's warning, on that line) and planned (the tracking's)."""
    instance, run = planned
    copy = tmp_path / "three-months"
    copy.mkdir()
    for path in instance.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    with (copy / "implementation.csv").open("a") as handle:
        handle.write("2026-03-15,CZ,alternative,100000,ES,CZ-A2\n")
    code, stdout, err = planner("track", copy, "--as-of", "2026-03-31", "--plan", run,
                                "--out", tmp_path / "out", "-q")
    assert code == 0, err
    text = " ".join(stdout.split())  # the terminal's width wraps long lines
    assert "warning: ledger: CZ has implemented 125,000 of alternative by here, more than the " \
        "100,000 it pledged (implementation.csv line 8)" in text
    assert "warning: beyond the plan: CZ alternative to ES: implemented 125,000, planned " \
        "100,000" in text
