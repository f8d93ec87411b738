"""Occupancy-change analyser against the compound simulator's ground truth.

    python bench/occupancy.py --seed 1 --json
    python bench/occupancy.py --seeds 1 2 3 4 5      # a summary over several seeds

Simulates a compound (default: 1,000 households, 90 days), feeds its events hour by hour into a
real edge event store, runs the analyser as the edge does, and reports per alert kind precision,
recall and median detection delay (days; hours for welfare checks).
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from _common import emit, stamp

from edge_agent.analysis.occupancy import AnalyserConfig
from edge_agent.sim.compound import SimConfig
from edge_agent.sim.scoring import run_scenario, score


def one(seed: int, households: int, days: int) -> dict[str, Any]:
    run = run_scenario(SimConfig(seed=seed, households=households, days=days), AnalyserConfig())
    return {
        "seed": seed,
        "households": households,
        "residents": len(run.sim.residents),
        "days": days,
        "events": len(run.sim.events),
        "simulate_s": round(run.seconds_simulating, 1),
        "analyse_s": round(run.seconds_analysing, 1),
        "per_kind": score(run),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seeds", type=int, nargs="+", help="several seeds, summarised")
    parser.add_argument("--households", type=int, default=1000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.seeds:
        emit({**stamp(), **one(args.seed, args.households, args.days)}, args.json)
        return 0
    runs = [one(s, args.households, args.days) for s in args.seeds]
    summary: dict[str, Any] = {}
    for kind in runs[0]["per_kind"]:
        rows = [r["per_kind"][kind] for r in runs]
        summary[kind] = {
            metric: round(statistics.mean(r[metric] for r in rows if r[metric] is not None), 4)
            for metric in rows[0]
            if isinstance(rows[0][metric], float | int) and rows[0][metric] is not None
        }
    emit({**stamp(), "seeds": args.seeds, "mean_per_kind": summary, "runs": runs}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
