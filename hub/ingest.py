"""Idempotent ingest of edge messages.

The MQTT thread only queues what arrives. One writer thread takes batches, validates each
message (invalid ones go to the dead-letter table with the reason), inserts with the uniqueness
key (edge id, message id) so a duplicate is a no-op, commits, and only then publishes the
application ack to each edge and sends the MQTT-level acks (``manual_ack``). A crash before the
commit therefore leaves the messages with the broker and the edge, to be delivered again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, case, select, update
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
    RosterAck,
    RosterUpdate,
    decode_from_topic,
    encode,
    hub_topic,
    new_fields,
    worker_topic,
)
from hub.live import TaskFeed
from hub.privacy import on_enrolment, on_erasure
from hub.store.db import as_utc, insert_ignoring_duplicates
from hub.store.schema import dead_letters, edge_messages, edges
from hub.sync import mark_sent, on_roster_ack
from hub.tasks import Outbound, on_alert

_LOGGER = logging.getLogger(__name__)
_DEAD_LETTER_HEAD = 4096
GAP_GRACE = timedelta(minutes=10)
WATERMARK_SCAN = 20_000


@dataclass
class IngestStats:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    batches: int = 0
    acks_sent: int = 0
    acked_deliveries: int = 0


class Ingestor:
    def __init__(self, engine: Engine, *, batch_max: int = 500, batch_wait_ms: int = 20) -> None:
        self._engine = engine
        self._batch_max = batch_max
        self._batch_wait_s = batch_wait_ms / 1000
        self._inbox: queue.SimpleQueue[Incoming] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.link: MqttLink | None = None
        self.feed: TaskFeed | None = None
        self.stats = IngestStats()
        self.committed = threading.Condition()

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
        while not self._stop.is_set():
            batch = self._take_batch()
            if not batch:
                continue
            try:
                self._process(batch)
            except Exception:
                # Database unavailable: nothing was acked, so the broker will redeliver after we
                # reconnect; keep these in memory and retry rather than lose them.
                _LOGGER.exception("ingest batch of %d failed; retrying", len(batch))
                for item in batch:
                    self._inbox.put(item)
                self._stop.wait(1.0)

    def _process(self, batch: list[Incoming]) -> None:
        now = datetime.now(UTC)
        rows: list[dict[str, object]] = []
        messages: list[EdgeMessage] = []
        statuses: list[EdgeStatus] = []
        bad: list[dict[str, object]] = []
        for item in batch:
            try:
                message = _decode_edge_message(item)
            except DecodeError as exc:
                bad.append(
                    {
                        "received_at": now,
                        "topic": item.topic[:256],
                        "field": exc.field[:128],
                        "reason": exc.reason,
                        "size": len(item.payload),
                        "payload_head": item.payload[:_DEAD_LETTER_HEAD],
                    }
                )
                continue
            if isinstance(message, EdgeStatus):
                statuses.append(message)
                continue
            messages.append(message)
            rows.append(
                {
                    "edge_id": message.edge_id,
                    "msg_id": str(message.id),
                    "kind": message.KIND,
                    "seq": message.seq,
                    "ts": message.ts,
                    "received_at": now,
                    "payload": item.payload.decode(),
                }
            )
        out = Outbound()
        stored = self._commit(rows, messages, statuses, bad, out)
        self._acknowledge(batch, rows)
        self.publish(out)
        self.stats.received += len(batch)
        self.stats.stored += stored
        self.stats.duplicates += len(rows) - stored
        self.stats.dead_letters += len(bad)
        self.stats.batches += 1
        with self.committed:
            self.committed.notify_all()
        for record in bad:
            _LOGGER.warning(
                "dead letter on %s: %s: %s", record["topic"], record["field"], record["reason"]
            )

    def _commit(
        self,
        rows: list[dict[str, object]],
        messages: list[EdgeMessage],
        statuses: list[EdgeStatus],
        bad: list[dict[str, object]],
        out: Outbound,
    ) -> int:
        stored = 0
        insert = insert_ignoring_duplicates(self._engine, edge_messages)
        with self._engine.begin() as conn:
            per_edge: dict[str, list[int]] = defaultdict(list)
            # Within a batch, each edge's messages are stored in sequence order: after a broker
            # restart a redelivered message and the edge's re-send can arrive swapped.
            ordered = sorted(
                zip(rows, messages, strict=True), key=lambda rm: (rm[1].edge_id, rm[1].seq)
            )
            # Passages (nearly all traffic) go in as one executemany per run, in order, so the
            # primary key follows each edge's sequence; messages the hub acts on (alerts,
            # confirmations, acks) go one by one, so the action runs only for a new row.
            existing = self._existing(conn, ordered)
            run: list[dict[str, object]] = []
            for row, message in ordered:
                key = (message.edge_id, str(message.id))
                if isinstance(message, EdgeEvent):
                    if key not in existing:
                        existing.add(key)
                        run.append(row)
                    continue
                stored += self._flush(conn, insert, run, per_edge)
                run = []
                if key not in existing and conn.execute(insert, row).rowcount:
                    existing.add(key)
                    stored += 1
                    per_edge[message.edge_id].append(message.seq)
                    self._react(conn, message, out)
            stored += self._flush(conn, insert, run, per_edge)
            edge_ids = set(per_edge) | {s.edge_id for s in statuses}
            known = set(conn.scalars(select(edges.c.edge_id).where(edges.c.edge_id.in_(edge_ids))))
            for edge_id in edge_ids - known:
                conn.execute(
                    insert_ignoring_duplicates(self._engine, edges),
                    {
                        "edge_id": edge_id,
                        "max_seq": 0,
                        "received": 0,
                        "state": "unknown",
                        "outbox_depth": 0,
                        "software": "",
                    },
                )
            for edge_id, seqs in per_edge.items():
                conn.execute(
                    update(edges)
                    .where(edges.c.edge_id == edge_id)
                    .values(
                        received=edges.c.received + len(seqs),
                        max_seq=case(
                            (edges.c.max_seq < max(seqs), max(seqs)), else_=edges.c.max_seq
                        ),
                    )
                )
            for edge_id in per_edge:
                self._advance_watermark(conn, edge_id)
            for status in statuses:
                conn.execute(
                    update(edges)
                    .where(edges.c.edge_id == status.edge_id)
                    .values(
                        state=status.state.value,
                        last_status_at=status.ts,
                        outbox_depth=status.outbox_depth,
                        software=status.software,
                    )
                )
            if bad:
                conn.execute(dead_letters.insert(), bad)
        return stored

    @staticmethod
    def _existing(
        conn: Connection, ordered: list[tuple[dict[str, object], EdgeMessage]]
    ) -> set[tuple[str, str]]:
        """Which of the batch's (edge id, message id) keys are stored already (redeliveries)."""
        by_edge: dict[str, list[str]] = defaultdict(list)
        for _, message in ordered:
            by_edge[message.edge_id].append(str(message.id))
        found: set[tuple[str, str]] = set()
        for edge_id, ids in by_edge.items():
            for start in range(0, len(ids), 500):
                found.update(
                    (edge_id, str(msg_id))
                    for msg_id in conn.scalars(
                        select(edge_messages.c.msg_id).where(
                            edge_messages.c.edge_id == edge_id,
                            edge_messages.c.msg_id.in_(ids[start : start + 500]),
                        )
                    )
                )
        return found

    @staticmethod
    def _flush(
        conn: Connection,
        insert: Insert,
        run: list[dict[str, object]],
        per_edge: dict[str, list[int]],
    ) -> int:
        if not run:
            return 0
        # ON CONFLICT DO NOTHING still guards a race with another hub process; a row that
        # process stored first is then counted here too, which only affects the statistics.
        conn.execute(insert, run)
        for row in run:
            per_edge[str(row["edge_id"])].append(int(str(row["seq"])))
        return len(run)

    @staticmethod
    def _advance_watermark(conn: Connection, edge_id: str) -> None:
        """Move the edge's contiguous watermark over every stored seq that now has no hole
        below it. Arrival order can differ from seq order (a broker crash that drops the hub's
        session loses messages the edge later re-sends after newer ones); the watermark and
        ``ORDER BY seq`` give readers each edge's messages in order regardless."""
        current = int(
            conn.scalar(select(edges.c.contiguous_seq).where(edges.c.edge_id == edge_id)) or 0
        )
        nxt = current + 1
        hole_since = datetime.now(UTC) - GAP_GRACE
        for seq, received_at in conn.execute(
            select(edge_messages.c.seq, edge_messages.c.received_at)
            .where(edge_messages.c.edge_id == edge_id, edge_messages.c.seq > current)
            .order_by(edge_messages.c.seq)
            .limit(WATERMARK_SCAN)
        ):
            if seq > nxt and as_utc(received_at) < hole_since:
                # Rows above the hole have waited past the grace time: the edge re-sends
                # everything unacknowledged within minutes, so these never existed or are
                # lost at the edge. Step over them, loudly; edge health shows the count.
                _LOGGER.warning("edge %s: seq %d-%d never arrived", edge_id, nxt, seq - 1)
                nxt = seq
            if seq == nxt:
                nxt += 1
            elif seq > nxt:
                break
        if nxt - 1 != current:
            conn.execute(
                update(edges).where(edges.c.edge_id == edge_id).values(contiguous_seq=nxt - 1)
            )

    def _react(self, conn: Connection, message: EdgeMessage, out: Outbound) -> None:
        """What the hub does with a newly stored message, in the same transaction."""
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
        if rosters:
            with self._engine.begin() as conn:
                mark_sent(conn, rosters, datetime.now(UTC))

    def _acknowledge(self, batch: list[Incoming], rows: list[dict[str, object]]) -> None:
        link = self.link
        if link is None:
            return
        per_edge: dict[str, dict[str, None]] = defaultdict(dict)
        for row in rows:
            per_edge[str(row["edge_id"])][str(row["msg_id"])] = None
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
