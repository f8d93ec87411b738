"""Residents and their templates, searched 1:N with an open-set decision."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from edge_agent.gallery.index import (
    IndexConfig,
    Matrix,
    Snapshot,
    apply_threads,
    build_snapshot,
    updated_snapshot,
)
from edge_agent.gallery.thresholds import accept_for
from edge_agent.vision.models import Thresholds
from edge_agent.vision.types import Vector


@dataclass(frozen=True, slots=True)
class Template:
    template_id: int
    resident_id: str
    consent_id: str
    created_at: str


@dataclass(slots=True)
class Resident:
    resident_id: str
    house_id: str
    template_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DeletionReceipt:
    """What was deleted, when: the edge sends this to the hub as an erasure confirmation."""

    resident_id: str
    templates_deleted: int
    consent_ids: tuple[str, ...]
    deleted_at: datetime


@dataclass(frozen=True, slots=True)
class Candidate:
    resident_id: str
    house_id: str
    score: float


@dataclass(frozen=True, slots=True)
class Identification:
    """The open-set answer for one face: a resident, or nobody (with the reason)."""

    resident_id: str | None
    house_id: str | None
    score: float
    margin: float
    reason: str  # match | below_threshold | ambiguous | empty_gallery

    @property
    def matched(self) -> bool:
        return self.resident_id is not None


class Gallery:
    """Thread-safe: writers serialise on a lock; searches use the current snapshot, lock-free."""

    def __init__(self, dimension: int, engine: str, index: IndexConfig | None = None) -> None:
        self.dimension = dimension
        self.engine = engine
        self.index_config = index or IndexConfig()
        apply_threads(self.index_config)
        self._lock = threading.Lock()
        self._residents: dict[str, Resident] = {}
        self._templates: dict[int, Template] = {}
        self._vectors: dict[int, Vector] = {}
        self._next_id = 1
        self._snapshot: Snapshot = build_snapshot(
            dimension,
            np.empty(0, np.int64),
            np.empty((0, dimension), np.float32),
            self.index_config,
        )
        self._owner: dict[int, str] = {}
        self._houses: dict[str, str] = {}
        self.version = 0

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self._templates)

    @property
    def resident_count(self) -> int:
        return len(self._residents)

    def resident_ids(self) -> list[str]:
        return list(self._residents)

    def has(self, resident_id: str) -> bool:
        return resident_id in self._residents

    def templates_of(self, resident_id: str) -> list[Template]:
        resident = self._residents.get(resident_id)
        return [] if resident is None else [self._templates[t] for t in resident.template_ids]

    def template_vectors(self, resident_id: str) -> list[Vector]:
        """Copies of a resident's template vectors (the caller should zero them when done)."""
        with self._lock:
            return [self._vectors[t.template_id].copy() for t in self.templates_of(resident_id)]

    def search(self, vector: Vector, k: int = 5) -> list[Candidate]:
        """Best residents for ``vector`` (each resident's best template), best first."""
        snapshot, owner, houses = self._snapshot, self._owner, self._houses
        scores, ids = snapshot.search(vector[None, :], k * 4)
        best: dict[str, float] = {}
        for score, template_id in zip(scores[0], ids[0], strict=True):
            resident = owner.get(int(template_id))
            if template_id < 0 or resident is None:
                continue
            if score > best.get(resident, -np.inf):
                best[resident] = float(score)
        ranked = sorted(best.items(), key=lambda item: -item[1])[:k]
        return [Candidate(r, houses.get(r, ""), s) for r, s in ranked]

    def identify(self, vector: Vector, thresholds: Thresholds) -> Identification:
        """Accept the best resident only above the threshold and ahead of the next by a margin.

        The threshold is the one for this gallery's number of residents (``accept_for``).
        """
        candidates = self.search(vector, 2)
        if not candidates:
            return Identification(None, None, -1.0, 0.0, "empty_gallery")
        best = candidates[0]
        runner_up = candidates[1].score if len(candidates) > 1 else -1.0
        margin = best.score - runner_up
        if best.score < accept_for(thresholds, self.resident_count):
            return Identification(None, None, best.score, margin, "below_threshold")
        if margin < thresholds.margin:
            return Identification(None, None, best.score, margin, "ambiguous")
        return Identification(best.resident_id, best.house_id, best.score, margin, "match")

    # ------------------------------------------------------------------ writing

    def _publish(self, added: list[int], removed: list[int]) -> None:
        ids = np.fromiter(self._vectors.keys(), np.int64, len(self._vectors))
        vectors: Matrix = (
            np.stack([self._vectors[int(i)] for i in ids])
            if len(ids)
            else np.empty((0, self.dimension), np.float32)
        )
        snapshot = updated_snapshot(
            self._snapshot,
            ids,
            vectors,
            np.array(added, np.int64),
            np.array(removed, np.int64),
            self.index_config,
        )
        # Publish the lookup tables before the index, so no search sees an id it cannot name.
        self._owner = {tid: t.resident_id for tid, t in self._templates.items()}
        self._houses = {r.resident_id: r.house_id for r in self._residents.values()}
        self._snapshot = snapshot
        self.version += 1

    def add_templates(
        self, resident_id: str, house_id: str, consent_id: str, vectors: list[Vector]
    ) -> list[int]:
        """Add templates made under ``consent_id``; returns their ids."""
        with self._lock:
            new = self._add(resident_id, house_id, consent_id, vectors)
            self._publish(new, [])
            return new

    def replace_templates(
        self, resident_id: str, house_id: str, consent_id: str, vectors: list[Vector]
    ) -> list[int]:
        """Swap all of a resident's templates for new ones, in one step searches can see."""
        with self._lock:
            resident = self._residents.get(resident_id)
            old = list(resident.template_ids) if resident else []
            self._drop(old, resident_id)
            new = self._add(resident_id, house_id, consent_id, vectors)
            self._publish(new, old)
            return new

    def _add(
        self, resident_id: str, house_id: str, consent_id: str, vectors: list[Vector]
    ) -> list[int]:
        now = datetime.now(UTC).isoformat()
        checked = []
        for vector in vectors:
            v = np.array(vector, np.float32).reshape(-1)
            if v.shape[0] != self.dimension:
                raise ValueError(f"template of dimension {v.shape[0]}, gallery is {self.dimension}")
            checked.append(v)
        resident = self._residents.setdefault(resident_id, Resident(resident_id, house_id))
        resident.house_id = house_id
        new = []
        for v in checked:
            template_id = self._next_id
            self._next_id += 1
            self._templates[template_id] = Template(template_id, resident_id, consent_id, now)
            self._vectors[template_id] = v
            resident.template_ids.append(template_id)
            new.append(template_id)
        return new

    def _drop(self, template_ids: list[int], resident_id: str) -> None:
        resident = self._residents.get(resident_id)
        for template_id in template_ids:
            self._templates.pop(template_id, None)
            vector = self._vectors.pop(template_id, None)
            if vector is not None:
                vector.fill(0)  # do not leave the template lying in memory
            if resident is not None and template_id in resident.template_ids:
                resident.template_ids.remove(template_id)

    def update_house(self, resident_id: str, house_id: str) -> None:
        with self._lock:
            if resident_id in self._residents:
                self._residents[resident_id].house_id = house_id
                self._publish([], [])

    def erase(self, resident_id: str) -> DeletionReceipt:
        """Delete a resident and every template; the receipt says what went."""
        with self._lock:
            resident = self._residents.pop(resident_id, None)
            ids = list(resident.template_ids) if resident else []
            consents = tuple(sorted({self._templates[t].consent_id for t in ids}))
            self._drop(ids, resident_id)
            self._publish([], ids)
        return DeletionReceipt(resident_id, len(ids), consents, datetime.now(UTC))

    # ------------------------------------------------------------------ persistence

    def export(self) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
        with self._lock:
            records: list[dict[str, Any]] = [
                {
                    "resident_id": r.resident_id,
                    "house_id": r.house_id,
                    "templates": [
                        {
                            "template_id": t,
                            "consent_id": self._templates[t].consent_id,
                            "created_at": self._templates[t].created_at,
                        }
                        for t in r.template_ids
                    ],
                }
                for r in self._residents.values()
            ]
            ids = np.array([t["template_id"] for r in records for t in r["templates"]], np.int64)
            vectors = (
                np.stack([self._vectors[int(i)] for i in ids])
                if len(ids)
                else np.empty((0, self.dimension), np.float32)
            )
            records.append({"next_id": self._next_id})
        return records, {"template_ids": ids, "vectors": vectors}

    @classmethod
    def restore(
        cls,
        dimension: int,
        engine: str,
        records: list[dict[str, Any]],
        arrays: dict[str, np.ndarray],
        index: IndexConfig | None = None,
    ) -> Gallery:
        gallery = cls(dimension, engine, index)
        vectors = dict(zip(arrays["template_ids"].tolist(), arrays["vectors"], strict=True))
        for record in records:
            if "next_id" in record:
                gallery._next_id = int(record["next_id"])
                continue
            resident = Resident(record["resident_id"], record["house_id"])
            for t in record["templates"]:
                template_id = int(t["template_id"])
                gallery._templates[template_id] = Template(
                    template_id, resident.resident_id, t["consent_id"], t["created_at"]
                )
                gallery._vectors[template_id] = np.asarray(vectors[template_id], np.float32)
                resident.template_ids.append(template_id)
            gallery._residents[resident.resident_id] = resident
        gallery._publish([], [])
        return gallery
