"""Public holidays, and the seasons around them when whole households are away.

Chinese public holidays move every year (Spring Festival follows the lunar calendar and the State
Council publishes the days off each winter), so the dates come from the maintained ``holidays``
package (its ``China`` calendar includes the official days off) plus any dates the operator adds.
A holiday's **season** is the span in which an absence that starts is likely holiday travel: for
Spring Festival people leave up to ten days before and stay up to five weeks; for National Day
about a week. The analyser lets an absence that began in a season run to the season's longest
plausible stay before it counts as a change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import holidays
from pydantic import Field

from gridgate_core.config import StrictModel

_LOGGER = logging.getLogger(__name__)

SPRING_FESTIVAL = "春节"
NATIONAL_DAY = "国庆节"


class SeasonRule(StrictModel):
    lead_days: int = Field(ge=0, le=60, description="Days before the holiday people start leaving.")
    lag_days: int = Field(ge=0, le=60, description="Days after the holiday people still leave.")
    longest_stay_days: int = Field(
        ge=1, le=90, description="Longest usual absence for this holiday, counted from leaving."
    )


class CalendarConfig(StrictModel):
    country: str = Field(
        default="CN", description="ISO country code for the `holidays` package; '' for none."
    )
    extra_holidays: dict[date, str] = Field(
        default_factory=dict,
        description="Dates to add (local compound holidays, a day off the package lacks): name.",
    )
    seasons: dict[str, SeasonRule] = Field(
        default_factory=lambda: {
            SPRING_FESTIVAL: SeasonRule(lead_days=10, lag_days=10, longest_stay_days=37),
            NATIONAL_DAY: SeasonRule(lead_days=3, lag_days=3, longest_stay_days=14),
        },
        description="Travel seasons by holiday name; other holidays get `default_season`.",
    )
    default_season: SeasonRule = Field(
        default_factory=lambda: SeasonRule(lead_days=1, lag_days=1, longest_stay_days=7),
        description="Season of any holiday not named in `seasons`.",
    )


@dataclass(frozen=True, slots=True)
class Holiday:
    name: str
    first: date
    last: date
    season_from: date
    season_until: date
    longest_stay_days: int


def _main_name(names: list[str]) -> str:
    for known in (SPRING_FESTIVAL, NATIONAL_DAY):
        if any(known in n for n in names):
            return known
    plain = [n for n in names if "休息日" not in n and "调休" not in n]
    return (plain or names)[0].split("\uff08")[0].strip()  # drop a full-width "(...)" note


@cache
def _package_days(country: str, year: int) -> tuple[tuple[date, str], ...]:
    if not country:
        return ()
    try:
        table = holidays.country_holidays(country, years=[year], language="zh_CN")
    except (NotImplementedError, KeyError):
        table = holidays.country_holidays(country, years=[year])
    return tuple(sorted(table.items()))


class HolidayCalendar:
    """Holiday periods (consecutive days off merged) and their travel seasons."""

    def __init__(self, config: CalendarConfig | None = None) -> None:
        self.config = config or CalendarConfig()
        self._years: set[int] = set()
        self._periods: list[Holiday] = []

    def _load(self, year: int) -> None:
        for y in (year - 1, year, year + 1):
            if y in self._years:
                continue
            self._years.add(y)
            days = dict(_package_days(self.config.country, y))
            days.update({d: n for d, n in self.config.extra_holidays.items() if d.year == y})
            self._periods.extend(self._merge(sorted(days.items())))
        self._periods.sort(key=lambda h: h.first)

    def _merge(self, days: list[tuple[date, str]]) -> list[Holiday]:
        periods: list[Holiday] = []
        group: list[tuple[date, str]] = []
        for day, name in [*days, (date.max, "")]:
            # A weekend between two days off is part of the same break.
            if group and (day - group[-1][0]).days > 3:
                label = _main_name([n for _, n in group])
                rule = self.config.seasons.get(label, self.config.default_season)
                first, last = group[0][0], group[-1][0]
                periods.append(
                    Holiday(
                        label,
                        first,
                        last,
                        first - timedelta(days=rule.lead_days),
                        last + timedelta(days=rule.lag_days),
                        rule.longest_stay_days,
                    )
                )
                group = []
            if day != date.max:
                group.append((day, name))
        return periods

    def season_of(self, day: date) -> Holiday | None:
        """The holiday whose travel season contains ``day`` (the longest stay wins)."""
        self._load(day.year)
        found = [h for h in self._periods if h.season_from <= day <= h.season_until]
        return max(found, key=lambda h: h.longest_stay_days, default=None)

    def holidays_between(self, first: date, last: date) -> list[Holiday]:
        self._load(first.year)
        self._load(last.year)
        return [h for h in self._periods if h.first <= last and h.last >= first]
