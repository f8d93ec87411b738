"""Visitors, schedules, duress and doors at a running edge agent, on real parts: passes arrive as
real ``pass_update`` messages over Mosquitto, credentials and door contacts come over real HTTP,
alarms and releases land in the real event store's outbox."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from edge_agent.access.actuators import Actuator, create_contact
from edge_agent.access.schedule import AccessSchedules, ScheduleConfig
from edge_agent.config import EdgeConfig
from edge_agent.errors import ActuatorError, PassageRefused, ReleaseNotRecorded
from edge_agent.runtime import EdgeAgent
from edge_agent.store.rows import Passage
from gridgate_core.config import load_config
from gridgate_core.errors import ConfigError
from gridgate_core.mqtt import Incoming, LinkSettings, MqttLink
from gridgate_wire import (
    EDGE_CHANNELS,
    Channel,
    CredentialKind,
    Decision,
    DoorAlarm,
    DoorRelease,
    EdgeEvent,
    EdgePass,
    PassageDirection,
    PassageMethod,
    PassUpdate,
    RemoteUnlock,
    SubjectKind,
    decode_from_topic,
    edge_subscription,
    encode,
    hub_topic,
    make_secret,
    new_fields,
    qr_payload,
    utc_now,
)
from tests.brokers import Mosquitto
from tests.doubles import RecordingActuator, fake_contact
from tests.edge_helpers import edge_config
from tests.roster_builders import invitation, resident, roster
from tests.waiting import wait_until

SHANGHAI = ZoneInfo("Asia/Shanghai")
TOKEN = "q3Vb9xLr0TzWm2Kd5YhN"
READER_TOKEN = "door-c0ntroller-token"
HOUR = timedelta(hours=1)
NO_HOLIDAYS = {"calendar": {"country": ""}}


def visitor_pass(ident: str, pin: str, **over: Any) -> EdgePass:
    now = utc_now()
    fields: dict[str, Any] = {
        "pass_id": ident,
        "house_id": "HA1",
        "display_name": "王女士",
        "secrets": [make_secret(CredentialKind.QR, TOKEN), make_secret(CredentialKind.PIN, pin)],
        "valid_from": now - HOUR,
        "valid_until": now + 5 * HOUR,
    }
    fields.update(over)
    return EdgePass.model_validate(fields)


def pass_update(
    edge_id: str,
    version: int,
    *passes: EdgePass,
    base: int | None = None,
    revoked: list[str] | None = None,
) -> PassUpdate:
    return PassUpdate(
        **new_fields(),
        edge_id=edge_id,
        pass_version=version,
        base_version=base,
        passes=list(passes),
        revoked=revoked or [],
    )


class Hub:
    """A stand-in hub on the real broker: every edge-to-hub message, and commands."""

    def __init__(self, broker: Mosquitto, name: str) -> None:
        self.messages: list[Any] = []
        subs = [(edge_subscription(ch), 1) for ch in EDGE_CHANNELS if ch is not Channel.STATUS]
        self.link = MqttLink(
            LinkSettings(host="127.0.0.1", port=broker.port, client_id=name, subscriptions=subs),
            on_message=self._collect,
        )
        self.link.start()
        self.link.wait_connected(10)

    def _collect(self, incoming: Incoming) -> None:
        self.messages.append(decode_from_topic(incoming.topic, incoming.payload))

    def of(self, kind: str) -> list[Any]:
        return [m for m in self.messages if kind == m.KIND]

    def send(self, edge_id: str, channel: Channel, message: Any) -> None:
        assert self.link.publish(hub_topic(edge_id, channel), encode(message)).wait(10)


def outbox(agent: EdgeAgent, kind: type[Any]) -> list[Any]:
    rows = agent.store.outbox_after(0, 10_000)
    decoded = [decode_from_topic(r.topic, r.payload) for r in rows]
    return [m for m in decoded if isinstance(m, kind)]


def post(
    port: int, path: str, body: dict[str, Any], token: str | None = READER_TOKEN
) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["X-Gridgate-Token"] = token
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers=headers,
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 - loopback test
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EdgeAgent]:
    """An edge with an http door contact at the north gate and a side gate closed now (its
    hours apply to residents too), duress PINs on, a resident with a card and a PIN."""
    monkeypatch.setenv("GRIDGATE_READER_TOKEN", READER_TOKEN)
    config = edge_config(
        tmp_path,
        None,
        http={"port": 0, "token_secret": "reader_token"},
        doors=[
            {"gate": "north", "open_s": 3, "contact": {"type": "http"}},
            {"gate": "side", "open_s": 3},
        ],
        schedules={
            **NO_HOLIDAYS,
            "gates": {"side": {"schedule": {"windows": [closed_now_window()]}}},
        },
        duress={"enabled": True},
        door_monitor={
            "held_open_s": 1.5,
            "check_interval_s": 0.1,
            "release_limit": 2,
            "release_window_s": 60,
        },
    )
    edge = EdgeAgent(config)
    edge.doors["north"] = RecordingActuator()
    edge.doors["side"] = RecordingActuator()
    edge.handle_command(roster(config.edge_id, 1, [resident("R1", "H1", card="c-1", pin="4321")]))
    yield edge
    edge.stop()


def closed_now_window() -> dict[str, Any]:
    """A daily window that opens an hour from now and closes two hours from now (local)."""
    local = utc_now().astimezone(SHANGHAI)
    start, end = local + HOUR, local + 2 * HOUR
    return {"days": [1, 2, 3, 4, 5, 6, 7], "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}


def openings(agent: EdgeAgent, gate: str) -> list[float]:
    door = agent.doors[gate]
    assert isinstance(door, RecordingActuator)
    return door.openings


# ------------------------------------------------------------------------------- passes


@pytest.mark.slow
def test_pass_over_the_broker_opens_in_its_window_until_used_up_or_revoked(
    tmp_path: Path, broker: Mosquitto
) -> None:
    edge_id = "edge-vis"
    agent = EdgeAgent(edge_config(tmp_path, broker, edge_id=edge_id))
    door = RecordingActuator()
    agent.doors["north"] = door
    hub = Hub(broker, "probe-vis")
    agent.start()
    try:
        agent.link.wait_connected(10)
        later = utc_now() + 2 * HOUR
        hub.send(
            edge_id,
            Channel.PASSES,
            pass_update(
                edge_id,
                1,
                visitor_pass("P-live", "482913", max_uses=2),
                visitor_pass("P-soon", "550011", valid_from=later, valid_until=later + HOUR),
                visitor_pass(
                    "P-gone", "550022", valid_from=later - 9 * HOUR, valid_until=later - 4 * HOUR
                ),
                visitor_pass("P-side", "550033", gates=["side"]),
            ),
        )
        wait_until(lambda: hub.of("pass_ack"), what="the edge's pass_ack")
        assert (hub.of("pass_ack")[0].pass_version, hub.of("pass_ack")[0].applied) == (1, True)

        first = agent.present_credential("north", CredentialKind.PIN, "482913")
        assert (first.decision, first.subject, first.reason) == (
            Decision.GRANT,
            SubjectKind.VISITOR,
            "visitor pass",
        )
        assert (first.house_id, first.pass_id, first.resident_id) == ("HA1", "P-live", None)
        # Leaving through an exit reader costs no use.
        out = agent.present_credential("north", CredentialKind.PIN, "482913", PassageDirection.OUT)
        assert out.decision is Decision.GRANT
        qr = qr_payload("P-live", TOKEN)
        assert agent.present_credential("north", CredentialKind.QR, qr).decision is Decision.GRANT
        used_up = agent.present_credential("north", CredentialKind.QR, qr)
        assert (used_up.decision, used_up.reason) == (Decision.DENY, "pass used up")
        assert used_up.pass_id == "P-live"
        assert len(door.openings) == 3

        refusals = {
            pin: agent.present_credential("north", CredentialKind.PIN, pin).reason
            for pin in ("550011", "550022", "550033")
        }
        assert refusals == {
            "550011": "pass not yet valid",
            "550022": "pass expired",
            "550033": "pass not valid at this gate",
        }
        # Revocation arrives as a delta; from then on the gate says so.
        hub.send(edge_id, Channel.PASSES, pass_update(edge_id, 2, base=1, revoked=["P-side"]))
        wait_until(lambda: len(hub.of("pass_ack")) == 2)
        side = agent.present_credential("north", CredentialKind.PIN, "550033")
        assert (side.decision, side.reason) == (Decision.DENY, "pass revoked")
        # A delta on a base this edge does not have is refused with the reason.
        hub.send(edge_id, Channel.PASSES, pass_update(edge_id, 9, base=7))
        wait_until(lambda: len(hub.of("pass_ack")) == 3)
        refused = hub.of("pass_ack")[-1]
        assert not refused.applied
        assert "full pass list" in refused.error
        # Every attempt reached the hub as an ordinary edge_event, pass id and host house on it.
        wait_until(lambda: len(hub.of("edge_event")) == 8)
        visitors = [e for e in hub.of("edge_event") if e.subject is SubjectKind.VISITOR]
        assert len(visitors) == 8
        assert {e.house_id for e in visitors} == {"HA1"}
        assert len(door.openings) == 3
    finally:
        agent.stop()
        hub.link.stop()
    stored = EdgeAgent(edge_config(tmp_path, None, edge_id=edge_id))
    rows = stored.store.events_after(0)
    stored.stop()
    assert [r.pass_id for r in rows][:2] == ["P-live", "P-live"]


def test_a_scheduled_gate_refuses_at_night_with_the_reason(agent: EdgeAgent) -> None:
    # The side gate is closed now; north has no schedule.
    refused = agent.present_credential("side", CredentialKind.CARD, "c-1")
    assert (refused.decision, refused.reason) == (Decision.DENY, "outside hours: gate_closed")
    assert refused.resident_id == "R1"
    assert openings(agent, "side") == []
    assert agent.present_credential("north", CredentialKind.CARD, "c-1").decision is Decision.GRANT
    # A gate closed 22:00-06:00: the rule at night and by day, in the compound's time zone.
    night_gate = {"windows": [{"days": [1, 2, 3, 4, 5, 6, 7], "start": "06:00", "end": "22:00"}]}
    agent.policy.schedules = AccessSchedules(
        ScheduleConfig.model_validate({**NO_HOLIDAYS, "gates": {"side": {"schedule": night_gate}}})
    )
    night = datetime(2026, 12, 1, 23, 30, tzinfo=SHANGHAI).astimezone(UTC)
    day = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)
    assert agent.policy.for_credential(CredentialKind.CARD, "c-1", "side", night).reason == (
        "outside hours: gate_closed"
    )
    assert agent.policy.for_credential(CredentialKind.CARD, "c-1", "side", day).granted


def test_duress_pin_opens_as_usual_and_raises_a_silent_alarm(agent: EdgeAgent) -> None:
    agent.passes.apply(pass_update("edge-t", 1, visitor_pass("P-1", "482913")))
    event = agent.present_credential("north", CredentialKind.PIN, "4322")  # 4321 + 1
    assert (event.decision, event.reason, event.resident_id) == (Decision.GRANT, "resident", "R1")
    assert len(openings(agent, "north")) == 1
    visitor = agent.present_credential("north", CredentialKind.PIN, "482914")  # a pass's too
    assert (visitor.decision, visitor.pass_id) == (Decision.GRANT, "P-1")
    alarms = outbox(agent, DoorAlarm)
    assert [(a.kind.value, a.silent) for a in alarms] == [("duress", True), ("duress", True)]
    assert (alarms[0].event_id, alarms[0].resident_id, alarms[0].house_id) == (
        event.id,
        "R1",
        "H1",
    )
    assert (alarms[1].pass_id, alarms[1].house_id) == ("P-1", "HA1")
    assert 'kind="duress"' not in agent.metrics.render().decode()  # silent: the centre only
    # The real PIN raises nothing.
    agent.present_credential("north", CredentialKind.PIN, "4321")
    assert len(outbox(agent, DoorAlarm)) == 2


# ------------------------------------------------------------------------------- doors


def test_forced_and_held_doors_from_the_http_contact_become_alarms(agent: EdgeAgent) -> None:
    agent.start()
    assert agent.http is not None
    port = agent.http.port
    door = {"gate": "north", "lane": 0}
    assert post(port, "/door", {**door, "state": "closed"}, token=None)[0] == 401
    assert post(port, "/door", {"gate": "side", "state": "open"})[0] == 400  # no contact there
    assert post(port, "/door", {**door, "state": "ajar"})[0] == 400
    assert post(port, "/door", {**door, "state": "closed"}) == (200, {"recorded": True})
    # Opened with no grant: forced.
    post(port, "/door", {**door, "state": "open"})
    post(port, "/door", {**door, "state": "closed"})
    assert [a.kind.value for a in outbox(agent, DoorAlarm)] == ["forced_open"]
    # A granted card, then the door opens: authorised, no alarm.
    code, answer = post(port, "/credential", {"gate": "north", "kind": "card", "value": "c-1"})
    assert (code, answer["decision"]) == (200, "grant")
    post(port, "/door", {**door, "state": "open"})
    assert len(outbox(agent, DoorAlarm)) == 1
    # ...but left open past the limit: held open, cleared when it closes.
    wait_until(lambda: len(outbox(agent, DoorAlarm)) == 2, what="a held-open alarm", timeout=10)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as reply:
        doors = json.loads(reply.read())["doors"]
    assert doors == [
        {
            "gate": "north",
            "lane": 0,
            "state": "open",
            "since": doors[0]["since"],
            "held_open_alarm": True,
        }
    ]
    post(port, "/door", {**door, "state": "closed"})
    held, cleared = outbox(agent, DoorAlarm)[1:]
    assert (held.kind.value, held.phase.value) == ("held_open", "raised")
    assert (held.open_seconds or 0) >= 1.5
    assert (cleared.phase.value, cleared.raised_id) == ("cleared", held.id)
    text = agent.metrics.render().decode()
    assert 'gridgate_door_alarms_total{kind="forced_open",phase="raised"} 1.0' in text
    assert 'gridgate_door_alarms_total{kind="held_open",phase="cleared"} 1.0' in text


def test_tailgating_passage_raises_its_alarm(agent: EdgeAgent) -> None:
    passage = Passage(
        occurred_at=utc_now(),
        gate="north",
        direction=PassageDirection.IN,
        method=PassageMethod.FACE,
        subject=SubjectKind.RESIDENT,
        resident_id="R1",
        house_id="H1",
        decision=Decision.GRANT,
        tailgating=True,
    )
    event: EdgeEvent = agent.desk.admit(passage, agent.door("north"), open_door=False)
    (alarm,) = outbox(agent, DoorAlarm)
    assert (alarm.kind.value, alarm.event_id, alarm.silent) == ("tailgating", event.id, False)


class CheckingActuator(Actuator):
    """Opens only if the release is already in the outbox: never unrecorded."""

    def __init__(self, agent: EdgeAgent) -> None:
        self.agent = agent
        self.openings = 0

    def open(self, seconds: float) -> bool:
        released = outbox(self.agent, DoorRelease)
        assert released, "door opened before the release was recorded"
        assert released[-1].opened
        self.openings += 1
        return True


def unlock(gate: str = "north", expires_in: timedelta = timedelta(seconds=30)) -> RemoteUnlock:
    return RemoteUnlock(
        **new_fields(),
        edge_id="edge-t",
        gate=gate,
        actor="centre-duty",
        reason="居民忘带门卡",
        expires_at=utc_now() + expires_in,
    )


def test_remote_unlock_is_recorded_before_opening_and_refused_when_stale(
    agent: EdgeAgent,
) -> None:
    door = CheckingActuator(agent)
    agent.doors["north"] = door
    first = unlock()
    agent.handle_command(first)
    agent.handle_command(first)  # delivered twice by the broker: opens once
    assert door.openings == 1
    (release,) = outbox(agent, DoorRelease)
    assert (release.source.value, release.command_id, release.actor, release.opened) == (
        "centre",
        first.id,
        "centre-duty",
        True,
    )
    agent.handle_command(unlock(expires_in=timedelta(seconds=-1)))  # sat in a queue too long
    agent.handle_command(unlock(gate="nowhere"))
    agent.handle_command(unlock())  # second within the window: allowed (limit 2)
    agent.handle_command(unlock())  # third: throttled
    assert door.openings == 2
    outcomes = [(r.opened, r.detail) for r in outbox(agent, DoorRelease)]
    assert outcomes == [
        (True, ""),
        (False, "expired"),
        (False, "unknown_gate"),
        (True, ""),
        (False, "throttled"),
    ]
    text = agent.metrics.render().decode()
    assert 'gridgate_door_releases_total{opened="false",source="centre"} 3.0' in text
    # A door opened remotely is authorised for the contact: no forced-open alarm.
    agent.door_service.contact("north", 0, False)
    agent.door_service.contact("north", 0, True)
    assert outbox(agent, DoorAlarm) == []


def test_a_release_the_store_cannot_record_opens_nothing(agent: EdgeAgent) -> None:
    door = RecordingActuator()
    agent.doors["north"] = door
    agent.store.close()  # every write now fails
    with pytest.raises(ReleaseNotRecorded):
        agent.handle_command(unlock())
    assert door.openings == []


def test_gpio_contact_without_libgpiod_is_an_actuator_error() -> None:
    try:
        import gpiod  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        pass
    else:  # pragma: no cover - a board with libgpiod
        pytest.skip("libgpiod is installed here")
    config = EdgeConfig.model_validate(
        {
            "edge_id": "edge-g",
            "compound_id": "c1",
            "doors": [{"gate": "north", "contact": {"type": "gpio", "line": 17}}],
        }
    )
    contact = config.doors[0].contact
    assert contact is not None
    with pytest.raises(ActuatorError, match="gpiod"):
        create_contact(contact, "north")


def test_invalid_visitor_and_door_config_fails_at_start_with_field_and_reason(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "edge.yaml"
    bad.write_text(
        "edge_id: e1\n"
        "compound_id: c1\n"
        "doors:\n  - gate: north\n    contact: {type: reed}\n"
        "door_monitor: {held_open_s: 0}\n"
        "schedules: {time_zone: Mars/Olympus}\n"
        "guard_room:\n  enabled: true\n  users: [{name: li, password_hash: hunter2}]\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(bad, EdgeConfig)
    errors = dict(info.value.errors)
    assert "door_monitor.held_open_s" in errors
    assert "unknown time zone" in errors["schedules.time_zone"]
    assert "Argon2" in errors["guard_room.users[0].password_hash"]
    assert any(path.startswith("doors[0].contact") for path in errors)


def test_retention_purges_passes_a_day_after_they_end(agent: EdgeAgent) -> None:
    now = utc_now()
    agent.passes.apply(
        pass_update(
            "edge-t",
            1,
            visitor_pass(
                "P-old", "100001", valid_from=now - 80 * HOUR, valid_until=now - 30 * HOUR
            ),
            visitor_pass("P-recent", "100002", valid_from=now - 9 * HOUR, valid_until=now - HOUR),
            visitor_pass("P-live", "100003"),
        )
    )
    agent.retention.purge()
    assert {p.pass_id for p in agent.passes.all()} == {"P-recent", "P-live"}


def test_a_fake_contact_started_with_the_agent_feeds_the_monitor(agent: EdgeAgent) -> None:
    contact = fake_contact(agent, "side")
    agent.start()
    contact.set(is_open=False)
    contact.set(is_open=True)
    assert [a.kind.value for a in outbox(agent, DoorAlarm)] == ["forced_open"]
    assert contact.state().value == "open"


# ------------------------------------------------------------------------------- review (issue 18)


def raw_post(port: int, path: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body, method="POST", headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 - loopback test
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code


def test_enrolment_codes_meet_the_throttle_first_and_starts_are_limited(
    agent: EdgeAgent,
) -> None:
    agent.handle_command(invitation("edge-t", "R1", "7305518"))
    agent.start()
    assert agent.http is not None
    port = agent.http.port
    code = {"gate": "north", "kind": "pin", "value": "7305518"}
    # No camera at the gate (face off here): 409 says "a code"; this is the oracle to close.
    assert post(port, "/credential", code)[0] == 409
    for guess in range(5):  # duress on: each wrong PIN is two attempts
        assert post(port, "/credential", {**code, "value": f"{guess:07d}"})[0] == 200
    # Locked out: the real code gets the same 429 as any guess.
    assert post(port, "/credential", code)[0] == 429
    assert post(port, "/credential", {**code, "value": "0000009"})[0] == 429


def test_enrolment_starts_are_limited_per_gate(agent: EdgeAgent) -> None:
    for n in range(4):
        agent.handle_command(invitation("edge-t", f"R{n}", f"88{n}4411"))
    outcomes = []
    for n in range(4):
        try:
            outcomes.append(
                type(
                    agent.credentials.present_or_enrol("north", CredentialKind.QR, f"88{n}4411")
                ).__name__
            )
        except PassageRefused as exc:
            outcomes.append(str(exc.status))
    assert outcomes == ["EnrolmentStarted"] * 3 + ["429"]


def test_a_duress_pin_raises_its_alarm_even_when_refused(agent: EdgeAgent) -> None:
    agent.passes.apply(pass_update("edge-t", 1, visitor_pass("P-1", "482913", max_uses=1)))
    assert agent.present_credential("north", CredentialKind.PIN, "482913").decision is (
        Decision.GRANT
    )
    refused = agent.present_credential("north", CredentialKind.PIN, "482914")  # used up
    assert (refused.decision, refused.reason) == (Decision.DENY, "pass used up")
    (alarm,) = outbox(agent, DoorAlarm)
    assert (alarm.kind.value, alarm.silent, alarm.pass_id, alarm.event_id) == (
        "duress",
        True,
        "P-1",
        refused.id,
    )
    # A resident under duress at a gate closed now: refused, and the centre still hears.
    side = agent.present_credential("side", CredentialKind.PIN, "4322")
    assert side.decision is Decision.DENY
    assert [a.resident_id for a in outbox(agent, DoorAlarm)] == [None, "R1"]


def test_pin_refusals_tell_the_reader_nothing_but_the_event_keeps_why(agent: EdgeAgent) -> None:
    later = utc_now() + 2 * HOUR
    agent.passes.apply(
        pass_update(
            "edge-t",
            1,
            visitor_pass("P-soon", "550011", valid_from=later, valid_until=later + HOUR),
        )
    )
    agent.start()
    assert agent.http is not None
    port = agent.http.port
    replies = [
        post(port, "/credential", {"gate": "north", "kind": "pin", "value": pin})[1]
        for pin in ("550011", "999999")
    ]
    assert [r["reason"] for r in replies] == ["refused", "refused"]
    reasons = [e.reason for e in outbox(agent, EdgeEvent)]
    assert reasons == ["pass not yet valid", "not a resident"]
    # QR codes keep their detail for the visitor.
    qr = qr_payload("P-soon", TOKEN)
    assert (
        post(port, "/credential", {"gate": "north", "kind": "qr", "value": qr})[1]["reason"]
        == "pass not yet valid"
    )


def test_json_endpoints_refuse_other_content_types_and_foreign_origins(agent: EdgeAgent) -> None:
    agent.start()
    assert agent.http is not None
    port = agent.http.port
    body = json.dumps({"gate": "north", "kind": "card", "value": "c-1"}).encode()
    token = {"X-Gridgate-Token": READER_TOKEN}
    assert raw_post(port, "/credential", body, {**token, "Content-Type": "text/plain"}) == 415
    assert raw_post(port, "/credential", body, token) == 415  # none at all
    foreign = {**token, "Content-Type": "application/json", "Origin": "http://evil.example"}
    assert raw_post(port, "/credential", body, foreign) == 403
    own = {**token, "Content-Type": "application/json", "Origin": f"http://127.0.0.1:{port}"}
    assert raw_post(port, "/credential", body, own) == 200
    assert len(openings(agent, "north")) == 1


def test_a_caller_sent_exit_never_skips_a_use_but_a_configured_exit_lane_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDGATE_READER_TOKEN", READER_TOKEN)
    config = edge_config(
        tmp_path,
        None,
        http={"port": 0, "token_secret": "reader_token"},
        doors=[{"gate": "north", "open_s": 3, "exit_lanes": [2]}],
    )
    edge = EdgeAgent(config)
    edge.doors["north"] = RecordingActuator()
    edge.passes.apply(pass_update("edge-t", 1, visitor_pass("P-1", "482913", max_uses=1)))
    edge.start()
    try:
        assert edge.http is not None
        port = edge.http.port
        pin = {"gate": "north", "kind": "pin", "value": "482913"}
        # "out" in the body at an entry lane: recorded as sent, but the use is counted.
        assert post(port, "/credential", {**pin, "direction": "out"})[1]["decision"] == "grant"
        assert post(port, "/credential", pin)[1]["decision"] == "deny"  # used up
        # The configured exit lane is an exit whatever the body says, and never refuses a found
        # pass (a used-up visitor must be able to leave).
        left = post(port, "/credential", {**pin, "lane": 2, "direction": "in"})[1]
        assert left["decision"] == "grant"
        events = outbox(edge, EdgeEvent)
        assert [(e.direction.value, e.reason) for e in events] == [
            ("out", "visitor pass"),
            ("in", "pass used up"),
            ("out", "exit: pass used up"),
        ]
    finally:
        edge.stop()


def test_remote_unlock_seen_ids_survive_a_restart_and_foreign_or_far_commands_are_refused(
    tmp_path: Path, agent: EdgeAgent
) -> None:
    first = unlock()
    agent.handle_command(first)
    agent.stop()
    again = EdgeAgent(agent.config)
    again.doors["north"] = RecordingActuator()
    try:
        again.handle_command(first)  # redelivered after the restart: opens nothing
        assert openings(again, "north") == []
        other = unlock().model_copy(update={"edge_id": "edge-other"})
        again.handle_command(other)
        again.handle_command(unlock(expires_in=timedelta(hours=1)))
        details = [r.detail for r in outbox(again, DoorRelease)]
        assert details == ["", "wrong_edge", "expiry_too_far"]
        assert openings(again, "north") == []
    finally:
        again.stop()


def test_an_exit_request_or_a_free_exit_door_is_not_forced_open(
    tmp_path: Path, agent: EdgeAgent
) -> None:
    agent.start()
    assert agent.http is not None
    port = agent.http.port
    door = {"gate": "north", "lane": 0}
    post(port, "/door", {**door, "state": "closed"})
    assert post(port, "/door", {**door, "state": "exit_request"}) == (200, {"recorded": True})
    post(port, "/door", {**door, "state": "open"})
    post(port, "/door", {**door, "state": "closed"})
    assert outbox(agent, DoorAlarm) == []
    agent.door_service.free_exit = {"north"}  # what doors[].free_exit: true sets
    agent.door_service.contact("north", 0, True)
    agent.door_service.contact("north", 0, False)
    assert outbox(agent, DoorAlarm) == []
    post(port, "/door", {**door, "state": "open"}, token=None)  # 401: nothing changes
    agent.door_service.free_exit = set()
    agent.door_service.contact("north", 0, True)
    assert [a.kind.value for a in outbox(agent, DoorAlarm)] == ["forced_open"]


def test_kiosk_enrolment_codes_meet_the_same_throttle(agent: EdgeAgent) -> None:
    agent.handle_command(invitation("edge-t", "R1", "7305518"))
    agent.start()
    assert agent.http is not None
    port = agent.http.port
    for guess in range(10):
        status, reply = post(port, "/enrol", {"code": f"{guess:07d}", "camera": "kiosk"})
        assert (status, reply["reason"]) == (409, "unknown code")
    # Locked out: the real code gets 429 like any further guess.
    assert post(port, "/enrol", {"code": "7305518", "camera": "kiosk"})[0] == 429
