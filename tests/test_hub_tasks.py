"""Alert -> task -> worker push -> outcome -> roster update -> edge erasure, on SQLite and
PostgreSQL, through a real Mosquitto and a real edge agent."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from edge_agent.runtime import EdgeAgent
from gridgate_core.mqtt import Incoming, LinkSettings, MqttLink
from gridgate_wire import (
    AlertEvidence,
    Channel,
    EdgeAlert,
    decode_from_topic,
    utc_now,
    uuid7,
    worker_topic,
)
from hub.config import HubConfig
from hub.runtime import HubService
from hub.store.schema import (
    areas,
    compounds,
    edge_compounds,
    edge_messages,
    houses,
    residents,
    task_evidence,
    task_transitions,
    tasks,
    workers,
)
from hub.tasks import Outbound, Outcome, on_alert
from tests.brokers import Mosquitto
from tests.edge_helpers import edge_config
from tests.roster_builders import resident, roster
from tests.waiting import wait_until


def seed_registry(hub: HubService, edge_id: str) -> None:
    with hub.engine.begin() as conn:
        conn.execute(
            areas.insert(),
            [
                {"area_id": "D", "level": "district", "name": "Xindu", "parent_id": None},
                {"area_id": "S", "level": "street", "name": "S1", "parent_id": "D"},
                {"area_id": "C", "level": "community", "name": "C1", "parent_id": "S"},
                {"area_id": "G1", "level": "grid", "name": "G1", "parent_id": "C"},
                {"area_id": "G2", "level": "grid", "name": "G2", "parent_id": "C"},
            ],
        )
        conn.execute(compounds.insert().values(compound_id="c1", community_id="C", name="Pine"))
        conn.execute(
            houses.insert(),
            [
                {
                    "house_id": "H1",
                    "compound_id": "c1",
                    "grid_id": "G1",
                    "address": "1-1-101",
                    "vacant": False,
                },
                {
                    "house_id": "H2",
                    "compound_id": "c1",
                    "grid_id": "G2",
                    "address": "1-1-102",
                    "vacant": False,
                },
            ],
        )
        conn.execute(
            residents.insert(),
            [
                {"resident_id": "R1", "house_id": "H1", "active": True, "care_recipient": False},
                {"resident_id": "R2", "house_id": "H2", "active": True, "care_recipient": False},
            ],
        )
        conn.execute(
            workers.insert(),
            [
                {"worker_id": "W1", "name": "Li", "grid_id": "G1", "leader": False},
                {"worker_id": "L1", "name": "Wang", "grid_id": "G1", "leader": True},
            ],
        )
        conn.execute(
            edge_compounds.insert().values(edge_id=edge_id, compound_id="c1", roster_version=1)
        )


def alert_builder(kind: str, house: str, resident_id: str | None) -> Any:
    return lambda common: EdgeAlert.model_validate(
        {
            **common,
            "kind": kind,
            "compound_id": "c1",
            "house_id": house,
            "resident_id": resident_id,
            "detected_at": utc_now(),
            "confidence": 0.9,
            "evidence": AlertEvidence(last_seen=datetime(2026, 1, 1, tzinfo=UTC), days_seen=12),
        }
    )


_PROBE = b"probe"


def test_alert_to_task_to_outcome_round_trip(
    tmp_path: Path, broker: Mosquitto, database_url: str
) -> None:
    edge_id = f"edge-{uuid.uuid4().hex[:6]}"
    hub = HubService(
        HubConfig.model_validate(
            {
                "api": {"enabled": False},
                "instance_id": f"hub-{uuid.uuid4().hex[:8]}",
                "database": {"url": database_url},
                "mqtt": {"port": broker.port, "reconnect_max_s": 0.5},
            }
        )
    )
    seed_registry(hub, edge_id)
    pushed: list[Any] = []
    lock = threading.Lock()

    probes: list[bytes] = []

    def on_task(incoming: Incoming) -> None:
        if incoming.payload == _PROBE:
            probes.append(incoming.payload)
            return
        with lock:
            pushed.append(decode_from_topic(incoming.topic, incoming.payload))

    def phone_listening() -> bool:
        # A task pushed before the phone's subscription is active would be lost: probe it.
        if not probes:
            phone.publish(worker_topic("W1"), _PROBE, qos=0)
        return bool(probes)

    phone = MqttLink(
        LinkSettings(
            host="127.0.0.1",
            port=broker.port,
            client_id=f"phone-W1-{edge_id}",
            subscriptions=[(worker_topic("W1"), 1)],
        ),
        on_message=on_task,
    )
    agent = EdgeAgent(edge_config(tmp_path, broker, edge_id=edge_id))
    agent.handle_command(roster(edge_id, 1, [resident("R1", "H1"), resident("R2", "H2")]))
    hub.start()
    phone.start()
    agent.start()
    try:
        hub.link.wait_connected(10)
        phone.wait_connected(10)
        agent.link.wait_connected(10)
        wait_until(phone_listening, what="the phone's subscription")
        agent.store.append(Channel.ALERT, alert_builder("move_out", "H1", "R1"))
        agent.store.append(Channel.ALERT, alert_builder("move_out", "H1", "R1"))  # same house+kind
        agent.store.append(
            Channel.ALERT, alert_builder("vacancy", "H2", None)
        )  # grid without staff
        agent.publisher.notify()
        wait_until(lambda: len(pushed) == 1)
        task = pushed[0]
        assert (task.worker_id, task.state.value, task.house_id, task.revision) == (
            "W1",
            "assigned",
            "H1",
            2,
        )
        with hub.engine.connect() as conn:
            wait_until(lambda: _count(hub, task_evidence) == 3)
            rows = conn.execute(
                select(tasks.c.house_id, tasks.c.assignee, tasks.c.worker_id).order_by(
                    tasks.c.house_id
                )
            ).all()
        assert [tuple(r) for r in rows] == [
            ("H1", "grid-worker", "W1"),
            ("H2", "community-centre", None),
        ]
        hub.accept(task.task_id, "W1")
        wait_until(lambda: pushed[-1].state.value == "accepted")
        hub.record_outcome(task.task_id, Outcome.MOVED_OUT, "W1", "family confirmed the move")
        wait_until(lambda: pushed[-1].state.value == "closed")
        # The edge applies the roster delta, erases R1's templates and confirms both.
        wait_until(lambda: agent.roster.version == 2)
        assert agent.roster.resident("R1") is None
        wait_until(lambda: _kinds(hub, edge_id) >= {"roster_ack", "erasure_confirmation"})
        with hub.engine.connect() as conn:
            states = list(
                conn.scalars(
                    select(task_transitions.c.to_state)
                    .where(task_transitions.c.task_id == task.task_id)
                    .order_by(task_transitions.c.pk)
                )
            )
            r1_active = conn.scalar(
                select(residents.c.active).where(residents.c.resident_id == "R1")
            )
            outcome = conn.scalar(select(tasks.c.outcome).where(tasks.c.task_id == task.task_id))
        assert states == ["created", "assigned", "accepted", "visited", "closed"]
        assert r1_active is False
        assert outcome == "moved_out"
        revisions = [t.revision for t in pushed]
        assert revisions == sorted(revisions)
    finally:
        agent.stop()
        phone.stop()
        hub.stop()


def _count(hub: HubService, table: Any) -> int:
    with hub.engine.connect() as conn:
        return len(conn.execute(select(table)).all())


def _kinds(hub: HubService, edge_id: str) -> set[str]:
    with hub.engine.connect() as conn:
        return set(
            conn.scalars(select(edge_messages.c.kind).where(edge_messages.c.edge_id == edge_id))
        )


def test_overdue_tasks_escalate(tmp_path: Path, database_url: str) -> None:
    hub = HubService(
        HubConfig.model_validate(
            {
                "api": {"enabled": False},
                "instance_id": f"hub-{uuid.uuid4().hex[:8]}",
                "database": {"url": database_url},
            }
        )
    )
    seed_registry(hub, "edge-esc")
    out = Outbound()
    store_alert = alert_builder("welfare_check", "H1", "R1")(
        {
            "id": uuid7(),
            "ts": utc_now(),
            "edge_id": "edge-esc",
            "seq": 1,
        }
    )
    with hub.engine.begin() as conn:
        task_id = on_alert(conn, "edge-esc", store_alert, out)
    assert task_id is not None
    assert out.to_workers[0].worker_id == "W1"
    later = utc_now() + timedelta(days=2)
    assert hub.escalate(later) == [task_id]
    with hub.engine.connect() as conn:
        row = conn.execute(select(tasks).where(tasks.c.task_id == task_id)).one()
    assert (row.assignee, row.worker_id) == ("grid-leader", "L1")
    assert hub.escalate(later + timedelta(days=2)) == [task_id]
    with hub.engine.connect() as conn:
        row = conn.execute(select(tasks).where(tasks.c.task_id == task_id)).one()
    assert (row.assignee, row.worker_id) == ("community-centre", None)
    assert hub.escalate(later + timedelta(days=9)) == []
    hub.engine.dispose()
