"""Pages about houses and residents: houses found by address, building, vacancy; residents
found by name, phone or house (audited); a resident with consents, edits, recording face consent
with a one-time enrolment code (shown once with its QR code), a new code, withdrawal."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from hub import models
from hub.auth import Principal
from hub.errors import HubError, Invalid
from hub.request_context import hub_context
from hub.services import registry
from hub.services.paging import Window
from hub.services.registry import HouseFilter
from hub.web.answers import failed, succeeded
from hub.web.enrolment import qr_svg
from hub.web.render import PAGE_SIZE, pager, render, translator
from hub.web.session import Form, PageStaff

router = APIRouter(include_in_schema=False)


@router.get("/houses")
def houses_page(
    request: Request,
    user: PageStaff,
    q: str = "",
    building: str = "",
    vacant: str = "",
    offset: int = 0,
) -> Response:
    """Houses with their compound's and grid's names; find by address, building, vacancy."""
    with hub_context(request).read() as conn:
        page = registry.find_houses(
            conn, user, HouseFilter(q, building, vacant), Window(PAGE_SIZE, max(0, offset))
        )
    return render(
        request,
        "houses.html",
        user,
        "houses",
        houses=page.items,
        filters={"q": q, "building": building, "vacant": vacant},
        **pager(page.total, len(page.items), offset, dict(request.query_params), page.total_exact),
    )


@router.get("/residents")
def residents_page(
    request: Request, user: PageStaff, house_id: str = "", q: str = "", offset: int = 0
) -> Response:
    with hub_context(request).work() as work:
        page = registry.list_residents(
            work, user, Window(PAGE_SIZE, max(0, offset)), house_id or None, q.strip()[:64] or None
        )
    return render(
        request,
        "residents.html",
        user,
        "residents",
        residents=page.items,
        q=q,
        **pager(page.total, len(page.items), offset, dict(request.query_params), page.total_exact),
    )


def _resident(
    request: Request,
    user: Principal,
    resident_id: str,
    invitation: models.InvitationOut | None = None,
) -> Response:
    """The resident page; with a new one-time enrolment code and its QR code, shown once."""
    with hub_context(request).work() as work:
        detail = registry.get_resident(work, user, resident_id)
    code: dict[str, Any] = {}
    if invitation is not None:
        code["qr_svg"] = qr_svg(invitation.enrolment_code)
    return render(
        request, "resident.html", user, "residents", person=detail, invitation=invitation, **code
    )


@router.get("/residents/{resident_id}")
def resident_page(request: Request, resident_id: str, user: PageStaff) -> Response:
    return _resident(request, user, resident_id)


@router.post("/residents/{resident_id}/invite")
def invite_page(request: Request, resident_id: str, user: PageStaff, fields: Form) -> Response:
    body = models.ConsentCreate(
        version=fields.get("version", "v1")[:32] or "v1",
        guardian_id=fields.get("guardian_id") or None,
    )
    with hub_context(request).work() as work:
        invitation = registry.grant_face_consent(work, user, resident_id, body)
    return _resident(request, user, resident_id, invitation)


@router.post("/residents/{resident_id}/new-code")
def new_code(request: Request, resident_id: str, user: PageStaff, _fields: Form) -> Response:
    try:
        with hub_context(request).work() as work:
            invitation = registry.new_enrolment_code(work, user, resident_id)
    except HubError as exc:
        return failed(request, user, exc)
    return _resident(request, user, resident_id, invitation)


@router.post("/residents/{resident_id}/edit")
def edit_resident(request: Request, resident_id: str, user: PageStaff, fields: Form) -> Response:
    """Name, phone and care recipient (关爱对象: welfare checks when unseen)."""
    try:
        try:
            body = models.ResidentPatch.model_validate(
                {
                    "name": fields.get("name", "").strip()[:128],
                    "phone": fields.get("phone", "").strip()[:32],
                    "care_recipient": fields.get("care_recipient") == "1",
                }
            )
        except ValidationError as exc:
            raise Invalid({"code": "name_needed"}) from exc
        with hub_context(request).work() as work:
            registry.patch_resident(work, user, resident_id, body)
    except HubError as exc:
        return failed(request, user, exc)
    message = translator(request)("done.resident_saved")
    return succeeded(request, user, message, f"/residents/{resident_id}")


@router.post("/residents/{resident_id}/withdraw")
def withdraw_consent(
    request: Request, resident_id: str, user: PageStaff, _fields: Form
) -> Response:
    """Withdraw face consent: the gates erase the resident's face data and confirm."""
    try:
        with hub_context(request).work() as work:
            registry.withdraw_face_consent(work, user, resident_id)
    except HubError as exc:
        return failed(request, user, exc)
    return succeeded(
        request, user, translator(request)("done.withdrawn"), f"/residents/{resident_id}"
    )
