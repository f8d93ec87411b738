"""Door actuator interface and registry. Fail-secure: any error leaves the door locked.

An actuator opens one gate's lock for a while. A door-contact input (the door's own open or
closed state, for "door held open" and "door forced" alarms) is a separate :class:`DoorContact`
an actuator may carry as ``contact``; none is implemented yet, and the door path does not
depend on one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum

from edge_agent.access.actuators.config import ActuatorConfig
from edge_agent.plugins import Registry


class DoorState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    UNKNOWN = "unknown"


class DoorContact(ABC):
    """The door's own state, read from a reed switch or the relay board."""

    @abstractmethod
    def state(self) -> DoorState: ...


class Actuator(ABC):
    """Opens one gate's door for a while. ``open`` returns False when it could not."""

    contact: DoorContact | None = None

    @abstractmethod
    def open(self, seconds: float) -> bool: ...


@dataclass(frozen=True, slots=True)
class GateDoor:
    """A gate's actuator and how long it opens for a granted passage."""

    gate: str
    actuator: Actuator
    open_s: float = 5.0

    def open(self) -> bool:
        return self.actuator.open(self.open_s)


_REGISTRY: Registry[str, Actuator] = Registry(
    "door actuator",
    {
        "log": "edge_agent.access.actuators.log",
        "http_relay": "edge_agent.access.actuators.http_relay",
        "gpio": "edge_agent.access.actuators.gpio",
    },
)
register_actuator = _REGISTRY.register


def create_actuator(config: ActuatorConfig, gate: str) -> Actuator:
    return _REGISTRY.create(config, gate)
