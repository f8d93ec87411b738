"""The pages in a real browser (Debian's Chromium driven by Playwright): an alert becomes a task
on the worker's phone page without reload, the worker accepts (once through a dropped network)
and records the outcome, the dashboard's counts change, scope holds, both languages render.

Screenshots of each main page go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gridgate_wire import Channel
from hub.runtime import HubService
from hub.store.schema import tasks
from hub.tasks import Outbound, Outcome, on_alert, record_outcome
from tests.brokers import Mosquitto
from tests.hub_helpers import PASSWORD, hub_config, seed
from tests.test_hub_api import make_alert
from tests.test_hub_sync import FakeEdge
from tests.waiting import wait_until

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
        worker.check("li[data-task] input[name=outcome][value=no_change]")
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


def _task(
    hub: HubService, edge_id: str, seq: int, house: str, resident: str | None, kind: str
) -> str:
    with hub.engine.begin() as conn:
        task_id = on_alert(
            conn, edge_id, make_alert(edge_id, seq, house, resident, kind), Outbound()
        )
    assert task_id is not None
    return task_id


def test_visit_loop_in_a_browser(tmp_path: Path, broker: Mosquitto, browser: Any) -> None:
    """Outcomes for the kind with no default; a move-out asks first; nobody home keeps the task
    open with a revisit time; the enrolment code shows once; a failing submit says why; the
    centre reassigns; /api/docs renders under the CSP."""
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
    hub.start()
    base = f"http://127.0.0.1:{hub.http_port}"
    problems: list[str] = []
    try:
        welfare = _task(hub, edge_id, 1, "HA1", "RA1", "welfare_check")
        moving = _task(hub, edge_id, 2, "HA1", "RA1", "move_out")
        newcomer = _task(hub, edge_id, 3, "HA1", None, "new_occupant")
        phone = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
        desk = browser.new_context(viewport={"width": 1280, "height": 900})
        worker = phone.new_page()
        admin = desk.new_page()
        for page in (worker, admin):
            page.on(
                "console",
                lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
            )
            page.on("pageerror", lambda e: problems.append(str(e)))
        log_in(worker, base, seeded.users["worker_a1"])
        log_in(admin, base, seeded.users["admin_a"])
        # Installable: a manifest, and a service worker that keeps the shell for offline use.
        assert worker.get_attribute("link[rel=manifest]", "href") == "/static/manifest.webmanifest"
        assert worker.evaluate("navigator.serviceWorker.ready.then(r => r.active !== null)")
        manifest = worker.request.get(f"{base}/static/manifest.webmanifest").json()
        assert manifest["start_url"] == "/my"
        # The phone's list, most urgent (the welfare check) first; the header does not wrap.
        first = worker.locator("li[data-task]").first
        assert first.get_attribute("data-task") == welfare
        header = worker.locator("header.top").bounding_box()
        assert header is not None
        assert header["height"] < 80, header
        worker.screenshot(path=str(SHOTS / "worker-tabs-zh-CN.png"), full_page=True)
        # The dashboard refreshes itself when a task appears.
        assert count(admin, "count-open") == 3
        admin.evaluate("window.__notReloaded = true")
        _task(hub, edge_id, 4, "HA2", None, "vacancy")
        wait_until(lambda: count(admin, "count-open") == 4, timeout=20)
        assert admin.evaluate("window.__notReloaded === true")

        # A welfare task: no "moved out", and no submit without a choice.
        worker.goto(f"{base}/tasks/{welfare}")
        worker.click("details.outcome-box summary")
        choices = worker.locator("form.outcome input[name=outcome]")
        assert sorted(choices.evaluate_all("els => els.map(e => e.value)")) == [
            "away",
            "needs_help",
            "no_change",
            "nobody_home",
        ]
        assert worker.locator("form.outcome input[name=outcome]:checked").count() == 0
        assert "确认已搬离" not in worker.inner_text("form.outcome")
        worker.click("form.outcome button.submit-outcome")
        assert worker.evaluate("document.querySelector('form.outcome').checkValidity()") is False
        assert worker.inner_text("#flash") == ""
        worker.screenshot(path=str(SHOTS / "worker-welfare-outcomes-zh-CN.png"), full_page=True)

        # Nobody home: the task stays open, with the revisit time shown.
        worker.check("form.outcome input[value=nobody_home]")
        assert worker.is_visible("form.outcome input[name=revisit_at]")
        worker.click("form.outcome button.submit-outcome")
        worker.wait_for_selector("#flash .notice")
        assert "已记录家中无人" in worker.inner_text("#flash")
        worker.wait_for_selector(".badge.revisit")
        with hub.engine.connect() as conn:
            row = conn.execute(select(tasks).where(tasks.c.task_id == welfare)).one()
        assert row.open
        assert row.revisit_at is not None
        worker.screenshot(path=str(SHOTS / "worker-nobody-home-zh-CN.png"), full_page=True)

        # A move-out asks first and says what will happen.
        worker.goto(f"{base}/tasks/{moving}")
        worker.click("details.outcome-box summary")
        assert not worker.is_visible("form.outcome .when-destructive")
        worker.check("form.outcome input[value=moved_out]")
        assert worker.is_visible("form.outcome .when-destructive")
        assert "删除其人脸数据" in worker.inner_text("form.outcome .when-destructive")
        worker.click("form.outcome button.submit-outcome")
        assert worker.evaluate("document.querySelector('form.outcome').checkValidity()") is False
        worker.screenshot(path=str(SHOTS / "worker-move-out-confirm-zh-CN.png"), full_page=True)
        # Meanwhile the centre closes it: the worker's submit fails and says why.
        with hub.engine.begin() as conn:
            record_outcome(conn, moving, Outcome.NO_CHANGE, "centre", Outbound())
        worker.check("form.outcome input[data-confirm-box]")
        worker.click("form.outcome button.submit-outcome")
        worker.wait_for_selector("#flash .error")
        assert "状态已变化" in worker.inner_text("#flash")
        worker.screenshot(path=str(SHOTS / "worker-submit-error-zh-CN.png"), full_page=True)

        # A new occupant with face consent: the one-time code and its QR code, once.
        worker.goto(f"{base}/tasks/{newcomer}")
        worker.click("details.outcome-box summary")
        worker.check("form.outcome input[value=new_occupant_confirmed]")
        worker.fill("form.outcome input[name=occupant_name]", "周杰")
        worker.check("form.outcome input[name=face_consent]")
        worker.click("form.outcome button.submit-outcome")
        worker.wait_for_selector("#flash #enrolment-code")
        assert "已提交：确认新住户。" in worker.inner_text("#flash")  # noqa: RUF001
        code = worker.inner_text("#enrolment-code")
        assert len(code) == 8
        assert code.isdigit()
        assert worker.locator("#enrolment-qr svg").count() == 1
        worker.screenshot(path=str(SHOTS / "worker-enrolment-code-zh-CN.png"), full_page=True)
        worker.reload()
        assert code not in worker.content()

        # The centre reassigns the welfare check to the grid leader, with a reason: it leaves
        # the worker's open phone page without a reload.
        worker.goto(f"{base}/my")
        worker.wait_for_selector(f"li[data-task='{welfare}']")
        worker.evaluate("window.__notReloaded = true")
        admin.goto(f"{base}/tasks/{welfare}")
        admin.click(".staff-actions details:first-child summary")
        admin.select_option("#reassign-to", "LA1")
        admin.fill("#reassign-reason", "刘洋休假")
        admin.click("form.reassign button[type=submit]")
        admin.wait_for_selector("#flash .notice")
        assert "已改派给陈静" in admin.inner_text("#flash")
        wait_until(lambda: "由刘洋改派给陈静" in admin.inner_text("body"), timeout=10)
        admin.screenshot(path=str(SHOTS / "task-reassigned-zh-CN.png"), full_page=True)
        wait_until(lambda: worker.locator(f"li[data-task='{welfare}']").count() == 0, timeout=20)
        assert worker.evaluate("window.__notReloaded === true")

        # Search finds a resident by name; the export opens in Excel (BOM, Chinese headers).
        admin.goto(f"{base}/residents?lang=zh-CN")
        admin.fill("#q", "张伟")
        admin.click("form[role=search] button[type=submit]")
        admin.wait_for_load_state("networkidle")
        assert admin.locator("a[href='/residents/RA1']").count() == 1
        assert admin.locator("a[href='/residents/RA2']").count() == 0
        admin.screenshot(path=str(SHOTS / "residents-search-zh-CN.png"), full_page=True)
        admin.goto(f"{base}/workers?lang=zh-CN")
        href = admin.get_attribute("#export-csv", "href")
        assert href is not None
        export = admin.request.get(f"{base}{href}")
        assert export.body().startswith(b"\xef\xbb\xbf")
        assert export.body().decode("utf-8-sig").startswith("月份,网格员,网格")

        # Every page in both languages and both sizes; zh-CN pages hold no English words
        # outside names (the seed's compounds are named in English, usernames are Latin).
        names = {
            "Pine",
            "Court",
            "Oak",
            "English",
            *(u.split("-")[0] for u in seeded.users.values()),
        }
        staff_pages = {
            "dashboard": "/dashboard",
            "workers": "/workers",
            "houses": "/houses",
            "house": "/houses/HA1",
            "residents": "/residents",
            "resident": "/residents/RA1",
            "edges": "/edges",
            "audit": "/audit",
            "users": "/users",
            "task": f"/tasks/{welfare}",
            "visit-sheet": f"/tasks/{welfare}/print",
        }
        untranslated: dict[str, set[str]] = {}
        for lang in ("zh-CN", "en"):
            for size, viewport in (("desk", (1280, 900)), ("phone", (360, 740))):
                admin.set_viewport_size({"width": viewport[0], "height": viewport[1]})
                for name, path in staff_pages.items():
                    admin.goto(f"{base}{path}?lang={lang}")
                    text = admin.inner_text("main")
                    assert "⟦" not in text, (lang, name)
                    if lang == "zh-CN" and name not in ("audit", "edges"):
                        english = set(re.findall(r"\b[A-Za-z]{3,}\b", text)) - names
                        if english:
                            untranslated[name] = english
                    admin.screenshot(path=str(SHOTS / f"{name}-{size}-{lang}.png"), full_page=True)
            for tab in ("todo", "overdue", "done"):
                worker.goto(f"{base}/my?tab={tab}&lang={lang}")
                assert "⟦" not in worker.inner_text("body")
                worker.screenshot(path=str(SHOTS / f"my-{tab}-phone-{lang}.png"), full_page=True)
        admin.set_viewport_size({"width": 1280, "height": 900})
        assert not untranslated, untranslated

        # /api/docs: Swagger UI from local files, under the pages' CSP.
        problems.clear()
        admin.goto(f"{base}/api/docs")
        admin.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
        assert "tasks" in admin.inner_text(".swagger-ui")
        admin.screenshot(path=str(SHOTS / "api-docs.png"), full_page=False)
        assert not [p for p in problems if "Content Security Policy" in p], problems
        phone.close()
        desk.close()
    finally:
        hub.stop()
