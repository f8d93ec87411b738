"""``/api/v1`` registry: areas, compounds, houses, residents (reads of personal data audited),
face consent and enrolment codes, workers, the CSV import."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from hub import models
from hub.api.deps import Ctx, Paged, Staff, User
from hub.errors import Invalid, TooLarge
from hub.services import queries, registry

router = APIRouter(prefix="/api/v1")
IMPORT_MAX = 20 * 1024 * 1024
Cursor = Annotated[
    str | None, Query(max_length=200, description="next_cursor of the previous page.")
]


@router.get("/areas", response_model=models.Page[models.Area], tags=["registry"])
def list_areas(principal: User, ctx: Ctx, page: Paged) -> models.Page[models.Area]:
    with ctx.read() as conn:
        return registry.list_areas(conn, principal, page)


@router.get("/compounds", response_model=models.Page[models.Compound], tags=["registry"])
def list_compounds(principal: User, ctx: Ctx, page: Paged) -> models.Page[models.Compound]:
    with ctx.read() as conn:
        return registry.list_compounds(conn, principal, page)


@router.get("/compounds/{compound_id}", response_model=models.Compound, tags=["registry"])
def get_compound(compound_id: str, principal: User, ctx: Ctx) -> models.Compound:
    with ctx.read() as conn:
        return queries.compound(conn, principal, compound_id)


@router.get("/houses", response_model=models.Page[models.House], tags=["registry"])
def list_houses(
    principal: User,
    ctx: Ctx,
    page: Paged,
    grid_id: str | None = None,
    compound_id: str | None = None,
    cursor: Cursor = None,
) -> models.Page[models.House]:
    with ctx.read() as conn:
        return registry.list_houses(conn, principal, page, grid_id, compound_id, cursor)


@router.get("/houses/{house_id}", response_model=models.House, tags=["registry"])
def get_house(house_id: str, principal: User, ctx: Ctx) -> models.House:
    with ctx.read() as conn:
        return queries.house(conn, principal, house_id)


@router.get("/residents", response_model=models.Page[models.Resident], tags=["registry"])
def list_residents(
    principal: User,
    ctx: Ctx,
    page: Paged,
    house_id: str | None = None,
    q: Annotated[
        str | None, Query(max_length=64, description="Name, phone or house contains this.")
    ] = None,
    cursor: Cursor = None,
) -> models.Page[models.Resident]:
    with ctx.work() as work:
        return registry.list_residents(work, principal, page, house_id, q, cursor)


@router.get("/residents/{resident_id}", response_model=models.ResidentDetail, tags=["registry"])
def get_resident(resident_id: str, principal: User, ctx: Ctx) -> models.ResidentDetail:
    with ctx.work() as work:
        return registry.get_resident(work, principal, resident_id)


@router.post("/residents", response_model=models.Resident, status_code=201, tags=["registry"])
def create_resident(body: models.ResidentCreate, principal: Staff, ctx: Ctx) -> models.Resident:
    with ctx.work() as work:
        return registry.create_resident(work, principal, body)


@router.patch("/residents/{resident_id}", response_model=models.Resident, tags=["registry"])
def patch_resident(
    resident_id: str, body: models.ResidentPatch, principal: Staff, ctx: Ctx
) -> models.Resident:
    with ctx.work() as work:
        return registry.patch_resident(work, principal, resident_id, body)


@router.post(
    "/residents/{resident_id}/consents",
    response_model=models.InvitationOut,
    status_code=201,
    tags=["registry"],
)
def grant_face_consent(
    resident_id: str, body: models.ConsentCreate, principal: Staff, ctx: Ctx
) -> models.InvitationOut:
    """Record face consent (with guardian for a minor), update the edges' roster and invite
    the resident to enrol at a gate with a one-time code (returned once)."""
    with ctx.work() as work:
        return registry.grant_face_consent(work, principal, resident_id, body)


@router.post("/residents/{resident_id}/consents/withdraw", status_code=204, tags=["registry"])
def withdraw_face_consent(resident_id: str, principal: Staff, ctx: Ctx) -> None:
    """Withdraw face consent: the edges drop the resident's templates and confirm."""
    with ctx.work() as work:
        registry.withdraw_face_consent(work, principal, resident_id)


@router.post(
    "/residents/{resident_id}/invitations",
    response_model=models.InvitationOut,
    status_code=201,
    tags=["registry"],
)
def new_enrolment_code(resident_id: str, principal: Staff, ctx: Ctx) -> models.InvitationOut:
    """A new one-time enrolment code for a resident with face consent (the first was lost or
    expired); returned once, only its sha256 is stored."""
    with ctx.work() as work:
        return registry.new_enrolment_code(work, principal, resident_id)


@router.get("/workers", response_model=models.Page[models.Worker], tags=["workers"])
def list_workers(principal: User, ctx: Ctx, page: Paged) -> models.Page[models.Worker]:
    with ctx.read() as conn:
        return registry.list_workers(conn, principal, page)


@router.get("/workers/{worker_id}", response_model=models.Worker, tags=["workers"])
def get_worker(worker_id: str, principal: User, ctx: Ctx) -> models.Worker:
    with ctx.read() as conn:
        return queries.worker(conn, principal, worker_id)


async def csv_text(kind: str, request: Request) -> str:
    """The request's body as UTF-8 text (read on the event loop; the import runs off it)."""
    registry.check_import_kind(kind)
    raw = await request.body()
    if len(raw) > IMPORT_MAX:
        raise TooLarge("CSV larger than 20 MiB; split it")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid("the CSV is not UTF-8") from exc


@router.post("/import/{kind}", response_model=models.ImportResult, tags=["registry"])
def import_registry(
    kind: str, principal: Staff, ctx: Ctx, text: Annotated[str, Depends(csv_text)]
) -> Response | models.ImportResult:
    """Import a CSV (UTF-8, header row). Every row is checked first; if any fails nothing is
    imported and the answer (422) lists each problem as row, field, reason."""
    # A sync handler: a large import holds a worker thread, not the event loop (issue 19).
    with ctx.work() as work:
        result = registry.import_registry(work, principal, kind, text)
    if result.problems:
        return JSONResponse(result.model_dump(), status_code=422)
    return result
