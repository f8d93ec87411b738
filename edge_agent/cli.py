"""``gridgate-edge``: run the edge agent, validate its configuration, manage models."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from edge_agent.config import EdgeConfig
from edge_agent.runtime import EdgeAgent
from gridgate_core.cli import build_parser, standard_main
from gridgate_core.logs import configure_logging

DEFAULT_CONFIG = Path("/etc/gridgate/edge.yaml")


def _models(args: argparse.Namespace) -> int:
    from edge_agent.vision.errors import ModelError
    from edge_agent.vision.models import import_model

    try:
        spec = import_model(args.path, args.models_dir)
    except ModelError as exc:
        print(f"gridgate-edge models import: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    print(f"imported {spec.name} ({spec.licence}) into {args.models_dir}")  # noqa: T201
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser, sub = build_parser(
        "gridgate-edge", "gridgate edge agent for one residential compound", DEFAULT_CONFIG
    )
    models = sub.add_parser("models", help="manage face model files")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    importer = models_sub.add_parser(
        "import", help="copy a model file into the models folder after checking its sha256"
    )
    importer.add_argument("path", type=Path, help="the model file")
    importer.add_argument(
        "--models-dir", type=Path, default=Path("models"), help="destination (default: models/)"
    )
    args = parser.parse_args(argv)
    if args.command == "models":
        configure_logging("WARNING")
        logging.getLogger("edge_agent").setLevel(logging.INFO)
        return _models(args)
    return standard_main(args, parser, EdgeConfig, EdgeAgent, lambda c: c.logging)
