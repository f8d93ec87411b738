"""The door path, in one order for every way in: validate, decide, commit, then open.

1. A credential is checked first (known gate, lane 0-255, kind, value length). An invalid one
   opens nothing, and counts against the throttle like a refusal.
2. Refusals are throttled per gate, lane and credential kind (``CredentialThrottle``), whatever
   the source: PIN guessing through the HTTP endpoint and through a line reader meet the same
   limit, and one noisy client cannot block a whole reader for the residents behind it.
3. :meth:`PassageDesk.admit` (faces and credentials alike) commits the passage to the event
   store (with its outbox row) before the door opens. When the store cannot write,
   ``on_record_failure`` decides: ``deny`` (default) keeps the door shut; ``open`` lets a granted
   resident through unrecorded. Either way the agent raises an alarm (status warning to the hub,
   failing ``/healthz``) until a write succeeds again.
4. A door that then fails to open is recorded as a second, denying event.

Whatever grants a passage (the roster rule, a visitor pass, a duress PIN) hands ``admit`` a
passage carrying that verdict; ``admit`` is the only code that opens a door. What
must follow an admitted passage (door-state tracking, a silent duress alarm) subscribes as an
:class:`AdmitObserver`; an observer that fails is logged and never changes the door's outcome.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from edge_agent.access.actuators import GateDoor
from edge_agent.access.policy import AccessPolicy, method_of
from edge_agent.errors import PassageNotRecorded, PassageRefused
from edge_agent.recorder import PassageRecorder
from edge_agent.store.rows import Passage
from gridgate_wire import (
    CredentialKind,
    Decision,
    EdgeEvent,
    PassageDirection,
    utc_now,
)

_LOGGER = logging.getLogger(__name__)

OnRecordFailure = Literal["deny", "open"]
_GATE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
MAX_CREDENTIAL = 256
DOOR_FAILED = "door actuator failed"


class CredentialThrottle:
    """At most ``limit`` refusals per (gate, lane, kind) per ``window_s``; then refuse at once."""

    def __init__(self, limit: int = 10, window_s: float = 60.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._seen: dict[tuple[str, int, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, key: tuple[str, int, str]) -> bool:
        now = time.monotonic()
        with self._lock:
            times = self._seen[key]
            while times and now - times[0] > self.window_s:
                times.popleft()
            if not times:
                del self._seen[key]
            return len(times) >= self.limit

    def refused(self, key: tuple[str, int, str]) -> None:
        with self._lock:
            self._seen[key].append(time.monotonic())


class AdmitObserver(Protocol):
    def admitted(self, passage: Passage, event: EdgeEvent, door_opened: bool) -> None: ...


@dataclass
class RecordAlarm:
    """The store's last write failure, cleared by the next successful write."""

    since: float
    error: str


class PassageDesk:
    def __init__(
        self,
        policy: AccessPolicy,
        recorder: PassageRecorder,
        door: Callable[[str], GateDoor],
        gates: Callable[[], set[str]],
        on_record_failure: OnRecordFailure = "deny",
        on_alarm: Callable[[], None] | None = None,
        throttle: CredentialThrottle | None = None,
    ) -> None:
        self.policy = policy
        self._recorder = recorder
        self._door = door
        self._gates = gates
        self.on_record_failure: OnRecordFailure = on_record_failure
        self._on_alarm = on_alarm
        self.throttle = throttle or CredentialThrottle()
        self.alarm: RecordAlarm | None = None
        self.unrecorded_openings = 0
        self.observers: list[AdmitObserver] = []

    # ------------------------------------------------------------------ credentials

    def _validate(self, gate: str, kind: object, value: str, lane: object) -> CredentialKind:
        known = self._gates()
        if not isinstance(gate, str) or not _GATE.match(gate):
            raise PassageRefused(400, "gate is not a gate id")
        if known and gate not in known:
            raise PassageRefused(400, f"no gate {gate!r} at this edge")
        if type(lane) is not int or not 0 <= lane <= 255:
            raise PassageRefused(400, "lane must be an integer 0-255")
        try:
            credential = CredentialKind(str(kind))
        except ValueError:
            raise PassageRefused(400, "kind must be card, qr or pin") from None
        if not isinstance(value, str) or not 0 < len(value) <= MAX_CREDENTIAL:
            raise PassageRefused(400, f"value must be 1-{MAX_CREDENTIAL} characters")
        return credential

    def credential(
        self,
        gate: str,
        kind: object,
        value: str,
        direction: PassageDirection = PassageDirection.IN,
        lane: object = 0,
    ) -> EdgeEvent:
        """A card, QR code or PIN at a gate. Raises :class:`PassageRefused` (door shut, nothing
        recorded) or :class:`PassageNotRecorded`; returns the committed event otherwise."""
        key = (
            gate if isinstance(gate, str) and _GATE.match(gate) else "?",
            lane if type(lane) is int and 0 <= lane <= 255 else -1,
            str(kind)[:8],
        )
        if self.throttle.blocked(key):
            raise PassageRefused(429, "too many refusals at this lane; wait a minute")
        try:
            credential = self._validate(gate, kind, value, lane)
        except PassageRefused:
            self.throttle.refused(key)
            raise
        lane_no = int(str(lane))  # an int 0-255: checked by _validate
        now = utc_now()
        # A pass counts entries: leaving through an exit reader costs no use.
        verdict = self.policy.for_credential(
            credential, value, gate, now, count_use=direction is not PassageDirection.OUT
        )
        if not verdict.granted:
            self.throttle.refused(key)
        resident = verdict.resident
        passage = Passage(
            occurred_at=now,
            gate=gate,
            lane=lane_no,
            direction=direction,
            method=method_of(credential),
            subject=verdict.subject,
            resident_id=resident.resident_id if resident else None,
            house_id=verdict.house_id,
            decision=verdict.decision,
            reason=verdict.reason,
            pass_id=verdict.pass_id,
            duress=verdict.duress,
        )
        return self.admit(passage, self._door(gate))

    # ------------------------------------------------------------------ commit, then open

    def door(self, gate: str) -> GateDoor:
        return self._door(gate)

    def admit(self, passage: Passage, door: GateDoor, *, open_door: bool = True) -> EdgeEvent:
        """Record the passage, then open ``door`` for a granted one (unless ``open_door`` is
        false, as for a tailgater). See the module docstring for a failing store."""
        opens = passage.granted and open_door
        try:
            event = self._recorder.record(passage)
        except Exception as exc:  # any store failure follows the policy
            self._raise_alarm(exc)
            opened = False
            if opens and self.on_record_failure == "open":
                opened = door.open()
                self.unrecorded_openings += int(opened)
            raise PassageNotRecorded(
                passage.decision if opened else Decision.DENY,
                f"passage not recorded ({self.on_record_failure}): {exc}",
                opened,
            ) from exc
        self.alarm = None
        opened = opens and door.open()
        if opens and not opened:
            _LOGGER.error("gate %s: door actuator failed after a granted passage", door.gate)
            try:
                event = self._recorder.record(passage.denied(DOOR_FAILED))
            except Exception as exc:  # noqa: BLE001 - the grant is recorded; alarm only
                self._raise_alarm(exc)
        self._tell_observers(passage, event, opened)
        return event

    def _tell_observers(self, passage: Passage, event: EdgeEvent, opened: bool) -> None:
        for observer in self.observers:
            try:
                observer.admitted(passage, event, opened)
            except Exception:  # the door has done its part; an observer must not undo it
                _LOGGER.exception("admit observer %r failed", observer)

    def _raise_alarm(self, exc: BaseException) -> None:
        if self.alarm is None:
            self.alarm = RecordAlarm(time.time(), f"{type(exc).__name__}: {exc}"[:180])
        _LOGGER.error("EVENT STORE CANNOT WRITE (%s): %s", self.on_record_failure, exc)
        if self._on_alarm is not None:
            try:
                self._on_alarm()
            except Exception:  # the alarm is best effort; the gate keeps deciding
                _LOGGER.exception("publishing the store alarm failed")

    def warning(self) -> str | None:
        """The status warning the hub sees while the store cannot write."""
        if self.alarm is None:
            return None
        return f"event store cannot write since {time.ctime(self.alarm.since)}: {self.alarm.error}"
