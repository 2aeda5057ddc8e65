"""One `planner run` in process, with the seconds of every stage (a child of the harness).

`planner.pipeline.run` is called as the command calls it (the cyclic garbage collector set
as planner.cli.main and its `run` set it: `planner.cli.collector`, then
`planner.cli.run_collector`). The run's own timings give every stage: summary.json's
`timings_s`, then writing, verifying and the exports (`write`, `verify`, `export`; the
exports run in a child process alongside the verifier, planner.outputs.alongside, so the two
overlap); publishing is wrapped with a timer (the pipeline itself is unchanged).
Prints one JSON object: the stage seconds, the wall time, the peak memory of this process and
the matching's figures.

    .venv/bin/python bench/stages.py INSTANCE OUT [AS_OF]

AS_OF (an ISO date): a re-plan of the rest of the year, as `planner run --as-of`.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from planner.cli import collector, run_collector  # noqa: E402

collector()  # as `planner` runs (planner.cli.main)
run_collector()  # as its `run` command runs from the console

WRAPPED = {"publish": "publish"}


def timed(function: Callable[..., Any], step: str, seconds: dict[str, float]
          ) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[step] = seconds.get(step, 0.0) + time.perf_counter() - started
    return wrapper


def main() -> None:
    folder, out = Path(sys.argv[1]), Path(sys.argv[2])
    import datetime as dt

    from planner import pipeline
    from planner.optimise.solve import SolverOptions

    imports = time.perf_counter() - STARTED
    seconds: dict[str, float] = {}
    for name, step in WRAPPED.items():
        setattr(pipeline, name, timed(getattr(pipeline, name), step, seconds))
    as_of = pipeline.AsOf(dt.date.fromisoformat(sys.argv[3])) if len(sys.argv) > 3 else None
    result = pipeline.run(folder, out, SolverOptions(), as_of=as_of)
    stages = {"imports": imports, **result.summary.timings_s, **seconds}
    m = result.summary.matching
    print(json.dumps({
        "stages": stages,
        "wall": time.perf_counter() - STARTED,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "matching": {"persons": m.persons_total, "cases": len(result.instance.cases or ()),
                     "places": m.places, "assigned": m.persons_assigned, "classes": m.classes},
    }))


if __name__ == "__main__":
    main()
