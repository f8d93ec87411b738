"""Calibrate an engine's open-set thresholds for a target FPIR and write them to the manifest.

    python bench/calibrate.py --engine dlib --fpir 1e-3 --write

Uses the accuracy bench's protocol (lfw-dev, 3 templates per enrolled identity, five random
splits pooled): picks the top-1 vs top-2 margin that keeps 99% of correct matches, then the
lowest accept threshold whose FPIR is at most the target.
"""

from __future__ import annotations

import argparse
import math
import re

from _common import (
    REPO,
    dataset_arguments,
    dataset_missing,
    emit,
    engine_config,
    stamp,
)

from edge_agent.vision import build_engine
from edge_agent.vision.evaluation import calibrate, embed_dataset, open_set_rates, open_set_scores

MANIFEST = REPO / "models" / "manifest.yaml"


def write_thresholds(model: str, fpir: float, accept: float, margin: float) -> None:
    """Write thresholds already rounded up to four decimals (never down: a rounded-down
    threshold admits more false matches than the target)."""
    text = MANIFEST.read_text()
    block = re.compile(
        rf"(  - name: {re.escape(model)}\n(?:    .*\n)*?)    thresholds: \{{[^}}]*\}}\n"
    )
    # Round the threshold up, never down: a rounded-down threshold admits more than the target.
    line = f"    thresholds: {{fpir: {fpir:g}, accept: {accept:.4f}, margin: {margin:.4f}}}\n"
    new, count = block.subn(lambda m: m.group(1) + line, text, count=1)
    if count != 1:
        raise SystemExit(f"no thresholds line for {model} in {MANIFEST}")
    MANIFEST.write_text(new)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    dataset_arguments(parser)
    parser.add_argument("--fpir", type=float, default=1e-3)
    parser.add_argument("--write", action="store_true", help="update models/manifest.yaml")
    args = parser.parse_args()
    if dataset_missing(args.dataset):
        return 2
    rows = []
    for name in args.engine or ["dlib", "onnx"]:
        config = engine_config(name, args.models_dir)
        data = embed_dataset(args.dataset, config, 2, args.cache_dir)
        scores = open_set_scores(data)
        exact, margin = calibrate(scores, args.fpir)
        accept = math.ceil(exact * 10_000) / 10_000  # what the manifest holds
        fpir, fnir = open_set_rates(scores, accept, margin)
        model = build_engine(config).embedder
        model_name = config.embedder.model
        rows.append(
            {
                "engine": name,
                "model": model_name,
                "target_fpir": args.fpir,
                "accept": round(accept, 4),
                "margin": round(margin, 4),
                "fpir": fpir,
                "fnir": fnir,
                "dimension": model.dimension,
            }
        )
        if args.write:
            write_thresholds(model_name, args.fpir, accept, margin)
    emit({**stamp(), "rows": rows}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
