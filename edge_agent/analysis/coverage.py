"""Which hours the edge actually recorded, gate by gate, inferred from its own events.

An hour in which a gate that usually records several passages at that time of day records none
is an hour that gate was blind (camera down, edge off, disk full); quiet hours that follow such an
hour without a passage are blind too (an outage runs through the night). Absence clocks count
only recorded time: a person who normally uses the north gate is not "unseen" while the north
gate is down, and after a whole-edge outage nobody's clock has advanced.
"""

from __future__ import annotations

import bisect
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from edge_agent.analysis.const import HOUR


class RecordingCoverage:
    def __init__(self, tz: ZoneInfo, min_expected: float = 8.0, learning: float = 0.15) -> None:
        self.tz = tz
        self.min_expected = min_expected
        self.learning = learning
        self._open: dict[int, Counter[str]] = {}  # hour index -> passages per gate, not closed
        self._expected: dict[tuple[str, int], float] = {}  # (gate, local hour) -> passages
        self._down_hours: list[int] = []  # sorted hour indexes with at least one gate blind
        self._down: dict[int, frozenset[str]] = {}
        self._was_down: set[str] = set()
        self.gates: set[str] = set()
        self._closed_until: int | None = None  # hours before this index are decided

    def observe(self, t: float, gate: str) -> None:
        hour = int(t // HOUR)
        if self._closed_until is None:
            self._closed_until = hour
        if hour < self._closed_until:
            return  # late event for a decided hour: keep the decision
        self.gates.add(gate)
        self._open.setdefault(hour, Counter())[gate] += 1

    def close_until(self, now: float) -> None:
        """Decide every whole hour before ``now``."""
        if self._closed_until is None:
            return
        last = int(now // HOUR)
        for hour in range(self._closed_until, last):
            self._close(hour)
        self._closed_until = max(self._closed_until, last)

    def _close(self, hour: int) -> None:
        counts = self._open.pop(hour, Counter())
        local_hour = datetime.fromtimestamp(hour * HOUR, self.tz).hour
        blind = set()
        for gate in self.gates:
            seen = counts.get(gate, 0)
            expected = self._expected.get((gate, local_hour))
            if seen == 0 and gate in self._was_down:
                blind.add(gate)  # still down: an outage runs through the quiet hours too
                continue
            if expected is None:
                if seen:
                    self._expected[(gate, local_hour)] = float(seen)
                continue
            if seen == 0 and expected >= self.min_expected:
                blind.add(gate)
                continue
            self._expected[(gate, local_hour)] = expected + self.learning * (seen - expected)
        self._was_down = blind
        if blind:
            self._down[hour] = frozenset(blind)
            self._down_hours.append(hour)

    def blind_hours(
        self, start: float, end: float, shares: dict[str, float] | None = None
    ) -> float:
        """Hours within [start, end) a person was not filmable, weighted by their gate shares."""
        if end <= start or not self._down_hours:
            return 0.0
        lo = bisect.bisect_left(self._down_hours, int(start // HOUR))
        hi = bisect.bisect_right(self._down_hours, int(end // HOUR))
        lost = 0.0
        for hour in self._down_hours[lo:hi]:
            overlap = min(end, (hour + 1) * HOUR) - max(start, hour * HOUR)
            if overlap <= 0:
                continue
            gates = self._down[hour]
            if shares:
                weight = sum(share for gate, share in shares.items() if gate in gates)
            else:
                weight = len(gates) / max(1, len(self.gates))
            lost += overlap / HOUR * min(1.0, weight)
        return lost

    def forget_before(self, t: float) -> None:
        cut = bisect.bisect_left(self._down_hours, int(t // HOUR))
        for hour in self._down_hours[:cut]:
            del self._down[hour]
        del self._down_hours[:cut]
