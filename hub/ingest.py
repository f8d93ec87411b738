"""Idempotent ingest of edge messages.

The MQTT thread only queues what arrives. One writer thread takes batches, validates each
message (invalid ones go to the dead-letter table with the reason), checks it concerns the
sending edge's own compound (:mod:`hub.scope`), inserts with the uniqueness key (edge id, message
id) so a duplicate is a no-op, commits, and only then publishes the application ack to each edge
and sends the MQTT-level acks (``manual_ack``). A crash before the commit therefore leaves the
messages with the broker and the edge, to be delivered again.

No message can stop ingest: a batch the database refuses is split in halves until the message
it refuses is alone, and that one is dead-lettered with the database's reason and acknowledged.
Only an outage (:func:`hub.deadletter.is_outage`) makes the writer wait and retry the batch.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, select
from sqlalchemy.sql.dml import Insert

from gridgate_core.mqtt import Incoming, MqttLink
from gridgate_wire import (
    CHANNEL_KIND,
    Channel,
    DecodeError,
    EdgeAlert,
    EdgeEvent,
    EdgeMessage,
    EdgeStatus,
    EnrolmentConfirmation,
    ErasureConfirmation,
    HubAck,
    Message,
    PassUpdate,
    RosterAck,
    RosterUpdate,
    decode_from_topic,
    encode,
    hub_topic,
    new_fields,
    worker_topic,
)
from hub import deadletter, edgestate, gate_reactions, scope
from hub import passages as hub_passages
from hub import passes as hub_passes
from hub.config import PassagesConfig, PassesConfig
from hub.live import TaskFeed
from hub.privacy import on_enrolment, on_erasure
from hub.store.db import insert_ignoring_duplicates
from hub.store.schema import edge_messages
from hub.sync import mark_sent, on_roster_ack
from hub.tasks import on_alert
from hub.uow import Outbound, unit_of_work

_LOGGER = logging.getLogger(__name__)
_OUTAGE_BACKOFF_MAX_S = 10.0


@dataclass
class IngestStats:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    batches: int = 0
    acks_sent: int = 0
    acked_deliveries: int = 0
    splits: int = 0
    outages: int = 0


@dataclass(frozen=True)
class StoredMessage:
    """One ``edge_messages`` row: what the hub keeps of an edge's message and acknowledges."""

    edge_id: str
    msg_id: str
    kind: str
    seq: int
    epoch: str
    ts: datetime
    received_at: datetime
    payload: str

    def values(self) -> dict[str, object]:
        return {
            "edge_id": self.edge_id,
            "msg_id": self.msg_id,
            "kind": self.kind,
            "seq": self.seq,
            "epoch": self.epoch,
            "ts": self.ts,
            "received_at": self.received_at,
            "payload": self.payload,
        }


@dataclass
class _Decoded:
    item: Incoming
    message: EdgeMessage | EdgeStatus
    row: StoredMessage | None  # None for a status (not stored)


class Ingestor:
    def __init__(
        self,
        engine: Engine,
        *,
        batch_max: int = 500,
        batch_wait_ms: int = 20,
        unregistered: scope.Unregistered = "dead_letter",
        passages: PassagesConfig | None = None,
        site_timezone: str = "UTC",
        passes: PassesConfig | None = None,
    ) -> None:
        self._engine = engine
        self._passages = passages or PassagesConfig()
        self._passes = passes or PassesConfig()
        self._zone = ZoneInfo(site_timezone)
        self._unregistered: scope.Unregistered = unregistered
        self._batch_max = batch_max
        self._batch_wait_s = batch_wait_ms / 1000
        self._inbox: queue.SimpleQueue[Incoming] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.link: MqttLink | None = None
        self.feed: TaskFeed | None = None
        self.stats = IngestStats()
        self.committed = threading.Condition()
        # Messages stored but refused by the hub's rules (a walk-in of another compound): each
        # becomes a dead letter with the reason, after its batch commits.
        self._kept_refusals: list[tuple[EdgeMessage, str]] = []

    def attach(self, link: MqttLink) -> None:
        self.link = link

    def on_message(self, incoming: Incoming) -> None:
        """MQTT-thread callback: queue only."""
        self._inbox.put(incoming)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ingest", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _take_batch(self) -> list[Incoming]:
        try:
            first = self._inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self._batch_wait_s
        while len(batch) < self._batch_max:
            left = deadline - time.monotonic()
            try:
                batch.append(
                    self._inbox.get(timeout=left) if left > 0 else self._inbox.get_nowait()
                )
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            batch = self._take_batch()
            if not batch:
                continue
            try:
                self._process(batch)
                backoff = 0.5
            except Exception as exc:  # noqa: BLE001 - logged; the batch is retried
                # Only a database outage gets here (a message's own failure is isolated in
                # _process). Nothing was acked, so keep the batch in memory and try again.
                self.stats.outages += 1
                _LOGGER.warning(
                    "database unavailable (%s); retrying %d messages in %.1f s",
                    deadletter.describe(exc),
                    len(batch),
                    backoff,
                )
                for item in batch:
                    self._inbox.put(item)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, _OUTAGE_BACKOFF_MAX_S)

    def _process(self, batch: list[Incoming]) -> None:
        now = datetime.now(UTC)
        bad: list[dict[str, object]] = []
        decoded: list[_Decoded] = []
        for item in batch:
            try:
                message = _decode_edge_message(item)
                decoded.append(_Decoded(item, message, _row(item, message, now)))
            except DecodeError as exc:
                bad.append(deadletter.row(item, now, exc.field, exc.reason))
            except Exception as exc:  # noqa: BLE001 - a codec bug must not stop ingest either
                bad.append(deadletter.row(item, now, "$", f"not decodable: {exc!r}"))
        try:
            with self._engine.connect() as conn:
                verdict = scope.check(conn, [d.message for d in decoded], self._unregistered)
        except Exception as exc:
            if deadletter.is_outage(exc):
                raise
            _LOGGER.exception("scope check failed; checking one message at a time")
            verdict = self._check_one_by_one(decoded)
        keep: list[_Decoded] = []
        acked: list[_Decoded] = []  # not stored, but the edge must stop sending them
        for index, entry in enumerate(decoded):
            refusal = verdict.refused.get(index)
            if refusal is not None:
                bad.append(self._dead(entry, now, *refusal))
                acked.append(entry)
            elif index not in verdict.ignored:
                keep.append(entry)
        out = Outbound()
        self._kept_refusals = []
        stored, failed = self._store(keep, out, now)
        for entry, reason in failed:
            bad.append(self._dead(entry, now, "$", reason))
        by_message = {id(e.message): e for e in keep}
        for message, reason in self._kept_refusals:
            bad.append(self._dead(by_message[id(message)], now, "$", reason))
        deadletter.write(self._engine, bad)
        gate_reactions.undo_refused(self._engine, [e.message for e in acked], out)
        rows = [e.row for e in keep + acked if e.row is not None]
        self._after_commit(batch, rows, out)
        self.stats.received += len(batch)
        self.stats.stored += stored
        self.stats.duplicates += len([e for e in keep if e.row is not None]) - stored - len(failed)
        self.stats.dead_letters += len(bad)
        self.stats.batches += 1
        with self.committed:
            self.committed.notify_all()
        for record in bad:
            _LOGGER.warning(
                "dead letter on %s: %s: %s", record["topic"], record["field"], record["reason"]
            )

    @staticmethod
    def _dead(entry: _Decoded, now: datetime, field: str, reason: str) -> dict[str, object]:
        return deadletter.row(
            entry.item, now, field, reason, entry.message.edge_id, str(entry.message.id)
        )

    def _check_one_by_one(self, decoded: list[_Decoded]) -> scope.Verdict:
        verdict = scope.Verdict()
        for index, entry in enumerate(decoded):
            try:
                with self._engine.connect() as conn:
                    one = scope.check(conn, [entry.message], self._unregistered)
            except Exception as exc:
                if deadletter.is_outage(exc):
                    raise
                verdict.refused[index] = ("$", f"scope check failed: {deadletter.describe(exc)}")
                continue
            if one.refused:
                verdict.refused[index] = one.refused[0]
            if one.ignored:
                verdict.ignored.add(index)
        return verdict

    def _store(
        self, entries: list[_Decoded], out: Outbound, now: datetime
    ) -> tuple[int, list[tuple[_Decoded, str]]]:
        """Commit ``entries``; when the database refuses, split until the refused message is
        alone and return it with the reason (everything else is committed)."""
        if not entries:
            return 0, []
        reused: list[StoredMessage] = []
        try:
            stored = self._commit(entries, out, reused)
        except Exception as exc:
            if deadletter.is_outage(exc):
                raise
            if len(entries) == 1:
                reason = f"not stored: {deadletter.describe(exc)}"
                return 0, [(entries[0], reason)]
            self.stats.splits += 1
            half = len(entries) // 2
            first, failed_first = self._store(entries[:half], out, now)
            second, failed_second = self._store(entries[half:], out, now)
            return first + second, failed_first + failed_second
        conflicts = {id(row) for row in reused}
        return stored, [
            (e, "id reused with other content; the first content is kept")
            for e in entries
            if id(e.row) in conflicts
        ]

    def _after_commit(
        self, batch: list[Incoming], rows: list[StoredMessage], out: Outbound
    ) -> None:
        """Acks and pushes: the commit is done, so a failure here only logs (the edge sends
        again and the hub answers the duplicate; a roster is re-sent by the duties)."""
        try:
            self._acknowledge(batch, rows)
        except Exception:
            _LOGGER.exception("acknowledging %d messages failed", len(batch))
        try:
            self.publish(out)
        except Exception:
            _LOGGER.exception("publishing after the commit failed")

    def _commit(self, entries: list[_Decoded], out: Outbound, reused: list[StoredMessage]) -> int:
        """Store ``entries`` in one unit of work, whose messages join ``out`` once it has
        committed (published after the acks); keys already stored with other content are added
        to ``reused`` (the first content stays)."""
        stored = 0
        rows = [e.row for e in entries if e.row is not None]
        messages = [e.message for e in entries if isinstance(e.message, EdgeMessage)]
        statuses = [e.message for e in entries if isinstance(e.message, EdgeStatus)]
        insert = insert_ignoring_duplicates(self._engine, edge_messages)
        refusals: list[tuple[EdgeMessage, str]] = []
        with unit_of_work(self._engine, out.extend) as work:
            conn = work.conn
            per_edge: dict[str, list[tuple[int, str]]] = defaultdict(list)
            # Within a batch, each edge's messages are stored in sequence order: after a broker
            # restart a redelivered message and the edge's re-send can arrive swapped.
            ordered = sorted(
                zip(rows, messages, strict=True), key=lambda rm: (rm[1].edge_id, rm[1].seq)
            )
            # Passages (nearly all traffic) go in as one executemany per run, in order, so the
            # primary key follows each edge's sequence; messages the hub acts on (alerts,
            # confirmations, acks) go one by one, so the action runs only for a new row.
            existing = self._existing(conn, ordered)
            run: list[StoredMessage] = []
            passages: list[EdgeEvent] = []
            for row, message in ordered:
                key = (message.edge_id, str(message.id))
                if key in existing:
                    if not hub_passages.same_content(existing[key], row.payload):
                        reused.append(row)
                    continue
                if isinstance(message, EdgeEvent):
                    existing[key] = row.payload
                    passages.append(message)
                    if self._passages.keep != "full":  # never stored: see hub.passages
                        row = replace(row, payload=hub_passages.stripped(row.payload))
                    run.append(row)
                    continue
                stored += self._flush(conn, insert, run, per_edge)
                run = []
                if conn.execute(insert, row.values()).rowcount:
                    existing[key] = row.payload
                    stored += 1
                    per_edge[message.edge_id].append((message.seq, message.epoch or ""))
                    refused = self._react(conn, message, work.outbound)
                    if refused is not None:
                        refusals.append((message, refused))
            stored += self._flush(conn, insert, run, per_edge)
            edgestate.record(conn, per_edge, statuses)
            if self._passages.keep == "daily_counts":
                hub_passages.count(conn, passages, self._zone)
            gate_reactions.late_pass_uses(conn, passages)
        self._kept_refusals.extend(refusals)  # committed: a rolled-back attempt adds nothing
        return stored

    @staticmethod
    def _existing(
        conn: Connection, ordered: list[tuple[StoredMessage, EdgeMessage]]
    ) -> dict[tuple[str, str], str]:
        """The batch's (edge id, message id) keys stored already (redeliveries), with the
        stored payload: an edge re-sends byte for byte, so other content is a reused id."""
        by_edge: dict[str, list[str]] = defaultdict(list)
        for _, message in ordered:
            by_edge[message.edge_id].append(str(message.id))
        found: dict[tuple[str, str], str] = {}
        for edge_id, ids in by_edge.items():
            for start in range(0, len(ids), 500):
                for msg_id, payload in conn.execute(
                    select(edge_messages.c.msg_id, edge_messages.c.payload).where(
                        edge_messages.c.edge_id == edge_id,
                        edge_messages.c.msg_id.in_(ids[start : start + 500]),
                    )
                ):
                    found[(edge_id, str(msg_id))] = str(payload)
        return found

    @staticmethod
    def _flush(
        conn: Connection,
        insert: Insert,
        run: list[StoredMessage],
        per_edge: dict[str, list[tuple[int, str]]],
    ) -> int:
        if not run:
            return 0
        # ON CONFLICT DO NOTHING still guards a race with another hub process; a row that
        # process stored first is then counted here too, which only affects the statistics.
        conn.execute(insert, [row.values() for row in run])
        for row in run:
            per_edge[row.edge_id].append((row.seq, row.epoch))
        return len(run)

    def _react(self, conn: Connection, message: EdgeMessage, out: Outbound) -> str | None:
        """What the hub does with a newly stored message, in the same transaction; returns
        why the hub's rules refuse it (kept, acknowledged and dead-lettered), else None."""
        if isinstance(message, gate_reactions.KINDS):
            return gate_reactions.react(conn, message, out, self._passes)
        if isinstance(message, EdgeAlert):
            on_alert(conn, message.edge_id, message, out)
        elif isinstance(message, RosterAck):
            full = on_roster_ack(conn, message)
            if full is not None:
                out.to_edges.append(full)
        elif isinstance(message, EnrolmentConfirmation):
            on_enrolment(conn, message)
        elif isinstance(message, ErasureConfirmation):
            on_erasure(conn, message)
        return None

    def publish(self, out: Outbound) -> None:
        """After the commit: task changes to workers, roster and suppressions to edges."""
        if self.feed is not None:
            for notice in out.notices:
                self.feed.offer(notice)
        if self.link is None:
            return
        for task in out.to_workers:
            self.link.publish(worker_topic(task.worker_id), encode(task), qos=1)
        for message in out.to_edges:
            publish_to_edge(self.link, message)
        rosters = [m for m in out.to_edges if isinstance(m, RosterUpdate)]
        pass_lists = [m for m in out.to_edges if isinstance(m, PassUpdate)]
        if rosters or pass_lists:
            with self._engine.begin() as conn:
                mark_sent(conn, rosters, datetime.now(UTC))
                hub_passes.mark_sent(conn, pass_lists, datetime.now(UTC))

    def _acknowledge(self, batch: list[Incoming], rows: list[StoredMessage]) -> None:
        link = self.link
        if link is None:
            return
        per_edge: dict[str, dict[str, None]] = defaultdict(dict)
        for row in rows:
            per_edge[row.edge_id][row.msg_id] = None
        self.stats.acked_deliveries += len(rows)
        for edge_id, unique in per_edge.items():
            ids = list(unique)
            for start in range(0, len(ids), 1000):
                chunk = ids[start : start + 1000]
                ack = HubAck.model_validate({**new_fields(), "edge_id": edge_id, "acked": chunk})
                link.publish(hub_topic(edge_id, Channel.ACK), encode(ack), qos=1)
                self.stats.acks_sent += 1
        for item in batch:
            if item.qos > 0:
                link.ack(item.mid, item.qos)


def _row(item: Incoming, message: EdgeMessage | EdgeStatus, now: datetime) -> StoredMessage | None:
    if isinstance(message, EdgeStatus):
        return None
    return StoredMessage(
        edge_id=message.edge_id,
        msg_id=str(message.id),
        kind=message.KIND,
        seq=message.seq,
        epoch=message.epoch or "",
        ts=message.ts,
        received_at=now,
        payload=item.payload.decode(),
    )


def _decode_edge_message(item: Incoming) -> EdgeMessage | EdgeStatus:
    message = decode_from_topic(item.topic, item.payload)
    if not isinstance(message, EdgeMessage | EdgeStatus):
        raise DecodeError("topic", "the hub only ingests edge-to-hub channels")
    return message


# Hub-to-edge channel of each message kind, from the wire contract's own table.
_EDGE_CHANNEL = {kind.KIND: channel for channel, kind in CHANNEL_KIND.items()}


def publish_to_edge(link: MqttLink, message: Message) -> None:
    edge_id = str(getattr(message, "edge_id", ""))
    link.publish(hub_topic(edge_id, _EDGE_CHANNEL[message.KIND]), encode(message), qos=1)
