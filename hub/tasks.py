"""Alerts become house-visit tasks for the right grid worker; outcomes flow back to the edge.

One open task per house and kind: a later alert attaches to it as evidence. Assignment: a grid
worker of the house's grid, else the grid leader, else the community centre. Every transition is
recorded with who and when. Outcomes update the registry and produce the messages the edge needs
(a roster delta that removes a resident, or suppressions after "no change" or "away").
Which outcomes a kind offers and how they quiet the edge are in ``hub.visits`` and
``hub.feedback``; "nobody home" keeps the task open with a revisit time.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Connection, or_, select, update

from gridgate_wire import (
    AlertKind,
    EdgeAlert,
    TaskState,
    WorkerTask,
    new_fields,
    uuid7,
)
from gridgate_wire.messages import SuppressionReason
from hub import consent, feedback, visits
from hub.errors import Conflict
from hub.live import TaskNotice
from hub.store.db import as_utc
from hub.store.schema import (
    houses,
    residents,
    task_evidence,
    task_transitions,
    tasks,
    workers,
)
from hub.sync import queue_resident_change
from hub.uow import Outbound
from hub.visits import Outcome, OutcomeError

_LOGGER = logging.getLogger(__name__)

DUE = {
    AlertKind.WELFARE_CHECK: timedelta(hours=24),
    AlertKind.MOVE_OUT: timedelta(days=7),
    AlertKind.NEW_OCCUPANT: timedelta(days=7),
    AlertKind.VACANCY: timedelta(days=14),
}
# After a revisit time, the worker has this long before the task counts as overdue.
AFTER_REVISIT = {
    AlertKind.WELFARE_CHECK: timedelta(hours=6),
    AlertKind.MOVE_OUT: timedelta(days=1),
    AlertKind.NEW_OCCUPANT: timedelta(days=1),
    AlertKind.VACANCY: timedelta(days=1),
}
__all__ = ["Assignee", "Outbound", "Outcome", "OutcomeError"]


class Assignee(StrEnum):
    """Who a task is with: its grid's worker, the grid leader, or the community centre."""

    GRID_WORKER = "grid-worker"
    GRID_LEADER = "grid-leader"
    COMMUNITY_CENTRE = "community-centre"


def _transition(
    conn: Connection,
    task_id: str,
    actor: str,
    old: TaskState | None,
    new: TaskState,
    note: str = "",
) -> None:
    conn.execute(
        task_transitions.insert().values(
            task_id=task_id,
            at=datetime.now(UTC),
            actor=actor,
            from_state=None if old is None else old.value,
            to_state=new.value,
            note=note,
        )
    )


def _assign(conn: Connection, house_id: str) -> tuple[str | None, Assignee]:
    row = conn.execute(select(houses.c.grid_id).where(houses.c.house_id == house_id)).first()
    if row is None:
        return None, Assignee.COMMUNITY_CENTRE
    staff = conn.execute(
        select(workers.c.worker_id, workers.c.leader)
        .where(workers.c.grid_id == row.grid_id)
        .order_by(workers.c.leader, workers.c.worker_id)
    ).all()
    if not staff:
        return None, Assignee.COMMUNITY_CENTRE
    worker_id, leader = staff[0]
    return str(worker_id), (Assignee.GRID_LEADER if leader else Assignee.GRID_WORKER)


def _worker_message(conn: Connection, task_id: str) -> WorkerTask | None:
    row = conn.execute(
        select(tasks, houses.c.address)
        .join(houses, houses.c.house_id == tasks.c.house_id)
        .where(tasks.c.task_id == task_id)
    ).first()
    if row is None or row.worker_id is None:
        return None
    return WorkerTask(
        **new_fields(),
        task_id=row.task_id,
        worker_id=row.worker_id,
        revision=row.revision,
        state=TaskState(row.state),
        kind=AlertKind(row.kind),
        house_id=row.house_id,
        address=row.address,
        due_at=as_utc(row.due_at),
        summary=f"{row.kind.replace('_', ' ')} at {row.address}",
    )


def _changed(conn: Connection, task_id: str, out: Outbound, *, push: bool = True) -> None:
    """A task changed: push it to its worker's phone and tell this process's open pages."""
    row = conn.execute(
        select(tasks.c.worker_id, tasks.c.state, tasks.c.revision, houses.c.grid_id)
        .join(houses, houses.c.house_id == tasks.c.house_id)
        .where(tasks.c.task_id == task_id)
    ).one()
    out.notices.append(TaskNotice(task_id, row.grid_id, row.worker_id, row.state, row.revision))
    if push:
        message = _worker_message(conn, task_id)
        if message is not None:
            out.to_workers.append(message)


def _new_task(
    conn: Connection,
    house_id: str,
    kind: AlertKind,
    resident_id: str | None,
    actor: str,
    note: str,
    now: datetime,
) -> str:
    """A new open task, assigned to the house's grid worker when there is one."""
    task_id = f"T-{uuid7().hex[:16]}"
    worker_id, assignee = _assign(conn, house_id)
    conn.execute(
        tasks.insert().values(
            task_id=task_id,
            house_id=house_id,
            kind=kind.value,
            state=TaskState.CREATED.value,
            open=True,
            resident_id=resident_id,
            worker_id=worker_id,
            assignee=assignee.value,
            created_at=now,
            due_at=now + DUE[kind],
            revision=1,
        )
    )
    _transition(conn, task_id, actor, None, TaskState.CREATED, note)
    if worker_id is not None:
        conn.execute(
            update(tasks)
            .where(tasks.c.task_id == task_id)
            .values(state=TaskState.ASSIGNED.value, revision=2)
        )
        _transition(
            conn,
            task_id,
            "system",
            TaskState.CREATED,
            TaskState.ASSIGNED,
            f"{assignee.value} {worker_id}",
        )
    return task_id


def on_alert(conn: Connection, edge_id: str, alert: EdgeAlert, out: Outbound) -> str | None:
    """Turn an alert into a new task or evidence on the open one; returns the task id. An
    alert that names no registered house becomes a review item for the community centre."""
    now = datetime.now(UTC)
    if alert.house_id is None or not visits.house_known(conn, alert.house_id):
        visits.review(conn, edge_id, alert, now)
        return None
    open_task = conn.execute(
        select(tasks.c.task_id).where(
            tasks.c.house_id == alert.house_id,
            tasks.c.kind == alert.kind.value,
            tasks.c.open.is_(True),
        )
    ).first()
    if open_task is not None:
        task_id = str(open_task.task_id)
    else:
        task_id = _new_task(
            conn, alert.house_id, alert.kind, alert.resident_id, "system", f"alert {alert.id}", now
        )
    conn.execute(
        task_evidence.insert().values(
            task_id=task_id,
            edge_id=edge_id,
            msg_id=str(alert.id),
            received_at=now,
            confidence=alert.confidence,
            evidence=json.dumps(alert.evidence.model_dump(mode="json"), ensure_ascii=False),
        )
    )
    _changed(conn, task_id, out, push=open_task is None)
    return task_id


_NEXT = {
    TaskState.ASSIGNED: {TaskState.ACCEPTED, TaskState.CANCELLED},
    # The community centre may take an unassigned task itself.
    TaskState.CREATED: {TaskState.ASSIGNED, TaskState.ACCEPTED, TaskState.CANCELLED},
    TaskState.ACCEPTED: {TaskState.VISITED, TaskState.CANCELLED},
    TaskState.VISITED: {TaskState.CLOSED},
}


def advance(
    conn: Connection, task_id: str, new: TaskState, actor: str, out: Outbound, note: str = ""
) -> None:
    row = conn.execute(select(tasks).where(tasks.c.task_id == task_id)).first()
    if row is None:
        raise Conflict(f"no task {task_id}")
    old = TaskState(row.state)
    if new not in _NEXT.get(old, set()):
        raise Conflict(f"task {task_id} is {old.value}; it cannot become {new.value}")
    still_open = new not in (TaskState.CLOSED, TaskState.CANCELLED)
    conn.execute(
        update(tasks)
        .where(tasks.c.task_id == task_id)
        .values(state=new.value, open=still_open, revision=row.revision + 1)
    )
    _transition(conn, task_id, actor, old, new, note)
    _changed(conn, task_id, out)


@dataclass(frozen=True)
class NewOccupant:
    """What the worker found and the new occupant agreed to, for a new-occupant outcome."""

    name: str
    phone: str = ""
    care_recipient: bool = False
    face_consent: bool = False
    consent_version: str = "v1"
    guardian_id: str | None = None


@dataclass(frozen=True)
class OutcomeResult:
    """A new occupant's resident id and one-time enrolment code (shown once, never stored);
    for "nobody home", when the task comes back."""

    resident_id: str | None = None
    enrolment_code: str | None = None
    revisit_at: datetime | None = None


def record_outcome(
    conn: Connection,
    task_id: str,
    outcome: Outcome,
    actor: str,
    out: Outbound,
    note: str = "",
    new_occupant: NewOccupant | None = None,
    *,
    back_on: datetime | None = None,
    revisit: datetime | None = None,
    confirmed: bool = True,
    now: datetime | None = None,
) -> OutcomeResult:
    """The worker visited: close the task (or keep it open for "nobody home" and "needs help")
    and carry the outcome into the registry and the edges. Raises OutcomeError for an outcome
    the task's kind does not offer or one missing what it needs (``confirmed`` is the API's and
    the pages' explicit confirmation of a destructive outcome)."""
    now = now or datetime.now(UTC)
    row = conn.execute(select(tasks).where(tasks.c.task_id == task_id)).first()
    if row is None:
        raise Conflict(f"no task {task_id}")
    if not row.open:
        raise Conflict(f"task {task_id} is {row.state}; it has its outcome already")
    kind = AlertKind(row.kind)
    visits.check_outcome(
        kind,
        outcome,
        note=note,
        back_on=back_on,
        confirmed=confirmed,
        has_occupant=new_occupant is not None and bool(new_occupant.name.strip()),
    )
    # Whoever records the outcome went: an outcome on an assigned task accepts it first.
    if row.state in (TaskState.CREATED.value, TaskState.ASSIGNED.value):
        advance(conn, task_id, TaskState.ACCEPTED, actor, out)
    if outcome is Outcome.NOBODY_HOME:
        return _nobody_home(conn, task_id, kind, actor, out, note, revisit, now)
    if row.state != TaskState.VISITED.value:
        advance(conn, task_id, TaskState.VISITED, actor, out, note)
    if outcome is Outcome.NEEDS_HELP:
        return _needs_help(conn, task_id, actor, out, note, now)
    advance(conn, task_id, TaskState.CLOSED, actor, out, f"{outcome.value}: {note}")
    conn.execute(
        update(tasks)
        .where(tasks.c.task_id == task_id)
        .values(outcome=outcome.value, revisit_at=None)
    )
    result = OutcomeResult()
    if outcome is Outcome.MOVED_OUT and row.resident_id:
        conn.execute(
            update(residents).where(residents.c.resident_id == row.resident_id).values(active=False)
        )
        out.to_edges.extend(queue_resident_change(conn, row.resident_id))
    elif outcome is Outcome.VACANCY_CONFIRMED:
        conn.execute(update(houses).where(houses.c.house_id == row.house_id).values(vacant=True))
        moved = conn.scalars(
            select(residents.c.resident_id).where(
                residents.c.house_id == row.house_id, residents.c.active.is_(True)
            )
        ).all()
        conn.execute(
            update(residents).where(residents.c.house_id == row.house_id).values(active=False)
        )
        for resident_id in moved:
            out.to_edges.extend(queue_resident_change(conn, str(resident_id)))
    elif outcome in (Outcome.NO_CHANGE, Outcome.GUEST):
        out.to_edges.extend(
            visits.after_no_change(conn, task_id, kind, row.house_id, row.resident_id, now)
        )
    elif outcome is Outcome.AWAY and back_on is not None:
        # Vacancy is about the household; move-out and welfare about the one resident.
        subject = None if kind is AlertKind.VACANCY else row.resident_id
        out.to_edges.extend(
            visits.after_away(conn, row.house_id, subject, back_on, now, SuppressionReason.AWAY)
        )
    elif outcome is Outcome.NEW_OCCUPANT_CONFIRMED and new_occupant is not None:
        result = add_occupant(conn, row.house_id, new_occupant, actor, out)
    return result


def _nobody_home(
    conn: Connection,
    task_id: str,
    kind: AlertKind,
    actor: str,
    out: Outbound,
    note: str,
    requested: datetime | None,
    now: datetime,
) -> OutcomeResult:
    """Nobody home: the task stays open (accepted) and comes back to the worker at a time."""
    row = conn.execute(select(tasks).where(tasks.c.task_id == task_id)).one()
    when = feedback.revisit_at(now, requested)
    due = max(as_utc(row.due_at), when + AFTER_REVISIT[kind])
    conn.execute(
        update(tasks)
        .where(tasks.c.task_id == task_id)
        .values(revisit_at=when, due_at=due, revision=row.revision + 1)
    )
    _transition(
        conn,
        task_id,
        actor,
        TaskState(row.state),
        TaskState(row.state),
        f"{Outcome.NOBODY_HOME.value} {when.isoformat(timespec='minutes')}: {note}",
    )
    _changed(conn, task_id, out)
    return OutcomeResult(revisit_at=when)


def _needs_help(
    conn: Connection, task_id: str, actor: str, out: Outbound, note: str, now: datetime
) -> OutcomeResult:
    """A care recipient needs help: the visited task goes to the community centre to follow up
    (it closes when the centre records how it ended)."""
    row = conn.execute(select(tasks).where(tasks.c.task_id == task_id)).one()
    conn.execute(
        update(tasks)
        .where(tasks.c.task_id == task_id)
        .values(
            outcome=Outcome.NEEDS_HELP.value,
            assignee=Assignee.COMMUNITY_CENTRE.value,
            worker_id=None,
            revisit_at=None,
            due_at=now + timedelta(hours=4),
            revision=row.revision + 1,
        )
    )
    state = TaskState(row.state)
    _transition(conn, task_id, actor, state, state, f"{Outcome.NEEDS_HELP.value}: {note}")
    _changed(conn, task_id, out)
    return OutcomeResult()


def add_occupant(
    conn: Connection, house_id: str, person: NewOccupant, actor: str, out: Outbound
) -> OutcomeResult:
    """Register a resident; with face consent, record it and invite them to enrol at a gate."""
    resident_id = f"R-{uuid7().hex[-12:]}"
    now = datetime.now(UTC)
    conn.execute(
        residents.insert().values(
            resident_id=resident_id,
            house_id=house_id,
            active=True,
            care_recipient=person.care_recipient,
            name=person.name,
            phone=person.phone,
        )
    )
    conn.execute(update(houses).where(houses.c.house_id == house_id).values(vacant=False))
    if not person.face_consent:
        out.to_edges.extend(queue_resident_change(conn, resident_id))
        return OutcomeResult(resident_id=resident_id)
    grant = consent.grant_face(
        conn, resident_id, person.consent_version, person.guardian_id, actor, now
    )
    out.to_edges.extend(grant.to_edges)
    return OutcomeResult(resident_id=resident_id, enrolment_code=grant.code)


def escalate_overdue(conn: Connection, now: datetime, out: Outbound) -> list[str]:
    """Open tasks past their due time move up: grid worker -> grid leader -> community centre."""
    moved = []
    overdue = conn.execute(
        select(tasks.c.task_id, tasks.c.state, tasks.c.assignee, tasks.c.revision, houses.c.grid_id)
        .join(houses, houses.c.house_id == tasks.c.house_id)
        .where(
            tasks.c.open.is_(True),
            tasks.c.due_at < now,
            tasks.c.assignee != Assignee.COMMUNITY_CENTRE.value,
            # "Nobody home": not overdue before the worker could go back.
            or_(tasks.c.revisit_at.is_(None), tasks.c.revisit_at <= now),
        )
    ).all()
    for row in overdue:
        leader = None
        if row.assignee == Assignee.GRID_WORKER.value:
            leader = conn.scalar(
                select(workers.c.worker_id).where(
                    workers.c.grid_id == row.grid_id, workers.c.leader.is_(True)
                )
            )
        assignee = Assignee.GRID_LEADER if leader else Assignee.COMMUNITY_CENTRE
        conn.execute(
            update(tasks)
            .where(tasks.c.task_id == row.task_id)
            .values(
                worker_id=leader,
                assignee=assignee.value,
                revision=row.revision + 1,
                # The new assignee gets a fresh day to act before the next step up.
                due_at=now + timedelta(days=1),
            )
        )
        state = TaskState(row.state)  # escalation moves the task up, not on
        _transition(conn, row.task_id, "system", state, state, f"overdue: to {assignee.value}")
        _changed(conn, row.task_id, out)
        moved.append(str(row.task_id))
    return moved
