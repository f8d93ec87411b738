"""Rendering a page: the templates, the user's language (query, cookie, site default), local
times, the pager of long lists."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from hub.auth import Principal
from hub.request_context import hub_context
from hub.services.sessions import is_staff
from hub.store.db import as_utc
from hub.web.i18n import LANGUAGES, Translator

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
LANG_COOKIE = "gridgate_lang"
PAGE_SIZE = 50


def language(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return asked if asked in LANGUAGES else hub_context(request).default_language


def translator(request: Request) -> Translator:
    return Translator(language(request))


def render(
    request: Request,
    name: str,
    user: Principal | None,
    section: str = "",
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    ctx = hub_context(request)
    chosen = language(request)
    zone = ZoneInfo(ctx.site_timezone)

    def local(value: datetime) -> str:
        return as_utc(value).astimezone(zone).strftime("%Y-%m-%d %H:%M")

    response = TEMPLATES.TemplateResponse(
        request,
        name,
        {
            "t": Translator(chosen),
            "lang": chosen,
            "other_lang": "en" if chosen == "zh-CN" else "zh-CN",
            "local": local,
            "now": datetime.now(UTC),
            "user": user,
            "staff": is_staff(user),
            "section": section,
            **context,
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, chosen, samesite="lax", max_age=365 * 86400)
    return response


def pager(
    total: int, count: int, offset: int, params: dict[str, str], exact: bool = True
) -> dict[str, Any]:
    """``exact`` False: more than ``total`` match (lists count up to queries.TOTAL_CAP)."""
    kept = {k: v for k, v in params.items() if k != "offset" and v}
    query = urlencode(kept) + "&" if kept else ""
    return {
        "total": total,
        "count": count,
        "offset": offset,
        "limit": PAGE_SIZE,
        "query": query,
        "exact": exact,
        "more": offset + count < total or (not exact and count == PAGE_SIZE),
    }
