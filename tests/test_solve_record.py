"""planner.optimise.solve: frozen options in (laid over an instance's [solver] settings by a
pure function), a frozen record out (status and the back-end's termination separate)."""

from __future__ import annotations

import dataclasses
import math

import pytest
from conftest import pledge, state

from models.instance import SolverConfig
from planner.optimise.highs_stages import Model
from planner.optimise.solve import Solver, SolverOptions
from planner.pipeline import run

pytestmark = pytest.mark.solver


def test_options_are_frozen_and_checked():
    options = SolverOptions("cbc", 5.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.name = "highs"  # type: ignore[misc]
    with pytest.raises(ValueError, match="'glpk' is not one of: highs, cbc"):
        SolverOptions("glpk")
    with pytest.raises(ValueError, match="time_limit_s must be positive"):
        SolverOptions(time_limit_s=0.0)


@pytest.mark.parametrize(("options", "config", "merged"), [
    # Nothing asked: the instance's settings.
    (SolverOptions(), SolverConfig(name="cbc", time_limit_s=5.0, fallback=False),
     SolverOptions("cbc", 5.0, False)),
    # Asked: they win; a fallback needs both to allow it.
    (SolverOptions("highs", 2.0), SolverConfig(name="cbc", time_limit_s=5.0),
     SolverOptions("highs", 2.0, True)),
    (SolverOptions(fallback=False), SolverConfig(), SolverOptions("highs", None, False)),
])
def test_options_over_the_instance_settings(options, config, merged):
    before = dataclasses.replace(options)
    assert options.over(config) == merged
    assert options == before  # new options; these are unchanged


def two_stages() -> Model:
    """x0, x1 integer in [0, 3], x0 + x1 <= 4: the most of x0 + x1 is 4."""
    model = Model("two")
    model.column("x[0]", 3)
    model.column("x[1]", 3)
    model.row("r[0]", -math.inf, 4, [0, 1], [1.0, 1.0])
    return model


@pytest.mark.solver
def test_a_time_limited_stage_makes_the_status_and_keeps_its_termination():
    solver = Solver(SolverOptions("highs", 1e-9, fallback=False))
    solver.maximise(two_stages(), "a", {0: 1.0, 1: 1.0})
    record = solver.record()
    assert (record.requested, record.used, record.time_limit_s) == ("highs", "highs", 1e-9)
    assert (record.status, record.termination) == ("time_limit", "Time limit reached")
    assert set(record.gaps) == {"a"} and record.gap == record.gaps["a"]
    assert record.notes == ("stage a: time limit reached, best feasible solution kept",)
    # The record is a copy: the context going on changes none of it, and it cannot change.
    solver.stages["b"] = 1.0
    assert set(record.stages) == {"a"}
    with pytest.raises(TypeError):
        record.stages["b"] = 1.0  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.status = "optimal"  # type: ignore[misc]


def test_forked_contexts_merge_back_in_the_callers_order(backend):
    solver = Solver(SolverOptions(backend, fallback=False))
    solver.backend()
    forks = {name: solver.fork() for name in ("b", "a")}
    for name, own in forks.items():
        own.maximise(two_stages(), name, {0: 1.0, 1: 1.0})
    for name in ("a", "b"):
        solver.absorb(forks[name])
    record = solver.record()
    assert list(record.stages.items()) == [("a", 4.0), ("b", 4.0)]
    assert list(record.terminations) == list(record.times_s) == ["a", "b"]
    assert record.solve_s == pytest.approx(sum(record.times_s.values()))
    assert (record.status, record.gap, record.used) == ("optimal", 0.0, backend)


def test_a_run_returns_its_record_and_the_summary_says_the_same(make_instance, backend):
    folder = make_instance([state("AA", 2_000_000, 20_000), state("BB"),
                            state("DD", benefitting="true")],
                           [pledge("a", "AA", "relocation", 0, 100),
                            pledge("b", "BB", "financial", 0, 1_000_000)],
                           extra_toml='[solver]\nname = "cbc"\nfallback = false\n')
    result = run(folder, folder.parent / "out", SolverOptions(backend))
    record = result.solve
    assert record is not None
    # The options win over instance.toml's name; its fallback = false holds.
    assert (record.requested, record.used, record.status) == (backend, backend, "optimal")
    assert record.termination == {"highs": "Optimal", "cbc": "Optimal Solution Found"}[backend]
    assert list(record.stages)[:2] == ["shortfall", "preference"]
    assert set(record.stages) <= set(record.times_s) == set(record.terminations)
    info = result.summary.solver
    assert (info.requested, info.name, info.version, info.time_limit_s, info.gap, info.gaps) == (
        record.requested, record.used, record.version, None, 0.0, {})
    assert result.summary.status == record.status
