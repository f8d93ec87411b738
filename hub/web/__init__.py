"""Server-rendered pages for community-centre staff and grid workers."""

from __future__ import annotations

from fastapi import FastAPI


def mount_web(app: FastAPI) -> None:
    """Attach the pages and their static files to the app."""
