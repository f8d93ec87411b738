"""Door actuators: a base class and a registry keyed by the config's ``type``.

``log`` (default) only logs; ``http_relay`` calls a relay board's HTTP endpoint; ``gpio`` drives
a line through libgpiod. Door contacts (``http``: the door controller posts its state;
``gpio``: a reed switch) feed the door monitor. No door hardware runs in the tests: they
register doubles (``tests/doubles.py``).
"""

from edge_agent.access.actuators.base import (
    Actuator,
    ContactReport,
    DoorContact,
    DoorState,
    GateDoor,
    create_actuator,
    create_contact,
    register_actuator,
    register_contact,
)
from edge_agent.access.actuators.config import (
    ActuatorConfig,
    ContactConfig,
    GpioConfig,
    GpioContactConfig,
    HttpContactConfig,
    HttpRelayConfig,
    LogActuatorConfig,
)

__all__ = [
    "Actuator",
    "ActuatorConfig",
    "ContactConfig",
    "ContactReport",
    "DoorContact",
    "DoorState",
    "GateDoor",
    "GpioConfig",
    "GpioContactConfig",
    "HttpContactConfig",
    "HttpRelayConfig",
    "LogActuatorConfig",
    "create_actuator",
    "create_contact",
    "register_actuator",
    "register_contact",
]
