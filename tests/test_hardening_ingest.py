"""Issue 14, critical: one message never stops hub ingest (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

from hub.ingest import Ingestor
from hub.store.db import migrate
from tests.hardening_helpers import dead, dead_count, event, incoming, ingest, of, raw, stored_ids
from tests.hub_helpers import seed
from tests.waiting import wait_until

EDGE = "edge-A"


def _body(n: int, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(of(event(EDGE, n)).payload)
    body.update(changes)
    return body


def test_hostile_values_are_dead_lettered_with_a_reason_and_the_rest_stored(
    engine: Engine,
) -> None:
    seed(engine)
    topic = of(event(EDGE, 1)).topic
    hostile = [
        incoming(topic, b'{"v": 1, "type": "edge_event", "seq": ' + b"9" * 5000 + b"}"),
        incoming(topic, b"[" * 40_000 + b"]" * 40_000),
        incoming(topic, b'{"a":' * 200 + b"1" + b"}" * 200),
        raw(EDGE, "edge_event", _body(2, seq=2**63)),
        raw(EDGE, "edge_event", _body(3, lane=10**30)),
        raw(EDGE, "edge_event", _body(4, reason="nul \x00 here")),
        incoming(topic, json.dumps(_body(5)).replace('"north"', '"\\ud800"').encode()),
        incoming(topic, json.dumps(_body(6, reason="@")).replace("@", "\\udfff").encode()),
        incoming(topic, json.dumps(_body(7, score="@")).replace('"@"', "NaN").encode()),
        incoming(topic, b'{"v": 1, "type": "edge_event", "x": Infinity}'),
        incoming(topic, b"\xff\xfe\x00bad utf-8"),
        raw(EDGE, "edge_event", {**_body(8), "\x00key": 1}),
    ]
    good = [of(event(EDGE, seq)) for seq in range(10, 30)]
    ingestor = ingest(engine, [*hostile[:6], *good, *hostile[6:]])
    assert len(stored_ids(engine, EDGE)) == 20
    letters = dead(engine)
    assert len(letters) == len(hostile)
    assert all(letter.reason for letter in letters)
    reasons = " | ".join(f"{letter.field}: {letter.reason}" for letter in letters)
    for expected in ("64-bit", "nested deeper", "NUL", "lone surrogate", "UTF-8"):
        assert expected in reasons
    assert ingestor.stats.dead_letters == len(hostile)


def _poison_trigger(engine: Engine, seq: int) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER poison BEFORE INSERT ON edge_messages "
                    f"WHEN NEW.seq = {seq} BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.seq = {seq} THEN RAISE EXCEPTION 'poisoned row'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER poison BEFORE INSERT ON edge_messages "
                    "FOR EACH ROW EXECUTE FUNCTION poison()"
                )
            )


def test_a_message_the_database_refuses_is_split_out_and_dead_lettered(engine: Engine) -> None:
    seed(engine)
    _poison_trigger(engine, 666)
    poison = event(EDGE, 666)
    batch = [of(event(EDGE, seq)) for seq in range(1, 300)]
    batch.insert(137, of(poison))
    ingestor = ingest(engine, batch)
    assert len(stored_ids(engine, EDGE)) == 299
    [letter] = dead(engine)
    assert letter.msg_id == str(poison.id)
    assert letter.edge_id == EDGE
    assert "not stored" in letter.reason
    assert "poisoned row" in letter.reason
    assert ingestor.stats.splits >= 1
    # The broker redelivers it (a hub restart): it is dead-lettered again, nothing else moves.
    ingest(engine, [of(poison)])
    assert len(stored_ids(engine, EDGE)) == 299


def test_an_id_reused_with_other_content_is_dead_lettered(engine: Engine) -> None:
    seed(engine)
    first = event(EDGE, 1)
    ingest(engine, [of(first)])
    other = first.model_copy(update={"gate": "south"})
    ingest(engine, [of(first), of(other)])
    assert stored_ids(engine, EDGE) == [str(first.id)]
    [letter] = dead(engine)
    assert "reused" in letter.reason
    assert letter.msg_id == str(first.id)


def test_a_database_outage_makes_ingest_wait_and_retry_not_dead_letter(tmp_path: Path) -> None:
    path = tmp_path / "hub.sqlite3"
    # A short busy time-out, so a held lock surfaces as OperationalError in a test's time.
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.2})
    migrate(engine)
    seed(engine)
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("PRAGMA journal_mode=WAL")
    locker.execute("BEGIN IMMEDIATE")  # holds the write lock: the hub cannot commit
    ingestor = Ingestor(engine, batch_wait_ms=5)
    ingestor.start()
    try:
        sent = [event(EDGE, seq) for seq in range(1, 51)]
        for message in sent:
            ingestor.on_message(of(message))
        wait_until(lambda: ingestor.stats.outages >= 2, timeout=20)
        assert dead_count(engine) == 0
        locker.execute("ROLLBACK")
        wait_until(lambda: len(stored_ids(engine, EDGE)) == 50, timeout=30)
        assert dead_count(engine) == 0
    finally:
        locker.close()
        ingestor.stop()
        engine.dispose()
    assert time.monotonic() > 0
