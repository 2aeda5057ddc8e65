"""`--set KEY=VALUE` (issue 17, item 4): what-if overrides read as a variant, validated with the
same messages, every problem named by the assignment as given; `[pledges.ID]` in variants;
the runs of `planner compare --variant-set NAME:KEY=VALUE`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import pledge, state

from planner.comparison import check_names, run_inputs, split_groups
from planner.errors import InputError
from planner.inputs.load import load_inputs, load_instance
from planner.inputs.overrides import RunInputs

pytestmark = pytest.mark.unit

EU = Path(__file__).resolve().parents[1] / "instances" / "eu-2026"


def problems(folder: Path, sets: list[str], variant: str | None = None) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_instance(folder, variant, sets)
    return [str(p) for p in caught.value.problems]


def test_settings_rows_and_cells_are_set() -> None:
    base = load_instance(EU)
    changed = load_instance(EU, sets=["pool.relocations=30000", "pledges.FR-2.max=60000000",
                                      "member_states.EE.deduction=0.5",
                                      "offsets.refused_by=it;ES", "pool.rounding=none"])
    assert changed.config.pool.relocations == 30000
    assert changed.pledges_by_id["FR-2"].max == 60_000_000
    assert base.pledges_by_id["FR-2"].max == 59_220_000
    assert {s.code: s.deduction for s in changed.states}["EE"] == 0.5
    assert changed.config.offsets.refused_by == ("IT", "ES")
    assert changed.config.pool.rounding == "none"
    # Everything not set stays the instance's: the other pledges, the other states.
    assert [p for p in changed.pledges if p.pledge_id != "FR-2"] == \
        [p for p in base.pledges if p.pledge_id != "FR-2"]
    assert changed.input_sha256 != base.input_sha256
    assert load_instance(EU, sets=["pool.relocations=30000"]).input_sha256 != \
        load_instance(EU, sets=["pool.relocations=30001"]).input_sha256


def test_key_weights_given_together_replace_the_key() -> None:
    changed = load_instance(EU, sets=["key.weights.population=0.6",
                                      "key.weights.gdp_eur_million=0.4"])
    assert changed.config.key.weights == {"population": 0.6, "gdp_eur_million": 0.4}
    assert problems(EU, ["key.weights.population=0.6", "key.weights.gdp_eur_million=0.5"]) \
        == ["--set key.weights.population=0.6: key.weights: key weights must sum to 1, they "
            "sum to 1.1"]


def test_one_key_weight_alone_rescales_the_others(tmp_path: Path) -> None:
    """The issue's `--set key.weights.population=0.6` over eu-2026's 50/50 key: GDP gets
    what is left, 0.4. Over a three-part key (0.5, 0.3, 0.2), population 0.8 leaves 0.2 for
    the other two in their proportion 3:2: 0.12 and 0.08 (up to rounding in doubles)."""
    assert load_instance(EU, sets=["key.weights.population=0.6"]).config.key.weights == {
        "population": 0.6, "gdp_eur_million": 0.4}
    folder = tmp_path / "eu"
    shutil.copytree(EU, folder)
    toml = folder / "instance.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        "weights = { population = 0.5, gdp_eur_million = 0.5 }",
        "weights = { population = 0.5, gdp_eur_million = 0.3, area_km2 = 0.2 }"),
        encoding="utf-8")
    members = folder / "member_states.csv"
    lines = members.read_text(encoding="utf-8").splitlines()
    members.write_text("\n".join([lines[0] + ",area_km2", *(f"{line},1000" for line in lines[1:])])
                       + "\n", encoding="utf-8")
    weights = load_instance(folder, sets=["key.weights.population=0.8"]).config.key.weights
    assert list(weights) == ["population", "gdp_eur_million", "area_km2"]
    assert weights["population"] == 0.8
    assert weights["gdp_eur_million"] == pytest.approx(0.12, abs=1e-15)
    assert weights["area_km2"] == pytest.approx(0.08, abs=1e-15)
    # More than the whole key leaves nothing to rescale: the model's own message.
    assert problems(EU, ["key.weights.population=1.2"]) == [
        "--set key.weights.population=1.2: key.weights.population: must be at most 1, got 1.2"]


def test_every_problem_is_named_by_its_assignment() -> None:
    found = problems(EU, ["pool.relocations=-5", "pledges.FR-2.max=abc", "nokey=3",
                          "pledges.XX-9.max=1", "member_states.PL.deduction=2",
                          "pool.relocations=4", "garbage", "pledges.FR-2.maxx=1"])
    assert sorted(found) == sorted([
        "--set nokey=3: nokey: unknown key",
        "--set garbage: garbage: expected KEY=VALUE with a dotted KEY such as "
        "pool.relocations=30000",
        "--set pool.relocations=-5: pool.relocations: must be greater than 0, got -5",
        "--set pool.relocations=4: pool.relocations: set twice (first by --set "
        "pool.relocations=-5)",
        "--set pledges.FR-2.max=abc: pledges.FR-2.max: not a number: 'abc'",
        "--set pledges.XX-9.max=1: pledges.XX-9: unknown pledge 'XX-9' (not in "
        f"{EU}/pledges.csv)",
        "--set pledges.FR-2.maxx=1: pledges.FR-2.maxx: unknown column: did you mean 'max'?",
        "--set member_states.PL.deduction=2: member_states.PL.deduction: must be at most 1, "
        "got 2",
    ])


def test_the_messages_are_those_of_a_variant_file(tmp_path: Path) -> None:
    folder = tmp_path / "eu"
    shutil.copytree(EU, folder)
    (folder / "variants" / "bad.toml").write_text("[pool]\nrelocations = -5\n"
                                                  "[pledges.FR-2]\nmax = \"abc\"\n")
    from_file = problems(folder, [], "bad")
    from_sets = problems(folder, ["pool.relocations=-5", "pledges.FR-2.max=abc"])
    assert [p.split(": ", 1)[1] for p in from_file] == \
        [p.split(": ", 1)[1] for p in from_sets]
    assert from_file[0].startswith(f"{folder}/variants/bad.toml:2: ")


def test_sets_apply_over_a_variant_file() -> None:
    changed = load_instance(EU, "commission-proposal", ["member_states.PL.deduction=0",
                                                        "pool.financial_eur=700000000"])
    assert changed.config.pool.relocations == 30000  # the variant's
    assert changed.config.pool.financial_eur == 700_000_000  # the --set over it
    assert {s.code: s.deduction for s in changed.states}["PL"] == 0
    assert problems(EU, ["member_states.EE.deduction=1.5"], "estonia-deduction") == [
        "--set member_states.EE.deduction=1.5: member_states.EE.deduction: must be at most "
        "1, got 1.5"]


def test_a_variant_file_may_override_a_pledge_row(make_instance) -> None:
    folder = make_instance([state("AA"), state("BB", benefitting="true")],
                           [pledge("A-1", "AA", "relocation", 0, 10)])
    (folder / "variants").mkdir()
    (folder / "variants" / "more.toml").write_text('[pledges."A-1"]\nmax = 25\nmin = 5\n')
    loaded = load_instance(folder, "more")
    assert (loaded.pledges[0].min, loaded.pledges[0].max) == (5, 25)
    (folder / "variants" / "id.toml").write_text('[pledges."A-1"]\npledge_id = "A-2"\n')
    assert problems(folder, [], "id") == [
        f"{folder}/variants/id.toml:2: pledges.A-1.pledge_id: a variant cannot change a "
        "pledge's pledge_id"]


def test_the_runs_of_a_comparison() -> None:
    groups, wrong = split_groups(["big:pool.relocations=30000", "big:pool.financial_eur=6e8",
                                  "fr:pledges.FR-2.max=1", "nocolon"])
    assert wrong == ["--variant-set nocolon: expected NAME:KEY=VALUE, e.g. "
                     "big:pool.relocations=30000"]
    runs = run_inputs(["estonia-deduction"], ["pool.rounding=none"], groups)
    common = ("--set", "pool.rounding=none")
    assert runs == [
        RunInputs("base", None, (common,)),
        RunInputs("estonia-deduction", "estonia-deduction", (common,)),
        RunInputs("big", None, (common, ("--variant-set big", "pool.relocations=30000"),
                                ("--variant-set big", "pool.financial_eur=6e8"))),
        RunInputs("fr", None, (common, ("--variant-set fr", "pledges.FR-2.max=1"))),
    ]
    assert check_names(EU, runs) == []
    big = load_inputs(EU, runs[2])
    assert (big.config.pool.relocations, big.config.pool.financial_eur,
            big.config.pool.rounding) == (30000, 600_000_000, "none")
    taken = run_inputs([], [], [("no-deductions", "pool.relocations=1"),
                                ("base", "pool.relocations=1")])
    assert check_names(EU, taken) == [
        "--variant-set: 'no-deductions' is already the name of a variant of the instance: "
        "choose another name",
        "--variant-set: 'base' cannot name a run (letters, digits, '-', '_', '.'; not base "
        "or comparison)"]
    with pytest.raises(InputError) as caught:
        load_inputs(EU, RunInputs("x", None, (("--variant-set x", "pool.relocations=0"),)))
    assert [str(p) for p in caught.value.problems] == [
        "--variant-set x pool.relocations=0: pool.relocations: must be greater than 0, got 0"]
