"""Encoding and strict decoding of messages."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import ValidationError

from gridgate_wire.errors import DecodeError, PayloadTooLarge, TopicError, UnknownSchemaVersion
from gridgate_wire.messages import (
    BY_KIND,
    AlertSuppression,
    EdgeAlert,
    EdgeEvent,
    EdgeStatus,
    EnrolmentConfirmation,
    EnrolmentInvitation,
    ErasureCommand,
    ErasureConfirmation,
    HubAck,
    Message,
    RosterAck,
    RosterUpdate,
    WorkerTask,
)
from gridgate_wire.topics import Channel, Direction, parse_topic

M = TypeVar("M", bound=Message)

CHANNEL_KIND: dict[Channel, type[Message]] = {
    Channel.EVENT: EdgeEvent,
    Channel.ALERT: EdgeAlert,
    Channel.STATUS: EdgeStatus,
    Channel.ROSTER_ACK: RosterAck,
    Channel.ENROLMENT: EnrolmentConfirmation,
    Channel.ERASURE: ErasureConfirmation,
    Channel.ACK: HubAck,
    Channel.ROSTER: RosterUpdate,
    Channel.ENROL: EnrolmentInvitation,
    Channel.ERASE: ErasureCommand,
    Channel.SUPPRESS: AlertSuppression,
    Channel.TASK: WorkerTask,
}
LARGEST_MESSAGE = max(m.MAX_BYTES for m in BY_KIND.values())


def encode(message: Message) -> bytes:
    """Serialise a message to compact UTF-8 JSON."""
    return message.model_dump_json(exclude_none=False).encode()


def _field_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(f".{item}" if parts else item)
    return "".join(parts) or "$"


def decode(payload: bytes, expected: type[M]) -> M:
    """Decode ``payload`` as a message of kind ``expected``, strictly.

    Raises :class:`DecodeError` (or a subclass) naming the first offending field.
    """
    if len(payload) > expected.MAX_BYTES:
        raise PayloadTooLarge(len(payload), expected.MAX_BYTES)
    try:
        raw: Any = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DecodeError("$", f"not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise DecodeError("$", "payload must be a JSON object")
    kind = raw.get("type")
    if kind != expected.KIND:
        raise DecodeError("type", f"expected {expected.KIND!r}, got {kind!r}")
    version = raw.get("v")
    if type(version) is not int or version not in expected.VERSIONS:
        raise UnknownSchemaVersion(expected.KIND, version, expected.VERSIONS)
    try:
        return expected.model_validate_json(payload, strict=True)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise DecodeError(_field_path(first["loc"]), first["msg"]) from exc


def decode_from_topic(topic: str, payload: bytes) -> Message:
    """Decode a payload by the kind its topic carries, and check the sender matches the topic."""
    try:
        parsed = parse_topic(topic)
    except TopicError as exc:
        raise DecodeError("topic", str(exc)) from exc
    message = decode(payload, CHANNEL_KIND[parsed.channel])
    sender = getattr(message, "edge_id", None)
    if parsed.direction is not Direction.HUB_TO_WORKER and sender != parsed.party_id:
        raise DecodeError("edge_id", f"{sender!r} does not match topic edge {parsed.party_id!r}")
    if parsed.direction is Direction.HUB_TO_WORKER:
        worker = getattr(message, "worker_id", None)
        if worker != parsed.party_id:
            raise DecodeError(
                "worker_id", f"{worker!r} does not match topic worker {parsed.party_id!r}"
            )
    return message
