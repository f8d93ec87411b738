"""Test doubles for what cannot run here (door hardware, door contacts), registered like real
plugins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from edge_agent.access.actuators import Actuator, DoorContact, register_actuator, register_contact

if TYPE_CHECKING:
    from edge_agent.runtime import EdgeAgent


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


class FakeContact(DoorContact):
    """Stands in for a door's reed switch: the test opens and closes the door."""

    def set(self, is_open: bool, lane: int = 0) -> None:
        self.changed(lane, is_open)


@register_contact("fake")
def _fake_contact(config: object, gate: str) -> FakeContact:
    return FakeContact(gate)


def fake_contact(agent: EdgeAgent, gate: str) -> FakeContact:
    """Fit ``gate`` of a built (not yet started) agent with a fake door contact."""
    contact = FakeContact(gate)
    agent.contacts[gate] = contact
    return contact
