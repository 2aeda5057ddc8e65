"""The joint split's speed work (issue 18) changes no answer: classes merged on the split
chosen, its optimum fixed as two rows, full places as equalities, states solved two at a time."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from test_joint_split import UNDIRECTED, random_folder

import planner.optimise.matching as matching
from models.cases import Case
from planner.inputs.load import load_instance
from planner.optimise.eligibility import Place
from planner.optimise.highs_stages import Model
from planner.optimise.solve import Solver, SolverOptions
from planner.pipeline import plan_with, run

pytestmark = pytest.mark.solver


def case(case_id: str, registered: dt.date) -> Case:
    return Case(case_id, "DD", (f"{case_id}-1",), frozenset(), frozenset(), frozenset(), 0, 0,
                frozenset(), frozenset(), (), registered, None)


def test_classes_told_apart_by_an_empty_place_become_one():
    # Joint places: 0 = (row a, DD, 5), 1 = (row b, DD, 5). Class X may use both, class Y
    # only place 0; all scores 0. The split puts 3 persons at place 0 and none at place 1,
    # so both classes keep place 0 only: one class of both cases, the earlier registered
    # first, and one place of capacity 3.
    places = [Place("a", "DD", "DD", 5, None), Place("b", "DD", "DD", 5, None)]  # type: ignore[arg-type]
    late, early = case("X1", dt.date(2025, 5, 1)), case("Y1", dt.date(2025, 1, 1))
    x = matching.CaseClass(("x",), "DD", 1, 0, 0, 0, (0, 1), (0.0, 0.0), False, [late])
    y = matching.CaseClass(("y",), "DD", 1, 0, 0, 0, (0,), (0.0,), False, [early])
    classes, kept = matching.fixed_split([x, y], places, {0: 3, 1: 0})
    assert [(p.pledge_id, p.capacity) for p in kept] == [("a", 3)]
    assert len(classes) == 1
    assert classes[0].places == (0,) and classes[0].scores == (0.0,)
    assert [c.case_id for c in classes[0].cases] == ["Y1", "X1"]


def test_a_stage_fixed_by_two_rows_keeps_its_solutions(backend):
    # x0, x1 in [0, 3], x0 + x1 <= 4. Stage a: 10 x0 + x1, optimum 31 (x0 = 3, x1 = 1; 10 x 3
    # + 1). Fixed as x0 >= 3 and x1 >= 1 instead of 10 x0 + x1 >= 31: stage b, the most of
    # -x1, is -1 (x1 = 1 is the least left), as with the one row.
    model = Model("m")
    model.column("x[0]", 3)
    model.column("x[1]", 3)
    model.row("r[0]", -math.inf, 4, [0, 1], [1.0, 1.0])
    solver = Solver(SolverOptions(name=backend, fallback=False))
    assert solver.maximise(model, "a", {0: 10.0, 1: 1.0}) == 31
    model.replace_fix("a", [("fix_x0", 3.0, [0], [1.0]), ("fix_x1", 1.0, [1], [1.0])])
    names = [row[0] for row in model.rows]
    # HiGHS: the one row is replaced; CBC holds it in its PuLP problem already.
    assert names == ["r[0]", "fix_x0", "fix_x1"]
    assert solver.maximise(model, "b", {1: -1.0}) == -1
    assert list(model.solution) == [3.0, 1.0]


def test_full_places_are_equalities_with_the_same_optima(make_instance, monkeypatch):
    folder = random_folder(make_instance, 2, UNDIRECTED, 60)
    instance = load_instance(folder)
    seen: list[tuple[str, float, float]] = []
    original = Solver.maximise

    def spy(self, model, name, cost, near=False):
        if model.name.startswith("matching_") and model.name != "matching_split":
            seen.extend((row[0], row[1], row[2]) for row in model.rows
                        if row[0].startswith("capacity["))
        return original(self, model, name, cost, near)

    monkeypatch.setattr(Solver, "maximise", spy)
    full = plan_with(instance, SolverOptions(fallback=False)).summary
    assert seen and all(low == high for _, low, high in seen)
    # With a time limit (never reached here) the places keep `<=` rows: the same optima.
    seen.clear()
    loose = plan_with(instance, SolverOptions(time_limit_s=1e6, fallback=False)).summary
    assert seen and all(low == -math.inf for _, low, _ in seen)
    assert {k: v for k, v in full.objectives.items() if k.startswith("matching_")} == \
        {k: v for k, v in loose.objectives.items() if k.startswith("matching_")}


def test_states_solved_two_at_a_time_write_what_one_at_a_time_writes(make_instance, tmp_path,
                                                                       monkeypatch):
    # On a machine of one core both runs take one state at a time (and agree trivially).
    folder = random_folder(make_instance, 1, UNDIRECTED, 60)
    outs = []
    for threads in (1, 2):
        monkeypatch.setattr(matching, "MATCHING_THREADS", threads)
        out = tmp_path / f"out{threads}"
        result = run(folder, out, SolverOptions(fallback=False))
        outs.append((out, list(result.summary.objectives), result.summary.warnings))
    for table in ("distribution", "assignments", "unassigned", "matchability"):
        assert (outs[0][0] / f"{table}.csv").read_bytes() == \
            (outs[1][0] / f"{table}.csv").read_bytes(), table
    assert outs[0][1:] == outs[1][1:]
