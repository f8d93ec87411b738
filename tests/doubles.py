"""Test doubles for what cannot run here (door hardware), registered like real plugins."""

from __future__ import annotations

from edge_agent.access.actuators import Actuator


class RecordingActuator(Actuator):
    """Stands in for door hardware: records each opening."""

    def __init__(self) -> None:
        self.openings: list[float] = []

    def open(self, seconds: float) -> bool:
        self.openings.append(seconds)
        return True
