"""Art. 63 as rules.md section 5 reads it, and the Commission's proposal as an input of its own
(issue 14, items 1 and 2), on hand-made instances with hand-computed answers. Every plan goes
through the verifier (planner.pipeline.run verifies before publishing).

Shares (population 2:1:1:1, GDP 2:1:1:1): AA 0.4, BB 0.2, CC 0.2, DD 0.2 (benefitting). Pool
100 relocations or EUR 2,000,000 (EUR 20,000 each): obligations AA 40, BB 20, CC 20. With a
second benefitting state EE (`TWO`): AA 1/3, the others 1/6, obligations 34, 17, 17 (ceil).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import MakeInstance, pledge, state, write_csv

from planner.errors import InputError
from planner.inputs.load import load_instance
from planner.optimise.solve import SolverOptions
from planner.pipeline import RunResult, run
from planner.report.terminal import terminal_text
from planner.verifier.verify import verify

pytestmark = pytest.mark.solver

STATES = [state("AA", 2_000_000, 20_000), state("BB"), state("CC"),
          state("DD", benefitting="true", status="pressure")]
TWO = [*STATES, state("EE", benefitting="true", status="pressure")]


def plan(folder: Path) -> RunResult:
    return run(folder, folder.parent / "out", SolverOptions())


def offsets(result: RunResult) -> dict[str, object]:
    return json.loads((result.out / "summary.json").read_text(encoding="utf-8"))["offsets"]


def amounts(result: RunResult) -> dict[str, float]:
    return {row.pledge_id: row.amount for row in result.tables.plan}


def flows(result: RunResult) -> dict[tuple[str, str], float]:
    return {(row.pledge_id, row.beneficiary): row.amount for row in result.tables.distribution}


def responsibility(folder: Path, rows: list[tuple[str, str, object]]) -> None:
    write_csv(folder / "responsibility.csv",
              [{"state": s, "benefitting": b, "persons": n} for s, b, n in rows],
              ["state", "benefitting", "persons"])


# --- the proposal (Arts 12, 57) --------------------------------------------------------------

def test_voluntary_threshold_reached_only_against_the_proposal(make_instance: MakeInstance
                                                               ) -> None:
    """The Council adopted more than the Commission proposed (100 against 80). AA pledges its
    40 relocations: 40 < 0.5 x 100 = 50 (the old reading, against the Council's number: no
    voluntary offsets) but 40 >= 0.5 x 80 = 40 against the proposal (63(1)): allowed, so CC's
    offsets, enforced, may be taken (20, its obligation); under the old reading they were held
    at their minimum 0 and CC fell short by 20."""
    folder = make_instance(STATES, [pledge("a", "AA", "relocation", 0, 40),
                                    pledge("c", "CC", "offset", 0, 30)],
                           extra_toml="[proposal]\nrelocations = 80\nfinancial_eur = 1600000\n"
                                      "[offsets]\nenforce_voluntary = true\n")
    result = plan(folder)
    off = offsets(result)
    assert (off["proposal_relocations"], off["voluntary_threshold"]) == (80, 40.0)
    assert off["voluntary_allowed"] is True
    assert off["voluntary_allowed_states"] == ["AA", "BB", "CC"]
    assert amounts(result) == {"a": 40, "c": 20}
    # 63(3): (a) 0.6 x 0 needs = 0, (b) 1.0 x 80 = 80 binds; gap 80 - 40 = 40, closed by CC's
    # 20 voluntary offsets down to 20; AA's cap is 40 - 40 = 0, so BB owes the 20 (its fair
    # share), but BB pledged no offset row: owed, not planned.
    assert (off["mandatory_threshold_needs"], off["mandatory_threshold_proposal"]) == (0, 80)
    assert (off["mandatory_binding"], off["gap"], off["voluntary"]) == ("proposal", 40,
                                                                        {"CC": 20})
    assert (off["remaining_gap"], off["mandatory_owed"], off["unallocated"]) == (
        20, {"BB": 20}, 0)
    assert (off["mandatory"], off["mandatory_unplanned"]) == ({}, {"BB": 20})


def test_voluntary_threshold_not_reached_against_a_larger_proposal(make_instance: MakeInstance
                                                                  ) -> None:
    """2026's shape: the proposal (150) above the pool (100). Pledged relocations 40 + 20 = 60
    reach 0.5 x 100 = 50 but not 0.5 x 150 = 75: no voluntary offsets pool-wide (63(1)); AA
    and BB still may by 63(2)(b) (they pledged their whole obligations as relocations)."""
    folder = make_instance(STATES, [pledge("a", "AA", "relocation", 0, 40),
                                    pledge("b", "BB", "relocation", 0, 20)],
                           extra_toml="[proposal]\nrelocations = 150\n")
    off = offsets(plan(folder))
    assert (off["voluntary_threshold"], off["voluntary_allowed"]) == (75.0, False)
    assert off["voluntary_allowed_states"] == ["AA", "BB"]


def test_proposal_is_reported_beside_the_pool_with_the_floors(make_instance: MakeInstance
                                                              ) -> None:
    """Art. 12(2): a proposal below 30,000 relocations or EUR 600 million is warned about; the
    Council's pool below them is information, neither a warning nor an error."""
    folder = make_instance(STATES, [pledge("a", "AA", "relocation", 0, 40)],
                           extra_toml="[proposal]\nrelocations = 150\n")
    result = plan(folder)
    written = json.loads((result.out / "summary.json").read_text(encoding="utf-8"))
    proposal = written["proposal"]
    # financial_eur not given: the pool's EUR 2,000,000.
    assert (proposal["relocations"], proposal["financial_eur"], proposal["given"]) == (
        150, 2_000_000, ["relocations"])
    assert (proposal["pool_relocations"], proposal["pool_financial_eur"]) == (100, 2_000_000)
    assert (proposal["proposal_below_floor"], proposal["pool_below_floor"]) == (True, True)
    assert [w["code"] for w in written["warning_details"]] == ["proposal_below_floor"]
    assert written["warnings"] == ["proposal: the Commission's proposal of 150 relocations (floor "
                                   "30,000) and EUR 2,000,000 (floor EUR 600,000,000) is below "
                                   "the Art. 12(2) floors"]
    assert len(proposal["information"]) == 1
    assert proposal["information"][0].startswith("the Council's pool (100 relocations, EUR "
                                                 "2,000,000) is below the Art. 12(2) floors")
    text = " ".join(terminal_text(result.tables, result.summary, "out", False,
                                  "utf-8").split())
    assert "proposal (Commission, Art. 12): 150 relocations or EUR 2.00 million; Council's " \
           "pool (Art. 57): 100 relocations or EUR 2.00 million" in text
    assert "information: the Council's pool (100 relocations" in text
    page = (result.out / "report.html").read_text(encoding="utf-8")
    assert "<h3>Information</h3>" in page and "Commission proposal (Art. 12)" in page


def test_proposal_at_the_floors_is_not_warned(make_instance: MakeInstance) -> None:
    folder = make_instance(STATES, [pledge("a", "AA", "financial", 0, "")],
                           relocations=30_000, financial=600_000_000,
                           extra_toml="[proposal]\nrelocations = 30000\n"
                                      "financial_eur = 600000000\n")
    written = json.loads((plan(folder).out / "summary.json").read_text(encoding="utf-8"))
    assert written["warnings"] == [] and written["proposal"]["information"] == []


def test_the_old_pool_basis_is_refused_naming_the_replacement(make_instance: MakeInstance
                                                              ) -> None:
    folder = make_instance(STATES, [], extra_toml='[offsets]\nmandatory_basis = "pool"\n')
    with pytest.raises(InputError) as caught:
        load_instance(folder)
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (9, "offsets.mandatory_basis")
    assert 'use "proposal"' in problem.message and '"higher"' in problem.message


# --- the mandatory trigger, 63(3): the higher of two numbers -----------------------------------

def test_mandatory_trigger_where_the_needs_bind(make_instance: MakeInstance) -> None:
    """(a) 0.6 x 200 relocation needs = 120 > (b) 1.0 x 100 = 100: the needs bind. Pledged
    relocations 10: gap 110 (the old reading, 0.6 x the pool: 50). Offsets are enforced and
    neither BB nor CC pledged relocations (63(2)(b)) nor did the pool reach 0.5 x 100, so
    their offsets are not voluntary: the gap is spread by key (AA 44, BB 22, CC 22 before the
    caps), each capped at its fair share minus its relocations: AA 30, BB 20, CC 20, 70 owed,
    40 left unallocated. AA offers no offsets: its 30 are owed, not planned."""
    folder = make_instance(STATES, [
        pledge("a", "AA", "relocation", 0, 10),
        pledge("b", "BB", "offset", 0, 30, preference=2),
        pledge("b2", "BB", "financial", 0, 1_000_000),
        pledge("c", "CC", "offset", 0, "")],
        needs=[{"state": "DD", "measure": "relocation", "amount": 200}],
        extra_toml="[offsets]\nenforce_voluntary = true\n")
    result = plan(folder)
    off = offsets(result)
    assert (off["relocation_needs"], off["mandatory_threshold_needs"],
            off["mandatory_threshold_proposal"]) == (200, 120, 100)
    assert (off["mandatory_binding"], off["mandatory_threshold"], off["gap"]) == (
        "needs", 120, 110)
    assert (off["voluntary"], off["mandatory_owed"], off["unallocated"]) == (
        {}, {"AA": 30, "BB": 20, "CC": 20}, 40)
    assert (off["mandatory"], off["mandatory_unplanned"]) == ({"BB": 20, "CC": 20}, {"AA": 30})
    assert amounts(result)["b2"] == 0  # BB ranks money first, but its offsets are mandatory


def proposal_binds(make_instance: MakeInstance) -> Path:
    """(a) 0.6 x 50 needs = 30 < (b) 0.5 x the proposal's 128 = 64; AA pledges 45
    relocations, BB offsets without limit, CC at most 5."""
    return make_instance(STATES, [
        pledge("a", "AA", "relocation", 0, 45),
        pledge("b", "BB", "offset", 0, ""),
        pledge("c", "CC", "offset", 0, 5)],
        needs=[{"state": "DD", "measure": "relocation", "amount": 50}],
        extra_toml="[proposal]\nrelocations = 128\n"
                   "[offsets]\nenforce_voluntary = true\nmandatory_proposal_share = 0.5\n")


def test_mandatory_trigger_where_the_proposal_binds(make_instance: MakeInstance) -> None:
    """(a) 0.6 x 50 needs = 30 < (b) 0.5 x 128 = 64: the proposal binds. Pledged relocations
    40 (AA's 45, capped at its obligation, so AA's cap is 0): gap 24, by key 12 to BB and 12
    to CC (the old reading, 0.6 x the pool's 100 = 60: gap 20). CC's row offers 5: 5 planned,
    7 owed and not planned; CC's missing offsets are not passed on to BB."""
    folder = proposal_binds(make_instance)
    off = offsets(plan(folder))
    assert (off["mandatory_threshold_needs"], off["mandatory_threshold_proposal"]) == (30, 64)
    assert (off["mandatory_binding"], off["gap"]) == ("proposal", 24)
    assert (off["mandatory_owed"], off["unallocated"]) == ({"BB": 12, "CC": 12}, 0)
    assert (off["mandatory"], off["mandatory_unplanned"]) == ({"BB": 12, "CC": 5}, {"CC": 7})


def test_one_number_alone_by_mandatory_basis(make_instance: MakeInstance) -> None:
    """mandatory_basis = "needs": (a) alone, 0.6 x 50 = 30 although (b) is 100."""
    folder = make_instance(STATES, [pledge("a", "AA", "relocation", 0, 10)],
                           needs=[{"state": "DD", "measure": "relocation", "amount": 50}],
                           extra_toml='[offsets]\nmandatory_basis = "needs"\n')
    off = offsets(plan(folder))
    assert (off["mandatory_threshold"], off["mandatory_binding"], off["gap"]) == (30, "needs",
                                                                                 20)


def test_mandatory_offsets_capped_by_responsibility(make_instance: MakeInstance) -> None:
    """As where the proposal binds (gap 24), with responsibility.csv: 10 persons DD is
    responsible for are on BB's territory, so BB's part is at most 10 (its fair share 20 and
    unbounded offer aside) and CC owes the other 14 (within its fair share 20 and its 50
    persons); CC's row offers 5 of them (9 owed, not planned). Every offset counts toward DD,
    the state of the pairs."""
    folder = proposal_binds(make_instance)
    responsibility(folder, [("BB", "DD", 10), ("CC", "DD", 50)])
    result = plan(folder)
    off = offsets(result)
    # Caps: BB min(20, 10 persons) = 10, CC min(20, 50) = 20; by key 12 and 12, BB capped at
    # 10, so CC 14.
    assert (off["mandatory_owed"], off["caps"], off["unallocated"]) == (
        {"BB": 10, "CC": 14}, {"BB": 10, "CC": 20}, 0)
    assert (off["mandatory"], off["mandatory_unplanned"]) == ({"BB": 10, "CC": 5}, {"CC": 9})
    # BB's offsets stop at its 10 persons (else the preference-free tie-break takes more).
    assert amounts(result)["b"] == 10
    assert flows(result)[("b", "DD")] == 10 and flows(result)[("c", "DD")] == 5


def test_offsets_count_toward_the_benefitting_state_of_responsibility(
        make_instance: MakeInstance) -> None:
    """BB's 10 offsets (fixed) with DD stating an offset need of 100 and EE of 1: the old
    balance sent nearly all to DD; responsibility.csv places 3 persons of DD and 7 of EE on
    BB's territory, so DD 3 and EE 7, whatever the needs."""
    folder = make_instance(TWO, [pledge("b", "BB", "offset", 10, 10)],
                           needs=[{"state": "DD", "measure": "offset", "amount": 100},
                                  {"state": "EE", "measure": "offset", "amount": 1}])
    responsibility(folder, [("BB", "DD", 3), ("BB", "EE", 7)])
    result = plan(folder)
    assert flows(result) == {("b", "DD"): 3, ("b", "EE"): 7}
    assert offsets(result)["unassigned_to_benefitting"] == {}


def test_without_responsibility_offsets_are_assigned_to_no_one(make_instance: MakeInstance
                                                               ) -> None:
    """No responsibility.csv: BB's 10 offsets go to no benefitting state (an empty beneficiary),
    are counted as such, and DD's stated offset need is left out of the coverage (nothing can
    cover it); the relocation need stays."""
    folder = make_instance(STATES, [pledge("b", "BB", "offset", 10, 10),
                                    pledge("a", "AA", "relocation", 5, 5)],
                           needs=[{"state": "DD", "measure": "offset", "amount": 10},
                                  {"state": "DD", "measure": "relocation", "amount": 10}])
    result = plan(folder)
    assert flows(result) == {("a", "DD"): 5, ("b", ""): 10}
    assert [(r.beneficiary, r.measure.value) for r in result.tables.coverage] == [
        ("DD", "relocation")]
    assert offsets(result)["unassigned_to_benefitting"] == {"BB": 10}
    lines = (result.out / "distribution.csv").read_text(encoding="utf-8").splitlines()
    assert "BB,,offset,10,b,10" in lines
    text = " ".join(terminal_text(result.tables, result.summary, "out", False,
                                  "utf-8").split())
    assert "information: offsets not assigned to a benefitting state (no responsibility.csv): " \
           "BB 10; offset needs are left out of the coverage" in text


def test_voluntary_offsets_are_not_relabelled_mandatory(make_instance: MakeInstance) -> None:
    """BB pledges 10 relocations (half of its 20: 63(2)(b)) and 10 offsets: voluntary. CC
    pledges offsets only: not allowed (enforced). Pledged relocations 10 < (b) 100: gap 90;
    BB's 10 voluntary offsets count first (80 left), then the others' parts by key (AA 0.4,
    CC 0.2: 53.3 and 26.7), each capped at its fair share (AA 40, CC 20): 60 owed, 20 left
    unallocated; AA pledged no offset row, so its 40 are owed, not planned. The old reading
    labelled BB's 10 mandatory (gap 50 spread BB 10, CC 20)."""
    folder = make_instance(STATES, [pledge("b", "BB", "relocation", 10, 10),
                                    pledge("b2", "BB", "offset", 10, 10),
                                    pledge("c", "CC", "offset", 0, "")],
                           extra_toml="[offsets]\nenforce_voluntary = true\n")
    result = plan(folder)
    off = offsets(result)
    assert (off["gap"], off["voluntary_states"], off["voluntary"]) == (90, ["BB"], {"BB": 10})
    assert (off["remaining_gap"], off["mandatory_owed"], off["unallocated"]) == (
        80, {"AA": 40, "CC": 20}, 20)
    assert (off["mandatory"], off["mandatory_unplanned"]) == ({"CC": 20}, {"AA": 40})
    mandatory = {r.state: r.mandatory_offset for r in result.tables.allocation}
    assert (mandatory["BB"], mandatory["CC"]) == (0, 20)


def test_a_refusing_benefitting_state_receives_no_voluntary_offsets(
        make_instance: MakeInstance) -> None:
    """offsets.refused_by = ["DD"]: BB's voluntary offsets (not enforced) count toward EE only,
    so at most its 4 persons of EE (6 of DD are on its territory too); BB pays the rest of
    its obligation of 17: 13 x EUR 20,000 = EUR 260,000."""
    folder = make_instance(TWO, [pledge("b", "BB", "offset", 0, 20),
                                 pledge("b2", "BB", "financial", 0, 1_000_000, preference=2)],
                           extra_toml='[offsets]\nrefused_by = ["DD"]\n')
    responsibility(folder, [("BB", "DD", 6), ("BB", "EE", 4)])
    result = plan(folder)
    assert offsets(result)["voluntary"] == {"BB": 4}
    assert amounts(result) == {"b": 4, "b2": 260_000}
    assert flows(result)[("b", "EE")] == 4 and ("b", "DD") not in flows(result)


# --- responsibility.csv's validation ------------------------------------------------------------

def test_responsibility_rows_are_validated(make_instance: MakeInstance) -> None:
    folder = make_instance(STATES, [pledge("b", "BB", "offset", 0, 5)])
    responsibility(folder, [("BB", "DD", 3), ("XX", "DD", 1), ("BB", "CC", 1),
                            ("CC", "DD", -1), ("CC", "DD", 2.5), ("BB", "DD", 4),
                            ("AA", "DD", 2e7)])
    with pytest.raises(InputError) as caught:
        load_instance(folder)
    name = f"{folder}/responsibility.csv"
    assert [str(p) for p in caught.value.problems] == [
        f"{name}:3: state: unknown state XX",
        f"{name}:4: benefitting: CC is not benefitting",
        f"{name}:5: persons: must be at least 0, got -1",
        f"{name}:6: persons: persons are whole, got 2.5",
        f"{name}:7: benefitting: duplicate pair BB, DD (first on line 2)",
        f"{name}:8: persons: must be at most 10,000,000 persons, got 2e+07",
    ]


def test_offset_minimums_beyond_the_persons_are_an_input_error(make_instance: MakeInstance
                                                               ) -> None:
    folder = make_instance(STATES, [pledge("b", "BB", "offset", 5, 5)])
    responsibility(folder, [("BB", "DD", 3)])
    with pytest.raises(InputError) as caught:
        load_instance(folder)
    assert [str(p) for p in caught.value.problems] == [
        f"{folder}/pledges.csv:2: min: BB's offset rows commit 5 offsets, but "
        "responsibility.csv places only 3 persons of benefitting states they may serve on "
        "BB's territory (Art. 63)"]


# --- the verifier ------------------------------------------------------------------------------

def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _summary(path: Path, section: str, key: str, value: object) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data[section][key] = value
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture(scope="module")
def relabel_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The relabelling instance with a second benefitting state EE, a proposal of 150 and
    responsibility.csv (BB: 10 persons of DD, 5 of EE; CC: 30 of DD). Shares AA 2/6, the
    others 1/6: obligations AA 34, BB 17, CC 17."""
    from conftest import BASE_TOML, STATE_COLUMNS
    root = tmp_path_factory.mktemp("offsets-law")
    folder = root / "inst"
    folder.mkdir()
    (folder / "instance.toml").write_text(BASE_TOML.format(
        relocations=100, financial=2_000_000, rounding="ceil",
        extra="[proposal]\nrelocations = 150\n[offsets]\nenforce_voluntary = true\n"))
    write_csv(folder / "member_states.csv", TWO, STATE_COLUMNS)
    write_csv(folder / "pledges.csv", [pledge("b", "BB", "relocation", 10, 10),
                                       pledge("b2", "BB", "offset", 10, 10),
                                       pledge("c", "CC", "offset", 0, "")],
              ["pledge_id", "state", "measure", "min", "max"])
    responsibility(folder, [("BB", "DD", 10), ("BB", "EE", 5), ("CC", "DD", 30)])
    run(folder, root / "out", SolverOptions())
    return folder, root / "out"


@pytest.fixture
def corrupt(relabel_run: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    folder, out = relabel_run
    shutil.copytree(out, tmp_path / "out")
    return folder, tmp_path / "out"


def test_the_offsets_run_verifies(relabel_run: tuple[Path, Path]) -> None:
    folder, out = relabel_run
    assert verify(out, load_instance(folder)) == []
    written = json.loads((out / "summary.json").read_text(encoding="utf-8"))["offsets"]
    # (b) 1.0 x 150 = 150 binds; gap 150 - 10 = 140; BB's 10 offsets voluntary (its 10
    # relocations are half of its 17 or more: 63(2)(b)), counted whole (its own minimum);
    # CC's mandatory part 17 (its fair share, below its 30 persons); 140 - 10 - 17 = 113 left.
    assert (written["gap"], written["voluntary"], written["mandatory"],
            written["unallocated"]) == (140, {"BB": 10}, {"CC": 17}, 113)


CORRUPTIONS = {
    "voluntary relabelled mandatory": (
        lambda out: _summary(out / "summary.json", "offsets", "mandatory_owed",
                             {"BB": 10, "CC": 17}),
        "summary.json:0: offsets.mandatory_owed: BB: voluntary offsets relabelled as mandatory "
        "(rules section 5)"),
    "mandatory above the persons": (
        lambda out: _summary(out / "summary.json", "offsets", "mandatory_owed", {"CC": 31}),
        "summary.json:0: offsets.mandatory_owed: CC: 31 mandatory offsets, above the 30 "
        "persons responsibility.csv places on its territory"),
    "mandatory above the fair share": (
        lambda out: _summary(out / "summary.json", "offsets", "mandatory_owed", {"CC": 18}),
        "summary.json:0: offsets.mandatory_owed: CC: 18 mandatory offsets, above its fair "
        "share minus its pledged relocations (17)"),
    "planned below the owed part its rows hold": (
        lambda out: _summary(out / "summary.json", "offsets", "mandatory", {"CC": 16}),
        "summary.json:0: offsets.mandatory: {'CC': 16}, each state's owed part within what its "
        "offset rows hold gives {'CC': 17}"),
    "owed, not planned, invented": (
        lambda out: _summary(out / "summary.json", "offsets", "mandatory_unplanned",
                             {"AA": 3}),
        "summary.json:0: offsets.mandatory_unplanned: {'AA': 3}, owed - planned gives {}"),
    "threshold against the pool": (
        lambda out: _summary(out / "summary.json", "offsets", "voluntary_threshold", 50.0),
        "summary.json:0: offsets.voluntary_threshold: 50.0, the rules give 75"),
    "the other number binds": (
        lambda out: _summary(out / "summary.json", "offsets", "mandatory_binding", "needs"),
        "summary.json:0: offsets.mandatory_binding: 'needs', the rules give 'proposal'"),
    "offset beyond the pair's persons": (
        lambda out: (_edit(out / "distribution.csv", "BB,DD,offset,5,b2,5",
                           "BB,DD,offset,4,b2,4"),
                     _edit(out / "distribution.csv", "BB,EE,offset,5,b2,5",
                           "BB,EE,offset,6,b2,6")),
        "distribution.csv:5: amount: BB's offsets toward EE sum to 6, responsibility.csv "
        "places 5 persons EE is responsible for on BB's territory (Art. 63)"),
    "offset toward a state with no pair": (
        lambda out: _edit(out / "distribution.csv", "CC,DD,offset,17,c,17",
                          "CC,EE,offset,17,c,17"),
        "distribution.csv:6: beneficiary: EE: no pair of responsibility.csv with persons for "
        "CC that this row may serve"),
    "offset unassigned although the file assigns": (
        lambda out: _edit(out / "distribution.csv", "CC,DD,offset", "CC,,offset"),
        "distribution.csv:6: beneficiary: the beneficiary is empty, but responsibility.csv "
        "assigns offsets"),
    "proposal misreported": (
        lambda out: _summary(out / "summary.json", "proposal", "relocations", 100),
        "summary.json:0: proposal.relocations: 100, the inputs give 150"),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_offset_corruptions_are_caught(corrupt: tuple[Path, Path], name: str) -> None:
    folder, out = corrupt
    edit, expected = CORRUPTIONS[name]
    edit(out)
    found = [str(p) for p in verify(out, load_instance(folder))]
    assert expected in found, found
