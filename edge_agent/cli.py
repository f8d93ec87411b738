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


def _gallery(args: argparse.Namespace) -> int:
    from edge_agent.gallery.crypto import generate_key, load_key
    from edge_agent.gallery.errors import GalleryError
    from edge_agent.gallery.persist import rotate_key

    try:
        if args.gallery_command == "new-key":
            key = generate_key(args.path)
            print(f"wrote a new template key {key.key_id} to {args.path} (mode 0600)")  # noqa: T201
            return 0
        rotated = rotate_key(args.store_dir, load_key(args.old_key), load_key(args.new_key))
    except (GalleryError, FileExistsError) as exc:
        print(f"gridgate-edge gallery {args.gallery_command}: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    for path in rotated:
        print(f"re-encrypted {path}")  # noqa: T201
    print("done: install the new key and retire the old one")  # noqa: T201
    return 0


def _guard_user(args: argparse.Namespace) -> int:
    """Print a guard-room login entry (name and Argon2 hash) to paste into the configuration:
    the password is typed twice at a terminal, or read as one line from a pipe."""
    import getpass

    from pydantic import ValidationError

    from edge_agent.guard_room.auth import hash_password
    from edge_agent.guard_room.config import GuardUser

    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            print("gridgate-edge guard-user: the passwords differ", file=sys.stderr)  # noqa: T201
            return 2
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        print("gridgate-edge guard-user: use at least 8 characters", file=sys.stderr)  # noqa: T201
        return 2
    try:
        user = GuardUser(name=args.name, password_hash=hash_password(password))
    except ValidationError as exc:
        print(f"gridgate-edge guard-user: {exc.errors()[0]['msg']}", file=sys.stderr)  # noqa: T201
        return 2
    print("# under guard_room.users in the edge configuration:")  # noqa: T201
    print(f"- name: {user.name}\n  password_hash: '{user.password_hash}'")  # noqa: T201
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
    gallery = sub.add_parser("gallery", help="template key management")
    gallery_sub = gallery.add_subparsers(dest="gallery_command", required=True)
    new_key = gallery_sub.add_parser("new-key", help="create a template encryption key file")
    new_key.add_argument("path", type=Path)
    rotate = gallery_sub.add_parser(
        "rotate-key", help="re-encrypt the gallery and stranger store under a new key"
    )
    rotate.add_argument("--store-dir", type=Path, required=True, help="folder of the stores")
    rotate.add_argument("--old-key", type=Path, required=True)
    rotate.add_argument("--new-key", type=Path, required=True)
    calibrate = sub.add_parser(
        "calibrate",
        help="check the thresholds against this compound's enrolled templates and strangers",
    )
    calibrate.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    calibrate.add_argument("--report", type=Path, default=None, help="also write it here (JSON)")
    guard_user = sub.add_parser("guard-user", help="guard-room logins")
    guard_sub = guard_user.add_subparsers(dest="guard_command", required=True)
    add_guard = guard_sub.add_parser(
        "add", help="print a login entry (name and Argon2 hash) for guard_room.users"
    )
    add_guard.add_argument("name", help="the guard's login name")
    args = parser.parse_args(argv)
    if args.command == "guard-user":
        return _guard_user(args)
    if args.command == "calibrate":
        from edge_agent.gallery.selfcheck import run_self_check

        configure_logging("WARNING")
        return run_self_check(args.config, args.report)
    if args.command == "gallery":
        return _gallery(args)
    if args.command == "models":
        configure_logging("WARNING")
        logging.getLogger("edge_agent").setLevel(logging.INFO)
        return _models(args)
    return standard_main(args, parser, EdgeConfig, EdgeAgent, lambda c: c.logging)
