"""Server-rendered pages for community-centre staff and grid workers (no CDN, no build step):
thin adapters over ``hub.services``, like the API, which they never import."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from hub.web import (
    dashboard_pages,
    door_pages,
    exports,
    house_pages,
    pass_pages,
    people_pages,
    session_pages,
    tasks_pages,
    users_pages,
)

STATIC = Path(__file__).resolve().parent / "static"
ROUTERS: tuple[APIRouter, ...] = (
    session_pages.router,
    dashboard_pages.router,
    tasks_pages.router,
    house_pages.router,
    people_pages.router,
    exports.router,
    users_pages.router,
    pass_pages.router,
    door_pages.router,
)


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

    for router in ROUTERS:
        app.include_router(router)
