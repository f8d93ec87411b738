"""Finds houses whose occupants seem to have changed, from the compound's passages.

Incremental: each run reads only the events committed since the last one (by sequence number)
and folds them into per-resident, per-house and per-stranger summaries; time-based checks
(absences) run on every tick. Signals:

- **move_out**: a resident who used to pass regularly (seen on ``regular_min_days`` days in the
  ``baseline_days`` before going quiet) has not been seen for ``move_out_days``.
- **vacancy**: no resident of a house has been seen for ``vacancy_days``.
- **new_occupant**: a stranger id seen on ``new_occupant_days`` distinct days within
  ``window_days``, with overnight presence (in during the evening, out the next morning) on
  ``min_nights`` nights, or repeated co-passage dominated by one house. The house is the one
  whose residents it passes the gate with, when one house clearly dominates.
- **welfare_check**: a care recipient who is normally active has not passed any gate for
  ``welfare_hours``.

Each alert is raised once per subject until the subject is seen again, and never while the hub
has suppressed that kind for that house (after a visit found no change). Strangers are tracked
here by their pseudonymous ids, which never leave the edge: alerts carry counts and times only.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from pydantic import Field

from edge_agent.store.events import EventRow
from gridgate_core.config import StrictModel
from gridgate_wire import AlertEvidence, AlertKind

_LOGGER = logging.getLogger(__name__)
DAY = 86_400.0
HOUR = 3_600.0


class AnalyserConfig(StrictModel):
    timezone: str = Field(default="Asia/Shanghai", description="Local time zone of the compound.")
    move_out_days: float = Field(default=21, gt=0, description="Days unseen before a move-out.")
    vacancy_days: float = Field(default=30, gt=0, description="Days no resident seen: vacancy.")
    baseline_days: int = Field(default=28, ge=7, description="Window that defines 'regular'.")
    regular_min_days: int = Field(
        default=4, ge=1, description="Days seen within the baseline to count as regular."
    )
    new_occupant_days: int = Field(default=4, ge=2, description="k distinct days ...")
    window_days: int = Field(default=14, ge=3, description="... within this many days.")
    min_nights: int = Field(default=2, ge=1, description="Overnight stays that show residence.")
    evening_from_hour: float = Field(default=17, ge=0, le=24, description="An evening 'in' from.")
    morning_until_hour: float = Field(default=11, ge=0, le=24, description="A morning 'out' until.")
    co_passage_s: float = Field(
        default=20, gt=0, description="Passing the same gate the same way within this: together."
    )
    min_co_passages: int = Field(
        default=3, ge=1, description="Co-passages with one house needed to name it."
    )
    co_dominance: float = Field(
        default=2.0, ge=1, description="The named house needs this many times the runner-up."
    )
    absence_p: float = Field(
        default=1e-3,
        gt=0,
        lt=1,
        description=(
            "For people who pass rarely, wait until an absence this unlikely under their own "
            "pass rate (days seen per baseline day); never less than the days above."
        ),
    )
    attribution_wait_days: float = Field(
        default=10,
        ge=0,
        description="A qualifying stranger waits up to this long for its house to become clear.",
    )
    welfare_hours: float = Field(default=48, gt=0, description="Hours unseen: welfare check.")
    welfare_active_days: int = Field(
        default=7, ge=1, description="Days seen in the two weeks before: 'normally active'."
    )


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AlertKind
    house_id: str | None
    resident_id: str | None
    subject: str  # resident, stranger or house id (stranger ids stay on the edge)
    detected_at: datetime
    confidence: float
    evidence: AlertEvidence


@dataclass
class _Resident:
    house_id: str
    care: bool
    last_seen: float = 0.0
    days: deque[int] = field(default_factory=lambda: deque(maxlen=120))


@dataclass
class _Stranger:
    first_seen: float
    qualified_at: float = 0.0
    last_seen: float = 0.0
    days: deque[int] = field(default_factory=lambda: deque(maxlen=60))
    nights: set[int] = field(default_factory=set)
    co: Counter[str] = field(default_factory=Counter)
    passages: int = 0
    last_direction: str = ""
    last_time: float = 0.0


RosterView = Callable[[], Iterable[tuple[str, str, bool]]]  # (resident, house, care recipient)
Suppressed = Callable[[str, str], float | None]  # (house, kind) -> until (epoch) or None


class OccupancyAnalyser:
    def __init__(
        self,
        config: AnalyserConfig | None = None,
        suppressed: Suppressed | None = None,
    ) -> None:
        self.config = config or AnalyserConfig()
        self.tz = ZoneInfo(self.config.timezone)
        self.suppressed = suppressed
        self.last_seq = 0
        self.residents: dict[str, _Resident] = {}
        self.houses: dict[str, set[str]] = defaultdict(set)
        self.strangers: dict[str, _Stranger] = {}
        self._recent_residents: deque[tuple[float, str, str, str]] = deque()
        self._recent_strangers: deque[tuple[float, str, str, str]] = deque()
        self._alerted: set[tuple[str, str]] = set()
        self._last_daily = -1
        self._care: list[str] = []
        self.now = 0.0

    # ------------------------------------------------------------------ roster

    def sync_roster(self, residents: Iterable[tuple[str, str, bool]]) -> None:
        seen = set()
        for resident_id, house_id, care in residents:
            seen.add(resident_id)
            state = self.residents.get(resident_id)
            if state is None:
                self.residents[resident_id] = _Resident(house_id, care)
            else:
                if state.house_id != house_id:
                    self.houses[state.house_id].discard(resident_id)
                state.house_id, state.care = house_id, care
            self.houses[house_id].add(resident_id)
        for gone in set(self.residents) - seen:
            self.houses[self.residents.pop(gone).house_id].discard(gone)
        self._care = [r for r, state in self.residents.items() if state.care]

    # ------------------------------------------------------------------ events

    def _day(self, t: float) -> int:
        return datetime.fromtimestamp(t, self.tz).toordinal()

    def _hour(self, t: float) -> float:
        local = datetime.fromtimestamp(t, self.tz)
        return local.hour + local.minute / 60

    def process(self, events: Iterable[EventRow]) -> int:
        count = 0
        window = self.config.co_passage_s
        for e in events:
            count += 1
            self.last_seq = max(self.last_seq, e.seq)
            t = e.occurred_at
            self.now = max(self.now, t)
            for recent in (self._recent_residents, self._recent_strangers):
                while recent and t - recent[0][0] > window:
                    recent.popleft()
            if e.subject == "resident" and e.resident_id in self.residents:
                self._resident_seen(e.resident_id, t)
                house = self.residents[e.resident_id].house_id
                for _, gate, direction, stranger in self._recent_strangers:
                    if gate == e.gate and direction == e.direction:
                        self.strangers[stranger].co[house] += 1
                self._recent_residents.append((t, e.gate, e.direction, house))
            elif e.subject == "stranger" and e.stranger_id:
                self._stranger_seen(e, t)
                for _, gate, direction, house in self._recent_residents:
                    if gate == e.gate and direction == e.direction:
                        self.strangers[e.stranger_id].co[house] += 1
                self._recent_strangers.append((t, e.gate, e.direction, e.stranger_id))
        return count

    def _resident_seen(self, resident_id: str, t: float) -> None:
        state = self.residents[resident_id]
        state.last_seen = max(state.last_seen, t)
        day = self._day(t)
        if not state.days or state.days[-1] != day:
            state.days.append(day)
        for kind in (AlertKind.MOVE_OUT, AlertKind.WELFARE_CHECK):
            self._alerted.discard((kind.value, resident_id))
        self._alerted.discard((AlertKind.VACANCY.value, state.house_id))

    def _stranger_seen(self, e: EventRow, t: float) -> None:
        sid = str(e.stranger_id)
        state = self.strangers.get(sid)
        if state is None:
            state = self.strangers[sid] = _Stranger(first_seen=t)
        day = self._day(t)
        if not state.days or state.days[-1] != day:
            state.days.append(day)
        if (
            e.direction == "out"
            and state.last_direction == "in"
            and self._hour(state.last_time) >= self.config.evening_from_hour
            and self._hour(t) <= self.config.morning_until_hour
            and self._day(t) == self._day(state.last_time) + 1
        ):
            state.nights.add(self._day(state.last_time))
        state.last_direction, state.last_time = e.direction, t
        state.last_seen = t
        state.passages += 1

    # ------------------------------------------------------------------ time checks

    def tick(self, now: float | None = None) -> list[Alert]:
        """Alerts that became due by ``now`` (epoch seconds; default: latest event time)."""
        moment = self.now if now is None else now
        self.now = max(self.now, moment)
        alerts: list[Alert] = self._welfare(moment)
        today = self._day(moment)
        if today != self._last_daily:  # day-scale signals: once a day is plenty
            self._last_daily = today
            alerts += self._absences(moment)
            alerts += self._new_occupants(moment)
            self._forget_old_strangers(moment)
        return alerts

    def _emit(self, kind: AlertKind, subject: str, house: str | None, moment: float) -> bool:
        key = (kind.value, subject)
        if key in self._alerted:
            return False
        if house and self.suppressed is not None:
            until = self.suppressed(house, kind.value)
            if until is not None and until > moment:
                return False
        self._alerted.add(key)
        return True

    def _needed_absence(self, seen_days: int, minimum_days: float) -> float:
        """Days of absence to wait: the floor, or longer for people who pass rarely."""
        rate = seen_days / self.config.baseline_days
        if rate <= 0:
            return minimum_days
        return max(minimum_days, math.log(1 / self.config.absence_p) / rate)

    def _regular(self, state: _Resident, before: float, days: int, minimum: int) -> int:
        end = self._day(before)
        seen = sum(1 for d in state.days if end - days <= d <= end)
        return seen if seen >= minimum else 0

    def _welfare(self, moment: float) -> list[Alert]:
        c = self.config
        out = []
        when = datetime.fromtimestamp(moment, UTC)
        for resident_id in self._care:
            state = self.residents.get(resident_id)
            if state is None or not state.last_seen:
                continue
            quiet = moment - state.last_seen
            if quiet >= c.welfare_hours * HOUR:
                seen = self._regular(state, state.last_seen, 14, c.welfare_active_days)
                if seen and self._emit(
                    AlertKind.WELFARE_CHECK, resident_id, state.house_id, moment
                ):
                    out.append(
                        Alert(
                            AlertKind.WELFARE_CHECK,
                            state.house_id,
                            resident_id,
                            resident_id,
                            when,
                            min(0.99, 0.5 + seen / 28),
                            AlertEvidence(
                                last_seen=datetime.fromtimestamp(state.last_seen, UTC),
                                days_observed=14,
                                days_seen=seen,
                                hours_unseen=round(quiet / HOUR, 1),
                            ),
                        )
                    )
        return out

    def _absences(self, moment: float) -> list[Alert]:
        c = self.config
        out = []
        when = datetime.fromtimestamp(moment, UTC)
        for resident_id, state in self.residents.items():
            if not state.last_seen:
                continue
            quiet = moment - state.last_seen
            if quiet >= c.move_out_days * DAY:
                seen = self._regular(state, state.last_seen, c.baseline_days, c.regular_min_days)
                needed = self._needed_absence(seen, c.move_out_days) * DAY
                if (
                    seen
                    and quiet >= needed
                    and self._emit(AlertKind.MOVE_OUT, resident_id, state.house_id, moment)
                ):
                    out.append(
                        Alert(
                            AlertKind.MOVE_OUT,
                            state.house_id,
                            resident_id,
                            resident_id,
                            when,
                            min(0.99, 0.6 + 0.4 * min(1.0, seen / c.baseline_days * 2)),
                            AlertEvidence(
                                last_seen=datetime.fromtimestamp(state.last_seen, UTC),
                                days_observed=c.baseline_days,
                                days_seen=seen,
                                hours_unseen=round(quiet / HOUR, 1),
                            ),
                        )
                    )
        for house, members in self.houses.items():
            states = [self.residents[m] for m in members if m in self.residents]
            seen_any = [s for s in states if s.last_seen]
            if not seen_any:
                continue
            last = max(s.last_seen for s in seen_any)
            house_days = len(
                {d for s in seen_any for d in s.days if self._day(last) - c.baseline_days <= d}
            )
            needed = self._needed_absence(house_days, c.vacancy_days) * DAY
            if moment - last >= needed and self._emit(AlertKind.VACANCY, house, house, moment):
                out.append(
                    Alert(
                        AlertKind.VACANCY,
                        house,
                        None,
                        house,
                        when,
                        0.9,
                        AlertEvidence(
                            last_seen=datetime.fromtimestamp(last, UTC),
                            hours_unseen=round((moment - last) / HOUR, 1),
                            note=f"{len(states)} registered residents, none seen",
                        ),
                    )
                )
        return out

    def _house_of(self, state: _Stranger) -> tuple[str | None, int]:
        top = state.co.most_common(2)
        if not top or top[0][1] < self.config.min_co_passages:
            return None, 0
        runner_up = top[1][1] if len(top) > 1 else 0
        if top[0][1] < self.config.co_dominance * runner_up:
            return None, 0
        return top[0][0], top[0][1]

    def _new_occupants(self, moment: float) -> list[Alert]:
        c = self.config
        out = []
        today = self._day(moment)
        for sid, state in self.strangers.items():
            days = sum(1 for d in state.days if today - c.window_days < d <= today)
            if days < c.new_occupant_days:
                continue
            nights = sum(1 for n in state.nights if today - c.window_days < n <= today)
            house, co = self._house_of(state)
            strong_co = house is not None and co >= 2 * c.min_co_passages
            if nights < c.min_nights and not strong_co:
                continue
            if not state.qualified_at:
                state.qualified_at = moment
            if house is None and moment - state.qualified_at < c.attribution_wait_days * DAY:
                continue  # give its house time to show through co-passages
            if not self._emit(AlertKind.NEW_OCCUPANT, sid, house, moment):
                continue
            confidence = 0.5 + 0.1 * min(nights, 3) + (0.2 if house else 0.0)
            out.append(
                Alert(
                    AlertKind.NEW_OCCUPANT,
                    house,
                    None,
                    sid,
                    datetime.fromtimestamp(moment, UTC),
                    min(confidence, 0.99),
                    AlertEvidence(
                        first_seen=datetime.fromtimestamp(state.first_seen, UTC),
                        last_seen=datetime.fromtimestamp(state.last_seen, UTC),
                        days_observed=c.window_days,
                        days_seen=days,
                        passages=state.passages,
                        nights=nights,
                        co_passages=co,
                        note="" if house else "no single house dominates its co-passages",
                    ),
                )
            )
        return out

    def _forget_old_strangers(self, moment: float) -> None:
        horizon = moment - (self.config.window_days + 1) * DAY
        for sid in [s for s, st in self.strangers.items() if st.last_seen < horizon]:
            del self.strangers[sid]
            self._alerted.discard((AlertKind.NEW_OCCUPANT.value, sid))
