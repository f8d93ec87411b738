"""Visitor passes at the hub (issue 18), on SQLite and PostgreSQL: the API and the pages issue
(QR and PIN answered once, the update queued for the compound's edge), list per house and
compound, revoke; roles and scope; a grid worker sees names only in their grid; reads are
audited; walk-ins arrive through ingest once, and one naming another compound is a dead letter."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gridgate_core.mqtt import Incoming
from gridgate_wire import (
    CHANNEL_KIND,
    CredentialKind,
    EdgePass,
    Message,
    PassAck,
    PassOrigin,
    PassUpdate,
    WalkInPass,
    edge_topic,
    encode,
    make_secret,
    new_fields,
    new_pin,
    utc_now,
)
from gridgate_wire.uuid7 import uuid7
from hub import passes as hub_passes
from hub.ingest import Ingestor
from hub.store.schema import audit_log, dead_letters, edge_compounds, edge_messages, pass_outbox
from hub.uow import Outbound
from tests.hub_helpers import login, offline_api, seed
from tests.test_hub_web import page_login

HOUR = timedelta(hours=1)
_CHANNEL = {kind.KIND: channel for channel, kind in CHANNEL_KIND.items()}
_MIDS = iter(range(1, 1_000_000))


def incoming(message: Message) -> Incoming:
    edge_id = str(getattr(message, "edge_id"))  # noqa: B009 - every edge message has one
    topic = edge_topic(edge_id, _CHANNEL[message.KIND])
    return Incoming(topic=topic, payload=encode(message), qos=1, retain=False, mid=next(_MIDS))


def pass_body(house: str = "HA1", **over: Any) -> dict[str, Any]:
    now = utc_now()
    return {
        "house_id": house,
        "visitor_name": "王小红",
        "display_name": "王女士",
        "phone": "13900000009",
        "purpose": "探亲",
        "valid_from": (now - HOUR).isoformat(),
        "valid_until": (now + 4 * HOUR).isoformat(),
        "max_uses": 2,
        **over,
    }


def updates(published: list[Outbound]) -> list[PassUpdate]:
    return [m for out in published for m in out.to_edges if isinstance(m, PassUpdate)]


def test_issue_list_and_revoke_through_the_api(engine: Any) -> None:
    seeded = seed(engine)
    with offline_api(engine) as (client, published):
        staff = login(client, seeded.users["admin_a"])
        issued = client.post("/api/v1/passes", json=pass_body(), headers=staff)
        assert issued.status_code == 201, issued.text
        body = issued.json()
        assert body["qr"].startswith(f"GGP/{body['visitor_pass']['pass_id']}/")
        assert re.fullmatch(r"\d{6}", body["pin"])
        assert body["edges"] == 1
        pass_id = body["visitor_pass"]["pass_id"]
        (sent,) = updates(published)
        assert sent.edge_id == seeded.edge_a
        assert [p.pass_id for p in sent.passes] == [pass_id]
        # The edge gets no full name, phone or purpose, and no credential in the clear.
        wire = encode(sent).decode()
        assert "王小红" not in wire
        assert "13900000009" not in wire
        assert body["pin"] not in wire
        listed = client.get("/api/v1/houses/HA1/passes", headers=staff).json()
        assert [(p["pass_id"], p["visitor_name"], p["status"]) for p in listed] == [
            (pass_id, "王小红", "active")
        ]
        today = client.get("/api/v1/compounds/cA/passes?when=today", headers=staff).json()
        assert [p["house_address"] for p in today] == ["1-1-101"]
        # The credentials are never answered again.
        again = client.get(f"/api/v1/passes/{pass_id}", headers=staff).json()
        assert "pin" not in again
        assert "qr" not in again
        no_reason = client.post(f"/api/v1/passes/{pass_id}/revoke", json={}, headers=staff)
        assert no_reason.status_code == 422
        revoked = client.post(
            f"/api/v1/passes/{pass_id}/revoke", json={"reason": "访客取消"}, headers=staff
        )
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["status"] == "revoked"
        assert updates(published)[-1].revoked == [pass_id]
        # Revoking again changes nothing and sends nothing.
        count = len(updates(published))
        client.post(f"/api/v1/passes/{pass_id}/revoke", json={"reason": "x"}, headers=staff)
        assert len(updates(published)) == count
        active = client.get("/api/v1/houses/HA1/passes?when=active", headers=staff).json()
        expired = client.get("/api/v1/houses/HA1/passes?when=expired", headers=staff).json()
        assert active == []
        assert [p["status"] for p in expired] == ["revoked"]
    with engine.connect() as conn:
        entries = conn.execute(
            select(audit_log.c.action, audit_log.c.object_ids).where(
                audit_log.c.object_type == "visitor_pass"
            )
        ).all()
    actions = [a for a, _ in entries]
    assert actions.count("create") == 1
    assert actions.count("update") == 1
    # Every list that showed the visitor's name is an audited read naming the pass.
    assert any(a == "read" and ids and pass_id in ids for a, ids in entries)


def test_roles_scope_and_a_grid_workers_view(engine: Any) -> None:
    seeded = seed(engine)
    with offline_api(engine) as (client, _published):
        admin_a = login(client, seeded.users["admin_a"])
        admin_b = login(client, seeded.users["admin_b"])
        worker = login(client, seeded.users["worker_a1"])  # grid GA1: house HA1, not HA2
        assert client.post("/api/v1/passes", json=pass_body(), headers=worker).status_code == 403
        assert client.post("/api/v1/passes", json=pass_body(), headers=admin_b).status_code == 404
        mine = client.post("/api/v1/passes", json=pass_body("HA1"), headers=admin_a).json()
        other = client.post(
            "/api/v1/passes", json=pass_body("HA2", visitor_name="李四"), headers=admin_a
        ).json()
        mine_id = mine["visitor_pass"]["pass_id"]
        other_id = other["visitor_pass"]["pass_id"]
        # Another community's staff can neither see nor revoke it.
        assert client.get("/api/v1/houses/HA1/passes", headers=admin_b).status_code == 404
        refused = client.post(
            f"/api/v1/passes/{mine_id}/revoke", json={"reason": "x"}, headers=admin_b
        )
        assert refused.status_code == 404
        # The grid worker sees their grid's visitor by name, the other house's only by its
        # display name, and cannot list the other house at all.
        assert client.get("/api/v1/houses/HA2/passes", headers=worker).status_code == 404
        listed = client.get("/api/v1/compounds/cA/passes?when=all", headers=worker).json()
        names = {p["pass_id"]: (p["visitor_name"], p["phone"]) for p in listed}
        assert names == {mine_id: ("王小红", "13900000009"), other_id: (None, None)}
        assert client.get(f"/api/v1/passes/{other_id}", headers=worker).status_code == 404
        refused = client.post(
            f"/api/v1/passes/{mine_id}/revoke", json={"reason": "x"}, headers=worker
        )
        assert refused.status_code == 403


def test_requests_the_rules_refuse(engine: Any) -> None:
    seeded = seed(engine)
    now = utc_now()
    with offline_api(engine) as (client, published):
        staff = login(client, seeded.users["admin_a"])
        past = pass_body(
            valid_from=(now - 5 * HOUR).isoformat(), valid_until=(now - HOUR).isoformat()
        )
        answer = client.post("/api/v1/passes", json=past, headers=staff)
        assert answer.status_code == 422
        assert answer.json()["detail"]["code"] == "pass_window"
        too_long = pass_body(valid_until=(now + timedelta(days=40)).isoformat())
        answer = client.post("/api/v1/passes", json=too_long, headers=staff)
        assert answer.json()["detail"]["code"] == "pass_window"
        # A time without a zone is refused, not taken as UTC (nor as the site's zone).
        naive = pass_body(
            valid_from=(now - HOUR).replace(tzinfo=None).isoformat(),
            valid_until=(now + HOUR).replace(tzinfo=None).isoformat(),
        )
        answer = client.post("/api/v1/passes", json=naive, headers=staff)
        assert answer.status_code == 422
        assert "timezone" in answer.text
        nothing = pass_body(with_qr=False, with_pin=False)
        answer = client.post("/api/v1/passes", json=nothing, headers=staff)
        assert answer.json()["detail"]["code"] == "pass_credential"
        carer = pass_body(
            kind="carer",
            valid_until=(now + timedelta(days=90)).isoformat(),
            max_uses=None,
            schedule={"windows": [{"days": [1, 2, 3, 4, 5], "start": "08:00", "end": "18:00"}]},
        )
        answer = client.post("/api/v1/passes", json=carer, headers=staff)
        assert answer.status_code == 201, answer.text
        assert answer.json()["visitor_pass"]["schedule"]["windows"][0]["days"] == [1, 2, 3, 4, 5]
    assert len(updates(published)) == 1


def _csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def test_pages_issue_show_the_slip_once_list_and_revoke(engine: Any) -> None:
    seeded = seed(engine)
    with offline_api(engine) as (client, published):
        page_login(client, seeded.users["admin_a"])
        house = client.get("/houses/HA1")
        assert "/houses/HA1/passes" in house.text
        form = client.get("/houses/HA1/passes")
        assert form.status_code == 200
        assert "办理访客通行证" in form.text
        start = re.search(r'name="valid_from" required value="([^"]+)"', form.text)
        end = re.search(r'name="valid_until" required value="([^"]+)"', form.text)
        assert start is not None
        assert end is not None
        slip = client.post(
            "/houses/HA1/passes",
            data={
                "csrf_token": _csrf(client, "/houses/HA1/passes"),
                "kind": "visitor",
                "visitor_name": "王小红",
                "display_name": "王女士",
                "phone": "13900000009",
                "valid_from": start.group(1),
                "valid_until": end.group(1),
                "max_uses": "2",
                "credential": "both",
            },
        )
        assert slip.status_code == 200, slip.text
        assert slip.headers["cache-control"] == "no-store"  # the PIN is never cached
        assert "<svg" in slip.text
        assert "访客通行凭条" in slip.text
        pin = re.search(r'id="slip-pin">(\d+)<', slip.text)
        assert pin is not None
        assert "1-1-101" in slip.text
        assert "Pine Court" in slip.text
        (sent,) = updates(published)
        pass_id = sent.passes[0].pass_id
        listed = client.get("/houses/HA1/passes")
        # The form's local times (the site's zone) are the pass's window: active now.
        assert 'class="badge pass-active"' in listed.text
        assert "王小红" in listed.text
        assert pin.group(1) not in listed.text
        assert "13900000009" in listed.text
        today = client.get("/compounds/cA/passes")
        assert "王小红" in today.text
        assert "今日访客" in today.text
        revoked = client.post(
            f"/passes/{pass_id}/revoke",
            data={"csrf_token": _csrf(client, "/houses/HA1/passes"), "reason": "取消"},
        )
        assert revoked.status_code == 200
        assert "已作废" in revoked.text
        assert "已作废" in client.get("/houses/HA1/passes?when=expired").text
        # A refusal answers in the user's language.
        bad = client.post(
            "/houses/HA1/passes",
            data={
                "csrf_token": _csrf(client, "/houses/HA1/passes"),
                "visitor_name": "x",
                "valid_from": "not a date",
                "valid_until": end.group(1),
            },
        )
        assert bad.status_code == 422
        assert "有效期不正确" in bad.text
        # English too, with no untranslated key.
        english = client.get("/houses/HA1/passes?lang=en")
        assert "Issue a visitor pass" in english.text
        assert "⟦" not in english.text


def _walk_in(edge_id: str, seq: int, house: str = "HA1", pass_id: str = "") -> WalkInPass:
    now = utc_now()
    visitor = EdgePass(
        pass_id=pass_id or f"W-{uuid7()}",
        origin=PassOrigin.GUARD_ROOM,
        house_id=house,
        display_name="赵先生",
        secrets=[make_secret(CredentialKind.PIN, new_pin(6))],
        valid_from=now - HOUR,
        valid_until=now + 3 * HOUR,
        max_uses=1,
    )
    return WalkInPass(
        **new_fields(),
        edge_id=edge_id,
        seq=seq,
        visitor_pass=visitor,
        visitor_name="赵六",
        phone="13700000000",
        purpose="送货",
        registered_by="guard-1",
        registered_at=now,
    )


def test_walk_ins_arrive_once_and_a_foreign_one_is_a_dead_letter(engine: Any) -> None:
    seeded = seed(engine)
    ingest = Ingestor(engine)
    published: list[Outbound] = []
    ingest.publish = published.append  # type: ignore[method-assign]
    walk_in = _walk_in(seeded.edge_a, 1)
    ingest._process([incoming(walk_in)])
    ingest._process([incoming(walk_in)])  # a re-send: stored once, no second update
    with engine.connect() as conn:
        stored = hub_passes.get_pass(conn, walk_in.visitor_pass.pass_id)
    assert stored is not None
    assert (stored.visitor_name, stored.origin, stored.edge_id) == (
        "赵六",
        PassOrigin.GUARD_ROOM,
        seeded.edge_a,
    )
    sent = [m for out in published for m in out.to_edges if isinstance(m, PassUpdate)]
    assert [(u.edge_id, [p.pass_id for p in u.passes]) for u in sent] == [
        (seeded.edge_a, [walk_in.visitor_pass.pass_id])
    ]
    # Edge A naming a house of compound B, and edge B reusing A's pass id: dead letters.
    foreign = _walk_in(seeded.edge_a, 2, house="HB1")
    clash = _walk_in(seeded.edge_b, 1, house="HB1", pass_id=walk_in.visitor_pass.pass_id)
    ingest._process([incoming(foreign), incoming(clash)])
    with engine.connect() as conn:
        reasons = {
            str(r.msg_id): (r.field, r.reason)
            for r in conn.execute(
                select(dead_letters.c.msg_id, dead_letters.c.field, dead_letters.c.reason)
            )
        }
        assert hub_passes.get_pass(conn, foreign.visitor_pass.pass_id) is None
        still = hub_passes.get_pass(conn, walk_in.visitor_pass.pass_id)
    assert reasons[str(foreign.id)] == ("house_id", "not a house of the edge's compound")
    assert reasons[str(clash.id)][0] == "pass_id"
    assert still is not None
    assert still.edge_id == seeded.edge_a
    # A second edge of the same compound reusing the pass id: in scope, but the pass service
    # refuses it; the message stays stored (acknowledged) and becomes a dead letter.
    with engine.begin() as conn:
        conn.execute(
            edge_compounds.insert().values(edge_id="edge-A2", compound_id="cA", roster_version=0)
        )
    reuse = _walk_in("edge-A2", 1, pass_id=walk_in.visitor_pass.pass_id)
    ingest._process([incoming(reuse)])
    with engine.connect() as conn:
        refused = conn.execute(
            select(dead_letters.c.field, dead_letters.c.reason).where(
                dead_letters.c.msg_id == str(reuse.id)
            )
        ).one()
        kept = conn.scalar(
            select(func.count())
            .select_from(edge_messages)
            .where(edge_messages.c.msg_id == str(reuse.id))
        )
    assert tuple(refused) == ("$", "pass id in use by another pass")
    assert kept == 1
    # The edge's acks of the updates (the walk-in's, then the foreign walk-in's revocation)
    # mark them acknowledged.
    versions = [u.pass_version for u in updates(published) if u.edge_id == seeded.edge_a]
    assert versions[0] == sent[0].pass_version
    acks = [
        PassAck(
            **new_fields(), edge_id=seeded.edge_a, seq=3 + n, pass_version=version, applied=True
        )
        for n, version in enumerate(versions)
    ]
    ingest._process([incoming(ack) for ack in acks])
    with engine.connect() as conn:
        pending = conn.scalar(
            select(func.count())
            .select_from(pass_outbox)
            .where(pass_outbox.c.edge_id == seeded.edge_a, pass_outbox.c.acked_at.is_(None))
        )
    assert pending == 0


def test_purge_forgets_walk_in_messages_and_every_old_message(engine: Any) -> None:
    """A purged walk-in pass takes its message's name, phone and purpose with it; every stored
    message kind, not only passages, goes after messages' retention."""
    from hub import passages
    from hub.config import PassagesConfig

    seeded = seed(engine)
    ingest = Ingestor(engine)
    ingest.publish = lambda out: None  # type: ignore[method-assign,assignment]
    walk_in = _walk_in(seeded.edge_a, 1)
    ingest._process([incoming(walk_in)])
    now = utc_now()
    with engine.begin() as conn:
        assert hub_passes.purge(conn, now - timedelta(days=30)) == 0  # still valid: kept
        payload = conn.scalar(
            select(edge_messages.c.payload).where(edge_messages.c.msg_id == str(walk_in.id))
        )
        assert "赵六" in payload
        assert hub_passes.purge(conn, now + timedelta(days=1)) == 1  # ended: pass purged
        payload = conn.scalar(
            select(edge_messages.c.payload).where(edge_messages.c.msg_id == str(walk_in.id))
        )
    assert payload.startswith('{"digest":')
    assert "赵六" not in payload
    assert "13700000000" not in payload
    # A re-send is still recognised (stored once, not a reused id).
    ingest._process([incoming(walk_in)])
    with engine.begin() as conn:
        assert (
            conn.scalar(
                select(func.count())
                .select_from(edge_messages)
                .where(edge_messages.c.msg_id == str(walk_in.id))
            )
            == 1
        )
        assert conn.scalar(select(func.count()).select_from(dead_letters)) == 0
        done = passages.purge(conn, PassagesConfig(message_retention_days=1), now + 2 * 24 * HOUR)
        left = conn.scalar(select(func.count()).select_from(edge_messages))
    assert done["edge messages"] == 1
    assert left == 0


def test_a_pass_refusal_is_an_invalid_of_the_hub_error_tree() -> None:
    from hub.errors import HubError, Invalid

    refused = hub_passes.PassRefused("valid_until", "is in the past")
    assert isinstance(refused, Invalid)
    assert isinstance(refused, HubError)
    assert refused.detail == {
        "code": "pass_window",
        "field": "valid_until",
        "reason": "is in the past",
    }


def test_a_centre_pass_without_a_display_name_shows_the_family_name_at_the_gates(
    engine: Any,
) -> None:
    seeded = seed(engine)
    with offline_api(engine) as (client, published):
        staff = login(client, seeded.users["admin_a"])
        issued = client.post("/api/v1/passes", json=pass_body(display_name=""), headers=staff)
        assert issued.status_code == 201, issued.text
        assert issued.json()["visitor_pass"]["display_name"] == "王访客"
        sent = updates(published)
        assert [p.display_name for u in sent for p in u.passes] == ["王访客"]
        assert "王小红" not in "".join(u.model_dump_json() for u in sent)
        page_login(client, seeded.users["admin_a"])
        form = client.get("/houses/HA1/passes")
        assert "不填则显示“姓+访客”" in form.text


def test_a_generated_pin_keeps_clear_of_residents_duress_and_recently_ended_passes(
    engine: Any, monkeypatch: Any
) -> None:
    import hashlib

    from hub.passes import PassRequest
    from hub.store.schema import resident_credentials

    seed(engine)
    now = utc_now()

    def request(start: Any, hours: float = 2) -> PassRequest:
        return PassRequest(
            house_id="HA1",
            valid_from=start,
            valid_until=start + hours * HOUR,
            visitor_name="王小红",
            with_qr=False,
        )

    offered: list[str] = []
    monkeypatch.setattr(hub_passes, "new_pin", lambda _digits: offered.pop(0))
    with engine.begin() as conn:
        conn.execute(
            resident_credentials.insert().values(
                resident_id="RA1", kind="pin", secret_sha256=hashlib.sha256(b"123456").hexdigest()
            )
        )
        # A resident's PIN, and one off from it either way (the resident's duress PIN, or a
        # PIN whose duress PIN is the resident's), are never a pass's.
        offered[:] = ["123456", "123457", "123455", "333333"]
        assert hub_passes.issue_pass(conn, request(now), "admin-ca", now=now).pin == "333333"
        # A live pass's PIN and its neighbours (9 and 0 adjacent in the last digit).
        offered[:] = ["333334", "333332", "333333", "555559"]
        assert hub_passes.issue_pass(conn, request(now), "admin-ca", now=now).pin == "555559"
        offered[:] = ["555550", "555558", "666666"]
        assert hub_passes.issue_pass(conn, request(now), "admin-ca", now=now).pin == "666666"
        # Three hours on, the passes have ended, but the edges keep them a day: still taken.
        later = now + 3 * HOUR
        offered[:] = ["333333", "666667", "888888"]
        assert hub_passes.issue_pass(conn, request(later), "admin-ca", now=later).pin == "888888"
        # Two days on, the ended passes are gone from every edge: their PINs are free again.
        days_on = now + 48 * HOUR
        offered[:] = ["333333"]
        assert (
            hub_passes.issue_pass(conn, request(days_on), "admin-ca", now=days_on).pin == "333333"
        )


def _visitor_passage(edge_id: str, seq: int, pass_id: str, at: Any) -> Any:
    from gridgate_wire import EdgeEvent

    return EdgeEvent.model_validate(
        {
            **new_fields(),
            "edge_id": edge_id,
            "seq": seq,
            "occurred_at": at,
            "gate": "north",
            "direction": "in",
            "method": "pin",
            "decision": "grant",
            "house_id": "HA1",
            "subject": "visitor",
            "pass_id": pass_id,
        }
    )


def test_uses_of_a_revoked_or_ended_pass_reported_late_are_audited(engine: Any) -> None:
    seeded = seed(engine)
    with offline_api(engine) as (client, _published):
        staff = login(client, seeded.users["admin_a"])
        body = client.post("/api/v1/passes", json=pass_body(), headers=staff).json()
        pass_id = body["visitor_pass"]["pass_id"]
        revoked = client.post(
            f"/api/v1/passes/{pass_id}/revoke", json={"reason": "房主取消"}, headers=staff
        )
        assert revoked.status_code == 200
        revoked_at = revoked.json()["revoked_at"]
    ingest = Ingestor(engine)
    ingest.publish = lambda out: None  # type: ignore[method-assign,assignment]
    now = utc_now()
    before = _visitor_passage(seeded.edge_a, 1, pass_id, now - 30 * timedelta(minutes=1))
    after = _visitor_passage(seeded.edge_a, 2, pass_id, now + timedelta(minutes=1))
    ended = _visitor_passage(seeded.edge_a, 3, pass_id, now + 5 * HOUR)
    ingest._process([incoming(before), incoming(after), incoming(ended)])
    ingest._process([incoming(after)])  # a re-send is not a second late use
    with engine.connect() as conn:
        late = conn.execute(
            select(audit_log.c.actor, audit_log.c.object_id, audit_log.c.detail).where(
                audit_log.c.action == "late_use"
            )
        ).all()
    assert [(a, o) for a, o, _ in late] == [(f"edge:{seeded.edge_a}", pass_id)] * 2
    assert all("after it was revoked" in d for _, _, d in late)
    assert revoked_at is not None


def test_a_refused_walk_in_is_revoked_at_its_edge_and_a_long_one_is_clipped(
    engine: Any,
) -> None:
    seeded = seed(engine)
    ingest = Ingestor(engine)
    published: list[Outbound] = []
    ingest.publish = published.append  # type: ignore[method-assign]
    # Scope refuses a house of another compound: the edge gets a revocation of that pass.
    foreign = _walk_in(seeded.edge_a, 1, house="HB1")
    ingest._process([incoming(foreign)])
    # (The edge had no pass list yet: its first full list goes before the revocation.)
    assert [(u.edge_id, u.revoked) for u in updates(published)][-1] == (
        seeded.edge_a,
        [foreign.visitor_pass.pass_id],
    )
    # The pass service refuses a second edge of the compound reusing a pass id: that edge gets
    # the pass as the hub has it (its own pending copy is replaced, not honoured).
    kept = _walk_in(seeded.edge_a, 2)
    ingest._process([incoming(kept)])
    with engine.begin() as conn:
        conn.execute(
            edge_compounds.insert().values(edge_id="edge-A2", compound_id="cA", roster_version=0)
        )
    published.clear()
    reuse = _walk_in("edge-A2", 1, pass_id=kept.visitor_pass.pass_id)
    reuse = reuse.model_copy(
        update={"visitor_pass": reuse.visitor_pass.model_copy(update={"display_name": "冒名"})}
    )
    ingest._process([incoming(reuse)])
    to_a2 = [u for u in updates(published) if u.edge_id == "edge-A2"]
    # (its first full list, then the pass itself: both the hub's version)
    assert {p.display_name for u in to_a2 for p in u.passes} == {"赵先生"}
    assert to_a2[-1].passes[0].pass_id == kept.visitor_pass.pass_id
    # A walk-in longer than a visitor pass may last is stored, and sent back, clipped.
    published.clear()
    long_one = _walk_in(seeded.edge_a, 3)
    start = long_one.visitor_pass.valid_from
    long_one = long_one.model_copy(
        update={
            "visitor_pass": long_one.visitor_pass.model_copy(
                update={"valid_until": start + timedelta(days=90)}
            )
        }
    )
    ingest._process([incoming(long_one)])
    with engine.connect() as conn:
        stored = hub_passes.get_pass(conn, long_one.visitor_pass.pass_id)
    assert stored is not None
    assert stored.valid_until == start + timedelta(days=30)
    sent_back = [(u.edge_id, p.valid_until) for u in updates(published) for p in u.passes]
    assert sorted(sent_back) == [  # both edges of compound A, the sender included
        ("edge-A", start + timedelta(days=30)),
        ("edge-A2", start + timedelta(days=30)),
    ]


def test_gates_the_hub_never_saw_are_a_warning_on_the_issued_pass(engine: Any) -> None:
    from gridgate_wire import DoorAlarm

    seeded = seed(engine)
    ingest = Ingestor(engine)
    ingest.publish = lambda out: None  # type: ignore[method-assign,assignment]
    seen = DoorAlarm.model_validate(
        {
            **new_fields(),
            "edge_id": seeded.edge_a,
            "seq": 1,
            "kind": "forced_open",
            "occurred_at": utc_now(),
            "gate": "north",
        }
    )
    ingest._process([incoming(seen)])
    with offline_api(engine) as (client, _published):
        staff = login(client, seeded.users["admin_a"])
        body = pass_body(gates=["north", "nrth"])
        issued = client.post("/api/v1/passes", json=body, headers=staff)
        assert issued.status_code == 201, issued.text
        assert issued.json()["unknown_gates"] == ["nrth"]
        plain = client.post("/api/v1/passes", json=pass_body(), headers=staff)
        assert plain.json()["unknown_gates"] == []
