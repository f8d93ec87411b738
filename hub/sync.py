"""Roster sync: every roster change is a versioned message kept until the edge acknowledges it.

A change is written to ``roster_outbox`` in the same transaction as the registry change that
caused it, published after the commit, and published again (oldest version first) until the
edge's ``RosterAck`` arrives. The edge applies versions idempotently, so a re-send is harmless.
When the edge refuses a delta (it holds another base version), the hub marks the edge; its
duties build the full snapshot outside ingest (:mod:`hub.roster_snapshot`), split into parts
that each fit a message. An ack for a version the hub never issued changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, ScalarSelect, and_, func, select, update

from gridgate_wire import (
    RosterAck,
    RosterConsent,
    RosterCredential,
    RosterResident,
    RosterUpdate,
    decode,
    encode,
    new_fields,
    utc_now,
)
from hub import roster_snapshot
from hub.store.db import as_utc
from hub.store.schema import (
    CURRENT_FACE_CONSENT,
    consents,
    edge_compounds,
    houses,
    resident_credentials,
    residents,
    roster_outbox,
    roster_parts,
)

_LOGGER = logging.getLogger(__name__)


def edges_of_house(conn: Connection, house_id: str) -> list[str]:
    return [
        str(edge_id)
        for edge_id in conn.scalars(
            select(edge_compounds.c.edge_id)
            .join(houses, houses.c.compound_id == edge_compounds.c.compound_id)
            .where(houses.c.house_id == house_id)
            .order_by(edge_compounds.c.edge_id)
        )
    ]


def roster_resident(conn: Connection, resident_id: str) -> RosterResident | None:
    """The edge's view of one resident: no name, no phone; consent and credential hashes only."""
    row = conn.execute(
        select(residents, houses.c.address)
        .join(houses, houses.c.house_id == residents.c.house_id)
        .where(residents.c.resident_id == resident_id)
    ).first()
    if row is None:
        return None
    consent = conn.execute(
        select(consents)
        .where(consents.c.resident_id == resident_id, CURRENT_FACE_CONSENT)
        .order_by(consents.c.granted_at.desc())
    ).first()
    credentials = [
        RosterCredential(kind=c.kind, secret_sha256=c.secret_sha256)
        for c in conn.execute(
            select(resident_credentials).where(resident_credentials.c.resident_id == resident_id)
        )
    ]
    return RosterResident(
        resident_id=row.resident_id,
        house_id=row.house_id,
        house_label=roster_snapshot.house_label(row.address),
        active=row.active,
        care_recipient=row.care_recipient,
        credentials=credentials,
        face_consent=None
        if consent is None
        else RosterConsent(
            consent_id=consent.consent_id,
            version=consent.version,
            granted_at=as_utc(consent.granted_at),
            guardian_id=consent.guardian_id,
        ),
    )


def _next_version(conn: Connection, edge_id: str) -> int:
    """One atomic increment: concurrent transactions (two API calls, two hub processes) each
    get their own version instead of colliding on the same one."""
    version = conn.scalar(
        update(edge_compounds)
        .where(edge_compounds.c.edge_id == edge_id)
        .values(roster_version=edge_compounds.c.roster_version + 1)
        .returning(edge_compounds.c.roster_version)
    )
    if version is None:
        raise LookupError(f"edge {edge_id} is not registered")
    return int(version)


def _queue(conn: Connection, update_message: RosterUpdate) -> RosterUpdate:
    conn.execute(
        roster_outbox.insert().values(
            edge_id=update_message.edge_id,
            roster_version=update_message.roster_version,
            payload=encode(update_message).decode(),
            created_at=utc_now(),
            last_sent_at=None,
            attempts=0,
            acked_at=None,
            error="",
            parts=update_message.parts,
        )
    )
    return update_message


def queue_delta(
    conn: Connection,
    edge_id: str,
    *,
    changed: list[RosterResident] | None = None,
    removed: list[str] | None = None,
) -> RosterUpdate:
    version = _next_version(conn, edge_id)
    return _queue(
        conn,
        RosterUpdate(
            **new_fields(),
            edge_id=edge_id,
            roster_version=version,
            base_version=version - 1,
            residents=changed or [],
            removed=removed or [],
        ),
    )


def queue_resident_change(conn: Connection, resident_id: str) -> list[RosterUpdate]:
    """Tell every edge of the resident's compound about their new state."""
    entry = roster_resident(conn, resident_id)
    if entry is None:
        return []
    updates = []
    for edge_id in edges_of_house(conn, entry.house_id):
        if entry.active:
            updates.append(queue_delta(conn, edge_id, changed=[entry]))
        else:
            updates.append(queue_delta(conn, edge_id, removed=[resident_id]))
    return updates


def queue_snapshot(conn: Connection, edge_id: str) -> list[RosterUpdate]:
    """A full snapshot of the edge's compound (every active resident), in parts."""
    parts = roster_snapshot.build(conn, edge_id, _next_version(conn, edge_id))
    _queue(conn, parts[0])
    for part in parts[1:]:
        conn.execute(
            roster_parts.insert().values(
                edge_id=edge_id,
                roster_version=part.roster_version,
                part=part.part,
                payload=encode(part).decode(),
                last_sent_at=None,
            )
        )
    return parts


def queue_full(conn: Connection, edge_id: str) -> RosterUpdate:
    """A full snapshot; returns its first part (the others go out with the next resend round,
    as never-sent rows). Prefer :func:`queue_snapshot`, which returns every part."""
    return queue_snapshot(conn, edge_id)[0]


def want_snapshot(conn: Connection, edge_id: str) -> None:
    conn.execute(
        update(edge_compounds)
        .where(edge_compounds.c.edge_id == edge_id)
        .values(snapshot_wanted_at=utc_now())
    )


def build_wanted(conn: Connection) -> list[RosterUpdate]:
    """The snapshots edges asked for by refusing a delta (the hub's duties call this)."""
    built: list[RosterUpdate] = []
    for edge_id in conn.scalars(
        select(edge_compounds.c.edge_id)
        .where(edge_compounds.c.snapshot_wanted_at.is_not(None))
        .order_by(edge_compounds.c.snapshot_wanted_at)
    ).all():
        built += queue_snapshot(conn, str(edge_id))
        conn.execute(
            update(edge_compounds)
            .where(edge_compounds.c.edge_id == edge_id)
            .values(snapshot_wanted_at=None)
        )
    return built


def on_roster_ack(conn: Connection, ack: RosterAck) -> RosterUpdate | None:
    """Mark the version acknowledged (and every older one); a refusal queues a full snapshot."""
    now = utc_now()
    issued = conn.scalar(
        select(roster_outbox.c.roster_version).where(
            roster_outbox.c.edge_id == ack.edge_id,
            roster_outbox.c.roster_version == ack.roster_version,
        )
    )
    if issued is None:
        _LOGGER.warning(
            "edge %s acknowledged roster version %d, which the hub never sent; ignored",
            ack.edge_id,
            ack.roster_version,
        )
        return None
    if ack.applied:
        conn.execute(
            update(roster_outbox)
            .where(
                roster_outbox.c.edge_id == ack.edge_id,
                roster_outbox.c.roster_version <= ack.roster_version,
                roster_outbox.c.acked_at.is_(None),
            )
            .values(acked_at=now)
        )
        return None
    _LOGGER.warning(
        "edge %s refused roster version %d (%s); sending a full roster",
        ack.edge_id,
        ack.roster_version,
        ack.error,
    )
    conn.execute(
        update(roster_outbox)
        .where(roster_outbox.c.edge_id == ack.edge_id, roster_outbox.c.acked_at.is_(None))
        .values(acked_at=now, error=ack.error or "refused")
    )
    want_snapshot(conn, ack.edge_id)  # built by the duties, not in this ingest transaction
    return None


def due_for_resend(conn: Connection, now: datetime, retry_after: timedelta) -> list[RosterUpdate]:
    """Unacknowledged roster messages not sent within ``retry_after``, oldest version first."""
    rows = conn.execute(
        select(roster_outbox)
        .where(
            roster_outbox.c.acked_at.is_(None),
            (roster_outbox.c.last_sent_at.is_(None))
            | (roster_outbox.c.last_sent_at < now - retry_after),
        )
        .order_by(roster_outbox.c.edge_id, roster_outbox.c.roster_version)
    ).all()
    due: list[RosterUpdate] = []
    for row in rows:
        due.append(decode(row.payload.encode(), RosterUpdate))
        if row.parts > 1:  # the whole snapshot again: the edge stages parts idempotently
            due += _parts(conn, row.edge_id, row.roster_version, only_unsent=False)
    # Parts of a snapshot whose first part went out already but that were never sent.
    for edge_id, version in conn.execute(
        select(roster_parts.c.edge_id, roster_parts.c.roster_version)
        .join(
            roster_outbox,
            and_(
                roster_outbox.c.edge_id == roster_parts.c.edge_id,
                roster_outbox.c.roster_version == roster_parts.c.roster_version,
            ),
        )
        .where(
            roster_parts.c.last_sent_at.is_(None),
            roster_outbox.c.acked_at.is_(None),
            roster_outbox.c.last_sent_at.is_not(None),
            roster_outbox.c.last_sent_at >= now - retry_after,
        )
        .distinct()
    ).all():
        due += _parts(conn, str(edge_id), int(version), only_unsent=True)
    return due


def _parts(
    conn: Connection, edge_id: str, version: int, *, only_unsent: bool
) -> list[RosterUpdate]:
    query = select(roster_parts.c.payload).where(
        roster_parts.c.edge_id == edge_id, roster_parts.c.roster_version == version
    )
    if only_unsent:
        query = query.where(roster_parts.c.last_sent_at.is_(None))
    return [
        decode(str(payload).encode(), RosterUpdate)
        for payload in conn.scalars(query.order_by(roster_parts.c.part))
    ]


def mark_sent(conn: Connection, messages: list[RosterUpdate], now: datetime) -> None:
    for message in messages:
        if message.part > 1:
            conn.execute(
                update(roster_parts)
                .where(
                    roster_parts.c.edge_id == message.edge_id,
                    roster_parts.c.roster_version == message.roster_version,
                    roster_parts.c.part == message.part,
                )
                .values(last_sent_at=now)
            )
            continue
        conn.execute(
            update(roster_outbox)
            .where(
                and_(
                    roster_outbox.c.edge_id == message.edge_id,
                    roster_outbox.c.roster_version == message.roster_version,
                )
            )
            .values(last_sent_at=now, attempts=roster_outbox.c.attempts + 1)
        )


def unacknowledged(edge_id: ColumnElement[str] | str) -> ScalarSelect[int]:
    """How many roster versions of the edge are still waiting for its ack (a subquery, so a
    list of edges counts in the same statement)."""
    return (
        select(func.count())
        .select_from(roster_outbox)
        .where(roster_outbox.c.edge_id == edge_id, roster_outbox.c.acked_at.is_(None))
        .scalar_subquery()
    )


def pending_count(conn: Connection, edge_id: str) -> int:
    return int(conn.scalar(select(unacknowledged(edge_id))) or 0)
