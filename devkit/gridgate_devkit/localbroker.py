"""A private Mosquitto on a free loopback port, for `make demo` and the tests.

Production brokers are configured by the operator (see configs/mosquitto.example.conf); this
helper exists so that a laptop or a CI machine can run the whole system with one command.
"""

from __future__ import annotations

import getpass
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from gridgate_core.errors import GridgateError


class BrokerUnavailable(GridgateError):
    """No Mosquitto binary, or it would not start."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def find_mosquitto() -> str | None:
    return shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )


class LocalMosquitto:
    """Start, stop, kill and restart a Mosquitto with its own config and data folder."""

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        extra: str = "",
        *,
        allow_anonymous: bool = True,
    ) -> None:
        binary = find_mosquitto()
        if binary is None:
            raise BrokerUnavailable(
                "mosquitto is not installed: `apt-get install mosquitto` (make test and make demo "
                "do this when run as root)"
            )
        self.binary = binary
        self.workdir = workdir
        self.port = port or free_port()
        self.extra = extra
        self.allow_anonymous = allow_anonymous
        self.proc: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def conf(self) -> Path:
        return self.workdir / "mosquitto.conf"

    @property
    def log(self) -> Path:
        return self.workdir / "mosquitto.log"

    def write_conf(self) -> None:
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"allow_anonymous {'true' if self.allow_anonymous else 'false'}",
            f"user {getpass.getuser()}",
            "persistence true",
            f"persistence_location {self.workdir}/",
            # The default of 1,000 queued messages per client drops the rest silently.
            "max_queued_messages 1000000",
            "max_queued_bytes 0",
            "max_inflight_messages 0",
            f"log_dest file {self.log}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            self.extra,
        ]
        self.conf.write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        self.write_conf()
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in a terminal goes to us; we stop it ourselves
        )
        try:
            wait_port(self.port)
        except TimeoutError:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            self.stop()
            raise BrokerUnavailable(f"mosquitto did not start:\n{tail}") from None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()
