"""README's rule table (issue 14 item 7): every rule has an article, a tag, a parameter column
and at least one test, and every test it names exists, so the table cannot point at a test that
was renamed or deleted."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[1]
TAGS = {"[law]", "[practice]", "[interp]"}


def rule_rows() -> list[list[str]]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## The rules as implemented\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    cells = [[c.strip() for c in row.strip("|").split(" | ")] for row in rows]
    assert cells[0] == ["rule", "article", "tag", "parameter = default", "test"]
    return cells[1:]


def defined_tests() -> set[tuple[str, str]]:
    found = set()
    for path in (REPO / "tests").glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found |= {(path.stem, node.name) for node in ast.walk(tree)
                  if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}
    return found


def named_tests(cell: str) -> list[tuple[str, str]]:
    """`test_file::test_name` and, after it, `::test_other` of the same file."""
    named, current = [], None
    for ref in re.findall(r"`((?:test_\w+)?::test_\w+)`", cell):
        file, _, name = ref.partition("::")
        current = file or current
        assert current, f"{ref} names no file"
        named.append((current, name))
    return named


def test_every_rule_has_an_article_a_tag_and_a_test() -> None:
    rows = rule_rows()
    assert len(rows) >= 30
    for rule, article, tag, parameter, tests in rows:
        assert article, rule
        assert set(re.findall(r"\[\w+\]", tag)) & TAGS, rule
        assert parameter, rule  # "-" when the rule has no parameter
        assert named_tests(tests), rule


def test_every_interp_rule_names_its_parameter_or_why_it_has_none() -> None:
    """rules.md: every [interp] reading is a parameter; the few that are not say why."""
    for rule, _, tag, parameter, _ in rule_rows():
        if "[interp]" in tag and "[law]" not in tag:
            assert parameter != "-", rule


def test_every_named_test_exists() -> None:
    defined = defined_tests()
    missing = [f"{f}::{n}" for row in rule_rows() for f, n in named_tests(row[4])
               if (f, n) not in defined]
    assert missing == []
