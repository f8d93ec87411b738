"""Pages of a task and of the phone: a task (evidence in sentences, outcomes for its kind,
reassign, cancel), its printed visit sheet, the worker's list in tabs. Every action answers a
page's script with JSON saying what happened or what went wrong, in the user's language."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from hub import models
from hub.errors import HubError, Invalid
from hub.request_context import hub_context
from hub.services import reporting, sessions, tasks
from hub.services.tasks import Tab
from hub.visits import DESTRUCTIVE, OUTCOMES, Outcome
from hub.web import evidence
from hub.web.answers import failed, succeeded
from hub.web.enrolment import qr_svg
from hub.web.history import actor_name, history_note
from hub.web.render import language, render, translator
from hub.web.session import Form, PageStaff, PageUser

router = APIRouter(include_in_schema=False)
TABS = tuple(t.value for t in Tab)
_OUTCOMES: dict[str, Any] = {
    "kind_outcomes": {k.value: [o.value for o in v] for k, v in OUTCOMES.items()},
    "destructive": {o.value for o in DESTRUCTIVE},
}


# ------------------------------------------------------------------------------ a task


@router.get("/tasks/{task_id}")
def task_page(request: Request, task_id: str, user: PageUser) -> Response:
    ctx = hub_context(request)
    zone = ZoneInfo(ctx.site_timezone)
    staff = sessions.is_staff(user)
    with ctx.read() as conn:
        detail = tasks.get_task(conn, user, task_id)
        others = tasks.reassign_candidates(conn, user, detail) if staff else []
        names = reporting.worker_names(conn)
    t = translator(request)
    history = [
        {
            "at": step.at,
            "state": step.to_state,
            "actor": actor_name(step.actor, t),
            "note": history_note(step.note, t, names, lambda v: evidence.day_time(t, v, zone)),
        }
        for step in detail.transitions
    ]
    seen = [
        {
            "at": item.received_at,
            "confidence": item.confidence,
            "said": evidence.sentences(item.detail, t, zone, language(request)),
        }
        for item in detail.evidence
    ]
    return render(
        request,
        "task.html",
        user,
        "dashboard" if staff else "my",
        task=detail,
        seen=seen,
        latest=seen[-1]["said"] if seen else None,
        workers=[{"worker_id": w.worker_id, "name": w.name} for w in others],
        history=history,
        **_OUTCOMES,
    )


@router.get("/tasks/{task_id}/print")
def task_print(request: Request, task_id: str, user: PageUser) -> Response:
    """The visit sheet (派单单) to print: the task, what the gates saw, the outcomes to tick."""
    ctx = hub_context(request)
    with ctx.read() as conn:
        detail = tasks.get_task(conn, user, task_id)
    zone = ZoneInfo(ctx.site_timezone)
    said = [
        evidence.sentences(e.detail, translator(request), zone, language(request))
        for e in detail.evidence
    ]
    return render(
        request,
        "task_print.html",
        user,
        task=detail,
        latest=said[-1] if said else None,
        **_OUTCOMES,
    )


@router.post("/tasks/{task_id}/accept")
def accept(request: Request, task_id: str, user: PageUser, _fields: Form) -> Response:
    try:
        with hub_context(request).work() as work:
            tasks.accept(work, user, task_id)
    except HubError as exc:
        return failed(request, user, exc)
    return succeeded(request, user, translator(request)("done.accepted"), f"/tasks/{task_id}")


@router.post("/tasks/{task_id}/cancel")
def cancel(request: Request, task_id: str, user: PageStaff, fields: Form) -> Response:
    try:
        with hub_context(request).work() as work:
            tasks.cancel(work, user, task_id, fields.get("note", "")[:1000])
    except HubError as exc:
        return failed(request, user, exc)
    return succeeded(request, user, translator(request)("done.cancelled"), f"/tasks/{task_id}")


@router.post("/tasks/{task_id}/reassign")
def reassign(request: Request, task_id: str, user: PageStaff, fields: Form) -> Response:
    try:
        try:
            body = models.ReassignIn(
                worker_id=fields.get("worker_id", "")[:64], reason=fields.get("reason", "")[:500]
            )
        except ValidationError as exc:
            raise Invalid({"code": "reassign_needs"}) from exc
        with hub_context(request).work() as work:
            task = tasks.reassign(work, user, task_id, body)
    except HubError as exc:
        return failed(request, user, exc)
    message = translator(request)("done.reassigned", name=task.worker_name or "")
    return succeeded(request, user, message, f"/tasks/{task_id}")


def _local_datetime(value: str, zone: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise Invalid({"code": "bad_time"}) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(zone))
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # the very edge of the calendar
        raise Invalid({"code": "bad_time"}) from exc


def _outcome_body(fields: dict[str, str], zone: str) -> models.OutcomeIn:
    """The outcome form as the API's body; Invalid with a code when it is not one."""
    try:
        chosen = Outcome(fields.get("outcome", ""))
    except ValueError as exc:
        raise Invalid({"code": "choose_outcome"}) from exc
    occupant = None
    name = fields.get("occupant_name", "").strip()
    if chosen is Outcome.NEW_OCCUPANT_CONFIRMED and not name:
        raise Invalid({"code": "name_needed"})
    if chosen is Outcome.NEW_OCCUPANT_CONFIRMED:
        occupant = models.NewOccupantIn(
            name=name[:128],
            phone=fields.get("occupant_phone", "")[:32],
            face_consent=fields.get("face_consent") == "1",
        )
    try:
        return models.OutcomeIn.model_validate(
            {
                "outcome": chosen,
                "note": fields.get("note", "")[:1000],
                "new_occupant": occupant,
                "back_on": fields.get("back_on") or None,
                "revisit_at": _local_datetime(fields.get("revisit_at", ""), zone),
                "confirmed": fields.get("confirmed") == "1",
            }
        )
    except ValidationError as exc:
        raise Invalid({"code": "bad_date"}) from exc


@router.post("/tasks/{task_id}/outcome")
def outcome(request: Request, task_id: str, user: PageUser, fields: Form) -> Response:
    ctx = hub_context(request)
    t = translator(request)
    try:
        body = _outcome_body(fields, ctx.site_timezone)
        with ctx.work() as work:
            result = tasks.record_outcome(work, user, task_id, body, ctx.site_timezone)
    except HubError as exc:
        return failed(request, user, exc)
    chosen = body.outcome
    html = ""
    if chosen is Outcome.NOBODY_HOME and result.revisit_at is not None:
        when = evidence.day_time(t, result.revisit_at, ZoneInfo(ctx.site_timezone))
        message = t("done.nobody_home", when=when)
    else:
        label = t(f"outcome_for.{result.task.kind.value}.{chosen}")
        # The choice's own words, without the instruction in brackets ("(enter the name)").
        label = label.split("\uff08")[0].split(" (")[0].strip()  # full-width or ASCII
        message = t("done.outcome", outcome=label)
    if result.enrolment_code:
        html = bytes(
            render(
                request,
                "enrolment.html",
                user,
                code=result.enrolment_code,
                qr_svg=qr_svg(result.enrolment_code),
                expires=None,
                resident_id=result.resident_id,
            ).body
        ).decode()
    target = f"/tasks/{task_id}" if sessions.is_staff(user) else "/my"
    return succeeded(request, user, message, target, html)


# ------------------------------------------------------------------------------ the phone


def _phone(request: Request, user: PageUser, tab: str, template: str) -> Response:
    chosen = Tab(tab) if tab in TABS else Tab.TODO
    ctx = hub_context(request)
    with ctx.read() as conn:
        found = tasks.phone_list(conn, user, chosen, ctx.site_timezone)
    extra: dict[str, Any] = {"tabs": TABS} if template == "my.html" else {}
    return render(
        request,
        template,
        user,
        "my" if template == "my.html" else "",
        tasks=found.shown,
        tab=chosen.value,
        counts={t.value: n for t, n in found.counts.items()},
        **extra,
        **_OUTCOMES,
    )


@router.get("/my")
def my_tasks(request: Request, user: PageUser, tab: str = "todo") -> Response:
    return _phone(request, user, tab, "my.html")


@router.get("/my/list")
def my_list(request: Request, user: PageUser, tab: str = "todo") -> Response:
    return _phone(request, user, tab, "my_list.html")
