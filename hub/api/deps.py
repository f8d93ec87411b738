"""What every API handler gets injected: the hub's context and the current principal (a bearer
token, or the session cookie with the CSRF header on writes), checked by ``hub.services.sessions``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from hub.auth import Principal
from hub.context import HubContext
from hub.request_context import cookie_token, hub_context
from hub.services import sessions
from hub.services.paging import Window

CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Ctx = Annotated[HubContext, Depends(hub_context)]


def session_token(request: Request) -> tuple[str | None, bool]:
    """The bearer token, and whether it came from the cookie (then writes need CSRF)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), False
    cookie = cookie_token(request)
    return cookie, cookie is not None


def current_principal(request: Request, ctx: Ctx) -> Principal:
    token, from_cookie = session_token(request)
    with ctx.work() as work:
        principal = sessions.authenticate(work, token, ctx.policy)
    if from_cookie and request.method not in _SAFE_METHODS:
        sessions.check_csrf(principal, request.headers.get(CSRF_HEADER, ""))
    return principal


User = Annotated[Principal, Depends(current_principal)]


def _staff(principal: User) -> Principal:
    return sessions.require_staff(principal)


def _admin(principal: User) -> Principal:
    return sessions.require_admin(principal)


Staff = Annotated[Principal, Depends(_staff)]
Admin = Annotated[Principal, Depends(_admin)]


def window(
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Objects to skip.")] = 0,
) -> Window:
    return Window(limit, offset)


Paged = Annotated[Window, Depends(window)]
