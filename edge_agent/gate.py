"""One gate camera's worker: frames -> track decisions -> identity -> gate decision -> event.

Each track gets one decision: the fused embedding of its best frames is matched against the
gallery (open-set: threshold and margin); a resident is then checked against the roster by the
same rule as a card; an unknown face gets a pseudonymous stranger id that stays on this box.
A granted passage goes through the same :meth:`~edge_agent.access.passage.PassageDesk.admit`
as a card: committed to the event store first, and only then the gate's door opens (a store that
cannot write follows ``on_record_failure``); any further track decided while the door is open is
recorded as tailgating.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from edge_agent.access.passage import PassageDesk
from edge_agent.access.policy import AccessPolicy
from edge_agent.cameras.config import CameraConfig
from edge_agent.cameras.source import CameraSource, CapturedFrame
from edge_agent.errors import PassageNotRecorded
from edge_agent.gallery.gallery import Gallery
from edge_agent.gallery.strangers import StrangerStore
from edge_agent.metrics import EdgeMetrics
from edge_agent.store.rows import Passage
from edge_agent.vision.engine import FaceEngine
from edge_agent.vision.models import Thresholds
from edge_agent.vision.pipeline import FacePipeline, TrackReady
from edge_agent.vision.pipeline_config import PipelineConfig
from edge_agent.vision.tracking import EntryLine
from edge_agent.vision.types import Frame, Vector
from gridgate_wire import Decision, EdgeEvent, PassageDirection, PassageMethod, SubjectKind

_LOGGER = logging.getLogger(__name__)


@dataclass
class EnrolmentCapture:
    """Frames requested by an enrolment: filled by the worker, consumed by the enroller."""

    wanted: int
    deadline: float
    frames: list[Frame] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True, slots=True)
class FaceOutcome:
    event: EdgeEvent
    latency_s: float


class GateWorker:
    """Keyword arguments only: the parts are many and several share a type."""

    def __init__(
        self,
        camera: CameraConfig,
        *,
        source: CameraSource,
        engine: FaceEngine,
        gallery: Gallery,
        strangers: StrangerStore,
        thresholds: Thresholds,
        policy: AccessPolicy,
        desk: PassageDesk,
        metrics: EdgeMetrics,
        pipeline: PipelineConfig | None = None,
    ) -> None:
        self.camera = camera
        self.source = source
        self.engine = engine
        self.gallery = gallery
        self.strangers = strangers
        self.thresholds = thresholds
        self.policy = policy
        self.desk = desk
        self.metrics = metrics
        line = None
        if camera.entry_line is not None:
            line = EntryLine(camera.entry_line.a, camera.entry_line.b, camera.entry_line.inside)
        self.pipeline = FacePipeline(engine, pipeline, line, self._confident)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._door_open_until = 0.0
        self._frame_times: dict[int, tuple[float, float]] = {}  # index -> (scene, read) time
        self._capture: EnrolmentCapture | None = None
        self.outcomes: list[FaceOutcome] = []
        self.frames = 0
        self._fps_window: list[float] = []
        self._drained = False

    def _confident(self, vector: Vector) -> bool:
        return self.gallery.identify(vector, self.thresholds).matched

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"gate-{self.camera.camera_id}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def idle(self) -> bool:
        """True once a finished file source has been analysed completely."""
        return self.source.finished and self.source.backlog == 0 and self._drained

    def capture_for_enrolment(self, frames: int, timeout_s: float) -> list[Frame]:
        request = EnrolmentCapture(frames, time.monotonic() + timeout_s)
        self._capture = request
        request.done.wait(timeout_s + 1)
        self._capture = None
        return request.frames

    # ------------------------------------------------------------------ loop

    def _run(self) -> None:
        label = self.camera.camera_id
        while not self._stop.is_set():
            item = self.source.get(0.2)
            self.metrics.camera_connected.labels(label).set(1 if self.source.connected else 0)
            self.metrics.frames_dropped.labels(label).set(self.source.frames_dropped)
            if item is None:
                if self.source.finished and not self._drained:
                    last = max((t for t, _ in self._frame_times.values()), default=time.time())
                    for track in self.pipeline.flush():
                        self._decide(track, last)
                    self._drained = True
                continue
            try:
                self._analyse(item)
            except Exception:  # one bad frame must not stop the gate
                _LOGGER.exception("camera %s: frame %d failed", label, item.index)

    def _crop(self, frame: Frame) -> tuple[Frame, int, int]:
        if self.camera.region is None:
            return frame, 0, 0
        x1, y1, x2, y2 = self.camera.region
        return frame[y1:y2, x1:x2], x1, y1

    def _analyse(self, item: CapturedFrame) -> None:
        label = self.camera.camera_id
        self.frames += 1
        self.metrics.frames.labels(label).inc()
        now = time.monotonic()
        self._fps_window = [t for t in self._fps_window if now - t < 5.0] + [now]
        self.metrics.camera_fps.labels(label).set(len(self._fps_window) / 5.0)
        capture = self._capture
        if capture is not None and not capture.done.is_set():
            if len(capture.frames) < capture.wanted and time.monotonic() < capture.deadline:
                capture.frames.append(item.frame.copy())
            if len(capture.frames) >= capture.wanted or time.monotonic() >= capture.deadline:
                capture.done.set()
            return  # while enrolling, this camera is a kiosk: no gate decisions
        frame, _, _ = self._crop(item.frame)
        self._frame_times[item.index] = (item.captured_at, item.read_at)
        for track in self.pipeline.process(frame, item.index):
            self._decide(track, item.captured_at)
        if len(self._frame_times) > 1000:
            oldest = item.index - 500
            self._frame_times = {k: v for k, v in self._frame_times.items() if k >= oldest}

    def _direction(self, track: TrackReady) -> PassageDirection:
        if self.camera.direction == "in":
            return PassageDirection.IN
        if self.camera.direction == "out":
            return PassageDirection.OUT
        return track.direction

    def _decide(self, track: TrackReady, seen_at: float) -> None:
        identity = self.gallery.identify(track.embedding, self.thresholds)
        stranger_id = None
        if identity.matched:
            exiting = self._direction(track) is PassageDirection.OUT
            verdict = self.policy.for_face(
                identity.resident_id, self.camera.gate, "", exiting=exiting
            )
            subject = SubjectKind.RESIDENT
        else:
            stranger_id = self.strangers.assign(track.embedding, datetime.now(UTC)).stranger_id
            verdict = self.policy.for_face(
                None, self.camera.gate, f"unknown face ({identity.reason})"
            )
            subject = SubjectKind.STRANGER
        now = seen_at  # scene time of the deciding frame
        tailgating = now < self._door_open_until
        if tailgating:
            self.metrics.tailgating.inc()
        first_seen, first_read = self._frame_times.get(track.first_frame, (seen_at, time.time()))
        passage = Passage(
            occurred_at=datetime.fromtimestamp(first_seen, UTC),
            gate=self.camera.gate,
            lane=self.camera.lane,
            direction=self._direction(track),
            method=PassageMethod.FACE,
            subject=subject,
            resident_id=identity.resident_id if identity.matched else None,
            house_id=identity.house_id if identity.matched else None,
            score=max(-1.0, min(1.0, identity.score)),
            quality=max(0.0, min(1.0, track.quality)),
            decision=verdict.decision,
            reason=verdict.reason if not tailgating else f"{verdict.reason}; tailgating",
            tailgating=tailgating,
            stranger_id=stranger_id,
        )
        door = self.desk.door(self.camera.gate)
        try:
            event = self.desk.admit(passage, door, open_door=not tailgating)
        except PassageNotRecorded as exc:
            _LOGGER.warning("camera %s: %s", self.camera.camera_id, exc.reason)
            if exc.opened:
                self._door_open_until = now + door.open_s
            return
        if event.decision is Decision.GRANT and not tailgating:
            self._door_open_until = now + door.open_s
        latency = max(0.0, time.time() - first_read)
        self.metrics.decision_latency.observe(latency)
        self.metrics.events.labels("face", event.decision.value).inc()
        self.outcomes.append(FaceOutcome(event, latency))
        del self.outcomes[:-1000]
