"""What an alert saw, as sentences a grid worker can act on (last seen, when, at which gate,
going in or out; the usual pattern; who else of the house is still seen; recording gaps; the
advice, such as calling the family first), from the AlertEvidence stored on the task. Every
word comes from the catalogue of the page's language (``evidence.*``, ``context.*``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from gridgate_wire import AlertAdvice, AlertContext
from hub.web.i18n import Translator


@dataclass(frozen=True)
class Evidence:
    advice: str  # an AlertAdvice value
    advice_text: str
    lines: list[str]


def day_time(t: Translator, value: datetime, zone: ZoneInfo) -> str:
    local = value.astimezone(zone)
    return t("format.day_time", month=local.month, day=local.day, hm=local.strftime("%H:%M"))


def _number(value: Any) -> str:
    number = float(value)
    return str(round(number)) if abs(number - round(number)) < 0.05 else f"{number:.1f}"


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def sentences(detail: dict[str, Any], t: Translator, zone: ZoneInfo, language: str) -> Evidence:
    """The evidence of one alert, most useful first."""
    lines: list[str] = []
    add: Callable[[str], None] = lines.append
    last = _time(detail.get("last_seen"))
    if last is not None:
        parts = [day_time(t, last, zone)]
        if detail.get("last_gate"):
            parts.append(t("evidence.gate", gate=detail["last_gate"]))
        if detail.get("last_direction") in ("in", "out"):
            parts.append(t("direction." + str(detail["last_direction"])))
        add(t("evidence.last_seen", what=t("evidence.separator").join(parts)))
    if detail.get("hours_unseen"):
        hours = float(detail["hours_unseen"])
        if hours >= 48:
            add(t("evidence.days_unseen", days=_number(hours / 24)))
        else:
            add(t("evidence.hours_unseen", hours=_number(hours)))
    if detail.get("usual_days_per_week") is not None:
        add(t("evidence.usual_days", days=_number(detail["usual_days_per_week"])))
    if detail.get("usual_passes_per_day") is not None:
        add(t("evidence.usual_passes", passes=_number(detail["usual_passes_per_day"])))
    size, seen = detail.get("household_size"), detail.get("household_seen")
    if size is not None and seen is not None and int(size) > 1:
        add(t("evidence.household", size=int(size), seen=int(seen)))
    if detail.get("unrecorded_hours"):
        add(t("evidence.unrecorded", hours=_number(detail["unrecorded_hours"])))
    if detail.get("holiday"):
        add(t("evidence.holiday", name=str(detail["holiday"])))  # the calendar's own name
    for item in detail.get("context") or []:
        if item in {c.value for c in AlertContext} and item != AlertContext.HOLIDAY.value:
            add(t("context." + str(item)))
    if detail.get("days_seen") and detail.get("days_observed"):
        add(
            t(
                "evidence.days_seen_of",
                seen=int(detail["days_seen"]),
                observed=int(detail["days_observed"]),
            )
        )
    if detail.get("nights"):
        add(t("evidence.nights", count=int(detail["nights"])))
    if detail.get("note") and language == "en":  # the edge writes its notes in English
        add(str(detail["note"]))
    advice = str(detail.get("advice") or AlertAdvice.VISIT.value)
    if advice not in {a.value for a in AlertAdvice}:
        advice = AlertAdvice.VISIT.value
    return Evidence(advice, t("advice." + advice), lines)
