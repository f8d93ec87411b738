"""Append-only audit log of every read and change of personal data.

The table refuses UPDATE and DELETE by a database trigger (SQLite and PostgreSQL), so not even
the hub's own code can rewrite history. Each entry names the actor, the action, the object and
the community it belongs to (so a community admin can review their own community's entries).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Connection

from hub.store.schema import audit_log


class Action(StrEnum):
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    EXPORT = "export"
    IMPORT = "import"
    LOGIN = "login"
    LOGOUT = "logout"
    UNLOCK = "unlock"  # a door opened without a credential: asked for, or reported (issue 18)
    LATE_USE = "late_use"  # a pass used after it was revoked or ended, reported late (issue 18)


def record(
    conn: Connection,
    actor: str,
    action: Action,
    object_type: str,
    object_id: str,
    *,
    community_id: str | None = None,
    detail: str = "",
    object_ids: Sequence[str] | None = None,
) -> None:
    """``object_ids``: every id a list read returned (a page: at most 200), kept whole in
    ``audit_log.object_ids`` while ``object_id`` keeps a readable head of them."""
    conn.execute(
        audit_log.insert().values(
            at=datetime.now(UTC),
            actor=actor[:80],
            action=action.value,
            object_type=object_type[:32],
            object_id=object_id[:200],
            community_id=community_id,
            detail=detail[:2000],
            object_ids=None if object_ids is None else json.dumps(list(object_ids)),
        )
    )
