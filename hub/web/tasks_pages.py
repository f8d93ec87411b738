"""Pages of the visit loop: a task (evidence in sentences, outcomes for its kind, reassign,
cancel), the worker's phone list in tabs, a house with its away reports (外出报备) and tasks,
review items, a new enrolment code. Every action answers a page's script with JSON saying what
happened or what went wrong, in the user's language."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select

from gridgate_wire import AlertKind
from hub.api import models, queries, routes, visit_routes
from hub.auth import Principal, Role
from hub.store.schema import residents, tasks, workers
from hub.visits import DESTRUCTIVE, OUTCOMES, Outcome
from hub.web import evidence
from hub.web.answers import _call, _failed, _succeeded, _t
from hub.web.i18n import Translator
from hub.web.pages import _ctx, _form, _is_staff, _language, _require, render
from hub.web.people_pages import _qr_svg

_LOGGER = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
T = TypeVar("T")
TABS = ("todo", "overdue", "done")
DONE_WITHIN = timedelta(days=30)


def urgency(task: models.Task, now: datetime, zone: ZoneInfo) -> tuple[Any, ...]:
    """Overdue first, then welfare checks, then due today, then the surest alerts."""
    revisit_later = task.revisit_at is not None and task.revisit_at > now
    due_today = task.due_at.astimezone(zone).date() <= now.astimezone(zone).date()
    return (
        0 if task.due_at < now else 1,
        1 if revisit_later else 0,
        0 if task.kind is AlertKind.WELFARE_CHECK else 1,
        0 if due_today else 1,
        -task.confidence,
        task.revisit_at or task.due_at,
    )


_ASSIGNEES = ("grid-worker", "grid-leader", "community-centre")


def history_note(
    note: str, t: Translator, names: dict[str, str], when: Callable[[datetime], str]
) -> str:
    """A transition's note in the user's language (the system writes them in a fixed form;
    what a person typed after the colon is kept as they wrote it)."""
    head, _, rest = note.partition(": ")
    words = head.split(" ")
    if note.startswith("alert "):
        return t("history.alert")
    if len(words) == 2 and words[0] in _ASSIGNEES:
        return t("history.assigned", who=t("assignee." + words[0]), name=names.get(words[1], ""))
    if head == "overdue" and rest.startswith("to "):
        return t("history.overdue", to=t("assignee." + rest[3:]))
    if words[0] == "reassigned" and len(words) == 4:
        return t(
            "history.reassigned",
            old=names.get(words[1], t("history.nobody")),
            new=names.get(words[3], words[3]),
            reason=rest,
        )
    if words[0] == Outcome.NOBODY_HOME.value and len(words) == 2:
        try:
            at = when(datetime.fromisoformat(words[1]))
        except ValueError:
            at = words[1]
        return t("history.nobody_home", when=at) + (f" {rest}" if rest else "")
    if head in {o.value for o in Outcome}:
        return t("outcome." + head) + (f": {rest}" if rest else "")
    return note


def actor_name(actor: str, t: Translator) -> str:
    return t("history.system") if actor == "system" else actor.partition(":")[2] or actor


def context_for_tasks(request: Request) -> dict[str, Any]:
    return {
        "kind_outcomes": {k.value: [o.value for o in v] for k, v in OUTCOMES.items()},
        "destructive": {o.value for o in DESTRUCTIVE},
    }


# ------------------------------------------------------------------------------ a task


@router.get("/tasks/{task_id}")
def task_page(request: Request, task_id: str) -> Response:
    user = _require(request)
    ctx = _ctx(request)
    zone = ZoneInfo(ctx.site_timezone)
    with ctx.engine.connect() as conn:
        detail = queries.task_detail(conn, user, task_id)
        staff_list = []
        if _is_staff(user):
            staff_list = [
                {"worker_id": w.worker_id, "name": w.name}
                for w in conn.execute(queries.workers_query(user).order_by(workers.c.name))
                if w.worker_id != detail.worker_id
            ]
    t = _t(request)
    with ctx.engine.connect() as conn:
        names = {str(w.worker_id): str(w.name) for w in conn.execute(select(workers))}
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
            "said": evidence.sentences(item.detail, t, zone, _language(request)),
        }
        for item in detail.evidence
    ]
    return render(
        request,
        "task.html",
        user,
        "dashboard" if _is_staff(user) else "my",
        task=detail,
        seen=seen,
        latest=seen[-1]["said"] if seen else None,
        workers=staff_list,
        history=history,
        **context_for_tasks(request),
    )


@router.get("/tasks/{task_id}/print")
def task_print(request: Request, task_id: str) -> Response:
    """The visit sheet (派单单) to print: the task, what the gates saw, the outcomes to tick."""
    user = _require(request)
    ctx = _ctx(request)
    with ctx.engine.connect() as conn:
        detail = queries.task_detail(conn, user, task_id)
    said = [
        evidence.sentences(e.detail, _t(request), ZoneInfo(ctx.site_timezone), _language(request))
        for e in detail.evidence
    ]
    return render(
        request,
        "task_print.html",
        user,
        task=detail,
        latest=said[-1] if said else None,
        **context_for_tasks(request),
    )


@router.post("/tasks/{task_id}/accept")
async def accept(request: Request, task_id: str) -> Response:
    user = _require(request)
    await _form(request, user)
    try:
        await _call(lambda: routes.accept_task(task_id, user, _ctx(request)))
    except HTTPException as exc:
        return _failed(request, user, exc)
    return _succeeded(request, user, _t(request)("done.accepted"), f"/tasks/{task_id}")


@router.post("/tasks/{task_id}/cancel")
async def cancel(request: Request, task_id: str) -> Response:
    user = _require(request, staff=True)
    fields = await _form(request, user)
    body = models.NoteIn(note=fields.get("note", "")[:1000])
    try:
        await _call(lambda: routes.cancel_task(task_id, body, user, _ctx(request)))
    except HTTPException as exc:
        return _failed(request, user, exc)
    return _succeeded(request, user, _t(request)("done.cancelled"), f"/tasks/{task_id}")


@router.post("/tasks/{task_id}/reassign")
async def reassign(request: Request, task_id: str) -> Response:
    user = _require(request, staff=True)
    fields = await _form(request, user)
    try:
        body = models.ReassignIn(
            worker_id=fields.get("worker_id", "")[:64], reason=fields.get("reason", "")[:500]
        )
        task = await _call(lambda: visit_routes.reassign_task(task_id, body, user, _ctx(request)))
    except ValidationError:
        return _failed(request, user, HTTPException(422, {"code": "reassign_needs"}))
    except HTTPException as exc:
        return _failed(request, user, exc)
    message = _t(request)("done.reassigned", name=task.worker_name or "")
    return _succeeded(request, user, message, f"/tasks/{task_id}")


def _local_datetime(value: str, zone: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise HTTPException(422, {"code": "bad_time"}) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(zone))
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # the very edge of the calendar
        raise HTTPException(422, {"code": "bad_time"}) from exc


def _outcome_body(fields: dict[str, str], zone: str) -> models.OutcomeIn:
    """The outcome form as the API's body; HTTPException(422) with a code when it is not."""
    try:
        chosen = Outcome(fields.get("outcome", ""))
    except ValueError as exc:
        raise HTTPException(422, {"code": "choose_outcome"}) from exc
    occupant = None
    name = fields.get("occupant_name", "").strip()
    if chosen is Outcome.NEW_OCCUPANT_CONFIRMED and not name:
        raise HTTPException(422, {"code": "name_needed"})
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
        raise HTTPException(422, {"code": "bad_date"}) from exc


@router.post("/tasks/{task_id}/outcome")
async def outcome(request: Request, task_id: str) -> Response:
    user = _require(request)
    ctx = _ctx(request)
    fields = await _form(request, user)
    t = _t(request)
    try:
        body = _outcome_body(fields, ctx.site_timezone)
        result = await _call(lambda: routes.post_outcome(task_id, body, user, ctx))
    except HTTPException as exc:
        return _failed(request, user, exc)
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
                qr_svg=_qr_svg(result.enrolment_code),
                expires=None,
                resident_id=result.resident_id,
            ).body
        ).decode()
    return _succeeded(
        request, user, message, "/my" if not _is_staff(user) else f"/tasks/{task_id}", html
    )


# ------------------------------------------------------------------------------ the phone


def _my_tasks(
    request: Request, user: Principal, tab: str
) -> tuple[list[models.Task], dict[str, int]]:
    ctx = _ctx(request)
    now = datetime.now(UTC)
    zone = ZoneInfo(ctx.site_timezone)
    worker_id = user.worker_id if user.role is Role.GRID_WORKER else None
    with ctx.engine.connect() as conn:
        open_rows = conn.execute(
            queries.tasks_query(user, open_only=True, worker_id=worker_id).limit(500)
        ).all()
        done_rows = conn.execute(
            queries.tasks_query(user, open_only=False, worker_id=worker_id)
            .where(tasks.c.created_at >= now - DONE_WITHIN)
            .limit(200)
        ).all()
    opened = [queries.task_out(r) for r in open_rows]
    done = sorted(
        (queries.task_out(r) for r in done_rows), key=lambda x: x.created_at, reverse=True
    )
    overdue = [x for x in opened if x.due_at < now]
    todo = [x for x in opened if x.due_at >= now]
    counts = {"todo": len(todo), "overdue": len(overdue), "done": len(done)}
    chosen = {"todo": todo, "overdue": overdue, "done": done}[tab]
    if tab != "done":
        chosen.sort(key=lambda x: urgency(x, now, zone))
    return chosen, counts


@router.get("/my")
def my_tasks(request: Request, tab: str = "todo") -> Response:
    user = _require(request)
    tab = tab if tab in TABS else "todo"
    shown, counts = _my_tasks(request, user, tab)
    return render(
        request,
        "my.html",
        user,
        "my",
        tasks=shown,
        tab=tab,
        tabs=TABS,
        counts=counts,
        **context_for_tasks(request),
    )


@router.get("/my/list")
def my_list(request: Request, tab: str = "todo") -> Response:
    user = _require(request)
    tab = tab if tab in TABS else "todo"
    shown, counts = _my_tasks(request, user, tab)
    return render(
        request,
        "my_list.html",
        user,
        tasks=shown,
        tab=tab,
        counts=counts,
        **context_for_tasks(request),
    )


# ------------------------------------------------------------------------------ a house


@router.get("/houses/{house_id}")
def house_page(request: Request, house_id: str) -> Response:
    user = _require(request, staff=True)
    ctx = _ctx(request)
    with ctx.engine.connect() as conn:
        house = queries.house(conn, user, house_id)
        people = conn.execute(
            select(residents.c.resident_id, residents.c.name, residents.c.active)
            .where(residents.c.house_id == house_id)
            .order_by(residents.c.name)
        ).all()
        away = visit_routes.away_list(conn, house_id)
        history = [
            queries.task_out(r)
            for r in conn.execute(
                queries.tasks_query(user)
                .where(tasks.c.house_id == house_id)
                .order_by(None)
                .order_by(tasks.c.created_at.desc())
            )
        ]
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
        raise HTTPException(422, {"code": "bad_date"}) from exc


@router.post("/houses/{house_id}/away")
async def away_submit(request: Request, house_id: str) -> Response:
    user = _require(request, staff=True)
    fields = await _form(request, user)
    t = _t(request)
    try:
        body = _away_body(fields)
        report = await _call(lambda: visit_routes.report_away(house_id, body, user, _ctx(request)))
    except HTTPException as exc:
        return _failed(request, user, exc)
    who = report.resident_name or t("away.household")
    message = t("done.away", who=who, back=body.back_on.isoformat())
    return _succeeded(request, user, message, f"/houses/{house_id}")


@router.post("/houses/{house_id}/tasks")
async def task_by_hand(request: Request, house_id: str) -> Response:
    user = _require(request, staff=True)
    fields = await _form(request, user)
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
            raise HTTPException(422, {"code": "task_needs"}) from exc
        task = await _call(lambda: visit_routes.create_task(house_id, body, user, _ctx(request)))
    except HTTPException as exc:
        return _failed(request, user, exc)
    message = _t(request)("done.task_created", kind=_t(request)("kind." + task.kind.value))
    return _succeeded(request, user, message, f"/tasks/{task.task_id}")


# ------------------------------------------------------------------------------ reviews


@router.post("/reviews/{edge_id}/{msg_id}/resolve")
async def review_resolve(request: Request, edge_id: str, msg_id: str) -> Response:
    user = _require(request, staff=True)
    fields = await _form(request, user)
    body = models.NoteIn(note=fields.get("note", "")[:1000])
    try:
        await _call(lambda: visit_routes.resolve_review(edge_id, msg_id, body, user, _ctx(request)))
    except HTTPException as exc:
        return _failed(request, user, exc)
    return _succeeded(request, user, _t(request)("done.review"), "/dashboard")
