"""Schema-valid but odd inputs (issue #12, item 4): each is a clear problem (exit 2) naming the
allowed range, or plans on both back-ends; none ends in a traceback.

The allowed ranges (models.instance, README "Number format and allowed values") are where the
solvers plan reliably: at their edges, an instance plans and verifies with HiGHS and with CBC.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HANG_S, pledge, state, write_csv

from planner.errors import InputError
from planner.inputs.load import load_instance
from planner.optimise.solve import SolverOptions
from planner.pipeline import run

pytestmark = [pytest.mark.solver, pytest.mark.cli]

PLANNER = Path(sys.executable).parent / "planner"
STATES = [state("DE", 83_000_000, 4_000_000), state("FR", 68_000_000, 2_800_000),
          state("IT", 59_000_000, 2_100_000, benefitting="true", status="pressure")]
PLEDGES = [pledge("DE-1", "DE", "relocation", 0, 10, beneficiary="IT"),
           pledge("FR-1", "FR", "financial", 0, 100_000)]
NEEDS = [{"state": "IT", "measure": "relocation", "amount": 50}]
EXTRA = 8  # the first line of extra_toml in conftest's instance.toml
KEY = "[key]\nweights = {{ population = 0.5, {} = 0.5 }}\n"
RESERVED = ("is a column of member_states.csv with its own meaning, not a key indicator: name "
            "population, gdp_eur_million or a numeric column of your own")


def with_cells(rows: list[dict[str, object]], key: str, value: str, **cells: object
               ) -> list[dict[str, object]]:
    return [dict(r, **cells) if r[key] == value else dict(r) for r in rows]


CASES = [
    ("population of 1e308", {"states": with_cells(STATES, "code", "FR", population=1e308)},
     [("member_states.csv", 3, "population", "must be at most 10,000,000,000, got 1e+308")]),
    ("GDP of EUR 1e16", {"states": with_cells(STATES, "code", "FR", gdp_eur_million=1e10)},
     [("member_states.csv", 3, "gdp_eur_million", "must be at most 1,000,000,000, got 1e+10")]),
    ("pledge of EUR 1e25", {"pledges": with_cells(PLEDGES, "pledge_id", "FR-1", max=1e25)},
     [("pledges.csv", 3, "max", "must be at most 1,000,000,000,000, got 1e+25")]),
    ("pledge of 20 million persons",
     {"pledges": with_cells(PLEDGES, "pledge_id", "DE-1", max=20_000_000)},
     [("pledges.csv", 2, "max", "must be at most 10,000,000 persons for relocation, got 2e+07")]),
    ("pledge worth more than 10 million relocations",
     {"pledges": with_cells(PLEDGES, "pledge_id", "FR-1", min=300_000_000_000,
                            max=300_000_000_000)},
     [("pledges.csv", 3, "max", "EUR 300,000,000,000 is 15,000,000 relocation-equivalents at "
       "EUR 20,000 per relocation, above the allowed 10,000,000"),
      ("pledges.csv", 3, "min", "EUR 300,000,000,000 is 15,000,000 relocation-equivalents at "
       "EUR 20,000 per relocation, above the allowed 10,000,000")]),
    ("preference of 1e20", {"pledges": with_cells(PLEDGES, "pledge_id", "FR-1",
                                                  preference="100000000000000000000")},
     [("pledges.csv", 3, "preference", "must be at most 1000, got 1e+20")]),
    ("preference of 1001", {"pledges": with_cells(PLEDGES, "pledge_id", "FR-1",
                                                  preference=1001)},
     [("pledges.csv", 3, "preference", "must be at most 1000, got 1001")]),
    ("case size of 5000", {"pledges": with_cells(PLEDGES, "pledge_id", "DE-1",
                                                 max_case_size=5000)},
     [("pledges.csv", 2, "max_case_size", "must be at most 1000, got 5000")]),
    ("need of 1e8 persons", {"needs": [{"state": "IT", "measure": "relocation",
                                        "amount": 100_000_000}]},
     [("needs.csv", 2, "amount", "must be at most 10,000,000 persons for relocation, got 1e+08")]),
    ("key weight naming name", {"extra_toml": KEY.format("name")},
     [("instance.toml", EXTRA + 1, "key.weights", f"'name' {RESERVED}")]),
    ("key weight naming share", {"extra_toml": KEY.format("share")},
     [("instance.toml", EXTRA + 1, "key.weights", f"'share' {RESERVED}")]),
    ("key weight naming code", {"extra_toml": KEY.format("code")},
     [("instance.toml", EXTRA + 1, "key.weights", f"'code' {RESERVED}")]),
    ("nan, inf and 1e300 in a custom key column",
     {"states": [dict(s, area=v) for s, v in zip(STATES, ("nan", "-inf", "1e300"), strict=True)],
      "extra_toml": KEY.format("area")},
     [("member_states.csv", 2, "area", "must be a finite number, got 'nan'"),
      ("member_states.csv", 3, "area", "must be a finite number, got '-inf'"),
      ("member_states.csv", 4, "area", "must be at most 1e+15, got 1e+300")]),
    ("pool of 20 million relocations", {"extra_toml": "", "relocations": 20_000_000},
     [("instance.toml", 5, "pool.relocations", "must be at most 10,000,000, got 20000000")]),
    ("EUR 0.5 per relocation", {"extra_toml": "eur_per_relocation = 0.5\n"},
     [("instance.toml", EXTRA, "pool.eur_per_relocation", "must be at least 1, got 0.5")]),
    ("derived rate of EUR 10 million per relocation",
     {"relocations": 100, "financial": 1_000_000_000},
     [("instance.toml", 4, "pool", "financial_eur / relocations gives EUR 1e+07 per "
       "relocation, outside the allowed 1 to 100,000: set pool.eur_per_relocation")]),
    ("cycle 9999", {"cycle": 9999},
     [("instance.toml", 2, "cycle", "must be at most 2100, got 9999")]),
]


def build(make_instance, states=None, pledges=None, needs=None, extra_toml: str = "",
          relocations: int = 100, financial: float = 2_000_000, cycle: int | None = None
          ) -> Path:
    folder = make_instance(STATES if states is None else states,
                           PLEDGES if pledges is None else pledges,
                           NEEDS if needs is None else needs, extra_toml=extra_toml,
                           relocations=relocations, financial=financial)
    if cycle is not None:
        toml = folder / "instance.toml"
        toml.write_text(toml.read_text().replace("cycle = 2026", f"cycle = {cycle}"))
    return folder


@pytest.mark.parametrize(("kwargs", "expected"), [pytest.param(k, e, id=i) for i, k, e in CASES])
def test_out_of_range_is_reported_with_the_range(make_instance, kwargs, expected) -> None:
    folder = build(make_instance, **kwargs)
    with pytest.raises(InputError) as caught:
        load_instance(folder)
    assert [str(p) for p in caught.value.problems] == [
        f"{folder / name}:{line}: {column}: {message}"
        for name, line, column, message in expected]


def candidates_with(folder: Path, dates: list[str]) -> None:
    write_csv(folder / "candidates.csv", [
        {"person_id": f"P{n}", "case_id": f"C{n}", "location": "IT", "registered": d}
        for n, d in enumerate(dates)])


def test_registration_dates_out_of_range_are_problems(make_instance) -> None:
    """A `registered` date of 9999-12-31 overflowed the waiting time's reference day (exit 1,
    a traceback); dates before 1900 or after the year after the cycle are refused."""
    folder = build(make_instance)
    candidates_with(folder, ["9999-12-31", "2027-12-31", "2028-01-01", "1899-12-31",
                             "1900-01-01", "0001-01-01"])
    done = subprocess.run([str(PLANNER), "run", str(folder), "--out", str(folder.parent / "o"),
                           "-q"], capture_output=True, text=True, timeout=HANG_S, check=False)
    at = f"{folder / 'candidates.csv'}"
    after = "registered: a date after 2027-12-31 (the end of the year after the cycle): not a " \
            "registration date"
    before = "registered: a date before 1900-01-01: not a registration date"
    assert (done.returncode, done.stderr.splitlines()) == (2, [
        f"{at}:2: {after}", f"{at}:4: {after}", f"{at}:5: {before}", f"{at}:7: {before}"])


def edge_instance(make_instance, rate: int, beyond: float = 1) -> Path:
    """Every magnitude at its allowed edge: a pool of 10 million relocations at `rate`, EUR
    pledges and needs worth 10 million relocations, populations of 1e10 and of 1, GDP from
    EUR 1 to EUR 1e15, preferences of 1000, a cent pledged, and EE's needs 1/10,000 of DD's
    (the largest spread allowed). `beyond` > 1 multiplies the EUR amounts past their edge."""
    eur = 10_000_000 * rate * beyond
    states = [state("AA", 1e10, 1e9), state("BB", 1, 1e-6), state("CC", 5e9, 3e8),
              state("DD", 1e9, 1e8, benefitting="true"), state("EE", 1, 1, benefitting="true")]
    pledges = [pledge("a1", "AA", "financial", eur, eur, preference=1000),
               pledge("a2", "AA", "relocation", 0, 10_000_000, preference=1),
               pledge("b1", "BB", "financial", 0.01, eur, preference=1000),
               pledge("c1", "CC", "offset", 0, 10_000_000, preference=1000),
               pledge("c2", "CC", "alternative", 0, eur, preference=1),
               pledge("c3", "CC", "relocation", 1, 1, preference=1, beneficiary="EE")]
    needs = [{"state": "DD", "measure": "relocation", "amount": 10_000_000},
             {"state": "DD", "measure": "financial", "amount": eur},
             {"state": "EE", "measure": "relocation", "amount": 1_000 * beyond},
             {"state": "EE", "measure": "financial", "amount": eur / 10_000}]
    return make_instance(states, pledges, needs, relocations=10_000_000, financial=eur,
                         extra_toml=f"eur_per_relocation = {rate}\n",
                         name=f"edge{rate}-{beyond}")


@pytest.mark.parametrize("rate", [1, 100_000])
@pytest.mark.parametrize("backend", ["highs", "cbc"])
def test_the_edges_of_the_allowed_ranges_plan_on_both_back_ends(make_instance, tmp_path: Path,
                                                                rate: int, backend: str
                                                                ) -> None:
    """Planned and verified (run() verifies) by each back-end alone. One step beyond (EUR
    amounts ten times larger: at EUR 1 per relocation, a stage of the distribution failed with
    EUR 1e12 pledged) is an input problem naming the bound."""
    with pytest.raises(InputError) as caught:
        load_instance(edge_instance(make_instance, rate, beyond=10))
    bound = "above the allowed 10,000,000" if rate == 1 else "must be at most 1,000,000,000,000"
    found = caught.value.problems
    assert all(bound in p.message for p in found)
    assert {(Path(p.file).name, p.line, p.column) for p in found} >= {
        ("pledges.csv", 2, "min"), ("pledges.csv", 2, "max"), ("pledges.csv", 4, "max"),
        ("pledges.csv", 6, "max"), ("needs.csv", 3, "amount")}
    folder = edge_instance(make_instance, rate)
    run(folder, tmp_path / "out", SolverOptions(name=backend, fallback=False))
    plan = (tmp_path / "out" / "plan.csv").read_text().splitlines()
    eur = f"{10_000_000 * rate}"
    assert f"a1,AA,financial,{eur},10000000,{eur},{eur},1000," in plan
