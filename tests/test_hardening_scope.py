"""Issue 14, high: an edge speaks only about its own compound's houses and residents."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from hub.store.schema import edges, face_templates, tasks
from tests.hardening_helpers import (
    alert,
    dead,
    enrolment,
    erasure,
    event,
    ingest,
    of,
    roster_ack,
    status,
    stored_ids,
)
from tests.hub_helpers import seed


def _tasks(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [(str(r.house_id), str(r.kind)) for r in conn.execute(select(tasks))]


def test_an_edge_cannot_raise_alerts_for_another_compound(engine: Engine) -> None:
    s = seed(engine)
    batch = [
        alert(s.edge_a, 1, "cA", "HB1"),  # B's house under A's compound id
        alert(s.edge_a, 2, "cB", "HB1"),  # B's compound and house
        alert(s.edge_a, 3, "cA", "HA1", resident_id="RB1"),  # B's resident
        alert(s.edge_a, 4, "cA", "HA1"),  # its own: becomes a task
    ]
    ingest(engine, [of(m) for m in batch])
    assert _tasks(engine) == [("HA1", "vacancy")]
    letters = dead(engine)
    assert sorted(str(letter.msg_id) for letter in letters) == sorted(str(m.id) for m in batch[:3])
    assert {letter.field for letter in letters} == {"house_id", "compound_id", "resident_id"}


def test_an_edge_cannot_name_another_compounds_residents(engine: Engine) -> None:
    s = seed(engine)
    foreign = [
        event(s.edge_a, 1, resident_id="RB1"),
        event(s.edge_a, 2, house_id="HB1"),
        enrolment(s.edge_a, 3, "RB1"),
        erasure(s.edge_a, 4, "RB1"),
        enrolment(s.edge_a, 5, "R-unknown"),
    ]
    own = [
        event(s.edge_a, 6, resident_id="RA1", house_id="HA1"),
        event(s.edge_a, 7, resident_id="R-not-yet-imported"),  # stored, acted on by nobody
        enrolment(s.edge_a, 8, "RA1"),
    ]
    ingest(engine, [of(m) for m in foreign + own])
    assert sorted(stored_ids(engine)) == sorted(str(m.id) for m in own)
    assert sorted(str(letter.msg_id) for letter in dead(engine)) == sorted(
        str(m.id) for m in foreign
    )
    with engine.connect() as conn:
        holders = [(r.edge_id, r.resident_id) for r in conn.execute(select(face_templates))]
    assert holders == [(s.edge_a, "RA1")]


def test_messages_from_an_unregistered_edge_are_dead_lettered(engine: Engine) -> None:
    seed(engine)
    rogue = "edge-rogue"
    messages = [
        alert(rogue, 1, "cA", "HA1"),
        event(rogue, 2, resident_id="RA1"),
        roster_ack(rogue, 3),
        enrolment(rogue, 4, "RA1"),
    ]
    ingest(engine, [of(m) for m in messages] + [of(status(rogue, 4))])
    assert _tasks(engine) == []
    assert stored_ids(engine) == []
    letters = dead(engine)
    assert len(letters) == 4  # the status is ignored, not stored, not a dead letter
    assert {letter.reason for letter in letters} == {"edge is not registered at the hub"}
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(edges)) == 0


def test_accept_events_mode_stores_passages_but_never_alerts(engine: Engine) -> None:
    seed(engine)
    rig = "edge-test-rig"
    ingest(
        engine,
        [of(event(rig, 1)), of(alert(rig, 2, "cA", "HA1")), of(status(rig, 2))],
        unregistered="accept_events",
    )
    assert len(stored_ids(engine, rig)) == 1
    assert _tasks(engine) == []
    with engine.connect() as conn:
        assert conn.scalar(select(edges.c.state).where(edges.c.edge_id == rig)) == "online"
