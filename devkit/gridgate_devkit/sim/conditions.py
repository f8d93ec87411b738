"""Field conditions for the compound simulator: what a real Chinese residential compound adds.

Every knob is seeded through the simulator's own generator for field effects (a stream separate
from the base compound, so the default profile is unchanged when they are off). Where a default
comes from (``source``) is said next to each knob; where no measurement was at hand the default is
an assumption, said as such, and the bench's per-condition table shows what each knob does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
from pydantic import Field

from gridgate_core.config import StrictModel

DAY = 86_400.0
HOUR = 3_600.0


class FieldConditions(StrictModel):
    """All off by default; :func:`field_conditions` gives the field profile's values."""

    spring_festival_away: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description=(
            "Share of households that leave together around Spring Festival (field: 0.40; the "
            "issue's measured condition; China's Spring Festival travel season moves ~9 billion "
            "trips, and migrant and student households go home)."
        ),
    )
    spring_festival_days: tuple[int, int] = Field(
        default=(14, 35), description="Length of the Spring Festival absence (uniform)."
    )
    spring_festival_partial: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="Of those households, share in which one member stays home (assumption).",
    )
    national_day_away: float = Field(
        default=0.0, ge=0, le=1, description="Share of households away for National Day (0.15)."
    )
    family_trips: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of households that take one trip together (field: 0.25, the issue's).",
    )
    family_trip_days: tuple[int, int] = Field(
        default=(7, 35),
        description="Trip length, log-uniform: most trips are one to two weeks, few reach five.",
    )
    unfilmed_gate_users: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of residents who mostly use a car gate with no camera (field: 0.20).",
    )
    unfilmed_gate_use: float = Field(
        default=0.8, ge=0, le=1, description="Share of their passages through that gate."
    )
    visits_back: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description=(
            "Share of people who moved out (alone or as a household) who come back now and then "
            "for belongings and mail (field: 0.6, assumption)."
        ),
    )
    visit_back_every_days: float = Field(
        default=12, gt=0, description="Mean days between visits back (the issue's ~12)."
    )
    visit_back_for_days: tuple[int, int] = Field(
        default=(20, 75), description="For how long after moving they still come back."
    )
    guests: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of households hosting a long-stay guest (field: 0.03, the issue's).",
    )
    guest_days: tuple[int, int] = Field(default=(7, 28), description="Guest stay (uniform).")
    guest_commutes: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description=(
            "Share of guests who keep a working day's routine like a resident (assumption; the "
            "rest are relatives who come and go irregularly, often with their host)."
        ),
    )
    guests_registered: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description=(
            "Share of long-stay guests registered with a visitor pass covering the stay (field: "
            "0.5, assumption: the centre asks hosts to register guests, not all do). Drawn from "
            "its own stream: changing it moves nothing else."
        ),
    )
    pass_visitors_per_day: float = Field(
        default=0.0,
        ge=0,
        description="Day visitors with a pass (QR or PIN), for an hour or a few (field: 15).",
    )
    pass_stays: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description=(
            "Share of households hosting a relative for 2-6 nights on a pass over the run "
            "(field: 0.05, assumption)."
        ),
    )
    carers: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description=(
            "Share of households with a carer or domestic helper on a long-term pass, coming "
            "weekdays 08:00-18:00 (field: 0.03, assumption)."
        ),
    )
    pass_move_ins: int = Field(
        default=0,
        ge=0,
        description=(
            "Pass holders who in truth move in: a visitor pass of 7-21 days, then they stay on "
            "without one, following residents in (field: 5; scored as new occupants)."
        ),
    )
    pass_presented: float = Field(
        default=0.9,
        ge=0,
        le=1,
        description=(
            "Share of a pass holder's entries with the pass at the reader; the rest follow a "
            "resident in. Every passage of theirs shows an unknown face to the camera."
        ),
    )
    persistent_strangers: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of residents mostly seen as strangers: masks, caps (field: 0.02).",
    )
    persistent_stranger_rate: float = Field(
        default=0.7, ge=0, le=1, description="Share of their face passages seen as strangers."
    )
    day_night_split: bool = Field(
        default=False,
        description="Stranger ids differ between daylight and infrared night images (field: on).",
    )
    night_hours: tuple[float, float] = Field(
        default=(18.5, 7.5), description="Local hours of infrared imaging (winter, Chengdu)."
    )
    random_split: float = Field(
        default=0.0, ge=0, le=1, description="Stranger passages given a fresh id (field: 0.05)."
    )
    gate_outages: int = Field(
        default=0, ge=0, description="Camera outages per gate over the run (field: 2)."
    )
    gate_outage_hours: tuple[float, float] = Field(
        default=(2, 48), description="Length of a gate's camera outage."
    )
    edge_outages: int = Field(
        default=0, ge=0, description="Whole-edge recording outages (field: 1, the issue's)."
    )
    edge_outage_hours: tuple[float, float] = Field(
        default=(60, 60), description="Length of a whole-edge outage (power, disk)."
    )
    care_low_activity: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of care recipients who go out on few days (field: 0.5, the issue's).",
    )
    care_low_activity_days: float = Field(
        default=0.4, gt=0, le=1, description="Share of days such a person goes out at all."
    )
    welfare_outside: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description=(
            "Of care recipients who stop passing, share whose last passage is going out (did "
            "not come back: hospital, lost); the rest stop at home. Default: as the time of day "
            "falls (the old simulator); field: 0.15 (assumption)."
        ),
    )
    care_trips_reported: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description=(
            "Share of a care recipient's trips reported to the centre before leaving (外出报备; "
            "field: 0.5, assumption: a standing practice for 关爱对象 but not always followed)."
        ),
    )


def field_conditions() -> FieldConditions:
    return FieldConditions(
        spring_festival_away=0.40,
        national_day_away=0.15,
        family_trips=0.25,
        unfilmed_gate_users=0.20,
        visits_back=0.6,
        guests=0.03,
        guests_registered=0.5,
        pass_visitors_per_day=15,
        pass_stays=0.05,
        carers=0.03,
        pass_move_ins=5,
        persistent_strangers=0.02,
        day_night_split=True,
        random_split=0.05,
        gate_outages=2,
        edge_outages=1,
        care_low_activity=0.5,
        welfare_outside=0.15,
        care_trips_reported=0.5,
    )


@dataclass(frozen=True, slots=True)
class Away:
    """Days [first, last) a set of residents is away together (day indexes of the run)."""

    house_id: str
    residents: tuple[str, ...]
    first: int
    last: int
    cause: str  # spring_festival | national_day | family_trip | personal_trip
    reported: bool = False


@dataclass(frozen=True, slots=True)
class Outage:
    gate: str | None  # None: the whole edge
    start: float
    end: float


@dataclass
class FieldLog:
    """What the field conditions did, for scoring and the per-condition table."""

    away: list[Away] = field(default_factory=list)
    outages: list[Outage] = field(default_factory=list)
    guests: list[tuple[str, str, float, float]] = field(default_factory=list)  # house, id, from, to
    shadows: dict[str, str] = field(default_factory=dict)  # resident -> stranger id
    unfilmed: set[str] = field(default_factory=set)
    low_activity: set[str] = field(default_factory=set)
    aliases: dict[str, str] = field(default_factory=dict)  # any stranger id variant -> its person
    registered_guests: set[str] = field(default_factory=set)  # guests' ids with a visitor pass


def night_variant(stranger_id: str) -> str:
    """The id the same face gets under infrared: stable, different."""
    digest = hashlib.blake2b(stranger_id.encode(), digest_size=6).hexdigest()
    return f"S-{digest}"


def departure(rng: np.random.Generator, trip: Away, gate: str) -> tuple[float, float, str]:
    """(seconds after midnight leaving, seconds after midnight back, gate) of a trip."""
    return float(rng.uniform(7, 20)) * HOUR, float(rng.uniform(10, 21)) * HOUR, gate


def is_night(local_hour: float, hours: tuple[float, float]) -> bool:
    start, end = hours
    return local_hour >= start or local_hour < end


def log_uniform_days(rng: np.random.Generator, low: int, high: int) -> int:
    return round(float(np.exp(rng.uniform(np.log(low), np.log(high)))))


def outages(
    rng: np.random.Generator, c: FieldConditions, gates: tuple[str, ...], t0: float, days: int
) -> list[Outage]:
    found: list[Outage] = []
    for gate in gates:
        for _ in range(c.gate_outages):
            start = t0 + float(rng.uniform(7, days - 3)) * DAY
            found.append(
                Outage(gate, start, start + float(rng.uniform(*c.gate_outage_hours)) * HOUR)
            )
    for _ in range(c.edge_outages):
        start = t0 + float(rng.uniform(14, days - 10)) * DAY
        found.append(Outage(None, start, start + float(rng.uniform(*c.edge_outage_hours)) * HOUR))
    return found


def recorded(outage_list: list[Outage], t: float, gate: str) -> bool:
    return not any(o.start <= t < o.end and o.gate in (None, gate) for o in outage_list)


def household_absences(
    rng: np.random.Generator,
    c: FieldConditions,
    by_house: dict[str, list[str]],
    festivals: dict[str, int],
    days: int,
) -> list[Away]:
    """Whole households (or all but one member) away together: festivals and family trips.

    ``festivals`` maps a holiday name to its first day's index in the run (when inside it).
    """
    found: list[Away] = []
    for house, members in by_house.items():
        plans: list[tuple[int, int, str, bool]] = []
        sf = festivals.get("spring_festival")
        if sf is not None and rng.random() < c.spring_festival_away:
            leave = sf - int(rng.integers(0, 11))
            plans.append(
                (
                    leave,
                    int(rng.integers(c.spring_festival_days[0], c.spring_festival_days[1] + 1)),
                    "spring_festival",
                    True,
                )
            )
        nd = festivals.get("national_day")
        if nd is not None and rng.random() < c.national_day_away:
            plans.append(
                (nd - int(rng.integers(0, 2)), int(rng.integers(5, 10)), "national_day", False)
            )
        if rng.random() < c.family_trips:
            plans.append(
                (
                    int(rng.integers(0, days)),
                    log_uniform_days(rng, *c.family_trip_days),
                    "family_trip",
                    False,
                )
            )
        for first, length, cause, may_be_partial in plans:
            away = list(members)
            if may_be_partial and len(away) >= 2 and rng.random() < c.spring_festival_partial:
                away.pop(int(rng.integers(len(away))))
            found.append(Away(house, tuple(away), first, first + length, cause))
    return found
