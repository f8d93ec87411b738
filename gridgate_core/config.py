"""Configuration building blocks and the YAML loader.

Every model forbids unknown keys and documents every field, so that a typo fails at start with
its path instead of being silently ignored. Secrets are never in YAML: a config names a secret
(``password_secret: mqtt_password``) and :mod:`gridgate_core.secrets` resolves it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gridgate_core.errors import ConfigError

T = TypeVar("T", bound=BaseModel)

SecretName = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]{0,63}$",
        description="Name of a secret read from $CREDENTIALS_DIRECTORY or GRIDGATE_<NAME>.",
    ),
]


class StrictModel(BaseModel):
    """Base of every configuration model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class TlsConfig(StrictModel):
    ca_file: Path = Field(description="CA certificate bundle that signed the broker's certificate.")
    cert_file: Path | None = Field(
        default=None, description="Client certificate (per-device identity), PEM."
    )
    key_secret: SecretName | None = Field(
        default=None,
        description="Credential name of the client private key file (systemd LoadCredential).",
    )


class MqttConfig(StrictModel):
    host: str = Field(default="127.0.0.1", description="Broker host name or address.")
    port: int = Field(default=1883, ge=1, le=65535, description="Broker TCP port.")
    client_id: str | None = Field(
        default=None,
        max_length=64,
        description="MQTT client id; defaults to the edge or hub instance id.",
    )
    username: str | None = Field(default=None, description="Broker user name, if it needs one.")
    password_secret: SecretName | None = Field(
        default=None, description="Secret holding the broker password."
    )
    protocol: Literal["auto", "5", "3.1.1"] = Field(
        default="auto",
        description="MQTT protocol: 5, 3.1.1, or auto (5, falling back to 3.1.1 if refused).",
    )
    keepalive_s: int = Field(default=30, ge=5, le=3600, description="Keep-alive interval.")
    session_expiry_s: int = Field(
        default=7 * 24 * 3600,
        ge=0,
        description="How long the broker keeps the persistent session while disconnected.",
    )
    reconnect_max_s: float = Field(
        default=30.0, gt=0, le=600, description="Longest wait between reconnection attempts."
    )
    tls: TlsConfig | None = Field(default=None, description="TLS settings; None for plain TCP.")


class LoggingConfig(StrictModel):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Lowest level written."
    )
    format: Literal["text", "json"] = Field(
        default="text", description="text for people, json for journald and log shippers."
    )


def _path_of(loc: tuple[int | str, ...]) -> str:
    out = ""
    for item in loc:
        out += f"[{item}]" if isinstance(item, int) else (f".{item}" if out else str(item))
    return out or "<root>"


def validation_errors(exc: ValidationError) -> list[tuple[str, str]]:
    return [(_path_of(err["loc"]), err["msg"]) for err in exc.errors(include_url=False)]


def parse_config(data: object, model: type[T], source: str = "<data>") -> T:
    """Validate parsed data against ``model``; raise :class:`ConfigError` with every error."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(source, [("<root>", "the file must hold a mapping of settings")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, validation_errors(exc)) from exc


def load_config(path: Path, model: type[T]) -> T:
    """Read a YAML file into ``model``; every problem becomes a :class:`ConfigError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [("<file>", f"cannot read: {exc.strerror or exc}")]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "<file>"
        raise ConfigError(str(path), [(where, f"not valid YAML: {exc}")]) from exc
    return parse_config(data, model, str(path))
