"""Pseudonymous stranger ids by online clustering. They never leave the edge.

An unknown track joins the most similar stranger if similar enough, else becomes a new one.
Each stranger keeps a running centroid (capped weight, so it follows slow changes) and the
times it was seen; strangers not seen for the retention period are forgotten.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from edge_agent.vision.types import Vector


@dataclass(slots=True)
class Stranger:
    stranger_id: str
    centroid: Vector
    weight: float
    first_seen: datetime
    last_seen: datetime
    sightings: int


@dataclass(frozen=True, slots=True)
class StrangerMatch:
    stranger_id: str
    created: bool
    similarity: float


class StrangerStore:
    def __init__(self, dimension: int, join_threshold: float, max_weight: float = 20.0) -> None:
        self.dimension = dimension
        self.join_threshold = join_threshold
        self.max_weight = max_weight
        self._lock = threading.Lock()
        self._items: dict[str, Stranger] = {}

    def __len__(self) -> int:
        return len(self._items)

    def get(self, stranger_id: str) -> Stranger | None:
        return self._items.get(stranger_id)

    def _nearest(self, vector: Vector) -> tuple[str | None, float]:
        if not self._items:
            return None, -1.0
        ids = list(self._items)
        matrix = np.stack([self._items[i].centroid for i in ids])
        sims = matrix @ vector
        best = int(np.argmax(sims))
        return ids[best], float(sims[best])

    def assign(self, vector: Vector, seen_at: datetime) -> StrangerMatch:
        v = np.asarray(vector, np.float32).reshape(-1)
        with self._lock:
            nearest, similarity = self._nearest(v)
            if nearest is not None and similarity >= self.join_threshold:
                item = self._items[nearest]
                mixed = item.centroid * item.weight + v
                item.centroid = (mixed / np.linalg.norm(mixed)).astype(np.float32)
                item.weight = min(item.weight + 1.0, self.max_weight)
                item.last_seen = max(item.last_seen, seen_at)
                item.sightings += 1
                return StrangerMatch(nearest, False, similarity)
            stranger_id = "S-" + secrets.token_hex(6)
            self._items[stranger_id] = Stranger(stranger_id, v.copy(), 1.0, seen_at, seen_at, 1)
            return StrangerMatch(stranger_id, True, similarity)

    def expire(self, now: datetime, retention: timedelta) -> list[str]:
        with self._lock:
            gone = [i for i, s in self._items.items() if now - s.last_seen > retention]
            for stranger_id in gone:
                self._items.pop(stranger_id).centroid.fill(0)
            return gone

    def forget_similar(self, vectors: list[Vector], threshold: float | None = None) -> list[str]:
        """Drop strangers that look like these templates (an erased resident's bad frames)."""
        limit = self.join_threshold if threshold is None else threshold
        with self._lock:
            gone = [
                i
                for i, s in self._items.items()
                if any(float(s.centroid @ v) >= limit for v in vectors)
            ]
            for stranger_id in gone:
                self._items.pop(stranger_id).centroid.fill(0)
            return gone

    def export(self) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
        with self._lock:
            items = list(self._items.values())
            records: list[dict[str, Any]] = [
                {
                    "stranger_id": s.stranger_id,
                    "weight": s.weight,
                    "first_seen": s.first_seen.isoformat(),
                    "last_seen": s.last_seen.isoformat(),
                    "sightings": s.sightings,
                }
                for s in items
            ]
            matrix = (
                np.stack([s.centroid for s in items])
                if items
                else np.empty((0, self.dimension), np.float32)
            )
        return records, {"centroids": matrix}

    @classmethod
    def restore(
        cls,
        dimension: int,
        join_threshold: float,
        records: list[dict[str, Any]],
        arrays: dict[str, np.ndarray],
    ) -> StrangerStore:
        store = cls(dimension, join_threshold)
        for record, centroid in zip(records, arrays["centroids"], strict=True):
            store._items[record["stranger_id"]] = Stranger(
                record["stranger_id"],
                np.asarray(centroid, np.float32),
                float(record["weight"]),
                datetime.fromisoformat(record["first_seen"]),
                datetime.fromisoformat(record["last_seen"]),
                int(record["sightings"]),
            )
        return store
