"""The users page: list the users this member of staff manages, disable (their sessions end at
once) or enable them, reset a password. Every change is audited."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub.errors import HubError
from hub.request_context import hub_context
from hub.services import oversight
from hub.services.oversight import UserChange
from hub.web.answers import failed, succeeded
from hub.web.render import render, translator
from hub.web.session import Form, PageStaff

router = APIRouter(include_in_schema=False)


@router.get("/users")
def users_page(request: Request, user: PageStaff) -> Response:
    with hub_context(request).read() as conn:
        rows = oversight.managed_users(conn, user)
    return render(request, "users.html", user, "users", people=rows)


def _change(
    request: Request, user: PageStaff, user_id: str, change: UserChange, fields: dict[str, str]
) -> Response:
    try:
        with hub_context(request).work() as work:
            oversight.change_user(work, user, user_id, change, fields.get("password", "")[:200])
    except HubError as exc:
        return failed(request, user, exc)
    return succeeded(request, user, translator(request)("users.done_" + change.value), "/users")


@router.post("/users/{user_id}/disable")
def disable(request: Request, user_id: str, user: PageStaff, fields: Form) -> Response:
    return _change(request, user, user_id, UserChange.DISABLE, fields)


@router.post("/users/{user_id}/enable")
def enable(request: Request, user_id: str, user: PageStaff, fields: Form) -> Response:
    return _change(request, user, user_id, UserChange.ENABLE, fields)


@router.post("/users/{user_id}/password")
def password(request: Request, user_id: str, user: PageStaff, fields: Form) -> Response:
    return _change(request, user, user_id, UserChange.PASSWORD, fields)
