"""The synthetic ledger (issue 15, item 5): `planner generate --ledger` is deterministic by
seed, stays within the plan and the dates, is marked synthetic, loads cleanly; eu-2026 ships
the one the documented command writes, and plans byte for byte as without it."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.cli import app
from planner.inputs.ledger import ledger_warnings
from planner.inputs.load import load_instance
from planner.pipeline import plan, render
from planner.synthetic_ledger import ledger_entries

pytestmark = [pytest.mark.solver, pytest.mark.cli]

REPO = Path(__file__).resolve().parents[1]
EU_2026 = REPO / "instances" / "eu-2026"
AS_OF = dt.date(2026, 6, 30)


def generate(*args: object) -> int:
    result = CliRunner().invoke(app, ["generate", "--ledger", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code


@pytest.fixture(scope="module")
def eu_plan():
    return plan(load_instance(EU_2026))


def test_eu_2026_ships_what_the_documented_command_writes(tmp_path: Path) -> None:
    assert generate("--instance", EU_2026, "--as-of", "2026-06-30", "--out", tmp_path) == 0
    assert (tmp_path / "implementation.csv").read_bytes() == \
        (EU_2026 / "implementation.csv").read_bytes()
    assert not (EU_2026 / "transfers.csv").exists()  # so the annual plan is unchanged


def test_deterministic_by_seed(eu_plan) -> None:
    flows = eu_plan.tables.distribution
    once = ledger_entries(eu_plan.instance, flows, AS_OF, 7)
    assert once == ledger_entries(eu_plan.instance, flows, AS_OF, 7)
    assert once != ledger_entries(eu_plan.instance, flows, AS_OF, 8)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_within_the_plan_and_the_dates(eu_plan, seed: int) -> None:
    flows = eu_plan.tables.distribution
    planned: dict[tuple[str, str, str], float] = defaultdict(float)
    for f in flows:
        planned[(f.contributor, f.measure.value, f.beneficiary)] += f.amount
    done: dict[tuple[str, str, str], float] = defaultdict(float)
    entries = ledger_entries(eu_plan.instance, flows, AS_OF, seed)
    assert entries
    for e in entries:
        assert dt.date(2026, 1, 1) <= e.date <= AS_OF
        assert e.amount > 0
        assert e.amount == int(e.amount)  # whole persons, whole thousands of EUR
        done[(e.state, e.measure.value, e.benefitting)] += e.amount
    for key, amount in done.items():
        assert amount <= planned[key] + 1e-6, key
    assert [(e.date, e.state) for e in entries] == sorted((e.date, e.state) for e in entries)


def test_the_ledger_is_marked_synthetic_and_loads_cleanly() -> None:
    with (EU_2026 / "implementation.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(r["source"].startswith("synthetic") for r in rows)
    assert all(r["reference"].startswith(f"SYN-{r['state']}-") for r in rows)
    instance = load_instance(EU_2026)
    assert len(instance.ledger.entries) == len(rows)
    assert ledger_warnings(instance) == []


def test_eu_2026_plans_the_same_without_its_ledger(eu_plan, tmp_path: Path) -> None:
    bare = tmp_path / "eu-2026"
    shutil.copytree(EU_2026, bare)
    (bare / "implementation.csv").unlink()
    without = render(plan(load_instance(bare)))
    with_ledger = render(eu_plan)
    assert without.keys() == with_ledger.keys()
    for name in without:
        if name == "summary.json":
            a, b = json.loads(without[name]), json.loads(with_ledger[name])
            a.pop("timings_s"), b.pop("timings_s")
            assert a == b
        else:
            assert without[name] == with_ledger[name], name


def test_dated_transfers_fit_the_plan_and_are_tracked(tmp_path: Path) -> None:
    """With --transfers, relocations are dated transfers of assigned cases: the instance with
    them plans (they fit its places) and `planner track` counts them."""
    instance = tmp_path / "eu"
    shutil.copytree(EU_2026, instance)
    assert generate("--instance", instance, "--as-of", "2026-06-30", "--out", instance,
                    "--transfers", "--seed", "3") == 0
    with (instance / "implementation.csv").open(encoding="utf-8") as handle:
        assert "relocation" not in handle.read()
    loaded = load_instance(instance)
    assert loaded.transfers and len(loaded.ledger.transfer_dates) == len(loaded.transfers)
    result = CliRunner().invoke(app, ["track", str(instance), "--as-of", "2026-06-30",
                                      "--out", str(tmp_path / "track"), "-q"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads((tmp_path / "track" / "tracking_summary.json").read_text())
    assert summary["transfers_counted"] == len(loaded.transfers)
    assert summary["plan"] == "planned in memory"
