"""What the analyser keeps of each resident's passages, and what an absence looks like."""

from __future__ import annotations

import itertools
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from gridgate_wire import PassageDirection

VISIT_GAP_S = 3 * 86_400.0  # unseen this long before an 'in': they came back, not home


@dataclass
class Resident:
    house_id: str
    care: bool
    last_seen: float = 0.0
    last_gate: str = ""
    last_direction: PassageDirection | None = None
    daylog: deque[list[int]] = field(default_factory=lambda: deque(maxlen=200))  # day, passes
    gates: Counter[str] = field(default_factory=Counter)
    recent: deque[tuple[float, PassageDirection]] = field(default_factory=lambda: deque(maxlen=160))
    _holes_of: tuple[int, float] = field(default=(0, 0.0), repr=False, compare=False)
    _holes: int = field(default=0, repr=False, compare=False)

    def holes(self) -> int:
        """Repeated directions in ``recent`` (in after in, out after out: passages the cameras
        did not recognise). Cached: the new-occupant rule asks for every resident each hour."""
        key = (len(self.recent), self.recent[-1][0] if self.recent else 0.0)
        if key != self._holes_of:
            pairs = itertools.pairwise(self.recent)
            self._holes = sum(1 for (_, a), (_, b) in pairs if a == b)
            self._holes_of = key
        return self._holes

    def shares(self) -> dict[str, float]:
        total = sum(self.gates.values())
        return {g: n / total for g, n in self.gates.items()} if total else {}

    def stays_and_visits(
        self, since: float, moment: float, day_of: Callable[[float], int]
    ) -> tuple[int, int]:
        """Nights inside (in, next out on a later day) and visits back since ``since``: in and
        out the same day after days unseen (belongings, mail), not a night-shift's day."""
        stays = visits = 0
        pending: float | None = None
        returned = False
        previous = 0.0
        for t, direction in self.recent:
            if t >= since:
                if direction is PassageDirection.IN:
                    pending, returned = t, t - previous >= VISIT_GAP_S
                elif pending is not None:
                    if day_of(t) > day_of(pending):
                        stays += 1
                    elif returned:
                        visits += 1
                    pending = None
            previous = t
        if pending is not None and day_of(moment) > day_of(pending):
            stays += 1
        return stays, visits

    def outing_rate(self, last_day: int) -> float:
        """Share of days at home this person goes out, from the gaps between days seen in the
        last four weeks: the longest gap is left out when over five days (a trip away, not
        habit), the others count up to a week."""
        days = [d for d, _ in self.daylog if last_day - 28 < d <= last_day]
        gaps = sorted(b - a for a, b in itertools.pairwise(days))
        if gaps and gaps[-1] > 5:
            gaps.pop()
        if not gaps:
            return 0.5
        return min(0.98, max(0.05, len(gaps) / sum(min(g, 7) for g in gaps)))


@dataclass(frozen=True, slots=True)
class Absence:
    unseen_days: float
    blind_hours: float
    days_seen: int
    days_observed: int
    rate: float  # share of recorded days this person (or house) was seen, before going quiet
