"""``gridgate-edge``: run the edge agent, validate its configuration, manage models."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from edge_agent.config import EdgeConfig
from edge_agent.runtime import EdgeAgent
from gridgate_core.cli import build_parser, standard_main

DEFAULT_CONFIG = Path("/etc/gridgate/edge.yaml")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(
        "gridgate-edge", "gridgate edge agent for one residential compound", DEFAULT_CONFIG
    )
    return standard_main(argv, parser, EdgeConfig, EdgeAgent, lambda c: c.logging)
