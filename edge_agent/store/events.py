"""The event store: every passage and every message for the hub, with its outbox row.

One SQLite file in WAL mode with ``synchronous=FULL``: a passage is committed together with its
outbox row and its sequence number in one transaction, so a crash or power cut at any point
loses no committed event and never leaves an event without its outbox row (or the reverse).

Outbox rows are deleted only when the hub's application ack names them.

The store has an identity, its ``epoch``, written when the file is created and sent in every
message: an emptied or replaced store starts a new epoch (and ``seq`` again from 1), which the
hub notices instead of taking the new numbers for re-sends. A store SQLite cannot open is set
aside (renamed, never deleted) and a new one started, so the gate keeps recording passages;
``set_aside`` says where the old file went, for the alarm.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from edge_agent.store.rows import EVENT_COLUMNS, EventRow, OutboxRow, Passage
from gridgate_wire import EdgeEvent, EdgeMessage, encode, new_fields
from gridgate_wire.topics import Channel, edge_topic
from gridgate_wire.uuid7 import uuid7

_LOGGER = logging.getLogger(__name__)

M = TypeVar("M", bound=EdgeMessage)

SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    occurred_at REAL NOT NULL,
    gate TEXT NOT NULL,
    lane INTEGER NOT NULL,
    direction TEXT NOT NULL,
    method TEXT NOT NULL,
    subject TEXT NOT NULL,
    resident_id TEXT,
    stranger_id TEXT,
    house_id TEXT,
    score REAL,
    quality REAL,
    decision TEXT NOT NULL,
    reason TEXT NOT NULL,
    tailgating INTEGER NOT NULL,
    pass_id TEXT
);
CREATE INDEX IF NOT EXISTS events_time ON events (occurred_at);
CREATE TABLE IF NOT EXISTS seen_commands (
    command_id TEXT PRIMARY KEY,
    seen_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    msg_id TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_at REAL NOT NULL
);
"""


class EventStore:
    """Thread-safe access to the edge's SQLite store (one connection, one lock)."""

    def __init__(self, path: Path, edge_id: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.edge_id = edge_id
        self._lock = threading.Lock()
        self.set_aside: Path | None = None
        try:
            self._db = self._open(path)
        except sqlite3.DatabaseError as exc:
            self.set_aside = self._set_aside(path, exc)
            self._db = self._open(path)
        self.epoch = str(
            self._db.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()[0]
        )

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA busy_timeout=5000")
            db.executescript(_SCHEMA)
            EventStore._upgrade(db)
            # A UUID with dashes: text SQLite never mistakes for a number in this column.
            db.execute(
                "INSERT OR IGNORE INTO meta (key, value) "
                "VALUES ('schema', ?), ('seq', 0), ('epoch', ?)",
                (SCHEMA_VERSION, str(uuid7())),
            )
            db.execute("SELECT count(*) FROM outbox").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    @staticmethod
    def _upgrade(db: sqlite3.Connection) -> None:
        """Bring a store written by an older agent up to this schema, in place, keeping its rows."""
        columns = {str(row[1]) for row in db.execute("PRAGMA table_info(events)")}
        if "pass_id" not in columns:  # schema 1: before visitor passes
            db.execute("ALTER TABLE events ADD COLUMN pass_id TEXT")
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (SCHEMA_VERSION,))

    @staticmethod
    def _set_aside(path: Path, exc: sqlite3.DatabaseError) -> Path:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        target = path.with_name(f"{path.name}.corrupt-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            part = path.with_name(path.name + suffix)
            if part.exists():
                part.rename(target.with_name(target.name + suffix))
        _LOGGER.error("EVENT STORE %s CANNOT BE OPENED (%s): set aside as %s", path, exc, target)
        return target

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ---------------------------------------------------------------- writing

    def _next_seq(self) -> int:
        row = self._db.execute(
            "UPDATE meta SET value = value + 1 WHERE key = 'seq' RETURNING value"
        ).fetchone()
        return int(row[0])

    def append(self, channel: Channel, build: Callable[[dict[str, object]], M]) -> M:
        """Commit one message with its outbox row (passages: :meth:`append_passage`).

        ``build`` receives the common fields (id, ts, edge_id, seq, epoch) and returns the
        message; it runs inside the transaction so the sequence number is never skipped.
        """
        return self._append(channel, build, None)

    def append_passage(self, passage: Passage) -> EdgeEvent:
        """Commit one passage: its event row, its outbox row and its sequence number."""
        return self._append(Channel.EVENT, passage.event, passage)

    def _append(
        self, channel: Channel, build: Callable[[dict[str, object]], M], passage: Passage | None
    ) -> M:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                seq = self._next_seq()
                message = build(
                    {**new_fields(), "edge_id": self.edge_id, "seq": seq, "epoch": self.epoch}
                )
                if isinstance(message, EdgeEvent):
                    self._insert_event(message, passage.stranger_id if passage else None)
                self._db.execute(
                    "INSERT INTO outbox (seq, msg_id, topic, payload, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        seq,
                        str(message.id),
                        edge_topic(self.edge_id, channel),
                        encode(message),
                        message.ts.timestamp(),
                    ),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return message

    def _insert_event(self, event: EdgeEvent, stranger_id: str | None) -> None:
        self._db.execute(
            "INSERT INTO events (id, seq, occurred_at, gate, lane, direction, method, subject, "
            "resident_id, stranger_id, house_id, score, quality, decision, reason, tailgating, "
            "pass_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                str(event.id),
                event.seq,
                event.occurred_at.timestamp(),
                event.gate,
                event.lane,
                event.direction.value,
                event.method.value,
                event.subject.value,
                event.resident_id,
                stranger_id,
                event.house_id,
                event.score,
                event.quality,
                event.decision.value,
                event.reason,
                int(event.tailgating),
                event.pass_id,
            ),
        )

    def events_after(self, seq: int, limit: int = 10_000) -> list[EventRow]:
        """Passages with a sequence number above ``seq``, oldest first (for the analyser)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?",  # noqa: S608 - constant column list
                (seq, limit),
            ).fetchall()
        return [EventRow.from_sql(row) for row in rows]

    def latest_events(self, limit: int) -> list[EventRow]:
        """The newest ``limit`` passages, newest first (the guard room's live list)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {EVENT_COLUMNS} FROM events ORDER BY seq DESC LIMIT ?",  # noqa: S608 - constant column list
                (limit,),
            ).fetchall()
        return [EventRow.from_sql(row) for row in rows]

    def insert_events(self, events: list[EventRow]) -> None:
        """Bulk-load passages without outbox rows (the simulator feeding the analyser)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    f"INSERT INTO events ({EVENT_COLUMNS}) VALUES "  # noqa: S608 - constant
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [e.to_sql() for e in events],
                )
                top = max((e.seq for e in events), default=0)
                self._db.execute("UPDATE meta SET value = max(value, ?) WHERE key = 'seq'", (top,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # ---------------------------------------------------------------- outbox

    def outbox_after(self, seq: int, limit: int) -> list[OutboxRow]:
        """Oldest outbox rows with a sequence number above ``seq``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, msg_id, topic, payload FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, limit),
            ).fetchall()
        return [OutboxRow(int(r[0]), str(r[1]), str(r[2]), bytes(r[3])) for r in rows]

    def acknowledge(self, msg_ids: Iterable[str]) -> int:
        """Delete outbox rows the hub has committed; returns how many were still there."""
        ids = [(m,) for m in msg_ids]
        if not ids:
            return 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                before = self._db.total_changes
                self._db.executemany("DELETE FROM outbox WHERE msg_id = ?", ids)
                deleted = self._db.total_changes - before
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return deleted

    def outbox_depth(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def last_seq(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()
        return int(row[0])

    def size_bytes(self) -> int:
        with self._lock:
            pages = self._db.execute("PRAGMA page_count").fetchone()[0]
            size = self._db.execute("PRAGMA page_size").fetchone()[0]
        wal = self.path.with_name(self.path.name + "-wal")
        return int(pages) * int(size) + (wal.stat().st_size if wal.exists() else 0)

    def first_sight(self, command_id: str, keep_s: float = 86_400.0) -> bool:
        """Remember a hub command id (a remote unlock); False when it was seen before, also
        before a restart. Ids older than ``keep_s`` are forgotten (their commands expired)."""
        now = time.time()
        with self._lock:
            self._db.execute("DELETE FROM seen_commands WHERE seen_at < ?", (now - keep_s,))
            cur = self._db.execute(
                "INSERT OR IGNORE INTO seen_commands (command_id, seen_at) VALUES (?, ?)",
                (command_id, now),
            )
            return cur.rowcount == 1

    # ---------------------------------------------------------------- retention

    def purge_events_before(self, cutoff: datetime) -> int:
        """Delete events older than ``cutoff`` whose outbox row is gone (the hub has them)."""
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM events WHERE occurred_at < ? AND seq NOT IN (SELECT seq FROM outbox)",
                (cutoff.timestamp(),),
            )
            return cur.rowcount
