"""The hub's storage on SQLite and PostgreSQL: migrations and idempotent ingest."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, select

from edge_agent.store.events import EventStore
from edge_agent.store.rows import Passage
from gridgate_core.mqtt import LinkSettings, MqttLink
from gridgate_wire import (
    Channel,
    Decision,
    PassageDirection,
    PassageMethod,
    SubjectKind,
    edge_topic,
    encode,
    utc_now,
)
from hub.config import DatabaseConfig, HubConfig
from hub.runtime import HubService
from hub.store.db import make_engine, migrate
from hub.store.schema import dead_letters, edge_messages, metadata
from tests.brokers import Mosquitto
from tests.waiting import wait_until


def test_migrations_match_the_schema_and_rerun_safely(database_url: str) -> None:
    engine = make_engine(DatabaseConfig(url=database_url))
    migrate(engine)
    migrate(engine)  # every start runs it: a no-op the second time
    with engine.connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert drift == []


def test_same_event_three_times_is_one_row_and_three_acks(
    tmp_path: Path, broker: Mosquitto, database_url: str
) -> None:
    hub = HubService(
        HubConfig.model_validate(
            {
                "api": {"enabled": False},
                "ingest": {"unregistered_edges": "accept_events"},  # no registry here
                "instance_id": f"hub-{uuid.uuid4().hex[:8]}",
                "database": {"url": database_url},
                "mqtt": {"port": broker.port},
            }
        )
    )
    hub.start()
    hub.link.wait_connected(10)
    edge_id = f"edge-{uuid.uuid4().hex[:6]}"
    store = EventStore(tmp_path / "e.sqlite3", edge_id)
    event = store.append_passage(
        Passage(
            occurred_at=utc_now(),
            gate="g",
            direction=PassageDirection.IN,
            method=PassageMethod.CARD,
            subject=SubjectKind.RESIDENT,
            resident_id="R1",
            decision=Decision.GRANT,
        )
    )
    store.close()
    sender = MqttLink(LinkSettings(host="127.0.0.1", port=broker.port, client_id=f"s-{edge_id}"))
    sender.start()
    sender.wait_connected(10)
    try:
        for _ in range(3):
            assert sender.publish(edge_topic(edge_id, Channel.EVENT), encode(event)).wait(10)
        assert sender.publish(edge_topic(edge_id, Channel.EVENT), b"{not json").wait(10)
        wait_until(lambda: hub.ingestor.stats.acked_deliveries == 3)
        wait_until(lambda: hub.ingestor.stats.dead_letters == 1)
        with hub.engine.connect() as conn:
            rows = conn.scalar(
                select(func.count())
                .select_from(edge_messages)
                .where(edge_messages.c.edge_id == edge_id)
            )
            dead = conn.scalar(select(func.count()).select_from(dead_letters))
        assert rows == 1
        assert dead == 1
    finally:
        sender.stop()
        hub.stop()


def test_contiguous_watermark_waits_for_holes_then_steps_over_old_ones(database_url: str) -> None:
    from datetime import timedelta

    from hub.edgestate import GAP_GRACE, advance_watermark
    from hub.store.schema import edges

    engine = make_engine(DatabaseConfig(url=database_url))
    migrate(engine)
    now = utc_now()

    def store(seqs: list[int], received_at: object = now) -> int:
        with engine.begin() as conn:
            for seq in seqs:
                conn.execute(
                    edge_messages.insert().values(
                        edge_id="e1",
                        msg_id=str(uuid.uuid4()),
                        kind="edge_event",
                        seq=seq,
                        ts=now,
                        received_at=received_at,
                        payload="{}",
                    )
                )
            advance_watermark(conn, "e1")
            return int(conn.scalar(select(edges.c.contiguous_seq)) or 0)

    with engine.begin() as conn:
        conn.execute(
            edges.insert().values(
                edge_id="e1", max_seq=0, received=0, state="unknown", outbox_depth=0, software=""
            )
        )
    assert store([1, 2, 3]) == 3
    assert store([5, 6]) == 3  # 4 is missing: readers stop at 3
    assert store([4]) == 6
    assert store([9]) == 6  # 7 and 8 may still come: wait
    # 7 and 8 never arrived and 9 has waited past the grace time: the watermark steps over.
    with engine.begin() as conn:
        conn.execute(
            edge_messages.update()
            .where(edge_messages.c.seq == 9)
            .values(received_at=now - GAP_GRACE - timedelta(minutes=1))
        )
        advance_watermark(conn, "e1")
        assert conn.scalar(select(edges.c.contiguous_seq)) == 9
    engine.dispose()


def test_unit_of_work_publishes_after_commit_and_never_after_rollback(engine: Engine) -> None:
    from hub.errors import Conflict
    from hub.live import TaskNotice
    from hub.store.schema import areas
    from hub.uow import Outbound, unit_of_work

    published: list[tuple[Outbound, int]] = []

    def publish(out: Outbound) -> None:  # sees the committed row from another connection
        with engine.connect() as conn:
            published.append((out, int(conn.scalar(select(func.count()).select_from(areas)))))

    notice = TaskNotice("T1", "G1", None, "assigned", 1)
    with unit_of_work(engine, publish) as work:
        work.conn.execute(areas.insert().values(area_id="D1", level="district", name="区"))
        work.publish_after_commit(notice)
    assert [(out.notices, count) for out, count in published] == [([notice], 1)]

    def rolled_back() -> None:
        with unit_of_work(engine, publish) as work:
            work.conn.execute(areas.insert().values(area_id="D2", level="district", name="区"))
            work.publish_after_commit(notice)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        rolled_back()
    assert len(published) == 1  # nothing published for a rollback

    def refused() -> None:
        with unit_of_work(engine, publish) as work:
            work.conn.execute(areas.insert().values(area_id="D3", level="district", name="区"))
            work.refuse_after_commit(Conflict("kept, then refused"))

    with pytest.raises(Conflict):
        refused()
    assert published[-1][1] == 2  # committed first, then raised
