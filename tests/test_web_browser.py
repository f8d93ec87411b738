"""The pages in a real browser (Debian's Chromium driven by Playwright): an alert becomes a task
on the worker's phone page without reload, the worker accepts (once through a dropped network)
and records the outcome, the dashboard's counts change, scope holds, both languages render.

Screenshots of each main page go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gridgate_wire import Channel
from hub.runtime import HubService
from hub.tasks import Outbound, on_alert
from tests.brokers import Mosquitto
from tests.edge_helpers import wait_until
from tests.hub_helpers import PASSWORD, hub_config, seed
from tests.test_hub_api import make_alert
from tests.test_hub_sync import FakeEdge

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
MAIN_PAGES = ("dashboard", "workers", "houses", "residents", "edges", "audit")

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


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def count(page: Any, element_id: str) -> int:
    return int(page.inner_text(f"#{element_id}"))


def test_alert_to_worker_phone_to_outcome_in_a_browser(
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
        phone = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
        desk = browser.new_context(viewport={"width": 1280, "height": 900})
        worker = phone.new_page()
        admin = desk.new_page()
        log_in(worker, base, seeded.users["worker_a1"])
        assert worker.url.endswith("/my")
        assert worker.locator("li[data-task]").count() == 0
        log_in(admin, base, seeded.users["admin_a"])
        assert admin.url.endswith("/dashboard")
        assert count(admin, "count-open") == 0
        worker.evaluate("window.__notReloaded = true")

        # An alert arrives from the gate: the task appears on the phone without a reload.
        edge.seq += 1
        edge.send(Channel.ALERT, make_alert(edge_id, edge.seq, "HA1", "RA1", "move_out"))
        worker.wait_for_selector("li[data-task]", timeout=20_000)
        assert worker.evaluate("window.__notReloaded === true")
        assert "疑似搬离" in worker.inner_text("#live-list")
        worker.screenshot(path=str(SHOTS / "worker-my-tasks-zh-CN.png"), full_page=True)
        admin.reload()
        assert count(admin, "count-open") == 1

        # Accept through a dropped network: queued, then sent when the network is back.
        phone.set_offline(True)
        worker.click("li[data-task] button.accept")
        worker.wait_for_selector("#queue-bar:not(.hidden)")
        assert worker.inner_text("#queue-count") == "1"
        worker.screenshot(path=str(SHOTS / "worker-offline-queue-zh-CN.png"), full_page=True)
        phone.set_offline(False)
        worker.wait_for_selector("#queue-bar.hidden", state="attached", timeout=20_000)
        # (Polled from Python: the pages' Content-Security-Policy forbids evaluated strings.)
        wait_until(lambda: "已接单" in worker.inner_text("#live-list"), timeout=20)

        # Record the outcome with a note.
        worker.click("li[data-task] details summary")
        worker.select_option("li[data-task] select[name=outcome]", "no_change")
        worker.fill("li[data-task] textarea[name=note]", "家人说只是出差两周")
        worker.screenshot(path=str(SHOTS / "worker-outcome-form-zh-CN.png"), full_page=True)
        worker.click("li[data-task] form.outcome button[type=submit]")
        wait_until(lambda: worker.locator("li[data-task]").count() == 0, timeout=20)
        admin.reload()
        assert count(admin, "count-open") == 0
        assert count(admin, "count-closed") == 1

        # Another grid's task: not found for this worker.
        other = make_alert(f"b-{edge_id}", 1, "HB1", "RB1", "vacancy")
        # Community B's edge is not connected here: create its task directly.
        with hub.engine.begin() as conn:
            b_task = on_alert(conn, f"b-{edge_id}", other, Outbound())
        response = worker.goto(f"{base}/tasks/{b_task}")
        assert response is not None
        assert response.status == 404

        # Every main page in both languages, with no untranslated key.
        for lang in ("zh-CN", "en"):
            for name in MAIN_PAGES:
                admin.goto(f"{base}/{name}?lang={lang}")
                text = admin.inner_text("body")
                assert "⟦" not in text, (lang, name)
                assert admin.get_attribute("html", "lang") == lang
                admin.screenshot(path=str(SHOTS / f"{name}-{lang}.png"), full_page=True)
            worker.goto(f"{base}/my?lang={lang}")
            assert "⟦" not in worker.inner_text("body")
        tasks = admin.goto(f"{base}/dashboard?state=closed&lang=en")
        assert tasks is not None
        admin.click("#task-table a")
        admin.wait_for_load_state("networkidle")
        assert "Evidence timeline" in admin.inner_text("body")
        admin.screenshot(path=str(SHOTS / "task-detail-en.png"), full_page=True)
        worker.goto(f"{base}/login?lang=en")
        worker.screenshot(path=str(SHOTS / "login-en.png"), full_page=True)
        phone.close()
        desk.close()
    finally:
        edge.stop()
        hub.stop()
    assert hub.ingestor.stats.dead_letters == 0
