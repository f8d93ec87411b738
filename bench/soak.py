"""Soak: many edges feeding two hub processes for a long time; nothing lost, nothing doubled,
memory flat. Not part of CI (it runs for minutes); figures go to docs/BENCHMARKS.md.

    python bench/soak.py --minutes 30 --edges 20 --json

Each simulated edge is a real EdgeAgent (event store, outbox, publisher, MQTT link, status)
with its card demo source producing a passage every --interval seconds; the hubs are two
`python -m hub run` processes on PostgreSQL sharing the load; Mosquitto on loopback. Every
--broker-restart-every minutes the broker is restarted, to soak the recovery paths too.
"""

from __future__ import annotations

import argparse
import os
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _common import emit, hub_process, scratch_database, stamp
from sqlalchemy import create_engine, func, select

from edge_agent.config import EdgeConfig
from edge_agent.runtime import EdgeAgent
from edge_agent.store.rows import Passage
from gridgate_devkit.localbroker import LocalMosquitto
from gridgate_wire import Decision, PassageDirection, PassageMethod, SubjectKind, utc_now
from hub.store.schema import edge_messages, edges


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--edges", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between passages")
    parser.add_argument("--broker-restart-every", type=float, default=10, help="minutes; 0: never")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="gridgate-soak-"))
    url, drop_database = scratch_database("postgresql", work)
    broker = LocalMosquitto(work / "broker")
    broker.start()
    hubs = [
        hub_process(
            {
                "instance_id": f"soak-hub-{index}",
                "database": {"url": url},
                "mqtt": {"port": broker.port, "reconnect_max_s": 1.0},
                "api": {"enabled": False},
                "ingest": {"unregistered_edges": "accept_events"},  # no registry here
                "logging": {"level": "WARNING"},
            },
            work,
            f"hub{index}",
        )
        for index in range(2)
    ]
    time.sleep(3)
    agents = [
        EdgeAgent(
            EdgeConfig.model_validate(
                {
                    "edge_id": f"soak-edge-{i:02d}",
                    "compound_id": f"compound-{i:02d}",
                    "data_dir": str(work / f"edge-{i:02d}"),
                    "mqtt": {"port": broker.port, "reconnect_max_s": 1.0},
                    "status_interval_s": 10,
                    "http": {"port": 0},
                    "face_recognition": False,
                }
            )
        )
        for i in range(args.edges)
    ]
    for agent in agents:
        agent.start()
    driving = threading.Event()
    driving.set()

    def drive() -> None:
        """A card passage at every edge each --interval seconds, through the real store."""
        n = 0
        while driving.is_set():
            for agent in agents:
                agent.recorder.record(
                    Passage(
                        occurred_at=utc_now(),
                        gate="north",
                        direction=PassageDirection.IN if n % 2 else PassageDirection.OUT,
                        method=PassageMethod.CARD,
                        subject=SubjectKind.RESIDENT,
                        resident_id=f"R{n % 300}",
                        decision=Decision.GRANT,
                    )
                )
            n += 1
            time.sleep(args.interval)

    driver = threading.Thread(target=drive, daemon=True)
    driver.start()
    start = time.monotonic()
    samples: list[dict[str, Any]] = []
    restarts = 0
    next_restart = args.broker_restart_every * 60 if args.broker_restart_every > 0 else None
    cpu0 = [cpu_seconds(h.pid) for h in hubs]
    while time.monotonic() - start < args.minutes * 60:
        time.sleep(10)
        elapsed = time.monotonic() - start
        samples.append(
            {
                "t_s": round(elapsed),
                "hub_rss_mib": [round(rss_kib(h.pid) / 1024, 1) for h in hubs],
                "edge_outbox": sum(a.store.outbox_depth() for a in agents),
            }
        )
        if next_restart is not None and elapsed >= next_restart:
            broker.restart()
            restarts += 1
            next_restart += args.broker_restart_every * 60
    cpu = [round(cpu_seconds(h.pid) - c, 1) for h, c in zip(hubs, cpu0, strict=True)]
    driving.clear()
    driver.join()
    drain_start = time.monotonic()
    while any(a.store.outbox_depth() for a in agents) and time.monotonic() - drain_start < 300:
        time.sleep(1)
    drain_s = round(time.monotonic() - drain_start, 1)
    recorded = {a.config.edge_id: a.store.last_seq() for a in agents}
    for agent in agents:
        agent.stop()
    engine = create_engine(url)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            marks = dict(conn.execute(select(edges.c.edge_id, edges.c.contiguous_seq)).all())
        if all(marks.get(e, 0) >= s for e, s in recorded.items()):
            break
        time.sleep(2)
    with engine.connect() as conn:
        stored = dict(
            conn.execute(
                select(edge_messages.c.edge_id, func.count()).group_by(edge_messages.c.edge_id)
            ).all()
        )
        distinct = dict(
            conn.execute(
                select(
                    edge_messages.c.edge_id, func.count(func.distinct(edge_messages.c.seq))
                ).group_by(edge_messages.c.edge_id)
            ).all()
        )
        marks = dict(conn.execute(select(edges.c.edge_id, edges.c.contiguous_seq)).all())
    engine.dispose()
    for hub in hubs:
        hub.send_signal(signal.SIGTERM)
        hub.wait(30)
    broker.stop()
    drop_database()
    total_recorded = sum(recorded.values())
    total_stored = sum(stored.values())
    result = {
        **stamp(),
        "minutes": args.minutes,
        "edges": args.edges,
        "passage_interval_s": args.interval,
        "broker_restarts": restarts,
        "messages_recorded_by_edges": total_recorded,
        "messages_stored_by_hub": total_stored,
        "lost": sum(max(0, s - distinct.get(e, 0)) for e, s in recorded.items()),
        "doubled": total_stored - sum(distinct.values()),
        "edges_complete_by_watermark": sum(1 for e, s in recorded.items() if marks.get(e, 0) >= s),
        "hub_cpu_s": cpu,
        "hub_rss_mib_first_last": [samples[0]["hub_rss_mib"], samples[-1]["hub_rss_mib"]]
        if samples
        else [],
        "max_edge_outbox": max((s["edge_outbox"] for s in samples), default=0),
        "drain_after_stop_s": drain_s,
    }
    emit(result, args.json)
    return 0 if result["lost"] == 0 and result["doubled"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
