"""Privacy counters from the edges' own confirmations.

The hub never holds a face template. It counts who has templates where, from enrolment and
erasure confirmations, so the operator knows how many people's biometric data the whole system
holds, with a warning as that nears the scale the deployment was approved for.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, select, update

from gridgate_wire import EnrolmentConfirmation, EnrolmentStatus, ErasureConfirmation
from hub.store.db import insert_ignoring_duplicates
from hub.store.schema import erasures, face_templates, invitations

_LOGGER = logging.getLogger(__name__)

TEMPLATE_PEOPLE_LIMIT = 100_000
WARN_AT = 0.9


@dataclass(frozen=True)
class TemplateCounts:
    people: int
    edges: int
    templates: int
    limit: int
    warning: str


def on_enrolment(conn: Connection, message: EnrolmentConfirmation) -> None:
    conn.execute(
        update(invitations)
        .where(invitations.c.invitation_id == str(message.invitation_id))
        .values(status=message.status.value, reason=message.reason[:200])
    )
    if message.status is not EnrolmentStatus.ENROLLED:
        return
    conn.execute(
        delete(face_templates).where(
            face_templates.c.edge_id == message.edge_id,
            face_templates.c.resident_id == message.resident_id,
        )
    )
    conn.execute(
        face_templates.insert().values(
            edge_id=message.edge_id,
            resident_id=message.resident_id,
            templates=message.templates,
            enrolled_at=message.ts,
        )
    )


def on_erasure(conn: Connection, message: ErasureConfirmation) -> None:
    conn.execute(
        insert_ignoring_duplicates(conn.engine, erasures).values(
            edge_id=message.edge_id,
            msg_id=str(message.id),
            resident_id=message.resident_id,
            templates_deleted=message.templates_deleted,
            deleted_at=message.deleted_at,
        )
    )
    conn.execute(
        delete(face_templates).where(
            face_templates.c.edge_id == message.edge_id,
            face_templates.c.resident_id == message.resident_id,
        )
    )


def template_counts(conn: Connection, limit: int = TEMPLATE_PEOPLE_LIMIT) -> TemplateCounts:
    people = int(conn.scalar(select(func.count(func.distinct(face_templates.c.resident_id)))) or 0)
    edges = int(conn.scalar(select(func.count(func.distinct(face_templates.c.edge_id)))) or 0)
    templates = int(
        conn.scalar(select(func.coalesce(func.sum(face_templates.c.templates), 0))) or 0
    )
    warning = ""
    if people >= limit:
        warning = f"{people} people have face templates: at or over the limit of {limit}"
    elif people >= WARN_AT * limit:
        warning = f"{people} people have face templates: nearing the limit of {limit}"
    if warning:
        _LOGGER.warning("%s", warning)
    return TemplateCounts(people, edges, templates, limit, warning)
