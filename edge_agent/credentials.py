"""Cards, QR codes and PINs, from the HTTP endpoint and from reader plugins alike.

An enrolment code presented as a QR code or PIN starts an enrolment at the gate's camera
instead of a passage; everything else goes through the passage desk's one door path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from edge_agent.access.passage import PassageDesk
from edge_agent.access.readers import LineReaderConfig
from edge_agent.enrolment import EnrolmentService
from edge_agent.errors import PassageNotRecorded, PassageRefused
from edge_agent.loops import BackgroundLoops
from edge_agent.metrics import EdgeMetrics
from gridgate_wire import CredentialKind, EdgeEvent, PassageDirection

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EnrolmentStarted:
    """The credential was an enrolment code; ``camera`` enrols it (None: no camera there)."""

    camera: str | None


class CredentialService:
    def __init__(
        self,
        desk: PassageDesk,
        enrolment: EnrolmentService,
        loops: BackgroundLoops,
        metrics: EdgeMetrics,
    ) -> None:
        self.desk = desk
        self.enrolment = enrolment
        self.loops = loops
        self.metrics = metrics

    def present(
        self,
        gate: str,
        kind: CredentialKind,
        value: str,
        direction: PassageDirection = PassageDirection.IN,
        lane: object = 0,
    ) -> EdgeEvent:
        """A card, QR code or PIN at a gate: the same rule and the same event as a face.
        Validated (``lane`` as sent: anything but an int 0-255 is refused), then committed,
        then the door opens (:mod:`edge_agent.access.passage`)."""
        event = self.desk.credential(gate, kind, value, direction, lane)
        self.metrics.events.labels(event.method.value, event.decision.value).inc()
        return event

    def enrolment_code(
        self, gate: str, kind: CredentialKind, value: str
    ) -> EnrolmentStarted | None:
        """Start enrolling if ``value`` is an enrolment code and the gate has a camera."""
        if not self.enrolment.is_code(kind, value):
            return None
        camera = self.enrolment.camera_at(gate)
        if camera is not None:
            self.loops.once("enrol", lambda: self.enrolment.enrol_with_code(value, camera))
        return EnrolmentStarted(camera)

    def from_reader(self, reader: LineReaderConfig, value: str) -> None:
        started = self.enrolment_code(reader.gate, reader.kind, value)
        if started is not None and started.camera is not None:
            return
        try:
            self.present(reader.gate, reader.kind, value, reader.direction, reader.lane)
        except (PassageRefused, PassageNotRecorded) as exc:
            _LOGGER.warning("reader %s at %s: %s", reader.kind.value, reader.gate, exc)
