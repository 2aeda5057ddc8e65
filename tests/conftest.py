"""Shared test helpers: write small instance folders from Python literals. And the suite's
hygiene: Hypothesis without wall-clock checks, and no test may write into the repository."""

from __future__ import annotations

import contextlib
import csv
import functools
import getpass
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

BASE_TOML = """name = "test pool"
cycle = 2026

[pool]
relocations = {relocations}
financial_eur = {financial}
rounding = "{rounding}"
{extra}
"""

STATE_COLUMNS = ["code", "name", "population", "gdp_eur_million", "participates",
                 "benefitting", "status", "deduction", "share"]


def write_csv(path: Path, rows: list[dict[str, object]], columns: list[str] | None = None) -> None:
    columns = columns or list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})


def csv_rows(path: Path) -> list[list[str]]:
    """A CSV file's rows, header first, as lists of cells (to corrupt and `save_rows`)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def csv_dicts(path: Path) -> list[dict[str, str]]:
    """A CSV file's rows as dicts by header (to read a table as the files give it)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def save_rows(path: Path, table: list[list[str]]) -> None:
    """Write rows back as the planner writes its tables (`\n` line ends)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(table)


def state(code: str, population: float = 1_000_000, gdp: float = 10_000, **extra: object
          ) -> dict[str, object]:
    return {"code": code, "name": f"State {code}", "population": population,
            "gdp_eur_million": gdp, **extra}


def pledge(pid: str, state_code: str, measure: str, min_: object = "", max_: object = "",
           **extra: object) -> dict[str, object]:
    return {"pledge_id": pid, "state": state_code, "measure": measure, "min": min_,
            "max": max_, **extra}


MakeInstance = Callable[..., Path]


@pytest.fixture
def make_instance(tmp_path: Path) -> MakeInstance:
    """make_instance(states, pledges, needs=None, relocations=100, financial=2_000_000,
    rounding="ceil", extra_toml="") -> the folder."""

    def make(states: list[dict[str, object]], pledges: list[dict[str, object]],
             needs: list[dict[str, object]] | None = None, relocations: int = 100,
             financial: float = 2_000_000, rounding: str = "ceil", extra_toml: str = "",
             name: str = "inst") -> Path:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "instance.toml").write_text(BASE_TOML.format(
            relocations=relocations, financial=financial, rounding=rounding, extra=extra_toml))
        write_csv(folder / "member_states.csv", states,
                  STATE_COLUMNS + list(dict.fromkeys(k for s in states for k in s
                                                     if k not in STATE_COLUMNS)))
        write_csv(folder / "pledges.csv", pledges,
                  ["pledge_id", "state", "measure", "min", "max"]
                  + sorted({k for p in pledges for k in p} - {"pledge_id", "state", "measure",
                                                               "min", "max"}))
        if needs is not None:
            write_csv(folder / "needs.csv", needs, ["state", "measure", "amount"])
        return folder

    return make


# --- solver back-ends: the plan and matching tests run on each one available ----------------

def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "solver: runs the solver back-ends (each available one)")


@pytest.fixture(params=[pytest.param(name, marks=pytest.mark.solver)
                        for name in ("highs", "cbc")])
def backend(request: pytest.FixtureRequest) -> str:
    """Each solver back-end by name ("highs", "cbc"), skipped where it is not installed: a test
    taking it plans with that back-end alone (no fallback)."""
    from planner.optimise.solve import available_solvers

    if request.param not in available_solvers():
        pytest.skip(f"solver back-end {request.param} is not available")
    return request.param


# --- test hygiene: no wall-clock checks, no writes into the repository ------------------------

# Hypothesis without its two wall-clock checks (a per-example deadline, the too_slow health
# check: both fail on a busy machine) and without its example database; the tests' own
# @settings override only what they name. Its caches (.hypothesis/ in the working folder, that
# is the repository, by default) go to the temporary folder, kept from run to run.
settings.register_profile("suite", deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY",
                      str(Path(tempfile.gettempdir()) / f"hypothesis-of-{getpass.getuser()}"))

REPO = Path(__file__).resolve().parents[1]
_BEFORE = pytest.StashKey[dict[str, tuple[int, int]]]()  # the files when the session started
# Written by the tools rather than by a test: the virtual environment, bytecode, caches.
NOT_WATCHED = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache"}


def repository_files() -> dict[str, tuple[int, int]]:
    """Every file of the repository outside NOT_WATCHED: its size and modification time."""
    found: dict[str, tuple[int, int]] = {}
    for folder, subfolders, files in os.walk(REPO):
        subfolders[:] = [d for d in subfolders
                         if d not in NOT_WATCHED and not d.endswith(".egg-info")]
        for name in files:
            path = Path(folder, name)
            with contextlib.suppress(OSError):  # gone meanwhile: reported as removed
                stat = path.lstat()
                found[path.relative_to(REPO).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return found


def _controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")  # pytest-xdist's workers have it


def pytest_sessionstart(session: pytest.Session) -> None:
    if _controller(session.config):
        session.config.stash[_BEFORE] = repository_files()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Tests write into tmp_path, never into the repository: a file added, changed or removed
    there during the session fails it, named."""
    before = session.config.stash.get(_BEFORE, None)
    if before is None or not _controller(session.config):
        return
    after = repository_files()
    touched = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    if touched:
        shown = "\n  ".join(touched[:20]) + ("\n  ..." if len(touched) > 20 else "")
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = (f"{len(touched)} files added, changed or removed in the repository by the "
                   f"tests (they write into tmp_path):\n  {shown}")
        if reporter is not None:
            reporter.write_sep("=", "FAILED: the tests wrote into the repository", red=True)
            reporter.write_line(message, red=True)
        else:
            print(message, file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# The one time limit of the suite: a guard against a hang (a child that never ends, a file that
# never comes), never a speed check (speed is bench/'s): far above any run on a busy machine.
HANG_S = 1800.0


# --- markers: every test file says what it needs (pyproject.toml [tool.pytest.ini_options]) ---

# `unit`: no solver and no process, the inner loop (`make check`); `solver`: builds and solves a
# model; `cli`: starts the `planner` command (or another Python) as a process; `browser`: drives
# Chromium; `slow`: the large ones. A file may carry several (module-level `pytestmark`).
KINDS = ("unit", "solver", "cli", "browser", "slow")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects: every collected test is seen
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test without one of KINDS fails the collection, naming its file: `-m unit` would
    otherwise skip it silently, or run a slow test in the inner loop."""
    bare = [item for item in items
            if not any(item.get_closest_marker(kind) for kind in KINDS)]
    unmarked = sorted({str(item.path.relative_to(REPO)) for item in bare})
    if unmarked:
        message = (f"test files without a marker ({', '.join(KINDS)}): {', '.join(unmarked)}; "
                   "add one at the top, e.g. `pytestmark = pytest.mark.unit`")
        if not hasattr(config, "workerinput"):
            raise pytest.UsageError(message)
        # An xdist worker: a UsageError ends it with an INTERNALERROR that does not say why,
        # so each unmarked test fails with the message instead.
        for item in bare:
            item.runtest = functools.partial(pytest.fail, message, pytrace=False)
    items.sort(key=heaviest_first)


# The order in which files start (slow, then processes, then solves, then the rest): `make
# test` hands whole files to its two workers in collection order, so the longest files go
# first and the short ones fill the gaps at the end, instead of test_signals.py (about a
# third of the suite's time on one worker) starting last while the other worker idles.
WEIGHT = {"slow": 0, "browser": 1, "cli": 2, "solver": 3}


def heaviest_first(item: pytest.Item) -> int:
    """The sort key of a test (`list.sort` is stable: within a file, and among files of the
    same weight, the order stays as collected)."""
    return min((w for kind, w in WEIGHT.items() if item.get_closest_marker(kind)),
               default=len(WEIGHT))


class NotAUnitTest(AssertionError):
    """A `unit` test started a process or a HiGHS solve: mark its file `cli` or `solver`."""


@pytest.fixture(autouse=True)
def _unit_tests_stay_in_process(request: pytest.FixtureRequest,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the `unit` marker honest: in a `unit` test, starting a process (subprocess, fork:
    CBC too runs as a process) or running HiGHS raises NotAUnitTest."""
    if request.node.get_closest_marker("unit") is None:
        return

    def refuse(*_: object, **__: object) -> None:
        raise NotAUnitTest(f"{request.node.nodeid} is marked `unit` but started a process or "
                           "a solve: mark its file `cli` or `solver`")

    import subprocess

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    monkeypatch.setattr(os, "fork", refuse)
    with contextlib.suppress(ImportError):
        import highspy

        for method in ("run", "solve"):  # `solve` calls the base class's run directly
            monkeypatch.setattr(highspy.Highs, method, refuse)
