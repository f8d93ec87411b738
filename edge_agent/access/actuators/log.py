"""``log``: no hardware; openings are only logged (the default, and the fallback for a gate
with no configured door)."""

from __future__ import annotations

import logging

from edge_agent.access.actuators.base import Actuator, register_actuator
from edge_agent.access.actuators.config import LogActuatorConfig

_LOGGER = logging.getLogger(__name__)


class LogActuator(Actuator):
    def __init__(self, gate: str) -> None:
        self.gate = gate

    def open(self, seconds: float) -> bool:
        _LOGGER.info("door %s: open for %.1f s", self.gate, seconds)
        return True


@register_actuator("log")
def _create(config: LogActuatorConfig, gate: str) -> LogActuator:
    return LogActuator(gate)
