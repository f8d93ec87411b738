"""Where the hub's refusals (``hub.errors``) become HTTP: one status per kind, one problem body.
The app's exception handlers (hub.app) and the pages' answers (hub.web.answers) use these."""

from __future__ import annotations

from starlette.responses import JSONResponse

from hub.errors import (
    Conflict,
    Forbidden,
    HubError,
    Invalid,
    NotFound,
    Throttled,
    TooLarge,
    Unauthenticated,
)

STATUS: dict[type[HubError], int] = {
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    TooLarge: 413,
    Invalid: 422,
    Throttled: 429,
}


def status_of(error: HubError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def problem(error: HubError) -> JSONResponse:
    """The API's answer: ``{"detail": ...}`` with the kind's status."""
    status = status_of(error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": error.detail}, status_code=status, headers=headers)
