"""Roster versions re-sent until the edge acknowledges; two hub processes sharing the load."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from gridgate_core.mqtt import Incoming, LinkSettings, MqttLink
from gridgate_wire import (
    Channel,
    EdgeEvent,
    RosterAck,
    RosterUpdate,
    decode_from_topic,
    edge_topic,
    encode,
    hub_topic,
    new_fields,
    utc_now,
)
from hub.runtime import HubService
from hub.store.schema import edge_messages, residents
from hub.sync import pending_count, queue_resident_change
from hub.tasks import Outbound
from tests.brokers import Mosquitto
from tests.hub_helpers import hub_config, seed
from tests.waiting import wait_until


class FakeEdge:
    """An edge as the hub sees it on the wire: receives commands, sends numbered messages."""

    def __init__(self, broker: Mosquitto, edge_id: str) -> None:
        self.edge_id = edge_id
        self.seq = 0
        self.received: list[Any] = []
        self._lock = threading.Lock()
        self.link = MqttLink(
            LinkSettings(
                host="127.0.0.1",
                port=broker.port,
                client_id=f"fake-{edge_id}",
                subscriptions=[(hub_topic(edge_id, Channel.ROSTER), 1)],
            ),
            on_message=self._on_message,
        )
        self.link.start()
        self.link.wait_connected(10)

    def _on_message(self, incoming: Incoming) -> None:
        with self._lock:
            self.received.append(decode_from_topic(incoming.topic, incoming.payload))

    def rosters(self) -> list[RosterUpdate]:
        with self._lock:
            return [m for m in self.received if isinstance(m, RosterUpdate)]

    def send(self, channel: Channel, message: Any) -> None:
        assert self.link.publish(edge_topic(self.edge_id, channel), encode(message)).wait(10)

    def ack(self, version: int, applied: bool = True, error: str = "") -> None:
        self.seq += 1
        self.send(
            Channel.ROSTER_ACK,
            RosterAck(
                **new_fields(),
                edge_id=self.edge_id,
                seq=self.seq,
                roster_version=version,
                applied=applied,
                error=error,
            ),
        )

    def stop(self) -> None:
        self.link.stop()


def test_roster_versions_resent_until_acknowledged(broker: Mosquitto, database_url: str) -> None:
    edge_id = f"edge-{uuid.uuid4().hex[:6]}"
    hub = HubService(hub_config(database_url, broker.port, roster_retry_s=60))
    seed(hub.engine, edge_a=edge_id, edge_b=f"other-{edge_id}")
    edge = FakeEdge(broker, edge_id)
    hub.start()
    try:
        hub.link.wait_connected(10)
        out = Outbound()
        with hub.engine.begin() as conn:
            conn.execute(
                residents.update().where(residents.c.resident_id == "RA1").values(active=False)
            )
            out.to_edges.extend(queue_resident_change(conn, "RA1"))
        hub.publish(out)
        wait_until(lambda: len(edge.rosters()) == 1)
        first = edge.rosters()[0]
        assert (first.roster_version, first.base_version, first.removed) == (1, 0, ["RA1"])
        # Not acknowledged: nothing is due before the retry time, then it goes again.
        assert hub.resend_rosters() == 0
        assert hub.resend_rosters(utc_now() + timedelta(seconds=61)) == 1
        wait_until(lambda: len(edge.rosters()) == 2)
        assert edge.rosters()[1].id == first.id  # the same version, re-sent as it was
        edge.ack(1)
        wait_until(lambda: _pending(hub, edge_id) == 0)
        assert hub.resend_rosters(utc_now() + timedelta(hours=1)) == 0
        # An edge holding another base refuses the delta: the hub answers with a full roster.
        edge.ack(1, applied=False, error="delta on version 1, but this edge has 0")
        wait_until(lambda: len(edge.rosters()) == 3)
        full = edge.rosters()[2]
        assert full.base_version is None
        assert full.roster_version == 2
        assert {r.resident_id for r in full.residents} == {"RA2"}  # RA1 is inactive
    finally:
        edge.stop()
        hub.stop()


def _pending(hub: HubService, edge_id: str) -> int:
    with hub.engine.connect() as conn:
        return pending_count(conn, edge_id)


@pytest.mark.slow
def test_two_hub_processes_share_10000_events(own_broker: Mosquitto, database_url: str) -> None:
    hubs = [HubService(hub_config(database_url, own_broker.port)) for _ in range(2)]
    edges = [FakeEdge(own_broker, f"edge-{i}-{uuid.uuid4().hex[:4]}") for i in range(4)]
    for hub in hubs:
        hub.start()
    try:
        for hub in hubs:
            hub.link.wait_connected(10)
        now = utc_now()
        for n in range(2500):
            for edge in edges:
                edge.seq += 1
                event = EdgeEvent.model_validate(
                    {
                        **new_fields(),
                        "edge_id": edge.edge_id,
                        "seq": edge.seq,
                        "occurred_at": now,
                        "gate": "g1",
                        "direction": "in" if n % 2 else "out",
                        "method": "card",
                        "subject": "resident",
                        "resident_id": f"R{n % 50}",
                        "decision": "grant",
                    }
                )
                edge.link.publish(edge_topic(edge.edge_id, Channel.EVENT), encode(event), qos=1)
        wait_until(lambda: _stored(hubs[0]) >= 10_000, timeout=120)
        with hubs[0].engine.connect() as conn:
            per_edge = dict(
                conn.execute(
                    select(
                        edge_messages.c.edge_id, func.count(func.distinct(edge_messages.c.seq))
                    ).group_by(edge_messages.c.edge_id)
                ).all()
            )
        assert per_edge == {edge.edge_id: 2500 for edge in edges}
        assert _stored(hubs[0]) == 10_000  # none doubled
        shares = [hub.ingestor.stats.stored for hub in hubs]
        assert all(share > 0 for share in shares), shares
        assert sum(shares) == 10_000
    finally:
        for edge in edges:
            edge.stop()
        for hub in hubs:
            hub.stop()


def _stored(hub: HubService) -> int:
    with hub.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(edge_messages)) or 0)
