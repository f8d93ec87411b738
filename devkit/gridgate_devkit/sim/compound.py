"""A residential compound simulated at event level, with ground truth.

Generates households and residents with routines (commuters, students, retirees, night-shift
workers, people who rarely go out), trips away, visitors and couriers, several gates, and a
gate's recognition noise (missed recognitions, residents seen as strangers on bad frames, false
matches at a given FPIR, card users). It scripts the changes the analyser must find: residents
who move out, households that leave (vacancy), unregistered people who move in, and care
recipients who stop going out. The output is exactly the event rows the edge writes
(:class:`~edge_agent.store.rows.EventRow`) plus the roster and a ground-truth list.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
from pydantic import Field

from edge_agent.analysis.visitors import PassWindow
from edge_agent.store.rows import EventRow
from gridgate_core.config import StrictModel
from gridgate_devkit.sim import conditions as fc
from gridgate_devkit.sim.conditions import FieldConditions, FieldLog
from gridgate_devkit.sim.field_people import (
    festival_days,
    field_stranger_id,
    guests,
    leave_and_return,
    visits_back,
)
from gridgate_devkit.sim.visitors import merged, visitor_passes
from gridgate_wire import Decision, PassageDirection, PassageMethod, SubjectKind

Routine = Literal["commuter", "student", "retiree", "night_shift", "homebody"]
ROUTINES: tuple[Routine, ...] = ("commuter", "student", "retiree", "night_shift", "homebody")
ROUTINE_SHARE = (0.45, 0.15, 0.22, 0.06, 0.12)
DAY = 86_400.0


class SimConfig(StrictModel):
    seed: int = Field(default=1, description="Random seed: the same seed, the same compound.")
    households: int = Field(default=1000, ge=10, description="Houses with residents.")
    days: int = Field(default=90, ge=14, description="Simulated days.")
    start: datetime = Field(
        default=datetime(2026, 1, 5, tzinfo=ZoneInfo("Asia/Shanghai")),
        description="First simulated local midnight; routines follow local time.",
    )
    gates: tuple[str, ...] = Field(default=("north", "south", "east"), description="Gates.")
    card_users: float = Field(default=0.1, ge=0, le=1, description="Residents who decline face.")
    miss_rate: float = Field(default=0.04, ge=0, le=1, description="Passages not recorded at all.")
    stranger_rate: float = Field(
        default=0.03, ge=0, le=1, description="Resident passages recognised as a stranger."
    )
    fpir: float = Field(
        default=1e-3, ge=0, le=1, description="Stranger passages matched to a random resident."
    )
    trip_rate: float = Field(
        default=0.35, ge=0, le=2, description="Trips away (3-14 days) per resident over the run."
    )
    visitors_per_day: float = Field(default=60, ge=0, description="One-off visitors a day.")
    couriers_per_day: float = Field(default=40, ge=0, description="Courier visits a day.")
    regular_visitors: int = Field(
        default=40, ge=0, description="People who visit one house weekly, in daytime."
    )
    move_outs: int = Field(default=30, ge=0, description="Residents who move out alone.")
    vacancies: int = Field(default=12, ge=0, description="Households that leave together.")
    move_ins: int = Field(default=15, ge=0, description="Unregistered people who move in.")
    care_recipients: int = Field(default=40, ge=0, description="Residents flagged for care.")
    care_stops: int = Field(default=12, ge=0, description="Care recipients who stop going out.")
    change_window: tuple[int, int] = Field(
        default=(10, 55), description="Days within which scripted changes start."
    )
    field: FieldConditions = Field(
        default_factory=FieldConditions,
        description="Field conditions (holidays, trips, unfilmed gates, outages...); off here.",
    )


def _stranger_id(rng: np.random.Generator) -> str:
    return f"S-{int(rng.integers(0, 2**47)):012x}"


@dataclass(frozen=True, slots=True)
class SimResident:
    resident_id: str
    house_id: str
    routine: Routine
    card_user: bool
    care_recipient: bool


@dataclass(frozen=True, slots=True)
class Truth:
    kind: str  # move_out | vacancy | new_occupant | welfare_check
    house_id: str
    subject: str  # resident id, stranger id, or house id
    start: datetime
    household: bool = False  # a move-out that is part of a whole household leaving (vacancy)


@dataclass
class SimResult:
    config: SimConfig
    residents: list[SimResident]
    events: list[EventRow]
    truths: list[Truth]
    houses: dict[str, str] = field(default_factory=dict)  # house -> building
    log: FieldLog = field(default_factory=FieldLog)
    passes: list[PassWindow] = field(default_factory=list)  # what the edge's pass list holds


class _Builder:
    def __init__(self, config: SimConfig) -> None:
        self.c = config
        self.rng = np.random.default_rng(config.seed)
        self.raw: list[tuple[float, str, str, str | None, str | None, str]] = []
        # (time, direction, gate, resident id or None, stranger id or None, house id or '')

    def gate(self) -> str:
        return self.c.gates[int(self.rng.integers(len(self.c.gates)))]

    def pass_(
        self,
        t: float,
        direction: str,
        resident: str | None,
        stranger: str | None,
        house: str,
        gate: str | None = None,
    ) -> None:
        self.raw.append((t, direction, gate or self.gate(), resident, stranger, house))

    def normal(self, mean_h: float, sd_h: float) -> float:
        return float(np.clip(self.rng.normal(mean_h, sd_h), 0.1, 23.9)) * 3600

    def day_trips(self, routine: Routine, weekday: bool) -> list[tuple[float, float]]:
        """(out, back) seconds after midnight for one resident's day."""
        r = self.rng
        if routine == "commuter":
            if weekday:
                return [(self.normal(7.9, 0.6), self.normal(18.6, 0.9))]
            if r.random() < 0.6:
                out = self.normal(11, 2)
                return [(out, min(out + r.uniform(1, 6) * 3600, 23.5 * 3600))]
            return []
        if routine == "student":
            if weekday:
                return [(self.normal(7.2, 0.3), self.normal(16.8, 1.0))]
            return [(self.normal(14, 2), self.normal(19, 1))] if r.random() < 0.5 else []
        if routine == "retiree":
            trips = [(self.normal(8.8, 0.8), self.normal(10.8, 0.8))]
            if r.random() < 0.6:
                trips.append((self.normal(15.2, 0.8), self.normal(17.4, 0.7)))
            return trips
        if routine == "night_shift":
            if weekday:
                return [(self.normal(21.5, 0.5), DAY + self.normal(6.8, 0.5))]
            return [(self.normal(12, 2), self.normal(15, 1))] if r.random() < 0.4 else []
        if r.random() < 0.3:  # homebody: out every three days or so
            out = self.normal(10.5, 1.5)
            return [(out, out + r.uniform(1, 3) * 3600)]
        return []


def demo_scenario(households: int, days: int) -> SimConfig:
    """The compound `make demo` replays: the edge and the demo's hub registry both build it."""
    return SimConfig(
        seed=7,
        households=households,
        days=days,
        move_outs=4,
        vacancies=2,
        move_ins=3,
        care_recipients=6,
        care_stops=2,
        change_window=(3, days - 34),
        visitors_per_day=8,
        couriers_per_day=6,
        regular_visitors=5,
    )


def simulate(config: SimConfig | None = None) -> SimResult:
    c = config or SimConfig()
    b = _Builder(c)
    rng = b.rng
    t0 = c.start.timestamp()
    horizon = t0 + c.days * DAY

    # ---------------------------------------------------------------- the compound
    residents: list[SimResident] = []
    houses: dict[str, str] = {}
    sizes = rng.choice([1, 2, 3, 4, 5], size=c.households, p=[0.25, 0.35, 0.22, 0.13, 0.05])
    for h in range(c.households):
        building = f"B{h // 50 + 1:02d}"
        house = f"{building}-{(h % 50) // 10 + 1}{h % 10 + 1:02d}"
        houses[house] = building
        for k in range(int(sizes[h])):
            routine = ROUTINES[int(rng.choice(len(ROUTINES), p=ROUTINE_SHARE))]
            if k >= 2 and routine == "commuter" and rng.random() < 0.5:
                routine = "student"
            residents.append(
                SimResident(
                    f"R-{h:04d}-{k}", house, routine, bool(rng.random() < c.card_users), False
                )
            )
    by_house: dict[str, list[SimResident]] = {}
    for r in residents:
        by_house.setdefault(r.house_id, []).append(r)

    # Care recipients: active retirees living alone or with one other person.
    retirees = [r for r in residents if r.routine == "retiree" and not r.card_user]
    care_idx = set(
        rng.choice(
            len(retirees), size=min(c.care_recipients, len(retirees)), replace=False
        ).tolist()
    )
    care_ids = {retirees[i].resident_id for i in care_idx}
    residents = [
        SimResident(r.resident_id, r.house_id, r.routine, r.card_user, r.resident_id in care_ids)
        for r in residents
    ]
    by_house = {}
    for r in residents:
        by_house.setdefault(r.house_id, []).append(r)

    # ---------------------------------------------------------------- scripted changes
    truths: list[Truth] = []
    stop_at: dict[str, float] = {}
    lo, hi = c.change_window

    def when() -> float:
        return t0 + float(rng.uniform(lo, hi)) * DAY

    multi = [h for h, rs in by_house.items() if len(rs) >= 2]
    order = list(rng.permutation(len(multi)))
    vacancy_houses = [multi[i] for i in order[: c.vacancies]]
    for house in vacancy_houses:
        t = when()
        truths.append(Truth("vacancy", house, house, datetime.fromtimestamp(t, UTC)))
        for r in by_house[house]:
            stop_at[r.resident_id] = t
            truths.append(
                Truth("move_out", house, r.resident_id, datetime.fromtimestamp(t, UTC), True)
            )
    candidates = [
        r
        for h in (multi[i] for i in order[c.vacancies :])
        for r in by_house[h]
        if not r.care_recipient
    ]
    for i in rng.choice(len(candidates), size=min(c.move_outs, len(candidates)), replace=False):
        r = candidates[int(i)]
        if r.resident_id in stop_at:
            continue
        t = when()
        stop_at[r.resident_id] = t
        truths.append(Truth("move_out", r.house_id, r.resident_id, datetime.fromtimestamp(t, UTC)))
    care = [r for r in residents if r.care_recipient and r.resident_id not in stop_at]
    for i in rng.choice(len(care), size=min(c.care_stops, len(care)), replace=False):
        r = care[int(i)]
        t = t0 + float(rng.uniform(lo + 5, hi + 20)) * DAY + float(rng.uniform(0, DAY))
        stop_at[r.resident_id] = t
        truths.append(
            Truth("welfare_check", r.house_id, r.resident_id, datetime.fromtimestamp(t, UTC))
        )
    # A house every resident of which has left is vacant too (a single resident moving out).
    for house, members in by_house.items():
        if house not in vacancy_houses and all(m.resident_id in stop_at for m in members):
            t = max(stop_at[m.resident_id] for m in members)
            truths.append(Truth("vacancy", house, house, datetime.fromtimestamp(t, UTC)))
    vacant = set(vacancy_houses)
    occupied = [h for h in by_house if h not in vacant]
    movers: list[tuple[str, str, float]] = []
    for i in rng.choice(len(occupied), size=min(c.move_ins, len(occupied)), replace=False):
        house = occupied[int(i)]
        stranger = _stranger_id(rng)
        t = when()
        movers.append((house, stranger, t))
        truths.append(Truth("new_occupant", house, stranger, datetime.fromtimestamp(t, UTC)))

    # ---------------------------------------------------------------- field conditions
    f = c.field
    frng = np.random.default_rng([c.seed, 0xF1E1D])
    log = FieldLog()
    festivals = festival_days(c)
    log.away = fc.household_absences(
        frng, f, {h: [r.resident_id for r in rs] for h, rs in by_house.items()}, festivals, c.days
    )
    household_trips: dict[str, list[fc.Away]] = {}
    departures: dict[fc.Away, tuple[float, float, str]] = {}
    for a in log.away:
        departures[a] = fc.departure(frng, a, b.gate())
        for rid in a.residents:
            household_trips.setdefault(rid, []).append(a)
    log.unfilmed = {r.resident_id for r in residents if frng.random() < f.unfilmed_gate_users}
    log.shadows = {
        r.resident_id: _stranger_id(frng)
        for r in residents
        if not r.card_user and frng.random() < f.persistent_strangers
    }
    log.low_activity = {
        r.resident_id for r in residents if r.care_recipient and frng.random() < f.care_low_activity
    }
    welfare = {t.subject for t in truths if t.kind == "welfare_check"}
    stops_at_home = {rid for rid in welfare if frng.random() >= f.welfare_outside}
    log.outages = fc.outages(frng, f, c.gates, t0, c.days)

    # ---------------------------------------------------------------- residents' days
    shadow = {r.resident_id: _stranger_id(rng) for r in residents}
    for r in residents:
        away: set[int] = set()
        end = stop_at.get(r.resident_id, horizon)
        for _ in range(int(rng.poisson(c.trip_rate))):
            first = int(rng.integers(0, c.days))
            length = int(rng.integers(3, 15))
            away.update(range(first, first + length + 1))
            reported = bool(r.care_recipient and frng.random() < f.care_trips_reported)
            trip = fc.Away(r.house_id, (r.resident_id,), first, first + length, "trip", reported)
            log.away.append(trip)
            departures.setdefault(trip, fc.departure(frng, trip, b.gate()))
            leave_and_return(b, r, trip, departures[trip], t0, min(end, horizon))
        for trip in household_trips.get(r.resident_id, ()):
            away.update(range(trip.first, trip.last + 1))
            leave_and_return(b, r, trip, departures[trip], t0, min(end, horizon))
        for d in range(c.days):
            if d in away:
                continue
            if r.resident_id in log.low_activity and frng.random() >= f.care_low_activity_days:
                continue
            midnight = t0 + d * DAY
            weekday = datetime.fromtimestamp(midnight, UTC).weekday() < 5
            for out, back in b.day_trips(r.routine, weekday):
                if r.resident_id in stops_at_home and midnight + back >= end:
                    break  # stopped going out at home: the last passage was coming in
                for t, direction in ((midnight + out, "out"), (midnight + back, "in")):
                    if t < end and t < horizon:
                        b.pass_(t, direction, r.resident_id, None, r.house_id)
        if r.resident_id in stop_at and r.resident_id not in welfare:
            visits_back(b, frng, f, r, stop_at[r.resident_id], horizon)
        # household members leave together sometimes: handled by co-passage noise below

    # ---------------------------------------------------------------- new occupants
    for house, stranger, start in movers:
        host = by_house[house][0]
        for d in range(int((start - t0) // DAY), c.days):
            if rng.random() < 0.12:
                continue  # a day not going out
            midnight = t0 + d * DAY
            out = midnight + b.normal(8.2, 0.8)
            back = midnight + b.normal(19.0, 1.2)
            if out > start:
                b.pass_(out, "out", None, stranger, house)
            if back > start:
                b.pass_(back, "in", None, stranger, house)
                if rng.random() < 0.45:  # comes home together with a resident of the house
                    b.pass_(
                        back + float(rng.uniform(1, 15)),
                        "in",
                        host.resident_id,
                        None,
                        house,
                        b.raw[-1][2],
                    )

    guests(b, frng, c, log, occupied, by_house, t0)

    # ---------------------------------------------------------------- visitors, couriers
    regular = [
        (
            occupied[int(i)],
            _stranger_id(rng),
            int(rng.integers(0, 7)),
        )
        for i in rng.choice(
            len(occupied), size=min(c.regular_visitors, len(occupied)), replace=False
        )
    ]
    for d in range(c.days):
        midnight = t0 + d * DAY
        for _ in range(int(rng.poisson(c.visitors_per_day))):
            sid = _stranger_id(rng)
            t = midnight + b.normal(14, 3.5)
            gate = b.gate()
            b.pass_(t, "in", None, sid, "", gate)
            b.pass_(
                min(t + float(rng.uniform(0.3, 4)) * 3600, midnight + DAY - 1),
                "out",
                None,
                sid,
                "",
                gate,
            )
        for _ in range(int(rng.poisson(c.couriers_per_day))):
            # A handful of couriers serve the compound: the same faces on many days, daytime only.
            sid = f"S-courier{int(rng.integers(0, 12)):02d}"
            t = midnight + b.normal(13, 3)
            b.pass_(t, "in", None, sid, "")
            b.pass_(t + float(rng.uniform(120, 900)), "out", None, sid, "")
        for house, visitor, visit_day in regular:
            if d % 7 == visit_day:
                t = midnight + b.normal(15, 2)
                b.pass_(t, "in", None, visitor, house)
                b.pass_(t + float(rng.uniform(1, 3)) * 3600, "out", None, visitor, house)

    plan = visitor_passes(c, log, occupied, t0, b.raw)
    truths += [
        Truth("new_occupant", house, pass_id, datetime.fromtimestamp(t, UTC))
        for house, pass_id, t in plan.movers
    ]

    # ---------------------------------------------------------------- recognition noise
    card_user = {r.resident_id for r in residents if r.card_user}
    ids = [r.resident_id for r in residents]
    house_of = {r.resident_id: r.house_id for r in residents}
    b.raw.sort(key=lambda e: e[0])
    events: list[EventRow] = []
    seq = 0
    base_id = int(rng.integers(0, 2**40))
    for t, direction, gate, passer, unknown, _house in b.raw:
        if rng.random() < c.miss_rate:
            continue
        if log.outages and not fc.recorded(log.outages, t, gate):
            continue
        if passer in log.unfilmed and frng.random() < f.unfilmed_gate_use:
            continue  # through the car gate, which has no camera
        method, subject, decision = "face", "resident", "grant"
        who: str | None = passer
        face_id: str | None = unknown
        score: float | None = 0.97
        if passer is not None and passer in card_user:
            method = "card"
            score = None
        elif passer is not None and rng.random() < c.stranger_rate:
            subject, decision, who = "stranger", "deny", None
            face_id = shadow[passer] if rng.random() < 0.1 else _stranger_id(rng)
            score = 0.8
        elif passer is None:
            subject, decision, score = "stranger", "deny", 0.7
            if rng.random() < c.fpir:
                subject, decision, face_id, score = "resident", "grant", None, 0.96
                who = ids[int(rng.integers(len(ids)))]
        if (
            subject == "resident"
            and passer in log.shadows
            and method == "face"
            and frng.random() < f.persistent_stranger_rate
        ):
            subject, decision, who, face_id, score = (
                "stranger",
                "deny",
                None,
                log.shadows[passer],
                0.8,
            )
        if subject == "stranger" and face_id is not None:
            face_id = field_stranger_id(face_id, t, c, log, frng)
        seq += 1
        events.append(
            EventRow(
                id=str(uuid.UUID(int=(base_id << 64) + seq)),
                seq=seq,
                occurred_at=t,
                gate=gate,
                lane=0,
                direction=PassageDirection(direction),
                method=PassageMethod(method),
                subject=SubjectKind(subject),
                resident_id=who,
                stranger_id=face_id if subject == "stranger" else None,
                house_id=house_of.get(who) if who else None,
                score=score,
                quality=0.8 if method == "face" else None,
                decision=Decision(decision),
                reason="",
                tailgating=False,
            )
        )
    for sid in log.shadows.values():
        log.aliases.setdefault(sid, sid)
    events = merged(events, plan, base_id)
    return SimResult(c, residents, events, truths, houses, log, plan.windows)
