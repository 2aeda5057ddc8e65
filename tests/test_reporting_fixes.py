"""Issue 14 item 5: the SAR figures of summary.json come from the final distribution (persons
whole), and a deduction without the status Arts 61-62 ask for is warned about and re-checked by
the verifier (the warning itself: tests/test_warnings.py
test_deductions_without_a_status_or_only_at_risk)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from conftest import MakeInstance, pledge, state

from planner.inputs.load import load_instance
from planner.optimise.solve import SolverOptions
from planner.pipeline import run
from planner.verifier.verify import verify

pytestmark = pytest.mark.solver


def test_sar_received_is_counted_after_persons_are_made_whole(make_instance: MakeInstance,
                                                              tmp_path: Path) -> None:
    """AA's 3 fixed relocations, IT (SAR, share 50 %) and EL each need 1 person: the SAR
    target is 0.5 x 3 = 1.5, the balance gives 1.5 each, and whole persons make it 2 and 1.
    summary.json must say what distribution.csv sends IT (1 or 2), never the balanced 1.5
    (the value before rounding), and sar_met must follow from it."""
    states = [state("AA", 2_000_000, 20_000), state("IT", benefitting="true"),
              state("EL", benefitting="true")]
    folder = make_instance(
        states, [pledge("a", "AA", "relocation", 3, 3)],
        needs=[{"state": "IT", "measure": "relocation", "amount": 1},
               {"state": "EL", "measure": "relocation", "amount": 1}],
        extra_toml='[distribution]\nsar_share = 0.5\nsar_states = ["IT"]\n')
    for name in ("highs", "cbc"):
        result = run(folder, tmp_path / name, SolverOptions(name=name, fallback=False))
        with (result.out / "distribution.csv").open(encoding="utf-8", newline="") as handle:
            sent = {r["beneficiary"]: float(r["amount"]) for r in csv.DictReader(handle)}
        summary = json.loads((result.out / "summary.json").read_text(encoding="utf-8"))
        dist = summary["distribution"]
        assert sorted(sent.values()) == [1.0, 2.0]
        assert dist["sar_target_value"] == 1.5
        assert dist["sar_received_value"] == sent["IT"]
        assert dist["sar_met"] is (sent["IT"] >= 1.5)


def test_the_verifier_wants_a_warning_for_a_deduction_at_risk(make_instance: MakeInstance,
                                                               tmp_path: Path) -> None:
    """BB only at risk, deduction 0.5: the planner warns (deduction_at_risk); a summary
    without that warning is rejected (before issue 14 the verifier checked status `none`
    only)."""
    states = [state("AA", 2_000_000, 20_000), state("BB", status="at_risk", deduction=0.5),
              state("DD", benefitting="true")]
    folder = make_instance(states, [pledge("a", "AA", "financial", 0, 100_000)])
    out = tmp_path / "out"
    run(folder, out, SolverOptions())
    instance = load_instance(folder)
    assert verify(out, instance) == []
    target = tmp_path / "bad"
    shutil.copytree(out, target)
    data = json.loads((target / "summary.json").read_text(encoding="utf-8"))
    assert [w["code"] for w in data["warning_details"]] == ["deduction_at_risk"]
    data["warnings"], data["warning_details"] = [], []
    (target / "summary.json").write_text(json.dumps(data), encoding="utf-8")
    assert [str(p) for p in verify(target, instance)] == [
        "summary.json:0: warnings: no warning for BB's deduction while only at risk of "
        "migratory pressure"]
