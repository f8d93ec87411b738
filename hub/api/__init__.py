"""The hub's HTTP side: JSON API under /api/v1 (OpenAPI at /api/docs) and the web pages."""

from __future__ import annotations

from fastapi import FastAPI

from hub.api.context import ApiContext


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
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.hub = ctx
    app.include_router(router)
    mount_web(app)
    return app


__all__ = ["ApiContext", "create_app"]
