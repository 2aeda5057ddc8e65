"""The bad-input corpus (tests/data/bad, see its README): each folder is one instance with one
mistake, run through the installed `planner` console script as a user runs it.

A case's `expected.txt` holds `exit: N`, then the exact problem lines on stderr with the
instance folder written `{dir}`; an optional `args.txt` holds more arguments for the
command (`--variant NAME` for the variant cases). Every run goes to an `--out` folder that
already holds a result: a bad input must leave it byte for byte as it was, with nothing beside
it. The runs are independent processes, so they are started together (one per CPU) and each
test checks one.
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

CORPUS = Path(__file__).resolve().parent / "data" / "bad"
PLANNER = Path(sys.executable).parent / "planner"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expected.txt").is_file())
# Earlier results (summary.json has a `version`: a folder `--out` may replace,
# planner.outputs.outdir).
SENTINEL = {"allocation.csv": b"state,obligation\nXX,1\n",
            "summary.json": b'{"sentinel": true, "version": "0"}\n'}


@dataclass(frozen=True)
class Outcome:
    done: subprocess.CompletedProcess[str]
    before: dict[str, bytes]
    after: dict[str, bytes]
    beside: list[str]  # what the --out folder's parent holds after the run


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def run_case(name: str, tmp: Path) -> Outcome:
    parent = tmp / name
    out = parent / "out"
    out.mkdir(parents=True)
    for file, data in SENTINEL.items():
        (out / file).write_bytes(data)
    before = snapshot(out)
    args = CORPUS / name / "args.txt"
    extra = args.read_text(encoding="utf-8").split() if args.is_file() else []
    done = subprocess.run([str(PLANNER), "run", str(CORPUS / name), "--out", str(out), "-q",
                           *extra],
                          capture_output=True, text=True, timeout=HANG_S, check=False)
    return Outcome(done, before, snapshot(out), sorted(p.name for p in parent.iterdir()))


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest, tmp_path_factory) -> dict[str, Outcome]:
    """Every selected case (`-k NAME` selects one) run once, in parallel."""
    assert PLANNER.is_file(), f"console script not installed: {PLANNER}"
    selected = sorted({item.callspec.params["name"] for item in request.session.items
                       if item.path == Path(__file__) and hasattr(item, "callspec")})
    tmp = tmp_path_factory.mktemp("bad-corpus")
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return dict(zip(selected, pool.map(lambda name: run_case(name, tmp), selected),
                        strict=True))


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


@pytest.mark.parametrize("name", CASES)
def test_case(outcomes: dict[str, Outcome], name: str) -> None:
    code, lines = expected(name)
    result = outcomes[name]
    assert "Traceback" not in result.done.stderr, result.done.stderr
    assert result.done.returncode == code, result.done.stderr
    if code == 0:
        assert result.done.stderr == ""
        assert result.after != result.before
        assert "allocation.csv" in result.after and "plan.csv" in result.after
    else:
        assert result.done.stderr.splitlines() == lines
        assert result.done.stdout == ""
        assert result.after == result.before, "the existing results folder was changed"
    assert result.beside == ["out"], "stray files beside the results folder"
