"""Door actuators behind one interface. Fail-secure: any error leaves the door locked.

``log`` (default) only logs; ``http_relay`` calls a relay board's HTTP endpoint; ``gpio`` drives
a line through libgpiod. Tests use :class:`RecordingActuator` (no door hardware runs here).
"""

from __future__ import annotations

import logging
import threading
import urllib.request
from abc import ABC, abstractmethod
from typing import Annotated, Any, Literal

from pydantic import Field

from gridgate_core.config import StrictModel

_LOGGER = logging.getLogger(__name__)


class LogActuatorConfig(StrictModel):
    type: Literal["log"] = Field(default="log", description="Only log openings (no hardware).")


class HttpRelayConfig(StrictModel):
    type: Literal["http_relay"] = Field(description="A relay board with an HTTP API.")
    url: str = Field(description="URL that opens the door, {seconds} is replaced; POSTed to.")
    timeout_s: float = Field(default=1.0, gt=0, le=10, description="Request time-out.")


class GpioConfig(StrictModel):
    type: Literal["gpio"] = Field(description="A GPIO line through libgpiod.")
    chip: str = Field(default="/dev/gpiochip0", description="GPIO chip device.")
    line: int = Field(ge=0, description="Line offset that drives the lock relay.")
    active_high: bool = Field(default=True, description="Whether high opens the lock.")


ActuatorConfig = Annotated[
    LogActuatorConfig | HttpRelayConfig | GpioConfig, Field(discriminator="type")
]


class Actuator(ABC):
    """Opens one gate's door for a while. ``open`` returns False when it could not."""

    @abstractmethod
    def open(self, seconds: float) -> bool: ...


class LogActuator(Actuator):
    def __init__(self, gate: str) -> None:
        self.gate = gate

    def open(self, seconds: float) -> bool:
        _LOGGER.info("door %s: open for %.1f s", self.gate, seconds)
        return True


class RecordingActuator(Actuator):
    """Stands in for door hardware in tests: records each opening."""

    def __init__(self) -> None:
        self.openings: list[float] = []

    def open(self, seconds: float) -> bool:
        self.openings.append(seconds)
        return True


class HttpRelayActuator(Actuator):
    def __init__(self, config: HttpRelayConfig) -> None:
        self.config = config

    def open(self, seconds: float) -> bool:
        url = self.config.url.replace("{seconds}", f"{seconds:g}")
        if not url.startswith(("http://", "https://")):
            _LOGGER.error("relay URL %s is not http(s); door stays locked", url)
            return False
        try:
            request = urllib.request.Request(url, method="POST")  # noqa: S310 - checked above
            with urllib.request.urlopen(request, timeout=self.config.timeout_s) as reply:  # noqa: S310
                return 200 <= int(reply.status) < 300
        except OSError as exc:
            _LOGGER.error("relay %s failed: %s; door stays locked", url, exc)  # noqa: TRY400
            return False


class GpioActuator(Actuator):
    def __init__(self, config: GpioConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        try:
            import gpiod  # type: ignore[import-not-found]
        except ImportError as exc:
            raise RuntimeError(
                "the gpio actuator needs the gpiod package (pip install gpiod)"
            ) from exc
        self._gpiod: Any = gpiod

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


def create_actuator(config: Any, gate: str) -> Actuator:
    if isinstance(config, HttpRelayConfig):
        return HttpRelayActuator(config)
    if isinstance(config, GpioConfig):
        return GpioActuator(config)
    return LogActuator(gate)
