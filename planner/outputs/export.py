"""Write a run's tables and summary (planner.outputs.fileio), and publish them atomically.

Everything is written to a temporary folder beside the target, verified there, and only then
moved into place (with its `.planner-results` marker: planner.outputs.outdir), so a failed or
interrupted run never leaves a half-written results folder where a good one was (contract,
Outputs). SIGINT and SIGTERM are held back while a staging folder
is made and while one is published (two renames that must not be separated), and staging folders
are remembered until published or discarded, so the command line's interrupt handler can remove
any that an interruption left behind (`discard_staged`).
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from models.results import Summary
from planner.outputs.fileio import write_summary, write_table
from planner.outputs.registry import SUMMARY, OutputFile, tables_of


def run_files(tables: object, matched: bool) -> list[tuple[OutputFile[Any], Sequence[Any]]]:
    """Each table a run writes, with its rows: the pool's, and the matching's when it ran. The
    rows of a table are the attribute of its name (`plan`) of the run's `tables`
    (planner.optimise.tables.Tables)."""
    return [(table, getattr(tables, table.name))
            for table in tables_of("pool", *(("matching",) if matched else ()))]


def write_tables(folder: Path, tables: Iterable[tuple[OutputFile[Any], Sequence[Any]]],
                 summary: Summary) -> None:
    """The tables (a personal one mode 0600 from its creation) and summary.json."""
    for table, rows in tables:
        write_table(folder / table.file, table, rows)
    write_summary(folder / SUMMARY.file, summary)


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


@contextmanager
def staged_for(out: Path, what: str = "results") -> Iterator[Path]:
    """A staging folder beside `out` (`staging_folder`) for the caller to fill and `publish`,
    discarded whatever happens (once published, nothing is left to remove); an OSError
    while staging is a PlanError that names `what` and `out`."""
    from planner.errors import PlanError

    staged: Path | None = None
    try:
        staged = staging_folder(out)
        yield staged
    except OSError as exc:
        raise PlanError(f"cannot write {what} to {out}: {exc.strerror}") from exc
    finally:
        if staged is not None:
            discard(staged)


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
