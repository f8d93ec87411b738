"""Door actuator and door-contact configurations: one pydantic model per plugin, by ``type``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from gridgate_core.config import StrictModel


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


class HttpContactConfig(StrictModel):
    type: Literal["http"] = Field(
        description=(
            "The door controller POSTs /door {gate, lane, state: open|closed|exit_request} "
            "(application/json) to the edge's HTTP endpoint, with the reader token; "
            "exit_request is the exit button (the next opening is not forced)."
        )
    )


class GpioContactConfig(StrictModel):
    type: Literal["gpio"] = Field(description="A reed switch on a GPIO input line (libgpiod).")
    chip: str = Field(default="/dev/gpiochip0", description="GPIO chip device.")
    line: int = Field(ge=0, description="Line offset the door's reed switch is wired to.")
    lane: int = Field(default=0, ge=0, le=255, description="Lane of the door the switch is on.")
    open_when_high: bool = Field(
        default=True, description="Whether a high level means the door is open."
    )
    debounce_ms: int = Field(
        default=50, ge=0, le=5000, description="A level must hold this long to count (bounce)."
    )


ContactConfig = Annotated[HttpContactConfig | GpioContactConfig, Field(discriminator="type")]
