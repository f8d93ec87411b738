"""Access windows: when a gate admits, when a group admits, when a pass admits.

A schedule (:class:`gridgate_wire.PassSchedule`) is a list of weekly windows in the compound's
local time ("06:00-22:00 every day", "08:00-18:00 Monday to Friday") and a rule for public
holidays. A window whose end is before its start runs past midnight ("22:00-06:00"), and belongs
to the day it starts on: a Friday-night window is still open early on Saturday. Holidays come
from the analyser's calendar (:class:`edge_agent.analysis.calendar.HolidayCalendar`), so the gate
and the occupancy analysis agree on what a holiday is; a weekend inside a break counts as a
holiday too, and a make-up working weekend day is an ordinary Saturday or Sunday.

Three schedules can apply to one attempt, and all must be open:

- the **gate**'s (a side gate closed at night), unless the subject's group is exempt from it;
- the subject's **group**'s (every carer 08:00-18:00 on weekdays), when the group has one;
- the **pass**'s own (this helper Tuesdays and Thursdays).

No schedule means always open. Everything here is pure: the clock is an argument.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from edge_agent.analysis.calendar import CalendarConfig, HolidayCalendar
from gridgate_core.config import StrictModel
from gridgate_wire import HolidayRule, PassSchedule, ScheduleWindow

_LOGGER = logging.getLogger(__name__)

DAY_MINUTES = 24 * 60
RESIDENT_GROUP = "resident"


class GateScheduleConfig(StrictModel):
    schedule: PassSchedule = Field(description="When the gate admits.")
    exempt_groups: list[str] = Field(
        default_factory=list,
        description="Groups the gate admits at any time (e.g. 'resident' at a side gate).",
    )


class ScheduleConfig(StrictModel):
    """Schedules of one edge (phase 2 adds this to EdgeConfig as ``schedules``)."""

    time_zone: str = Field(default="Asia/Shanghai", description="The compound's time zone.")
    gates: dict[str, GateScheduleConfig] = Field(
        default_factory=dict, description="Per gate id; a gate not named is always open."
    )
    groups: dict[str, PassSchedule] = Field(
        default_factory=dict,
        description=(
            "Per group: 'resident', or a pass kind ('visitor', 'carer', 'domestic_helper'); "
            "a group not named is not limited."
        ),
    )
    calendar: CalendarConfig = Field(
        default_factory=CalendarConfig, description="Holidays (the analyser's calendar)."
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)  # at start rather than at the gate
        except (KeyError, ValueError) as exc:  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class ScheduleReason(StrEnum):
    OPEN = "open"
    GATE_CLOSED = "gate_closed"  # the gate's own hours
    GROUP_CLOSED = "group_closed"  # the subject's group's hours
    OWN_CLOSED = "own_closed"  # the schedule of the pass itself
    HOLIDAY_CLOSED = "holiday_closed"  # one of the above is closed because of a holiday


@dataclass(frozen=True, slots=True)
class ScheduleCheck:
    open: bool
    reason: ScheduleReason
    holiday: str = ""  # the holiday's name when one applied


def minutes(clock: str) -> int:
    """``"HH:MM"`` (or ``"24:00"``) as minutes after midnight."""
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


def _window_open(window: ScheduleWindow, weekday: int | None, prev: int | None, now: int) -> bool:
    """Whether ``window`` is open at minute ``now`` of a day whose effective weekday is
    ``weekday`` (``prev``: the day before's). ``None`` is a day the schedule is closed."""
    start, end = minutes(window.start), minutes(window.end)
    if start == end:
        return weekday in window.days
    if start < end:
        return weekday in window.days and start <= now < end
    # Past midnight: the evening part today, the early part on the window's own (previous) day.
    return (weekday in window.days and now >= start) or (prev in window.days and now < end)


def effective_weekday(schedule: PassSchedule, day: date, holiday: bool) -> int | None:
    """The weekday whose windows apply on ``day``: its own, Sunday's, or none (closed)."""
    if not holiday or schedule.holidays is HolidayRule.AS_WEEKDAY:
        return day.isoweekday()
    if schedule.holidays is HolidayRule.AS_SUNDAY:
        return 7
    return None


def is_open(
    schedule: PassSchedule, local: datetime, is_holiday: Callable[[date], bool] | None = None
) -> bool:
    """Whether ``schedule`` admits at the local wall-clock time ``local``."""
    lookup = is_holiday or _no_holidays
    today, yesterday = local.date(), local.date() - timedelta(days=1)
    weekday = effective_weekday(schedule, today, lookup(today))
    prev = effective_weekday(schedule, yesterday, lookup(yesterday))
    now = local.hour * 60 + local.minute
    return any(_window_open(w, weekday, prev, now) for w in schedule.windows)


class HolidayLookup:
    """``day -> bool`` over a :class:`HolidayCalendar`, for :func:`is_open`."""

    def __init__(self, calendar: HolidayCalendar) -> None:
        self.calendar = calendar

    def __call__(self, day: date) -> bool:
        return bool(self.calendar.holidays_between(day, day))

    def name(self, day: date) -> str:
        found = self.calendar.holidays_between(day, day)
        return found[0].name if found else ""


def _no_holidays(_day: date) -> bool:
    return False


class AccessSchedules:
    """The edge's schedules, evaluated in the compound's time zone."""

    def __init__(self, config: ScheduleConfig, calendar: HolidayCalendar | None = None) -> None:
        self.config = config
        self.zone = ZoneInfo(config.time_zone)
        self.holidays = HolidayLookup(calendar or HolidayCalendar(config.calendar))

    def local(self, at: datetime) -> datetime:
        if at.tzinfo is None:
            raise ValueError("schedules need an aware time (UTC from the gate's clock)")
        return at.astimezone(self.zone)

    def check(
        self,
        gate: str,
        at: datetime,
        *,
        group: str | None = None,
        own: PassSchedule | None = None,
    ) -> ScheduleCheck:
        """Whether an attempt at ``gate`` at ``at`` (aware) is inside every schedule that
        applies: the gate's (unless ``group`` is exempt), the group's, and ``own`` (a pass's)."""
        local = self.local(at)
        gate_config = self.config.gates.get(gate)
        applying: list[tuple[PassSchedule, ScheduleReason]] = []
        if gate_config is not None and (group is None or group not in gate_config.exempt_groups):
            applying.append((gate_config.schedule, ScheduleReason.GATE_CLOSED))
        if group is not None and group in self.config.groups:
            applying.append((self.config.groups[group], ScheduleReason.GROUP_CLOSED))
        if own is not None:
            applying.append((own, ScheduleReason.OWN_CLOSED))
        for schedule, reason in applying:
            if is_open(schedule, local, self.holidays):
                continue
            if schedule.holidays is not HolidayRule.AS_WEEKDAY and is_open(schedule, local):
                # Open on an ordinary day: closed only because today (or last night) is one.
                day = local.date()
                name = self.holidays.name(day) or self.holidays.name(day - timedelta(days=1))
                _LOGGER.debug("gate %s closed at %s by holiday %s", gate, local, name)
                return ScheduleCheck(False, ScheduleReason.HOLIDAY_CLOSED, name)
            return ScheduleCheck(False, reason)
        return ScheduleCheck(True, ScheduleReason.OPEN)
