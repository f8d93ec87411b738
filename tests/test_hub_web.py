"""The hub's pages without a browser: catalogues complete, every page renders in both languages
with no untranslated key, scope and CSRF hold on pages too."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

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
    for module in ("pages.py", "tasks_pages.py", "evidence.py"):
        code = (WEB / module).read_text(encoding="utf-8")
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
        # Another community's objects are not found on pages either.
        assert client.get(f"/tasks/{task_b}").status_code == 404
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
