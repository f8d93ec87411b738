"""How a visit's outcome (or an away report) quiets the edge's alerts: the hub's rules, pure.

The edge raises an alert at most once per subject until the subject is seen again; these rules
decide how long the hub tells it to stay quiet after a visit, and about whom:

- **no change** (a false alarm): only that resident and kind (the whole house only for house-level
  kinds: vacancy, new occupant), for a window that doubles with each false alarm of the same
  subject and kind in the past year, so one false alarm never blinds the house for months, and a
  subject that keeps raising false alarms is asked about less and less often;
- **away until a date** (learnt on the visit, or reported to the centre before leaving: 外出报备):
  the person, or the whole household, for the absence kinds (move-out, vacancy, welfare check)
  until the date plus a grace period; if they are not back by then the edge alerts again and
  says that they were reported away;
- **nobody home**: no suppression; the task stays open with a revisit time.

Kept free of I/O so the occupancy benchmark can replay the same rules it runs in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gridgate_wire.messages import AlertKind, SuppressionReason

HOUSE_KINDS = frozenset({AlertKind.VACANCY, AlertKind.NEW_OCCUPANT})
ABSENCE_KINDS = (AlertKind.MOVE_OUT, AlertKind.VACANCY, AlertKind.WELFARE_CHECK)

# First quiet window after a false alarm, by kind; doubled per earlier false alarm, capped.
NO_CHANGE_BASE = {
    AlertKind.MOVE_OUT: timedelta(days=14),
    AlertKind.VACANCY: timedelta(days=14),
    AlertKind.NEW_OCCUPANT: timedelta(days=14),
    # A care recipient found well: a short window, since the next absence may be the real one.
    AlertKind.WELFARE_CHECK: timedelta(days=2),
}
NO_CHANGE_CAP = {
    AlertKind.MOVE_OUT: timedelta(days=120),
    AlertKind.VACANCY: timedelta(days=120),
    AlertKind.NEW_OCCUPANT: timedelta(days=90),
    AlertKind.WELFARE_CHECK: timedelta(days=14),
}
FALSE_ALARM_MEMORY = timedelta(days=365)
AWAY_GRACE = timedelta(days=3)
AWAY_LONGEST = timedelta(days=180)
REVISIT_DEFAULT = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Quiet:
    """One suppression for the edge(s) of a house: ``resident_id`` None means the house."""

    house_id: str
    resident_id: str | None
    kind: AlertKind
    until: datetime
    reason: SuppressionReason


def no_change_window(kind: AlertKind, earlier_false_alarms: int) -> timedelta:
    """How long a false alarm quiets its subject: doubles per earlier false alarm, capped."""
    window: timedelta = NO_CHANGE_BASE[kind] * (2 ** max(0, min(earlier_false_alarms, 16)))
    return min(window, NO_CHANGE_CAP[kind])


def after_no_change(
    kind: AlertKind,
    house_id: str,
    resident_id: str | None,
    earlier_false_alarms: int,
    now: datetime,
) -> Quiet:
    subject = None if kind in HOUSE_KINDS else resident_id
    return Quiet(
        house_id,
        subject,
        kind,
        now + no_change_window(kind, earlier_false_alarms),
        SuppressionReason.NO_CHANGE,
    )


def after_away(
    house_id: str,
    resident_id: str | None,
    back_on: datetime,
    now: datetime,
    reason: SuppressionReason = SuppressionReason.AWAY,
) -> list[Quiet]:
    """Quiet the absence kinds for the person (or the household when None) until back + grace."""
    until = min(max(back_on, now), now + AWAY_LONGEST) + AWAY_GRACE
    kinds: tuple[AlertKind, ...] = ABSENCE_KINDS
    if resident_id is not None:  # one person away: the house is not vacant because of it
        kinds = (AlertKind.MOVE_OUT, AlertKind.WELFARE_CHECK)
    return [Quiet(house_id, resident_id, kind, until, reason) for kind in kinds]


def revisit_at(now: datetime, requested: datetime | None = None) -> datetime:
    """When a 'nobody home' task comes back to the worker: as asked, else the next day."""
    if requested is not None and requested > now:
        return min(requested, now + timedelta(days=14))
    return now + REVISIT_DEFAULT
