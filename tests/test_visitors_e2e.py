"""Visitors and doors end to end (issue 18) on real parts: the real Mosquitto, a real hub
(HubService: ingest, duties, the API and pages in process) and a real edge agent (EdgeAgent:
pass store, credential path, door contact over HTTP, guard room). A pass issued at the hub opens
the gate within its window and not outside it, not after its uses run out, not after its
revocation reached the edge; a walk-in registered while the hub is down opens at once and
reaches the hub when it is back; forced and held doors become alarms on the console; a duress
PIN opens and alarms; a scheduled gate refuses at night; remote unlock is audited and opens."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from edge_agent.guard_room.service import WalkInRequest
from edge_agent.runtime import EdgeAgent
from gridgate_wire import CredentialKind, Decision, PassageDirection, SubjectKind, utc_now
from hub import passes as hub_passes
from hub.app import create_app
from hub.runtime import HubService
from hub.store.doors import door_alarms
from hub.store.schema import audit_log, pass_outbox
from tests.brokers import Mosquitto
from tests.doubles import RecordingActuator
from tests.edge_helpers import edge_config
from tests.hub_helpers import Seeded, hub_config, login, seed
from tests.roster_builders import resident, roster
from tests.test_edge_visitors import NO_HOLIDAYS, READER_TOKEN, post
from tests.test_hub_web import page_login
from tests.waiting import wait_until

pytestmark = pytest.mark.slow
SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = timedelta(hours=1)
# The side gate is closed 22:00-06:00 for everyone (residents included); north is always open.
NIGHT_CLOSED = {"windows": [{"days": [1, 2, 3, 4, 5, 6, 7], "start": "06:00", "end": "22:00"}]}


class Site:
    """A hub and an edge of compound cA on the real broker; the edge id is unique per test (the
    broker is shared by the session)."""

    def __init__(self, tmp_path: Path, broker: Mosquitto, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("GRIDGATE_READER_TOKEN", READER_TOKEN)
        self.edge_id = f"edge-{uuid.uuid4().hex[:8]}"
        self.hub = HubService(
            hub_config(
                f"sqlite:///{tmp_path}/hub.sqlite3",
                broker.port,
                api={"enabled": False, "secure_cookies": False},
                passes={"retry_s": 1},
            )
        )
        self.seeded: Seeded = seed(self.hub.engine, edge_a=self.edge_id, edge_b=f"{self.edge_id}-b")
        self.agent = EdgeAgent(
            edge_config(
                tmp_path,
                broker,
                edge_id=self.edge_id,
                compound_id="cA",
                http={"port": 0, "token_secret": "reader_token"},
                doors=[
                    {"gate": "north", "open_s": 3, "contact": {"type": "http"}},
                    {"gate": "side", "open_s": 3},
                ],
                schedules={**NO_HOLIDAYS, "gates": {"side": {"schedule": NIGHT_CLOSED}}},
                duress={"enabled": True},
                door_monitor={"held_open_s": 1.5, "check_interval_s": 0.1},
            )
        )
        self.north = RecordingActuator()
        self.agent.doors["north"] = self.north
        self.agent.doors["side"] = RecordingActuator()
        self.hub_running = False

    def start_hub(self) -> None:
        self.hub.start()
        self.hub_running = True
        self.hub.link.wait_connected(10)

    def start_edge(self) -> None:
        self.agent.start()
        self.agent.link.wait_connected(10)

    def stop(self) -> None:
        self.agent.stop()
        if self.hub_running:
            self.hub.stop()

    @contextmanager
    def api(self) -> Iterator[TestClient]:
        with TestClient(create_app(self.hub.api)) as client:
            yield client

    def pending_pass_versions(self) -> int:
        with self.hub.engine.connect() as conn:
            return int(
                conn.scalar(
                    select(func.count())
                    .select_from(pass_outbox)
                    .where(pass_outbox.c.edge_id == self.edge_id, pass_outbox.c.acked_at.is_(None))
                )
                or 0
            )

    def synced(self) -> None:
        """Every pass list version the hub issued for the edge is acknowledged by it."""
        self.hub.sync_passes()
        wait_until(lambda: self.pending_pass_versions() == 0, what="the edge's pass_ack")

    def present(self, kind: CredentialKind, value: str, gate: str = "north") -> Any:
        return self.agent.present_credential(gate, kind, value, PassageDirection.IN)


@pytest.fixture
def site(tmp_path: Path, broker: Mosquitto, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    made = Site(tmp_path, broker, monkeypatch)
    yield made
    made.stop()


def issue(client: TestClient, headers: dict[str, str], **over: Any) -> dict[str, Any]:
    now = utc_now()
    body = {
        "house_id": "HA1",
        "visitor_name": "王小红",
        "display_name": "王女士",
        "valid_from": (now - HOUR).isoformat(),
        "valid_until": (now + 4 * HOUR).isoformat(),
        **over,
    }
    answer = client.post("/api/v1/passes", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    issued: dict[str, Any] = answer.json()
    return issued


def test_a_hub_pass_opens_in_its_window_until_used_up_or_revoked(site: Site) -> None:
    site.start_hub()
    site.start_edge()
    site.synced()  # a newly registered edge gets its (empty) full list first
    with site.api() as client:
        staff = login(client, site.seeded.users["admin_a"])
        live = issue(client, staff, max_uses=2)
        later = utc_now() + 2 * HOUR
        soon = issue(
            client,
            staff,
            visitor_name="李四",
            valid_from=later.isoformat(),
            valid_until=(later + HOUR).isoformat(),
        )
        gone = issue(client, staff, visitor_name="赵五")
        site.synced()
        first = site.present(CredentialKind.PIN, live["pin"])
        assert (first.decision, first.subject, first.house_id) == (
            Decision.GRANT,
            SubjectKind.VISITOR,
            "HA1",
        )
        assert first.pass_id == live["visitor_pass"]["pass_id"]
        assert site.present(CredentialKind.QR, live["qr"]).decision is Decision.GRANT
        used_up = site.present(CredentialKind.QR, live["qr"])
        assert (used_up.decision, used_up.reason) == (Decision.DENY, "pass used up")
        outside = site.present(CredentialKind.PIN, soon["pin"])
        assert (outside.decision, outside.reason) == (Decision.DENY, "pass not yet valid")
        assert site.present(CredentialKind.PIN, gone["pin"]).decision is Decision.GRANT
        revoked = client.post(
            f"/api/v1/passes/{gone['visitor_pass']['pass_id']}/revoke",
            json={"reason": "访客取消"},
            headers=staff,
        )
        assert revoked.status_code == 200
        site.synced()
        after = site.present(CredentialKind.PIN, gone["pin"])
        assert (after.decision, after.reason) == (Decision.DENY, "pass revoked")
    assert len(site.north.openings) == 3


def test_a_walk_in_registered_with_the_hub_down_opens_and_reaches_the_hub(site: Site) -> None:
    site.start_edge()  # the hub is not running
    site.agent.handle_command(roster(site.edge_id, 1, [resident("RA1", "HA1", card="c-1")]))
    slip = site.agent.guard_room.register(
        WalkInRequest("赵六", "13700000000", "HA1", "送货", 2), "guard-li"
    )
    admitted = site.present(CredentialKind.PIN, slip.pin)
    assert (admitted.decision, admitted.pass_id) == (Decision.GRANT, slip.stored.pass_id)
    assert site.agent.passes.pending_walk_ins() != []
    site.start_hub()

    def stored() -> hub_passes.PassRecord | None:
        with site.hub.engine.connect() as conn:
            return hub_passes.get_pass(conn, slip.stored.pass_id)

    wait_until(lambda: stored() is not None, what="the walk-in at the hub", timeout=30)
    record = stored()
    assert record is not None
    assert (record.visitor_name, record.phone, record.origin.value, record.edge_id) == (
        "赵六",
        "13700000000",
        "guard_room",
        site.edge_id,
    )
    # The hub lists it back to the edge, which stops keeping it pending.
    site.synced()
    wait_until(lambda: site.agent.passes.pending_walk_ins() == [], what="the walk-in acknowledged")
    with site.api() as client:
        staff = login(client, site.seeded.users["admin_a"])
        listed = client.get("/api/v1/houses/HA1/passes?when=today", headers=staff).json()
    assert [(p["visitor_name"], p["origin"]) for p in listed] == [("赵六", "guard_room")]


def test_forced_held_and_duress_become_alarms_on_the_console(site: Site) -> None:
    site.start_hub()
    site.start_edge()
    site.synced()
    assert site.agent.http is not None
    port = site.agent.http.port
    door = {"gate": "north", "lane": 0}
    with site.api() as client:
        staff = login(client, site.seeded.users["admin_a"])
        visitor = issue(client, staff)
        site.synced()
        post(port, "/door", {**door, "state": "closed"})  # the first report sets the state
        post(port, "/door", {**door, "state": "open"})  # with no grant: forced
        post(port, "/door", {**door, "state": "closed"})
        assert site.present(CredentialKind.PIN, visitor["pin"]).decision is Decision.GRANT
        post(port, "/door", {**door, "state": "open"})  # granted, then left open: held
        wait_until(lambda: site.agent.door_service.status()[0].held_alarm is not None, timeout=10)
        post(port, "/door", {**door, "state": "closed"})
        pin = visitor["pin"]
        duress_pin = pin[:-1] + str((int(pin[-1]) + 1) % 10)
        opened = site.present(CredentialKind.PIN, duress_pin)
        assert opened.decision is Decision.GRANT  # the door opens as usual

        def kinds() -> dict[str, Any]:
            with site.hub.engine.connect() as conn:
                return {str(r.kind): r for r in conn.execute(select(door_alarms))}

        wait_until(
            lambda: (
                {"forced_open", "held_open", "duress"} <= set(kinds())
                and kinds()["held_open"].cleared_at is not None
            ),
            what="the three alarms at the hub",
        )
        alarms = kinds()
        assert alarms["duress"].priority == 0
        assert alarms["duress"].silent
        assert alarms["duress"].pass_id == visitor["visitor_pass"]["pass_id"]
        page_login(client, site.seeded.users["admin_a"])
        console = client.get("/dashboard").text
        for words in ("门被强行打开", "门长时间未关", "胁迫开门", "王女士"):
            assert words in console


def _next_local(hour: int, minute: int) -> datetime:
    now = utc_now().astimezone(SHANGHAI)
    moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if moment <= now:
        moment += timedelta(days=1)
    return moment.astimezone(UTC)


def test_a_scheduled_gate_refuses_at_night_and_remote_unlock_is_audited(site: Site) -> None:
    site.start_hub()
    site.start_edge()
    site.synced()
    with site.api() as client:
        staff = login(client, site.seeded.users["admin_a"])
        now = utc_now()
        carer = issue(
            client,
            staff,
            kind="carer",
            visitor_name="孙阿姨",
            valid_from=(now - HOUR).isoformat(),
            valid_until=(now + timedelta(days=3)).isoformat(),
        )
        site.synced()
        night, day = _next_local(23, 30), _next_local(10, 0)
        policy = site.agent.policy
        at_night = policy.for_credential(CredentialKind.PIN, carer["pin"], "side", night)
        assert (at_night.granted, at_night.reason) == (
            False,
            "outside the pass's hours: gate_closed",
        )
        assert policy.for_credential(CredentialKind.PIN, carer["pin"], "side", day).granted
        assert policy.for_credential(CredentialKind.PIN, carer["pin"], "north", night).granted

        before = len(site.north.openings)
        body = {"edge_id": site.edge_id, "gate": "north", "reason": "业主忘带门卡"}
        worker = login(client, site.seeded.users["worker_a1"])
        assert client.post("/api/v1/doors/unlock", json=body, headers=worker).status_code == 403
        sent = client.post("/api/v1/doors/unlock", json=body, headers=staff)
        assert sent.status_code == 202, sent.text
        command_id = sent.json()["command_id"]
        wait_until(lambda: len(site.north.openings) == before + 1, what="the remote unlock")

        def door_audit() -> list[tuple[str, str]]:
            with site.hub.engine.connect() as conn:
                rows = conn.execute(
                    select(audit_log.c.actor, audit_log.c.detail)
                    .where(audit_log.c.object_type == "door")
                    .order_by(audit_log.c.pk)
                ).all()
            return [(str(a), str(d)) for a, d in rows]

        wait_until(lambda: len(door_audit()) == 2, what="the edge's door_release audited")
        (asked, reported) = door_audit()
        assert asked[0].startswith("community_admin:")
        assert command_id in asked[1]
        assert reported[0] == f"edge:{site.edge_id}"
        assert command_id in reported[1]
        assert "opened" in reported[1]
        assert "业主忘带门卡" in reported[1]
