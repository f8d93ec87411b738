"""The way in and out: the home redirect, the login form, logging out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from hub.boundary import status_of
from hub.errors import HubError, Throttled
from hub.request_context import (
    SESSION_COOKIE,
    client_address,
    cookie_token,
    hub_context,
    set_session_cookie,
)
from hub.services import sessions
from hub.web.render import render, translator
from hub.web.session import Form, LoginForm, MaybeUser, PageUser

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(user: MaybeUser) -> Response:
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/dashboard" if sessions.is_staff(user) else "/my", status_code=303)


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", None, next=next if next.startswith("/") else "/")


@router.post("/login")
def login_submit(request: Request, fields: LoginForm) -> Response:
    ctx = hub_context(request)
    target = fields.get("next", "/")
    try:
        with ctx.work() as work:
            session = sessions.login(
                work,
                fields.get("username", "")[:64],
                fields.get("password", "")[:200],
                client_address(request),
                ctx.policy,
            )
    except HubError as refused:
        key = "login.throttled" if isinstance(refused, Throttled) else "login.failed"
        return render(
            request,
            "login.html",
            None,
            status_code=status_of(refused),
            error=translator(request)(key),
            next=target,
        )
    response = RedirectResponse(target if target.startswith("/") else "/", status_code=303)
    set_session_cookie(response, session.token, ctx)
    return response


@router.post("/logout")
def logout_submit(request: Request, user: PageUser, _fields: Form) -> Response:
    with hub_context(request).work() as work:
        sessions.logout(work, user, cookie_token(request) or "")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
