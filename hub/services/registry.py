"""The registry's rules: areas, compounds, houses, residents (every read of personal data is
audited), face consent and enrolment codes, workers, the CSV import."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select, update

from hub import audit, consent, models, sync
from hub.audit import Action
from hub.auth import Principal, Role
from hub.errors import Conflict, NotFound
from hub.importer import KINDS, ImportReport, import_csv
from hub.services import queries
from hub.services.paging import Window, mapped_page
from hub.store.schema import areas, compounds, houses, residents
from hub.uow import UnitOfWork

# ------------------------------------------------------------------------------ places


def list_areas(conn: Connection, principal: Principal, window: Window) -> models.Page[models.Area]:
    return mapped_page(conn, queries.areas_query(principal), models.Area, window)


def list_compounds(
    conn: Connection, principal: Principal, window: Window
) -> models.Page[models.Compound]:
    return mapped_page(conn, queries.compounds_query(principal), models.Compound, window)


def list_houses(
    conn: Connection,
    principal: Principal,
    window: Window,
    grid_id: str | None = None,
    compound_id: str | None = None,
    cursor: str | None = None,
) -> models.Page[models.House]:
    query = queries.houses_query(principal, grid_id, compound_id)
    if cursor:  # keyset: houses after the previous page's last id
        query = query.where(houses.c.house_id > queries.decode_cursor(cursor))
    page = mapped_page(conn, query, models.House, window)
    if len(page.items) == window.limit:
        page.next_cursor = queries.encode_cursor(page.items[-1].house_id)
    return page


@dataclass(frozen=True)
class HouseFilter:
    """The houses page's search: address contains, building, vacancy ("yes", "no" or "")."""

    address: str = ""
    building: str = ""
    vacant: str = ""


def find_houses(
    conn: Connection, principal: Principal, found: HouseFilter, window: Window
) -> models.Page[models.HouseListed]:
    """Houses with their compound's and grid's names, for the houses page."""
    grid = areas.alias("house_grid")
    query = (
        queries.houses_query(principal)
        .add_columns(compounds.c.name.label("compound_name"), grid.c.name.label("grid_name"))
        .join(compounds, compounds.c.compound_id == houses.c.compound_id)
        .join(grid, grid.c.area_id == houses.c.grid_id)
    )
    if found.address.strip():
        query = query.where(houses.c.address.contains(found.address.strip()[:64], autoescape=True))
    if found.building.strip():
        query = query.where(houses.c.building == found.building.strip()[:32])
    if found.vacant in ("yes", "no"):
        query = query.where(houses.c.vacant.is_(found.vacant == "yes"))
    return mapped_page(conn, query, models.HouseListed, window)


def house_people(conn: Connection, principal: Principal, house_id: str) -> list[models.Resident]:
    """The residents of a house, by name, for the house page."""
    queries.house(conn, principal, house_id)  # NotFound outside scope
    rows = conn.execute(
        queries.residents_query(principal, house_id).order_by(None).order_by(residents.c.name)
    ).all()
    return [queries.resident_out(r) for r in rows]


# ------------------------------------------------------------------------------ residents


def list_residents(
    work: UnitOfWork,
    principal: Principal,
    window: Window,
    house_id: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
) -> models.Page[models.Resident]:
    query = queries.residents_query(principal, house_id, q)
    if cursor:  # keyset: residents after the previous page's last id, whatever the depth
        query = query.where(residents.c.resident_id > queries.decode_cursor(cursor))
    rows, total, exact = queries.counted_page(work.conn, query, window.limit, window.offset)
    audit.record(
        work.conn,
        principal.actor,
        Action.READ,
        "resident",
        ",".join(r.resident_id for r in rows) or "(none)",
        community_id=principal.area_id if principal.role is Role.COMMUNITY_ADMIN else None,
        detail=f"list house={house_id or '*'} q={q or ''} offset={window.offset}",
        object_ids=[r.resident_id for r in rows],
    )
    last = rows[-1].resident_id if len(rows) == window.limit else None
    return models.Page[models.Resident](
        items=[queries.resident_out(r) for r in rows],
        total=total,
        limit=window.limit,
        offset=window.offset,
        total_exact=exact,
        next_cursor=None if last is None else queries.encode_cursor(last),
    )


def get_resident(work: UnitOfWork, principal: Principal, resident_id: str) -> models.ResidentDetail:
    detail = queries.resident_detail(work.conn, principal, resident_id)
    audit.record(
        work.conn,
        principal.actor,
        Action.READ,
        "resident",
        resident_id,
        community_id=queries.community_of_house(work.conn, detail.house_id),
    )
    return detail


def create_resident(
    work: UnitOfWork, principal: Principal, body: models.ResidentCreate
) -> models.Resident:
    conn = work.conn
    queries.house(conn, principal, body.house_id)  # NotFound outside scope
    if conn.scalar(
        select(residents.c.resident_id).where(residents.c.resident_id == body.resident_id)
    ):
        raise Conflict(f"resident {body.resident_id} already exists")
    conn.execute(residents.insert().values(**body.model_dump(), active=True))
    work.publish_after_commit(*sync.queue_resident_change(conn, body.resident_id))
    audit.record(
        conn,
        principal.actor,
        Action.CREATE,
        "resident",
        body.resident_id,
        community_id=queries.community_of_house(conn, body.house_id),
    )
    return queries.resident_out(queries.resident_row(conn, principal, body.resident_id))


def patch_resident(
    work: UnitOfWork, principal: Principal, resident_id: str, body: models.ResidentPatch
) -> models.Resident:
    conn = work.conn
    changes = body.model_dump(exclude_none=True)
    row = queries.resident_row(conn, principal, resident_id)
    if changes:
        conn.execute(
            update(residents).where(residents.c.resident_id == resident_id).values(**changes)
        )
        if {"active", "care_recipient"} & changes.keys():
            work.publish_after_commit(*sync.queue_resident_change(conn, resident_id))
    audit.record(
        conn,
        principal.actor,
        Action.UPDATE,
        "resident",
        resident_id,
        community_id=queries.community_of_house(conn, row.house_id),
        detail="fields: " + ",".join(sorted(changes)),
    )
    return queries.resident_out(queries.resident_row(conn, principal, resident_id))


# ------------------------------------------------------------------------------ face consent


def grant_face_consent(
    work: UnitOfWork, principal: Principal, resident_id: str, body: models.ConsentCreate
) -> models.InvitationOut:
    """Record face consent (with guardian for a minor), update the edges' roster and invite
    the resident to enrol at a gate with a one-time code (returned once)."""
    conn = work.conn
    row = queries.resident_row(conn, principal, resident_id)
    if not row.active:
        raise Conflict(f"resident {resident_id} is not active")
    grant = consent.grant_face(
        conn, resident_id, body.version, body.guardian_id, principal.actor, datetime.now(UTC)
    )
    work.publish_after_commit(*grant.to_edges)
    community = queries.community_of_house(conn, row.house_id)
    audit.record(
        conn,
        principal.actor,
        Action.CREATE,
        "consent",
        grant.consent_id,
        community_id=community,
        detail=f"face consent {body.version} for {resident_id}",
    )
    audit.record(
        conn,
        principal.actor,
        Action.CREATE,
        "invitation",
        resident_id,
        community_id=community,
        detail=f"{grant.invited_edges} edges",
    )
    return _invitation(resident_id, grant)


def withdraw_face_consent(work: UnitOfWork, principal: Principal, resident_id: str) -> None:
    """Withdraw face consent: the edges drop the resident's templates and confirm."""
    conn = work.conn
    row = queries.resident_row(conn, principal, resident_id)
    if not consent.withdraw_face(conn, resident_id, datetime.now(UTC)):
        raise Conflict(f"resident {resident_id} has no face consent to withdraw")
    work.publish_after_commit(*sync.queue_resident_change(conn, resident_id))
    audit.record(
        conn,
        principal.actor,
        Action.UPDATE,
        "consent",
        resident_id,
        community_id=queries.community_of_house(conn, row.house_id),
        detail="face consent withdrawn",
    )


def new_enrolment_code(
    work: UnitOfWork, principal: Principal, resident_id: str
) -> models.InvitationOut:
    """A new one-time enrolment code for a resident with face consent (the first was lost or
    expired); returned once, only its sha256 is stored."""
    conn = work.conn
    row = queries.resident_row(conn, principal, resident_id)
    if not row.active:
        raise Conflict(f"resident {resident_id} is not active")
    grant = consent.reissue(conn, resident_id, datetime.now(UTC))
    if grant is None:
        raise Conflict(f"resident {resident_id} has no face consent")
    work.publish_after_commit(*grant.to_edges)
    audit.record(
        conn,
        principal.actor,
        Action.CREATE,
        "invitation",
        resident_id,
        community_id=queries.community_of_house(conn, row.house_id),
        detail=f"new code, {grant.invited_edges} edges",
    )
    return _invitation(resident_id, grant)


def _invitation(resident_id: str, grant: consent.Grant) -> models.InvitationOut:
    return models.InvitationOut(
        resident_id=resident_id,
        consent_id=grant.consent_id,
        enrolment_code=grant.code,
        edges=grant.invited_edges,
        expires_at=grant.expires_at,
    )


# ------------------------------------------------------------------------------ workers


def list_workers(
    conn: Connection, principal: Principal, window: Window
) -> models.Page[models.Worker]:
    return mapped_page(conn, queries.workers_query(principal), models.Worker, window)


# ------------------------------------------------------------------------------ import


def check_import_kind(kind: str) -> None:
    if kind not in KINDS:
        raise NotFound(f"no import kind {kind}; one of {', '.join(KINDS)}")


def import_registry(
    work: UnitOfWork, principal: Principal, kind: str, text: str
) -> models.ImportResult:
    """Every row is checked first; if any fails nothing is imported (``ok`` False, with each
    problem as row, field, reason)."""
    check_import_kind(kind)
    report: ImportReport = import_csv(work.conn, kind, text, principal)
    if report.ok:
        audit.record(
            work.conn,
            principal.actor,
            Action.IMPORT,
            kind,
            f"{report.imported} rows",
            community_id=principal.area_id,
        )
    return models.ImportResult(
        kind=kind,
        rows=report.rows,
        imported=report.imported,
        problems=[models.ImportProblem(**vars(p)) for p in report.problems],
    )
