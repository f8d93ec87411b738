"""Welfare checks: a care recipient (关爱对象) not seen for longer than their own habit allows."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from edge_agent.analysis.config import Alert
from edge_agent.analysis.const import DAY, HOUR
from edge_agent.analysis.evidence import absence_alert
from edge_agent.analysis.presence import Absence
from gridgate_wire import AlertAdvice, AlertContext, AlertKind, PassageDirection

if TYPE_CHECKING:
    from edge_agent.analysis.occupancy import OccupancyAnalyser


def welfare_alerts(an: OccupancyAnalyser, moment: float) -> list[Alert]:
    c = an.config
    out = []
    for resident_id in an.care:
        state = an.residents.get(resident_id)
        if state is None or not state.last_seen:
            continue
        if moment - state.last_seen < c.welfare_hours * HOUR:
            continue
        blind = an.coverage.blind_hours(state.last_seen, moment, state.shares())
        hours = (moment - state.last_seen) / HOUR - blind
        if hours < c.welfare_hours:
            continue
        last_day = an.local_day(state.last_seen)
        seen14, _, _ = an.rate(state, last_day, 14)
        if seen14 < c.welfare_active_days:
            continue
        seen, observed, _ = an.rate(state, last_day, 28)
        rate = state.outing_rate(last_day)
        # Chance quiet spells: about 365 * rate * (1 - rate)^n a year last n days or more.
        chance = math.log(c.welfare_p / (365 * rate)) / math.log(1 - rate)
        wait = max(c.welfare_hours, 24 * chance)
        housemates = [
            an.residents[m]
            for m in an.houses.get(state.house_id, ())
            if m != resident_id and m in an.residents
        ]
        together = bool(housemates) and all(
            abs(h.last_seen - state.last_seen) < 12 * HOUR for h in housemates
        )
        went_out = state.last_direction is PassageDirection.OUT
        if together and went_out:
            # Left with the family: a trip, and someone is with them. A week, or through
            # the holiday season they left in.
            wait = max(wait, c.together_trip_days * 24)
            season = an.calendar.season_of(an.local_date(state.last_seen))
            if season is not None:
                wait = max(wait, season.longest_stay_days * 24.0)
        if hours < wait:
            continue
        ok, expired = an.emit(
            AlertKind.WELFARE_CHECK,
            resident_id,
            state.house_id,
            resident_id,
            moment,
            wait * HOUR,
        )
        if not ok:
            continue
        context = [
            AlertContext.LAST_SEEN_GOING_OUT if went_out else AlertContext.LAST_SEEN_GOING_IN
        ]
        if together:
            context.append(AlertContext.HOUSEHOLD_ALL_UNSEEN)
        seen7 = sum(1 for h in housemates if moment - h.last_seen < 7 * DAY)
        holiday = an.calendar.season_of(an.local_date(state.last_seen))
        strength = -math.log10(max(1e-12, (1 - rate) ** (hours / 24)))
        out.append(
            absence_alert(
                AlertKind.WELFARE_CHECK,
                state.house_id,
                resident_id,
                resident_id,
                moment,
                state,
                Absence(hours / 24, blind, seen, observed, rate),
                holiday.name if holiday else "",
                context,
                expired,
                len(housemates) + 1,
                seen7,
                score=strength,
                flags=(went_out, together),
                advice=AlertAdvice.CALL_FAMILY_FIRST if went_out else AlertAdvice.VISIT_URGENTLY,
            )
        )
    return out


# ------------------------------------------------------------------ strangers
