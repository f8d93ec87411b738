"""What every gridgate command shares: --version, run --config FILE, --validate-config."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from pydantic import BaseModel

from gridgate_core import __version__
from gridgate_core.config import LoggingConfig, load_config
from gridgate_core.errors import ConfigError, GridgateError
from gridgate_core.logs import configure_logging

_LOGGER = logging.getLogger(__name__)

C = TypeVar("C", bound=BaseModel)


class Service(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


def add_config_arguments(parser: argparse.ArgumentParser, default: Path) -> None:
    parser.add_argument(
        "--config", type=Path, default=default, help=f"YAML configuration (default {default})"
    )
    parser.add_argument(
        "--validate-config",
        action="store_true",
        help="check the configuration, print every error as field path + reason, and exit",
    )


def build_parser(
    prog: str, description: str, default_config: Path
) -> tuple[argparse.ArgumentParser, argparse._SubParsersAction[argparse.ArgumentParser]]:
    """The common parser and its sub-command group, to which a deployable adds its own."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_config_arguments(parser, default_config)
    parser.set_defaults(command=None)
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run the service until SIGTERM or Ctrl-C")
    add_config_arguments(run, default_config)
    return parser, sub


def load_or_report(path: Path, model: type[C]) -> C | None:
    """Load the configuration; on error print every problem to stderr and return None."""
    try:
        return load_config(path, model)
    except ConfigError as exc:
        print(f"{exc.source}: invalid configuration", file=sys.stderr)  # noqa: T201
        for field, reason in exc.errors:
            print(f"  {field}: {reason}", file=sys.stderr)  # noqa: T201
        return None


def validate_only(path: Path, model: type[C]) -> int:
    config = load_or_report(path, model)
    if config is None:
        return 2
    print(f"{path}: configuration is valid")  # noqa: T201
    return 0


def serve(config: C, make: Callable[[C], Service], logging_config: LoggingConfig) -> int:
    """Start a service, wait for SIGINT or SIGTERM, stop it cleanly."""
    configure_logging(logging_config.level, logging_config.format)
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        _LOGGER.info("received %s; stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        service = make(config)
        service.start()
    except GridgateError as exc:
        _LOGGER.error("cannot start: %s", exc)  # noqa: TRY400 - a clear line, not a traceback
        return 1
    stop.wait()
    service.stop()
    return 0


def standard_main(
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
    model: type[C],
    make: Callable[[C], Service],
    logging_of: Callable[[C], LoggingConfig],
) -> int:
    if args.validate_config:
        return validate_only(args.config, model)
    if args.command != "run":
        parser.print_help()
        return 2
    config = load_or_report(args.config, model)
    if config is None:
        return 2
    return serve(config, make, logging_of(config))
