"""Who is asking, for the pages: the session cookie checked by ``hub.services.sessions`` (the
same rules as the API), the staff rule, and forms whose CSRF token is checked on the way in.
Sync dependencies run in FastAPI's thread pool, off the event loop."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hub.auth import Principal
from hub.errors import HubError, Unauthenticated
from hub.request_context import cookie_token, hub_context
from hub.services import sessions


class LoginRequired(Unauthenticated):
    """No valid session on a page: it redirects to the login form."""


def optional_user(request: Request) -> Principal | None:
    """The logged-in user, or None (the revocation of an expired session commits)."""
    token = cookie_token(request)
    if not token:
        return None
    ctx = hub_context(request)
    try:
        with ctx.work() as work:
            return sessions.authenticate(work, token, ctx.policy)
    except HubError:
        return None


MaybeUser = Annotated[Principal | None, Depends(optional_user)]


def page_user(user: MaybeUser) -> Principal:
    if user is None:
        raise LoginRequired("not logged in")
    return user


PageUser = Annotated[Principal, Depends(page_user)]


def page_staff(user: PageUser) -> Principal:
    return sessions.require_staff(user)


PageStaff = Annotated[Principal, Depends(page_staff)]


async def checked_form(request: Request, user: PageUser) -> dict[str, str]:
    """The form's fields, once its CSRF token (field or header) matches the session's."""
    form = await request.form()
    fields = {key: str(value) for key, value in form.items()}
    sessions.check_csrf(user, fields.get("csrf_token") or request.headers.get("x-csrf-token", ""))
    return fields


Form = Annotated[dict[str, str], Depends(checked_form)]


async def plain_form(request: Request) -> dict[str, str]:
    """The login form's fields (no session yet, so no CSRF token)."""
    form = await request.form()
    return {key: str(value) for key, value in form.items()}


LoginForm = Annotated[dict[str, str], Depends(plain_form)]
