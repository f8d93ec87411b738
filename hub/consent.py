"""Face consent: record it, withdraw it, and invite the resident to enrol with a one-time code.

The one place where a consent is written, so the API's consent route and a new occupant's
outcome record it the same way; what counts as a *current* face consent is
``hub.store.schema.CURRENT_FACE_CONSENT``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update

from gridgate_wire import EnrolmentInvitation, Message, new_fields, uuid7
from hub.store.schema import CURRENT_FACE_CONSENT, consents, invitations, residents
from hub.sync import edges_of_house, queue_resident_change

INVITATION_VALID = timedelta(days=14)


@dataclass(frozen=True)
class Grant:
    """A recorded consent; ``code`` is shown once and only its sha256 is stored."""

    consent_id: str
    code: str
    to_edges: list[Message]  # roster updates first, then one invitation per edge
    invited_edges: int
    expires_at: datetime


def withdraw_face(conn: Connection, resident_id: str, now: datetime) -> int:
    """Mark the resident's current face consent withdrawn; returns how many were."""
    return int(
        conn.execute(
            update(consents)
            .where(consents.c.resident_id == resident_id, CURRENT_FACE_CONSENT)
            .values(withdrawn_at=now)
        ).rowcount
    )


def grant_face(
    conn: Connection,
    resident_id: str,
    version: str,
    guardian_id: str | None,
    actor: str,
    now: datetime,
) -> Grant:
    """Record a face consent (replacing any current one), update the edges' roster and invite
    the resident to enrol at a gate of their compound."""
    withdraw_face(conn, resident_id, now)
    consent_id = f"C-{uuid7().hex[-12:]}"
    conn.execute(
        consents.insert().values(
            consent_id=consent_id,
            resident_id=resident_id,
            purpose="face",
            version=version,
            granted_at=now,
            guardian_id=guardian_id,
            withdrawn_at=None,
            recorded_by=actor,
        )
    )
    rosters = queue_resident_change(conn, resident_id)
    code = f"{secrets.randbelow(10**8):08d}"
    invited = invite(conn, resident_id, consent_id, code, now)
    return Grant(consent_id, code, [*rosters, *invited], len(invited), now + INVITATION_VALID)


def reissue(conn: Connection, resident_id: str, now: datetime) -> Grant | None:
    """A new one-time code for the resident's current face consent (the earlier code was lost
    or expired); earlier unused invitations are marked replaced. None without a consent."""
    consent_id = conn.scalar(
        select(consents.c.consent_id).where(
            consents.c.resident_id == resident_id, CURRENT_FACE_CONSENT
        )
    )
    if consent_id is None:
        return None
    conn.execute(
        update(invitations)
        .where(invitations.c.resident_id == resident_id, invitations.c.status == "sent")
        .values(status="replaced", reason="a new code was issued")
    )
    code = f"{secrets.randbelow(10**8):08d}"
    invited = invite(conn, resident_id, str(consent_id), code, now)
    return Grant(str(consent_id), code, list(invited), len(invited), now + INVITATION_VALID)


def invite(
    conn: Connection, resident_id: str, consent_id: str, code: str, now: datetime
) -> list[Message]:
    """One invitation per edge of the resident's compound; the code itself is not stored."""
    house_id = conn.scalar(
        select(residents.c.house_id).where(residents.c.resident_id == resident_id)
    )
    digest = hashlib.sha256(code.encode()).hexdigest()
    messages: list[Message] = []
    for edge_id in edges_of_house(conn, str(house_id)):
        message = EnrolmentInvitation(
            **new_fields(),
            edge_id=edge_id,
            resident_id=resident_id,
            consent_id=consent_id,
            code_sha256=digest,
            expires_at=now + INVITATION_VALID,
        )
        conn.execute(
            invitations.insert().values(
                invitation_id=str(message.id),
                resident_id=resident_id,
                consent_id=consent_id,
                code_sha256=digest,
                created_at=now,
                expires_at=message.expires_at,
                status="sent",
                reason="",
            )
        )
        messages.append(message)
    return messages
