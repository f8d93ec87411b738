"""Monthly reports per grid worker and per grid: assigned, closed, on time, time to visit,
outcome mix."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Connection, or_, select

from gridgate_wire import TaskState
from hub.auth import Principal
from hub.errors import Invalid
from hub.store.db import as_utc
from hub.store.schema import houses, task_transitions, tasks, workers
from hub.tasks import Assignee


class GroupBy(StrEnum):
    WORKER = "worker"
    GRID = "grid"


@dataclass
class ReportRow:
    key: str
    grid_id: str
    tasks_assigned: int = 0
    tasks_closed: int = 0
    closed_on_time: int = 0
    visit_hours: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def on_time_rate(self) -> float | None:
        return None if not self.tasks_closed else self.closed_on_time / self.tasks_closed

    @property
    def median_hours_to_visit(self) -> float | None:
        return None if not self.visit_hours else statistics.median(self.visit_hours)

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "grid_id": self.grid_id,
            "tasks_assigned": self.tasks_assigned,
            "tasks_closed": self.tasks_closed,
            "on_time_rate": None if self.on_time_rate is None else round(self.on_time_rate, 4),
            "median_hours_to_visit": None
            if self.median_hours_to_visit is None
            else round(self.median_hours_to_visit, 2),
            "outcomes": dict(sorted(self.outcomes.items())),
        }


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """``YYYY-MM`` -> [first instant, first instant of the next month) in UTC."""
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    except ValueError as exc:
        raise Invalid("month must look like 2026-11") from exc
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start, end


def monthly(
    conn: Connection, month: str, group_by: GroupBy, principal: Principal
) -> list[ReportRow]:
    start, end = month_bounds(month)
    # Bounded by the month (issue 19): tasks created in it, or closed in it (a closing
    # transition in the month), by index; not every task created before the month's end.
    closed_in_month = select(task_transitions.c.task_id).where(
        task_transitions.c.at >= start,
        task_transitions.c.at < end,
        task_transitions.c.to_state == TaskState.CLOSED.value,
    )
    query = (
        select(tasks, houses.c.grid_id)
        .join(houses, houses.c.house_id == tasks.c.house_id)
        .where(
            tasks.c.created_at < end,
            or_(tasks.c.created_at >= start, tasks.c.task_id.in_(closed_in_month)),
        )
    )
    if principal.grids is not None:
        query = query.where(houses.c.grid_id.in_(principal.grids))
    rows = conn.execute(query).all()
    ids = [r.task_id for r in rows]
    visited: dict[str, datetime] = {}
    closed: dict[str, tuple[datetime, str]] = {}
    assigned_to: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for start_index in range(0, len(ids), 500):
        for t in conn.execute(
            select(task_transitions)
            .where(task_transitions.c.task_id.in_(ids[start_index : start_index + 500]))
            .order_by(task_transitions.c.pk)
        ):
            at = as_utc(t.at)
            if t.to_state == TaskState.VISITED.value:
                visited.setdefault(t.task_id, at)
            if t.to_state == TaskState.CLOSED.value:
                closed[t.task_id] = (at, t.actor)
                visited.setdefault(t.task_id, at)
            if t.to_state == TaskState.ASSIGNED.value:
                assigned_to[t.task_id].append((at, t.note.rsplit(" ", 1)[-1]))
    worker_grid = {w.worker_id: w.grid_id for w in conn.execute(select(workers))}
    table: dict[str, ReportRow] = {}

    def row_for(key: str, grid_id: str) -> ReportRow:
        return table.setdefault(key, ReportRow(key, grid_id))

    def key_of(worker: str | None, grid_id: str) -> str:
        return (
            (worker or Assignee.COMMUNITY_CENTRE.value) if group_by is GroupBy.WORKER else grid_id
        )

    for task in rows:
        created = as_utc(task.created_at)
        first_worker = assigned_to[task.task_id][0][1] if assigned_to[task.task_id] else None
        if start <= created < end and first_worker:
            row_for(
                key_of(first_worker, task.grid_id), worker_grid.get(first_worker, task.grid_id)
            ).tasks_assigned += 1
        if task.task_id in closed:
            at, _actor = closed[task.task_id]
            if start <= at < end:
                worker = task.worker_id or first_worker
                row = row_for(key_of(worker, task.grid_id), task.grid_id)
                row.tasks_closed += 1
                if at <= as_utc(task.due_at):
                    row.closed_on_time += 1
                row.visit_hours.append((visited[task.task_id] - created).total_seconds() / 3600)
                if task.outcome:
                    row.outcomes[task.outcome] += 1
    return sorted(table.values(), key=lambda r: (r.grid_id, r.key))


CSV_COLUMNS = (
    "month",
    "group",
    "key",
    "grid_id",
    "tasks_assigned",
    "tasks_closed",
    "on_time_rate",
    "median_hours_to_visit",
    "outcomes",
)


def to_csv(month: str, group_by: GroupBy, rows: list[ReportRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        data = row.as_dict()
        outcomes = row.outcomes
        writer.writerow(
            [
                month,
                group_by.value,
                row.key,
                row.grid_id,
                row.tasks_assigned,
                row.tasks_closed,
                "" if data["on_time_rate"] is None else data["on_time_rate"],
                "" if data["median_hours_to_visit"] is None else data["median_hours_to_visit"],
                ";".join(f"{k}={v}" for k, v in sorted(outcomes.items())),
            ]
        )
    return buffer.getvalue()
