"""The edge never imports the hub, the hub never imports the edge, the wire imports neither."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
RULES = {
    "edge_agent": {"hub"},
    "hub": {"edge_agent"},
    "gridgate_wire": {"hub", "edge_agent", "gridgate_core", "paho", "sqlalchemy", "cv2"},
    "gridgate_core": {"hub", "edge_agent"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(RULES))
def test_import_boundaries(package: str) -> None:
    for path in (REPO / package).rglob("*.py"):
        bad = imported_roots(path) & RULES[package]
        assert not bad, f"{path.relative_to(REPO)} imports {bad}"
