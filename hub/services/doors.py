"""Doors for the API and the pages: the console's door alarms (open and acknowledged;
acknowledging is audited), and remote unlock from the centre, for staff of the edge's community
only, with a reason, audited, sent after the commit with a short expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Row, case, select, union

from gridgate_wire import DoorAlarmKind, DoorRelease
from hub import audit, doors
from hub.auth import Principal
from hub.doors import AlarmState
from hub.errors import Invalid, NotFound
from hub.services import sessions
from hub.store.doors import door_alarms
from hub.store.schema import (
    compounds,
    edge_compounds,
    edge_messages,
    houses,
    passage_counts,
    residents,
    visitor_passes,
)
from hub.uow import UnitOfWork
from hub.visitor_models import (
    AlarmsShown,
    DoorAlarmOut,
    DoorPlace,
    DoorReleaseOut,
    UnlockIn,
    UnlockOut,
)


def _alarm_out(row: Row[Any]) -> DoorAlarmOut:
    m = row._mapping
    return DoorAlarmOut(
        alarm_id=m["alarm_id"],
        edge_id=m["edge_id"],
        compound_id=m["compound_id"],
        compound_name=m["compound_name"],
        kind=DoorAlarmKind(m["kind"]),
        priority=m["priority"],
        silent=m["silent"],
        gate=m["gate"],
        lane=m["lane"],
        occurred_at=m["occurred_at"],
        open_seconds=m["open_seconds"],
        house_address=m["address"],
        who=m["resident_name"] or m["pass_name"],
        note=m["note"],
        state=AlarmState(m["state"]),
        cleared_at=m["cleared_at"],
        acknowledged_at=m["acknowledged_at"],
        acknowledged_by=m["acknowledged_by"],
        ack_note=m["ack_note"],
    )


def list_alarms(
    work: UnitOfWork,
    principal: Principal,
    shown: AlarmsShown = AlarmsShown.OPEN,
    limit: int = 100,
) -> list[DoorAlarmOut]:
    """Staff only: their communities' alarms, open before acknowledged, then most urgent and
    newest first. A list that names residents or visitors (duress) is an audited read."""
    sessions.require_staff(principal)
    query = (
        select(
            door_alarms,
            compounds.c.name.label("compound_name"),
            houses.c.address,
            residents.c.name.label("resident_name"),
            visitor_passes.c.display_name.label("pass_name"),
        )
        .join(compounds, compounds.c.compound_id == door_alarms.c.compound_id)
        .outerjoin(houses, houses.c.house_id == door_alarms.c.house_id)
        .outerjoin(residents, residents.c.resident_id == door_alarms.c.resident_id)
        .outerjoin(visitor_passes, visitor_passes.c.pass_id == door_alarms.c.pass_id)
        .order_by(
            case((door_alarms.c.state == AlarmState.OPEN.value, 0), else_=1),
            door_alarms.c.priority,
            door_alarms.c.occurred_at.desc(),
        )
        .limit(max(1, min(limit, 500)))
    )
    if principal.communities is not None:
        query = query.where(door_alarms.c.community_id.in_(sorted(principal.communities)))
    if shown.state is not None:
        query = query.where(door_alarms.c.state == shown.state.value)
    found = [_alarm_out(row) for row in work.conn.execute(query)]
    named = [a.alarm_id for a in found if a.who is not None]
    if named:
        audit.record(
            work.conn,
            principal.actor,
            audit.Action.READ,
            doors.ALARM_OBJECT,
            ",".join(named)[:200],
            detail="door alarms naming residents or visitors",
            object_ids=named[:200],
        )
    return found


def acknowledge(work: UnitOfWork, principal: Principal, alarm_id: str, note: str) -> None:
    sessions.require_staff(principal)
    community = work.conn.scalar(
        select(door_alarms.c.community_id).where(door_alarms.c.alarm_id == alarm_id)
    )
    if community is None or not principal.sees_community(str(community)):
        raise NotFound.of("door alarm", alarm_id)
    notice = doors.acknowledge(work.conn, alarm_id, principal.actor, note.strip())
    if notice is not None:
        work.publish_after_commit(notice)


def remote_unlock(
    work: UnitOfWork, principal: Principal, body: UnlockIn, expiry: timedelta
) -> UnlockOut:
    sessions.require_staff(principal)
    place = doors.place_of_edge(work.conn, body.edge_id)
    if place is None or not principal.sees_community(place.community_id):
        raise NotFound.of("edge", body.edge_id)
    reason = body.reason.strip()
    if not reason:
        raise Invalid.field("reason_needed", "reason", "is required")
    try:
        command = doors.remote_unlock(
            work.conn,
            place,
            body.gate,
            body.lane,
            principal.actor,
            reason,
            expiry,
            command_id=body.command_id,
        )
    except ValueError as exc:  # not a UUIDv7
        raise Invalid.field("invalid", "command_id", "must be a UUIDv7") from exc
    work.publish_after_commit(command)
    return UnlockOut(
        command_id=str(command.id),
        edge_id=command.edge_id,
        gate=command.gate,
        expires_at=command.expires_at,
    )


def door_places(conn: Connection, principal: Principal) -> list[DoorPlace]:
    """The edges of the user's communities, with the gates their passages and alarms named."""
    sessions.require_staff(principal)
    query = (
        select(edge_compounds.c.edge_id, compounds.c.name, compounds.c.community_id)
        .join(compounds, compounds.c.compound_id == edge_compounds.c.compound_id)
        .order_by(compounds.c.name, edge_compounds.c.edge_id)
    )
    if principal.communities is not None:
        query = query.where(compounds.c.community_id.in_(sorted(principal.communities)))
    places = [(str(r[0]), str(r[1])) for r in conn.execute(query)]
    gates: dict[str, set[str]] = {edge_id: set() for edge_id, _ in places}
    if places:
        seen = union(
            select(passage_counts.c.edge_id, passage_counts.c.gate),
            select(door_alarms.c.edge_id, door_alarms.c.gate),
        ).subquery()
        for edge_id, gate in conn.execute(
            select(seen.c.edge_id, seen.c.gate).where(seen.c.edge_id.in_(sorted(gates)))
        ):
            gates[str(edge_id)].add(str(gate))
    return [DoorPlace(edge_id=e, compound_name=n, gates=sorted(gates[e])) for e, n in places]


def recent_releases(
    conn: Connection, principal: Principal, limit: int = 10
) -> list[DoorReleaseOut]:
    """Staff only: the last doors their communities' edges released (remote unlocks answered,
    releases by hand), newest first: what the doors page shows after an unlock was sent."""
    sessions.require_staff(principal)
    query = (
        select(edge_messages.c.payload, compounds.c.name)
        .join(edge_compounds, edge_compounds.c.edge_id == edge_messages.c.edge_id)
        .join(compounds, compounds.c.compound_id == edge_compounds.c.compound_id)
        .where(edge_messages.c.kind == DoorRelease.KIND)
        .order_by(edge_messages.c.pk.desc())
        .limit(max(1, min(limit, 100)))
    )
    if principal.communities is not None:
        query = query.where(compounds.c.community_id.in_(sorted(principal.communities)))
    found: list[DoorReleaseOut] = []
    for payload, compound_name in conn.execute(query):
        try:
            release = DoorRelease.model_validate_json(payload)
        except ValueError:  # reduced to a digest: nothing to show
            continue
        found.append(
            DoorReleaseOut(
                edge_id=release.edge_id,
                compound_name=str(compound_name),
                gate=release.gate,
                lane=release.lane,
                occurred_at=release.occurred_at,
                source=release.source,
                command_id=None if release.command_id is None else str(release.command_id),
                actor=release.actor,
                reason=release.reason,
                opened=release.opened,
                detail=release.detail,
            )
        )
    return found


def gates_seen(conn: Connection, compound_id: str) -> set[str]:
    """The gates the compound's edges have reported a passage or a door alarm at: the only
    gates the hub knows (an edge's status names none)."""
    edges = select(edge_compounds.c.edge_id).where(edge_compounds.c.compound_id == compound_id)
    seen = union(
        select(passage_counts.c.gate).where(passage_counts.c.edge_id.in_(edges)),
        select(door_alarms.c.gate).where(door_alarms.c.edge_id.in_(edges)),
    ).subquery()
    return {str(gate) for gate in conn.scalars(select(seen.c.gate))}
