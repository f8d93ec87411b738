"""The hub at district scale (issue 19): indexes the scoped reads use (EXPLAIN on PostgreSQL),
capped totals and cursors, one shared change feed, streamed imports off the event loop, and an
audit entry that keeps every id a list read returned."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from hub.auth import Principal, Role
from hub.importer import import_csv
from hub.live import TaskFeed, changes_query
from hub.services import queries
from hub.store.schema import audit_log, residents, task_transitions, tasks
from tests.hub_helpers import login, offline_api, seed

ROOT = Principal("test", "test", Role.ADMIN, None, None, None, None)


def _more_residents(engine: Any, count: int, house: str = "HA1") -> list[str]:
    ids = [f"R{n:05d}" for n in range(count)]
    body = "resident_id,house_id,name\n" + "".join(f"{r},{house},某{r}\n" for r in ids)
    with engine.begin() as conn:
        report = import_csv(conn, "residents", body, ROOT)
    assert report.ok, report.problems[:3]
    return ids


def test_audit_keeps_every_id_of_a_list_read(engine: Any) -> None:
    seeded = seed(engine)
    _more_residents(engine, 60)
    with offline_api(engine) as (client, _):
        admin = login(client, seeded.users["admin"])
        listed = client.get("/api/v1/residents?limit=60", headers=admin).json()
        read = [r["resident_id"] for r in listed["items"]]
        assert len(read) == 60
        with engine.connect() as conn:
            entry = conn.execute(
                select(audit_log).where(audit_log.c.action == "read").order_by(audit_log.c.pk)
            ).all()[-1]
        assert len(",".join(read)) > 200  # more than object_id can hold
        assert json.loads(entry.object_ids) == read
        api_entry = client.get("/api/v1/audit?limit=5", headers=admin).json()["items"]
        assert any(e["object_ids"] == read for e in api_entry)


def test_capped_total_and_cursor_pages(engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seeded = seed(engine)
    _more_residents(engine, 12)
    monkeypatch.setattr(queries, "TOTAL_CAP", 5)
    with offline_api(engine) as (client, _):
        admin = login(client, seeded.users["admin"])
        first = client.get("/api/v1/residents?limit=4", headers=admin).json()
        assert (first["total"], first["total_exact"]) == (5, False)  # "more than 5"
        seen = [r["resident_id"] for r in first["items"]]
        cursor = first["next_cursor"]
        while cursor:
            page = client.get(f"/api/v1/residents?limit=4&cursor={cursor}", headers=admin).json()
            seen += [r["resident_id"] for r in page["items"]]
            cursor = page["next_cursor"]
        assert seen == sorted(seen)
        assert len(seen) == len(set(seen)) == 15  # 3 seeded + 12, each once
        last = client.get("/api/v1/residents?limit=4&offset=12", headers=admin).json()
        assert (last["total"], last["total_exact"]) == (15, True)  # exact when the list ends
        assert client.get("/api/v1/residents?cursor=%25%25", headers=admin).status_code == 422
        nul = queries.encode_cursor("R\x00")
        assert client.get(f"/api/v1/residents?cursor={nul}", headers=admin).status_code == 422
        assert client.get(f"/api/v1/audit?cursor={nul}", headers=admin).status_code == 422


def test_houses_page_by_cursor_in_scope(engine: Any) -> None:
    seeded = seed(engine)
    with offline_api(engine) as (client, _):
        worker = login(client, seeded.users["worker_a1"])  # grid GA1: house HA1 only
        admin = login(client, seeded.users["admin"])
        first = client.get("/api/v1/houses?limit=2", headers=admin).json()
        assert [h["house_id"] for h in first["items"]] == ["HA1", "HA2"]
        rest = client.get(f"/api/v1/houses?limit=2&cursor={first['next_cursor']}", headers=admin)
        assert [h["house_id"] for h in rest.json()["items"]] == ["HB1"]
        assert rest.json()["next_cursor"] is None
        mine = client.get("/api/v1/houses?limit=1", headers=worker).json()
        assert [h["house_id"] for h in mine["items"]] == ["HA1"]
        after = client.get(f"/api/v1/houses?cursor={mine['next_cursor']}", headers=worker)
        assert after.json()["items"] == []  # the cursor never leaves the scope


def test_streamed_import_reads_a_file_twice_and_imports_all_or_nothing(
    engine: Any, tmp_path: Path
) -> None:
    seed(engine)
    good = tmp_path / "good.csv"
    good.write_text(
        "\ufeffresident_id,house_id,name\n"
        + "".join(f"S{n:05d},HA2,住户{n}\n" for n in range(2500)),
        encoding="utf-8",
    )
    opened = 0

    def source() -> Any:
        nonlocal opened
        opened += 1
        return good.open(encoding="utf-8", newline="")

    with engine.begin() as conn:
        report = import_csv(conn, "residents", source, ROOT)
    assert report.ok
    assert report.imported == 2500
    assert opened == 2  # check, then insert
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "resident_id,house_id,name\nT1,HA1,x\nT2,NOPE,y\nS00001,HA1,z\nT3,HB1,w\n",
        encoding="utf-8",
    )
    with engine.begin() as conn:
        report = import_csv(conn, "residents", lambda: bad.open(encoding="utf-8"), ROOT)
        assert [(p.row, p.field) for p in report.problems] == [(3, "house_id"), (4, "resident_id")]
        assert report.imported == 0
        assert (
            conn.scalar(select(residents.c.resident_id).where(residents.c.resident_id == "T1"))
            is None
        )


def test_api_import_does_not_block_other_requests(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded = seed(engine)
    release = threading.Event()
    running = threading.Event()
    from hub.services import registry

    real = registry.import_csv

    def slow_import(*args: Any, **kwargs: Any) -> Any:
        running.set()
        release.wait(20)  # a long import, until the other request has been answered
        return real(*args, **kwargs)

    monkeypatch.setattr(registry, "import_csv", slow_import)
    with offline_api(engine) as (client, _):
        admin = login(client, seeded.users["admin"])
        answers: list[int] = []
        importer = threading.Thread(
            target=lambda: answers.append(
                client.post(
                    "/api/v1/import/workers",
                    content="worker_id,name,grid_id\nWX1,新人,GA1\n".encode(),
                    headers=admin,
                ).status_code
            )
        )
        importer.start()
        assert running.wait(20), "the import did not start"
        started = time.monotonic()
        other = client.get("/api/v1/houses", headers=admin)
        waited = time.monotonic() - started
        release.set()
        importer.join(30)
    assert other.status_code == 200
    assert waited < 5, f"another request waited {waited:.1f} s for the import"
    assert answers == [200]


def test_one_shared_poll_feeds_every_open_stream(engine: Any) -> None:
    seed(engine)
    with engine.begin() as conn:
        conn.execute(
            tasks.insert().values(
                task_id="T-feed",
                house_id="HA1",
                kind="welfare_check",
                state="assigned",
                open=True,
                assignee="WA1",
                worker_id="WA1",
                created_at=text("CURRENT_TIMESTAMP"),
                due_at=text("CURRENT_TIMESTAMP"),
                revision=1,
            )
        )
    feed = TaskFeed(poll_s=0.05)

    async def polled(count: int) -> None:
        async with asyncio.timeout(10):
            while feed.polls < count:
                # Already a wait on a condition: tests.waiting.wait_until would block the event
                # loop the feed polls on, so this is its async form (a 10 ms poll, 10 s bound).
                await asyncio.sleep(0.01)

    async def scenario() -> tuple[list[Any], list[Any], int]:
        mine = [feed.subscribe(frozenset({"GA1"}), engine) for _ in range(50)]
        other = feed.subscribe(frozenset({"GB1"}), engine)
        await polled(2)  # the first check is done: the poll has its starting point
        polls_before = feed.polls
        with engine.begin() as conn:  # a change committed by another hub process
            conn.execute(
                task_transitions.insert().values(
                    task_id="T-feed",
                    at=text("CURRENT_TIMESTAMP"),
                    actor="hub-2",
                    from_state=None,
                    to_state="assigned",
                    note="",
                )
            )
        got = [await asyncio.wait_for(q.get(), 5) for q in mine]
        polls = feed.polls - polls_before
        await polled(feed.polls + 2)  # had a notice been due to that stream, it would be there
        stray = [other.get_nowait()] if not other.empty() else []
        feed.close()
        return got, stray, polls

    got, stray, polls = asyncio.run(scenario())
    assert {(n.task_id, n.grid_id) for n in got} == {("T-feed", "GA1")}
    assert stray == []  # outside that stream's grids
    assert polls < 20  # one poll every 50 ms for all 51 streams, not one per stream


def test_scoped_list_queries_use_an_index(engine: Any) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("EXPLAIN plans are checked on PostgreSQL")
    seed(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO areas SELECT 'G' || g, 'grid', 'grid ' || g, 'CA' "
                "FROM generate_series(1, 500) g"
            )
        )
        conn.execute(
            text(
                "INSERT INTO houses (house_id, compound_id, grid_id, address, vacant) "
                "SELECT 'H' || h, 'cA', 'G' || (h % 500 + 1), 'addr ' || h, false "
                "FROM generate_series(1, 100000) h"
            )
        )
        conn.execute(
            text(
                "INSERT INTO residents (resident_id, house_id, active, care_recipient) "
                "SELECT 'P' || r, 'H' || (r % 100000 + 1), true, false "
                "FROM generate_series(1, 200000) r"
            )
        )
        conn.execute(text("ANALYZE"))
    worker = Principal("w", "w", Role.GRID_WORKER, None, "W", frozenset({"G7"}), frozenset({"CA"}))

    def plan(query: Any) -> str:
        compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
        with engine.connect() as conn:
            return "\n".join(r[0] for r in conn.execute(text(f"EXPLAIN {compiled}")))

    residents_plan = plan(queries.residents_query(worker).limit(50))
    houses_plan = plan(queries.houses_query(worker).limit(50))
    for name, found in (("residents", residents_plan), ("houses", houses_plan)):
        assert "Seq Scan on houses" not in found, f"{name}:\n{found}"
        assert "Seq Scan on residents" not in found, f"{name}:\n{found}"
    assert "ix_houses_grid" in houses_plan, houses_plan
    assert "ix_residents_house" in residents_plan, residents_plan
    with engine.begin() as conn:  # a year of tasks, each with a transition
        conn.execute(
            text(
                "INSERT INTO tasks (task_id, house_id, kind, state, open, assignee, created_at,"
                " due_at, revision) SELECT 'T' || n, 'H' || n, 'move_out', 'closed', false, 'c',"
                " now(), now(), 1 FROM generate_series(1, 20000) n"
            )
        )
        conn.execute(
            text(
                "INSERT INTO task_transitions (task_id, at, actor, to_state, note)"
                " SELECT task_id, now(), 'hub', 'created', '' FROM tasks"
            )
        )
        conn.execute(text("ANALYZE"))
    feed_plan = plan(changes_query(19_990))  # the shared poll of the event streams
    assert "Seq Scan" not in feed_plan, feed_plan
