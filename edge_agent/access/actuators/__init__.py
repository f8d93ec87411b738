"""Door actuators: a base class and a registry keyed by the config's ``type``.

``log`` (default) only logs; ``http_relay`` calls a relay board's HTTP endpoint; ``gpio`` drives
a line through libgpiod. No door hardware runs in the tests: they register doubles
(``tests/doubles.py``).
"""

from edge_agent.access.actuators.base import (
    Actuator,
    DoorContact,
    DoorState,
    GateDoor,
    create_actuator,
    register_actuator,
)
from edge_agent.access.actuators.config import (
    ActuatorConfig,
    GpioConfig,
    HttpRelayConfig,
    LogActuatorConfig,
)

__all__ = [
    "Actuator",
    "ActuatorConfig",
    "DoorContact",
    "DoorState",
    "GateDoor",
    "GpioConfig",
    "HttpRelayConfig",
    "LogActuatorConfig",
    "create_actuator",
    "register_actuator",
]
