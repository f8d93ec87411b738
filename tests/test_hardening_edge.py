"""Issue 14, high: the edge validates a passage, commits it, and only then opens the door."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from edge_agent.access.actuators import Actuator
from edge_agent.errors import PassageNotRecorded, PassageRefused
from edge_agent.loops import BackgroundLoops
from edge_agent.runtime import EdgeAgent
from edge_agent.store.events import EventStore
from edge_agent.store.rows import Passage
from gridgate_wire import CredentialKind, EdgeEvent, EdgeState
from tests.edge_helpers import edge_config
from tests.roster_builders import resident, roster
from tests.test_edge_runtime import post
from tests.waiting import wait_until


class CommittedFirst(Actuator):
    """A door that notes, at each opening, the newest passage the store has committed."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.seen_at_open: list[int] = []

    def open(self, seconds: float) -> bool:
        self.seen_at_open.append(self.store.last_seq())
        return True


def _agent(tmp_path: Path, **extra: Any) -> tuple[EdgeAgent, CommittedFirst]:
    agent = EdgeAgent(edge_config(tmp_path, None, **extra))
    agent.handle_command(roster("edge-t", 1, [resident("R1", "H1", card="card-1", pin="4321")]))
    door = CommittedFirst(agent.store)
    agent.doors["north"] = door
    return agent, door


def _health(port: int) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_door_opens_only_after_the_passage_is_committed(tmp_path: Path) -> None:
    agent, door = _agent(tmp_path)
    try:
        event = agent.present_credential("north", CredentialKind.CARD, "card-1")
        assert event.decision.value == "grant"
        assert door.seen_at_open == [event.seq]  # the event was in the store already
    finally:
        agent.stop()


@pytest.mark.parametrize(
    "body",
    [
        {"gate": "north", "kind": "card", "value": "card-1", "lane": 999},
        {"gate": "north", "kind": "card", "value": "card-1", "lane": -1},
        {"gate": "north", "kind": "card", "value": "card-1", "lane": True},
        {"gate": "north", "kind": "card", "value": "card-1", "lane": "1"},
        {"gate": "no rth!", "kind": "card", "value": "card-1"},
        {"gate": "south", "kind": "card", "value": "card-1"},  # no such gate at this edge
        {"gate": "north", "kind": "card", "value": "x" * 300},
    ],
)
def test_an_invalid_passage_opens_nothing(tmp_path: Path, body: dict[str, object]) -> None:
    agent, door = _agent(tmp_path)
    agent.start()
    assert agent.http is not None
    try:
        status, reply = post(agent.http.port, "/credential", body)
        assert status == 400, reply
        assert door.seen_at_open == []
        assert agent.store.last_seq() == 1  # only the roster ack, no passage
    finally:
        agent.stop()


def test_invalid_attempts_count_against_the_gate_throttle_for_every_source(
    tmp_path: Path,
) -> None:
    agent, door = _agent(tmp_path)
    for _ in range(5):
        with pytest.raises(PassageRefused):
            agent.present_credential("north", CredentialKind.PIN, "")  # invalid value
    for guess in range(5):
        agent.present_credential("north", CredentialKind.PIN, f"{guess:04d}")
    # The right PIN, from a line reader or over HTTP alike, now waits: the gate is throttled,
    # whatever lane number is sent (the door is per gate; issue 18 review, finding 2).
    for lane in (0, 1, 255):
        with pytest.raises(PassageRefused) as refused:
            agent.present_credential("north", CredentialKind.PIN, "4321", lane=lane)
        assert refused.value.status == 429
    # Another credential kind at the same gate still works.
    assert agent.present_credential("north", CredentialKind.CARD, "card-1").decision == "grant"
    assert len(door.seen_at_open) == 1
    agent.stop()


def test_a_store_that_cannot_write_denies_alarms_and_fails_healthz(tmp_path: Path) -> None:
    agent, door = _agent(tmp_path)
    agent.start()
    assert agent.http is not None
    port = agent.http.port
    try:
        agent.store._db.execute("PRAGMA query_only=ON")  # every write now fails in SQLite
        status, reply = post(
            port, "/credential", {"gate": "north", "kind": "card", "value": "card-1"}
        )
        assert status == 503
        assert reply["decision"] == "deny"
        assert reply["recorded"] is False
        assert door.seen_at_open == []
        code, health = _health(port)
        assert code == 503
        assert "cannot write" in str(health["event_store"])
        assert any("cannot write" in w for w in agent.status.status(EdgeState.ONLINE).warnings)
        agent.store._db.execute("PRAGMA query_only=OFF")
        event = agent.present_credential("north", CredentialKind.CARD, "card-1")
        assert event.decision.value == "grant"
        assert _health(port)[0] == 200
    finally:
        agent.stop()


def test_on_record_failure_open_lets_a_granted_resident_through(tmp_path: Path) -> None:
    agent, door = _agent(tmp_path, on_record_failure="open")
    try:
        agent.store._db.execute("PRAGMA query_only=ON")
        with pytest.raises(PassageNotRecorded) as failed:
            agent.present_credential("north", CredentialKind.CARD, "card-1")
        assert failed.value.opened
        assert len(door.seen_at_open) == 1
        with pytest.raises(PassageNotRecorded) as stranger:
            agent.present_credential("north", CredentialKind.CARD, "not-a-card")
        assert not stranger.value.opened
        assert len(door.seen_at_open) == 1
        assert agent.desk.unrecorded_openings == 1
        assert not agent.health().healthy
    finally:
        agent.store._db.execute("PRAGMA query_only=OFF")
        agent.stop()


def test_a_lan_bind_without_a_token_is_refused_by_validation(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="token_secret"):
        edge_config(tmp_path, None, http={"bind": "0.0.0.0", "port": 0})  # noqa: S104
    edge_config(tmp_path, None, http={"bind": "0.0.0.0", "port": 0, "allow_without_token": True})  # noqa: S104


def test_edge_http_guards_metrics_and_drops_half_sent_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket
    import time

    monkeypatch.setenv("GRIDGATE_READER_TOKEN", "s3cret-token")
    agent, _ = _agent(tmp_path, http={"port": 0, "token_secret": "reader_token"})
    agent.start()
    assert agent.http is not None
    port = agent.http.port
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert refused.value.code == 401
        refused.value.close()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/metrics", headers={"X-Gridgate-Token": "s3cret-token"}
        )
        with urllib.request.urlopen(request, timeout=5) as reply:  # noqa: S310 - loopback
            assert reply.status == 200
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(b"POST /credential HTTP/1.1\r\nHost: x\r\n")  # and never the rest
            sock.settimeout(15)
            assert sock.recv(100) == b""  # the edge closed it
        assert time.monotonic() - started < 10
    finally:
        agent.stop()


def test_healthz_fails_when_the_broker_link_stays_down(tmp_path: Path) -> None:
    agent, _ = _agent(tmp_path, health={"link_down_s": 0.3})  # no broker listens on port 1
    agent.start()
    assert agent.http is not None
    port = agent.http.port
    try:
        wait_until(lambda: _health(port)[0] == 503, timeout=10, what="a failing /healthz")
        code, health = _health(port)
        assert code == 503
        failing = health["failing"]
        assert isinstance(failing, list)
        assert any("broker link down" in str(f) for f in failing)
        assert health["event_store"] == "ok"  # the gate itself still records
        assert agent.present_credential("north", CredentialKind.CARD, "card-1").decision == "grant"
    finally:
        agent.stop()


def test_a_failing_background_job_is_logged_and_runs_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = threading.Event()
    loops = BackgroundLoops(stop)
    turns: list[int] = []

    def flaky() -> None:
        turns.append(len(turns))
        if len(turns) < 3:
            raise RuntimeError("transient")

    loops.every("flaky", lambda: 0.01, flaky)
    loops.run("finite-source", lambda: None)  # a source may end: health does not count it
    try:
        wait_until(lambda: len(turns) >= 4, timeout=10, what="the loop to survive its failures")
        assert loops.dead() == []
        assert "background job flaky failed" in caplog.text
    finally:
        stop.set()
        loops.join(5)


def test_actuators_come_from_the_registry_by_type() -> None:
    from edge_agent.access.actuators import create_actuator
    from edge_agent.access.actuators.config import HttpRelayConfig, LogActuatorConfig
    from edge_agent.access.actuators.http_relay import HttpRelayActuator
    from edge_agent.access.actuators.log import LogActuator
    from edge_agent.errors import UnknownPluginError
    from tests.doubles import RecordingActuator, RecordingConfig

    assert isinstance(create_actuator(LogActuatorConfig(), "north"), LogActuator)
    relay = HttpRelayConfig(type="http_relay", url="http://127.0.0.1:9/open")
    assert isinstance(create_actuator(relay, "north"), HttpRelayActuator)
    assert isinstance(create_actuator(RecordingConfig(), "north"), RecordingActuator)  # type: ignore[arg-type]
    with pytest.raises(UnknownPluginError, match="no door actuator plugin of type 'relay9'"):
        create_actuator(RecordingConfig(type="relay9"), "north")  # type: ignore[arg-type]


class StuckDoor(Actuator):
    def open(self, seconds: float) -> bool:
        return False


def test_a_door_that_fails_after_a_grant_is_recorded_as_a_denial(tmp_path: Path) -> None:
    agent, _ = _agent(tmp_path)
    agent.doors["north"] = StuckDoor()
    seen: list[tuple[str, str, bool]] = []

    class Watcher:
        def admitted(self, passage: Passage, event: EdgeEvent, door_opened: bool) -> None:
            seen.append((passage.decision.value, event.decision.value, door_opened))

    agent.desk.observers.append(Watcher())
    try:
        event = agent.present_credential("north", CredentialKind.CARD, "card-1")
        assert (event.decision, event.reason) == ("deny", "door actuator failed")
        rows = agent.store.events_after(0)
        assert [(r.decision, r.reason) for r in rows] == [
            ("grant", "resident"),
            ("deny", "door actuator failed"),
        ]
        assert seen == [("grant", "deny", False)]
    finally:
        agent.stop()


# ------------------------------------------------------------------------------- review (issue 18)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_credential_lockout_grows_and_sustained_guessing_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from edge_agent.access import passage

    clock = Clock()
    monkeypatch.setattr(passage.time, "monotonic", clock)
    reported: list[str] = []
    throttle = passage.CredentialThrottle(
        3, 60, lockout_s=60, alarm_after=3, on_guessing=reported.append
    )
    keys = throttle.keys("north", "pin", "10.0.0.9")
    lockouts = []
    for _ in range(3):
        throttle.refused(keys, 3)
        assert throttle.blocked(keys)
        started = clock.now
        while throttle.blocked(keys):
            clock.now += 1
        lockouts.append(clock.now - started)
    assert lockouts == [60, 120, 240]  # doubling, from lockout_s
    assert reported == ["north/pin", "caller:10.0.0.9"]
    # The caller is locked at every gate, not just the one it guessed at.
    throttle.refused(throttle.keys("north", "pin", "10.0.0.9"), 3)
    assert throttle.blocked(throttle.keys("side", "card", "10.0.0.9"))
    assert not throttle.blocked(throttle.keys("side", "card", "10.0.0.10"))


def test_a_wrong_pin_with_duress_on_counts_twice(tmp_path: Path) -> None:
    agent, _door = _agent(tmp_path, duress={"enabled": True})
    try:
        for guess in range(5):
            agent.present_credential("north", CredentialKind.PIN, f"{guess:04d}")
        with pytest.raises(PassageRefused) as refused:
            agent.present_credential("north", CredentialKind.PIN, "4321")
        assert refused.value.status == 429
    finally:
        agent.stop()


def test_the_http_refusal_table_forgets_quiet_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    from edge_agent import http

    clock = Clock()
    monkeypatch.setattr(http.time, "monotonic", clock)
    throttle = http.RefusalThrottle(limit=2, window_s=60)
    for n in range(1000):
        throttle.refused(f"10.0.{n // 250}.{n % 250}")
    clock.now += 61
    assert not throttle.blocked("10.9.9.9")
    assert len(throttle._seen) == 0
