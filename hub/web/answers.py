"""How page actions answer: JSON for the pages' script (what happened, or the error in the
user's language), a page otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.auth import Principal
from hub.web.i18n import Translator
from hub.web.pages import _language, render

T = TypeVar("T")


def _t(request: Request) -> Translator:
    return Translator(_language(request))


def error_text(t: Translator, exc: StarletteHTTPException) -> str:
    """An API error in the user's language: by its code when it has one, else by status."""
    detail = exc.detail
    if isinstance(detail, dict) and detail.get("code"):
        return t("error." + str(detail["code"]))
    return t(
        {
            400: "error.invalid",
            403: "error.forbidden",
            404: "error.not_found",
            409: "error.conflict",
            413: "error.too_large",
            422: "error.invalid",
        }.get(exc.status_code, "error.server")
    )


def _fetch(request: Request) -> bool:
    return request.headers.get("x-requested-with") == "fetch"


def _failed(request: Request, user: Principal, exc: HTTPException) -> Response:
    message = error_text(_t(request), exc)
    if _fetch(request):
        return JSONResponse({"ok": False, "error": message}, status_code=exc.status_code)
    return render(request, "error.html", user, status_code=exc.status_code, detail=message)


def _succeeded(
    request: Request, user: Principal, message: str, target: str, html: str = ""
) -> Response:
    if _fetch(request):
        return JSONResponse({"ok": True, "message": message, "html": html})
    return render(request, "done.html", user, message=message, target=target, extra=html)


async def _call(fn: Callable[[], T]) -> T:
    try:
        return await run_in_threadpool(fn)
    except ValidationError as exc:
        raise HTTPException(422, {"code": "invalid", "reason": str(exc)}) from exc
