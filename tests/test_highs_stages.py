"""planner.optimise.highs_stages on hand-made integer programs with optima computed by hand: the
LP bound, reduced-cost fixing (columns and rows priced beyond the gap keep their LP bound), the
exact fix of an optimum before the next stage, and the time-limit path."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import PlanError
from planner.optimise.highs_stages import (
    FIX_TOL_ABS,
    Model,
    Stage,
    highs_model,
    maximise,
    relative_gap,
)
from planner.optimise.solve import Solver, SolverOptions

pytestmark = pytest.mark.solver
TINY = 1e-9  # seconds: HiGHS stops at its first look at the clock


def textbook() -> Model:
    """max 5 x0 + 4 x1, 6 x0 + 4 x1 <= 24, x0 + 2 x1 <= 6, x integer in [0, 10]. The LP
    optimum is x = (3, 1.5), worth 21 (both rows tight: 6*3 + 4*1.5 = 24, 3 + 2*1.5 = 6); the
    integer optimum is x = (4, 0), worth 20 ((3, 1) is worth 19, (2, 2) 18)."""
    model = Model("textbook")
    model.column("x[0]", 10)
    model.column("x[1]", 10)
    model.row("r[0]", -math.inf, 24, [0, 1], [6.0, 4.0])
    model.row("r[1]", -math.inf, 6, [0, 1], [1.0, 2.0])
    return model


def priced() -> Model:
    """max 3 x0 - 2 x1 + x2, x0 + x2 <= 3, x integer in [0, 2]. The LP optimum is unique:
    x = (2, 0, 1), worth 7. x2 lies between its bounds, so the row's dual is its cost, 1; the
    reduced costs are 3 - 1 = 2 (x0, at its upper bound), -2 (x1, at its lower bound) and 0."""
    model = Model("priced")
    for j in range(3):
        model.column(f"x[{j}]", 2)
    model.row("r[0]", -math.inf, 3, [0, 2], [1.0, 1.0])
    return model


PRICED_COST = {0: 3.0, 1: -2.0, 2: 1.0}


def stage_of(model: Model, cost: dict[int, float]) -> Stage:
    return Stage(highs_model(model), model, model.dense(cost), None, "a")


def test_the_lp_relaxation_bounds_the_stage():
    stage = stage_of(textbook(), {0: 5.0, 1: 4.0})
    assert stage.relax() == 21  # the first target: floor(z) for an integral objective
    assert stage.bound == pytest.approx(21.0, abs=1e-9)
    assert stage.integral


def test_the_region_fixes_what_costs_more_than_the_gap():
    stage = stage_of(priced(), PRICED_COST)
    assert stage.relax() == 7
    assert list(stage.reduced) == pytest.approx([2.0, 2.0, 0.0], abs=1e-9)
    assert list(stage.duals) == pytest.approx([1.0], abs=1e-9)
    # Target 7, gap 0: x0 and x1 keep their LP bounds, the row (dual 1) is made tight.
    lower, upper, lower_rows, upper_rows = stage.region(7.0)
    assert (list(lower), list(upper)) == ([2.0, 0.0, 0.0], [2.0, 0.0, 2.0])
    assert (list(lower_rows), list(upper_rows)) == ([3.0], [3.0])
    # Target 6, gap 1: the columns (reduced cost 2 > 1) are still fixed, the row (1) is not.
    lower, upper, lower_rows, upper_rows = stage.region(6.0)
    assert (list(lower), list(upper)) == ([2.0, 0.0, 0.0], [2.0, 0.0, 2.0])
    assert (list(lower_rows), list(upper_rows)) == ([-math.inf], [3.0])
    # Target 5, gap 2: a solution worth 5 may leave x0 or x1 by one (7 - 2 = 5), not by two
    # (worth 3): the columns' moves are bounded, not only fixed.
    lower, upper, lower_rows, upper_rows = stage.region(5.0)
    assert (list(lower), list(upper)) == ([1.0, 0.0, 0.0], [2.0, 1.0, 2.0])
    assert (list(lower_rows), list(upper_rows)) == ([-math.inf], [3.0])
    # Target 3, gap 4: two units each, their whole domains.
    lower, upper, lower_rows, upper_rows = stage.region(3.0)
    assert (list(lower), list(upper)) == ([0.0, 0.0, 0.0], [2.0, 2.0, 2.0])
    assert (list(lower_rows), list(upper_rows)) == ([-math.inf], [3.0])
    # No bound from a target of -inf: the whole stage.
    assert [list(v) for v in stage.region(-math.inf)] == [[0.0] * 3, [2.0] * 3, [-math.inf],
                                                          [3.0]]


def test_the_region_optimum_is_the_stage_optimum_when_it_reaches_the_target():
    model = priced()
    outcome = maximise(model, "a", PRICED_COST)
    assert (outcome.best, outcome.termination, outcome.stopped) == (7.0, "Optimal", False)
    assert list(model.solution) == [2.0, 0.0, 1.0]


def test_below_the_lp_bound_the_target_drops_to_the_integer_optimum():
    # The region at target 21 holds no integer solution worth 21; the next holds (4, 0), 20.
    model = textbook()
    outcome = maximise(model, "a", {0: 5.0, 1: 4.0})
    assert (outcome.best, outcome.stopped, outcome.gap) == (20.0, False, None)
    assert list(model.solution) == [4.0, 0.0]


def two_stages() -> Model:
    """x0, x1 integer in [0, 3], x0 + x1 <= 4. Stage a, the most of x0 + x1, is 4 ((1, 3) to
    (3, 1)); stage b, the most of x1 - x0 among those, is 2 at (1, 3) (3 at (0, 3) without
    stage a's fix)."""
    model = Model("two")
    model.column("x[0]", 3)
    model.column("x[1]", 3)
    model.row("r[0]", -math.inf, 4, [0, 1], [1.0, 1.0])
    return model


def test_an_integral_optimum_is_fixed_exactly_before_the_next_stage():
    model = two_stages()
    assert maximise(model, "a", {0: 1.0, 1: 1.0}).best == 4.0
    # No round-off slack: the row's lower bound is the optimum itself, and it may be made tight.
    assert model.rows[-1] == ("fix_a", 4.0, math.inf, [0, 1], [1.0, 1.0])
    assert model.tightenable[-1]
    assert maximise(model, "b", {0: -1.0, 1: 1.0}).best == 2.0
    assert list(model.solution) == [1.0, 3.0]


def test_a_fractional_optimum_is_fixed_with_a_slack_and_never_tightened():
    model = two_stages()
    assert maximise(model, "a", {0: 0.5, 1: 0.5}).best == 2.0
    name, lower, upper, _, coefs = model.rows[-1]
    assert (name, lower, upper, coefs) == ("fix_a", 2.0 - FIX_TOL_ABS, math.inf, [0.5, 0.5])
    assert not model.tightenable[-1]


def test_an_infeasible_stage_is_a_plan_error():
    model = two_stages()
    model.row("r[1]", 5, math.inf, [0], [1.0])  # x0 >= 5 > its upper bound 3
    with pytest.raises(PlanError, match=r"^no plan: stage a is infeasible \(highs\)$"):
        maximise(model, "a", {0: 1.0})


def test_the_time_limit_keeps_the_best_feasible_solution_with_a_proven_gap():
    # No time to solve: placing nobody (x = 0, feasible) is kept; the optimum, 4, lies within
    # the gap proven from the best bound known (at most every column at its upper bound, 6).
    model = two_stages()
    outcome = maximise(model, "a", {0: 1.0, 1: 1.0}, time_limit_s=TINY)
    assert outcome.stopped
    assert outcome.termination == "Time limit reached"
    assert model.solution is not None
    assert outcome.best == float(model.solution.sum())
    assert 0.0 <= outcome.best <= 4.0
    assert outcome.gap is not None
    assert 4.0 - outcome.best <= outcome.gap * max(1.0, outcome.best) <= 6.0 - outcome.best
    assert model.rows[-1][:3] == ("fix_a", outcome.best, math.inf)


def test_the_time_limit_without_a_feasible_solution_is_a_plan_error():
    model = two_stages()
    model.row("r[1]", 1, math.inf, [0, 1], [1.0, 1.0])  # placing nobody is not a solution
    with pytest.raises(PlanError, match=r"^no plan: stage a found no feasible solution within "
                                        r"the time limit of 1e-09 s \(highs\)$"):
        maximise(model, "a", {0: 1.0, 1: 1.0}, time_limit_s=TINY)


def test_a_checked_solution_is_feasible_and_a_violating_one_is_not():
    stage = stage_of(two_stages(), {0: 1.0, 1: 1.0})
    assert stage.feasible(np.array([1.0, 3.0]))
    assert not stage.feasible(np.array([2.0, 3.0]))  # row: 5 > 4
    assert not stage.feasible(np.array([4.0, 0.0]))  # x0 above its bound


def test_relative_gap():
    assert relative_gap(8.0, 10.0) == 0.25
    assert relative_gap(0.0, 3.0) == 3.0  # relative to at least 1
    assert relative_gap(5.0, 4.0) == 0.0  # a bound below the value (round-off): no gap
    assert relative_gap(5.0, math.inf) is None


def test_both_back_ends_take_the_same_stages(backend):
    # Solver.maximise: HiGHS through this module, CBC as a PuLP problem; the same optima.
    solver = Solver(SolverOptions(backend, fallback=False))
    model = textbook()
    assert solver.maximise(model, "a", {0: 5.0, 1: 4.0}) == 20.0
    assert list(model.solution) == [4.0, 0.0]
    record = solver.record()
    assert (record.used, record.status, dict(record.stages)) == (backend, "optimal", {"a": 20.0})
    assert set(record.times_s) == {"a"}
    assert record.termination == {"highs": "Optimal", "cbc": "Optimal Solution Found"}[backend]


def brute_force(model: Model, cost: dict[int, float]) -> float | None:
    """The best value of `cost` over every integer point of `model` (None: no point)."""
    best = None
    for x in itertools.product(*(range(int(u) + 1) for u in model.upper)):
        if all(lower <= sum(c * x[j] for j, c in zip(used, coefs, strict=True)) <= upper
               for _, lower, upper, used, coefs in model.rows):
            worth = sum(c * x[j] for j, c in cost.items())
            best = worth if best is None else max(best, worth)
    return best


@settings(max_examples=150, deadline=None)
@given(data=st.data(), n=st.integers(2, 4), m=st.integers(1, 3),
       halves=st.booleans())
def test_stages_reach_the_brute_force_optimum(data, n, m, halves):
    """Random small integer programs, one stage and then a second: every optimum is the one
    enumeration finds, whatever the regions (bounded moves from the LP bounds, the doubling
    targets, a region optimum one unit below an integral target taken as the stage's) and
    with or without the LP solution's neighbourhood searched first."""
    model = Model("random")
    for j in range(n):
        model.column(f"x[{j}]", data.draw(st.integers(0, 4)))
    for r in range(m):
        coefs = [float(data.draw(st.integers(-3, 4))) for _ in range(n)]
        upper = data.draw(st.integers(0, 24)) / 2  # halves too: a slack need not be whole
        lower = -math.inf if data.draw(st.booleans()) else upper - data.draw(st.integers(0, 6))
        model.row(f"r[{r}]", lower, upper, list(range(n)), coefs)
    step = 0.5 if halves else 1.0
    stages = [{j: step * data.draw(st.integers(-3, 6)) for j in range(n)} for _ in range(2)]
    if brute_force(model, {}) is None:
        with pytest.raises(PlanError):
            maximise(model, "a", stages[0])
        return
    near = data.draw(st.booleans())  # the LP solution's neighbourhood first, or not
    for name, cost in zip("ab", stages, strict=True):
        expected = brute_force(model, cost)  # the earlier stage's fix row is in the model
        assert maximise(model, name, cost, near=near).best == pytest.approx(expected,
                                                                             abs=1e-6)


def region_targets(monkeypatch) -> list[float]:
    """The targets of the regions solved from now on, in order (a spy on `Stage.solve`)."""
    targets: list[float] = []
    solve = Stage.solve

    def spy(self: Stage, target: float, start: np.ndarray | None
            ) -> tuple[bool, np.ndarray | None]:
        targets.append(target)
        return solve(self, target, start)

    monkeypatch.setattr(Stage, "solve", spy)
    return targets


def test_a_region_optimum_one_below_an_integral_target_is_the_stage_optimum(monkeypatch):
    """max 6 x0 + 4 x1, 7 x0 + 4 x1 <= 6, 5 x0 + 2 x1 <= 10, x0 in [0, 1], x1 in [0, 5]: the
    LP bound is 6 (x = (0, 3/2)); x0 = 1 fits nowhere, so the integer optimum is 4 at (0, 1).
    The region at 6 holds no integer point worth 6; the one at 5 holds (0, 1), worth 4, below
    that target but by no more than one: an integral objective has no value in between, so 4
    is the optimum, proven by two regions (a third, at 4, was solved before)."""
    model = Model("one below")
    model.column("x[0]", 1)
    model.column("x[1]", 5)
    model.row("r[0]", -math.inf, 6, [0, 1], [7.0, 4.0])
    model.row("r[1]", -math.inf, 10, [0, 1], [5.0, 2.0])
    targets = region_targets(monkeypatch)
    assert maximise(model, "a", {0: 6.0, 1: 4.0}).best == 4.0
    assert list(model.solution) == [0.0, 1.0]
    assert targets == [6.0, 5.0]


def test_a_row_at_a_fractional_bound_is_never_made_tight():
    """max 3 x0 + 3 x1, 2 x0 + 2 x1 <= 5.5, x in [0, 3]: the LP bound 8.25 with the row's dual
    1.5, above the gap to the first target 8 (0.25). A whole row at a whole bound would stay
    there; at 5.5 its whole activity cannot (4 is the most, a slack of 1.5), so the row keeps
    its range and the stage finds the optimum, 6 at activity 4."""
    model = Model("half")
    model.column("x[0]", 3)
    model.column("x[1]", 3)
    model.row("r[0]", -math.inf, 5.5, [0, 1], [2.0, 2.0])
    stage = stage_of(model, {0: 3.0, 1: 3.0})
    assert stage.relax() == 8
    assert list(stage.duals) == pytest.approx([1.5], abs=1e-9)
    assert stage.region(8.0)[2][0] == -math.inf
    assert maximise(model, "a", {0: 3.0, 1: 3.0}).best == 6.0


def test_a_region_optimum_two_below_the_target_is_not_taken():
    """max 3 x0 + x1, 2 x1 <= 2, 4 x0 - x1 <= 2, x0 in [0, 3], x1 in [0, 4]: LP bound 13/4 at
    (3/4, 1); x0 = 1 needs x1 >= 2, so the optimum is 1 at (0, 1). The region at 13/4 - 2
    holds (0, 0), worth 0, but not (0, 1) (worth less than that target, it need not be in
    it): 0 is more than one below the target, so the search goes on to the region at 0,
    which holds every solution worth 0 or more, and finds 1."""
    model = Model("two below")
    model.column("x[0]", 3)
    model.column("x[1]", 4)
    model.row("r[0]", -math.inf, 2, [0, 1], [0.0, 2.0])
    model.row("r[1]", -math.inf, 2, [0, 1], [4.0, -1.0])
    assert maximise(model, "a", {0: 3.0, 1: 1.0}).best == 1.0
    assert list(model.solution) == [0.0, 1.0]


NEAR_COST = {0: 2.0, 1: 1.0, 2: 1.0}


def near_model() -> Model:
    """max 2 x0 + x1 + x2, x0 + x1 <= 1.5 (r[0]), x2 <= 3 (r[1]), x0, x1 in [0, 1], x2 in
    [0, 3]. The LP solution is (1, 0.5, 3), worth 5.5 (x0 costs more than x1), the first
    target 5. x1 is fractional; x0 shares r[0] with it and ranges too; x2 (whole, 3) shares
    no row with it and stays at 3. Their best is (1, 0), so the neighbourhood holds a
    solution worth 5: the optimum."""
    model = Model("near")
    model.column("x[0]", 1)
    model.column("x[1]", 1)
    model.column("x[2]", 3)
    model.row("r[0]", -math.inf, 1.5, [0, 1], [1.0, 1.0])
    model.row("r[1]", -math.inf, 3, [2], [1.0])
    return model


def test_the_neighbourhood_of_the_lp_solution_holds_the_optimum(monkeypatch):
    regions = region_targets(monkeypatch)
    model = near_model()
    assert maximise(model, "a", NEAR_COST, near=True).best == 5.0
    assert list(model.solution) == [1.0, 0.0, 3.0]
    assert regions == []  # no region solved: the LP bound proves it
    assert maximise(near_model(), "a", NEAR_COST).best == 5.0
    assert regions == [5.0]  # without `near`, the region at the target


def test_the_neighbourhood_fixes_whole_columns_away_from_fractional_ones():
    """The model above: x2 (whole in the LP solution, on r[1] alone) is fixed at 3 while x0
    and x1 range. With a row x1 + x2 <= 10 added, x2 shares a short row with the fractional
    x1 and ranges too. The bounds passed to HiGHS are recorded."""
    linked = near_model()
    linked.row("r[2]", -math.inf, 10, [1, 2], [1.0, 1.0])
    seen: list[tuple[list[float], list[float]]] = []
    for model in (near_model(), linked):
        stage = stage_of(model, NEAR_COST)
        stage.relax()
        assert list(stage.relaxed) == [1.0, 0.5, 3.0]
        change = stage.h.changeColsBounds

        def record(n: int, columns: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                   change=change) -> object:
            seen.append((list(lower), list(upper)))
            return change(n, columns, lower, upper)

        stage.h = _Proxy(stage.h, record)
        assert stage.near() is not None
    assert seen[0] == ([0.0, 0.0, 3.0], [1.0, 1.0, 3.0])
    assert seen[2] == ([0.0, 0.0, 0.0], [1.0, 1.0, 3.0])


class _Proxy:
    """A highspy object whose changeColsBounds is recorded."""

    def __init__(self, h: object, record: object) -> None:
        self._h, self.changeColsBounds = h, record

    def __getattr__(self, name: str) -> object:
        return getattr(self._h, name)


def test_a_neighbourhood_worth_less_than_the_target_leaves_it_to_the_regions():
    """max 2 x0 + 4 x1 + x2, 2 x0 + 3 x1 <= 5.5, 3 x0 + x2 <= 3.5, x0 in [0, 2], x1 in
    [0, 3], x2 in [0, 1]. The LP solution is (0, 11/6, 1), worth 25/3 (x1 is worth more per
    unit of the first row), the first target 8. x1 is fractional, x0 shares the first row
    with it, x2 (whole) does not and stays at 1, so x0 = 1 no longer fits the second row:
    the neighbourhood's best is (0, 1, 1), worth 5. The optimum moves x2: (1, 1, 0), worth
    6, found by the regions."""
    model = Model("outside")
    for j, upper in enumerate((2, 3, 1)):
        model.column(f"x[{j}]", upper)
    model.row("r[0]", -math.inf, 5.5, [0, 1], [2.0, 3.0])
    model.row("r[1]", -math.inf, 3.5, [0, 2], [3.0, 1.0])
    cost = {0: 2.0, 1: 4.0, 2: 1.0}
    stage = stage_of(model, cost)
    assert stage.relax() == 8
    near = stage.near()
    assert near is not None and list(near) == [0.0, 1.0, 1.0]
    assert maximise(model, "a", cost, near=True).best == 6.0
    assert list(model.solution) == [1.0, 1.0, 0.0]
