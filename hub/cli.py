"""``gridgate-hub``: run the hub, validate its configuration."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gridgate_core.cli import build_parser, standard_main
from hub.config import HubConfig
from hub.runtime import HubService

DEFAULT_CONFIG = Path("/etc/gridgate/hub.yaml")


def main(argv: Sequence[str] | None = None) -> int:
    parser, _ = build_parser(
        "gridgate-hub", "gridgate hub: ingest, registry, tasks", DEFAULT_CONFIG
    )
    return standard_main(
        parser.parse_args(argv), parser, HubConfig, HubService, lambda c: c.logging
    )
