"""The hub's JSON API under /api/v1 (OpenAPI at /api/docs): thin adapters over
``hub.services``. The app that serves it with the pages is assembled in ``hub.app``."""

from __future__ import annotations

from fastapi import APIRouter

from hub.api import (
    oversight_routes,
    pass_routes,
    registry_routes,
    session_routes,
    task_routes,
    visit_routes,
)

ROUTERS: tuple[APIRouter, ...] = (
    session_routes.router,
    registry_routes.router,
    task_routes.router,
    oversight_routes.router,
    visit_routes.router,
    pass_routes.router,
)
