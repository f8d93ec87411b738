"""Production-like mode: Mosquitto with TLS, per-edge credentials and the repository's ACL,
PostgreSQL, two hub processes; and the broker refusing an edge that impersonates another."""

from __future__ import annotations

import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from edge_agent.runtime import EdgeAgent
from gridgate_devkit.localbroker import LocalMosquitto
from gridgate_wire import (
    Channel,
    EdgeEvent,
    edge_topic,
    encode,
    hub_topic,
    new_fields,
    utc_now,
)
from hub.runtime import HubService
from hub.store.schema import dead_letters, edge_messages
from hub.sync import queue_full
from hub.tasks import Outbound
from tests.edge_helpers import card_passage, edge_config
from tests.hub_helpers import hub_config, seed
from tests.pki import Pki, make_pki
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parent.parent
ACL = REPO / "configs" / "mosquitto.acl.example"
PASSWORDS = {"hub": "hub-secret-1", "edge-A": "edge-a-secret", "edge-B": "edge-b-secret"}


@pytest.fixture
def secure_broker(tmp_path: Path) -> Iterator[tuple[LocalMosquitto, Pki]]:
    pki = make_pki(tmp_path / "pki")
    passwd = tmp_path / "passwd"
    for index, (user, password) in enumerate(PASSWORDS.items()):
        flags = ["-c"] if index == 0 else []
        subprocess.run(["mosquitto_passwd", *flags, "-b", str(passwd), user, password], check=True)
    broker = LocalMosquitto(
        tmp_path / "broker",
        extra="\n".join(
            [
                f"cafile {pki.ca}",
                f"certfile {pki.cert}",
                f"keyfile {pki.key}",
                f"password_file {passwd}",
                f"acl_file {ACL}",
            ]
        ),
        allow_anonymous=False,
    )
    broker.start()
    yield broker, pki
    broker.stop()


def secure_mqtt(broker: LocalMosquitto, pki: Pki, user: str) -> dict[str, Any]:
    return {
        "port": broker.port,
        "username": user,
        "password_secret": f"{user.replace('-', '_').lower()}_mqtt",
        "tls": {"ca_file": str(pki.ca)},
        "reconnect_max_s": 0.5,
    }


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for user, password in PASSWORDS.items():
        monkeypatch.setenv(f"GRIDGATE_{user.replace('-', '_').upper()}_MQTT", password)


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.usefixtures("credentials")
def test_tls_acl_postgresql_two_hubs(
    tmp_path: Path, secure_broker: tuple[LocalMosquitto, Pki], database_url: str
) -> None:
    broker, pki = secure_broker
    hubs = [
        HubService(hub_config(database_url, mqtt=secure_mqtt(broker, pki, "hub"))) for _ in range(2)
    ]
    seed(hubs[0].engine, edge_a="edge-A", edge_b="edge-B")
    agent = EdgeAgent(
        edge_config(tmp_path, None, edge_id="edge-A", mqtt=secure_mqtt(broker, pki, "edge-A"))
    )
    for hub in hubs:
        hub.start()
    agent.start()
    try:
        for hub in hubs:
            hub.link.wait_connected(10)
        agent.link.wait_connected(10)
        for n in range(300):
            card_passage(agent, n, "RA1")
        wait_until(lambda: _count(hubs[0], "edge-A", "edge_event") == 300, timeout=60)
        wait_until(lambda: agent.store.outbox_depth() == 0, timeout=30)
        # A roster from the hub reaches the edge through the ACL, and its ack comes back.
        out = Outbound()
        with hubs[0].engine.begin() as conn:
            out.to_edges.append(queue_full(conn, "edge-A"))
        hubs[0].publish(out)
        wait_until(lambda: agent.roster.version >= 1)
        wait_until(lambda: _count(hubs[0], "edge-A", "roster_ack") == 1)
        # The shared subscription split the load: each hub stored a share, and together exactly
        # the 301 messages, each once (a redelivery to the other hub counts as a duplicate).
        wait_until(
            lambda: sum(h.ingestor.stats.stored for h in hubs) >= 301, what="the hubs counting"
        )
        shares = [h.ingestor.stats.stored for h in hubs]
        assert all(share > 0 for share in shares), f"one hub took everything: {shares}"
        assert sum(shares) == 301
        with hubs[0].engine.connect() as conn:
            rows = conn.scalar(select(func.count()).select_from(edge_messages))
            ids = conn.scalar(select(func.count(edge_messages.c.msg_id.distinct())))
        assert rows == ids == 301
    finally:
        agent.stop()
        for hub in hubs:
            hub.stop()


def _count(hub: HubService, edge_id: str, kind: str) -> int:
    with hub.engine.connect() as conn:
        return int(
            conn.scalar(
                select(func.count())
                .select_from(edge_messages)
                .where(edge_messages.c.edge_id == edge_id, edge_messages.c.kind == kind)
            )
            or 0
        )


class RawClient:
    """A paho v5 client that records reason codes, to see what the broker refuses."""

    def __init__(self, broker: LocalMosquitto, pki: Pki, user: str | None, password: str) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"raw-{user}-{uuid.uuid4().hex[:6]}",
            protocol=mqtt.MQTTv5,
        )
        if user is not None:
            self.client.username_pw_set(user, password)
        self.client.tls_set(ca_certs=str(pki.ca))
        self.connack: Any = None
        self.subacks: list[Any] = []
        self.pubacks: dict[int, Any] = {}
        self.messages: list[str] = []
        self.event = threading.Event()
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda _c, _u, _mid, codes, _p: self.subacks.extend(codes)
        self.client.on_publish = lambda _c, _u, mid, code, _p: self.pubacks.__setitem__(mid, code)
        self.client.on_message = lambda _c, _u, msg: self.messages.append(msg.topic)
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def _on_connect(self, _c: Any, _u: Any, _flags: Any, code: Any, _p: Any) -> None:
        self.connack = code
        self.event.set()

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def event_for(edge_id: str, seq: int) -> bytes:
    return encode(
        EdgeEvent.model_validate(
            {
                **new_fields(),
                "edge_id": edge_id,
                "seq": seq,
                "occurred_at": utc_now(),
                "gate": "north",
                "direction": "in",
                "method": "card",
                "subject": "resident",
                # Each edge names its own compound's resident (the hub refuses others').
                "resident_id": "RA1" if edge_id == "edge-A" else "RB1",
                "decision": "grant",
            }
        )
    )


@pytest.mark.usefixtures("credentials")
def test_edge_cannot_publish_as_another_edge_or_read_its_commands(
    tmp_path: Path, secure_broker: tuple[LocalMosquitto, Pki]
) -> None:
    broker, pki = secure_broker
    hub = HubService(
        hub_config(f"sqlite:///{tmp_path}/hub.sqlite3", mqtt=secure_mqtt(broker, pki, "hub"))
    )
    seed(hub.engine, edge_a="edge-A", edge_b="edge-B")
    hub.start()
    intruder = RawClient(broker, pki, "edge-A", PASSWORDS["edge-A"])
    anonymous = RawClient(broker, pki, None, "")
    wrong = RawClient(broker, pki, "edge-B", "not-the-password")
    try:
        hub.link.wait_connected(10)
        assert intruder.event.wait(10)
        assert not intruder.connack.is_failure
        for client in (anonymous, wrong):
            assert client.event.wait(10)
            assert client.connack.is_failure  # not authorised / bad user name or password
        # Reading another edge's commands: Mosquitto 2.0 may grant the SUBACK but delivers
        # nothing the ACL does not let this user read (checked below, with a control).
        intruder.client.subscribe(hub_topic("edge-B", Channel.ROSTER), qos=1)
        intruder.client.subscribe(hub_topic("edge-A", Channel.ROSTER), qos=1)
        wait_until(lambda: len(intruder.subacks) == 2)
        # Publishing as another edge: refused (PUBACK "not authorized"), nothing reaches the hub.
        info = intruder.client.publish(
            edge_topic("edge-B", Channel.EVENT), event_for("edge-B", 1), qos=1
        )
        wait_until(lambda: info.mid in intruder.pubacks)
        assert intruder.pubacks[info.mid].is_failure
        # Its own topic still works: once that message is stored, the forged one would have been.
        own = intruder.client.publish(
            edge_topic("edge-A", Channel.EVENT), event_for("edge-A", 1), qos=1
        )
        wait_until(lambda: own.mid in intruder.pubacks)
        wait_until(lambda: _count(hub, "edge-A", "edge_event") == 1)
        # A command for edge-B published by the hub does not reach edge-A; edge-A's own does.
        out = Outbound()
        with hub.engine.begin() as conn:
            out.to_edges.append(queue_full(conn, "edge-B"))
            out.to_edges.append(queue_full(conn, "edge-A"))
        hub.publish(out)
        # The hub published edge-B's command first on its one connection and Mosquitto forwards
        # in order: had the ACL let it through, it would have arrived before edge-A's own.
        wait_until(lambda: hub_topic("edge-A", Channel.ROSTER) in intruder.messages)
        assert intruder.messages == [hub_topic("edge-A", Channel.ROSTER)]
        assert _count(hub, "edge-B", "edge_event") == 0
        with hub.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(dead_letters)) == 0
    finally:
        for client in (intruder, anonymous, wrong):
            client.stop()
        hub.stop()
