"""Visitor passes and door alarms in a real browser (Debian's Chromium driven by Playwright): a
staff member issues a pass from the house's page, sees the slip with the QR code and PIN (on
screen and as printed), finds the pass in the house's list and revokes it; a door alarm from
the gate appears on the console without a reload and is acknowledged.

Screenshots go to test-artifacts/screenshots/pass-*.png.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from gridgate_wire import Channel, DoorAlarm, new_fields, utc_now
from hub.runtime import HubService
from tests.brokers import Mosquitto
from tests.hub_helpers import hub_config, seed
from tests.test_hub_sync import FakeEdge
from tests.test_web_browser import CHROMIUM, SHOTS, browser, log_in

__all__ = ["browser"]  # the fixture, shared with the other browser test

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium (make test installs it)"
    ),
]


def test_issue_slip_list_revoke_and_a_live_door_alarm(
    tmp_path: Path, broker: Mosquitto, browser: Any
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    edge_id = f"edge-{uuid.uuid4().hex[:6]}"
    hub = HubService(
        hub_config(
            f"sqlite:///{tmp_path}/hub.sqlite3",
            broker.port,
            api={"enabled": True, "port": 0, "secure_cookies": False},
        )
    )
    seeded = seed(hub.engine, edge_a=edge_id, edge_b=f"b-{edge_id}")
    edge = FakeEdge(broker, edge_id)
    hub.start()
    base = f"http://127.0.0.1:{hub.http_port}"
    try:
        hub.link.wait_connected(10)
        desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = desk.new_page()
        log_in(page, base, seeded.users["admin_a"])
        page.goto(f"{base}/houses/HA1")
        page.click("#house-passes")
        page.wait_for_selector("#issue-pass")
        page.fill("#pass-name", "王小红")
        page.fill("#pass-display", "王女士")
        page.fill("#pass-phone", "13900000009")
        page.fill("#pass-purpose", "探亲")
        page.fill("#pass-uses", "2")
        page.screenshot(path=str(SHOTS / "pass-issue-form-zh-CN.png"), full_page=True)
        page.click("#issue-pass button[type=submit]")
        page.wait_for_selector("#pass-slip")
        assert page.locator("#slip-qr svg").count() == 1
        pin = page.inner_text("#slip-pin")
        assert re.fullmatch(r"\d{6}", pin)
        assert "王女士" in page.inner_text("#pass-slip")
        assert "1-1-101" in page.inner_text("#pass-slip")
        page.screenshot(path=str(SHOTS / "pass-slip-zh-CN.png"), full_page=True)
        page.emulate_media(media="print")  # the slip as printed: no menu, no buttons
        assert not page.is_visible("header.top")
        page.screenshot(path=str(SHOTS / "pass-slip-print-zh-CN.png"), full_page=True)
        page.emulate_media(media="screen")

        page.click("text=返回通行证列表")
        page.wait_for_selector("#pass-list")
        row = page.locator("#pass-list tr[data-pass]")
        assert row.count() == 1
        assert "王小红" in row.inner_text()
        assert "有效" in row.locator(".badge").inner_text()  # the form's local window: now
        assert pin not in page.content()  # shown once, never again
        page.screenshot(path=str(SHOTS / "pass-house-list-zh-CN.png"), full_page=True)
        row.locator("input[name=reason]").fill("访客取消来访")
        row.locator("button[type=submit]").click()
        page.wait_for_selector("text=通行证已作废")
        page.goto(f"{base}/houses/HA1/passes?when=expired")
        assert "已作废" in page.inner_text("#pass-list")
        page.screenshot(path=str(SHOTS / "pass-revoked-zh-CN.png"), full_page=True)

        # A forced door at the gate: the console shows it without a reload.
        page.goto(f"{base}/dashboard")
        page.evaluate("window.__notReloaded = true")
        edge.seq += 1
        alarm = DoorAlarm.model_validate(
            {
                **new_fields(),
                "edge_id": edge_id,
                "seq": edge.seq,
                "kind": "forced_open",
                "occurred_at": utc_now(),
                "gate": "north",
            }
        )
        edge.send(Channel.DOOR_ALARM, alarm)
        page.wait_for_selector("#door-alarms tr.alarm", timeout=20_000)
        assert page.evaluate("window.__notReloaded === true")
        assert "门被强行打开" in page.inner_text("#door-alarms")
        assert "Pine Court" in page.inner_text("#door-alarms")
        page.screenshot(path=str(SHOTS / "pass-console-door-alarm-zh-CN.png"), full_page=True)
        page.goto(f"{base}/doors")
        page.fill("#door-alarms input[name=note]", "保安已到场查看")
        page.click("#door-alarms button[type=submit]")
        page.wait_for_selector("text=报警已确认处理")
        page.goto(f"{base}/doors?state=acknowledged")
        assert "保安已到场查看" in page.inner_text("#door-alarms")
        page.screenshot(path=str(SHOTS / "pass-doors-acknowledged-zh-CN.png"), full_page=True)
    finally:
        edge.stop()
        hub.stop()
