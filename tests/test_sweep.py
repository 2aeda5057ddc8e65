"""Issue 16 in this process (no Dask): a sweep whose indicator distribution is computed by
hand, a scenario without a plan as a row, an interrupted sweep resumed byte for byte."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from planner.errors import PlanError
from planner.inputs.load import load_instance
from planner.sweep import engine
from planner.sweep.engine import Done
from planner.sweep.run import SweepSpec, sweep
from planner.sweep.scenario import Base, scenario, scenario_seed

pytestmark = pytest.mark.solver

OUTPUTS = ("scenarios.csv", "scenarios.parquet", "sweep.csv", "sweep.html")
TINY = """
[uncertainty]
targets = { relocation_coverage_min = 0.75 }
limits = { shortfall_AA = 20 }

[uncertainty.needs]
default = { kind = "levels", levels = [0.5, 1.5] }
"""


def tiny(folder: Path) -> Path:
    """AA and BB of equal size (shares 1/2: AA owes 50 of 100) and AA's fixed row of 30
    relocations to BB, which needs 40 x (0.5 or 1.5) = 20 or 60: BB's need covered is
    30/20 = 1.5 or 30/60 = 0.5 with equal chances, AA's shortfall 50 - 30 = 20 always."""
    folder.mkdir()
    (folder / "instance.toml").write_text(
        'name = "tiny"\ncycle = 2026\n\n[pool]\nrelocations = 100\nfinancial_eur = 2000000\n'
        + TINY)
    (folder / "member_states.csv").write_text(
        "code,name,population,gdp_eur_million,benefitting\n"
        "AA,A,1000000,10000,false\nBB,B,1000000,10000,true\n")
    (folder / "pledges.csv").write_text(
        "pledge_id,state,measure,min,max\nA-1,AA,relocation,30,30\n")
    (folder / "needs.csv").write_text("state,measure,amount\nBB,relocation,40\n")
    return folder


def read(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUTS}


def test_the_hand_computed_distribution(tmp_path: Path) -> None:
    folder = tiny(tmp_path / "tiny")
    out = tmp_path / "out"
    result = sweep(SweepSpec(folder, scenarios=40, seed=3, batch=7), out)
    assert result.scenarios == 40 and result.status == {"optimal": 40}
    rows = pd.read_parquet(out / "scenarios.parquet")
    assert rows.equals(pd.read_csv(out / "scenarios.csv", keep_default_na=True))
    base = Base.of(load_instance(folder), "base")
    high = 0  # scenarios whose need was drawn at 1.5 x 40 = 60
    for index, row in rows.iterrows():
        [need] = scenario(base, scenario_seed(3, "base", int(str(index)))).needs
        assert need.amount in (20.0, 60.0)
        high += need.amount == 60.0
        assert row["relocation_coverage_BB"] == 30 / need.amount
        assert (row["obligation_AA"], row["shortfall_AA"], row["value_relocation"]) == (
            50.0, 20.0, 30.0)
    assert 0 < high < 40  # both levels drawn (a chance of 2 in 2^40 otherwise)
    stats = pd.read_csv(out / "sweep.csv").set_index("indicator")
    coverage = stats.loc["relocation_coverage_min"]
    assert coverage["mean"] == pytest.approx((high * 0.5 + (40 - high) * 1.5) / 40)
    assert coverage["p_target"] == (40 - high) / 40  # P(coverage >= 0.75): the 1.5 ones
    assert coverage["cvar10"] == 0.5 and high >= 4  # the worst 4 of 40 are all 0.5
    assert coverage["p5"] == 0.5 and coverage["p95"] == 1.5
    assert stats.loc["shortfall_AA", "p_limit"] == 1.0
    assert math.isnan(stats.loc["persons_relocated", "target"])
    page = (out / "sweep.html").read_text()
    assert "Ranking of the variants" in page and "<svg" in page


def test_a_scenario_without_a_plan_is_a_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    folder = tiny(tmp_path / "tiny")
    real = engine.plan_with
    calls = []

    def sometimes(instance: object, *args: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise PlanError("infeasible stage")
        return real(instance, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "plan_with", sometimes)
    result = sweep(SweepSpec(folder, scenarios=4, batch=4), tmp_path / "out")
    assert result.status == {"no_plan": 1, "optimal": 3}
    rows = pd.read_csv(tmp_path / "out" / "scenarios.csv")
    assert rows["status"].tolist() == ["optimal", "no_plan", "optimal", "optimal"]
    assert rows.loc[1].drop(["variant", "scenario", "status"]).isna().all()
    stats = pd.read_csv(tmp_path / "out" / "sweep.csv").set_index("indicator")
    assert stats.loc["relocation_coverage_min", "valid"] == 3


def test_interrupted_then_resumed_gives_the_same_bytes(tmp_path: Path) -> None:
    folder = tiny(tmp_path / "tiny")
    spec = SweepSpec(folder, scenarios=12, seed=5, batch=3)
    sweep(spec, tmp_path / "whole")
    seen: list[Done] = []

    def stop(done: Done) -> None:
        seen.append(done)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(spec, tmp_path / "cut", on_batch=stop)
    chunks = sorted((tmp_path / "cut" / "chunks").glob("*.parquet"))
    assert [p.name for p in chunks] == ["base-0000000-0000003.parquet",
                                        "base-0000003-0000006.parquet"]
    assert all(len(pd.read_parquet(p)) == 3 for p in chunks)  # whole, readable
    resumed = sweep(spec, tmp_path / "cut", resume=True)
    assert resumed.resumed == 6 and resumed.scenarios == 12
    assert read(tmp_path / "cut") == read(tmp_path / "whole")


def test_resume_refuses_another_sweep_and_out_refuses_foreign_files(tmp_path: Path) -> None:
    folder = tiny(tmp_path / "tiny")
    sweep(SweepSpec(folder, scenarios=2), tmp_path / "out")
    with pytest.raises(engine.SweepError, match=r"differs in: scenarios\)"):
        sweep(SweepSpec(folder, scenarios=3), tmp_path / "out", resume=True)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(engine.SweepError, match="is not empty and holds no sweep"):
        sweep(SweepSpec(folder, scenarios=2), mine)
    assert (mine / "notes.txt").read_text() == "keep"


def test_a_plan_ignores_the_uncertainty_section(tmp_path: Path) -> None:
    """`planner run` (the library's plan) reads nothing of [uncertainty]: the same tables with
    and without it (summary.json differs only in the inputs' digest)."""
    from planner.pipeline import plan

    folder = tiny(tmp_path / "tiny")
    with_section = plan(load_instance(folder))
    text = (folder / "instance.toml").read_text()
    (folder / "instance.toml").write_text(text.replace(TINY, ""))
    without = plan(load_instance(folder))
    assert with_section.tables == without.tables
    assert with_section.summary.model_copy(update={"input_sha256": "", "timings_s": {}}) == \
        without.summary.model_copy(update={"input_sha256": "", "timings_s": {}})
