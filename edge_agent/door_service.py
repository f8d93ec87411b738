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
EXIT_REQUEST = "exit_request"


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
        # The store's memory of command ids (kept across restarts) and this edge's id.
        self.first_sight: Callable[[str], bool] | None = None
        self.edge_id: str | None = None
        self.free_exit: set[str] = set()  # gates whose doors open from inside on their own

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
        """The passage path's observer: arm the door, raise tailgating and duress alarms (a
        duress PIN raises its silent alarm whether or not it opened the door)."""
        if door_opened:
            self.monitor.granted(passage.gate, passage.lane)
        if passage.tailgating:
            self._raise(
                self.monitor.tailgating(passage.gate, passage.lane, str(event.id), passage.house_id)
            )
        # Whatever the decision: a person under duress whose pass is used up or out of hours
        # needs the centre to know as much as one who got in.
        if passage.duress:
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
        """A door contact's reading (every contact plugin reports here). A ``free_exit`` door
        opens from inside without the edge knowing: no opening of it is forced."""
        if is_open and gate in self.free_exit:
            self.monitor.granted(gate, lane)
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
        if state not in ("open", "closed", EXIT_REQUEST):
            raise ValueError("state must be open, closed or exit_request")
        if not 0 <= lane <= 255:
            raise ValueError("lane must be 0-255")
        if state == EXIT_REQUEST:
            self.exit_request(gate, lane)
            return
        contact.changed(lane, state == "open")

    def exit_request(self, gate: str, lane: int) -> None:
        """The request-to-exit input (an exit button the controller reports): the next opening
        is authorised like one after a grant, so leaving by the button is not forced open."""
        _LOGGER.info("exit request at %s/%d", gate, lane)
        self.monitor.granted(gate, lane)

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
        """A ``remote_unlock`` from the centre: refused (another edge's, expired or expiring too
        far ahead, unknown gate, throttled) or recorded, then opened. A command delivered twice
        opens once (None the second time), also across a restart (``first_sight``)."""
        command_id = str(command.id)
        seen = command_id in self._seen
        self._seen.append(command_id)
        if self.first_sight is not None and not seen:
            try:
                seen = not self.first_sight(command_id)
            except Exception:  # the store's failure shows when the release is recorded
                _LOGGER.exception("remote unlock %s: seen ids not readable", command_id)
        if seen:
            _LOGGER.info("remote unlock %s seen before; ignored", command_id)
            return None
        refusal = unlock_refusal(
            command,
            now or utc_now(),
            self._gates(),
            self.edge_id,
            self.monitor.config.unlock_max_ahead_s,
        )
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
