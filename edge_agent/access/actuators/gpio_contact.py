"""``gpio`` door contact: a reed switch on a GPIO input through libgpiod (imported only for this
type). A thread waits for edge events on the line; a level counts once it has held for
``debounce_ms`` (the kernel's debounce where the chip has one, a re-read here otherwise)."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from edge_agent.access.actuators.base import ContactReport, DoorContact, register_contact
from edge_agent.access.actuators.config import GpioContactConfig
from edge_agent.errors import ActuatorError

_LOGGER = logging.getLogger(__name__)


class GpioContact(DoorContact):
    def __init__(self, config: GpioContactConfig, gate: str) -> None:
        super().__init__(gate)
        self.config = config
        try:
            import gpiod  # type: ignore[import-not-found]
        except ImportError as exc:
            raise ActuatorError(
                "the gpio door contact needs the gpiod package (pip install gpiod)"
            ) from exc
        self._gpiod: Any = gpiod  # libgpiod ships no type hints
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, report: ContactReport) -> None:
        super().start(report)
        self._thread = threading.Thread(target=self._run, name=f"contact-{self.gate}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)

    def _is_open(self, value: Any) -> bool:
        high = value == self._gpiod.line.Value.ACTIVE
        return high if self.config.open_when_high else not high

    def _run(self) -> None:
        gpiod, line = self._gpiod, self.config.line
        debounce = timedelta(milliseconds=self.config.debounce_ms)
        try:
            settings = gpiod.LineSettings(
                direction=gpiod.line.Direction.INPUT,
                edge_detection=gpiod.line.Edge.BOTH,
                debounce_period=debounce,
            )
            with gpiod.request_lines(
                self.config.chip, consumer="gridgate-contact", config={line: settings}
            ) as request:
                self.changed(self.config.lane, self._is_open(request.get_value(line)))
                while not self._stop.is_set():
                    if request.wait_edge_events(timedelta(seconds=0.5)):
                        request.read_edge_events()
                        self.changed(self.config.lane, self._is_open(request.get_value(line)))
        except Exception:  # the contact is an alarm input: log loudly, the gate keeps working
            _LOGGER.exception("door contact on %s line %d failed", self.config.chip, line)


@register_contact("gpio")
def _create(config: GpioContactConfig, gate: str) -> GpioContact:
    return GpioContact(config, gate)
