"""Limits (issue #5, part 4): the solver's time limit, and a missing or broken solver.

A time limit that expires with a feasible solution gives a verified plan with status
`time_limit` and the gap; without one the run ends with exit 3 and writes nothing. The limit
is made to expire inside the matching only (the pool plan and distribution are tiny LPs that
a limit of 1e-9 s would stop too) by lowering it when the matching starts.
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import HANG_S, pledge, state, write_csv

import planner.pipeline
from planner.errors import PlanError
from planner.optimise.solve import Solver, SolverOptions
from planner.pipeline import RunResult, run

pytestmark = [pytest.mark.solver, pytest.mark.cli]

REPO = Path(__file__).resolve().parents[1]
PLANNER = Path(sys.executable).parent / "planner"
TINY = 1e-9  # seconds: HiGHS stops at once, before any solution

STATES = [state("AA", 2_000_000, 20_000), state("BB"), state("CC"),
          state("DD", benefitting="true"), state("EE", benefitting="true")]
PLEDGES = [pledge("a", "AA", "relocation", 0, 9), pledge("b", "BB", "relocation", 0, 7),
           pledge("c", "CC", "relocation", 0, 5, beneficiary="EE")]
# Stage (i) alone counts persons (no priority terms): its value is the persons placed. The
# split fixed before the matching: the stages run per state (persons_DD, persons_EE); the
# joint split's own stage is limited in test_time_limit_on_the_joint_split.
NO_PRIORITY = '[matching]\npriority = []\nsplit = "fixed"\n'


def candidates(cases: int) -> list[dict[str, object]]:
    """Cases of 1-3 persons in DD and EE, some with family links (so quality runs too)."""
    rows = []
    for c in range(cases):
        for p in range(1 + c % 3):
            rows.append({"person_id": f"p{c:03}-{p}", "case_id": f"c{c:03}",
                         "location": "DD" if c % 2 else "EE",
                         "family_links": "BB" if c % 5 == 0 else "",
                         "registered": f"2025-0{1 + c % 9}-01"})
    return rows


def instance(make_instance, name: str, transfers: list[dict[str, object]] | None = None,
             pledges: list[dict[str, object]] = PLEDGES) -> Path:
    folder = make_instance(STATES, pledges, relocations=60, financial=1_200_000,
                           extra_toml=NO_PRIORITY, name=name)
    write_csv(folder / "candidates.csv", candidates(30))
    if transfers:
        write_csv(folder / "transfers.csv", transfers, ["case_id", "state"])
    return folder


def limit_matching(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lower the solver's time limit to TINY when the matching starts."""
    original = planner.pipeline.run_matching

    def limited(*args, **kwargs):
        solver = next(a for a in (*args, *kwargs.values()) if isinstance(a, Solver))
        solver.options = dataclasses.replace(solver.options, time_limit_s=TINY)
        return original(*args, **kwargs)

    monkeypatch.setattr(planner.pipeline, "run_matching", limited)


def placed_from(result: RunResult) -> Counter[str]:
    return Counter(r.from_state for r in result.tables.assignments)


def test_time_limit_keeps_a_verified_plan_with_its_gap(make_instance, tmp_path, monkeypatch):
    folder = instance(make_instance, "inst")
    optimal = run(folder, tmp_path / "optimal", SolverOptions())
    assert optimal.summary.status == "optimal"
    assert (optimal.summary.solver.gap, optimal.summary.solver.gaps) == (0.0, {})
    limit_matching(monkeypatch)
    out = tmp_path / "limited"
    # run() verifies the written files independently and raises PlanError if a check fails.
    result = run(folder, out, SolverOptions())
    written = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert written["status"] == result.summary.status == "time_limit"
    info = written["solver"]
    assert info["time_limit_s"] == TINY
    assert {"persons_DD", "persons_EE"} <= set(info["gaps"])
    assert info["gap"] == max(info["gaps"].values())
    assert any("time limit reached" in w for w in written["warnings"])
    # The gap is proven: the unlimited optimum lies within it, location by location.
    best, got = placed_from(optimal), placed_from(result)
    assert sum(best.values()) > 0
    for location in ("DD", "EE"):
        assert got[location] <= best[location]
        gap = info["gaps"][f"persons_{location}"]
        assert gap >= (best[location] - got[location]) / max(1, got[location]) - 1e-9
    m = written["matching"]
    assert m["family_splits"] == 0
    assert m["persons_total"] == len(candidates(30))


def test_time_limit_on_the_joint_split(make_instance, tmp_path, monkeypatch):
    """The joint split's stage (persons and balance on every state at once) stopped at once:
    placing nobody is its feasible plan, kept with its gap; the later stages run on that
    split (no places); the plan is verified and says `time_limit`."""
    folder = make_instance(STATES, PLEDGES, relocations=60, financial=1_200_000,
                           extra_toml="[matching]\npriority = []\n", name="joint")
    write_csv(folder / "candidates.csv", candidates(30))
    original = planner.pipeline.match_joint

    def limited(*args, **kwargs):
        # The distribution runs after the joint split: the limit is lowered for it only.
        solver = next(a for a in (*args, *kwargs.values()) if isinstance(a, Solver))
        before = solver.options
        solver.options = dataclasses.replace(before, time_limit_s=TINY)
        try:
            return original(*args, **kwargs)
        finally:
            solver.options = before

    monkeypatch.setattr(planner.pipeline, "match_joint", limited)
    result = run(folder, tmp_path / "out", SolverOptions())  # verified, or PlanError
    written = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert written["status"] == result.summary.status == "time_limit"
    assert "split" in written["solver"]["gaps"]
    assert written["matching"]["persons_assigned"] == 0


def test_time_limit_without_a_feasible_solution_exits_3_and_writes_nothing(
        make_instance, tmp_path, monkeypatch):
    """A transferred case must be placed, so placing nobody is not a solution: with no time
    to find one the run fails (exit 3 in the command line) and writes nothing. AA has two
    rows for DD, so the model chooses the case's place (a transferred case with one place
    it may take is placed before the model, planner.optimise.matching.settle)."""
    pledges = [pledge("a", "AA", "relocation", 4, 4, beneficiary="DD"),
               pledge("a2", "AA", "relocation", 3, 3, beneficiary="DD"), *PLEDGES[1:]]
    folder = instance(make_instance, "inst", transfers=[{"case_id": "c001", "state": "AA"}],
                      pledges=pledges)
    limit_matching(monkeypatch)
    out = tmp_path / "out"
    with pytest.raises(PlanError, match=r"^no plan: stage persons_DD found no feasible "
                                        r"solution within the time limit of 1e-09 s \(highs\)$"):
        run(folder, out, SolverOptions())
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inst"]


def planner_cli(*args: object, env: dict[str, str] | None = None
                ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PLANNER), *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=HANG_S, check=False, env=env)


def test_cli_time_limit_with_no_solution_exits_3_and_keeps_old_results(tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    earlier = '{"version": "earlier results"}\n'  # a results folder (planner.outputs.outdir)
    (out / "summary.json").write_text(earlier, encoding="utf-8")
    done = planner_cli("run", "instances/eu-2026", "--out", out, "--time-limit", TINY, "-q")
    assert done.returncode == 3, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no plan: stage "), done.stderr
    assert lines[0].endswith(" found no feasible solution within the time limit of 1e-09 s "
                             "(highs)")
    assert [p.name for p in out.iterdir()] == ["summary.json"]
    assert (out / "summary.json").read_text(encoding="utf-8") == earlier
    assert [p.name for p in tmp_path.iterdir()] == ["results"]


# Solvers made missing or broken in a child process only: `sitecustomize` (imported at start-up
# from PYTHONPATH) hides highspy and points PuLP's bundled CBC elsewhere.
SHIM = """import os, sys
if "no-highs" in os.environ["SOLVER_SHIM"]:
    sys.modules["highspy"] = None  # `import highspy` raises ImportError
cbc = os.environ.get("SOLVER_SHIM_CBC")
if cbc:
    from pulp.apis import coin_api
    coin_api.PULP_CBC_CMD.pulp_cbc_path = cbc
"""


@pytest.fixture
def small(make_instance) -> Path:
    return make_instance(STATES[:4], PLEDGES[:2], relocations=60, financial=1_200_000)


def shimmed(tmp_path: Path, highs: bool, cbc: str) -> dict[str, str]:
    """The environment of a child whose solvers are as asked: cbc is "ok", "missing" (no
    file) or "broken" (an executable that fails)."""
    shim = tmp_path / "shim"
    shim.mkdir(exist_ok=True)
    (shim / "sitecustomize.py").write_text(SHIM, encoding="utf-8")
    # PuLP writes CBC's model into TMPDIR and leaves it there when CBC fails: keep it here.
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(shim), "SOLVER_SHIM": "" if highs else "no-highs",
           "TMPDIR": str(scratch), "TMP": str(scratch)}
    if cbc == "missing":
        env["SOLVER_SHIM_CBC"] = str(tmp_path / "no-such-cbc")
    elif cbc == "broken":
        broken = shim / "cbc"
        broken.write_text("#!/bin/sh\necho 'cbc: cannot start' >&2\nexit 1\n", encoding="utf-8")
        broken.chmod(broken.stat().st_mode | stat.S_IXUSR)
        env["SOLVER_SHIM_CBC"] = str(broken)
    return env


def test_missing_highs_falls_back_to_cbc(small, tmp_path):
    done = planner_cli("run", small, "--out", tmp_path / "out", "-q",
                       env=shimmed(tmp_path, highs=False, cbc="ok"))
    assert done.returncode == 0, done.stderr
    written = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert (written["solver"]["requested"], written["solver"]["name"]) == ("highs", "cbc")
    assert "solver highs is not available; used cbc" in written["warnings"]


def test_no_solver_at_all_exits_3_naming_both(small, tmp_path):
    done = planner_cli("run", small, "--out", tmp_path / "out", "-q",
                       env=shimmed(tmp_path, highs=False, cbc="missing"))
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert done.stderr == ("error: no solver available: tried highs and cbc (install highspy, "
                           "or PuLP with its bundled CBC)\n")
    assert not (tmp_path / "out").exists()


def test_broken_cbc_without_highs_exits_3_naming_the_fallback(small, tmp_path):
    done = planner_cli("run", small, "--out", tmp_path / "out", "--solver", "cbc", "-q",
                       env=shimmed(tmp_path, highs=False, cbc="broken"))
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: solver cbc failed in stage shortfall: ")
    assert lines[0].endswith("; fallback tried: highs not available")
    assert not (tmp_path / "out").exists()


def test_broken_cbc_gives_way_to_highs(small, tmp_path):
    env = shimmed(tmp_path, highs=True, cbc="broken")
    done = planner_cli("run", small, "--out", tmp_path / "out", "--solver", "cbc", "-q",
                       env=env)
    assert done.returncode == 0, done.stderr
    written = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert (written["solver"]["requested"], written["solver"]["name"]) == ("cbc", "highs")
    notes = [w for w in written["warnings"] if w.startswith("solver cbc failed in stage")]
    assert len(notes) == 1 and notes[0].endswith("; used highs"), written["warnings"]
    # The same plan as HiGHS chosen directly.
    direct = planner_cli("run", small, "--out", tmp_path / "direct", "-q", env=env)
    assert direct.returncode == 0, direct.stderr
    for name in ("allocation.csv", "plan.csv", "distribution.csv", "coverage.csv"):
        assert (tmp_path / "out" / name).read_bytes() == \
            (tmp_path / "direct" / name).read_bytes(), name


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_a_time_limit_that_is_not_positive_is_an_input_error(value, tmp_path):
    """`--time-limit 0` used to fall back silently to instance.toml's limit, and -1 planned
    with no time at all; both are mistakes on the command line (exit 2, nothing written)."""
    for command in ("run", "compare"):
        out = tmp_path / command
        done = subprocess.run([str(PLANNER), command, "--time-limit", value, "--out", str(out)],
                              capture_output=True, text=True, check=False, timeout=HANG_S)
        assert done.returncode == 2, done.stderr
        assert done.stderr == (f"--time-limit: {float(value):g} is not a positive number of "
                               "seconds\n")
        assert not out.exists()
