"""planner.outputs.registry is the one list of the planner's output files: what a run and a
comparison write, what is personal, what has a schema, what the verifier reads."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from models.schema import INPUT_SCHEMAS, schema_texts
from planner.inputs.load import load_instance
from planner.optimise.solve import SolverOptions
from planner.outputs import registry
from planner.outputs.registry import FILES, RUN_TABLES, STAGES, SUMMARY, TABLES, tables_of
from planner.pipeline import run
from planner.verifier.verify import verify

pytestmark = pytest.mark.cli

REPO = Path(__file__).resolve().parents[1]
EU_2026 = REPO / "instances" / "eu-2026"
CANDIDATE_IDS = {"person_id", "case_id"}


@pytest.fixture(scope="module")
def eu_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """instances/eu-2026 (1,200 candidates: the matching runs) planned and written."""
    out = tmp_path_factory.mktemp("registry") / "base"
    run(EU_2026, out, SolverOptions())
    return out


def test_a_run_writes_exactly_the_registry_files_of_its_stages(eu_run: Path) -> None:
    """Every data file of the folder is in the registry, and every registry file of a run's
    stages (pool, matching: the matching ran) is there; nothing of the comparison's."""
    data = {p.name for p in eu_run.iterdir() if p.suffix in (".csv", ".json")}
    assert data == {t.file for t in tables_of("pool", "matching")} | {SUMMARY.file}
    assert {t.stage for t in RUN_TABLES} == {"pool", "matching"}


def test_personal_tables_are_exactly_those_with_candidate_ids() -> None:
    personal = {t.name for t in TABLES if t.personal}
    with_ids = {t.name for t in FILES if CANDIDATE_IDS & set(t.model.model_fields)}
    assert personal == with_ids == {"assignments", "unassigned"}
    assert not SUMMARY.personal


def test_personal_tables_are_private_in_the_run_folder(eu_run: Path) -> None:
    modes = {t.file: (eu_run / t.file).stat().st_mode & 0o777 for t in RUN_TABLES}
    assert {t.file: modes[t.file] for t in RUN_TABLES if t.personal} == {
        "assignments.csv": 0o600, "unassigned.csv": 0o600}


def test_names_are_unique_and_every_stage_has_files() -> None:
    for key in ("file", "name", "schema_name"):
        values = [getattr(f, key) for f in FILES]
        assert len(values) == len(set(values)), key
    assert {f.stage for f in FILES} == set(STAGES)
    assert all(t.file == f"{t.name}.csv" for t in TABLES)
    assert registry.COMPARISON_TABLES == (registry.STATES, registry.KPIS)


def test_schemas_cover_every_file_and_nothing_else() -> None:
    """Every output file has a schema named after it (a comparison file with `comparison-`),
    and the committed schemas/ folder holds exactly the inputs' and the outputs' schemas."""
    outputs = registry.output_schemas()
    assert outputs == {f.schema_name: f.model for f in FILES}
    assert set(outputs) == {"plan.csv", "allocation.csv", "distribution.csv", "coverage.csv",
                            "assignments.csv", "unassigned.csv", "matchability.csv",
                            "summary.json", "comparison-states.csv", "comparison-kpis.csv",
                            "tracking.csv", "tracking_contributors.csv",
                            "tracking_received.csv", "tracking_changes.csv",
                            "tracking_summary.json"}
    assert not set(outputs) & set(INPUT_SCHEMAS)
    committed = {p.name for p in (REPO / "schemas").iterdir()}
    assert committed == set(schema_texts(outputs))


@pytest.mark.parametrize("table", RUN_TABLES, ids=lambda t: t.name)
def test_the_verifier_reads_every_run_table(eu_run: Path, tmp_path: Path, table) -> None:
    """The verifier's list of files is the registry's: each run table taken away is missing."""
    folder = tmp_path / "run"
    shutil.copytree(eu_run, folder)
    (folder / table.file).unlink()
    problems = verify(folder, load_instance(EU_2026, None))
    assert (table.file, 0, "-", "missing") in [(p.file, p.line, p.column, p.message)
                                              for p in problems]


def test_the_verifier_takes_only_the_file_list_from_the_outputs() -> None:
    """The verifier reads the files on its own: of planner.outputs it loads the registry (the
    declarations) alone, not the writer or the readers, and nothing of planner.optimise."""
    code = ("import sys, planner.verifier.verify; print(sorted(m for m in sys.modules "
            "if m.startswith(('planner.outputs', 'planner.optimise'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=REPO)
    assert done.stdout.strip() == "['planner.outputs', 'planner.outputs.registry']"
