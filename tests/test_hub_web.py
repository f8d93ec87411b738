"""The hub's pages without a browser: catalogues complete, every page renders in both languages
with no untranslated key, scope and CSRF hold on pages too."""

from __future__ import annotations

import ast
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from gridgate_wire import AlertAdvice, AlertContext, AlertKind, TaskState
from hub.audit import Action
from hub.tasks import Outcome
from hub.visits import OUTCOMES
from hub.web.i18n import LANGUAGES, MISSING_MARK
from tests.hub_helpers import PASSWORD, offline_api, seed
from tests.test_hub_api import open_task

WEB = Path(__file__).resolve().parent.parent / "hub" / "web"
DYNAMIC = {
    "kind.": [k.value for k in AlertKind],
    "state.": [s.value for s in TaskState],
    "outcome.": [o.value for o in Outcome],
    "assignee.": ["grid-worker", "grid-leader", "community-centre"],
    "audit.action_": [a.value for a in Action],
    "advice.": [a.value for a in AlertAdvice],
    "context.": [c.value for c in AlertContext],
    "direction.": ["in", "out"],
    "my.tab_": ["todo", "overdue", "done"],
    "role.": ["admin", "community_admin", "grid_worker"],
    "audit.object.": [
        "resident",
        "consent",
        "invitation",
        "user",
        "report",
        "away_report",
        "areas",
        "compounds",
        "houses",
        "residents",
        "workers",
        "edges",
        "door",
        "door_alarm",
        "visitor_pass",
    ],
    "passes.when_": ["today", "active", "expired", "all"],
    "passes.kind_": ["visitor", "carer", "domestic_helper"],
    "passes.status_": ["upcoming", "active", "expired", "revoked"],
    "passes.day_": [str(d) for d in range(1, 8)],
    "doors.state_": ["open", "acknowledged", "all"],
    "doors.kind_": ["held_open", "forced_open", "tailgating", "duress"],
    "doors.source_": ["centre", "guard_room"],
    "users.done_": ["disable", "enable", "password"],
    "my.none_": ["todo", "overdue", "done"],
    "task.confirm_explain_": ["move_out", "vacancy"],
    "outcome_for.": [f"{k.value}.{o.value}" for k, outs in OUTCOMES.items() for o in outs],
    "error.": [
        "choose_outcome",
        "name_needed",
        "wrong_kind",
        "confirm_needed",
        "back_on_needed",
        "note_needed",
        "reason_needed",
        "bad_date",
        "bad_time",
        "back_before_away",
        "resident_not_in_house",
        "reassign_needs",
        "invalid",
        "forbidden",
        "not_found",
        "conflict",
        "too_large",
        "server",
        "password_short",
        "not_yourself",
        "task_needs",
        "pass_window",
        "pass_credential",
        "pass_uses",
        "pass_name",
        "pass_form",
        "unlock_needs",
    ],
}


def test_catalogues_cover_every_key_in_both_languages() -> None:
    catalogues = {
        lang: json.loads((WEB / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
        for lang in LANGUAGES
    }
    assert set(catalogues["zh-CN"]) == set(catalogues["en"])
    used = set()
    for path in (WEB / "templates").glob("*.html"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bt\('([a-z_.]+)'", text))
        # No words outside the catalogue: text nodes hold only template expressions.
        for node in re.findall(r">([^<>{}]*[A-Za-z\u4e00-\u9fff][^<>{}]*)<", text):
            assert not node.strip(), f"{path.name}: untranslated text {node.strip()!r}"
    for module in sorted(WEB.glob("*.py")):
        code = module.read_text(encoding="utf-8")
        used |= set(re.findall(r'\(\s*"([a-z_]+\.[a-z_.]+)"', code))
        used = {key for key in used if not key.endswith(".")}
    for prefix, values in DYNAMIC.items():
        used.discard(prefix)
        used |= {prefix + v for v in values}
    for lang, catalogue in catalogues.items():
        assert used <= set(catalogue), (lang, sorted(used - set(catalogue)))


def page_login(client: TestClient, username: str) -> None:
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def test_pages_render_in_both_languages_within_scope(engine: Any) -> None:
    seeded = seed(engine)
    task_a = open_task(engine, seeded.edge_a, "HA1", "RA1", "move_out")
    task_b = open_task(engine, seeded.edge_b, "HB1", "RB1", "vacancy")
    with offline_api(engine) as (client, _):
        assert (
            client.get("/dashboard", follow_redirects=False)
            .headers["location"]
            .startswith("/login")
        )
        page_login(client, seeded.users["admin_a"])
        for lang in LANGUAGES:
            for path in (
                "/dashboard",
                f"/tasks/{task_a}",
                "/workers",
                "/houses",
                "/residents",
                "/residents/RA1",
                "/edges",
                "/audit",
                "/my",
            ):
                response = client.get(f"{path}?lang={lang}")
                assert response.status_code == 200, (path, response.text)
                assert MISSING_MARK.format(key="")[:1] not in response.text, (lang, path)
                assert f'<html lang="{lang}">' in response.text
        zh = client.get("/dashboard?lang=zh-CN").text
        assert "社区总览" in zh
        assert "Community overview" in client.get("/dashboard?lang=en").text
        # Another community's objects are not found on pages either (said in Chinese, with
        # the menu).
        missing = client.get(f"/tasks/{task_b}?lang=zh-CN")
        assert missing.status_code == 404
        assert "找不到该记录" in missing.text
        assert 'href="/dashboard"' in missing.text
        assert client.get("/residents/RB1").status_code == 404
        assert "HB1" not in client.get("/houses").text
        # A form post without the CSRF token is refused.
        assert client.post(f"/tasks/{task_a}/cancel", data={"note": "x"}).status_code == 403
        client.cookies.clear()
        page_login(client, seeded.users["worker_a1"])
        assert client.get("/dashboard").status_code == 403
        mine = client.get("/my").text
        assert task_a in mine
        assert client.get(f"/tasks/{task_b}").status_code == 404


def rich_task(engine: Any, edge_id: str) -> str:
    """A welfare task whose alert carries the evidence a worker acts on."""
    from datetime import UTC, datetime

    from gridgate_wire import AlertEvidence
    from hub.tasks import Outbound, on_alert
    from tests.test_hub_api import make_alert

    alert = make_alert(edge_id, 3, "HA1", "RA1", "welfare_check").model_copy(
        update={
            "evidence": AlertEvidence(
                last_seen=datetime(2026, 12, 1, 10, 2, tzinfo=UTC),
                last_gate="N1",
                last_direction="out",
                hours_unseen=30,
                usual_days_per_week=5,
                usual_passes_per_day=2,
                household_size=3,
                household_seen=2,
                unrecorded_hours=6,
                context=[AlertContext.LAST_SEEN_GOING_OUT, AlertContext.RECORDING_GAP],
                advice=AlertAdvice.CALL_FAMILY_FIRST,
                note="last seen going out",
            )
        }
    )
    with engine.begin() as conn:
        task_id = on_alert(conn, edge_id, alert, Outbound())
    assert task_id is not None
    return task_id


def fetch_post(client: TestClient, path: str, data: dict[str, str]) -> Any:
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/my").text)
    assert csrf is not None
    return client.post(
        path,
        data={"csrf_token": csrf.group(1), **data},
        headers={"X-Requested-With": "fetch"},
    )


def test_task_page_offers_the_kinds_outcomes_and_says_the_evidence(engine: Any) -> None:
    seeded = seed(engine)
    welfare = rich_task(engine, seeded.edge_a)
    with offline_api(engine) as (client, _):
        page_login(client, seeded.users["worker_a1"])
        zh = client.get(f"/tasks/{welfare}?lang=zh-CN").text
        assert 'value="moved_out"' not in zh
        assert "确认已搬离" not in zh
        for offered in ("本人安好", "需要帮助", "未能入户"):
            assert offered in zh
        assert "checked" not in zh.split('class="outcome"')[1].split("</form>")[0]
        for sentence in (
            "最后一次出现：12月1日 18:02，N1 门岗，外出",  # noqa: RUF001
            "平时每周约5天经过门岗",
            "同户3人中2人近7天仍有出入",
            "期间门岗有6小时无记录",
            "建议先电话联系家属",
            "张伟",
            "tel:13800000001",
        ):
            assert sentence in zh, sentence
        assert "last seen going out" not in zh  # the edge's English note: English pages only
        assert "Call the family first" in client.get(f"/tasks/{welfare}?lang=en").text
        sheet = client.get(f"/tasks/{welfare}/print?lang=zh-CN").text
        assert "派单单" in sheet
        assert "☐ 本人安好" in sheet
        assert "建议先电话联系家属" in sheet


def test_page_actions_answer_in_the_users_language(engine: Any) -> None:
    seeded = seed(engine)
    welfare = rich_task(engine, seeded.edge_a)
    newcomer = open_task(engine, seeded.edge_a, "HA1", None, "new_occupant")
    moving = open_task(engine, seeded.edge_a, "HA1", "RA1", "move_out")
    with offline_api(engine) as (client, published):
        page_login(client, seeded.users["worker_a1"])
        client.get("/my?lang=zh-CN")
        no_choice = fetch_post(client, f"/tasks/{welfare}/outcome", {"note": "x"})
        assert no_choice.status_code == 422
        assert no_choice.json() == {"ok": False, "error": "请选择走访结果。"}
        wrong = fetch_post(client, f"/tasks/{welfare}/outcome", {"outcome": "moved_out"})
        assert (wrong.status_code, wrong.json()["error"]) == (422, "此类任务没有这个结果选项。")
        unconfirmed = fetch_post(client, f"/tasks/{moving}/outcome", {"outcome": "moved_out"})
        assert unconfirmed.status_code == 422
        assert "删除门岗上的人脸数据" in unconfirmed.json()["error"]
        nameless = fetch_post(
            client, f"/tasks/{newcomer}/outcome", {"outcome": "new_occupant_confirmed"}
        )
        assert nameless.json()["error"] == "确认新住户时请填写姓名。"
        # Nobody home: the task stays open with a revisit time.
        then = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=2)).date()
        revisit = fetch_post(
            client,
            f"/tasks/{welfare}/outcome",
            {"outcome": "nobody_home", "revisit_at": f"{then.isoformat()}T09:30"},
        )
        assert revisit.status_code == 200, revisit.text
        assert (
            revisit.json()["message"]
            == f"已记录家中无人，任务保留，{then.month}月{then.day}日 09:30再次上门。"  # noqa: RUF001
        )
        mine = client.get("/my").text
        assert welfare in mine
        assert f"再访 {then.isoformat()} 09:30" in mine
        # A new occupant with face consent: the code and its QR code, once.
        confirmed = fetch_post(
            client,
            f"/tasks/{newcomer}/outcome",
            {"outcome": "new_occupant_confirmed", "occupant_name": "周杰", "face_consent": "1"},
        )
        assert confirmed.status_code == 200, confirmed.text
        html = confirmed.json()["html"]
        code = re.search(r'id="enrolment-code">(\d{8})<', html)
        assert code is not None
        assert "<svg" in html
        assert "登记码只显示这一次" in html
        assert code.group(1) not in client.get(f"/tasks/{newcomer}").text
        # Moved out with the confirmation ticked.
        done = fetch_post(
            client, f"/tasks/{moving}/outcome", {"outcome": "moved_out", "confirmed": "1"}
        )
        assert done.json() == {"ok": True, "message": "已提交：确认已搬离。", "html": ""}  # noqa: RUF001
        again = fetch_post(client, f"/tasks/{moving}/accept", {})
        assert (again.status_code, again.json()["error"]) == (
            409,
            "状态已变化（可能已被他人处理），请刷新后再试。",  # noqa: RUF001
        )
        assert any(m.KIND == "enrolment_invitation" for out in published for m in out.to_edges)


def test_house_page_away_report_reviews_and_reassign(engine: Any) -> None:
    from hub.tasks import Outbound, on_alert
    from tests.test_hub_api import make_alert

    seeded = seed(engine)
    task_id = open_task(engine, seeded.edge_a, "HA1", "RA1", "move_out")
    with engine.begin() as conn:
        on_alert(
            conn, seeded.edge_a, make_alert(seeded.edge_a, 9, "HA9", None, "vacancy"), Outbound()
        )
    with offline_api(engine) as (client, published):
        page_login(client, seeded.users["admin_a"])
        dashboard = client.get("/dashboard?lang=zh-CN").text
        assert "待核对的提醒（1）" in dashboard  # noqa: RUF001
        assert "HA9" in dashboard
        house = client.get("/houses/HA1?lang=zh-CN").text
        for shown in ("暂无外出报备。", "张伟", task_id):
            assert shown in house
        bad = fetch_post(
            client,
            "/houses/HA1/away",
            {"resident_id": "RA1", "away_from": "2027-02-01", "back_on": "2027-01-01"},
        )
        assert (bad.status_code, bad.json()["error"]) == (422, "返回日期早于外出日期。")
        ok = fetch_post(
            client,
            "/houses/HA1/away",
            {"resident_id": "RA1", "away_from": "2027-01-20", "back_on": "2027-02-10"},
        )
        assert ok.json()["message"] == "已登记：张伟外出至2027-02-10。"  # noqa: RUF001
        assert "2027-02-10" in client.get("/houses/HA1").text
        reasons = {m.reason for out in published for m in out.to_edges}  # type: ignore[attr-defined]
        assert reasons == {"reported_away"}
        # Reassign to the grid leader, with a reason; the history says it in Chinese.
        no_reason = fetch_post(client, f"/tasks/{task_id}/reassign", {"worker_id": "LA1"})
        assert no_reason.json()["error"] == "请选择改派对象并填写原因。"
        moved = fetch_post(
            client, f"/tasks/{task_id}/reassign", {"worker_id": "LA1", "reason": "刘洋休假"}
        )
        assert moved.json()["message"] == "已改派给陈静。"
        page = client.get(f"/tasks/{task_id}?lang=zh-CN").text
        assert "由刘洋改派给陈静，原因：刘洋休假" in page  # noqa: RUF001
        cancel = fetch_post(client, f"/tasks/{task_id}/cancel", {"note": ""})
        assert cancel.json()["error"] == "请填写原因。"
        # A neighbour phoned: a welfare task by hand; a second one of that kind is refused.
        made = fetch_post(
            client,
            "/houses/HA1/tasks",
            {"kind": "welfare_check", "resident_id": "RA1", "note": "邻居说几天没见到他"},
        )
        assert made.json()["message"] == "已创建关爱探访任务。"
        twice = fetch_post(client, "/houses/HA1/tasks", {"kind": "welfare_check", "note": "again"})
        assert twice.status_code == 409
        assert (
            fetch_post(client, "/houses/HA1/tasks", {"kind": "welfare_check"}).json()["error"]
            == "请选择任务类型并填写原因。"
        )


def test_resident_search_and_excel_export(engine: Any) -> None:
    seeded = seed(engine)
    task_id = open_task(engine, seeded.edge_a, "HA1", "RA1", "move_out")
    with offline_api(engine) as (client, _):
        page_login(client, seeded.users["worker_a1"])
        fetch_post(client, f"/tasks/{task_id}/outcome", {"outcome": "no_change"})
        client.cookies.clear()
        page_login(client, seeded.users["admin_a"])
        for query in ("张伟", "13800000001", "1-1-101"):
            found = client.get("/residents", params={"q": query}).text
            assert "/residents/RA1" in found, query
            assert "/residents/RA2" not in found, query
        outside = client.get("/residents", params={"q": "李娜"}).text  # community B
        assert "/residents/RB1" not in outside
        month = datetime.now(ZoneInfo("UTC")).strftime("%Y-%m")
        export = client.get(f"/workers/report.csv?month={month}&lang=zh-CN")
        assert export.status_code == 200
        assert export.content.startswith(b"\xef\xbb\xbf")
        header, first = export.content.decode("utf-8-sig").splitlines()[:2]
        assert header == "月份,网格员,网格,派发,办结,按时率,走访用时中位数（小时）,结果构成"  # noqa: RUF001
        assert "刘洋" in first
        assert "A1 网格" in first
        assert "无变化 1" in first


def test_users_page_lists_disables_and_resets_within_the_community(engine: Any) -> None:
    seeded = seed(engine)
    with offline_api(engine) as (client, _):
        page_login(client, seeded.users["worker_a1"])
        worker_cookie = dict(client.cookies)
        assert client.get("/my").status_code == 200
        client.cookies.clear()
        page_login(client, seeded.users["admin_a"])
        listed = client.get("/users?lang=zh-CN").text
        assert seeded.users["worker_a1"] in listed
        assert "刘洋" in listed
        for outsider in ("admin_b", "worker_b1", "admin"):
            assert seeded.users[outsider] not in listed, outsider
        worker_id = re.search(
            rf'data-user="{seeded.users["worker_a1"]}".*?/users/(U-[0-9a-f]+)/disable', listed, re.S
        )
        assert worker_id is not None
        target = worker_id.group(1)
        short = fetch_post(client, f"/users/{target}/password", {"password": "short"})
        assert (short.status_code, short.json()["error"]) == (422, "密码至少需要10位。")
        done = fetch_post(client, f"/users/{target}/disable", {})
        assert done.json()["message"] == "已停用，登录已失效。"  # noqa: RUF001
        admin_cookie = dict(client.cookies)
        client.cookies.clear()
        client.cookies.update(worker_cookie)
        assert client.get("/my", follow_redirects=False).status_code == 303  # logged out
        client.cookies.clear()
        client.cookies.update(admin_cookie)
        unknown = fetch_post(client, "/users/U-000000000000/disable", {})
        assert unknown.status_code == 404


def test_resident_edit_care_flag_and_consent_withdrawal(engine: Any) -> None:
    seeded = seed(engine)
    with offline_api(engine) as (client, published):
        page_login(client, seeded.users["admin_a"])
        client.get("/residents/RA1?lang=zh-CN")
        saved = fetch_post(
            client,
            "/residents/RA1/edit",
            {"name": "张伟", "phone": "13900000009", "care_recipient": "1"},
        )
        assert saved.json()["message"] == "已保存。"
        page = client.get("/residents/RA1").text
        assert "13900000009" in page
        assert "checked" in page.split('name="care_recipient"')[1][:40]
        nameless = fetch_post(client, "/residents/RA1/edit", {"name": ""})
        assert nameless.status_code == 422
        # No consent to withdraw yet: said so; then record one and withdraw it.
        assert fetch_post(client, "/residents/RA1/withdraw", {}).status_code == 409
        fetch_post(client, "/residents/RA1/invite", {"version": "v1"})
        assert 'id="withdraw"' in client.get("/residents/RA1").text
        done = fetch_post(client, "/residents/RA1/withdraw", {})
        assert done.json()["message"] == "已撤回，门岗将删除其人脸数据。"  # noqa: RUF001
        assert 'id="withdraw"' not in client.get("/residents/RA1").text
        assert any(m.KIND == "roster_update" for out in published for m in out.to_edges)


def test_houses_page_names_and_filters(engine: Any) -> None:
    seeded = seed(engine)
    with offline_api(engine) as (client, _):
        page_login(client, seeded.users["admin_a"])
        listed = client.get("/houses?lang=zh-CN").text
        assert "Pine Court" in listed
        assert "A1 网格" in listed
        assert ">cA<" not in listed
        one = client.get("/houses", params={"q": "2-1-201"}).text
        assert "/houses/HA2" in one
        assert "/houses/HA1" not in one
        assert "/houses/HA1" in client.get("/houses", params={"building": "1"}).text
        assert "/houses/HA1" not in client.get("/houses", params={"vacant": "yes"}).text


def test_dashboard_filters_overdue_and_by_creation_date(engine: Any) -> None:
    from sqlalchemy import update

    from hub.store.schema import tasks

    seeded = seed(engine)
    late = open_task(engine, seeded.edge_a, "HA1", "RA1", "move_out")
    fresh = open_task(engine, seeded.edge_a, "HA2", "RA2", "welfare_check")
    with engine.begin() as conn:
        conn.execute(
            update(tasks)
            .where(tasks.c.task_id == late)
            .values(
                due_at=datetime.now(ZoneInfo("UTC")) - timedelta(days=1),
                created_at=datetime.now(ZoneInfo("UTC")) - timedelta(days=10),
            )
        )
    with offline_api(engine) as (client, _):
        page_login(client, seeded.users["admin_a"])
        overdue = client.get("/dashboard", params={"overdue": "1"}).text
        assert late in overdue
        assert fresh not in overdue
        since = (datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(days=2)).date().isoformat()
        recent = client.get("/dashboard", params={"since": since}).text
        assert fresh in recent
        assert late not in recent
        assert client.get("/dashboard", params={"since": "not-a-date"}).status_code == 200


def _hub_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("hub.")}


def test_adapters_sit_on_services_and_pages_never_import_the_api() -> None:
    hub_root = Path(__file__).resolve().parent.parent / "hub"
    for path in sorted((hub_root / "web").rglob("*.py")):
        assert not any(m.startswith("hub.api") for m in _hub_imports(path)), path
    for path in sorted((hub_root / "services").rglob("*.py")):
        leaks = {m for m in _hub_imports(path) if m.startswith(("hub.api", "hub.web", "hub.app"))}
        assert not leaks, (path, leaks)
