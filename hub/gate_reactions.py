"""What ingest does with the gate's messages (issue 18), in the batch's transaction: pass list
acknowledgements, walk-in passes from a guard room, door alarms and door releases."""

from __future__ import annotations

import logging

from sqlalchemy import Connection

from gridgate_wire import DoorAlarm, DoorRelease, EdgeMessage, PassAck, WalkInPass
from hub import doors, passes
from hub.uow import Outbound

_LOGGER = logging.getLogger(__name__)

KINDS = (PassAck, WalkInPass, DoorAlarm, DoorRelease)


def react(conn: Connection, message: EdgeMessage, out: Outbound) -> str | None:
    """Act on a newly stored message; returns why a walk-in was refused (a dead letter: the
    message stays stored and acknowledged, so the edge stops sending it), else None."""
    if isinstance(message, PassAck):
        passes.on_pass_ack(conn, message)
    elif isinstance(message, WalkInPass):
        outcome = passes.accept_walk_in(conn, message)
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
