"""Pages about houses and residents: houses found by address, building, vacancy; residents
found by name, phone or house (audited); a resident with consents, edits, recording face consent
with a one-time enrolment code (shown once with its QR code), a new code, withdrawal."""

from __future__ import annotations

import io

import segno
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from hub.api import models, queries, routes, visit_routes
from hub.auth import Principal
from hub.store.schema import areas, compounds, houses
from hub.web.answers import _call, _failed, _succeeded, _t
from hub.web.pages import PAGE_SIZE, _ctx, _form, _pager, _require, render

router = APIRouter(include_in_schema=False)


@router.get("/houses")
def houses_page(
    request: Request, q: str = "", building: str = "", vacant: str = "", offset: int = 0
) -> Response:
    """Houses with their compound's and grid's names; find by address, building, vacancy."""
    user = _require(request, staff=True)
    grid = areas.alias("house_grid")
    query = (
        queries.houses_query(user)
        .add_columns(compounds.c.name.label("compound_name"), grid.c.name.label("grid_name"))
        .join(compounds, compounds.c.compound_id == houses.c.compound_id)
        .join(grid, grid.c.area_id == houses.c.grid_id)
    )
    if q.strip():
        query = query.where(houses.c.address.contains(q.strip()[:64], autoescape=True))
    if building.strip():
        query = query.where(houses.c.building == building.strip()[:32])
    if vacant in ("yes", "no"):
        query = query.where(houses.c.vacant.is_(vacant == "yes"))
    with _ctx(request).engine.connect() as conn:
        rows, total, exact = queries.counted_page(conn, query, PAGE_SIZE, max(0, offset))
    return render(
        request,
        "houses.html",
        user,
        "houses",
        houses=rows,
        filters={"q": q, "building": building, "vacant": vacant},
        **_pager(total, len(rows), offset, dict(request.query_params), exact),
    )


@router.get("/residents")
def residents_page(request: Request, house_id: str = "", q: str = "", offset: int = 0) -> Response:
    user = _require(request, staff=True)
    page = routes.list_residents(
        user, _ctx(request), house_id or None, PAGE_SIZE, max(0, offset), q.strip()[:64] or None
    )
    return render(
        request,
        "residents.html",
        user,
        "residents",
        residents=page.items,
        q=q,
        **_pager(page.total, len(page.items), offset, dict(request.query_params), page.total_exact),
    )


def _qr_svg(code: str) -> str:
    buffer = io.BytesIO()
    segno.make(f"GRIDGATE-ENROL:{code}", error="m").save(
        buffer, kind="svg", scale=6, border=2, xmldecl=False, svgns=True
    )
    return buffer.getvalue().decode()


@router.get("/residents/{resident_id}")
def resident_page(request: Request, resident_id: str) -> Response:
    user = _require(request, staff=True)
    detail = routes.get_resident(resident_id, user, _ctx(request))
    return render(request, "resident.html", user, "residents", person=detail, invitation=None)


@router.post("/residents/{resident_id}/invite")
async def invite_page(request: Request, resident_id: str) -> Response:
    user = _require(request, staff=True)
    fields = await _form(request, user)
    body = models.ConsentCreate(
        version=fields.get("version", "v1")[:32] or "v1",
        guardian_id=fields.get("guardian_id") or None,
    )
    invitation = await run_in_threadpool(
        routes.grant_face_consent, resident_id, body, user, _ctx(request)
    )
    return _with_code(request, user, resident_id, invitation)


def _with_code(
    request: Request, user: Principal, resident_id: str, invitation: models.InvitationOut
) -> Response:
    """The resident page showing a one-time enrolment code and its QR code, once."""
    detail = routes.get_resident(resident_id, user, _ctx(request))
    return render(
        request,
        "resident.html",
        user,
        "residents",
        person=detail,
        invitation=invitation,
        qr_svg=_qr_svg(invitation.enrolment_code),
    )


@router.post("/residents/{resident_id}/new-code")
async def new_code(request: Request, resident_id: str) -> Response:
    user = _require(request, staff=True)
    await _form(request, user)
    try:
        invitation = await _call(
            lambda: visit_routes.new_enrolment_code(resident_id, user, _ctx(request))
        )
    except HTTPException as exc:
        return _failed(request, user, exc)
    return _with_code(request, user, resident_id, invitation)


@router.post("/residents/{resident_id}/edit")
async def edit_resident(request: Request, resident_id: str) -> Response:
    """Name, phone and care recipient (关爱对象: welfare checks when unseen)."""
    user = _require(request, staff=True)
    fields = await _form(request, user)
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
            raise HTTPException(422, {"code": "name_needed"}) from exc
        await _call(lambda: routes.patch_resident(resident_id, body, user, _ctx(request)))
    except HTTPException as exc:
        return _failed(request, user, exc)
    return _succeeded(
        request, user, _t(request)("done.resident_saved"), f"/residents/{resident_id}"
    )


@router.post("/residents/{resident_id}/withdraw")
async def withdraw_consent(request: Request, resident_id: str) -> Response:
    """Withdraw face consent: the gates erase the resident's face data and confirm."""
    user = _require(request, staff=True)
    await _form(request, user)
    try:
        await _call(lambda: routes.withdraw_face_consent(resident_id, user, _ctx(request)))
    except HTTPException as exc:
        return _failed(request, user, exc)
    return _succeeded(request, user, _t(request)("done.withdrawn"), f"/residents/{resident_id}")
