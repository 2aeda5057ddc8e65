"""The bad-input corpus (tests/data/bad, see its README): each folder is one instance with one
mistake, run as `planner run CASE --out OUT -q` (plus the case's `args.txt`).

A case's `expected.txt` holds `exit: N`, then the exact problem lines on stderr with the
instance folder written `{dir}`; an optional `args.txt` holds more arguments for the
command (`--variant NAME` for the variant cases). Every run goes to an `--out` folder that
already holds a result: a bad input must leave it byte for byte as it was, with nothing beside
it.

Most cases run in this process, through the command's own function (`planner.cli.app`, under
typer's CliRunner): the same option checks, pipeline, error printing (`visible_lines`) and exit
code as the console script, without a new interpreter per case (about 1.5 s each, 85 cases).
The few cases in SUBPROCESS also run through the installed console script, as a user runs it,
so that its wrapper (`planner.cli.main`: the exit code of the real process, flushed streams,
no traceback) is checked on each kind of outcome: a plan written, bad input found while
loading (escaped on the real stderr), bad input found only after planning (files were already
staged), and a variant's arguments. Each case is checked the same way on both paths.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import HANG_S
from typer.testing import CliRunner

from planner.cli import app

pytestmark = [pytest.mark.solver, pytest.mark.cli]

CORPUS = Path(__file__).resolve().parent / "data" / "bad"
PLANNER = Path(sys.executable).parent / "planner"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expected.txt").is_file())
# Also run through the console script: a plan written; bad input while loading, with a
# control character to escape on the real stderr; bad input found after planning; a variant.
SUBPROCESS = ("ok-base", "pledges-id-ansi-escape", "transfers-exceed-places",
              "variant-table-bad-row")
# Earlier results (summary.json has a `version`: a folder `--out` may replace,
# planner.outputs.outdir).
SENTINEL = {"allocation.csv": b"state,obligation\nXX,1\n",
            "summary.json": b'{"sentinel": true, "version": "0"}\n'}


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str
    crash: str  # a traceback on stderr, or an exception escaping the command in process
    before: dict[str, bytes]
    after: dict[str, bytes]
    beside: list[str]  # what the --out folder's parent holds after the run


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def command(name: str, out: Path) -> list[str]:
    args = CORPUS / name / "args.txt"
    extra = args.read_text(encoding="utf-8").split() if args.is_file() else []
    return ["run", str(CORPUS / name), "--out", str(out), "-q", *extra]


def traceback(stderr: str) -> str:
    return stderr if "Traceback" in stderr else ""


def prepared(parent: Path) -> tuple[Path, dict[str, bytes]]:
    """The --out folder under `parent`, holding an earlier result, and its bytes."""
    out = parent / "out"
    out.mkdir(parents=True)
    for file, data in SENTINEL.items():
        (out / file).write_bytes(data)
    return out, snapshot(out)


def in_process(name: str, parent: Path) -> Outcome:
    out, before = prepared(parent)
    result = CliRunner().invoke(app, command(name, out))
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    crash = repr(result.exception) if escaped else traceback(result.stderr)
    return Outcome(result.exit_code, result.stdout, result.stderr, crash, before,
                   snapshot(out), sorted(p.name for p in parent.iterdir()))


def console_script(name: str, parent: Path) -> Outcome:
    out, before = prepared(parent)
    done = subprocess.run([str(PLANNER), *command(name, out)], capture_output=True, text=True,
                          timeout=HANG_S, check=False)
    return Outcome(done.returncode, done.stdout, done.stderr, traceback(done.stderr), before,
                   snapshot(out), sorted(p.name for p in parent.iterdir()))


PATHS = [pytest.param(name, "in process", id=name) for name in CASES] + [
    pytest.param(name, "console script", id=f"{name}-console-script") for name in SUBPROCESS]


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest, tmp_path_factory
             ) -> dict[tuple[str, str], Outcome]:
    """Every selected (case, path) run once (`-k NAME` selects one): the console-script runs
    in threads while the in-process runs go one after the other here (CliRunner swaps
    sys.stdout, so two must not overlap)."""
    assert PLANNER.is_file(), f"console script not installed: {PLANNER}"
    selected = sorted({(item.callspec.params["name"], item.callspec.params["path"])
                       for item in request.session.items
                       if item.path == Path(__file__) and hasattr(item, "callspec")})
    tmp = tmp_path_factory.mktemp("bad-corpus")
    scripted = [key for key in selected if key[1] == "console script"]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        started = {key: pool.submit(console_script, key[0], tmp / "script" / key[0])
                   for key in scripted}
        found = {key: in_process(key[0], tmp / "process" / key[0])
                 for key in selected if key[1] == "in process"}
        return found | {key: future.result() for key, future in started.items()}


def expected(name: str) -> tuple[int, list[str]]:
    first, *lines = (CORPUS / name / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert first.startswith("exit: "), f"{name}/expected.txt: first line must be 'exit: N'"
    folder = str(CORPUS / name)
    return int(first.removeprefix("exit: ")), [line.replace("{dir}", folder) for line in lines]


def test_corpus_is_large_and_documented() -> None:
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    assert len(CASES) >= 40
    for name in CASES:
        assert f"`{name}`" in readme, f"{name} is not listed in tests/data/bad/README.md"
    folders = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
    assert folders == CASES, "a folder without expected.txt"
    assert set(SUBPROCESS) <= set(CASES)


@pytest.mark.parametrize(("name", "path"), PATHS)
def test_case(outcomes: dict[tuple[str, str], Outcome], name: str, path: str) -> None:
    code, lines = expected(name)
    result = outcomes[name, path]
    assert result.crash == "", result.crash
    assert result.code == code, result.stderr
    if code == 0:
        assert result.stderr == ""
        assert result.after != result.before
        assert "allocation.csv" in result.after and "plan.csv" in result.after
    else:
        assert result.stderr.splitlines() == lines
        assert result.stdout == ""
        assert result.after == result.before, "the existing results folder was changed"
    assert result.beside == ["out"], "stray files beside the results folder"
