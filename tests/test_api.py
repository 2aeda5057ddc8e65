"""The library API (`from planner import load_instance, plan, verify, write, compare`): every
step but `write` runs without writing anything, a plan in memory is exactly what `planner run`
writes, the in-memory verifier finds what the verifier of a written folder finds, the in-memory
comparison is `planner compare`'s, and the README's example runs."""

from __future__ import annotations

import builtins
import csv
import importlib
import io
import json
import os
import pkgutil
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

import planner
from planner import Comparison, Plan, compare, load_instance, plan, render, verify, write
from planner.comparison import compare_into
from planner.errors import PlanError, Problem
from planner.outputs.fileio import table_bytes
from planner.outputs.outdir import OutFolderError
from planner.outputs.registry import KPIS, STATES
from planner.verifier.verify import verify as verify_folder

pytestmark = pytest.mark.cli

REPO = Path(__file__).resolve().parents[1]
EU = REPO / "instances" / "eu-2026"
VARIANT = "beneficiary-agreements"  # changes the matching: which pairs may place whom
PLANNER = Path(sys.executable).parent / "planner"
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
REFUSED = ("mkdir", "makedirs", "rename", "replace", "remove", "unlink", "rmdir", "chmod",
           "symlink", "link", "truncate")


@contextmanager
def no_writes(root: Path) -> Iterator[list[str]]:
    """Every way Python code writes a file refused (and recorded; the null device aside: the
    HiGHS banner is silenced through it), with the current folder,
    HOME and the temporary folder moved to empty folders under `root` (so that a file written
    by other means, a solver's log say, shows there)."""
    attempts: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def guarded_open(file: object, mode: str = "r", *args: object, **kwargs: object) -> object:
        if set(mode) & set("wax+") and file != os.devnull:
            attempts.append(f"open({file!r}, {mode!r})")
            raise PermissionError(f"test_api: no writing ({file})")
        return real_open(file, mode, *args, **kwargs)  # type: ignore[call-overload]

    def guarded_os_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if flags & WRITE_FLAGS and path != os.devnull:
            attempts.append(f"os.open({path!r}, {flags})")
            raise PermissionError(f"test_api: no writing ({path})")
        return real_os_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    def refuse(name: str) -> Callable[..., None]:
        def call(*args: object, **kwargs: object) -> None:
            attempts.append(f"os.{name}{args!r}")
            raise PermissionError(f"test_api: no os.{name}")
        return call

    for sub in ("cwd", "home", "tmp"):
        (root / sub).mkdir(parents=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root / "cwd")
        patch.setenv("HOME", str(root / "home"))
        patch.setenv("TMPDIR", str(root / "tmp"))
        patch.setattr(tempfile, "tempdir", str(root / "tmp"))
        patch.setattr(builtins, "open", guarded_open)
        patch.setattr(io, "open", guarded_open)
        patch.setattr(os, "open", guarded_os_open)
        for name in REFUSED:
            patch.setattr(os, name, refuse(name))
        yield attempts


@dataclass(frozen=True, repr=False)  # a plan's repr is long: failures stay readable
class InMemory:
    """What the steps gave under `no_writes`, what they tried to write, and where."""

    base: Plan
    variant: Plan
    problems: list[Problem]
    files: dict[str, bytes]
    comparison: Comparison
    attempts: list[str]
    root: Path


@pytest.fixture(scope="module")
def in_memory(tmp_path_factory: pytest.TempPathFactory) -> InMemory:
    root = tmp_path_factory.mktemp("api")
    with no_writes(root) as attempts:
        base = plan(load_instance(EU))
        problems = verify(base)
        files = render(base)
        comparison = compare(EU, [VARIANT])
        variant = plan(load_instance(EU, VARIANT), variant=VARIANT)
    return InMemory(base, variant, problems, files, comparison, attempts, root)


def corrupted(planned: Plan) -> Plan:
    """The plan with the first state's obligation one higher and the first person placed
    dropped from assignments.csv (in neither table now)."""
    first = planned.tables.allocation[0]
    wrong = first.model_copy(update={"obligation": first.obligation + 1})
    return replace(planned, tables=replace(
        planned.tables, allocation=[wrong, *planned.tables.allocation[1:]],
        assignments=planned.tables.assignments[1:]))


def written(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def untimed(summary: bytes) -> dict[str, object]:
    data = json.loads(summary)
    data.pop("timings_s")
    return data


# --- the package -------------------------------------------------------------------------------

def test_import_planner_imports_no_step() -> None:
    code = ("import sys, planner; print(planner.__version__, sorted(m for m in sys.modules "
            "if m.startswith(('planner.', 'models', 'pandas', 'pulp', 'numpy'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=REPO)
    assert done.stdout.split() == [planner.__version__, "[]"]


def test_every_api_name_is_its_module_s_even_after_every_submodule_is_imported() -> None:
    """Importing `planner.X` sets the package's attribute X: no API name may be a submodule."""
    for module in pkgutil.walk_packages(planner.__path__, "planner."):
        importlib.import_module(module.name)
    homes = {"load_instance": "planner.inputs.load", "compare": "planner.comparison",
             "Comparison": "planner.comparison", "InputError": "planner.errors",
             "PlanError": "planner.errors", "Problem": "planner.errors"}
    for name in planner.__all__:
        if name == "__version__":
            continue
        home = importlib.import_module(homes.get(name, "planner.pipeline"))
        assert getattr(planner, name) is getattr(home, name), name
        assert name in dir(planner)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        planner.nothing  # noqa: B018 - the attribute look-up is the test


# --- in memory ---------------------------------------------------------------------------------

def test_load_plan_verify_render_compare_write_nothing(in_memory: InMemory) -> None:
    assert in_memory.attempts == []
    assert sorted(p.relative_to(in_memory.root) for p in in_memory.root.rglob("*")) == [
        Path("cwd"), Path("home"), Path("tmp")]
    assert in_memory.problems == []
    assert in_memory.base.status == "optimal" and in_memory.base.variant == "base"
    assert in_memory.base.name == "eu-2026"


def test_the_guard_catches_writes(in_memory: InMemory, tmp_path: Path) -> None:
    """`no_writes` is not blind: `write` inside it is refused and recorded, and so are the
    ways of writing a file it patches."""
    with no_writes(tmp_path) as attempts:
        with pytest.raises(OSError, match="test_api"):
            write(in_memory.base, tmp_path / "cwd" / "out")
        with pytest.raises(OSError, match="test_api"):
            Path("x.txt").write_text("x")
        with pytest.raises(OSError, match="test_api"):
            os.close(os.open("y", os.O_WRONLY | os.O_CREAT))
    assert len(attempts) > 2  # write(): at least its lock
    assert attempts[-2:] == ["open(PosixPath('x.txt'), 'w')",
                             f"os.open('y', {os.O_WRONLY | os.O_CREAT})"]
    assert not any((tmp_path / "cwd").iterdir())


def test_plan_twice_gives_equal_plans(in_memory: InMemory) -> None:
    again = plan(load_instance(EU))
    assert again == in_memory.base
    assert render(again).keys() == in_memory.files.keys()
    assert {k: v for k, v in render(again).items() if k != "summary.json"} == \
        {k: v for k, v in in_memory.files.items() if k != "summary.json"}
    # Equal apart from the wall-clock timings, and only then.
    later = replace(again, summary=again.summary.model_copy(update={"timings_s": {"x": 1.0}}))
    assert later == in_memory.base and later.timings == {"x": 1.0}
    assert corrupted(again) != in_memory.base
    assert in_memory.variant != in_memory.base


@pytest.mark.parametrize("which", ["base", "variant"])
def test_verify_in_memory_is_the_verify_of_the_written_folder(in_memory: InMemory,
                                                              which: str, tmp_path: Path
                                                              ) -> None:
    planned: Plan = getattr(in_memory, which)
    folder = write(planned, tmp_path / "out")
    assert folder == tmp_path / "out"
    files = written(folder)
    assert {name: files[name] for name in render(planned)} == render(planned)
    assert verify(planned) == verify_folder(folder, planned.instance) == []

    bad = corrupted(planned)
    problems = verify(bad)
    (tmp_path / "bad").mkdir()
    for name, data in render(bad).items():
        (tmp_path / "bad" / name).write_bytes(data)
    assert verify_folder(tmp_path / "bad", planned.instance) == problems
    assert Problem("allocation.csv", 2, "obligation", "1, expected 0") in problems
    assert Problem("assignments.csv", 0, "person_id", "a candidate is in neither") in problems
    # Rejected by `write` too, and nothing published.
    with pytest.raises(PlanError, match="allocation.csv:2: obligation: 1, expected 0"):
        write(bad, tmp_path / "rejected")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad", "out"]


def test_write_keeps_the_out_rules(in_memory: InMemory, tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(OutFolderError):
        write(in_memory.base, tmp_path / "mine")
    assert written(tmp_path / "mine") == {"notes.txt": b"keep"}


def test_compare_in_memory_is_planner_compare(in_memory: InMemory, tmp_path: Path) -> None:
    runs = compare_into(EU, [VARIANT], tmp_path / "cmp", jobs=1, quiet=True)
    comparison = in_memory.comparison
    assert comparison.names == tuple(r.name for r in runs) == ("base", VARIANT)
    assert comparison.plans == (in_memory.base, in_memory.variant)
    folder = tmp_path / "cmp" / "comparison"
    assert table_bytes(STATES, comparison.states) == \
        (folder / "states.csv").read_bytes()
    assert table_bytes(KPIS, comparison.kpis) == (folder / "kpis.csv").read_bytes()
    for planned in comparison.plans:
        files = written(tmp_path / "cmp" / planned.variant)
        for name, data in render(planned).items():
            assert (untimed(data) == untimed(files[name]) if name == "summary.json"
                    else data == files[name]), name


# --- the README's example ----------------------------------------------------------------------

def readme_example() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(r"^## Library API\n.*?^```python\n(.*?)^```", text, re.S | re.M)
    assert found is not None, "README.md: no python block under ## Library API"
    return found.group(1)


def test_readme_example_runs_and_matches_planner_run(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(EU, tmp_path / "instances" / "eu-2026")
    subprocess.run([str(PLANNER), "run", "instances/eu-2026", "--out", "cli", "-q"],
                   cwd=tmp_path, check=True, capture_output=True)
    cli = written(tmp_path / "cli")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    printed = io.StringIO()
    with redirect_stdout(printed):
        exec(compile(readme_example(), "README.md", "exec"), namespace)

    summary = json.loads(cli["summary.json"])
    relocations = sum(float(row["amount"]) for row in csv.DictReader(
        io.StringIO(cli["plan.csv"].decode())) if row["measure"] == "relocation")
    persons = len(cli["assignments.csv"].decode().splitlines()) - 1
    assert printed.getvalue().splitlines()[:2] == [
        f"{summary['status']} {summary['totals']['shortfall']}",
        f"{relocations:g} relocation places, {persons} persons placed"]
    assert (summary["status"], summary["totals"]["shortfall"], persons) == ("optimal", 685, 960)
    # The plan in memory is the CLI's files, byte for byte (summary.json: but its timings).
    files = namespace["files"]
    assert isinstance(files, dict)
    assert {n: d for n, d in files.items() if n != "summary.json"} == \
        {n: cli[n] for n in files if n != "summary.json"}
    assert untimed(files["summary.json"]) == untimed(cli["summary.json"])
    # write() published what planner run publishes.
    folder = namespace["folder"]
    assert isinstance(folder, Path)
    mine = written(tmp_path / folder)
    assert mine.keys() == cli.keys()
    assert {n: d for n, d in mine.items() if n != "summary.json"} == \
        {n: d for n, d in cli.items() if n != "summary.json"}
    assert untimed(mine["summary.json"]) == untimed(cli["summary.json"])
    # The comparison's persons relocated: the base's are the CLI's assignments.
    assert printed.getvalue().splitlines()[2] == f"base {float(persons)} 0.0"
    # verify() found nothing in the example's plan; it finds the corruption.
    result = namespace["result"]
    assert isinstance(result, Plan)
    assert Problem("allocation.csv", 2, "obligation", "1, expected 0") in verify(
        corrupted(result))
