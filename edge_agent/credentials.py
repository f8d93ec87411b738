"""Cards, QR codes and PINs, from the HTTP endpoint and from reader plugins alike.

An enrolment code presented as a QR code or PIN starts an enrolment at the gate's camera
instead of a passage; everything else goes through the passage desk's one door path. Both come
after the desk's throttle, and enrolment starts are limited per gate (``StartLimit``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

from edge_agent.access.passage import PassageDesk
from edge_agent.access.readers import LineReaderConfig
from edge_agent.enrolment import EnrolmentOutcome, EnrolmentService
from edge_agent.errors import PassageNotRecorded, PassageRefused
from edge_agent.loops import BackgroundLoops
from edge_agent.metrics import EdgeMetrics
from gridgate_wire import CredentialKind, EdgeEvent, PassageDirection

_LOGGER = logging.getLogger(__name__)


# An enrolment is a resident at the gate camera for a few seconds; more starts than this at one
# gate in the window is someone trying codes (a hit would enrol their face as the resident).
ENROLMENT_STARTS = 3
ENROLMENT_WINDOW_S = 600.0


class StartLimit:
    """At most ``limit`` starts per gate per ``window_s``."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._starts: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, gate: str) -> bool:
        now = time.monotonic()
        with self._lock:
            for key in [k for k, t in self._starts.items() if now - t[-1] > self.window_s]:
                del self._starts[key]
            times = self._starts.setdefault(gate, deque())
            while times and now - times[0] > self.window_s:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True


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
        self.enrolment_starts = StartLimit(ENROLMENT_STARTS, ENROLMENT_WINDOW_S)

    def present(
        self,
        gate: str,
        kind: CredentialKind,
        value: str,
        direction: PassageDirection = PassageDirection.IN,
        lane: object = 0,
        *,
        caller: str | None = None,
        trusted_direction: bool = True,
    ) -> EdgeEvent:
        """A card, QR code or PIN at a gate: the same rule and the same event as a face.
        Validated (``lane`` as sent: anything but an int 0-255 is refused), then committed,
        then the door opens (:mod:`edge_agent.access.passage`)."""
        event = self.desk.credential(
            gate, kind, value, direction, lane, caller=caller, trusted_direction=trusted_direction
        )
        self.metrics.events.labels(event.method.value, event.decision.value).inc()
        return event

    def present_or_enrol(
        self,
        gate: str,
        kind: CredentialKind,
        value: str,
        direction: PassageDirection = PassageDirection.IN,
        lane: object = 0,
        *,
        caller: str | None = None,
        trusted_direction: bool = True,
    ) -> EdgeEvent | EnrolmentStarted:
        """An enrolment code starts an enrolment, anything else is a passage; the throttle is
        checked first either way (429 whatever the value), so codes cannot be guessed faster
        than PINs, and enrolment starts are limited per gate. Raises :class:`PassageRefused`."""
        credential, keys = self.desk.screen(gate, kind, value, lane, caller)
        if self.enrolment.is_code(credential, value):
            if not self.enrolment_starts.allow(gate):
                raise PassageRefused(429, "too many enrolments at this gate; wait and try again")
            camera = self.enrolment.camera_at(gate)
            if camera is not None:
                self.loops.once("enrol", lambda: self.enrolment.enrol_with_code(value, camera))
            return EnrolmentStarted(camera)
        event = self.desk.decide(gate, credential, value, direction, lane, keys, trusted_direction)
        self.metrics.events.labels(event.method.value, event.decision.value).inc()
        return event

    def enrol_at_kiosk(self, code: str, camera: str, caller: str | None = None) -> EnrolmentOutcome:
        """``POST /enrol``: the same throttle as a code at a gate reader (per kiosk camera and
        per caller; a refused code counts), and the same limit on starts. Raises
        :class:`PassageRefused` (429) while locked out."""
        keys = self.desk.throttle.keys(f"kiosk-{camera[:48]}", "enrol", caller)
        if self.desk.throttle.blocked(keys):
            raise PassageRefused(429, "too many refusals at this kiosk; wait and try again")
        if not self.enrolment.is_code(CredentialKind.QR, code):
            self.desk.throttle.refused(keys)
            return EnrolmentOutcome(False, "unknown code")
        if not self.enrolment_starts.allow(f"kiosk:{camera}"):
            raise PassageRefused(429, "too many enrolments at this kiosk; wait and try again")
        outcome = self.enrolment.enrol_with_code(code, camera)
        if not outcome.enrolled:
            self.desk.throttle.refused(keys)
        return outcome

    def from_reader(self, reader: LineReaderConfig, value: str) -> None:
        try:
            outcome = self.present_or_enrol(
                reader.gate, reader.kind, value, reader.direction, reader.lane
            )
            if isinstance(outcome, EnrolmentStarted) and outcome.camera is None:
                _LOGGER.warning("enrolment code at %s, which has no camera", reader.gate)
        except (PassageRefused, PassageNotRecorded) as exc:
            _LOGGER.warning("reader %s at %s: %s", reader.kind.value, reader.gate, exc)
