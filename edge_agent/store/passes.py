"""Visitor passes as the edge holds them: the hub's versioned pass list, and walk-ins.

A pass update is applied in one transaction, like the roster (:mod:`edge_agent.store.roster`):
an older or equal version changes nothing (a re-send is harmless), a delta on another base is
refused (the hub then sends a full list). Uses are counted here, atomically, and survive updates:
the hub's list says how many entries a pass allows, this store how many it has had. A walk-in the
guard room registered is ``pending`` until the hub knows it (it arrives back in a pass update,
or phase 2's runtime calls :meth:`PassStore.acknowledge_walk_ins` on the hub's ack), and a full
list never removes a pending walk-in. Revoked passes stay as tombstones until they expire, so the
gate can say "revoked" rather than "unknown". Secrets are stored salted and hashed only.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gridgate_wire import CredentialKind, EdgePass, PassOrigin, PassUpdate

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pass_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS passes (
    pass_id TEXT PRIMARY KEY,
    house_id TEXT NOT NULL,
    origin TEXT NOT NULL,
    valid_from REAL NOT NULL,
    valid_until REAL NOT NULL,
    max_uses INTEGER,
    payload TEXT NOT NULL,
    revoked_at REAL,
    pending INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ix_passes_house ON passes (house_id);
CREATE TABLE IF NOT EXISTS pass_secrets (
    pass_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (pass_id, kind)
);
CREATE INDEX IF NOT EXISTS ix_pass_secrets_kind ON pass_secrets (kind);
CREATE TABLE IF NOT EXISTS pass_uses (
    pass_id TEXT PRIMARY KEY,
    uses INTEGER NOT NULL,
    last_used_at REAL
);
"""


@dataclass(frozen=True, slots=True)
class StoredPass:
    edge_pass: EdgePass
    uses: int
    revoked_at: datetime | None
    pending: bool  # a walk-in the hub does not know yet

    @property
    def pass_id(self) -> str:
        return self.edge_pass.pass_id

    @property
    def uses_left(self) -> int | None:
        limit = self.edge_pass.max_uses
        return None if limit is None else max(0, limit - self.uses)


@dataclass(frozen=True, slots=True)
class PassChange:
    version: int
    applied: bool  # False: the version was applied before (nothing changed)
    revoked: tuple[str, ...] = ()


def _ts(value: datetime) -> float:
    return value.timestamp()


def _time(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


class PassStore:
    """SQLite store of passes; one connection, serialised by a lock (like the roster)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._db.execute("INSERT OR IGNORE INTO pass_meta VALUES ('version', 0)")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _version(self) -> int:
        row = self._db.execute("SELECT value FROM pass_meta WHERE key='version'").fetchone()
        return int(row[0])

    @property
    def version(self) -> int:
        with self._lock:
            return self._version()

    def apply(self, update: PassUpdate) -> PassChange:
        """Apply a full list or a delta atomically. Raises ValueError for a delta on another
        base version (answer with a refusing ``pass_ack``: the hub sends a full list)."""
        with self._lock:
            current = self._version()
            if update.pass_version <= current:
                return PassChange(current, applied=False)
            if update.base_version is not None and update.base_version != current:
                raise ValueError(
                    f"delta on pass version {update.base_version}, but this edge has {current}; "
                    "send a full pass list"
                )
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if update.base_version is None:
                    # Revoked ones stay as tombstones, so the gate can still say "revoked".
                    keep = [p.pass_id for p in update.passes] + list(update.revoked)
                    marks = ",".join("?" * len(keep)) or "''"
                    self._db.execute(
                        f"DELETE FROM passes WHERE pending=0 AND pass_id NOT IN ({marks})",  # noqa: S608
                        keep,
                    )
                    self._db.execute(
                        "DELETE FROM pass_secrets WHERE pass_id NOT IN (SELECT pass_id FROM passes)"
                    )
                for edge_pass in update.passes:
                    self._upsert(edge_pass, pending=False)
                now = datetime.now(UTC).timestamp()
                for pass_id in update.revoked:
                    self._db.execute(
                        "UPDATE passes SET revoked_at=COALESCE(revoked_at, ?) WHERE pass_id=?",
                        (now, pass_id),
                    )
                self._db.execute(
                    "UPDATE pass_meta SET value=? WHERE key='version'", (update.pass_version,)
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return PassChange(update.pass_version, applied=True, revoked=tuple(update.revoked))

    def _upsert(self, edge_pass: EdgePass, *, pending: bool) -> None:
        revoked = self._db.execute(
            "SELECT revoked_at FROM passes WHERE pass_id=?", (edge_pass.pass_id,)
        ).fetchone()
        self._db.execute(
            "INSERT OR REPLACE INTO passes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                edge_pass.pass_id,
                edge_pass.house_id,
                edge_pass.origin.value,
                _ts(edge_pass.valid_from),
                _ts(edge_pass.valid_until),
                edge_pass.max_uses,
                edge_pass.model_dump_json(),
                revoked[0] if revoked else None,  # a revocation is final
                int(pending),
            ),
        )
        self._db.execute("DELETE FROM pass_secrets WHERE pass_id=?", (edge_pass.pass_id,))
        self._db.executemany(
            "INSERT INTO pass_secrets VALUES (?, ?)",
            [(edge_pass.pass_id, s.kind.value) for s in edge_pass.secrets],
        )
        self._db.execute(
            "INSERT OR IGNORE INTO pass_uses VALUES (?, 0, NULL)", (edge_pass.pass_id,)
        )

    # ------------------------------------------------------------------ walk-ins

    def register_walk_in(self, edge_pass: EdgePass) -> StoredPass:
        """Keep a pass the guard room issued, pending until the hub acknowledges it."""
        if edge_pass.origin is not PassOrigin.GUARD_ROOM:
            raise ValueError("a walk-in pass has origin guard_room")
        with self._lock:
            if self._db.execute(
                "SELECT 1 FROM passes WHERE pass_id=?", (edge_pass.pass_id,)
            ).fetchone():
                raise ValueError(f"pass {edge_pass.pass_id} exists already")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._upsert(edge_pass, pending=True)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        found = self.get(edge_pass.pass_id)
        if found is None:  # pragma: no cover - written just above
            raise LookupError(edge_pass.pass_id)
        return found

    def acknowledge_walk_ins(self, pass_ids: Iterable[str]) -> int:
        """The hub stored these walk-ins; returns how many stopped being pending."""
        with self._lock:
            changed = 0
            for pass_id in pass_ids:
                changed += self._db.execute(
                    "UPDATE passes SET pending=0 WHERE pass_id=? AND pending=1", (pass_id,)
                ).rowcount
            return changed

    def pending_walk_ins(self) -> list[StoredPass]:
        return self._select("WHERE p.pending=1")

    # ------------------------------------------------------------------ reads

    def _select(self, where: str, params: tuple[object, ...] = ()) -> list[StoredPass]:
        with self._lock:
            rows = self._db.execute(
                "SELECT p.payload, COALESCE(u.uses, 0), p.revoked_at, p.pending "  # noqa: S608
                f"FROM passes p LEFT JOIN pass_uses u ON u.pass_id = p.pass_id {where} "
                "ORDER BY p.valid_from, p.pass_id",
                params,
            ).fetchall()
        return [
            StoredPass(
                EdgePass.model_validate_json(row[0]), int(row[1]), _time(row[2]), bool(row[3])
            )
            for row in rows
        ]

    def get(self, pass_id: str) -> StoredPass | None:
        found = self._select("WHERE p.pass_id=?", (pass_id,))
        return found[0] if found else None

    def with_secret(self, kind: CredentialKind) -> list[StoredPass]:
        """Every pass holding a credential of ``kind`` (revoked ones too, to say so)."""
        return self._select(
            "WHERE p.pass_id IN (SELECT pass_id FROM pass_secrets WHERE kind=?)", (kind.value,)
        )

    def for_house(self, house_id: str) -> list[StoredPass]:
        return self._select("WHERE p.house_id=?", (house_id,))

    def valid_between(self, first: datetime, last: datetime) -> list[StoredPass]:
        """Passes whose window overlaps [first, last] (the guard room's "today")."""
        return self._select(
            "WHERE p.valid_from <= ? AND p.valid_until >= ?", (_ts(last), _ts(first))
        )

    def all(self) -> list[StoredPass]:
        return self._select("")

    # ------------------------------------------------------------------ uses

    def use(self, pass_id: str, at: datetime) -> bool:
        """Count one use if the pass has uses left; False when used up (or unknown). One
        UPDATE, so two gates presenting the last use at once admit only one."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE pass_uses SET uses = uses + 1, last_used_at = ? WHERE pass_id = ? AND uses "
                "< COALESCE((SELECT max_uses FROM passes WHERE pass_id = ?), 9223372036854775807)",
                (_ts(at), pass_id, pass_id),
            )
            return cursor.rowcount == 1

    def purge_expired(self, before: datetime) -> int:
        """Drop passes that ended before ``before`` (not pending walk-ins); returns how many."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                gone = self._db.execute(
                    "DELETE FROM passes WHERE valid_until < ? AND pending=0", (_ts(before),)
                ).rowcount
                for table in ("pass_secrets", "pass_uses"):
                    self._db.execute(
                        f"DELETE FROM {table} WHERE pass_id NOT IN (SELECT pass_id FROM passes)"  # noqa: S608
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return gone
