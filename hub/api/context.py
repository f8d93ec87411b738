"""What every request handler needs: the database, the publisher, the session policy, and the
current user (with CSRF checking for cookie-authenticated writes)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from sqlalchemy import Engine

from hub.auth import AuthError, Principal, Role, SessionPolicy, authenticate
from hub.live import TaskFeed
from hub.tasks import Outbound

SESSION_COOKIE = "gridgate_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class ApiContext:
    engine: Engine
    publish: Callable[[Outbound], None]
    policy: SessionPolicy = field(default_factory=SessionPolicy)
    template_limit: int = 100_000
    site_timezone: str = "Asia/Shanghai"
    default_language: str = "zh-CN"
    feed: TaskFeed = field(default_factory=TaskFeed)
    secure_cookies: bool = False


def set_session_cookie(response: Response, token: str, ctx: ApiContext) -> None:
    """HttpOnly, SameSite=Strict, Secure behind HTTPS, gone at the absolute session limit."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=ctx.secure_cookies,
        max_age=int(ctx.policy.absolute.total_seconds()),
    )


def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.hub
    return ctx


Ctx = Annotated[ApiContext, Depends(context)]


def session_token(request: Request) -> tuple[str | None, bool]:
    """The bearer token, and whether it came from the cookie (then writes need CSRF)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), False
    cookie = request.cookies.get(SESSION_COOKIE)
    return cookie, cookie is not None


def current_principal(request: Request, ctx: Ctx) -> Principal:
    token, from_cookie = session_token(request)
    if not token:
        raise HTTPException(401, "not logged in", headers={"WWW-Authenticate": "Bearer"})
    # An expired session is revoked in the same transaction: commit that, then refuse.
    with ctx.engine.begin() as conn:
        try:
            principal: Principal | None = authenticate(conn, token, ctx.policy)
        except AuthError as exc:
            principal, refused = None, exc
    if principal is None:
        raise HTTPException(refused.status, refused.reason) from refused
    if from_cookie and request.method not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent, principal.csrf_token):
            raise HTTPException(403, "missing or wrong CSRF token")
    return principal


User = Annotated[Principal, Depends(current_principal)]


def require_staff(principal: User) -> Principal:
    if principal.role not in (Role.ADMIN, Role.COMMUNITY_ADMIN):
        raise HTTPException(403, "community staff only")
    return principal


def require_admin(principal: User) -> Principal:
    if principal.role is not Role.ADMIN:
        raise HTTPException(403, "administrators only")
    return principal


Staff = Annotated[Principal, Depends(require_staff)]
Admin = Annotated[Principal, Depends(require_admin)]
