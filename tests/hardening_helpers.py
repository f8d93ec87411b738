"""Messages and an in-process ingest rig for the issue 14 tests (real database, no broker)."""

from __future__ import annotations

import itertools
import json
from typing import Any

from sqlalchemy import Engine, func, select

from gridgate_core.mqtt import Incoming
from gridgate_wire import (
    Channel,
    EdgeAlert,
    EdgeEvent,
    EdgeStatus,
    EnrolmentConfirmation,
    ErasureConfirmation,
    Message,
    RosterAck,
    edge_topic,
    encode,
    new_fields,
    utc_now,
)
from gridgate_wire.uuid7 import uuid7
from hub.ingest import Ingestor
from hub.store.schema import dead_letters, edge_messages

_MIDS = itertools.count(1)
CHANNEL_OF = {
    "edge_event": Channel.EVENT,
    "edge_alert": Channel.ALERT,
    "edge_status": Channel.STATUS,
    "roster_ack": Channel.ROSTER_ACK,
    "enrolment_confirmation": Channel.ENROLMENT,
    "erasure_confirmation": Channel.ERASURE,
}


def incoming(topic: str, payload: bytes) -> Incoming:
    return Incoming(topic=topic, payload=payload, qos=1, retain=False, mid=next(_MIDS))


def of(message: Message) -> Incoming:
    edge_id = str(getattr(message, "edge_id"))  # noqa: B009 - every edge message has one
    return incoming(edge_topic(edge_id, CHANNEL_OF[message.KIND]), encode(message))


def raw(edge_id: str, kind: str, body: dict[str, Any]) -> Incoming:
    return incoming(edge_topic(edge_id, CHANNEL_OF[kind]), json.dumps(body).encode())


def event(edge_id: str, seq: int, **fields: Any) -> EdgeEvent:
    now = utc_now()
    base: dict[str, Any] = {
        **new_fields(),
        "edge_id": edge_id,
        "seq": seq,
        "occurred_at": now,
        "gate": "north",
        "direction": "in",
        "method": "card",
        "subject": "resident",
        "decision": "grant",
    }
    return EdgeEvent.model_validate({**base, **fields})


def alert(edge_id: str, seq: int, compound: str, house: str | None, **fields: Any) -> EdgeAlert:
    return EdgeAlert.model_validate(
        {
            **new_fields(),
            "edge_id": edge_id,
            "seq": seq,
            "kind": "vacancy",
            "compound_id": compound,
            "house_id": house,
            "detected_at": utc_now(),
            "confidence": 0.9,
            "evidence": {},
            **fields,
        }
    )


def status(edge_id: str, seq: int = 0, **fields: Any) -> EdgeStatus:
    return EdgeStatus.model_validate(
        {
            **new_fields(),
            "edge_id": edge_id,
            "seq": seq,
            "state": "online",
            "software": "test",
            **fields,
        }
    )


def roster_ack(edge_id: str, seq: int, version: int = 1) -> RosterAck:
    return RosterAck.model_validate(
        {**new_fields(), "edge_id": edge_id, "seq": seq, "roster_version": version, "applied": True}
    )


def enrolment(edge_id: str, seq: int, resident: str) -> EnrolmentConfirmation:
    return EnrolmentConfirmation.model_validate(
        {
            **new_fields(),
            "edge_id": edge_id,
            "seq": seq,
            "invitation_id": uuid7(),
            "resident_id": resident,
            "consent_id": "C-1",
            "status": "enrolled",
            "templates": 3,
        }
    )


def erasure(edge_id: str, seq: int, resident: str) -> ErasureConfirmation:
    return ErasureConfirmation.model_validate(
        {
            **new_fields(),
            "edge_id": edge_id,
            "seq": seq,
            "resident_id": resident,
            "templates_deleted": 2,
            "deleted_at": utc_now(),
        }
    )


def stored_ids(engine: Engine, edge_id: str | None = None) -> list[str]:
    query = select(edge_messages.c.msg_id)
    if edge_id is not None:
        query = query.where(edge_messages.c.edge_id == edge_id)
    with engine.connect() as conn:
        return [str(i) for i in conn.scalars(query)]


def dead(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(dead_letters).order_by(dead_letters.c.pk)))


def dead_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(dead_letters)) or 0)


def ingest(engine: Engine, items: list[Incoming], **options: Any) -> Ingestor:
    """Run the hub's ingest writer over ``items`` as one batch, in this thread."""
    ingestor = Ingestor(engine, **options)
    ingestor._process(items)
    return ingestor
