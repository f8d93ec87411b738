"""Shared bits of the bench scripts: engine choices, machine description, JSON output."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from edge_agent.vision.config import EngineConfig  # noqa: E402
from edge_agent.vision.presets import PRESETS, preset_config  # noqa: E402

DEFAULT_DATASET = (
    Path(os.environ.get("GRIDGATE_SHARED", REPO.parent / "shared")) / "datasets/lfw-dev"
)
DEFAULT_MODELS = Path(os.environ.get("GRIDGATE_MODELS", REPO / "models"))

ENGINES = PRESETS


def engine_config(name: str, models_dir: Path) -> EngineConfig:
    return preset_config(name, models_dir)


def dataset_arguments(parser: argparse.ArgumentParser, cache: bool = True) -> None:
    """--dataset, --engine, --models-dir, (--cache-dir), --json: what every face bench takes."""
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--engine", action="append", choices=sorted(ENGINES))
    parser.add_argument("--models-dir", type=Path, default=DEFAULT_MODELS)
    if cache:
        parser.add_argument("--cache-dir", type=Path, default=None, help="reuse embeddings here")
    parser.add_argument("--json", action="store_true")


def dataset_missing(dataset: Path) -> bool:
    if dataset.is_dir():
        return False
    print(f"dataset {dataset} not found", file=sys.stderr)
    return True


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def stamp() -> dict[str, str]:
    return {"machine": machine(), "date": datetime.now(UTC).strftime("%Y-%m-%d")}


def emit(result: dict[str, Any], as_json: bool) -> None:
    """The last line of output is one JSON object (--json), else a readable dump."""
    if as_json:
        print(json.dumps(result, sort_keys=False))
    else:
        print(json.dumps(result, indent=2))
