"""Issue 14: roster snapshots in bounded parts, built outside ingest, applied atomically."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, func, insert, select

from edge_agent.store.roster import RosterStore
from gridgate_wire import RosterAck, RosterUpdate, decode, encode, new_fields, utc_now
from hub import sync
from hub.store.schema import (
    consents,
    edge_compounds,
    houses,
    resident_credentials,
    residents,
    roster_outbox,
)
from tests.hardening_helpers import ingest, of
from tests.hub_helpers import seed
from tests.roster_builders import resident

EDGE = "edge-A"


def _big_compound(engine: Engine, people: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(houses),
            [
                {
                    "house_id": f"HX{h}",
                    "compound_id": "cA",
                    "grid_id": "GA1",
                    "address": f"x-{h}",
                    "vacant": False,
                    "building": "",
                    "unit": "",
                }
                for h in range(people // 3)
            ],
        )
        conn.execute(
            insert(residents),
            [
                {
                    "resident_id": f"RX{i:06d}",
                    "house_id": f"HX{i // 3}",
                    "active": True,
                    "care_recipient": False,
                    "name": "",
                    "phone": "",
                }
                for i in range(people)
            ],
        )
        conn.execute(
            insert(resident_credentials),
            [
                {"resident_id": f"RX{i:06d}", "kind": "card", "secret_sha256": f"{i:064x}"}
                for i in range(people)
            ],
        )
        conn.execute(
            insert(consents),
            [
                {
                    "consent_id": f"CX{i}",
                    "resident_id": f"RX{i:06d}",
                    "purpose": "face",
                    "version": "2026.1",
                    "granted_at": utc_now(),
                    "recorded_by": "test",
                }
                for i in range(0, people, 2)
            ],
        )


def test_a_large_compound_snapshot_is_split_into_messages_the_broker_takes(
    engine: Engine,
) -> None:
    seed(engine)
    people = 45_000
    _big_compound(engine, people)
    started = time.monotonic()
    with engine.begin() as conn:
        parts = sync.queue_snapshot(conn, EDGE)
    seconds = time.monotonic() - started
    assert len(parts) >= 3
    assert {p.parts for p in parts} == {len(parts)}
    assert len({p.roster_version for p in parts}) == 1
    total = 0
    for part in parts:
        payload = encode(part)
        assert len(payload) <= RosterUpdate.MAX_BYTES
        total += len(decode(payload, RosterUpdate).residents)
    assert total == people + 2  # the seeded RA1 and RA2 too
    assert seconds < 60
    with engine.connect() as conn:
        again = sync.due_for_resend(conn, utc_now(), timedelta(seconds=30))
    assert sorted(p.part for p in again) == list(range(1, len(parts) + 1))


def test_the_edge_applies_a_split_snapshot_only_when_every_part_is_in(tmp_path: Path) -> None:
    store = RosterStore(tmp_path / "roster.sqlite3")
    store.apply(
        RosterUpdate(
            **new_fields(), edge_id=EDGE, roster_version=1, residents=[resident("OLD", "H")]
        )
    )
    people = [resident(f"R{i}", "H", card=f"card-{i}") for i in range(9)]
    parts = [
        RosterUpdate(
            **new_fields(),
            edge_id=EDGE,
            roster_version=2,
            residents=people[i * 3 : i * 3 + 3],
            part=i + 1,
            parts=3,
        )
        for i in range(3)
    ]
    assert store.apply(parts[1]).pending
    assert store.apply(parts[0]).pending
    assert store.version == 1
    assert store.resident("OLD") is not None  # the old roster stays in force meanwhile
    change = store.apply(parts[2])
    assert not change.pending
    assert store.version == 2
    assert store.resident("OLD") is None
    assert all(store.resident(f"R{i}") is not None for i in range(9))
    assert not store.apply(parts[0]).pending  # a re-sent part of an applied version: no-op
    store.close()


def test_a_refused_delta_builds_no_snapshot_inside_ingest(engine: Engine) -> None:
    seed(engine)
    with engine.begin() as conn:
        sent = sync.queue_delta(conn, EDGE, removed=["RA1"])

    def outbox() -> int:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(roster_outbox)) or 0)

    refusal = RosterAck.model_validate(
        {
            **new_fields(),
            "edge_id": EDGE,
            "seq": 1,
            "roster_version": sent.roster_version,
            "applied": False,
            "error": "wrong base",
        }
    )
    ingest(engine, [of(refusal)])
    assert outbox() == 1  # only the refused delta: the snapshot waits for the duties
    with engine.begin() as conn:
        built = sync.build_wanted(conn)
        assert (
            conn.scalar(
                select(edge_compounds.c.snapshot_wanted_at).where(edge_compounds.c.edge_id == EDGE)
            )
            is None
        )
    assert len(built) == 1
    assert built[0].base_version is None
    assert outbox() == 2


def test_an_ack_for_a_version_never_sent_clears_nothing(engine: Engine) -> None:
    seed(engine)
    with engine.begin() as conn:
        sync.queue_delta(conn, EDGE, removed=["RA1"])
    forged = RosterAck.model_validate(
        {**new_fields(), "edge_id": EDGE, "seq": 1, "roster_version": 10**12, "applied": True}
    )
    ingest(engine, [of(forged)])
    with engine.connect() as conn:
        assert sync.pending_count(conn, EDGE) == 1


def test_concurrent_roster_versions_do_not_collide(engine: Engine) -> None:
    seed(engine)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    versions: list[int] = []

    def change() -> None:
        try:
            barrier.wait(5)
            for _ in range(5):
                with engine.begin() as conn:
                    versions.append(sync.queue_delta(conn, EDGE, removed=["RA2"]).roster_version)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=change) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(versions) == list(range(1, 21))


def test_roster_entries_carry_the_registry_label_of_their_house(engine: Engine) -> None:
    """The guard room names houses by these labels (issue 18 follow-up), snapshot or delta."""
    seed(engine)
    with engine.begin() as conn:
        (delta,) = sync.queue_resident_change(conn, "RA2")
        (snapshot,) = sync.queue_snapshot(conn, EDGE)
    assert [(r.house_id, r.house_label) for r in delta.residents] == [("HA2", "2-1-201")]
    assert {(r.house_id, r.house_label) for r in snapshot.residents} == {
        ("HA1", "1-1-101"),
        ("HA2", "2-1-201"),
    }


def test_an_older_edge_roster_gains_the_label_column_in_place(tmp_path: Path) -> None:
    path = tmp_path / "roster.db"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE residents (resident_id TEXT PRIMARY KEY, house_id TEXT NOT NULL, "
        "active INTEGER NOT NULL, consent_id TEXT, consent_version TEXT, gates TEXT, "
        "care_recipient INTEGER NOT NULL);"
        "INSERT INTO residents VALUES ('R1', 'H-1', 1, NULL, NULL, NULL, 0);"
    )
    old.commit()
    old.close()
    store = RosterStore(path)
    try:
        assert store.resident("R1") is not None  # its rows are kept
        assert store.house_labels() == {"H-1": "H-1"}  # no label yet: the id
        store.apply(
            RosterUpdate(
                **new_fields(),
                edge_id=EDGE,
                roster_version=1,
                residents=[resident("R1", "H-1", label="1栋1单元101"), resident("R2", "H-2")],
            )
        )
        assert store.house_labels() == {"H-1": "1栋1单元101", "H-2": "H-2"}
    finally:
        store.close()
