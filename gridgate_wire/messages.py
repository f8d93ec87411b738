"""Message schemas of the wire contract.

Every message carries ``type`` (its kind), ``v`` (schema version of that kind), ``id`` (a UUIDv7)
and ``ts`` (UTC time it was written). Messages from an edge also carry ``edge_id`` and ``seq``,
the edge's monotonic sequence number over everything it sends durably (events, alerts and
confirmations); ``status`` carries the highest ``seq`` issued when it was written, so the hub can
spot gaps even from a last will.

Privacy: no schema here has a field for an image or a face template. Residents and houses are
named by pseudonymous ids (a roster entry may add its house's label, for the guard room of the
compound it is in; never a resident's name); strangers are never named at all outside the edge.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
Seq = Annotated[int, Field(ge=1, le=2**63 - 1)]
# Integers stored in BIGINT columns (or compared with them) and in INTEGER columns: the schema
# refuses what the hub's databases cannot hold, so no valid message can fail to be stored.
Big = Annotated[int, Field(ge=0, le=2**63 - 1)]
Count = Annotated[int, Field(ge=0, le=2**31 - 1)]
Version = Annotated[int, Field(ge=1, le=2**63 - 1)]
Score = Annotated[float, Field(ge=-1.0, le=1.0, allow_inf_nan=False)]
Unit = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


def _must_be_utc(value: datetime) -> datetime:
    offset = value.utcoffset()
    if offset is None or offset.total_seconds() != 0:
        raise ValueError("timestamp must be in UTC (offset +00:00 or Z)")
    return value.astimezone(UTC)


UtcTime = Annotated[AwareDatetime, AfterValidator(_must_be_utc)]


def _is_uuid7(value: uuid.UUID) -> uuid.UUID:
    if value.version != 7:
        raise ValueError("id must be a UUID version 7")
    return value


MessageId = Annotated[uuid.UUID, AfterValidator(_is_uuid7)]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Message(BaseModel):
    """Fields common to every message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    KIND: ClassVar[str]
    VERSIONS: ClassVar[tuple[int, ...]] = (1,)
    MAX_BYTES: ClassVar[int] = 64 * 1024

    v: int = Field(default=1, description="Schema version of this message kind.")
    id: MessageId = Field(description="Unique message id (UUIDv7).")
    ts: UtcTime = Field(description="When the sender wrote the message (UTC).")


class EdgeMessage(Message):
    """A message sent by an edge agent."""

    edge_id: Id = Field(description="The sending edge's id; must match the topic.")
    seq: Seq = Field(description="The edge's monotonic sequence number.")
    epoch: Id | None = Field(
        default=None,
        description=(
            "Identity of the edge's event store: new when the store is created, emptied, "
            "replaced or set aside as corrupt, so seq numbers restart only with a new epoch. "
            "None from edges older than this field."
        ),
    )


# ---------------------------------------------------------------------------------- edge -> hub


class PassageMethod(StrEnum):
    FACE = "face"
    CARD = "card"
    QR = "qr"
    PIN = "pin"


class PassageDirection(StrEnum):
    IN = "in"
    OUT = "out"
    UNKNOWN = "unknown"


class Decision(StrEnum):
    GRANT = "grant"
    DENY = "deny"


class SubjectKind(StrEnum):
    RESIDENT = "resident"
    STRANGER = "stranger"
    UNKNOWN = "unknown"
    VISITOR = "visitor"  # a pass holder (gridgate_wire.passes); house_id is the host house


class EdgeEvent(EdgeMessage):
    """One passage (or refused passage) at a gate. ``id`` is the event id."""

    KIND: ClassVar[str] = "edge_event"
    type: Literal["edge_event"] = "edge_event"
    occurred_at: UtcTime = Field(description="When the passage happened.")
    gate: Id
    lane: Annotated[int, Field(ge=0, le=255)] = 0
    direction: PassageDirection
    method: PassageMethod
    subject: SubjectKind
    resident_id: Id | None = Field(
        default=None, description="Pseudonymous resident id; set only for residents."
    )
    house_id: Id | None = None
    score: Score | None = Field(default=None, description="Match score (face only).")
    quality: Unit | None = Field(default=None, description="Face quality score (face only).")
    decision: Decision
    reason: Annotated[str, Field(max_length=200)] = ""
    tailgating: bool = False
    pass_id: Id | None = Field(
        default=None, description="The visitor pass presented; set exactly for subject visitor."
    )

    @model_validator(mode="after")
    def _visitor(self) -> EdgeEvent:
        if (self.subject is SubjectKind.VISITOR) != (self.pass_id is not None):
            raise ValueError("pass_id is set exactly when subject is visitor")
        return self


class AlertKind(StrEnum):
    MOVE_OUT = "move_out"
    VACANCY = "vacancy"
    NEW_OCCUPANT = "new_occupant"
    WELFARE_CHECK = "welfare_check"


class AlertContext(StrEnum):
    """Circumstances around an alert that a grid worker should know before visiting."""

    HOLIDAY = "holiday"  # the absence overlaps a public holiday (e.g. Spring Festival)
    RECORDING_GAP = "recording_gap"  # the edge or a gate recorded nothing for part of the time
    LAST_SEEN_GOING_OUT = "last_seen_going_out"  # more likely a trip than trouble at home
    LAST_SEEN_GOING_IN = "last_seen_going_in"  # went in and has not come out since
    HOUSEHOLD_STILL_SEEN = "household_still_seen"  # others of the house still pass the gates
    HOUSEHOLD_ALL_UNSEEN = "household_all_unseen"  # nobody of the house passes any more
    PRESENCE_DECLINE = "presence_decline"  # still seen now and then, far less than before
    REPORTED_AWAY_OVERDUE = "reported_away_overdue"  # was reported away; not back by that date
    NIGHTS_AT_HOUSE = "nights_at_house"  # a stranger comes in at night and leaves in the morning


class AlertAdvice(StrEnum):
    """What the alert suggests the worker does first."""

    VISIT = "visit"
    VISIT_URGENTLY = "visit_urgently"
    CALL_FAMILY_FIRST = "call_family_first"


class AlertEvidence(BaseModel):
    """Counts and times behind an alert. Never names a stranger or carries biometrics."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_seen: UtcTime | None = None
    last_seen: UtcTime | None = None
    last_gate: Id | None = Field(default=None, description="Gate of the last passage seen.")
    last_direction: PassageDirection | None = Field(
        default=None, description="Direction of the last passage seen."
    )
    days_observed: Annotated[int, Field(ge=0, le=10_000)] = 0
    days_seen: Annotated[int, Field(ge=0, le=10_000)] = 0
    passages: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    nights: Annotated[int, Field(ge=0, le=10_000)] = 0
    co_passages: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    hours_unseen: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)] | None = None
    usual_days_per_week: Annotated[float, Field(ge=0, le=7, allow_inf_nan=False)] | None = Field(
        default=None, description="On how many days a week this person usually passes a gate."
    )
    usual_passes_per_day: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)] | None = (
        Field(default=None, description="Passages on a day this person is seen, usually.")
    )
    household_size: Annotated[int, Field(ge=0, le=1000)] | None = Field(
        default=None, description="Registered residents of the house."
    )
    household_seen: Annotated[int, Field(ge=0, le=1000)] | None = Field(
        default=None, description="Of them, seen at a gate in the last 7 days."
    )
    unrecorded_hours: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)] = Field(
        default=0.0, description="Hours of the absence during which the edge recorded nothing."
    )
    holiday: Annotated[str, Field(max_length=64)] = Field(
        default="", description="Name of the public holiday the absence overlaps, if any."
    )
    context: Annotated[list[AlertContext], Field(max_length=16)] = []
    advice: AlertAdvice = AlertAdvice.VISIT
    note: Annotated[str, Field(max_length=500)] = ""
    pass_id: Id | None = Field(
        default=None,
        description="The visitor pass a new occupant holds (the hub has the holder's name).",
    )


class EdgeAlert(EdgeMessage):
    """An occupancy-change alert about one house (or a building when no house is known)."""

    KIND: ClassVar[str] = "edge_alert"
    type: Literal["edge_alert"] = "edge_alert"
    kind: AlertKind
    compound_id: Id
    house_id: Id | None = None
    building_id: Id | None = None
    resident_id: Id | None = None
    detected_at: UtcTime
    confidence: Unit
    evidence: AlertEvidence


class EdgeState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class EdgeStatus(Message):
    """Retained state of an edge; its last will says ``offline``."""

    KIND: ClassVar[str] = "edge_status"
    type: Literal["edge_status"] = "edge_status"
    edge_id: Id = Field(description="The sending edge's id; must match the topic.")
    seq: Big = Field(
        description="Highest durable seq issued when this status was written (0: none yet)."
    )
    epoch: Id | None = Field(default=None, description="The event store's epoch (see seq).")
    state: EdgeState
    software: Annotated[str, Field(max_length=64)]
    outbox_depth: Big = 0
    disk_budget_used: Unit = 0.0
    gallery_size: Count = 0
    cameras_online: Annotated[int, Field(ge=0, le=10_000)] = 0
    warnings: Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=20)] = []


class RosterAck(EdgeMessage):
    KIND: ClassVar[str] = "roster_ack"
    type: Literal["roster_ack"] = "roster_ack"
    roster_version: Version
    applied: bool
    error: Annotated[str, Field(max_length=500)] = ""


class EnrolmentStatus(StrEnum):
    ENROLLED = "enrolled"
    REFUSED = "refused"


class EnrolmentConfirmation(EdgeMessage):
    """The edge built (or refused to build) templates for an invitation. No image, no template."""

    KIND: ClassVar[str] = "enrolment_confirmation"
    type: Literal["enrolment_confirmation"] = "enrolment_confirmation"
    invitation_id: MessageId
    resident_id: Id
    consent_id: Id
    status: EnrolmentStatus
    templates: Annotated[int, Field(ge=0, le=100)] = 0
    engine: Annotated[str, Field(max_length=64)] = ""
    reason: Annotated[str, Field(max_length=200)] = ""


class ErasureConfirmation(EdgeMessage):
    """Receipt that the edge deleted a resident's biometric data."""

    KIND: ClassVar[str] = "erasure_confirmation"
    type: Literal["erasure_confirmation"] = "erasure_confirmation"
    erasure_id: MessageId | None = Field(
        default=None, description="The command it answers; None when the edge erased by roster."
    )
    resident_id: Id
    templates_deleted: Count
    deleted_at: UtcTime


# ---------------------------------------------------------------------------------- hub -> edge


class HubAck(Message):
    """Application acknowledgement: these edge messages are committed at the hub."""

    KIND: ClassVar[str] = "hub_ack"
    type: Literal["hub_ack"] = "hub_ack"
    edge_id: Id
    acked: Annotated[list[MessageId], Field(min_length=1, max_length=1000)]


class CredentialKind(StrEnum):
    CARD = "card"
    QR = "qr"
    PIN = "pin"


class RosterCredential(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: CredentialKind
    secret_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] = Field(
        description="sha256 of the credential value; the value itself never travels."
    )


class RosterConsent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    consent_id: Id
    version: Annotated[str, Field(min_length=1, max_length=32)]
    granted_at: UtcTime
    guardian_id: Id | None = None


class RosterResident(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    resident_id: Id
    house_id: Id
    house_label: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None,
        description=(
            "The registry's name of the house (5栋1单元102) for the guard room's screens; "
            "None from hubs older than the field or when the registry has none."
        ),
    )
    active: bool = True
    face_consent: RosterConsent | None = None
    gates: Annotated[list[Id], Field(max_length=64)] | None = Field(
        default=None, description="Gates this resident may pass; None means every gate."
    )
    credentials: Annotated[list[RosterCredential], Field(max_length=16)] = []
    care_recipient: bool = False


class RosterUpdate(Message):
    """Versioned roster for one edge: a full snapshot, or a delta on ``base_version``."""

    KIND: ClassVar[str] = "roster_update"
    MAX_BYTES: ClassVar[int] = 8 * 1024 * 1024
    type: Literal["roster_update"] = "roster_update"
    edge_id: Id
    roster_version: Version
    base_version: Big | None = Field(
        default=None, description="None for a full snapshot; else the version this delta is on."
    )
    residents: Annotated[list[RosterResident], Field(max_length=50_000)] = []
    removed: Annotated[list[Id], Field(max_length=50_000)] = []
    part: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=1, description="This message's part of a snapshot split in ``parts`` messages."
    )
    parts: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=1,
        description=(
            "How many messages the snapshot has; the edge applies it once all have arrived, "
            "in one transaction. Deltas are always one message."
        ),
    )

    @model_validator(mode="after")
    def _parts(self) -> RosterUpdate:
        if self.part > self.parts:
            raise ValueError("part must not exceed parts")
        if self.parts > 1 and self.base_version is not None:
            raise ValueError("only a full snapshot is split in parts")
        return self


class EnrolmentInvitation(Message):
    KIND: ClassVar[str] = "enrolment_invitation"
    type: Literal["enrolment_invitation"] = "enrolment_invitation"
    edge_id: Id
    resident_id: Id
    consent_id: Id
    code_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] = Field(
        description="sha256 of the one-time code the resident presents; the code stays with them."
    )
    expires_at: UtcTime


class ErasureReason(StrEnum):
    CONSENT_WITHDRAWN = "consent_withdrawn"
    MOVED_OUT = "moved_out"
    REQUESTED = "requested"


class ErasureCommand(Message):
    KIND: ClassVar[str] = "erasure_command"
    type: Literal["erasure_command"] = "erasure_command"
    edge_id: Id
    resident_id: Id
    reason: ErasureReason


class SuppressionReason(StrEnum):
    NO_CHANGE = "no_change"  # a visit found nothing changed: a false alarm
    AWAY = "away"  # the visit learnt the person or household is away until a date
    REPORTED_AWAY = "reported_away"  # the resident told the centre before leaving (外出报备)


class AlertSuppression(Message):
    """Do not raise ``kind`` for ``house_id`` (one resident of it, or the whole house when
    ``resident_id`` is None) until ``until``. Sent after a visit or an away report. When it
    expires and the condition still holds, the edge raises the alert again."""

    KIND: ClassVar[str] = "alert_suppression"
    type: Literal["alert_suppression"] = "alert_suppression"
    edge_id: Id
    house_id: Id
    kind: AlertKind
    until: UtcTime
    resident_id: Id | None = Field(
        default=None, description="One resident of the house; None: the whole house."
    )
    reason: SuppressionReason = SuppressionReason.NO_CHANGE


# -------------------------------------------------------------------------------- hub -> worker


class TaskState(StrEnum):
    CREATED = "created"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    VISITED = "visited"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class WorkerTask(Message):
    """A house-visit task as the worker sees it; ``revision`` grows with every change."""

    KIND: ClassVar[str] = "worker_task"
    type: Literal["worker_task"] = "worker_task"
    task_id: Id
    worker_id: Id
    revision: Annotated[int, Field(ge=1, le=2**31 - 1)]
    state: TaskState
    kind: AlertKind
    house_id: Id
    address: Annotated[str, Field(max_length=200)] = ""
    due_at: UtcTime
    summary: Annotated[str, Field(max_length=500)] = ""


# The kinds defined here; gridgate_wire.catalog adds passes and doors (ALL_MESSAGES, BY_KIND).
CORE_MESSAGES: tuple[type[Message], ...] = (
    EdgeEvent,
    EdgeAlert,
    EdgeStatus,
    RosterAck,
    EnrolmentConfirmation,
    ErasureConfirmation,
    HubAck,
    RosterUpdate,
    EnrolmentInvitation,
    ErasureCommand,
    AlertSuppression,
    WorkerTask,
)


def new_fields() -> dict[str, Any]:
    """``id`` and ``ts`` for a message written now."""
    from gridgate_wire.uuid7 import uuid7

    return {"id": uuid7(), "ts": utc_now()}
