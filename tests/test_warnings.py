"""The warnings a careful analyst wants (issue #12, item 7), each on a hand-made instance with
its exact text: in summary.json (`warnings` and `warning_details`), on the terminal and in
report.html. Shortfall and surplus are reported apart, never netted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import MakeInstance, pledge, state, write_csv

from planner.optimise.solve import SolverOptions
from planner.pipeline import RunResult, run
from planner.report.terminal import terminal_text

pytestmark = pytest.mark.solver

# Shares AA 0.4, BB 0.2, CC 0.2, DD 0.2 (benefitting); 100 relocations at EUR 20,000: the
# obligations are 40, 20 and 20.
STATES = [state("AA", 2_000_000, 20_000), state("BB"), state("CC"),
          state("DD", benefitting="true", status="pressure")]


def plan(folder: Path, variant: str = "base") -> RunResult:
    return run(folder, folder.parent / f"out-{variant}", SolverOptions(), variant=variant)


def details(result: RunResult) -> list[tuple[str, str, str]]:
    """summary.json's warnings as written: (code, subject, text), checked against `warnings`."""
    written = json.loads((result.out / "summary.json").read_text(encoding="utf-8"))
    found = [(w["code"], w["subject"], w["text"]) for w in written["warning_details"]]
    assert written["warnings"] == [text for _, _, text in found]
    return found


def shown(result: RunResult) -> str:
    return terminal_text(result.tables, result.summary, str(result.out), False, "utf-8")


def test_surplus_is_warned_and_kept_apart_from_the_shortfall(make_instance: MakeInstance
                                                             ) -> None:
    """BB's own minimum (25 persons) exceeds its obligation of 20: a surplus of 5. CC pledges
    nothing: a shortfall of 20. The net balance, -15, would hide both."""
    folder = make_instance(STATES, [
        pledge("a", "AA", "financial", 0, 5_000_000),
        pledge("b-1", "BB", "relocation", 25, 30),
        pledge("b-2", "BB", "financial", 0, 100_000),  # not taken: no minimum, no surplus
    ])
    result = plan(folder)
    text = ("BB: planned value 25 exceeds its obligation 20: a surplus of 5 "
            "relocation-equivalents; forced by the minimums of pledge rows b-1 (it does not "
            "reduce any other state's shortfall)")
    assert details(result) == [("surplus", "BB", text)]
    totals = json.loads((result.out / "summary.json").read_text())["totals"]
    assert (totals["obligation"], totals["value"]) == (80, 65)
    assert (totals["shortfall"], totals["surplus"]) == (20, 5)
    # The terminal: a column each, a total each (after the deduction column), and the warning.
    # (Gap 75: Art. 63(3)'s higher number is the proposal's 100 (no [proposal]: the pool's),
    # less BB's 25 pledged relocations.)
    printed = shown(result)
    lines = printed.splitlines()
    flat = " ".join(printed.split())  # lines are wrapped at 120 characters
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[9:12]]
            for line in lines if line.startswith("│")}
    assert rows["BB"] == ["25.00", "-", "5.00"]  # value, shortfall, surplus
    assert rows["CC"] == ["0.00", "20.00", "-"]
    assert rows["total"] == ["65.00", "20.00", "5.00"]
    assert "shortfall 20.00 and surplus 5.00 relocation-equivalents; voluntary offsets not " \
           "allowed pool-wide; mandatory offsets triggered, gap 75" in flat
    assert f"warning: {text}" in flat
    # The report: a key figure each, and the warning.
    page = (result.out / "report.html").read_text(encoding="utf-8")
    assert ('data-table="summary" data-row="totals" data-col="surplus" data-value="5">5<'
            in page)
    assert "shortfall 20, surplus 5 (apart: one state&#x27;s surplus does not make up for " \
           "another&#x27;s shortfall)." in page
    assert f'<li class="warn">{text.replace(chr(39), "&#x27;")}</li>' in page


def test_no_surplus_no_warning(make_instance: MakeInstance) -> None:
    folder = make_instance(STATES, [pledge("a", "AA", "financial", 0, 5_000_000),
                                    pledge("b", "BB", "relocation", 0, 30)])
    result = plan(folder)
    assert details(result) == []
    assert result.summary.totals.surplus == 0


def test_deductions_without_a_status_or_only_at_risk(make_instance: MakeInstance) -> None:
    states = [state("AA", 2_000_000, 20_000, status="significant", deduction=1),
              state("BB", status="at_risk", deduction=0.5), state("CC", deduction=0.25),
              STATES[3]]
    result = plan(make_instance(states, [pledge("a", "AA", "financial", 0, 100_000)]))
    assert details(result) == [
        ("deduction_at_risk", "BB", "BB: deduction 0.5 granted to a state only at risk of "
         "migratory pressure (Arts 61-62 provide deductions for a significant migratory "
         "situation or pressure; accepted: the Council decides)"),
        ("deduction_without_status", "CC", "CC: deduction 0.25 granted without a migratory "
         "status (accepted: the Council decides)"),
    ]
    # AA (significant) is not warned about: its deduction is what Arts 61-62 provide.
    assert {r.state: r.obligation for r in result.tables.allocation} == {
        "AA": 0, "BB": 10, "CC": 15, "DD": 0}


def test_official_shares_that_push_the_key_above_100_percent(make_instance: MakeInstance
                                                             ) -> None:
    """AA's official 0.5 replaces its computed 0.4; BB, CC and DD keep 0.2 each: 110 %."""
    states = [STATES[0] | {"share": 0.5}, *STATES[1:]]
    result = plan(make_instance(states, [pledge("a", "AA", "financial", 0, 100_000)]))
    assert details(result) == [
        ("shares_above_one", "key", "key: the official shares of AA and the computed shares "
         "of the 3 other participating states sum to 110.0000 %, above 100 % (obligations "
         "exceed the pool by 10 relocation-equivalents before deductions and rounding)")]
    assert "warning: key: the official shares of AA" in shown(result)


def test_official_shares_under_a_redistributed_key(make_instance: MakeInstance) -> None:
    states = [STATES[0] | {"share": 0.45}, STATES[1] | {"share": 0.25}, *STATES[2:]]
    result = plan(make_instance(states, [pledge("a", "AA", "financial", 0, 100_000)],
                                extra_toml="[key]\nredistribute = true\n"))
    assert details(result) == [
        ("shares_above_one", "key", "key: the official shares of AA, BB and the computed "
         "shares of the 2 other participating states sum to 110.0000 %, above 100 % "
         "(key.redistribute rescales the contributors' shares, so the official ones do not "
         "apply as given)")]


def test_official_shares_summing_to_at_most_100_percent_are_not_warned(
        make_instance: MakeInstance) -> None:
    states = [STATES[0] | {"share": 0.3}, *STATES[1:]]  # 90 %
    assert details(plan(make_instance(states, [pledge("a", "AA", "financial", 0, 0)]))) == []


def test_a_header_only_candidates_file(make_instance: MakeInstance) -> None:
    folder = make_instance(STATES, [pledge("b", "BB", "relocation", 0, 20)])
    (folder / "candidates.csv").write_text("person_id,case_id,location\n", encoding="utf-8")
    result = plan(folder)
    text = ("candidates.csv has a header but no candidates: nobody is matched to the plan's "
            "relocation places (add the candidates, or remove the file to plan without "
            "matching)")
    assert details(result) == [("no_candidates", "candidates.csv", text)]
    assert result.summary.matching.ran and result.summary.matching.persons_total == 0
    # With one candidate, no warning.
    write_csv(folder / "candidates.csv", [{"person_id": "P1", "case_id": "C1",
                                           "location": "DD"}])
    assert details(plan(folder, "base")) == []


def test_a_variant_that_overrides_one_state_twice(make_instance: MakeInstance) -> None:
    """State codes are read without case, so [member_states.BB] and [member_states.bb] are
    one state: only the last applies, the first is silently lost without the warning."""
    folder = make_instance(STATES, [pledge("a", "AA", "financial", 0, 100_000)])
    (folder / "variants").mkdir()
    (folder / "variants" / "twice.toml").write_text(
        "[member_states.BB]\ndeduction = 0.5\n\n[member_states.bb]\nstatus = \"at_risk\"\n")
    result = plan(folder, "twice")
    assert details(result) == [
        ("variant_state_twice", "BB", "variants/twice.toml: state BB is overridden 2 times, "
         "by [member_states.BB] (line 1), [member_states.bb] (line 4); only the last, "
         "[member_states.bb], applies")]
    assert {r.state: r.deduction for r in result.tables.allocation}["BB"] == 0
    # A variant naming each state once: no warning.
    (folder / "variants" / "once.toml").write_text(
        "[member_states.BB]\ndeduction = 0.5\nstatus = \"significant\"\n"
        "[member_states.CC]\nstatus = \"at_risk\"\n")
    assert details(plan(folder, "once")) == []
