"""Issue 14, high: a store identity (epoch) in every edge message; the hub notices a new one."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, select

from edge_agent.store.events import EventStore
from edge_agent.store.rows import Passage
from gridgate_wire import Decision, PassageDirection, PassageMethod, SubjectKind, decode
from gridgate_wire.messages import EdgeEvent
from hub.store.schema import edge_alarms, edges
from tests.hardening_helpers import event, ingest, of, status, stored_ids
from tests.hub_helpers import seed

EDGE = "edge-A"


def _alarms(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [(r.kind, r.detail) for r in conn.execute(select(edge_alarms).order_by("pk"))]


def _edge(engine: Engine) -> object:
    with engine.connect() as conn:
        return conn.execute(select(edges).where(edges.c.edge_id == EDGE)).one()


def _passage(store: EventStore) -> EdgeEvent:
    return store.append_passage(
        Passage(
            occurred_at=event(EDGE, 1).occurred_at,
            gate="north",
            direction=PassageDirection.IN,
            method=PassageMethod.CARD,
            subject=SubjectKind.UNKNOWN,
            decision=Decision.DENY,
        )
    )


def test_the_edge_store_keeps_its_epoch_and_a_new_store_gets_a_new_one(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    store = EventStore(path, EDGE)
    first = _passage(store)
    assert first.epoch == store.epoch
    assert decode(store.outbox_after(0, 10)[0].payload, EdgeEvent).epoch == store.epoch
    store.close()
    again = EventStore(path, EDGE)
    assert again.epoch == first.epoch
    again.close()
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    emptied = EventStore(path, EDGE)
    assert emptied.epoch != first.epoch
    assert _passage(emptied).seq == 1
    emptied.close()


def test_a_corrupt_store_is_set_aside_and_the_gate_keeps_recording(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    store = EventStore(path, EDGE)
    assert store.set_aside is not None
    assert store.set_aside.exists()
    assert _passage(store).seq == 1
    store.close()


def test_the_hub_alarms_on_a_new_epoch_and_keeps_both(engine: Engine) -> None:
    seed(engine)
    old = [event(EDGE, seq, epoch="epoch-1") for seq in range(1, 6)]
    ingest(engine, [of(m) for m in old])
    assert _edge(engine).contiguous_seq == 5  # type: ignore[attr-defined]
    new = [event(EDGE, seq, epoch="epoch-2") for seq in range(1, 4)]
    late = event(EDGE, 6, epoch="epoch-1")  # an old-epoch re-send arriving afterwards
    ingest(engine, [of(m) for m in new])
    ingest(engine, [of(late)])
    assert len(stored_ids(engine, EDGE)) == 9
    row = _edge(engine)
    assert row.epoch == "epoch-2"  # type: ignore[attr-defined]
    assert row.contiguous_seq == 3  # type: ignore[attr-defined]
    kinds = [kind for kind, _ in _alarms(engine)]
    assert kinds == ["new_epoch"]


def test_an_edge_without_epochs_reusing_seqs_raises_an_alarm(engine: Engine) -> None:
    seed(engine)
    ingest(engine, [of(event(EDGE, seq)) for seq in range(1, 4)])
    ingest(engine, [of(event(EDGE, seq)) for seq in range(1, 3)])  # the store was replaced
    assert len(stored_ids(engine, EDGE)) == 5
    [(kind, detail)] = _alarms(engine)
    assert kind == "seq_reused"
    assert "2 seq numbers" in detail


def test_status_seq_reveals_a_gap_and_warnings_become_alarms(engine: Engine) -> None:
    seed(engine)
    ingest(engine, [of(event(EDGE, seq, epoch="e1")) for seq in range(1, 4)])
    warning = "event store uses 95% of its disk budget"
    ingest(engine, [of(status(EDGE, 3, epoch="e1", warnings=[warning]))])
    ingest(engine, [of(status(EDGE, 3, epoch="e1", warnings=[warning]))])  # same: no new alarm
    ingest(engine, [of(status(EDGE, 10, epoch="e1", state="offline"))])  # its last will
    row = _edge(engine)
    assert row.status_seq == 10  # type: ignore[attr-defined]
    assert json.loads(row.warnings) == [warning]  # type: ignore[attr-defined]
    assert [kind for kind, _ in _alarms(engine)] == ["edge_warning", "status_gap"]
