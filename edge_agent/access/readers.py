"""Credential reader plugins. A reader calls ``present(kind, value)`` for each credential read.

``line``: USB card readers in keyboard mode, serial QR scanners and PIN pads typically emit one
credential per line on a device or pipe; this reads them and reopens the device when it goes away.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from edge_agent.config import ReaderConfig

_LOGGER = logging.getLogger(__name__)

Present = Callable[[ReaderConfig, str], None]


class LineReader:
    def __init__(self, config: ReaderConfig, present: Present) -> None:
        self.config = config
        self.present = present
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"reader-{self.config.gate}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                with self.config.path.open("r", encoding="utf-8", errors="replace") as device:
                    backoff = 0.5
                    for line in device:
                        if self._stop.is_set():
                            return
                        value = line.strip()
                        if value:
                            self.present(self.config, value)
            except OSError as exc:
                _LOGGER.warning("reader %s: %s; retrying in %.1f s", self.config.path, exc, backoff)
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 30.0)
