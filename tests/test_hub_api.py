"""The hub's HTTP API: scope of every route for every role, login, audit, import, reports,
outcomes, privacy counters. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from gridgate_wire import (
    AlertEvidence,
    EdgeAlert,
    EnrolmentConfirmation,
    ErasureConfirmation,
    encode,
    new_fields,
    utc_now,
    uuid7,
)
from hub.app import create_app
from hub.context import HubContext
from hub.privacy import on_enrolment, on_erasure, template_counts
from hub.store.schema import (
    audit_log,
    consents,
    edge_messages,
    houses,
    invitations,
    residents,
    roster_outbox,
    task_evidence,
    tasks,
)
from hub.tasks import Outbound, on_alert
from tests.hub_helpers import PASSWORD, Seeded, login, offline_api, seed


def make_alert(edge_id: str, seq: int, house: str, resident: str | None, kind: str) -> EdgeAlert:
    return EdgeAlert.model_validate(
        {
            **new_fields(),
            "edge_id": edge_id,
            "seq": seq,
            "kind": kind,
            "compound_id": "cA" if house.startswith("HA") else "cB",
            "house_id": house,
            "resident_id": resident,
            "detected_at": utc_now(),
            "confidence": 0.9,
            "evidence": AlertEvidence(days_seen=3, note="not seen for 21 days"),
        }
    )


def open_task(engine: Any, edge_id: str, house: str, resident: str | None, kind: str) -> str:
    alert = make_alert(edge_id, 1, house, resident, kind)
    with engine.begin() as conn:
        conn.execute(
            edge_messages.insert().values(
                edge_id=edge_id,
                msg_id=str(alert.id),
                kind=alert.KIND,
                seq=alert.seq,
                ts=alert.ts,
                received_at=utc_now(),
                payload=encode(alert).decode(),
            )
        )
        task_id = on_alert(conn, edge_id, alert, Outbound())
    assert task_id is not None
    return task_id


# Every /api/v1 route with a request that targets community B's objects. The scope test fails
# when a route is added without an entry here.
# In this order: each change is first made by a role allowed to (accept before the outcome, a
# new code while consent stands; cancel on a second task).
def scope_requests(b_task: str, b_spare: str) -> dict[tuple[str, str], tuple[str, Any]]:
    return {
        ("GET", "/api/v1/me"): ("/api/v1/me", None),
        ("POST", "/api/v1/auth/logout"): ("/api/v1/auth/logout", None),
        ("GET", "/api/v1/areas"): ("/api/v1/areas", None),
        ("GET", "/api/v1/compounds"): ("/api/v1/compounds", None),
        ("GET", "/api/v1/compounds/{compound_id}"): ("/api/v1/compounds/cB", None),
        ("GET", "/api/v1/houses"): ("/api/v1/houses", None),
        ("GET", "/api/v1/houses/{house_id}"): ("/api/v1/houses/HB1", None),
        ("GET", "/api/v1/residents"): ("/api/v1/residents", None),
        ("GET", "/api/v1/residents/{resident_id}"): ("/api/v1/residents/RB1", None),
        ("POST", "/api/v1/residents"): (
            "/api/v1/residents",
            {"resident_id": "RB9", "house_id": "HB1", "name": "新人"},
        ),
        ("PATCH", "/api/v1/residents/{resident_id}"): (
            "/api/v1/residents/RB1",
            {"phone": "13900000000"},
        ),
        ("POST", "/api/v1/residents/{resident_id}/consents"): (
            "/api/v1/residents/RB1/consents",
            {"version": "v2"},
        ),
        ("POST", "/api/v1/residents/{resident_id}/invitations"): (
            "/api/v1/residents/RB1/invitations",
            None,
        ),
        ("POST", "/api/v1/residents/{resident_id}/consents/withdraw"): (
            "/api/v1/residents/RB1/consents/withdraw",
            None,
        ),
        ("GET", "/api/v1/workers"): ("/api/v1/workers", None),
        ("GET", "/api/v1/workers/{worker_id}"): ("/api/v1/workers/WB1", None),
        ("GET", "/api/v1/tasks"): ("/api/v1/tasks", None),
        ("GET", "/api/v1/tasks/{task_id}"): (f"/api/v1/tasks/{b_task}", None),
        ("POST", "/api/v1/tasks/{task_id}/accept"): (f"/api/v1/tasks/{b_task}/accept", None),
        ("POST", "/api/v1/tasks/{task_id}/reassign"): (
            f"/api/v1/tasks/{b_task}/reassign",
            {"worker_id": "WB1", "reason": "on leave"},
        ),
        ("POST", "/api/v1/tasks/{task_id}/outcome"): (
            f"/api/v1/tasks/{b_task}/outcome",
            {"outcome": "no_change", "note": "all well"},
        ),
        ("POST", "/api/v1/tasks/{task_id}/cancel"): (
            f"/api/v1/tasks/{b_spare}/cancel",
            {"note": "x"},
        ),
        ("GET", "/api/v1/edges"): ("/api/v1/edges", None),
        ("GET", "/api/v1/edges/{edge_id}"): ("/api/v1/edges/{edge_b}", None),
        ("POST", "/api/v1/edges/{edge_id}/roster"): ("/api/v1/edges/{edge_b}/roster", None),
        ("GET", "/api/v1/reports/monthly"): ("/api/v1/reports/monthly?month={month}", None),
        ("POST", "/api/v1/import/{kind}"): (
            "/api/v1/import/residents",
            "resident_id,house_id,name\nRB8,HB1,新人\n",
        ),
        ("GET", "/api/v1/audit"): ("/api/v1/audit", None),
        ("GET", "/api/v1/privacy/templates"): ("/api/v1/privacy/templates", None),
        ("GET", "/api/v1/dead-letters"): ("/api/v1/dead-letters", None),
        ("GET", "/api/v1/houses/{house_id}/away"): ("/api/v1/houses/HB1/away", None),
        ("POST", "/api/v1/houses/{house_id}/away"): (
            "/api/v1/houses/HB1/away",
            {"away_from": "2026-01-20", "back_on": "2026-02-10", "note": "春节回老家"},
        ),
        ("GET", "/api/v1/reviews"): ("/api/v1/reviews", None),
        ("POST", "/api/v1/reviews/{edge_id}/{msg_id}/resolve"): (
            "/api/v1/reviews/{edge_b}/{review_b}/resolve",
            {"note": "checked"},
        ),
        ("POST", "/api/v1/houses/{house_id}/tasks"): (
            "/api/v1/houses/HB1/tasks",
            {"kind": "welfare_check", "resident_id": "RB1", "note": "邻居来电"},
        ),
        # Visitor passes and doors (issue 18): community B's pass {pass_b} and alarm {alarm_b}.
        ("POST", "/api/v1/passes"): ("/api/v1/passes", b_pass_body()),
        ("GET", "/api/v1/passes/{pass_id}"): ("/api/v1/passes/{pass_b}", None),
        ("POST", "/api/v1/passes/{pass_id}/revoke"): (
            "/api/v1/passes/{pass_b}/revoke",
            {"reason": "x"},
        ),
        ("GET", "/api/v1/houses/{house_id}/passes"): ("/api/v1/houses/HB1/passes", None),
        ("GET", "/api/v1/compounds/{compound_id}/passes"): ("/api/v1/compounds/cB/passes", None),
        ("GET", "/api/v1/door-alarms"): ("/api/v1/door-alarms", None),
        ("POST", "/api/v1/door-alarms/{alarm_id}/acknowledge"): (
            "/api/v1/door-alarms/{alarm_b}/acknowledge",
            {"note": "x"},
        ),
        ("GET", "/api/v1/doors"): ("/api/v1/doors", None),
        ("POST", "/api/v1/doors/unlock"): (
            "/api/v1/doors/unlock",
            {"edge_id": "edge-B", "gate": "north", "reason": "test"},
        ),
    }


def b_pass_body() -> dict[str, Any]:
    now = utc_now()
    return {
        "house_id": "HB1",
        "visitor_name": "访客",
        "valid_from": now.isoformat(),
        "valid_until": (now + timedelta(hours=2)).isoformat(),
    }


def b_pass_and_alarm(engine: Any, edge_b: str) -> tuple[str, str]:
    """A pass for house HB1 and a door alarm of edge B (community B)."""
    from gridgate_wire import DoorAlarm
    from hub.doors import on_door_alarm
    from hub.passes import PassRequest, issue_pass

    now = utc_now()
    alarm = DoorAlarm.model_validate(
        {
            **new_fields(),
            "edge_id": edge_b,
            "seq": 9,
            "kind": "forced_open",
            "occurred_at": now,
            "gate": "north",
        }
    )
    with engine.begin() as conn:
        issued = issue_pass(
            conn, PassRequest("HB1", now, now + timedelta(hours=2), visitor_name="访客"), "seed"
        )
        on_door_alarm(conn, alarm, Outbound())
    return issued.record.pass_id, str(alarm.id)


STAFF_ONLY = {
    ("POST", "/api/v1/residents"),
    ("PATCH", "/api/v1/residents/{resident_id}"),
    ("POST", "/api/v1/residents/{resident_id}/consents"),
    ("POST", "/api/v1/residents/{resident_id}/consents/withdraw"),
    ("POST", "/api/v1/tasks/{task_id}/cancel"),
    ("GET", "/api/v1/edges"),
    ("GET", "/api/v1/edges/{edge_id}"),
    ("POST", "/api/v1/edges/{edge_id}/roster"),
    ("GET", "/api/v1/reports/monthly"),
    ("POST", "/api/v1/import/{kind}"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/privacy/templates"),
    ("POST", "/api/v1/houses/{house_id}/away"),
    ("GET", "/api/v1/reviews"),
    ("POST", "/api/v1/reviews/{edge_id}/{msg_id}/resolve"),
    ("POST", "/api/v1/tasks/{task_id}/reassign"),
    ("POST", "/api/v1/residents/{resident_id}/invitations"),
    ("POST", "/api/v1/houses/{house_id}/tasks"),
    ("POST", "/api/v1/passes"),
    ("POST", "/api/v1/passes/{pass_id}/revoke"),
    ("GET", "/api/v1/door-alarms"),
    ("POST", "/api/v1/door-alarms/{alarm_id}/acknowledge"),
    ("GET", "/api/v1/doors"),
    ("POST", "/api/v1/doors/unlock"),
}
ADMIN_ONLY = {("GET", "/api/v1/dead-letters")}
# What each route answers in scope, to worker_b1, admin_b and admin in turn (403: not their
# role; 409, or 422 for an import, when admin_b has made the same change already).
IN_SCOPE_ANSWERS: dict[tuple[str, str], tuple[int, int, int]] = {
    ("GET", "/api/v1/areas"): (200, 200, 200),
    ("GET", "/api/v1/audit"): (403, 200, 200),
    ("GET", "/api/v1/compounds"): (200, 200, 200),
    ("GET", "/api/v1/compounds/{compound_id}"): (200, 200, 200),
    ("GET", "/api/v1/dead-letters"): (403, 403, 200),
    ("GET", "/api/v1/edges"): (403, 200, 200),
    ("GET", "/api/v1/edges/{edge_id}"): (403, 200, 200),
    ("GET", "/api/v1/houses"): (200, 200, 200),
    ("GET", "/api/v1/houses/{house_id}"): (200, 200, 200),
    ("GET", "/api/v1/houses/{house_id}/away"): (200, 200, 200),
    ("GET", "/api/v1/me"): (200, 200, 200),
    ("GET", "/api/v1/privacy/templates"): (403, 200, 200),
    ("GET", "/api/v1/reports/monthly"): (403, 200, 200),
    ("GET", "/api/v1/residents"): (200, 200, 200),
    ("GET", "/api/v1/residents/{resident_id}"): (200, 200, 200),
    ("GET", "/api/v1/reviews"): (403, 200, 200),
    ("GET", "/api/v1/tasks"): (200, 200, 200),
    ("GET", "/api/v1/tasks/{task_id}"): (200, 200, 200),
    ("GET", "/api/v1/workers"): (200, 200, 200),
    ("GET", "/api/v1/workers/{worker_id}"): (200, 200, 200),
    ("PATCH", "/api/v1/residents/{resident_id}"): (403, 200, 200),
    ("POST", "/api/v1/auth/logout"): (204, 204, 204),
    ("POST", "/api/v1/edges/{edge_id}/roster"): (403, 200, 200),
    ("POST", "/api/v1/houses/{house_id}/away"): (403, 201, 201),
    ("POST", "/api/v1/houses/{house_id}/tasks"): (403, 201, 409),
    ("POST", "/api/v1/import/{kind}"): (403, 200, 422),
    ("POST", "/api/v1/residents"): (403, 201, 409),
    ("POST", "/api/v1/residents/{resident_id}/consents"): (403, 201, 201),
    ("POST", "/api/v1/residents/{resident_id}/consents/withdraw"): (403, 204, 409),
    ("POST", "/api/v1/residents/{resident_id}/invitations"): (403, 201, 201),
    ("POST", "/api/v1/reviews/{edge_id}/{msg_id}/resolve"): (403, 204, 409),
    ("POST", "/api/v1/tasks/{task_id}/accept"): (200, 409, 409),
    ("POST", "/api/v1/tasks/{task_id}/cancel"): (403, 200, 409),
    ("POST", "/api/v1/tasks/{task_id}/outcome"): (200, 409, 409),
    ("POST", "/api/v1/tasks/{task_id}/reassign"): (403, 200, 200),
    ("POST", "/api/v1/passes"): (403, 201, 201),
    ("GET", "/api/v1/passes/{pass_id}"): (200, 200, 200),
    ("POST", "/api/v1/passes/{pass_id}/revoke"): (403, 200, 200),  # idempotent
    ("GET", "/api/v1/houses/{house_id}/passes"): (200, 200, 200),
    ("GET", "/api/v1/compounds/{compound_id}/passes"): (200, 200, 200),
    ("GET", "/api/v1/door-alarms"): (403, 200, 200),
    ("POST", "/api/v1/door-alarms/{alarm_id}/acknowledge"): (403, 204, 204),  # idempotent
    ("GET", "/api/v1/doors"): (403, 200, 200),
    ("POST", "/api/v1/doors/unlock"): (403, 202, 202),
}
B_MARKERS = ("cB", "HB1", "RB1", "WB1", "GB1", "CB", "RB8", "RB9", "edge-B")


def _call(client: Any, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    if isinstance(body, str):
        return client.request(
            method, path, content=body.encode(), headers={**headers, "content-type": "text/csv"}
        )
    return client.request(method, path, json=body, headers=headers)


def test_every_route_every_role_scope(engine: Any) -> None:
    seeded = seed(engine)
    b_task = open_task(engine, seeded.edge_b, "HB1", "RB1", "move_out")
    b_spare = open_task(engine, seeded.edge_b, "HB1", None, "vacancy")
    open_task(engine, seeded.edge_a, "HA1", "RA1", "move_out")
    month = datetime.now(UTC).strftime("%Y-%m")
    unknown = make_alert(seeded.edge_b, 2, "HB-unregistered", None, "new_occupant")
    with engine.begin() as conn:
        assert on_alert(conn, seeded.edge_b, unknown, Outbound()) is None  # a review item
    pass_b, alarm_b = b_pass_and_alarm(engine, seeded.edge_b)
    with offline_api(engine) as (client, _):
        spec = client.get("/api/openapi.json").json()
        app_routes = {
            (method.upper(), path)
            for path, operations in spec["paths"].items()
            if path.startswith("/api/v1")
            for method in operations
        } - {("POST", "/api/v1/auth/login")}
        table = scope_requests(b_task, b_spare)
        assert app_routes == set(table), "add new routes to the scope table"
        # One session per role (an Argon2 login each); logging out ends it, so the logout
        # route's caller logs in again on its next request.
        sessions: dict[str, dict[str, str]] = {}

        def as_user(label: str) -> dict[str, str]:
            if label not in sessions:
                sessions[label] = login(client, seeded.users[label])
            return sessions[label]

        observed: dict[tuple[str, str], tuple[int, int, int]] = {}
        for (method, template), (path, body) in table.items():
            path = path.format(
                edge_b=seeded.edge_b,
                month=month,
                review_b=unknown.id,
                pass_b=pass_b,
                alarm_b=alarm_b,
            )
            route = (method, template)
            # Anonymous: always 401.
            assert _call(client, method, path, body, {}).status_code == 401, path
            for label in ("admin_a", "worker_a1"):
                if template == "/api/v1/auth/logout":
                    continue
                response = _call(client, method, path, body, as_user(label))
                denied_role = route in ADMIN_ONLY or (label == "worker_a1" and route in STAFF_ONLY)
                if denied_role:
                    assert response.status_code == 403, (label, method, path)
                elif "{" in template or method != "GET":
                    # An object (or action) of community B: forbidden or not found.
                    assert response.status_code in (403, 404, 422), (label, method, path)
                    if response.status_code == 422:  # import: rows outside the community
                        assert "outside your community" in response.text
                else:
                    assert response.status_code == 200, (label, method, path, response.text)
                    assert not any(m in response.text for m in B_MARKERS), (label, path)
            answers = []
            for label in ("worker_b1", "admin_b", "admin"):
                response = _call(client, method, path, body, as_user(label))
                if template == "/api/v1/auth/logout":
                    sessions.pop(label)
                if (label == "worker_b1" and route in STAFF_ONLY | ADMIN_ONLY) or (
                    label == "admin_b" and route in ADMIN_ONLY
                ):
                    assert response.status_code == 403, (label, method, path)
                answers.append(response.status_code)
            observed[route] = (answers[0], answers[1], answers[2])
        # In scope, each route answers what it does; a second identical change is refused.
        assert observed == IN_SCOPE_ANSWERS
        with engine.connect() as conn:
            # Community A users changed nothing of B: RB8 came from admin_b/admin imports only.
            assert conn.scalar(select(residents.c.phone).where(residents.c.resident_id == "RB1"))


def test_login_throttle_logout_and_csrf(engine: Any) -> None:
    seeded = seed(engine)
    username = seeded.users["worker_a1"]
    with offline_api(engine) as (client, _):
        for _ in range(5):
            wrong = client.post(
                "/api/v1/auth/login", json={"username": username, "password": "wrong password"}
            )
            assert wrong.status_code == 401
        throttled = client.post(
            "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert throttled.status_code == 429
        unknown = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "x"})
        assert unknown.status_code == 401
        admin = seeded.users["admin_a"]
        response = client.post("/api/v1/auth/login", json={"username": admin, "password": PASSWORD})
        assert response.status_code == 200
        csrf = response.json()["csrf_token"]
        # Cookie session: reads work, writes need the CSRF header.
        assert client.get("/api/v1/me").json()["role"] == "community_admin"
        patch = client.patch("/api/v1/residents/RA1", json={"phone": "1"})
        assert patch.status_code == 403
        assert "CSRF" in patch.text
        ok = client.patch(
            "/api/v1/residents/RA1", json={"phone": "1"}, headers={"X-CSRF-Token": csrf}
        )
        assert ok.status_code == 200
        assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
        client.cookies.set("gridgate_session", response.json()["token"])
        assert client.get("/api/v1/me").status_code == 401  # revoked server-side
        bad = client.get("/api/v1/tasks?limit=1000", headers=login(client, admin))
        assert bad.status_code == 422
        assert "limit" in bad.text


def test_audit_log_records_personal_data_reads_and_is_append_only(engine: Any) -> None:
    seeded = seed(engine)
    with offline_api(engine) as (client, _):
        headers = login(client, seeded.users["worker_a1"])
        assert client.get("/api/v1/residents/RA1", headers=headers).status_code == 200
        entries = client.get("/api/v1/audit", headers=login(client, seeded.users["admin_a"]))
        assert entries.status_code == 200
        reads = [
            e for e in entries.json()["items"] if e["action"] == "read" and e["object_id"] == "RA1"
        ]
        assert reads
        assert reads[0]["actor"].startswith("grid_worker:")
        # admin_b sees nothing of community A's audit entries.
        other = client.get("/api/v1/audit", headers=login(client, seeded.users["admin_b"]))
        assert all(e["community_id"] in (None, "CB") for e in other.json()["items"])
        assert "RA1" not in other.text
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(audit_log)) > 0


def test_csv_import_reports_every_problem_and_imports_nothing(engine: Any) -> None:
    seeded = seed(engine)
    bad = (
        "house_id,compound_id,grid_id,building,unit,address,vacant\n"
        "HA7,cA,GA1,1,1,1-1-701,no\n"
        "HA8,cX,GA1,1,1,1-1-801,no\n"  # no such compound
        "HA9,cA,GB1,1,1,1-1-901,maybe\n"  # not a bool
        "HA1,cA,GA1,1,1,dup,no\n"  # exists
        "HA10,cA,GB1,1,1,x,no\n"  # grid in another community
        ",cA,GA1,1,1,x,no\n"  # required
    )
    with offline_api(engine) as (client, _):
        headers = login(client, seeded.users["admin"])
        response = client.post(
            "/api/v1/import/houses",
            content=bad.encode(),
            headers={**headers, "content-type": "text/csv"},
        )
        assert response.status_code == 422
        problems = {(p["row"], p["field"]) for p in response.json()["problems"]}
        assert problems == {
            (3, "compound_id"),
            (4, "vacant"),
            (5, "house_id"),
            (6, "grid_id"),
            (7, "house_id"),
        }
        with engine.connect() as conn:
            assert conn.scalar(select(houses.c.house_id).where(houses.c.house_id == "HA7")) is None
        header = client.post(
            "/api/v1/import/houses",
            content=b"house_id,colour\nH,red\n",
            headers={**headers, "content-type": "text/csv"},
        )
        assert {(p["field"], p["reason"]) for p in header.json()["problems"]} >= {
            ("colour", "unknown column"),
            ("address", "column missing from the header"),
        }
        good = "\n".join(bad.splitlines()[:2]) + "\n"
        ok = client.post(
            "/api/v1/import/houses",
            content=good.encode(),
            headers={**headers, "content-type": "text/csv"},
        )
        assert ok.status_code == 200
        assert ok.json()["imported"] == 1


def test_outcomes_new_occupant_report_and_privacy_counter(engine: Any) -> None:
    seeded = seed(engine)
    task_id = open_task(engine, seeded.edge_a, "HA1", None, "new_occupant")
    moved = open_task(engine, seeded.edge_a, "HA2", "RA2", "move_out")
    with offline_api(engine) as (client, published):
        worker = login(client, seeded.users["worker_a1"])
        assert client.post(f"/api/v1/tasks/{task_id}/accept", headers=worker).status_code == 200
        # Wrong state: accepting twice is a clear conflict.
        again = client.post(f"/api/v1/tasks/{task_id}/accept", headers=worker)
        assert again.status_code == 409
        assert "cannot become accepted" in again.text
        response = client.post(
            f"/api/v1/tasks/{task_id}/outcome",
            headers=worker,
            json={
                "outcome": "new_occupant_confirmed",
                "note": "tenant since October",
                "new_occupant": {"name": "周杰", "face_consent": True, "consent_version": "v3"},
            },
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["task"]["state"] == "closed"
        assert len(body["enrolment_code"]) == 8
        resident_id = body["resident_id"]
        # Another grid's worker cannot close the move-out task of grid A2.
        denied = client.post(
            f"/api/v1/tasks/{moved}/outcome", headers=worker, json={"outcome": "moved_out"}
        )
        assert denied.status_code == 404
        admin = login(client, seeded.users["admin_a"])
        # A destructive outcome needs its explicit confirmation.
        unconfirmed = client.post(
            f"/api/v1/tasks/{moved}/outcome", headers=admin, json={"outcome": "moved_out"}
        )
        assert unconfirmed.status_code == 422
        assert unconfirmed.json()["detail"]["code"] == "confirm_needed"
        assert (
            client.post(
                f"/api/v1/tasks/{moved}/outcome",
                headers=admin,
                json={"outcome": "moved_out", "confirmed": True},
            ).status_code
            == 200
        )
        with engine.connect() as conn:
            consent = conn.execute(
                select(consents).where(consents.c.resident_id == resident_id)
            ).one()
            invitation = conn.execute(
                select(invitations).where(invitations.c.resident_id == resident_id)
            ).one()
            versions = conn.execute(
                select(roster_outbox.c.edge_id, roster_outbox.c.roster_version).order_by(
                    roster_outbox.c.roster_version
                )
            ).all()
            ra2 = conn.scalar(select(residents.c.active).where(residents.c.resident_id == "RA2"))
        assert consent.version == "v3"
        assert invitation.code_sha256 != body["enrolment_code"]
        assert [tuple(v) for v in versions] == [(seeded.edge_a, 1), (seeded.edge_a, 2)]
        assert ra2 is False
        kinds = [m.KIND for out in published for m in out.to_edges]
        assert kinds == ["roster_update", "enrolment_invitation", "roster_update"]
        month = datetime.now(UTC).strftime("%Y-%m")
        report = client.get(f"/api/v1/reports/monthly?month={month}&by=grid", headers=admin)
        rows = {r["key"]: r for r in report.json()["rows"]}
        assert rows["GA1"]["tasks_closed"] == 1
        assert rows["GA1"]["outcomes"] == {"new_occupant_confirmed": 1}
        assert rows["GA1"]["on_time_rate"] == 1.0
        assert rows["GA2"]["outcomes"] == {"moved_out": 1}
        csv_report = client.get(
            f"/api/v1/reports/monthly?month={month}&by=worker&format=csv", headers=admin
        )
        assert csv_report.headers["content-type"].startswith("text/csv")
        assert "WA1" in csv_report.text
        assert client.get("/api/v1/reports/monthly?month=2026-13", headers=admin).status_code == 422
        # Privacy counter from the edges' confirmations.
        with engine.begin() as conn:
            on_enrolment(
                conn,
                EnrolmentConfirmation.model_validate(
                    {
                        **new_fields(),
                        "edge_id": seeded.edge_a,
                        "seq": 5,
                        "invitation_id": invitation.invitation_id,
                        "resident_id": resident_id,
                        "consent_id": consent.consent_id,
                        "status": "enrolled",
                        "templates": 3,
                    }
                ),
            )
        counts = client.get("/api/v1/privacy/templates", headers=admin).json()
        assert (counts["people"], counts["templates"], counts["warning"]) == (1, 3, "")
        with engine.begin() as conn:
            assert "nearing" in template_counts(conn, limit=1).warning or template_counts(
                conn, limit=1
            ).warning.startswith("1 people")
            on_erasure(
                conn,
                ErasureConfirmation.model_validate(
                    {
                        **new_fields(),
                        "edge_id": seeded.edge_a,
                        "seq": 6,
                        "resident_id": resident_id,
                        "templates_deleted": 3,
                        "deleted_at": utc_now(),
                    }
                ),
            )
            assert template_counts(conn).people == 0
            status = conn.scalar(
                select(invitations.c.status).where(invitations.c.resident_id == resident_id)
            )
        assert status == "enrolled"


def test_worker_reconnecting_gets_what_changed(engine: Any) -> None:
    seeded = seed(engine)
    before = utc_now() - timedelta(seconds=1)
    first = open_task(engine, seeded.edge_a, "HA1", "RA1", "welfare_check")
    with offline_api(engine) as (client, _):
        worker = login(client, seeded.users["worker_a1"])
        changed = client.get(
            "/api/v1/tasks", params={"changed_since": before.isoformat()}, headers=worker
        ).json()
        assert [t["task_id"] for t in changed["items"]] == [first]
        later = utc_now()
        nothing = client.get(
            "/api/v1/tasks", params={"changed_since": later.isoformat()}, headers=worker
        ).json()
        assert nothing["total"] == 0
        detail = client.get(f"/api/v1/tasks/{first}", headers=worker).json()
        assert detail["evidence"][0]["detail"]["note"] == "not seen for 21 days"
        assert [t["to_state"] for t in detail["transitions"]] == ["created", "assigned"]


def test_openapi_document_lists_the_api(engine: Any) -> None:
    ctx = HubContext(engine=engine, publish=lambda _out: None)
    from fastapi.testclient import TestClient

    with TestClient(create_app(ctx)) as client:
        spec = client.get("/api/openapi.json").json()
    assert {"/api/v1/tasks", "/api/v1/reports/monthly", "/api/v1/import/{kind}"} <= set(
        spec["paths"]
    )
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(tasks)) == 0
    _ = Seeded, uuid7


def test_sessions_expire_when_idle_and_at_the_absolute_limit(engine: Any) -> None:
    from hub.auth import SessionPolicy, authenticate, login
    from hub.errors import Unauthenticated

    seeded = seed(engine)
    policy = SessionPolicy(idle=timedelta(minutes=30), absolute=timedelta(hours=12))
    with engine.begin() as conn:
        token, _ = login(conn, seeded.users["admin_a"], PASSWORD, "test", policy)
    with engine.begin() as conn:
        assert authenticate(conn, token, policy).username == seeded.users["admin_a"]
    for stale in (
        SessionPolicy(idle=timedelta(0), absolute=timedelta(hours=12)),
        SessionPolicy(idle=timedelta(minutes=30), absolute=timedelta(0)),
    ):
        with engine.begin() as conn:
            token, _ = login(conn, seeded.users["admin_a"], PASSWORD, "test", policy)
        with pytest.raises(Unauthenticated, match="expired"), engine.begin() as conn:
            authenticate(conn, token, stale)


def test_new_enrolment_code_replaces_the_unused_one(engine: Any) -> None:
    seeded = seed(engine)
    with offline_api(engine) as (client, published):
        admin = login(client, seeded.users["admin_a"])
        none_yet = client.post("/api/v1/residents/RA1/invitations", headers=admin)
        assert none_yet.status_code == 409  # no face consent to invite for
        first = client.post("/api/v1/residents/RA1/consents", headers=admin, json={"version": "v1"})
        assert first.status_code == 201
        again = client.post("/api/v1/residents/RA1/invitations", headers=admin)
        assert again.status_code == 201, again.text
        assert again.json()["enrolment_code"] != first.json()["enrolment_code"]
        with engine.connect() as conn:
            statuses = sorted(
                conn.scalars(select(invitations.c.status).where(invitations.c.resident_id == "RA1"))
            )
        assert statuses == ["replaced", "sent"]
        assert [m.KIND for m in published[-1].to_edges] == ["enrolment_invitation"]


def test_tasks_can_be_listed_surest_first(engine: Any) -> None:
    seeded = seed(engine)
    unsure = open_task(engine, seeded.edge_a, "HA1", "RA1", "move_out")
    sure = open_task(engine, seeded.edge_a, "HA2", "RA2", "welfare_check")
    with engine.begin() as conn:
        conn.execute(
            task_evidence.update().where(task_evidence.c.task_id == unsure).values(confidence=0.4)
        )
    with offline_api(engine) as (client, _):
        admin = login(client, seeded.users["admin_a"])
        page = client.get("/api/v1/tasks?order=confidence", headers=admin).json()
        assert [t["task_id"] for t in page["items"]] == [sure, unsure]
        assert [t["confidence"] for t in page["items"]] == [0.9, 0.4]
        assert page["items"][0]["resident_name"] == "王芳"
        assert client.get("/api/v1/tasks?order=x", headers=admin).status_code == 422
