"""The roster as the hub sent it: residents, houses, consent, gate access, credential hashes,
care flags, enrolment invitations and alert suppressions. Never biometrics.

A roster update is applied in one transaction, so the gate sees the old roster or the new one.
A snapshot split in parts is staged part by part (``roster_parts``) and applied, all parts in
one transaction, when the last one has arrived; until then the old roster stays in force.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from edge_agent.errors import InvitationRefused, RosterRejected
from gridgate_wire import (
    AlertSuppression,
    CredentialKind,
    EnrolmentInvitation,
    RosterResident,
    RosterUpdate,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS roster_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS roster_parts (
    version INTEGER NOT NULL,
    part INTEGER NOT NULL,
    parts INTEGER NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (version, part)
);
CREATE TABLE IF NOT EXISTS residents (
    resident_id TEXT PRIMARY KEY,
    house_id TEXT NOT NULL,
    active INTEGER NOT NULL,
    consent_id TEXT,
    consent_version TEXT,
    gates TEXT,
    care_recipient INTEGER NOT NULL,
    house_label TEXT
);
CREATE TABLE IF NOT EXISTS credentials (
    kind TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    resident_id TEXT NOT NULL,
    PRIMARY KEY (kind, secret_sha256)
);
CREATE TABLE IF NOT EXISTS invitations (
    invitation_id TEXT PRIMARY KEY,
    resident_id TEXT NOT NULL,
    consent_id TEXT NOT NULL,
    code_sha256 TEXT NOT NULL UNIQUE,
    expires_at REAL NOT NULL,
    used_at REAL
);
CREATE TABLE IF NOT EXISTS quiet_windows (
    house_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    resident_id TEXT NOT NULL,  -- '' for the whole house
    until REAL NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (house_id, kind, resident_id)
);
"""


def secret_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ResidentAccess:
    resident_id: str
    house_id: str
    active: bool
    consent_id: str | None
    gates: tuple[str, ...] | None
    care_recipient: bool

    def may_pass(self, gate: str) -> bool:
        return self.active and (self.gates is None or gate in self.gates)


@dataclass(frozen=True, slots=True)
class RosterChange:
    version: int
    face_revoked: tuple[str, ...]  # removed, inactive, or consent withdrawn: erase templates
    pending: bool = False  # a snapshot part was staged; nothing applied (and nothing to ack)


@dataclass(frozen=True, slots=True)
class Invitation:
    invitation_id: str
    resident_id: str
    consent_id: str
    house_id: str | None


class RosterStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._upgrade()
        self._db.execute("INSERT OR IGNORE INTO roster_meta VALUES ('version', 0)")

    def _upgrade(self) -> None:
        """Bring a roster written by an older agent up to this schema, in place, keeping its
        rows (labels arrive with the next roster version that names the resident)."""
        columns = {str(row[1]) for row in self._db.execute("PRAGMA table_info(residents)")}
        if "house_label" not in columns:  # before the guard room showed house labels
            self._db.execute("ALTER TABLE residents ADD COLUMN house_label TEXT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @property
    def version(self) -> int:
        with self._lock:
            return int(
                self._db.execute("SELECT value FROM roster_meta WHERE key='version'").fetchone()[0]
            )

    def _staged(self, update: RosterUpdate) -> list[RosterResident] | None:
        """Stage one part of a split snapshot; every part's residents once all are in."""
        self._db.execute("DELETE FROM roster_parts WHERE version < ?", (update.roster_version,))
        self._db.execute(
            "INSERT OR REPLACE INTO roster_parts VALUES (?, ?, ?, ?)",
            (
                update.roster_version,
                update.part,
                update.parts,
                json.dumps([r.model_dump(mode="json") for r in update.residents]),
            ),
        )
        rows = self._db.execute(
            "SELECT part, payload FROM roster_parts WHERE version=? AND parts=? ORDER BY part",
            (update.roster_version, update.parts),
        ).fetchall()
        if len(rows) < update.parts:
            return None
        staged: list[RosterResident] = []
        for _, payload in rows:
            staged += [RosterResident.model_validate(item) for item in json.loads(payload)]
        return staged

    def apply(self, update: RosterUpdate) -> RosterChange:
        """Apply a full snapshot or a delta atomically; refuse a delta on the wrong base.
        A part of a split snapshot is staged; the last part applies them all."""
        with self._lock:
            current = int(
                self._db.execute("SELECT value FROM roster_meta WHERE key='version'").fetchone()[0]
            )
            if update.roster_version <= current:
                return RosterChange(current, ())  # already applied: idempotent
            entries: list[RosterResident] = list(update.residents)
            if update.parts > 1:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    staged = self._staged(update)
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                if staged is None:
                    return RosterChange(current, (), pending=True)
                entries = staged
            if update.base_version is not None and update.base_version != current:
                raise RosterRejected(
                    f"delta on version {update.base_version}, but this edge has {current}; "
                    "send a full roster"
                )
            before = {
                row[0]
                for row in self._db.execute(
                    "SELECT resident_id FROM residents WHERE active=1 AND consent_id IS NOT NULL"
                )
            }
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if update.base_version is None:
                    self._db.execute("DELETE FROM residents")
                    self._db.execute("DELETE FROM credentials")
                for resident_id in update.removed:
                    self._db.execute("DELETE FROM residents WHERE resident_id=?", (resident_id,))
                    self._db.execute("DELETE FROM credentials WHERE resident_id=?", (resident_id,))
                for resident in entries:
                    self._upsert(resident)
                self._db.execute(
                    "DELETE FROM roster_parts WHERE version <= ?", (update.roster_version,)
                )
                self._db.execute(
                    "UPDATE roster_meta SET value=? WHERE key='version'", (update.roster_version,)
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            after = {
                row[0]
                for row in self._db.execute(
                    "SELECT resident_id FROM residents WHERE active=1 AND consent_id IS NOT NULL"
                )
            }
        return RosterChange(update.roster_version, tuple(sorted(before - after)))

    def _upsert(self, r: RosterResident) -> None:
        consent = r.face_consent
        self._db.execute(
            "INSERT OR REPLACE INTO residents (resident_id, house_id, active, consent_id, "
            "consent_version, gates, care_recipient, house_label) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                r.resident_id,
                r.house_id,
                int(r.active),
                consent.consent_id if consent else None,
                consent.version if consent else None,
                json.dumps(r.gates) if r.gates is not None else None,
                int(r.care_recipient),
                r.house_label,
            ),
        )
        self._db.execute("DELETE FROM credentials WHERE resident_id=?", (r.resident_id,))
        for credential in r.credentials:
            self._db.execute(
                "INSERT OR REPLACE INTO credentials VALUES (?, ?, ?)",
                (credential.kind.value, credential.secret_sha256, r.resident_id),
            )

    def resident(self, resident_id: str) -> ResidentAccess | None:
        with self._lock:
            row = self._db.execute(
                "SELECT resident_id, house_id, active, consent_id, gates, care_recipient "
                "FROM residents WHERE resident_id=?",
                (resident_id,),
            ).fetchone()
        if row is None:
            return None
        gates = tuple(json.loads(row[4])) if row[4] is not None else None
        return ResidentAccess(row[0], row[1], bool(row[2]), row[3], gates, bool(row[5]))

    def by_credential(self, kind: CredentialKind, value: str) -> ResidentAccess | None:
        with self._lock:
            row = self._db.execute(
                "SELECT resident_id FROM credentials WHERE kind=? AND secret_sha256=?",
                (kind.value, secret_hash(value)),
            ).fetchone()
        return None if row is None else self.resident(str(row[0]))

    def residents(self) -> list[ResidentAccess]:
        with self._lock:
            ids = [r[0] for r in self._db.execute("SELECT resident_id FROM residents")]
        return [r for r in (self.resident(i) for i in ids) if r is not None]

    def house_labels(self) -> dict[str, str]:
        """Each house of the roster by its label; the id when the hub sent none."""
        with self._lock:
            rows = self._db.execute(
                "SELECT house_id, max(house_label) FROM residents GROUP BY house_id"
            ).fetchall()
        return {str(house): str(label or house) for house, label in rows}

    # ------------------------------------------------------------------ invitations

    def add_invitation(self, invitation: EnrolmentInvitation) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO invitations VALUES (?, ?, ?, ?, ?, NULL)",
                (
                    str(invitation.id),
                    invitation.resident_id,
                    invitation.consent_id,
                    invitation.code_sha256,
                    invitation.expires_at.timestamp(),
                ),
            )

    def redeem(self, code: str, now: datetime | None = None) -> Invitation:
        """Use a one-time code: refused when unknown, expired or already used."""
        moment = (now or datetime.now(UTC)).timestamp()
        with self._lock:
            row = self._db.execute(
                "SELECT invitation_id, resident_id, consent_id, expires_at, used_at "
                "FROM invitations WHERE code_sha256=?",
                (secret_hash(code),),
            ).fetchone()
            if row is None:
                raise InvitationRefused("unknown code")
            if row[4] is not None:
                raise InvitationRefused("code already used")
            if row[3] < moment:
                raise InvitationRefused("code expired")
            self._db.execute(
                "UPDATE invitations SET used_at=? WHERE invitation_id=?", (moment, row[0])
            )
        resident = self.resident(str(row[1]))
        return Invitation(
            str(row[0]), str(row[1]), str(row[2]), resident.house_id if resident else None
        )

    def is_invitation_code(self, code: str) -> bool:
        with self._lock:
            return (
                self._db.execute(
                    "SELECT 1 FROM invitations WHERE code_sha256=?", (secret_hash(code),)
                ).fetchone()
                is not None
            )

    # ------------------------------------------------------------------ suppressions

    def add_suppression(self, suppression: AlertSuppression) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO quiet_windows VALUES (?, ?, ?, ?, ?)",
                (
                    suppression.house_id,
                    suppression.kind.value,
                    suppression.resident_id or "",
                    suppression.until.timestamp(),
                    suppression.reason.value,
                ),
            )

    def suppressed_until(
        self, house_id: str, kind: str, resident_id: str | None = None
    ) -> tuple[float, str] | None:
        """The latest quiet window over this resident (or the whole house): (until, reason)."""
        with self._lock:
            row = self._db.execute(
                "SELECT until, reason FROM quiet_windows WHERE house_id=? AND kind=? "
                "AND resident_id IN ('', ?) ORDER BY until DESC LIMIT 1",
                (house_id, kind, resident_id or ""),
            ).fetchone()
        return None if row is None else (float(row[0]), str(row[1]))
