"""`planner template`, and `planner run`, `validate` and `compare` on a workbook and with
`--set` / `--variant-set`, as a user runs them (issue 17, items 1 and 4)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from test_cli import EU_2026, planner

pytestmark = [pytest.mark.solver, pytest.mark.cli]

PLAN = ("allocation.csv", "plan.csv", "distribution.csv", "coverage.csv", "assignments.csv")


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "eu-2026.xlsx"
    done = planner("template", EU_2026, "--out", path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{path}\n"
    assert "variant all-relocation is not in the workbook" in done.stderr
    return path


def test_template_refuses_what_is_not_a_workbook(tmp_path: Path) -> None:
    done = planner("template", "--out", tmp_path / "book.csv")
    assert (done.returncode, done.stderr) == (
        2, f"--out: {tmp_path / 'book.csv'} must name a workbook file ending in .xlsx\n")
    assert not (tmp_path / "book.csv").exists()
    (tmp_path / "mine.xlsx").write_bytes(b"an analyst's edits")
    done = planner("template", "--out", tmp_path / "mine.xlsx")
    assert (done.returncode, done.stderr) == (
        2, f"--out: {tmp_path / 'mine.xlsx'} exists: name another file, or replace it with "
        "--force\n")
    assert (tmp_path / "mine.xlsx").read_bytes() == b"an analyst's edits"
    done = planner("template", "--out", tmp_path / "mine.xlsx", "--force")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "mine.xlsx").read_bytes()[:2] == b"PK"  # a zip: an xlsx
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.xlsx"]  # no staging file left


def test_run_a_workbook_with_set_as_the_variant_folder(book: Path, tmp_path: Path) -> None:
    by_book = planner("run", book, "--out", tmp_path / "book", "-q",
                      "--set", "pool.relocations=30000", "--set", "pool.financial_eur=6e8")
    assert by_book.returncode == 0, by_book.stderr
    by_folder = planner("run", EU_2026, "--variant", "commission-proposal",
                        "--out", tmp_path / "folder", "-q")
    assert by_folder.returncode == 0, by_folder.stderr
    for name in PLAN:
        assert (tmp_path / "book" / name).read_bytes() == \
            (tmp_path / "folder" / name).read_bytes(), name
    assert planner("validate", book).stdout == f"{book}: valid (27 states, 24 pledges, " \
        "12 needs)\n"


def test_a_bad_set_names_itself_and_writes_nothing(book: Path, tmp_path: Path) -> None:
    done = planner("run", book, "--out", tmp_path / "out", "-q", "--set", "pool.relocations=-5",
                   "--set", "pledges.FR-2.max=x")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "--set pool.relocations=-5: pool.relocations: must be greater than 0, got -5",
        "--set pledges.FR-2.max=x: pledges.FR-2.max: not a number: 'x'"]
    assert not (tmp_path / "out").exists()


def test_compare_variant_sets(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    done = planner("compare", EU_2026, "--out", out, "-q", "--jobs", "1",
                   "--variant", "commission-proposal",
                   "--variant-set", "big:pool.relocations=30000",
                   "--variant-set", "big:pool.financial_eur=600000000",
                   "--variant-set", "fr:pledges.FR-2.max=60000000")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == \
        ["base", "big", "commission-proposal", "comparison", "fr"]
    for name in PLAN:
        assert (out / "big" / name).read_bytes() == \
            (out / "commission-proposal" / name).read_bytes(), name
    with (out / "comparison" / "kpis.csv").open(encoding="utf-8") as handle:
        runs = list(dict.fromkeys(row["variant"] for row in csv.DictReader(handle)))
    assert runs == ["base", "commission-proposal", "big", "fr"]
    bad = planner("compare", EU_2026, "--out", tmp_path / "bad", "--variant-set",
                  "x:pool.relocations=0", "--variant-set", "oops")
    assert (bad.returncode, bad.stderr.splitlines()) == (2, [
        "--variant-set oops: expected NAME:KEY=VALUE, e.g. big:pool.relocations=30000"])
    bad = planner("compare", EU_2026, "--out", tmp_path / "bad", "-q", "--variant-set",
                  "x:pool.relocations=0")
    assert (bad.returncode, bad.stderr.splitlines()) == (2, [
        "--variant-set x pool.relocations=0: pool.relocations: must be greater than 0, got 0"])
    assert not (tmp_path / "bad").exists()
