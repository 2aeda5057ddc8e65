"""A sweep's folder: `sweep.json` (what was asked), `chunks/` (one Parquet file per batch,
written as it arrives), then the outputs assembled from the chunks: scenarios.parquet and
scenarios.csv (every row, sorted by variant then scenario), sweep.csv, sweep.html and
timings.csv (seconds and memory per scenario: the only file that differs between runs).

Each chunk is written to a temporary name and renamed, so a chunk that exists is whole: an
interrupted sweep (Ctrl-C, a lost machine) leaves readable chunks, and `--resume` runs only
the batches without one, after checking that sweep.json asks for the same sweep.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from planner.sweep.engine import Batch, Done, SweepError

MANIFEST = "sweep.json"
CHUNKS = "chunks"
SCENARIOS = "scenarios"
OUTPUTS = ("scenarios.parquet", "scenarios.csv", "sweep.csv", "sweep.html", "timings.csv")


def _atomic(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def prepare(out: Path, manifest: dict[str, Any], resume: bool, instance: Path) -> set[str]:
    """Make `out` ready for the sweep `manifest` describes; return the keys of the batches
    already written (with `resume`, when `out` holds the same sweep). A folder that is not
    a sweep's (no sweep.json) and not empty, a file, or the instance folder (or one holding
    it) is refused: the sweep never deletes what it did not write."""
    if out.is_symlink() or out.exists() and not out.is_dir():
        raise SweepError(f"--out: {out} is not a folder")
    if instance.resolve().is_relative_to(out.resolve()):
        raise SweepError(f"--out: {out} holds the instance folder; choose another folder")
    done: set[str] = set()
    if (out / MANIFEST).is_file():
        if resume:
            _same_sweep(out, manifest)
            done = {p.stem for p in (out / CHUNKS).glob("*.parquet")}
        else:
            clear(out)
    elif out.is_dir() and any(out.iterdir()):
        raise SweepError(f"--out: {out} is not empty and holds no sweep ({MANIFEST}): "
                         "choose an empty or new folder")
    (out / CHUNKS).mkdir(parents=True, exist_ok=True)
    for stale in (out / CHUNKS).glob(".*.tmp"):  # an interrupted write
        stale.unlink()
    _atomic(out / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return done


def _same_sweep(out: Path, manifest: dict[str, Any]) -> None:
    try:
        before = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SweepError(f"--resume: {out / MANIFEST} cannot be read: {exc}") from None
    differs = sorted(k for k in {*before, *manifest} if before.get(k) != manifest.get(k))
    if differs:
        raise SweepError(f"--resume: {out} holds another sweep (it differs in: "
                         f"{', '.join(differs)}); run the same command, or drop --resume to "
                         "start over")


def clear(out: Path) -> None:
    """Remove a previous sweep's own files from `out` (nothing else)."""
    for name in (*OUTPUTS, MANIFEST):
        (out / name).unlink(missing_ok=True)
    chunks = out / CHUNKS
    if chunks.is_dir():
        for path in chunks.iterdir():
            if path.suffix in (".parquet", ".csv", ".tmp"):
                path.unlink()


def frame(rows: Sequence[dict[str, object]], columns: list[str]) -> pd.DataFrame:
    """Rows as a frame of fixed types: text keys, integer scenario, float indicators."""
    data = pd.DataFrame(list(rows), columns=columns)
    data["scenario"] = data["scenario"].astype("int64")
    for name in columns[3:]:
        data[name] = data[name].astype("float64")
    return data


def write_chunk(out: Path, done: Done, columns: list[str]) -> None:
    """One batch's rows (and timings), the rows' file last: it marks the batch done."""
    chunks = out / CHUNKS
    times = pd.DataFrame(done.times).to_csv(index=False, lineterminator="\n")
    _atomic(chunks / f"{done.batch.key}.times.csv", times.encode())
    _atomic(chunks / f"{done.batch.key}.parquet", parquet_bytes(frame(done.rows, columns)))


def parquet_bytes(data: pd.DataFrame) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(data, preserve_index=False), sink)
    return bytes(sink.getvalue().to_pybytes())


def read_rows(out: Path, todo: Sequence[Batch], variants: Sequence[str]) -> pd.DataFrame:
    """Every row of the sweep's batches, from their chunks, sorted by variant (in the order
    given) then scenario."""
    parts = [pd.read_parquet(out / CHUNKS / f"{b.key}.parquet") for b in todo]
    data = pd.concat(parts, ignore_index=True)
    order = {name: i for i, name in enumerate(variants)}
    data["_order"] = data["variant"].map(order)
    data = data.sort_values(["_order", "scenario"], kind="stable").drop(columns="_order")
    return data.reset_index(drop=True)


def read_times(out: Path, todo: Sequence[Batch]) -> pd.DataFrame:
    return pd.concat([pd.read_csv(out / CHUNKS / f"{b.key}.times.csv") for b in todo],
                     ignore_index=True)


def csv_bytes(data: pd.DataFrame) -> bytes:
    """A table as CSV: UTF-8, `\\n`, floats as Python writes them (shortest exact), empty
    for NaN: the same bytes for the same numbers."""
    return data.to_csv(index=False, lineterminator="\n", na_rep="").encode()


def write_outputs(out: Path, rows: pd.DataFrame, times: pd.DataFrame, summary: pd.DataFrame,
                  page: str) -> None:
    _atomic(out / "scenarios.parquet", parquet_bytes(rows))
    _atomic(out / "scenarios.csv", csv_bytes(rows))
    _atomic(out / "sweep.csv", csv_bytes(summary))
    _atomic(out / "sweep.html", page.encode())
    _atomic(out / "timings.csv", csv_bytes(times))
