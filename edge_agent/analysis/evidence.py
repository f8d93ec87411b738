"""Alerts about absences, with the evidence a grid worker reads before a visit."""

from __future__ import annotations

from datetime import UTC, datetime

from edge_agent.analysis.calibration import calibrated
from edge_agent.analysis.config import Alert
from edge_agent.analysis.presence import Absence, Resident
from gridgate_wire import AlertAdvice, AlertContext, AlertEvidence, AlertKind, PassageDirection


def absence_alert(
    kind: AlertKind,
    house: str,
    resident: str | None,
    subject: str,
    moment: float,
    state: Resident,
    absence: Absence,
    holiday: str,
    context: list[AlertContext],
    expired: str,
    size: int,
    seen7: int,
    *,
    score: float,
    flags: tuple[bool, ...],
    advice: AlertAdvice = AlertAdvice.VISIT,
) -> Alert:
    if holiday:
        context.append(AlertContext.HOLIDAY)
    if absence.blind_hours >= 1:
        context.append(AlertContext.RECORDING_GAP)
    if expired in ("away", "reported_away"):
        context.append(AlertContext.REPORTED_AWAY_OVERDUE)
    seen_days = [n for d, n in state.daylog]
    usual = sum(seen_days[-28:]) / len(seen_days[-28:]) if seen_days else 0.0
    return Alert(
        kind,
        house,
        resident,
        subject,
        datetime.fromtimestamp(moment, UTC),
        calibrated(kind, score, flags),
        AlertEvidence(
            last_seen=datetime.fromtimestamp(state.last_seen, UTC),
            last_gate=state.last_gate or None,
            last_direction=state.last_direction
            if state.last_direction in (PassageDirection.IN, PassageDirection.OUT)
            else None,
            days_observed=absence.days_observed,
            days_seen=min(absence.days_seen, absence.days_observed),
            hours_unseen=round(max(0.0, absence.unseen_days) * 24 + absence.blind_hours, 1),
            usual_days_per_week=round(min(7.0, absence.rate * 7), 1),
            usual_passes_per_day=round(usual, 1),
            household_size=size,
            household_seen=seen7 if resident else 0,
            unrecorded_hours=round(absence.blind_hours, 1),
            holiday=holiday,
            context=context,
            advice=advice,
        ),
        score,
    )
