"""Exception tree of the shared runtime.

GridgateError
├── ConfigError          configuration file missing, unreadable or invalid (lists every error)
├── SecretError          a named secret is not available
└── MqttError
    ├── ConnectRefused   the broker answered CONNACK with a failure reason code
    ├── ConnectTimeout   no CONNACK within the time allowed
    └── NotConnected     an operation needs a live connection and there is none
"""

from __future__ import annotations


class GridgateError(Exception):
    """Base class of gridgate's runtime errors."""


class ConfigError(GridgateError):
    """Invalid configuration. ``errors`` holds (field path, reason) pairs, all of them."""

    def __init__(self, source: str, errors: list[tuple[str, str]]) -> None:
        lines = "\n".join(f"  {path}: {reason}" for path, reason in errors)
        super().__init__(f"invalid configuration in {source}:\n{lines}")
        self.source = source
        self.errors = errors


class SecretError(GridgateError):
    """A secret named by the configuration could not be read."""


class MqttError(GridgateError):
    """Base class of MQTT link errors."""


class ConnectRefused(MqttError):
    """The broker refused the connection (bad credentials, not authorised, bad protocol...)."""

    def __init__(self, reason: str, code: int) -> None:
        super().__init__(f"broker refused the connection: {reason} (code {code})")
        self.reason = reason
        self.code = code


class ConnectTimeout(MqttError):
    """No answer from the broker in time."""


class NotConnected(MqttError):
    """The link is not connected."""
