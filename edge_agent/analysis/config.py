"""The occupancy analyser's settings and its output type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import Field

from edge_agent.analysis.calendar import CalendarConfig
from gridgate_core.config import StrictModel
from gridgate_wire import AlertEvidence, AlertKind


class AnalyserConfig(StrictModel):
    timezone: str = Field(default="Asia/Shanghai", description="Local time zone of the compound.")
    calendar: CalendarConfig = Field(
        default_factory=CalendarConfig,
        description="Public holidays and the travel seasons around them.",
    )
    move_out_days: float = Field(
        default=21,
        gt=0,
        description=(
            "Fewest recorded days unseen before a move-out; longer for people who pass rarely, "
            "and to the season's longest stay when the absence began around a holiday."
        ),
    )
    vacancy_days: float = Field(
        default=30, gt=0, description="Fewest recorded days with nobody of a house seen."
    )
    household_trip_days: float = Field(
        default=35,
        ge=0,
        description=(
            "A whole household gone together is a trip until this long (the longest usual "
            "family trip); a vacancy waits at least this. Shorter finds vacancies sooner and "
            "sends workers to houses whose family is still travelling."
        ),
    )
    baseline_days: int = Field(default=28, ge=7, description="Window that defines 'usual'.")
    regular_min_days: int = Field(
        default=4, ge=1, description="Days seen within the baseline to count as regular."
    )
    personal_trip_days: float = Field(
        default=14,
        ge=0,
        description="Longest usual trip of one person; a move-out waits this plus a chance gap.",
    )
    absence_p: float = Field(
        default=0.01,
        gt=0,
        lt=1,
        description=(
            "After the longest usual trip, wait out a further gap this unlikely under the "
            "person's own rate of days seen; smaller: fewer false visits to people who pass "
            "rarely (car gate, homebodies), later alerts for them."
        ),
    )
    absence_p_year: float = Field(
        default=0.02,
        gt=0,
        lt=1,
        description=(
            "Chance move-out alerts tolerated per person per year for people seen on few days "
            "(their quiet spells are many); bounds the wait from below for them."
        ),
    )
    decline_max_days: int = Field(
        default=3,
        ge=0,
        description=(
            "A regular who, over the last move_out_days, was seen on at most this many days "
            "and never stayed the night (came and left: belongings, mail) has moved out."
        ),
    )
    decline_min_rate: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Only for people seen on at least this share of days before.",
    )
    new_occupant_days: int = Field(default=4, ge=2, description="k distinct days ...")
    window_days: int = Field(default=14, ge=3, description="... within this many days.")
    min_nights: int = Field(default=2, ge=1, description="Overnight stays that show residence.")
    min_stay_days: float = Field(
        default=7,
        ge=0,
        description=(
            "A stranger must have been around this long before an alert: a week-long visitor "
            "is not an occupant. Longer: fewer visits for long-stay guests, later alerts."
        ),
    )
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
    attribution_wait_days: float = Field(
        default=21,
        ge=0,
        description=(
            "A qualifying stranger whose house stays unclear waits this long before an alert "
            "that names no house (a review item for the centre, not a visit). Shorter: more "
            "review items about residents in masks and the daylight half of split ids."
        ),
    )
    shadow_alternation: float = Field(
        default=0.8,
        gt=0.5,
        le=1,
        description=(
            "A 'stranger' whose passages alternate with a resident's this well is that resident "
            "unrecognised (mask, cap): no new-occupant alert."
        ),
    )
    pass_window_days: int = Field(
        default=28,
        ge=7,
        description=(
            "A visitor-pass holder's nights are counted over this many days (rolling). The "
            "longest guest stay the field profile knows is four weeks."
        ),
    )
    pass_night_share: float = Field(
        default=0.6,
        gt=0,
        le=1,
        description=(
            "'Most nights': a pass holder who stayed at least this share of the window's "
            "nights lives here (17 of 28 by default). Lower: sooner alerts, and guests who come "
            "and go become visits; higher: later, and a mover who sleeps elsewhere now and "
            "then is missed."
        ),
    )
    pass_registered_stay_days: float = Field(
        default=30,
        ge=0,
        description=(
            "A visitor pass registers a stay up to this long (the hub issues visitor passes of "
            "at most 30 days): nights inside its window are a stay the centre knows of, not an "
            "unregistered occupant; min_nights after the pass ended (or nights under a longer "
            "pass, or under a carer's or domestic helper's) are. 0: no pass registers a stay."
        ),
    )
    pass_link_co_passages: int = Field(
        default=2,
        ge=1,
        description=(
            "A stranger id that came in with one pass this often (same gate and direction "
            "within co_passage_s), on at least half of its entries, is that pass's holder: no "
            "stranger evidence, and its passages count for the pass."
        ),
    )
    welfare_hours: float = Field(
        default=48, gt=0, description="Fewest recorded hours unseen before a welfare check."
    )
    welfare_p: float = Field(
        default=0.1,
        gt=0,
        lt=1,
        description=(
            "Chance quiet spells tolerated per care recipient per year: wait until a spell this "
            "long would come by chance this rarely for the person's own activity; a homebody "
            "waits longer than an early walker. Larger: sooner checks, more false ones."
        ),
    )
    together_trip_days: float = Field(
        default=7,
        ge=0,
        description=(
            "A care recipient who left through a gate together with the whole household is on "
            "a family trip: a check waits this long (longer in a holiday season)."
        ),
    )
    welfare_active_days: int = Field(
        default=4, ge=1, description="Days seen in the two weeks before: known enough to judge."
    )
    max_alerts_per_day: int = Field(
        default=0,
        ge=0,
        description="Cap on alerts of the absence kinds per day (0: none); a safety valve.",
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
    score: float = 0.0  # the raw evidence strength behind ``confidence`` (for calibration)
