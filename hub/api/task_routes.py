"""``/api/v1`` house-visit tasks: list and read in scope, accept, cancel, record the outcome,
create one by hand, reassign (改派)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from hub import models
from hub.api.deps import Ctx, Paged, Staff, User
from hub.services import tasks
from hub.services.tasks import TaskFilter

router = APIRouter(prefix="/api/v1", tags=["tasks"])


@router.get("/tasks", response_model=models.Page[models.Task])
def list_tasks(
    principal: User,
    ctx: Ctx,
    page: Paged,
    state: str | None = None,
    kind: str | None = None,
    grid_id: str | None = None,
    worker_id: str | None = None,
    open: bool | None = None,
    changed_since: Annotated[
        datetime | None,
        Query(description="Only tasks with a transition after this time (reconnect)."),
    ] = None,
    order: Annotated[
        str, Query(pattern="^(due|confidence)$", description="due (default) or confidence.")
    ] = "due",
) -> models.Page[models.Task]:
    chosen = TaskFilter(
        state=state,
        kind=kind,
        grid_id=grid_id,
        worker_id=worker_id,
        open_only=open,
        changed_since=changed_since,
        by_confidence=order == "confidence",
    )
    with ctx.read() as conn:
        return tasks.list_tasks(conn, principal, chosen, page)


@router.get("/tasks/{task_id}", response_model=models.TaskDetail)
def get_task(task_id: str, principal: User, ctx: Ctx) -> models.TaskDetail:
    with ctx.read() as conn:
        return tasks.get_task(conn, principal, task_id)


@router.post("/tasks/{task_id}/accept", response_model=models.Task)
def accept_task(task_id: str, principal: User, ctx: Ctx) -> models.Task:
    with ctx.work() as work:
        return tasks.accept(work, principal, task_id)


@router.post("/tasks/{task_id}/cancel", response_model=models.Task)
def cancel_task(task_id: str, body: models.NoteIn, principal: Staff, ctx: Ctx) -> models.Task:
    """Cancel an open task; the reason (``note``) is required and kept in its history."""
    with ctx.work() as work:
        return tasks.cancel(work, principal, task_id, body.note)


@router.post("/tasks/{task_id}/outcome", response_model=models.OutcomeOut)
def post_outcome(
    task_id: str, body: models.OutcomeIn, principal: User, ctx: Ctx
) -> models.OutcomeOut:
    """Record the visit's outcome (one the task's kind offers; 422 otherwise); a new occupant
    gets a resident record and, with face consent, an enrolment code (returned once);
    ``nobody_home`` keeps the task open until ``revisit_at``."""
    with ctx.work() as work:
        return tasks.record_outcome(work, principal, task_id, body, ctx.site_timezone)


@router.post("/houses/{house_id}/tasks", response_model=models.Task, status_code=201)
def create_task(house_id: str, body: models.TaskCreate, principal: Staff, ctx: Ctx) -> models.Task:
    """Create a visit task by hand (a neighbour phoned); 409 when the house already has an open
    task of that kind."""
    with ctx.work() as work:
        return tasks.create_by_hand(work, principal, house_id, body)


@router.post("/tasks/{task_id}/reassign", response_model=models.Task)
def reassign_task(task_id: str, body: models.ReassignIn, principal: Staff, ctx: Ctx) -> models.Task:
    """Hand an open task to another worker (改派) with a reason; they accept it anew."""
    with ctx.work() as work:
        return tasks.reassign(work, principal, task_id, body)
