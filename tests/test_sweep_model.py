"""Issue 16 without a solve: the `[uncertainty]` model and its validation, the scenario draws
(SeedSequence determinism, delivery, needs, designation, arrivals), the statistics of
sweep.csv on hand-checked numbers, and the missing-dependency message."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import MakeInstance, pledge, state
from typer.testing import CliRunner

from models.uncertainty import Draw, UncertaintyConfig, indicator_known, lower_is_better
from planner.cli import app
from planner.errors import InputError
from planner.inputs.load import load_instance
from planner.sweep.engine import SweepError, require_dask
from planner.sweep.scenario import Base, draw, scenario, scenario_seed, stream
from planner.sweep.stats import cvar, describe, share

pytestmark = pytest.mark.unit

NEEDS = [{"state": "BB", "measure": "relocation", "amount": 40},
         {"state": "BB", "measure": "financial", "amount": 1000.5}]


def tiny(make_instance: MakeInstance, uncertainty: str) -> Path:
    """A contributor AA (relocation row 30..31, financial row) and a benefitting BB."""
    return make_instance(
        [state("AA"), state("BB", benefitting="true"), state("CC")],
        [pledge("A-1", "AA", "relocation", 30, 31), pledge("A-2", "AA", "financial", 0, 999),
         pledge("C-1", "CC", "relocation", 0, 5, beneficiary="BB")],
        NEEDS, extra_toml=uncertainty)


def problems(folder: Path, variant: str | None = None) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_instance(folder, variant)
    return [str(p) for p in caught.value.problems]


def test_defaults_vary_nothing() -> None:
    model = UncertaintyConfig()
    assert not model.synthetic
    assert model.consent.value == 0.8 and model.cleared.value == 0.99
    assert model.targets == {"relocation_coverage_min": 0.5}
    assert model.delivered.of("AA", "relocation").varies is False
    assert UncertaintyConfig.model_validate({"consent": {"value": 0.7}}).synthetic


def test_validation_errors_in_the_projects_format(make_instance: MakeInstance) -> None:
    folder = tiny(make_instance, """
[uncertainty]
rank_by = "happiness"
targets = { shortfall_ZZ = 1 }
designation = { QQ = 0.5 }

[uncertainty.needs]
states = { AA = { kind = "fixed", value = 2 } }
""")
    found = problems(folder)
    file = str(folder / "instance.toml")
    assert found == [
        f"{file}:10: uncertainty.rank_by: unknown indicator 'happiness' (see README.md, "
        "\"Scenario sweeps\": e.g. relocation_coverage_min, persons_relocated, "
        "shortfall_total, shortfall_DE)",
        f"{file}:11: uncertainty.targets.shortfall_ZZ: unknown state ZZ in indicator "
        "'shortfall_ZZ'",
        f"{file}:12: uncertainty.designation.QQ: unknown state QQ",
        f"{file}:15: uncertainty.needs.states.AA: AA is not benefitting (and its designation "
        "is not drawn: uncertainty.designation)",
    ]


@pytest.mark.parametrize(("draw", "message"), [
    ('{ kind = "lognormal" }', "a lognormal draw needs sigma"),
    ('{ kind = "uniform", low = 2, high = 1 }', "low (2) is above high (1)"),
    ('{ kind = "beta", alpha = 2, beta = 2, sigma = 1 }',
     "a beta draw takes no sigma"),
    ('{ kind = "normal" }', "'normal' is not one of: 'fixed', 'uniform', 'triangular', "
     "'lognormal', 'beta' or 'levels'"),
])
def test_a_draw_is_checked(make_instance: MakeInstance, draw: str, message: str) -> None:
    folder = tiny(make_instance, f"\n[uncertainty.arrivals]\ndefault = {draw}\n")
    [found] = problems(folder)
    assert found.startswith(f"{folder / 'instance.toml'}:10: uncertainty.arrivals.default")
    assert message in found


def test_a_share_above_one_is_refused(make_instance: MakeInstance) -> None:
    folder = tiny(make_instance, '\n[uncertainty]\nconsent = { kind = "fixed", value = 1.2 }\n')
    [found] = problems(folder)
    assert "consent is a share: its values must be within 0..1" in found


def test_a_variants_problem_is_reported_in_the_variant(make_instance: MakeInstance) -> None:
    folder = tiny(make_instance, "")
    (folder / "variants").mkdir()
    (folder / "variants" / "v.toml").write_text(
        '[uncertainty]\n\n[uncertainty.delivered.states.ZZ]\nrelocation = { kind = "fixed" }\n')
    assert problems(folder, "v") == [
        f"{folder / 'variants' / 'v.toml'}:3: uncertainty.delivered.states.ZZ: unknown state ZZ"]


def test_indicator_names() -> None:
    assert indicator_known("shortfall_DE") and indicator_known("relocation_coverage_IT")
    assert not indicator_known("shortfall_de") and not indicator_known("coverage_XX")
    assert lower_is_better("shortfall_DE") and lower_is_better("obligation_FR")
    assert not lower_is_better("relocation_coverage_min")


def test_seeds_depend_on_seed_variant_and_index_only() -> None:
    def first(seed: int, variant: str, index: int) -> float:
        return float(stream(scenario_seed(seed, variant, index), "x").random())

    assert first(1, "base", 3) == first(1, "base", 3)
    assert len({first(1, "base", 3), first(2, "base", 3), first(1, "v", 3),
                first(1, "base", 4)}) == 4
    # One concern's stream does not move when another is drawn from.
    seq = scenario_seed(1, "base", 0)
    before = stream(seq, "needs", "BB").random()
    stream(seq, "arrivals", "BB").random(5)
    assert stream(seq, "needs", "BB").random() == before


def test_delivery_and_needs_scaled_whole(make_instance: MakeInstance) -> None:
    folder = tiny(make_instance, """
[uncertainty.delivered]
default = { kind = "fixed", value = 0.5 }
[uncertainty.needs]
default = { kind = "fixed", value = 1.5 }
""")
    base = Base.of(load_instance(folder), "base")
    drawn = scenario(base, scenario_seed(1, "base", 0))
    rows = {p.pledge_id: (p.min, p.max) for p in drawn.pledges}
    # Persons rounded down (15.5 -> 15), EUR to the cent.
    assert rows == {"A-1": (15.0, 15.0), "A-2": (0.0, 499.5), "C-1": (0.0, 2.0)}
    assert [(n.measure.value, n.amount) for n in drawn.needs] == [
        ("financial", 1500.75), ("relocation", 60.0)]


@pytest.mark.parametrize(("chance", "benefitting"), [(0.0, ["BB"]), (1.0, ["BB", "CC"])])
def test_designation(make_instance: MakeInstance, chance: float, benefitting: list[str]
                     ) -> None:
    folder = tiny(make_instance, f"\n[uncertainty]\ndesignation = {{ CC = {chance} }}\n")
    drawn = scenario(Base.of(load_instance(folder), "base"), scenario_seed(1, "base", 0))
    assert [s.code for s in drawn.states if s.benefitting] == benefitting


def test_designation_drops_the_needs_of_a_state_not_designated(make_instance: MakeInstance
                                                               ) -> None:
    folder = tiny(make_instance, "\n[uncertainty]\ndesignation = { BB = 0.0 }\n")
    drawn = scenario(Base.of(load_instance(folder), "base"), scenario_seed(1, "base", 0))
    assert drawn.needs == ()
    # The row directed only to BB offers nothing that year.
    assert {p.pledge_id: p.max for p in drawn.pledges}["C-1"] == 0.0


def test_arrivals_of_two_levels(make_instance: MakeInstance) -> None:
    """20 persons at 0.5 or 1.5: each scenario draws 10 or 30 persons (the last case drawn
    may be a family that passes the count by up to 7), all in BB, none of them blocked."""
    folder = tiny(make_instance, """
[uncertainty]
consent = { kind = "fixed", value = 1 }
cleared = { kind = "fixed", value = 1 }
beneficiaries = { kind = "fixed", value = 0 }
[uncertainty.arrivals]
default = { kind = "levels", levels = [0.5, 1.5] }
persons = { BB = 20 }
""")
    base = Base.of(load_instance(folder), "base")
    assert base.counts == {"BB": 20} and base.instance.cases is None
    levels = []
    for index in range(40):
        cases = scenario(base, scenario_seed(7, "base", index)).cases
        assert cases is not None
        persons = sum(c.size for c in cases)
        level = 10 if persons < 30 else 30
        assert level <= persons <= level + 7
        assert {c.location for c in cases} == {"BB"}
        assert all(c.blocked is None for c in cases)
        levels.append(level)
        again = scenario(base, scenario_seed(7, "base", index)).cases
        assert again == cases
    assert set(levels) == {10, 30}


def test_statistics_by_hand() -> None:
    values = np.arange(1.0, 11.0)  # 1..10
    found = describe(values, "relocation_coverage_min")
    # numpy's linear percentiles: position p/100 x 9 between the order statistics.
    assert found == {"valid": 10, "mean": 5.5, "p5": pytest.approx(1.45), "p50": 5.5,
                     "p95": pytest.approx(9.55), "cvar10": 1.0}
    assert cvar(values, lower_better=True) == 10.0
    assert cvar(np.arange(1.0, 22.0), lower_better=False) == 2.0  # ceil(2.1) = 3 worst: 1,2,3
    with_gap = np.array([1.0, math.nan, 3.0, 4.0])
    assert describe(with_gap, "x")["valid"] == 3
    assert share(with_gap, 3.0, at_least=True) == 0.5  # 3 and 4 of 4 scenarios
    assert share(with_gap, 1.0, at_least=False) == 0.25
    assert math.isnan(share(with_gap, None, at_least=True))


def test_missing_dependency_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if not installed
    with pytest.raises(SweepError, match=r"planner sweep needs distributed \(the optional "
                       r"`sweep` dependencies\): pip install 'solidarity-pool-planner\[sweep\]'"):
        require_dask()
    result = CliRunner().invoke(app, ["sweep", str(tmp_path), "--scenarios", "2",
                                      "--workers", "2", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "pip install 'solidarity-pool-planner[sweep]'" in result.output
    assert not (tmp_path / "out").exists()


def test_bad_options_and_bad_input_exit_2(make_instance: MakeInstance, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["sweep", str(tmp_path), "--scenarios", "0", "--seed", "-1",
                                 "--workers", "2", "--scheduler", "tcp://127.0.0.1:1",
                                 "--batch", "0"])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "--scenarios: 0 is not a positive number of scenarios",
        "--seed: -1 is negative (a seed is 0 or more)",
        "--workers and --scheduler exclude each other (the cluster at --scheduler has its "
        "own workers)",
        "--batch: 0 is not a positive number of scenarios"]
    folder = tiny(make_instance, '\n[uncertainty]\nrank_by = "luck"\n')
    out = tmp_path / "out"
    result = runner.invoke(app, ["sweep", str(folder), "--workers", "0", "--out", str(out)])
    assert result.exit_code == 2
    assert result.output.startswith(f"{folder / 'instance.toml'}:10: uncertainty.rank_by: "
                                    "unknown indicator 'luck'")
    assert not out.exists()


@pytest.mark.parametrize(("spec", "low", "high"), [
    ({"kind": "fixed", "value": 0.7}, 0.7, 0.7),
    ({"kind": "uniform", "low": 0.5, "high": 1.5}, 0.5, 1.5),
    ({"kind": "triangular", "low": 0.5, "mode": 0.6, "high": 2.0}, 0.5, 2.0),
    ({"kind": "triangular", "low": 1.0, "mode": 1.0, "high": 1.0}, 1.0, 1.0),
    ({"kind": "lognormal", "value": 2.0, "sigma": 0.0}, 2.0, 2.0),
    ({"kind": "lognormal", "sigma": 0.3}, math.exp(-0.3 * 6), math.exp(0.3 * 6)),
    ({"kind": "beta", "alpha": 8, "beta": 2}, 0.0, 1.0),
    ({"kind": "levels", "levels": [0.5, 1.5]}, 0.5, 1.5),
])
def test_every_kind_of_draw(spec: dict[str, object], low: float, high: float) -> None:
    """Each kind draws within its bounds (a lognormal within 6 sigma), the same values from
    the same stream, and `levels` only its levels, each about half the time."""
    model = Draw.model_validate(spec)
    values = [draw(stream(scenario_seed(1, "base", i), "x"), model) for i in range(400)]
    assert values == [draw(stream(scenario_seed(1, "base", i), "x"), model) for i in range(400)]
    assert all(low <= v <= high for v in values)
    if model.kind == "levels":
        assert set(values) == {0.5, 1.5} and 150 < values.count(0.5) < 250
    if model.kind == "uniform":
        assert abs(sum(values) / len(values) - 1.0) < 0.05  # the mean of U(0.5, 1.5)
