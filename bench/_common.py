"""Shared bits of the bench scripts: engine choices, machine description, JSON output."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gridgate_devkit.presets import PRESETS  # noqa: E402

DEFAULT_DATASET = (
    Path(os.environ.get("GRIDGATE_SHARED", REPO.parent / "shared")) / "datasets/lfw-dev"
)
DEFAULT_MODELS = Path(os.environ.get("GRIDGATE_MODELS", REPO / "models"))


def dataset_arguments(parser: argparse.ArgumentParser, cache: bool = True) -> None:
    """--dataset, --engine, --models-dir, (--cache-dir), --json: what every face bench takes."""
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--engine", action="append", choices=sorted(PRESETS))
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


PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def scratch_database(kind: str, work: Path) -> tuple[str, Callable[[], None]]:
    """A fresh hub database (SQLite file or PostgreSQL database) and the call that drops it."""
    from sqlalchemy import create_engine, text

    if kind == "sqlite":
        return f"sqlite:///{work}/hub-{uuid.uuid4().hex[:6]}.sqlite3", lambda: None
    name = f"gridgate_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", drop


def hub_process(config: dict[str, Any], work: Path, name: str) -> subprocess.Popen[bytes]:
    """`python -m hub run` with this configuration, its stderr in WORK/NAME.log."""
    path = work / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return subprocess.Popen(
        [sys.executable, "-m", "hub", "run", "--config", str(path)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=(work / f"{name}.log").open("wb"),
    )
