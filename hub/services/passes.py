"""Visitor passes for the API and the pages: issue (the QR code and PIN shown once), revoke,
and the lists of a house and a compound. Staff issue and revoke within their scope; anyone may
list within theirs, but a visitor's name, phone and purpose show only for houses in the reader's
grids (a grid worker's own grid), and every list that shows them is an audited read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from gridgate_wire import utc_now
from hub import audit
from hub import passes as hub_passes
from hub.auth import Principal
from hub.config import PassesConfig
from hub.errors import Invalid, NotFound
from hub.passes import PassRecord, PassRequest, PassStatus
from hub.services import doors, queries, sessions
from hub.store.schema import compounds, houses
from hub.uow import UnitOfWork
from hub.visitor_models import IssuedPassOut, PassIn, PassOut, PassWhen


@dataclass(frozen=True)
class _Place:
    address: str
    compound_name: str
    grid_id: str


def _places(conn: Connection, house_ids: set[str]) -> dict[str, _Place]:
    if not house_ids:
        return {}
    rows = conn.execute(
        select(houses.c.house_id, houses.c.address, houses.c.grid_id, compounds.c.name)
        .join(compounds, compounds.c.compound_id == houses.c.compound_id)
        .where(houses.c.house_id.in_(sorted(house_ids)))
    )
    return {str(r[0]): _Place(str(r[1]), str(r[3]), str(r[2])) for r in rows}


def _out(record: PassRecord, place: _Place, personal: bool, now: datetime) -> PassOut:
    return PassOut(
        pass_id=record.pass_id,
        house_id=record.house_id,
        house_address=place.address,
        compound_name=place.compound_name,
        kind=record.kind,
        origin=record.origin,
        status=record.status(now),
        display_name=record.display_name,
        visitor_name=record.visitor_name if personal else None,
        phone=record.phone if personal else None,
        purpose=record.purpose if personal else None,
        valid_from=record.valid_from,
        valid_until=record.valid_until,
        max_uses=record.max_uses,
        gates=None if record.gates is None else list(record.gates),
        schedule=record.schedule,
        issued_by=record.issued_by,
        issued_at=record.issued_at,
        revoked_at=record.revoked_at,
        revoke_reason=record.revoke_reason,
    )


def _utc(value: datetime) -> datetime:
    """Times are stored in UTC (SQLite keeps the wall clock it is given); PassIn's times carry
    their zone (the API refuses naive ones, the pages give the site's)."""
    return value.astimezone(UTC)


def issue(
    work: UnitOfWork, principal: Principal, body: PassIn, config: PassesConfig
) -> IssuedPassOut:
    """Staff only, for a house in their scope; the updates go to the compound's edges after
    the commit."""
    sessions.require_staff(principal)
    queries.house(work.conn, principal, body.house_id)
    request = PassRequest(
        house_id=body.house_id,
        valid_from=_utc(body.valid_from),
        valid_until=_utc(body.valid_until),
        kind=body.kind,
        visitor_name=body.visitor_name,
        display_name=body.display_name.strip(),
        phone=body.phone.strip(),
        purpose=body.purpose.strip(),
        max_uses=body.max_uses,
        gates=None if not body.gates else tuple(body.gates),
        schedule=body.schedule,
        with_qr=body.with_qr,
        with_pin=body.with_pin,
    )
    issued = hub_passes.issue_pass(work.conn, request, principal.actor, config)
    work.publish_after_commit(*issued.updates)
    place = _places(work.conn, {body.house_id})[body.house_id]
    seen = doors.gates_seen(work.conn, issued.record.compound_id)
    return IssuedPassOut(
        visitor_pass=_out(issued.record, place, True, utc_now()),
        qr=issued.qr,
        pin=issued.pin,
        edges=len(issued.updates),
        unknown_gates=[g for g in issued.record.gates or () if g not in seen],
    )


def _scoped_pass(conn: Connection, principal: Principal, pass_id: str) -> PassRecord:
    record = hub_passes.get_pass(conn, pass_id)
    if record is None:
        raise NotFound.of("pass", pass_id)
    queries.house(conn, principal, record.house_id)  # NotFound outside the user's scope
    return record


def revoke(work: UnitOfWork, principal: Principal, pass_id: str, reason: str) -> PassOut:
    """Staff only; idempotent (a revoked pass stays as it was revoked)."""
    sessions.require_staff(principal)
    record = _scoped_pass(work.conn, principal, pass_id)
    if not reason.strip():
        raise Invalid.field("reason_needed", "reason", "is required")
    updates = hub_passes.revoke_pass(work.conn, pass_id, principal.actor, reason.strip())
    work.publish_after_commit(*updates)
    record = _scoped_pass(work.conn, principal, pass_id)
    place = _places(work.conn, {record.house_id})[record.house_id]
    return _out(record, place, principal.sees_grid(place.grid_id), utc_now())


def _shown(record: PassRecord, when: PassWhen, now: datetime, zone: ZoneInfo) -> bool:
    status = record.status(now)
    if when is PassWhen.ALL:
        return True
    if when is PassWhen.EXPIRED:
        return status in (PassStatus.EXPIRED, PassStatus.REVOKED)
    if when is PassWhen.ACTIVE:
        return status in (PassStatus.ACTIVE, PassStatus.UPCOMING)
    start = datetime.combine(now.astimezone(zone).date(), datetime.min.time(), zone)
    end = start + timedelta(days=1)
    return (
        status is not PassStatus.REVOKED and record.valid_from < end and record.valid_until > start
    )


def _listed(
    work: UnitOfWork,
    principal: Principal,
    records: list[PassRecord],
    when: PassWhen,
    site_timezone: str,
    community_id: str | None,
    scope_id: str,
) -> list[PassOut]:
    now = utc_now()
    zone = ZoneInfo(site_timezone)
    kept = [r for r in records if _shown(r, when, now, zone)]
    places = _places(work.conn, {r.house_id for r in kept})
    out = [
        _out(r, places[r.house_id], principal.sees_grid(places[r.house_id].grid_id), now)
        for r in kept
    ]
    personal = [p.pass_id for p in out if p.visitor_name is not None]
    if personal:
        audit.record(
            work.conn,
            principal.actor,
            audit.Action.READ,
            hub_passes.OBJECT_TYPE,
            ",".join(personal)[:200],
            community_id=community_id,
            detail=f"visitor names and phones of {scope_id} ({when.value})",
            object_ids=personal[:200],
        )
    return out


def house_passes(
    work: UnitOfWork, principal: Principal, house_id: str, when: PassWhen, site_timezone: str
) -> list[PassOut]:
    queries.house(work.conn, principal, house_id)
    records = hub_passes.list_passes(work.conn, house_id=house_id)
    community = queries.community_of_house(work.conn, house_id)
    return _listed(work, principal, records, when, site_timezone, community, house_id)


def compound_passes(
    work: UnitOfWork, principal: Principal, compound_id: str, when: PassWhen, site_timezone: str
) -> list[PassOut]:
    compound = queries.compound(work.conn, principal, compound_id)
    records = hub_passes.list_passes(work.conn, compound_id=compound_id)
    return _listed(
        work, principal, records, when, site_timezone, compound.community_id, compound_id
    )


def get(work: UnitOfWork, principal: Principal, pass_id: str) -> PassOut:
    record = _scoped_pass(work.conn, principal, pass_id)
    compound = queries.compound(work.conn, principal, record.compound_id)
    return _listed(work, principal, [record], PassWhen.ALL, "UTC", compound.community_id, pass_id)[
        0
    ]
