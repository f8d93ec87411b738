"""Runs the occupancy analyser over a simulated compound and scores it against ground truth."""

from __future__ import annotations

import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_agent.analysis.occupancy import DAY, HOUR, Alert, AnalyserConfig, OccupancyAnalyser
from edge_agent.sim.compound import SimConfig, SimResult, simulate
from edge_agent.store.events import EventStore


@dataclass
class ScenarioRun:
    sim: SimResult
    alerts: list[Alert]
    seconds_simulating: float
    seconds_analysing: float


def run_scenario(
    config: SimConfig | None = None,
    analyser: AnalyserConfig | None = None,
    tick_hours: float = 1.0,
    workdir: Path | None = None,
) -> ScenarioRun:
    """Simulate, then feed the events into a real event store hour by hour and analyse."""
    import time

    started = time.perf_counter()
    sim = simulate(config)
    simulated = time.perf_counter() - started
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        store = EventStore(Path(tmp) / "events.sqlite3", "sim-edge")
        engine = OccupancyAnalyser(analyser)
        engine.sync_roster((r.resident_id, r.house_id, r.care_recipient) for r in sim.residents)
        t0 = sim.config.start.timestamp()
        end = t0 + sim.config.days * DAY
        alerts: list[Alert] = []
        cursor = 0
        events = sim.events
        tick = t0
        started = time.perf_counter()
        while tick < end:
            tick += tick_hours * HOUR
            upto = cursor
            while upto < len(events) and events[upto].occurred_at <= tick:
                upto += 1
            if upto > cursor:
                store.insert_events(events[cursor:upto])
                cursor = upto
            while True:
                batch = store.events_after(engine.last_seq, 20_000)
                if not batch:
                    break
                engine.process(batch)
            alerts += engine.tick(tick)
        analysed = time.perf_counter() - started
        store.close()
    return ScenarioRun(sim, alerts, simulated, analysed)


NEEDED = {  # how long after a change an alert can be expected, for "detectable" truths
    "move_out": 21 * DAY + 3 * DAY,
    "vacancy": 30 * DAY + 3 * DAY,
    "new_occupant": 14 * DAY,
    "welfare_check": 54 * HOUR,
}


def score(run: ScenarioRun) -> dict[str, Any]:
    sim = run.sim
    end = sim.config.start.timestamp() + sim.config.days * DAY
    per_kind: dict[str, Any] = {}
    gone = {t.subject for t in sim.truths if t.kind in ("move_out", "welfare_check")}
    for kind in ("move_out", "vacancy", "new_occupant", "welfare_check"):
        truths = {t.subject: t for t in sim.truths if t.kind == kind}
        alerts = {a.subject: a for a in run.alerts if a.kind.value == kind}
        valid = gone if kind == "move_out" else set(truths)
        true_alerts = [a for s, a in alerts.items() if s in valid]
        detectable = {s: t for s, t in truths.items() if t.start.timestamp() + NEEDED[kind] <= end}
        found = [s for s in detectable if s in alerts]
        delays = [(alerts[s].detected_at - detectable[s].start).total_seconds() for s in found]
        unit = HOUR if kind == "welfare_check" else DAY
        row: dict[str, Any] = {
            "alerts": len(alerts),
            "truths": len(truths),
            "detectable": len(detectable),
            "precision": round(len(true_alerts) / len(alerts), 4) if alerts else 1.0,
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
            named = [a for a in true_alerts if a.house_id is not None]
            row["house_named"] = round(len(named) / len(true_alerts), 4) if true_alerts else None
            row["house_correct"] = (
                round(
                    sum(1 for a in named if a.house_id == truths[a.subject].house_id) / len(named),
                    4,
                )
                if named
                else None
            )
        per_kind[kind] = row
    return per_kind
