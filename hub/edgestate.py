"""Per-edge state the hub keeps while ingesting: counts, the contiguous watermark, status."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, case, or_, select, update

from gridgate_wire import EdgeStatus
from hub.store.db import as_utc, insert_ignoring_duplicates
from hub.store.schema import edge_messages, edges

_LOGGER = logging.getLogger(__name__)
GAP_GRACE = timedelta(minutes=10)
WATERMARK_SCAN = 20_000
# A status stamped further ahead than this is taken as written now: an edge with a wrong clock
# must not look online for ever, nor hide the statuses that follow.
CLOCK_SKEW = timedelta(minutes=5)


def record(
    conn: Connection, per_edge: dict[str, list[int]], statuses: Sequence[EdgeStatus]
) -> None:
    """After a batch's messages are inserted: the edges' rows, counts, watermarks, statuses."""
    edge_ids = set(per_edge) | {s.edge_id for s in statuses}
    if not edge_ids:
        return
    known = set(conn.scalars(select(edges.c.edge_id).where(edges.c.edge_id.in_(edge_ids))))
    insert = insert_ignoring_duplicates(conn.engine, edges)
    for edge_id in sorted(edge_ids - known):
        conn.execute(
            insert,
            {
                "edge_id": edge_id,
                "max_seq": 0,
                "received": 0,
                "state": "unknown",
                "outbox_depth": 0,
                "software": "",
            },
        )
    for edge_id, seqs in per_edge.items():
        conn.execute(
            update(edges)
            .where(edges.c.edge_id == edge_id)
            .values(
                received=edges.c.received + len(seqs),
                max_seq=case((edges.c.max_seq < max(seqs), max(seqs)), else_=edges.c.max_seq),
            )
        )
    for edge_id in per_edge:
        advance_watermark(conn, edge_id)
    for status in sorted(statuses, key=lambda s: s.ts):
        apply_status(conn, status)


def apply_status(conn: Connection, status: EdgeStatus) -> None:
    """Keep the newest status only; one from the future counts as written now."""
    now = datetime.now(UTC)
    at = status.ts
    if at > now + CLOCK_SKEW:
        _LOGGER.warning("edge %s: status stamped %s is in the future", status.edge_id, at)
        at = now
    conn.execute(
        update(edges)
        .where(
            edges.c.edge_id == status.edge_id,
            or_(edges.c.last_status_at.is_(None), edges.c.last_status_at <= at),
        )
        .values(
            state=status.state.value,
            last_status_at=at,
            outbox_depth=status.outbox_depth,
            software=status.software,
        )
    )


def advance_watermark(conn: Connection, edge_id: str) -> None:
    """Move the edge's contiguous watermark over every stored seq that now has no hole
    below it. Arrival order can differ from seq order (a broker crash that drops the hub's
    session loses messages the edge later re-sends after newer ones); the watermark and
    ``ORDER BY seq`` give readers each edge's messages in order regardless."""
    current = int(
        conn.scalar(select(edges.c.contiguous_seq).where(edges.c.edge_id == edge_id)) or 0
    )
    nxt = current + 1
    hole_since = datetime.now(UTC) - GAP_GRACE
    for seq, received_at in conn.execute(
        select(edge_messages.c.seq, edge_messages.c.received_at)
        .where(edge_messages.c.edge_id == edge_id, edge_messages.c.seq > current)
        .order_by(edge_messages.c.seq)
        .limit(WATERMARK_SCAN)
    ):
        if seq > nxt and as_utc(received_at) < hole_since:
            # Rows above the hole have waited past the grace time: the edge re-sends
            # everything unacknowledged within minutes, so these never existed or are
            # lost at the edge. Step over them, loudly; edge health shows the count.
            _LOGGER.warning("edge %s: seq %d-%d never arrived", edge_id, nxt, seq - 1)
            nxt = seq
        if seq == nxt:
            nxt += 1
        elif seq > nxt:
            break
    if nxt - 1 != current:
        conn.execute(update(edges).where(edges.c.edge_id == edge_id).values(contiguous_seq=nxt - 1))
