"""``gpio``: a lock relay on a GPIO line through libgpiod (imported only for this type)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from edge_agent.access.actuators.base import Actuator, register_actuator
from edge_agent.access.actuators.config import GpioConfig
from edge_agent.errors import ActuatorError

_LOGGER = logging.getLogger(__name__)


class GpioActuator(Actuator):
    def __init__(self, config: GpioConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        try:
            import gpiod  # type: ignore[import-not-found]
        except ImportError as exc:
            raise ActuatorError(
                "the gpio actuator needs the gpiod package (pip install gpiod)"
            ) from exc
        self._gpiod: Any = gpiod  # libgpiod ships no type hints

    def open(self, seconds: float) -> bool:
        """Energise the line now and release it after ``seconds`` on a timer thread."""
        value_open = 1 if self.config.active_high else 0
        gpiod = self._gpiod
        try:
            with self._lock:
                request = gpiod.request_lines(
                    self.config.chip,
                    consumer="gridgate",
                    config={
                        self.config.line: gpiod.LineSettings(direction=gpiod.line.Direction.OUTPUT)
                    },
                )
                request.set_value(self.config.line, gpiod.line.Value(value_open))
        except Exception:  # fail-secure: hardware errors never leave the door open
            _LOGGER.exception("GPIO actuator failed; door locked")
            return False

        def close() -> None:
            try:
                request.set_value(self.config.line, gpiod.line.Value(1 - value_open))
            finally:
                request.release()

        threading.Timer(seconds, close).start()
        return True


@register_actuator("gpio")
def _create(config: GpioConfig, gate: str) -> GpioActuator:
    return GpioActuator(config)
