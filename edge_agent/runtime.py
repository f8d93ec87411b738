"""The edge agent process: store, outbox, MQTT link, status and hub commands, wired together."""

from __future__ import annotations

import logging
import random
import threading
from datetime import UTC, datetime, timedelta

from edge_agent.comms.publisher import OutboxPublisher
from edge_agent.config import EdgeConfig
from edge_agent.store.events import EventStore
from gridgate_core import __version__
from gridgate_core.mqtt import Incoming, LinkState, MqttLink, Will, settings_from_config
from gridgate_wire import (
    Channel,
    Decision,
    DecodeError,
    EdgeEvent,
    EdgeState,
    EdgeStatus,
    HubAck,
    PassageDirection,
    PassageMethod,
    SubjectKind,
    decode_from_topic,
    edge_topic,
    encode,
    hub_subscription,
    new_fields,
    utc_now,
)

_LOGGER = logging.getLogger(__name__)


class EdgeAgent:
    """Long-running edge process. ``start`` returns at once; ``stop`` flushes what it can."""

    def __init__(self, config: EdgeConfig) -> None:
        self.config = config
        self.store = EventStore(config.data_dir / "events.sqlite3", config.edge_id)
        self._status_topic = edge_topic(config.edge_id, Channel.STATUS)
        will = Will(self._status_topic, encode(self._status(EdgeState.OFFLINE)), qos=1, retain=True)
        settings = settings_from_config(
            config.mqtt,
            config.edge_id,
            will=will,
            subscriptions=[(hub_subscription(config.edge_id), 1)],
            max_inflight=config.outbox.max_inflight + 10,
        )
        self.link = MqttLink(settings, on_message=self._on_hub_message, on_state=self._on_state)
        self.publisher = OutboxPublisher(
            self.store,
            self.link,
            max_inflight=config.outbox.max_inflight,
            ack_timeout_s=config.outbox.ack_timeout_s,
        )
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.dead_letters = 0

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        _LOGGER.info(
            "edge %s (compound %s) starting; store %s, %d events waiting in the outbox",
            self.config.edge_id,
            self.config.compound_id,
            self.store.path,
            self.store.outbox_depth(),
        )
        self.link.start()
        self.publisher.start()
        self._spawn("status", self._status_loop)
        self._spawn("retention", self._retention_loop)
        if self.config.demo_source.enabled:
            self._spawn("demo-source", self._demo_source_loop)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self.publisher.stop()
        if self.link.connected:
            self.link.publish(
                self._status_topic, encode(self._status(EdgeState.OFFLINE)), qos=1, retain=True
            ).wait(2.0)
        self.link.stop()
        self.store.close()
        _LOGGER.info("edge %s stopped", self.config.edge_id)

    def _spawn(self, name: str, target: object) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    # ---------------------------------------------------------------- passages

    def record_passage(self, **fields: object) -> EdgeEvent:
        """Commit one passage event and its outbox row; wake the publisher."""
        stranger_id = fields.pop("stranger_id", None)
        event = self.store.append(
            Channel.EVENT,
            lambda common: EdgeEvent.model_validate({**common, **fields}),
            stranger_id=stranger_id,
        )
        self.publisher.notify()
        return event

    # ---------------------------------------------------------------- hub messages

    def _on_hub_message(self, incoming: Incoming) -> None:
        try:
            message = decode_from_topic(incoming.topic, incoming.payload)
        except DecodeError as exc:
            self.dead_letters += 1
            _LOGGER.warning("dropped invalid hub message on %s: %s", incoming.topic, exc)
            return
        if isinstance(message, HubAck):
            self.publisher.on_hub_ack(str(i) for i in message.acked)
        else:
            _LOGGER.info("hub command %s not handled yet", message.KIND)

    # ---------------------------------------------------------------- status

    def _status(self, state: EdgeState) -> EdgeStatus:
        depth = self.store.outbox_depth()
        used = self.store.size_bytes() / (self.config.outbox.disk_budget_mb * 1024 * 1024)
        warnings = []
        if used >= self.config.outbox.warn_at_fraction:
            warnings.append(f"event store uses {used:.0%} of its disk budget")
        return EdgeStatus(
            **new_fields(),
            edge_id=self.config.edge_id,
            seq=self.store.last_seq(),
            state=state,
            software=f"gridgate-edge {__version__}",
            outbox_depth=depth,
            disk_budget_used=min(used, 1.0),
            warnings=warnings,
        )

    def publish_status(self) -> None:
        status = self._status(EdgeState.ONLINE)
        for warning in status.warnings:
            _LOGGER.error("DISK BUDGET: %s", warning)
        self.link.publish(self._status_topic, encode(status), qos=1, retain=True)

    def _on_state(self, state: LinkState) -> None:
        if state is LinkState.CONNECTED:
            self.publisher.notify()

    def _status_loop(self) -> None:
        was_connected = False
        while not self._stop.is_set():
            if self.link.connected:
                self.publish_status()
                was_connected = True
            elif was_connected:
                was_connected = False
            self._stop.wait(self.config.status_interval_s if was_connected else 0.5)

    def _retention_loop(self) -> None:
        while not self._stop.wait(self.config.retention.purge_interval_s):
            cutoff = datetime.now(UTC) - timedelta(days=self.config.retention.event_days)
            purged = self.store.purge_events_before(cutoff)
            if purged:
                _LOGGER.info("retention purge removed %d events before %s", purged, cutoff)

    def _demo_source_loop(self) -> None:
        rng = random.Random(7)  # noqa: S311 - synthetic demo passages, not security
        while not self._stop.wait(self.config.demo_source.interval_s):
            resident = rng.randrange(1, 40)
            event = self.record_passage(
                occurred_at=utc_now(),
                gate="north",
                direction=rng.choice([PassageDirection.IN, PassageDirection.OUT]),
                method=PassageMethod.CARD,
                subject=SubjectKind.RESIDENT,
                resident_id=f"R{resident:04d}",
                house_id=f"H{resident // 2:03d}",
                decision=Decision.GRANT,
            )
            _LOGGER.info(
                "passage seq=%d %s %s by card: %s",
                event.seq,
                event.resident_id,
                event.direction.value,
                event.decision.value,
            )
