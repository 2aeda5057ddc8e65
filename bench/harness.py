"""The benchmark harness (issue 6): every size, every stage, the baselines and the targets.

    make bench            (or: .venv/bin/python bench/harness.py [options])

For 1,000, 10,000, 30,000, 100,000 and 300,000 synthetic persons (`scenarios.build`):
  - `planner run` as a user runs it: wall time and peak memory of the process;
  - the same run in process (`stages.py`): seconds per stage (load and validate, pool plan,
    distribution, places, matchability, eligibility, model build, each solve stage, rows,
    write, verify, export);
  - the baselines (`baselines.py`): greedy at every size; the naive model at each size while
    the previous one finished within the per-stage limit, asserting the same stage optima.
Then the monthly re-run (25,000 persons transferred, 2,500 new), the pool plan alone on
eu-2026, `planner --help`, `planner compare` over eu-2026's variants with 30,000 persons
(when the command and the variants exist), and `planner track` on eu-2026 with a 20,000-row
ledger (`bench_track.py`). The results replace the section between the
harness markers of bench/README.md (date, machine, load, versions) and go to
bench/last_run.json. Options: --sizes 1000,10000 (a quick check), --naive-limit SECONDS,
--no-naive, --no-readme.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from scenarios import AS_OF, GROWING_SIZES, build, generate, growing, monthly, replan  # noqa: E402

SIZES = (1_000, 10_000, 30_000, 100_000, 300_000)
BEGIN, END = "<!-- harness:begin -->", "<!-- harness:end -->"
GROWING = ("<!-- growing:begin -->", "<!-- growing:end -->")
PYTHON = sys.executable
PLANNER = str(Path(sys.executable).parent / "planner")
# Shown in this order in the stage table; other keys are added up under "other".
STAGES = (("imports", "imports"), ("load", "load and validate"), ("pool_plan", "pool plan"),
          ("distribution", "distribution"), ("matching_places", "places"),
          ("matching_matchability", "matchability"), ("matching_eligibility", "eligibility"),
          ("matching_solve_split", "solve split (joint)"),
          ("matching_build", "model build"), ("matching_solve_persons", "solve persons+vuln."),
          ("matching_solve_waiting", "solve waiting"),
          ("matching_solve_quality", "solve quality"), ("matching_rows", "rows"),
          ("write", "write"), ("verify", "verify"),
          ("export", "export (formats and report.html)"),
          ("publish", "publish"))


def child(command: list[str], stdout: Path | None = None) -> tuple[float, float, int]:
    """Run a command; its wall time (s), its own peak memory (MB, from wait4) and exit code."""
    with contextlib.ExitStack() as stack:
        target = stack.enter_context(stdout.open("w")) if stdout else subprocess.DEVNULL
        # stderr to a file, not a pipe: a child that writes more than a pipe holds (a bad
        # input's every problem) would block on it while we wait for it to end.
        errors = stack.enter_context(tempfile.TemporaryFile()) if stdout else None
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=target, cwd=ROOT,
                                   stderr=errors if errors else subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if errors and process.returncode:
            errors.seek(0)
            sys.stderr.write(errors.read().decode(errors="replace")[-2000:])
    return wall, usage.ru_maxrss / 1024, process.returncode


def json_of(command: list[str], tmp: Path) -> dict[str, Any]:
    out = tmp / "child.json"
    wall, peak, code = child(command, out)
    if code:
        raise SystemExit(f"failed ({code}): {' '.join(command)}")
    return json.loads(out.read_text())


def say(message: str) -> None:
    print(f"[bench] {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def size_run(persons: int, tmp: Path, naive_limit: float | None, seed: int) -> dict[str, Any]:
    folder = tmp / f"p{persons}"
    build(folder, persons, seed)
    say(f"{persons:,} persons: planner run")
    wall, peak, code = child([PLANNER, "run", str(folder), "--out", str(tmp / "run"), "-q"])
    if code:
        raise SystemExit(f"planner run failed at {persons} persons (exit {code})")
    say(f"{persons:,} persons: stages ({wall:.1f} s)")
    stages = json_of([PYTHON, str(BENCH / "stages.py"), str(folder), str(tmp / "stages")], tmp)
    say(f"{persons:,} persons: baselines" + (" with the naive model" if naive_limit else ""))
    command = [PYTHON, str(BENCH / "baselines.py"), str(folder)]
    command += ["--naive-limit", str(naive_limit)] if naive_limit else ["--no-naive"]
    baselines = json_of(command, tmp)
    naive = baselines.get("naive")
    if naive and naive["finished"] and naive["differ"]:
        raise SystemExit(f"{persons} persons: the naive model's optima differ from ours: "
                         + "; ".join(naive["differ"]))
    for name in (tmp / "run", tmp / "stages"):
        shutil.rmtree(name, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)
    return {"persons": persons, "wall": wall, "peak_mb": peak, "stages": stages["stages"],
            "matching": stages["matching"], "wall_in_process": stages["wall"],
            "baselines": baselines}


def growing_run(persons: int, tmp: Path, seed: int, greedy: bool) -> dict[str, Any]:
    """Places growing with persons (`scenarios.growing`, issue 18): `planner run` timed with
    its peak memory; persons relocated, places, places left empty and the stage seconds from
    summary.json; optionally the greedy matcher on the plan's places (`baselines.py`)."""
    folder = tmp / f"g{persons}"
    growing(folder, persons, seed)
    say(f"places growing, {persons:,} persons: planner run")
    out = tmp / "grun"
    wall, peak, code = child([PLANNER, "run", str(folder), "--out", str(out), "-q"])
    if code:
        raise SystemExit(f"planner run failed at {persons} persons, places growing "
                         f"(exit {code})")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    m = summary["matching"]
    found: dict[str, Any] = {
        "persons": persons, "wall": wall, "peak_mb": peak, "places": m["places"],
        "assigned": m["persons_assigned"], "eligible": m["persons_eligible"],
        "bound": m["bound"], "classes": m["classes"], "timings": summary["timings_s"]}
    if greedy:
        say(f"places growing, {persons:,} persons: greedy ({wall:.1f} s)")
        baselines = json_of([PYTHON, str(BENCH / "baselines.py"), str(folder), "--no-naive"],
                            tmp)
        found["greedy"] = baselines["greedy"]["persons"]
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)
    return found


def growing_table(results: dict[str, Any]) -> str:
    rows: list[dict[str, Any]] = results["growing"]
    lines = [f"Run {results['date']} on {results['machine']}; {results['versions']}. Load "
             f"average (1 min) {results['load_before']:.2f} before, "
             f"{results['load_after']:.2f} after.", "",
             "| persons | places | eligible | relocated | places left empty | greedy | "
             "wall (s) | peak memory (MB) | matching (s) | solver (s) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        t = r["timings"]
        greedy = f"{r['greedy']:,}" if "greedy" in r else "-"
        lines.append(f"| {r['persons']:,} | {r['places']:,} | {r['eligible']:,} | "
                     f"{r['assigned']:,} | {r['places'] - r['assigned']:,} | {greedy} | "
                     f"{fmt(r['wall'])} | {r['peak_mb']:,.0f} | {fmt(t.get('matching'))} | "
                     f"{fmt(t.get('solve'))} |")
    by = {r["persons"]: r for r in rows}
    lines += ["", "| target | measured | verdict |", "|---|---|---|"]
    for persons, wall, memory in ((30_000, 6.0, None), (300_000, 30.0, 1536.0)):
        if persons in by:
            r = by[persons]
            met = r["wall"] <= wall and (memory is None or r["peak_mb"] <= memory)
            limit = f"at most {wall:g} s" + (f" and {memory / 1024:g} GB" if memory else "")
            lines.append(f"| {persons:,} persons, places growing: {limit} | "
                         f"{r['wall']:.1f} s, {r['peak_mb']:,.0f} MB | "
                         f"{'met' if met else 'NOT met'} |")
    return "\n".join(lines)


def median_wall(command: list[str], repeat: int) -> float:
    return statistics.median(child(command)[0] for _ in range(repeat))


def extras(tmp: Path, repeat: int, seed: int) -> dict[str, Any]:
    found: dict[str, Any] = {}
    say("monthly re-run (25,000 transferred, 2,500 new)")
    folder = tmp / "monthly"
    found["monthly_transferred"] = monthly(folder, 25_000, 2_500, seed)
    walls = []
    for _ in range(repeat):
        wall, peak, code = child([PLANNER, "run", str(folder), "--out", str(tmp / "m"), "-q"])
        if code:
            raise SystemExit(f"monthly run failed (exit {code})")
        walls.append(wall)
    found["monthly"] = {"wall": statistics.median(walls), "peak_mb": peak,
                        "stages": json_of([PYTHON, str(BENCH / "stages.py"), str(folder),
                                           str(tmp / "ms")], tmp)["stages"]}
    say("re-plan at 30,000 persons, half transferred (planner run --as-of)")
    folder = tmp / "replan"
    found["replan_transferred"] = replan(folder, 30_000, seed)
    walls = []
    for _ in range(repeat):
        wall, peak, code = child([PLANNER, "run", str(folder), "--as-of", AS_OF, "--out",
                                  str(tmp / "r"), "-q"])
        if code:
            raise SystemExit(f"re-plan failed (exit {code})")
        walls.append(wall)
    found["replan"] = {"wall": statistics.median(walls), "peak_mb": peak}
    say("pool plan alone on eu-2026, planner --help")
    plain = tmp / "eu-2026"
    shutil.copytree(ROOT / "instances/eu-2026", plain)
    (plain / "candidates.csv").unlink()
    runs = [json_of([PYTHON, str(BENCH / "stages.py"), str(plain), str(tmp / f"e{i}")], tmp)
            for i in range(repeat)]
    found["pool_plan"] = {
        "pool_plan": statistics.median(r["stages"]["pool_plan"] for r in runs),
        "distribution": statistics.median(r["stages"]["distribution"] for r in runs),
        "wall": median_wall([PLANNER, "run", str(plain), "--out", str(tmp / "e"), "-q"],
                            repeat)}
    found["help"] = median_wall([PLANNER, "--help"], repeat)
    found["compare"] = compare(tmp, seed)
    say("planner track on eu-2026 with a 20,000-row ledger")
    found["track"] = json_of([PYTHON, str(BENCH / "bench_track.py"), "--repeat", str(repeat)],
                             tmp)
    return found


def compare(tmp: Path, seed: int) -> dict[str, Any]:
    """`planner compare` over every shipped eu-2026 variant with 30,000 persons."""
    variants = sorted((ROOT / "instances/eu-2026/variants").glob("*.toml"))
    if child([PLANNER, "compare", "--help"])[2] != 0:
        return {"measured": False, "why": "`planner compare` does not exist yet"}
    if not variants:
        return {"measured": False, "why": "eu-2026 ships no variants yet"}
    say(f"planner compare: {len(variants)} variants, 30,000 persons")
    folder = tmp / "eu-2026-30k"
    shutil.copytree(ROOT / "instances/eu-2026", folder)
    generate(folder / "candidates.csv", 30_000, seed)
    wall, peak, code = child([PLANNER, "compare", str(folder), "--out", str(tmp / "cmp"), "-q"])
    if code:
        return {"measured": False, "why": f"`planner compare` failed (exit {code})"}
    return {"measured": True, "wall": wall, "peak_mb": peak, "variants": len(variants)}


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = next(int(line.split()[1]) for line in
                      Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
        ram = f"{memory / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        ram = "?"
    versions = ", ".join(f"{name} {metadata.version(name)}"
                         for name in ("pandas", "pulp", "highspy", "pydantic", "networkx"))
    return {"machine": f"{os.cpu_count()} cores {cpu}, {ram}, {platform.system()} "
                       f"{platform.machine()}",
            "versions": f"Python {platform.python_version()}, {versions}"}


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.2f}" if seconds < 100 else f"{seconds:.0f}"


def tables(results: dict[str, Any]) -> str:
    sizes: list[dict[str, Any]] = results["sizes"]
    lines = [f"Run {results['date']} on {results['machine']}; {results['versions']}. Load "
             f"average (1 min) {results['load_before']:.2f} before, {results['load_after']:.2f} "
             f"after; the whole harness took {results['harness_s'] / 60:.0f} min. Naive stage "
             f"limit {fmt(results['naive_limit'])} s.", "",
             "### `planner run`, end to end", "",
             "| persons | cases | places | placed | classes | wall (s) | peak memory (MB) |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in sizes:
        m = r["matching"]
        lines.append(f"| {r['persons']:,} | {m['cases']:,} | {m['places']:,} | "
                     f"{m['assigned']:,} | {m['classes']:,} | {fmt(r['wall'])} | "
                     f"{r['peak_mb']:,.0f} |")
    lines += ["", "### Seconds per stage (in process, `stages.py`)", "",
              "| stage | " + " | ".join(f"{r['persons']:,}" for r in sizes) + " |",
              "|---|" + "---:|" * len(sizes)]
    known = {key for key, _ in STAGES} | {"matching", "solve", "write_verify"}
    for key, label in STAGES:
        lines.append(f"| {label} | " + " | ".join(fmt(r["stages"].get(key)) for r in sizes)
                     + " |")
    lines.append("| other | " + " | ".join(fmt(sum(v for k, v in r["stages"].items()
                                                    if k not in known)) for r in sizes) + " |")
    lines.append("| (solver, all stages) | " + " | ".join(fmt(r["stages"].get("solve"))
                                                         for r in sizes) + " |")
    lines.append("| wall in process | " + " | ".join(fmt(r["wall_in_process"])
                                                   for r in sizes) + " |")
    lines += ["", "### Against the baselines", "",
              "Ours: the whole matching step (places, matchability, eligibility, build, solve, "
              "rows). Naive: build + every stage. Greedy and ours: persons relocated, "
              "vulnerable persons relocated, persons placed where their case has a link.", "",
              "| persons | ours (s) | naive (s) | naive / ours | same optima | "
              "ours: persons / vulnerable / links | greedy | gain over greedy |",
              "|---:|---:|---:|---:|---|---|---|---|"]
    for r in sizes:
        b = r["baselines"]
        ours, greedy = b["ours"], b["greedy"]
        naive = b.get("naive")
        if naive is None:
            n_time = "not run (above --naive-max-persons, or unfinished at a smaller size)"
            ratio, same = "-", "-"
        elif naive["finished"]:
            n_time = fmt(naive["seconds"])
            ratio = f"{naive['seconds'] / ours['matching_s']:.0f}x"
            same = "yes (asserted)"
        else:
            n_time = f"not finished ({naive['note']}; {fmt(naive['seconds'])} s spent)"
            ratio = f"> {naive['seconds'] / ours['matching_s']:.0f}x"
            same = "-"
        gain = " / ".join(f"{ours[k] - greedy[k]:+,}" for k in ("persons", "vulnerable", "links"))
        lines.append(f"| {r['persons']:,} | {fmt(ours['matching_s'])} | {n_time} | {ratio} | "
                     f"{same} | {ours['persons']:,} / {ours['vulnerable']:,} / "
                     f"{ours['links']:,} | {greedy['persons']:,} / {greedy['vulnerable']:,} / "
                     f"{greedy['links']:,} | {gain} |")
    lines += ["", "### Targets", "", "| target | measured | verdict |", "|---|---|---|"]
    for target, measured, met in targets(results):
        verdict = "not measurable yet" if met is None else "met" if met else "NOT met"
        lines.append(f"| {target} | {measured} | {verdict} |")
    return "\n".join(lines)


# The monthly re-run benchmark when issue 15 was filed: 2.35-2.42 s (bench/README.md, "After
# the shrink"); the lower figure.
FILED_MONTHLY_S = 2.35


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    by = {r["persons"]: r for r in results["sizes"]}
    out: list[tuple[str, str, bool | None]] = []
    if 30_000 in by:
        r = by[30_000]
        out.append(("30,000 persons: `planner run` at most 10 s", f"{r['wall']:.2f} s",
                    r["wall"] <= 10))
        naive, ours = r["baselines"].get("naive"), r["baselines"]["ours"]["matching_s"]
        if naive:
            ratio = naive["seconds"] / ours
            text = (f"naive {fmt(naive['seconds'])} s "
                    f"{'' if naive['finished'] else '(not finished) '}/ ours {ours:.2f} s = "
                    f"{'' if naive['finished'] else '> '}{ratio:.0f}x")
            out.append(("30,000 persons: at least 10x faster than the naive model", text,
                        ratio >= 10))
    if 300_000 in by:
        r = by[300_000]
        out.append(("300,000 persons: at most 120 s and 4 GB",
                    f"{r['wall']:.1f} s, {r['peak_mb']:,.0f} MB",
                    r["wall"] <= 120 and r["peak_mb"] <= 4096))
    extra = results.get("extras")
    if extra:
        m = extra["monthly"]
        out.append((f"monthly re-run ({extra['monthly_transferred']:,} transferred, 2,500 "
                    "new): at most 3 s", f"{m['wall']:.2f} s (median), {m['peak_mb']:,.0f} MB",
                    m["wall"] <= 3))
        if "replan" in extra:
            # Issue 15: "no slower than the monthly re-run benchmark today", the day it was
            # filed: its figure then (FILED_MONTHLY_S). Today's monthly re-run is shown too.
            r = extra["replan"]
            out.append((f"re-plan at 30,000 persons ({extra['replan_transferred']:,} "
                        "transferred, `run --as-of`): no slower than the monthly re-run "
                        f"benchmark when issue 15 was filed ({FILED_MONTHLY_S} s)",
                        f"{r['wall']:.2f} s (median), {r['peak_mb']:,.0f} MB; today's "
                        f"monthly re-run {m['wall']:.2f} s ({r['wall'] / m['wall']:.2f}x)",
                        r["wall"] <= FILED_MONTHLY_S))
        p = extra["pool_plan"]
        out.append(("pool plan alone on eu-2026: at most 0.3 s",
                    f"{p['pool_plan']:.3f} s pool plan + {p['distribution']:.3f} s "
                    f"distribution (whole `planner run` {p['wall']:.2f} s)",
                    p["pool_plan"] + p["distribution"] <= 0.3))
        out.append(("`planner --help` at most 0.5 s", f"{extra['help']:.3f} s (median)",
                    extra["help"] <= 0.5))
        c = extra["compare"]
        out.append(("`planner compare`, every eu-2026 variant, 30,000 persons: at most 60 s",
                    f"{c['wall']:.1f} s ({c['variants']} variants)" if c["measured"]
                    else c["why"], (c["wall"] <= 60) if c["measured"] else None))
        t = extra.get("track")
        if t:  # issue 15 (bench/bench_track.py)
            out.append((f"`planner track` on eu-2026 with a {t['rows']:,}-row ledger: at most "
                        "2 s", f"{t['wall']:.2f} s (median)", t["wall"] <= 2))
    return out


def write_readme(text: str, markers: tuple[str, str] = (BEGIN, END),
                 title: str = "Harness results") -> None:
    begin, end = markers
    path = BENCH / "README.md"
    readme = path.read_text(encoding="utf-8")
    block = f"{begin}\n{text}\n{end}"
    if begin in readme and end in readme:
        head, rest = readme.split(begin, 1)
        readme = head + block + rest.split(end, 1)[1]
    else:
        readme = readme.rstrip("\n") + f"\n\n## {title}\n\n" + block + "\n"
    path.write_text(readme, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="persons per instance, comma-separated")
    parser.add_argument("--naive-limit", type=float, default=600.0,
                        help="naive model: time limit per stage in seconds (default 600)")
    parser.add_argument("--naive-max-persons", type=int, default=30_000,
                        help="naive model only up to this size (default 30,000: it finished "
                        "there once, after about 10 minutes; at 100,000 it ran over 20 "
                        "minutes and says nothing more)")
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument("--no-extras", action="store_true",
                        help="skip the monthly re-run, pool plan, --help and compare")
    parser.add_argument("--repeat", type=int, default=5, help="runs of the short timings")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-readme", action="store_true", help="print only")
    parser.add_argument("--growing-sizes", default=",".join(map(str, GROWING_SIZES)),
                        help="persons of the scenarios where places grow with persons "
                        "(issue 18); empty: none")
    parser.add_argument("--growing-only", action="store_true",
                        help="only the scenarios where places grow with persons")
    parser.add_argument("--no-greedy", action="store_true",
                        help="growing scenarios: skip the greedy matcher")
    parser.add_argument("--sweep-only", action="store_true",
                        help="only the scenario sweeps (issue 16, bench/sweep_bench.py)")
    parser.add_argument("--no-sweep", action="store_true", help="skip the scenario sweeps")
    args = parser.parse_args()
    if args.sweep_only:
        run_sweeps(args)
        return
    if args.growing_only:
        run_growing(args)
        return
    started = time.perf_counter()
    results: dict[str, Any] = {"date": dt.date.today().isoformat(), **machine(),
                               "load_before": os.getloadavg()[0],
                               "naive_limit": None if args.no_naive else args.naive_limit,
                               "sizes": []}
    naive_on = not args.no_naive
    with tempfile.TemporaryDirectory(prefix="planner-bench-") as name:
        tmp = Path(name)
        for persons in sorted(int(s) for s in args.sizes.split(",")):
            naive_here = naive_on and persons <= args.naive_max_persons
            found = size_run(persons, tmp, args.naive_limit if naive_here else None, args.seed)
            results["sizes"].append(found)
            naive = found["baselines"].get("naive")
            naive_on = naive_on and bool(naive and naive["finished"])
        if not args.no_extras:
            results["extras"] = extras(tmp, args.repeat, args.seed)
    results["load_after"] = os.getloadavg()[0]
    results["harness_s"] = time.perf_counter() - started
    text = tables(results)
    print(text)
    (BENCH / "last_run.json").write_text(json.dumps(results, indent=1) + "\n")
    if not args.no_readme:
        write_readme(text)
    if args.growing_sizes:
        run_growing(args)
    if not args.no_sweep:
        run_sweeps(args)


def run_sweeps(args: argparse.Namespace) -> None:
    """`planner sweep`'s targets (issue 16): bench/sweep_bench.py, its own block of
    bench/README.md."""
    subprocess.run([PYTHON, str(BENCH / "sweep_bench.py"),
                    *(["--no-readme"] if args.no_readme else [])], check=True)


def run_growing(args: argparse.Namespace) -> None:
    """The scenarios where places grow with persons; their own block of bench/README.md."""
    results: dict[str, Any] = {"date": dt.date.today().isoformat(), **machine(),
                               "load_before": os.getloadavg()[0], "growing": []}
    with tempfile.TemporaryDirectory(prefix="planner-bench-") as name:
        for persons in sorted(int(s) for s in args.growing_sizes.split(",") if s):
            results["growing"].append(growing_run(persons, Path(name), args.seed,
                                                  not args.no_greedy))
    results["load_after"] = os.getloadavg()[0]
    text = growing_table(results)
    print(text)
    (BENCH / "last_growing.json").write_text(json.dumps(results, indent=1) + "\n")
    if not args.no_readme:
        write_readme(text, GROWING, "Places growing with persons (issue 18)")


if __name__ == "__main__":
    main()
