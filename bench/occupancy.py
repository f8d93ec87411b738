"""Occupancy-change analyser against the compound simulator's ground truth, scored strictly.

    python bench/occupancy.py --profile field --seeds 101 102 103 104 105 --loop
    python bench/occupancy.py --profile default --seeds 101 102 103 104 105
    python bench/occupancy.py --conditions --seed 101      # one field condition at a time
    python bench/occupancy.py --calibrate --seeds 1 2 3    # refit alert confidence (training seeds)
    python bench/occupancy.py --profile field --seeds 101 102 103 104 105 --registered-guests 0

Simulates a compound (1,000 households; 90 days, 120 for the field profile so that changes made
around Spring Festival can be found), feeds its events hour by hour into a real edge event store,
runs the analyser as the edge does and scores every alert (gridgate_devkit.sim.scoring). With
``--loop`` visits happen and their outcomes come back through the hub's own rules (hub/feedback.py).
``--registered-guests`` sets the share of long-stay guests registered with a visitor pass (the
field profile's is 0.5); the new-occupant row then says how many false visits were about guests.
"""

from __future__ import annotations

import argparse
import statistics
from datetime import UTC, datetime
from typing import Any

from _common import emit, stamp

from edge_agent.analysis.calibration import FLAGS
from edge_agent.analysis.occupancy import AnalyserConfig
from gridgate_devkit.sim.compound import SimConfig
from gridgate_devkit.sim.conditions import FieldConditions, field_conditions
from gridgate_devkit.sim.loop import QuietRow, VisitLoop
from gridgate_devkit.sim.scoring import ScenarioRun, classify, reliability, run_scenario, score
from gridgate_wire import AlertKind
from hub import feedback

CONDITIONS: dict[str, dict[str, Any]] = {  # the field profile, one condition at a time
    "spring_festival": {"spring_festival_away": 0.40},
    "family_trips": {"family_trips": 0.25},
    "visits_back": {"visits_back": 0.6},
    "unfilmed_gate": {"unfilmed_gate_users": 0.20},
    "long_stay_guests": {"guests": 0.03},
    "persistent_strangers": {"persistent_strangers": 0.02},
    "day_night_split": {"day_night_split": True, "random_split": 0.05},
    "outages": {"gate_outages": 2, "edge_outages": 1},
    "low_activity_care": {"care_low_activity": 0.5, "welfare_outside": 0.15},
}


class HubRules:
    """hub.feedback's rules in the simulation's epoch seconds."""

    def no_change(
        self, kind: str, house: str, resident: str | None, earlier: int, now: float
    ) -> list[QuietRow]:
        q = feedback.after_no_change(AlertKind(kind), house, resident, earlier, _dt(now))
        return [(q.house_id, q.kind.value, q.resident_id, q.until.timestamp(), q.reason.value)]

    def away(self, house: str, resident: str | None, back_on: float, now: float) -> list[QuietRow]:
        return [
            (q.house_id, q.kind.value, q.resident_id, q.until.timestamp(), q.reason.value)
            for q in feedback.after_away(house, resident, _dt(back_on), _dt(now))
        ]

    def revisit(self, now: float) -> float:
        return feedback.revisit_at(_dt(now)).timestamp()


def _dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def sim_config(
    profile: str,
    seed: int,
    households: int,
    days: int | None,
    registered_guests: float | None = None,
    **knobs: Any,
) -> SimConfig:
    conditions = field_conditions() if profile == "field" else FieldConditions(**knobs)
    if registered_guests is not None:
        conditions = FieldConditions(
            **{**conditions.model_dump(), "guests_registered": registered_guests}
        )
    return SimConfig(
        seed=seed,
        households=households,
        days=days or (120 if profile == "field" or knobs else 90),
        field=conditions,
    )


def one(config: SimConfig, loop: bool) -> tuple[dict[str, Any], ScenarioRun]:
    visits = None
    if loop:
        from gridgate_devkit.sim.compound import simulate

        sim = simulate(config)
        visits = VisitLoop(sim, HubRules(), seed=config.seed)
        run = run_scenario(analyser=AnalyserConfig(), on_tick=visits, sim=sim)
    else:
        run = run_scenario(config, AnalyserConfig())
    row: dict[str, Any] = {
        "seed": config.seed,
        "households": config.households,
        "residents": len(run.sim.residents),
        "days": config.days,
        "events": len(run.sim.events),
        "simulate_s": round(run.seconds_simulating, 1),
        "analyse_s": round(run.seconds_analysing, 1),
        "per_kind": score(run),
    }
    if visits is not None:
        row["loop"] = visits.summary()
    return row, run


def mean_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in rows[0]:
        metrics = {}
        for metric, value in rows[0][kind].items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                values = [r[kind][metric] for r in rows if r[kind].get(metric) is not None]
                metrics[metric] = round(statistics.mean(values), 4) if values else None
        out[kind] = metrics
    return out


def calibrate(runs: list[ScenarioRun]) -> dict[str, Any]:
    """Fit p(real) = logistic(a + b*score + c.flags) per kind by Newton's method."""
    import numpy as np

    fitted: dict[str, Any] = {}
    for kind in AlertKind:
        xs, ys = [], []
        for run in runs:
            for alert, truth, _ in classify(run.sim, run.alerts):
                if alert.kind is kind:
                    flags = _flags_of(alert)
                    xs.append([1.0, alert.score, *flags])
                    ys.append(1.0 if truth is not None else 0.0)
        if len(set(ys)) < 2:
            fitted[kind.value] = {"alerts": len(ys), "note": "one class only; kept"}
            continue
        x, y = np.array(xs), np.array(ys)
        w = np.zeros(x.shape[1])
        for _ in range(50):
            p = 1 / (1 + np.exp(-x @ w))
            grad = x.T @ (y - p) - 0.1 * w  # a little ridge: few alerts per flag
            hess = (x.T * (p * (1 - p))) @ x + 0.1 * np.eye(len(w))
            w += np.linalg.solve(hess, grad)
        fitted[kind.value] = {
            "alerts": len(ys),
            "a": round(float(w[0]), 3),
            "b": round(float(w[1]), 3),
            "flags": [round(float(v), 3) for v in w[2:]],
        }
    return fitted


def _flags_of(alert: Any) -> list[float]:
    ctx = {c.value for c in alert.evidence.context}
    names = FLAGS[alert.kind]
    mapping = {
        "declined": "presence_decline" in ctx,
        "holiday": "holiday" in ctx,
        "went_out": "last_seen_going_out" in ctx,
        "household_together": "household_all_unseen" in ctx,
        "house_named": alert.house_id is not None,
    }
    return [1.0 if mapping[n] else 0.0 for n in names]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=("default", "field"), default="default")
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--seeds", type=int, nargs="+", help="several seeds, summarised")
    parser.add_argument("--households", type=int, default=1000)
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--loop", action="store_true", help="close the loop through visits")
    parser.add_argument("--conditions", action="store_true", help="one condition at a time")
    parser.add_argument("--calibrate", action="store_true", help="fit alert confidence")
    parser.add_argument(
        "--registered-guests",
        type=float,
        default=None,
        metavar="SHARE",
        help="share of long-stay guests registered with a visitor pass (field profile: 0.5)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    seeds = args.seeds or [args.seed]
    if args.conditions:
        table = {}
        for name, knobs in {"none": {}, **CONDITIONS}.items():
            rows = [
                one(sim_config("default", s, args.households, 120, **knobs), False)[0]
                for s in seeds
            ]
            table[name] = mean_rows([r["per_kind"] for r in rows])
        emit({**stamp(), "seeds": seeds, "one_condition_at_a_time": table}, args.json)
        return 0
    results = [
        one(
            sim_config(args.profile, s, args.households, args.days, args.registered_guests),
            args.loop,
        )
        for s in seeds
    ]
    rows = [r for r, _ in results]
    runs = [run for _, run in results]
    if args.calibrate:
        emit({**stamp(), "seeds": seeds, "coefficients": calibrate(runs)}, args.json)
        return 0
    judged = [j for run in runs for j in classify(run.sim, run.alerts)]
    summary: dict[str, Any] = {
        **stamp(),
        "profile": args.profile,
        "seeds": seeds,
        "guests_registered": runs[0].sim.config.field.guests_registered,
        "mean_per_kind": mean_rows([r["per_kind"] for r in rows]),
        "reliability": reliability(judged),
    }
    if args.loop:
        summary["mean_loop"] = mean_rows([r["loop"] for r in rows])
    summary["runs"] = rows
    emit(summary, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
