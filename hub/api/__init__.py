"""The hub's HTTP side: JSON API under /api/v1 (OpenAPI at /api/docs) and the web pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, IntegrityError

from hub.api.context import ApiContext
from hub.api.limits import BodyLimit, is_local_path, terse_validation_error, unstorable_value


def create_app(ctx: ApiContext) -> FastAPI:
    from hub import __version__
    from hub.api.routes import router
    from hub.web import mount_web

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

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        # Pages load only their own files; no framing (clickjacking), no referrer leaks.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "frame-ancestors 'none'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # Every redirect stays on this hub: "next=//evil.example" after login must not leave it.
        location = response.headers.get("location")
        if location is not None and not is_local_path(location):
            response.headers["location"] = "/"
        return response

    app.include_router(router)
    from hub.api import docs, visit_routes

    app.include_router(visit_routes.router)
    docs.mount_docs(app)
    mount_web(app)
    return app


__all__ = ["ApiContext", "create_app"]
