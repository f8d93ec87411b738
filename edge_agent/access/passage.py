"""The door path, in one order for every way in: validate, decide, commit, then open.

1. A credential is checked first (known gate, lane 0-255, kind, value length). An invalid one
   opens nothing, and counts against the throttle like a refusal.
2. Refusals are throttled per gate, lane and credential kind (``CredentialThrottle``), whatever
   the source: PIN guessing through the HTTP endpoint and through a line reader meet the same
   limit, and one noisy client cannot block a whole reader for the residents behind it.
3. The passage is committed to the event store (with its outbox row) before the door opens.
   When the store cannot write, ``on_record_failure`` decides: ``deny`` (default) keeps the door
   shut; ``open`` lets a granted resident through unrecorded. Either way the agent raises an
   alarm (status warning to the hub, failing ``/healthz``) until a write succeeds again.
4. A door that then fails to open is recorded as a second, denying event.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from edge_agent.access.actuators import Actuator
from edge_agent.access.policy import AccessPolicy, GateDecision, method_of
from gridgate_wire import (
    CredentialKind,
    Decision,
    EdgeEvent,
    PassageDirection,
    SubjectKind,
    utc_now,
)

_LOGGER = logging.getLogger(__name__)

OnRecordFailure = Literal["deny", "open"]
_GATE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
MAX_CREDENTIAL = 256


class PassageRefused(Exception):
    """The attempt is not a passage: malformed (400) or throttled (429). The door stays shut."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class PassageNotRecorded(Exception):
    """The store could not write the passage; ``opened`` says what ``on_record_failure`` did."""

    def __init__(self, decision: Decision, reason: str, opened: bool) -> None:
        super().__init__(reason)
        self.decision = decision
        self.reason = reason
        self.opened = opened


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


@dataclass
class RecordAlarm:
    """The store's last write failure, cleared by the next successful write."""

    since: float
    error: str


Recorder = Callable[..., EdgeEvent]


class PassageDesk:
    def __init__(
        self,
        policy: AccessPolicy,
        record: Recorder,
        door: Callable[[str], Actuator],
        open_s: Callable[[str], float],
        gates: Callable[[], set[str]],
        on_record_failure: OnRecordFailure = "deny",
        on_alarm: Callable[[], None] | None = None,
        throttle: CredentialThrottle | None = None,
    ) -> None:
        self.policy = policy
        self._record = record
        self._door = door
        self._open_s = open_s
        self._gates = gates
        self.on_record_failure: OnRecordFailure = on_record_failure
        self._on_alarm = on_alarm
        self.throttle = throttle or CredentialThrottle()
        self.alarm: RecordAlarm | None = None
        self.unrecorded_openings = 0

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
        verdict = self.policy.for_credential(credential, value, gate)
        if not verdict.granted:
            self.throttle.refused(key)
        resident = verdict.resident
        return self.commit(
            gate,
            verdict,
            occurred_at=utc_now(),
            gate=gate,
            lane=lane_no,
            direction=direction,
            method=method_of(credential),
            subject=SubjectKind.RESIDENT if resident else SubjectKind.UNKNOWN,
            resident_id=resident.resident_id if resident else None,
            house_id=resident.house_id if resident else None,
        )

    # ------------------------------------------------------------------ commit, then open

    def commit(
        self,
        door_gate: str,
        verdict: GateDecision,
        *,
        open_door: bool = True,
        actuator: Actuator | None = None,
        **fields: object,
    ) -> EdgeEvent:
        """Record the passage, then open the door for a granted one (unless ``open_door`` is
        false, as for a tailgater) with ``actuator`` (default: the gate's door). See the module
        docstring for a failing store."""
        door = actuator or self._door(door_gate)
        reason = str(fields.pop("reason", verdict.reason))
        try:
            event = self._record(decision=verdict.decision, reason=reason, **fields)
        except Exception as exc:  # any store failure follows the policy
            self._raise_alarm(exc)
            opened = False
            if verdict.granted and open_door and self.on_record_failure == "open":
                opened = door.open(self._open_s(door_gate))
                self.unrecorded_openings += int(opened)
            raise PassageNotRecorded(
                verdict.decision if opened else Decision.DENY,
                f"passage not recorded ({self.on_record_failure}): {exc}",
                opened,
            ) from exc
        self.alarm = None
        if verdict.granted and open_door and not door.open(self._open_s(door_gate)):
            _LOGGER.error("gate %s: door actuator failed after a granted passage", door_gate)
            try:
                return self._record(decision=Decision.DENY, reason="door actuator failed", **fields)
            except Exception as exc:  # noqa: BLE001 - the grant is recorded; alarm only
                self._raise_alarm(exc)
        return event

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
