"""The visit loop's database rules (issues 13 and 15), on SQLite and PostgreSQL: outcomes per
kind, "no change" quiets one resident and kind for a window that grows, "away" and away reports
quiet until the return date, "nobody home" keeps the task open and not overdue before the
revisit, "needs help" goes to the centre, alerts without a known house become review items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from gridgate_wire import AlertKind, AlertSuppression, SuppressionReason
from hub import visits
from hub.feedback import AWAY_GRACE
from hub.store.schema import alert_reviews, task_evidence, tasks
from hub.tasks import Outbound, Outcome, OutcomeError, escalate_overdue, on_alert, record_outcome
from tests.hub_helpers import seed
from tests.test_hub_api import make_alert, open_task


def _quiet(out: Outbound) -> list[AlertSuppression]:
    return [m for m in out.to_edges if isinstance(m, AlertSuppression)]


def _close(engine: Any, task_id: str, outcome: Outcome, now: datetime, **extra: Any) -> Outbound:
    out = Outbound()
    with engine.begin() as conn:
        record_outcome(conn, task_id, outcome, "worker:test", out, now=now, **extra)
    return out


def test_no_change_quiets_one_resident_and_kind_for_a_window_that_grows(engine: Any) -> None:
    seeded = seed(engine)
    now = datetime.now(UTC)
    windows = []
    for _ in range(3):
        task_id = open_task(engine, seeded.edge_a, "HA1", "RA1", "move_out")
        (quiet,) = _quiet(_close(engine, task_id, Outcome.NO_CHANGE, now))
        assert (quiet.house_id, quiet.resident_id, quiet.kind) == ("HA1", "RA1", "move_out")
        assert quiet.reason is SuppressionReason.NO_CHANGE
        assert quiet.edge_id == seeded.edge_a
        windows.append(round((quiet.until - now) / timedelta(days=1)))
    assert windows == [14, 28, 56]
    # Another resident's false alarm starts at the first window: the count is per resident.
    other = open_task(engine, seeded.edge_a, "HA2", "RA2", "move_out")
    (quiet,) = _quiet(_close(engine, other, Outcome.NO_CHANGE, now))
    assert (quiet.resident_id, round((quiet.until - now) / timedelta(days=1))) == ("RA2", 14)
    # A welfare check found well: a short window, for that resident only.
    welfare = open_task(engine, seeded.edge_a, "HA2", "RA2", "welfare_check")
    (quiet,) = _quiet(_close(engine, welfare, Outcome.NO_CHANGE, now))
    assert (quiet.resident_id, quiet.kind) == ("RA2", "welfare_check")
    assert quiet.until - now == timedelta(days=2)
    # Vacancy is about the house: the whole house is quiet.
    vacancy = open_task(engine, seeded.edge_a, "HA1", None, "vacancy")
    (quiet,) = _quiet(_close(engine, vacancy, Outcome.NO_CHANGE, now))
    assert (quiet.resident_id, quiet.kind) == (None, "vacancy")


def test_outcomes_depend_on_the_kind(engine: Any) -> None:
    seeded = seed(engine)
    welfare = open_task(engine, seeded.edge_a, "HA2", "RA2", "welfare_check")
    move = open_task(engine, seeded.edge_a, "HA1", "RA1", "move_out")
    with engine.begin() as conn:
        with pytest.raises(OutcomeError) as wrong:
            record_outcome(conn, welfare, Outcome.MOVED_OUT, "w", Outbound())
        assert wrong.value.code == "wrong_kind"
    with engine.begin() as conn:
        with pytest.raises(OutcomeError) as unconfirmed:
            record_outcome(conn, move, Outcome.MOVED_OUT, "w", Outbound(), confirmed=False)
        assert unconfirmed.value.code == "confirm_needed"
    with engine.begin() as conn:
        with pytest.raises(OutcomeError) as no_date:
            record_outcome(conn, move, Outcome.AWAY, "w", Outbound())
        assert no_date.value.code == "back_on_needed"
    with engine.begin() as conn:
        with pytest.raises(OutcomeError) as no_note:
            record_outcome(conn, welfare, Outcome.NEEDS_HELP, "w", Outbound(), note=" ")
        assert no_note.value.code == "note_needed"
    assert set(visits.OUTCOMES[AlertKind.WELFARE_CHECK]) == {
        Outcome.NO_CHANGE,
        Outcome.AWAY,
        Outcome.NEEDS_HELP,
        Outcome.NOBODY_HOME,
    }
    # Needs help: the visited task goes to the community centre to follow up.
    with engine.begin() as conn:
        record_outcome(conn, welfare, Outcome.NEEDS_HELP, "w", Outbound(), note="腿摔伤了")
        row = conn.execute(select(tasks).where(tasks.c.task_id == welfare)).one()
    assert (row.open, row.state, row.assignee, row.outcome) == (
        True,
        "visited",
        "community-centre",
        "needs_help",
    )


def test_away_quiets_the_person_or_household_until_back(engine: Any) -> None:
    seeded = seed(engine)
    now = datetime.now(UTC)
    back = now + timedelta(days=20)
    move = open_task(engine, seeded.edge_a, "HA1", "RA1", "move_out")
    quiet = _quiet(_close(engine, move, Outcome.AWAY, now, back_on=back))
    assert {(q.resident_id, q.kind) for q in quiet} == {
        ("RA1", "move_out"),
        ("RA1", "welfare_check"),
    }
    assert all(q.until == back + AWAY_GRACE and q.reason is SuppressionReason.AWAY for q in quiet)
    vacancy = open_task(engine, seeded.edge_a, "HA2", None, "vacancy")
    quiet = _quiet(_close(engine, vacancy, Outcome.AWAY, now, back_on=back))
    assert {(q.resident_id, q.kind) for q in quiet} == {
        (None, "move_out"),
        (None, "vacancy"),
        (None, "welfare_check"),
    }
    # Reported to the centre before leaving (外出报备).
    with engine.begin() as conn:
        report = visits.report_away(conn, "HA1", None, now, back, "春节回老家", "centre", now)
    assert {m.reason for m in report.to_edges} == {SuppressionReason.REPORTED_AWAY}  # type: ignore[attr-defined]
    with engine.begin() as conn, pytest.raises(OutcomeError):
        visits.report_away(conn, "HA1", "RA2", now, back, "", "centre", now)  # not of HA1


def test_nobody_home_keeps_the_task_open_and_not_overdue_before_the_revisit(
    engine: Any,
) -> None:
    seeded = seed(engine)
    now = datetime.now(UTC)
    task_id = open_task(engine, seeded.edge_a, "HA2", "RA2", "welfare_check")
    revisit = now + timedelta(days=3)
    out = Outbound()
    with engine.begin() as conn:
        result = record_outcome(
            conn, task_id, Outcome.NOBODY_HOME, "w", out, revisit=revisit, now=now
        )
        row = conn.execute(select(tasks).where(tasks.c.task_id == task_id)).one()
    assert result.revisit_at == revisit
    assert not _quiet(out)  # no suppression: nobody saw anything
    assert (row.open, row.state, row.outcome) == (True, "accepted", None)
    with engine.begin() as conn:
        # Past the original 24 h due time but before the revisit: not escalated.
        assert escalate_overdue(conn, now + timedelta(days=2), Outbound()) == []
        assert escalate_overdue(conn, revisit + timedelta(days=1), Outbound()) == [task_id]
    # The revisit ends with a real outcome.
    _close(engine, task_id, Outcome.NO_CHANGE, now + timedelta(days=3))
    with engine.connect() as conn:
        assert conn.scalar(select(tasks.c.open).where(tasks.c.task_id == task_id)) is False


def test_alert_without_a_known_house_becomes_a_review_item(engine: Any) -> None:
    seeded = seed(engine)
    unknown = make_alert(seeded.edge_a, 7, "HA-unregistered", None, "new_occupant")
    nameless = make_alert(seeded.edge_a, 8, "HA1", None, "new_occupant").model_copy(
        update={"house_id": None}
    )
    with engine.begin() as conn:
        assert on_alert(conn, seeded.edge_a, unknown, Outbound()) is None
        assert on_alert(conn, seeded.edge_a, nameless, Outbound()) is None
        rows = conn.execute(select(alert_reviews)).all()
    assert sorted(((r.house_named, r.community_id, r.kind) for r in rows), key=str) == [
        ("HA-unregistered", "CA", "new_occupant"),
        (None, "CA", "new_occupant"),
    ]
    with engine.begin() as conn:
        assert visits.resolve_review(
            conn, seeded.edge_a, str(unknown.id), "c", "登记了", datetime.now(UTC)
        )
        assert not visits.resolve_review(
            conn, seeded.edge_a, str(unknown.id), "c", "again", datetime.now(UTC)
        )


def test_the_alerts_evidence_is_stored_on_the_task(engine: Any) -> None:
    seeded = seed(engine)
    task_id = open_task(engine, seeded.edge_a, "HA1", "RA1", "move_out")
    with engine.connect() as conn:
        stored = conn.scalar(
            select(task_evidence.c.evidence).where(task_evidence.c.task_id == task_id)
        )
    assert '"note": "not seen for 21 days"' in stored
