"""The hub's HTTP application, assembled above both adapters: the JSON API (``hub.api``) and the
pages (``hub.web``) over the same services, the middleware every answer passes, and the one place
where the hub's refusals (``hub.errors``) become HTTP answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub import __version__, api, web
from hub.api import docs
from hub.api.limits import BodyLimit, is_local_path, terse_validation_error, unstorable_value
from hub.boundary import problem, status_of
from hub.context import HubContext
from hub.errors import HubError, Unauthenticated
from hub.web.answers import error_page, to_login
from hub.web.session import LoginRequired, optional_user

_CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'"
)


def _wants_json(request: Request) -> bool:
    """The API, the pages' script and the event stream get JSON; a person gets a page."""
    return (
        request.url.path.startswith("/api/")
        or request.headers.get("x-requested-with") == "fetch"
        or request.url.path == "/events"
    )


async def _page(request: Request, status: int, detail: object) -> Response:
    # In the user's language, with the menu when they are logged in (a database read: off
    # the event loop).
    user = await run_in_threadpool(optional_user, request)
    return error_page(request, user, status, detail)


async def hub_error(request: Request, exc: Exception) -> Response:
    """Every HubError a service raised, answered once: JSON or the page."""
    if not isinstance(exc, HubError):  # registered for that type only
        raise exc
    if isinstance(exc, LoginRequired):
        return to_login(request)
    if _wants_json(request):
        return problem(exc)
    if isinstance(exc, Unauthenticated):
        return to_login(request)
    return await _page(request, status_of(exc), exc.detail)


async def framework_error(request: Request, exc: Exception) -> Response:
    """The framework's own refusals (no such route, method not allowed)."""
    if not isinstance(exc, StarletteHTTPException):  # registered for that type only
        raise exc
    if _wants_json(request):
        return await http_exception_handler(request, exc)
    if exc.status_code == 401:
        return to_login(request)
    return await _page(request, exc.status_code, exc.detail)


def create_app(ctx: HubContext) -> FastAPI:
    app = FastAPI(
        title="gridgate hub",
        version=__version__,
        description=(
            "Registry, house-visit tasks, workers, reports and edges of a gridgate deployment. "
            "Authenticate with POST /api/v1/auth/login and send the token as a Bearer header."
        ),
        docs_url=None,  # served by hub.api.docs from local files, under the pages' CSP
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.hub = ctx
    # Outermost: bodies are refused by size before anything parses them (hub.api.limits).
    app.add_middleware(BodyLimit)
    app.add_exception_handler(RequestValidationError, terse_validation_error)
    for unstorable in (DataError, IntegrityError, OverflowError):
        app.add_exception_handler(unstorable, unstorable_value)
    app.add_exception_handler(HubError, hub_error)
    app.add_exception_handler(StarletteHTTPException, framework_error)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        # Pages load only their own files; no framing (clickjacking), no referrer leaks.
        response.headers.setdefault("Content-Security-Policy", _CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # Every redirect stays on this hub: "next=//evil.example" after login must not leave it.
        location = response.headers.get("location")
        if location is not None and not is_local_path(location):
            response.headers["location"] = "/"
        return response

    for router in api.ROUTERS:
        app.include_router(router)
    docs.mount_docs(app)
    web.mount_web(app)
    return app
