"""Runs the occupancy analyser over a simulated compound and scores it strictly against the truth.

Strict scoring: every alert counts. An alert is true only if it names a real change of its kind
that had already begun, and only the first alert for that change; duplicates, alerts before the
change and alerts about nothing are false visits. Recall counts changes old enough to be found
(``NEEDED``) that got a true alert.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from edge_agent.analysis.occupancy import DAY, HOUR, Alert, AnalyserConfig, OccupancyAnalyser
from edge_agent.store.events import EventStore
from gridgate_devkit.sim.compound import SimConfig, SimResult, Truth, simulate
from gridgate_devkit.sim.field_people import festival_days

KINDS = ("move_out", "vacancy", "new_occupant", "welfare_check")
Quiet = dict[tuple[str, str, str], tuple[float, str]]  # (house, kind, resident or '') -> until
TickHook = Callable[[float, list[Alert], OccupancyAnalyser, Quiet], None]


@dataclass
class ScenarioRun:
    sim: SimResult
    alerts: list[Alert]
    seconds_simulating: float
    seconds_analysing: float
    quiet: Quiet = field(default_factory=dict)


def suppressed_from(quiet: Quiet) -> Callable[[str, str, str | None], tuple[float, str] | None]:
    def lookup(house: str, kind: str, resident: str | None) -> tuple[float, str] | None:
        found = [quiet.get((house, kind, "")), quiet.get((house, kind, resident or ""))]
        return max((q for q in found if q is not None), default=None)

    return lookup


def run_scenario(
    config: SimConfig | None = None,
    analyser: AnalyserConfig | None = None,
    tick_hours: float = 1.0,
    workdir: Path | None = None,
    on_tick: TickHook | None = None,
    sim: SimResult | None = None,
) -> ScenarioRun:
    """Simulate, then feed the events into a real event store hour by hour and analyse.

    ``on_tick`` sees each tick's alerts and may change the analyser's roster and quiet windows:
    the closed loop of visits (:mod:`gridgate_devkit.sim.loop`).
    """
    started = time.perf_counter()
    sim = sim or simulate(config)
    simulated = time.perf_counter() - started
    quiet: Quiet = {}
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        store = EventStore(Path(tmp) / "events.sqlite3", "sim-edge")
        engine = OccupancyAnalyser(analyser, suppressed_from(quiet))
        engine.sync_roster((r.resident_id, r.house_id, r.care_recipient) for r in sim.residents)
        engine.sync_passes(sim.passes)  # the edge's pass list (issued ahead, or at the gate)
        t0 = sim.config.start.timestamp()
        end = t0 + sim.config.days * DAY
        # Told the centre the evening before leaving.
        reports = sorted(
            ((t0 + a.first * DAY - DAY / 2, a) for a in sim.log.away if a.reported),
            key=lambda r: r[0],
        )
        alerts: list[Alert] = []
        cursor = 0
        events = sim.events
        tick = t0
        started = time.perf_counter()
        while tick < end:
            tick += tick_hours * HOUR
            while reports and reports[0][0] <= tick:
                _, away = reports.pop(0)
                back = t0 + away.last * DAY + 3 * DAY
                for rid in away.residents:
                    for kind in ("move_out", "welfare_check"):
                        quiet[(away.house_id, kind, rid)] = (back, "reported_away")
            upto = cursor
            while upto < len(events) and events[upto].occurred_at <= tick:
                upto += 1
            if upto > cursor:
                store.insert_events(events[cursor:upto])
                cursor = upto
            while batch := store.events_after(engine.last_seq, 20_000):
                engine.process(batch)
            new = engine.tick(tick)
            alerts += new
            if on_tick is not None:
                on_tick(tick, new, engine, quiet)
        analysed = time.perf_counter() - started
        store.close()
    return ScenarioRun(sim, alerts, simulated, analysed, quiet)


NEEDED = {  # how long after a change an alert can be expected, for "detectable" truths
    "move_out": 40 * DAY,
    "vacancy": 40 * DAY,
    "new_occupant": 14 * DAY,
    "welfare_check": 54 * HOUR,
}


def match(sim: SimResult, alert: Alert) -> Truth | None:
    """The real change this alert is about, if any (already begun or not)."""
    kind = alert.kind.value
    for t in sim.truths:
        if kind == "move_out" and t.kind in ("move_out", "welfare_check"):
            if t.subject == alert.subject:
                return t
        elif kind == "new_occupant" and t.kind == kind:
            if sim.log.aliases.get(alert.subject, alert.subject) == t.subject:
                return t
        elif t.kind == kind and t.subject == alert.subject:
            return t
    return None


def classify(sim: SimResult, alerts: list[Alert]) -> list[tuple[Alert, Truth | None, str]]:
    """(alert, the change it found or None, why false) in time order.

    Alerts that name no house (review items for the centre) and visits are judged apart: a
    review item does not use up the change, so the visit that follows it is not a duplicate.
    """
    found: dict[bool, set[tuple[str, str]]] = {True: set(), False: set()}
    out: list[tuple[Alert, Truth | None, str]] = []
    for alert in sorted(alerts, key=lambda a: a.detected_at):
        truth = match(sim, alert)
        seen = found[alert.house_id is not None]
        if truth is None:
            out.append((alert, None, "no change"))
        elif truth.start > alert.detected_at:
            out.append((alert, None, "before the change"))
        elif (truth.kind, truth.subject) in seen:
            out.append((alert, None, "duplicate"))
        else:
            seen.add((truth.kind, truth.subject))
            out.append((alert, truth, ""))
    return out


def score(run: ScenarioRun) -> dict[str, Any]:
    sim = run.sim
    start = sim.config.start.timestamp()
    end = start + sim.config.days * DAY
    judged = classify(sim, run.alerts)
    per_kind: dict[str, Any] = {}
    for kind in KINDS:
        mine = [(a, t) for a, t, _ in judged if a.kind.value == kind]
        truths = [t for t in sim.truths if t.kind == kind and not t.household]
        detectable = [t for t in truths if t.start.timestamp() + NEEDED[kind] <= end]
        first: dict[tuple[str, str], Alert] = {}
        for a, t in mine:
            if t is not None:
                first.setdefault((t.kind, t.subject), a)  # the earliest true alert
        if kind == "move_out":  # a move-out alert may find a welfare subject who stopped too
            first = {k: a for k, a in first.items() if k[0] == "move_out"}
        found = [t for t in detectable if (t.kind, t.subject) in first]
        delays = [(first[(t.kind, t.subject)].detected_at - t.start).total_seconds() for t in found]
        unit = HOUR if kind == "welfare_check" else DAY
        true_alerts = sum(1 for _, t in mine if t is not None)
        row: dict[str, Any] = {
            "alerts": len(mine),
            "truths": len(truths),
            "detectable": len(detectable),
            "precision": round(true_alerts / len(mine), 4) if mine else 1.0,
            "recall": round(len(found) / len(detectable), 4) if detectable else 1.0,
        }
        key = "median_delay_hours" if kind == "welfare_check" else "median_delay_days"
        row[key] = round(statistics.median(delays) / unit, 2) if delays else None
        if kind == "welfare_check":
            limit = 54 * HOUR
            row["recall_within_h_plus_6"] = (
                round(sum(1 for d in delays if d <= limit) / len(detectable), 4)
                if detectable
                else 1.0
            )
        if kind == "new_occupant":
            # An alert that names no house is a review item for the centre, not a visit.
            visits = [(a, t) for a, t in mine if a.house_id is not None]
            row["visit_alerts"] = len(visits)
            row["visit_precision"] = (
                round(sum(1 for _, t in visits if t is not None) / len(visits), 4)
                if visits
                else 1.0
            )
            row["review_items"] = len(mine) - len(visits)
            named = [(a, t) for a, t in mine if t is not None and a.house_id is not None]
            row["house_named"] = round(len(named) / true_alerts, 4) if true_alerts else None
            row["house_correct"] = (
                round(sum(1 for a, t in named if a.house_id == t.house_id) / len(named), 4)
                if named
                else None
            )
            row.update(_pass_figures(sim, mine))
        per_kind[kind] = row
    false = [a for a, t, _ in judged if t is None and a.house_id is not None]
    households = sim.config.households
    months = sim.config.days / 30
    per_kind["false_visits"] = {  # alerts that send a worker to a house for nothing
        "per_1000_households_month": round(len(false) / households * 1000 / months, 2),
        "after_spring_festival_per_1000": _after_festival(sim, false),
    }
    return per_kind


def _pass_figures(sim: SimResult, mine: list[tuple[Alert, Truth | None]]) -> dict[str, Any]:
    """New occupants and visitor passes: alerts about pass holders, movers under a pass found,
    and false visits about long-stay guests (registered with a pass or not)."""
    guests = {sid for _, sid, _, _ in sim.log.guests}
    by_pass = [(a, t) for a, t in mine if a.evidence.pass_id]
    movers = {
        t.subject for t in sim.truths if t.kind == "new_occupant" and t.subject.startswith("P-")
    }
    found = {t.subject for _, t in mine if t is not None and t.subject in movers}
    alias = sim.log.aliases  # a guest's night id, or a fresh id the gallery gave it
    false_guests = [
        a for a, t in mine if t is None and a.house_id and alias.get(a.subject, a.subject) in guests
    ]
    real = sum(1 for _, t in by_pass if t is not None)
    return {
        "long_stay_guests": len(guests),
        "registered_guests": len(sim.log.registered_guests),
        "guest_false_visits": len(false_guests),
        "pass_holder_alerts": len(by_pass),
        "pass_holder_precision": round(real / len(by_pass), 4) if by_pass else None,
        "pass_movers": len(movers),
        "pass_movers_found": len(found),
    }


def _after_festival(sim: SimResult, false: list[Alert]) -> float | None:
    """False alerts per 1,000 households from Spring Festival's first day to 30 days after it."""
    days = festival_days(sim.config)
    if "spring_festival" not in days:
        return None
    first = sim.config.start + timedelta(days=days["spring_festival"])
    last = first + timedelta(days=days.get("spring_festival_length", 8) + 30)
    n = sum(1 for a in false if first <= a.detected_at <= last)
    return round(n / sim.config.households * 1000, 2)


def reliability(
    judged: list[tuple[Alert, Truth | None, str]], bins: int = 5
) -> list[dict[str, Any]]:
    """Alerts by stated confidence band: how many, and the share that were real."""
    rows = []
    for i in range(bins):
        lo, hi = i / bins, (i + 1) / bins
        band = [
            t is not None
            for a, t, _ in judged
            if lo <= a.confidence < hi or (hi == 1 and a.confidence == 1)
        ]
        rows.append(
            {
                "confidence": f"{lo:.1f}-{hi:.1f}",
                "alerts": len(band),
                "real": round(sum(band) / len(band), 3) if band else None,
            }
        )
    return rows
