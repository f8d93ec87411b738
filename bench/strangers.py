"""Quality of online stranger clustering on a labelled photo folder (BCubed and pairwise).

    python bench/strangers.py --engine dlib --json

Every photo is fed once, in a random order, to the stranger store as an "unknown face"; the
resulting stranger ids are compared with the true identities. BCubed precision: on average,
how much of a photo's cluster is the same person; recall: how much of that person is in the
photo's cluster. Pairwise precision/recall count pairs of photos put together.
"""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import numpy as np
from _common import dataset_arguments, dataset_missing, emit, stamp

from edge_agent.gallery.strangers import StrangerStore
from edge_agent.vision import build_engine
from gridgate_devkit.evaluation import EmbeddedSet, embed_dataset
from gridgate_devkit.presets import preset_config


def cluster_quality(data: EmbeddedSet, join: float, seed: int = 0) -> dict[str, Any]:
    order = np.random.default_rng(seed).permutation(len(data.labels))
    store = StrangerStore(data.vectors.shape[1], join)
    assigned = {}
    now = datetime.now(UTC)
    for i in order:
        assigned[int(i)] = store.assign(data.vectors[i], now).stranger_id
    labels = data.labels
    clusters = np.array([assigned[i] for i in range(len(labels))])
    size = Counter(clusters.tolist())
    pair = Counter(zip(clusters.tolist(), labels.tolist(), strict=True))
    truth = Counter(labels.tolist())
    precision = np.mean([pair[(c, t)] / size[c] for c, t in zip(clusters, labels, strict=True)])
    recall = np.mean([pair[(c, t)] / truth[t] for c, t in zip(clusters, labels, strict=True)])
    same_both = sum(v * (v - 1) / 2 for v in pair.values())
    same_cluster = sum(v * (v - 1) / 2 for v in size.values())
    same_label = sum(v * (v - 1) / 2 for v in truth.values())
    return {
        "join_threshold": round(join, 4),
        "clusters": len(size),
        "identities": len(truth),
        "bcubed_precision": round(float(precision), 4),
        "bcubed_recall": round(float(recall), 4),
        "pairwise_precision": round(same_both / max(same_cluster, 1), 4),
        "pairwise_recall": round(same_both / max(same_label, 1), 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    dataset_arguments(parser)
    args = parser.parse_args()
    if dataset_missing(args.dataset):
        return 2
    rows = []
    for name in args.engine or ["default", "onnx"]:
        config = preset_config(name, args.models_dir)
        thresholds = build_engine(config).embedder.thresholds
        accept = thresholds.accept if thresholds else 0.5
        data = embed_dataset(args.dataset, config, 2, args.cache_dir)
        for join in (accept - 0.02, accept, accept + 0.01):
            rows.append({"engine": name, **cluster_quality(data, join)})
    emit({**stamp(), "rows": rows}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
