"""Server-rendered pages for community-centre staff and grid workers (no CDN, no build step)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.web import exports, people_pages, tasks_pages, users_pages
from hub.web.pages import LoginRequired, render, router

STATIC = Path(__file__).resolve().parent / "static"


def mount_web(app: FastAPI) -> None:
    """Attach the pages and their static files to the app."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/sw.js", include_in_schema=False)
    def service_worker() -> Response:
        # At the root so that its scope covers /my and /tasks; never cached stale.
        return FileResponse(
            STATIC / "sw.js",
            media_type="text/javascript",
            headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
        )

    app.include_router(router)
    app.include_router(tasks_pages.router)
    app.include_router(people_pages.router)
    app.include_router(exports.router)
    app.include_router(users_pages.router)

    async def login_required(request: Request, _exc: Exception) -> Response:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    async def page_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, StarletteHTTPException):  # registered for that type only
            raise exc
        if (
            request.url.path.startswith("/api/")
            or request.headers.get("x-requested-with") == "fetch"
            or request.url.path == "/events"
        ):
            return await http_exception_handler(request, exc)
        if exc.status_code == 401:
            return await login_required(request, exc)
        from hub.web.answers import error_text
        from hub.web.i18n import Translator
        from hub.web.pages import _language, _user

        # In the user's language, with the menu when they are logged in.
        return render(
            request,
            "error.html",
            _user(request),
            status_code=exc.status_code,
            detail=error_text(Translator(_language(request)), exc),
        )

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(StarletteHTTPException, page_error)
