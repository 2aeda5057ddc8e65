"""Benchmark: a full `planner run` with matching at scale (issue 3's target).

Builds an instance from eu-2026's member states with every one of the 22 contributors pledging
relocations up to its obligation (no deductions; some rows with profile criteria), generates
synthetic candidates (30,000 persons by default) and times the console script end to end, with
the peak memory of the child process. Usage:

    .venv/bin/python bench/bench_matching.py [--persons 30000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S, TARGET_MB = 20.0, 2048
sys.path.insert(0, str(ROOT / "bench"))

from scenarios import build  # noqa: E402  (the instance the harness uses too)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    script = Path(sys.executable).parent / "planner"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "bench"
        folder.mkdir()
        build(folder, args.persons, args.seed)
        started = time.perf_counter()
        subprocess.run([str(script), "run", str(folder), "--out", str(Path(tmp) / "out"), "-q"],
                       check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        wall = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        summary = json.loads((Path(tmp) / "out/summary.json").read_text())
    m = summary["matching"]
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(f"{m['persons_total']} persons, places {m['places']}, assigned "
          f"{m['persons_assigned']} in {m['cases_assigned']} cases, classes {m['classes']}")
    verdict = "met" if wall <= TARGET_S and peak_mb <= TARGET_MB else "NOT met"
    print(f"planner run: {wall:.2f} s wall, peak {peak_mb:.0f} MB; target {TARGET_S:.0f} s and "
          f"{TARGET_MB} MB: {verdict}")
    print("stages (s): " + ", ".join(f"{k} {v:.3f}" for k, v in summary["timings_s"].items()))


if __name__ == "__main__":
    main()
