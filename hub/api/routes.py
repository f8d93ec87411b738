"""The hub's JSON API, ``/api/v1``: registry, tasks, workers, reports, edges, audit, privacy.

Every handler authenticates, checks the role, looks objects up inside the user's scope (404
outside it), and writes an audit entry in the same transaction for any read or change of
personal data (residents, consents, invitations).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel
from sqlalchemy import Select, select, update

from gridgate_wire import TaskState
from hub import audit, consent, reports, sync
from hub.api import models, queries
from hub.api.context import (
    SESSION_COOKIE,
    Admin,
    Ctx,
    Staff,
    User,
    session_token,
    set_session_cookie,
)
from hub.audit import Action
from hub.auth import AuthError, Principal, Role, login, logout
from hub.importer import KINDS, ImportReport, import_csv
from hub.privacy import template_counts
from hub.store.db import as_utc
from hub.store.schema import audit_log, dead_letters, houses, residents
from hub.tasks import (
    NewOccupant,
    Outbound,
    OutcomeError,
    TaskError,
    advance,
    record_outcome,
)
from hub.visits import local_day_end

router = APIRouter(prefix="/api/v1")

Limit = Annotated[int, Query(ge=1, le=200, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Objects to skip.")]


def _mapped_page(
    ctx: Ctx, query: Select[Any], model: type[BaseModel], limit: int, offset: int
) -> models.Page[Any]:
    """One page of rows that map field for field onto ``model``."""
    with ctx.engine.connect() as conn:
        rows, total, exact = queries.counted_page(conn, query, limit, offset)
    return models.Page[Any](
        items=[model.model_validate(r._mapping) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
        total_exact=exact,
    )


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# ------------------------------------------------------------------------------ session


@router.post("/auth/login", response_model=models.LoginResponse, tags=["session"])
def post_login(body: models.LoginRequest, request: Request, response: Response, ctx: Ctx) -> Any:
    """Log in; answers 401 on a wrong password and 429 after repeated failures."""
    # The failure is committed (not rolled back with the error): it feeds the throttle.
    refused: AuthError | None = None
    with ctx.engine.begin() as conn:
        try:
            token, principal = login(
                conn, body.username, body.password, _client(request), ctx.policy
            )
        except AuthError as exc:
            refused = exc
        else:
            audit.record(conn, principal.actor, Action.LOGIN, "user", principal.user_id)
    if refused is not None:
        raise HTTPException(refused.status, refused.reason) from refused
    set_session_cookie(response, token, ctx)
    return models.LoginResponse(
        token=token,
        csrf_token=principal.csrf_token,
        role=principal.role,
        username=principal.username,
    )


@router.post("/auth/logout", status_code=204, tags=["session"])
def post_logout(request: Request, response: Response, principal: User, ctx: Ctx) -> None:
    """Revoke the session on the server; the token stops working at once."""
    token, _ = session_token(request)
    with ctx.engine.begin() as conn:
        logout(conn, token or "")
        audit.record(conn, principal.actor, Action.LOGOUT, "user", principal.user_id)
    response.delete_cookie(SESSION_COOKIE)


@router.get("/me", response_model=models.Me, tags=["session"])
def get_me(principal: User) -> Any:
    return models.Me(
        user_id=principal.user_id,
        username=principal.username,
        role=principal.role,
        area_id=principal.area_id,
        worker_id=principal.worker_id,
        grids=None if principal.grids is None else sorted(principal.grids),
    )


# ------------------------------------------------------------------------------ registry


@router.get("/areas", response_model=models.Page[models.Area], tags=["registry"])
def list_areas(principal: User, ctx: Ctx, limit: Limit = 50, offset: Offset = 0) -> Any:
    return _mapped_page(ctx, queries.areas_query(principal), models.Area, limit, offset)


@router.get("/compounds", response_model=models.Page[models.Compound], tags=["registry"])
def list_compounds(principal: User, ctx: Ctx, limit: Limit = 50, offset: Offset = 0) -> Any:
    return _mapped_page(ctx, queries.compounds_query(principal), models.Compound, limit, offset)


@router.get("/compounds/{compound_id}", response_model=models.Compound, tags=["registry"])
def get_compound(compound_id: str, principal: User, ctx: Ctx) -> Any:
    with ctx.engine.connect() as conn:
        return queries.compound(conn, principal, compound_id)


@router.get("/houses", response_model=models.Page[models.House], tags=["registry"])
def list_houses(
    principal: User,
    ctx: Ctx,
    grid_id: str | None = None,
    compound_id: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page.")
    ] = None,
) -> Any:
    query = queries.houses_query(principal, grid_id, compound_id)
    if cursor:  # keyset: houses after the previous page's last id
        query = query.where(houses.c.house_id > queries.decode_cursor(cursor))
    page = _mapped_page(ctx, query, models.House, limit, offset)
    if len(page.items) == limit:
        page.next_cursor = queries.encode_cursor(page.items[-1].house_id)
    return page


@router.get("/houses/{house_id}", response_model=models.House, tags=["registry"])
def get_house(house_id: str, principal: User, ctx: Ctx) -> Any:
    with ctx.engine.connect() as conn:
        return queries.house(conn, principal, house_id)


@router.get("/residents", response_model=models.Page[models.Resident], tags=["registry"])
def list_residents(
    principal: User,
    ctx: Ctx,
    house_id: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    q: Annotated[
        str | None, Query(max_length=64, description="Name, phone or house contains this.")
    ] = None,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page.")
    ] = None,
) -> Any:
    query = queries.residents_query(principal, house_id, q)
    if cursor:  # keyset: residents after the previous page's last id, whatever the depth
        query = query.where(residents.c.resident_id > queries.decode_cursor(cursor))
    with ctx.engine.begin() as conn:
        rows, total, exact = queries.counted_page(conn, query, limit, offset)
        audit.record(
            conn,
            principal.actor,
            Action.READ,
            "resident",
            ",".join(r.resident_id for r in rows) or "(none)",
            community_id=principal.area_id if principal.role is Role.COMMUNITY_ADMIN else None,
            detail=f"list house={house_id or '*'} q={q or ''} offset={offset}",
            object_ids=[r.resident_id for r in rows],
        )
    return models.Page[models.Resident](
        items=[queries.resident_out(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
        total_exact=exact,
        next_cursor=queries.encode_cursor(rows[-1].resident_id) if len(rows) == limit else None,
    )


@router.get("/residents/{resident_id}", response_model=models.ResidentDetail, tags=["registry"])
def get_resident(resident_id: str, principal: User, ctx: Ctx) -> Any:
    with ctx.engine.begin() as conn:
        detail = queries.resident_detail(conn, principal, resident_id)
        audit.record(
            conn,
            principal.actor,
            Action.READ,
            "resident",
            resident_id,
            community_id=queries.community_of_house(conn, detail.house_id),
        )
    return detail


@router.post("/residents", response_model=models.Resident, status_code=201, tags=["registry"])
def create_resident(body: models.ResidentCreate, principal: Staff, ctx: Ctx) -> Any:
    out = Outbound()
    with ctx.engine.begin() as conn:
        queries.house(conn, principal, body.house_id)  # 404 outside scope
        if conn.scalar(
            select(residents.c.resident_id).where(residents.c.resident_id == body.resident_id)
        ):
            raise HTTPException(409, f"resident {body.resident_id} already exists")
        conn.execute(residents.insert().values(**body.model_dump(), active=True))
        out.to_edges.extend(sync.queue_resident_change(conn, body.resident_id))
        audit.record(
            conn,
            principal.actor,
            Action.CREATE,
            "resident",
            body.resident_id,
            community_id=queries.community_of_house(conn, body.house_id),
        )
        created = queries.resident_out(queries.resident_row(conn, principal, body.resident_id))
    ctx.publish(out)
    return created


@router.patch("/residents/{resident_id}", response_model=models.Resident, tags=["registry"])
def patch_resident(resident_id: str, body: models.ResidentPatch, principal: Staff, ctx: Ctx) -> Any:
    out = Outbound()
    changes = body.model_dump(exclude_none=True)
    with ctx.engine.begin() as conn:
        row = queries.resident_row(conn, principal, resident_id)
        if changes:
            conn.execute(
                update(residents).where(residents.c.resident_id == resident_id).values(**changes)
            )
            if {"active", "care_recipient"} & changes.keys():
                out.to_edges.extend(sync.queue_resident_change(conn, resident_id))
        audit.record(
            conn,
            principal.actor,
            Action.UPDATE,
            "resident",
            resident_id,
            community_id=queries.community_of_house(conn, row.house_id),
            detail="fields: " + ",".join(sorted(changes)),
        )
        result = queries.resident_out(queries.resident_row(conn, principal, resident_id))
    ctx.publish(out)
    return result


@router.post(
    "/residents/{resident_id}/consents",
    response_model=models.InvitationOut,
    status_code=201,
    tags=["registry"],
)
def grant_face_consent(
    resident_id: str, body: models.ConsentCreate, principal: Staff, ctx: Ctx
) -> Any:
    """Record face consent (with guardian for a minor), update the edges' roster and invite
    the resident to enrol at a gate with a one-time code (returned once)."""
    out = Outbound()
    now = datetime.now(UTC)
    with ctx.engine.begin() as conn:
        row = queries.resident_row(conn, principal, resident_id)
        if not row.active:
            raise HTTPException(409, f"resident {resident_id} is not active")
        grant = consent.grant_face(
            conn, resident_id, body.version, body.guardian_id, principal.actor, now
        )
        out.to_edges.extend(grant.to_edges)
        community = queries.community_of_house(conn, row.house_id)
        audit.record(
            conn,
            principal.actor,
            Action.CREATE,
            "consent",
            grant.consent_id,
            community_id=community,
            detail=f"face consent {body.version} for {resident_id}",
        )
        audit.record(
            conn,
            principal.actor,
            Action.CREATE,
            "invitation",
            resident_id,
            community_id=community,
            detail=f"{grant.invited_edges} edges",
        )
    ctx.publish(out)
    return models.InvitationOut(
        resident_id=resident_id,
        consent_id=grant.consent_id,
        enrolment_code=grant.code,
        edges=grant.invited_edges,
        expires_at=grant.expires_at,
    )


@router.post("/residents/{resident_id}/consents/withdraw", status_code=204, tags=["registry"])
def withdraw_face_consent(resident_id: str, principal: Staff, ctx: Ctx) -> None:
    """Withdraw face consent: the edges drop the resident's templates and confirm."""
    out = Outbound()
    with ctx.engine.begin() as conn:
        row = queries.resident_row(conn, principal, resident_id)
        if not consent.withdraw_face(conn, resident_id, datetime.now(UTC)):
            raise HTTPException(409, f"resident {resident_id} has no face consent to withdraw")
        out.to_edges.extend(sync.queue_resident_change(conn, resident_id))
        audit.record(
            conn,
            principal.actor,
            Action.UPDATE,
            "consent",
            resident_id,
            community_id=queries.community_of_house(conn, row.house_id),
            detail="face consent withdrawn",
        )
    ctx.publish(out)


@router.get("/workers", response_model=models.Page[models.Worker], tags=["workers"])
def list_workers(principal: User, ctx: Ctx, limit: Limit = 50, offset: Offset = 0) -> Any:
    return _mapped_page(ctx, queries.workers_query(principal), models.Worker, limit, offset)


@router.get("/workers/{worker_id}", response_model=models.Worker, tags=["workers"])
def get_worker(worker_id: str, principal: User, ctx: Ctx) -> Any:
    with ctx.engine.connect() as conn:
        return queries.worker(conn, principal, worker_id)


# ------------------------------------------------------------------------------ tasks


@router.get("/tasks", response_model=models.Page[models.Task], tags=["tasks"])
def list_tasks(
    principal: User,
    ctx: Ctx,
    state: str | None = None,
    kind: str | None = None,
    grid_id: str | None = None,
    worker_id: str | None = None,
    open: bool | None = None,
    changed_since: Annotated[
        datetime | None,
        Query(description="Only tasks with a transition after this time (reconnect)."),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    order: Annotated[
        str, Query(pattern="^(due|confidence)$", description="due (default) or confidence.")
    ] = "due",
) -> Any:
    query = queries.tasks_query(
        principal,
        state=state,
        kind=kind,
        grid_id=grid_id,
        worker_id=worker_id,
        open_only=open,
        changed_since=changed_since,
        by_confidence=order == "confidence",
    )
    with ctx.engine.connect() as conn:
        rows, total, exact = queries.counted_page(conn, query, limit, offset)
    return models.Page[models.Task](
        items=[queries.task_out(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
        total_exact=exact,
    )


@router.get("/tasks/{task_id}", response_model=models.TaskDetail, tags=["tasks"])
def get_task(task_id: str, principal: User, ctx: Ctx) -> Any:
    with ctx.engine.connect() as conn:
        return queries.task_detail(conn, principal, task_id)


def _transition(
    ctx: Ctx, principal: Principal, task_id: str, action: Any
) -> tuple[models.Task, Any]:
    out = Outbound()
    try:
        with ctx.engine.begin() as conn:
            queries.task(conn, principal, task_id)  # 404 outside scope
            result = action(conn, out)
            updated = queries.task(conn, principal, task_id)
    except TaskError as exc:
        raise HTTPException(409, str(exc)) from exc
    ctx.publish(out)
    return updated, result


@router.post("/tasks/{task_id}/accept", response_model=models.Task, tags=["tasks"])
def accept_task(task_id: str, principal: User, ctx: Ctx) -> Any:
    task, _ = _transition(
        ctx,
        principal,
        task_id,
        lambda conn, out: advance(conn, task_id, TaskState.ACCEPTED, principal.actor, out),
    )
    return task


@router.post("/tasks/{task_id}/cancel", response_model=models.Task, tags=["tasks"])
def cancel_task(task_id: str, body: models.NoteIn, principal: Staff, ctx: Ctx) -> Any:
    """Cancel an open task; the reason (``note``) is required and kept in its history."""
    if not body.note.strip():
        raise HTTPException(422, {"code": "reason_needed", "field": "note", "reason": "why"})
    task, _ = _transition(
        ctx,
        principal,
        task_id,
        lambda conn, out: advance(
            conn, task_id, TaskState.CANCELLED, principal.actor, out, body.note
        ),
    )
    return task


@router.post("/tasks/{task_id}/outcome", response_model=models.OutcomeOut, tags=["tasks"])
def post_outcome(task_id: str, body: models.OutcomeIn, principal: User, ctx: Ctx) -> Any:
    """Record the visit's outcome (one the task's kind offers; 422 otherwise); a new occupant
    gets a resident record and, with face consent, an enrolment code (returned once);
    ``nobody_home`` keeps the task open until ``revisit_at``."""
    person = None if body.new_occupant is None else NewOccupant(**body.new_occupant.model_dump())
    try:
        back_on = None if body.back_on is None else local_day_end(body.back_on, ctx.site_timezone)
        revisit = None if body.revisit_at is None else as_utc(body.revisit_at)
    except (OverflowError, ValueError) as exc:  # a date at the very edge of the calendar
        raise HTTPException(
            422, {"code": "bad_date", "field": "back_on", "reason": "out of range"}
        ) from exc

    def act(conn: Any, out: Outbound) -> Any:
        try:
            result = record_outcome(
                conn,
                task_id,
                body.outcome,
                principal.actor,
                out,
                body.note,
                person,
                back_on=back_on,
                revisit=revisit,
                confirmed=body.confirmed,
            )
        except OutcomeError as exc:
            raise HTTPException(
                422, {"code": exc.code, "field": "outcome", "reason": str(exc)}
            ) from exc
        if result.resident_id is not None:
            audit.record(
                conn,
                principal.actor,
                Action.CREATE,
                "resident",
                result.resident_id,
                community_id=queries.community_of_house(
                    conn, queries.task(conn, principal, task_id).house_id
                ),
                detail=f"new occupant from task {task_id}",
            )
        return result

    task, result = _transition(ctx, principal, task_id, act)
    return models.OutcomeOut(
        task=task,
        resident_id=result.resident_id,
        enrolment_code=result.enrolment_code,
        revisit_at=result.revisit_at,
    )


# ------------------------------------------------------------------------------ edges


@router.get("/edges", response_model=models.Page[models.Edge], tags=["edges"])
def list_edges(principal: Staff, ctx: Ctx, limit: Limit = 50, offset: Offset = 0) -> Any:
    with ctx.engine.connect() as conn:
        rows, total = queries.page(conn, queries.edges_query(principal), limit, offset)
        items = [queries.edge_out(r) for r in rows]
    return models.Page[models.Edge](items=items, total=total, limit=limit, offset=offset)


@router.get("/edges/{edge_id}", response_model=models.Edge, tags=["edges"])
def get_edge(edge_id: str, principal: Staff, ctx: Ctx) -> Any:
    with ctx.engine.connect() as conn:
        return queries.edge(conn, principal, edge_id)


@router.post("/edges/{edge_id}/roster", response_model=models.Edge, tags=["edges"])
def send_full_roster(edge_id: str, principal: Staff, ctx: Ctx) -> Any:
    """Queue a full roster snapshot for the edge (it is re-sent until acknowledged)."""
    out = Outbound()
    with ctx.engine.begin() as conn:
        queries.edge(conn, principal, edge_id)
        out.to_edges.extend(sync.queue_snapshot(conn, edge_id))
    ctx.publish(out)
    with ctx.engine.connect() as conn:
        return queries.edge(conn, principal, edge_id)


# ------------------------------------------------------------------------------ reports


@router.get(
    "/reports/monthly",
    response_model=models.Report,
    tags=["reports"],
    responses={200: {"content": {"text/csv": {}}}},
)
def monthly_report(
    principal: Staff,
    ctx: Ctx,
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")],
    by: reports.GroupBy = reports.GroupBy.WORKER,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Any:
    """Per worker or per grid: tasks assigned, closed, on-time rate, median hours to visit,
    outcome mix. ``format=csv`` downloads the same table."""
    try:
        with ctx.engine.connect() as conn:
            rows = reports.monthly(conn, month, by, principal)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    if format == "csv":
        with ctx.engine.begin() as conn:
            audit.record(conn, principal.actor, Action.EXPORT, "report", f"{month}/{by.value}")
        return PlainTextResponse(
            reports.to_csv(month, by, rows),
            media_type="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="report-{month}-{by.value}.csv"'
            },
        )
    return models.Report(
        month=month,
        group_by=by.value,
        rows=[models.ReportRowOut.model_validate(r.as_dict()) for r in rows],
    )


# ------------------------------------------------------------------------------ import


def _import(ctx: Any, kind: str, text: str, principal: Principal) -> ImportReport:
    with ctx.engine.begin() as conn:
        report = import_csv(conn, kind, text, principal)
        if report.ok:
            audit.record(
                conn,
                principal.actor,
                Action.IMPORT,
                kind,
                f"{report.imported} rows",
                community_id=principal.area_id,
            )
    return report


@router.post("/import/{kind}", response_model=models.ImportResult, tags=["registry"])
async def import_registry(kind: str, request: Request, principal: Staff, ctx: Ctx) -> Any:
    """Import a CSV (UTF-8, header row). Every row is checked first; if any fails nothing is
    imported and the answer (422) lists each problem as row, field, reason."""
    if kind not in KINDS:
        raise HTTPException(404, f"no import kind {kind}; one of {', '.join(KINDS)}")
    raw = await request.body()
    if len(raw) > 20 * 1024 * 1024:
        raise HTTPException(413, "CSV larger than 20 MiB; split it")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(422, "the CSV is not UTF-8") from exc
    # Off the event loop (issue 19): a large import holds a worker thread, not every request.
    report = await run_in_threadpool(_import, ctx, kind, text, principal)
    result = models.ImportResult(
        kind=kind,
        rows=report.rows,
        imported=report.imported,
        problems=[models.ImportProblem(**vars(p)) for p in report.problems],
    )
    if not report.ok:
        return JSONResponse(result.model_dump(), status_code=422)
    return result


# ------------------------------------------------------------------------------ oversight


@router.get("/audit", response_model=models.Page[models.AuditEntry], tags=["oversight"])
def list_audit(
    principal: Staff,
    ctx: Ctx,
    limit: Limit = 50,
    offset: Offset = 0,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page.")
    ] = None,
) -> Any:
    query = select(audit_log).order_by(audit_log.c.pk.desc())
    if principal.communities is not None:
        query = query.where(audit_log.c.community_id.in_(principal.communities))
    if cursor:
        try:
            query = query.where(audit_log.c.pk < int(queries.decode_cursor(cursor)))
        except ValueError as exc:
            raise HTTPException(422, "cursor: not a cursor this hub gave") from exc
    with ctx.engine.connect() as conn:
        rows, total, exact = queries.counted_page(conn, query, limit, offset)
    return models.Page[models.AuditEntry](
        items=[
            models.AuditEntry(
                at=as_utc(r.at),
                actor=r.actor,
                action=r.action,
                object_type=r.object_type,
                object_id=r.object_id,
                community_id=r.community_id,
                detail=r.detail,
                object_ids=None if r.object_ids is None else json.loads(r.object_ids),
            )
            for r in rows
        ],
        total=total,
        limit=limit,
        offset=offset,
        total_exact=exact,
        next_cursor=queries.encode_cursor(str(rows[-1].pk)) if len(rows) == limit else None,
    )


@router.get("/privacy/templates", response_model=models.TemplateCountsOut, tags=["oversight"])
def get_template_counts(principal: Staff, ctx: Ctx) -> Any:
    """How many people have face templates on any edge (from the edges' confirmations)."""
    with ctx.engine.connect() as conn:
        counts = template_counts(conn, ctx.template_limit)
    return models.TemplateCountsOut(**vars(counts))


@router.get("/dead-letters", response_model=models.Page[models.DeadLetter], tags=["oversight"])
def list_dead_letters(principal: Admin, ctx: Ctx, limit: Limit = 50, offset: Offset = 0) -> Any:
    query = select(dead_letters).order_by(dead_letters.c.pk.desc())
    with ctx.engine.connect() as conn:
        rows, total = queries.page(conn, query, limit, offset)
    return models.Page[models.DeadLetter](
        items=[
            models.DeadLetter(
                received_at=as_utc(r.received_at),
                topic=r.topic,
                field=r.field,
                reason=r.reason,
                size=r.size,
            )
            for r in rows
        ],
        total=total,
        limit=limit,
        offset=offset,
    )
