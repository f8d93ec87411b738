"""``/api/docs``: Swagger UI from files installed with the hub (the fastapi-offline package's
copy of Swagger UI 5), started by a script file of our own, so the page works offline and
under the same Content-Security-Policy as every page (no CDN, no inline script)."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_FILES = Path(fastapi_offline.__file__).resolve().parent / "static"

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>gridgate hub API</title>
<link rel="stylesheet" href="/api/docs-files/swagger-ui.css">
<link rel="icon" href="/api/docs-files/favicon.png">
</head>
<body>
<div id="swagger-ui" data-openapi="/api/openapi.json"></div>
<script src="/api/docs-files/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""


def mount_docs(app: FastAPI) -> None:
    app.mount("/api/docs-files", StaticFiles(directory=SWAGGER_FILES), name="api-docs-files")

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(_PAGE)
