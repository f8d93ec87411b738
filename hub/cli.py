"""``gridgate-hub``: run the hub, validate its configuration, add users, import the registry."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from gridgate_core.cli import add_config_arguments, build_parser, load_or_report, standard_main
from hub.config import HubConfig
from hub.runtime import HubService

DEFAULT_CONFIG = Path("/etc/gridgate/hub.yaml")
PASSWORD_ENV = "GRIDGATE_NEW_PASSWORD"  # noqa: S105 - a variable name, not a password


def _engine(args: argparse.Namespace) -> object | None:
    from hub.store.db import make_engine, migrate

    config = load_or_report(args.config, HubConfig)
    if config is None:
        return None
    engine = make_engine(config.database)
    migrate(engine)
    return engine


def _progress(done: int, total: int) -> None:
    width = 40
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * done // max(total, 1)}%")
    sys.stderr.flush()


def _import(args: argparse.Namespace) -> int:
    from sqlalchemy import Engine

    from hub import audit
    from hub.auth import Principal, Role
    from hub.importer import import_csv

    engine = _engine(args)
    if not isinstance(engine, Engine):
        return 2
    operator = Principal("cli", "cli", Role.ADMIN, None, None, None, None)
    path: Path = args.file
    # Streamed (issue 19): the file is read a chunk at a time, twice (check, then insert).
    with path.open("rb") as counting:
        lines = sum(1 for _ in counting)
    with engine.begin() as conn:
        report = import_csv(
            conn,
            args.kind,
            lambda: path.open(encoding="utf-8", newline=""),
            operator,
            progress=_progress,
            total_rows=max(lines - 1, 0),
        )
        if report.ok:
            audit.record(conn, "cli", audit.Action.IMPORT, args.kind, f"{report.imported} rows")
    sys.stderr.write("\n")
    if not report.ok:
        sys.stderr.write(f"{args.file}: nothing imported; {len(report.problems)} problems:\n")
        for problem in report.problems:
            sys.stderr.write(f"  row {problem.row}, {problem.field or '-'}: {problem.reason}\n")
        return 1
    sys.stderr.write(f"{args.file}: imported {report.imported} {args.kind}\n")
    return 0


def _user_add(args: argparse.Namespace) -> int:
    from sqlalchemy import Engine
    from sqlalchemy.exc import IntegrityError

    from hub.auth import Role, create_user

    password = os.environ.get(PASSWORD_ENV) or sys.stdin.readline().rstrip("\n")
    engine = _engine(args)
    if not isinstance(engine, Engine):
        return 2
    try:
        with engine.begin() as conn:
            user_id = create_user(
                conn,
                args.username,
                password,
                Role(args.role),
                area_id=args.area,
                worker_id=args.worker,
            )
    except (ValueError, IntegrityError) as exc:
        sys.stderr.write(f"user not added: {str(exc).splitlines()[0]}\n")
        return 1
    sys.stderr.write(f"added {args.role} {args.username} ({user_id})\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser, sub = build_parser(
        "gridgate-hub", "gridgate hub: ingest, registry, tasks", DEFAULT_CONFIG
    )
    importer = sub.add_parser(
        "import", help="import registry rows from a CSV (all rows or none, with a report)"
    )
    add_config_arguments(importer, DEFAULT_CONFIG)
    importer.add_argument(
        "kind", choices=["areas", "compounds", "houses", "residents", "workers", "edges"]
    )
    importer.add_argument("file", type=Path, help="UTF-8 CSV with a header row")
    user = sub.add_parser("user", help="manage web/API users")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser(
        "add", help=f"add a user; the password is read from ${PASSWORD_ENV} or stdin"
    )
    add_config_arguments(add, DEFAULT_CONFIG)
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["admin", "community_admin", "grid_worker"])
    add.add_argument("--area", help="community area id (community_admin)")
    add.add_argument("--worker", help="worker id (grid_worker)")
    args = parser.parse_args(argv)
    if args.command == "import":
        return _import(args)
    if args.command == "user":
        return _user_add(args)
    return standard_main(
        parser.parse_args(argv), parser, HubConfig, HubService, lambda c: c.logging
    )
