"""Visitor passes at the hub: issue, revoke, list, and keep every edge's pass list in sync.

A pass is issued for a host house (by the community centre, or registered at a guard room and
reported by the edge as a ``walk_in_pass``). The hub keeps the visitor's name and phone for the
centre and the host house; each edge of the house's compound gets :func:`edge_pass`'s projection
(display name, host house, salted hashes, window, uses, gates, schedule) in a versioned
``pass_update``, kept in ``pass_outbox`` and re-sent until the edge's ``pass_ack`` (the roster's
pattern, :mod:`hub.sync`). The QR token and PIN are generated here, returned once to whoever
issued the pass (to print or send), and never stored. Every function takes the caller's
connection: the caller commits, then publishes the updates it got back.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select, update

from gridgate_wire import (
    CredentialKind,
    PassKind,
    PassOrigin,
    PassSchedule,
    PassUpdate,
    WalkInPass,
    make_secret,
    new_pin,
    new_qr_token,
    qr_payload,
    utc_now,
    uuid7,
)
from hub import audit
from hub.config import PassesConfig
from hub.errors import Invalid
from hub.passages import stripped
from hub.passes import walk_ins
from hub.passes.pins import taken_pins
from hub.passes.records import PassRecord, PassStatus, edge_pass, get_pass, list_passes
from hub.passes.sync import (
    build_wanted,
    due_for_resend,
    edges_of_compound,
    edges_without_list,
    mark_sent,
    on_pass_ack,
    queue_delta,
    queue_full_list,
)
from hub.store.schema import (
    compounds,
    edge_compounds,
    edge_messages,
    houses,
    pass_outbox,
    visitor_passes,
)

_LOGGER = logging.getLogger(__name__)
OBJECT_TYPE = "visitor_pass"


# A refusal's field -> the pages' catalogue code (error.<code>).
_CODES = {
    "valid_until": "pass_window",
    "with_pin": "pass_credential",
    "max_uses": "pass_uses",
    "visitor_name": "pass_name",
    "house_id": "not_found",
}


class PassRefused(Invalid):
    """The request cannot become a pass (a 422 like every :class:`hub.errors.Invalid`);
    ``field_name`` names what is wrong, ``reason`` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__({"code": _CODES.get(field, "invalid"), "field": field, "reason": reason})
        self.field_name = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PassRequest:
    house_id: str
    valid_from: datetime
    valid_until: datetime
    kind: PassKind = PassKind.VISITOR
    visitor_name: str = ""
    display_name: str = ""
    phone: str = ""
    purpose: str = ""
    max_uses: int | None = None
    gates: tuple[str, ...] | None = None
    schedule: PassSchedule | None = None
    with_qr: bool = True
    with_pin: bool = True


@dataclass(frozen=True, slots=True)
class IssuedPass:
    record: PassRecord
    qr: str | None  # the QR code's content, shown once: the hub keeps only its hash
    pin: str | None  # likewise
    updates: list[PassUpdate]  # to publish after the commit


@dataclass(frozen=True, slots=True)
class WalkInOutcome:
    stored: bool  # False: a duplicate (already stored) or refused
    refused: str = ""  # why it was refused ("" when it was not)
    updates: tuple[PassUpdate, ...] = ()


def _compound_of_house(conn: Connection, house_id: str) -> tuple[str, str]:
    row = conn.execute(
        select(houses.c.compound_id, compounds.c.community_id)
        .join(compounds, compounds.c.compound_id == houses.c.compound_id)
        .where(houses.c.house_id == house_id)
    ).first()
    if row is None:
        raise PassRefused("house_id", f"unknown house {house_id}")
    return str(row[0]), str(row[1])


VISITOR_SUFFIX = "\u8bbf\u5ba2"  # 访客 ("visitor"), as the guard room names its walk-ins


def gate_name(full: str) -> str:
    """What the gates show when the centre gave no display name: the family name and 访客
    (王访客), never the full name (the edges get no more than the guard room gives them)."""
    return f"{full.strip()[:1]}{VISITOR_SUFFIX}"


def _check(request: PassRequest, config: PassesConfig, now: datetime) -> None:
    if request.valid_until <= request.valid_from:
        raise PassRefused("valid_until", "must be after valid_from")
    if request.valid_until <= now:
        raise PassRefused("valid_until", "is in the past")
    long_term = request.kind is not PassKind.VISITOR
    days = config.max_long_term_days if long_term else config.max_visitor_days
    if request.valid_until - request.valid_from > timedelta(days=days):
        raise PassRefused("valid_until", f"a {request.kind.value} pass lasts at most {days} days")
    if not (request.with_qr or request.with_pin):
        raise PassRefused("with_pin", "a pass needs a QR code or a PIN")
    if request.max_uses is not None and not 1 <= request.max_uses <= 2**31 - 1:
        raise PassRefused("max_uses", "must be at least 1")
    if not request.visitor_name.strip():
        raise PassRefused("visitor_name", "is required")


def _unique_pin(conn: Connection, compound_id: str, digits: int, now: datetime) -> str:
    """A PIN no pass the compound's gates still hold has, one digit off none of theirs nor of
    a resident's (hub.passes.pins): a PIN alone must name one pass, never a duress PIN."""
    taken = taken_pins(conn, compound_id, now)
    for _ in range(50):
        pin = new_pin(digits)
        if taken.clash(pin) is None:
            return pin
    raise PassRefused("with_pin", "no free PIN; use a QR code or more PIN digits")


def issue_pass(
    conn: Connection,
    request: PassRequest,
    actor: str,
    config: PassesConfig | None = None,
    now: datetime | None = None,
) -> IssuedPass:
    """Issue a pass from the centre; audited; queues a delta for every edge of the compound."""
    rules = config or PassesConfig()
    moment = now or utc_now()
    _check(request, rules, moment)
    compound_id, community_id = _compound_of_house(conn, request.house_id)
    pass_id = f"P-{uuid7()}"
    token = new_qr_token() if request.with_qr else None
    pin = _unique_pin(conn, compound_id, rules.pin_digits, moment) if request.with_pin else None
    secrets = [make_secret(CredentialKind.QR, token)] if token is not None else []
    if pin is not None:
        secrets.append(make_secret(CredentialKind.PIN, pin))
    name = request.visitor_name.strip()
    conn.execute(
        visitor_passes.insert().values(
            pass_id=pass_id,
            compound_id=compound_id,
            house_id=request.house_id,
            kind=request.kind.value,
            origin=PassOrigin.CENTRE.value,
            display_name=(request.display_name.strip() or gate_name(name))[:64],
            visitor_name=name[:64],
            phone=request.phone[:32],
            purpose=request.purpose[:200],
            valid_from=request.valid_from,
            valid_until=request.valid_until,
            max_uses=request.max_uses,
            gates=None if request.gates is None else json.dumps(list(request.gates)),
            schedule=None if request.schedule is None else request.schedule.model_dump_json(),
            secrets=json.dumps([s.model_dump(mode="json") for s in secrets]),
            issued_by=actor,
            issued_at=moment,
            revoked_at=None,
            revoked_by=None,
            revoke_reason="",
            edge_id=None,
            msg_id=None,
        )
    )
    record = get_pass(conn, pass_id)
    if record is None:  # pragma: no cover - inserted just above
        raise LookupError(pass_id)
    audit.record(
        conn,
        actor,
        audit.Action.CREATE,
        OBJECT_TYPE,
        pass_id,
        community_id=community_id,
        detail=f"{request.kind.value} pass for {request.house_id}",
    )
    updates = [
        queue_delta(conn, edge_id, passes=[edge_pass(record)])
        for edge_id in edges_of_compound(conn, compound_id)
    ]
    qr = qr_payload(pass_id, token) if token is not None else None
    return IssuedPass(record, qr, pin, updates)


def revoke_pass(
    conn: Connection, pass_id: str, actor: str, reason: str = "", now: datetime | None = None
) -> list[PassUpdate]:
    """Revoke a pass (idempotent: a second revocation changes nothing and sends nothing)."""
    record = get_pass(conn, pass_id)
    if record is None:
        raise PassRefused("pass_id", f"unknown pass {pass_id}")
    if record.revoked_at is not None:
        return []
    conn.execute(
        update(visitor_passes)
        .where(visitor_passes.c.pass_id == pass_id)
        .values(revoked_at=now or utc_now(), revoked_by=actor, revoke_reason=reason[:200])
    )
    _, community_id = _compound_of_house(conn, record.house_id)
    audit.record(
        conn,
        actor,
        audit.Action.UPDATE,
        OBJECT_TYPE,
        pass_id,
        community_id=community_id,
        detail=f"revoked: {reason}"[:500],
    )
    return [
        queue_delta(conn, edge_id, revoked=[pass_id])
        for edge_id in edges_of_compound(conn, record.compound_id)
    ]


def accept_walk_in(
    conn: Connection,
    message: WalkInPass,
    config: PassesConfig | None = None,
) -> WalkInOutcome:
    """Store a guard-room walk-in once by its pass id (a re-send is a no-op); the edge's other
    gates' edges, and the edge itself (which then stops keeping it pending), get a delta. The
    hub's rules (hub.passes.walk_ins) clip a window too long and answer a refused one with a
    revocation to the sending edge."""
    outcome = _store_walk_in(conn, message, config or PassesConfig())
    if outcome.refused:
        return WalkInOutcome(False, outcome.refused, tuple(walk_ins.undo_refused(conn, message)))
    return outcome


def _store_walk_in(conn: Connection, message: WalkInPass, config: PassesConfig) -> WalkInOutcome:
    compound_id = conn.scalar(
        select(edge_compounds.c.compound_id).where(edge_compounds.c.edge_id == message.edge_id)
    )
    visitor = message.visitor_pass
    if compound_id is None:
        return WalkInOutcome(False, "edge is not registered at the hub")
    if visitor.origin is not PassOrigin.GUARD_ROOM:
        return WalkInOutcome(False, "a walk-in pass has origin guard_room")
    try:
        house_compound, community_id = _compound_of_house(conn, visitor.house_id)
    except PassRefused:
        return WalkInOutcome(False, "unknown house")
    if house_compound != compound_id:
        return WalkInOutcome(False, "not a house of the edge's compound")
    existing = get_pass(conn, visitor.pass_id)
    if existing is not None:
        if existing.edge_id == message.edge_id:
            return WalkInOutcome(False)  # already stored: a re-send
        return WalkInOutcome(False, "pass id in use by another pass")
    kept = walk_ins.clipped(visitor, config)
    notes = [] if kept is visitor else [f"window clipped to {config.max_visitor_days} days"]
    conn.execute(
        visitor_passes.insert().values(
            pass_id=visitor.pass_id,
            compound_id=compound_id,
            house_id=visitor.house_id,
            kind=visitor.kind.value,
            origin=PassOrigin.GUARD_ROOM.value,
            display_name=visitor.display_name,
            visitor_name=message.visitor_name,
            phone=message.phone,
            purpose=message.purpose,
            valid_from=kept.valid_from,
            valid_until=kept.valid_until,
            max_uses=visitor.max_uses,
            gates=None if visitor.gates is None else json.dumps(visitor.gates),
            schedule=None if visitor.schedule is None else visitor.schedule.model_dump_json(),
            secrets=json.dumps([s.model_dump(mode="json") for s in visitor.secrets]),
            issued_by=f"guard:{message.registered_by}"[:80],
            issued_at=message.registered_at,
            revoked_at=None,
            revoked_by=None,
            revoke_reason="",
            edge_id=message.edge_id,
            msg_id=str(message.id),
        )
    )
    audit.record(
        conn,
        f"edge:{message.edge_id}",
        audit.Action.CREATE,
        OBJECT_TYPE,
        visitor.pass_id,
        community_id=community_id,
        detail="; ".join(
            [f"walk-in for {visitor.house_id} registered by {message.registered_by}", *notes]
        ),
    )
    updates = [
        queue_delta(conn, edge_id, passes=[kept])
        for edge_id in edges_of_compound(conn, str(compound_id))
    ]
    return WalkInOutcome(True, "", tuple(updates))


def _redact_walk_in_messages(conn: Connection, before: datetime) -> None:
    """The stored ``walk_in_pass`` messages of passes that go now keep only their digest: a
    re-send is still recognised, the visitor's name, phone and purpose are gone."""
    ended = select(visitor_passes.c.edge_id, visitor_passes.c.msg_id).where(
        visitor_passes.c.valid_until < before, visitor_passes.c.msg_id.is_not(None)
    )
    for edge_id, msg_id in conn.execute(ended).all():
        payload = conn.scalar(
            select(edge_messages.c.payload).where(
                edge_messages.c.edge_id == edge_id,
                edge_messages.c.msg_id == msg_id,
                edge_messages.c.kind == WalkInPass.KIND,
            )
        )
        if payload is None or str(payload).startswith('{"digest":'):
            continue
        conn.execute(
            update(edge_messages)
            .where(edge_messages.c.edge_id == edge_id, edge_messages.c.msg_id == msg_id)
            .values(payload=stripped(str(payload)))
        )


def purge(conn: Connection, before: datetime) -> int:
    """Forget passes that ended before ``before`` (name and phone with them, and the walk-in
    message that brought them) and acknowledged updates older than it; returns how many
    passes went."""
    _redact_walk_in_messages(conn, before)
    gone = conn.execute(delete(visitor_passes).where(visitor_passes.c.valid_until < before))
    conn.execute(
        delete(pass_outbox).where(
            pass_outbox.c.acked_at.is_not(None), pass_outbox.c.created_at < before
        )
    )
    return int(gone.rowcount or 0)


__all__ = [
    "IssuedPass",
    "PassRecord",
    "PassRefused",
    "PassRequest",
    "PassStatus",
    "PassesConfig",
    "WalkInOutcome",
    "accept_walk_in",
    "build_wanted",
    "due_for_resend",
    "edge_pass",
    "edges_of_compound",
    "edges_without_list",
    "get_pass",
    "issue_pass",
    "list_passes",
    "mark_sent",
    "on_pass_ack",
    "purge",
    "queue_delta",
    "queue_full_list",
    "revoke_pass",
]
