"""Which reader for the input workbook (issue 17, item 1): python-calamine or openpyxl
(read-only), on a pledges sheet of 10,000 rows written as `planner template` writes one.

    .venv/bin/python bench/bench_workbook.py [--rows 10000] [--repeat 5]

Prints the median and best wall time of reading every cell of the sheet into Python values
with each reader (the workbook written once, in a temporary folder), and the peak memory each
adds (tracemalloc; calamine's Rust allocations are outside it, so its figure is a floor).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook

HEADER = ["pledge_id", "state", "measure", "min", "max", "beneficiary", "preference",
          "nationalities", "statuses", "max_case_size", "vulnerable", "unaccompanied_minors"]
STATES = ["BE", "DE", "FR", "NL", "PT", "RO", "SE", "FI", "LT", "LU"]
MEASURES = ["relocation", "financial", "offset", "alternative"]


def book(path: Path, rows: int) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "pledges"
    sheet.append(HEADER)
    for n in range(rows):
        sheet.append([f"P-{n}", STATES[n % 10], MEASURES[n % 4], 0, 1000 + n, "IT;ES",
                      1 + n % 3, None, None, None, True, n % 2 == 0])
    workbook.save(path)


def with_openpyxl(path: Path) -> list[tuple[Any, ...]]:
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        return list(workbook["pledges"].iter_rows(values_only=True))
    finally:
        workbook.close()


def with_calamine(path: Path) -> list[list[Any]]:
    from python_calamine import CalamineWorkbook

    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name("pledges").to_python()


def timed(read: Callable[[Path], Any], path: Path, repeat: int) -> tuple[float, float, float]:
    walls = []
    for _ in range(repeat):
        started = time.perf_counter()
        read(path)
        walls.append(time.perf_counter() - started)
    tracemalloc.start()
    read(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(walls), min(walls), peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "book.xlsx"
        book(path, args.rows)
        print(f"{args.rows} rows, {path.stat().st_size / 1024:.0f} KiB")
        for name, read in (("openpyxl read-only", with_openpyxl),
                           ("python-calamine", with_calamine)):
            median, best, peak = timed(read, path, args.repeat)
            print(f"{name}: median {median:.3f} s, best {best:.3f} s, peak {peak:.1f} MiB")


if __name__ == "__main__":
    main()
