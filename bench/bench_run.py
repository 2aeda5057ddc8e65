"""Benchmark: wall time of a full `planner run` on eu-2026, as a user runs it.

Measured twice: without candidates (the pool plan alone: issue 2's target of 2 s) and with the
bundled 1,200 synthetic candidates (the whole `make run`).

Usage: `make bench` or `.venv/bin/python bench/bench_run.py [--repeat N]`. Prints the median and
the best of N runs of the console script (process start, imports, load, plan, write, verify) and
the stage timings from summary.json; record the result in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 2.0


def timed_runs(script: Path, instance: Path, tmp: Path, repeat: int
               ) -> tuple[list[float], list[dict[str, float]]]:
    walls, stages = [], []
    for i in range(repeat):
        out = tmp / f"{instance.name}-{i}"
        started = time.perf_counter()
        subprocess.run([str(script), "run", str(instance), "--out", str(out), "-q"],
                       check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        walls.append(time.perf_counter() - started)
        stages.append(json.loads((out / "summary.json").read_text())["timings_s"])
    return walls, stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    script = Path(sys.executable).parent / "planner"
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "eu-2026-no-candidates"
        shutil.copytree(ROOT / "instances/eu-2026", plain)
        (plain / "candidates.csv").unlink()
        walls, stages = timed_runs(script, plain, Path(tmp), args.repeat)
        full_walls, full_stages = timed_runs(script, ROOT / "instances/eu-2026", Path(tmp),
                                             args.repeat)
        help_walls = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            subprocess.run([str(script), "--help"], check=True, stdout=subprocess.DEVNULL)
            help_walls.append(time.perf_counter() - started)
    median = statistics.median(walls)
    print(f"with candidates: median {statistics.median(full_walls):.3f} s, stages: "
          + ", ".join(f"{k} {statistics.median(s.get(k, 0.0) for s in full_stages):.3f}"
                      for k in sorted({k for s in full_stages for k in s})))
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"Python {platform.python_version()}")
    verdict = "met" if median <= TARGET_S else "NOT met"
    print(f"planner run eu-2026 without candidates: median {median:.3f} s, best {min(walls):.3f} s "
          f"over {args.repeat} runs; target {TARGET_S} s: {verdict}")
    print(f"planner --help: median {statistics.median(help_walls):.3f} s")
    keys = sorted({k for s in stages for k in s})
    print("stage medians (s): " + ", ".join(
        f"{k} {statistics.median(s.get(k, 0.0) for s in stages):.3f}" for k in keys))


if __name__ == "__main__":
    main()
