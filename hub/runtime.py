"""The hub process: database, MQTT link and ingest, wired together."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from gridgate_core.mqtt import MqttLink, settings_from_config
from gridgate_wire import EDGE_CHANNELS, TaskState, edge_subscription
from hub.config import HubConfig
from hub.ingest import Ingestor
from hub.store.db import create_schema, make_engine
from hub.tasks import Outbound, Outcome, advance, escalate_overdue, record_outcome

_LOGGER = logging.getLogger(__name__)


class HubService:
    def __init__(self, config: HubConfig) -> None:
        self.config = config
        self.engine = make_engine(config.database)
        create_schema(self.engine)
        self.ingestor = Ingestor(
            self.engine,
            batch_max=config.ingest.batch_max,
            batch_wait_ms=config.ingest.batch_wait_ms,
        )
        shared = config.ingest.shared_subscription
        subscriptions = [(edge_subscription(ch, shared=shared), 1) for ch in sorted(EDGE_CHANNELS)]
        settings = settings_from_config(
            config.mqtt,
            config.instance_id,
            subscriptions=subscriptions,
            manual_ack=True,
            max_inflight=1000,
            end_session_on_stop=True,
        )
        self.link = MqttLink(settings, on_message=self.ingestor.on_message)
        self._stop = threading.Event()
        self.ingestor.attach(self.link)

    def record_outcome(self, task_id: str, outcome: Outcome, actor: str, note: str = "") -> None:
        """A worker's visit outcome: close the task, update the registry, tell workers and edges."""
        out = Outbound()
        with self.engine.begin() as conn:
            record_outcome(conn, task_id, outcome, actor, out, note)
        self.ingestor.publish(out)

    def accept(self, task_id: str, worker_id: str) -> None:
        out = Outbound()
        with self.engine.begin() as conn:
            advance(conn, task_id, TaskState.ACCEPTED, worker_id, out)
        self.ingestor.publish(out)

    def escalate(self, now: datetime | None = None) -> list[str]:
        out = Outbound()
        with self.engine.begin() as conn:
            moved = escalate_overdue(conn, now or datetime.now(UTC), out)
        self.ingestor.publish(out)
        if moved:
            _LOGGER.warning("%d overdue tasks escalated", len(moved))
        return moved

    def _escalation_loop(self) -> None:
        while not self._stop.wait(60):
            try:
                self.escalate()
            except Exception:  # keep escalating on the next round
                _LOGGER.exception("escalation failed")

    def start(self) -> None:
        _LOGGER.info(
            "hub %s starting (database %s)",
            self.config.instance_id,
            self.engine.url.render_as_string(),
        )
        self.ingestor.start()
        self.link.start()
        self._escalator = threading.Thread(
            target=self._escalation_loop, name="escalate", daemon=True
        )
        self._escalator.start()

    def stop(self) -> None:
        self._stop.set()
        self.link.stop()
        self.ingestor.stop()
        self.engine.dispose()
        _LOGGER.info("hub %s stopped", self.config.instance_id)
