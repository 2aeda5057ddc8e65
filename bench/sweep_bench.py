"""Scenario sweeps (issue 16): the targets of `planner sweep`, on eu-2026 with uncertainty.

    .venv/bin/python bench/harness.py --sweep-only       (or part of `make bench`)
    .venv/bin/python bench/sweep_bench.py [--scenarios 1000] [--large 100] [--throughput 60]

1. `planner sweep` as a user runs it: 1,000 scenarios of eu-2026 (1,200 candidates drawn again
   each scenario), 2 workers of a LocalCluster: at most 5 minutes (cluster start included).
2. The same command, 100 scenarios with 30,000 persons per scenario (arrivals.persons):
   at most 10 minutes.
3. Throughput: the same scenarios on a LocalCluster of 1 worker, then of 2 (cluster started
   before the clock starts): 2 workers at least 1.7 times as many scenarios per second.
4. Memory per worker: the resident memory after each scenario (timings.csv of sweep 1): the
   median of each worker's last tenth of scenarios against its second tenth (the first
   warms up), at most 10 % (and 30 MB) more.
The results replace the block between the sweep markers of bench/README.md and go to
bench/last_sweep.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
MARKERS = ("<!-- sweep:begin -->", "<!-- sweep:end -->")
PLANNER = str(Path(sys.executable).parent / "planner")
UNCERTAINTY = """
[uncertainty]
consent = {{ kind = "uniform", low = 0.6, high = 0.9 }}

[uncertainty.arrivals]
default = {{ kind = "lognormal", sigma = 0.3 }}
{persons}
[uncertainty.delivered]
relocation = {{ kind = "beta", alpha = 8, beta = 2 }}

[uncertainty.needs]
default = {{ kind = "triangular", low = 0.7, mode = 1.0, high = 1.4 }}
"""
# 30,000 persons in the shares of planner.inputs.synthetic.DEFAULT_LOCATIONS.
LARGE = 'persons = { CY = 1500, EL = 6000, IT = 10500, ES = 12000 }\n'


def say(message: str) -> None:
    print(f"[bench] {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def instance(tmp: Path, name: str, persons: str) -> Path:
    folder = tmp / name / "eu-2026"
    shutil.copytree(ROOT / "instances" / "eu-2026", folder)
    toml = folder / "instance.toml"
    # eu-2026's own [uncertainty] (its last section) replaced by the bench's.
    text = toml.read_text(encoding="utf-8").split("\n[uncertainty]", 1)[0]
    toml.write_text(text + UNCERTAINTY.format(persons=persons), encoding="utf-8")
    return folder


def command(folder: Path, out: Path, scenarios: int, workers: int) -> dict[str, Any]:
    """`planner sweep` as a user runs it; wall seconds and the rows' statuses."""
    import subprocess

    started = time.perf_counter()
    subprocess.run([PLANNER, "sweep", str(folder), "--scenarios", str(scenarios),
                    "--workers", str(workers), "--out", str(out), "-q"], check=True)
    wall = time.perf_counter() - started
    rows = pd.read_csv(out / "scenarios.csv")
    return {"scenarios": scenarios, "workers": workers, "wall": wall,
            "status": rows["status"].value_counts().to_dict(),
            "per_scenario_s": wall * workers / scenarios}


def throughput(folder: Path, tmp: Path, scenarios: int) -> dict[str, Any]:
    """Scenarios per second on a LocalCluster of 1 then 2 workers, started beforehand."""
    from distributed import Client, LocalCluster

    from planner.sweep.run import SweepSpec, sweep

    rates = {}
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1",
                          dashboard_address=None) as cluster, Client(cluster) as client:
            client.run(lambda: __import__("planner.sweep.run"))  # imports before the clock
            started = time.perf_counter()
            sweep(SweepSpec(folder, scenarios=scenarios), tmp / f"t{workers}", client=client)
            rates[workers] = scenarios / (time.perf_counter() - started)
            say(f"throughput, {workers} worker(s): {rates[workers]:.2f} scenarios/s")
    return {"scenarios": scenarios, "rate_1": rates[1], "rate_2": rates[2],
            "ratio": rates[2] / rates[1]}


def memory(out: Path) -> dict[str, Any]:
    """Per worker, in the order it ran its scenarios: the median resident memory of its
    second tenth of scenarios (the first warms up: imports, first solves) and of its last."""
    times = pd.read_csv(out / "timings.csv")
    workers = {}
    for pid, own in times.groupby("worker"):
        tenth = max(1, len(own) // 10)
        workers[str(pid)] = {"scenarios": len(own),
                             "first_mb": float(own["rss_mb"].iloc[tenth:2 * tenth].median()),
                             "last_mb": float(own["rss_mb"].tail(tenth).median()),
                             "max_mb": float(own["rss_mb"].max())}
    return workers


def flat(worker: dict[str, float]) -> bool:
    return worker["last_mb"] <= max(worker["first_mb"] * 1.10, worker["first_mb"] + 30)


def statuses(run: dict[str, Any]) -> str:
    return ", ".join(f"{n} {status}" for status, n in sorted(run["status"].items()))


def table(results: dict[str, Any]) -> str:
    eu, large, rate = results["eu"], results["large"], results["throughput"]
    mem = results["memory"]
    lines = [f"Measured {results['date']} on {results['machine']}; load average "
             f"{results['load_before']:.1f} before, {results['load_after']:.1f} after. "
             "The machine is SHARED with other agents' builds and tests (2 cores for four or "
             "five of them): the times are upper bounds of a quiet machine's.", "",
             "| target | measured | verdict |", "|---|---|---|"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    lines.append(f"| {eu['scenarios']:,} scenarios of eu-2026 (1,200 candidates), 2 workers: at "
                 f"most 5 min | {eu['wall']:.0f} s ({eu['per_scenario_s']:.2f} s per scenario "
                 f"per worker; {statuses(eu)}) | {verdict(eu['wall'] <= 300)} |")
    lines.append(f"| {large['scenarios']} scenarios at 30,000 persons, 2 workers: at most "
                 f"10 min | {large['wall']:.0f} s ({large['per_scenario_s']:.2f} s per "
                 f"scenario per worker) | {verdict(large['wall'] <= 600)} |")
    lines.append(f"| throughput with 2 workers at least 1.7x 1 worker | {rate['rate_2']:.2f} / "
                 f"{rate['rate_1']:.2f} scenarios/s = {rate['ratio']:.2f}x "
                 f"({rate['scenarios']} scenarios each) | {verdict(rate['ratio'] >= 1.7)} |")
    text = "; ".join(f"{w['scenarios']} scenarios {w['first_mb']:.0f} -> {w['last_mb']:.0f} MB "
                     f"(max {w['max_mb']:.0f})" for w in mem.values())
    lines.append(f"| memory per worker flat over the sweep (last tenth within 10 % or 30 MB "
                 f"of the second) | {text} | {verdict(all(flat(w) for w in mem.values()))} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100)
    parser.add_argument("--throughput", type=int, default=60)
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(BENCH))
    from harness import machine, write_readme

    results: dict[str, Any] = {"date": dt.date.today().isoformat(), **machine(),
                               "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="planner-sweep-bench-") as name:
        tmp = Path(name)
        eu, large = instance(tmp, "eu", ""), instance(tmp, "large", LARGE)
        say(f"{args.scenarios} scenarios of eu-2026, 2 workers")
        results["eu"] = command(eu, tmp / "eu-out", args.scenarios, 2)
        results["memory"] = memory(tmp / "eu-out")
        say(f"{args.large} scenarios at 30,000 persons, 2 workers")
        results["large"] = command(large, tmp / "large-out", args.large, 2)
        results["throughput"] = throughput(eu, tmp, args.throughput)
    results["load_after"] = os.getloadavg()[0]
    text = table(results)
    print(text)
    (BENCH / "last_sweep.json").write_text(json.dumps(results, indent=1) + "\n")
    if not args.no_readme:
        write_readme(text, MARKERS, "Scenario sweeps (issue 16)")


if __name__ == "__main__":
    main()
