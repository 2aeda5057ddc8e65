"""The markers (pyproject.toml [tool.pytest.ini_options], tests/conftest.py): a test file
without one fails the collection, and a `unit` test cannot start a process or a solve."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import highspy
import pytest
from conftest import KINDS, REPO, NotAUnitTest, pytest_collection_modifyitems

pytestmark = pytest.mark.unit

REAL_FORK = os.fork  # imported before the test's guard replaces it


def item(path: str, *marks: str) -> Any:
    """A collected test of `path` carrying `marks`, as far as the hook looks at it."""
    return SimpleNamespace(path=REPO / path, get_closest_marker=lambda name: (
        getattr(pytest.mark, name).mark if name in marks else None))


def test_every_kind_is_registered_and_no_other_is_accepted(request: pytest.FixtureRequest
                                                           ) -> None:
    registered = {line.split(":")[0] for line in request.config.getini("markers")}
    assert set(KINDS) <= registered
    assert request.config.getoption("strict_markers")  # a misspelt marker is an error


def test_a_file_without_a_marker_fails_the_collection() -> None:
    marked = [item("tests/test_a.py", "unit"), item("tests/test_b.py", "solver", "cli")]
    config: Any = None
    pytest_collection_modifyitems(config, marked)
    with pytest.raises(pytest.UsageError, match=r"without a marker .*: tests/test_c\.py;"):
        pytest_collection_modifyitems(config, [*marked, item("tests/test_c.py", "parametrize"),
                                             item("tests/test_c.py")])


def test_on_an_xdist_worker_an_unmarked_test_fails_saying_why() -> None:
    """A UsageError would end the worker with an INTERNALERROR that names no file."""
    config: Any = SimpleNamespace(workerinput={})
    bare = SimpleNamespace(path=REPO / "tests/test_c.py", get_closest_marker=lambda name: None,
                           runtest=lambda: None)
    pytest_collection_modifyitems(config, [item("tests/test_a.py", "unit"), bare])
    with pytest.raises(pytest.fail.Exception, match=r"without a marker .*: tests/test_c\.py;"):
        bare.runtest()


def test_the_suite_is_marked(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("unit") is not None
    for path in sorted(Path(REPO / "tests").glob("test_*.py")):
        assert "\npytestmark = " in path.read_text(encoding="utf-8"), path.name


def test_a_unit_test_cannot_start_a_process_or_a_solve() -> None:
    with pytest.raises(NotAUnitTest, match="marked `unit`"):
        subprocess.run(["true"], check=False)
    with pytest.raises(NotAUnitTest):
        highspy.Highs().run()
    with pytest.raises(NotAUnitTest):
        highspy.Highs().solve()
    assert os.fork is not REAL_FORK  # not called: unguarded, it would fork pytest
