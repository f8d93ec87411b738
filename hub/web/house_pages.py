"""Pages of a house: its people, away reports (外出报备) and tasks; recording an away report,
creating a task by hand; resolving a review item."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from gridgate_wire import AlertKind
from hub import models
from hub.errors import HubError, Invalid
from hub.request_context import hub_context
from hub.services import queries, registry, tasks, visits
from hub.web.answers import failed, succeeded
from hub.web.render import render, translator
from hub.web.session import Form, PageStaff

router = APIRouter(include_in_schema=False)


@router.get("/houses/{house_id}")
def house_page(request: Request, house_id: str, user: PageStaff) -> Response:
    ctx = hub_context(request)
    with ctx.read() as conn:
        house = queries.house(conn, user, house_id)
        people = registry.house_people(conn, user, house_id)
        away = visits.away_list(conn, house_id)
        history = tasks.house_tasks(conn, user, house_id)
    return render(
        request,
        "house.html",
        user,
        "houses",
        house=house,
        people=people,
        away=away,
        history=history,
        kinds=[k.value for k in AlertKind],
        today=datetime.now(ZoneInfo(ctx.site_timezone)).date(),
    )


def _away_body(fields: dict[str, str]) -> models.AwayIn:
    try:
        return models.AwayIn.model_validate(
            {
                "resident_id": fields.get("resident_id") or None,
                "away_from": fields.get("away_from", ""),
                "back_on": fields.get("back_on", ""),
                "note": fields.get("note", "")[:500],
            }
        )
    except ValidationError as exc:
        raise Invalid({"code": "bad_date"}) from exc


@router.post("/houses/{house_id}/away")
def away_submit(request: Request, house_id: str, user: PageStaff, fields: Form) -> Response:
    ctx = hub_context(request)
    t = translator(request)
    try:
        body = _away_body(fields)
        with ctx.work() as work:
            report = visits.report_away(work, user, house_id, body, ctx.site_timezone)
    except HubError as exc:
        return failed(request, user, exc)
    who = report.resident_name or t("away.household")
    message = t("done.away", who=who, back=body.back_on.isoformat())
    return succeeded(request, user, message, f"/houses/{house_id}")


@router.post("/houses/{house_id}/tasks")
def task_by_hand(request: Request, house_id: str, user: PageStaff, fields: Form) -> Response:
    t = translator(request)
    try:
        try:
            body = models.TaskCreate.model_validate(
                {
                    "kind": fields.get("kind", ""),
                    "resident_id": fields.get("resident_id") or None,
                    "note": fields.get("note", "").strip()[:500],
                }
            )
        except ValidationError as exc:
            raise Invalid({"code": "task_needs"}) from exc
        with hub_context(request).work() as work:
            task = tasks.create_by_hand(work, user, house_id, body)
    except HubError as exc:
        return failed(request, user, exc)
    message = t("done.task_created", kind=t("kind." + task.kind.value))
    return succeeded(request, user, message, f"/tasks/{task.task_id}")


@router.post("/reviews/{edge_id}/{msg_id}/resolve")
def review_resolve(
    request: Request, edge_id: str, msg_id: str, user: PageStaff, fields: Form
) -> Response:
    try:
        with hub_context(request).work() as work:
            visits.resolve_review(work, user, edge_id, msg_id, fields.get("note", "")[:1000])
    except HubError as exc:
        return failed(request, user, exc)
    return succeeded(request, user, translator(request)("done.review"), "/dashboard")
