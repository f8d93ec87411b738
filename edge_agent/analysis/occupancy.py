"""Finds houses whose occupants seem to have changed, from the compound's passages.

Incremental: each run reads the events committed since the last one and folds them into
per-resident, per-house and per-stranger summaries; absences are judged once a day, welfare every
tick. The analyser reasons the way a grid worker would (docs/OCCUPANCY.md):

- **households**: everyone of a house gone together is a trip until ``household_trip_days`` (then
  a vacancy), never several move-outs; one member gone while the others still pass is a move-out;
- **recorded time only**: hours a gate or the whole edge recorded nothing (inferred from the
  edge's own traffic, :mod:`edge_agent.analysis.coverage`) do not count as absence;
- **the person's own rate**: wait until an absence is improbable for this person (a homebody and
  a commuter differ), and notice a **decline** (seen only on short visits, never staying the
  night: someone who moved out and comes back for mail);
- **holidays**: an absence that began in a holiday's travel season waits to the season's longest
  usual stay (:mod:`edge_agent.analysis.calendar`);
- **welfare**: each care recipient's own activity sets the wait; the last direction says whether
  to hurry (went in, never came out) or to call the family first (went out);
- **strangers**: ids linked across day/night splits, a resident in a mask recognised as such
  (:mod:`edge_agent.analysis.strangers`), and an occupant must have stayed nights for a week.

Each alert is raised once per subject until the subject is seen again, never while the hub keeps
it quiet (a visit's outcome or an away report), and again when that quiet window has passed and
the condition still holds. Stranger ids never leave the edge: alerts carry counts and times only.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from edge_agent.analysis.calendar import HolidayCalendar
from edge_agent.analysis.calibration import calibrated
from edge_agent.analysis.config import Alert, AnalyserConfig
from edge_agent.analysis.coverage import RecordingCoverage
from edge_agent.analysis.strangers import StrangerTracker, alternation
from edge_agent.store.events import EventRow
from gridgate_wire import AlertAdvice, AlertContext, AlertEvidence, AlertKind, PassageDirection

__all__ = ["DAY", "HOUR", "Alert", "AnalyserConfig", "OccupancyAnalyser"]

_LOGGER = logging.getLogger(__name__)
DAY = 86_400.0
HOUR = 3_600.0
STAY_S = 6 * HOUR  # inside this long between an 'in' and the next 'out': they live here

RosterView = Callable[[], Iterable[tuple[str, str, bool]]]  # (resident, house, care recipient)
# (house, kind, resident or None) -> (until epoch, reason) of the latest quiet window, or None
Suppressed = Callable[[str, str, str | None], tuple[float, str] | None]


@dataclass
class _Resident:
    house_id: str
    care: bool
    last_seen: float = 0.0
    last_gate: str = ""
    last_direction: str = ""
    daylog: deque[list[int]] = field(default_factory=lambda: deque(maxlen=200))  # day, passes
    gates: Counter[str] = field(default_factory=Counter)
    recent: deque[tuple[float, str]] = field(default_factory=lambda: deque(maxlen=160))

    def shares(self) -> dict[str, float]:
        total = sum(self.gates.values())
        return {g: n / total for g, n in self.gates.items()} if total else {}


@dataclass(frozen=True, slots=True)
class _Absence:
    unseen_days: float
    blind_hours: float
    days_seen: int
    days_observed: int
    rate: float  # share of recorded days this person (or house) was seen, before going quiet


class OccupancyAnalyser:
    def __init__(
        self, config: AnalyserConfig | None = None, suppressed: Suppressed | None = None
    ) -> None:
        self.config = config or AnalyserConfig()
        self.tz = ZoneInfo(self.config.timezone)
        self.calendar = HolidayCalendar(self.config.calendar)
        self.coverage = RecordingCoverage(self.tz)
        self.strangers = StrangerTracker(
            self.config.evening_from_hour, self.config.morning_until_hour
        )
        self.suppressed = suppressed
        self.last_seq = 0
        self.residents: dict[str, _Resident] = {}
        self.houses: dict[str, set[str]] = defaultdict(set)
        self._recent_residents: deque[tuple[float, str, str, str]] = deque()
        self._recent_strangers: deque[tuple[float, str, str, str]] = deque()
        self._alerted: dict[tuple[str, str], float] = {}
        self._qualified: dict[str, float] = {}
        self._shadows: dict[str, str] = {}  # stranger person -> resident it really is
        self._last_daily = -1
        self._care: list[str] = []
        self.first_day: int | None = None
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
            if self.first_day is None:
                self.first_day = self._day(t)
            self.coverage.observe(t, e.gate)
            for recent in (self._recent_residents, self._recent_strangers):
                while recent and t - recent[0][0] > window:
                    recent.popleft()
            if e.subject == "resident" and e.resident_id in self.residents:
                self._resident_seen(e.resident_id, e, t)
                house = self.residents[e.resident_id].house_id
                for _, gate, direction, stranger in self._recent_strangers:
                    if (
                        gate == e.gate
                        and direction == e.direction
                        and stranger in self.strangers.ids
                    ):
                        self.strangers.ids[stranger].co[house] += 1
                self._recent_residents.append((t, e.gate, e.direction, house))
            elif e.subject == "stranger" and e.stranger_id:
                sid = str(e.stranger_id)
                state = self.strangers.seen(sid, t, self._day(t), self._hour(t), e.direction)
                for _, gate, direction, house in self._recent_residents:
                    if gate == e.gate and direction == e.direction:
                        state.co[house] += 1
                self._recent_strangers.append((t, e.gate, e.direction, sid))
        return count

    def _resident_seen(self, resident_id: str, e: EventRow, t: float) -> None:
        state = self.residents[resident_id]
        if t >= state.last_seen:
            state.last_seen, state.last_gate, state.last_direction = t, e.gate, e.direction
        day = self._day(t)
        if state.daylog and state.daylog[-1][0] == day:
            state.daylog[-1][1] += 1
        else:
            state.daylog.append([day, 1])
        state.gates[e.gate] += 1
        state.recent.append((t, e.direction))
        # Back for real (seen on a second day, not one stray match): the alerts may come again.
        if len(state.daylog) >= 2 and state.daylog[-2][0] != day:
            since = datetime.fromordinal(state.daylog[-2][0]).replace(tzinfo=self.tz).timestamp()
            for key in (
                (AlertKind.MOVE_OUT.value, resident_id),
                (AlertKind.VACANCY.value, state.house_id),
            ):
                if self._alerted.get(key, t) < since:
                    del self._alerted[key]
        self._alerted.pop((AlertKind.WELFARE_CHECK.value, resident_id), None)

    # ------------------------------------------------------------------ time checks

    def tick(self, now: float | None = None) -> list[Alert]:
        """Alerts that became due by ``now`` (epoch seconds; default: latest event time)."""
        moment = self.now if now is None else now
        self.now = max(self.now, moment)
        self.coverage.close_until(moment)
        alerts: list[Alert] = self._welfare(moment)
        today = self._day(moment)
        if today != self._last_daily:  # day-scale signals: once a day is plenty
            self._last_daily = today
            alerts += self._absences(moment)
            alerts += self._new_occupants(moment)
            self._forget(moment)
        return alerts

    def _quiet(
        self, kind: AlertKind, house: str | None, resident: str | None, moment: float
    ) -> tuple[float, str] | None:
        if not house or self.suppressed is None:
            return None
        return self.suppressed(house, kind.value, resident)

    def _emit(
        self, kind: AlertKind, subject: str, house: str | None, resident: str | None, moment: float
    ) -> tuple[bool, str]:
        """May this alert go out now? (yes/no, reason of an expired quiet window if any)."""
        quiet = self._quiet(kind, house, resident, moment)
        if quiet is not None and quiet[0] > moment:
            return False, ""
        key = (kind.value, subject)
        expired = ""
        if key in self._alerted:
            # Raised before; again only if the hub quieted it after that and the window is over.
            if quiet is None or not self._alerted[key] < quiet[0] <= moment:
                return False, ""
            expired = quiet[1]
        self._alerted[key] = moment
        return True, expired

    def _rate(self, state: _Resident, last_day: int, days: int) -> tuple[int, int, float]:
        """(days seen, recorded days observed, smoothed rate) in the ``days`` up to last_day."""
        start = max(last_day - days + 1, self.first_day or last_day)
        seen = sum(1 for d, _ in state.daylog if start <= d <= last_day)
        observed = last_day - start + 1
        return seen, observed, min(0.98, (seen + 0.5) / (observed + 1))

    def _absence(
        self, states: list[_Resident], moment: float, shares: dict[str, float] | None
    ) -> _Absence:
        last = max(s.last_seen for s in states)
        blind = self.coverage.blind_hours(last, moment, shares)
        last_day = self._day(last)
        start = max(last_day - self.config.baseline_days + 1, self.first_day or last_day)
        days = {d for s in states for d, _ in s.daylog if start <= d <= last_day}
        observed = last_day - start + 1
        rate = min(0.98, (len(days) + 0.5) / (observed + 1))
        return _Absence((moment - last - blind * HOUR) / DAY, blind, len(days), observed, rate)

    def _needed(
        self, minimum: float, rate: float, last_seen: float, trip_days: float
    ) -> tuple[float, str]:
        """Recorded days of absence to wait, and the holiday that stretched it (if any).

        The longest usual trip, then a further gap that would be this unlikely for this
        person's own rate; and when the absence began in a holiday's travel season (the person
        may have left a little after the last sighting), until that season's longest stay.
        """
        c = self.config
        gap = math.log(c.absence_p) / math.log(1 - rate)
        needed = max(minimum, trip_days + gap)
        first = self._date(last_seen)
        usual_gap = min(14, math.log(0.1) / math.log(1 - rate))
        holiday = ""
        for offset in range(int(usual_gap) + 1):
            season = self.calendar.season_of(first + timedelta(days=offset))
            if season is not None:
                holiday = season.name
                needed = max(needed, (season.first - first).days + season.longest_stay_days + 1.0)
                break
        return needed, holiday

    def _date(self, t: float) -> date:
        return datetime.fromtimestamp(t, self.tz).date()

    def _stays_and_visits(self, state: _Resident, since: float, moment: float) -> tuple[int, int]:
        """Nights inside (in, next out on a later day) and visits (in and out the same day)."""
        stays = visits = 0
        pending: float | None = None
        for t, direction in state.recent:
            if t < since:
                continue
            if direction == "in":
                pending = t
            elif direction == "out" and pending is not None:
                if self._day(t) > self._day(pending):
                    stays += 1
                else:
                    visits += 1
                pending = None
        if pending is not None and self._day(moment) > self._day(pending):
            stays += 1
        return stays, visits

    def _absences(self, moment: float) -> list[Alert]:
        out: list[Alert] = []
        today = self._day(moment)
        for house, members in self.houses.items():
            states = {m: self.residents[m] for m in members if m in self.residents}
            seen = {m: s for m, s in states.items() if s.last_seen}
            if not seen:
                continue
            recently = {m for m, s in seen.items() if moment - s.last_seen < 7 * DAY}
            for rid, state in seen.items():
                if (AlertKind.WELFARE_CHECK.value, rid) in self._alerted:
                    continue  # a welfare visit is already on its way
                others = [s for m, s in seen.items() if m != rid and s.last_seen > state.last_seen]
                still_pass = [
                    s
                    for s in others
                    if s.last_seen - state.last_seen > DAY and moment - s.last_seen < 3 * DAY
                ]
                if not still_pass:
                    continue  # alone, or the whole household is quiet: the house decides
                alert = self._move_out(rid, state, moment, today, len(states), len(recently))
                if alert is not None:
                    out.append(alert)
            alert = self._vacancy(house, list(seen.values()), moment, today, len(states))
            if alert is not None:
                out.append(alert)
        return out

    def _move_out(
        self, rid: str, state: _Resident, moment: float, today: int, size: int, seen7: int
    ) -> Alert | None:
        c = self.config
        absence = self._absence([state], moment, state.shares())
        context = [AlertContext.HOUSEHOLD_STILL_SEEN]
        declined = False
        if absence.unseen_days < c.move_out_days:
            declined = self._declined([state], moment, today)
            if not declined:
                return None
            context.append(AlertContext.PRESENCE_DECLINE)
            needed, holiday = c.move_out_days, ""
            seen_before, _, rate = self._rate(state, today - int(c.move_out_days), c.baseline_days)
            absence = _Absence(
                absence.unseen_days, absence.blind_hours, seen_before, c.baseline_days, rate
            )
        else:
            if absence.days_seen < c.regular_min_days:
                return None
            needed, holiday = self._needed(
                c.move_out_days, absence.rate, state.last_seen, c.personal_trip_days
            )
            if absence.unseen_days < needed:
                return None
        ok, expired = self._emit(AlertKind.MOVE_OUT, rid, state.house_id, rid, moment)
        if not ok:
            return None
        strength = -math.log10(max(1e-12, (1 - absence.rate) ** max(0.0, absence.unseen_days)))
        return self._alert(
            AlertKind.MOVE_OUT,
            state.house_id,
            rid,
            rid,
            moment,
            state,
            absence,
            holiday,
            context,
            expired,
            size,
            seen7,
            score=strength + (3.0 if declined else 0.0),
            flags=(declined, bool(holiday)),
        )

    def _declined(self, states: list[_Resident], moment: float, today: int) -> bool:
        """Lately seen only on short visits (at least one), never staying the night, by people
        who were seen on most days before; every member of the group must be so or gone."""
        c = self.config
        window_start = moment - c.move_out_days * DAY
        first = today - int(c.move_out_days) + 1
        observed = min(c.baseline_days, first - (self.first_day or first))
        if observed < c.baseline_days // 2:
            return False
        visits = 0
        for s in states:
            days = {d for d, _ in s.daylog if d >= first}
            before = sum(1 for d, _ in s.daylog if first - c.baseline_days <= d < first)
            if len(days) > c.decline_max_days or before < c.decline_min_rate * observed:
                return False  # still around, or too rarely seen to tell
            stays, seen_visits = self._stays_and_visits(s, window_start, moment)
            if stays:
                return False
            visits += seen_visits
        return visits >= 1

    def _vacancy(
        self, house: str, states: list[_Resident], moment: float, today: int, size: int
    ) -> Alert | None:
        c = self.config
        absence = self._absence(states, moment, None)
        context = [AlertContext.HOUSEHOLD_ALL_UNSEEN]
        declined = False
        holiday = ""
        if absence.unseen_days < max(c.vacancy_days, c.household_trip_days):
            declined = self._declined(states, moment, today)
            if not declined:
                return None
            context = [AlertContext.PRESENCE_DECLINE]
        else:
            if absence.days_seen < c.regular_min_days:
                return None
            needed, holiday = self._needed(
                c.vacancy_days,
                absence.rate,
                max(s.last_seen for s in states),
                c.household_trip_days,
            )
            if absence.unseen_days < needed:
                return None
        ok, expired = self._emit(AlertKind.VACANCY, house, house, None, moment)
        if not ok:
            return None
        last = max(states, key=lambda s: s.last_seen)
        strength = -math.log10(max(1e-12, (1 - absence.rate) ** max(0.0, absence.unseen_days)))
        return self._alert(
            AlertKind.VACANCY,
            house,
            None,
            house,
            moment,
            last,
            absence,
            holiday,
            context,
            expired,
            size,
            0,
            score=strength + (3.0 if declined else 0.0),
            flags=(declined, bool(holiday)),
        )

    def _alert(
        self,
        kind: AlertKind,
        house: str,
        resident: str | None,
        subject: str,
        moment: float,
        state: _Resident,
        absence: _Absence,
        holiday: str,
        context: list[AlertContext],
        expired: str,
        size: int,
        seen7: int,
        *,
        score: float,
        flags: tuple[bool, ...],
        advice: AlertAdvice = AlertAdvice.VISIT,
    ) -> Alert:
        if holiday:
            context.append(AlertContext.HOLIDAY)
        if absence.blind_hours >= 1:
            context.append(AlertContext.RECORDING_GAP)
        if expired in ("away", "reported_away"):
            context.append(AlertContext.REPORTED_AWAY_OVERDUE)
        seen_days = [n for d, n in state.daylog]
        usual = sum(seen_days[-28:]) / len(seen_days[-28:]) if seen_days else 0.0
        return Alert(
            kind,
            house,
            resident,
            subject,
            datetime.fromtimestamp(moment, UTC),
            calibrated(kind, score, flags),
            AlertEvidence(
                last_seen=datetime.fromtimestamp(state.last_seen, UTC),
                last_gate=state.last_gate or None,
                last_direction=PassageDirection(state.last_direction)
                if state.last_direction in ("in", "out")
                else None,
                days_observed=absence.days_observed,
                days_seen=min(absence.days_seen, absence.days_observed),
                hours_unseen=round(max(0.0, absence.unseen_days) * 24 + absence.blind_hours, 1),
                usual_days_per_week=round(min(7.0, absence.rate * 7), 1),
                usual_passes_per_day=round(usual, 1),
                household_size=size,
                household_seen=seen7 if resident else 0,
                unrecorded_hours=round(absence.blind_hours, 1),
                holiday=holiday,
                context=context,
                advice=advice,
            ),
            score,
        )

    def _outing_rate(self, state: _Resident, last_day: int) -> float:
        """Share of days at home this person goes out, from the gaps between days seen (gaps
        over five days are trips, not habit)."""
        days = [d for d, _ in state.daylog if last_day - 28 < d <= last_day]
        gaps = [min(5, b - a) for a, b in itertools.pairwise(days)]
        if not gaps:
            return 0.5
        return min(0.98, max(0.05, len(gaps) / sum(gaps)))

    def _welfare(self, moment: float) -> list[Alert]:
        c = self.config
        out = []
        for resident_id in self._care:
            state = self.residents.get(resident_id)
            if state is None or not state.last_seen:
                continue
            if moment - state.last_seen < c.welfare_hours * HOUR:
                continue
            blind = self.coverage.blind_hours(state.last_seen, moment, state.shares())
            hours = (moment - state.last_seen) / HOUR - blind
            if hours < c.welfare_hours:
                continue
            last_day = self._day(state.last_seen)
            seen14, _, _ = self._rate(state, last_day, 14)
            if seen14 < c.welfare_active_days:
                continue
            seen, observed, _ = self._rate(state, last_day, 28)
            rate = self._outing_rate(state, last_day)
            # Chance quiet spells: about 365 * rate * (1 - rate)^n a year last n days or more.
            chance = math.log(c.welfare_p / (365 * rate)) / math.log(1 - rate)
            wait = max(c.welfare_hours, 24 * chance)
            housemates = [
                self.residents[m]
                for m in self.houses.get(state.house_id, ())
                if m != resident_id and m in self.residents
            ]
            together = bool(housemates) and all(
                abs(h.last_seen - state.last_seen) < 12 * HOUR for h in housemates
            )
            went_out = state.last_direction == "out"
            if together and went_out:
                # Left with the family: a trip, and someone is with them. A week, or through
                # the holiday season they left in.
                wait = max(wait, c.together_trip_days * 24)
                season = self.calendar.season_of(self._date(state.last_seen))
                if season is not None:
                    wait = max(wait, season.longest_stay_days * 24.0)
            if hours < wait:
                continue
            ok, expired = self._emit(
                AlertKind.WELFARE_CHECK, resident_id, state.house_id, resident_id, moment
            )
            if not ok:
                continue
            context = [
                AlertContext.LAST_SEEN_GOING_OUT if went_out else AlertContext.LAST_SEEN_GOING_IN
            ]
            if together:
                context.append(AlertContext.HOUSEHOLD_ALL_UNSEEN)
            seen7 = sum(1 for h in housemates if moment - h.last_seen < 7 * DAY)
            holiday = self.calendar.season_of(self._date(state.last_seen))
            strength = -math.log10(max(1e-12, (1 - rate) ** (hours / 24)))
            out.append(
                self._alert(
                    AlertKind.WELFARE_CHECK,
                    state.house_id,
                    resident_id,
                    resident_id,
                    moment,
                    state,
                    _Absence(hours / 24, blind, seen, observed, rate),
                    holiday.name if holiday else "",
                    context,
                    expired,
                    len(housemates) + 1,
                    seen7,
                    score=strength,
                    flags=(went_out, together),
                    advice=AlertAdvice.CALL_FAMILY_FIRST
                    if went_out
                    else AlertAdvice.VISIT_URGENTLY,
                )
            )
        return out

    # ------------------------------------------------------------------ strangers

    def _house_of(self, co: Counter[str]) -> tuple[str | None, int]:
        top = co.most_common(2)
        if not top or top[0][1] < self.config.min_co_passages:
            return None, 0
        runner_up = top[1][1] if len(top) > 1 else 0
        if top[0][1] < self.config.co_dominance * runner_up:
            return None, 0
        return top[0][0], top[0][1]

    def _shadow_of(self, recent: list[tuple[float, str]], house: str | None) -> str | None:
        """The resident these stranger passages really are, if they alternate like one person.

        Only a resident whose own record has holes (in after in, out after out: passages the
        cameras did not recognise) can have a shadow, and merged with it the holes must close.
        """
        candidates: Iterable[str] = self.houses.get(house, ()) if house else self.residents
        best, best_share = None, 0.0
        for rid in candidates:
            state = self.residents.get(rid)
            if state is None or len(state.recent) < 3:
                continue
            own = list(state.recent)
            holes = sum(1 for (_, a), (_, b) in itertools.pairwise(own) if a == b)
            if holes < 0.3 * (len(own) - 1):
                continue
            share, pairs = alternation(recent, own)
            if pairs >= 6 and share >= self.config.shadow_alternation and share > best_share:
                best, best_share = rid, share
        return best

    def _new_occupants(self, moment: float) -> list[Alert]:
        c = self.config
        out = []
        today = self._day(moment)
        alerted_nights = [
            self.strangers.ids[sid].days
            for sid in self._qualified
            if sid in self.strangers.ids
            and (AlertKind.NEW_OCCUPANT.value, sid) in self._alerted
            and self.strangers.ids[sid].evenings_in
            and not self.strangers.ids[sid].mornings_out
        ]
        for root in list(self.strangers.ids):
            if root in self._shadows:
                continue
            person = self.strangers.person(root, today - c.window_days)
            if len(person.days) < c.new_occupant_days or person.nights < c.min_nights:
                continue
            if moment - person.first_seen < c.min_stay_days * DAY:
                continue
            house, co = self._house_of(person.co)
            qualified = self._qualified.setdefault(root, moment)
            if house is None and moment - qualified < c.attribution_wait_days * DAY:
                continue  # give its house time to show through co-passages
            if (
                house is None
                and person.day_only
                and any(
                    len(person.days & days) >= 0.5 * len(person.days) for days in alerted_nights
                )
            ):
                continue  # the daylight half of a face whose infrared half already alerted
            shadow = self._shadow_of(person.recent, house)
            if shadow is not None:
                self._shadows[root] = shadow
                _LOGGER.debug(
                    "stranger %s passes like resident %s: not a new occupant", root, shadow
                )
                continue
            ok, _expired = self._emit(AlertKind.NEW_OCCUPANT, root, house, None, moment)
            if not ok:
                continue
            score = person.nights + 0.5 * len(person.days) + (3.0 if house else 0.0)
            out.append(
                Alert(
                    AlertKind.NEW_OCCUPANT,
                    house,
                    None,
                    root,
                    datetime.fromtimestamp(moment, UTC),
                    calibrated(AlertKind.NEW_OCCUPANT, score, (house is not None,)),
                    AlertEvidence(
                        first_seen=datetime.fromtimestamp(person.first_seen, UTC),
                        last_seen=datetime.fromtimestamp(person.last_seen, UTC),
                        days_observed=c.window_days,
                        days_seen=min(len(person.days), c.window_days),
                        passages=person.passages,
                        nights=min(person.nights, c.window_days),
                        co_passages=co,
                        household_size=len(self.houses.get(house, ())) if house else None,
                        context=[AlertContext.NIGHTS_AT_HOUSE],
                        note="" if house else "no single house dominates its co-passages",
                    ),
                    score,
                )
            )
        return out

    def _forget(self, moment: float) -> None:
        c = self.config
        horizon = moment - (c.window_days + 1) * DAY
        for sid in self.strangers.forget_before(horizon):
            self._alerted.pop((AlertKind.NEW_OCCUPANT.value, sid), None)
            self._qualified.pop(sid, None)
            self._shadows.pop(sid, None)
        self.coverage.forget_before(moment - (c.baseline_days + 120) * DAY)
