"""Issue 14, critical: a message the database refuses is dead-lettered and acknowledged, so a hub
SIGKILLed and restarted does not get it again, and ingest carries on (real hub processes)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, func, select

from gridgate_core.mqtt import Incoming, LinkSettings, MqttLink
from gridgate_wire import Channel, HubAck, decode, edge_topic, encode, hub_topic
from hub.config import DatabaseConfig
from hub.store.db import make_engine, migrate
from hub.store.schema import dead_letters
from tests.brokers import Mosquitto
from tests.hardening_helpers import event, stored_ids
from tests.hub_helpers import seed
from tests.processes import start_hub_process
from tests.test_hardening_ingest import _poison_trigger
from tests.waiting import wait_until

EDGE = "edge-A"


def _dead(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(dead_letters)) or 0)


@pytest.mark.slow
def test_a_poison_message_does_not_come_back_after_a_hub_crash(
    tmp_path: Path, own_broker: Mosquitto
) -> None:
    database = f"sqlite:///{tmp_path}/hub.sqlite3"
    engine = make_engine(DatabaseConfig(url=database))
    migrate(engine)
    seed(engine)
    _poison_trigger(engine, 666)
    config = tmp_path / "hub.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "instance_id": "hub-restart",
                "database": {"url": database},
                "mqtt": {"port": own_broker.port, "reconnect_max_s": 0.5},
                "api": {"enabled": False},
            }
        )
    )
    acked: set[str] = set()
    got_ack = threading.Event()

    def on_ack(incoming: Incoming) -> None:
        acked.update(str(i) for i in decode(incoming.payload, HubAck).acked)
        got_ack.set()

    probe = MqttLink(
        LinkSettings(
            host="127.0.0.1",
            port=own_broker.port,
            client_id="probe-edge-A",
            subscriptions=[(hub_topic(EDGE, Channel.ACK), 1)],
        ),
        on_message=on_ack,
    )
    probe.start()
    probe.wait_connected(10)
    hub = start_hub_process(config)
    topic = edge_topic(EDGE, Channel.EVENT)
    try:
        first = event(EDGE, 1)
        wait_until(
            lambda: probe.publish(topic, encode(first)).wait(5) and stored_ids(engine, EDGE) != [],
            timeout=30,
        )
        poison, after = event(EDGE, 666), event(EDGE, 2)
        assert probe.publish(topic, encode(poison)).wait(10)
        assert probe.publish(topic, encode(after)).wait(10)
        wait_until(lambda: str(poison.id) in acked and str(after.id) in acked, timeout=30)
        assert _dead(engine) == 1
        assert str(after.id) in stored_ids(engine, EDGE)
        assert hub.poll() is None
        # The hub's MQTT-level acks of those two leave on its one connection before anything it
        # sends about a later batch: once a marker's hub_ack is here, the broker has them.
        marker = event(EDGE, 3)
        assert probe.publish(topic, encode(marker)).wait(10)
        wait_until(lambda: str(marker.id) in acked, timeout=30, what="the marker's hub_ack")
        hub.send_signal(signal.SIGKILL)
        hub.wait()
        hub = start_hub_process(config)
        later = event(EDGE, 4)
        assert probe.publish(topic, encode(later)).wait(10)
        wait_until(lambda: str(later.id) in stored_ids(engine, EDGE), timeout=30)
        assert _dead(engine) == 1  # the poison was not delivered again
        assert len(stored_ids(engine, EDGE)) == 4
    finally:
        probe.stop()
        hub.send_signal(signal.SIGTERM)
        hub.wait(20)
        engine.dispose()
