"""Solver back-ends and lexicographic stages: frozen options in, a frozen record out.

`SolverOptions` says what the caller asks (back-end, time limit per stage, fallback); `over`
lays them over an instance's [solver] settings. A `Solver` is one run's working context: it
takes the options, picks the back-end (HiGHS in process by default, CBC bundled with PuLP as
the fallback), solves the stages the optimisation modules hand it, and keeps what happened;
`record()` returns that as a `SolveRecord` (status and the back-end's termination condition as
separate fields, each stage's value, seconds and gap, the back-end requested and used, its
version, the notes).

Each stage is solved to optimality, then its optimum is fixed as a constraint before the next
stage (the issue's lexicographic objectives). PuLP's HiGHS adapter reports a time-limited MIP
with an incumbent as "Optimal", so the status is read from `sol_status` (style.md).

Integer programs kept as arrays (`Model`, the matching) are maximised by `Solver.maximise`:
with HiGHS on highspy directly, by the LP bound and reduced-cost fixing of
planner.optimise.highs_stages; with CBC as a PuLP problem, each stage a plain MIP.

Time limit (`time_limit_s`, per stage): a stage that runs out of time keeps the best feasible
solution found, fixes its value like an optimum, and makes the status "time_limit"; no
feasible solution in time is a PlanError (exit 3). `gaps` holds each such stage's relative gap
(bound - value) / max(1, |value|), None when no bound is known (CBC). A later stage's gap is
relative to the earlier stages' values as fixed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from types import MappingProxyType
from typing import Any

import numpy as np
import pulp

from models.instance import SolverConfig
from planner.errors import PlanError
from planner.optimise.exact import polish, polishable
from planner.optimise.highs_stages import (
    FEASIBLE,
    FIX_TOL_ABS,
    FIX_TOL_REL,
    Model,
    maximise,
    relative_gap,
    silence_highs_banner,
)

SOLVERS = ("highs", "cbc")
# CBC reports values to 8 significant digits: its optima are fixed with this relative slack.
CBC_TOL = 1e-7

__all__ = ["SOLVERS", "Model", "SolveRecord", "Solver", "SolverOptions", "available_solvers",
           "value"]


@dataclass(frozen=True)
class SolverOptions:
    """What the caller asks of the solver: the back-end (`name`, "" for the instance's
    choice, HiGHS by default), a time limit per stage in seconds (None: none), and whether
    another back-end may stand in when the chosen one is missing or fails (`fallback`)."""

    name: str = ""
    time_limit_s: float | None = None
    fallback: bool = True

    def __post_init__(self) -> None:
        if self.name not in ("", *SOLVERS):
            raise ValueError(f"solver {self.name!r} is not one of: {', '.join(SOLVERS)}")
        if self.time_limit_s is not None and not self.time_limit_s > 0:
            raise ValueError(f"time_limit_s must be positive, not {self.time_limit_s!r}")

    def over(self, config: SolverConfig) -> SolverOptions:
        """These options laid over an instance's [solver] settings (new options; these win
        where they are set, and a fallback needs both to allow it)."""
        return SolverOptions(name=self.name or config.name,
                             time_limit_s=self.time_limit_s or config.time_limit_s,
                             fallback=self.fallback and config.fallback)


@dataclass(frozen=True)
class SolveRecord:
    """What the solver did in one run. `status` is the planner's verdict: "optimal" when
    every stage was proven optimal, "time_limit" when a stage ran out of time and kept its
    best feasible solution. `termination` is the back-end's own word for how it stopped
    (HiGHS's model status, PuLP's solution status for CBC): of the first stage stopped by the
    time limit, else of the last stage solved ("" when nothing was solved). Per stage:
    `stages` the value fixed, `terminations`, `times_s` the seconds in the back-end, `gaps`
    the relative gap of the stages stopped by the time limit."""

    requested: str
    used: str
    version: str
    time_limit_s: float | None
    status: str
    termination: str
    stages: Mapping[str, float]
    terminations: Mapping[str, str]
    times_s: Mapping[str, float]
    gaps: Mapping[str, float | None]
    notes: tuple[str, ...]

    @property
    def gap(self) -> float | None:
        """The largest gap of a time-limited stage; 0 when every stage was proven optimal."""
        if any(g is None for g in self.gaps.values()):
            return None
        return max((g for g in self.gaps.values() if g is not None), default=0.0)

    @property
    def solve_s(self) -> float:
        """Seconds in the back-ends, all stages."""
        return sum(self.times_s.values(), 0.0)


@dataclass
class Solver:
    """One run's solving context: the options, the back-end chosen (`used`, after a
    fallback), and what the stages did so far; `record()` is the caller's frozen copy."""

    options: SolverOptions = field(default_factory=SolverOptions)
    used: str = ""
    version: str = ""
    notes: list[str] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)
    terminations: dict[str, str] = field(default_factory=dict)
    times_s: dict[str, float] = field(default_factory=dict)
    gaps: dict[str, float | None] = field(default_factory=dict)  # stages stopped by the limit
    failed: list[str] = field(default_factory=list)  # back-ends that raised when solving
    exact: bool = False  # the last solution was made exact (planner.optimise.exact)
    # False: the matching's tie-break stages are not solved (planner.optimise.matching's
    # `on_split`: a joint split left to the back-end's choice).
    tie_breaks: bool = True

    @property
    def requested(self) -> str:
        return self.options.name or "highs"

    def record(self) -> SolveRecord:
        """The run so far, frozen."""
        stopped = next(iter(self.gaps), None)
        last = next(reversed(self.terminations), None)
        termination = self.terminations.get(stopped or last or "", "")
        return SolveRecord(
            requested=self.requested, used=self.used, version=self.version,
            time_limit_s=self.options.time_limit_s,
            status="time_limit" if self.gaps else "optimal", termination=termination,
            stages=MappingProxyType(dict(self.stages)),
            terminations=MappingProxyType(dict(self.terminations)),
            times_s=MappingProxyType(dict(self.times_s)),
            gaps=MappingProxyType(dict(self.gaps)), notes=tuple(self.notes))

    def fork(self) -> Solver:
        """A fresh context on the same options and back-end, for one thread's stages
        (planner.optimise.matching.solve_counts); `absorb` merges it back."""
        return Solver(self.options, self.used, self.version, failed=list(self.failed),
                      exact=self.exact, tie_breaks=self.tie_breaks)

    def absorb(self, own: Solver) -> None:
        """Take a forked context's stages, notes and seconds (in the caller's order)."""
        self.notes += own.notes
        self.stages.update(own.stages)
        self.terminations.update(own.terminations)
        for name, seconds in own.times_s.items():
            self._took(name, seconds)
        self.gaps.update(own.gaps)
        self.failed += [name for name in own.failed if name not in self.failed]
        self.used, self.version = own.used or self.used, own.version or self.version
        self.exact = own.exact

    def _took(self, stage: str, seconds: float) -> None:
        self.times_s[stage] = self.times_s.get(stage, 0.0) + seconds

    def stopped(self, stage: str, gap: float | None) -> None:
        """Record a stage that ran out of time and kept its best feasible solution."""
        self.gaps[stage] = gap
        self.notes.append(f"stage {stage}: time limit reached, best feasible solution kept")

    def _backend(self, name: str, presolve: bool = True) -> Any:
        limit = self.options.time_limit_s
        if name == "highs":
            silence_highs_banner()
            extra = {} if presolve else {"presolve": "off"}
            return pulp.HiGHS(msg=False, timeLimit=limit, gapRel=0.0, threads=1, **extra)
        # CBC's MIP preprocessing (cgl) called feasible models infeasible once stage optima
        # were fixed to 1e-9 (eu-2026's pool plan; its LP and HiGHS found solutions).
        return pulp.PULP_CBC_CMD(msg=False, timeLimit=limit, gapRel=0.0,
                                 options=["preprocess off", "dualT 1e-9", "primalT 1e-9"])

    def backend(self, presolve: bool = True) -> Any:
        """The first available back-end, trying the fallback when the chosen one is missing."""
        if self.used:
            return self._backend(self.used, presolve)
        wanted = self.requested
        order = [wanted] + ([n for n in SOLVERS if n != wanted] if self.options.fallback
                            else [])
        for name in order:
            if name not in self.failed and self._backend(name).available():
                self.used = name
                self.version = _version(name)
                if name != wanted and wanted not in self.failed:
                    self.notes.append(f"solver {wanted} is not available; used {name}")
                return self._backend(name)
        tried = " and ".join(order)
        raise PlanError(f"no solver available: tried {tried} "
                        "(install highspy, or PuLP with its bundled CBC)")

    def solve(self, prob: pulp.LpProblem, stage: str, presolve: bool = True) -> None:
        """Solve `prob` as it stands; raise PlanError unless a feasible solution exists. A
        back-end that fails to run gives way to the fallback (the stage is solved again)."""
        started = time.perf_counter()
        try:
            self._solve_with_fallback(prob, stage, presolve)
        finally:
            self._took(stage, time.perf_counter() - started)
        highs = getattr(prob, "solverModel", None) if self.used == "highs" else None
        self.terminations[stage] = _termination(prob, highs)
        if prob.sol_status == pulp.LpSolutionOptimal:
            self.exact = polishable(prob) and self._exact(prob, stage, presolve)
            return
        # PuLP calls a HiGHS run stopped by the time limit "integer feasible" whenever its
        # objective is finite, even with no primal solution (an LP stopped mid-simplex).
        if prob.sol_status == pulp.LpSolutionIntegerFeasible and (
                highs is None or highs.getInfo().primal_solution_status == FEASIBLE):
            self.stopped(stage, _pulp_gap(prob, highs))
            return
        limit = self.options.time_limit_s
        if limit and (prob.sol_status == pulp.LpSolutionIntegerFeasible
                      or prob.status == pulp.LpStatusNotSolved):
            raise PlanError(f"no plan: stage {stage} found no feasible solution within the "
                            f"time limit of {limit:g} s ({self.used})")
        label = pulp.LpStatus.get(prob.status, str(prob.status))
        raise PlanError(f"no plan: stage {stage} is {label.lower()} ({self.used})")

    def _exact(self, prob: pulp.LpProblem, stage: str, presolve: bool) -> bool:
        """Make the solution exact (planner.optimise.exact). A MIP's solution is first made a
        vertex: its integers fixed, the LP solved again (CBC's branch and bound stopped up to 1e-7
        short of the optimum of eu-2026's coverage stage, and a heuristic's solution need not
        be a vertex)."""
        integers = [v for v in prob.variables() if v.cat == pulp.LpInteger]
        if not integers:
            return polish(prob)
        saved = [(v.lowBound, v.upBound) for v in integers]
        for v in integers:
            v.lowBound = v.upBound = float(round(v.varValue or 0.0))
            v.cat = pulp.LpContinuous
        try:
            self._solve_with_fallback(prob, stage, presolve)
            return prob.sol_status == pulp.LpSolutionOptimal and polish(prob)
        finally:
            for v, (low, high) in zip(integers, saved, strict=True):
                v.lowBound, v.upBound, v.cat = low, high, pulp.LpInteger

    def _solve_with_fallback(self, prob: pulp.LpProblem, stage: str, presolve: bool) -> None:
        while True:
            backend = self.backend(presolve)
            try:
                prob.solve(backend)
                return
            except pulp.PulpSolverError as exc:
                self.failed.append(self.used)
                failed, self.used = self.used, ""
                message = f"solver {failed} failed in stage {stage}: {str(exc).strip()}"
                try:
                    self.backend(presolve)
                except PlanError as none_left:
                    raise PlanError(message + self._fallback_tried(failed)) from none_left
                self.notes.append(f"{message}; used {self.used}")

    def _fallback_tried(self, failed: str) -> str:
        """How the back-ends after a failed one fared, for the error when none is left."""
        tried = [n for n in SOLVERS if n != failed] if self.options.fallback else []
        if not tried:
            return "; no fallback ([solver] fallback = false)"
        return "; fallback tried: " + ", ".join(
            f"{n} {'failed too' if n in self.failed else 'not available'}" for n in tried)

    def slack(self, best: float) -> float:
        """The round-off slack with which an optimum is fixed: CBC's solution file holds 8
        significant digits (its `%15.8g`), so a value it reports may exceed the true optimum
        by 5e-8 relative; HiGHS's values are exact to its tolerances."""
        if self.exact:
            # Exact (planner.optimise.exact): a slack would only leave a row a hair off the vertex,
            # which the next polish would take for tight, and find the rows inconsistent.
            return FIX_TOL_REL * abs(best)
        if self.used == "cbc":
            return max(CBC_TOL, CBC_TOL * abs(best))
        return max(FIX_TOL_ABS, FIX_TOL_REL * abs(best))

    def stage(self, prob: pulp.LpProblem, name: str, objective: pulp.LpAffineExpression,
              sense: int, presolve: bool = True) -> float:
        """Optimise one lexicographic stage, fix its optimum, and return it."""
        prob.sense = sense
        prob.setObjective(objective)
        self.solve(prob, name, presolve)
        best = float(pulp.value(objective) or 0.0)
        slack = self.slack(best)
        if sense == pulp.LpMinimize:
            prob += objective <= best + slack, f"fix_{name}"
        else:
            prob += objective >= best - slack, f"fix_{name}"
        self.stages[name] = best
        return best

    def maximise(self, model: Model, name: str, cost: dict[int, float],
                 near: bool = False) -> float:
        """Maximise one stage of an array model, fix its optimum, keep the solution in
        `model.solution` (the next stage's start), and return the optimum. `near`: HiGHS
        searches the LP solution's neighbourhood first (planner.optimise.highs_stages)."""
        self.backend(presolve=False)
        if self.used != "highs":
            return _maximise_pulp(self, model, name, cost)
        started = time.perf_counter()
        try:
            outcome = maximise(model, name, cost, self.options.time_limit_s, near)
        finally:
            self._took(name, time.perf_counter() - started)
        self.terminations[name] = outcome.termination
        if outcome.stopped:
            self.stopped(name, outcome.gap)
        self.stages[name] = outcome.best
        return outcome.best


def available_solvers() -> tuple[str, ...]:
    """The back-ends this machine can run, in SOLVERS order (the tests run on each)."""
    return tuple(name for name in SOLVERS
                 if Solver(SolverOptions(name, fallback=False))._backend(name).available())


def _maximise_pulp(solver: Solver, model: Model, name: str, cost: dict[int, float]) -> float:
    """CBC (or any PuLP back-end): the model as a PuLP problem, each stage a plain MIP."""
    if model.backend is None:
        prob = pulp.LpProblem(model.name, pulp.LpMinimize)
        # Named by position, never by `model.names` (which hold pledge ids: ids that differ
        # only by a space, `-` or `_` are one PuLP name).
        columns = [prob.add_variable(f"x{j}", 0, u, cat=pulp.LpInteger)
                   for j, u in enumerate(model.upper)]
        model.backend = (prob, columns, 0)
    prob, columns, done = model.backend
    for n, (_, lower, upper, used, coefs) in enumerate(model.rows[done:], start=done):
        row_name = f"r{n}"
        expr = pulp.LpAffineExpression(list(zip((columns[j] for j in used), coefs, strict=True)))
        if lower == upper:
            prob += expr == lower, row_name
            continue
        if lower > -math.inf:
            prob += expr >= lower, row_name if upper == math.inf else f"{row_name}_lower"
        if upper < math.inf:
            prob += expr <= upper, row_name if lower == -math.inf else f"{row_name}_upper"
    model.backend = (prob, columns, len(model.rows))
    objective = pulp.LpAffineExpression([(columns[j], c) for j, c in cost.items() if c])
    best = solver.stage(prob, name, objective, pulp.LpMaximize, presolve=False)
    model.solution = np.array([round(value(v)) for v in columns], dtype=float)
    return best


def _pulp_gap(prob: pulp.LpProblem, highs: Any) -> float | None:
    """A time-limited PuLP MIP's gap from HiGHS's dual bound; None for CBC or an LP."""
    if highs is None or not prob.isMIP():
        return None
    info = highs.getInfo()
    # PuLP hands HiGHS a minimisation (a maximum's objective negated): the bound is below.
    return relative_gap(-info.objective_function_value, -info.mip_dual_bound)


def _termination(prob: pulp.LpProblem, highs: Any) -> str:
    """How the back-end says it stopped: HiGHS's model status ("Optimal", "Time limit
    reached"), or PuLP's solution status for CBC ("Optimal Solution Found", "Solution Found"
    when stopped with an incumbent)."""
    if highs is not None:
        return str(highs.modelStatusToString(highs.getModelStatus()))
    return pulp.LpSolution.get(prob.sol_status, str(prob.sol_status))


def _version(name: str) -> str:
    if name == "highs":
        return "HiGHS (highspy " + metadata.version("highspy") + ")"
    return "CBC (bundled with PuLP " + pulp.__version__ + ")"


def value(expr: Any) -> float:
    return float(pulp.value(expr) or 0.0)
