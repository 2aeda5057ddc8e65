"""A benefitting state's own pledges (rules section 4 [law]): accepted and reported, not
implemented, unless `[benefitting] implement_pledges = true` [interp]; and the verifier's checks
of both modes.

The hand instance (100 relocations or EUR 2,000,000: EUR 20,000 each): AA (population 2 m,
GDP 20,000) contributes, IT and EL (1 m, 10,000 each) benefit. Shares over all three
participants: AA 0.5, IT 0.25, EL 0.25; AA's obligation 0.5 x 100 = 50. AA pledges
relocations 0..50 (a1). IT pledges relocations 5..10 (it2, preference 1) and money up to
EUR 600,000 = 30 relocation-equivalents (it1, preference 2). No needs: each benefitting state
weighs 1 per measure.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from conftest import MakeInstance, csv_rows, pledge, save_rows, state
from test_verify_corruptions import cell

from planner.errors import InputError
from planner.inputs.load import load_instance
from planner.optimise.solve import SolverOptions
from planner.pipeline import run
from planner.verifier.verify import verify

pytestmark = pytest.mark.solver

STATES = [state("AA", 2_000_000, 20_000), state("IT", benefitting="true", status="pressure"),
          state("EL", benefitting="true", status="pressure")]
PLEDGES = [pledge("a1", "AA", "relocation", 0, 50),
           pledge("it1", "IT", "financial", 0, 600_000, preference=2),
           pledge("it2", "IT", "relocation", 5, 10, preference=1)]
IMPLEMENT = "[benefitting]\nimplement_pledges = true\n"


def table(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def details(folder: Path) -> list[tuple[str, str, str]]:
    data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return [(w["code"], w["subject"], w["text"]) for w in data["warning_details"]]


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Both modes planned once: {mode: (instance folder, results folder)}."""
    from conftest import BASE_TOML, STATE_COLUMNS, write_csv

    found = {}
    root = tmp_path_factory.mktemp("benefitting")
    for mode, extra in (("default", ""), ("implement", IMPLEMENT)):
        folder = root / mode
        folder.mkdir()
        (folder / "instance.toml").write_text(BASE_TOML.format(
            relocations=100, financial=2_000_000, rounding="ceil", extra=extra))
        write_csv(folder / "member_states.csv", STATES, STATE_COLUMNS)
        write_csv(folder / "pledges.csv", PLEDGES,
                  ["pledge_id", "state", "measure", "min", "max", "preference"])
        run(folder, root / f"{mode}-out", SolverOptions())
        found[mode] = (folder, root / f"{mode}-out")
    return found


def test_by_default_a_benefitting_states_pledge_is_accepted_and_not_implemented(planned):
    _, out = planned["default"]
    plan = {r["pledge_id"]: r["amount"] for r in table(out, "plan.csv")}
    # IT's rows are read and listed with amount 0 (even it2's minimum of 5); AA gives its 50.
    assert plan == {"a1": "50", "it1": "0", "it2": "0"}
    allocation = {r["state"]: r for r in table(out, "allocation.csv")}
    assert (allocation["IT"]["role"], allocation["IT"]["value"],
            allocation["IT"]["obligation"]) == ("benefitting", "0", "0")
    assert {r["pledge_id"] for r in table(out, "distribution.csv")} == {"a1"}
    assert details(out) == [(
        "benefitting_pledge", "IT",
        "IT pledged it1, it2 (financial up to EUR 600,000; relocation up to 10): accepted, "
        "not implemented: benefitting this cycle (rules section 4; "
        "benefitting.implement_pledges = true counts them)")]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    # Art. 63's pledged relocations: AA's 50 only (IT's are not implemented).
    assert summary["offsets"]["pledged_relocations"] == 50
    assert "benefitting_value" not in summary["objectives"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "IT pledged it1, it2" in page and "accepted, not implemented" in page


def test_implemented_pledges_count_against_the_fair_share_and_never_go_home(planned):
    _, out = planned["implement"]
    plan = {r["pledge_id"]: r["amount"] for r in table(out, "plan.csv")}
    # IT's fair share 0.25 x 100 = 25 caps its value; its rows could give 10 + 30 = 40.
    # Preference: relocations first (10, its max), money for the other 15 = EUR 300,000.
    assert plan == {"a1": "50", "it1": "300000", "it2": "10"}
    allocation = {r["state"]: r for r in table(out, "allocation.csv")}
    # No obligation: value 25 is a positive balance, never a shortfall.
    assert (allocation["IT"]["value"], allocation["IT"]["obligation"],
            allocation["IT"]["balance"], allocation["IT"]["shortfall"]) == ("25", "0", "25", "0")
    flows = {(r["pledge_id"], r["beneficiary"]): r["amount"]
             for r in table(out, "distribution.csv")}
    # IT's rows go to EL only. Relocations: 60 persons, equal weights: 30 each, so AA's 50
    # give IT 30 and EL 20, and it2's 10 make EL's 30. Money: EL alone.
    assert flows == {("a1", "IT"): "30", ("a1", "EL"): "20", ("it2", "EL"): "10",
                     ("it1", "EL"): "300000"}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["objectives"]["benefitting_value"] == 25
    # Art. 63: IT counts as a state without obligation, its fixed minimum: 50 + 5.
    assert summary["offsets"]["pledged_relocations"] == 55
    # Not a surplus warning: the benefitting warning says what was planned.
    assert details(out) == [(
        "benefitting_pledge", "IT",
        "IT pledged it1, it2 (financial up to EUR 600,000; relocation up to 10): implemented "
        "(benefitting.implement_pledges = true), planned value 25 relocation-equivalents, "
        "counted against its fair share, not an obligation; never sent to IT itself (rules "
        "section 4)")]


def test_a_pledge_below_the_fair_share_is_taken_whole(make_instance: MakeInstance, tmp_path):
    """IT's fair share 25 against a pledge worth at most 10 + 2 = 12: every row full."""
    folder = make_instance(STATES, [PLEDGES[0], pledge("it1", "IT", "financial", 0, 40_000),
                                    pledge("it2", "IT", "relocation", 0, 10)],
                           extra_toml=IMPLEMENT)
    result = run(folder, tmp_path / "out", SolverOptions())
    assert {r.pledge_id: r.amount for r in result.tables.plan} == {
        "a1": 50, "it1": 40_000, "it2": 10}


@pytest.mark.parametrize(("extra", "rows_", "expected"), [
    ("", [pledge("it1", "IT", "financial", 0, 10, beneficiary="IT")],
     ("pledges.csv", 3, "beneficiary", "IT cannot receive its own pledge (a benefitting "
      "state's pledge goes to the others)")),
    (IMPLEMENT, [pledge("it1", "IT", "financial", 0, 10)],
     ("pledges.csv", 3, "state", "IT is the only benefitting state: its pledge could go to no "
      "other benefitting state")),
])
def test_invalid_benefitting_pledges(make_instance: MakeInstance, extra, rows_, expected):
    states = STATES[:2]  # AA and IT only
    folder = make_instance(states, [PLEDGES[0], *rows_], extra_toml=extra)
    with pytest.raises(InputError) as caught:
        load_instance(folder)
    assert [(Path(p.file).name, p.line, p.column, p.message)
            for p in caught.value.problems] == [expected]


def test_the_only_benefitting_states_pledge_is_fine_when_not_implemented(
        make_instance: MakeInstance, tmp_path):
    folder = make_instance(STATES[:2], [PLEDGES[0], pledge("it1", "IT", "financial", 0, 10)])
    result = run(folder, tmp_path / "out", SolverOptions())
    assert {r.pledge_id: r.amount for r in result.tables.plan} == {"a1": 50, "it1": 0}


# --- the verifier ------------------------------------------------------------------------


def corrupt(planned, mode: str, tmp_path: Path, *edits) -> list[str]:
    folder, out = planned[mode]
    target = tmp_path / "out"
    shutil.copytree(out, target)
    for edit in edits:
        edit(target)
    return [str(p) for p in verify(target, load_instance(folder))]


def test_the_verifier_passes_both_modes(planned):
    for folder, out in planned.values():
        assert verify(out, load_instance(folder)) == []


def test_the_verifier_rejects_an_implemented_pledge_by_default(planned, tmp_path):
    found = corrupt(planned, "default", tmp_path, cell("plan.csv", "it2", "amount", "5"),
                    cell("plan.csv", "it2", "value", "5"),
                    cell("allocation.csv", "IT", "relocation", "5"),
                    cell("allocation.csv", "IT", "value", "5"),
                    cell("allocation.csv", "IT", "balance", "5"))
    assert "plan.csv:4: amount: 5, but IT is benefitting: its pledge is accepted, not " \
           "implemented (rules section 4; benefitting.implement_pledges = false): 0" in found
    assert "allocation.csv:4: value: 5, but IT's pledge is not implemented (rules section " \
           "4): 0" in found


def test_the_verifier_rejects_a_pledge_sent_to_its_own_state(planned, tmp_path):
    def home(out: Path) -> None:
        data = csv_rows(out / "distribution.csv")
        for row in data:
            if row[4] == "it2":
                row[1] = "IT"
        save_rows(out / "distribution.csv", data)
    found = corrupt(planned, "implement", tmp_path, home)
    assert any(f.endswith("beneficiary: IT is not a beneficiary this pledge may serve")
               for f in found)


def test_the_verifier_rejects_a_counted_pledge_left_below_its_fair_share(planned, tmp_path):
    # it1 EUR 100,000 less: value 20 < 25 with it1's room left.
    found = corrupt(planned, "implement", tmp_path,
                    cell("plan.csv", "it1", "amount", "200000"),
                    cell("plan.csv", "it1", "value", "10"),
                    cell("allocation.csv", "IT", "financial_eur", "200000"),
                    cell("allocation.csv", "IT", "value", "20"),
                    cell("allocation.csv", "IT", "balance", "20"))
    assert "allocation.csv:4: value: 20, below IT's fair share 25 although pledge it1 has " \
           "room left (benefitting.implement_pledges)" in found


def test_the_verifier_rejects_a_counted_pledge_above_its_fair_share(planned, tmp_path):
    found = corrupt(planned, "implement", tmp_path,
                    cell("plan.csv", "it1", "amount", "400000"),
                    cell("plan.csv", "it1", "value", "20"),
                    cell("allocation.csv", "IT", "financial_eur", "400000"),
                    cell("allocation.csv", "IT", "value", "30"),
                    cell("allocation.csv", "IT", "balance", "30"))
    assert "allocation.csv:4: value: 30 exceeds IT's fair share 25 beyond its own minimums " \
           "(rules section 4)" in found


def test_the_verifier_wants_the_benefitting_warning(planned, tmp_path):
    def drop(out: Path) -> None:
        data = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        data["warnings"], data["warning_details"] = [], []
        (out / "summary.json").write_text(json.dumps(data), encoding="utf-8")
    for mode in ("default", "implement"):
        found = corrupt(planned, mode, tmp_path / mode, drop)
        assert found == ["summary.json:0: warnings: no warning that IT, benefitting, pledged "
                         "(rules section 4)"]
