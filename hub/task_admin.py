"""What the community centre does to tasks at the console: create a visit task by hand (a
neighbour phoned; an alert to review named the wrong house) and reassign one (改派)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, select, update

from gridgate_wire import AlertKind, TaskState
from hub.errors import Conflict
from hub.store.schema import tasks, workers
from hub.tasks import Assignee, Outbound, _changed, _new_task, _transition


def create_by_hand(
    conn: Connection,
    house_id: str,
    kind: AlertKind,
    resident_id: str | None,
    actor: str,
    note: str,
    out: Outbound,
) -> str:
    """The centre creates a visit task itself (a neighbour phoned, a review item): one open
    task per house and kind still holds."""
    if conn.execute(
        select(tasks.c.task_id).where(
            tasks.c.house_id == house_id, tasks.c.kind == kind.value, tasks.c.open.is_(True)
        )
    ).first():
        raise Conflict(f"house {house_id} has an open {kind.value} task already")
    task_id = _new_task(
        conn, house_id, kind, resident_id, actor, f"by hand: {note}", datetime.now(UTC)
    )
    _changed(conn, task_id, out)
    return task_id


def reassign(
    conn: Connection, task_id: str, worker_id: str, actor: str, reason: str, out: Outbound
) -> None:
    """The centre hands an open task to another worker (改派); they accept it anew."""
    row = conn.execute(select(tasks).where(tasks.c.task_id == task_id)).first()
    if row is None:
        raise Conflict(f"no task {task_id}")
    if not row.open:
        raise Conflict(f"task {task_id} is {row.state}; it cannot be reassigned")
    leader = conn.scalar(select(workers.c.leader).where(workers.c.worker_id == worker_id))
    if leader is None:
        raise Conflict(f"no worker {worker_id}")
    old = TaskState(row.state)
    state = TaskState.ASSIGNED if old is not TaskState.VISITED else old
    conn.execute(
        update(tasks)
        .where(tasks.c.task_id == task_id)
        .values(
            worker_id=worker_id,
            assignee=(Assignee.GRID_LEADER if leader else Assignee.GRID_WORKER).value,
            state=state.value,
            revision=row.revision + 1,
        )
    )
    _transition(
        conn,
        task_id,
        actor,
        old,
        state,
        f"reassigned {row.worker_id} -> {worker_id}: {reason}",
    )
    _changed(conn, task_id, out)
