"""``line``: USB card readers in keyboard mode, serial QR scanners and PIN pads typically emit one
credential per line on a device or pipe; this reads them and reopens the device when it goes away.
"""

from __future__ import annotations

import logging
import threading

from edge_agent.access.readers.base import Present, Reader, register_reader
from edge_agent.access.readers.config import LineReaderConfig

_LOGGER = logging.getLogger(__name__)


class LineReader(Reader):
    def __init__(self, config: LineReaderConfig, present: Present) -> None:
        super().__init__(config, present)
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


@register_reader("line")
def _create(config: LineReaderConfig, present: Present) -> LineReader:
    return LineReader(config, present)
