"""The edge agent process: everything wired together.

Always on: the event store and outbox, the MQTT link, roster sync, non-face credentials (HTTP
and reader plugins), door actuators, status, health and metrics. Face recognition (engine,
gallery, cameras) starts when it can: when its models or the template key are missing it is
switched off loudly and the gates keep working on cards, QR codes and PINs.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from edge_agent.access.actuators import Actuator, LogActuator, create_actuator
from edge_agent.access.passage import PassageDesk, PassageNotRecorded, PassageRefused
from edge_agent.access.policy import AccessPolicy
from edge_agent.access.readers import LineReader
from edge_agent.analysis.occupancy import OccupancyAnalyser
from edge_agent.cameras.source import CameraSource
from edge_agent.comms.publisher import OutboxPublisher
from edge_agent.config import EdgeConfig, ReaderConfig
from edge_agent.gallery.crypto import load_key
from edge_agent.gallery.enrol import Enroller
from edge_agent.gallery.errors import EnrolmentRefused, GalleryError
from edge_agent.gallery.gallery import DeletionReceipt, Gallery
from edge_agent.gallery.persist import StoreFiles
from edge_agent.gallery.strangers import StrangerStore
from edge_agent.gate import GateWorker
from edge_agent.http import EdgeHttpServer
from edge_agent.metrics import EdgeMetrics
from edge_agent.store.events import EventStore
from edge_agent.store.roster import InvitationRefused, RosterStore
from edge_agent.vision.engine import FaceEngine, build_engine
from edge_agent.vision.errors import VisionError
from edge_agent.vision.models import Thresholds
from gridgate_core import __version__
from gridgate_core.errors import GridgateError
from gridgate_core.mqtt import Incoming, LinkState, MqttLink, Will, settings_from_config
from gridgate_core.secrets import read_secret
from gridgate_wire import (
    AlertSuppression,
    Channel,
    CredentialKind,
    DecodeError,
    EdgeAlert,
    EdgeEvent,
    EdgeState,
    EdgeStatus,
    EnrolmentConfirmation,
    EnrolmentInvitation,
    EnrolmentStatus,
    ErasureCommand,
    ErasureConfirmation,
    HubAck,
    Message,
    PassageDirection,
    RosterAck,
    RosterUpdate,
    SubjectKind,
    decode_from_topic,
    edge_topic,
    encode,
    hub_subscription,
    new_fields,
    utc_now,
)

_LOGGER = logging.getLogger(__name__)


@dataclass
class FaceStack:
    engine: FaceEngine
    gallery: Gallery
    strangers: StrangerStore
    files: StoreFiles
    thresholds: Thresholds
    enroller: Enroller


def _thresholds_of(engine: FaceEngine) -> Thresholds:
    if engine.embedder.thresholds is None:
        raise VisionError(f"{engine.info.embedder} has no calibrated thresholds in the manifest")
    return engine.embedder.thresholds


def _alert_builder(fields: dict[str, Any]) -> Callable[[dict[str, object]], EdgeAlert]:
    return lambda common: EdgeAlert.model_validate({**common, **fields})


class EdgeAgent:
    """Long-running edge process. ``start`` returns at once; ``stop`` flushes what it can."""

    def __init__(self, config: EdgeConfig) -> None:
        self.config = config
        self.metrics = EdgeMetrics()
        self.store = EventStore(config.data_dir / "events.sqlite3", config.edge_id)
        self.roster = RosterStore(config.data_dir / "roster.sqlite3")
        self.policy = AccessPolicy(self.roster)
        self.doors: dict[str, Actuator] = {
            d.gate: create_actuator(d.actuator, d.gate) for d in config.doors
        }
        self.door_open_s = {d.gate: d.open_s for d in config.doors}
        self.desk = PassageDesk(
            self.policy,
            self.record_passage,
            self.door,
            lambda gate: self.door_open_s.get(gate, 5.0),
            self._known_gates,
            config.on_record_failure,
            self._store_alarm,
        )
        self.face_problem: str | None = None
        self.face = self._build_face_stack()
        self.sources: dict[str, CameraSource] = {}
        self.workers: dict[str, GateWorker] = {}
        if self.face is not None:
            for camera in config.cameras:
                source = CameraSource(camera)
                self.sources[camera.camera_id] = source
                self.workers[camera.camera_id] = GateWorker(
                    camera,
                    source,
                    build_engine(config.engine),  # one per camera: engines are not shared
                    self.face.gallery,
                    self.face.strangers,
                    self.face.thresholds,
                    self.policy,
                    self.door(camera.gate),
                    self.record_passage,
                    self.metrics,
                    config.pipeline,
                    self.door_open_s.get(camera.gate, 5.0),
                    desk=self.desk,
                )
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
        self.readers = [LineReader(r, self._from_reader) for r in config.readers]
        self.http: EdgeHttpServer | None = None
        if config.http.enabled:
            token = read_secret(config.http.token_secret) if config.http.token_secret else None
            self.http = EdgeHttpServer(
                config.http.bind,
                config.http.port,
                self.health,
                self._metrics_text,
                self._http_credential,
                self._http_enrol,
                token,
            )
        self.analyser = OccupancyAnalyser(config.analysis, self.roster.suppressed_until)
        self._commands: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.dead_letters = 0

    # ---------------------------------------------------------------- face stack

    def _build_face_stack(self) -> FaceStack | None:
        if not self.config.face_recognition:
            self.face_problem = "face recognition switched off in the configuration"
            return None
        try:
            engine = build_engine(self.config.engine)
            thresholds = _thresholds_of(engine)
            key = load_key(self.config.gallery.key_file, self.config.gallery.key_credential)
            files = StoreFiles(self.config.data_dir / "gallery", key)
            stores = files.load(
                engine.info.dimension,
                engine.info.name,
                thresholds.accept,
                self.config.gallery.index,
            )
        except (VisionError, GalleryError) as exc:
            self.face_problem = f"face recognition off: {exc}"
            _LOGGER.error("%s; gates run on cards, QR codes and PINs only", self.face_problem)  # noqa: TRY400
            return None
        self.metrics.gallery_templates.set(len(stores.gallery))
        return FaceStack(
            engine,
            stores.gallery,
            stores.strangers,
            files,
            thresholds,
            Enroller(engine, stores.gallery, thresholds),
        )

    def door(self, gate: str) -> Actuator:
        if gate not in self.doors:
            self.doors[gate] = LogActuator(gate)
        return self.doors[gate]

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
        self._spawn("commands", self._command_loop)
        self._spawn("status", self._status_loop)
        self._spawn("retention", self._retention_loop)
        self._spawn("analysis", self._analysis_loop)
        if self.config.demo_source.enabled:
            simulated = self.config.demo_source.mode == "simulator"
            self._spawn("demo-source", self._replay_loop if simulated else self._demo_source_loop)
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
        for source in self.sources.values():
            source.stop()
        for worker in self.workers.values():
            worker.stop()
        if self.http is not None:
            self.http.stop()
        for thread in self._threads:
            thread.join(5)
        self._save_face_stores()
        self.publisher.stop()
        if self.link.connected:
            self.link.publish(
                self._status_topic, encode(self._status(EdgeState.OFFLINE)), qos=1, retain=True
            ).wait(2.0)
        self.link.stop()
        self.store.close()
        self.roster.close()
        _LOGGER.info("edge %s stopped", self.config.edge_id)

    def _spawn(self, name: str, target: Any) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _save_face_stores(self) -> None:
        if self.face is None:
            return
        self.face.files.save_gallery(self.face.gallery)
        self.face.files.save_strangers(self.face.strangers, self.face.engine.info.name)

    # ---------------------------------------------------------------- passages

    def record_passage(self, **fields: object) -> EdgeEvent:
        """Commit one passage event and its outbox row; wake the publisher."""
        stranger = fields.pop("stranger_id", None)
        event = self.store.append_event(
            stranger_id=stranger if isinstance(stranger, str) else None, **fields
        )
        self.publisher.notify()
        return event

    def present_credential(
        self,
        gate: str,
        kind: CredentialKind,
        value: str,
        direction: PassageDirection = PassageDirection.IN,
        lane: int = 0,
    ) -> EdgeEvent:
        """A card, QR code or PIN at a gate: the same rule and the same event as a face.
        Validated, then committed, then the door opens (:mod:`edge_agent.access.passage`)."""
        event = self.desk.credential(gate, kind, value, direction, lane)
        self.metrics.events.labels(event.method.value, event.decision.value).inc()
        return event

    def _known_gates(self) -> set[str]:
        gates = set(self.doors) | {c.gate for c in self.config.cameras}
        return gates | {r.gate for r in self.config.readers}

    def _store_alarm(self) -> None:
        """The event store cannot write: tell the hub now (status warning), not at the next
        heartbeat."""
        if self.link.connected:
            self.publish_status()

    def _from_reader(self, reader: ReaderConfig, value: str) -> None:
        if reader.kind in (
            CredentialKind.QR,
            CredentialKind.PIN,
        ) and self.roster.is_invitation_code(value):
            cameras = [c.camera_id for c in self.config.cameras if c.gate == reader.gate]
            if cameras:
                self._spawn("enrol", lambda: self.enrol_with_code(value, cameras[0]))
                return
        try:
            self.present_credential(reader.gate, reader.kind, value, reader.direction, reader.lane)
        except (PassageRefused, PassageNotRecorded) as exc:
            _LOGGER.warning("reader %s at %s: %s", reader.kind.value, reader.gate, exc)

    # ---------------------------------------------------------------- enrolment

    def enrol_with_code(
        self, code: str, camera_id: str, frames: int = 8, timeout_s: float = 15.0
    ) -> tuple[bool, str]:
        """A resident presents an invitation code at a camera: capture, enrol, confirm."""
        try:
            invitation = self.roster.redeem(code)
        except InvitationRefused as exc:
            return False, exc.reason
        if self.face is None or camera_id not in self.workers:
            reason = self.face_problem or f"no camera {camera_id}"
            self._confirm_enrolment(
                invitation.invitation_id, invitation, EnrolmentStatus.REFUSED, 0, reason
            )
            return False, reason
        captured = self.workers[camera_id].capture_for_enrolment(frames, timeout_s)
        try:
            result = self.face.enroller.enrol(
                invitation.resident_id,
                invitation.house_id or "",
                invitation.consent_id,
                captured,
            )
        except EnrolmentRefused as exc:
            self._confirm_enrolment(
                invitation.invitation_id, invitation, EnrolmentStatus.REFUSED, 0, exc.reason
            )
            return False, exc.reason
        finally:
            captured.clear()  # enrolment photos are discarded once the templates exist
        self.face.files.save_gallery(self.face.gallery)
        self.metrics.gallery_templates.set(len(self.face.gallery))
        self._confirm_enrolment(
            invitation.invitation_id, invitation, EnrolmentStatus.ENROLLED, result.templates, ""
        )
        return True, f"enrolled with {result.templates} templates"

    def _confirm_enrolment(
        self,
        invitation_id: str,
        invitation: Any,
        status: EnrolmentStatus,
        templates: int,
        reason: str,
    ) -> None:
        engine = self.face.engine.info.name if self.face else ""
        self.store.append(
            Channel.ENROLMENT,
            lambda common: EnrolmentConfirmation.model_validate(
                {
                    **common,
                    "invitation_id": invitation_id,
                    "resident_id": invitation.resident_id,
                    "consent_id": invitation.consent_id,
                    "status": status,
                    "templates": templates,
                    "engine": engine,
                    "reason": reason[:200],
                }
            ),
        )
        self.publisher.notify()

    # ---------------------------------------------------------------- hub messages

    def _on_hub_message(self, incoming: Incoming) -> None:
        """MQTT thread: decode, hand acks to the publisher, queue commands for the worker."""
        try:
            message = decode_from_topic(incoming.topic, incoming.payload)
        except DecodeError as exc:
            self.dead_letters += 1
            _LOGGER.warning("dropped invalid hub message on %s: %s", incoming.topic, exc)
            return
        if isinstance(message, HubAck):
            self.publisher.on_hub_ack(str(i) for i in message.acked)
        else:
            self._commands.put(message)

    def _command_loop(self) -> None:
        while not self._stop.is_set():
            try:
                message = self._commands.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self.handle_command(message)
            except Exception:  # a bad command must not stop the others
                _LOGGER.exception("hub command %s failed", message.KIND)

    def handle_command(self, message: Message) -> None:
        if isinstance(message, RosterUpdate):
            self._apply_roster(message)
        elif isinstance(message, ErasureCommand):
            self._erase(message.resident_id, str(message.id))
        elif isinstance(message, EnrolmentInvitation):
            self.roster.add_invitation(message)
        elif isinstance(message, AlertSuppression):
            self.roster.add_suppression(message)

    def _apply_roster(self, update: RosterUpdate) -> None:
        try:
            change = self.roster.apply(update)
        except ValueError as exc:
            self._ack_roster(update.roster_version, applied=False, error=str(exc))
            return
        if change.pending:  # a part of a split snapshot: acknowledged once all are applied
            return
        for resident_id in change.face_revoked:
            self._erase(resident_id, None)
        if self.face is not None:
            for resident in self.roster.residents():
                self.face.gallery.update_house(resident.resident_id, resident.house_id)
        self._ack_roster(update.roster_version, applied=True, error="")

    def _ack_roster(self, version: int, applied: bool, error: str) -> None:
        self.store.append(
            Channel.ROSTER_ACK,
            lambda common: RosterAck.model_validate(
                {**common, "roster_version": version, "applied": applied, "error": error[:500]}
            ),
        )
        self.publisher.notify()

    def _erase(self, resident_id: str, erasure_id: str | None) -> DeletionReceipt | None:
        receipt = None
        if self.face is not None:
            vectors = self.face.gallery.template_vectors(resident_id)
            receipt = self.face.gallery.erase(resident_id)
            self.face.strangers.forget_similar(vectors)
            for v in vectors:
                v.fill(0)
            self._save_face_stores()
            self.metrics.gallery_templates.set(len(self.face.gallery))
        deleted = receipt.templates_deleted if receipt else 0
        deleted_at = receipt.deleted_at if receipt else datetime.now(UTC)
        self.store.append(
            Channel.ERASURE,
            lambda common: ErasureConfirmation.model_validate(
                {
                    **common,
                    "erasure_id": erasure_id,
                    "resident_id": resident_id,
                    "templates_deleted": deleted,
                    "deleted_at": deleted_at,
                }
            ),
        )
        self.publisher.notify()
        _LOGGER.info("erased %s: %d templates", resident_id, deleted)
        return receipt

    # ---------------------------------------------------------------- status, health

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

    def _status(self, state: EdgeState) -> EdgeStatus:
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

    def publish_status(self) -> None:
        status = self._status(EdgeState.ONLINE)
        self.metrics.outbox_depth.set(status.outbox_depth)
        self.metrics.disk_budget_used.set(status.disk_budget_used)
        for warning in status.warnings:
            if "disk budget" in warning:
                _LOGGER.error("DISK BUDGET: %s", warning)
        self.link.publish(self._status_topic, encode(status), qos=1, retain=True)

    def health(self) -> tuple[bool, dict[str, Any]]:
        depth = self.store.outbox_depth()
        details = {
            "edge_id": self.config.edge_id,
            "broker_connected": self.link.connected,
            "outbox_depth": depth,
            "face_recognition": self.face is not None,
            "face_problem": self.face_problem,
            "gallery_templates": len(self.face.gallery) if self.face else 0,
            "cameras": {
                cid: {"connected": s.connected, "dropped": s.frames_dropped}
                for cid, s in self.sources.items()
            },
        }
        details["event_store"] = self.desk.warning() or "ok"
        return self.desk.alarm is None, details

    def _metrics_text(self) -> bytes:
        self.metrics.outbox_depth.set(self.store.outbox_depth())
        self.metrics.broker_connected.set(1 if self.link.connected else 0)
        return self.metrics.render()

    def _http_credential(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            kind = CredentialKind(str(body["kind"]))
            gate = str(body["gate"])
            value = str(body["value"])
            direction = PassageDirection(str(body.get("direction", "in")))
            lane = body.get("lane", 0)
        except (KeyError, ValueError) as exc:
            return 400, {"error": f"bad request: {exc}"}
        if kind in (CredentialKind.QR, CredentialKind.PIN) and self.roster.is_invitation_code(
            value
        ):
            cameras = [c.camera_id for c in self.config.cameras if c.gate == gate]
            if not cameras:
                return 409, {"error": "enrolment code, but no camera at this gate"}
            self._spawn("enrol", lambda: self.enrol_with_code(value, cameras[0]))
            return 202, {"enrolment": "started", "camera": cameras[0]}
        try:
            event = self.present_credential(gate, kind, value, direction, lane)
        except PassageRefused as exc:
            return exc.status, {"error": exc.reason}
        except PassageNotRecorded as exc:
            return 503, {"decision": exc.decision.value, "reason": exc.reason, "recorded": False}
        return 200, {
            "decision": event.decision.value,
            "reason": event.reason,
            "event_id": str(event.id),
        }

    def _http_enrol(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        code, camera = str(body.get("code", "")), str(body.get("camera", ""))
        if not code or not camera:
            return 400, {"error": "code and camera are required"}
        ok, reason = self.enrol_with_code(code, camera)
        return (200 if ok else 409), {"enrolled": ok, "reason": reason}

    # ---------------------------------------------------------------- loops

    def _on_state(self, state: LinkState) -> None:
        self.metrics.broker_connected.set(1 if state is LinkState.CONNECTED else 0)
        if state is LinkState.CONNECTED:
            self.publisher.notify()

    def _status_loop(self) -> None:
        was_connected = False
        while not self._stop.is_set():
            if self.link.connected:
                try:
                    self.publish_status()
                except GridgateError:
                    _LOGGER.exception("status not published")
                was_connected = True
            else:
                was_connected = False
            self._stop.wait(self.config.status_interval_s if was_connected else 0.5)

    def analyse(self, now: float | None = None) -> list[EdgeAlert]:
        """Fold new events into the analyser, and commit any alerts to the outbox."""
        self.analyser.sync_roster(
            (r.resident_id, r.house_id, r.care_recipient) for r in self.roster.residents()
        )
        while batch := self.store.events_after(self.analyser.last_seq, 20_000):
            self.analyser.process(batch)
        sent = []
        for alert in self.analyser.tick(now if now is not None else time.time()):
            fields = {
                "kind": alert.kind,
                "compound_id": self.config.compound_id,
                "house_id": alert.house_id,
                "resident_id": alert.resident_id,
                "detected_at": alert.detected_at,
                "confidence": alert.confidence,
                "evidence": alert.evidence,
            }
            sent.append(self.store.append(Channel.ALERT, _alert_builder(fields)))
            _LOGGER.info("alert %s for house %s", alert.kind.value, alert.house_id or "?")
        if sent:
            self.publisher.notify()
        return sent

    def _analysis_loop(self) -> None:
        while not self._stop.wait(self.config.analysis_interval_s):
            try:
                self.analyse()
            except Exception:  # analysis must never stop the gate
                _LOGGER.exception("occupancy analysis failed")

    def _retention_loop(self) -> None:
        while not self._stop.wait(self.config.retention.purge_interval_s):
            cutoff = datetime.now(UTC) - timedelta(days=self.config.retention.event_days)
            purged = self.store.purge_events_before(cutoff)
            if purged:
                _LOGGER.info("retention purge removed %d events before %s", purged, cutoff)
            if self.face is not None:
                gone = self.face.strangers.expire(
                    datetime.now(UTC), timedelta(days=self.config.gallery.stranger_retention_days)
                )
                if gone:
                    self.face.files.save_strangers(self.face.strangers, self.face.engine.info.name)
                    _LOGGER.info("retention purge removed %d strangers", len(gone))

    def _replay_loop(self) -> None:
        """Demo: replay a simulated compound, compressed, through the real store and analyser."""
        from edge_agent.sim.compound import demo_scenario, simulate
        from gridgate_wire import RosterConsent, RosterResident, RosterUpdate

        demo = self.config.demo_source
        sim = simulate(demo_scenario(demo.households, demo.days))
        residents = [
            RosterResident(
                resident_id=r.resident_id,
                house_id=r.house_id,
                care_recipient=r.care_recipient,
                face_consent=None
                if r.card_user
                else RosterConsent(
                    consent_id=f"C-{r.resident_id}", version="demo", granted_at=utc_now()
                ),
            )
            for r in sim.residents
        ]
        self.roster.apply(
            RosterUpdate(
                **new_fields(), edge_id=self.config.edge_id, roster_version=1, residents=residents
            )
        )
        _LOGGER.info(
            "replaying %d simulated days of %d households (%d residents, %d passages); "
            "scripted changes: %s",
            demo.days,
            demo.households,
            len(sim.residents),
            len(sim.events),
            ", ".join(f"{t.kind} {t.house_id}" for t in sim.truths),
        )
        start = sim.config.start.timestamp()
        cursor = 0
        for hour in range(demo.days * 24):
            if self._stop.wait(demo.seconds_per_day / 24):
                return
            now = start + (hour + 1) * 3600
            while cursor < len(sim.events) and sim.events[cursor].occurred_at <= now:
                e = sim.events[cursor]
                cursor += 1
                self.record_passage(
                    occurred_at=datetime.fromtimestamp(e.occurred_at, UTC),
                    gate=e.gate,
                    direction=e.direction,
                    method=e.method,
                    subject=e.subject,
                    resident_id=e.resident_id,
                    house_id=e.house_id,
                    score=e.score,
                    quality=e.quality,
                    decision=e.decision,
                    stranger_id=e.stranger_id,
                )
            self.analyse(now)
            if hour % 24 == 23:
                _LOGGER.info("simulated day %d done (%d passages so far)", hour // 24 + 1, cursor)

    def _demo_source_loop(self) -> None:
        import random

        rng = random.Random(7)  # noqa: S311 - synthetic demo passages, not security
        while not self._stop.wait(self.config.demo_source.interval_s):
            resident = rng.randrange(1, 40)
            event = self.record_passage(
                occurred_at=utc_now(),
                gate="north",
                direction=rng.choice([PassageDirection.IN, PassageDirection.OUT]),
                method="card",
                subject=SubjectKind.RESIDENT,
                resident_id=f"R{resident:04d}",
                house_id=f"H{resident // 2:03d}",
                decision="grant",
            )
            _LOGGER.info(
                "passage seq=%d %s %s by card: %s",
                event.seq,
                event.resident_id,
                event.direction.value,
                event.decision.value,
            )
