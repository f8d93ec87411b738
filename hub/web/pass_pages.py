"""Pages of visitor passes: a house's passes and the form to issue one (the slip with the QR code
and PIN, shown once and printable, for a visitor without a smartphone), revoking a pass, and a
compound's passes (today's, active, expired)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from gridgate_wire import PassKind, PassSchedule, ScheduleWindow
from hub.errors import HubError, Invalid
from hub.request_context import hub_context
from hub.services import passes, queries
from hub.visitor_models import PassIn, PassWhen
from hub.web.answers import failed, succeeded
from hub.web.render import render, translator
from hub.web.session import Form, PageStaff

router = APIRouter(include_in_schema=False)
_WHENS = [w.value for w in PassWhen]


def _when(value: str, default: PassWhen) -> PassWhen:
    try:
        return PassWhen(value) if value else default
    except ValueError:
        return default


@router.get("/houses/{house_id}/passes")
def house_passes_page(request: Request, house_id: str, user: PageStaff, when: str = "") -> Response:
    ctx = hub_context(request)
    chosen = _when(when, PassWhen.ACTIVE)
    with ctx.work() as work:
        house = queries.house(work.conn, user, house_id)
        compound = queries.compound(work.conn, user, house.compound_id)
        shown = passes.house_passes(work, user, house_id, chosen, ctx.site_timezone)
    now = datetime.now(ZoneInfo(ctx.site_timezone)).replace(second=0, microsecond=0)
    return render(
        request,
        "passes.html",
        user,
        "houses",
        house=house,
        compound=compound,
        passes=shown,
        when=chosen.value,
        whens=_WHENS,
        kinds=[k.value for k in PassKind],
        start=now.strftime("%Y-%m-%dT%H:%M"),
        end=(now + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"),
    )


def _local(value: str, zone: ZoneInfo, field: str) -> datetime:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=zone)
    except ValueError as exc:
        raise Invalid.field("pass_window", field, "not a date and time") from exc


def _schedule(fields: dict[str, str]) -> PassSchedule | None:
    days = [day for day in range(1, 8) if fields.get(f"day{day}")]
    if not days:
        return None
    window = ScheduleWindow(
        days=days,
        start=fields.get("day_start") or "00:00",
        end=fields.get("day_end") or "24:00",
    )
    return PassSchedule(windows=[window])


def _pass_body(house_id: str, fields: dict[str, str], zone: ZoneInfo) -> PassIn:
    credential = fields.get("credential", "both")
    gates = [
        g.strip() for g in fields.get("gates", "").replace("\uff0c", ",").split(",") if g.strip()
    ]
    try:
        return PassIn(
            house_id=house_id,
            kind=PassKind(fields.get("kind") or "visitor"),
            visitor_name=fields.get("visitor_name", "").strip(),
            display_name=fields.get("display_name", "").strip(),
            phone=fields.get("phone", "").strip(),
            purpose=fields.get("purpose", "").strip(),
            valid_from=_local(fields.get("valid_from", ""), zone, "valid_from"),
            valid_until=_local(fields.get("valid_until", ""), zone, "valid_until"),
            max_uses=int(fields["max_uses"]) if fields.get("max_uses") else None,
            gates=gates or None,
            schedule=_schedule(fields),
            with_qr=credential in ("both", "qr"),
            with_pin=credential in ("both", "pin"),
        )
    except (ValidationError, ValueError) as exc:
        raise Invalid({"code": "pass_form"}) from exc


@router.post("/houses/{house_id}/passes")
def issue_submit(request: Request, house_id: str, user: PageStaff, fields: Form) -> Response:
    """A plain form post: the answer is the slip, the only time the QR code and PIN show."""
    ctx = hub_context(request)
    try:
        body = _pass_body(house_id, fields, ZoneInfo(ctx.site_timezone))
        with ctx.work() as work:
            issued = passes.issue(work, user, body, ctx.passes)
    except HubError as exc:
        return failed(request, user, exc)
    qr_svg = None
    if issued.qr is not None:
        qr_svg = segno.make(issued.qr, error="m").svg_inline(scale=6, title=issued.qr)
    slip = render(
        request,
        "pass_slip.html",
        user,
        "houses",
        issued=issued,
        item=issued.visitor_pass,
        qr_svg=qr_svg,
    )
    slip.headers["Cache-Control"] = "no-store"  # the PIN and QR code show once, never cached
    return slip


@router.post("/passes/{pass_id}/revoke")
def revoke_submit(request: Request, pass_id: str, user: PageStaff, fields: Form) -> Response:
    try:
        with hub_context(request).work() as work:
            revoked = passes.revoke(work, user, pass_id, fields.get("reason", "")[:200])
    except HubError as exc:
        return failed(request, user, exc)
    t = translator(request)
    message = t("done.pass_revoked", who=revoked.display_name)
    return succeeded(request, user, message, f"/houses/{revoked.house_id}/passes")


@router.get("/compounds/{compound_id}/passes")
def compound_passes_page(
    request: Request, compound_id: str, user: PageStaff, when: str = ""
) -> Response:
    ctx = hub_context(request)
    chosen = _when(when, PassWhen.TODAY)
    with ctx.work() as work:
        compound = queries.compound(work.conn, user, compound_id)
        shown = passes.compound_passes(work, user, compound_id, chosen, ctx.site_timezone)
    return render(
        request,
        "compound_passes.html",
        user,
        "houses",
        compound=compound,
        passes=shown,
        when=chosen.value,
        whens=_WHENS,
    )
