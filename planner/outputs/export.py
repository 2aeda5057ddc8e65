"""Write a run's tables and summary: fixed formats, sorted rows, atomic publication.

Everything is written to a temporary folder beside the target, verified there, and only then
moved into place (with its `.planner-results` marker: planner.outputs.outdir), so a failed or
interrupted run never leaves a half-written results folder where a good one was (contract,
Outputs). SIGINT and SIGTERM are held back while a staging folder
is made and while one is published (two renames that must not be separated), and staging folders
are remembered until published or discarded, so the command line's interrupt handler can remove
any that an interruption left behind (`discard_staged`).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import cast

from pydantic import BaseModel

from models.results import Summary

PERSONAL = ("assignments", "unassigned")  # candidate-level: readable by the owner only
FILES = {"plan": "plan.csv", "allocation": "allocation.csv",
         "distribution": "distribution.csv", "coverage": "coverage.csv",
         "assignments": "assignments.csv", "unassigned": "unassigned.csv",
         "matchability": "matchability.csv"}


def fmt(value: object) -> str:
    """One fixed text form per value, so that equal plans give byte-identical files."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # Nine decimals at most, then the shortest text that reads back as the same number.
        rounded = round(value, 9) + 0.0  # + 0.0 turns -0.0 into 0.0
        text = repr(rounded)
        if "e" in text or "inf" in text or "nan" in text:
            text = f"{rounded:.9f}".rstrip("0").rstrip(".")
        return text.removesuffix(".0")
    if isinstance(value, tuple | list):
        return ";".join(fmt(v) for v in value)
    return str(value)


# Types whose equal values always have the same `fmt` text (within one type; 0.0 and -0.0
# both give "0"), so a column of one of them is formatted once per distinct value.
_CACHEABLE = (float, int, bool, type(None), Enum)


def fmt_column(values: list[object]) -> list[object]:
    """`fmt` of every value of one column, the same texts computed column-wise: a column of
    exact strings as it is, numbers and enums once per distinct value, tuples of strings
    joined once per distinct tuple; anything else through `fmt` cell by cell."""
    kinds = set(map(type, values))
    if kinds <= {str}:  # fmt(text) is str(text): the text itself
        return values
    if (len(kinds) == 1 or kinds <= {float, type(None)}) \
            and all(issubclass(kind, _CACHEABLE) for kind in kinds):
        # Not across types: True == 1 == 1.0 but their texts differ.
        texts = {value: fmt(value) for value in set(values)}
        return [texts[value] for value in values]
    tuples = cast("list[tuple[str, ...]]", values)  # if kinds == {tuple} and each part a str
    if kinds == {tuple} and all(type(part) is str for value in tuples for part in value):
        joined = {value: ";".join(value) for value in set(tuples)}
        return [joined[value] for value in tuples]
    return [fmt(value) for value in values]


def write_csv(path: Path, model: type[BaseModel], rows: Sequence[BaseModel]) -> None:
    """The rows under the model's columns, each cell as `fmt` writes it (formatted a column at
    a time: a call per cell took 0.24 s for the 27,500 persons of a monthly run)."""
    columns = list(model.model_fields)
    texts = [fmt_column([getattr(row, c) for row in rows]) for c in columns]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(zip(*texts, strict=True))


def write_summary(path: Path, summary: Summary) -> None:
    text = json.dumps(summary.model_dump(mode="json"), indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


def write_tables(folder: Path, tables: Iterable[tuple[str, type[BaseModel], Sequence[BaseModel]]],
                 summary: Summary | None) -> None:
    """The tables, and summary.json unless `summary` is None (the pool's tables, staged
    before the matching: planner.pipeline.run)."""
    for name, model, rows in tables:
        write_csv(folder / FILES[name], model, rows)
        if name in PERSONAL:
            (folder / FILES[name]).chmod(0o600)
    if summary is not None:
        write_summary(folder / "summary.json", summary)


_STAGED: set[Path] = set()  # staging folders not yet published or discarded
_PUBLISHED: list[Path] = []  # results folders published by this process


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait (pending) until the block ends; their handlers then run."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def staging_folder(out: Path) -> Path:
    """A fresh temporary folder on the same file system as `out` (so the move is a rename)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with _signals_held():
        staged = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
        _STAGED.add(staged)
    return staged


def publish(staged: Path, out: Path, kind: str = "run") -> None:
    """Move the staged folder into place, with its marker (planner.outputs.outdir: what a later run
    may replace); an existing folder is replaced only at the end. If the move fails, the previous
    folder is put back and no `.old` folder is left (the caller discards `staged`)."""
    from planner import __version__
    from planner.outputs.outdir import MARKER, marker_text

    (staged / MARKER).write_text(marker_text(staged, kind, __version__), encoding="utf-8")
    with _signals_held():
        old = None
        if os.path.lexists(out):
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            try:
                os.replace(out, old / "previous")
            except BaseException:
                os.rmdir(old)
                raise
        try:
            os.replace(staged, out)
        except BaseException:
            if old is not None:
                os.replace(old / "previous", out)
                shutil.rmtree(old, ignore_errors=True)
            raise
        _STAGED.discard(staged)
        _PUBLISHED.append(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)  # what is left: removed by the next run


def discard(staged: Path) -> None:
    shutil.rmtree(staged, ignore_errors=True)
    _STAGED.discard(staged)


def discard_staged() -> None:
    """Remove every staging folder this process left (after an interruption)."""
    for staged in sorted(_STAGED):
        discard(staged)


def published() -> list[Path]:
    """The results folders this process has published, in order."""
    return list(_PUBLISHED)
