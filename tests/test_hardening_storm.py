"""Issue 14 proof through a real broker: a running hub under a generated storm (both databases).

Every valid in-scope message is stored once, every other one dead-lettered with a reason, and a
valid passage sent in the middle of the storm is stored within seconds. ``bench/hardening_fuzz.py``
runs the same with more messages and writes the figures to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import os
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from sqlalchemy import func, select

from gridgate_core.mqtt import LinkSettings, MqttLink
from gridgate_wire import Channel, edge_topic, encode
from hub.runtime import HubService
from hub.store.schema import dead_letters, edge_messages
from tests.brokers import Mosquitto
from tests.fuzz_strategies import OWN_EDGE, Sent, resolve, storms
from tests.hardening_helpers import event
from tests.hub_helpers import hub_config, seed
from tests.waiting import wait_until

EXAMPLES = int(os.environ.get("GRIDGATE_STORM_EXAMPLES", "40"))
PER_KIND = 10


def generated_storm(examples: int, per_kind: int) -> list[Sent]:
    """Hypothesis draws the storm: ``examples`` batches of ``per_kind`` messages of each kind."""
    drawn: list[Sent] = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(storms(per_kind))
    def draw(batch: list[Sent]) -> None:
        drawn.extend(batch)

    draw()
    return drawn


def counts(hub: HubService) -> tuple[int, int]:
    with hub.engine.connect() as conn:
        stored = conn.scalar(select(func.count()).select_from(edge_messages)) or 0
        dead = conn.scalar(select(func.count()).select_from(dead_letters)) or 0
    return int(stored), int(dead)


def run_storm(hub: HubService, port: int, storm: list[Sent]) -> dict[str, Any]:
    outcome = [resolve(item) for item in storm]
    sender = MqttLink(
        LinkSettings(host="127.0.0.1", port=port, client_id="storm-sender", max_inflight=1000)
    )
    sender.start()
    sender.wait_connected(10)
    sentinel = event(OWN_EDGE, 1, resident_id="RA1", house_id="HA1")
    started = time.monotonic()
    try:
        middle = len(storm) // 2
        handles = [sender.publish(i.topic, i.payload, qos=1) for i in storm[:middle]]
        sentinel_sent = time.monotonic()
        handles.append(sender.publish(edge_topic(OWN_EDGE, Channel.EVENT), encode(sentinel)))
        handles += [sender.publish(i.topic, i.payload, qos=1) for i in storm[middle:]]

        def sentinel_stored() -> bool:
            with hub.engine.connect() as conn:
                return bool(
                    conn.scalar(
                        select(func.count())
                        .select_from(edge_messages)
                        .where(edge_messages.c.msg_id == str(sentinel.id))
                    )
                )

        wait_until(sentinel_stored, timeout=30)
        sentinel_s = time.monotonic() - sentinel_sent
        assert all(h.wait(60) for h in handles)
        want = (outcome.count("store") + 1, outcome.count("dead"))
        wait_until(lambda: counts(hub) == want, timeout=120)
        seconds = time.monotonic() - started
    finally:
        sender.stop()
    stored, dead = counts(hub)
    kinds = sorted({i.kind for i in storm})
    return {
        "messages": len(storm),
        "per_kind": {k: sum(1 for i in storm if i.kind == k) for k in kinds},
        "stored": stored,
        "dead_lettered": dead,
        "statuses": outcome.count("status"),
        "ignored": outcome.count("ignored"),
        "seconds": round(seconds, 1),
        "sentinel_stored_s": round(sentinel_s, 2),
    }


def test_running_hub_under_a_generated_storm(own_broker: Mosquitto, database_url: str) -> None:
    storm = generated_storm(EXAMPLES, PER_KIND)
    hub = HubService(hub_config(database_url, own_broker.port, ingest={}))
    seed(hub.engine)
    hub.start()
    try:
        hub.link.wait_connected(10)
        figures = run_storm(hub, own_broker.port, storm)
        print(f"\n[{hub.engine.dialect.name}] storm through Mosquitto: {figures}")  # noqa: T201
        with hub.engine.connect() as conn:
            assert not conn.scalar(
                select(func.count()).select_from(dead_letters).where(dead_letters.c.reason == "")
            )
        assert figures["sentinel_stored_s"] < 10
        assert hub.ingestor.stats.outages == 0
        assert hub.link.connected
    finally:
        hub.stop()
