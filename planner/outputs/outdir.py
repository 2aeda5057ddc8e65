"""Where a run may write: `--out` never destroys what the planner did not write (issue #12).

A run's folder (and a comparison's) is replaced as a whole when the new one is published
(planner.outputs.export.publish), so before anything is loaded `claimed` checks the target and
refuses (`OutFolderError`, exit 2) what the planner must not replace:

* a symbolic link, a file, or anything else that is not a folder;
* the instance folder, or a folder that contains it (its inputs would go), the current folder
  or one above it (a shell would be left in a deleted folder);
* an existing folder that is not empty and is not a results folder of the same kind: results
  folders carry a marker, `.planner-results` (JSON: `kind` run, compare or track, `version`,
  and the `files` the planner wrote, written at publication), and one holding anything not in that
  list (a note the user saved there) is refused too, naming what would be lost. Results of
  versions before the marker are recognised by their `summary.json` with a `version` key (a
  run; a comparison: `comparison/` and `base/summary.json`) and names the planner writes.

A folder inside the instance folder is allowed (`instances/x/results`): inputs are files at
the instance's top level and in `variants/`, and a folder holding any is refused as above.

While a run writes, it holds a lock (`fcntl.flock`) on `.NAME.lock` beside the target: a
second run into the same place is refused (exit 2), not queued, since both would plan the same
thing; the lock is released by the system if the process dies. Holding it, the run removes
what killed runs left beside the target (`.NAME.xxxxxxxx.tmp` staging and `.NAME.xxxxxxxx.old`
folders, tempfile.mkdtemp's names): no live run can be using them. No heavy import here: this
runs before the plan, on the monthly re-run's critical path.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

MARKER = ".planner-results"
RUN, COMPARE = "run", "compare"
TRACK = "track"  # planner track's folder (issue 15)
# Files an operating system's file browser drops into any folder it shows: not the user's work.
LITTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
# What versions before the marker wrote into a run's folder.
LEGACY_RUN = frozenset({"plan.csv", "allocation.csv", "distribution.csv", "coverage.csv",
                        "assignments.csv", "unassigned.csv", "matchability.csv", "summary.json",
                        "report.html", "tables.xlsx", "tables.json", "persons.xlsx",
                        "persons.json", "parquet"})
SHOWN = 5  # foreign entries named in a refusal


class OutFolderError(Exception):
    """The `--out` target must not be replaced (exit 2); the message says why and what to do."""

    exit_code = 2


def marker_text(folder: Path, kind: str, version: str) -> str:
    """The marker of a results folder about to be published: its files, sorted."""
    files = sorted(entries(folder) - {MARKER})
    return json.dumps({"kind": kind, "version": version, "files": files}, indent=1) + "\n"


def entries(folder: Path) -> set[str]:
    """Every file, link or other non-folder under `folder`, as a relative posix path (links
    are not followed); folders themselves only when empty."""
    found: set[str] = set()
    for top, dirs, files in os.walk(folder):
        here = Path(top).relative_to(folder)
        links = [d for d in dirs if (Path(top) / d).is_symlink()]
        dirs[:] = [d for d in dirs if d not in links]
        found.update((here / name).as_posix() for name in [*files, *links])
        if not dirs and not files and not links and top != str(folder):
            found.add(here.as_posix() + "/")
    return found


def _json(path: Path) -> Any:
    """The JSON a file holds; None when it cannot be read as JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _marker(folder: Path) -> dict[str, Any] | None:
    path = folder / MARKER
    if path.is_symlink() or not path.is_file():
        return None
    data = _json(path)
    ok = isinstance(data, dict) and data.get("kind") in (RUN, COMPARE, TRACK) \
        and isinstance(data.get("files"), list)
    return data if ok else None


def _legacy_summary(path: Path) -> bool:
    """A summary.json of a run by an earlier version (it has `version`)."""
    data = _json(path)
    return isinstance(data, dict) and "version" in data


def _legacy_kind(folder: Path, names: set[str]) -> str | None:
    if "summary.json" in names and names <= LEGACY_RUN \
            and _legacy_summary(folder / "summary.json"):
        return RUN
    if "comparison" in names and "base" in names and (folder / "comparison").is_dir() \
            and all((folder / n).is_dir() and not (folder / n).is_symlink() for n in names) \
            and _legacy_summary(folder / "base" / "summary.json"):
        return COMPARE
    return None


def _listing(paths: list[str]) -> str:
    shown = ", ".join(paths[:SHOWN])
    return shown + (f" and {len(paths) - SHOWN} more" if len(paths) > SHOWN else "")


def check_target(out: Path, instance: Path, kind: str) -> None:
    """OutFolderError unless `out` is absent, an empty folder, or results of `kind` the planner
    wrote (holding nothing else)."""
    default = f"results/{instance.resolve().name}/" \
        f"{ {RUN: 'base', COMPARE: 'compare'}.get(kind, 'track-DATE')}"
    if out.is_symlink():
        raise OutFolderError(f"{out} is a symbolic link: the planner does not replace links; "
                             "give the folder itself, or a new folder")
    resolved, home = out.resolve(), instance.resolve()
    if resolved == home or resolved in home.parents:
        where = "is the instance folder" if resolved == home else \
            f"contains the instance folder {instance}"
        raise OutFolderError(f"{out} {where}: replacing it would erase the inputs; choose a "
                             f"folder of its own, e.g. {default}")
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise OutFolderError(f"{out} is the current folder or contains it: the planner replaces "
                             f"its --out folder as a whole; choose a folder of its own, e.g. "
                             f"{default}")
    if not os.path.lexists(out):
        return
    if not out.is_dir():
        raise OutFolderError(f"{out} is a file, not a results folder: the planner does not "
                             "replace it; choose another --out, or move the file away")
    names = {p.name for p in out.iterdir()} - LITTER
    if not names:
        return
    marker = _marker(out)
    if marker is None:
        found = _legacy_kind(out, names)
        if found is None:
            raise OutFolderError(
                f"{out} is a folder the planner did not write (no {MARKER} in it) and not "
                f"empty: --out is replaced as a whole, so it would be lost; choose a new or "
                f"empty folder, e.g. {out / 'results'}")
        if found != kind:
            raise _other_kind(out, found, kind)
        return
    if marker["kind"] != kind:
        raise _other_kind(out, str(marker["kind"]), kind)
    written = {str(f) for f in marker["files"]} | {MARKER}
    foreign = sorted(p for p in entries(out) - written
                     if Path(p).name not in LITTER and not p.endswith("/"))
    if foreign:
        raise OutFolderError(f"{out} holds files the planner did not write ({_listing(foreign)}): "
                             "--out is replaced as a whole, so they would be lost; move them "
                             "out of it, or choose another --out")


def _other_kind(out: Path, found: str, kind: str) -> OutFolderError:
    names = {RUN: "a run's results (planner run)", COMPARE: "a comparison (planner compare)",
             TRACK: "a tracking (planner track)"}
    return OutFolderError(f"{out} holds {names[found]}, not {names[kind].split(' (')[0]}: "
                          "choose another --out, or remove that folder first")


def clean_leftovers(out: Path) -> list[Path]:
    """Remove the staging and old folders beside `out` (call it holding the lock); the
    removed."""
    # The names of its staging and old folders (tempfile.mkdtemp: 8 of [a-z0-9_]).
    pattern = re.compile(rf"\.{re.escape(out.name)}\.[a-z0-9_]{{8}}\.(?:tmp|old)")
    removed = []
    with suppress(FileNotFoundError):
        for path in sorted(out.parent.iterdir()):
            if pattern.fullmatch(path.name) and path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    """Hold `.NAME.lock` beside `out`; OutFolderError if another process holds it."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): no lock, the other checks still apply
        yield
        return
    path = out.parent / f".{out.name}.lock"
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            raise OutFolderError(
                f"{out} is being written by another planner run"
                f"{f' (process {holder})' if holder.isdigit() else ''}; wait until it ends, "
                "or choose another --out") from None
        except BaseException:
            os.close(fd)
            raise
        # The holder before us removes the file on release: lock the file that is there now.
        with suppress(FileNotFoundError):
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        with suppress(OSError):
            os.unlink(path)  # still holding it: whoever opened it since retries
        os.close(fd)


@contextmanager
def claimed(out: Path, instance: Path, kind: str) -> Iterator[None]:
    """The target checked, locked and cleared of killed runs' leftovers, for the block."""
    check_target(out, instance, kind)
    out.parent.mkdir(parents=True, exist_ok=True)
    with _locked(out):
        check_target(out, instance, kind)  # as it is now that no other run can change it
        clean_leftovers(out)
        yield
