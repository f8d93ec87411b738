"""Scoped reads under the services: every object is looked up together
with the grid or community it belongs to, and anything outside the user's scope is "not found"
(a 404 tells nothing about objects of other communities)."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, ScalarSelect, Select, func, or_, select

from hub import models
from hub.auth import Principal, Role
from hub.errors import Invalid, NotFound
from hub.store.db import as_utc
from hub.store.schema import (
    CURRENT_FACE_CONSENT,
    areas,
    compounds,
    consents,
    edge_compounds,
    edge_messages,
    edges,
    face_templates,
    houses,
    residents,
    task_evidence,
    task_transitions,
    tasks,
    workers,
)
from hub.sync import unacknowledged

ONLINE_WITHIN = timedelta(minutes=3)
_CURSOR_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


# Lists count their matches only up to here: an exact count over a district's million residents
# is a scan of the whole joined query on every page (issue 19); past it the total reads "more
# than 10,000" and a client pages on with the cursor.
TOTAL_CAP = 10_000


# One page of rows, the total (capped) and whether that total is exact.
CountedRows = tuple[list[Row[Any]], int, bool]


def counted_page(conn: Connection, query: Select[Any], limit: int, offset: int) -> CountedRows:
    """One page and a total counted up to TOTAL_CAP: (rows, total, exact)."""
    rows = list(conn.execute(query.limit(limit).offset(offset)).all())
    if len(rows) < limit and (rows or offset == 0):
        return rows, offset + len(rows), True  # the list ends on this page: nothing to count
    capped = query.order_by(None).limit(TOTAL_CAP + 1).subquery()
    total = int(conn.scalar(select(func.count()).select_from(capped)) or 0)
    if total > TOTAL_CAP:
        return rows, TOTAL_CAP, False
    return rows, total, True


def encode_cursor(value: str) -> str:
    """An opaque cursor: the last key of a page."""
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid("cursor: not a cursor this hub gave") from exc
    if not _CURSOR_KEY.match(value):  # keys are ids or numbers: no NUL or other bytes
        raise Invalid("cursor: not a cursor this hub gave")
    return value


def community_of_grid(conn: Connection, grid_id: str) -> str | None:
    parent = conn.scalar(select(areas.c.parent_id).where(areas.c.area_id == grid_id))
    return None if parent is None else str(parent)


# ------------------------------------------------------------------------------ areas, compounds


def areas_query(p: Principal) -> Select[Any]:
    query = select(areas).order_by(areas.c.level, areas.c.area_id)
    if p.role is Role.COMMUNITY_ADMIN:
        query = query.where(areas.c.area_id.in_(set(p.grids or ()) | set(p.communities or ())))
    elif p.role is Role.GRID_WORKER:
        query = query.where(areas.c.area_id.in_(p.grids or ()))
    return query


def compounds_query(p: Principal) -> Select[Any]:
    query = select(compounds).order_by(compounds.c.compound_id)
    if p.communities is not None:
        query = query.where(compounds.c.community_id.in_(p.communities))
    return query


def compound(conn: Connection, p: Principal, compound_id: str) -> models.Compound:
    row = conn.execute(select(compounds).where(compounds.c.compound_id == compound_id)).first()
    if row is None or not p.sees_community(row.community_id):
        raise NotFound.of("compound", compound_id)
    return models.Compound.model_validate(row._mapping)


# ------------------------------------------------------------------------------ houses, residents


def houses_query(
    p: Principal, grid_id: str | None = None, compound_id: str | None = None
) -> Select[Any]:
    query = select(houses).order_by(houses.c.house_id)
    if p.grids is not None:
        query = query.where(houses.c.grid_id.in_(p.grids))
    if grid_id:
        query = query.where(houses.c.grid_id == grid_id)
    if compound_id:
        query = query.where(houses.c.compound_id == compound_id)
    return query


def house(conn: Connection, p: Principal, house_id: str) -> models.House:
    row = conn.execute(select(houses).where(houses.c.house_id == house_id)).first()
    if row is None or not p.sees_grid(row.grid_id):
        raise NotFound.of("house", house_id)
    return models.House.model_validate(row._mapping)


def _face_consented() -> ScalarSelect[str]:
    return select(consents.c.resident_id).where(CURRENT_FACE_CONSENT).scalar_subquery()


def residents_query(p: Principal, house_id: str | None = None, q: str | None = None) -> Select[Any]:
    query = (
        select(
            residents,
            houses.c.grid_id,
            houses.c.address,
            residents.c.resident_id.in_(_face_consented()).label("face_consent"),
        )
        .join(houses, houses.c.house_id == residents.c.house_id)
        .order_by(residents.c.resident_id)
    )
    if p.grids is not None:
        query = query.where(houses.c.grid_id.in_(p.grids))
    if house_id:
        query = query.where(residents.c.house_id == house_id)
    if q:  # search by name, phone or house (address or id)
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                residents.c.name.like(like, escape="\\"),
                residents.c.phone.like(like, escape="\\"),
                houses.c.address.like(like, escape="\\"),
                residents.c.house_id == q,
            )
        )
    return query


def resident_row(conn: Connection, p: Principal, resident_id: str) -> Row[Any]:
    row = conn.execute(residents_query(p).where(residents.c.resident_id == resident_id)).first()
    if row is None:
        raise NotFound.of("resident", resident_id)
    return row


def resident_out(row: Row[Any]) -> models.Resident:
    return models.Resident(
        resident_id=row.resident_id,
        house_id=row.house_id,
        name=row.name,
        phone=row.phone,
        active=row.active,
        care_recipient=row.care_recipient,
        face_consent=bool(row.face_consent),
        address=row.address,
    )


def resident_detail(conn: Connection, p: Principal, resident_id: str) -> models.ResidentDetail:
    row = resident_row(conn, p, resident_id)
    consent_rows = conn.execute(
        select(consents)
        .where(consents.c.resident_id == resident_id)
        .order_by(consents.c.granted_at)
    ).all()
    edges_with = conn.scalars(
        select(face_templates.c.edge_id).where(face_templates.c.resident_id == resident_id)
    ).all()
    return models.ResidentDetail(
        **resident_out(row).model_dump(),
        consents=[
            models.Consent(
                consent_id=c.consent_id,
                purpose=c.purpose,
                version=c.version,
                granted_at=as_utc(c.granted_at),
                guardian_id=c.guardian_id,
                withdrawn_at=None if c.withdrawn_at is None else as_utc(c.withdrawn_at),
            )
            for c in consent_rows
        ],
        has_templates_on=[str(e) for e in edges_with],
    )


def community_of_house(conn: Connection, house_id: str) -> str | None:
    grid = conn.scalar(select(houses.c.grid_id).where(houses.c.house_id == house_id))
    return None if grid is None else community_of_grid(conn, str(grid))


# ------------------------------------------------------------------------------ workers


def workers_query(p: Principal) -> Select[Any]:
    query = select(workers).order_by(workers.c.grid_id, workers.c.worker_id)
    if p.grids is not None:
        query = query.where(workers.c.grid_id.in_(p.grids))
    return query


def worker(conn: Connection, p: Principal, worker_id: str) -> models.Worker:
    row = conn.execute(select(workers).where(workers.c.worker_id == worker_id)).first()
    if row is None or not p.sees_grid(row.grid_id):
        raise NotFound.of("worker", worker_id)
    return models.Worker.model_validate(row._mapping)


# ------------------------------------------------------------------------------ tasks


def tasks_query(
    p: Principal,
    *,
    state: str | None = None,
    kind: str | None = None,
    grid_id: str | None = None,
    worker_id: str | None = None,
    open_only: bool | None = None,
    changed_since: datetime | None = None,
    by_confidence: bool = False,
) -> Select[Any]:
    evidence_count = (
        select(func.count())
        .select_from(task_evidence)
        .where(task_evidence.c.task_id == tasks.c.task_id)
        .scalar_subquery()
    )
    confidence = (
        select(func.max(task_evidence.c.confidence))
        .where(task_evidence.c.task_id == tasks.c.task_id)
        .scalar_subquery()
    )
    grid = areas.alias("task_grid")
    query = (
        select(
            tasks,
            houses.c.grid_id,
            houses.c.address,
            houses.c.building,
            houses.c.unit,
            evidence_count.label("evidence_count"),
            confidence.label("confidence"),
            residents.c.name.label("resident_name"),
            residents.c.phone.label("resident_phone"),
            workers.c.name.label("worker_name"),
            compounds.c.name.label("compound_name"),
            grid.c.name.label("grid_name"),
        )
        .join(houses, houses.c.house_id == tasks.c.house_id)
        .join(compounds, compounds.c.compound_id == houses.c.compound_id)
        .join(grid, grid.c.area_id == houses.c.grid_id, isouter=True)
        .join(residents, residents.c.resident_id == tasks.c.resident_id, isouter=True)
        .join(workers, workers.c.worker_id == tasks.c.worker_id, isouter=True)
        .order_by(tasks.c.due_at, tasks.c.task_id)
    )
    if by_confidence:  # surest alerts first (the edge calibrates confidence, issue 13)
        query = query.order_by(None).order_by(confidence.desc(), tasks.c.due_at, tasks.c.task_id)
    if p.grids is not None:
        query = query.where(houses.c.grid_id.in_(p.grids))
    if state:
        query = query.where(tasks.c.state == state)
    if kind:
        query = query.where(tasks.c.kind == kind)
    if grid_id:
        query = query.where(houses.c.grid_id == grid_id)
    if worker_id:
        query = query.where(tasks.c.worker_id == worker_id)
    if open_only is not None:
        query = query.where(tasks.c.open.is_(open_only))
    if changed_since is not None:
        query = query.where(
            tasks.c.task_id.in_(
                select(task_transitions.c.task_id).where(task_transitions.c.at > changed_since)
            )
        )
    return query


def task_out(row: Row[Any]) -> models.Task:
    return models.Task(
        task_id=row.task_id,
        house_id=row.house_id,
        grid_id=row.grid_id,
        address=row.address,
        kind=row.kind,
        state=row.state,
        open=row.open,
        resident_id=row.resident_id,
        worker_id=row.worker_id,
        assignee=row.assignee,
        created_at=as_utc(row.created_at),
        due_at=as_utc(row.due_at),
        revision=row.revision,
        outcome=row.outcome,
        evidence_count=row.evidence_count,
        confidence=float(row.confidence or 0.0),
        revisit_at=None if row.revisit_at is None else as_utc(row.revisit_at),
        resident_name=row.resident_name,
        resident_phone=row.resident_phone,
        worker_name=row.worker_name,
        building=row.building,
        unit=row.unit,
        compound_name=row.compound_name,
        grid_name=row.grid_name,
    )


def task(conn: Connection, p: Principal, task_id: str) -> models.Task:
    row = conn.execute(tasks_query(p).where(tasks.c.task_id == task_id)).first()
    if row is None:
        raise NotFound.of("task", task_id)
    return task_out(row)


def _evidence(stored: str | None, payload: str | None) -> dict[str, object]:
    """The alert's evidence: as stored on the task, else from the edge's message (older rows)."""
    if stored and stored != "{}":
        return dict(json.loads(stored))
    return dict(json.loads(payload).get("evidence", {})) if payload else {}


def task_detail(conn: Connection, p: Principal, task_id: str) -> models.TaskDetail:
    summary = task(conn, p, task_id)
    evidence = conn.execute(
        select(task_evidence, edge_messages.c.payload)
        .join(
            edge_messages,
            (edge_messages.c.edge_id == task_evidence.c.edge_id)
            & (edge_messages.c.msg_id == task_evidence.c.msg_id),
            isouter=True,
        )
        .where(task_evidence.c.task_id == task_id)
        .order_by(task_evidence.c.received_at)
    ).all()
    transitions = conn.execute(
        select(task_transitions)
        .where(task_transitions.c.task_id == task_id)
        .order_by(task_transitions.c.pk)
    ).all()
    return models.TaskDetail(
        **summary.model_dump(),
        evidence=[
            models.Evidence(
                edge_id=e.edge_id,
                msg_id=e.msg_id,
                received_at=as_utc(e.received_at),
                confidence=e.confidence,
                detail=_evidence(e.evidence, e.payload),
            )
            for e in evidence
        ],
        transitions=[
            models.Transition(
                at=as_utc(t.at),
                actor=t.actor,
                from_state=t.from_state,
                to_state=t.to_state,
                note=t.note,
            )
            for t in transitions
        ],
    )


# ------------------------------------------------------------------------------ edges


def edges_query(p: Principal) -> Select[Any]:
    query = (
        select(
            edge_compounds.c.edge_id,
            edge_compounds.c.compound_id,
            edge_compounds.c.roster_version,
            compounds.c.community_id,
            edges.c.state,
            edges.c.last_status_at,
            edges.c.outbox_depth,
            edges.c.software,
            edges.c.received,
            edges.c.max_seq,
            edges.c.contiguous_seq,
            unacknowledged(edge_compounds.c.edge_id).label("roster_pending"),
        )
        .join(compounds, compounds.c.compound_id == edge_compounds.c.compound_id)
        .join(edges, edges.c.edge_id == edge_compounds.c.edge_id, isouter=True)
        .order_by(edge_compounds.c.edge_id)
    )
    if p.communities is not None:
        query = query.where(compounds.c.community_id.in_(p.communities))
    return query


def edge_out(row: Row[Any], now: datetime | None = None) -> models.Edge:
    now = now or datetime.now(UTC)
    last = None if row.last_status_at is None else as_utc(row.last_status_at)
    received = int(row.received or 0)
    max_seq = int(row.max_seq or 0)
    missing = max(0, max_seq - received)
    pending = int(row.roster_pending or 0)
    online = last is not None and now - last <= ONLINE_WITHIN
    warnings = []
    if missing:
        warnings.append(f"{missing} sequence numbers missing")
    if not online:
        warnings.append("no status for more than 3 minutes")
    if pending:
        warnings.append(f"{pending} roster versions not acknowledged")
    contiguous = int(row.contiguous_seq or 0)
    if max_seq > contiguous:
        warnings.append(f"messages after seq {contiguous} wait for earlier ones")
    return models.Edge(
        edge_id=row.edge_id,
        compound_id=row.compound_id,
        state=row.state or "unknown",
        online=online,
        last_status_at=last,
        outbox_depth=int(row.outbox_depth or 0),
        software=row.software or "",
        received=received,
        max_seq=max_seq,
        missing=missing,
        contiguous_seq=contiguous,
        roster_version=row.roster_version,
        roster_pending=pending,
        warnings=warnings,
    )


def edge(conn: Connection, p: Principal, edge_id: str) -> models.Edge:
    row = conn.execute(edges_query(p).where(edge_compounds.c.edge_id == edge_id)).first()
    if row is None:
        raise NotFound.of("edge", edge_id)
    return edge_out(row)
