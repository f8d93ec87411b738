"""Full roster snapshots: built in three queries, split into messages the broker accepts.

A compound of 200,000 residents is one version in ``parts`` messages of at most
``PART_BYTES`` each (and at most ``PART_RESIDENTS`` residents); the edge stages the parts and
applies the whole snapshot in one transaction once the last one is in. Snapshots an edge asks
for (by refusing a delta) are built by the hub's duties, never inside ingest.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, select

from gridgate_wire import (
    RosterConsent,
    RosterCredential,
    RosterResident,
    RosterUpdate,
    new_fields,
)
from hub.store.db import as_utc
from hub.store.schema import (
    CURRENT_FACE_CONSENT,
    consents,
    edge_compounds,
    houses,
    resident_credentials,
    residents,
)

PART_RESIDENTS = 20_000
# Well under RosterUpdate.MAX_BYTES (8 MiB): room for the envelope and for JSON escaping.
PART_BYTES = 6 * 1024 * 1024
_ENVELOPE = 512


def house_label(address: str | None) -> str | None:
    """The registry's address as the roster's house label (the guard room shows it)."""
    label = (address or "").strip()[:200]
    return label or None


def snapshot_residents(conn: Connection, compound_id: str) -> list[RosterResident]:
    """Every active resident of the compound as the edge sees them, in three queries."""
    in_compound = (
        select(residents.c.resident_id)
        .join(houses, houses.c.house_id == residents.c.house_id)
        .where(houses.c.compound_id == compound_id, residents.c.active.is_(True))
    )
    consent_of: dict[str, RosterConsent] = {}
    for row in conn.execute(
        select(consents)
        .where(CURRENT_FACE_CONSENT, consents.c.resident_id.in_(in_compound.scalar_subquery()))
        .order_by(consents.c.granted_at)
    ):
        # Ordered oldest first: the newest consent in force wins, as for a single resident.
        consent_of[str(row.resident_id)] = RosterConsent(
            consent_id=row.consent_id,
            version=row.version,
            granted_at=as_utc(row.granted_at),
            guardian_id=row.guardian_id,
        )
    credentials_of: dict[str, list[RosterCredential]] = defaultdict(list)
    for row in conn.execute(
        select(resident_credentials).where(
            resident_credentials.c.resident_id.in_(in_compound.scalar_subquery())
        )
    ):
        credentials_of[str(row.resident_id)].append(
            RosterCredential(kind=row.kind, secret_sha256=row.secret_sha256)
        )
    return [
        RosterResident(
            resident_id=row.resident_id,
            house_id=row.house_id,
            house_label=house_label(row.address),
            active=row.active,
            care_recipient=row.care_recipient,
            credentials=credentials_of.get(str(row.resident_id), [])[:16],
            face_consent=consent_of.get(str(row.resident_id)),
        )
        for row in conn.execute(
            select(residents, houses.c.address)
            .join(houses, houses.c.house_id == residents.c.house_id)
            .where(houses.c.compound_id == compound_id, residents.c.active.is_(True))
            .order_by(residents.c.resident_id)
        )
    ]


def split(entries: list[RosterResident]) -> list[list[RosterResident]]:
    """Consecutive groups of residents, each small enough for one roster message."""
    groups: list[list[RosterResident]] = [[]]
    size = _ENVELOPE
    for entry in entries:
        length = len(entry.model_dump_json()) + 1
        if groups[-1] and (size + length > PART_BYTES or len(groups[-1]) >= PART_RESIDENTS):
            groups.append([])
            size = _ENVELOPE
        groups[-1].append(entry)
        size += length
    return groups


def build(conn: Connection, edge_id: str, version: int) -> list[RosterUpdate]:
    """The edge's compound as snapshot version ``version``, in as many parts as it needs."""
    compound_id = conn.scalar(
        select(edge_compounds.c.compound_id).where(edge_compounds.c.edge_id == edge_id)
    )
    groups = split(snapshot_residents(conn, str(compound_id)))
    return [
        RosterUpdate(
            **new_fields(),
            edge_id=edge_id,
            roster_version=version,
            residents=group,
            part=index,
            parts=len(groups),
        )
        for index, group in enumerate(groups, start=1)
    ]
