"""The hub's typed views of its data: what the services return and take, and so the request
and response bodies of the HTTP API (they make its OpenAPI document)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from gridgate_wire import AlertKind, TaskState
from hub.auth import Role
from hub.tasks import Assignee, Outcome

T = TypeVar("T")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(
        description="Matching objects in all pages, counted up to 10,000 (see total_exact)."
    )
    limit: int
    offset: int
    total_exact: bool = Field(
        default=True, description="False: more than `total` match (the count stops there)."
    )
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page (keyset; no offset cost)."
    )


class LoginRequest(Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class LoginResponse(BaseModel):
    token: str = Field(description="Bearer token; also set as an HttpOnly cookie.")
    csrf_token: str = Field(description="Send as X-CSRF-Token with cookie-authenticated writes.")
    role: Role
    username: str


class Me(BaseModel):
    user_id: str
    username: str
    role: Role
    area_id: str | None
    worker_id: str | None
    grids: list[str] | None = Field(description="Grids this user sees; null means all.")


class Area(BaseModel):
    area_id: str
    level: str
    name: str
    parent_id: str | None


class Compound(BaseModel):
    compound_id: str
    community_id: str
    name: str


class House(BaseModel):
    house_id: str
    compound_id: str
    grid_id: str
    building: str
    unit: str
    address: str
    vacant: bool


class HouseListed(House):
    """A house with the names the houses page shows."""

    compound_name: str
    grid_name: str


class Consent(BaseModel):
    consent_id: str
    purpose: str
    version: str
    granted_at: datetime
    guardian_id: str | None
    withdrawn_at: datetime | None


class Resident(BaseModel):
    resident_id: str
    house_id: str
    name: str
    phone: str
    active: bool
    care_recipient: bool
    face_consent: bool = Field(description="A current (not withdrawn) face consent exists.")
    address: str | None = Field(None, description="The house's address.")


class ResidentDetail(Resident):
    consents: list[Consent]
    has_templates_on: list[str] = Field(description="Edges that confirmed an enrolment.")


class ResidentCreate(Body):
    resident_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
    house_id: str
    name: str = Field(min_length=1, max_length=128)
    phone: str = Field(default="", max_length=32)
    care_recipient: bool = False


class ResidentPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=128)
    phone: str | None = Field(default=None, max_length=32)
    active: bool | None = None
    care_recipient: bool | None = None


class ConsentCreate(Body):
    version: str = Field(min_length=1, max_length=32)
    guardian_id: str | None = Field(default=None, max_length=64)


class InvitationOut(BaseModel):
    resident_id: str
    consent_id: str
    enrolment_code: str = Field(description="Shown once; only its sha256 is stored.")
    edges: int = Field(description="Edges the invitation was sent to.")
    expires_at: datetime


class Worker(BaseModel):
    worker_id: str
    name: str
    grid_id: str
    leader: bool


class Task(BaseModel):
    task_id: str
    house_id: str
    grid_id: str
    address: str
    kind: AlertKind
    state: TaskState
    open: bool
    resident_id: str | None
    worker_id: str | None
    assignee: Assignee
    created_at: datetime
    due_at: datetime
    revision: int
    outcome: str | None
    evidence_count: int
    confidence: float = Field(0.0, description="Highest confidence among the task's alerts.")
    revisit_at: datetime | None = Field(None, description="Nobody home: comes back then.")
    resident_name: str | None = None
    resident_phone: str | None = None
    worker_name: str | None = None
    building: str = ""
    unit: str = ""
    compound_name: str | None = None
    grid_name: str | None = None


class Evidence(BaseModel):
    edge_id: str
    msg_id: str
    received_at: datetime
    confidence: float
    detail: dict[str, object] = Field(description="The alert's own evidence as the edge sent it.")


class Transition(BaseModel):
    at: datetime
    actor: str
    from_state: str | None
    to_state: str
    note: str


class TaskDetail(Task):
    evidence: list[Evidence]
    transitions: list[Transition]


class NewOccupantIn(Body):
    name: str = Field(min_length=1, max_length=128)
    phone: str = Field(default="", max_length=32)
    care_recipient: bool = False
    face_consent: bool = False
    consent_version: str = Field(default="v1", min_length=1, max_length=32)
    guardian_id: str | None = Field(default=None, max_length=64)


class OutcomeIn(Body):
    outcome: Outcome = Field(
        description="One the task's kind offers (422 otherwise): move_out: moved_out, away, "
        "no_change, nobody_home; vacancy: vacancy_confirmed, away, no_change, nobody_home; "
        "welfare_check: no_change (well), away, needs_help, nobody_home; new_occupant: "
        "new_occupant_confirmed, guest, no_change, nobody_home."
    )
    note: str = Field(default="", max_length=1000)
    new_occupant: NewOccupantIn | None = None
    back_on: date | None = Field(None, description="away: about when they are back.")
    revisit_at: datetime | None = Field(None, description="nobody_home: when to go again.")
    confirmed: bool = Field(
        False,
        description="moved_out and vacancy_confirmed deactivate residents and erase their face "
        "templates at the gates: they need confirmed=true.",
    )


class NoteIn(Body):
    note: str = Field(default="", max_length=1000)


class OutcomeOut(BaseModel):
    task: Task
    resident_id: str | None
    enrolment_code: str | None
    revisit_at: datetime | None = None


class AwayIn(Body):
    resident_id: str | None = Field(None, max_length=64, description="None: the household.")
    away_from: date
    back_on: date
    note: str = Field(default="", max_length=500)


class AwayOut(BaseModel):
    report_id: str
    house_id: str
    resident_id: str | None
    resident_name: str | None
    away_from: datetime
    back_on: datetime
    note: str
    recorded_by: str
    recorded_at: datetime


class Review(BaseModel):
    edge_id: str
    msg_id: str
    received_at: datetime
    kind: AlertKind
    compound_id: str | None
    compound_name: str | None
    house_named: str | None
    resident_id: str | None
    confidence: float
    evidence: dict[str, object]
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str


class TaskCreate(Body):
    kind: AlertKind
    resident_id: str | None = Field(None, max_length=64, description="None: the household.")
    note: str = Field(min_length=1, max_length=500, description="Why (who phoned, what they said).")


class ReassignIn(Body):
    worker_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=500)


class Edge(BaseModel):
    edge_id: str
    compound_id: str | None
    state: str
    online: bool = Field(description="A status arrived within the last 3 minutes.")
    last_status_at: datetime | None
    outbox_depth: int
    software: str
    received: int
    max_seq: int
    missing: int = Field(description="Sequence numbers never received: a health warning if > 0.")
    contiguous_seq: int = Field(
        description="Every message up to this seq is stored (read in seq order up to here)."
    )
    roster_version: int | None
    roster_pending: int = Field(description="Roster versions sent but not yet acknowledged.")
    warnings: list[str]


class ReportRowOut(BaseModel):
    key: str
    grid_id: str
    tasks_assigned: int
    tasks_closed: int
    on_time_rate: float | None
    median_hours_to_visit: float | None
    outcomes: dict[str, int]


class Report(BaseModel):
    month: str
    group_by: str
    rows: list[ReportRowOut]


class ImportProblem(BaseModel):
    row: int
    field: str
    reason: str


class ImportResult(BaseModel):
    kind: str
    rows: int
    imported: int
    problems: list[ImportProblem]


class AuditEntry(BaseModel):
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    community_id: str | None
    detail: str
    object_ids: list[str] | None = Field(
        default=None, description="Every id a list read returned (object_id is cut at 200)."
    )


class TemplateCountsOut(BaseModel):
    people: int = Field(description="Distinct people with face templates on any edge.")
    edges: int
    templates: int
    limit: int
    warning: str


class DeadLetter(BaseModel):
    received_at: datetime
    topic: str
    field: str
    reason: str
    size: int
