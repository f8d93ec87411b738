"""Roster, resident and invitation messages as the hub would send them (wire only: no OpenCV,
no edge, so hub-side tests can use them)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from gridgate_wire import (
    CredentialKind,
    EnrolmentInvitation,
    RosterConsent,
    RosterCredential,
    RosterResident,
    RosterUpdate,
    new_fields,
    utc_now,
)


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def resident(
    resident_id: str,
    house_id: str,
    *,
    consent: bool = True,
    gates: list[str] | None = None,
    card: str | None = None,
    pin: str | None = None,
    care: bool = False,
    label: str | None = None,
) -> RosterResident:
    credentials = []
    if card:
        credentials.append(RosterCredential(kind=CredentialKind.CARD, secret_sha256=sha(card)))
    if pin:
        credentials.append(RosterCredential(kind=CredentialKind.PIN, secret_sha256=sha(pin)))
    return RosterResident(
        resident_id=resident_id,
        house_id=house_id,
        house_label=label,
        face_consent=(
            RosterConsent(consent_id=f"C-{resident_id}", version="2026.1", granted_at=utc_now())
            if consent
            else None
        ),
        gates=gates,
        credentials=credentials,
        care_recipient=care,
    )


def roster(
    edge_id: str,
    version: int,
    residents: list[RosterResident],
    removed: list[str] | None = None,
    base: int | None = None,
) -> RosterUpdate:
    return RosterUpdate(
        **new_fields(),
        edge_id=edge_id,
        roster_version=version,
        base_version=base,
        residents=residents,
        removed=removed or [],
    )


def invitation(edge_id: str, resident_id: str, code: str, days: float = 1) -> EnrolmentInvitation:
    return EnrolmentInvitation(
        **new_fields(),
        edge_id=edge_id,
        resident_id=resident_id,
        consent_id=f"C-{resident_id}",
        code_sha256=sha(code),
        expires_at=utc_now() + timedelta(days=days),
    )
