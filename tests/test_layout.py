"""Import boundaries between the deployables, and the development kit kept out of the product.

The edge never imports the hub, the hub never imports the edge, the wire imports neither; no
product package imports the development kit (``gridgate_devkit``) or the tests, and the product
wheel leaves the devkit out. Hub-side tests collect without OpenCV.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from setuptools import find_packages

REPO = Path(__file__).resolve().parent.parent
PRODUCT = ("gridgate_wire", "gridgate_core", "edge_agent", "hub")
TOOLING = {"gridgate_devkit", "tests", "bench", "scripts"}
RULES = {
    "edge_agent": {"hub"} | TOOLING,
    "hub": {"edge_agent"} | TOOLING,
    "gridgate_wire": {"hub", "edge_agent", "gridgate_core", "paho", "sqlalchemy", "cv2"} | TOOLING,
    "gridgate_core": {"hub", "edge_agent"} | TOOLING,
    # The devkit drives the product (it may import any of it) but never the tests.
    "gridgate_devkit": {"tests", "bench", "scripts"},
}
SOURCES = {package: REPO / package for package in PRODUCT} | {
    "gridgate_devkit": REPO / "devkit" / "gridgate_devkit"
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def imported_roots(path: Path) -> set[str]:
    return {module.split(".")[0] for module in imported_modules(path)}


@pytest.mark.parametrize("package", sorted(RULES))
def test_import_boundaries(package: str) -> None:
    files = list(SOURCES[package].rglob("*.py"))
    assert files, f"no sources found for {package}"
    for path in files:
        bad = imported_roots(path) & RULES[package]
        assert not bad, f"{path.relative_to(REPO)} imports {bad}"


@pytest.mark.parametrize("package", PRODUCT)
def test_product_names_no_devkit_module_even_dynamically(package: str) -> None:
    """``importlib.import_module("gridgate_devkit...")`` would dodge the AST check above."""
    for path in (REPO / package).rglob("*.py"):
        assert "gridgate_devkit" not in path.read_text(encoding="utf-8"), (
            f"{path.relative_to(REPO)} names the development kit"
        )


def test_product_wheel_leaves_the_devkit_out() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = find_packages(where=str(REPO), include=include)
    assert {name.split(".")[0] for name in packages} == set(PRODUCT)
    assert "gridgate_devkit" not in config["project"]["dependencies"]
    assert not any(dep.startswith("gridgate") for dep in config["project"]["dependencies"])

    devkit = tomllib.loads((REPO / "devkit" / "pyproject.toml").read_text(encoding="utf-8"))
    include = devkit["tool"]["setuptools"]["packages"]["find"]["include"]
    found = find_packages(where=str(REPO / "devkit"), include=include)
    assert {name.split(".")[0] for name in found} == {"gridgate_devkit"}


def test_tooling_lives_in_the_devkit_not_in_the_product() -> None:
    """What moved out stays out: no simulator, evaluation or broker launcher in the product."""
    for gone in (
        "edge_agent/sim",
        "edge_agent/vision/evaluation.py",
        "edge_agent/vision/degrade.py",
        "edge_agent/vision/presets.py",
        "gridgate_core/localbroker.py",
    ):
        assert not (REPO / gone).exists(), f"{gone} belongs in devkit/gridgate_devkit"


# What only the edge's face stack brings in; a test module importing none of it directly is a
# hub-side test and must collect on a hub-only install (no OpenCV).
FACE_STACK = ("cv2", "edge_agent", "gridgate_devkit.sim.gateclip", "gridgate_devkit.evaluation")
FACE_STACK_ALLOWED = ("edge_agent.store",)  # the edge's SQLite store: no OpenCV behind it


def _uses_face_stack(path: Path) -> bool:
    for module in imported_modules(path):
        if module.startswith(FACE_STACK_ALLOWED):
            continue
        if any(module == root or module.startswith(root + ".") for root in FACE_STACK):
            return True
    return False


HUB_SIDE_TESTS = sorted(
    path.stem
    for path in (REPO / "tests").glob("test_*.py")
    if not _uses_face_stack(path) and "hub" in imported_roots(path)
)

# Imports each module with OpenCV made unimportable, as on a hub-only install.
_WITHOUT_CV2 = """
import importlib, sys, traceback
class NoOpenCV:
    def find_spec(self, name, path=None, target=None):
        if name == "cv2" or name.startswith("cv2."):
            raise ImportError("OpenCV is not installed here (hub-only install)")
        return None
sys.meta_path.insert(0, NoOpenCV())
failed = []
for name in ["conftest", "hub_helpers", "hardening_helpers", "waiting"] + sys.argv[1:]:
    try:
        importlib.import_module("tests." + name)
    except ImportError:
        failed.append(name + ": " + traceback.format_exc(limit=-4))
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_hub_side_tests_collect_without_opencv() -> None:
    assert {"test_hub_api", "test_hardening_storm", "test_hub_sync"} <= set(HUB_SIDE_TESTS)
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_CV2, *HUB_SIDE_TESTS],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"hub-side tests pull in OpenCV:\n{result.stdout}{result.stderr}"
