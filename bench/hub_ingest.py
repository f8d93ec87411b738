"""Hub ingest throughput and alert -> worker-push latency, on SQLite and PostgreSQL.

    python bench/hub_ingest.py --json

Edges are simulated by publishers that pre-build valid events; the hub processes (1 or 2, on a
shared subscription) commit and acknowledge them. Throughput counts events committed and
acknowledged per second. Latency: an alert is published while the event load runs; the time
until the worker's phone receives the task is measured.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from _common import emit, stamp
from sqlalchemy import create_engine, text

from edge_agent.store.events import EventStore
from gridgate_core.localbroker import LocalMosquitto
from gridgate_core.mqtt import Incoming, LinkSettings, MqttLink
from gridgate_wire import (
    AlertEvidence,
    Channel,
    EdgeAlert,
    edge_topic,
    encode,
    utc_now,
    uuid7,
    worker_topic,
)
from hub.config import HubConfig
from hub.runtime import HubService
from hub.store.schema import areas, compounds, houses, workers

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def database(kind: str, work: Path) -> tuple[str, Any]:
    if kind == "sqlite":
        return f"sqlite:///{work}/hub-{uuid.uuid4().hex[:6]}.sqlite3", None
    name = f"gridgate_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", (admin, name)


def build_events(edge_id: str, count: int, work: Path) -> list[bytes]:
    store = EventStore(work / f"{edge_id}.sqlite3", edge_id)
    fields = {
        "occurred_at": utc_now(),
        "gate": "g",
        "direction": "in",
        "method": "card",
        "subject": "resident",
        "resident_id": "R1",
        "decision": "grant",
    }
    out = []
    for _ in range(count):
        event = store.append_event(**fields)
        out.append(encode(event))
    store.close()
    return out


def run(
    kind: str, processes: int, events: int, edges: int, broker: LocalMosquitto, work: Path
) -> dict[str, Any]:
    url, cleanup = database(kind, work)
    hubs = [
        HubService(
            HubConfig.model_validate(
                {
                    "api": {"enabled": False},
                    "instance_id": f"hub-{uuid.uuid4().hex[:6]}",
                    "database": {"url": url},
                    "mqtt": {"port": broker.port},
                    "ingest": {"batch_max": 1000},
                }
            )
        )
        for _ in range(processes)
    ]
    with hubs[0].engine.begin() as conn:
        conn.execute(
            areas.insert(),
            [
                {"area_id": "C", "level": "community", "name": "C", "parent_id": None},
                {"area_id": "G", "level": "grid", "name": "G", "parent_id": "C"},
            ],
        )
        conn.execute(compounds.insert().values(compound_id="c1", community_id="C", name="c"))
        conn.execute(
            houses.insert(),
            [
                {
                    "house_id": f"H{i}",
                    "compound_id": "c1",
                    "grid_id": "G",
                    "address": str(i),
                    "vacant": False,
                }
                for i in range(5)
            ],
        )
        conn.execute(workers.insert().values(worker_id="W1", name="w", grid_id="G", leader=False))
    for hub in hubs:
        hub.start()
        hub.link.wait_connected(10)
    per_edge = events // edges
    payloads = {f"bench-{i}-{uuid.uuid4().hex[:4]}": [] for i in range(edges)}
    for edge_id in payloads:
        payloads[edge_id] = build_events(edge_id, per_edge, work)
    received = threading.Event()
    pushed_at: list[float] = []

    def on_task(_incoming: Incoming) -> None:
        pushed_at.append(time.perf_counter())
        received.set()

    phone = MqttLink(
        LinkSettings(
            host="127.0.0.1",
            port=broker.port,
            client_id=f"phone-{uuid.uuid4().hex[:6]}",
            subscriptions=[(worker_topic("W1"), 1)],
        ),
        on_message=on_task,
    )
    phone.start()
    phone.wait_connected(10)
    time.sleep(0.3)
    senders = []
    for edge_id in payloads:
        link = MqttLink(
            LinkSettings(
                host="127.0.0.1", port=broker.port, client_id=f"s-{edge_id}", max_inflight=1000
            )
        )
        link.start()
        link.wait_connected(10)
        senders.append((edge_id, link))
    total = per_edge * edges
    base = sum(h.ingestor.stats.stored for h in hubs)
    started = time.perf_counter()
    latencies = []

    def send(edge_id: str, link: MqttLink) -> None:
        topic = edge_topic(edge_id, Channel.EVENT)
        handles = [link.publish(topic, p, qos=1) for p in payloads[edge_id]]
        for h in handles:
            h.wait(60)

    threads = [threading.Thread(target=send, args=s) for s in senders]
    for t in threads:
        t.start()
    # Alerts during the load: a new house-kind each time so each creates a task and a push.
    kinds = [
        (f"H{h}", k)
        for h in range(5)
        for k in ("move_out", "vacancy", "new_occupant", "welfare_check")
    ]
    alert_edge, alert_link = senders[0]
    for i, (house, alert_kind) in enumerate(kinds):
        time.sleep(0.1)
        received.clear()
        alert = EdgeAlert.model_validate(
            {
                "id": uuid7(),
                "ts": utc_now(),
                "edge_id": alert_edge,
                "seq": 10_000_000 + i,
                "kind": alert_kind,
                "compound_id": "c1",
                "house_id": house,
                "detected_at": utc_now(),
                "confidence": 0.9,
                "evidence": AlertEvidence(),
            }
        )
        sent = time.perf_counter()
        alert_link.publish(edge_topic(alert_edge, Channel.ALERT), encode(alert), qos=1)
        if received.wait(10):
            latencies.append((pushed_at[-1] - sent) * 1000)
    for t in threads:
        t.join()
    while (
        sum(h.ingestor.stats.stored for h in hubs) - base < total + len(kinds)
        and time.perf_counter() - started < 300
    ):
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    stored = sum(h.ingestor.stats.stored for h in hubs) - base
    for _, link in senders:
        link.stop()
    phone.stop()
    for hub in hubs:
        hub.stop()
    if cleanup:
        admin, name = cleanup
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    latencies.sort()
    return {
        "database": kind,
        "hub_processes": processes,
        "events": total,
        "stored": stored,
        "events_per_s": round(stored / elapsed),
        "alert_to_push_median_ms": round(statistics.median(latencies), 1) if latencies else None,
        "alert_to_push_p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1)
        if latencies
        else None,
        "alerts_measured": len(latencies),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--edges", type=int, default=4)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        broker = LocalMosquitto(work / "broker")
        broker.start()
        try:
            for kind in args.databases:
                for processes in (1, 2):
                    rows.append(run(kind, processes, args.events, args.edges, broker, work))
        finally:
            broker.stop()
    emit({**stamp(), "rows": rows}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
