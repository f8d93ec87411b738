"""FAISS search snapshots that are replaced, never modified, so a search never waits.

The exact index (``IndexFlatIP`` under ``IndexIDMap2``) is rebuilt on each roster change: a
memory copy, milliseconds at edge sizes. Above ``approximate_above`` templates an HNSW index is
used; FAISS's HNSW cannot remove vectors, so it takes recent additions in a small exact "delta"
index and removals as tombstones, and is rebuilt when either grows. Searches run on whatever
snapshot was current when they started.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import faiss
import numpy as np
from numpy.typing import NDArray
from pydantic import Field

from gridgate_core.config import StrictModel

Ids = NDArray[np.int64]
Matrix = NDArray[np.float32]


class IndexConfig(StrictModel):
    approximate_above: int = Field(
        default=200_000,
        ge=1_000,
        description="Use HNSW above this many templates (exact search below; measure recall).",
    )
    hnsw_m: int = Field(default=32, ge=4, le=128, description="HNSW graph degree.")
    hnsw_ef_construction: int = Field(default=80, ge=16, description="HNSW build breadth.")
    hnsw_ef_search: int = Field(
        default=128, ge=16, description="HNSW search breadth (recall against speed)."
    )
    rebuild_after: int = Field(
        default=2_000, ge=1, description="Additions or removals before an HNSW rebuild."
    )
    search_threads: int = Field(
        default=1,
        ge=1,
        le=64,
        description=(
            "OpenMP threads FAISS may use. One query at a time gains little from more, and on a "
            "busy 2-core box their spin-waiting costs milliseconds."
        ),
    )


def apply_threads(config: IndexConfig) -> None:
    faiss.omp_set_num_threads(config.search_threads)


def _exact(dimension: int, ids: Ids, vectors: Matrix) -> Any:
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(vectors), np.ascontiguousarray(ids))
    return index


def _hnsw(dimension: int, ids: Ids, vectors: Matrix, config: IndexConfig) -> Any:
    inner = faiss.IndexHNSWFlat(dimension, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    inner.hnsw.efConstruction = config.hnsw_ef_construction
    inner.hnsw.efSearch = config.hnsw_ef_search
    index = faiss.IndexIDMap2(inner)
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(vectors), np.ascontiguousarray(ids))
    return index


@dataclass(frozen=True)
class Snapshot:
    dimension: int
    kind: Literal["exact", "hnsw"]
    main: Any
    delta: Any | None = None
    tombstones: frozenset[int] = field(default_factory=frozenset)
    size: int = 0

    def search(self, queries: Matrix, k: int) -> tuple[Matrix, Ids]:
        """Top-``k`` (scores, ids) per query; -1 ids where fewer exist."""
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dimension)
        if self.size == 0:
            return (
                np.full((len(queries), k), -np.inf, np.float32),
                np.full((len(queries), k), -1, np.int64),
            )
        wanted = k + len(self.tombstones)
        scores, ids = self.main.search(queries, min(wanted, max(self.main.ntotal, 1)))
        if self.delta is not None and self.delta.ntotal:
            d_scores, d_ids = self.delta.search(queries, min(k, self.delta.ntotal))
            scores = np.concatenate([scores, d_scores], axis=1)
            ids = np.concatenate([ids, d_ids], axis=1)
        if self.tombstones:
            dead = np.isin(ids, np.fromiter(self.tombstones, np.int64))
            scores = np.where(dead, -np.inf, scores)
            ids = np.where(dead, -1, ids)
        order = np.argsort(-scores, axis=1)[:, :k]
        scores = np.take_along_axis(scores, order, axis=1)
        ids = np.take_along_axis(ids, order, axis=1)
        if scores.shape[1] < k:
            pad = k - scores.shape[1]
            scores = np.pad(scores, ((0, 0), (0, pad)), constant_values=-np.inf)
            ids = np.pad(ids, ((0, 0), (0, pad)), constant_values=-1)
        return scores.astype(np.float32), ids.astype(np.int64)


def build_snapshot(dimension: int, ids: Ids, vectors: Matrix, config: IndexConfig) -> Snapshot:
    if len(ids) > config.approximate_above:
        return Snapshot(dimension, "hnsw", _hnsw(dimension, ids, vectors, config), size=len(ids))
    return Snapshot(dimension, "exact", _exact(dimension, ids, vectors), size=len(ids))


def updated_snapshot(
    current: Snapshot,
    all_ids: Ids,
    all_vectors: Matrix,
    added: Ids,
    removed: Ids,
    config: IndexConfig,
) -> Snapshot:
    """A new snapshot reflecting the change; ``all_*`` is the complete state after it."""
    if current.kind == "exact" or len(all_ids) <= config.approximate_above:
        return build_snapshot(current.dimension, all_ids, all_vectors, config)
    tombstones = current.tombstones | frozenset(int(i) for i in removed)
    delta_ids = set()
    if current.delta is not None:
        delta_ids = {int(current.delta.id_map.at(i)) for i in range(current.delta.ntotal)}
    delta_ids = (delta_ids | {int(i) for i in added}) - tombstones
    if len(delta_ids) + len(tombstones) > config.rebuild_after:
        return build_snapshot(current.dimension, all_ids, all_vectors, config)
    mask = np.isin(all_ids, np.fromiter(delta_ids, np.int64, len(delta_ids)))
    delta = _exact(current.dimension, all_ids[mask], all_vectors[mask])
    # Re-added ids live in the delta; they must not stay hidden by an old tombstone.
    return Snapshot(
        current.dimension,
        "hnsw",
        current.main,
        delta,
        tombstones - delta_ids,
        len(all_ids),
    )
