"""What ingest does with the gate's messages (issue 18), in the batch's transaction: pass list
acknowledgements, walk-in passes from a guard room, door alarms and door releases; and uses of
a pass reported after it was revoked or had ended (an edge offline when the revocation went out
kept honouring it), which join the audit log as ``late_use`` for the centre to follow up."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import Connection, Engine, select

from gridgate_wire import (
    Decision,
    DoorAlarm,
    DoorRelease,
    EdgeEvent,
    EdgeMessage,
    PassAck,
    WalkInPass,
)
from hub import audit, doors, passes
from hub.config import PassesConfig
from hub.passes import walk_ins
from hub.store.db import as_utc
from hub.store.schema import compounds, visitor_passes
from hub.uow import Outbound

_LOGGER = logging.getLogger(__name__)

KINDS = (PassAck, WalkInPass, DoorAlarm, DoorRelease)


def react(
    conn: Connection, message: EdgeMessage, out: Outbound, config: PassesConfig | None = None
) -> str | None:
    """Act on a newly stored message; returns why a walk-in was refused (a dead letter: the
    message stays stored and acknowledged, so the edge stops sending it; the edge gets a
    revocation of it), else None."""
    if isinstance(message, PassAck):
        passes.on_pass_ack(conn, message)
    elif isinstance(message, WalkInPass):
        outcome = passes.accept_walk_in(conn, message, config)
        out.to_edges.extend(outcome.updates)
        if outcome.refused:
            _LOGGER.warning(
                "walk-in pass %s from %s refused: %s",
                message.visitor_pass.pass_id,
                message.edge_id,
                outcome.refused,
            )
            return outcome.refused
    elif isinstance(message, DoorAlarm):
        doors.on_door_alarm(conn, message, out)
    elif isinstance(message, DoorRelease):
        doors.on_door_release(conn, message)
    return None


def undo_refused(engine: Engine, refused: Sequence[object], out: Outbound) -> None:
    """Walk-ins the scope check refused (a house of another compound): acknowledged as dead
    letters, so their edge gets a revocation, else its pending copy keeps opening the gate."""
    walk_in_messages = [m for m in refused if isinstance(m, WalkInPass)]
    if not walk_in_messages:
        return
    with engine.begin() as conn:
        for message in walk_in_messages:
            out.to_edges.extend(walk_ins.undo_refused(conn, message))


def late_pass_uses(conn: Connection, events: Sequence[EdgeEvent]) -> int:
    """Audit every granted visitor passage that happened after its pass was revoked or had
    ended (reported late by an edge that was offline); returns how many."""
    used = [e for e in events if e.pass_id is not None and e.decision is Decision.GRANT]
    if not used:
        return 0
    rows = conn.execute(
        select(
            visitor_passes.c.pass_id,
            visitor_passes.c.valid_until,
            visitor_passes.c.revoked_at,
            compounds.c.community_id,
        )
        .join(compounds, compounds.c.compound_id == visitor_passes.c.compound_id)
        .where(visitor_passes.c.pass_id.in_(sorted({str(e.pass_id) for e in used})))
    )
    found = {str(r.pass_id): r for r in rows}
    late = 0
    for event in used:
        row = found.get(str(event.pass_id))
        if row is None:
            continue
        revoked = None if row.revoked_at is None else as_utc(row.revoked_at)
        ended = as_utc(row.valid_until)
        if revoked is not None and event.occurred_at > revoked:
            why = f"after it was revoked at {revoked.isoformat()}"
        elif event.occurred_at > ended:
            why = f"after it ended at {ended.isoformat()}"
        else:
            continue
        late += 1
        _LOGGER.warning("pass %s used at %s %s", event.pass_id, event.edge_id, why)
        audit.record(
            conn,
            f"edge:{event.edge_id}",
            audit.Action.LATE_USE,
            passes.OBJECT_TYPE,
            str(event.pass_id),
            community_id=str(row.community_id),
            detail=(
                f"used at gate {event.gate} at {event.occurred_at.isoformat()}, {why} "
                "(reported late by the edge)"
            )[:500],
        )
    return late
