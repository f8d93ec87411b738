"""Doors beyond the passage path: door state and alarms, remote unlock, release by hand.

Every admitted passage reaches :meth:`DoorService.admitted` (an ``AdmitObserver``): a door that
opened arms the door monitor, a tailgating passage and a duress PIN raise their alarms. Door
contacts report through :meth:`DoorService.contact`; a guarded loop calls :meth:`tick` for
"held open". Each alarm is one ``door_alarm`` committed to the outbox (the recorder's ``send``).

A door opened without a credential (a ``remote_unlock`` from the centre, a release by hand at
the guard room) follows the passage path's order: refused releases are recorded with why; an
allowed one is recorded first, then the monitor is armed and the door opens; a door that then
fails is recorded again as not opened. A store that cannot write keeps the door shut.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime

from edge_agent.access.actuators import DoorContact, GateDoor
from edge_agent.access.actuators.contacts import HttpContact
from edge_agent.access.doors import (
    DoorAlarmEvent,
    DoorMonitor,
    DoorStatus,
    ReleaseRefusal,
    ReleaseThrottle,
    unlock_refusal,
)
from edge_agent.errors import ReleaseNotRecorded
from edge_agent.metrics import EdgeMetrics
from edge_agent.recorder import Recorder
from edge_agent.store.rows import Passage
from gridgate_wire import (
    Channel,
    DoorAlarm,
    DoorRelease,
    EdgeEvent,
    ReleaseSource,
    RemoteUnlock,
    utc_now,
)

_LOGGER = logging.getLogger(__name__)

DOOR_FAILED = "door actuator failed"
_SEEN_COMMANDS = 256


class DoorService:
    def __init__(
        self,
        monitor: DoorMonitor,
        throttle: ReleaseThrottle,
        recorder: Recorder,
        door: Callable[[str], GateDoor],
        gates: Callable[[], set[str]],
        contacts: Mapping[str, DoorContact],
        metrics: EdgeMetrics | None = None,
    ) -> None:
        self.metrics = metrics
        self.monitor = monitor
        self.throttle = throttle
        self._recorder = recorder
        self._door = door
        self._gates = gates
        self.contacts = contacts
        self._seen: deque[str] = deque(maxlen=_SEEN_COMMANDS)

    # ------------------------------------------------------------------ alarms

    def _raise(self, alarm: DoorAlarmEvent) -> None:
        try:
            self._recorder.send(
                Channel.DOOR_ALARM,
                lambda common: DoorAlarm.model_validate({**common, **alarm.message_fields()}),
            )
        except Exception:  # an alarm input must not stop the gate; the store alarm shows it
            _LOGGER.exception("door alarm %s at %s not recorded", alarm.kind, alarm.gate)
        if self.metrics is not None and not alarm.silent:
            self.metrics.door_alarms.labels(alarm.kind.value, alarm.phase.value).inc()

    def admitted(self, passage: Passage, event: EdgeEvent, door_opened: bool) -> None:
        """The passage path's observer: arm the door, raise tailgating and duress alarms."""
        if door_opened:
            self.monitor.granted(passage.gate, passage.lane)
        if passage.tailgating:
            self._raise(
                self.monitor.tailgating(passage.gate, passage.lane, str(event.id), passage.house_id)
            )
        if passage.duress and passage.granted:
            self._raise(
                self.monitor.duress(
                    passage.gate,
                    passage.lane,
                    str(event.id),
                    house_id=passage.house_id,
                    resident_id=passage.resident_id,
                    pass_id=passage.pass_id,
                )
            )

    def contact(self, gate: str, lane: int, is_open: bool) -> None:
        """A door contact's reading (every contact plugin reports here)."""
        for alarm in self.monitor.contact(gate, lane, is_open):
            self._raise(alarm)

    def tick(self) -> None:
        for alarm in self.monitor.tick():
            self._raise(alarm)

    def report(self, gate: str, lane: int, state: str) -> None:
        """``POST /door`` from a door controller. Raises ValueError for a gate with no ``http``
        contact or a state other than open/closed."""
        contact = self.contacts.get(gate)
        if not isinstance(contact, HttpContact):
            raise ValueError(f"gate {gate!r} has no http door contact")  # noqa: TRY004
        if state not in ("open", "closed"):
            raise ValueError("state must be open or closed")
        if not 0 <= lane <= 255:
            raise ValueError("lane must be 0-255")
        contact.changed(lane, state == "open")

    def status(self) -> list[DoorStatus]:
        return self.monitor.status()

    def status_json(self) -> list[dict[str, object]]:
        return [
            {
                "gate": s.gate,
                "lane": s.lane,
                "state": s.state.value,
                "since": None if s.since is None else s.since.isoformat(),
                "held_open_alarm": s.held_alarm is not None,
            }
            for s in self.status()
        ]

    # ------------------------------------------------------------------ releases

    def remote_unlock(
        self, command: RemoteUnlock, now: datetime | None = None
    ) -> DoorRelease | None:
        """A ``remote_unlock`` from the centre: refused (expired, unknown gate, throttled) or
        recorded, then opened. A command delivered twice opens once (None the second time)."""
        command_id = str(command.id)
        if command_id in self._seen:
            _LOGGER.info("remote unlock %s seen before; ignored", command_id)
            return None
        self._seen.append(command_id)
        refusal = unlock_refusal(command, now or utc_now(), self._gates())
        return self.release(
            ReleaseSource.CENTRE,
            command.gate,
            command.lane,
            command.actor,
            command.reason,
            command_id=command_id,
            refusal=refusal,
        )

    def release(
        self,
        source: ReleaseSource,
        gate: str,
        lane: int,
        actor: str,
        reason: str,
        *,
        command_id: str | None = None,
        refusal: ReleaseRefusal | None = None,
    ) -> DoorRelease:
        """Open ``gate`` without a credential, recorded first. Returns the ``door_release``
        (``opened`` false with the reason when refused). Raises :class:`ReleaseNotRecorded`
        when the store cannot write; the door then stays shut."""
        if refusal is None and gate not in self._gates():
            refusal = ReleaseRefusal.UNKNOWN_GATE
        if refusal is None and not self.throttle.allow(gate, lane):
            refusal = ReleaseRefusal.THROTTLED
        fields: dict[str, object] = {
            "source": source,
            "command_id": command_id,
            "gate": gate,
            "lane": lane,
            "actor": actor,
            "reason": reason.strip()[:200] or "-",
        }
        if refusal is not None:
            _LOGGER.warning("release of %s by %s refused: %s", gate, actor, refusal)
            return self._record(fields, opened=False, detail=refusal.value)
        release = self._record(fields, opened=True, detail="")
        self.monitor.granted(gate, lane)
        if self._door(gate).open():
            _LOGGER.info("door %s released by %s (%s): %s", gate, actor, source, reason)
            return release
        _LOGGER.error("door %s: actuator failed on a release by %s", gate, actor)
        try:
            return self._record(fields, opened=False, detail=DOOR_FAILED)
        except ReleaseNotRecorded:
            return release

    def _record(self, fields: dict[str, object], *, opened: bool, detail: str) -> DoorRelease:
        at = utc_now()
        if self.metrics is not None:
            self.metrics.door_releases.labels(str(fields["source"]), str(opened).lower()).inc()
        try:
            return self._recorder.send(
                Channel.DOOR_RELEASE,
                lambda common: DoorRelease.model_validate(
                    {**common, **fields, "occurred_at": at, "opened": opened, "detail": detail}
                ),
            )
        except Exception as exc:
            _LOGGER.exception("door release at %s not recorded; door stays shut", fields["gate"])
            raise ReleaseNotRecorded(f"door release not recorded: {exc}") from exc
