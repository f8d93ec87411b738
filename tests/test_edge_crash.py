"""The edge killed with SIGKILL at random moments loses no committed event."""

from __future__ import annotations

import contextlib
import random
import signal
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from hub.config import HubConfig
from hub.runtime import HubService
from hub.store.schema import edge_messages
from tests.brokers import Mosquitto
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parent.parent


def rows(db: Path, table: str) -> int:
    """Rows in the edge's ``table``, read beside the running edge (0 before it made the file)."""
    if not db.exists():
        return 0
    with contextlib.closing(sqlite3.connect(db, timeout=5)) as conn:
        try:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
        except sqlite3.OperationalError:  # the edge is still creating its tables
            return 0


@pytest.mark.slow
def test_sigkill_rounds_lose_nothing(tmp_path: Path, broker: Mosquitto) -> None:
    edge_id = f"edge-kill-{uuid.uuid4().hex[:6]}"
    config = {
        "edge_id": edge_id,
        "compound_id": "c1",
        "data_dir": str(tmp_path / "edge"),
        "mqtt": {"port": broker.port, "reconnect_max_s": 0.5},
        "outbox": {"ack_timeout_s": 2},
        "status_interval_s": 1,
        "face_recognition": False,
        "http": {"port": 0},
        "demo_source": {"enabled": True, "interval_s": 0.005},
    }
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump(config))
    hub = HubService(
        HubConfig.model_validate(
            {
                "api": {"enabled": False},
                "ingest": {"unregistered_edges": "accept_events"},  # no registry here
                "instance_id": f"hub-kill-{uuid.uuid4().hex[:6]}",
                "database": {"url": f"sqlite:///{tmp_path}/hub.sqlite3"},
                "mqtt": {"port": broker.port, "reconnect_max_s": 0.5},
            }
        )
    )
    hub.start()
    rng = random.Random(11)
    # The product's agent with the devkit's card source plugged in.
    command = [sys.executable, "-m", "gridgate_devkit.edge_demo", "run", "--config", str(path)]
    try:
        events = tmp_path / "edge" / "events.sqlite3"
        for _ in range(5):
            # SIGKILL after a random number of new passages: mid-write, mid-publish or mid-ack.
            target = rows(events, "events") + rng.randint(41, 200)  # > 200 in all
            edge = subprocess.Popen(command, cwd=REPO, stderr=subprocess.DEVNULL)
            try:
                wait_until(
                    lambda: rows(events, "events") >= target,  # noqa: B023
                    timeout=60,
                    what=f"{target} passages committed",
                )
            finally:
                edge.send_signal(signal.SIGKILL)
                edge.wait()
        # Last run: no new passages, just drain what was committed.
        config["demo_source"] = {"enabled": False}
        path.write_text(yaml.safe_dump(config))
        edge = subprocess.Popen(command, cwd=REPO, stderr=subprocess.DEVNULL)
        try:
            wait_until(lambda: rows(events, "outbox") == 0, timeout=60, what="the outbox drained")
        except AssertionError:
            edge.kill()
            raise
        db = sqlite3.connect(events)
        committed = {row[0] for row in db.execute("SELECT id FROM events")}
        remaining = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        db.close()
        edge.send_signal(signal.SIGTERM)
        assert edge.wait(20) == 0
    finally:
        hub.stop()
    assert remaining == 0
    assert len(committed) > 200
    with hub.engine.connect() as conn:
        stored = list(
            conn.scalars(
                select(edge_messages.c.msg_id).where(
                    edge_messages.c.edge_id == edge_id, edge_messages.c.kind == "edge_event"
                )
            )
        )
        seqs = list(
            conn.scalars(
                select(edge_messages.c.seq)
                .where(edge_messages.c.edge_id == edge_id)
                .order_by(edge_messages.c.seq)
            )
        )
    assert set(stored) == committed  # nothing lost
    assert len(stored) == len(set(stored))  # nothing doubled
    assert seqs == list(range(1, len(seqs) + 1))  # no sequence gap
