"""Gate conditions: track-level FPIR and FNIR of the default engine on degraded photos.

    python bench/degrade.py --per-identity 9 --json

Residents enrol from clean lfw-dev photos (3 each); tracks (3 photos fused) are made of
degraded copies: blur (Gaussian sigma 2.5), dark (x0.35 with sensor noise), small (scaled to
40%, a face about 40 px wide, and back up: the detail of a far face), heavy JPEG (quality 12),
and a 20 degree head tilt. For each: detection failures, and at the edge's threshold for 100
residents and FPIR 1e-3 (from the manifest's curve) the measured impostor rate p, FPIR(100) =
1-(1-p)^100 with its 95% upper bound, and FNIR of genuine tracks.
"""

from __future__ import annotations

import argparse
import multiprocessing
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from _common import DEFAULT_DATASET, DEFAULT_MODELS, emit, stamp

from edge_agent.gallery.calibration import track_comparisons
from edge_agent.gallery.selfcheck import poisson_upper
from edge_agent.gallery.thresholds import accept_for, fpir_of
from edge_agent.vision import build_engine
from edge_agent.vision.config import EngineConfig
from edge_agent.vision.engine import FaceEngine
from edge_agent.vision.types import read_image
from gridgate_devkit.degrade import CONDITIONS, degrade
from gridgate_devkit.evaluation import list_dataset, subject_face

_engine: FaceEngine | None = None


def _init(models: str) -> None:
    global _engine
    _engine = build_engine(EngineConfig(models_dir=Path(models)))


def _embed(job: tuple[str, str, int]) -> np.ndarray | None:
    path, condition, seed = job
    if _engine is None:
        raise RuntimeError("worker not initialised")
    frame = degrade(read_image(Path(path)), condition, seed)
    face = subject_face(_engine.detect(frame), frame.shape[1], frame.shape[0])
    return None if face is None else _engine.embed(frame, face)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--models-dir", type=Path, default=DEFAULT_MODELS)
    parser.add_argument("--per-identity", type=int, default=9)
    parser.add_argument("--residents", type=int, default=100)
    parser.add_argument("--fpir", type=float, default=1e-3)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    counts: dict[str, int] = defaultdict(int)
    items = []
    for name, path in list_dataset(args.dataset):
        if counts[name] < args.per_identity:
            counts[name] += 1
            items.append((name, path))
    names = sorted(counts)
    labels = np.array([names.index(n) for n, _ in items])
    jobs = [(str(p), c, i) for c in CONDITIONS for i, (_, p) in enumerate(items)]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(args.processes, _init, (str(args.models_dir),)) as pool:
        vectors = pool.map(_embed, jobs, chunksize=16)
    by_condition = {
        c: vectors[k * len(items) : (k + 1) * len(items)] for k, c in enumerate(CONDITIONS)
    }
    thresholds = build_engine(EngineConfig(models_dir=args.models_dir)).embedder.thresholds
    if thresholds is None:
        raise SystemExit("the default engine has no thresholds in the manifest")
    thresholds = thresholds.model_copy(update={"fpir": args.fpir})
    threshold = accept_for(thresholds, args.residents)
    clean = by_condition["clean"]
    rows: list[dict[str, Any]] = []
    for condition in CONDITIONS:
        probe = by_condition[condition]
        keep = [i for i in range(len(items)) if clean[i] is not None and probe[i] is not None]
        failed = sum(v is None for v in probe) / len(items)
        comparisons = track_comparisons(
            np.stack([clean[i] for i in keep]),
            labels[keep],
            probe_vectors=np.stack([probe[i] for i in keep]),
            grid=np.array([threshold]),
        )
        above = int(comparisons.exceed[:, :, 0].sum())
        total = comparisons.comparisons
        p = above / total
        rows.append(
            {
                "condition": condition,
                "detect_fail": round(failed, 4),
                "impostor_comparisons": total,
                "impostor_above": above,
                "p": p,
                f"fpir_{args.residents}": fpir_of(p, args.residents),
                f"fpir_{args.residents}_upper": fpir_of(
                    poisson_upper(above, total), args.residents
                ),
                "fnir": round(comparisons.fnir(threshold), 4),
                "genuine_tracks": len(comparisons.genuine),
            }
        )
    emit(
        {
            **stamp(),
            "threshold": round(threshold, 4),
            "residents": args.residents,
            "target_fpir": args.fpir,
            "images_per_condition": len(items),
            "rows": rows,
        },
        args.json,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
