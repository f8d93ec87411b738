"""Hub ingest throughput and alert -> worker-push latency, on SQLite and PostgreSQL.

    python bench/hub_ingest.py --json

Edges are simulated by publishers in a child process that pre-build valid events; the hubs are
1 or 2 real `python -m hub run` processes on a shared subscription that commit and acknowledge
them (so neither shares a Python interpreter with the load). Throughput counts events committed and
acknowledged per second. Latency: an alert is published while the event load runs; the time
until the worker's phone receives the task is measured.
"""

from __future__ import annotations

import argparse
import multiprocessing
import signal
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from _common import emit, hub_process, scratch_database, stamp
from sqlalchemy import func, select

from edge_agent.store.events import EventStore
from edge_agent.store.rows import Passage
from gridgate_core.mqtt import Incoming, LinkSettings, MqttLink
from gridgate_devkit.localbroker import LocalMosquitto
from gridgate_wire import (
    AlertEvidence,
    Channel,
    Decision,
    EdgeAlert,
    PassageDirection,
    PassageMethod,
    SubjectKind,
    edge_topic,
    encode,
    utc_now,
    uuid7,
    worker_topic,
)
from hub.config import DatabaseConfig
from hub.store.db import make_engine, migrate
from hub.store.schema import areas, compounds, edge_compounds, edge_messages, houses, workers


def build_events(edge_id: str, count: int, work: Path) -> list[bytes]:
    store = EventStore(work / f"{edge_id}.sqlite3", edge_id)
    passage = Passage(
        occurred_at=utc_now(),
        gate="g",
        direction=PassageDirection.IN,
        method=PassageMethod.CARD,
        subject=SubjectKind.RESIDENT,
        resident_id="R1",
        decision=Decision.GRANT,
    )
    out = []
    for _ in range(count):
        event = store.append_passage(passage)
        out.append(encode(event))
    store.close()
    return out


def publisher_process(
    port: int, edges: int, per_edge: int, work: str, ready: Any, go: Any, done: Any
) -> None:
    """Child process: the simulated edges, so their Python work does not share the hubs' GIL."""
    ids = [f"bench-{i}-{uuid.uuid4().hex[:4]}" for i in range(edges)]
    payloads = {edge_id: build_events(edge_id, per_edge, Path(work)) for edge_id in ids}
    senders = []
    for edge_id in payloads:
        link = MqttLink(
            LinkSettings(host="127.0.0.1", port=port, client_id=f"s-{edge_id}", max_inflight=1000)
        )
        link.start()
        link.wait_connected(10)
        senders.append((edge_id, link))
    ready.set()
    go.wait()

    def send(edge_id: str, link: MqttLink) -> None:
        topic = edge_topic(edge_id, Channel.EVENT)
        handles = [link.publish(topic, p, qos=1) for p in payloads[edge_id]]
        for h in handles:
            h.wait(120)

    threads = [threading.Thread(target=send, args=s) for s in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    for _, link in senders:
        link.stop()


def stored_count(engine: Any) -> int:
    """Passage events committed (alerts are counted apart)."""
    with engine.connect() as conn:
        return int(
            conn.scalar(
                select(func.count())
                .select_from(edge_messages)
                .where(edge_messages.c.kind == "edge_event")
            )
            or 0
        )


def run(
    kind: str, processes: int, events: int, edges: int, broker: LocalMosquitto, work: Path
) -> dict[str, Any]:
    url, drop_database = scratch_database(kind, work)
    engine = make_engine(DatabaseConfig(url=url))
    migrate(engine)
    with engine.begin() as conn:
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
                for i in range(10)
            ],
        )
        conn.execute(workers.insert().values(worker_id="W1", name="w", grid_id="G", leader=False))
    hubs = [
        hub_process(
            {
                "api": {"enabled": False},
                "instance_id": f"hub-{uuid.uuid4().hex[:6]}",
                "database": {"url": url},
                "mqtt": {"port": broker.port},
                # The load edges are not in the registry (issue 14 refuses those by default).
                "ingest": {"unregistered_edges": "accept_events"},
                # The shipped defaults (batch_max 500, batch_wait_ms 20).
                "logging": {"level": "WARNING"},
            },
            work,
            f"hub-{kind}-{processes}-{index}",
        )
        for index in range(processes)
    ]
    time.sleep(3)  # connect and subscribe
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
    alert_link = MqttLink(
        LinkSettings(host="127.0.0.1", port=broker.port, client_id=f"a-{uuid.uuid4().hex[:6]}")
    )
    alert_link.start()
    alert_link.wait_connected(10)
    per_edge = events // edges
    total = per_edge * edges
    context = multiprocessing.get_context("spawn")
    ready, go, done = context.Event(), context.Event(), context.Event()
    child = context.Process(
        target=publisher_process,
        args=(broker.port, edges, per_edge, str(work), ready, go, done),
    )
    child.start()
    ready.wait(300)
    started = time.perf_counter()
    go.set()
    latencies: list[float] = []
    kinds = [
        (f"H{h}", k)
        for h in range(10)
        for k in ("move_out", "vacancy", "new_occupant", "welfare_check")
    ]
    alert_edge = f"alerts-{uuid.uuid4().hex[:4]}"
    with engine.begin() as conn:  # alerts are accepted only from the compound's own edge
        conn.execute(
            edge_compounds.insert().values(edge_id=alert_edge, compound_id="c1", roster_version=0)
        )

    def alerts() -> None:
        """Alerts during the load, each a new house and kind, so each makes a task and a push."""
        for i, (house, alert_kind) in enumerate(kinds):
            time.sleep(0.1)
            received.clear()
            alert = EdgeAlert.model_validate(
                {
                    "id": uuid7(),
                    "ts": utc_now(),
                    "edge_id": alert_edge,
                    "seq": i + 1,
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

    alerter = threading.Thread(target=alerts)
    alerter.start()
    # Throughput: from the start signal until every event is committed (the hub acks after
    # the commit), measured apart from the alert loop, which waits for each push in turn.
    while stored_count(engine) < total and time.perf_counter() - started < 300:
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    stored = stored_count(engine)
    alerter.join()
    child.join(30)
    alert_link.stop()
    phone.stop()
    for hub in hubs:
        hub.send_signal(signal.SIGTERM)
        hub.wait(30)
    engine.dispose()
    drop_database()
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
