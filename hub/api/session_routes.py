"""``/api/v1/auth`` and ``/api/v1/me``: log in (a bearer token and the session cookie), log
out, who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from hub import models
from hub.api.deps import Ctx, User, session_token
from hub.request_context import SESSION_COOKIE, client_address, set_session_cookie
from hub.services import sessions

router = APIRouter(prefix="/api/v1", tags=["session"])


@router.post("/auth/login", response_model=models.LoginResponse)
def post_login(
    body: models.LoginRequest, request: Request, response: Response, ctx: Ctx
) -> models.LoginResponse:
    """Log in; answers 401 on a wrong password and 429 after repeated failures."""
    with ctx.work() as work:
        session = sessions.login(
            work, body.username, body.password, client_address(request), ctx.policy
        )
    set_session_cookie(response, session.token, ctx)
    return models.LoginResponse(
        token=session.token,
        csrf_token=session.principal.csrf_token,
        role=session.principal.role,
        username=session.principal.username,
    )


@router.post("/auth/logout", status_code=204)
def post_logout(request: Request, response: Response, principal: User, ctx: Ctx) -> None:
    """Revoke the session on the server; the token stops working at once."""
    token, _ = session_token(request)
    with ctx.work() as work:
        sessions.logout(work, principal, token or "")
    response.delete_cookie(SESSION_COOKIE)


@router.get("/me", response_model=models.Me)
def get_me(principal: User) -> models.Me:
    return models.Me(
        user_id=principal.user_id,
        username=principal.username,
        role=principal.role,
        area_id=principal.area_id,
        worker_id=principal.worker_id,
        grids=None if principal.grids is None else sorted(principal.grids),
    )
