"""Door state and alarms: forced and held doors on an injected clock, duress PINs, the wire."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from edge_agent.access.doors import (
    DoorConfig,
    DoorMonitor,
    DoorState,
    DuressConfig,
    duress_base,
    duress_candidate,
)
from gridgate_wire import (
    AlarmPhase,
    CredentialKind,
    DecodeError,
    DoorAlarm,
    DoorAlarmKind,
    DoorRelease,
    RemoteUnlock,
    decode,
    encode,
    new_fields,
    uuid7,
)


class FakeClock:
    def __init__(self) -> None:
        self.mono = 1000.0
        self.wall = datetime(2026, 11, 30, 12, tzinfo=UTC)

    def monotonic(self) -> float:
        return self.mono

    def now(self) -> datetime:
        return self.wall

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def monitor(clock: FakeClock) -> DoorMonitor:
    door = DoorMonitor(DoorConfig(held_open_s=30, grant_window_s=10), clock)
    assert door.contact("north", 0, is_open=False) == []  # first report: state only
    return door


def test_opening_after_a_grant_is_authorised(monitor: DoorMonitor, clock: FakeClock) -> None:
    monitor.granted("north")
    clock.advance(3)
    assert monitor.contact("north", 0, is_open=True) == []
    status = monitor.status()[0]
    assert (status.state, status.authorised) == (DoorState.OPEN, True)
    assert monitor.contact("north", 0, is_open=False) == []


def test_opening_without_a_grant_is_forced(monitor: DoorMonitor, clock: FakeClock) -> None:
    alarms = monitor.contact("north", 0, is_open=True)
    assert [a.kind for a in alarms] == [DoorAlarmKind.FORCED_OPEN]
    assert alarms[0].occurred_at == clock.wall
    assert not monitor.status()[0].authorised


def test_a_grant_expires_and_is_used_once(monitor: DoorMonitor, clock: FakeClock) -> None:
    monitor.granted("north")
    clock.advance(11)  # past the grant window
    assert [a.kind for a in monitor.contact("north", 0, True)] == [DoorAlarmKind.FORCED_OPEN]
    monitor.contact("north", 0, False)
    monitor.granted("north")
    assert monitor.contact("north", 0, True) == []
    monitor.contact("north", 0, False)
    # The grant was used by that opening: the next one is forced.
    assert [a.kind for a in monitor.contact("north", 0, True)] == [DoorAlarmKind.FORCED_OPEN]


def test_grants_are_per_door(monitor: DoorMonitor) -> None:
    monitor.contact("north", 1, False)
    monitor.granted("north", 1)
    assert [a.kind for a in monitor.contact("north", 0, True)] == [DoorAlarmKind.FORCED_OPEN]
    assert monitor.contact("north", 1, True) == []


def test_held_open_is_raised_once_and_cleared_on_close(
    monitor: DoorMonitor, clock: FakeClock
) -> None:
    monitor.granted("north")
    monitor.contact("north", 0, True)
    clock.advance(30)
    assert monitor.tick() == []  # at the limit, not past it
    clock.advance(1)
    raised = monitor.tick()
    assert [(a.kind, a.phase) for a in raised] == [(DoorAlarmKind.HELD_OPEN, AlarmPhase.RAISED)]
    assert raised[0].open_seconds == pytest.approx(31)
    assert monitor.status()[0].held_alarm == raised[0].alarm_id
    clock.advance(60)
    assert monitor.tick() == []  # once per opening
    cleared = monitor.contact("north", 0, False)
    assert [(a.kind, a.phase) for a in cleared] == [(DoorAlarmKind.HELD_OPEN, AlarmPhase.CLEARED)]
    assert cleared[0].raised_id == raised[0].alarm_id
    assert monitor.status()[0].held_alarm is None


def test_a_forced_door_left_open_is_held_too(monitor: DoorMonitor, clock: FakeClock) -> None:
    assert monitor.contact("north", 0, True)[0].kind is DoorAlarmKind.FORCED_OPEN
    clock.advance(45)
    assert [a.kind for a in monitor.tick()] == [DoorAlarmKind.HELD_OPEN]


def test_a_door_open_at_start_raises_nothing_until_held(clock: FakeClock) -> None:
    monitor = DoorMonitor(DoorConfig(held_open_s=5), clock)
    assert monitor.contact("side", 0, True) == []
    assert monitor.status()[0].state is DoorState.OPEN
    clock.advance(6)
    assert [a.kind for a in monitor.tick()] == [DoorAlarmKind.HELD_OPEN]


def test_repeated_reports_change_nothing(monitor: DoorMonitor) -> None:
    assert monitor.contact("north", 0, False) == []
    assert len(monitor.contact("north", 0, True)) == 1
    assert monitor.contact("north", 0, True) == []


def test_grant_while_open_authorises_the_opening(monitor: DoorMonitor) -> None:
    monitor.contact("north", 0, True)  # forced
    monitor.granted("north")  # the guard then releases it by hand
    assert monitor.status()[0].authorised


@pytest.mark.parametrize(
    ("entered", "real"), [("482914", "482913"), ("482910", "482919"), ("7", "6"), ("", None)]
)
def test_duress_pin_is_last_digit_plus_one(entered: str, real: str | None) -> None:
    assert duress_base(entered) == real


def test_duress_candidate_only_for_enabled_pins() -> None:
    on = DuressConfig(enabled=True)
    assert duress_candidate(on, CredentialKind.PIN, "1235") == "1234"
    assert duress_candidate(on, CredentialKind.QR, "1235") is None
    assert duress_candidate(on, CredentialKind.PIN, "12a") is None
    assert duress_candidate(DuressConfig(), CredentialKind.PIN, "1235") is None


def wire_alarm(fields: dict[str, object]) -> DoorAlarm:
    message = DoorAlarm.model_validate(
        {**fields, "ts": datetime.now(UTC), "edge_id": "edge-1", "seq": 5}
    )
    assert decode(encode(message), DoorAlarm) == message
    return message


def test_alarm_events_become_door_alarm_messages(monitor: DoorMonitor, clock: FakeClock) -> None:
    event_id = str(uuid7())
    duress = monitor.duress("north", 0, event_id, house_id="H1", resident_id="R1")
    message = wire_alarm(duress.message_fields())
    assert (message.kind, message.silent, message.resident_id) == (DoorAlarmKind.DURESS, True, "R1")
    assert str(message.event_id) == event_id
    tail = wire_alarm(monitor.tailgating("north", 0, event_id, house_id="H1").message_fields())
    assert tail.kind is DoorAlarmKind.TAILGATING
    assert not tail.silent
    monitor.contact("north", 0, True)
    clock.advance(40)
    raised = monitor.tick()[0]
    assert wire_alarm(raised.message_fields()).open_seconds == 40.0
    cleared = monitor.contact("north", 0, False)[0]
    assert str(wire_alarm(cleared.message_fields()).raised_id) == raised.alarm_id


def test_wire_door_rules() -> None:
    base = {"ts": datetime.now(UTC), "edge_id": "e", "seq": 1}
    with pytest.raises(ValueError, match="raised_id"):
        DoorAlarm.model_validate(
            {
                **base,
                "id": uuid7(),
                "kind": "held_open",
                "phase": "cleared",
                "occurred_at": base["ts"],
                "gate": "g",
            }
        )
    with pytest.raises(ValueError, match="command_id"):
        DoorRelease.model_validate(
            {
                **base,
                "id": uuid7(),
                "source": "centre",
                "occurred_at": base["ts"],
                "gate": "g",
                "actor": "u",
                "reason": "r",
                "opened": True,
            }
        )
    unlock = RemoteUnlock(
        **new_fields(),
        edge_id="e",
        gate="g",
        actor="admin-1",
        reason="救护车",
        expires_at=datetime.now(UTC) + timedelta(minutes=1),
    )
    raw = json.loads(encode(unlock))
    raw["reason"] = ""
    with pytest.raises(DecodeError) as info:
        decode(json.dumps(raw).encode(), RemoteUnlock)
    assert info.value.field == "reason"


def test_remote_unlock_refusals_and_release_throttle(clock: FakeClock) -> None:
    from edge_agent.access.doors import ReleaseRefusal, ReleaseThrottle, unlock_refusal

    now = datetime.now(UTC)
    unlock = RemoteUnlock(
        **new_fields(),
        edge_id="e",
        gate="north",
        actor="admin-1",
        reason="救护车",
        expires_at=now + timedelta(minutes=1),
    )
    assert unlock_refusal(unlock, now, {"north", "side"}) is None
    assert unlock_refusal(unlock, now + timedelta(minutes=2), {"north"}) is ReleaseRefusal.EXPIRED
    assert unlock_refusal(unlock, now, {"side"}) is ReleaseRefusal.UNKNOWN_GATE
    throttle = ReleaseThrottle(limit=2, window_s=60, clock=clock)
    assert throttle.allow("north")
    assert throttle.allow("north")
    assert not throttle.allow("north")
    assert throttle.allow("side")  # per door
    clock.advance(61)
    assert throttle.allow("north")
