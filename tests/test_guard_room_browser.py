"""The guard-room page in a real browser (Debian's Chromium driven by Playwright) at a running
edge whose hub is unreachable: log in, register a walk-in, see the slip, see today's visitors
and the door state, open a door by hand with a reason.

Screenshots go to test-artifacts/screenshots/guard-room-*.png.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge_agent.guard_room.auth import hash_password
from edge_agent.runtime import EdgeAgent
from gridgate_wire import CredentialKind, Decision, DoorRelease, SubjectKind, decode_from_topic
from tests.doubles import RecordingActuator
from tests.edge_helpers import edge_config
from tests.roster_builders import resident, roster

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
GUARD, PASSWORD = "guard-zhao", "men-wei-2026"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium (make test installs it)"
    ),
]


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[EdgeAgent]:
    config = edge_config(
        tmp_path,
        None,  # no hub: the guard room works offline
        doors=[{"gate": "north", "label": "北门", "open_s": 3, "contact": {"type": "http"}}],
        guard_room={
            "enabled": True,
            "users": [{"name": GUARD, "password_hash": hash_password(PASSWORD)}],
        },
    )
    edge = EdgeAgent(config)
    edge.doors["north"] = RecordingActuator()
    edge.handle_command(
        roster(
            config.edge_id,
            1,
            [
                resident("R1", "H-3-201", card="c-1", label="3栋2单元201"),
                resident("R2", "H-5-102", card="c-2", label="5栋1单元102"),
            ],
        )
    )
    edge.start()
    yield edge
    edge.stop()


def door_report(port: int, state: str) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/door",
        data=json.dumps({"gate": "north", "state": state}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 - loopback test
        assert reply.status == 200


def test_guard_room_in_a_browser(agent: EdgeAgent, browser: Any) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert agent.http is not None
    port = agent.http.port
    base = f"http://127.0.0.1:{port}"
    door_report(port, "closed")
    agent.present_credential("north", CredentialKind.CARD, "c-1")
    door_report(port, "open")  # the resident walks through
    page = browser.new_page(viewport={"width": 1100, "height": 900}, locale="zh-CN")

    page.goto(f"{base}/guard")
    assert page.url.endswith("/guard/login")
    page.screenshot(path=str(SHOTS / "guard-room-login.png"), full_page=True)
    page.fill("#username", GUARD)
    page.fill("#password", "not-the-password")
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.inner_text("#error")
    page.fill("#username", GUARD)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/guard")
    assert "今天没有访客" in page.inner_text("#visitors")
    assert "开着" in page.inner_text("#doors")
    assert "北门" in page.inner_text("#doors")
    assert "north" not in page.inner_text("#doors")
    assert page.inner_text("#gate").strip() == "北门"
    page.screenshot(path=str(SHOTS / "guard-room-home.png"), full_page=True)

    # Register a walk-in: the host house is chosen from the roster.
    page.click("text=登记访客 >> nth=0")
    page.wait_for_url(f"{base}/guard/walk-in")
    page.fill("#name", "李四")
    page.fill("#phone", "138 1234 5678")
    # The picker names houses by label; the id is only the option's value.
    assert "5栋1单元102" in page.inner_text("#house")
    assert "H-5-102" not in page.inner_text("#house")
    page.select_option("#house", label="5栋1单元102")
    page.fill("#purpose", "维修水管")
    page.fill("#stay_hours", "2")
    page.screenshot(path=str(SHOTS / "guard-room-walk-in.png"), full_page=True)
    page.click("#walk-in button[type=submit]")
    page.wait_for_selector("#slip")
    pin = page.inner_text("#pin").strip()
    assert re.fullmatch(r"\d{6}", pin)
    assert page.locator("#qr svg").count() == 1
    assert "5栋1单元102" in page.inner_text("#slip")
    assert "H-5-102" not in page.inner_text("#slip")
    page.screenshot(path=str(SHOTS / "guard-room-slip.png"), full_page=True)
    page.emulate_media(media="print")
    page.screenshot(path=str(SHOTS / "guard-room-slip-print.png"), full_page=True)
    page.emulate_media(media="screen")

    # The visitor is admitted at the gate by the PIN on the slip.
    event = agent.present_credential("north", CredentialKind.PIN, pin)
    assert (event.decision, event.subject) == (Decision.GRANT, SubjectKind.VISITOR)

    page.goto(f"{base}/guard")
    visitors = page.inner_text("#visitors")
    assert "李访客" in visitors
    assert "5栋1单元102" in visitors
    assert "H-5-102" not in visitors
    passages = page.inner_text("#passages")
    assert "访客 李访客" in passages
    assert "5栋1单元102" in passages
    assert "北门" in passages
    for internal in ("R1", "H-3-201", "H-5-102", "north"):
        assert internal not in passages, internal

    # Open the door by hand: a reason is required, the release is recorded.
    page.fill("#reason", "访客行李多 帮忙开门")
    page.click("#release button[type=submit]")
    page.wait_for_selector("#notice")
    assert "门已打开" in page.inner_text("#notice")
    page.screenshot(path=str(SHOTS / "guard-room-released.png"), full_page=True)
    rows = agent.store.outbox_after(0, 1000)
    releases = [
        m
        for m in (decode_from_topic(r.topic, r.payload) for r in rows)
        if isinstance(m, DoorRelease)
    ]
    assert [(r.source.value, r.actor, r.opened) for r in releases] == [("guard_room", GUARD, True)]

    page.goto(f"{base}/guard/live")
    assert "开着" in page.inner_text("#doors")
    live = page.inner_text("#passages")
    assert "住户" in live
    assert "3栋2单元201" in live  # the resident: 住户 of the house, never a name or id
    assert "H-3-201" not in live
    page.screenshot(path=str(SHOTS / "guard-room-live.png"), full_page=True)
    page.close()
