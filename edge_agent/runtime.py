"""The edge agent process: the parts wired together, started and stopped. No rules live here.

Always on: the event store and outbox (:mod:`~edge_agent.recorder`), the MQTT link, hub
commands (:mod:`~edge_agent.commands`), non-face credentials (:mod:`~edge_agent.credentials`,
HTTP and reader plugins; visitor passes and schedules in the same rule), door actuators, door
contacts and alarms, remote unlock (:mod:`~edge_agent.door_service`), the guard-room page
(:mod:`~edge_agent.guard_room`), status and health (:mod:`~edge_agent.health`), occupancy
analysis (:mod:`~edge_agent.alerts`) and retention. Face recognition
(:mod:`~edge_agent.face`: engine, gallery, cameras) starts when it can; when its models or the
template key are missing it is switched off loudly and the gates keep working on cards, QR
codes and PINs. Passage sources from outside (the demo's) are attached before ``start``.
"""

from __future__ import annotations

import logging
import threading
from functools import partial
from zoneinfo import ZoneInfo

from edge_agent.access.actuators import (
    Actuator,
    DoorContact,
    GateDoor,
    create_actuator,
    create_contact,
)
from edge_agent.access.actuators.log import LogActuator
from edge_agent.access.doors import DoorMonitor, ReleaseThrottle
from edge_agent.access.passage import CredentialThrottle, PassageDesk
from edge_agent.access.passes import PassVerifier
from edge_agent.access.policy import AccessPolicy
from edge_agent.access.readers import create_reader
from edge_agent.access.schedule import AccessSchedules
from edge_agent.alerts import AlertService
from edge_agent.analysis.occupancy import OccupancyAnalyser
from edge_agent.cameras.source import CameraSource
from edge_agent.commands import HubCommands
from edge_agent.comms.publisher import OutboxPublisher
from edge_agent.config import EdgeConfig
from edge_agent.credentials import CredentialService
from edge_agent.door_service import DoorService
from edge_agent.enrolment import EnrolmentService
from edge_agent.face import build_face_stack
from edge_agent.gate import GateWorker
from edge_agent.guard_room.pages import GuardRoomPages
from edge_agent.guard_room.service import GuardRoom
from edge_agent.health import HealthReport, StatusReporter
from edge_agent.http import EdgeHttpServer
from edge_agent.http_routes import EdgeRoutes
from edge_agent.loops import BackgroundLoops
from edge_agent.metrics import EdgeMetrics
from edge_agent.recorder import Recorder
from edge_agent.retention import RetentionPurge
from edge_agent.sources import PassageSource, SourceContext
from edge_agent.store.events import EventStore
from edge_agent.store.passes import PassStore
from edge_agent.store.roster import RosterStore
from edge_agent.vision.engine import build_engine
from gridgate_core.mqtt import LinkState, MqttLink, Will, settings_from_config
from gridgate_core.secrets import read_secret
from gridgate_wire import (
    CredentialKind,
    EdgeAlert,
    EdgeEvent,
    Message,
    PassageDirection,
    hub_subscription,
)

_LOGGER = logging.getLogger(__name__)


class EdgeAgent:
    """Long-running edge process. ``start`` returns at once; ``stop`` flushes what it can."""

    def __init__(self, config: EdgeConfig) -> None:
        self.config = config
        self.metrics = EdgeMetrics()
        self._stop = threading.Event()
        self.loops = BackgroundLoops(self._stop)
        self.store = EventStore(config.data_dir / "events.sqlite3", config.edge_id)
        self.roster = RosterStore(config.data_dir / "roster.sqlite3")
        self.passes = PassStore(config.data_dir / "passes.sqlite3")
        schedules = AccessSchedules(config.schedules)
        self.policy = AccessPolicy(
            self.roster, PassVerifier(self.passes, schedules), schedules, config.duress
        )
        self.doors: dict[str, Actuator] = {
            d.gate: create_actuator(d.actuator, d.gate) for d in config.doors
        }
        self.contacts: dict[str, DoorContact] = {}
        for d in config.doors:
            if d.contact is not None:
                self.contacts[d.gate] = self.doors[d.gate].contact = create_contact(
                    d.contact, d.gate
                )
        self._open_s = {d.gate: d.open_s for d in config.doors}
        face = build_face_stack(config)
        self.face, self.face_problem = face.stack, face.problem
        if self.face is not None:
            self.metrics.gallery_templates.set(len(self.face.gallery))

        # The publisher needs the link, whose will is the status, which reads the door path:
        # the recorder wakes a publisher built last.
        self.recorder = Recorder(self.store, lambda: self.publisher.notify())
        self.desk = PassageDesk(
            self.policy,
            self.recorder,
            self.door,
            self._known_gates,
            config.on_record_failure,
            on_alarm=lambda: self.status.store_alarm(),
            throttle=CredentialThrottle(
                on_guessing=lambda _key: self.metrics.credential_guessing.inc()
            ),
        )
        exits = {(d.gate, lane) for d in config.doors for lane in d.exit_lanes}
        self.desk.exit_lane = lambda gate, lane: (gate, lane) in exits
        self.door_service = DoorService(
            DoorMonitor(config.door_monitor),
            ReleaseThrottle(
                config.door_monitor.release_limit, config.door_monitor.release_window_s
            ),
            self.recorder,
            self.door,
            self._known_gates,
            self.contacts,
            self.metrics,
        )
        self.desk.observers.append(self.door_service)
        self.door_service.first_sight = self.store.first_sight
        self.door_service.edge_id = config.edge_id
        self.door_service.free_exit = {d.gate for d in config.doors if d.free_exit}
        self.sources: dict[str, CameraSource] = {}
        self.workers: dict[str, GateWorker] = {}
        if self.face is not None:
            for camera in config.cameras:
                source = CameraSource(camera)
                self.sources[camera.camera_id] = source
                self.workers[camera.camera_id] = GateWorker(
                    camera,
                    source=source,
                    engine=build_engine(config.engine),  # one per camera: engines are not shared
                    gallery=self.face.gallery,
                    strangers=self.face.strangers,
                    thresholds=self.face.thresholds,
                    policy=self.policy,
                    desk=self.desk,
                    metrics=self.metrics,
                    pipeline=config.pipeline,
                )
        self.status = StatusReporter(
            config,
            self.store,
            self.desk,
            self.face,
            self.face_problem,
            self.sources,
            self.loops,
            self.metrics,
            self.door_service,
        )
        self.link = self._build_link()
        self.status.link = self.link
        self.publisher = OutboxPublisher(
            self.store,
            self.link,
            max_inflight=config.outbox.max_inflight,
            ack_timeout_s=config.outbox.ack_timeout_s,
        )
        self.commands = HubCommands(
            self.roster,
            self.face,
            self.recorder,
            self.publisher,
            self.metrics,
            self.passes,
            self.door_service,
        )
        self.enrolment = EnrolmentService(
            self.roster,
            self.face,
            self.face_problem,
            self.workers,
            lambda gate: [c.camera_id for c in config.cameras if c.gate == gate],
            self.recorder,
            self.metrics,
        )
        self.credentials = CredentialService(self.desk, self.enrolment, self.loops, self.metrics)
        self.readers = [create_reader(r, self.credentials.from_reader) for r in config.readers]
        self.alerts = AlertService(
            config.compound_id,
            OccupancyAnalyser(config.analysis, self.roster.suppressed_until),
            self.store,
            self.roster,
            self.recorder,
            self.passes,
        )
        self.retention = RetentionPurge(config, self.store, self.face, self.passes)
        self.guard_room = GuardRoom(
            config.guard_room,
            self.passes,
            self.roster,
            self.store,
            self.recorder,
            self.door_service,
            sorted(self._known_gates()),
            ZoneInfo(config.schedules.time_zone),
            {d.gate: d.label for d in config.doors if d.label},
        )
        self.guard_room.duress_pins = config.duress.enabled
        self.http: EdgeHttpServer | None = None
        if config.http.enabled:
            token = read_secret(config.http.token_secret) if config.http.token_secret else None
            routes = EdgeRoutes(self.credentials, self.enrolment, self.status, self.door_service)
            pages = None
            if config.guard_room.enabled:
                pages = GuardRoomPages(config.guard_room, self.guard_room)
            self.http = EdgeHttpServer(config.http.bind, config.http.port, routes, token, pages)
        self._passage_sources: list[PassageSource] = []

    def _build_link(self) -> MqttLink:
        will = Will(self.status.topic, self.status.offline_payload(), qos=1, retain=True)
        settings = settings_from_config(
            self.config.mqtt,
            self.config.edge_id,
            will=will,
            subscriptions=[(hub_subscription(self.config.edge_id), 1)],
            max_inflight=self.config.outbox.max_inflight + 10,
        )
        return MqttLink(
            settings, on_message=lambda m: self.commands.on_message(m), on_state=self._on_state
        )

    def door(self, gate: str) -> GateDoor:
        """A gate's door; a gate with no configured actuator gets one that only logs."""
        actuator = self.doors.setdefault(gate, LogActuator(gate))
        return GateDoor(gate, actuator, self._open_s.get(gate, 5.0))

    def _known_gates(self) -> set[str]:
        gates = set(self.doors) | {c.gate for c in self.config.cameras}
        return gates | {r.gate for r in self.config.readers}

    def attach(self, source: PassageSource) -> None:
        """Plug in a passage source from outside (before ``start``)."""
        self._passage_sources.append(source)

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        _LOGGER.info(
            "edge %s (compound %s) starting; %d events waiting in the outbox; face: %s",
            self.config.edge_id,
            self.config.compound_id,
            self.store.outbox_depth(),
            "on" if self.face else self.face_problem,
        )
        self.link.start()
        self.publisher.start()
        self.status.started()
        self.loops.every("commands", lambda: 0.0, self.commands.handle_next)
        self.loops.every("status", self.status.heartbeat_interval, self.status.heartbeat)
        self.loops.every(
            "retention", lambda: self.config.retention.purge_interval_s, self.retention.purge
        )
        self.loops.every("analysis", lambda: self.config.analysis_interval_s, self.analyse)
        self.loops.every(
            "doors", lambda: self.config.door_monitor.check_interval_s, self.door_service.tick
        )
        for contact in self.contacts.values():
            contact.start(self.door_service.contact)
        context = SourceContext(
            self.config.edge_id, self.recorder, self.roster, self.analyse, self._stop
        )
        for passage_source in self._passage_sources:
            self.loops.run(passage_source.name, partial(passage_source.run, context))
        for source in self.sources.values():
            source.start()
        for worker in self.workers.values():
            worker.start()
        for reader in self.readers:
            reader.start()
        if self.http is not None:
            self.http.start()
            _LOGGER.info("local HTTP endpoint on %s:%d", self.config.http.bind, self.http.port)

    def stop(self) -> None:
        self._stop.set()
        for reader in self.readers:
            reader.stop()
        for contact in self.contacts.values():
            contact.stop()
        for source in self.sources.values():
            source.stop()
        for worker in self.workers.values():
            worker.stop()
        if self.http is not None:
            self.http.stop()
        self.loops.join(5)
        if self.face is not None:
            self.face.save()
        self.publisher.stop()
        if self.link.connected:
            self.link.publish(
                self.status.topic, self.status.offline_payload(), qos=1, retain=True
            ).wait(2.0)
        self.link.stop()
        self.store.close()
        self.roster.close()
        self.passes.close()
        _LOGGER.info("edge %s stopped", self.config.edge_id)

    def _on_state(self, state: LinkState) -> None:
        self.status.on_link_state(state)
        if state is LinkState.CONNECTED:
            self.publisher.notify()

    # ---------------------------------------------------------------- entry points

    def present_credential(
        self,
        gate: str,
        kind: CredentialKind,
        value: str,
        direction: PassageDirection = PassageDirection.IN,
        lane: int = 0,
    ) -> EdgeEvent:
        return self.credentials.present(gate, kind, value, direction, lane)

    def handle_command(self, message: Message) -> None:
        self.commands.handle(message)

    def analyse(self, now: float | None = None) -> list[EdgeAlert]:
        return self.alerts.analyse(now)

    def health(self) -> HealthReport:
        return self.status.health()
