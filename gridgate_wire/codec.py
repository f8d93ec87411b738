"""Encoding and strict decoding of messages."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import ValidationError

from gridgate_wire.alarms import DoorAlarm, DoorRelease, RemoteUnlock
from gridgate_wire.catalog import BY_KIND
from gridgate_wire.errors import DecodeError, PayloadTooLarge, TopicError, UnknownSchemaVersion
from gridgate_wire.messages import (
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
from gridgate_wire.passes import PassAck, PassUpdate, WalkInPass
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
    Channel.PASS_ACK: PassAck,
    Channel.WALK_IN: WalkInPass,
    Channel.DOOR_ALARM: DoorAlarm,
    Channel.DOOR_RELEASE: DoorRelease,
    Channel.PASSES: PassUpdate,
    Channel.UNLOCK: RemoteUnlock,
}
LARGEST_MESSAGE = max(m.MAX_BYTES for m in BY_KIND.values())

# What a receiver can store and act on, checked before the schema: nesting deeper than any
# message has (a roster entry's credential is 4 levels down), integers a 64-bit column holds
# (a digit string is refused before Python converts it, which is quadratic and capped), and
# text PostgreSQL accepts (no NUL; no lone surrogate, which a JSON \u escape can carry).
MAX_DEPTH = 16
INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
_MAX_DIGITS = 19
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def encode(message: Message) -> bytes:
    """Serialise a message to compact UTF-8 JSON, leaving out fields that are null.

    Every nullable field defaults to null (tests/test_wire.py checks it), so absent and null
    decode to the same message; leaving them out is what lets a newer sender talk to an older
    receiver for as long as it does not use a field the receiver does not know.
    """
    return message.model_dump_json(exclude_none=True).encode()


def _field_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(f".{item}" if parts else item)
    return "".join(parts) or "$"


def _int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_DIGITS:
        raise DecodeError("$", f"integer of {len(text)} digits is beyond the 64-bit range")
    value = int(text)
    if not INT_MIN <= value <= INT_MAX:
        raise DecodeError("$", "integer beyond the 64-bit range")
    return value


def _needs_walk(payload: bytes) -> bool:
    """Whether :func:`check_values` can find anything: NUL and surrogates reach a string only
    through a \\u escape (raw ones are invalid JSON or invalid UTF-8), integers are checked as
    they are parsed, and nesting needs more brackets than the limit."""
    return b"\\u" in payload or payload.count(b"[") + payload.count(b"{") > MAX_DEPTH


def _constant(text: str) -> float:
    raise DecodeError("$", f"{text} is not a JSON number")


def _bad_text(value: str) -> str | None:
    found = _BAD_TEXT.search(value)
    if found is None:
        return None
    char = found.group()
    return "text must not contain NUL" if char == "\x00" else "text has a lone surrogate"


def check_values(raw: Any) -> None:
    """Refuse what no receiver may store: deep nesting, out-of-range integers, NUL and lone
    surrogates in any string (keys included). Raises :class:`DecodeError` naming the field."""
    stack: list[tuple[Any, str, int]] = [(raw, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise DecodeError(path or "$", f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                problem = _bad_text(key)
                if problem is not None:
                    raise DecodeError(path or "$", f"field name: {problem}")
                stack.append((item, f"{path}.{key}" if path else key, depth + 1))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                stack.append((item, f"{path}[{index}]", depth + 1))
        elif isinstance(value, str):
            problem = _bad_text(value)
            if problem is not None:
                raise DecodeError(path or "$", problem)
        elif type(value) is int and not INT_MIN <= value <= INT_MAX:
            raise DecodeError(path or "$", "integer beyond the 64-bit range")


def _loads(payload: bytes) -> Any:
    try:
        return json.loads(payload, parse_int=_int, parse_constant=_constant)
    except DecodeError:
        raise
    except RecursionError as exc:
        raise DecodeError("$", f"nested deeper than {MAX_DEPTH} levels") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DecodeError("$", f"not valid UTF-8 JSON: {exc}") from exc
    except (ValueError, TypeError, OverflowError, MemoryError) as exc:
        raise DecodeError("$", f"not decodable JSON: {type(exc).__name__}") from exc


def decode(payload: bytes, expected: type[M]) -> M:
    """Decode ``payload`` as a message of kind ``expected``, strictly.

    Raises :class:`DecodeError` (or a subclass) naming the first offending field.
    """
    if len(payload) > expected.MAX_BYTES:
        raise PayloadTooLarge(len(payload), expected.MAX_BYTES)
    if not isinstance(payload, bytes):
        raise DecodeError("$", "payload must be bytes")
    raw = _loads(payload)
    if _needs_walk(payload):
        check_values(raw)
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
        errors = exc.errors(include_url=False)
        if not errors:
            raise DecodeError("$", "invalid") from exc
        first = errors[0]
        raise DecodeError(_field_path(first["loc"])[:128], str(first["msg"])[:500]) from exc
    except (ValueError, TypeError, RecursionError) as exc:
        raise DecodeError("$", f"not decodable: {type(exc).__name__}") from exc


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
