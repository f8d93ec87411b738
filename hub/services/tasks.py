"""House-visit tasks as people handle them: list and read in scope, accept, cancel with a reason,
record the visit's outcome, create one by hand, reassign (改派), the worker's phone list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from gridgate_wire import AlertKind, TaskState
from hub import audit, models, task_admin
from hub import tasks as domain
from hub.audit import Action
from hub.auth import Principal, Role
from hub.errors import Invalid
from hub.services import queries
from hub.services.paging import Window
from hub.store.db import as_utc
from hub.store.schema import tasks, workers
from hub.uow import UnitOfWork
from hub.visits import local_day_end


@dataclass(frozen=True)
class TaskFilter:
    state: str | None = None
    kind: str | None = None
    grid_id: str | None = None
    worker_id: str | None = None
    open_only: bool | None = None
    changed_since: datetime | None = None
    by_confidence: bool = False


def list_tasks(
    conn: Connection, principal: Principal, chosen: TaskFilter, window: Window
) -> models.Page[models.Task]:
    query = queries.tasks_query(
        principal,
        state=chosen.state,
        kind=chosen.kind,
        grid_id=chosen.grid_id,
        worker_id=chosen.worker_id,
        open_only=chosen.open_only,
        changed_since=chosen.changed_since,
        by_confidence=chosen.by_confidence,
    )
    rows, total, exact = queries.counted_page(conn, query, window.limit, window.offset)
    return models.Page[models.Task](
        items=[queries.task_out(r) for r in rows],
        total=total,
        limit=window.limit,
        offset=window.offset,
        total_exact=exact,
    )


def get_task(conn: Connection, principal: Principal, task_id: str) -> models.TaskDetail:
    return queries.task_detail(conn, principal, task_id)


def accept(work: UnitOfWork, principal: Principal, task_id: str) -> models.Task:
    queries.task(work.conn, principal, task_id)  # NotFound outside scope
    domain.advance(work.conn, task_id, TaskState.ACCEPTED, principal.actor, work.outbound)
    return queries.task(work.conn, principal, task_id)


def cancel(work: UnitOfWork, principal: Principal, task_id: str, note: str) -> models.Task:
    """Cancel an open task; the reason is required and kept in its history."""
    if not note.strip():
        raise Invalid({"code": "reason_needed", "field": "note", "reason": "why"})
    queries.task(work.conn, principal, task_id)
    domain.advance(work.conn, task_id, TaskState.CANCELLED, principal.actor, work.outbound, note)
    return queries.task(work.conn, principal, task_id)


def record_outcome(
    work: UnitOfWork, principal: Principal, task_id: str, body: models.OutcomeIn, site_timezone: str
) -> models.OutcomeOut:
    """Record the visit's outcome (one the task's kind offers); a new occupant gets a resident
    record and, with face consent, an enrolment code (returned once); ``nobody_home`` keeps the
    task open until ``revisit_at``."""
    occupant = body.new_occupant
    person = None if occupant is None else domain.NewOccupant(**occupant.model_dump())
    try:
        back_on = None if body.back_on is None else local_day_end(body.back_on, site_timezone)
        revisit = None if body.revisit_at is None else as_utc(body.revisit_at)
    except (OverflowError, ValueError) as exc:  # a date at the very edge of the calendar
        raise Invalid.field("bad_date", "back_on", "out of range") from exc
    conn = work.conn
    task = queries.task(conn, principal, task_id)
    result = domain.record_outcome(
        conn,
        task_id,
        body.outcome,
        principal.actor,
        work.outbound,
        body.note,
        person,
        back_on=back_on,
        revisit=revisit,
        confirmed=body.confirmed,
    )
    if result.resident_id is not None:
        audit.record(
            conn,
            principal.actor,
            Action.CREATE,
            "resident",
            result.resident_id,
            community_id=queries.community_of_house(conn, task.house_id),
            detail=f"new occupant from task {task_id}",
        )
    return models.OutcomeOut(
        task=queries.task(conn, principal, task_id),
        resident_id=result.resident_id,
        enrolment_code=result.enrolment_code,
        revisit_at=result.revisit_at,
    )


def create_by_hand(
    work: UnitOfWork, principal: Principal, house_id: str, body: models.TaskCreate
) -> models.Task:
    """A visit task created by the centre (a neighbour phoned); Conflict when the house has an
    open task of that kind already."""
    conn = work.conn
    queries.house(conn, principal, house_id)
    if body.resident_id is not None:
        row = queries.resident_row(conn, principal, body.resident_id)
        if row.house_id != house_id:
            raise Invalid.field("resident_not_in_house", "resident_id", "not of this house")
    task_id = task_admin.create_by_hand(
        conn, house_id, body.kind, body.resident_id, principal.actor, body.note, work.outbound
    )
    return queries.task(conn, principal, task_id)


def reassign(
    work: UnitOfWork, principal: Principal, task_id: str, body: models.ReassignIn
) -> models.Task:
    """Hand an open task to another worker with a reason; they accept it anew."""
    conn = work.conn
    queries.task(conn, principal, task_id)
    queries.worker(conn, principal, body.worker_id)  # NotFound outside scope
    task_admin.reassign(conn, task_id, body.worker_id, principal.actor, body.reason, work.outbound)
    return queries.task(conn, principal, task_id)


def reassign_candidates(
    conn: Connection, principal: Principal, task: models.Task
) -> list[models.Worker]:
    """The workers in scope the task could be handed to (not the one who has it)."""
    query = queries.workers_query(principal).order_by(workers.c.name)
    return [
        models.Worker.model_validate(w._mapping)
        for w in conn.execute(query)
        if w.worker_id != task.worker_id
    ]


def house_tasks(conn: Connection, principal: Principal, house_id: str) -> list[models.Task]:
    """Every task of a house in scope, newest first."""
    query = (
        queries.tasks_query(principal)
        .where(tasks.c.house_id == house_id)
        .order_by(None)
        .order_by(tasks.c.created_at.desc())
    )
    return [queries.task_out(r) for r in conn.execute(query)]


# ------------------------------------------------------------------------------ the phone


class Tab(StrEnum):
    TODO = "todo"
    OVERDUE = "overdue"
    DONE = "done"


DONE_WITHIN = timedelta(days=30)


def urgency(
    task: models.Task, now: datetime, zone: ZoneInfo
) -> tuple[int, int, int, int, float, datetime]:
    """Overdue first, then welfare checks, then due today, then the surest alerts."""
    revisit_later = task.revisit_at is not None and task.revisit_at > now
    due_today = task.due_at.astimezone(zone).date() <= now.astimezone(zone).date()
    return (
        0 if task.due_at < now else 1,
        1 if revisit_later else 0,
        0 if task.kind is AlertKind.WELFARE_CHECK else 1,
        0 if due_today else 1,
        -task.confidence,
        task.revisit_at or task.due_at,
    )


@dataclass(frozen=True)
class PhoneList:
    shown: list[models.Task]
    counts: dict[Tab, int]


def phone_list(conn: Connection, principal: Principal, tab: Tab, site_timezone: str) -> PhoneList:
    """A grid worker's own tasks (staff: every task in scope) in one tab, most urgent first."""
    now = datetime.now(UTC)
    zone = ZoneInfo(site_timezone)
    worker_id = principal.worker_id if principal.role is Role.GRID_WORKER else None
    open_rows = conn.execute(
        queries.tasks_query(principal, open_only=True, worker_id=worker_id).limit(500)
    ).all()
    done_rows = conn.execute(
        queries.tasks_query(principal, open_only=False, worker_id=worker_id)
        .where(tasks.c.created_at >= now - DONE_WITHIN)
        .limit(200)
    ).all()
    opened = [queries.task_out(r) for r in open_rows]
    done = sorted(
        (queries.task_out(r) for r in done_rows), key=lambda x: x.created_at, reverse=True
    )
    tabs = {
        Tab.TODO: [x for x in opened if x.due_at >= now],
        Tab.OVERDUE: [x for x in opened if x.due_at < now],
        Tab.DONE: done,
    }
    chosen = tabs[tab]
    if tab is not Tab.DONE:
        chosen.sort(key=lambda x: urgency(x, now, zone))
    return PhoneList(chosen, {t: len(items) for t, items in tabs.items()})
