"""Embedder plugin interface and registry."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

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


Factory = Callable[[Any, Path], Embedder]
_REGISTRY: dict[str, Factory] = {}
_MODULES = {
    "dlib_resnet": "edge_agent.vision.embedders.dlib_resnet",
    "arcface_onnx": "edge_agent.vision.embedders.arcface",
}

F = TypeVar("F", bound=Factory)


def register_embedder(type_name: str) -> Callable[[F], F]:
    def wrap(factory: F) -> F:
        _REGISTRY[type_name] = factory
        return factory

    return wrap


def create_embedder(config: Any, models_dir: Path) -> Embedder:
    type_name = str(config.type)
    if type_name not in _REGISTRY and type_name in _MODULES:
        importlib.import_module(_MODULES[type_name])
    if type_name not in _REGISTRY:
        raise UnknownModelError(f"no embedder plugin of type {type_name!r}")
    return _REGISTRY[type_name](config, models_dir)
