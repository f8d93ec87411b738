"""The door path, in one order for every way in: validate, decide, commit, then open.

1. A credential is checked first (known gate, lane 0-255, kind, value length). An invalid one
   opens nothing, and counts against the throttle like a refusal.
2. Refusals are throttled per gate and credential kind, and per caller address where known
   (``CredentialThrottle``), whatever the source and whatever lane number is sent: PIN guessing
   through the HTTP endpoint and through a line reader meet the same limit, the lockout grows
   with each repeat, and sustained guessing is logged and counted. The throttle is checked
   before anything else, enrolment codes included: a locked-out caller learns nothing from the
   reply. A lane is informational (recorded, 0-255); it never selects another throttle.
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
    """Refusals per door and credential kind, and per caller, with a lockout that grows.

    Keys are ``(gate, kind)`` (the door is per gate, so changing the lane number buys nothing)
    and, where the caller's address is known, ``(address,)``. ``limit`` refusals of a key in
    ``window_s`` lock it for ``lockout_s``; every further lockout of the same key while it is
    still remembered doubles that, up to ``max_lockout_s``. A key locked ``alarm_after`` times
    in a row is *sustained guessing*: logged at warning level and reported to ``on_guessing``
    (a metric); there is no door-alarm kind for it on the wire.
    """

    def __init__(
        self,
        limit: int = 10,
        window_s: float = 60.0,
        *,
        lockout_s: float = 60.0,
        max_lockout_s: float = 900.0,
        alarm_after: int = 3,
        on_guessing: Callable[[str], None] | None = None,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.lockout_s = lockout_s
        self.max_lockout_s = max_lockout_s
        self.alarm_after = alarm_after
        self.on_guessing = on_guessing
        self._seen: dict[tuple[str, ...], deque[float]] = defaultdict(deque)
        self._locked_until: dict[tuple[str, ...], float] = {}
        self._strikes: dict[tuple[str, ...], tuple[int, float]] = {}  # count, last lockout end
        self._lock = threading.Lock()

    @staticmethod
    def keys(gate: object, kind: object, caller: str | None) -> list[tuple[str, ...]]:
        door = gate if isinstance(gate, str) and _GATE.match(gate) else "?"
        keys: list[tuple[str, ...]] = [(door, str(kind)[:8])]
        if caller:
            keys.append((f"caller:{caller[:64]}",))
        return keys

    def blocked(self, keys: list[tuple[str, ...]]) -> bool:
        now = time.monotonic()
        with self._lock:
            self._evict(now)
            return any(self._locked_until.get(key, 0.0) > now for key in keys)

    def refused(self, keys: list[tuple[str, ...]], weight: int = 1) -> None:
        """Count a refusal (``weight`` attempts: a PIN also tried as a duress PIN is two)."""
        now = time.monotonic()
        guessing: list[str] = []
        with self._lock:
            for key in keys:
                times = self._seen[key]
                times.extend([now] * weight)
                while times and now - times[0] > self.window_s:
                    times.popleft()
                if len(times) < self.limit or self._locked_until.get(key, 0.0) > now:
                    continue
                count, last_end = self._strikes.get(key, (0, 0.0))
                if now - last_end > self.max_lockout_s * 2:
                    count = 0  # quiet long enough: start again from the shortest lockout
                lockout = min(self.lockout_s * 2**count, self.max_lockout_s)
                self._locked_until[key] = now + lockout
                self._strikes[key] = (count + 1, now + lockout)
                times.clear()
                if count + 1 >= self.alarm_after:
                    guessing.append("/".join(key))
        for key_text in guessing:
            _LOGGER.warning("SUSTAINED CREDENTIAL GUESSING at %s; locked out", key_text)
            if self.on_guessing is not None:
                self.on_guessing(key_text)

    def attempted(self, keys: list[tuple[str, ...]]) -> None:
        """A duress hit: counted like any attempt (it also tested a PIN)."""
        self.refused(keys)

    def _evict(self, now: float) -> None:
        for key in [k for k, t in self._seen.items() if not t or now - t[-1] > self.window_s]:
            del self._seen[key]
        for key in [k for k, until in self._locked_until.items() if until <= now]:
            del self._locked_until[key]
        forget = self.max_lockout_s * 2
        for key in [k for k, (_, end) in self._strikes.items() if now - end > forget]:
            del self._strikes[key]


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
        # (gate, lane) -> configured as an exit: the direction is OUT whatever a caller sent.
        self.exit_lane: Callable[[str, int], bool] | None = None

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

    def screen(
        self, gate: str, kind: object, value: str, lane: object, caller: str | None = None
    ) -> tuple[CredentialKind, list[tuple[str, ...]]]:
        """The throttle first (a locked-out caller gets 429 whatever it sent), then validation
        (an invalid credential counts as a refusal). Returns the kind and the throttle keys."""
        keys = self.throttle.keys(gate, kind, caller)
        if self.throttle.blocked(keys):
            raise PassageRefused(429, "too many refusals at this gate; wait and try again")
        try:
            credential = self._validate(gate, kind, value, lane)
        except PassageRefused:
            self.throttle.refused(keys)
            raise
        return credential, keys

    def credential(
        self,
        gate: str,
        kind: object,
        value: str,
        direction: PassageDirection = PassageDirection.IN,
        lane: object = 0,
        *,
        caller: str | None = None,
        trusted_direction: bool = True,
    ) -> EdgeEvent:
        """A card, QR code or PIN at a gate. Raises :class:`PassageRefused` (door shut, nothing
        recorded) or :class:`PassageNotRecorded`; returns the committed event otherwise."""
        credential, keys = self.screen(gate, kind, value, lane, caller)
        return self.decide(gate, credential, value, direction, lane, keys, trusted_direction)

    def decide(
        self,
        gate: str,
        credential: CredentialKind,
        value: str,
        direction: PassageDirection,
        lane: object,
        keys: list[tuple[str, ...]],
        trusted_direction: bool = True,
    ) -> EdgeEvent:
        """A screened credential (:meth:`screen`): decide, count refusals, commit, open.

        ``direction`` from a caller that is not configured (an HTTP body) is recorded, but only
        a lane configured as an exit (``exit_lane``) or a trusted source (a reader's own
        configuration) makes it an exit that costs a pass no use."""
        lane_no = int(str(lane))  # an int 0-255: checked by _validate
        if self.exit_lane is not None and self.exit_lane(gate, lane_no):
            direction, trusted_direction = PassageDirection.OUT, True
        exit_ = direction is PassageDirection.OUT and trusted_direction
        now = utc_now()
        verdict = self.policy.for_credential(credential, value, gate, now, count_use=not exit_)
        if not verdict.granted:
            # A refused PIN with duress on tested two PINs (the real and the duress variant).
            twice = credential is CredentialKind.PIN and self.policy.duress.enabled
            self.throttle.refused(keys, 2 if twice else 1)
        elif verdict.duress:
            self.throttle.attempted(keys)
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
