"""Pages of the doors: the door alarms of the staff's communities (open and acknowledged;
acknowledging one is audited) and remote unlock from the centre (a reason is required; the
request and the edge's report of it are audited)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from gridgate_wire import uuid7
from hub.errors import HubError, Invalid
from hub.request_context import hub_context
from hub.services import doors
from hub.visitor_models import AlarmsShown, UnlockIn
from hub.web.answers import failed, succeeded
from hub.web.render import render, translator
from hub.web.session import Form, PageStaff

router = APIRouter(include_in_schema=False)


@router.get("/doors")
def doors_page(request: Request, user: PageStaff, state: str = "open") -> Response:
    ctx = hub_context(request)
    try:
        chosen = AlarmsShown(state)
    except ValueError:
        chosen = AlarmsShown.OPEN
    with ctx.work() as work:
        alarms = doors.list_alarms(work, user, chosen, 200)
        places = doors.door_places(work.conn, user)
        releases = doors.recent_releases(work.conn, user)
    return render(
        request,
        "doors.html",
        user,
        "doors",
        alarms=alarms,
        places=places,
        releases=releases,
        state=chosen.value,
        command_id=str(uuid7()),  # a retry of this form sends the same command
        states=[s.value for s in AlarmsShown],
    )


@router.post("/door-alarms/{alarm_id}/acknowledge")
def acknowledge_submit(request: Request, alarm_id: str, user: PageStaff, fields: Form) -> Response:
    try:
        with hub_context(request).work() as work:
            doors.acknowledge(work, user, alarm_id, fields.get("note", "")[:500])
    except HubError as exc:
        return failed(request, user, exc)
    return succeeded(request, user, translator(request)("done.alarm_acknowledged"), "/doors")


@router.post("/doors/unlock")
def unlock_submit(request: Request, user: PageStaff, fields: Form) -> Response:
    ctx = hub_context(request)
    t = translator(request)
    try:
        try:
            body = UnlockIn(
                edge_id=fields.get("edge_id", ""),
                gate=fields.get("gate", "").strip(),
                reason=fields.get("reason", "").strip(),
                command_id=fields.get("command_id") or None,
            )
        except ValidationError as exc:
            raise Invalid({"code": "unlock_needs"}) from exc
        with ctx.work() as work:
            sent = doors.remote_unlock(work, user, body, ctx.unlock_expiry)
    except HubError as exc:
        return failed(request, user, exc)
    return succeeded(request, user, t("done.unlock_sent", gate=sent.gate), "/doors")
