"""Test doubles for what cannot run here (door hardware), registered like real plugins."""

from __future__ import annotations

from dataclasses import dataclass

from edge_agent.access.actuators import Actuator, register_actuator


class RecordingActuator(Actuator):
    """Stands in for door hardware: records each opening."""

    def __init__(self) -> None:
        self.openings: list[float] = []

    def open(self, seconds: float) -> bool:
        self.openings.append(seconds)
        return True


@dataclass(frozen=True)
class RecordingConfig:
    """A configuration naming the double's plugin type (the product's configs never do)."""

    type: str = "recording"


@register_actuator("recording")
def _recording(config: RecordingConfig, gate: str) -> RecordingActuator:
    return RecordingActuator()
