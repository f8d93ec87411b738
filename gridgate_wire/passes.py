"""Visitor passes on the wire: the per-edge pass list (hub -> edge), its acknowledgement and
walk-in passes a guard room registered (edge -> hub).

A pass admits a visitor, a carer or a domestic helper for one host house. It travels to the edge
like the roster: versioned, applied atomically, acknowledged, re-sent until acknowledged, so it
works while the hub is offline. What the edge gets is what it needs to decide at the gate and to
show the guard: a display name, the host house, salted hashes of the QR token and PIN, the
validity window, the number of uses, the gates and an optional schedule. The visitor's full name
and phone stay at the hub, except on a walk-in, which the guard room registered and so already
holds them. No pass carries a face template: a visitor is admitted by QR code or PIN.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gridgate_wire.messages import (
    Big,
    CredentialKind,
    EdgeMessage,
    Id,
    Message,
    UtcTime,
    Version,
)

Count32 = Annotated[int, Field(ge=0, le=2**31 - 1)]
ClockTime = Annotated[
    str,
    Field(
        pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$",
        description="Local wall-clock time HH:MM in the compound's time zone; 24:00 ends a day.",
    ),
]
Weekday = Annotated[int, Field(ge=1, le=7, description="ISO weekday: 1 Monday ... 7 Sunday.")]
Hex64 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Salt = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
Text64 = Annotated[str, Field(max_length=64)]
Text200 = Annotated[str, Field(max_length=200)]


class PassKind(StrEnum):
    VISITOR = "visitor"  # a guest for hours or days
    CARER = "carer"  # a long-term pass, usually with a schedule
    DOMESTIC_HELPER = "domestic_helper"  # 家政 / 保姆: long-term, usually with a schedule


class PassOrigin(StrEnum):
    CENTRE = "centre"  # issued at the hub (community centre page or API)
    GUARD_ROOM = "guard_room"  # registered at the edge's guard room (a walk-in)


class HolidayRule(StrEnum):
    """What a schedule does on a public holiday (from the analyser's calendar)."""

    AS_WEEKDAY = "as_weekday"  # a holiday follows the windows of its own weekday
    CLOSED = "closed"  # no access on a holiday
    AS_SUNDAY = "as_sunday"  # a holiday follows the windows of day 7


class ScheduleWindow(BaseModel):
    """Open on ``days`` from ``start`` to ``end`` (local time). ``end`` before ``start`` runs
    past midnight into the next day (22:00-06:00); ``start == end`` is the whole day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: Annotated[list[Weekday], Field(min_length=1, max_length=7)] = Field(
        description="ISO weekdays the window opens on (1 Monday ... 7 Sunday)."
    )
    start: ClockTime = Field(description="Local time it opens, HH:MM.")
    end: ClockTime = Field(description="Local time it closes, HH:MM; before start: next day.")


class PassSchedule(BaseModel):
    """When a pass (or a gate, or a group) admits: any window open; none open is closed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    windows: Annotated[list[ScheduleWindow], Field(max_length=28)] = Field(
        default=[], description="Weekly windows; open when any is open."
    )
    holidays: HolidayRule = Field(
        default=HolidayRule.AS_WEEKDAY, description="What a public holiday does to the windows."
    )


class PassSecret(BaseModel):
    """A credential of the pass, as ``sha256(salt || value)``: the value never travels, and the
    salt keeps a six-digit PIN from being read back off a table of all PIN hashes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: CredentialKind
    salt: Salt = Field(description="16 random bytes, hex.")
    secret_sha256: Hex64 = Field(description="sha256 of the salt bytes followed by the value.")


class EdgePass(BaseModel):
    """One pass as the edge holds it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pass_id: Id
    kind: PassKind = PassKind.VISITOR
    origin: PassOrigin = PassOrigin.CENTRE
    house_id: Id = Field(description="The host house.")
    display_name: Text64 = Field(
        default="", description="What the guard sees (e.g. 王女士), never the full name and phone."
    )
    secrets: Annotated[list[PassSecret], Field(min_length=1, max_length=4)]
    valid_from: UtcTime
    valid_until: UtcTime
    max_uses: Count32 | None = Field(
        default=None, description="Entries allowed at this edge; None: unlimited in the window."
    )
    gates: Annotated[list[Id], Field(max_length=64)] | None = Field(
        default=None, description="Gates the pass opens; None means every gate."
    )
    schedule: PassSchedule | None = Field(
        default=None, description="When in the window the pass admits; None: any time."
    )

    @model_validator(mode="after")
    def _window(self) -> EdgePass:
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        if len({s.kind for s in self.secrets}) != len(self.secrets):
            raise ValueError("at most one secret of each kind")
        return self


class PassUpdate(Message):
    """Versioned pass list for one edge: a full list, or a delta on ``base_version``.
    ``revoked`` passes stop opening at once; the edge keeps them to say why it refuses."""

    KIND: ClassVar[str] = "pass_update"
    MAX_BYTES: ClassVar[int] = 4 * 1024 * 1024
    type: Literal["pass_update"] = "pass_update"
    edge_id: Id
    pass_version: Version
    base_version: Big | None = Field(
        default=None, description="None for a full list; else the version this delta is on."
    )
    passes: list[EdgePass] = Field(default_factory=list, max_length=5_000)
    revoked: list[Id] = Field(default_factory=list, max_length=5_000)


class PassAck(EdgeMessage):
    """The edge applied (or refused, with ``error``) pass list version ``pass_version``."""

    KIND: ClassVar[str] = "pass_ack"
    type: Literal["pass_ack"] = "pass_ack"
    pass_version: Version
    applied: bool
    error: Annotated[str, Field(max_length=500)] = ""


class WalkInPass(EdgeMessage):
    """A pass the guard room registered (possibly while the hub was offline). It travels through
    the edge's outbox, so it reaches the hub when the hub is back; the hub stores it once by
    ``visitor_pass.pass_id`` and then lists it with the passes it issued."""

    KIND: ClassVar[str] = "walk_in_pass"
    type: Literal["walk_in_pass"] = "walk_in_pass"
    visitor_pass: EdgePass
    visitor_name: Annotated[str, Field(min_length=1, max_length=64)]
    phone: Annotated[str, Field(max_length=32)] = ""
    purpose: Text200 = ""
    registered_by: Id = Field(description="The guard-room login that registered the visitor.")
    registered_at: UtcTime


QR_PREFIX = "GGP"
_QR = re.compile(r"^GGP/([A-Za-z0-9][A-Za-z0-9_.:-]{0,63})/([A-Za-z0-9_-]{16,64})$")


def secret_digest(salt_hex: str, value: str) -> str:
    """``sha256(salt || value)`` as hex: how a pass credential is stored and compared."""
    return hashlib.sha256(bytes.fromhex(salt_hex) + value.encode()).hexdigest()


def make_secret(kind: CredentialKind, value: str) -> PassSecret:
    """A pass credential with a fresh random salt (the hub, or the guard room for a walk-in)."""
    salt = secrets.token_hex(16)
    return PassSecret(kind=kind, salt=salt, secret_sha256=secret_digest(salt, value))


def secret_matches(secret: PassSecret, value: str) -> bool:
    """Constant-time comparison of a presented value with a stored credential."""
    return hmac.compare_digest(secret_digest(secret.salt, value), secret.secret_sha256)


def new_qr_token() -> str:
    return secrets.token_urlsafe(18)


def new_pin(digits: int = 6) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(digits))


def qr_payload(pass_id: str, token: str) -> str:
    """What the QR code (or printed slip) encodes: the pass id to find it, the token to prove it."""
    return f"{QR_PREFIX}/{pass_id}/{token}"


def parse_qr_payload(value: str) -> tuple[str, str] | None:
    """``(pass_id, token)`` of a pass QR code; None for anything else (a resident's QR card)."""
    found = _QR.fullmatch(value)
    return None if found is None else (found.group(1), found.group(2))


PASS_MESSAGES: tuple[type[Message], ...] = (PassUpdate, PassAck, WalkInPass)
