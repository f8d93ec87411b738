"""What both HTTP adapters (API and pages) read from a request: the hub's context, the
session cookie (set by the API's login and by the login form), the client's address."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hub.context import HubContext

SESSION_COOKIE = "gridgate_session"


def set_session_cookie(response: Response, token: str, ctx: HubContext) -> None:
    """HttpOnly, SameSite=Strict, Secure behind HTTPS, gone at the absolute session limit."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=ctx.secure_cookies,
        max_age=int(ctx.policy.absolute.total_seconds()),
    )


def cookie_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE)


def hub_context(request: Request) -> HubContext:
    ctx: HubContext = request.app.state.hub
    return ctx


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
