"""Door state and door alarms: a state machine per door fed by its contact and by grants.

Each door (gate and lane) is ``unknown`` until its contact first reports, then ``closed`` or
``open``. A grant (a passage, a remote unlock, a release by hand) arms the door for
``grant_window_s``: the next opening inside that window is authorised and uses the grant up. An
opening with no armed grant is **forced open**. A door open longer than ``held_open_s`` is
**held open**, raised once per opening and cleared when it closes. The first report after start
only sets the state: the agent cannot know what opened a door before it was running.

Tailgating (seen by the camera pipeline) and **duress** (a duress PIN) are alarms too; they come
from the passage path rather than the contact, and :meth:`DoorMonitor.tailgating` and
:meth:`DoorMonitor.duress` build them here so every door alarm has one shape.

A duress PIN is the person's own PIN with its last digit raised by one (9 becomes 0): easy to
recall under stress, and it opens the door like the real one, so whoever forces the resident
sees nothing; only the centre sees the silent alarm. :func:`duress_base` is the pure rule.

A remote unlock from the centre, or a release by hand at the guard room, opens a door without a
credential: :func:`unlock_refusal` says when the edge must refuse one, and
:class:`ReleaseThrottle` limits how often one door may be released.

The monitor does no I/O and reads no clock of its own: phase 2's runtime feeds it contact
changes from the actuator plugin, grants from the passage path and a periodic :meth:`tick`, and
writes the :class:`DoorAlarmEvent` it returns to the event store (as ``door_alarm`` messages).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from pydantic import Field

from gridgate_core.config import StrictModel
from gridgate_wire import AlarmPhase, CredentialKind, DoorAlarmKind, RemoteUnlock, uuid7

_LOGGER = logging.getLogger(__name__)


# A remote unlock is for now; one valid for longer could be kept and replayed.
MAX_UNLOCK_AHEAD_S = 300.0


class DoorConfig(StrictModel):
    """Door monitoring and releases of one edge (``EdgeConfig.door_monitor``)."""

    held_open_s: float = Field(
        default=30.0, gt=0, le=3600, description="A door open longer than this is held open."
    )
    grant_window_s: float = Field(
        default=10.0, gt=0, le=300, description="An opening this soon after a grant is authorised."
    )
    check_interval_s: float = Field(
        default=1.0, gt=0, le=60, description="How often open doors are checked for held open."
    )
    release_limit: int = Field(
        default=6,
        ge=1,
        le=100,
        description="Releases without a credential (remote and by hand) per door per window.",
    )
    release_window_s: float = Field(
        default=60.0, gt=0, le=3600, description="The window release_limit counts over."
    )
    unlock_max_ahead_s: float = Field(
        default=MAX_UNLOCK_AHEAD_S,
        ge=10,
        le=3600,
        description=(
            "A remote unlock expiring further ahead than this is refused (expiry_too_far): it "
            "could be kept and replayed. Keep the hub's doors.unlock_expiry_s below it, with "
            "room for clock skew."
        ),
    )


class DuressConfig(StrictModel):
    enabled: bool = Field(
        default=False,
        description="A PIN with its last digit raised by one opens and raises a silent alarm.",
    )


def duress_base(pin: str) -> str | None:
    """The PIN a duress PIN stands for (last digit one lower, 0 becoming 9); None when ``pin``
    cannot be one (empty, or not ending in a digit)."""
    if not pin or not pin[-1].isdigit():
        return None
    return pin[:-1] + str((int(pin[-1]) - 1) % 10)


def duress_candidate(config: DuressConfig, kind: CredentialKind, value: str) -> str | None:
    """The real PIN to try when ``value`` matched nothing: only for PINs, only when enabled.
    A value that is someone's real PIN always wins, so check it first."""
    if not config.enabled or kind is not CredentialKind.PIN:
        return None
    return duress_base(value)


class ReleaseRefusal(StrEnum):
    """Why a remote unlock or a release by hand does not open the door."""

    EXPIRED = "expired"  # the command waited past its expiry (a broker queue, an offline edge)
    UNKNOWN_GATE = "unknown_gate"
    THROTTLED = "throttled"  # too many releases at this door lately
    WRONG_EDGE = "wrong_edge"  # addressed to another edge (a misrouted or replayed command)
    EXPIRY_TOO_FAR = "expiry_too_far"  # valid for longer than an edge accepts: replayable


def unlock_refusal(
    command: RemoteUnlock,
    now: datetime,
    gates: Collection[str],
    edge_id: str | None = None,
    max_ahead_s: float = MAX_UNLOCK_AHEAD_S,
) -> ReleaseRefusal | None:
    """Whether the edge must refuse a ``remote_unlock`` (None: open the door, then answer
    with a ``door_release``). The hub checked the role and audited the request; the edge
    still refuses one for another edge (``edge_id``) or one that expires more than
    ``max_ahead_s`` from now."""
    if edge_id is not None and command.edge_id != edge_id:
        return ReleaseRefusal.WRONG_EDGE
    if now >= command.expires_at:
        return ReleaseRefusal.EXPIRED
    if (command.expires_at - now).total_seconds() > max_ahead_s:
        return ReleaseRefusal.EXPIRY_TOO_FAR
    if command.gate not in gates:
        return ReleaseRefusal.UNKNOWN_GATE
    return None


class ReleaseThrottle:
    """At most ``limit`` releases (remote or by hand) per door per ``window_s``, so a stolen
    login or a stuck button cannot hold a gate open."""

    def __init__(self, limit: int = 6, window_s: float = 60.0, clock: Clock | None = None) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock or SystemClock()
        self._seen: dict[tuple[str, int], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, gate: str, lane: int = 0) -> bool:
        """Count one release if the door is under its limit; False (nothing counted) if not."""
        now = self.clock.monotonic()
        with self._lock:
            times = self._seen[(gate, lane)]
            while times and now - times[0] > self.window_s:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True


class DoorState(StrEnum):
    UNKNOWN = "unknown"
    CLOSED = "closed"
    OPEN = "open"


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def now(self) -> datetime: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class DoorAlarmEvent:
    """A door alarm to record; ``alarm_id`` becomes the message id."""

    kind: DoorAlarmKind
    gate: str
    lane: int
    occurred_at: datetime
    phase: AlarmPhase = AlarmPhase.RAISED
    alarm_id: str = field(default_factory=lambda: str(uuid7()))
    raised_id: str | None = None
    open_seconds: float | None = None
    event_id: str | None = None
    house_id: str | None = None
    resident_id: str | None = None
    pass_id: str | None = None
    silent: bool = False

    def message_fields(self) -> dict[str, object]:
        """The ``door_alarm`` fields (edge_id, seq, epoch and ts are the store's to add)."""
        return {
            "id": self.alarm_id,
            "kind": self.kind.value,
            "phase": self.phase.value,
            "raised_id": self.raised_id,
            "occurred_at": self.occurred_at,
            "gate": self.gate,
            "lane": self.lane,
            "open_seconds": None if self.open_seconds is None else round(self.open_seconds, 1),
            "event_id": self.event_id,
            "house_id": self.house_id,
            "resident_id": self.resident_id,
            "pass_id": self.pass_id,
            "silent": self.silent,
        }


@dataclass(frozen=True, slots=True)
class DoorStatus:
    """What the guard-room page shows of one door."""

    gate: str
    lane: int
    state: DoorState
    since: datetime | None
    authorised: bool  # the current opening used a grant
    held_alarm: str | None  # id of the raised, not yet cleared, held-open alarm


@dataclass(slots=True)
class _Door:
    state: DoorState = DoorState.UNKNOWN
    since_mono: float = 0.0
    since: datetime | None = None
    armed_until: float = float("-inf")
    authorised: bool = False
    held_alarm: str | None = None


class DoorMonitor:
    """Door states of one edge; thread-safe (contact threads, the passage path and a timer)."""

    def __init__(self, config: DoorConfig, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self._doors: dict[tuple[str, int], _Door] = {}
        self._lock = threading.Lock()

    def _door(self, gate: str, lane: int) -> _Door:
        return self._doors.setdefault((gate, lane), _Door())

    def granted(self, gate: str, lane: int = 0) -> None:
        """A grant at this door (passage, remote unlock, release by hand): the next opening
        within the grant window is authorised."""
        with self._lock:
            door = self._door(gate, lane)
            door.armed_until = self.clock.monotonic() + self.config.grant_window_s
            if door.state is DoorState.OPEN:  # already open (held by hand): this one is used
                door.authorised = True
                door.armed_until = float("-inf")

    def contact(self, gate: str, lane: int, is_open: bool) -> list[DoorAlarmEvent]:
        """The door contact reported a state; returns the alarms it raises or clears."""
        mono, now = self.clock.monotonic(), self.clock.now()
        with self._lock:
            door = self._door(gate, lane)
            new = DoorState.OPEN if is_open else DoorState.CLOSED
            previous = door.state
            if new is previous:
                return []
            door.state, door.since_mono, door.since = new, mono, now
            if previous is DoorState.UNKNOWN:
                door.authorised = is_open  # open at start: not ours to judge
                return []
            if is_open:
                door.authorised = mono <= door.armed_until
                door.armed_until = float("-inf")
                if door.authorised:
                    return []
                _LOGGER.warning("door %s/%d forced open", gate, lane)
                return [DoorAlarmEvent(DoorAlarmKind.FORCED_OPEN, gate, lane, now)]
            alarms: list[DoorAlarmEvent] = []
            if door.held_alarm is not None:
                alarms.append(
                    DoorAlarmEvent(
                        DoorAlarmKind.HELD_OPEN,
                        gate,
                        lane,
                        now,
                        phase=AlarmPhase.CLEARED,
                        raised_id=door.held_alarm,
                    )
                )
                door.held_alarm = None
            door.authorised = False
            return alarms

    def tick(self) -> list[DoorAlarmEvent]:
        """Raise held-open alarms for doors open past the limit (once per opening)."""
        mono, now = self.clock.monotonic(), self.clock.now()
        alarms: list[DoorAlarmEvent] = []
        with self._lock:
            for (gate, lane), door in self._doors.items():
                if door.state is not DoorState.OPEN or door.held_alarm is not None:
                    continue
                open_for = mono - door.since_mono
                if open_for <= self.config.held_open_s:
                    continue
                alarm = DoorAlarmEvent(
                    DoorAlarmKind.HELD_OPEN, gate, lane, now, open_seconds=open_for
                )
                door.held_alarm = alarm.alarm_id
                alarms.append(alarm)
                _LOGGER.warning("door %s/%d held open for %.0f s", gate, lane, open_for)
        return alarms

    def tailgating(
        self, gate: str, lane: int, event_id: str, house_id: str | None = None
    ) -> DoorAlarmEvent:
        """The alarm for a passage the camera saw more than one person through."""
        return DoorAlarmEvent(
            DoorAlarmKind.TAILGATING,
            gate,
            lane,
            self.clock.now(),
            event_id=event_id,
            house_id=house_id,
        )

    def duress(
        self,
        gate: str,
        lane: int,
        event_id: str,
        *,
        house_id: str | None = None,
        resident_id: str | None = None,
        pass_id: str | None = None,
    ) -> DoorAlarmEvent:
        """The silent alarm for a passage granted on a duress PIN."""
        return DoorAlarmEvent(
            DoorAlarmKind.DURESS,
            gate,
            lane,
            self.clock.now(),
            event_id=event_id,
            house_id=house_id,
            resident_id=resident_id,
            pass_id=pass_id,
            silent=True,
        )

    def status(self) -> list[DoorStatus]:
        """Every door the monitor has heard of, for the guard-room page."""
        with self._lock:
            return [
                DoorStatus(gate, lane, d.state, d.since, d.authorised, d.held_alarm)
                for (gate, lane), d in sorted(self._doors.items())
            ]
