"""Users of the pages and API, as the community centre manages them: list, disable (which ends
their sessions at once), enable, reset a password. A community admin manages the users of their
own community (its community admins and its grids' workers); an admin manages everyone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, or_, select, update

from hub.auth import Principal, Role, hash_password
from hub.errors import Invalid, NotFound
from hub.store.schema import areas, sessions, users, workers


@dataclass(frozen=True)
class UserRow:
    user_id: str
    username: str
    role: str
    area_name: str | None
    worker_name: str | None
    active: bool
    created_at: datetime


def _scoped(p: Principal) -> Select[Any]:
    query = (
        select(
            users.c.user_id,
            users.c.username,
            users.c.role,
            users.c.active,
            users.c.created_at,
            areas.c.name.label("area_name"),
            workers.c.name.label("worker_name"),
        )
        .join(areas, areas.c.area_id == users.c.area_id, isouter=True)
        .join(workers, workers.c.worker_id == users.c.worker_id, isouter=True)
        .order_by(users.c.username)
    )
    if p.role is not Role.ADMIN:
        query = query.where(
            users.c.role != Role.ADMIN.value,
            or_(
                users.c.area_id.in_(p.communities or ()),
                workers.c.grid_id.in_(p.grids or ()),
            ),
        )
    return query


def list_users(conn: Connection, p: Principal) -> list[UserRow]:
    return [
        UserRow(r.user_id, r.username, r.role, r.area_name, r.worker_name, r.active, r.created_at)
        for r in conn.execute(_scoped(p))
    ]


def _managed(conn: Connection, p: Principal, user_id: str) -> None:
    if conn.execute(_scoped(p).where(users.c.user_id == user_id)).first() is None:
        raise NotFound({"code": "not_found"})


def _end_sessions(conn: Connection, user_id: str, now: datetime) -> None:
    conn.execute(
        update(sessions)
        .where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def set_active(conn: Connection, p: Principal, user_id: str, active: bool, now: datetime) -> None:
    _managed(conn, p, user_id)
    if user_id == p.user_id and not active:
        raise Invalid({"code": "not_yourself"})
    conn.execute(update(users).where(users.c.user_id == user_id).values(active=active))
    if not active:
        _end_sessions(conn, user_id, now)


def reset_password(
    conn: Connection, p: Principal, user_id: str, password: str, now: datetime
) -> None:
    """A new password (at least 10 characters); the user's sessions end."""
    _managed(conn, p, user_id)
    try:
        hashed = hash_password(password)
    except ValueError as exc:
        raise Invalid({"code": "password_short"}) from exc
    conn.execute(update(users).where(users.c.user_id == user_id).values(password_hash=hashed))
    _end_sessions(conn, user_id, now)
