"""Doors on the wire: door alarms and door releases (edge -> hub), remote unlock (hub -> edge).

A door alarm is raised by the edge's door monitor (held open, forced open), by the passage path
(tailgating) or by a duress PIN (silent: the door opens as usual and nothing shows at the gate).
A held-open alarm is ``cleared`` by a second message once the door closes. A door release is the
record of a door opened without a credential: by a remote unlock from the centre or by hand at
the guard room, with who asked and why. A remote unlock carries an expiry, so a command that sat
in a broker queue while the edge was offline never opens a door hours later.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from gridgate_wire.messages import EdgeMessage, Id, Message, MessageId, UtcTime

Lane = Annotated[int, Field(ge=0, le=255)]
Seconds = Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]


class DoorAlarmKind(StrEnum):
    HELD_OPEN = "held_open"  # open past the configured limit
    FORCED_OPEN = "forced_open"  # opened with no grant within the grant window
    TAILGATING = "tailgating"  # more people passed than were granted
    DURESS = "duress"  # a duress PIN was entered: the door opened, the alarm is silent


class AlarmPhase(StrEnum):
    RAISED = "raised"
    CLEARED = "cleared"  # the condition ended (the held door closed)


class DoorAlarm(EdgeMessage):
    """One door alarm, raised or cleared. ``id`` is the alarm id; a clearing names the raising
    one in ``raised_id``."""

    KIND: ClassVar[str] = "door_alarm"
    type: Literal["door_alarm"] = "door_alarm"
    kind: DoorAlarmKind
    phase: AlarmPhase = AlarmPhase.RAISED
    raised_id: MessageId | None = Field(
        default=None, description="For a clearing: the id of the alarm it clears."
    )
    occurred_at: UtcTime
    gate: Id
    lane: Lane = 0
    open_seconds: Seconds | None = Field(
        default=None, description="How long the door had been open (held_open)."
    )
    event_id: MessageId | None = Field(
        default=None, description="The passage event behind the alarm (tailgating, duress)."
    )
    house_id: Id | None = Field(default=None, description="House of the resident or pass host.")
    resident_id: Id | None = Field(default=None, description="Who entered a duress PIN.")
    pass_id: Id | None = Field(default=None, description="Pass that entered a duress PIN.")
    silent: bool = Field(
        default=False, description="Shown at the centre only, never at the gate (duress)."
    )
    note: Annotated[str, Field(max_length=200)] = ""

    @model_validator(mode="after")
    def _phase(self) -> DoorAlarm:
        if (self.phase is AlarmPhase.CLEARED) != (self.raised_id is not None):
            raise ValueError("raised_id is set exactly when phase is cleared")
        return self


class ReleaseSource(StrEnum):
    CENTRE = "centre"  # a remote unlock command from the hub
    GUARD_ROOM = "guard_room"  # the guard opened the door by hand on the guard-room page


class RemoteUnlock(Message):
    """Open ``gate`` once, now. Sent by the hub for a user whose role allows it, with a reason;
    the hub audits the request and the edge answers with a :class:`DoorRelease`."""

    KIND: ClassVar[str] = "remote_unlock"
    type: Literal["remote_unlock"] = "remote_unlock"
    edge_id: Id
    gate: Id
    lane: Lane = 0
    actor: Id = Field(description="The hub user who asked.")
    reason: Annotated[str, Field(min_length=1, max_length=200)]
    expires_at: UtcTime = Field(description="The edge refuses the command after this time.")


class DoorRelease(EdgeMessage):
    """A door opened (or refused to open) without a credential, with who asked and why."""

    KIND: ClassVar[str] = "door_release"
    type: Literal["door_release"] = "door_release"
    source: ReleaseSource
    command_id: MessageId | None = Field(
        default=None, description="The remote_unlock it answers; None for the guard room."
    )
    occurred_at: UtcTime
    gate: Id
    lane: Lane = 0
    actor: Id
    reason: Annotated[str, Field(min_length=1, max_length=200)]
    opened: bool
    detail: Annotated[str, Field(max_length=200)] = Field(
        default="", description="Why it did not open (expired, unknown gate, throttled, relay)."
    )

    @model_validator(mode="after")
    def _source(self) -> DoorRelease:
        if (self.source is ReleaseSource.CENTRE) != (self.command_id is not None):
            raise ValueError("command_id is set exactly when source is centre")
        return self


DOOR_MESSAGES: tuple[type[Message], ...] = (DoorAlarm, RemoteUnlock, DoorRelease)
