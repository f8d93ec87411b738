"""Per-edge state the hub keeps while ingesting: counts, the contiguous watermark, status.

Sequence numbers count within the edge store's epoch. A message or status naming an epoch the
hub has not seen for that edge means the store was created anew (emptied, replaced, set aside
as corrupt): the hub raises a ``new_epoch`` alarm, keeps every message of both epochs, and
restarts the edge's watermark in the new one. A seq that arrives again under another message id
in the same epoch (an edge without epochs whose store was replaced) is kept too, with a
``seq_reused`` alarm. A last will whose seq is above what the hub holds raises ``status_gap``;
a warning that appears in an edge's status (disk budget, store cannot write) raises
``edge_warning``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, case, func, or_, select, update

from gridgate_wire import EdgeState, EdgeStatus
from hub.store.db import as_utc, insert_ignoring_duplicates
from hub.store.schema import edge_alarms, edge_epochs, edge_messages, edges

_LOGGER = logging.getLogger(__name__)
GAP_GRACE = timedelta(minutes=10)
WATERMARK_SCAN = 20_000
# A status stamped further ahead than this is taken as written now: an edge with a wrong clock
# must not look online for ever, nor hide the statuses that follow.
CLOCK_SKEW = timedelta(minutes=5)


def alarm(conn: Connection, edge_id: str, kind: str, detail: str) -> None:
    _LOGGER.warning("edge %s: %s: %s", edge_id, kind, detail)
    conn.execute(
        edge_alarms.insert().values(
            edge_id=edge_id, at=datetime.now(UTC), kind=kind, detail=detail[:2000]
        )
    )


def _note_epoch(conn: Connection, edge_id: str, epoch: str, seq: int) -> str:
    """Register ``epoch`` for the edge; a new one becomes current. Returns the current epoch."""
    current = conn.scalar(select(edges.c.epoch).where(edges.c.edge_id == edge_id))
    if epoch == current:
        return epoch
    seen = conn.scalar(
        select(edge_epochs.c.epoch).where(
            edge_epochs.c.edge_id == edge_id, edge_epochs.c.epoch == epoch
        )
    )
    if seen is not None:
        return str(current)  # a late message of an older epoch: stored, watermark unmoved
    conn.execute(
        edge_epochs.insert().values(edge_id=edge_id, epoch=epoch, first_seen_at=datetime.now(UTC))
    )
    if current is None:  # the first epoch the hub sees (a new edge, or just upgraded)
        conn.execute(update(edges).where(edges.c.edge_id == edge_id).values(epoch=epoch))
        return epoch
    alarm(
        conn,
        edge_id,
        "new_epoch",
        f"event store epoch {current or '(none)'} -> {epoch or '(none)'} at seq {seq}: "
        "the store was created anew; both epochs' messages are kept",
    )
    conn.execute(
        update(edges)
        .where(edges.c.edge_id == edge_id)
        .values(epoch=epoch, contiguous_seq=0, max_seq=0, status_seq=0)
    )
    return epoch


def _reused_seqs(conn: Connection, edge_id: str, epoch: str, seqs: list[int]) -> None:
    """Seqs of this batch that another message of the same epoch already carries."""
    for start in range(0, len(seqs), 500):
        chunk = seqs[start : start + 500]
        twice = conn.execute(
            select(edge_messages.c.seq)
            .where(
                edge_messages.c.edge_id == edge_id,
                edge_messages.c.epoch == epoch,
                edge_messages.c.seq.in_(chunk),
            )
            .group_by(edge_messages.c.seq)
            .having(func.count() > 1)
        ).all()
        if twice:
            alarm(
                conn,
                edge_id,
                "seq_reused",
                f"{len(twice)} seq numbers (first {min(r.seq for r in twice)}) arrived again "
                f"under other message ids in epoch {epoch or '(none)'}: the edge's store was "
                "replaced or its numbering restarted; both messages are kept",
            )


def record(
    conn: Connection,
    per_edge: dict[str, list[tuple[int, str]]],
    statuses: Sequence[EdgeStatus],
) -> None:
    """After a batch's messages are inserted: the edges' rows, epochs, counts, watermarks,
    statuses."""
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
    for edge_id, stored in per_edge.items():
        by_epoch: dict[str, list[int]] = {}
        for seq, epoch in stored:
            by_epoch.setdefault(epoch, []).append(seq)
        current = ""
        for epoch, seqs in by_epoch.items():
            current = _note_epoch(conn, edge_id, epoch, min(seqs))
            _reused_seqs(conn, edge_id, epoch, seqs)
        in_current = by_epoch.get(current, [])
        top = max(in_current, default=0)
        conn.execute(
            update(edges)
            .where(edges.c.edge_id == edge_id)
            .values(
                received=edges.c.received + len(stored),
                max_seq=case((edges.c.max_seq < top, top), else_=edges.c.max_seq),
            )
        )
        advance_watermark(conn, edge_id, current)
    for status in sorted(statuses, key=lambda s: s.ts):
        apply_status(conn, status)


def apply_status(conn: Connection, status: EdgeStatus) -> None:
    """Keep the newest status only; one from the future counts as written now. Its seq shows
    gaps (a last will above what is stored), its warnings become alarms when they appear."""
    now = datetime.now(UTC)
    at = status.ts
    if at > now + CLOCK_SKEW:
        _LOGGER.warning("edge %s: status stamped %s is in the future", status.edge_id, at)
        at = now
    epoch = _note_epoch(conn, status.edge_id, status.epoch or "", status.seq)
    row = conn.execute(
        select(edges.c.contiguous_seq, edges.c.warnings, edges.c.last_status_at).where(
            edges.c.edge_id == status.edge_id
        )
    ).first()
    if row is None:
        return
    if row.last_status_at is not None and as_utc(row.last_status_at) > at:
        return  # an older status than the one kept
    if epoch == (status.epoch or ""):
        conn.execute(
            update(edges)
            .where(edges.c.edge_id == status.edge_id, edges.c.status_seq < status.seq)
            .values(status_seq=status.seq)
        )
        if status.state is EdgeState.OFFLINE and status.seq > int(row.contiguous_seq):
            alarm(
                conn,
                status.edge_id,
                "status_gap",
                f"went offline at seq {status.seq}; the hub holds every message up to "
                f"{row.contiguous_seq} only",
            )
    try:
        before = set(json.loads(row.warnings or "[]"))
    except ValueError:
        before = set()
    for warning in status.warnings:
        if warning not in before:
            alarm(conn, status.edge_id, "edge_warning", warning)
    warnings = json.dumps(list(status.warnings)) if status.state is EdgeState.ONLINE else None
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
            **({} if warnings is None else {"warnings": warnings}),
        )
    )


def advance_watermark(conn: Connection, edge_id: str, epoch: str | None = None) -> None:
    """Move the edge's contiguous watermark over every stored seq that now has no hole
    below it. Arrival order can differ from seq order (a broker crash that drops the hub's
    session loses messages the edge later re-sends after newer ones); the watermark and
    ``ORDER BY seq`` give readers each edge's messages in order regardless."""
    row = conn.execute(
        select(edges.c.contiguous_seq, edges.c.epoch).where(edges.c.edge_id == edge_id)
    ).first()
    current = int(row.contiguous_seq) if row is not None else 0
    if epoch is None:
        epoch = str(row.epoch or "") if row is not None else ""
    nxt = current + 1
    hole_since = datetime.now(UTC) - GAP_GRACE
    for seq, received_at in conn.execute(
        select(edge_messages.c.seq, edge_messages.c.received_at)
        .where(
            edge_messages.c.edge_id == edge_id,
            edge_messages.c.epoch == epoch,
            edge_messages.c.seq > current,
        )
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
