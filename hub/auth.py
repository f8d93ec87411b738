"""Users, passwords, sessions, login throttling and the hierarchy scope of each user.

Passwords are hashed with Argon2id (argon2-cffi's RFC 9106 low-memory profile). A session is a
random bearer token of which only the sha256 is stored; it expires after an idle time and an
absolute time and is revoked server-side on logout. Failed logins are counted per username in
the database, so several hub processes share the throttle.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, func, select, update

from hub.errors import Throttled, Unauthenticated
from hub.store.db import as_utc
from hub.store.schema import areas, login_failures, sessions, users, workers

_LOGGER = logging.getLogger(__name__)
_HASHER = PasswordHasher()
# Verifying against this keeps an unknown username as slow as a wrong password.
_DUMMY_HASH = _HASHER.hash("not-a-password")


class Role(StrEnum):
    ADMIN = "admin"  # the whole deployment
    COMMUNITY_ADMIN = "community_admin"  # one community and everything under it
    GRID_WORKER = "grid_worker"  # the grid of their worker record


@dataclass(frozen=True)
class Principal:
    """Who is asking, and which parts of the hierarchy they may see."""

    user_id: str
    username: str
    role: Role
    area_id: str | None
    worker_id: str | None
    grids: frozenset[str] | None  # None: every grid (admin)
    communities: frozenset[str] | None
    csrf_token: str = ""

    @property
    def actor(self) -> str:
        return f"{self.role.value}:{self.username}"

    def sees_grid(self, grid_id: str | None) -> bool:
        return self.grids is None or (grid_id is not None and grid_id in self.grids)

    def sees_community(self, community_id: str | None) -> bool:
        return self.communities is None or (
            community_id is not None and community_id in self.communities
        )


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    # Failed logins within ``failure_window`` that refuse further tries (429): per username
    # from one address (guessing one account), per address (password spraying across many),
    # and per username from everywhere (a distributed guess; high, so a stranger cannot lock
    # a user out from one address).
    max_failures: int = 5
    max_client_failures: int = 20
    max_user_failures: int = 100
    failure_window: timedelta = timedelta(minutes=15)


# Long enough but guessed first by any spraying list: refused whatever their length.
_COMMON = frozenset(
    {
        "1234567890",
        "12345678910",
        "123456789012",
        "0987654321",
        "qwertyuiop",
        "1q2w3e4r5t",
        "password12",
        "password123",
        "password1234",
        "administrator",
        "iloveyou123",
        "welcome123",
        "changeme123",
    }
)


def hash_password(password: str) -> str:
    if len(password) < 10:
        raise ValueError("a password needs at least 10 characters")
    if len(set(password)) < 5 or password.lower() in _COMMON:
        raise ValueError("a password needs at least 5 different characters and not a common one")
    return _HASHER.hash(password)


def create_user(
    conn: Connection,
    username: str,
    password: str,
    role: Role,
    *,
    area_id: str | None = None,
    worker_id: str | None = None,
) -> str:
    if role is Role.COMMUNITY_ADMIN and area_id is None:
        raise ValueError("a community admin needs the community's area id")
    if role is Role.GRID_WORKER and worker_id is None:
        raise ValueError("a grid worker user needs a worker id")
    user_id = f"U-{secrets.token_hex(6)}"
    conn.execute(
        users.insert().values(
            user_id=user_id,
            username=username,
            password_hash=hash_password(password),
            role=role.value,
            area_id=area_id,
            worker_id=worker_id,
            active=True,
            created_at=datetime.now(UTC),
        )
    )
    return user_id


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(
    conn: Connection, username: str, password: str, client: str, policy: SessionPolicy
) -> tuple[str, Principal]:
    """Check the password and open a session; returns the bearer token and the principal."""
    now = datetime.now(UTC)
    username, client = username[:64], client[:64]
    recent = login_failures.c.at > now - policy.failure_window
    for condition, limit, what in (
        (
            (login_failures.c.username == username) & (login_failures.c.client == client),
            policy.max_failures,
            "this user from this address",
        ),
        (login_failures.c.client == client, policy.max_client_failures, "this address"),
        (login_failures.c.username == username, policy.max_user_failures, "this user"),
    ):
        failures = conn.scalar(
            select(func.count()).select_from(login_failures).where(condition, recent)
        )
        if int(failures or 0) >= limit:
            _LOGGER.warning("login for %s from %s throttled (%s)", username, client, what)
            raise Throttled("too many failed logins; try again later")
    row = conn.execute(select(users).where(users.c.username == username)).first()
    try:
        _HASHER.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
        ok = row is not None and bool(row.active)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or row is None:
        conn.execute(login_failures.insert().values(username=username, client=client, at=now))
        raise Unauthenticated("wrong username or password")
    conn.execute(
        delete(login_failures).where(
            login_failures.c.username == username, login_failures.c.client == client
        )
    )
    if _HASHER.check_needs_rehash(row.password_hash):
        conn.execute(
            update(users)
            .where(users.c.user_id == row.user_id)
            .values(password_hash=_HASHER.hash(password))
        )
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    conn.execute(
        sessions.insert().values(
            token_sha256=_token_hash(token),
            user_id=row.user_id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            revoked_at=None,
        )
    )
    return token, principal_of(conn, row.user_id, csrf)


def authenticate(conn: Connection, token: str, policy: SessionPolicy) -> Principal:
    now = datetime.now(UTC)
    row = conn.execute(
        select(sessions).where(sessions.c.token_sha256 == _token_hash(token))
    ).first()
    if row is None or row.revoked_at is not None:
        raise Unauthenticated("not logged in")
    if (
        now - as_utc(row.last_seen_at) > policy.idle
        or now - as_utc(row.created_at) > policy.absolute
    ):
        conn.execute(
            update(sessions)
            .where(sessions.c.token_sha256 == row.token_sha256)
            .values(revoked_at=now)
        )
        raise Unauthenticated("session expired; log in again")
    if not conn.scalar(select(users.c.active).where(users.c.user_id == row.user_id)):
        # A deactivated user's sessions end with the account, not at their time-out.
        conn.execute(
            update(sessions)
            .where(sessions.c.user_id == row.user_id, sessions.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        raise Unauthenticated("account disabled")
    conn.execute(
        update(sessions).where(sessions.c.token_sha256 == row.token_sha256).values(last_seen_at=now)
    )
    return principal_of(conn, row.user_id, row.csrf_token)


def logout(conn: Connection, token: str) -> None:
    conn.execute(
        update(sessions)
        .where(sessions.c.token_sha256 == _token_hash(token), sessions.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


def principal_of(conn: Connection, user_id: str, csrf: str = "") -> Principal:
    row = conn.execute(select(users).where(users.c.user_id == user_id)).one()
    role = Role(row.role)
    grids: frozenset[str] | None = None
    communities: frozenset[str] | None = None
    if role is Role.COMMUNITY_ADMIN:
        communities = frozenset({row.area_id})
        grids = frozenset(
            str(g)
            for g in conn.scalars(
                select(areas.c.area_id).where(
                    areas.c.parent_id == row.area_id, areas.c.level == "grid"
                )
            )
        )
    elif role is Role.GRID_WORKER:
        grid = conn.scalar(select(workers.c.grid_id).where(workers.c.worker_id == row.worker_id))
        grids = frozenset({str(grid)}) if grid else frozenset()
        communities = frozenset(
            str(c)
            for c in conn.scalars(select(areas.c.parent_id).where(areas.c.area_id.in_(grids)))
        )
    return Principal(
        user_id=row.user_id,
        username=row.username,
        role=role,
        area_id=row.area_id,
        worker_id=row.worker_id,
        grids=grids,
        communities=communities,
        csrf_token=csrf,
    )
