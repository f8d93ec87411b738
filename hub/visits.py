"""The visit loop's database side (issues 13 and 15): which outcomes a task kind offers, how an
outcome or an away report becomes suppressions for the house's edges (the rules themselves are
``hub.feedback``), and the review list of alerts that name no known house.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select, update

from gridgate_wire import (
    AlertKind,
    AlertSuppression,
    EdgeAlert,
    Message,
    TaskState,
    new_fields,
    uuid7,
)
from gridgate_wire.messages import SuppressionReason
from hub import feedback
from hub.errors import Invalid
from hub.store.schema import (
    alert_reviews,
    away_reports,
    compounds,
    houses,
    residents,
    task_transitions,
    tasks,
)
from hub.sync import edges_of_house

_LOGGER = logging.getLogger(__name__)


class Outcome(StrEnum):
    MOVED_OUT = "moved_out"
    VACANCY_CONFIRMED = "vacancy_confirmed"
    NEW_OCCUPANT_CONFIRMED = "new_occupant_confirmed"
    NO_CHANGE = "no_change"  # nothing changed (a welfare visit: the person is well)
    GUEST = "guest"  # a new-occupant alert about a visitor: nothing changed
    AWAY = "away"  # the person (move-out, welfare) or household (vacancy) is away until a date
    NEEDS_HELP = "needs_help"  # welfare visit: the person needs help; the centre follows up
    NOBODY_HOME = "nobody_home"  # could not get in: the task stays open with a revisit time


# What each kind offers, in the order shown; no default is ever selected.
OUTCOMES: dict[AlertKind, tuple[Outcome, ...]] = {
    AlertKind.MOVE_OUT: (Outcome.MOVED_OUT, Outcome.AWAY, Outcome.NO_CHANGE, Outcome.NOBODY_HOME),
    AlertKind.VACANCY: (
        Outcome.VACANCY_CONFIRMED,
        Outcome.AWAY,
        Outcome.NO_CHANGE,
        Outcome.NOBODY_HOME,
    ),
    AlertKind.WELFARE_CHECK: (
        Outcome.NO_CHANGE,
        Outcome.AWAY,
        Outcome.NEEDS_HELP,
        Outcome.NOBODY_HOME,
    ),
    AlertKind.NEW_OCCUPANT: (
        Outcome.NEW_OCCUPANT_CONFIRMED,
        Outcome.GUEST,
        Outcome.NO_CHANGE,
        Outcome.NOBODY_HOME,
    ),
}
# Outcomes that change the registry and erase face templates at the gates: asked twice.
DESTRUCTIVE = frozenset({Outcome.MOVED_OUT, Outcome.VACANCY_CONFIRMED})
# Outcomes that say the alert was a false alarm (they grow the next quiet window).
FALSE_ALARMS = (Outcome.NO_CHANGE.value, Outcome.GUEST.value)


class OutcomeError(Invalid):
    """An outcome that the task's kind does not offer, or one missing what it needs; ``code``
    is a catalogue key suffix, so pages can say it in the user's language."""

    def __init__(self, code: str, message: str, field: str = "outcome") -> None:
        super().__init__({"code": code, "field": field, "reason": message})


def check_outcome(
    kind: AlertKind,
    outcome: Outcome,
    *,
    note: str = "",
    back_on: datetime | None = None,
    confirmed: bool = False,
    has_occupant: bool = False,
) -> None:
    """Refuse an outcome the kind does not offer, or one without what it needs."""
    if outcome not in OUTCOMES[kind]:
        raise OutcomeError("wrong_kind", f"a {kind.value} task cannot end as {outcome.value}")
    if outcome in DESTRUCTIVE and not confirmed:
        raise OutcomeError(
            "confirm_needed",
            f"{outcome.value} deactivates residents and erases their face templates at the "
            "gates: send confirmed=true",
        )
    if outcome is Outcome.AWAY and back_on is None:
        raise OutcomeError("back_on_needed", "an away outcome needs back_on (about when)")
    if outcome is Outcome.NEEDS_HELP and not note.strip():
        raise OutcomeError("note_needed", "a needs-help outcome needs a note saying what help")
    if outcome is Outcome.NEW_OCCUPANT_CONFIRMED and not has_occupant:
        raise OutcomeError("name_needed", "a new-occupant outcome needs the new occupant's name")


def suppressions(conn: Connection, quiets: list[feedback.Quiet]) -> list[Message]:
    """One AlertSuppression per edge of the house for each quiet window."""
    messages: list[Message] = []
    for quiet in quiets:
        for edge_id in edges_of_house(conn, quiet.house_id):
            messages.append(
                AlertSuppression(
                    **new_fields(),
                    edge_id=edge_id,
                    house_id=quiet.house_id,
                    kind=quiet.kind,
                    until=quiet.until,
                    resident_id=quiet.resident_id,
                    reason=quiet.reason,
                )
            )
    return messages


def earlier_false_alarms(
    conn: Connection, kind: AlertKind, house_id: str, resident_id: str | None, now: datetime
) -> int:
    """Closed tasks of the same subject and kind that found nothing, within the memory."""
    query = (
        select(func.count(func.distinct(tasks.c.task_id)))
        .select_from(tasks)
        .join(task_transitions, task_transitions.c.task_id == tasks.c.task_id)
        .where(
            tasks.c.house_id == house_id,
            tasks.c.kind == kind.value,
            tasks.c.outcome.in_(FALSE_ALARMS),
            task_transitions.c.to_state == TaskState.CLOSED.value,
            task_transitions.c.at >= now - feedback.FALSE_ALARM_MEMORY,
        )
    )
    if kind not in feedback.HOUSE_KINDS:
        query = query.where(
            tasks.c.resident_id.is_(None)
            if resident_id is None
            else tasks.c.resident_id == resident_id
        )
    return int(conn.scalar(query) or 0)


def after_no_change(
    conn: Connection,
    task_id: str,
    kind: AlertKind,
    house_id: str,
    resident_id: str | None,
    now: datetime,
) -> list[Message]:
    """A false alarm: quiet that resident and kind, longer for each earlier false alarm."""
    earlier = earlier_false_alarms(conn, kind, house_id, resident_id, now)
    # This task is already closed as a false alarm: it is not an *earlier* one.
    own = conn.scalar(select(tasks.c.outcome).where(tasks.c.task_id == task_id))
    if own in FALSE_ALARMS:
        earlier = max(0, earlier - 1)
    quiet = feedback.after_no_change(kind, house_id, resident_id, earlier, now)
    _LOGGER.info(
        "no change at %s (%s, %s): quiet until %s (%d earlier false alarms)",
        house_id,
        kind.value,
        quiet.resident_id or "house",
        quiet.until.isoformat(),
        earlier,
    )
    return suppressions(conn, [quiet])


def after_away(
    conn: Connection,
    house_id: str,
    resident_id: str | None,
    back_on: datetime,
    now: datetime,
    reason: SuppressionReason,
) -> list[Message]:
    return suppressions(conn, feedback.after_away(house_id, resident_id, back_on, now, reason))


# ------------------------------------------------------------------ away reports (外出报备)


@dataclass(frozen=True)
class AwayReport:
    report_id: str
    to_edges: list[Message]


def report_away(
    conn: Connection,
    house_id: str,
    resident_id: str | None,
    away_from: datetime,
    back_on: datetime,
    note: str,
    actor: str,
    now: datetime,
) -> AwayReport:
    """The centre records that a resident (or the household) will be away until ``back_on``."""
    if back_on < away_from:
        raise OutcomeError("back_before_away", "back_on is before away_from", "back_on")
    if resident_id is not None:
        owner = conn.scalar(
            select(residents.c.house_id).where(residents.c.resident_id == resident_id)
        )
        if owner != house_id:
            raise OutcomeError(
                "resident_not_in_house", f"{resident_id} does not live here", "back_on"
            )
    report_id = f"A-{uuid7().hex[-12:]}"
    conn.execute(
        away_reports.insert().values(
            report_id=report_id,
            house_id=house_id,
            resident_id=resident_id,
            away_from=away_from,
            back_on=back_on,
            note=note,
            recorded_by=actor,
            recorded_at=now,
        )
    )
    messages = after_away(
        conn, house_id, resident_id, back_on, now, SuppressionReason.REPORTED_AWAY
    )
    return AwayReport(report_id, messages)


# ------------------------------------------------------------------ review items


def review(conn: Connection, edge_id: str, alert: EdgeAlert, now: datetime) -> None:
    """An alert that names no registered house: kept for the community centre to review."""
    community = conn.scalar(
        select(compounds.c.community_id).where(compounds.c.compound_id == alert.compound_id)
    )
    conn.execute(
        alert_reviews.insert().values(
            edge_id=edge_id,
            msg_id=str(alert.id),
            received_at=now,
            kind=alert.kind.value,
            compound_id=alert.compound_id,
            house_named=alert.house_id,
            resident_id=alert.resident_id,
            community_id=community,
            confidence=alert.confidence,
            evidence=json.dumps(alert.evidence.model_dump(mode="json"), ensure_ascii=False),
            resolution="",
        )
    )
    _LOGGER.warning(
        "alert %s names no registered house (%s): kept for review", alert.id, alert.house_id
    )


def resolve_review(
    conn: Connection, edge_id: str, msg_id: str, actor: str, note: str, now: datetime
) -> bool:
    """The centre looked at a review item; returns False when it was resolved already."""
    done = conn.execute(
        update(alert_reviews)
        .where(
            alert_reviews.c.edge_id == edge_id,
            alert_reviews.c.msg_id == msg_id,
            alert_reviews.c.resolved_at.is_(None),
        )
        .values(resolved_at=now, resolved_by=actor, resolution=note)
    ).rowcount
    return bool(done)


def house_known(conn: Connection, house_id: str | None) -> bool:
    if house_id is None:
        return False
    found = conn.execute(select(houses.c.house_id).where(houses.c.house_id == house_id)).first()
    return found is not None


def local_day_end(day: date, zone: str) -> datetime:
    """The end of a calendar day in the site's time zone ("back about 12 March"), in UTC."""
    return datetime.combine(day, time(23, 59), tzinfo=ZoneInfo(zone)).astimezone(UTC)
