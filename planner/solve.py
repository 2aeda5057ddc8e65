"""Solver back-ends and lexicographic stages.

HiGHS in process (highspy) by default, CBC (bundled with PuLP) as the fallback. Each stage is
solved to optimality, then its optimum is fixed as a constraint before the next stage (the
issue's lexicographic objectives). PuLP's HiGHS adapter reports a time-limited MIP with an
incumbent as "Optimal", so the status is read from `sol_status` (style.md).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pulp

from models.instance import SolverConfig
from planner.errors import PlanError

SOLVERS = ("highs", "cbc")
# Optima are fixed with this slack so that later stages stay feasible despite round-off.
FIX_TOL_ABS, FIX_TOL_REL = 1e-9, 1e-12


@dataclass
class Solver:
    """A configured back-end; `used` says which one really ran (after a fallback)."""

    name: str = ""
    time_limit_s: float | None = None
    fallback: bool = True
    used: str = ""
    version: str = ""
    status: str = "optimal"
    notes: list[str] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)
    solve_s: float = 0.0

    def configure(self, config: SolverConfig) -> None:
        """Take the instance's [solver] settings where the command line left them open."""
        self.name = self.name or config.name
        self.time_limit_s = self.time_limit_s if self.time_limit_s else config.time_limit_s
        self.fallback = self.fallback and config.fallback

    def _backend(self, name: str, presolve: bool = True) -> Any:
        if name == "highs":
            _silence_highs_banner()
            extra = {} if presolve else {"presolve": "off"}
            return pulp.HiGHS(msg=False, timeLimit=self.time_limit_s, gapRel=0.0, threads=1,
                              **extra)
        return pulp.PULP_CBC_CMD(msg=False, timeLimit=self.time_limit_s, gapRel=0.0)

    def backend(self, presolve: bool = True) -> Any:
        """The first available back-end, trying the fallback when the chosen one is missing."""
        if self.used:
            return self._backend(self.used, presolve)
        self.name = self.name or "highs"
        order = [self.name] + ([n for n in SOLVERS if n != self.name] if self.fallback else [])
        for name in order:
            if self._backend(name).available():
                self.used = name
                self.version = _version(name)
                if name != self.name:
                    self.notes.append(f"solver {self.name} is not available; used {name}")
                return self._backend(name)
        tried = " and ".join(order)
        raise PlanError(f"no solver available: tried {tried} "
                        "(install highspy, or PuLP with its bundled CBC)")

    def solve(self, prob: pulp.LpProblem, stage: str, presolve: bool = True) -> None:
        """Solve `prob` as it stands; raise PlanError unless a feasible solution exists."""
        started = time.perf_counter()
        try:
            prob.solve(self.backend(presolve))
        except pulp.PulpSolverError as exc:
            raise PlanError(f"solver {self.used} failed in stage {stage}: {exc}") from exc
        finally:
            self.solve_s += time.perf_counter() - started
        if prob.sol_status == pulp.LpSolutionOptimal:
            return
        if prob.sol_status == pulp.LpSolutionIntegerFeasible:
            self.status = "time_limit"
            self.notes.append(f"stage {stage}: time limit reached, best feasible solution kept")
            return
        label = pulp.LpStatus.get(prob.status, str(prob.status))
        raise PlanError(f"no plan: stage {stage} is {label.lower()} ({self.used})")

    def stage(self, prob: pulp.LpProblem, name: str, objective: pulp.LpAffineExpression,
              sense: int, presolve: bool = True) -> float:
        """Optimise one lexicographic stage, fix its optimum, and return it."""
        prob.sense = sense
        prob.setObjective(objective)
        self.solve(prob, name, presolve)
        best = float(pulp.value(objective) or 0.0)
        slack = max(FIX_TOL_ABS, FIX_TOL_REL * abs(best))
        if sense == pulp.LpMinimize:
            prob += objective <= best + slack, f"fix_{name}"
        else:
            prob += objective >= best - slack, f"fix_{name}"
        self.stages[name] = best
        return best


_BANNER_DONE = False


def _silence_highs_banner() -> None:
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


def _version(name: str) -> str:
    if name == "highs":
        return "HiGHS (highspy " + metadata.version("highspy") + ")"
    return "CBC (bundled with PuLP " + pulp.__version__ + ")"


def new_problem(name: str) -> pulp.LpProblem:
    return pulp.LpProblem(name, pulp.LpMinimize)


def value(expr: Any) -> float:
    return float(pulp.value(expr) or 0.0)
