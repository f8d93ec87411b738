"""Door actuator and door-contact interfaces and registries. Fail-secure: any actuator error
leaves the door locked.

An actuator opens one gate's lock for a while. A door contact is the door's own open or closed
state (a reed switch), for the "held open" and "forced open" alarms: a :class:`DoorContact`
reports every change to the callback it is started with (the runtime's door service); the door
path never depends on one. Contacts are chosen by their config's ``type`` like actuators:
``http`` (the door controller POSTs its state to the edge) or ``gpio`` (libgpiod).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from edge_agent.access.actuators.config import ActuatorConfig, ContactConfig
from edge_agent.plugins import Registry


class DoorState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    UNKNOWN = "unknown"


ContactReport = Callable[[str, int, bool], None]  # (gate, lane, is_open)


class DoorContact:
    """The door's own state, read from a reed switch or the door controller. ``start`` hands
    it the callback each change goes to; ``state`` is the last one seen."""

    def __init__(self, gate: str) -> None:
        self.gate = gate
        self._report: ContactReport | None = None
        self._states: dict[int, DoorState] = {}
        self._lock = threading.Lock()

    def start(self, report: ContactReport) -> None:
        self._report = report

    def stop(self) -> None:
        """Stop reading (a polling thread)."""

    def state(self, lane: int = 0) -> DoorState:
        with self._lock:
            return self._states.get(lane, DoorState.UNKNOWN)

    def changed(self, lane: int, is_open: bool) -> None:
        """A reading: passed on to the callback (every reading; the monitor ignores repeats)."""
        with self._lock:
            self._states[lane] = DoorState.OPEN if is_open else DoorState.CLOSED
        if self._report is not None:
            self._report(self.gate, lane, is_open)


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

_CONTACTS: Registry[str, DoorContact] = Registry(
    "door contact",
    {
        "http": "edge_agent.access.actuators.contacts",
        "gpio": "edge_agent.access.actuators.gpio_contact",
    },
)
register_contact = _CONTACTS.register


def create_actuator(config: ActuatorConfig, gate: str) -> Actuator:
    return _REGISTRY.create(config, gate)


def create_contact(config: ContactConfig, gate: str) -> DoorContact:
    return _CONTACTS.create(config, gate)
