"""Door alarms and remote unlock at the hub (issue 18), on SQLite and PostgreSQL: alarms
ingested (a clearing marks the held door closed), scope-checked, shown on the console and the
doors page, pushed to staff pages only, acknowledged (audited); duress is the most urgent;
remote unlock is for staff of the edge's community, needs a reason, is audited and publishes a
short-lived command; the edge's door release joins the audit log."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from gridgate_wire import (
    AlarmPhase,
    DoorAlarm,
    DoorAlarmKind,
    DoorRelease,
    RemoteUnlock,
    new_fields,
    utc_now,
)
from hub.ingest import Ingestor
from hub.live import AlarmNotice, TaskFeed
from hub.store.doors import door_alarms
from hub.store.schema import audit_log, dead_letters
from hub.uow import Outbound
from tests.hub_helpers import login, offline_api, seed
from tests.test_hub_passes import incoming
from tests.test_hub_web import page_login


def alarm(edge_id: str, seq: int, kind: str, **fields: Any) -> DoorAlarm:
    return DoorAlarm.model_validate(
        {
            **new_fields(),
            "edge_id": edge_id,
            "seq": seq,
            "kind": kind,
            "occurred_at": utc_now(),
            "gate": "north",
            **fields,
        }
    )


def _ingest(engine: Any) -> tuple[Ingestor, list[Outbound]]:
    ingest = Ingestor(engine)
    published: list[Outbound] = []
    ingest.publish = published.append  # type: ignore[method-assign]
    return ingest, published


def test_alarms_are_stored_cleared_scoped_and_pushed(engine: Any) -> None:
    seeded = seed(engine)
    ingest, published = _ingest(engine)
    forced = alarm(seeded.edge_a, 1, "forced_open")
    held = alarm(seeded.edge_a, 2, "held_open", open_seconds=31.0)
    duress = alarm(
        seeded.edge_a, 3, "duress", silent=True, house_id="HA1", resident_id="RA1", lane=1
    )
    foreign = alarm(seeded.edge_a, 4, "duress", silent=True, house_id="HB1", resident_id="RB1")
    ingest._process([incoming(m) for m in (forced, held, duress, foreign)])
    cleared = alarm(seeded.edge_a, 5, "held_open", phase="cleared", raised_id=held.id)
    ingest._process([incoming(cleared)])
    with engine.connect() as conn:
        rows = {
            str(r.alarm_id): r
            for r in conn.execute(select(door_alarms).order_by(door_alarms.c.priority))
        }
        dead = conn.execute(select(dead_letters.c.msg_id, dead_letters.c.field)).all()
    assert set(rows) == {str(forced.id), str(held.id), str(duress.id)}
    assert rows[str(duress.id)].priority == 0
    assert rows[str(duress.id)].silent
    assert rows[str(forced.id)].priority == 1
    assert rows[str(held.id)].cleared_at is not None
    assert rows[str(duress.id)].community_id == "CA"
    assert [(str(m), f) for m, f in dead] == [(str(foreign.id), "house_id")]
    notices = [n for out in published for n in out.notices if isinstance(n, AlarmNotice)]
    assert [(n.kind, n.phase) for n in notices] == [
        ("forced_open", "raised"),
        ("held_open", "raised"),
        ("duress", "raised"),
        ("held_open", "cleared"),
    ]


def test_the_feed_pushes_alarms_to_their_communitys_staff_only() -> None:
    async def scenario() -> tuple[int, int, int]:
        feed = TaskFeed()
        staff_a = feed.subscribe(frozenset({"GA1"}), None, frozenset({"CA"}))
        staff_b = feed.subscribe(frozenset({"GB1"}), None, frozenset({"CB"}))
        worker = feed.subscribe(frozenset({"GA1"}))
        feed.offer(AlarmNotice("a1", "CA", DoorAlarmKind.DURESS, AlarmPhase.RAISED, 0))
        await asyncio.sleep(0.05)
        return staff_a.qsize(), staff_b.qsize(), worker.qsize()

    assert asyncio.run(scenario()) == (1, 0, 0)


def test_alarms_another_hub_process_ingested_reach_this_process_pages(engine: Any) -> None:
    """Two hub processes over one database: process 1 ingests (and offers to its own pages);
    process 2's pages get the raising and the clearing through the shared poll, in scope."""
    seeded = seed(engine)
    ingest, _ = _ingest(engine)
    ingest.feed = TaskFeed()  # process 1's own feed
    other_process = TaskFeed(poll_s=0.05)

    async def scenario() -> tuple[list[Any], int]:
        staff_a = other_process.subscribe(frozenset({"GA1"}), engine, frozenset({"CA"}))
        staff_b = other_process.subscribe(frozenset({"GB1"}), engine, frozenset({"CB"}))
        async with asyncio.timeout(10):
            while other_process.polls < 2:  # the poll has its starting point
                await asyncio.sleep(0.01)
        held = alarm(seeded.edge_a, 1, "held_open", open_seconds=31.0)
        cleared = alarm(seeded.edge_a, 2, "held_open", phase="cleared", raised_id=held.id)
        await asyncio.to_thread(ingest._process, [incoming(held)])
        await asyncio.to_thread(ingest._process, [incoming(cleared)])
        got = [await asyncio.wait_for(staff_a.get(), 5) for _ in range(2)]
        polls = other_process.polls
        async with asyncio.timeout(10):
            while other_process.polls < polls + 2:
                await asyncio.sleep(0.01)
        strays = staff_b.qsize()
        other_process.close()
        return [(n.alarm_id, n.kind, n.phase) for n in got if n is not None], strays

    got, strays = asyncio.run(scenario())
    assert len(got) == 2
    assert [(kind, phase) for _, kind, phase in got] == [
        (DoorAlarmKind.HELD_OPEN, AlarmPhase.RAISED),
        (DoorAlarmKind.HELD_OPEN, AlarmPhase.CLEARED),
    ]
    assert got[0][0] == got[1][0]  # the clearing names the alarm it ends
    assert strays == 0  # community B's staff get nothing of community A


def test_console_lists_and_acknowledging_is_audited(engine: Any) -> None:
    seeded = seed(engine)
    ingest, _ = _ingest(engine)
    duress = alarm(seeded.edge_a, 1, "duress", silent=True, house_id="HA1", resident_id="RA1")
    forced = alarm(seeded.edge_a, 2, "forced_open")
    other = alarm(seeded.edge_b, 1, "forced_open", gate="east")
    ingest._process([incoming(m) for m in (duress, forced, other)])
    with offline_api(engine) as (client, published):
        staff = login(client, seeded.users["admin_a"])
        listed = client.get("/api/v1/door-alarms", headers=staff).json()
        # Most urgent first, the other community's alarm not at all.
        assert [(a["kind"], a["who"], a["house_address"]) for a in listed] == [
            ("duress", "张伟", "1-1-101"),
            ("forced_open", None, None),
        ]
        assert listed[0]["compound_name"] == "Pine Court"
        worker = login(client, seeded.users["worker_a1"])
        assert client.get("/api/v1/door-alarms", headers=worker).status_code == 403
        admin_b = login(client, seeded.users["admin_b"])
        refused = client.post(
            f"/api/v1/door-alarms/{duress.id}/acknowledge", json={}, headers=admin_b
        )
        assert refused.status_code == 404
        done = client.post(
            f"/api/v1/door-alarms/{duress.id}/acknowledge",
            json={"note": "已电话核实"},
            headers=staff,
        )
        assert done.status_code == 204, done.text
        assert [n.phase for out in published for n in out.notices] == ["acknowledged"]
        still = client.get("/api/v1/door-alarms", headers=staff).json()
        assert [a["kind"] for a in still] == ["forced_open"]
        handled = client.get("/api/v1/door-alarms?state=acknowledged", headers=staff).json()
        assert [(a["state"], a["ack_note"]) for a in handled] == [("acknowledged", "已电话核实")]
        # Every state: the open alarm first though the acknowledged one is more urgent (the
        # order is explicit, not the states' spelling); an unknown state is a 422.
        every = client.get("/api/v1/door-alarms?state=all", headers=staff).json()
        assert [(a["state"], a["kind"]) for a in every] == [
            ("open", "forced_open"),
            ("acknowledged", "duress"),
        ]
        bogus = client.get("/api/v1/door-alarms?state=closed", headers=staff)
        assert bogus.status_code == 422

        # The console and the doors page, by name; acknowledging from the page.
        page_login(client, seeded.users["admin_a"])
        console = client.get("/dashboard")
        assert "门禁报警\uff081\uff09" in console.text
        assert "门被强行打开" in console.text
        doors_page = client.get("/doors?state=all")
        assert "胁迫开门" in doors_page.text
        assert "静默报警" in doors_page.text
        assert "张伟" in doors_page.text
        token = re.search(r'name="csrf-token" content="([^"]+)"', doors_page.text)
        assert token is not None
        answer = client.post(
            f"/door-alarms/{forced.id}/acknowledge",
            data={"csrf_token": token.group(1), "note": "巡逻已查看"},
        )
        assert answer.status_code == 200
        assert "报警已确认处理" in answer.text
        assert "没有报警" in client.get("/doors").text
    with engine.connect() as conn:
        entries = conn.execute(
            select(audit_log.c.actor, audit_log.c.action, audit_log.c.object_id).where(
                audit_log.c.object_type == "door_alarm"
            )
        ).all()
    updates = [(a, o) for _, a, o in entries if a == "update"]
    assert sorted(updates) == sorted([("update", str(duress.id)), ("update", str(forced.id))])
    # Reading the alarm that names the resident is an audited read.
    assert any(a == "read" and str(duress.id) in o for _, a, o in entries)


def test_remote_unlock_is_role_limited_reasoned_audited_and_short_lived(engine: Any) -> None:
    seeded = seed(engine)
    with offline_api(engine) as (client, published):
        staff = login(client, seeded.users["admin_a"])
        body = {"edge_id": seeded.edge_a, "gate": "north", "reason": "业主忘带钥匙"}
        worker = login(client, seeded.users["worker_a1"])
        assert client.post("/api/v1/doors/unlock", json=body, headers=worker).status_code == 403
        admin_b = login(client, seeded.users["admin_b"])
        assert client.post("/api/v1/doors/unlock", json=body, headers=admin_b).status_code == 404
        blank = client.post("/api/v1/doors/unlock", json={**body, "reason": "  "}, headers=staff)
        assert blank.status_code == 422
        assert published == [] or not any(out.to_edges for out in published)
        sent = client.post("/api/v1/doors/unlock", json=body, headers=staff)
        assert sent.status_code == 202, sent.text
        (command,) = [m for out in published for m in out.to_edges if isinstance(m, RemoteUnlock)]
        assert (command.edge_id, command.gate, command.reason) == (
            seeded.edge_a,
            "north",
            body["reason"],
        )
        assert command.expires_at - command.ts <= timedelta(seconds=61)
        assert str(command.id) == sent.json()["command_id"]
        places = client.get("/api/v1/doors", headers=staff).json()
        assert [p["compound_name"] for p in places] == ["Pine Court"]
    # The edge reports the outcome; the audit log keeps request and outcome.
    ingest, _ = _ingest(engine)
    release = DoorRelease.model_validate(
        {
            **new_fields(),
            "edge_id": seeded.edge_a,
            "seq": 1,
            "source": "centre",
            "command_id": command.id,
            "occurred_at": utc_now(),
            "gate": "north",
            "actor": command.actor,
            "reason": command.reason,
            "opened": True,
        }
    )
    ingest._process([incoming(release)])
    with engine.connect() as conn:
        entries = conn.execute(
            select(
                audit_log.c.actor, audit_log.c.action, audit_log.c.detail, audit_log.c.community_id
            )
            .where(audit_log.c.object_type == "door")
            .order_by(audit_log.c.pk)
        ).all()
    assert [(a.split(":")[0], act, c) for a, act, _, c in entries] == [
        ("community_admin", "unlock", "CA"),
        ("edge", "unlock", "CA"),
    ]
    assert str(command.id) in entries[0][2]
    assert "opened" in entries[1][2]
    assert str(command.id) in entries[1][2]


def test_unlock_page_sends_with_a_reason(engine: Any) -> None:
    seeded = seed(engine)
    with offline_api(engine) as (client, published):
        page_login(client, seeded.users["admin_a"])
        page = client.get("/doors")
        assert "远程开门" in page.text
        assert "Pine Court" in page.text
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert token is not None
        missing = client.post(
            "/doors/unlock",
            data={"csrf_token": token.group(1), "edge_id": seeded.edge_a, "gate": "north"},
        )
        assert missing.status_code == 422
        assert "请选择小区" in missing.text
        done = client.post(
            "/doors/unlock",
            data={
                "csrf_token": token.group(1),
                "edge_id": seeded.edge_a,
                "gate": "north",
                "reason": "快递无法进门",
            },
        )
        assert done.status_code == 200
        # It says the command went out, not that the door opened (the edge's outcome is
        # shown on /doors when it arrives).
        assert "开门指令已发往 north 门" in done.text
        assert "最近开门结果" in done.text
    assert [type(m).__name__ for out in published for m in out.to_edges] == ["RemoteUnlock"]


def test_unlock_retries_are_one_command_and_the_edges_outcome_shows(engine: Any) -> None:
    """A retry with the form's command id sends the same command again (the edge opens once
    per id) and is audited once; the doors page names edges with their compound, shows lanes
    as the gates number them, and shows the edge's door_release outcome."""
    seeded = seed(engine)
    ingest, _ = _ingest(engine)
    ingest._process([incoming(alarm(seeded.edge_a, 1, "forced_open", lane=1))])
    with offline_api(engine) as (client, published):
        page_login(client, seeded.users["admin_a"])
        page = client.get("/doors")
        assert f"Pine Court · {seeded.edge_a}</option>" in page.text
        assert "north 门 1 号通道" in page.text  # lane 1 as the gate reports it (0-based)
        assert "还没有开门记录" in page.text
        command_id = re.search(r'name="command_id" value="([^"]+)"', page.text)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert command_id is not None
        assert token is not None
        form = {
            "csrf_token": token.group(1),
            "edge_id": seeded.edge_a,
            "gate": "north",
            "reason": "快递无法进门",
            "command_id": command_id.group(1),
        }
        assert client.post("/doors/unlock", data=form).status_code == 200
        assert client.post("/doors/unlock", data=form).status_code == 200  # a retry
        commands = [m for out in published for m in out.to_edges if isinstance(m, RemoteUnlock)]
        assert [str(c.id) for c in commands] == [command_id.group(1)] * 2
        # A new page load is a new command.
        fresh = re.search(r'name="command_id" value="([^"]+)"', client.get("/doors").text)
        assert fresh is not None
        assert fresh.group(1) != command_id.group(1)
        release = DoorRelease.model_validate(
            {
                **new_fields(),
                "edge_id": seeded.edge_a,
                "seq": 2,
                "source": "centre",
                "command_id": commands[0].id,
                "occurred_at": utc_now(),
                "gate": "north",
                "actor": commands[0].actor,
                "reason": commands[0].reason,
                "opened": False,
                "detail": "throttled",
            }
        )
        ingest._process([incoming(release)])
        shown = client.get("/doors").text
        assert "最近开门结果" in shown
        assert f'data-command="{command_id.group(1)}"' in shown
        assert "未开门\uff08throttled\uff09" in shown
        # The API the same way; a malformed id is a 422.
        staff = login(client, seeded.users["admin_a"])
        body = {"edge_id": seeded.edge_a, "gate": "north", "reason": "业主忘带钥匙"}
        bad = client.post(
            "/api/v1/doors/unlock", json={**body, "command_id": "not-a-uuid"}, headers=staff
        )
        assert bad.status_code == 422
    with engine.connect() as conn:
        requested = conn.execute(
            select(audit_log.c.detail).where(
                audit_log.c.object_type == "door", audit_log.c.detail.like("remote unlock%")
            )
        ).all()
    assert len(requested) == 1
