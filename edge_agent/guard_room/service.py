"""What the guard room does, apart from its pages: register walk-ins, read today's visitors,
the latest gate passages and the doors, and open a door by hand.

A walk-in is committed to the outbox first (the ``walk_in_pass`` with the visitor's name,
phone and purpose), then kept as a pending pass: the gate admits it at once, hub or no hub, and
the message reaches the hub when the hub is back. Were the second step to fail, the hub would
send the pass back with its next pass list; the reverse order could lose a pass the gate admits.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from edge_agent.access.passes import new_walk_in
from edge_agent.commands import WALK_IN_PREFIX
from edge_agent.door_service import DoorService
from edge_agent.errors import GuardRoomError
from edge_agent.guard_room.config import GuardRoomConfig
from edge_agent.recorder import Recorder
from edge_agent.store.events import EventStore
from edge_agent.store.passes import PassStore, StoredPass
from edge_agent.store.roster import RosterStore
from edge_agent.store.rows import EventRow
from gridgate_wire import (
    Channel,
    CredentialKind,
    Decision,
    DoorRelease,
    PassageDirection,
    PassageMethod,
    ReleaseSource,
    SubjectKind,
    WalkInPass,
    utc_now,
)

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WalkInRequest:
    visitor_name: str
    phone: str
    house_id: str
    purpose: str
    stay_hours: float | None


@dataclass(frozen=True, slots=True)
class IssuedSlip:
    """Shown once: the PIN and the QR content are kept nowhere."""

    stored: StoredPass
    visitor_name: str
    qr: str
    pin: str


@dataclass(frozen=True, slots=True)
class GatePassage:
    """One passage as the guard sees it: who by kind and house, never an internal id (a
    resident is 住户 of the house, never a name: the guard room needs no more)."""

    at: datetime
    gate: str  # the gate's label
    way_in: bool
    method: str
    who: str  # a word key: visitor, resident, stranger, unknown_credential
    name: str  # a visitor's display name (王访客)
    house: str  # the house's label
    granted: bool
    reason: str


class GuardRoom:
    duress_pins = False  # duress PINs on: walk-in PINs keep clear of every PIN's duress twin

    def __init__(
        self,
        config: GuardRoomConfig,
        passes: PassStore,
        roster: RosterStore,
        store: EventStore,
        recorder: Recorder,
        doors: DoorService,
        gates: list[str],
        zone: tzinfo,
        gate_labels: Mapping[str, str] | None = None,
    ) -> None:
        self.zone = zone  # the compound's (the schedules'): "today" is its local day
        self.config = config
        self.passes = passes
        self.roster = roster
        self.store = store
        self.recorder = recorder
        self.doors = doors
        self.gates = gates
        self.gate_labels = dict(gate_labels or {})

    def houses(self) -> list[str]:
        """The host houses a guard may choose: every house of the roster."""
        return sorted({r.house_id for r in self.roster.residents() if r.active})

    def house_labels(self) -> dict[str, str]:
        """Each house of the roster by the registry's label (the id where the hub sent none):
        the screens name houses by these, never by an internal id."""
        return self.roster.house_labels()

    def house_choices(self) -> list[tuple[str, str]]:
        """The host houses a guard may choose, (id, label), in label order."""
        labels = self.house_labels()
        return sorted(((h, labels.get(h, h)) for h in self.houses()), key=lambda c: (c[1], c[0]))

    def gate_label(self, gate: str) -> str:
        """The gate's name from the edge config (doors: label), else its id."""
        return self.gate_labels.get(gate, gate)

    def register(self, request: WalkInRequest, guard: str) -> IssuedSlip:
        name = request.visitor_name.strip()
        if not 0 < len(name) <= 64:
            raise GuardRoomError("error_name")
        phone = request.phone.strip()
        if len(phone) > 32 or any(c not in "0123456789+- " for c in phone):
            raise GuardRoomError("error_phone")
        if request.house_id not in self.houses():
            raise GuardRoomError("error_house")
        stay = request.stay_hours or self.config.default_stay_hours
        if not 0 < stay <= self.config.max_stay_hours:
            raise GuardRoomError("error_stay")
        now = utc_now()
        issue = new_walk_in(
            self.passes,
            house_id=request.house_id,
            display_name=_display_name(name),
            valid_from=now,
            valid_until=now + timedelta(hours=stay),
            max_uses=self.config.walk_in_uses,
            duress=self.duress_pins,
            resident_pin=lambda pin: self.roster.by_credential(CredentialKind.PIN, pin) is not None,
        )
        message_id = issue.edge_pass.pass_id.removeprefix(WALK_IN_PREFIX)
        self.recorder.send(
            Channel.WALK_IN,
            lambda common: WalkInPass.model_validate(
                {
                    **common,
                    "id": message_id,  # the hub's ack of it names the pass
                    "visitor_pass": issue.edge_pass,
                    "visitor_name": name,
                    "phone": phone,
                    "purpose": request.purpose.strip()[:200],
                    "registered_by": guard,
                    "registered_at": now,
                }
            ),
        )
        stored = self.passes.register_walk_in(issue.edge_pass)
        _LOGGER.info("walk-in %s for %s registered by %s", stored.pass_id, request.house_id, guard)
        return IssuedSlip(stored, name, issue.qr, issue.pin)

    def todays_visitors(self, now: datetime | None = None) -> list[StoredPass]:
        local = self.local(now or utc_now())
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return self.passes.valid_between(start, start + timedelta(days=1))

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.zone)

    def recent_passages(self) -> list[GatePassage]:
        """The latest passages, newest first."""
        rows = self.store.latest_events(self.config.recent_events)
        labels = self.house_labels()
        names: dict[str, str] = {}
        for pass_id in {r.pass_id for r in rows if r.pass_id is not None}:
            stored = self.passes.get(pass_id)
            names[pass_id] = stored.edge_pass.display_name if stored is not None else ""
        return [self._shown(row, names, labels) for row in rows]

    def _shown(self, row: EventRow, names: dict[str, str], labels: dict[str, str]) -> GatePassage:
        if row.subject is SubjectKind.VISITOR:
            who, name = "visitor", names.get(row.pass_id or "", "")
        elif row.subject is SubjectKind.RESIDENT:
            who, name = "resident", ""
        else:
            who = "stranger" if row.method is PassageMethod.FACE else "unknown_credential"
            name = ""
        return GatePassage(
            at=datetime.fromtimestamp(row.occurred_at, self.zone),
            gate=self.gate_label(row.gate),
            way_in=row.direction is not PassageDirection.OUT,
            method=row.method.value,
            who=who,
            name=name,
            house=labels.get(row.house_id, row.house_id) if row.house_id else "",
            granted=row.decision is Decision.GRANT,
            reason=row.reason,
        )

    def release(self, gate: str, reason: str, guard: str) -> DoorRelease:
        if not reason.strip():
            raise GuardRoomError("error_reason")
        if gate not in self.gates:
            raise GuardRoomError("error_gate")
        return self.doors.release(ReleaseSource.GUARD_ROOM, gate, 0, guard, reason)


VISITOR_SUFFIX = "\u8bbf\u5ba2"  # 访客 ("visitor")


def _display_name(full: str) -> str:
    """What the gate list shows: the family name and 访客 (王访客), not the full name."""
    return f"{full[0]}{VISITOR_SUFFIX}"
