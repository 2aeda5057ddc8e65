"""The workbook round trip plans byte for byte as the folder (issue 17, item 1), the base and a
variant; `--set` plans as the variant file that says the same (item 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.inputs.load import load_instance
from planner.inputs.template import write_template
from planner.inputs.workbook import instance_folder
from planner.pipeline import plan, render

pytestmark = pytest.mark.solver

EU = Path(__file__).resolve().parents[1] / "instances" / "eu-2026"


def tables(files: dict[str, bytes]) -> dict[str, bytes]:
    """The plan tables (summary.json names the instance and digests its files)."""
    return {name: data for name, data in files.items() if name.endswith(".csv")}


@pytest.mark.parametrize("variant", [None, "commission-proposal"])
def test_eu_2026_through_the_workbook_plans_the_same(tmp_path: Path,
                                                     variant: str | None) -> None:
    book = tmp_path / "eu-2026.xlsx"
    write_template(book, EU)
    name = variant or "base"
    expected = render(plan(load_instance(EU, variant), variant=name))
    with instance_folder(book) as folder:
        result = plan(load_instance(folder, variant), variant=name)
        found = render(result)
    assert "assignments.csv" in found  # the candidates, read from their CSV file
    assert tables(found) == tables(expected)
    assert result.summary.instance == "eu-2026"


def test_set_plans_as_the_variant_file_saying_the_same() -> None:
    by_file = render(plan(load_instance(EU, "commission-proposal")))
    by_sets = render(plan(load_instance(EU, sets=["pool.relocations=30000",
                                                  "pool.financial_eur=600000000"])))
    assert tables(by_sets) == tables(by_file)
    base = render(plan(load_instance(EU)))
    assert by_sets["allocation.csv"] != base["allocation.csv"]


def test_compare_in_memory_with_variant_sets() -> None:
    from planner.comparison import compare

    found = compare(EU, variant_sets=[("big", "pool.relocations=30000"),
                                      ("big", "pool.financial_eur=600000000")])
    assert found.names == ("base", "big")
    by_file = render(plan(load_instance(EU, "commission-proposal")))
    assert tables(render(found.plans[1])) == tables(by_file)
    pool = {(r.variant, r.kpi): r.value for r in found.kpis if r.kpi == "pool_relocations"}
    assert pool == {("base", "pool_relocations"): 21000, ("big", "pool_relocations"): 30000}
