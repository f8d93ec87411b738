"""An edge agent and a hub exchange events through a real Mosquitto."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from edge_agent.config import EdgeConfig
from edge_agent.runtime import EdgeAgent
from edge_agent.store.events import EventStore
from edge_agent.store.rows import Passage
from gridgate_core.mqtt import LinkSettings, MqttLink
from gridgate_wire import (
    Channel,
    Decision,
    PassageDirection,
    PassageMethod,
    SubjectKind,
    encode,
    utc_now,
)
from gridgate_wire.topics import edge_topic
from hub.config import HubConfig
from hub.runtime import HubService
from hub.store.schema import dead_letters, edge_messages, edges
from tests.brokers import Mosquitto
from tests.waiting import wait_until


def edge_config(tmp_path: Path, broker: Mosquitto, edge_id: str = "edge-1") -> EdgeConfig:
    return EdgeConfig.model_validate(
        {
            "edge_id": edge_id,
            "compound_id": "c1",
            "data_dir": str(tmp_path / edge_id),
            "mqtt": {"port": broker.port, "reconnect_max_s": 0.5},
            "outbox": {"ack_timeout_s": 2},
            "status_interval_s": 1,
            "face_recognition": False,
            "http": {"port": 0},
        }
    )


def hub_config(tmp_path: Path, broker: Mosquitto, instance: str = "hub") -> HubConfig:
    # Unique ids: a stopped hub's persistent session stays in the shared group on the session
    # broker and would be handed its share of later tests' messages.
    return HubConfig.model_validate(
        {
            "api": {"enabled": False},
            "ingest": {"unregistered_edges": "accept_events"},  # no registry here
            "instance_id": f"{instance}-{uuid.uuid4().hex[:8]}",
            "database": {"url": f"sqlite:///{tmp_path}/hub.sqlite3"},
            "mqtt": {"port": broker.port, "reconnect_max_s": 0.5},
        }
    )


def passage(agent: EdgeAgent, i: int) -> None:
    agent.recorder.record(
        Passage(
            occurred_at=utc_now(),
            gate="north",
            direction=PassageDirection.IN,
            method=PassageMethod.CARD,
            subject=SubjectKind.RESIDENT,
            resident_id=f"R{i}",
            decision=Decision.GRANT,
        )
    )


def count(hub: HubService, table: object) -> int:
    with hub.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


def test_events_reach_hub_once_and_outbox_drains(tmp_path: Path, broker: Mosquitto) -> None:
    hub = HubService(hub_config(tmp_path, broker))
    agent = EdgeAgent(edge_config(tmp_path, broker))
    hub.start()
    hub.link.wait_connected(10)
    agent.start()
    try:
        agent.link.wait_connected(10)
        for i in range(300):
            passage(agent, i)
        wait_until(lambda: agent.store.outbox_depth() == 0)
        assert count(hub, edge_messages) == 300
        with hub.engine.connect() as conn:
            seqs = list(conn.scalars(select(edge_messages.c.seq).order_by(edge_messages.c.seq)))
            assert seqs == list(range(1, 301))
            wait_until(lambda: _edge_state(hub) == "online")
            row = conn.execute(select(edges).where(edges.c.edge_id == "edge-1")).one()
            assert row.max_seq == 300
            assert row.received == 300
    finally:
        agent.stop()
    wait_until(lambda: _edge_state(hub) == "offline")
    hub.stop()


def _edge_state(hub: HubService, edge_id: str = "edge-1") -> str:
    with hub.engine.connect() as conn:
        return str(conn.scalar(select(edges.c.state).where(edges.c.edge_id == edge_id)))


def test_edge_buffers_while_broker_is_down(tmp_path: Path, own_broker: Mosquitto) -> None:
    hub = HubService(hub_config(tmp_path, own_broker))
    agent = EdgeAgent(edge_config(tmp_path, own_broker))
    hub.start()
    agent.start()
    try:
        agent.link.wait_connected(10)
        hub.link.wait_connected(10)
        for i in range(50):
            passage(agent, i)
        own_broker.stop()
        for i in range(50, 250):
            passage(agent, i)
        assert agent.store.outbox_depth() >= 200
        own_broker.start()
        wait_until(lambda: agent.store.outbox_depth() == 0, timeout=40)
        assert count(hub, edge_messages) == 250
        with hub.engine.connect() as conn:
            arrival = list(conn.scalars(select(edge_messages.c.seq).order_by(edge_messages.c.pk)))
        assert arrival == list(range(1, 251))  # exactly once, in sequence order
    finally:
        agent.stop()
        hub.stop()


def test_duplicates_and_garbage(tmp_path: Path, broker: Mosquitto) -> None:
    hub = HubService(hub_config(tmp_path, broker, "hub-dup"))
    hub.start()
    hub.link.wait_connected(10)
    store = EventStore(tmp_path / "dup.sqlite3", "edge-dup")
    event = store.append_passage(
        Passage(
            occurred_at=utc_now(),
            gate="g",
            direction=PassageDirection.IN,
            method=PassageMethod.PIN,
            subject=SubjectKind.RESIDENT,
            resident_id="R1",
            decision=Decision.GRANT,
        )
    )
    store.close()
    raw = LinkSettings(host="127.0.0.1", port=broker.port, client_id="raw-sender")
    sender = MqttLink(raw)
    sender.start()
    sender.wait_connected(10)
    topic = edge_topic("edge-dup", Channel.EVENT)
    payload = encode(event)
    try:
        for _ in range(3):
            assert sender.publish(topic, payload).wait(10)
        junk = [b"{", b"[]", json.dumps({"type": "edge_event", "v": 9}).encode(), b"x" * 70_000]
        for body in junk:
            assert sender.publish(topic, body).wait(10)
        assert sender.publish(edge_topic("someone-else", Channel.EVENT), payload).wait(10)
        wait_until(lambda: hub.ingestor.stats.dead_letters == len(junk) + 1)
        assert count(hub, dead_letters) == len(junk) + 1, count(hub, dead_letters)
        assert count(hub, edge_messages) == 1
        wait_until(lambda: hub.ingestor.stats.acked_deliveries == 3)
    finally:
        sender.stop()
        hub.stop()


@pytest.mark.parametrize("n_hubs", [2])
def test_shared_subscription_splits_without_loss(
    tmp_path: Path, broker: Mosquitto, n_hubs: int
) -> None:
    cfg = hub_config(tmp_path, broker)
    hubs = [
        HubService(cfg.model_copy(update={"instance_id": f"{cfg.instance_id}-{i}"}))
        for i in range(n_hubs)
    ]
    for h in hubs:
        h.start()
    for h in hubs:
        h.link.wait_connected(10)
    agent = EdgeAgent(edge_config(tmp_path, broker, "edge-share"))
    agent.start()
    try:
        agent.link.wait_connected(10)
        for i in range(1000):
            passage(agent, i)
        wait_until(lambda: agent.store.outbox_depth() == 0, timeout=60)
        assert count(hubs[0], edge_messages) == 1000
        assert all(h.ingestor.stats.stored > 0 for h in hubs)
        assert sum(h.ingestor.stats.stored for h in hubs) == 1000
    finally:
        agent.stop()
        for h in hubs:
            h.stop()
