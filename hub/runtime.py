"""The hub process: database, MQTT link, ingest, background duties and the HTTP server."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import uvicorn

from gridgate_core.mqtt import MqttLink, settings_from_config
from gridgate_wire import EDGE_CHANNELS, TaskState, edge_subscription
from hub import doors, passages, passes
from hub.app import create_app
from hub.auth import SessionPolicy
from hub.config import HubConfig
from hub.context import HubContext
from hub.ingest import Ingestor, publish_to_edge
from hub.live import TaskFeed
from hub.store.db import make_engine, migrate
from hub.sync import build_wanted, due_for_resend, mark_sent
from hub.tasks import (
    NewOccupant,
    Outcome,
    OutcomeResult,
    advance,
    escalate_overdue,
    record_outcome,
)
from hub.uow import Outbound

_LOGGER = logging.getLogger(__name__)
_DUTY_INTERVAL_S = 5.0
_ESCALATION_INTERVAL_S = 60.0


class HubService:
    def __init__(self, config: HubConfig) -> None:
        self.config = config
        self.engine = make_engine(config.database)
        migrate(self.engine)
        self.feed = TaskFeed()
        self.ingestor = Ingestor(
            self.engine,
            batch_max=config.ingest.batch_max,
            batch_wait_ms=config.ingest.batch_wait_ms,
            unregistered=config.ingest.unregistered_edges,
            passages=config.passages,
            site_timezone=config.site.timezone,
            passes=config.passes,
        )
        self.ingestor.feed = self.feed
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
        self.api = HubContext(
            engine=self.engine,
            publish=self.publish,
            policy=SessionPolicy(
                idle=timedelta(minutes=config.api.session_idle_minutes),
                absolute=timedelta(hours=config.api.session_absolute_hours),
            ),
            template_limit=config.template_people_limit,
            site_timezone=config.site.timezone,
            default_language=config.site.language,
            feed=self.feed,
            secure_cookies=config.api.secure_cookies,
            passes=config.passes,
            unlock_expiry=timedelta(seconds=config.doors.unlock_expiry_s),
        )
        self._http: uvicorn.Server | None = None
        self._threads: list[threading.Thread] = []

    # ---------------------------------------------------------------- actions used by tests

    def publish(self, out: Outbound) -> None:
        self.ingestor.publish(out)

    def record_outcome(
        self,
        task_id: str,
        outcome: Outcome,
        actor: str,
        note: str = "",
        new_occupant: NewOccupant | None = None,
    ) -> OutcomeResult:
        """A worker's visit outcome: close the task, update the registry, tell workers and edges."""
        with self.api.work() as work:
            return record_outcome(
                work.conn, task_id, outcome, actor, work.outbound, note, new_occupant
            )

    def accept(self, task_id: str, worker_id: str) -> None:
        with self.api.work() as work:
            advance(work.conn, task_id, TaskState.ACCEPTED, worker_id, work.outbound)

    def escalate(self, now: datetime | None = None) -> list[str]:
        with self.api.work() as work:
            moved = escalate_overdue(work.conn, now or datetime.now(UTC), work.outbound)
        if moved:
            _LOGGER.warning("%d overdue tasks escalated", len(moved))
        return moved

    def resend_rosters(self, now: datetime | None = None) -> int:
        """Publish again every roster version its edge has not acknowledged in time."""
        moment = now or datetime.now(UTC)
        with self.engine.begin() as conn:
            # Snapshots edges asked for by refusing a delta: built here, never in ingest.
            build_wanted(conn)
        with self.engine.begin() as conn:
            due = due_for_resend(conn, moment, timedelta(seconds=self.config.roster_retry_s))
            if due and self.link.connected:
                for message in due:
                    publish_to_edge(self.link, message)
                mark_sent(conn, due, moment)
        if due:
            _LOGGER.info("re-sent %d unacknowledged roster versions", len(due))
        return len(due) if self.link.connected else 0

    def sync_passes(self, now: datetime | None = None) -> int:
        """Every edge's pass list: a full list for an edge that has none yet (newly registered)
        or that refused a delta, then every version not acknowledged in time, published."""
        moment = now or datetime.now(UTC)
        with self.engine.begin() as conn:
            for edge_id in passes.edges_without_list(conn):
                passes.queue_full_list(conn, edge_id, moment)
            passes.build_wanted(conn, moment)
        with self.engine.begin() as conn:
            due = passes.due_for_resend(conn, moment, timedelta(seconds=self.config.passes.retry_s))
            if due and self.link.connected:
                for message in due:
                    publish_to_edge(self.link, message)
                passes.mark_sent(conn, due, moment)
        if due:
            _LOGGER.info("sent %d unacknowledged pass list versions", len(due))
        return len(due) if self.link.connected else 0

    # ---------------------------------------------------------------- lifecycle

    def purge(self, now: datetime | None = None) -> dict[str, int]:
        """What the retention policy no longer keeps (hub.passages, ended visitor passes,
        ended door alarms), deleted now."""
        moment = now or datetime.now(UTC)
        with self.engine.begin() as conn:
            done = passages.purge(conn, self.config.passages, moment)
            ended = moment - timedelta(days=self.config.passes.retention_days)
            done["visitor passes"] = passes.purge(conn, ended)
            alarms_ended = moment - timedelta(days=self.config.doors.alarm_retention_days)
            done["door alarms"] = doors.purge_alarms(conn, alarms_ended)
        if any(done.values()):
            _LOGGER.info("purged %s", ", ".join(f"{n} {k}" for k, n in done.items() if n))
        return done

    def _duties(self) -> None:
        last_escalation = time.monotonic()
        last_purge = 0.0
        while not self._stop.wait(_DUTY_INTERVAL_S):
            try:
                self.resend_rosters()
                self.sync_passes()
                if time.monotonic() - last_escalation >= _ESCALATION_INTERVAL_S:
                    last_escalation = time.monotonic()
                    self.escalate()
                if time.monotonic() - last_purge >= self.config.passages.purge_interval_s:
                    last_purge = time.monotonic()
                    self.purge()
            except Exception:  # the next round tries again; never stop the hub for this
                _LOGGER.exception("background duty failed")

    @property
    def http_port(self) -> int | None:
        """The port the HTTP server listens on, once started."""
        server = self._http
        if server is None or not server.started:
            return None
        for listener in server.servers:
            for sock in listener.sockets:
                return int(sock.getsockname()[1])
        return None

    def start(self) -> None:
        _LOGGER.info(
            "hub %s starting (database %s)",
            self.config.instance_id,
            self.engine.url.render_as_string(),
        )
        self.ingestor.start()
        self.link.start()
        duties = threading.Thread(target=self._duties, name="hub-duties", daemon=True)
        duties.start()
        self._threads.append(duties)
        if self.config.api.enabled:
            self._http = uvicorn.Server(
                uvicorn.Config(
                    create_app(self.api),
                    host=self.config.api.host,
                    port=self.config.api.port,
                    log_config=None,
                    access_log=False,
                    lifespan="off",
                    # Open event streams must not hold a stopping hub for long.
                    timeout_graceful_shutdown=1,
                )
            )
            http = threading.Thread(target=self._http.run, name="hub-http", daemon=True)
            http.start()
            self._threads.append(http)
            deadline = time.monotonic() + 10
            while not self._http.started and time.monotonic() < deadline and http.is_alive():
                time.sleep(0.02)
            if not self._http.started:
                raise RuntimeError(
                    f"the HTTP server did not start on {self.config.api.host}:"
                    f"{self.config.api.port} (port in use?)"
                )
            _LOGGER.info("web UI and API on http://%s:%s/", self.config.api.host, self.http_port)

    def stop(self) -> None:
        self._stop.set()
        self.feed.close()
        if self._http is not None:
            self._http.should_exit = True
        for thread in self._threads:
            thread.join(10)
        self.link.stop()
        self.ingestor.stop()
        self.engine.dispose()
        _LOGGER.info("hub %s stopped", self.config.instance_id)
