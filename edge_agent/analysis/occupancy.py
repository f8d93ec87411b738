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
  (:mod:`edge_agent.analysis.strangers`), and an occupant must have stayed nights for a week;
- **visitor passes**: a pass holder's face is no stranger evidence, and a holder who sleeps here
  most nights beyond what the pass registered is a new occupant (:mod:`.visitors`).

Each alert is raised once per subject until the subject is seen again, never while the hub keeps
it quiet (a visit's outcome or an away report), and again when that quiet window has passed and
the condition still holds. Stranger ids never leave the edge: alerts carry counts and times only.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from edge_agent.analysis.calendar import HolidayCalendar
from edge_agent.analysis.config import Alert, AnalyserConfig
from edge_agent.analysis.const import DAY, HOUR
from edge_agent.analysis.coverage import RecordingCoverage
from edge_agent.analysis.evidence import absence_alert
from edge_agent.analysis.newcomers import new_occupant_alerts
from edge_agent.analysis.presence import Absence, Resident
from edge_agent.analysis.strangers import StrangerTracker
from edge_agent.analysis.visitors import (
    PassHolders,
    PassWindow,
    fold_stranger,
    fold_visitor,
    pass_holder_alerts,
)
from edge_agent.analysis.welfare import welfare_alerts
from edge_agent.store.rows import EventRow
from gridgate_wire import AlertContext, AlertKind, PassageDirection, SubjectKind

__all__ = ["DAY", "HOUR", "Alert", "AnalyserConfig", "OccupancyAnalyser"]

_LOGGER = logging.getLogger(__name__)
STAY_S = 6 * HOUR  # inside this long between an 'in' and the next 'out': they live here

# (house, kind, resident or None) -> (until epoch, reason) of the latest quiet window, or None
Suppressed = Callable[[str, str, str | None], tuple[float, str] | None]


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
        self.passes = PassHolders(self.config.evening_from_hour, self.config.morning_until_hour)
        self.suppressed = suppressed
        self.last_seq = 0
        self.residents: dict[str, Resident] = {}
        self.houses: dict[str, set[str]] = defaultdict(set)
        # (time, gate, direction, house id / stranger id) of the last co_passage_s seconds
        self._recent_residents: deque[tuple[float, str, PassageDirection, str]] = deque()
        self._recent_strangers: deque[tuple[float, str, PassageDirection, str]] = deque()
        self.recent_visitors: deque[tuple[float, str, PassageDirection, str]] = deque()  # pass id
        self.alerted: dict[tuple[str, str], float] = {}
        self.qualified: dict[str, float] = {}
        self.shadows: dict[str, str] = {}  # stranger -> the resident it really is
        self.occupant_house: dict[str, str | None] = {}  # alerted stranger -> its house
        self._last_daily = -1
        self.care: list[str] = []
        self.first_day: int | None = None
        self.now = 0.0

    # ------------------------------------------------------------------ roster

    def sync_roster(self, residents: Iterable[tuple[str, str, bool]]) -> None:
        seen = set()
        for resident_id, house_id, care in residents:
            seen.add(resident_id)
            state = self.residents.get(resident_id)
            if state is None:
                self.residents[resident_id] = Resident(house_id, care)
            else:
                if state.house_id != house_id:
                    self.houses[state.house_id].discard(resident_id)
                state.house_id, state.care = house_id, care
            self.houses[house_id].add(resident_id)
        for gone in set(self.residents) - seen:
            self.houses[self.residents.pop(gone).house_id].discard(gone)
        self.care = [r for r, state in self.residents.items() if state.care]

    def sync_passes(self, passes: Iterable[PassWindow]) -> None:
        """The edge's visitor passes (host house, kind, window): which stays are registered."""
        self.passes.sync(passes)

    # ------------------------------------------------------------------ events

    def local_day(self, t: float) -> int:
        return datetime.fromtimestamp(t, self.tz).toordinal()

    def local_hour(self, t: float) -> float:
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
                self.first_day = self.local_day(t)
            self.coverage.observe(t, e.gate)
            for recent in (self._recent_residents, self._recent_strangers, self.recent_visitors):
                while recent and t - recent[0][0] > window:
                    recent.popleft()
            if e.subject is SubjectKind.RESIDENT and e.resident_id in self.residents:
                self._resident_seen(e.resident_id, e, t)
                house = self.residents[e.resident_id].house_id
                for _, gate, direction, stranger in self._recent_strangers:
                    if (
                        gate == e.gate
                        and direction is e.direction
                        and stranger in self.strangers.ids
                    ):
                        self.strangers.ids[stranger].co[house] += 1
                self._recent_residents.append((t, e.gate, e.direction, house))
            elif e.subject is SubjectKind.STRANGER and e.stranger_id:
                sid = str(e.stranger_id)
                state = self.strangers.seen(
                    sid, t, self.local_day(t), self.local_hour(t), e.direction
                )
                for _, gate, direction, house in self._recent_residents:
                    if gate == e.gate and direction is e.direction:
                        state.co[house] += 1
                self._recent_strangers.append((t, e.gate, e.direction, sid))
                fold_stranger(self, sid, state, e, t)
            elif e.subject is SubjectKind.VISITOR and e.pass_id:
                fold_visitor(self, e, t, self._recent_strangers)
        return count

    def _resident_seen(self, resident_id: str, e: EventRow, t: float) -> None:
        state = self.residents[resident_id]
        if t >= state.last_seen:
            state.last_seen, state.last_gate, state.last_direction = t, e.gate, e.direction
        day = self.local_day(t)
        if state.daylog and state.daylog[-1][0] == day:
            state.daylog[-1][1] += 1
        else:
            state.daylog.append([day, 1])
        state.gates[e.gate] += 1
        state.recent.append((t, e.direction))
        # Back for real (seen on three of the last seven days, not a visit back or one stray
        # match): the absence alerts may come again.
        recent_days = list(
            itertools.takewhile(lambda d: d > day - 7, (d for d, _ in reversed(state.daylog)))
        )[::-1]
        if len(recent_days) >= 3:
            since = datetime.fromordinal(recent_days[0]).replace(tzinfo=self.tz).timestamp()
            for key in (
                (AlertKind.MOVE_OUT.value, resident_id),
                (AlertKind.VACANCY.value, state.house_id),
            ):
                if self.alerted.get(key, t) < since:
                    del self.alerted[key]
        self.alerted.pop((AlertKind.WELFARE_CHECK.value, resident_id), None)

    # ------------------------------------------------------------------ time checks

    def tick(self, now: float | None = None) -> list[Alert]:
        """Alerts that became due by ``now`` (epoch seconds; default: latest event time)."""
        moment = self.now if now is None else now
        self.now = max(self.now, moment)
        self.coverage.close_until(moment)
        alerts: list[Alert] = self._welfare(moment)
        today = self.local_day(moment)
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

    def emit(
        self,
        kind: AlertKind,
        subject: str,
        house: str | None,
        resident: str | None,
        moment: float,
        wait_s: float = 0.0,
    ) -> tuple[bool, str]:
        """May this alert go out now? (yes/no, reason of an expired quiet window if any).

        After a visit found no change the worker saw the person: the clock starts again when
        the quiet window ends, so the alert comes back only after a full ``wait_s`` more.
        """
        quiet = self._quiet(kind, house, resident, moment)
        if quiet is not None and quiet[0] > moment:
            return False, ""
        key = (kind.value, subject)
        expired = ""
        if key in self.alerted:
            # Raised before; again only if the hub quieted it after that and the window is over.
            if quiet is None or not self.alerted[key] < quiet[0] <= moment:
                return False, ""
            if quiet[1] == "no_change" and moment - quiet[0] < wait_s:
                return False, ""
            expired = quiet[1]
        self.alerted[key] = moment
        return True, expired

    def rate(self, state: Resident, last_day: int, days: int) -> tuple[int, int, float]:
        """(days seen, recorded days observed, smoothed rate) in the ``days`` up to last_day."""
        start = max(last_day - days + 1, self.first_day or last_day)
        seen = sum(1 for d, _ in state.daylog if start <= d <= last_day)
        observed = last_day - start + 1
        return seen, observed, min(0.98, (seen + 0.5) / (observed + 1))

    def _absence(
        self, states: list[Resident], moment: float, shares: dict[str, float] | None
    ) -> Absence:
        last = max(s.last_seen for s in states)
        blind = self.coverage.blind_hours(last, moment, shares)
        last_day = self.local_day(last)
        start = max(last_day - self.config.baseline_days + 1, self.first_day or last_day)
        days = {d for s in states for d, _ in s.daylog if start <= d <= last_day}
        observed = last_day - start + 1
        rate = min(0.98, (len(days) + 0.5) / (observed + 1))
        return Absence((moment - last - blind * HOUR) / DAY, blind, len(days), observed, rate)

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
        # Rarely seen people have many quiet spells a year: bound the chance ones too.
        yearly = math.log(c.absence_p_year / (365 * rate)) / math.log(1 - rate)
        needed = max(minimum, trip_days + gap, yearly)
        first = self.local_date(last_seen)
        usual_gap = min(14, math.log(0.1) / math.log(1 - rate))
        holiday = ""
        for offset in range(int(usual_gap) + 1):
            season = self.calendar.season_of(first + timedelta(days=offset))
            if season is not None:
                holiday = season.name
                needed = max(needed, (season.first - first).days + season.longest_stay_days + 1.0)
                break
        return needed, holiday

    def local_date(self, t: float) -> date:
        return datetime.fromtimestamp(t, self.tz).date()

    def _absences(self, moment: float) -> list[Alert]:
        out: list[Alert] = []
        today = self.local_day(moment)
        for house, members in self.houses.items():
            states = {m: self.residents[m] for m in members if m in self.residents}
            seen = {m: s for m, s in states.items() if s.last_seen}
            if not seen:
                continue
            recently = {m for m, s in seen.items() if moment - s.last_seen < 7 * DAY}
            for rid, state in seen.items():
                if (AlertKind.WELFARE_CHECK.value, rid) in self.alerted:
                    continue  # a welfare visit is already on its way
                others = [s for m, s in seen.items() if m != rid and s.last_seen > state.last_seen]
                still_pass = [
                    s
                    for s in others
                    if s.last_seen - state.last_seen > DAY
                    and moment - s.last_seen < self._usual_gap(s, today) * DAY
                ]
                if not still_pass:
                    continue  # alone, or the whole household is quiet: the house decides
                alert = self._move_out(
                    rid,
                    state,
                    moment,
                    today,
                    len(states),
                    len(recently),
                    [s for m, s in seen.items() if m != rid],
                )
                if alert is not None:
                    out.append(alert)
            alert = self._vacancy(house, list(seen.values()), moment, today, len(states))
            if alert is not None:
                out.append(alert)
        return out

    def _usual_gap(self, state: Resident, today: int) -> float:
        """Days unseen that are still ordinary for this person (three, or more if rarely seen)."""
        _, _, rate = self.rate(state, today, self.config.baseline_days)
        return max(3.0, math.log(0.1) / math.log(1 - rate))

    def _household_away_days(self, others: list[Resident], since: float, today: int) -> int:
        """Days since ``since`` on which the rest of the household was away too (no member
        seen for three days or more around them): a family trip, not this person's absence."""
        first = self.local_day(since)
        days = sorted({d for s in others for d, _ in s.daylog if d >= first - 30} | {today})
        away = 0
        for a, b in itertools.pairwise(days):
            if b - a >= 3:
                away += max(0, min(b, today + 1) - max(a, first) - 1)
        return away

    def _move_out(
        self,
        rid: str,
        state: Resident,
        moment: float,
        today: int,
        size: int,
        seen7: int,
        others: list[Resident],
    ) -> Alert | None:
        c = self.config
        absence = self._absence([state], moment, state.shares())
        trip = self._household_away_days(others, state.last_seen, today)
        if trip:
            absence = replace(absence, unseen_days=absence.unseen_days - trip)
        context = [AlertContext.HOUSEHOLD_STILL_SEEN]
        declined = False
        if absence.unseen_days < c.move_out_days:
            declined = self._declined([state], moment, today)
            if not declined:
                return None
            context.append(AlertContext.PRESENCE_DECLINE)
            needed, holiday = c.move_out_days, ""
            seen_before, _, rate = self.rate(state, today - int(c.move_out_days), c.baseline_days)
            absence = Absence(
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
        ok, expired = self.emit(AlertKind.MOVE_OUT, rid, state.house_id, rid, moment, needed * DAY)
        if not ok:
            return None
        strength = -math.log10(max(1e-12, (1 - absence.rate) ** max(0.0, absence.unseen_days)))
        return absence_alert(
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

    def _declined(self, states: list[Resident], moment: float, today: int) -> bool:
        """Lately seen only on visits back (at least one), never staying the night, by a
        household (or person) seen on most days before; members unseen count as gone."""
        c = self.config
        window_start = moment - c.move_out_days * DAY
        first = today - int(c.move_out_days) + 1
        observed = min(c.baseline_days, first - (self.first_day or first))
        if observed < c.baseline_days // 2:
            return False
        # Regular once: the busiest baseline window of the last four months before this one
        # (a decline that began weeks ago has thinned the window right before it too).
        before = sorted({d for s in states for d, _ in s.daylog if first - 120 <= d < first})
        busiest, lo = 0, 0
        for hi, day in enumerate(before):
            while day - before[lo] >= c.baseline_days:
                lo += 1
            busiest = max(busiest, hi - lo + 1)
        if busiest < c.decline_min_rate * observed:
            return False  # too rarely seen before to tell
        visits = 0
        for s in states:
            if len({d for d, _ in s.daylog if d >= first}) > c.decline_max_days:
                return False  # still around
            stays, seen_visits = s.stays_and_visits(window_start, moment, self.local_day)
            if stays:
                return False
            visits += seen_visits
        return visits >= 1

    def _vacancy(
        self, house: str, states: list[Resident], moment: float, today: int, size: int
    ) -> Alert | None:
        c = self.config
        absence = self._absence(states, moment, None)
        context = [AlertContext.HOUSEHOLD_ALL_UNSEEN]
        declined = False
        holiday = ""
        if absence.unseen_days < max(c.vacancy_days, c.household_trip_days):
            declined = self._declined(states, moment, today)
            needed = c.move_out_days
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
        ok, expired = self.emit(AlertKind.VACANCY, house, house, None, moment, needed * DAY)
        if not ok:
            return None
        last = max(states, key=lambda s: s.last_seen)
        strength = -math.log10(max(1e-12, (1 - absence.rate) ** max(0.0, absence.unseen_days)))
        return absence_alert(
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

    def _welfare(self, moment: float) -> list[Alert]:
        return welfare_alerts(self, moment)

    def _new_occupants(self, moment: float) -> list[Alert]:
        return new_occupant_alerts(self, moment) + pass_holder_alerts(self, moment)

    def _forget(self, moment: float) -> None:
        c = self.config
        horizon = moment - (c.window_days + 1) * DAY
        for sid in self.strangers.forget_before(horizon):
            self.alerted.pop((AlertKind.NEW_OCCUPANT.value, sid), None)
            self.qualified.pop(sid, None)
            self.shadows.pop(sid, None)
            self.occupant_house.pop(sid, None)
        for pass_id in self.passes.forget_before(moment - (c.pass_window_days + 1) * DAY):
            self.alerted.pop((AlertKind.NEW_OCCUPANT.value, pass_id), None)
        self.coverage.forget_before(moment - (c.baseline_days + 120) * DAY)
