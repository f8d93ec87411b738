"""A thousand malformed messages leave the hub running, each one in the dead-letter table."""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from edge_agent.store.events import EventStore
from edge_agent.store.rows import Passage
from gridgate_core.mqtt import LinkSettings, MqttLink
from gridgate_wire import (
    Channel,
    Decision,
    DecodeError,
    PassageDirection,
    PassageMethod,
    SubjectKind,
    decode_from_topic,
    edge_topic,
    encode,
    utc_now,
)
from hub.config import HubConfig
from hub.runtime import HubService
from hub.store.schema import dead_letters, edge_messages
from tests.brokers import Mosquitto
from tests.waiting import wait_until


def malformed(rng: random.Random, good: dict[str, object], edge_id: str) -> tuple[str, bytes]:
    topic = edge_topic(edge_id, Channel.EVENT)
    choice = rng.randrange(8)
    body = dict(good)
    if choice == 0:
        return topic, bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 200)))
    if choice == 1:
        return topic, json.dumps(body)[: rng.randrange(1, 40)].encode()
    if choice == 2:
        key = rng.choice(list(body))
        body[key] = rng.choice([None, [], {}, "x", -1, 1e308, True])
    elif choice == 3:
        body["v"] = rng.choice([0, 2, 99, "1", None])
    elif choice == 4:
        return topic, b'{"type": "edge_event", "pad": "' + b"x" * 70_000 + b'"}'
    elif choice == 5:
        return edge_topic(f"other-{rng.randrange(99)}", Channel.EVENT), json.dumps(body).encode()
    elif choice == 6:
        del body[rng.choice(list(body))]
    else:
        body["type"] = "edge_alert"
    return topic, json.dumps(body).encode()


@pytest.mark.slow
def test_fuzz_batch_goes_to_dead_letters(tmp_path: Path, broker: Mosquitto) -> None:
    edge_id = f"fuzz-{uuid.uuid4().hex[:6]}"
    hub = HubService(
        HubConfig.model_validate(
            {
                "api": {"enabled": False},
                "ingest": {"unregistered_edges": "accept_events"},  # no registry here
                "instance_id": f"hub-{uuid.uuid4().hex[:8]}",
                "database": {"url": f"sqlite:///{tmp_path}/hub.sqlite3"},
                "mqtt": {"port": broker.port},
            }
        )
    )
    hub.start()
    hub.link.wait_connected(10)
    store = EventStore(tmp_path / "e.sqlite3", edge_id)
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
    good = json.loads(encode(event))
    sender = MqttLink(LinkSettings(host="127.0.0.1", port=broker.port, client_id=f"s-{edge_id}"))
    sender.start()
    sender.wait_connected(10)
    rng = random.Random(5)
    try:
        batch = [malformed(rng, good, edge_id) for _ in range(1200)]
        invalid = []
        for topic, payload in batch:
            try:
                decode_from_topic(topic, payload)
            except DecodeError:
                invalid.append((topic, payload))
        assert len(invalid) >= 1000  # some mutations happen to stay valid; they are dropped
        handles = [sender.publish(topic, payload) for topic, payload in invalid[:1000]]
        assert all(h.wait(20) for h in handles)
        assert sender.publish(edge_topic(edge_id, Channel.EVENT), encode(event)).wait(10)

        def counts() -> tuple[int, int]:
            with hub.engine.connect() as conn:
                dead = conn.scalar(select(func.count()).select_from(dead_letters)) or 0
                stored = (
                    conn.scalar(
                        select(func.count())
                        .select_from(edge_messages)
                        .where(edge_messages.c.edge_id == edge_id)
                    )
                    or 0
                )
            return dead, stored

        # Retained statuses of other tests' edges may arrive too: count this test's own rows.
        wait_until(lambda: counts()[0] >= 1000 and counts()[1] >= 1, timeout=60)
        dead, stored = counts()
        assert dead == 1000
        assert stored == 1  # the good one still got through, after all that
        assert hub.link.connected
    finally:
        sender.stop()
        hub.stop()
