"""The users page: list the users this member of staff manages, disable (their sessions end at
once) or enable them, reset a password. Every change is audited."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from hub import audit, users
from hub.audit import Action
from hub.web.answers import _failed, _succeeded, _t
from hub.web.pages import _ctx, _form, _require, render

router = APIRouter(include_in_schema=False)


@router.get("/users")
def users_page(request: Request) -> Response:
    user = _require(request, staff=True)
    with _ctx(request).engine.connect() as conn:
        rows = users.list_users(conn, user)
    return render(request, "users.html", user, "users", people=rows)


async def _change(request: Request, user_id: str, what: str) -> Response:
    user = _require(request, staff=True)
    fields = await _form(request, user)
    now = datetime.now(UTC)
    try:
        with _ctx(request).engine.begin() as conn:
            if what == "password":
                users.reset_password(conn, user, user_id, fields.get("password", "")[:200], now)
            else:
                users.set_active(conn, user, user_id, what == "enable", now)
            audit.record(
                conn,
                user.actor,
                Action.UPDATE,
                "user",
                user_id,
                community_id=user.area_id,
                detail=what,
            )
    except users.UserError as exc:
        status = 404 if exc.code == "not_found" else 422
        return _failed(request, user, HTTPException(status, {"code": exc.code}))
    return _succeeded(request, user, _t(request)("users.done_" + what), "/users")


@router.post("/users/{user_id}/disable")
async def disable(request: Request, user_id: str) -> Response:
    return await _change(request, user_id, "disable")


@router.post("/users/{user_id}/enable")
async def enable(request: Request, user_id: str) -> Response:
    return await _change(request, user_id, "enable")


@router.post("/users/{user_id}/password")
async def password(request: Request, user_id: str) -> Response:
    return await _change(request, user_id, "password")
