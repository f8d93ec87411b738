"""Detector plugin interface and registry."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge_agent.plugins import Registry
from edge_agent.vision.errors import UnknownModelError
from edge_agent.vision.types import Face, Frame


class Detector(ABC):
    """Finds faces and their five landmarks in a BGR frame."""

    name: str = "detector"
    model_sha256: str = ""

    @abstractmethod
    def detect(self, frame: Frame) -> list[Face]:
        """Faces in ``frame``, best score first, in frame pixel coordinates."""


_REGISTRY: Registry[Path, Detector] = Registry(
    "detector",
    {
        "dlib_hog": "edge_agent.vision.detectors.dlib_hog",
        "yunet": "edge_agent.vision.detectors.yunet",
        "scrfd": "edge_agent.vision.detectors.scrfd",
        "yuface": "edge_agent.vision.detectors.yuface_cnn",
    },
    unknown=UnknownModelError,
)
register_detector = _REGISTRY.register


def create_detector(config: Any, models_dir: Path) -> Detector:
    return _REGISTRY.create(config, models_dir)


def scaled_for_detection(frame: Frame, max_width: int) -> tuple[Frame, float]:
    """The frame scaled down to ``max_width`` (never up), and the factor used."""
    scale = min(1.0, max_width / frame.shape[1])
    if scale == 1.0:
        return frame, 1.0
    small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return np.asarray(small, dtype=np.uint8), scale
