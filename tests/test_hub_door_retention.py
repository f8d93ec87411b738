"""Door alarms at the hub are purged once they ended (acknowledged, or cleared by their edge)
longer ago than ``doors.alarm_retention_days``, in the duty that purges passages; an alarm
still open and never cleared stays however old it is."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from gridgate_wire import DoorAlarm, new_fields, utc_now
from hub import doors
from hub.config import DoorsConfig
from hub.runtime import HubService
from hub.store.doors import door_alarms
from hub.uow import Outbound
from tests.hub_helpers import hub_config, seed


def _raise(conn: Any, edge_id: str, seq: int, kind: str, at: datetime) -> DoorAlarm:
    alarm = DoorAlarm.model_validate(
        {
            **new_fields(),
            "edge_id": edge_id,
            "seq": seq,
            "kind": kind,
            "occurred_at": at,
            "gate": "north",
        }
    )
    doors.on_door_alarm(conn, alarm, Outbound())
    return alarm


def _clear(conn: Any, raised: DoorAlarm, seq: int, at: datetime) -> None:
    cleared = DoorAlarm.model_validate(
        {
            **new_fields(),
            "edge_id": raised.edge_id,
            "seq": seq,
            "kind": raised.kind.value,
            "phase": "cleared",
            "raised_id": str(raised.id),
            "occurred_at": at,
            "gate": raised.gate,
        }
    )
    doors.on_door_alarm(conn, cleared, Outbound())


def _kept(engine: Any) -> set[str]:
    with engine.connect() as conn:
        return {str(a) for a in conn.scalars(select(door_alarms.c.alarm_id))}


def test_the_retention_is_described_and_180_days_by_default() -> None:
    field = DoorsConfig.model_fields["alarm_retention_days"]
    assert field.description
    assert DoorsConfig().alarm_retention_days == 180


def test_ended_door_alarms_go_after_the_retention_open_ones_stay(
    database_url: str, engine: Any
) -> None:
    seeded = seed(engine)
    edge = seeded.edge_a
    now = utc_now()
    long_ago, lately = now - timedelta(days=200), now - timedelta(days=10)
    with engine.begin() as conn:
        acked_long_ago = _raise(conn, edge, 1, "forced_open", long_ago)
        doors.acknowledge(conn, str(acked_long_ago.id), "admin", "checked", long_ago)
        acked_lately = _raise(conn, edge, 2, "forced_open", long_ago)
        doors.acknowledge(conn, str(acked_lately.id), "admin", "late", lately)
        cleared_long_ago = _raise(conn, edge, 3, "held_open", long_ago)
        _clear(conn, cleared_long_ago, 4, long_ago + timedelta(minutes=2))
        cleared_lately = _raise(conn, edge, 5, "held_open", lately)
        _clear(conn, cleared_lately, 6, lately + timedelta(minutes=2))
        never_ended = _raise(conn, edge, 7, "duress", long_ago)
    hub = HubService(hub_config(database_url, doors={"alarm_retention_days": 180}))
    try:
        done = hub.purge(now)
    finally:
        hub.engine.dispose()
    assert done["door alarms"] == 2
    assert _kept(engine) == {str(a.id) for a in (acked_lately, cleared_lately, never_ended)}
    # A shorter retention takes the recent ones too; the one still open stays.
    shorter = HubService(hub_config(database_url, doors={"alarm_retention_days": 5}))
    try:
        assert shorter.purge(now)["door alarms"] == 2
    finally:
        shorter.engine.dispose()
    assert _kept(engine) == {str(never_ended.id)}
