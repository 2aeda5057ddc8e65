"""The committed JSON Schemas are the ones the models generate (run `planner schema`)."""

from pathlib import Path

import pytest

from models.schema import schema_texts
from planner.outputs.registry import output_schemas

pytestmark = pytest.mark.unit


def test_committed_schemas_are_current():
    folder = Path(__file__).resolve().parents[1] / "schemas"
    for name, text in schema_texts(output_schemas()).items():
        assert (folder / name).read_text(encoding="utf-8") == text, (
            f"schemas/{name} is stale: run `planner schema`")
