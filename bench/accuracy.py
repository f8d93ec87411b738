"""Accuracy of the face engines on a labelled photo folder.

    python bench/accuracy.py --engine default --engine onnx --json

Detection failure rate; 1:1 verification TAR at FAR 1e-2/1e-3/1e-4 over all genuine and impostor
pairs; open-set 1:N (3 images of each identity of one half enrolled; probes: the rest of that half
and all of the other half; five random splits pooled) FNIR at FPIR 1e-2/1e-3; and the same with
three probe images of one person fused into one probe, as a track does.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from _common import dataset_arguments, dataset_missing, emit, stamp

from gridgate_devkit.evaluation import (
    accept_threshold,
    embed_dataset,
    fnir_at_fpir,
    open_set_scores,
    tar_at_far,
)
from gridgate_devkit.presets import preset_config


def measure(
    name: str, dataset: Path, models: Path, cache: Path | None, processes: int
) -> dict[str, Any]:
    data = embed_dataset(dataset, preset_config(name, models), processes, cache)
    single = open_set_scores(data)
    fused = open_set_scores(data, fuse=3)
    return {
        "engine": name,
        "images": data.images,
        "identities": len(data.names),
        "detect_fail_rate": data.detect_failures / data.images,
        "tar_at_far": tar_at_far(data, (1e-2, 1e-3, 1e-4)),
        "fnir_at_fpir": fnir_at_fpir(single, (1e-2, 1e-3)),
        "fused_fnir_at_fpir": fnir_at_fpir(fused, (1e-2, 1e-3)),
        "accept_threshold_at_fpir_1e-3": accept_threshold(single, 1e-3),
        "mated_probes": len(single.mated_top),
        "nonmated_probes": len(single.nonmated_top),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    dataset_arguments(parser)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    if dataset_missing(args.dataset):
        return 2
    engines = args.engine or ["default", "onnx", "yunet+dlib"]
    rows = [
        measure(e, args.dataset, args.models_dir, args.cache_dir, args.processes) for e in engines
    ]
    result: dict[str, Any] = {**stamp(), "dataset": str(args.dataset)}
    if len(rows) == 1:
        result.update(rows[0])
    else:
        result["engines"] = rows
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
