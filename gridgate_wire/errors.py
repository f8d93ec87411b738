"""Exception tree of the wire contract.

WireError
├── DecodeError            payload is not a valid message (names the field)
│   ├── PayloadTooLarge    payload exceeds the per-kind size limit
│   └── UnknownSchemaVersion
└── TopicError             topic is not part of the tree, or does not fit the sender
"""

from __future__ import annotations


class WireError(Exception):
    """Base class of every error raised by :mod:`gridgate_wire`."""


class DecodeError(WireError):
    """A payload could not be decoded into a message.

    ``field`` is a dotted path to the offending field (``"$"`` for the whole payload) and
    ``reason`` says what is wrong with it, so a dead-letter record is readable on its own.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class PayloadTooLarge(DecodeError):
    """The payload is larger than its message kind allows."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__("$", f"payload of {size} bytes exceeds the limit of {limit} bytes")
        self.size = size
        self.limit = limit


class UnknownSchemaVersion(DecodeError):
    """The message names a schema version this receiver does not understand."""

    def __init__(self, kind: str, version: object, supported: tuple[int, ...]) -> None:
        super().__init__(
            "v", f"unsupported schema version {version!r} for {kind}; supported: {supported}"
        )
        self.kind = kind
        self.version = version


class TopicError(WireError):
    """A topic is malformed, unknown, or does not match the message's sender."""
