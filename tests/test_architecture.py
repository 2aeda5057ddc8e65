"""The tree shows the flow (issue 13, item 1): inputs -> optimise -> outputs -> verifier ->
report, with pipeline, comparison and cli on top; no import cycles, lazy imports included.

The imports are read from the source (ast), so a cycle hidden in a function body counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]

# What each layer may import from the planner (besides itself, planner.errors and the
# package's `__version__`). The verifier shares no code with the optimisation.
ALLOWED = {
    "inputs": set(),
    "optimise": {"inputs"},
    "outputs": set(),
    "verifier": {"inputs", "outputs"},
    "report": {"inputs", "optimise", "outputs"},
    # Scenario sweeps (issue 16): a layer on top of the pipeline (`top`), which it calls.
    "sweep": {"top", "inputs", "optimise", "outputs", "report"},
}
SHARED = {"planner", "planner.errors"}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / "planner").rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _type_only(tree: ast.Module) -> set[ast.AST]:
    """The nodes under `if TYPE_CHECKING:`: names for annotations, never imported at run time."""
    return {inner for node in ast.walk(tree) if isinstance(node, ast.If)
            and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
            for part in node.body for inner in ast.walk(part)}


def import_graph() -> nx.DiGraph:
    """Module -> every planner module it imports at run time, at the top or in a function."""
    found = modules()
    graph = nx.DiGraph()
    for name, path in found.items():
        graph.add_node(name)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_only(tree)
        for node in ast.walk(tree):
            if node in skipped:
                continue
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets.append(node.module)
                targets += [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets += [a.name for a in node.names]
            graph.add_edges_from((name, t) for t in targets if t in found and t != name)
    return graph


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or module.endswith(tuple(ALLOWED)) else "top"


def test_no_import_cycles() -> None:
    graph = import_graph()
    # A package's __init__ importing its own modules is not a cycle of the flow.
    graph.remove_edges_from([(a, b) for a, b in graph.edges if b.startswith(a + ".")])
    assert list(nx.simple_cycles(graph)) == []


def test_each_layer_imports_only_the_layers_before_it() -> None:
    wrong = []
    for a, b in import_graph().edges:
        if b in SHARED or layer(a) == "top" or layer(a) == layer(b):
            continue
        if layer(b) not in ALLOWED[layer(a)]:
            wrong.append(f"{a} -> {b}")
    assert wrong == []


def test_models_import_nothing_from_the_planner() -> None:
    for path in sorted((ROOT / "models").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("planner"), path.name


def test_each_subpackage_says_what_it_owns() -> None:
    for package in ALLOWED:
        doc = ast.get_docstring(ast.parse((ROOT / "planner" / package / "__init__.py")
                                          .read_text(encoding="utf-8")))
        assert doc and len(doc.splitlines()) <= 8, package


def test_the_layering_test_sees_a_violation(tmp_path: Path) -> None:
    """The graph is not empty and knows the layers (a test that could not fail is a defect)."""
    graph = import_graph()
    assert ("planner.optimise.eligibility", "planner.inputs.protection") in graph.edges
    assert layer("planner.verifier.rules") == "verifier"
    assert layer("planner.pipeline") == "top" and layer("planner.inputs") == "inputs"
    assert "optimise" not in ALLOWED["verifier"]
