"""The guard-room page over real HTTP at a running edge agent whose hub is unreachable: login
required, CSRF enforced, logins throttled; a walk-in registered there is admitted by its PIN at
the gate and its walk_in_pass waits in the outbox until the hub acknowledges it."""

from __future__ import annotations

import http.client
import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from edge_agent.cli import main as edge_cli
from edge_agent.guard_room.auth import hash_password
from edge_agent.guard_room.config import GuardRoomConfig
from edge_agent.runtime import EdgeAgent
from gridgate_wire import (
    CredentialKind,
    Decision,
    DoorRelease,
    HubAck,
    SubjectKind,
    WalkInPass,
    decode_from_topic,
    new_fields,
)
from tests.doubles import RecordingActuator
from tests.edge_helpers import edge_config
from tests.roster_builders import resident, roster

GUARD, PASSWORD = "guard-li", "men-wei-2026"
_HASH = hash_password(PASSWORD)


class Browser:
    """A minimal cookie-keeping HTTP client (no redirects followed: the tests look at them)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.set_cookies: list[str] = []

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        reply = connection.getresponse()
        text = reply.read().decode()
        for header in reply.headers.get_all("Set-Cookie") or []:
            self.set_cookies.append(header)
            name, _, rest = header.partition("=")
            value = rest.split(";")[0]
            if "Max-Age=0" in header:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        connection.close()
        return reply.status, dict(reply.headers), text

    def get(self, path: str) -> tuple[int, dict[str, str], str]:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, str], str]:
        return self.request("POST", path, form)

    def csrf(self, path: str) -> str:
        status, _, page = self.get(path)
        assert status == 200, page
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found, page
        return found.group(1)

    def log_in(self, password: str = PASSWORD) -> int:
        token = self.csrf("/guard/login")
        status, _, _ = self.post(
            "/guard/login", {"csrf": token, "username": GUARD, "password": password}
        )
        return status


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[EdgeAgent]:
    config = edge_config(
        tmp_path,
        None,  # the hub's broker is unreachable throughout
        guard_room={
            "enabled": True,
            "users": [{"name": GUARD, "password_hash": _HASH}],
            "login_attempts": 3,
        },
        doors=[{"gate": "north", "open_s": 3, "label": "北门"}],
    )
    edge = EdgeAgent(config)
    edge.doors["north"] = RecordingActuator()
    edge.handle_command(
        roster(
            config.edge_id,
            1,
            [
                resident("R1", "H-3-201", card="c-1", label="3栋2单元201"),
                resident("R2", "H-5-102", label="5栋1单元102"),
            ],
        )
    )
    edge.start()
    yield edge
    edge.stop()


def shown(page: str) -> str:
    """The page's visible text: what is between tags, not attribute values (a form's option
    values are house ids the browser posts back, never shown)."""
    return re.sub(r"<[^>]*>", " ", page)


def port_of(agent: EdgeAgent) -> int:
    assert agent.http is not None
    return agent.http.port


def outbox(agent: EdgeAgent, kind: type[Any]) -> list[Any]:
    rows = agent.store.outbox_after(0, 10_000)
    return [m for m in (decode_from_topic(r.topic, r.payload) for r in rows) if isinstance(m, kind)]


def test_login_is_required_csrf_is_enforced_and_logins_are_throttled(agent: EdgeAgent) -> None:
    browser = Browser(port_of(agent))
    status, headers, _ = browser.get("/guard")
    assert (status, headers["Location"]) == (303, "/guard/login")
    assert browser.post("/guard/walk-in", {"name": "x"})[0] == 401
    assert browser.post("/guard/release", {"gate": "north", "reason": "x"})[0] == 401
    # The login form's token is tied to its cookie.
    browser.csrf("/guard/login")
    status, _, page = browser.post(
        "/guard/login", {"csrf": "forged", "username": GUARD, "password": PASSWORD}
    )
    assert status == 403
    assert "登录表单已过期" in page
    assert browser.log_in("wrong-password") == 401
    assert browser.log_in() == 303
    session = next(c for c in browser.set_cookies if c.startswith("gg_guard="))
    assert "HttpOnly" in session
    assert "SameSite=Strict" in session
    status, headers, page = browser.get("/guard")
    assert status == 200
    assert "今日访客" in page
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "<script" not in page
    # Every form needs the session's CSRF token.
    for form in ({}, {"csrf": "forged"}):
        status, _, page = browser.post("/guard/release", {**form, "gate": "north", "reason": "x"})
        assert status == 403
        assert "表单已过期" in page
    assert agent.doors["north"].openings == []  # type: ignore[attr-defined]
    # Logged out, the session is gone.
    browser.post("/guard/logout", {"csrf": browser.csrf("/guard")})
    assert browser.get("/guard")[0] == 303
    # Three wrong passwords from one address, then refusal even with the right one.
    other = Browser(port_of(agent))
    assert [other.log_in("nope") for _ in range(2)] == [401, 401]
    assert other.log_in() == 429


def test_walk_in_with_the_hub_unreachable_is_admitted_and_waits_in_the_outbox(
    agent: EdgeAgent,
) -> None:
    assert not agent.link.connected
    browser = Browser(port_of(agent))
    assert browser.log_in() == 303
    token = browser.csrf("/guard/walk-in")
    status, _, form_page = browser.get("/guard/walk-in")
    # The host-house picker names houses by the registry's label; the id is only the value.
    assert '<option value="H-3-201">3栋2单元201</option>' in form_page
    assert "5栋1单元102" in form_page
    assert "H-3-201" not in shown(form_page)
    assert "H-5-102" not in shown(form_page)
    bad = {"csrf": token, "name": "张三", "house": "H-9-999", "stay_hours": "2"}
    status, _, page = browser.post("/guard/walk-in", bad)
    assert status == 400
    assert "请从名单中选择被访房屋" in page
    visitor = {
        "csrf": token,
        "name": "张三",
        "phone": "139 0000 1234",
        "house": "H-3-201",
        "purpose": "探亲",
        "stay_hours": "3",
    }
    status, _, slip = browser.post("/guard/walk-in", visitor)
    assert status == 200, slip
    pin = re.search(r'id="pin">(\d{6})<', slip)
    assert pin, slip
    assert "<svg" in slip
    assert "张三" in slip
    assert "3栋2单元201" in slip
    assert "H-3-201" not in shown(slip)
    # Admitted at the gate by that PIN, hub or no hub.
    event = agent.present_credential("north", CredentialKind.PIN, pin.group(1))
    assert (event.decision, event.subject, event.house_id) == (
        Decision.GRANT,
        SubjectKind.VISITOR,
        "H-3-201",
    )
    assert event.pass_id is not None
    assert event.pass_id.startswith("W-")
    # The walk_in_pass waits in the outbox, with what only the guard room knows.
    (walk_in,) = outbox(agent, WalkInPass)
    assert walk_in.visitor_pass.pass_id == event.pass_id
    assert (walk_in.visitor_name, walk_in.phone, walk_in.purpose) == (
        "张三",
        "139 0000 1234",
        "探亲",
    )
    assert walk_in.registered_by == GUARD
    assert walk_in.visitor_pass.display_name == "张访客"
    assert [p.pass_id for p in agent.passes.pending_walk_ins()] == [event.pass_id]
    # Today's visitors and the live page show the visitor by display name, never an id.
    # Houses by label, gates by the door's label: no internal id on any screen.
    status, _, home = browser.get("/guard")
    assert "张访客" in home
    assert "待上传中心" in home
    assert "<td>3栋2单元201</td>" in home
    assert '<option value="north">北门</option>' in home
    status, _, live = browser.get("/guard/live")
    assert "访客 张访客" in live
    assert 'http-equiv="refresh"' in live
    agent.present_credential("north", CredentialKind.CARD, "c-1")
    live = browser.get("/guard/live")[2]
    assert "住户" in live
    assert "<td>北门</td>" in live
    assert "R1" not in shown(live)  # the CSRF token may hold "R1"
    for page in (home, live):
        for internal in ("H-3-201", "H-5-102", "north", "R1", "W-"):
            assert internal not in shown(page), internal
    # The hub's ack of the walk_in_pass message ends the pending state.
    agent.handle_command(HubAck(**new_fields(), edge_id=agent.config.edge_id, acked=[walk_in.id]))
    assert agent.passes.pending_walk_ins() == []


def test_open_a_door_by_hand_needs_a_reason_and_is_recorded_and_throttled(
    agent: EdgeAgent,
) -> None:
    browser = Browser(port_of(agent))
    assert browser.log_in() == 303
    token = browser.csrf("/guard")
    status, _, page = browser.post(
        "/guard/release", {"csrf": token, "gate": "north", "reason": " "}
    )
    assert status == 400
    assert "开门必须填写原因" in page
    outcomes = []
    for _ in range(7):
        status, headers, _ = browser.post(
            "/guard/release", {"csrf": token, "gate": "north", "reason": "快递员送大件"}
        )
        outcomes.append(headers["Location"])
    assert outcomes == ["/guard?notice=opened"] * 6 + ["/guard?notice=throttled"]
    assert len(agent.doors["north"].openings) == 6  # type: ignore[attr-defined]
    releases = outbox(agent, DoorRelease)
    assert {(r.source.value, r.actor, r.reason) for r in releases} == {
        ("guard_room", GUARD, "快递员送大件")
    }
    assert [r.opened for r in releases] == [True] * 6 + [False]
    assert "门已打开" in browser.get("/guard?notice=opened")[2]


def test_guard_user_cli_prints_an_argon2_entry_and_the_config_refuses_plaintext(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-password\n"))
    assert edge_cli(["guard-user", "add", "guard-wang"]) == 0
    printed = capsys.readouterr().out
    found = re.search(r"password_hash: '(\$argon2id\$[^']+)'", printed)
    assert found, printed
    config = GuardRoomConfig.model_validate(
        {"enabled": True, "users": [{"name": "guard-wang", "password_hash": found.group(1)}]}
    )
    assert config.users[0].name == "guard-wang"
    with pytest.raises(ValueError, match="Argon2"):
        GuardRoomConfig.model_validate(
            {"enabled": True, "users": [{"name": "x", "password_hash": "hunter2"}]}
        )
    with pytest.raises(ValueError, match="no users"):
        GuardRoomConfig.model_validate({"enabled": True})


def test_a_guards_name_is_not_locked_for_every_address_and_lockouts_grow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from edge_agent.guard_room import auth

    clock = [1000.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock[0])
    throttle = auth.LoginThrottle(limit=5, window_s=300)
    stranger, guard = ("addr:10.0.0.66", "name:guard-li"), ("addr:10.0.0.2", "name:guard-li")
    for _ in range(5):
        throttle.failed(*stranger)
    assert throttle.blocked(*stranger)
    assert not throttle.blocked(*guard)  # the guard, from the guard-room PC, still logs in
    # The stranger spraying other names from its address stops at 3 x the limit.
    for n in range(10):
        throttle.failed("addr:10.0.0.66", f"name:user-{n}")
    assert throttle.blocked("addr:10.0.0.66", "name:anyone")
    # The next lockout of the same pair lasts twice as long.
    clock[0] += 301
    assert not throttle.blocked(*stranger)
    for _ in range(5):
        throttle.failed(*stranger)
    clock[0] += 301
    assert throttle.blocked(*stranger)
    clock[0] += 300
    assert not throttle.blocked(*stranger)
    # Quiet keys are forgotten: the tables do not grow without limit.
    for n in range(500):
        throttle.failed(f"addr:10.1.{n // 250}.{n % 250}", "name:x")
    clock[0] += 3600 * 3
    throttle.blocked("addr:10.9.9.9", "name:x")
    assert throttle._failures == {}
    assert throttle._locked == {}
