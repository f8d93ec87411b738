"""1:N search latency and recall: exact against approximate, at several gallery sizes.

    python bench/match.py --json

Galleries of unit vectors near real face geometry are hard to come by at 100k, so the
galleries here are random unit vectors with queries that are noisy copies of gallery members
(near-duplicate queries, as a resident's new photo is to their template). Recall@1 of the
approximate index is measured against exact search on the same queries.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from typing import Any

import numpy as np
from _common import emit, stamp

from edge_agent.gallery.index import IndexConfig, apply_threads, build_snapshot


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def measure(n: int, dim: int, kind: str, queries: int, rng: np.random.Generator) -> dict[str, Any]:
    vectors = unit(rng.standard_normal((n, dim)).astype(np.float32))
    ids = np.arange(n, dtype=np.int64)
    members = rng.integers(0, n, queries)
    noise = 0.6 / np.sqrt(dim)
    probe = unit(vectors[members] + noise * rng.standard_normal((queries, dim)).astype(np.float32))
    exact = build_snapshot(dim, ids, vectors, IndexConfig(approximate_above=10**9))
    config = (
        IndexConfig(approximate_above=1_000)
        if kind == "hnsw"
        else IndexConfig(approximate_above=10**9)
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    snapshot = exact if kind == "exact" else build_snapshot(dim, ids, vectors, config)
    build_s = time.perf_counter() - start
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    times = []
    hits = 0
    truth = exact.search(probe, 1)[1][:, 0]
    for i in range(queries):
        t0 = time.perf_counter()
        _, found = snapshot.search(probe[i : i + 1], 5)
        times.append((time.perf_counter() - t0) * 1000)
        hits += int(found[0, 0] == truth[i])
    times.sort()
    return {
        "n": n,
        "dim": dim,
        "index": "IndexFlatIP"
        if kind == "exact"
        else f"HNSW(M={config.hnsw_m},ef={config.hnsw_ef_search})",
        "median_ms": round(statistics.median(times), 3),
        "p99_ms": round(times[int(0.99 * (len(times) - 1))], 3),
        "recall_at_1": round(hits / queries, 4),
        "build_s": round(build_s, 2),
        "vectors_mb": round(n * dim * 4 / 2**20, 1),
        "rss_growth_mb": round(max(grown_kb, 0) / 1024, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--dims", type=int, nargs="+", default=[128, 512])
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--no-hnsw", dest="hnsw", action="store_false")
    parser.add_argument("--threads", type=int, default=1, help="FAISS OpenMP threads")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    apply_threads(IndexConfig(search_threads=args.threads))
    rng = np.random.default_rng(0)
    rows = []
    for dim in args.dims:
        for n in args.sizes:
            rows.append(measure(n, dim, "exact", args.queries, rng))
            if args.hnsw and n >= 10_000:
                rows.append(measure(n, dim, "hnsw", args.queries, rng))
    emit({**stamp(), "rows": rows}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
