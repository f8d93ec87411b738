"""How pages answer: an action answers the pages' script with JSON (what happened, or the error
in the user's language) and a plain form post with a page; a refusal anywhere else becomes the
error page, in the user's language."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from hub.auth import Principal
from hub.boundary import status_of
from hub.errors import HubError
from hub.web.i18n import Translator
from hub.web.render import render, translator

_BY_STATUS = {
    400: "error.invalid",
    403: "error.forbidden",
    404: "error.not_found",
    409: "error.conflict",
    413: "error.too_large",
    422: "error.invalid",
}


def error_text(t: Translator, status: int, detail: object) -> str:
    """A refusal in the user's language: by its code when it has one, else by status."""
    if isinstance(detail, dict) and detail.get("code"):
        return t("error." + str(detail["code"]))
    return t(_BY_STATUS.get(status, "error.server"))


def from_script(request: Request) -> bool:
    return request.headers.get("x-requested-with") == "fetch"


def failed(request: Request, user: Principal, error: HubError) -> Response:
    status = status_of(error)
    message = error_text(translator(request), status, error.detail)
    if from_script(request):
        return JSONResponse({"ok": False, "error": message}, status_code=status)
    return render(request, "error.html", user, status_code=status, detail=message)


def succeeded(
    request: Request, user: Principal, message: str, target: str, html: str = ""
) -> Response:
    if from_script(request):
        return JSONResponse({"ok": True, "message": message, "html": html})
    return render(request, "done.html", user, message=message, target=target, extra=html)


def to_login(request: Request) -> Response:
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


def error_page(request: Request, user: Principal | None, status: int, detail: object) -> Response:
    """The error page, with the menu when the user is logged in."""
    text = error_text(translator(request), status, detail)
    return render(request, "error.html", user, status_code=status, detail=text)
