"""The visit loop around tasks (issues 13 and 15): away reports (外出报备) and the review list
of alerts that named no known house."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Row, Select, select

from hub import audit, models
from hub import visits as domain
from hub.audit import Action
from hub.auth import Principal
from hub.errors import Conflict, Invalid, NotFound
from hub.services import queries
from hub.services.paging import Window
from hub.store.db import as_utc
from hub.store.schema import alert_reviews, away_reports, compounds, residents
from hub.uow import UnitOfWork

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


def house_away(conn: Connection, principal: Principal, house_id: str) -> list[models.AwayOut]:
    """Away reports of a house in scope (newest return date first)."""
    queries.house(conn, principal, house_id)
    return away_list(conn, house_id)


def _local_midnight(day: date, site_timezone: str) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(site_timezone)).astimezone(UTC)


def report_away(
    work: UnitOfWork, principal: Principal, house_id: str, body: models.AwayIn, site_timezone: str
) -> models.AwayOut:
    """Record that a resident (or, without ``resident_id``, the household) is away from
    ``away_from`` until about ``back_on``: the edges stay quiet about their absence until then
    (plus a grace period) and alert again if they are not back."""
    try:
        away_from = _local_midnight(body.away_from, site_timezone)
        back_on = domain.local_day_end(body.back_on, site_timezone)
    except (OverflowError, ValueError) as exc:  # a date at the very edge of the calendar
        raise Invalid.field("bad_date", "back_on", "out of range") from exc
    conn = work.conn
    queries.house(conn, principal, house_id)
    report = domain.report_away(
        conn,
        house_id,
        body.resident_id,
        away_from,
        back_on,
        body.note,
        principal.actor,
        datetime.now(UTC),
    )
    work.publish_after_commit(*report.to_edges)
    audit.record(
        conn,
        principal.actor,
        Action.CREATE,
        "away_report",
        report.report_id,
        community_id=queries.community_of_house(conn, house_id),
        detail=f"{body.resident_id or 'household'} until {body.back_on.isoformat()}",
    )
    return next(a for a in away_list(conn, house_id) if a.report_id == report.report_id)


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


def review_out(row: Row[Any]) -> models.Review:
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


def list_reviews(
    conn: Connection, principal: Principal, window: Window, open_only: bool = True
) -> models.Page[models.Review]:
    """Alerts that named no registered house, for the community centre to look into."""
    query = reviews_query(principal, open_only)
    rows, total, _exact = queries.counted_page(conn, query, window.limit, window.offset)
    return models.Page[models.Review](
        items=[review_out(r) for r in rows], total=total, limit=window.limit, offset=window.offset
    )


def open_reviews(conn: Connection, principal: Principal, limit: int) -> list[models.Review]:
    return [review_out(r) for r in conn.execute(reviews_query(principal).limit(limit))]


def resolve_review(
    work: UnitOfWork, principal: Principal, edge_id: str, msg_id: str, note: str
) -> None:
    """Mark a review item handled, saying how (a house registered, a task created by hand...)."""
    if not note.strip():
        raise Invalid.field("reason_needed", "note", "say how it was handled")
    row = work.conn.execute(
        reviews_query(principal, open_only=False).where(
            alert_reviews.c.edge_id == edge_id, alert_reviews.c.msg_id == msg_id
        )
    ).first()
    if row is None:
        raise NotFound.of("review", msg_id)
    if not domain.resolve_review(
        work.conn, edge_id, msg_id, principal.actor, note, datetime.now(UTC)
    ):
        raise Conflict("resolved already")
