"""The simulated people that field conditions add: trips through a gate, visits back, guests,
and what the stranger gallery makes of faces (day/night and random id splits)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from edge_agent.analysis.calendar import NATIONAL_DAY, SPRING_FESTIVAL, HolidayCalendar
from gridgate_devkit.sim import conditions as fc
from gridgate_devkit.sim.conditions import DAY, FieldConditions, FieldLog

if TYPE_CHECKING:
    from gridgate_devkit.sim.compound import SimConfig, SimResident, _Builder


def new_stranger_id(rng: np.random.Generator) -> str:
    return f"S-{int(rng.integers(0, 2**47)):012x}"


def festival_days(c: SimConfig) -> dict[str, int]:
    """First day index (and length) of Spring Festival and National Day inside the run."""
    calendar = HolidayCalendar()
    first = c.start.date()
    found: dict[str, int] = {}
    for holiday in calendar.holidays_between(first, first + timedelta(days=c.days)):
        key = {SPRING_FESTIVAL: "spring_festival", NATIONAL_DAY: "national_day"}.get(holiday.name)
        if key and key not in found:
            found[key] = (holiday.first - first).days
            found[f"{key}_length"] = (holiday.last - holiday.first).days + 1
    return found


def field_stranger_id(
    face_id: str, t: float, c: SimConfig, log: FieldLog, frng: np.random.Generator
) -> str:
    f = c.field
    person = face_id
    if f.random_split and frng.random() < f.random_split:
        return new_stranger_id(frng)
    if f.day_night_split:
        local = datetime.fromtimestamp(t, c.start.tzinfo)
        if fc.is_night(local.hour + local.minute / 60, f.night_hours):
            face_id = fc.night_variant(face_id)
    log.aliases[face_id] = log.aliases.get(person, person)
    return face_id


def leave_and_return(
    b: _Builder,
    r: SimResident,
    trip: fc.Away,
    when: tuple[float, float, str],
    t0: float,
    end: float,
) -> None:
    """Leaving goes out through a gate, coming back comes in: a household together."""
    leave, back, gate = when
    jitter = float(b.rng.uniform(0, 15))
    for t, direction in (
        (t0 + trip.first * DAY + leave + jitter, "out"),
        (t0 + trip.last * DAY + back + jitter, "in"),
    ):
        if t < end:
            b.pass_(t, direction, r.resident_id, None, r.house_id, gate)


def visits_back(
    b: _Builder,
    frng: np.random.Generator,
    f: FieldConditions,
    r: SimResident,
    moved: float,
    horizon: float,
) -> None:
    """Someone who moved out comes back now and then, in daytime, for an hour or two."""
    if frng.random() >= f.visits_back:
        return
    until = moved + float(frng.integers(*f.visit_back_for_days)) * DAY
    t = moved + float(frng.exponential(f.visit_back_every_days)) * DAY
    while t < min(until, horizon):
        midnight = t - (t - b.c.start.timestamp()) % DAY
        arrive = midnight + b.normal(13, 2.5)
        gate = b.gate()
        b.pass_(arrive, "in", r.resident_id, None, r.house_id, gate)
        b.pass_(
            arrive + float(frng.uniform(0.3, 3)) * 3600,
            "out",
            r.resident_id,
            None,
            r.house_id,
            gate,
        )
        t += float(frng.exponential(f.visit_back_every_days)) * DAY


def guests(
    b: _Builder,
    frng: np.random.Generator,
    c: SimConfig,
    log: FieldLog,
    occupied: list[str],
    by_house: dict[str, list[SimResident]],
    t0: float,
) -> None:
    """Long-stay guests: relatives who stay a few weeks; some keep a working routine."""
    f = c.field
    for house in occupied:
        if frng.random() >= f.guests:
            continue
        sid = new_stranger_id(frng)
        first = float(frng.uniform(0, c.days - 7)) * DAY + t0
        last = first + float(frng.integers(f.guest_days[0], f.guest_days[1] + 1)) * DAY
        log.guests.append((house, sid, first, last))
        log.aliases[sid] = sid
        commutes = frng.random() < f.guest_commutes
        host = by_house[house][0]
        d0 = int((first - t0) // DAY)
        for d in range(d0, min(c.days, int((last - t0) // DAY) + 1)):
            midnight = t0 + d * DAY
            if commutes:
                if frng.random() < 0.12:
                    continue
                trip = (midnight + b.normal(8.2, 0.8), midnight + b.normal(19.0, 1.2))
            else:
                if frng.random() >= 0.55:
                    continue
                out = midnight + b.normal(10.5, 2)
                trip = (out, out + float(frng.uniform(1.5, 7)) * 3600)
            gate = b.gate()
            for t, direction in ((trip[0], "out"), (trip[1], "in")):
                if first < t < last:
                    b.pass_(t, direction, None, sid, house, gate)
                    if not commutes and frng.random() < 0.5:  # goes out with the host
                        b.pass_(
                            t + float(frng.uniform(1, 15)),
                            direction,
                            host.resident_id,
                            None,
                            house,
                            gate,
                        )
