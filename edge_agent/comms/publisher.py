"""Drains the outbox to MQTT, oldest first, and deletes rows only on the hub's ack.

PUBACK only says the broker took the message; Mosquitto may still lose it in a crash (its
persistence is a periodic snapshot). So an outbox row stays until a :class:`HubAck` naming it
arrives, and is re-sent when that takes longer than ``ack_timeout_s`` or after a reconnect.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable

from edge_agent.store.events import EventStore
from gridgate_core.mqtt import MqttLink, PublishHandle

_LOGGER = logging.getLogger(__name__)


class OutboxPublisher:
    """One thread: publish with bounded in-flight, retire on ack, re-send on time-out."""

    def __init__(
        self,
        store: EventStore,
        link: MqttLink,
        max_inflight: int = 500,
        ack_timeout_s: float = 15.0,
    ) -> None:
        self._store = store
        self._link = link
        self._max_inflight = max_inflight
        self._ack_timeout_s = ack_timeout_s
        self._acks: queue.SimpleQueue[list[str]] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # msg_id -> (seq, time sent, publish handle)
        self._inflight: dict[str, tuple[int, float, PublishHandle]] = {}
        self._high_sent = 0
        self._epoch = 0
        self.published = 0
        self.acknowledged = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def notify(self) -> None:
        """Something was appended to the outbox."""
        self._wake.set()

    def on_hub_ack(self, msg_ids: Iterable[str]) -> None:
        """Called from the MQTT thread; the store work happens on the publisher thread."""
        self._acks.put(list(msg_ids))
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(0.2)
            self._wake.clear()
            try:
                self._step()
            except Exception:  # keep draining; the store or link will recover
                _LOGGER.exception("outbox step failed")
                self._stop.wait(1.0)

    def _step(self) -> None:
        self._retire_acked()
        if not self._link.connected:
            return
        failed = any(h.done and h.error is not None for _, _, h in self._inflight.values())
        if self._link.connection_count != self._epoch or failed:
            # A new connection (even one this thread never saw drop) or a publish that failed:
            # whatever was in flight may be lost; send everything unacknowledged again, in order.
            self._epoch = self._link.connection_count
            self._inflight.clear()
            self._high_sent = 0
        self._resend_overdue()
        room = self._max_inflight - len(self._inflight)
        if room <= 0:
            return
        rows = self._store.outbox_after(self._high_sent, room)
        now = time.monotonic()
        for row in rows:
            handle = self._link.publish(row.topic, row.payload, qos=1)
            if handle.done and handle.error is not None:
                self._epoch = -1  # start again from the oldest row once connected
                return
            self._inflight[row.msg_id] = (row.seq, now, handle)
            self._high_sent = row.seq
            self.published += 1
        if len(rows) == room:
            self._wake.set()

    def _retire_acked(self) -> None:
        ids: list[str] = []
        while True:
            try:
                ids.extend(self._acks.get_nowait())
            except queue.Empty:
                break
        if not ids:
            return
        self.acknowledged += self._store.acknowledge(ids)
        for msg_id in ids:
            self._inflight.pop(msg_id, None)
        self._wake.set()

    def _resend_overdue(self) -> None:
        now = time.monotonic()
        overdue = [
            (seq, msg_id)
            for msg_id, (seq, sent, _h) in self._inflight.items()
            if now - sent > self._ack_timeout_s
        ]
        if not overdue:
            return
        first = min(seq for seq, _ in overdue)
        _LOGGER.warning(
            "%d outbox messages not acknowledged within %.0f s; re-sending from seq %d",
            len(overdue),
            self._ack_timeout_s,
            first,
        )
        for msg_id in [m for m, (s, _t, _h) in self._inflight.items() if s >= first]:
            del self._inflight[msg_id]
        self._high_sent = first - 1
