"""Every edge's pass list: versioned updates kept in ``pass_outbox`` until the edge's
``pass_ack``, re-sent until then; a refused delta makes the hub's duties send a full list (the
roster's pattern, :mod:`hub.sync`)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update

from gridgate_wire import EdgePass, PassAck, PassUpdate, decode, encode, new_fields, utc_now
from hub.passes.records import edge_pass, list_passes
from hub.store.db import insert_ignoring_duplicates
from hub.store.schema import edge_compounds, edge_pass_lists, pass_outbox

_LOGGER = logging.getLogger(__name__)


def edges_of_compound(conn: Connection, compound_id: str) -> list[str]:
    return [
        str(e)
        for e in conn.scalars(
            select(edge_compounds.c.edge_id)
            .where(edge_compounds.c.compound_id == compound_id)
            .order_by(edge_compounds.c.edge_id)
        )
    ]


def edges_without_list(conn: Connection) -> list[str]:
    """Registered edges that never got a pass list (newly registered): each needs a full one."""
    known = select(edge_pass_lists.c.edge_id)
    return [
        str(e)
        for e in conn.scalars(
            select(edge_compounds.c.edge_id)
            .where(edge_compounds.c.edge_id.not_in(known))
            .order_by(edge_compounds.c.edge_id)
        )
    ]


def _next_version(conn: Connection, edge_id: str) -> int:
    """One atomic increment per edge (the row is made on first use)."""
    conn.execute(
        insert_ignoring_duplicates(conn.engine, edge_pass_lists).values(
            edge_id=edge_id, pass_version=0, full_wanted_at=None
        )
    )
    version = conn.scalar(
        update(edge_pass_lists)
        .where(edge_pass_lists.c.edge_id == edge_id)
        .values(pass_version=edge_pass_lists.c.pass_version + 1)
        .returning(edge_pass_lists.c.pass_version)
    )
    return int(version or 0)


def _queue(conn: Connection, message: PassUpdate) -> PassUpdate:
    conn.execute(
        pass_outbox.insert().values(
            edge_id=message.edge_id,
            pass_version=message.pass_version,
            payload=encode(message).decode(),
            created_at=utc_now(),
            last_sent_at=None,
            attempts=0,
            acked_at=None,
            error="",
        )
    )
    return message


def queue_delta(
    conn: Connection,
    edge_id: str,
    *,
    passes: list[EdgePass] | None = None,
    revoked: list[str] | None = None,
) -> PassUpdate:
    version = _next_version(conn, edge_id)
    return _queue(
        conn,
        PassUpdate(
            **new_fields(),
            edge_id=edge_id,
            pass_version=version,
            base_version=version - 1,
            passes=passes or [],
            revoked=revoked or [],
        ),
    )


def queue_full_list(conn: Connection, edge_id: str, now: datetime | None = None) -> PassUpdate:
    """Every pass of the edge's compound not yet ended; revoked ones by id only."""
    moment = now or utc_now()
    compound_id = conn.scalar(
        select(edge_compounds.c.compound_id).where(edge_compounds.c.edge_id == edge_id)
    )
    if compound_id is None:
        raise LookupError(f"edge {edge_id} is not registered")
    live = [r for r in list_passes(conn, compound_id=str(compound_id)) if r.valid_until > moment]
    version = _next_version(conn, edge_id)
    return _queue(
        conn,
        PassUpdate(
            **new_fields(),
            edge_id=edge_id,
            pass_version=version,
            passes=[edge_pass(r) for r in live if r.revoked_at is None],
            revoked=[r.pass_id for r in live if r.revoked_at is not None],
        ),
    )


def on_pass_ack(conn: Connection, ack: PassAck) -> None:
    """Mark the version (and every older one) acknowledged; a refusal asks for a full list."""
    now = utc_now()
    issued = conn.scalar(
        select(pass_outbox.c.pass_version).where(
            pass_outbox.c.edge_id == ack.edge_id, pass_outbox.c.pass_version == ack.pass_version
        )
    )
    if issued is None:
        _LOGGER.warning(
            "edge %s acknowledged pass version %d, which the hub never sent; ignored",
            ack.edge_id,
            ack.pass_version,
        )
        return
    pending = pass_outbox.c.acked_at.is_(None)
    if ack.applied:
        conn.execute(
            update(pass_outbox)
            .where(
                pass_outbox.c.edge_id == ack.edge_id,
                pass_outbox.c.pass_version <= ack.pass_version,
                pending,
            )
            .values(acked_at=now)
        )
        return
    _LOGGER.warning(
        "edge %s refused pass version %d (%s); sending a full list",
        ack.edge_id,
        ack.pass_version,
        ack.error,
    )
    conn.execute(
        update(pass_outbox)
        .where(pass_outbox.c.edge_id == ack.edge_id, pending)
        .values(acked_at=now, error=ack.error or "refused")
    )
    conn.execute(
        update(edge_pass_lists)
        .where(edge_pass_lists.c.edge_id == ack.edge_id)
        .values(full_wanted_at=now)
    )


def build_wanted(conn: Connection, now: datetime | None = None) -> list[PassUpdate]:
    """Full lists for the edges that refused a delta (the hub's duties call this)."""
    built: list[PassUpdate] = []
    for edge_id in conn.scalars(
        select(edge_pass_lists.c.edge_id)
        .where(edge_pass_lists.c.full_wanted_at.is_not(None))
        .order_by(edge_pass_lists.c.full_wanted_at)
    ).all():
        built.append(queue_full_list(conn, str(edge_id), now))
        conn.execute(
            update(edge_pass_lists)
            .where(edge_pass_lists.c.edge_id == edge_id)
            .values(full_wanted_at=None)
        )
    return built


def due_for_resend(conn: Connection, now: datetime, retry_after: timedelta) -> list[PassUpdate]:
    """Unacknowledged pass updates not sent within ``retry_after``, oldest version first."""
    rows = conn.execute(
        select(pass_outbox.c.payload)
        .where(
            pass_outbox.c.acked_at.is_(None),
            pass_outbox.c.last_sent_at.is_(None) | (pass_outbox.c.last_sent_at < now - retry_after),
        )
        .order_by(pass_outbox.c.edge_id, pass_outbox.c.pass_version)
    )
    return [decode(str(row.payload).encode(), PassUpdate) for row in rows]


def mark_sent(conn: Connection, messages: list[PassUpdate], now: datetime) -> None:
    for message in messages:
        conn.execute(
            update(pass_outbox)
            .where(
                pass_outbox.c.edge_id == message.edge_id,
                pass_outbox.c.pass_version == message.pass_version,
            )
            .values(last_sent_at=now, attempts=pass_outbox.c.attempts + 1)
        )
