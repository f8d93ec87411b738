"""Detector plugin interface and registry."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from edge_agent.vision.errors import UnknownModelError
from edge_agent.vision.types import Face, Frame


class Detector(ABC):
    """Finds faces and their five landmarks in a BGR frame."""

    name: str = "detector"
    model_sha256: str = ""

    @abstractmethod
    def detect(self, frame: Frame) -> list[Face]:
        """Faces in ``frame``, best score first, in frame pixel coordinates."""


Factory = Callable[[Any, Path], Detector]
_REGISTRY: dict[str, Factory] = {}
# Plugins import heavy libraries (dlib, onnxruntime); load a module only when its type is used.
_MODULES = {
    "dlib_hog": "edge_agent.vision.detectors.dlib_hog",
    "yunet": "edge_agent.vision.detectors.yunet",
    "scrfd": "edge_agent.vision.detectors.scrfd",
}

F = TypeVar("F", bound=Factory)


def register_detector(type_name: str) -> Callable[[F], F]:
    def wrap(factory: F) -> F:
        _REGISTRY[type_name] = factory
        return factory

    return wrap


def create_detector(config: Any, models_dir: Path) -> Detector:
    type_name = str(config.type)
    if type_name not in _REGISTRY and type_name in _MODULES:
        importlib.import_module(_MODULES[type_name])
    if type_name not in _REGISTRY:
        raise UnknownModelError(f"no detector plugin of type {type_name!r}")
    return _REGISTRY[type_name](config, models_dir)
