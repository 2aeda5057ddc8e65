"""`planner track` on eu-2026 with a 20,000-row ledger (issue 15's target: at most 2 s).

    .venv/bin/python bench/bench_track.py [--rows 20000] [--repeat 5]

A copy of eu-2026 gets a ledger of ROWS rows (`ledger`): every flow of its plan implemented
to about half by 2026-06-30, in equal instalments (whole persons, whole EUR) spread over the
days of the cycle to then (eu-2026's cycle starts on 12 June 2026, `cycle_start`). The plan is
written once by `planner run`; then `planner track --as-of 2026-06-30 --plan RUN` is timed as
a user runs it (wall time of the process, median of REPEAT). `make bench` runs it through
bench/harness.py (`track`); alone, it prints the result as JSON.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLANNER = str(Path(sys.executable).parent / "planner")
AS_OF = dt.date(2026, 6, 30)


START = dt.date(2026, 6, 12)  # eu-2026's cycle_start


def ledger(folder: Path, rows: int) -> int:
    """Write `rows` ledger rows for the plan in `folder/run`'s distribution.csv into
    `folder/implementation.csv` (each flow about half implemented: a flow of persons has at
    most one row per person, the EUR flows share the rest); the number written."""
    with (folder / "run" / "distribution.csv").open(encoding="utf-8", newline="") as handle:
        flows = [f for f in csv.DictReader(handle) if float(f["amount"]) >= 2]
    persons = [f for f in flows if f["measure"] in ("relocation", "offset")]
    money = [f for f in flows if f not in persons]
    counts = {id(f): min(rows // len(flows), int(float(f["amount"]) // 2)) for f in persons}
    left = rows - sum(counts.values())
    for n, f in enumerate(money):
        counts[id(f)] = left // len(money) + (1 if n < left % len(money) else 0)
    written = 0
    with (folder / "implementation.csv").open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(("date", "state", "measure", "amount", "benefitting", "reference"))
        for f in flows:
            count = counts[id(f)]
            each = float(f["amount"]) // 2 // count
            for n in range(count):
                date = START + dt.timedelta(days=n * 19 // count)  # 12 to 30 June
                out.writerow((date.isoformat(), f["contributor"], f["measure"], f"{each:.0f}",
                              f["beneficiary"], f"B-{written:06d}"))
                written += 1
    return written


def measure(rows: int, repeat: int) -> dict[str, float | int]:
    with tempfile.TemporaryDirectory(prefix="planner-bench-track-") as name:
        folder = Path(name) / "eu-2026"
        shutil.copytree(ROOT / "instances" / "eu-2026", folder)
        (folder / "implementation.csv").unlink()
        subprocess.run([PLANNER, "run", str(folder), "--out", str(folder / "run"), "-q"],
                       check=True, stdout=subprocess.DEVNULL)
        written = ledger(folder, rows)
        walls = []
        for n in range(repeat):
            started = time.perf_counter()
            subprocess.run([PLANNER, "track", str(folder), "--as-of", AS_OF.isoformat(),
                            "--plan", str(folder / "run"), "--out", str(folder / f"t{n}"), "-q"],
                           check=True, stdout=subprocess.DEVNULL)
            walls.append(time.perf_counter() - started)
        return {"rows": written, "wall": statistics.median(walls), "best": min(walls)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(measure(args.rows, args.repeat)))


if __name__ == "__main__":
    main()
