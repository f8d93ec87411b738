"""Request limits before any parsing: body size on every route, terse validation errors.

``BodyLimit`` is plain ASGI, outermost: a ``Content-Length`` above the route's limit is answered
413 before a byte of the body is read; a body without one (chunked) is counted while it streams
and cut at the limit, so neither the login form nor a CSV import can make the hub buffer
hundreds of megabytes. Validation errors (422) name the field and the rule, never echo the
input back.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_LIMIT = 64 * 1024
IMPORT_LIMIT = 20 * 1024 * 1024
# Path prefix -> limit; the first match wins. Only the registry import takes large bodies.
LIMITS: tuple[tuple[str, int], ...] = (("/api/v1/import/", IMPORT_LIMIT),)


class _TooLarge(Exception):
    pass


def limit_for(path: str) -> int:
    for prefix, limit in LIMITS:
        if path.startswith(prefix):
            return limit
    return DEFAULT_LIMIT


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"request body larger than {limit} bytes"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app: Asgi) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(str(scope.get("path", "")))
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                text = value.decode("latin-1").strip()
                if not text.isdigit() or int(text) > limit:
                    await _refuse(send, limit)
                    return
        state = {"received": 0, "exceeded": False, "started": False}

        async def limited() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["exceeded"] = True
                    raise _TooLarge
            return message

        async def guarded(message: Message) -> None:
            if state["exceeded"]:
                # Whatever the app made of the cut body (FastAPI answers 400), the answer is 413.
                if message["type"] == "http.response.start" and not state["started"]:
                    state["started"] = True
                    await _refuse(send, limit)
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, limited, guarded)
        except _TooLarge:
            if not state["started"]:
                await _refuse(send, limit)


def is_local_path(target: str) -> bool:
    """A path on this site: "/x", never "//host", "/\\host", a scheme or control characters."""
    return (
        target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and not any(ord(c) < 0x20 or c == "\\" for c in target)
    )


async def unstorable_value(request: Request, exc: Exception) -> JSONResponse:
    """400, not 500, for a value the database cannot take (an integer beyond its column, NUL in
    PostgreSQL text) that a route's own validation let through; 409 for a conflicting write."""
    if isinstance(exc, IntegrityError):
        return JSONResponse({"detail": "conflicts with what is stored"}, status_code=409)
    return JSONResponse({"detail": "a value is out of range or not storable"}, status_code=400)


async def terse_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with field and rule only: the default handler echoes the input (``input``, ``ctx``),
    which for a large or hostile body is the attacker's payload, sent back."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [
        {
            "loc": [str(part)[:64] for part in error.get("loc", ())][:8],
            "msg": str(error.get("msg", ""))[:200],
            "type": str(error.get("type", ""))[:64],
        }
        for error in errors[:20]
    ]
    return JSONResponse({"detail": detail}, status_code=422)
