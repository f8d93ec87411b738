"""Unregistered faces over days: who sleeps here, with which house, and who is a resident in a mask.

Stranger ids come from the edge's stranger gallery, which can give one face two ids (daylight and
infrared at night) or a fresh one now and then. So a night is counted from either half: an id
that goes out first thing in the morning after going out last (it came in unseen, under its night
id) spent the night, as does one that comes in one evening and next comes in again. Ids of one
face are not joined: with several such people in a compound, which night id goes with which day
id cannot be told from the gate alone; the analyser instead withholds an alert for a day-only id
when a night-only id with the same days already raised one.

A resident the cameras often fail to recognise (mask, cap) also shows up as a stranger who lives
here. Such a "stranger" and that resident take turns: merged in time, their passages alternate
in and out like one person's, where two people who live together do not.
"""

from __future__ import annotations

import bisect
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from gridgate_wire import PassageDirection


@dataclass
class StrangerId:
    first_seen: float
    last_seen: float = 0.0
    days: set[int] = field(default_factory=set)
    nights: set[int] = field(default_factory=set)
    co: Counter[str] = field(default_factory=Counter)
    passes: Counter[str] = field(default_factory=Counter)  # pass id -> entries together with it
    passages: int = 0
    entries: int = 0  # passages coming in
    holder: str | None = None  # the visitor pass this face came in with (kept once linked)
    recent: deque[tuple[float, PassageDirection]] = field(default_factory=lambda: deque(maxlen=80))
    last_direction: PassageDirection | None = None
    last_time: float = 0.0
    last_day: int = -1
    mornings_out: int = 0  # days whose first passage is going out in the morning
    evenings_in: int = 0  # evening passages coming in
    last_evening: int = -1  # last day it came in in the evening
    last_morning: int = -1  # last day its first passage was going out in the morning

    def night_half(self) -> bool:
        """Seen mostly coming in at night: the infrared half of a face split in two."""
        return self.evenings_in > 0 and self.mornings_out == 0

    def day_half(self) -> bool:
        """Seen mostly going out in the morning: the daylight half."""
        return self.mornings_out > 0 and self.evenings_in == 0


class StrangerTracker:
    def __init__(self, evening_from: float, morning_until: float) -> None:
        self.evening_from = evening_from
        self.morning_until = morning_until
        self.ids: dict[str, StrangerId] = {}

    def seen(
        self, sid: str, t: float, day: int, hour: float, direction: PassageDirection
    ) -> StrangerId:
        state = self.ids.get(sid)
        if state is None:
            state = self.ids[sid] = StrangerId(first_seen=t)
        state.days.add(day)
        first_today = state.last_day != day
        previous, previous_day = state.last_direction, state.last_day
        morning = direction is PassageDirection.OUT and first_today and hour <= self.morning_until
        evening = direction is PassageDirection.IN and hour >= self.evening_from
        if morning:
            if previous is PassageDirection.IN and state.last_evening == day - 1:
                state.nights.add(day - 1)  # in last evening, out first thing: stayed the night
            elif previous is PassageDirection.OUT and state.last_morning == previous_day == day - 1:
                state.nights.add(day - 1)  # out yesterday morning, out again: came in unseen
            state.last_morning = day
            state.mornings_out += 1
        if (
            evening
            and previous is PassageDirection.IN
            and state.last_evening == previous_day == day - 1
        ):
            state.nights.add(day - 1)  # in last evening, in again tonight: left unseen
        if evening:
            state.last_evening = day
            state.evenings_in += 1
        state.last_direction, state.last_time, state.last_day = direction, t, day
        state.last_seen = max(state.last_seen, t)
        state.passages += 1
        state.entries += direction is PassageDirection.IN
        state.recent.append((t, direction))
        return state

    def person(self, sid: str, since_day: int) -> Person:
        s = self.ids[sid]
        return Person(
            first_seen=s.first_seen,
            last_seen=s.last_seen,
            days={d for d in s.days if d > since_day},
            nights=sum(1 for n in s.nights if n > since_day),
            co=s.co,
            passages=s.passages,
            recent=list(s.recent),
            night_only=s.night_half(),
            day_only=s.day_half(),
        )

    def forget_before(self, t: float) -> list[str]:
        gone = [sid for sid, s in self.ids.items() if s.last_seen < t]
        for sid in gone:
            del self.ids[sid]
        return gone


@dataclass
class Person:
    first_seen: float
    last_seen: float
    days: set[int]
    nights: int
    co: Counter[str]
    passages: int
    recent: list[tuple[float, PassageDirection]]
    night_only: bool = False  # seen coming in at night only (the infrared half of a face)
    day_only: bool = False  # seen going out in the morning only (the daylight half)


def fills_holes(
    stranger: Iterable[tuple[float, PassageDirection]],
    resident: list[tuple[float, PassageDirection]],
) -> tuple[int, int]:
    """How many stranger passages (of those within the resident's span) land in a hole of the
    resident's own record (between two passages of the same direction) with the missing
    direction: (filled, tried). A resident's unrecognised passages fill every hole; another
    person's passages fill at most about half by chance."""
    times = [t for t, _ in resident]
    filled = tried = 0
    for t, direction in stranger:
        i = bisect.bisect_left(times, t)
        if i == 0 or i >= len(times):
            continue
        before, after = resident[i - 1][1], resident[i][1]
        tried += 1
        if before == after and direction != before:
            filled += 1
    return filled, tried
