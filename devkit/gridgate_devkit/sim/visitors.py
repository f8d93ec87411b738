"""Visitors with passes in the simulated compound, with their ground truth.

Day visitors, relatives staying a few nights, long-stay guests registered with a pass (a share of
the field profile's guests), carers and domestic helpers coming on weekdays 08:00-18:00, and pass
holders who in truth moved in: a visitor pass for a week or three, then they stay on without one
(a scored new occupant, named by the pass id). A pass holder presents the pass on most entries
(``pass_presented``); the camera sees an unknown face on every passage, as a real gate does.

Every draw comes from the pass stream, and whether a guest registered from a stream of its own,
so turning these on (or changing the registered share) never shifts what the rest of the compound
does. The passages are made into event rows here with the same recognition noise (missed
passages, outages, day/night id splits) and merged into the compound's rows by time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from edge_agent.analysis.visitors import PassWindow
from edge_agent.store.rows import EventRow
from gridgate_devkit.sim import conditions as fc
from gridgate_devkit.sim.conditions import DAY, HOUR, FieldLog
from gridgate_devkit.sim.field_people import field_stranger_id, new_stranger_id
from gridgate_wire import Decision, PassageDirection, PassageMethod, PassKind, SubjectKind

if TYPE_CHECKING:
    from gridgate_devkit.sim.compound import SimConfig

PASS_STREAM = 0x9A55
REGISTER_STREAM = 0x6E57
# (time, direction, gate, face id, pass id presented or None, host house)
Raw = tuple[float, str, str, str, str | None, str]


@dataclass
class PassPlan:
    windows: list[PassWindow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)  # seq and id set when merged
    movers: list[tuple[str, str, float]] = field(default_factory=list)  # house, pass id, moved in


class _Visitors:
    def __init__(self, c: SimConfig, log: FieldLog, plan: PassPlan) -> None:
        self.c, self.f, self.log, self.plan = c, c.field, log, plan
        self.rng = np.random.default_rng([c.seed, PASS_STREAM])
        self.raw: list[Raw] = []

    def hours(self, mean: float, sd: float) -> float:
        return float(np.clip(self.rng.normal(mean, sd), 0.1, 23.9)) * HOUR

    def gate(self) -> str:
        return self.c.gates[int(self.rng.integers(len(self.c.gates)))]

    def new_pass(self, house: str, kind: PassKind, start: float, end: float) -> str:
        pass_id = f"P-{int(self.rng.integers(0, 2**40)):010x}"
        self.plan.windows.append(PassWindow(pass_id, house, kind, start, end))
        return pass_id

    def passage(
        self, t: float, direction: str, face: str, pass_id: str | None, house: str, gate: str
    ) -> None:
        shown = None
        if direction == "in" and self.rng.random() < self.f.pass_presented:
            shown = pass_id
        self.raw.append((t, direction, gate, face, shown, house))

    def visit(self, start: float, end: float, face: str, pass_id: str | None, house: str) -> None:
        gate = self.gate()
        self.passage(start, "in", face, pass_id, house, gate)
        self.passage(end, "out", face, pass_id, house, gate)


def visitor_passes(
    c: SimConfig,
    log: FieldLog,
    occupied: list[str],
    t0: float,
    compound: Sequence[tuple[float, str, str, str | None, str | None, str]],
) -> PassPlan:
    """Pass holders' passages and passes; ``compound``: the compound's raw passages so far
    (time, direction, gate, resident, stranger, house), where the long-stay guests' are."""
    guest_ids = {sid for _, sid, _, _ in log.guests}
    guest_entries: dict[str, list[tuple[float, str]]] = {}
    for t, direction, gate, _, unknown, _ in compound:
        if unknown in guest_ids and direction == "in":
            guest_entries.setdefault(unknown, []).append((t, gate))
    plan = PassPlan()
    v = _Visitors(c, log, plan)
    f, rng = c.field, v.rng
    guest_rows = _registered_guests(c, log, plan, guest_entries)
    for d in range(c.days):
        midnight = t0 + d * DAY
        for _ in range(int(rng.poisson(f.pass_visitors_per_day))):
            house = occupied[int(rng.integers(len(occupied)))]
            arrive = midnight + v.hours(14, 3)
            pass_id = v.new_pass(house, PassKind.VISITOR, midnight, midnight + DAY)
            leave = min(arrive + float(rng.uniform(0.5, 4)) * HOUR, midnight + DAY - 60)
            v.visit(arrive, leave, new_stranger_id(rng), pass_id, house)
    for house in occupied:
        if rng.random() < f.pass_stays:
            _short_stay(v, house, t0)
        if rng.random() < f.carers:
            _carer(v, house, t0)
    lo, hi = c.change_window
    for i in rng.choice(len(occupied), size=min(f.pass_move_ins, len(occupied)), replace=False):
        _mover(v, occupied[int(i)], t0 + float(rng.uniform(lo, hi)) * DAY)
    plan.events = _rows(v) + guest_rows
    return plan


def _registered_guests(
    c: SimConfig, log: FieldLog, plan: PassPlan, entries: dict[str, list[tuple[float, str]]]
) -> list[EventRow]:
    """Passes for the share of long-stay guests who registered, covering the stay; the pass at
    the reader on most entries (the guest's face is already among the compound's passages)."""
    rng = np.random.default_rng([c.seed, REGISTER_STREAM])
    edge_down = [o for o in log.outages if o.gate is None]
    rows = []
    for house, sid, first, last in log.guests:
        if rng.random() >= c.field.guests_registered:
            continue
        log.registered_guests.add(sid)
        pass_id = f"P-g{int(rng.integers(0, 2**40)):010x}"
        start = first - float(rng.uniform(0, 0.5)) * DAY
        end = last + float(rng.uniform(0, 1)) * DAY
        plan.windows.append(PassWindow(pass_id, house, PassKind.VISITOR, start, end))
        for t, gate in entries.get(sid, ()):
            if rng.random() < c.field.pass_presented and fc.recorded(edge_down, t - 3, gate):
                rows.append(_row(t - 3, gate, "in", house=house, pass_id=pass_id, rng=rng))
    return rows


def _short_stay(v: _Visitors, house: str, t0: float) -> None:
    """A relative for 2-6 nights: in one evening, out and back some days, gone a morning."""
    rng = v.rng
    first = int(rng.integers(0, v.c.days - 7))
    nights = int(rng.integers(2, 7))
    face = new_stranger_id(rng)
    midnight = t0 + first * DAY
    pass_id = v.new_pass(house, PassKind.VISITOR, midnight, midnight + (nights + 1) * DAY)
    gate = v.gate()
    v.passage(midnight + v.hours(18, 1.5), "in", face, pass_id, house, gate)
    for d in range(first + 1, first + nights + 1):
        day = t0 + d * DAY
        if d == first + nights:
            v.passage(day + v.hours(10, 1.5), "out", face, pass_id, house, v.gate())
        elif rng.random() < 0.55:
            out = day + v.hours(10.5, 2)
            v.visit(out, out + float(rng.uniform(1.5, 7)) * HOUR, face, pass_id, house)


def _carer(v: _Visitors, house: str, t0: float) -> None:
    """A carer or domestic helper on a long-term pass: weekdays 08:00-18:00, never overnight."""
    rng = v.rng
    kind = PassKind.CARER if rng.random() < 0.5 else PassKind.DOMESTIC_HELPER
    face = new_stranger_id(rng)
    pass_id = v.new_pass(house, kind, t0, t0 + min(v.c.days, 366) * DAY)
    for d in range(v.c.days):
        midnight = t0 + d * DAY
        if datetime.fromtimestamp(midnight + 12 * HOUR, v.c.start.tzinfo).weekday() >= 5:
            continue
        if rng.random() < 0.05:
            continue  # a day off
        arrive = midnight + max(8.0 * HOUR, v.hours(8.3, 0.2))
        leave = midnight + min(18.0 * HOUR, v.hours(17.6, 0.25))
        v.visit(arrive, leave, face, pass_id, house)


def _mover(v: _Visitors, house: str, start: float) -> None:
    """Comes on a visitor pass of 7-21 days and stays on: out most mornings, in most evenings."""
    rng, c = v.rng, v.c
    face = new_stranger_id(rng)
    until = start + float(rng.integers(7, 22)) * DAY
    pass_id = v.new_pass(house, PassKind.VISITOR, start, until)
    v.plan.movers.append((house, pass_id, start))
    v.log.aliases[face] = pass_id
    t0 = c.start.timestamp()
    for d in range(int((start - t0) // DAY), c.days):
        if rng.random() < 0.12:
            continue  # a day not going out
        midnight = t0 + d * DAY
        out, back = midnight + v.hours(8.2, 0.8), midnight + v.hours(19, 1.2)
        for t, direction in ((out, "out"), (back, "in")):
            if t > start:
                v.passage(t, direction, face, pass_id if t < until else None, house, v.gate())


def _rows(v: _Visitors) -> list[EventRow]:
    c, log, rng = v.c, v.log, v.rng
    edge_down = [o for o in log.outages if o.gate is None]
    rows: list[EventRow] = []
    for t, direction, gate, face, pass_id, house in sorted(v.raw, key=lambda r: r[0]):
        if not fc.recorded(edge_down, t, gate):
            continue  # the whole edge recorded nothing
        if pass_id is not None:  # the reader works through a camera outage
            rows.append(_row(t, gate, direction, house=house, pass_id=pass_id, rng=rng))
        if not face or rng.random() < c.miss_rate or not fc.recorded(log.outages, t, gate):
            continue
        face_id = field_stranger_id(face, t, c, log, rng)
        rows.append(_row(t + 3, gate, direction, face_id=face_id))
    return rows


def _row(
    t: float,
    gate: str,
    direction: str,
    *,
    house: str | None = None,
    pass_id: str | None = None,
    face_id: str | None = None,
    rng: np.random.Generator | None = None,
) -> EventRow:
    """A pass at the reader (``pass_id``), or an unknown face at the camera (``face_id``)."""
    by_pass = pass_id is not None
    method = PassageMethod.FACE
    if rng is not None:
        method = PassageMethod.QR if rng.random() < 0.6 else PassageMethod.PIN
    return EventRow(
        id="",
        seq=0,
        occurred_at=t,
        gate=gate,
        lane=0,
        direction=PassageDirection(direction),
        method=method,
        subject=SubjectKind.VISITOR if by_pass else SubjectKind.STRANGER,
        resident_id=None,
        stranger_id=face_id,
        house_id=house,
        score=None if by_pass else 0.7,
        quality=None if by_pass else 0.8,
        decision=Decision.GRANT if by_pass else Decision.DENY,
        reason="",
        tailgating=False,
        pass_id=pass_id,
    )


def merged(events: list[EventRow], plan: PassPlan, base_id: int) -> list[EventRow]:
    """The compound's rows and the pass holders', in time order and numbered again."""
    if not plan.events:
        return events
    rows = sorted(events + plan.events, key=lambda e: e.occurred_at)
    return [
        replace(e, seq=i, id=str(uuid.UUID(int=(base_id << 64) + i)))
        for i, e in enumerate(rows, start=1)
    ]
