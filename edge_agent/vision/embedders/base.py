"""Embedder plugin interface and registry."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edge_agent.plugins import Registry
from edge_agent.vision.errors import UnknownModelError
from edge_agent.vision.models import Thresholds
from edge_agent.vision.types import Face, Frame, Vector


def l2_normalise(vector: np.ndarray[Any, Any]) -> Vector:
    v = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(v))
    return (v / norm if norm > 0 else v).astype(np.float32)


class Embedder(ABC):
    """Turns a detected face into an L2-normalised vector; cosine similarity compares two."""

    name: str = "embedder"
    dimension: int = 0
    model_sha256: str = ""
    thresholds: Thresholds | None = None

    @abstractmethod
    def embed(self, frame: Frame, face: Face) -> Vector:
        """Embedding of one face of ``frame``."""

    def embed_many(self, frame: Frame, faces: Sequence[Face]) -> list[Vector]:
        return [self.embed(frame, face) for face in faces]


_REGISTRY: Registry[Path, Embedder] = Registry(
    "embedder",
    {
        "dlib_onnx": "edge_agent.vision.embedders.dlib_onnx",
        "dlib_resnet": "edge_agent.vision.embedders.dlib_resnet",
        "arcface_onnx": "edge_agent.vision.embedders.arcface",
    },
    unknown=UnknownModelError,
)
register_embedder = _REGISTRY.register


def create_embedder(config: Any, models_dir: Path) -> Embedder:
    return _REGISTRY.create(config, models_dir)
