"""HiGHS's array path: integer programs kept as arrays (`Model`, the matching's), each
lexicographic stage maximised on highspy directly (bulk rows, no PuLP hand-off) by `maximise`:

  1. the LP relaxation (presolve off): its value z bounds the stage, and its reduced costs d
     and row duals y price leaving it: value(x) = z - sum |d_j| |x_j - x*_j| - sum |y_r| s_r
     for every feasible x (s_r: the slack of a row at a bound in the LP solution x*);
  2. a target T: the most an integer solution can be worth, floor(z + 1e-6) for an integral
     objective, z - 1e-6 otherwise (HiGHS's own absolute gap). A solution worth T or more keeps
     every column within (z - T) / |d_j| of its LP bound (at it when |d_j| > z - T) and every
     whole row at a whole bound with |y_r| > z - T tight (reduced-cost fixing,
     `Stage.region`), so the MIP is solved on that region only (presolve on: it drops the
     fixed columns);
  3. if the region's optimum is worth T or more it is the stage's optimum (every solution worth
     more lies in the region), and so it is when it is worth T - 1 or more and the objective
     is integral (no value lies between). Otherwise T drops to the region's optimum (the next
     region then holds the stage's optimum for sure) or, when the region has no solution,
     away from z:
     z - 1, z - 2, z - 4, ..., doubling until the previous stage's value (its solution is in
     that region), or the whole stage after ROUNDS regions when there is no previous stage.
     A region far smaller than the stage shows it has no solution in milliseconds, so going
     on doubling costs little where the optimum lies far below z: the split's tie-break on
     the re-plan bench lies 40,608 below its LP bound; stopping after four regions (z - 8)
     solved the whole stage (2.9 s), the region at z - 65,536 took 0.3 s, the same optimum.

The joint split's first stage (`near`) first searches the neighbourhood of the LP solution
(`Stage.near`: columns at whole LP values fixed unless a short row links them to a fractional
one): a solution worth the target there is the optimum, found in 0.04 s where the region's
root node took 0.07-2.5 s (five re-plan bench instances); otherwise the regions go on as above.

Every solution HiGHS returns is checked (bounds, rows, its value against HiGHS's objective);
the region is solved again without presolve, with the previous stage's solution as a MIP start,
if the check fails: HiGHS 1.16 with a MIP start and presolve returned the start as "optimal"
with the reduced problem's better objective on one random instance, so presolve never gets a
start. The optimum is then fixed exactly for integral objectives (`>= best`, no slack: the
next LP cannot gain from round-off, which had lifted its bound by 2e-3 and emptied the region).
On the 30,000-person matching bench the fixed-row MIPs took 5-400 s per stage, 80% of it
(profiled with perf) in HiGHS's domain propagation over the dense fix rows; now the LPs take
up to 0.6 s, the regions up to 0.3 s, and 11 of the 12 stages are proven at the first target
(IT's quality at z - 1: its LP bound 8682 is not reached, the optimum is 8681.67).

Time limit (`time_limit_s`, per stage): a stage that runs out of time keeps the best feasible
solution found (the region's, the previous stage's, or placing nobody when that is feasible),
fixes its value like an optimum and says so (`StageOutcome.stopped`, with its relative gap
(bound - value) / max(1, |value|), the bound being the best one proven: the LP relaxation,
HiGHS's MIP dual bound, or every column at its best bound); no feasible solution in time is a
PlanError (exit 3).
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planner.errors import PlanError

# Optima are fixed with this slack so that later stages stay feasible despite round-off.
FIX_TOL_ABS, FIX_TOL_REL = 1e-9, 1e-12
# A stage optimum is proven when the solution is within this of the LP bound (HiGHS's default
# absolute MIP gap); reduced costs below MARGIN times the largest cost are treated as zero.
ABS_GAP, MARGIN = 1e-6, 1e-6
# Regions tried around the LP bound, each twice as far from it as the last, before the whole
# stage is solved as one MIP (with a previous stage's solution, the region at its value holds
# that solution and ends the search before: 2**64 is beyond any objective here).
ROUNDS = 64
LP_SCALING, MIP_SCALING = 4, 2  # HiGHS's simplex_scale_strategy (`Stage.relax`)
NEAR_ROW = 200  # rows longer than this do not free their columns in `Stage.near`
FEASIBLE = 2  # HiGHS's primal_solution_status of a feasible solution (kSolutionStatusFeasible)


@dataclass
class Model:
    """An integer program kept as arrays for `maximise` (and for `Solver.maximise`, which
    serves CBC too): integer columns in [0, upper] and rows lower <= sum(coef * column) <=
    upper, all named `{family}[{key}]`. Columns come first; rows (the stages' fix rows among
    them) may be added between stages."""

    name: str
    names: list[str] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    rows: list[tuple[str, float, float, list[int], list[float]]] = field(default_factory=list)
    # Whether reduced-cost fixing may make a row tight (not rows fixed with a round-off slack).
    tightenable: list[bool] = field(default_factory=list)
    solution: np.ndarray | None = None
    backend: Any = None

    def column(self, name: str, upper: float) -> int:
        if self.backend is not None:
            raise ValueError("columns come before the first stage")
        self.names.append(name)
        self.upper.append(float(upper))
        return len(self.upper) - 1

    def row(self, name: str, lower: float, upper: float, columns: list[int],
            coefs: list[float], tightenable: bool = True) -> None:
        self.rows.append((name, float(lower), float(upper), list(columns),
                          [float(c) for c in coefs]))
        self.tightenable.append(tightenable)

    def replace_fix(self, stage: str, rows: list[tuple[str, float, list[int], list[float]]]
                    ) -> None:
        """Fix stage `stage`'s optimum by `rows` (name, lower bound, columns, coefficients;
        integral, equivalent to its fix row over integer solutions) instead of its one row:
        that row is dropped while only this model holds it (HiGHS: it reaches highspy with
        the next stage); with PuLP it is already in the problem, where the new rows add
        nothing but the same solutions."""
        if self.rows and self.rows[-1][0] == f"fix_{stage}":
            self.rows.pop()
            self.tightenable.pop()
        for name, lower, columns, coefs in rows:
            self.row(name, lower, math.inf, columns, coefs)

    def dense(self, cost: Mapping[int, float]) -> np.ndarray:
        vector = np.zeros(len(self.upper))
        vector[list(cost)] = list(cost.values())
        return vector


@dataclass(frozen=True)
class StageOutcome:
    """What `maximise` reports of one stage: the value fixed (the optimum, or the best
    feasible value when time ran out), HiGHS's model status of its last run as HiGHS words it
    ("Optimal", "Time limit reached"), whether the time limit stopped it, and then its
    relative gap (None when no bound is known)."""

    best: float
    termination: str
    stopped: bool = False
    gap: float | None = None


def fix_optimum(model: Model, name: str, cost: np.ndarray, best: float, integral: bool) -> None:
    """The stage's optimum as a row: exact for integral objectives, else with round-off slack."""
    used = np.flatnonzero(cost)
    slack = 0.0 if integral else max(FIX_TOL_ABS, FIX_TOL_REL * abs(best))
    model.row(f"fix_{name}", best - slack, math.inf, used.tolist(), cost[used].tolist(),
              tightenable=integral)


def highs_model(model: Model) -> Any:
    """The highspy object for `model`, with every row of the model passed to it."""
    import highspy

    if model.backend is None:
        silence_highs_banner()
        h = highspy.Highs()
        # Feasibility jump off: HiGHS's first primal heuristic, run before every MIP's root
        # LP, found nothing that the root did not find anyway on the matching's regions and
        # took a quarter of their time (re-plan bench, ES's quality region: 0.119 -> 0.090 s;
        # every stage of the matching, summed: re-plan 0.51 -> 0.43 s, monthly re-run
        # 0.31 -> 0.24 s, 30,000 bench persons 2.38 -> 2.32 s, places growing 30,000
        # 3.66 -> 3.43 s and 300,000 12.5 -> 11.8 s, 300,000 bench persons within noise).
        for option, setting in (("output_flag", False), ("threads", 1),
                                ("mip_rel_gap", 0.0), ("mip_abs_gap", ABS_GAP),
                                ("mip_heuristic_run_feasibility_jump", False)):
            h.setOptionValue(option, setting)
        n = len(model.upper)
        h.addVars(n, np.zeros(n), np.array(model.upper))
        h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.ones(n, dtype=np.uint8))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        model.backend = [h, 0]
    h, done = model.backend
    new = model.rows[done:]
    if new:
        starts = np.cumsum([0] + [len(r[3]) for r in new[:-1]]).astype(np.int32)
        index = np.array([j for r in new for j in r[3]], dtype=np.int32)
        coefs = np.array([c for r in new for c in r[4]], dtype=float)
        h.addRows(len(new), np.array([r[1] for r in new]), np.array([r[2] for r in new]),
                  len(index), starts, index, coefs)
        model.backend[1] = len(model.rows)
    return h


def maximise(model: Model, name: str, cost_map: dict[int, float],
             time_limit_s: float | None = None, near: bool = False) -> StageOutcome:
    """Maximise stage `name` of `model` (module docstring), fix its optimum as a row, keep
    the solution in `model.solution` (the next stage's start). With `time_limit_s` (seconds,
    for this stage) a stage that runs out of time keeps its best feasible solution: the
    region's, the start (the previous stage's), or placing nobody when that is feasible; no
    feasible solution in time is a PlanError. With `near`, the neighbourhood of the LP
    solution is searched first (`Stage.near`, module docstring)."""
    deadline = (time.perf_counter() + time_limit_s) if time_limit_s else None
    stage = Stage(highs_model(model), model, model.dense(cost_map), deadline, name)
    start = model.solution
    floor = stage.worth(start) if start is not None else -math.inf
    target = stage.relax()
    found, gap, stopped, nearby = None, None, False, None
    if near and target > floor:
        # A solution worth the target is optimal wherever it was found (nothing is worth
        # more than the LP bound); anything less is left to the regions, as without `near`
        # (kept only as the last resort of a time limit).
        nearby = stage.near()
        if nearby is not None and stage.worth(nearby) >= target - stage.slack:
            found = nearby
    for attempt in range(0 if found is not None else ROUNDS + 1):
        target = max(-math.inf if attempt == ROUNDS else target, floor)
        timed_out, x = stage.solve(target, start)
        if timed_out:
            # Placing nobody is a plan too, if a poor one, when the stage has no other.
            zero = np.zeros(stage.n)
            kept = [y for y in (x, start, nearby, zero if stage.feasible(zero) else None)
                    if y is not None]
            found = max(kept, key=stage.worth) if kept else None
            if found is None:
                raise PlanError(f"no plan: stage {name} found no feasible solution within the "
                                f"time limit of {time_limit_s:g} s (highs)")
            stopped, gap = True, relative_gap(stage.worth(found), stage.proven_bound())
            break
        # Every solution worth the target or more is in the region: x, its best, is the
        # optimum when it reaches the target, or, for an integral objective, comes within one
        # of it (no value lies between: a better solution would reach the target).
        reach = 1.0 if stage.integral else 0.0
        if x is not None and stage.worth(x) >= target - reach - stage.slack:
            found = x
            break
        if x is not None:  # the stage's optimum is below the target: the region at x holds it
            target, start, floor = stage.worth(x), x, stage.worth(x)
        elif target == -math.inf:
            raise PlanError(f"no plan: stage {name} is infeasible (highs)")
        else:
            target = stage.bound - max(2.0 * (stage.bound - target), 1.0)
    assert found is not None
    best = stage.worth(found)
    model.solution = found
    fix_optimum(model, name, stage.cost, best, stage.integral)
    return StageOutcome(best, stage.termination, stopped, gap)


class Stage:
    """One stage of a highspy model: the LP bound, regions around it, checked solutions."""

    def __init__(self, h: Any, model: Model, cost: np.ndarray, deadline: float | None,
                 name: str) -> None:
        self.h, self.cost, self.deadline, self.name = h, cost, deadline, name
        self.n, self.m = len(model.upper), len(model.rows)
        self.columns = np.arange(self.n, dtype=np.int32)
        self.row_index = np.arange(self.m, dtype=np.int32)
        self.upper = np.array(model.upper)
        self.lower_rows = np.array([r[1] for r in model.rows])
        self.upper_rows = np.array([r[2] for r in model.rows])
        self.tightenable = np.array(model.tightenable, dtype=bool)
        self.entries = (np.array([r for r, row in enumerate(model.rows) for _ in row[3]],
                                 dtype=np.int64),
                        np.array([j for row in model.rows for j in row[3]], dtype=np.int64),
                        np.array([c for row in model.rows for c in row[4]]))
        self.integral = bool(np.all(cost == np.round(cost)))
        self.slack = 0.0 if self.integral else ABS_GAP * 1e-3
        self.bound = math.inf
        self.whole_bound = math.inf  # HiGHS's MIP dual bound, from a run on the whole stage
        self.termination = ""  # HiGHS's model status of the last run, in its words
        self.margin = MARGIN * max(1.0, float(np.abs(cost).max(initial=0.0)))
        h.changeColsCost(self.n, self.columns, cost)

    def worth(self, x: np.ndarray) -> float:
        return float(self.cost @ x)

    def proven_bound(self) -> float:
        """The best bound known on the stage: every column at its best bound, the LP
        relaxation, and HiGHS's dual bound when the last MIP ran on the whole stage."""
        bound = float(np.where(self.cost > 0, self.cost * self.upper, 0.0).sum())
        return min(bound, self.bound, self.whole_bound)

    def run(self, presolve: str) -> Any:
        self.h.setOptionValue("presolve", presolve)
        if self.deadline is not None:
            self.h.setOptionValue("time_limit", max(self.deadline - time.perf_counter(), 0.0))
        self.h.run()
        status = self.h.getModelStatus()
        self.termination = self.h.modelStatusToString(status)
        return status

    def relax(self) -> float:
        """Solve the LP relaxation; return the first target (-inf when it ran out of time)."""
        import highspy

        h = self.h
        h.changeColsIntegrality(self.n, self.columns, np.zeros(self.n, dtype=np.uint8))
        # Scaling by powers of two to a largest value of 1 (strategy 4) rather than HiGHS's
        # default equilibration (2): the placement LPs on the joint split's full places, with
        # their fix rows of wide coefficients, took 2-3x fewer seconds (300,000 bench persons,
        # EL 5.9 s -> 2.9 s, ES 30 s -> 13 s; the same optima).
        h.setOptionValue("simplex_scale_strategy", LP_SCALING)
        try:
            result = self.run("off")
        finally:
            h.setOptionValue("simplex_scale_strategy", MIP_SCALING)
        h.changeColsIntegrality(self.n, self.columns, np.ones(self.n, dtype=np.uint8))
        if result == highspy.HighsModelStatus.kInfeasible:
            raise PlanError(f"no plan: stage {self.name} is infeasible (highs)")
        if result != highspy.HighsModelStatus.kOptimal:
            return -math.inf
        relaxed = h.getSolution()
        x = np.array(relaxed.col_value)
        self.reduced = np.abs(np.array(relaxed.col_dual))
        self.duals = np.abs(np.array(relaxed.row_dual))
        activity = np.array(relaxed.row_value)
        self.at_lower, self.at_upper = x <= ABS_GAP, x >= self.upper - ABS_GAP
        self.row_at_upper = np.abs(activity - self.upper_rows) <= ABS_GAP
        self.row_at_lower = ~self.row_at_upper & (np.abs(activity - self.lower_rows) <= ABS_GAP)
        self.bound, self.relaxed = self.worth(x), x
        return math.floor(self.bound + ABS_GAP) if self.integral else self.bound - ABS_GAP

    def region(self, target: float) -> tuple[np.ndarray, ...]:
        """Bounds that keep every solution worth `target` or more (reduced-cost fixing): a
        column whose reduced cost d prices each unit away from its LP bound moves at most
        floor((z - target) / d) units from it (0: fixed there); a whole row at a whole bound
        whose dual is above z - target stays at that bound.

        Bounding the moves, not only fixing, matters to HiGHS: its root node records, for
        every integer column of nonzero reduced cost, a bound per value of its domain (up to
        1,024 each, `HighsRedcostFixing::addRootRedcost`), and searched them over and over:
        75% of the joint split's tie-break at 300,000 bench persons (perf), columns counting
        up to 50,000 persons."""
        lower, upper = np.zeros(self.n), self.upper.copy()
        lower_rows, upper_rows = self.lower_rows.copy(), self.upper_rows.copy()
        if self.bound < math.inf and target > -math.inf:
            threshold = self.bound - target + self.margin
            moves = np.floor(np.divide(threshold, self.reduced, out=np.full(self.n, np.inf),
                                       where=self.reduced > 0))
            up = self.at_upper
            down = self.at_lower & ~self.at_upper
            lower[up] = np.maximum(0.0, self.upper[up] - moves[up])
            upper[down] = np.minimum(self.upper[down], moves[down])
            # Rows are only made tight, where they cannot move at all: whole terms (a
            # tightenable row) at a whole bound move by whole units, so a dual above the gap
            # keeps them there; at a bound like 5.5 the slack is not whole (0.5 may be free).
            # Bounding rows' moves as the columns' was slower (30,000 bench persons, ES's
            # quality stage: 8.0 s against 2.3 s): HiGHS handles ranged rows less well.
            tight = (self.duals > threshold) & self.tightenable
            top = tight & self.row_at_upper & _whole(self.upper_rows)
            bottom = tight & self.row_at_lower & _whole(self.lower_rows)
            lower_rows[top] = self.upper_rows[top]
            upper_rows[bottom] = self.lower_rows[bottom]
        return lower, upper, lower_rows, upper_rows

    def solve(self, target: float, start: np.ndarray | None
              ) -> tuple[bool, np.ndarray | None]:
        """The region's optimum (None: no solution), and whether time ran out. HiGHS presolve
        makes the regions fast, but HiGHS 1.16 with a MIP start and presolve returned a start
        as "optimal" with the reduced problem's better objective (seen on a random instance),
        so presolve runs without the start, every solution is checked, and a failed check is
        solved again without presolve."""
        import highspy

        h = self.h
        lower, upper, lower_rows, upper_rows = self.region(target)
        h.changeColsBounds(self.n, self.columns, lower, upper)
        h.changeRowsBounds(self.m, self.row_index, lower_rows, upper_rows)
        try:
            for presolve in ("on", "off"):
                if presolve == "off" and start is not None and np.all(start >= lower) \
                        and np.all(start <= upper):
                    solution = highspy.HighsSolution()
                    solution.col_value, solution.value_valid = start.tolist(), True
                    h.setSolution(solution)
                result = self.run(presolve)
                x = np.round(np.array(h.getSolution().col_value))
                if result == highspy.HighsModelStatus.kTimeLimit:
                    if self.bound == math.inf or target == -math.inf:  # the region is whole
                        dual = h.getInfo().mip_dual_bound
                        self.whole_bound = dual if math.isfinite(dual) else math.inf
                    return True, x if self.feasible(x) else None
                if result == highspy.HighsModelStatus.kInfeasible:
                    return False, None
                if result == highspy.HighsModelStatus.kOptimal and self.feasible(x) and \
                        abs(self.worth(x) - h.getInfo().objective_function_value) \
                        <= ABS_GAP * (1.0 + 1e-3 * abs(self.worth(x))):
                    return False, x
            label = h.modelStatusToString(result).lower()
            raise PlanError(f"no plan: stage {self.name} gave HiGHS status {label} and no "
                            "solution that passes the check (highs)")
        finally:
            h.changeColsBounds(self.n, self.columns, np.zeros(self.n), self.upper)
            h.changeRowsBounds(self.m, self.row_index, self.lower_rows, self.upper_rows)

    def near(self) -> np.ndarray | None:
        """The best integer solution near the LP solution x* (None: none found; when time ran
        out, the best found by then): a column at a whole value in x* stays there unless it
        shares a row of at most NEAR_ROW entries with a fractional one; those (and the
        fractional ones) range over their bounds. The joint split's LP is nearly integral
        (re-plan bench: 35 fractional of 1,567 columns) and its optimum is x*'s value rounded
        down, but HiGHS spent 0.07-2.5 s in its root node's cuts before its own sub-MIP
        found it; this sub-MIP finds it in 0.04 s. Longer rows (the shares of every state)
        would free nearly everything."""
        import highspy

        x = self.relaxed
        free = np.abs(x - np.round(x)) > ABS_GAP
        rows, columns, _ = self.entries
        short = np.bincount(rows, minlength=self.m)[rows] <= NEAR_ROW
        touched = np.zeros(self.m, dtype=bool)
        touched[rows[short & free[columns]]] = True
        free[columns[touched[rows]]] = True
        whole = np.round(x)
        h = self.h
        h.changeColsBounds(self.n, self.columns, np.where(free, 0.0, whole),
                           np.where(free, self.upper, whole))
        try:
            status = self.run("on")  # within the stage's time limit, if any
            if status not in (highspy.HighsModelStatus.kOptimal,
                              highspy.HighsModelStatus.kTimeLimit):
                return None
            y = np.round(np.array(h.getSolution().col_value))
            return y if self.feasible(y) else None
        finally:
            h.changeColsBounds(self.n, self.columns, np.zeros(self.n), self.upper)

    def feasible(self, x: np.ndarray) -> bool:
        rows, columns, coefs = self.entries
        activity = np.bincount(rows, weights=coefs * x[columns], minlength=self.m)
        tolerance = ABS_GAP * (1.0 + 1e-3 * np.abs(activity))
        return bool(np.all(x >= 0) and np.all(x <= self.upper)
                    and np.all(activity >= self.lower_rows - tolerance)
                    and np.all(activity <= self.upper_rows + tolerance))


def _whole(bounds: np.ndarray) -> np.ndarray:
    """Which `bounds` are whole numbers (a whole row's activity is then whole there)."""
    return bounds == np.round(bounds)


def relative_gap(value: float, bound: float) -> float | None:
    """(bound - value) / max(1, |value|) for a maximisation; None without a finite bound."""
    if not (math.isfinite(value) and math.isfinite(bound)):
        return None
    return max(bound - value, 0.0) / max(1.0, abs(value))


_BANNER_DONE = False


def silence_highs_banner() -> None:
    """HiGHS prints a banner on stdout when the first Highs object of a process is made;
    stdout is the user's table, so make that first object with stdout pointed at /dev/null."""
    global _BANNER_DONE
    if _BANNER_DONE:
        return
    _BANNER_DONE = True
    try:
        import highspy
    except ImportError:
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
