"""API routes of the visit loop and the console (issues 13 and 15): away reports (外出报备),
review items for alerts without a known house, reassigning a task (改派), a new enrolment code.
Same rules as ``hub.api.routes``: authenticate, check the role, 404 outside the user's scope,
audit personal data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import Connection, Select, select

from hub import audit, consent, visits
from hub.api import models, queries
from hub.api.context import Ctx, Staff, User
from hub.audit import Action
from hub.auth import Principal
from hub.store.db import as_utc
from hub.store.schema import alert_reviews, away_reports, compounds, residents
from hub.task_admin import create_by_hand, reassign
from hub.tasks import Outbound, TaskError

router = APIRouter(prefix="/api/v1")

Limit = Annotated[int, Query(ge=1, le=200, description="Page size.")]
Offset = Annotated[int, Query(ge=0, description="Objects to skip.")]


def _invalid(code: str, field: str, reason: str) -> HTTPException:
    return HTTPException(422, {"code": code, "field": field, "reason": reason})


# ------------------------------------------------------------------------------ away reports


def away_list(conn: Connection, house_id: str) -> list[models.AwayOut]:
    rows = conn.execute(
        select(away_reports, residents.c.name.label("resident_name"))
        .join(residents, residents.c.resident_id == away_reports.c.resident_id, isouter=True)
        .where(away_reports.c.house_id == house_id)
        .order_by(away_reports.c.back_on.desc())
    ).all()
    return [
        models.AwayOut(
            report_id=r.report_id,
            house_id=r.house_id,
            resident_id=r.resident_id,
            resident_name=r.resident_name,
            away_from=as_utc(r.away_from),
            back_on=as_utc(r.back_on),
            note=r.note,
            recorded_by=r.recorded_by,
            recorded_at=as_utc(r.recorded_at),
        )
        for r in rows
    ]


@router.get("/houses/{house_id}/away", response_model=list[models.AwayOut], tags=["visits"])
def list_away(house_id: str, principal: User, ctx: Ctx) -> Any:
    """Away reports of a house (newest return date first)."""
    with ctx.engine.connect() as conn:
        queries.house(conn, principal, house_id)
        return away_list(conn, house_id)


@router.post(
    "/houses/{house_id}/away", response_model=models.AwayOut, status_code=201, tags=["visits"]
)
def report_away(house_id: str, body: models.AwayIn, principal: Staff, ctx: Ctx) -> Any:
    """Record that a resident (or, without ``resident_id``, the household) is away from
    ``away_from`` until about ``back_on``: the edges stay quiet about their absence until then
    (plus a grace period) and alert again if they are not back."""
    zone = ZoneInfo(ctx.site_timezone)
    try:
        away_from = datetime.combine(body.away_from, time(0, 0), tzinfo=zone).astimezone(UTC)
        back_on = visits.local_day_end(body.back_on, ctx.site_timezone)
    except (OverflowError, ValueError) as exc:  # a date at the very edge of the calendar
        raise _invalid("bad_date", "back_on", "out of range") from exc
    out = Outbound()
    now = datetime.now(UTC)
    with ctx.engine.begin() as conn:
        queries.house(conn, principal, house_id)
        try:
            report = visits.report_away(
                conn,
                house_id,
                body.resident_id,
                away_from,
                back_on,
                body.note,
                principal.actor,
                now,
            )
        except visits.OutcomeError as exc:
            raise _invalid(exc.code, "back_on", str(exc)) from exc
        out.to_edges.extend(report.to_edges)
        audit.record(
            conn,
            principal.actor,
            Action.CREATE,
            "away_report",
            report.report_id,
            community_id=queries.community_of_house(conn, house_id),
            detail=f"{body.resident_id or 'household'} until {body.back_on.isoformat()}",
        )
        created = next(a for a in away_list(conn, house_id) if a.report_id == report.report_id)
    ctx.publish(out)
    return created


# ------------------------------------------------------------------------------ reviews


def reviews_query(p: Principal, open_only: bool = True) -> Select[Any]:
    query = (
        select(alert_reviews, compounds.c.name.label("compound_name"))
        .join(compounds, compounds.c.compound_id == alert_reviews.c.compound_id, isouter=True)
        .order_by(alert_reviews.c.received_at.desc(), alert_reviews.c.msg_id)
    )
    if open_only:
        query = query.where(alert_reviews.c.resolved_at.is_(None))
    if p.communities is not None:
        query = query.where(alert_reviews.c.community_id.in_(p.communities))
    return query


def review_out(row: Any) -> models.Review:
    return models.Review(
        edge_id=row.edge_id,
        msg_id=row.msg_id,
        received_at=as_utc(row.received_at),
        kind=row.kind,
        compound_id=row.compound_id,
        compound_name=row.compound_name,
        house_named=row.house_named,
        resident_id=row.resident_id,
        confidence=row.confidence,
        evidence=dict(json.loads(row.evidence or "{}")),
        resolved_at=None if row.resolved_at is None else as_utc(row.resolved_at),
        resolved_by=row.resolved_by,
        resolution=row.resolution,
    )


@router.get("/reviews", response_model=models.Page[models.Review], tags=["visits"])
def list_reviews(
    principal: Staff,
    ctx: Ctx,
    open: bool = True,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """Alerts that named no registered house, for the community centre to look into."""
    with ctx.engine.connect() as conn:
        rows, total = queries.page(conn, reviews_query(principal, open), limit, offset)
    return models.Page[models.Review](
        items=[review_out(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.post("/reviews/{edge_id}/{msg_id}/resolve", status_code=204, tags=["visits"])
def resolve_review(
    edge_id: str, msg_id: str, body: models.NoteIn, principal: Staff, ctx: Ctx
) -> None:
    """Mark a review item handled, saying how (a house registered, a task created by hand...)."""
    if not body.note.strip():
        raise _invalid("reason_needed", "note", "say how it was handled")
    with ctx.engine.begin() as conn:
        row = conn.execute(
            reviews_query(principal, open_only=False).where(
                alert_reviews.c.edge_id == edge_id, alert_reviews.c.msg_id == msg_id
            )
        ).first()
        if row is None:
            raise queries.not_found("review", msg_id)
        if not visits.resolve_review(
            conn, edge_id, msg_id, principal.actor, body.note, datetime.now(UTC)
        ):
            raise HTTPException(409, "resolved already")


# ------------------------------------------------------------------------------ tasks


@router.post(
    "/houses/{house_id}/tasks", response_model=models.Task, status_code=201, tags=["tasks"]
)
def create_task(house_id: str, body: models.TaskCreate, principal: Staff, ctx: Ctx) -> Any:
    """Create a visit task by hand (a neighbour phoned); 409 when the house already has an open
    task of that kind."""
    out = Outbound()
    try:
        with ctx.engine.begin() as conn:
            queries.house(conn, principal, house_id)
            if body.resident_id is not None:
                row = queries.resident_row(conn, principal, body.resident_id)
                if row.house_id != house_id:
                    raise _invalid("resident_not_in_house", "resident_id", "not of this house")
            task_id = create_by_hand(
                conn, house_id, body.kind, body.resident_id, principal.actor, body.note, out
            )
            created = queries.task(conn, principal, task_id)
    except TaskError as exc:
        raise HTTPException(409, str(exc)) from exc
    ctx.publish(out)
    return created


@router.post("/tasks/{task_id}/reassign", response_model=models.Task, tags=["tasks"])
def reassign_task(task_id: str, body: models.ReassignIn, principal: Staff, ctx: Ctx) -> Any:
    """Hand an open task to another worker (改派) with a reason; they accept it anew."""
    out = Outbound()
    try:
        with ctx.engine.begin() as conn:
            queries.task(conn, principal, task_id)
            queries.worker(conn, principal, body.worker_id)  # 404 outside scope
            reassign(conn, task_id, body.worker_id, principal.actor, body.reason, out)
            updated = queries.task(conn, principal, task_id)
    except TaskError as exc:
        raise HTTPException(409, str(exc)) from exc
    ctx.publish(out)
    return updated


# ------------------------------------------------------------------------------ enrolment


@router.post(
    "/residents/{resident_id}/invitations",
    response_model=models.InvitationOut,
    status_code=201,
    tags=["registry"],
)
def new_enrolment_code(resident_id: str, principal: Staff, ctx: Ctx) -> Any:
    """A new one-time enrolment code for a resident with face consent (the first was lost or
    expired); returned once, only its sha256 is stored."""
    out = Outbound()
    with ctx.engine.begin() as conn:
        row = queries.resident_row(conn, principal, resident_id)
        if not row.active:
            raise HTTPException(409, f"resident {resident_id} is not active")
        grant = consent.reissue(conn, resident_id, datetime.now(UTC))
        if grant is None:
            raise HTTPException(409, f"resident {resident_id} has no face consent")
        out.to_edges.extend(grant.to_edges)
        audit.record(
            conn,
            principal.actor,
            Action.CREATE,
            "invitation",
            resident_id,
            community_id=queries.community_of_house(conn, row.house_id),
            detail=f"new code, {grant.invited_edges} edges",
        )
    ctx.publish(out)
    return models.InvitationOut(
        resident_id=resident_id,
        consent_id=grant.consent_id,
        enrolment_code=grant.code,
        edges=grant.invited_edges,
        expires_at=grant.expires_at,
    )
