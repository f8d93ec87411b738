"""Door actuator configurations: one pydantic model per plugin, chosen by ``type``."""

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
