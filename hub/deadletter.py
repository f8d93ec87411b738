"""The dead-letter store: every edge message the hub will not store, with the reason.

A dead letter is acknowledged like a stored message (MQTT ack, and ``hub_ack`` where its id is
known), so it never comes back: not after a restart, not from the edge's outbox. Whatever a row
holds is made storable first (NUL and lone surrogates escaped, lengths cut to the columns), so
writing the dead letter cannot fail for the reason the message did.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from gridgate_core.mqtt import Incoming
from hub.store.schema import dead_letters

_LOGGER = logging.getLogger(__name__)
PAYLOAD_HEAD = 4096


def storable(text: str, limit: int) -> str:
    """``text`` as any database stores it: no NUL, no lone surrogate, at most ``limit`` chars."""
    clean = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return clean[:limit]


def describe(exc: BaseException) -> str:
    """A short reason for an exception, without the statement's bound values."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return (
            f"{type(exc.orig).__name__}: {str(exc.orig).splitlines()[0] if str(exc.orig) else ''}"
        )
    return f"{type(exc).__name__}: {exc}"


def is_outage(exc: BaseException) -> bool:
    """A database that cannot be reached or is busy, as opposed to a message it refuses.

    Only these make ingest wait and retry; anything else is the message's fault and isolated.
    """
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | InterfaceError | DisconnectionError | PoolTimeout)


def row(
    item: Incoming,
    now: datetime,
    field: str,
    reason: str,
    edge_id: str | None = None,
    msg_id: str | None = None,
) -> dict[str, object]:
    return {
        "received_at": now,
        "topic": storable(item.topic, 256),
        "field": storable(field, 128),
        "reason": storable(reason, 2000),
        "size": len(item.payload),
        "payload_head": bytes(item.payload[:PAYLOAD_HEAD]),
        "edge_id": None if edge_id is None else storable(edge_id, 64),
        "msg_id": msg_id,
    }


def write(engine: Engine, rows: Sequence[dict[str, object]]) -> None:
    """Store dead letters; one the database still refuses is logged and dropped, never retried
    (an outage propagates, so the caller waits and tries the batch again)."""
    if not rows:
        return
    try:
        with engine.begin() as conn:
            conn.execute(dead_letters.insert(), list(rows))
    except Exception as exc:
        if is_outage(exc):
            raise
        if len(rows) == 1:
            _LOGGER.exception("dead letter on %s could not be stored", rows[0]["topic"])
            return
        for one in rows:
            write(engine, [one])
