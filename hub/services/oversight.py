"""Oversight: the edges and their rosters, the audit log, face-template figures, dead letters,
and the users a member of staff manages (disable, enable, reset a password; all audited)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Connection, select

from hub import audit, models, sync, users
from hub.audit import Action
from hub.auth import Principal
from hub.errors import Invalid
from hub.privacy import TemplateCounts, template_counts
from hub.services import queries
from hub.services.paging import Window
from hub.store.db import as_utc
from hub.store.schema import audit_log, dead_letters
from hub.uow import UnitOfWork

# ------------------------------------------------------------------------------ edges


def list_edges(conn: Connection, principal: Principal, window: Window) -> models.Page[models.Edge]:
    query = queries.edges_query(principal)
    rows, total, _exact = queries.counted_page(conn, query, window.limit, window.offset)
    return models.Page[models.Edge](
        items=[queries.edge_out(r) for r in rows],
        total=total,
        limit=window.limit,
        offset=window.offset,
    )


def get_edge(conn: Connection, principal: Principal, edge_id: str) -> models.Edge:
    return queries.edge(conn, principal, edge_id)


def send_full_roster(work: UnitOfWork, principal: Principal, edge_id: str) -> None:
    """Queue a full roster snapshot for the edge (it is re-sent until acknowledged)."""
    queries.edge(work.conn, principal, edge_id)
    work.publish_after_commit(*sync.queue_snapshot(work.conn, edge_id))


# ------------------------------------------------------------------------------ audit


@dataclass(frozen=True)
class AuditPage:
    entries: list[models.AuditEntry]
    total: int
    exact: bool
    next_cursor: str | None


def audit_entries(
    conn: Connection, principal: Principal, window: Window, cursor: str | None = None
) -> AuditPage:
    """The audit log in the principal's communities, newest first."""
    query = select(audit_log).order_by(audit_log.c.pk.desc())
    if principal.communities is not None:
        query = query.where(audit_log.c.community_id.in_(principal.communities))
    if cursor:
        try:
            query = query.where(audit_log.c.pk < int(queries.decode_cursor(cursor)))
        except ValueError as exc:
            raise Invalid("cursor: not a cursor this hub gave") from exc
    rows, total, exact = queries.counted_page(conn, query, window.limit, window.offset)
    return AuditPage(
        entries=[
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
        exact=exact,
        next_cursor=queries.encode_cursor(str(rows[-1].pk)) if len(rows) == window.limit else None,
    )


def face_templates(conn: Connection, limit: int) -> TemplateCounts:
    """How many people have face templates on any edge (from the edges' confirmations)."""
    return template_counts(conn, limit)


def list_dead_letters(conn: Connection, window: Window) -> models.Page[models.DeadLetter]:
    query = select(dead_letters).order_by(dead_letters.c.pk.desc())
    rows, total, _exact = queries.counted_page(conn, query, window.limit, window.offset)
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
        limit=window.limit,
        offset=window.offset,
    )


# ------------------------------------------------------------------------------ users


class UserChange(StrEnum):
    DISABLE = "disable"
    ENABLE = "enable"
    PASSWORD = "password"  # noqa: S105 (the kind of change, not a password)


def managed_users(conn: Connection, principal: Principal) -> list[users.UserRow]:
    return users.list_users(conn, principal)


def change_user(
    work: UnitOfWork, principal: Principal, user_id: str, change: UserChange, password: str = ""
) -> None:
    """Disable (their sessions end at once), enable, or give a new password; audited."""
    now = datetime.now(UTC)
    if change is UserChange.PASSWORD:
        users.reset_password(work.conn, principal, user_id, password, now)
    else:
        users.set_active(work.conn, principal, user_id, change is UserChange.ENABLE, now)
    audit.record(
        work.conn,
        principal.actor,
        Action.UPDATE,
        "user",
        user_id,
        community_id=principal.area_id,
        detail=change.value,
    )
