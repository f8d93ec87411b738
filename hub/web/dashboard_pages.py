"""The community centre's overview pages: the dashboard, workers' monthly figures, edges, the
audit log, and live task notices over server-sent events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from gridgate_wire import AlertKind, TaskState
from hub import reports
from hub.errors import Unauthenticated
from hub.live import AlarmNotice
from hub.request_context import hub_context
from hub.services import doors, oversight, reporting, sessions
from hub.services.dashboard import DashboardFilter, dashboard
from hub.services.paging import Window
from hub.visitor_models import AlarmsShown
from hub.web.render import PAGE_SIZE, pager, render
from hub.web.session import MaybeUser, PageStaff

router = APIRouter(include_in_schema=False)
_STATES = [s.value for s in TaskState]
_KINDS = [k.value for k in AlertKind]


@router.get("/dashboard")
def dashboard_page(
    request: Request,
    user: PageStaff,
    grid_id: str = "",
    kind: str = "",
    state: str = "",
    overdue: str = "",
    since: str = "",
) -> Response:
    ctx = hub_context(request)
    chosen = DashboardFilter(grid_id, kind, state, overdue, since)
    with ctx.read() as conn:
        shown = dashboard(conn, user, chosen, ctx.site_timezone, ctx.template_limit)
    with ctx.work() as work:  # an audited read when an alarm names someone
        alarms = doors.list_alarms(work, user, AlarmsShown.OPEN, 20)
    created_from = chosen.since_date()
    return render(
        request,
        "dashboard.html",
        user,
        "dashboard",
        totals={"open": shown.open, "overdue": shown.overdue, "closed_month": shown.closed_month},
        templates=shown.templates,
        per_grid=shown.per_grid,
        map=shown.map,
        kinds=_KINDS,
        states=_STATES,
        grids=[{"area_id": k, "name": v} for k, v in shown.grid_names.items()],
        grid_names=shown.grid_names,
        filters={
            "grid_id": grid_id,
            "kind": kind,
            "state": state,
            "overdue": overdue,
            "since": created_from.isoformat() if created_from else "",
        },
        tasks=shown.tasks,
        reviews=shown.reviews,
        alarms=alarms,
    )


@router.get("/events")
async def events(request: Request, user: MaybeUser) -> Response:
    """Task notices for this user's grids: changes made by this process at once, changes made
    by other hub processes through the process's one shared database poll (hub.live)."""
    if user is None:
        raise Unauthenticated("not logged in")
    ctx = hub_context(request)
    alarms_of = user.communities if sessions.is_staff(user) else frozenset()
    queue = ctx.feed.subscribe(user.grids, ctx.engine, alarms_of)

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
                if isinstance(notice, AlarmNotice):
                    alarm = {
                        "alarm_id": notice.alarm_id,
                        "kind": notice.kind,
                        "phase": notice.phase,
                    }
                    yield f"event: alarm\ndata: {json.dumps(alarm)}\n\n"
                    continue
                data = {"task_id": notice.task_id, "state": notice.state}
                yield f"event: task\ndata: {json.dumps(data)}\n\n"
        finally:
            ctx.feed.unsubscribe(queue)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/workers")
def workers_page(request: Request, user: PageStaff, month: str = "") -> Response:
    month = month or datetime.now(UTC).strftime("%Y-%m")
    with hub_context(request).read() as conn:
        report = reporting.monthly(conn, user, month, reports.GroupBy.WORKER)
    rows = report.rows
    biggest = max([max(r.tasks_assigned, r.tasks_closed) for r in rows] or [1]) or 1
    return render(
        request,
        "workers.html",
        user,
        "workers",
        rows=rows,
        names=report.worker_names,
        month=month,
        scale=380 / biggest,
    )


@router.get("/edges")
def edges_page(request: Request, user: PageStaff) -> Response:
    with hub_context(request).read() as conn:
        page = oversight.list_edges(conn, user, Window(200, 0))
    return render(request, "edges.html", user, "edges", edges=page.items)


@router.get("/audit")
def audit_page(request: Request, user: PageStaff, offset: int = 0) -> Response:
    with hub_context(request).read() as conn:
        found = oversight.audit_entries(conn, user, Window(PAGE_SIZE, max(0, offset)))
    return render(
        request,
        "audit.html",
        user,
        "audit",
        entries=found.entries,
        **pager(found.total, len(found.entries), offset, dict(request.query_params), found.exact),
    )
