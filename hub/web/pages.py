"""Server-rendered pages: the community centre's dashboard and registry, the grid worker's
phone page, live task notices over server-sent events."""

from __future__ import annotations

import asyncio
import hmac
import json
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import (
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine, case, func, select
from starlette.concurrency import run_in_threadpool

from gridgate_wire import AlertKind, TaskState
from hub import audit, reports
from hub.api import queries, routes, visit_routes
from hub.api.context import SESSION_COOKIE, ApiContext, set_session_cookie
from hub.audit import Action
from hub.auth import AuthError, Principal, Role, authenticate, login, logout
from hub.privacy import template_counts
from hub.store.db import as_utc
from hub.store.schema import (
    areas,
    audit_log,
    houses,
    task_transitions,
    tasks,
    workers,
)
from hub.web.i18n import LANGUAGES, Translator

router = APIRouter(include_in_schema=False)
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
LANG_COOKIE = "gridgate_lang"
PAGE_SIZE = 50
_STATES = [s.value for s in TaskState]
_KINDS = [k.value for k in AlertKind]


class LoginRequired(Exception):
    """No valid session: the page redirects to the login form."""


def _ctx(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.hub
    return ctx


def _language(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return asked if asked in LANGUAGES else _ctx(request).default_language


def _user(request: Request) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    with _ctx(request).engine.begin() as conn:
        try:
            return authenticate(conn, token, _ctx(request).policy)
        except AuthError:
            return None  # the revocation of an expired session commits


def _require(request: Request, *, staff: bool = False) -> Principal:
    user = _user(request)
    if user is None:
        raise LoginRequired
    if staff and user.role is Role.GRID_WORKER:
        raise HTTPException(403, "community staff only")
    return user


def _is_staff(user: Principal | None) -> bool:
    return user is not None and user.role is not Role.GRID_WORKER


def render(
    request: Request,
    name: str,
    user: Principal | None,
    section: str = "",
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    ctx = _ctx(request)
    language = _language(request)
    zone = ZoneInfo(ctx.site_timezone)

    def local(value: datetime) -> str:
        return as_utc(value).astimezone(zone).strftime("%Y-%m-%d %H:%M")

    response = TEMPLATES.TemplateResponse(
        request,
        name,
        {
            "t": Translator(language),
            "lang": language,
            "other_lang": "en" if language == "zh-CN" else "zh-CN",
            "local": local,
            "now": datetime.now(UTC),
            "user": user,
            "staff": _is_staff(user),
            "section": section,
            **context,
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, language, samesite="lax", max_age=365 * 86400)
    return response


def _check_csrf(user: Principal, sent: str) -> None:
    if not hmac.compare_digest(sent, user.csrf_token):
        raise HTTPException(403, "missing or wrong CSRF token")


async def _form(request: Request, user: Principal) -> dict[str, str]:
    form = await request.form()
    fields = {key: str(value) for key, value in form.items()}
    _check_csrf(user, fields.get("csrf_token") or request.headers.get("x-csrf-token", ""))
    return fields


def _back(request: Request, fallback: str) -> RedirectResponse:
    referer = request.headers.get("referer", "")
    target = fallback
    if referer.startswith(str(request.base_url)):
        target = "/" + referer[len(str(request.base_url)) :]
    return RedirectResponse(target, status_code=303)


def _pager(
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


# ------------------------------------------------------------------------------ session


@router.get("/")
def home(request: Request) -> Response:
    user = _user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/dashboard" if _is_staff(user) else "/my", status_code=303)


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", None, next=next if next.startswith("/") else "/")


@router.post("/login")
async def login_submit(request: Request) -> Response:
    ctx = _ctx(request)
    form = await request.form()
    username = str(form.get("username", ""))[:64]
    password = str(form.get("password", ""))[:200]
    target = str(form.get("next", "/"))
    client = request.client.host if request.client else "unknown"
    refused: AuthError | None = None

    def attempt() -> tuple[str, Principal] | None:
        nonlocal refused
        with ctx.engine.begin() as conn:
            try:
                token, principal = login(conn, username, password, client, ctx.policy)
            except AuthError as exc:
                refused = exc
                return None
            audit.record(conn, principal.actor, Action.LOGIN, "user", principal.user_id)
            return token, principal

    result = await run_in_threadpool(attempt)
    if result is None:
        translate = Translator(_language(request))
        key = "login.throttled" if refused is not None and refused.status == 429 else "login.failed"
        return render(
            request,
            "login.html",
            None,
            status_code=refused.status if refused is not None else 401,
            error=translate(key),
            next=target,
        )
    token, _ = result
    response = RedirectResponse(target if target.startswith("/") else "/", status_code=303)
    set_session_cookie(response, token, ctx)
    return response


@router.post("/logout")
async def logout_submit(request: Request) -> Response:
    user = _require(request)
    await _form(request, user)
    with _ctx(request).engine.begin() as conn:
        logout(conn, request.cookies.get(SESSION_COOKIE, ""))
        audit.record(conn, user.actor, Action.LOGOUT, "user", user.user_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# ------------------------------------------------------------------------------ dashboard


def _grid_names(engine: Engine, user: Principal) -> dict[str, str]:
    with engine.connect() as conn:
        query = select(areas.c.area_id, areas.c.name).where(areas.c.level == "grid")
        if user.grids is not None:
            query = query.where(areas.c.area_id.in_(user.grids))
        return {str(r.area_id): str(r.name) for r in conn.execute(query.order_by(areas.c.area_id))}


def _map(engine: Engine, user: Principal, open_by_grid: Counter[str]) -> dict[str, Any]:
    with engine.connect() as conn:
        communities = conn.execute(
            queries.areas_query(user).where(areas.c.level == "community")
        ).all()
        grids = conn.execute(
            select(areas).where(areas.c.level == "grid").order_by(areas.c.area_id)
        ).all()
        house_query = select(houses.c.grid_id, func.count()).group_by(houses.c.grid_id)
        if user.grids is not None:  # the user's grids only, by index (ix_houses_grid)
            house_query = house_query.where(houses.c.grid_id.in_(user.grids))
        house_counts: dict[str, int] = dict(conn.execute(house_query).all())
    layout = []
    y = 30
    width = 600
    for community in communities:
        own = [g for g in grids if g.parent_id == community.area_id and user.sees_grid(g.area_id)]
        boxes = []
        for index, grid in enumerate(own):
            count = open_by_grid.get(grid.area_id, 0)
            fill = "#e6f4ea" if count == 0 else ("#ffe0b2" if count < 3 else "#ffab91")
            boxes.append(
                {
                    "area_id": grid.area_id,
                    "name": grid.name,
                    "x": 10 + (index % 3) * 200,
                    "y": y + (index // 3) * 100,
                    "w": 190,
                    "h": 90,
                    "fill": fill,
                    "open": count,
                    "houses": house_counts.get(grid.area_id, 0),
                }
            )
        layout.append({"name": community.name, "x": 10, "y": y, "grids": boxes})
        y += max(1, (len(own) + 2) // 3) * 100 + 40
    return {"communities": layout, "width": width + 20, "height": y}


@router.get("/dashboard")
def dashboard(
    request: Request,
    grid_id: str = "",
    kind: str = "",
    state: str = "",
    overdue: str = "",
    since: str = "",
) -> Response:
    user = _require(request, staff=True)
    ctx = _ctx(request)
    now = datetime.now(UTC)
    shown_query = queries.tasks_query(
        user,
        grid_id=grid_id or None,
        kind=kind or None,
        state=state or None,
        open_only=None if state else True,
    )
    if overdue == "1":
        shown_query = shown_query.where(tasks.c.open.is_(True), tasks.c.due_at < now)
    try:
        created_from = date.fromisoformat(since) if since else None
    except ValueError:
        created_from = None
    if created_from is not None:
        zone = ZoneInfo(ctx.site_timezone)
        first = datetime.combine(created_from, time(0, 0), tzinfo=zone).astimezone(UTC)
        shown_query = shown_query.where(tasks.c.created_at >= first)
    month = now.strftime("%Y-%m")
    start, _end = reports.month_bounds(month)
    with ctx.engine.connect() as conn:
        # Figures, not rows (issue 19): open tasks counted per grid and kind in the database.
        open_counts = select(
            houses.c.grid_id,
            tasks.c.kind,
            func.count().label("n"),
            func.sum(case((tasks.c.due_at < now, 1), else_=0)).label("overdue"),
        ).join(houses, houses.c.house_id == tasks.c.house_id)
        open_counts = open_counts.where(tasks.c.open.is_(True))
        if user.grids is not None:
            open_counts = open_counts.where(houses.c.grid_id.in_(user.grids))
        open_rows = conn.execute(open_counts.group_by(houses.c.grid_id, tasks.c.kind)).all()
        shown = conn.execute(shown_query.limit(200)).all()
        closed_month = int(
            conn.scalar(
                select(func.count())
                .select_from(task_transitions)
                .join(tasks, tasks.c.task_id == task_transitions.c.task_id)
                .join(houses, houses.c.house_id == tasks.c.house_id)
                .where(
                    task_transitions.c.to_state == "closed",
                    task_transitions.c.at >= start,
                    *(() if user.grids is None else (houses.c.grid_id.in_(user.grids),)),
                )
            )
            or 0
        )
        counts = template_counts(conn, ctx.template_limit)
        review_rows = conn.execute(visit_routes.reviews_query(user).limit(50)).all()
    per_grid_counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in open_rows:
        per_grid_counts[row.grid_id][row.kind] += int(row.n)
    names = _grid_names(ctx.engine, user)
    open_by_grid = Counter({g: sum(c.values()) for g, c in per_grid_counts.items()})
    return render(
        request,
        "dashboard.html",
        user,
        "dashboard",
        totals={
            "open": sum(int(r.n) for r in open_rows),
            "overdue": sum(int(r.overdue or 0) for r in open_rows),
            "closed_month": closed_month,
        },
        templates=counts,
        per_grid=[
            {
                "name": names.get(grid, grid),
                "counts": per_grid_counts.get(grid, Counter()),
                "total": sum(per_grid_counts.get(grid, Counter()).values()),
            }
            for grid in names
        ],
        map=_map(ctx.engine, user, open_by_grid),
        kinds=_KINDS,
        states=_STATES,
        grids=[{"area_id": k, "name": v} for k, v in names.items()],
        grid_names=names,
        filters={
            "grid_id": grid_id,
            "kind": kind,
            "state": state,
            "overdue": overdue,
            "since": created_from.isoformat() if created_from else "",
        },
        tasks=sorted(
            (queries.task_out(r) for r in shown),
            key=lambda x: (not (x.open and as_utc(x.due_at) < now), -x.confidence, x.due_at),
        ),
        reviews=[visit_routes.review_out(r) for r in review_rows],
    )


# ------------------------------------------------------------------------------ tasks


@router.get("/events")
async def events(request: Request) -> Response:
    """Task notices for this user's grids: changes made by this process at once, changes made
    by other hub processes through the process's one shared database poll (hub.live)."""
    user = _user(request)
    if user is None:
        raise HTTPException(401, "not logged in")
    ctx = _ctx(request)
    queue = ctx.feed.subscribe(user.grids, ctx.engine)

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 3000\n\n"
            while not await request.is_disconnected():
                try:
                    notice = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if notice is None:  # the hub is stopping
                    return
                data = {"task_id": notice.task_id, "state": notice.state}
                yield f"event: task\ndata: {json.dumps(data)}\n\n"
        finally:
            ctx.feed.unsubscribe(queue)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


# ------------------------------------------------------------------------------ people


@router.get("/workers")
def workers_page(request: Request, month: str = "") -> Response:
    user = _require(request, staff=True)
    month = month or datetime.now(UTC).strftime("%Y-%m")
    ctx = _ctx(request)
    try:
        with ctx.engine.connect() as conn:
            rows = reports.monthly(conn, month, reports.GroupBy.WORKER, user)
            names = {str(w.worker_id): str(w.name) for w in conn.execute(select(workers))}
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    biggest = max([max(r.tasks_assigned, r.tasks_closed) for r in rows] or [1]) or 1
    return render(
        request,
        "workers.html",
        user,
        "workers",
        rows=rows,
        names=names,
        month=month,
        scale=380 / biggest,
    )


@router.get("/edges")
def edges_page(request: Request) -> Response:
    user = _require(request, staff=True)
    page = routes.list_edges(user, _ctx(request), 200, 0)
    return render(request, "edges.html", user, "edges", edges=page.items)


@router.get("/audit")
def audit_page(request: Request, offset: int = 0) -> Response:
    user = _require(request, staff=True)
    query = select(audit_log).order_by(audit_log.c.pk.desc())
    if user.communities is not None:
        query = query.where(audit_log.c.community_id.in_(user.communities))
    with _ctx(request).engine.connect() as conn:
        rows, total, exact = queries.counted_page(conn, query, PAGE_SIZE, max(0, offset))
    return render(
        request,
        "audit.html",
        user,
        "audit",
        entries=rows,
        **_pager(total, len(rows), offset, dict(request.query_params), exact),
    )
