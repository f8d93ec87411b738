"""Access schedules at the edge: gate hours, group hours, a pass's own hours, holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from edge_agent.access.schedule import (
    AccessSchedules,
    GateScheduleConfig,
    ScheduleConfig,
    ScheduleReason,
    is_open,
)
from edge_agent.analysis.calendar import CalendarConfig, HolidayCalendar
from gridgate_wire import HolidayRule, PassSchedule, ScheduleWindow

SHANGHAI = ZoneInfo("Asia/Shanghai")
EVERY_DAY = [1, 2, 3, 4, 5, 6, 7]
WEEKDAYS = [1, 2, 3, 4, 5]


def local(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    """A Shanghai wall-clock time, as the UTC instant the gate's clock reports."""
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI).astimezone(UTC)


def window(days: list[int], start: str, end: str) -> ScheduleWindow:
    return ScheduleWindow(days=days, start=start, end=end)


def schedule(
    *windows: ScheduleWindow, holidays: HolidayRule = HolidayRule.AS_WEEKDAY
) -> PassSchedule:
    return PassSchedule(windows=list(windows), holidays=holidays)


def schedules(**config: object) -> AccessSchedules:
    """No package holidays: only the ones a test names (the CN calendar is tested apart)."""
    calendar = config.pop("calendar", CalendarConfig(country=""))
    assert isinstance(calendar, CalendarConfig)
    return AccessSchedules(
        ScheduleConfig.model_validate({**config, "calendar": calendar}), HolidayCalendar(calendar)
    )


SIDE_GATE_DAYTIME = GateScheduleConfig(schedule=schedule(window(EVERY_DAY, "06:00", "22:00")))


def test_side_gate_closed_at_night_in_local_time() -> None:
    access = schedules(gates={"side": SIDE_GATE_DAYTIME})
    # 2026-11-30 is a Monday. 23:00 in Shanghai is 15:00 UTC: closed; 07:00 local is open.
    assert access.check("side", local(2026, 11, 30, 23)).reason is ScheduleReason.GATE_CLOSED
    assert access.check("side", local(2026, 11, 30, 5, 59)).open is False
    assert access.check("side", local(2026, 11, 30, 6)).open
    assert access.check("side", local(2026, 11, 30, 21, 59)).open
    assert access.check("side", local(2026, 11, 30, 22)).open is False
    # A gate with no schedule is always open.
    assert access.check("north", local(2026, 11, 30, 23)).open


def test_exempt_group_passes_a_closed_gate() -> None:
    side = GateScheduleConfig(schedule=SIDE_GATE_DAYTIME.schedule, exempt_groups=["resident"])
    access = schedules(gates={"side": side})
    assert access.check("side", local(2026, 11, 30, 23), group="resident").open
    assert not access.check("side", local(2026, 11, 30, 23), group="visitor").open
    assert not access.check("side", local(2026, 11, 30, 23)).open


def test_carer_group_weekdays_daytime() -> None:
    access = schedules(groups={"carer": schedule(window(WEEKDAYS, "08:00", "18:00"))})
    assert access.check("north", local(2026, 11, 30, 9), group="carer").open  # Monday
    saturday = access.check("north", local(2026, 12, 5, 9), group="carer")
    assert saturday.reason is ScheduleReason.GROUP_CLOSED
    assert not access.check("north", local(2026, 11, 30, 18), group="carer").open
    # Other groups are not limited by the carers' hours.
    assert access.check("north", local(2026, 12, 5, 9), group="visitor").open


def test_window_past_midnight_belongs_to_the_day_it_starts() -> None:
    friday_night = schedule(window([5], "22:00", "06:00"))
    zone = SHANGHAI
    assert is_open(friday_night, datetime(2026, 11, 27, 23, tzinfo=zone))  # Friday 23:00
    assert is_open(friday_night, datetime(2026, 11, 28, 3, tzinfo=zone))  # Saturday 03:00
    assert not is_open(friday_night, datetime(2026, 11, 28, 6, tzinfo=zone))
    assert not is_open(friday_night, datetime(2026, 11, 27, 3, tzinfo=zone))  # Thursday's night
    assert not is_open(friday_night, datetime(2026, 11, 28, 23, tzinfo=zone))  # Saturday 23:00


def test_whole_day_windows_and_empty_schedule() -> None:
    zone = SHANGHAI
    assert is_open(
        schedule(window([1], "00:00", "00:00")), datetime(2026, 11, 30, 23, 59, tzinfo=zone)
    )
    assert is_open(
        schedule(window([1], "12:00", "24:00")), datetime(2026, 11, 30, 23, 59, tzinfo=zone)
    )
    assert not is_open(
        schedule(window([2], "00:00", "00:00")), datetime(2026, 11, 30, 12, tzinfo=zone)
    )
    assert not is_open(schedule(), datetime(2026, 11, 30, 12, tzinfo=zone))  # no window: closed


def test_pass_schedule_is_checked_too() -> None:
    access = schedules()
    tuesdays = schedule(window([2], "09:00", "12:00"))
    assert access.check("north", local(2026, 12, 1, 10), own=tuesdays).open
    refused = access.check("north", local(2026, 12, 2, 10), own=tuesdays)
    assert refused.reason is ScheduleReason.OWN_CLOSED


@pytest.mark.parametrize(
    ("rule", "is_open_", "reason"),
    [
        (HolidayRule.AS_WEEKDAY, True, ScheduleReason.OPEN),
        (HolidayRule.CLOSED, False, ScheduleReason.HOLIDAY_CLOSED),
        (HolidayRule.AS_SUNDAY, False, ScheduleReason.HOLIDAY_CLOSED),
    ],
)
def test_holiday_rules(rule: HolidayRule, is_open_: bool, reason: ScheduleReason) -> None:
    calendar = CalendarConfig(country="", extra_holidays={date(2026, 12, 2): "社区开放日"})
    access = schedules(
        calendar=calendar,
        groups={"carer": schedule(window(WEEKDAYS, "08:00", "18:00"), holidays=rule)},
    )
    check = access.check("north", local(2026, 12, 2, 10), group="carer")  # a Wednesday
    assert (check.open, check.reason) == (is_open_, reason)
    if reason is ScheduleReason.HOLIDAY_CLOSED:
        assert check.holiday == "社区开放日"
    # The day after is an ordinary Thursday.
    assert access.check("north", local(2026, 12, 3, 10), group="carer").open


def test_holiday_as_sunday_follows_sunday_windows() -> None:
    calendar = CalendarConfig(country="", extra_holidays={date(2026, 12, 2): "x"})
    rule = schedule(
        window(WEEKDAYS, "08:00", "18:00"),
        window([7], "10:00", "12:00"),
        holidays=HolidayRule.AS_SUNDAY,
    )
    access = schedules(calendar=calendar, groups={"helper": rule})
    assert access.check("north", local(2026, 12, 2, 11), group="helper").open
    assert not access.check("north", local(2026, 12, 2, 9), group="helper").open


def test_national_day_from_the_analysers_calendar() -> None:
    """The same calendar the occupancy analyser uses: 1-7 October 2026 is National Day."""
    access = AccessSchedules(
        ScheduleConfig(
            groups={
                "carer": schedule(window(WEEKDAYS, "08:00", "18:00"), holidays=HolidayRule.CLOSED)
            }
        )
    )
    check = access.check("north", local(2026, 10, 1, 10), group="carer")  # a Thursday
    assert check.reason is ScheduleReason.HOLIDAY_CLOSED
    assert check.holiday == "国庆节"
    assert access.check("north", local(2026, 10, 12, 10), group="carer").open


def test_bad_config_and_times_are_refused() -> None:
    with pytest.raises(ValidationError):
        ScheduleConfig(time_zone="Mars/Olympus")
    with pytest.raises(ValidationError):
        ScheduleWindow(days=[1], start="25:00", end="06:00")
    with pytest.raises(ValidationError):
        ScheduleWindow(days=[0], start="08:00", end="09:00")
    with pytest.raises(ValidationError):
        ScheduleWindow(days=[], start="08:00", end="09:00")
    with pytest.raises(ValueError, match="aware"):
        schedules().check("north", datetime(2026, 11, 30, 12))


def test_config_models_document_every_field() -> None:
    """Phase 2 adds these to EdgeConfig / HubConfig, whose every field must be documented."""
    from edge_agent.access.doors import DoorConfig, DuressConfig
    from hub.passes import PassesConfig
    from tests.test_config import _walk

    for model in (ScheduleConfig, DoorConfig, DuressConfig, PassesConfig):
        assert _walk(model, set()) == []
