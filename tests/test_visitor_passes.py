"""Visitor passes: issued at the hub, carried to the edge like the roster, verified at the gate;
walk-ins registered at the guard room reach the hub once. Real SQLite at the edge; the hub on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import hub.passes as hub_passes
from edge_agent.access.doors import DuressConfig
from edge_agent.access.passes import PassReason, PassVerifier
from edge_agent.access.schedule import AccessSchedules, ScheduleConfig
from edge_agent.analysis.calendar import CalendarConfig
from edge_agent.store.passes import PassStore
from gridgate_wire import (
    CredentialKind,
    EdgeEvent,
    EdgePass,
    PassAck,
    PassKind,
    PassOrigin,
    PassSchedule,
    PassUpdate,
    ScheduleWindow,
    SubjectKind,
    WalkInPass,
    decode,
    encode,
    make_secret,
    new_fields,
    qr_payload,
    utc_now,
    uuid7,
)
from hub.passes import PassRefused, PassRequest
from hub.store.schema import audit_log, pass_outbox
from tests.hub_helpers import seed

NOW = datetime(2026, 11, 30, 2, tzinfo=UTC)  # Monday 10:00 in Shanghai
HOUR = timedelta(hours=1)
TOKEN = "q3Vb9xLr0TzWm2Kd5YhN"


def edge_pass(ident: str = "P-1", **over: Any) -> EdgePass:
    fields: dict[str, Any] = {
        "pass_id": ident,
        "house_id": "HA1",
        "display_name": "王女士",
        "secrets": [
            make_secret(CredentialKind.QR, TOKEN),
            make_secret(CredentialKind.PIN, "482913"),
        ],
        "valid_from": NOW - HOUR,
        "valid_until": NOW + 5 * HOUR,
    }
    fields.update(over)
    return EdgePass.model_validate(fields)


def full(version: int, *passes: EdgePass, revoked: tuple[str, ...] = ()) -> PassUpdate:
    return PassUpdate(
        **new_fields(),
        edge_id="edge-A",
        pass_version=version,
        passes=list(passes),
        revoked=list(revoked),
    )


def delta(version: int, *passes: EdgePass, revoked: tuple[str, ...] = ()) -> PassUpdate:
    return PassUpdate(
        **new_fields(),
        edge_id="edge-A",
        pass_version=version,
        base_version=version - 1,
        passes=list(passes),
        revoked=list(revoked),
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[PassStore]:
    passes = PassStore(tmp_path / "passes.sqlite3")
    yield passes
    passes.close()


def verifier(store: PassStore, **schedules: Any) -> PassVerifier:
    config = ScheduleConfig.model_validate({**schedules, "calendar": CalendarConfig(country="")})
    return PassVerifier(store, AccessSchedules(config), DuressConfig(enabled=True))


def qr(ident: str = "P-1") -> str:
    return qr_payload(ident, TOKEN)


# ------------------------------------------------------------------------------- at the edge


def test_pass_opens_within_its_window_and_not_outside(store: PassStore) -> None:
    store.apply(full(1, edge_pass()))
    gate = verifier(store)
    granted = gate.verify(CredentialKind.QR, qr(), "north", NOW)
    assert granted.granted
    assert (granted.subject, granted.house_id, granted.pass_id) == (
        SubjectKind.VISITOR,
        "HA1",
        "P-1",
    )
    assert gate.verify(CredentialKind.QR, qr(), "north", NOW - 2 * HOUR).reason is (
        PassReason.NOT_YET_VALID
    )
    assert (
        gate.verify(CredentialKind.QR, qr(), "north", NOW + 5 * HOUR).reason is PassReason.EXPIRED
    )
    assert gate.verify(CredentialKind.PIN, "482913", "north", NOW).granted


def test_uses_run_out_and_refusals_cost_none(store: PassStore) -> None:
    store.apply(full(1, edge_pass(max_uses=2, gates=["north"])))
    gate = verifier(store)
    assert gate.verify(CredentialKind.QR, qr(), "side", NOW).reason is PassReason.WRONG_GATE
    assert gate.verify(CredentialKind.QR, qr(), "north", NOW).granted
    assert gate.verify(CredentialKind.QR, qr(), "north", NOW, count_use=False).granted  # an exit
    assert gate.verify(CredentialKind.PIN, "482913", "north", NOW).granted
    assert gate.verify(CredentialKind.QR, qr(), "north", NOW).reason is PassReason.USED_UP
    stored = store.get("P-1")
    assert stored is not None
    assert (stored.uses, stored.uses_left) == (2, 0)
    # A new version of the pass from the hub keeps the count.
    store.apply(delta(2, edge_pass(max_uses=3)))
    assert gate.verify(CredentialKind.QR, qr(), "north", NOW).granted
    assert gate.verify(CredentialKind.QR, qr(), "north", NOW).reason is PassReason.USED_UP


def test_last_use_is_admitted_once_under_a_race(store: PassStore) -> None:
    store.apply(full(1, edge_pass(max_uses=1)))
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def take() -> None:
        barrier.wait()
        results.append(store.use("P-1", NOW))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]


def test_revocation_reaches_the_gate(store: PassStore) -> None:
    store.apply(full(1, edge_pass()))
    change = store.apply(delta(2, revoked=("P-1",)))
    assert change.revoked == ("P-1",)
    assert (
        verifier(store).verify(CredentialKind.QR, qr(), "north", NOW).reason is PassReason.REVOKED
    )
    # A later version of the pass never undoes a revocation, and a full list keeps the tombstone.
    store.apply(delta(3, edge_pass()))
    store.apply(full(4, revoked=("P-1",)))
    assert verifier(store).verify(CredentialKind.PIN, "482913", "north", NOW).reason is (
        PassReason.REVOKED
    )


def test_versions_apply_once_and_deltas_need_their_base(store: PassStore) -> None:
    assert store.apply(full(3, edge_pass())).applied
    assert not store.apply(full(2)).applied  # older: ignored, nothing removed
    assert store.get("P-1") is not None
    with pytest.raises(ValueError, match="full pass list"):
        store.apply(delta(7, edge_pass("P-2")))
    assert store.version == 3
    store.apply(full(8, edge_pass("P-2")))
    assert store.get("P-1") is None  # a full list replaces
    assert store.get("P-2") is not None


def test_wrong_token_unknown_pass_and_other_credentials(store: PassStore) -> None:
    store.apply(full(1, edge_pass()))
    gate = verifier(store)
    assert gate.verify(CredentialKind.QR, qr_payload("P-1", "x" * 20), "north", NOW).reason is (
        PassReason.UNKNOWN
    )
    assert gate.verify(CredentialKind.QR, qr("P-9"), "north", NOW).reason is PassReason.UNKNOWN
    other = gate.verify(CredentialKind.QR, "resident-card-0001", "north", NOW)
    assert other.reason is PassReason.OTHER_CREDENTIAL
    assert not other.is_pass
    assert gate.verify(CredentialKind.PIN, "000000", "north", NOW).reason is (
        PassReason.OTHER_CREDENTIAL
    )


def test_duress_pin_grants_and_flags(store: PassStore) -> None:
    store.apply(full(1, edge_pass()))
    verdict = verifier(store).verify(CredentialKind.PIN, "482914", "north", NOW)
    assert verdict.granted
    assert verdict.duress
    assert verdict.pass_id == "P-1"
    plain = verifier(store).verify(CredentialKind.PIN, "482913", "north", NOW)
    assert plain.granted
    assert not plain.duress


def test_carer_schedule_and_the_kinds_group(store: PassStore) -> None:
    weekdays = PassSchedule(
        windows=[ScheduleWindow(days=[1, 2, 3, 4, 5], start="08:00", end="18:00")]
    )
    carer = edge_pass(kind=PassKind.CARER, valid_until=NOW + timedelta(days=90), schedule=weekdays)
    store.apply(full(1, carer))
    gate = verifier(store)
    assert gate.verify(CredentialKind.QR, qr(), "north", NOW).granted  # Monday 10:00
    night = gate.verify(CredentialKind.QR, qr(), "north", NOW + 12 * HOUR)  # Monday 22:00
    assert night.reason is PassReason.OUTSIDE_SCHEDULE
    assert "own_closed" in night.text
    # A group schedule for every domestic helper limits a pass without its own schedule.
    store.apply(full(2, edge_pass(kind=PassKind.DOMESTIC_HELPER)))
    helpers = verifier(
        store,
        groups={"domestic_helper": {"windows": [{"days": [2], "start": "08:00", "end": "12:00"}]}},
    )
    refused = helpers.verify(CredentialKind.QR, qr(), "north", NOW)
    assert refused.reason is PassReason.OUTSIDE_SCHEDULE
    assert "group_closed" in refused.text


def test_walk_in_stays_pending_until_the_hub_knows_it(store: PassStore) -> None:
    walk_in = edge_pass("W-1", origin=PassOrigin.GUARD_ROOM)
    store.register_walk_in(walk_in)
    with pytest.raises(ValueError, match="exists"):
        store.register_walk_in(walk_in)
    with pytest.raises(ValueError, match="guard_room"):
        store.register_walk_in(edge_pass("P-7"))
    assert verifier(store).verify(CredentialKind.QR, qr("W-1"), "north", NOW).granted
    store.apply(full(1, edge_pass()))  # the hub has not heard of it yet: kept
    assert [p.pass_id for p in store.pending_walk_ins()] == ["W-1"]
    store.apply(delta(2, walk_in))  # back from the hub: no longer pending
    assert store.pending_walk_ins() == []
    store.register_walk_in(edge_pass("W-2", origin=PassOrigin.GUARD_ROOM))
    assert store.acknowledge_walk_ins(["W-2", "W-1"]) == 1
    assert {p.pass_id for p in store.valid_between(NOW, NOW)} == {"P-1", "W-1", "W-2"}
    assert [p.pass_id for p in store.for_house("HA1")] != []
    assert store.purge_expired(NOW + 6 * HOUR) == 3
    assert store.all() == []


def test_store_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite3"
    first = PassStore(path)
    first.apply(full(5, edge_pass(max_uses=3)))
    assert first.use("P-1", NOW)
    first.close()
    again = PassStore(path)
    stored = again.get("P-1")
    again.close()
    assert stored is not None
    assert (stored.uses, stored.edge_pass.display_name) == (1, "王女士")


def test_visitor_event_carries_the_pass() -> None:
    base: dict[str, Any] = {
        **new_fields(),
        "edge_id": "edge-A",
        "seq": 1,
        "occurred_at": utc_now(),
        "gate": "north",
        "direction": "in",
        "method": "qr",
        "decision": "grant",
        "house_id": "HA1",
    }
    event = EdgeEvent.model_validate({**base, "subject": "visitor", "pass_id": "P-1"})
    assert decode(encode(event), EdgeEvent).pass_id == "P-1"
    with pytest.raises(ValueError, match="pass_id"):
        EdgeEvent.model_validate({**base, "subject": "visitor"})
    with pytest.raises(ValueError, match="pass_id"):
        EdgeEvent.model_validate({**base, "subject": "resident", "pass_id": "P-1"})
    # An event without the field (an older edge) still decodes.
    raw = json.loads(encode(EdgeEvent.model_validate({**base, "subject": "unknown"})))
    raw.pop("pass_id", None)  # encode leaves out null fields (447760b)
    assert decode(json.dumps(raw).encode(), EdgeEvent).pass_id is None


# -------------------------------------------------------------------------------- at the hub


def request(**over: Any) -> PassRequest:
    fields: dict[str, Any] = {
        "house_id": "HA1",
        "valid_from": utc_now() - HOUR,
        "valid_until": utc_now() + 5 * HOUR,
        "visitor_name": "王建国",
        "display_name": "王先生",
        "phone": "13900000000",
        "purpose": "探亲",
        "max_uses": 4,
    }
    fields.update(over)
    return PassRequest(**fields)


def test_issue_reaches_only_the_compounds_edge_without_personal_data(engine: Any) -> None:
    seed(engine)
    with engine.begin() as conn:
        issued = hub_passes.issue_pass(conn, request(), "admin-ca")
    assert [u.edge_id for u in issued.updates] == ["edge-A"]
    update = issued.updates[0]
    payload = encode(update).decode()
    for private in ("王建国", "13900000000", "探亲", TOKEN):
        assert private not in payload
    assert issued.pin is not None
    assert issued.qr is not None
    assert issued.pin not in payload
    assert issued.qr.split("/")[-1] not in payload
    assert update.passes[0].display_name == "王先生"
    with engine.connect() as conn:
        entries = conn.scalar(
            select(func.count())
            .select_from(audit_log)
            .where(audit_log.c.object_id == issued.record.pass_id)
        )
        listed = hub_passes.list_passes(conn, house_id="HA1")
        other = hub_passes.list_passes(conn, compound_id="cB")
    assert entries == 1
    assert [p.pass_id for p in listed] == [issued.record.pass_id]
    assert listed[0].phone == "13900000000"  # the hub keeps it for the centre and the house
    assert other == []


def test_hub_pass_opens_the_edge_and_revocation_closes_it(engine: Any, store: PassStore) -> None:
    seed(engine)
    with engine.begin() as conn:
        issued = hub_passes.issue_pass(conn, request(), "admin-ca")
    for update in issued.updates:
        store.apply(decode(encode(update), PassUpdate))
    gate = verifier(store)
    assert issued.qr is not None
    assert issued.pin is not None
    now = utc_now()
    assert gate.verify(CredentialKind.QR, issued.qr, "north", now).granted
    assert gate.verify(CredentialKind.PIN, issued.pin, "north", now).granted
    with engine.begin() as conn:
        revoked = hub_passes.revoke_pass(conn, issued.record.pass_id, "admin-ca", "host asked")
        assert hub_passes.revoke_pass(conn, issued.record.pass_id, "admin-ca") == []
    for update in revoked:
        store.apply(update)
    assert gate.verify(CredentialKind.QR, issued.qr, "north", now).reason is PassReason.REVOKED
    with engine.connect() as conn:
        record = hub_passes.get_pass(conn, issued.record.pass_id)
    assert record is not None
    assert record.status(now) is hub_passes.PassStatus.REVOKED


def test_acks_and_resends_and_a_full_list_after_a_refusal(engine: Any, store: PassStore) -> None:
    seed(engine)
    with engine.begin() as conn:
        first = hub_passes.issue_pass(conn, request(), "admin-ca").updates[0]
        second = hub_passes.issue_pass(conn, request(kind=PassKind.CARER), "admin-ca").updates[0]
    assert (first.pass_version, second.pass_version) == (1, 2)
    later = utc_now() + timedelta(minutes=5)
    with engine.begin() as conn:
        assert len(hub_passes.due_for_resend(conn, later, timedelta(seconds=30))) == 2
        hub_passes.mark_sent(conn, [first, second], utc_now())
        assert hub_passes.due_for_resend(conn, utc_now(), timedelta(seconds=30)) == []
    store.apply(first)
    ack = PassAck(**new_fields(), edge_id="edge-A", seq=1, pass_version=1, applied=True)
    with engine.begin() as conn:
        hub_passes.on_pass_ack(conn, ack)
        assert [u.pass_version for u in hub_passes.due_for_resend(conn, later, HOUR / 60)] == [2]
        # The edge missed something and refuses a delta: the hub's duties build a full list.
        refusal = PassAck(
            **new_fields(), edge_id="edge-A", seq=2, pass_version=2, applied=False, error="base"
        )
        hub_passes.on_pass_ack(conn, refusal)
        built = hub_passes.build_wanted(conn)
        assert hub_passes.build_wanted(conn) == []
        never = PassAck(**new_fields(), edge_id="edge-A", seq=3, pass_version=99, applied=True)
        hub_passes.on_pass_ack(conn, never)  # never issued: ignored
    assert [u.base_version for u in built] == [None]
    store.apply(built[0])
    assert {p.pass_id for p in store.all()} == {first.passes[0].pass_id, second.passes[0].pass_id}


def test_walk_in_reaches_the_hub_once(engine: Any, store: PassStore) -> None:
    seed(engine)
    walk_in = edge_pass(
        f"W-{uuid7()}",
        origin=PassOrigin.GUARD_ROOM,
        valid_from=utc_now() - HOUR,
        valid_until=utc_now() + 5 * HOUR,
    )
    store.register_walk_in(walk_in)
    message = WalkInPass(
        **new_fields(),
        edge_id="edge-A",
        seq=9,
        visitor_pass=walk_in,
        visitor_name="赵六",
        phone="13700000000",
        purpose="送货",
        registered_by="guard-1",
        registered_at=utc_now(),
    )
    received = decode(encode(message), WalkInPass)
    with engine.begin() as conn:
        outcome = hub_passes.accept_walk_in(conn, received)
        again = hub_passes.accept_walk_in(conn, received)
        stolen = hub_passes.accept_walk_in(conn, received.model_copy(update={"edge_id": "edge-B"}))
        foreign = hub_passes.accept_walk_in(
            conn,
            received.model_copy(
                update={"visitor_pass": walk_in.model_copy(update={"house_id": "HB1"})}
            ),
        )
        stored = hub_passes.list_passes(conn, compound_id="cA", valid_at=utc_now())
    assert outcome.stored
    assert [u.edge_id for u in outcome.updates] == ["edge-A"]
    assert (again.stored, again.refused) == (False, "")
    assert not stolen.stored
    assert stolen.refused
    assert foreign.refused == "not a house of the edge's compound"
    assert [(p.visitor_name, p.origin, p.edge_id) for p in stored] == [
        ("赵六", PassOrigin.GUARD_ROOM, "edge-A")
    ]
    store.apply(outcome.updates[0])
    assert store.pending_walk_ins() == []


def test_requests_are_checked(engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(engine)
    now = utc_now()
    cases = [
        (request(house_id="H-none"), "house_id"),
        (request(valid_until=now - HOUR, valid_from=now - 2 * HOUR), "valid_until"),
        (request(valid_until=now + timedelta(days=40)), "valid_until"),
        (request(with_qr=False, with_pin=False), "with_pin"),
        (request(max_uses=0), "max_uses"),
        (request(visitor_name=" "), "visitor_name"),
    ]
    with engine.begin() as conn:
        for bad, field in cases:
            with pytest.raises(PassRefused) as info:
                hub_passes.issue_pass(conn, bad, "admin-ca")
            assert info.value.field_name == field
        # A carer's pass may run for months.
        long_term = request(kind=PassKind.CARER, valid_until=now + timedelta(days=180))
        assert hub_passes.issue_pass(conn, long_term, "admin-ca").pin is not None
        # PINs are unique among the compound's live passes.
        pins = iter(["111111", "111111", "222222"])
        monkeypatch.setattr(hub_passes, "new_pin", lambda _digits: next(pins))
        assert hub_passes.issue_pass(conn, request(), "admin-ca").pin == "111111"
        assert hub_passes.issue_pass(conn, request(), "admin-ca").pin == "222222"


def test_purge_forgets_ended_passes(engine: Any) -> None:
    seed(engine)
    with engine.begin() as conn:
        issued = hub_passes.issue_pass(conn, request(), "admin-ca")
        assert hub_passes.purge(conn, utc_now()) == 0
        assert hub_passes.purge(conn, utc_now() + timedelta(days=1)) == 1
        assert hub_passes.get_pass(conn, issued.record.pass_id) is None
        assert conn.scalar(select(func.count()).select_from(pass_outbox)) == 1  # not yet acked


def test_guard_room_issues_a_walk_in_that_opens(store: PassStore) -> None:
    from edge_agent.access.passes import new_walk_in

    store.apply(full(1, edge_pass()))
    issue = new_walk_in(
        store,
        house_id="HA2",
        display_name="快递 小刘",
        valid_from=NOW,
        valid_until=NOW + 2 * HOUR,
        max_uses=1,
        pin_digits=6,
    )
    assert issue.pin != "482913"
    assert issue.edge_pass.origin is PassOrigin.GUARD_ROOM
    assert issue.pin not in issue.edge_pass.model_dump_json()
    store.register_walk_in(issue.edge_pass)
    gate = verifier(store)
    granted = gate.verify(CredentialKind.PIN, issue.pin, "north", NOW + HOUR)
    assert (granted.granted, granted.house_id) == (True, "HA2")
    assert gate.verify(CredentialKind.QR, issue.qr, "north", NOW + HOUR).reason is (
        PassReason.USED_UP
    )


# ------------------------------------------------------------------------------- review (issue 18)


def test_a_live_pass_wins_over_an_ended_one_with_the_same_pin(store: PassStore) -> None:
    ended = edge_pass("P-old", valid_from=NOW - 9 * HOUR, valid_until=NOW - HOUR)
    store.apply(full(1, ended, edge_pass("P-new")))
    found = verifier(store).verify(CredentialKind.PIN, "482913", "north", NOW)
    assert (found.granted, found.pass_id) == (True, "P-new")
    # Listed the other way round, the same.
    store.apply(full(2, edge_pass("P-new"), ended))
    assert verifier(store).verify(CredentialKind.PIN, "482913", "north", NOW).pass_id == "P-new"


def test_an_exit_is_never_refused_for_a_found_pass(store: PassStore) -> None:
    store.apply(full(1, edge_pass(max_uses=1)))
    gate = verifier(store)
    assert gate.verify(CredentialKind.PIN, "482913", "north", NOW).granted
    assert gate.verify(CredentialKind.PIN, "482913", "north", NOW).reason is PassReason.USED_UP
    left = gate.verify(CredentialKind.PIN, "482913", "north", NOW, count_use=False)
    assert (left.granted, left.text) == (True, "exit: pass used up")
    store.apply(delta(2, revoked=("P-1",)))
    revoked = gate.verify(CredentialKind.PIN, "482913", "north", NOW, count_use=False)
    assert (revoked.granted, revoked.text) == (True, "exit: pass revoked")
    assert not gate.verify(CredentialKind.PIN, "482913", "north", NOW).granted  # entry: refused
    late = gate.verify(CredentialKind.QR, qr(), "north", NOW + 9 * HOUR, count_use=False)
    assert late.granted


def test_walk_in_pins_keep_clear_of_duress_twins_and_residents_pins(
    store: PassStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import edge_agent.access.passes as passes_module

    store.apply(full(1, edge_pass()))  # PIN 482913: its duress twin is 482914
    offered = iter(["482914", "482912", "482913", "111111", "222223", "555555"])
    monkeypatch.setattr(passes_module, "new_pin", lambda _digits: next(offered))
    residents = {"111111", "222222"}
    issue = passes_module.new_walk_in(
        store,
        house_id="HA2",
        display_name="快递",
        valid_from=NOW,
        valid_until=NOW + HOUR,
        duress=True,
        resident_pin=residents.__contains__,
    )
    # 482914/482912 are one off the live PIN, 482913 is it, 111111 a resident's, 222223 one off
    # a resident's: the first free one is 555555.
    assert issue.pin == "555555"
    offered = iter(["482914"])
    without = passes_module.new_walk_in(
        store, house_id="HA2", display_name="快递", valid_from=NOW, valid_until=NOW + HOUR
    )
    assert without.pin == "482914"  # duress off: only the PIN itself is taken
