"""Calibrate an engine's open-set thresholds and its impostor curve; write them to the manifest.

    python bench/calibrate.py --engine default --fpir 1e-3 --write

Two parts, both on lfw-dev (five random splits, 3 templates per enrolled identity):

- ``accept`` and ``margin`` for single images at the bench's gallery size (the old protocol:
  the margin keeps 99% of correct matches, then the lowest threshold whose FPIR is at most the
  target); ``accept`` is also the stranger clustering's join threshold;
- the impostor curve p(t) for fused tracks (3 photos averaged) against one resident, from every
  impostor comparison (each track against every other identity), with a 95% bootstrap upper
  bound over identities and a normal-tail extrapolation, checked here against measured points
  it was not fitted to. The edge turns it into the threshold for its own gallery size:
  FPIR(N) = 1 - (1 - p(t))^N (``edge_agent/gallery/thresholds.py``).
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np
import yaml
from _common import REPO, dataset_arguments, dataset_missing, emit, stamp

from edge_agent.gallery.calibration import (
    Comparisons,
    gallery_size_table,
    impostor_curve,
    track_comparisons,
)
from edge_agent.gallery.thresholds import fpir_of, p_at
from edge_agent.vision.models import ImpostorCurve, load_manifest
from gridgate_devkit.evaluation import calibrate, embed_dataset, open_set_rates, open_set_scores
from gridgate_devkit.presets import preset_config

MANIFEST = REPO / "models" / "manifest.yaml"
SIZES = [50, 100, 300, 1000, 2500, 5000, 10000]


def write_thresholds(model: str, block: dict[str, Any]) -> None:
    """Replace the model's ``thresholds:`` entry (one line or an indented block) in place."""
    lines = MANIFEST.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == f"- name: {model}")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("  - ")), len(lines))
    at = next((i for i in range(start, end) if lines[i].startswith("    thresholds:")), None)
    if at is None:
        raise SystemExit(f"no thresholds for {model} in {MANIFEST}")
    stop = at + 1
    while stop < end and lines[stop].startswith("      "):
        stop += 1
    text = yaml.safe_dump({"thresholds": block}, sort_keys=False, default_flow_style=None, width=98)
    new = ["    " + line + "\n" for line in text.splitlines()]
    MANIFEST.write_text("".join(lines[:at] + new + lines[stop:]))


def extrapolation_check(comparisons: Comparisons) -> list[dict[str, float]]:
    """Fit the tail only where >= 1,000 comparisons exceed (p >~ 3e-3) and compare its
    prediction with the measured p further out (where >= 10 comparisons exceed)."""
    held = impostor_curve(comparisons, boots=1, min_count=1000).curve
    rows = []
    for t in comparisons.grid:
        measured = comparisons.empirical(float(t))
        count = measured * comparisons.comparisons
        if 10 <= count < 1000:
            predicted = p_at(held, float(t))
            rows.append(
                {
                    "t": float(t),
                    "measured": measured,
                    "predicted": predicted,
                    "ratio": predicted / measured,
                }
            )
    return rows


def fnir_point(comparisons: Comparisons, curve: ImpostorCurve, fnir: float) -> dict[str, Any]:
    """The threshold at which ``fnir`` of genuine tracks are rejected, and its FPIR by size."""
    t = float(np.quantile(comparisons.genuine, fnir))
    p = p_at(curve, t)
    return {
        "fnir": fnir,
        "threshold": round(t, 4),
        "p": p,
        "fpir": {str(n): fpir_of(p, n) for n in SIZES},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    dataset_arguments(parser)
    parser.add_argument("--fpir", type=float, default=1e-3)
    parser.add_argument("--boots", type=int, default=200)
    parser.add_argument("--write", action="store_true", help="update models/manifest.yaml")
    args = parser.parse_args()
    if dataset_missing(args.dataset):
        return 2
    rows = []
    for name in args.engine or ["default"]:
        config = preset_config(name, args.models_dir)
        data = embed_dataset(args.dataset, config, 2, args.cache_dir)
        scores = open_set_scores(data)
        exact, margin = calibrate(scores, args.fpir)
        accept = math.ceil(exact * 10_000) / 10_000  # rounded up, never down
        single_fpir, single_fnir = open_set_rates(scores, accept, margin)
        comparisons = track_comparisons(data.vectors, data.labels)
        estimate = impostor_curve(comparisons, boots=args.boots)
        model_name = config.embedder.model
        gallery = len(np.unique(data.labels)) // 2
        rows.append(
            {
                "engine": name,
                "model": model_name,
                "target_fpir": args.fpir,
                "accept": round(accept, 4),
                "margin": round(margin, 4),
                "single_image": {"gallery": gallery, "fpir": single_fpir, "fnir": single_fnir},
                "impostor_comparisons": comparisons.comparisons,
                "genuine_tracks": len(comparisons.genuine),
                "p_at_accept": p_at(estimate.curve, accept),
                "p_at_accept_upper": p_at(estimate.upper, accept),
                "by_gallery_size": gallery_size_table(
                    estimate, comparisons, SIZES, args.fpir, accept
                ),
                "at_fnir_1pct": fnir_point(comparisons, estimate.curve, 0.01),
                "extrapolation_check": extrapolation_check(comparisons),
            }
        )
        if args.write:
            block = {
                "fpir": args.fpir,
                "accept": round(accept, 4),
                "margin": round(margin, 4),
                "gallery_size": gallery,
                "impostor": estimate.curve.model_dump(),
            }
            spec = load_manifest().by_name(model_name)
            for target in {model_name, spec.converted_from or model_name}:
                write_thresholds(target, block)
    emit({**stamp(), "rows": rows}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
