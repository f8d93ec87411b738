"""Issue 14, data lifecycle: what the hub keeps of passages, and the scheduled purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select, update

from hub.config import PassagesConfig
from hub.passages import purge
from hub.store.schema import dead_letters, edge_messages, login_failures, passage_counts
from tests.hardening_helpers import alert, dead_count, event, ingest, of, stored_ids
from tests.hub_helpers import seed

EDGE = "edge-A"


def _payloads(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [
            str(p)
            for p in conn.scalars(
                select(edge_messages.c.payload).where(edge_messages.c.kind == "edge_event")
            )
        ]


def test_the_default_keeps_daily_counts_and_no_person(engine: Engine) -> None:
    seed(engine)
    moment = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # 01:00 on 1 December in Shanghai
    passages = [
        event(EDGE, seq, resident_id="RA1", house_id="HA1", occurred_at=moment)
        for seq in range(1, 6)
    ]
    ingest(engine, [of(p) for p in passages], site_timezone="Asia/Shanghai")
    ingest(engine, [of(p) for p in passages[:2]], site_timezone="Asia/Shanghai")  # re-sent
    assert len(stored_ids(engine, EDGE)) == 5
    assert dead_count(engine) == 0  # a re-send is recognised by its digest, not a reused id
    assert all("RA1" not in p and "HA1" not in p for p in _payloads(engine))
    with engine.connect() as conn:
        counts = conn.execute(select(passage_counts)).all()
    assert [(c.day, c.gate, c.direction, c.method, c.decision, c.passages) for c in counts] == [
        ("2026-12-01", "north", "in", "card", "grant", 5)
    ]
    other = passages[0].model_copy(update={"gate": "south"})
    ingest(engine, [of(other)])
    assert dead_count(engine) == 1  # same id, other content: still noticed


def test_full_keeps_passages_and_none_keeps_nothing_but_the_digest(engine: Engine) -> None:
    seed(engine)
    full = event(EDGE, 1, resident_id="RA1")
    ingest(engine, [of(full)], passages=PassagesConfig(keep="full"))
    nothing = event(EDGE, 2, resident_id="RA2")
    ingest(engine, [of(nothing)], passages=PassagesConfig(keep="none"))
    payloads = sorted(_payloads(engine))
    assert any("RA1" in p for p in payloads)
    assert not any("RA2" in p for p in payloads)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(passage_counts)) == 0


def test_the_purge_ends_passages_counts_dead_letters_and_login_failures(engine: Engine) -> None:
    seed(engine)
    ingest(engine, [of(event(EDGE, 1)), of(event(EDGE, 2)), of(alert(EDGE, 3, "cA", "HA1"))])
    ingest(engine, [of(event(EDGE, 4, resident_id="RB1"))])  # a dead letter
    now = datetime.now(UTC)
    old = now - timedelta(days=40)
    with engine.begin() as conn:
        conn.execute(update(edge_messages).where(edge_messages.c.seq == 1).values(received_at=old))
        conn.execute(update(dead_letters).values(received_at=old))
        conn.execute(
            login_failures.insert().values(username="u", client="c", at=now - timedelta(days=2))
        )
        conn.execute(
            passage_counts.insert().values(
                edge_id=EDGE,
                day="2020-01-01",
                gate="g",
                direction="in",
                method="card",
                decision="grant",
                passages=3,
            )
        )
        done = purge(conn, PassagesConfig(), now)
    assert done["passages"] == 1
    assert done["dead_letters"] == 1
    assert done["login_failures"] == 1
    assert done["daily_counts"] == 1
    with engine.connect() as conn:
        kinds = sorted(str(k) for k in conn.scalars(select(edge_messages.c.kind)))
    assert kinds == ["edge_alert", "edge_event"]  # the alert (task evidence) is never purged
