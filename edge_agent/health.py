"""Status for the hub and health for the box: what ``/healthz`` and the retained status say.

``health()`` fails (``/healthz`` answers 503) when:
- the event store cannot write (passages are refused or pass unrecorded);
- the broker link has been down longer than ``health.link_down_s`` (the outbox keeps every
  passage, but the hub hears nothing: no alerts, no roster updates);
- a background loop has died (commands, status, analysis or retention would silently stop);
- a live camera has delivered no frame for ``health.camera_stale_s``.
Face recognition switched off is reported, not failed: the gates still work on credentials.
Door states (open, closed, unknown; a held-open alarm) are reported, not failed: an open door
is an alarm to the hub, not a broken agent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from edge_agent.access.passage import PassageDesk
from edge_agent.cameras.source import CameraSource
from edge_agent.config import EdgeConfig
from edge_agent.door_service import DoorService
from edge_agent.face import FaceStack
from edge_agent.loops import BackgroundLoops
from edge_agent.metrics import EdgeMetrics
from edge_agent.store.events import EventStore
from gridgate_core import __version__
from gridgate_core.errors import GridgateError
from gridgate_core.mqtt import LinkState, MqttLink
from gridgate_wire import EdgeState, EdgeStatus, edge_topic, encode, new_fields
from gridgate_wire.topics import Channel

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HealthReport:
    healthy: bool
    details: dict[str, object]  # JSON for /healthz


class StatusReporter:
    def __init__(
        self,
        config: EdgeConfig,
        store: EventStore,
        desk: PassageDesk,
        face: FaceStack | None,
        face_problem: str | None,
        sources: Mapping[str, CameraSource],
        loops: BackgroundLoops,
        metrics: EdgeMetrics,
        doors: DoorService | None = None,
    ) -> None:
        self.doors = doors
        self.config = config
        self.store = store
        self.desk = desk
        self.face = face
        self.face_problem = face_problem
        self.sources = sources
        self.loops = loops
        self.metrics = metrics
        self.topic = edge_topic(config.edge_id, Channel.STATUS)
        self.link: MqttLink | None = None  # set once the link exists (its will is our status)
        self._link_down_since: float | None = None
        self._started_at: float | None = None
        self.link_down_s = config.health.link_down_s

    def started(self) -> None:
        self._started_at = time.monotonic()
        if self.link is None or not self.link.connected:
            self._link_down_since = self._started_at

    def on_link_state(self, state: LinkState) -> None:
        connected = state is LinkState.CONNECTED
        self.metrics.broker_connected.set(1 if connected else 0)
        if connected:
            self._link_down_since = None
        elif self._link_down_since is None:
            self._link_down_since = time.monotonic()

    # ---------------------------------------------------------------- status for the hub

    def _warnings(self, used: float) -> list[str]:
        warnings = []
        if used >= self.config.outbox.warn_at_fraction:
            warnings.append(f"event store uses {used:.0%} of its disk budget")
        if self.face_problem:
            warnings.append(self.face_problem[:200])
        store_alarm = self.desk.warning()
        if store_alarm is not None:
            warnings.insert(0, store_alarm[:200])
        if self.store.set_aside is not None:
            warnings.insert(0, f"event store was corrupt; set aside as {self.store.set_aside.name}")
        for camera_id, source in self.sources.items():
            if not source.connected and not source.finished:
                warnings.append(f"camera {camera_id} offline")
        return warnings[:20]

    def status(self, state: EdgeState) -> EdgeStatus:
        used = self.store.size_bytes() / (self.config.outbox.disk_budget_mb * 1024 * 1024)
        return EdgeStatus(
            **new_fields(),
            edge_id=self.config.edge_id,
            seq=self.store.last_seq(),
            epoch=self.store.epoch,
            state=state,
            software=f"gridgate-edge {__version__}",
            outbox_depth=self.store.outbox_depth(),
            disk_budget_used=min(used, 1.0),
            gallery_size=len(self.face.gallery) if self.face else 0,
            cameras_online=sum(1 for s in self.sources.values() if s.connected),
            warnings=self._warnings(used) if state is EdgeState.ONLINE else [],
        )

    def offline_payload(self) -> bytes:
        return encode(self.status(EdgeState.OFFLINE))

    def publish(self) -> None:
        if self.link is None:
            return
        status = self.status(EdgeState.ONLINE)
        self.metrics.outbox_depth.set(status.outbox_depth)
        self.metrics.disk_budget_used.set(status.disk_budget_used)
        for warning in status.warnings:
            if "disk budget" in warning:
                _LOGGER.error("DISK BUDGET: %s", warning)
        self.link.publish(self.topic, encode(status), qos=1, retain=True)

    def heartbeat_interval(self) -> float:
        """Every ``status_interval_s`` while connected; soon after a (re)connection."""
        connected = self.link is not None and self.link.connected
        return self.config.status_interval_s if connected else 0.5

    def heartbeat(self) -> None:
        if self.link is not None and self.link.connected:
            try:
                self.publish()
            except GridgateError:
                _LOGGER.exception("status not published")

    def store_alarm(self) -> None:
        """The event store cannot write: tell the hub now, not at the next heartbeat."""
        if self.link is not None and self.link.connected:
            self.publish()

    # ---------------------------------------------------------------- health for the box

    def _failing(self, now: float) -> list[str]:
        failing = []
        store_alarm = self.desk.warning()
        if store_alarm is not None:
            failing.append(store_alarm[:200])
        down = self._link_down_since
        if self._started_at is not None and down is not None and now - down >= self.link_down_s:
            failing.append(f"broker link down for {now - down:.0f} s")
        failing.extend(f"background loop {name} has stopped" for name in self.loops.dead())
        if self._started_at is not None:
            stale_s = self.config.health.camera_stale_s
            for camera_id, source in self.sources.items():
                last = source.last_frame_at or self._started_at
                if not source.finished and now - last >= stale_s:
                    failing.append(f"camera {camera_id}: no frame for {now - last:.0f} s")
        return failing

    def health(self) -> HealthReport:
        failing = self._failing(time.monotonic())
        details: dict[str, object] = {
            "edge_id": self.config.edge_id,
            "broker_connected": self.link is not None and self.link.connected,
            "outbox_depth": self.store.outbox_depth(),
            "face_recognition": self.face is not None,
            "face_problem": self.face_problem,
            "gallery_templates": len(self.face.gallery) if self.face else 0,
            "cameras": {
                cid: {"connected": s.connected, "dropped": s.frames_dropped}
                for cid, s in self.sources.items()
            },
            "event_store": self.desk.warning() or "ok",
            "doors": self.doors.status_json() if self.doors is not None else [],
            "failing": failing,
        }
        return HealthReport(not failing, details)

    def metrics_text(self) -> bytes:
        self.metrics.outbox_depth.set(self.store.outbox_depth())
        if self.link is not None:
            self.metrics.broker_connected.set(1 if self.link.connected else 0)
        return self.metrics.render()
