"""Benchmark: wall time of a full `planner run` on eu-2026 (no candidates), as a user runs it.

Usage: `make bench` or `.venv/bin/python bench/bench_run.py [--repeat N]`. Prints the median and
the best of N runs of the console script (process start, imports, load, plan, write, verify) and
the stage timings from summary.json; record the result in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    script = Path(sys.executable).parent / "planner"
    walls, stages = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            out = Path(tmp) / f"run{i}"
            started = time.perf_counter()
            subprocess.run([str(script), "run", str(ROOT / "instances/eu-2026"), "--out",
                            str(out), "-q"], check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
            walls.append(time.perf_counter() - started)
            stages.append(json.loads((out / "summary.json").read_text())["timings_s"])
        help_walls = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            subprocess.run([str(script), "--help"], check=True, stdout=subprocess.DEVNULL)
            help_walls.append(time.perf_counter() - started)
    median = statistics.median(walls)
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"Python {platform.python_version()}")
    verdict = "met" if median <= TARGET_S else "NOT met"
    print(f"planner run eu-2026: median {median:.3f} s, best {min(walls):.3f} s "
          f"over {args.repeat} runs; target {TARGET_S} s: {verdict}")
    print(f"planner --help: median {statistics.median(help_walls):.3f} s")
    keys = sorted({k for s in stages for k in s})
    print("stage medians (s): " + ", ".join(
        f"{k} {statistics.median(s.get(k, 0.0) for s in stages):.3f}" for k in keys))


if __name__ == "__main__":
    main()
