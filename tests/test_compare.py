"""`planner compare`: a two-variant comparison checked by hand, the fairness indicators, the
same files whatever the number of processes, and a bad variant stopping everything."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HANG_S, MakeInstance, pledge, state, write_csv

from planner import pipeline
from planner.comparison import compare_into, gini
from planner.outputs.alongside import can_fork
from planner.outputs.registry import COMPARISON_TABLES, tables_of

pytestmark = [pytest.mark.solver, pytest.mark.cli]

PLANNER = Path(sys.executable).parent / "planner"

# Shares: AT 0.2, BE 0.6 (IT 0.2, benefitting). Every pledge is fixed, so the plan is forced:
# AT gives 15 relocations + EUR 100,000 (5) = 20, BE EUR 1,000,000 (50) + 4 offsets = 54.
STATES = [state("AT", 1_000_000, 10_000), state("BE", 3_000_000, 30_000),
          state("IT", 1_000_000, 10_000, benefitting="true", status="pressure")]
PLEDGES = [pledge("AT-1", "AT", "relocation", 15, 15, beneficiary="IT"),
           pledge("AT-2", "AT", "financial", 100_000, 100_000),
           pledge("BE-1", "BE", "financial", 1_000_000, 1_000_000),
           pledge("BE-2", "BE", "offset", 4, 4)]
NEEDS = [{"state": "IT", "measure": "relocation", "amount": 20},
         {"state": "IT", "measure": "offset", "amount": 10},
         {"state": "IT", "measure": "financial", "amount": 1_500_000}]
# responsibility.csv: BE's 4 offsets count toward IT (4 persons IT is responsible for are on
# BE's territory), so IT's offset need is covered (Art. 63, rules section 5).
RESPONSIBILITY = [{"state": "BE", "benefitting": "IT", "persons": 4}]
BIGGER = "[pool]\nrelocations = 200\nfinancial_eur = 4000000\n"  # same EUR 20,000 rate
DEDUCT = "[member_states.BE]\ndeduction = 0.5\n"


@pytest.fixture
def instance(make_instance: MakeInstance) -> Path:
    folder = make_instance(STATES, PLEDGES, NEEDS)
    write_csv(folder / "responsibility.csv", RESPONSIBILITY)
    (folder / "variants").mkdir()
    (folder / "variants" / "bigger.toml").write_text(BIGGER)
    (folder / "variants" / "deduct.toml").write_text(DEDUCT)
    return folder


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_gini_by_hand() -> None:
    # sum over ordered pairs of |x_i - x_j| = 2 * (1 + 2 + 3 + 1 + 2 + 1) = 20; n = 4, mean 1.5
    assert gini([3, 0, 2, 1]) == pytest.approx(20 / (2 * 16 * 1.5))
    # one of four gives everything: 2 * 3 * 5 = 30 over 2 * 16 * 1.25 = 40
    assert gini([0, 0, 5, 0]) == pytest.approx(0.75)
    assert gini([7, 7, 7]) == 0.0
    assert gini([0, 0]) == gini([]) == 0.0


def test_two_variants_compared_by_hand(instance: Path, tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    runs = compare_into(instance, ["bigger", "deduct"], out, jobs=1, quiet=True)
    assert [r.name for r in runs] == ["base", "bigger", "deduct"]
    assert sorted(p.name for p in out.iterdir()) == [".planner-results", "base", "bigger",
                                                     "comparison", "deduct"]
    for name in ("base", "bigger", "deduct"):
        assert json.loads((out / name / "summary.json").read_text())["variant"] == name
        # No candidates: the pool's tables alone (planner.outputs.registry).
        assert sorted(p.name for p in (out / name).glob("*.csv")) == sorted(
            t.file for t in tables_of("pool"))
    assert sorted(p.name for p in (out / "comparison").iterdir()) == sorted(
        [*(t.file for t in COMPARISON_TABLES), "report.html"])

    states = {(r["variant"], r["state"]): r for r in read(out / "comparison" / "states.csv")}
    assert list(states) == [(v, s) for v in ("base", "bigger", "deduct")
                            for s in ("AT", "BE", "IT")]
    columns = ("obligation", "relocation", "offset", "financial_eur", "value", "balance",
               "fair_share", "deviation", "value_per_million", "obligation_delta",
               "value_delta", "balance_delta", "financial_eur_delta")
    expected = {
        ("base", "AT"): ("20", "15", "0", "100000", "20", "0", "20", "0", "20", "0", "0", "0",
                         "0"),
        ("base", "BE"): ("60", "0", "4", "1000000", "54", "-6", "60", "-6", "18", "0", "0",
                         "0", "0"),
        # the pool doubles: obligations double, the fixed pledges do not move
        ("bigger", "AT"): ("40", "15", "0", "100000", "20", "-20", "40", "-20", "20", "20",
                           "0", "-20", "0"),
        ("bigger", "BE"): ("120", "0", "4", "1000000", "54", "-66", "120", "-66", "18", "60",
                           "0", "-60", "0"),
        # BE's deduction halves its obligation (its fixed pledges now exceed it); the fair
        # share is before deductions, so BE's deviation is unchanged
        ("deduct", "AT"): ("20", "15", "0", "100000", "20", "0", "20", "0", "20", "0", "0",
                           "0", "0"),
        ("deduct", "BE"): ("30", "0", "4", "1000000", "54", "24", "60", "-6", "18", "-30",
                           "0", "30", "0"),
    }
    for key, values in expected.items():
        assert tuple(states[key][c] for c in columns) == values, key
    assert states[("bigger", "IT")]["role"] == "benefitting"
    assert states[("bigger", "IT")]["obligation"] == states[("bigger", "IT")]["value"] == "0"

    kpis = {(r["variant"], r["kpi"], r["subject"]): (r["value"], r["delta"])
            for r in read(out / "comparison" / "kpis.csv")}
    assert kpis[("bigger", "pool_relocations", "")] == ("200", "100")
    assert kpis[("bigger", "pool_financial_eur", "")] == ("4000000", "2000000")
    assert kpis[("bigger", "obligation", "")] == ("160", "80")
    assert kpis[("bigger", "obligation_eur", "")] == ("3200000", "1600000")
    assert kpis[("deduct", "obligation", "")] == ("50", "-30")
    assert kpis[("base", "value", "")] == ("74", "0")
    assert kpis[("base", "value_eur", "")] == ("1480000", "0")
    assert kpis[("bigger", "shortfall", "")] == ("86", "80")  # 20 + 66, base 6 (BE)
    assert kpis[("deduct", "shortfall", "")] == ("0", "-6")
    assert kpis[("deduct", "shortfall_eur", "")] == ("0", "-120000")
    # |deviations|: base 0 and 6, bigger 20 and 66, deduct 0 and 6
    assert kpis[("base", "fair_share_max_abs_deviation", "")] == ("6", "0")
    assert kpis[("bigger", "fair_share_max_abs_deviation", "")] == ("66", "60")
    assert kpis[("bigger", "fair_share_mean_abs_deviation", "")] == ("43", "40")
    assert kpis[("deduct", "fair_share_mean_abs_deviation", "")] == ("3", "0")
    # value per capita 20 and 18 per million: 2 * |20 - 18| / (2 * 2^2 * 19) = 1/38
    assert kpis[("base", "gini_value_per_capita", "")] == ("0.026315789", "0")
    assert kpis[("base", "persons_relocated", "")] == ("", "")  # no candidates: no matching
    assert kpis[("bigger", "received", "IT:relocation")] == ("15", "0")
    assert kpis[("bigger", "coverage", "IT:relocation")] == ("0.75", "0")
    assert kpis[("deduct", "coverage", "IT:offset")] == ("0.4", "0")
    assert kpis[("base", "received", "IT:financial")] == ("1100000", "0")
    assert kpis[("base", "coverage", "IT:financial")] == ("0.733333333", "0")


def files(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, summary.json without its timings (the one varying field)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.name == "summary.json":
                summary = json.loads(data)
                summary.pop("timings_s")
                data = json.dumps(summary).encode()
            found[str(path.relative_to(folder))] = data
    return found


def test_same_files_whatever_the_number_of_processes(instance: Path, tmp_path: Path) -> None:
    compare_into(instance, ["bigger", "deduct"], tmp_path / "one", jobs=1, quiet=True)
    compare_into(instance, ["bigger", "deduct"], tmp_path / "two", jobs=2, quiet=True)
    one, two = files(tmp_path / "one"), files(tmp_path / "two")
    assert "comparison/states.csv" in one and "deduct/allocation.csv" in one
    assert one == two


@pytest.mark.skipif(not can_fork(), reason="no exports child where fork is not used")
def test_parallel_workers_make_their_exports_themselves(instance: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    """With two processes already running the plans, a run forks no exports child of its own
    (planner.outputs.alongside: a child per run imported matplotlib again each time); in one
    process, each run forks its child. `preload` runs in such a child only: it marks it."""
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setattr(pipeline, "preload",
                        lambda: (marks / str(os.getpid())).write_text("child"))
    compare_into(instance, ["bigger"], tmp_path / "two", jobs=2, quiet=True)
    assert list(marks.iterdir()) == []
    compare_into(instance, ["bigger"], tmp_path / "one", jobs=1, quiet=True)
    assert len(list(marks.iterdir())) == 2  # the base and the variant


def planner(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PLANNER), *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=HANG_S, check=False)


def previous_comparison(out: Path) -> Path:
    """A folder a comparison may replace (its marker, planner.outputs.outdir), holding keep.txt."""
    out.mkdir()
    (out / "keep.txt").write_text("previous")
    (out / ".planner-results").write_text('{"kind": "compare", "version": "0", '
                                          '"files": ["keep.txt"]}')
    return out


def test_cli_bad_variant_is_reported_before_anything_is_planned(instance: Path,
                                                                tmp_path: Path) -> None:
    (instance / "variants" / "broken.toml").write_text("[pool]\nrelocations = 100\n"
                                                       "relocation = 3\n")
    out = previous_comparison(tmp_path / "out")
    done = planner("compare", instance, "--variant", "bigger", "--variant", "broken",
                   "--variant", "missing", "--out", out, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert [line for line in done.stderr.splitlines() if not line.startswith("[planner]")] == [
        f"{instance}/variants/broken.toml:3: pool.relocation: unknown key",
        f"{instance}/variants/missing.toml:0: -: variant 'missing' not found (the instance "
        "has: bigger, broken, deduct)",
    ]
    assert "planning" not in done.stderr and "pool plan" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inst", "out"]
    assert sorted(p.name for p in out.iterdir()) == [".planner-results", "keep.txt"]


def test_cli_compare_every_variant_by_default_and_run_one(instance: Path,
                                                          tmp_path: Path) -> None:
    done = planner("compare", instance, "-q", "--jobs", "2", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    out = tmp_path / "results" / "inst" / "compare"
    assert sorted(p.name for p in out.iterdir()) == [".planner-results", "base", "bigger",
                                                     "comparison", "deduct"]
    assert f"results: {Path('results/inst/compare')}" in done.stdout
    done = planner("run", instance, "--variant", "deduct", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "[planner] loading" in done.stderr  # progress on stderr unless -q
    run = tmp_path / "results" / "inst" / "deduct"
    assert json.loads((run / "summary.json").read_text())["variant"] == "deduct"
    assert (run / "allocation.csv").read_bytes() == (out / "deduct" / "allocation.csv"
                                                     ).read_bytes()


def test_cli_a_run_failing_after_planning_leaves_nothing(tmp_path: Path) -> None:
    """The corpus base transfers case C02 to AT; a variant whose pledges give AT no places
    passes validation and fails only once planned: exit 2, the previous folder untouched."""
    instance = tmp_path / "late"
    shutil.copytree(Path(__file__).parent / "data" / "bad" / "ok-base", instance)
    (instance / "expected.txt").unlink()
    (instance / "variants").mkdir()
    pledges = (instance / "pledges.csv").read_text()
    assert "\nAT-1,AT,relocation,2,6," in pledges
    (instance / "variants" / "pledges-lean.csv").write_text(
        pledges.replace("\nAT-1,AT,relocation,2,6,", "\nAT-1,AT,relocation,0,0,"))
    (instance / "variants" / "lean.toml").write_text('[tables]\npledges = '
                                                     '"variants/pledges-lean.csv"\n')
    out = previous_comparison(tmp_path / "out")
    done = planner("compare", instance, "--out", out, "-q", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines() == [f"{instance}/transfers.csv:2: state: transfers to AT "
                                        "from IT need 1 places, the plan gives AT 0 there"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["late", "out"]
    assert sorted(p.name for p in out.iterdir()) == [".planner-results", "keep.txt"]
