"""Doors at the hub (issue 18): door alarms edges raise, kept for the centre's console and
pushed to its open pages; door releases audited; remote unlocks asked for by the centre.

A duress alarm is silent at the gate (the door opened as usual) and the most urgent at the hub.
Every function takes the caller's connection; the caller commits, then publishes.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from sqlalchemy import Connection, and_, delete, or_, select, update

from gridgate_wire import (
    AlarmPhase,
    DoorAlarm,
    DoorAlarmKind,
    DoorRelease,
    RemoteUnlock,
    new_fields,
    utc_now,
)
from hub import audit
from hub.live import AlarmNotice
from hub.store.doors import door_alarms
from hub.store.schema import audit_log, compounds, edge_compounds
from hub.uow import Outbound

_LOGGER = logging.getLogger(__name__)
OBJECT_TYPE = "door"
ALARM_OBJECT = "door_alarm"

# Lower is more urgent: the console lists by it, the pages may sound it.
PRIORITY = {
    DoorAlarmKind.DURESS: 0,
    DoorAlarmKind.FORCED_OPEN: 1,
    DoorAlarmKind.TAILGATING: 2,
    DoorAlarmKind.HELD_OPEN: 2,
}


class AlarmState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"


@dataclass(frozen=True, slots=True)
class EdgePlace:
    edge_id: str
    compound_id: str
    community_id: str


def place_of_edge(conn: Connection, edge_id: str) -> EdgePlace | None:
    row = conn.execute(
        select(edge_compounds.c.compound_id, compounds.c.community_id)
        .join(compounds, compounds.c.compound_id == edge_compounds.c.compound_id)
        .where(edge_compounds.c.edge_id == edge_id)
    ).first()
    return None if row is None else EdgePlace(edge_id, str(row[0]), str(row[1]))


def on_door_alarm(conn: Connection, message: DoorAlarm, out: Outbound) -> None:
    """Keep a raised alarm (or mark the one a clearing names) and tell the centre's pages."""
    place = place_of_edge(conn, message.edge_id)
    if place is None:  # scope refuses unregistered edges before this
        return
    priority = PRIORITY[message.kind]
    if message.phase is AlarmPhase.CLEARED:
        alarm_id = str(message.raised_id)
        conn.execute(
            update(door_alarms)
            .where(door_alarms.c.alarm_id == alarm_id, door_alarms.c.edge_id == message.edge_id)
            .values(cleared_at=message.occurred_at)
        )
    else:
        alarm_id = str(message.id)
        conn.execute(
            door_alarms.insert().values(
                alarm_id=alarm_id,
                edge_id=message.edge_id,
                compound_id=place.compound_id,
                community_id=place.community_id,
                kind=message.kind.value,
                priority=priority,
                silent=message.silent,
                gate=message.gate,
                lane=message.lane,
                occurred_at=message.occurred_at,
                received_at=utc_now(),
                open_seconds=message.open_seconds,
                event_id=None if message.event_id is None else str(message.event_id),
                house_id=message.house_id,
                resident_id=message.resident_id,
                pass_id=message.pass_id,
                note=message.note,
                state=AlarmState.OPEN.value,
                cleared_at=None,
                acknowledged_at=None,
                acknowledged_by=None,
                ack_note="",
            )
        )
        log = _LOGGER.error if priority == 0 else _LOGGER.warning
        log("door alarm %s at %s gate %s", message.kind.value, message.edge_id, message.gate)
    out.notices.append(
        AlarmNotice(alarm_id, place.community_id, message.kind, message.phase, priority)
    )


def on_door_release(conn: Connection, message: DoorRelease) -> None:
    """A door opened (or refused) without a credential: the outcome joins the audit log."""
    place = place_of_edge(conn, message.edge_id)
    outcome = "opened" if message.opened else f"not opened ({message.detail})"
    command = f", command {message.command_id}" if message.command_id is not None else ""
    audit.record(
        conn,
        f"edge:{message.edge_id}",
        audit.Action.UNLOCK,
        OBJECT_TYPE,
        f"{message.edge_id}/{message.gate}/{message.lane}",
        community_id=None if place is None else place.community_id,
        detail=(
            f"{message.source.value} release by {message.actor}: {outcome}; "
            f"reason: {message.reason}{command}"
        ),
    )


def acknowledge(
    conn: Connection, alarm_id: str, actor: str, note: str, now: datetime | None = None
) -> AlarmNotice | None:
    """Open -> acknowledged, audited; None when it was acknowledged already (idempotent)."""
    row = conn.execute(select(door_alarms).where(door_alarms.c.alarm_id == alarm_id)).first()
    if row is None or row.state != AlarmState.OPEN.value:
        return None
    conn.execute(
        update(door_alarms)
        .where(door_alarms.c.alarm_id == alarm_id, door_alarms.c.state == AlarmState.OPEN.value)
        .values(
            state=AlarmState.ACKNOWLEDGED.value,
            acknowledged_at=now or utc_now(),
            acknowledged_by=actor[:80],
            ack_note=note[:500],
        )
    )
    audit.record(
        conn,
        actor,
        audit.Action.UPDATE,
        ALARM_OBJECT,
        alarm_id,
        community_id=str(row.community_id),
        detail=f"acknowledged {row.kind} at {row.edge_id}/{row.gate}: {note}"[:500],
    )
    return AlarmNotice(
        alarm_id,
        str(row.community_id),
        DoorAlarmKind(row.kind),
        AlarmState.ACKNOWLEDGED,
        row.priority,
    )


def purge_alarms(conn: Connection, before: datetime) -> int:
    """Delete the alarms that ended before ``before``: acknowledged then, or cleared by their
    edge then. An alarm nobody acknowledged and no edge cleared stays on the console however
    old it is. Returns how many went."""
    gone = conn.execute(
        delete(door_alarms).where(
            or_(
                and_(
                    door_alarms.c.state == AlarmState.ACKNOWLEDGED.value,
                    door_alarms.c.acknowledged_at < before,
                ),
                door_alarms.c.cleared_at < before,
            )
        )
    )
    return int(gone.rowcount or 0)


def _wire_id(actor: str) -> str:
    """The actor as a wire id (a username may hold characters an id may not)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.:-]", "_", actor)[:64]
    return cleaned if cleaned[:1].isalnum() else f"u{cleaned}"[:64]


def remote_unlock(
    conn: Connection,
    place: EdgePlace,
    gate: str,
    lane: int,
    actor: str,
    reason: str,
    expiry: timedelta,
    now: datetime | None = None,
    command_id: UUID | None = None,
) -> RemoteUnlock:
    """The command to publish after the commit; the request is audited with its id (the
    edge's door_release names it when it reports the outcome). A retry names the first
    try's ``command_id``: the same command goes again (the edge opens once per command id),
    audited once."""
    moment = now or utc_now()
    repeated = command_id is not None and _audited_command(conn, place.edge_id, actor, command_id)
    command = RemoteUnlock.model_validate(
        {
            **new_fields(),
            **({} if command_id is None else {"id": command_id}),
            "edge_id": place.edge_id,
            "gate": gate,
            "lane": lane,
            "actor": _wire_id(actor),
            "reason": reason,
            "expires_at": moment + expiry,
        }
    )
    if repeated:
        return command
    audit.record(
        conn,
        actor,
        audit.Action.UNLOCK,
        OBJECT_TYPE,
        f"{place.edge_id}/{gate}/{lane}",
        community_id=place.community_id,
        detail=f"remote unlock requested, command {command.id}; reason: {reason}",
    )
    return command


def _audited_command(conn: Connection, edge_id: str, actor: str, command_id: UUID) -> bool:
    return (
        conn.scalar(
            select(audit_log.c.pk)
            .where(
                audit_log.c.object_type == OBJECT_TYPE,
                audit_log.c.action == audit.Action.UNLOCK.value,
                audit_log.c.actor == actor,
                audit_log.c.object_id.like(f"{edge_id}/%"),
                audit_log.c.detail.like(f"remote unlock requested, command {command_id};%"),
            )
            .limit(1)
        )
        is not None
    )
