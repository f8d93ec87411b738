"""Alerts become house-visit tasks for the right grid worker; outcomes flow back to the edge.

One open task per house and kind: a later alert attaches to it as evidence. Assignment: a grid
worker of the house's grid, else the grid leader, else the community centre. Every transition is
recorded with who and when. Outcomes update the registry and produce the messages the edge needs
(a roster delta that removes a resident, or a suppression window after "no change").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Connection, select, update

from gridgate_wire import (
    AlertKind,
    AlertSuppression,
    EdgeAlert,
    Message,
    RosterUpdate,
    TaskState,
    WorkerTask,
    new_fields,
    uuid7,
)
from hub.store.schema import (
    compounds,
    edge_compounds,
    houses,
    residents,
    task_evidence,
    task_transitions,
    tasks,
    workers,
)

_LOGGER = logging.getLogger(__name__)

DUE = {
    AlertKind.WELFARE_CHECK: timedelta(hours=24),
    AlertKind.MOVE_OUT: timedelta(days=7),
    AlertKind.NEW_OCCUPANT: timedelta(days=7),
    AlertKind.VACANCY: timedelta(days=14),
}
NO_CHANGE_SUPPRESSION = timedelta(days=60)


class Outcome(StrEnum):
    MOVED_OUT = "moved_out"
    NO_CHANGE = "no_change"
    VACANCY_CONFIRMED = "vacancy_confirmed"
    NEW_OCCUPANT_CONFIRMED = "new_occupant_confirmed"


class TaskError(Exception):
    """A task operation that cannot be done (unknown task, wrong state...)."""


@dataclass
class Outbound:
    """Messages to publish once the transaction has committed: (topic kind, target, message)."""

    to_workers: list[WorkerTask] = field(default_factory=list)
    to_edges: list[Message] = field(default_factory=list)


def _transition(
    conn: Connection, task_id: str, actor: str, old: str | None, new: str, note: str = ""
) -> None:
    conn.execute(
        task_transitions.insert().values(
            task_id=task_id,
            at=datetime.now(UTC),
            actor=actor,
            from_state=old,
            to_state=new,
            note=note,
        )
    )


def _assign(conn: Connection, house_id: str) -> tuple[str | None, str]:
    row = conn.execute(select(houses.c.grid_id).where(houses.c.house_id == house_id)).first()
    if row is None:
        return None, "community-centre"
    staff = conn.execute(
        select(workers.c.worker_id, workers.c.leader)
        .where(workers.c.grid_id == row.grid_id)
        .order_by(workers.c.leader, workers.c.worker_id)
    ).all()
    if not staff:
        return None, "community-centre"
    worker_id, leader = staff[0]
    return str(worker_id), ("grid-leader" if leader else "grid-worker")


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
        due_at=row.due_at if row.due_at.tzinfo else row.due_at.replace(tzinfo=UTC),
        summary=f"{row.kind.replace('_', ' ')} at {row.address}",
    )


def on_alert(conn: Connection, edge_id: str, alert: EdgeAlert, out: Outbound) -> str | None:
    """Turn an alert into a new task or evidence on the open one; returns the task id."""
    if (
        alert.house_id is None
        or conn.execute(
            select(houses.c.house_id).where(houses.c.house_id == alert.house_id)
        ).first()
        is None
    ):
        _LOGGER.warning("alert %s names no registered house (%s)", alert.id, alert.house_id)
        return None
    now = datetime.now(UTC)
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
        task_id = f"T-{uuid7().hex[:16]}"
        worker_id, assignee = _assign(conn, alert.house_id)
        conn.execute(
            tasks.insert().values(
                task_id=task_id,
                house_id=alert.house_id,
                kind=alert.kind.value,
                state=TaskState.CREATED.value,
                open=True,
                resident_id=alert.resident_id,
                worker_id=worker_id,
                assignee=assignee,
                created_at=now,
                due_at=now + DUE[alert.kind],
                revision=1,
            )
        )
        _transition(conn, task_id, "system", None, TaskState.CREATED.value, f"alert {alert.id}")
        if worker_id is not None:
            conn.execute(
                update(tasks)
                .where(tasks.c.task_id == task_id)
                .values(state=TaskState.ASSIGNED.value, revision=2)
            )
            _transition(conn, task_id, "system", "created", "assigned", f"{assignee} {worker_id}")
            message = _worker_message(conn, task_id)
            if message is not None:
                out.to_workers.append(message)
    conn.execute(
        task_evidence.insert().values(
            task_id=task_id,
            edge_id=edge_id,
            msg_id=str(alert.id),
            received_at=now,
            confidence=alert.confidence,
        )
    )
    return task_id


_NEXT = {
    TaskState.ASSIGNED: {TaskState.ACCEPTED, TaskState.CANCELLED},
    TaskState.CREATED: {TaskState.ASSIGNED, TaskState.CANCELLED},
    TaskState.ACCEPTED: {TaskState.VISITED, TaskState.CANCELLED},
    TaskState.VISITED: {TaskState.CLOSED},
}


def advance(
    conn: Connection, task_id: str, new: TaskState, actor: str, out: Outbound, note: str = ""
) -> None:
    row = conn.execute(select(tasks).where(tasks.c.task_id == task_id)).first()
    if row is None:
        raise TaskError(f"no task {task_id}")
    old = TaskState(row.state)
    if new not in _NEXT.get(old, set()):
        raise TaskError(f"task {task_id} is {old.value}; it cannot become {new.value}")
    still_open = new not in (TaskState.CLOSED, TaskState.CANCELLED)
    conn.execute(
        update(tasks)
        .where(tasks.c.task_id == task_id)
        .values(state=new.value, open=still_open, revision=row.revision + 1)
    )
    _transition(conn, task_id, actor, old.value, new.value, note)
    message = _worker_message(conn, task_id)
    if message is not None:
        out.to_workers.append(message)


def record_outcome(
    conn: Connection, task_id: str, outcome: Outcome, actor: str, out: Outbound, note: str = ""
) -> None:
    """The worker visited: close the task and carry the outcome into the registry and edges."""
    row = conn.execute(select(tasks).where(tasks.c.task_id == task_id)).first()
    if row is None:
        raise TaskError(f"no task {task_id}")
    if row.state == TaskState.ACCEPTED.value:
        advance(conn, task_id, TaskState.VISITED, actor, out, note)
    advance(conn, task_id, TaskState.CLOSED, actor, out, f"{outcome.value}: {note}")
    conn.execute(update(tasks).where(tasks.c.task_id == task_id).values(outcome=outcome.value))
    edges = [
        str(e)
        for e in conn.scalars(
            select(edge_compounds.c.edge_id)
            .join(compounds, compounds.c.compound_id == edge_compounds.c.compound_id)
            .join(houses, houses.c.compound_id == compounds.c.compound_id)
            .where(houses.c.house_id == row.house_id)
        )
    ]
    if outcome is Outcome.MOVED_OUT and row.resident_id:
        conn.execute(
            update(residents).where(residents.c.resident_id == row.resident_id).values(active=False)
        )
        for edge_id in edges:
            version = _next_roster_version(conn, edge_id)
            out.to_edges.append(
                RosterUpdate(
                    **new_fields(),
                    edge_id=edge_id,
                    roster_version=version,
                    base_version=version - 1,
                    removed=[row.resident_id],
                )
            )
    elif outcome is Outcome.VACANCY_CONFIRMED:
        conn.execute(update(houses).where(houses.c.house_id == row.house_id).values(vacant=True))
    elif outcome is Outcome.NO_CHANGE:
        until = datetime.now(UTC) + NO_CHANGE_SUPPRESSION
        for edge_id in edges:
            out.to_edges.append(
                AlertSuppression(
                    **new_fields(),
                    edge_id=edge_id,
                    house_id=row.house_id,
                    kind=AlertKind(row.kind),
                    until=until,
                )
            )


def _next_roster_version(conn: Connection, edge_id: str) -> int:
    current = conn.scalar(
        select(edge_compounds.c.roster_version).where(edge_compounds.c.edge_id == edge_id)
    )
    version = int(current or 0) + 1
    conn.execute(
        update(edge_compounds)
        .where(edge_compounds.c.edge_id == edge_id)
        .values(roster_version=version)
    )
    return version


def escalate_overdue(conn: Connection, now: datetime, out: Outbound) -> list[str]:
    """Open tasks past their due time move up: grid worker -> grid leader -> community centre."""
    moved = []
    overdue = conn.execute(
        select(tasks.c.task_id, tasks.c.assignee, tasks.c.revision, houses.c.grid_id)
        .join(houses, houses.c.house_id == tasks.c.house_id)
        .where(
            tasks.c.open.is_(True),
            tasks.c.due_at < now,
            tasks.c.assignee != "community-centre",
        )
    ).all()
    for row in overdue:
        leader = None
        if row.assignee == "grid-worker":
            leader = conn.scalar(
                select(workers.c.worker_id).where(
                    workers.c.grid_id == row.grid_id, workers.c.leader.is_(True)
                )
            )
        assignee = "grid-leader" if leader else "community-centre"
        conn.execute(
            update(tasks)
            .where(tasks.c.task_id == row.task_id)
            .values(
                worker_id=leader,
                assignee=assignee,
                revision=row.revision + 1,
                # The new assignee gets a fresh day to act before the next step up.
                due_at=now + timedelta(days=1),
            )
        )
        state = conn.scalar(select(tasks.c.state).where(tasks.c.task_id == row.task_id))
        _transition(conn, row.task_id, "system", state, str(state), f"overdue: to {assignee}")
        message = _worker_message(conn, row.task_id)
        if message is not None:
            out.to_workers.append(message)
        moved.append(str(row.task_id))
    return moved
