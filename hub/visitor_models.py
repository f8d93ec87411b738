"""Typed views of visitor passes and door alarms (issue 18): what hub.services.passes and
hub.services.doors return and take, and so the API's bodies for them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

from gridgate_wire import DoorAlarmKind, PassKind, PassOrigin, PassSchedule, ReleaseSource
from hub.doors import AlarmState
from hub.models import Body
from hub.passes import PassStatus


class PassWhen(StrEnum):
    """Which passes a list shows."""

    TODAY = "today"  # valid at some time today (local day), not revoked
    ACTIVE = "active"  # not ended and not revoked (valid now or later)
    EXPIRED = "expired"  # ended or revoked
    ALL = "all"


class AlarmsShown(StrEnum):
    """Which door alarms a list shows."""

    OPEN = AlarmState.OPEN.value
    ACKNOWLEDGED = AlarmState.ACKNOWLEDGED.value
    ALL = "all"

    @property
    def state(self) -> AlarmState | None:
        """The one state shown; None: every state."""
        return None if self is AlarmsShown.ALL else AlarmState(self.value)


class PassIn(Body):
    house_id: str = Field(min_length=1, max_length=64)
    kind: PassKind = PassKind.VISITOR
    visitor_name: str = Field(min_length=1, max_length=64, description="The visitor's name.")
    display_name: str = Field(
        default="",
        max_length=64,
        description="What the gates show (e.g. 王女士); else the family name and 访客 (王访客).",
    )
    phone: str = Field(default="", max_length=32)
    purpose: str = Field(default="", max_length=200)
    # With a zone (or Z): a time without one is refused (422), never guessed as UTC or local.
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    max_uses: int | None = Field(default=None, ge=1, le=2**31 - 1)
    gates: list[str] | None = Field(
        default=None, max_length=64, description="Gates the pass opens; none: every gate."
    )
    schedule: PassSchedule | None = Field(
        default=None, description="Weekly windows (long-term passes); none: any time."
    )
    with_qr: bool = True
    with_pin: bool = True


class PassOut(BaseModel):
    pass_id: str
    house_id: str
    house_address: str
    compound_name: str
    kind: PassKind
    origin: PassOrigin
    status: PassStatus
    display_name: str
    visitor_name: str | None = Field(
        description="None where the reader may not see it (a house outside their grid)."
    )
    phone: str | None
    purpose: str | None
    valid_from: datetime
    valid_until: datetime
    max_uses: int | None
    gates: list[str] | None
    schedule: PassSchedule | None
    issued_by: str
    issued_at: datetime
    revoked_at: datetime | None
    revoke_reason: str


class IssuedPassOut(BaseModel):
    """The pass and its credentials, shown once: the hub keeps only their salted hashes."""

    visitor_pass: PassOut
    qr: str | None = Field(description="The QR code's content (GGP/<pass id>/<token>).")
    pin: str | None
    edges: int = Field(description="Edges the pass is on its way to.")
    unknown_gates: list[str] = Field(
        default_factory=list,
        description=(
            "Gates of the pass the hub has seen no passage or alarm at (a typo, or a gate not "
            "used yet): a warning, the pass is issued; an edge refuses it at a gate it lacks."
        ),
    )


class RevokeIn(Body):
    reason: str = Field(min_length=1, max_length=200)


class DoorAlarmOut(BaseModel):
    alarm_id: str
    edge_id: str
    compound_id: str
    compound_name: str
    kind: DoorAlarmKind
    priority: int = Field(description="0 urgent (duress), 1 high (forced open), 2 normal.")
    silent: bool
    gate: str
    lane: int
    occurred_at: datetime
    open_seconds: float | None
    house_address: str | None
    who: str | None = Field(description="The resident's name or the pass's display name.")
    note: str
    state: AlarmState
    cleared_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    ack_note: str


class AlarmAckIn(Body):
    note: str = Field(default="", max_length=500)


class UnlockIn(Body):
    edge_id: str = Field(min_length=1, max_length=64)
    gate: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    lane: int = Field(default=0, ge=0, le=255)
    reason: str = Field(min_length=1, max_length=200)
    command_id: UUID | None = Field(
        default=None,
        description=(
            "A UUIDv7 the caller chose; a retry with the same id sends the same command again "
            "(the edge opens once per command id) and is audited once. None: a new command."
        ),
    )


class UnlockOut(BaseModel):
    command_id: str
    edge_id: str
    gate: str
    expires_at: datetime


class DoorReleaseOut(BaseModel):
    """A door an edge opened (or refused to) without a credential, as the edge reported it."""

    edge_id: str
    compound_name: str
    gate: str
    lane: int
    occurred_at: datetime
    source: ReleaseSource
    command_id: str | None = Field(description="The remote unlock it answers (centre only).")
    actor: str
    reason: str
    opened: bool
    detail: str = Field(description="Why it did not open.")


class DoorPlace(BaseModel):
    """An edge the user may open doors of, with the gates the hub has seen it report."""

    edge_id: str
    compound_name: str
    gates: list[str]
