"""The face engine: detection, alignment, embedding, quality and tracking.

Detectors and embedders are separate plugins chosen by a ``type`` key in the configuration, so
any detector can feed any embedder: every detector returns :class:`Face` objects with five
landmarks in one order (image-left eye, image-right eye, nose tip, image-left mouth corner,
image-right mouth corner).
"""

from edge_agent.vision.engine import FaceEngine, build_engine
from edge_agent.vision.errors import (
    EmptyFrameError,
    FrameLayoutError,
    ModelChecksumError,
    ModelError,
    ModelShapeError,
    UnknownModelError,
    UnreadableImageError,
    VisionError,
)
from edge_agent.vision.types import EngineInfo, Face

__all__ = [
    "EmptyFrameError",
    "EngineInfo",
    "Face",
    "FaceEngine",
    "FrameLayoutError",
    "ModelChecksumError",
    "ModelError",
    "ModelShapeError",
    "UnknownModelError",
    "UnreadableImageError",
    "VisionError",
    "build_engine",
]
