"""Solidarity pool planner: plan the EU Annual Solidarity Pool (Regulation (EU) 2024/1351).

The library API, each step usable alone and none but `write` writing anything:

    from planner import load_instance, plan, verify, write, compare

`load_instance(folder, variant=None) -> Instance`, `plan(instance, ...) -> Plan` (tables and
summary in memory), `verify(plan) -> list[Problem]` (the independent verifier, in memory),
`write(plan, out) -> Path` (written, verified and published as `planner run` does) and
`compare(folder, variants=None, ...) -> Comparison` (the base and variants planned in memory);
`replan(instance, as_of, ...) -> Plan` re-plans the rest of the year at a date (issue 15).

Importing `planner` stays cheap (the command line imports it for `__version__`): each name is
imported from its module on first use (`__getattr__`). No name here may equal a submodule's
name: importing `planner.X` sets the package's attribute X, which would hide the function.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from planner.comparison import Comparison, compare
    from planner.errors import InputError, PlanError, Problem
    from planner.inputs.load import load_instance
    from planner.pipeline import Plan, plan, render, replan, verify, write

__version__ = "0.1.0"

# name -> the module defining it, imported on first use
_HOMES = {
    "load_instance": "planner.inputs.load",
    "plan": "planner.pipeline", "Plan": "planner.pipeline", "render": "planner.pipeline",
    "verify": "planner.pipeline", "write": "planner.pipeline", "replan": "planner.pipeline",
    "compare": "planner.comparison", "Comparison": "planner.comparison",
    "InputError": "planner.errors", "PlanError": "planner.errors", "Problem": "planner.errors",
}

__all__ = ["Comparison", "InputError", "Plan", "PlanError", "Problem", "__version__", "compare",
           "load_instance", "plan", "render", "replan", "verify", "write"]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'planner' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # found once; later look-ups do not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
