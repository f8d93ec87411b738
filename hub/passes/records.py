"""Pass records as the hub stores them, and the projection an edge gets."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, Row, select

from gridgate_wire import EdgePass, PassKind, PassOrigin, PassSchedule, PassSecret
from hub.store.db import as_utc
from hub.store.schema import visitor_passes


class PassStatus(StrEnum):
    UPCOMING = "upcoming"
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class PassRecord:
    pass_id: str
    compound_id: str
    house_id: str
    kind: PassKind
    origin: PassOrigin
    display_name: str
    visitor_name: str
    phone: str
    purpose: str
    valid_from: datetime
    valid_until: datetime
    max_uses: int | None
    gates: tuple[str, ...] | None
    schedule: PassSchedule | None
    secrets: tuple[PassSecret, ...]
    issued_by: str
    issued_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str
    edge_id: str | None

    def status(self, now: datetime) -> PassStatus:
        if self.revoked_at is not None:
            return PassStatus.REVOKED
        if now < self.valid_from:
            return PassStatus.UPCOMING
        return PassStatus.ACTIVE if now < self.valid_until else PassStatus.EXPIRED


def _record(row: Row[tuple[object, ...]]) -> PassRecord:
    m = row._mapping
    gates = m["gates"]
    schedule = m["schedule"]
    return PassRecord(
        pass_id=str(m["pass_id"]),
        compound_id=str(m["compound_id"]),
        house_id=str(m["house_id"]),
        kind=PassKind(m["kind"]),
        origin=PassOrigin(m["origin"]),
        display_name=str(m["display_name"]),
        visitor_name=str(m["visitor_name"]),
        phone=str(m["phone"]),
        purpose=str(m["purpose"]),
        valid_from=as_utc(m["valid_from"]),
        valid_until=as_utc(m["valid_until"]),
        max_uses=None if m["max_uses"] is None else int(m["max_uses"]),
        gates=None if gates is None else tuple(json.loads(str(gates))),
        schedule=None if schedule is None else PassSchedule.model_validate_json(str(schedule)),
        secrets=tuple(PassSecret.model_validate(s) for s in json.loads(str(m["secrets"]))),
        issued_by=str(m["issued_by"]),
        issued_at=as_utc(m["issued_at"]),
        revoked_at=None if m["revoked_at"] is None else as_utc(m["revoked_at"]),
        revoked_by=None if m["revoked_by"] is None else str(m["revoked_by"]),
        revoke_reason=str(m["revoke_reason"]),
        edge_id=None if m["edge_id"] is None else str(m["edge_id"]),
    )


def edge_pass(record: PassRecord) -> EdgePass:
    """What an edge holds of a pass: no full name, no phone, no purpose."""
    return EdgePass(
        pass_id=record.pass_id,
        kind=record.kind,
        origin=record.origin,
        house_id=record.house_id,
        display_name=record.display_name,
        secrets=list(record.secrets),
        valid_from=record.valid_from,
        valid_until=record.valid_until,
        max_uses=record.max_uses,
        gates=None if record.gates is None else list(record.gates),
        schedule=record.schedule,
    )


def get_pass(conn: Connection, pass_id: str) -> PassRecord | None:
    row = conn.execute(select(visitor_passes).where(visitor_passes.c.pass_id == pass_id)).first()
    return None if row is None else _record(row)


def list_passes(
    conn: Connection,
    *,
    house_id: str | None = None,
    compound_id: str | None = None,
    valid_at: datetime | None = None,
    include_revoked: bool = True,
) -> list[PassRecord]:
    """Passes of a house or a compound (or all), newest window first; ``valid_at`` keeps those
    whose window contains that time (the guard room's "today's visitors")."""
    query = select(visitor_passes)
    if house_id is not None:
        query = query.where(visitor_passes.c.house_id == house_id)
    if compound_id is not None:
        query = query.where(visitor_passes.c.compound_id == compound_id)
    if valid_at is not None:
        query = query.where(
            visitor_passes.c.valid_from <= valid_at, visitor_passes.c.valid_until > valid_at
        )
    if not include_revoked:
        query = query.where(visitor_passes.c.revoked_at.is_(None))
    rows = conn.execute(
        query.order_by(visitor_passes.c.valid_from.desc(), visitor_passes.c.pass_id)
    )
    return [_record(row) for row in rows]
