"""The edge agent on real parts: a video-file camera of real faces, roster sync over a real
Mosquitto, erasure with confirmation, credentials over HTTP, enrolment by one-time code."""

from __future__ import annotations

import json
import threading
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge_agent.runtime import EdgeAgent
from edge_agent.vision.types import read_image
from gridgate_core.mqtt import Incoming, LinkSettings, MqttLink
from gridgate_devkit.evaluation import list_dataset
from gridgate_devkit.sim.gateclip import plan_clip
from gridgate_wire import (
    Channel,
    CredentialKind,
    ErasureCommand,
    decode_from_topic,
    edge_subscription,
    edge_topic,
    encode,
    hub_topic,
    new_fields,
)
from tests.brokers import Mosquitto
from tests.conftest import LFW, need_shared
from tests.doubles import RecordingActuator
from tests.edge_helpers import edge_config, write_clip
from tests.roster_builders import invitation, resident, roster
from tests.waiting import wait_until


def photos_by_person(minimum: int = 7) -> dict[str, list[Path]]:
    need_shared(LFW)
    people: dict[str, list[Path]] = {}
    for name, path in list_dataset(LFW):
        people.setdefault(name, []).append(path)
    return {n: p for n, p in sorted(people.items()) if len(p) >= minimum}


def post(port: int, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=data,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - loopback test
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


_PROBE = b"probe"


class HubProbe:
    """A stand-in hub: collects what the edge sends and can send it commands."""

    def __init__(self, broker: Mosquitto, name: str) -> None:
        self.name = name
        self.messages: list[Any] = []
        self._probed = threading.Event()
        subs = [
            (edge_subscription(ch), 1)
            for ch in Channel
            if ch.value in {"event", "roster_ack", "erasure", "enrolment", "status"}
        ]
        self.link = MqttLink(
            LinkSettings(host="127.0.0.1", port=broker.port, client_id=name, subscriptions=subs),
            on_message=self._collect,
        )
        self.link.start()
        self.link.wait_connected(10)
        wait_until(self._listening, timeout=10, what="the probe's subscriptions")

    def _listening(self) -> bool:
        # A message sent before the subscriptions are active would be lost: probe them (one
        # SUBSCRIBE carries them all, so one answered probe proves every one).
        if not self._probed.is_set():
            self.link.publish(edge_topic(self.name, Channel.STATUS), _PROBE, qos=0)
        return self._probed.is_set()

    def online(self, edge_id: str) -> bool:
        """The edge's own status arrived: it was published after the edge subscribed, on the
        same connection, so commands sent now reach it."""
        return any(s.edge_id == edge_id and s.state == "online" for s in self.of("edge_status"))

    def _collect(self, incoming: Incoming) -> None:
        if incoming.payload == _PROBE:
            self._probed.set()
            return
        self.messages.append(decode_from_topic(incoming.topic, incoming.payload))

    def of(self, kind: str) -> list[Any]:
        return [m for m in self.messages if kind == m.KIND]

    def send(self, edge_id: str, channel: Channel, message: Any) -> None:
        assert self.link.publish(hub_topic(edge_id, channel), encode(message)).wait(10)

    def stop(self) -> None:
        self.link.stop()


@pytest.mark.slow
def test_video_file_camera_grants_residents_and_denies_strangers(
    tmp_path: Path, models_dir: Path
) -> None:
    people = photos_by_person()
    names = list(people)[:6]
    enrolled, no_access, strangers = names[:3], names[3], names[4:]
    plan = plan_clip([(n, people[n][0]) for n in names], seed=5, pair_every=0, idle_frames=20)
    clip = write_clip(plan, tmp_path / "gate.avi")
    camera = {
        "camera_id": "cam1",
        "source": str(clip),
        "gate": "north",
        "direction": "in",
        "realtime": False,
        "fps_cap": 10,
    }
    agent = EdgeAgent(edge_config(tmp_path, None, models_dir, cameras=[camera]))
    assert agent.face is not None, agent.face_problem
    door = RecordingActuator()
    agent.doors["north"] = door  # the camera's gate
    residents = [resident(f"R-{n}", f"H-{i}") for i, n in enumerate([*enrolled, no_access])]
    residents[-1] = resident(f"R-{no_access}", "H-9", gates=["south"])
    agent.handle_command(roster("edge-t", 1, residents))
    for n in [*enrolled, no_access]:
        frames = [read_image(p) for p in people[n][1:7]]
        agent.face.enroller.enrol(f"R-{n}", "H", f"C-R-{n}", frames)
    agent.start()
    try:
        wait_until(lambda: agent.workers["cam1"].idle(), timeout=240)
    finally:
        agent.stop()
    reopened = EdgeAgent(edge_config(tmp_path, None, models_dir))
    events = [e for e in reopened.store.events_after(0) if e.method == "face"]
    reopened.stop()
    by_person: dict[str, list[Any]] = {}
    for e in events:
        by_person.setdefault(e.resident_id or e.stranger_id or "?", []).append(e)
    for n in enrolled:
        assert [e.decision for e in by_person[f"R-{n}"]] == ["grant"], n
    assert [e.reason for e in by_person[f"R-{no_access}"]] == ["no access at this gate"]
    stranger_events = [e for e in events if e.subject == "stranger"]
    assert len(stranger_events) == len(strangers)
    assert all(e.decision == "deny" and e.stranger_id for e in stranger_events)
    assert len({e.stranger_id for e in stranger_events}) == len(strangers)
    assert len(door.openings) == len(enrolled)
    assert all(e.direction == "in" for e in events)


def test_roster_update_and_erasure_round_trip(
    tmp_path: Path, broker: Mosquitto, models_dir: Path
) -> None:
    edge_id = "edge-rt"
    agent = EdgeAgent(edge_config(tmp_path, broker, models_dir, edge_id=edge_id))
    assert agent.face is not None
    hub = HubProbe(broker, "probe-rt")
    agent.start()
    try:
        agent.link.wait_connected(10)
        wait_until(lambda: hub.online(edge_id), timeout=10, what="the edge's subscriptions")
        hub.send(
            edge_id,
            Channel.ROSTER,
            roster(
                edge_id,
                1,
                [resident("R1", "H1", card="card-1"), resident("R2", "H2"), resident("R3", "H3")],
            ),
        )
        wait_until(lambda: [a.roster_version for a in hub.of("roster_ack")] == [1])
        assert hub.of("roster_ack")[0].applied
        rng = np.random.default_rng(0)
        for rid in ("R1", "R2", "R3"):
            v = rng.standard_normal((3, agent.face.engine.info.dimension)).astype(np.float32)
            agent.face.gallery.add_templates(
                rid, "H", f"C-{rid}", list(v / np.linalg.norm(v, axis=1, keepdims=True))
            )
        # Consent withdrawn for R1 (the roster no longer carries it) and R2 removed.
        hub.send(
            edge_id,
            Channel.ROSTER,
            roster(
                edge_id,
                2,
                [resident("R1", "H1", consent=False, card="card-1")],
                removed=["R2"],
                base=1,
            ),
        )
        wait_until(lambda: len(hub.of("erasure_confirmation")) == 2)
        confirmations = {c.resident_id: c for c in hub.of("erasure_confirmation")}
        assert confirmations["R1"].templates_deleted == 3
        assert confirmations["R2"].templates_deleted == 3
        assert not agent.face.gallery.has("R1")
        # A hub erasure command for R3 names its id in the confirmation.
        command = ErasureCommand(
            **new_fields(), edge_id=edge_id, resident_id="R3", reason="requested"
        )
        hub.send(edge_id, Channel.ERASE, command)
        wait_until(lambda: len(hub.of("erasure_confirmation")) == 3)
        assert hub.of("erasure_confirmation")[-1].erasure_id == command.id
        # A delta on the wrong base is refused, not half-applied.
        hub.send(edge_id, Channel.ROSTER, roster(edge_id, 9, [], base=5))
        wait_until(lambda: len(hub.of("roster_ack")) == 3)
        assert not hub.of("roster_ack")[-1].applied
        # R1 declined face recognition but still gets in with a card: same event type.
        event = agent.present_credential("north", CredentialKind.CARD, "card-1")
        assert event.decision.value == "grant"
        assert event.method.value == "card"
        wait_until(lambda: any(e.id == event.id for e in hub.of("edge_event")))
    finally:
        agent.stop()
        hub.stop()
    # The saved store no longer holds them either.
    reopened = EdgeAgent(edge_config(tmp_path, broker, models_dir, edge_id=edge_id))
    assert reopened.face is not None
    assert reopened.face.gallery.resident_count == 0
    reopened.stop()


def test_credentials_over_http(tmp_path: Path) -> None:
    agent = EdgeAgent(edge_config(tmp_path, None))
    agent.handle_command(
        roster(
            "edge-t",
            1,
            [
                resident("R1", "H1", card="1234567890", pin="4321"),
                resident("R2", "H2", card="555", gates=["south"]),
            ],
        )
    )
    door = RecordingActuator()
    agent.doors["north"] = door
    agent.start()
    assert agent.http is not None
    port = agent.http.port
    try:
        assert (
            post(port, "/credential", {"gate": "north", "kind": "card", "value": "1234567890"})[1][
                "decision"
            ]
            == "grant"
        )
        assert (
            post(
                port,
                "/credential",
                {"gate": "north", "kind": "pin", "value": "4321", "direction": "out"},
            )[1]["decision"]
            == "grant"
        )
        assert (
            post(port, "/credential", {"gate": "north", "kind": "card", "value": "555"})[1][
                "reason"
            ]
            == "no access at this gate"
        )
        assert (
            post(port, "/credential", {"gate": "north", "kind": "qr", "value": "nope"})[1][
                "decision"
            ]
            == "deny"
        )
        assert (
            post(port, "/credential", {"gate": "north", "kind": "retina", "value": "x"})[0] == 400
        )
        assert len(door.openings) == 2
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as reply:
            health = json.loads(reply.read())
        assert health["face_recognition"] is False
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
            text = reply.read().decode()
        assert 'gridgate_events_total{decision="grant",method="card"} 1.0' in text
        # PIN guessing is slowed down: after ten refusals, 429.
        codes = [
            post(port, "/credential", {"gate": "north", "kind": "pin", "value": f"{i:04d}"})[0]
            for i in range(12)
        ]
        assert 429 in codes
    finally:
        agent.stop()
    reopened = EdgeAgent(edge_config(tmp_path, None))
    methods = [(e.method, e.direction, e.decision) for e in reopened.store.events_after(0)][:4]
    reopened.stop()
    assert methods == [
        ("card", "in", "grant"),
        ("pin", "out", "grant"),
        ("card", "in", "deny"),
        ("qr", "in", "deny"),
    ]


@pytest.mark.slow
def test_enrolment_by_code_at_a_kiosk_camera(
    tmp_path: Path, broker: Mosquitto, models_dir: Path
) -> None:
    people = photos_by_person()
    name = list(people)[7]
    plan = plan_clip([(name, people[name][1])], seed=2, frames_per_passage=40, idle_frames=0)
    clip = write_clip(plan, tmp_path / "kiosk.avi")
    camera = {
        "camera_id": "kiosk",
        "source": str(clip),
        "gate": "north",
        "loop": True,
        "realtime": True,
        "fps_cap": 20,
    }
    edge_id = "edge-en"
    agent = EdgeAgent(edge_config(tmp_path, broker, models_dir, cameras=[camera], edge_id=edge_id))
    hub = HubProbe(broker, "probe-en")
    agent.handle_command(roster(edge_id, 1, [resident("R-new", "H-7")]))
    agent.handle_command(invitation(edge_id, "R-new", "428-117"))
    agent.handle_command(invitation(edge_id, "R-new", "999-000", days=-1))
    agent.start()
    assert agent.http is not None
    try:
        status, reply = post(agent.http.port, "/enrol", {"code": "428-117", "camera": "kiosk"})
        assert status == 200, reply
        assert agent.face is not None
        assert len(agent.face.gallery.templates_of("R-new")) >= 3
        assert (
            post(agent.http.port, "/enrol", {"code": "428-117", "camera": "kiosk"})[1]["reason"]
            == "code already used"
        )
        assert (
            post(agent.http.port, "/enrol", {"code": "999-000", "camera": "kiosk"})[1]["reason"]
            == "code expired"
        )
        wait_until(lambda: len(hub.of("enrolment_confirmation")) == 1)
        confirmation = hub.of("enrolment_confirmation")[0]
        assert confirmation.status.value == "enrolled"
        assert confirmation.templates >= 3
        assert confirmation.consent_id == "C-R-new"
    finally:
        agent.stop()
        hub.stop()
